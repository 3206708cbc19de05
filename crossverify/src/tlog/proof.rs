//! The two proof texts a log hands out: C2SP `tlog-proof` (an entry's inclusion proof with
//! the checkpoint it leads to) and the `tlog-witness` `add-checkpoint` body (a consistency
//! proof from an older tree size to a checkpoint), and their offline verification.
//!
//! ```text
//! c2sp.org/tlog-proof@v1          old 2
//! index 1                         <base64 hash>      (zero or more)
//! <base64 hash>  (zero or more)   <blank line>
//! <blank line>                    <checkpoint, verbatim>
//! <checkpoint, verbatim>
//! ```
//!
//! The left text is stored beside a report as `REPORT.tlog-proof`; the right one is
//! exactly what a log POSTs to a witness's `add-checkpoint` endpoint to be cosigned.
//! Verifying needs only the proof, the entry (or the older checkpoint) and the log's
//! verifier key: no tiles, no network. This module owns both texts.

use toolbase::diag::{Diagnostic, Position};

use super::base64;
use super::checkpoint::{self, Signed};
use super::merkle::{self, Hash};
use super::note::Verifier;

/// The first line of a `tlog-proof`.
pub const MAGIC: &str = "c2sp.org/tlog-proof@v1";

/// An inclusion proof: an entry's index, the hashes from its sibling up, and the
/// checkpoint note (verbatim) of the tree they lead to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inclusion {
    /// Opaque, unauthenticated extra data.
    pub extra: Option<Vec<u8>>,
    /// The entry's index in the log.
    pub index: u64,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
    /// The checkpoint note.
    pub checkpoint: Vec<u8>,
    /// The 1-based line of the proof text where the checkpoint starts (for messages).
    pub checkpoint_line: u32,
}

/// A consistency proof from tree size `old` to the checkpoint it carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consistency {
    /// The older tree size.
    pub old: u64,
    /// The proof hashes.
    pub hashes: Vec<Hash>,
    /// The newer checkpoint note.
    pub checkpoint: Vec<u8>,
    /// The 1-based line of the proof text where the checkpoint starts (for messages).
    pub checkpoint_line: u32,
}

fn hash_lines(out: &mut Vec<u8>, hashes: &[Hash], checkpoint: &[u8]) {
    for h in hashes {
        out.extend_from_slice(base64::encode(h).as_bytes());
        out.push(b'\n');
    }
    out.push(b'\n');
    out.extend_from_slice(checkpoint);
}

impl Inclusion {
    /// The proof's text.
    pub fn render(&self) -> Vec<u8> {
        let mut out = format!("{MAGIC}\n").into_bytes();
        if let Some(e) = &self.extra {
            out.extend_from_slice(format!("extra {}\n", base64::encode(e)).as_bytes());
        }
        out.extend_from_slice(format!("index {}\n", self.index).as_bytes());
        hash_lines(&mut out, &self.hashes, &self.checkpoint);
        out
    }

    /// Parses a proof read from `file`.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Inclusion, Diagnostic> {
        let mut r = Lines::new(file, bytes);
        r.expect_exact(MAGIC)?;
        let mut extra = None;
        if let Some(v) = r.peek_key("extra ") {
            extra = Some(
                base64::decode(v.as_bytes())
                    .ok_or_else(|| r.error("bad extra data").expected("base64"))?,
            );
            r.next_line();
        }
        let index = r.number("index ")?;
        let (hashes, checkpoint) = r.hashes_then_rest()?;
        Ok(Inclusion {
            extra,
            index,
            hashes,
            checkpoint,
            checkpoint_line: r.line,
        })
    }

    /// Checks that `entry` is in the log `log` at this proof's index, under its checkpoint.
    pub fn verify(&self, file: &str, entry: &[u8], log: &Verifier) -> Result<Signed, Diagnostic> {
        let signed = open_embedded(file, &self.checkpoint, self.checkpoint_line, log)?;
        let cp = &signed.checkpoint;
        if self.index >= cp.size {
            return Err(Diagnostic::new("the index is outside the tree")
                .in_file(file)
                .expected(format!("an index below the tree size {}", cp.size))
                .found(self.index.to_string()));
        }
        if !merkle::verify_inclusion(
            &merkle::leaf_hash(entry),
            self.index,
            cp.size,
            &self.hashes,
            &cp.root,
        ) {
            return Err(Diagnostic::new("the inclusion proof does not verify")
                .in_file(file)
                .note(format!(
                    "entry {} in tree size {} of {}",
                    self.index, cp.size, cp.origin
                ))
                .hint("the report or the proof was altered, or the proof is for another report"));
        }
        Ok(signed)
    }
}

impl Consistency {
    /// The `add-checkpoint` body.
    pub fn render(&self) -> Vec<u8> {
        let mut out = format!("old {}\n", self.old).into_bytes();
        hash_lines(&mut out, &self.hashes, &self.checkpoint);
        out
    }

    /// Parses an `add-checkpoint` body read from `file`.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Consistency, Diagnostic> {
        let mut r = Lines::new(file, bytes);
        let old = r.number("old ")?;
        let (hashes, checkpoint) = r.hashes_then_rest()?;
        Ok(Consistency {
            old,
            hashes,
            checkpoint,
            checkpoint_line: r.line,
        })
    }

    /// Checks a proof from the empty tree (`old 0`, no hashes, as a log's first request to
    /// a witness is): only the checkpoint's signature by `log` is checked.
    pub fn verify_from_empty(&self, file: &str, log: &Verifier) -> Result<Signed, Diagnostic> {
        if self.old != 0 || !self.hashes.is_empty() {
            return Err(Diagnostic::new("expected a proof from the empty tree")
                .in_file(file)
                .expected("'old 0' and no proof hashes")
                .found(format!("old {}, {} hash(es)", self.old, self.hashes.len())));
        }
        open_embedded(file, &self.checkpoint, self.checkpoint_line, log)
    }

    /// Checks that this proof's checkpoint extends `older` (a verified checkpoint of the
    /// same log).
    pub fn verify(&self, file: &str, older: &Signed, log: &Verifier) -> Result<Signed, Diagnostic> {
        let newer = open_embedded(file, &self.checkpoint, self.checkpoint_line, log)?;
        let (a, b) = (&older.checkpoint, &newer.checkpoint);
        if self.old != a.size {
            return Err(Diagnostic::new("the proof starts from another tree size")
                .in_file(file)
                .expected(format!("old {}", a.size))
                .found(format!("old {}", self.old)));
        }
        if !merkle::verify_consistency(a.size, b.size, &a.root, &b.root, &self.hashes) {
            return Err(Diagnostic::new("the consistency proof does not verify")
                .in_file(file)
                .note(format!(
                    "from tree size {} to {} of {}",
                    a.size, b.size, b.origin
                ))
                .hint("the log rewrote its history (a fork), or the proof was altered"));
        }
        Ok(newer)
    }
}

/// [`checkpoint::open`] on the checkpoint that starts at line `first_line` of `file`, with
/// its messages located in `file`.
fn open_embedded(
    file: &str,
    bytes: &[u8],
    first_line: u32,
    log: &Verifier,
) -> Result<Signed, Diagnostic> {
    checkpoint::open(file, bytes, log).map_err(|mut d| {
        if let Position::LineCol { line, .. } = &mut d.position {
            *line += first_line.saturating_sub(1);
        }
        d
    })
}

/// A line reader over a proof text that reports `FILE:LINE:1` positions.
struct Lines<'a> {
    file: &'a str,
    bytes: &'a [u8],
    at: usize,
    line: u32,
}

impl<'a> Lines<'a> {
    fn new(file: &'a str, bytes: &'a [u8]) -> Self {
        Lines {
            file,
            bytes,
            at: 0,
            line: 1,
        }
    }

    fn error(&self, message: &str) -> Diagnostic {
        Diagnostic::new(message)
            .in_file(self.file)
            .at(Position::LineCol {
                line: self.line,
                col: 1,
            })
    }

    /// The current line without its newline, if there is a complete one.
    fn current(&self) -> Option<&'a str> {
        let rest = &self.bytes[self.at..];
        let end = rest.iter().position(|&b| b == b'\n')?;
        std::str::from_utf8(&rest[..end]).ok()
    }

    fn next_line(&mut self) {
        if let Some(l) = self.current() {
            self.at += l.len() + 1;
            self.line += 1;
        }
    }

    fn line_or_error(&self, expected: &str) -> Result<&'a str, Diagnostic> {
        self.current()
            .ok_or_else(|| self.error("truncated proof").expected(expected.to_string()))
    }

    fn expect_exact(&mut self, want: &str) -> Result<(), Diagnostic> {
        let l = self.line_or_error(want)?;
        if l != want {
            return Err(self
                .error("not a tlog proof")
                .expected(format!("'{want}'"))
                .found(format!("'{l}'")));
        }
        self.next_line();
        Ok(())
    }

    fn peek_key(&self, key: &str) -> Option<&'a str> {
        self.current()?.strip_prefix(key)
    }

    fn number(&mut self, key: &str) -> Result<u64, Diagnostic> {
        let l = self.line_or_error(key)?;
        let v = l.strip_prefix(key).unwrap_or("");
        let canonical = v == "0"
            || (!v.starts_with('0') && !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
        let n = v.parse::<u64>().ok().filter(|_| canonical).ok_or_else(|| {
            self.error(&format!("bad '{}' line", key.trim()))
                .expected(format!(
                    "'{key}N' with N a decimal number without leading zeroes"
                ))
                .found(format!("'{l}'"))
        })?;
        self.next_line();
        Ok(n)
    }

    /// Base64 hash lines up to a blank line (at most 63), then the remaining bytes.
    fn hashes_then_rest(&mut self) -> Result<(Vec<Hash>, Vec<u8>), Diagnostic> {
        let mut hashes = Vec::new();
        loop {
            let l = self.line_or_error("base64 hashes, then a blank line and the checkpoint")?;
            if l.is_empty() {
                self.next_line();
                break;
            }
            let h = base64::decode(l.as_bytes())
                .and_then(|h| <Hash>::try_from(h).ok())
                .ok_or_else(|| {
                    self.error("bad proof hash")
                        .expected("base64 of 32 bytes")
                        .found(format!("'{l}'"))
                })?;
            if hashes.len() == 63 {
                return Err(self.error("too many proof hashes").expected("at most 63"));
            }
            hashes.push(h);
            self.next_line();
        }
        Ok((hashes, self.bytes[self.at..].to_vec()))
    }
}
