//! C2SP `tlog-checkpoint`: the signed tree head of a log, a signed note whose text is the
//! origin line, the tree size and the base64 root hash.
//!
//! ```text
//! example.org/hexroot-reports          origin: the log's identity, its key name
//! 3                                    tree size, decimal, no leading zeroes
//! 5dnaeacGWamtVZy3Ad7Zoqudgjqt...=     root hash, base64 of 32 bytes
//!                                      (blank line)
//! — example.org/hexroot-reports AbCd...   Ed25519 signature by the log, cosignatures
//! ```
//!
//! Extension lines after the root hash are kept and re-signed verbatim but mean nothing
//! to us. Opening a checkpoint always verifies it: the note must carry a valid signature
//! by the log's key, and the origin must be that key's name. Witness cosignatures
//! (`tlog-cosignature`) are further signature lines, ignored here and kept when the note
//! is rewritten. This module owns the body format; notes are [`crate::tlog::note`]'s.

use toolbase::diag::Diagnostic;

use super::base64;
use super::ed25519::SigningKey;
use super::merkle::Hash;
use super::note::{self, Note, Signature, Verifier};

/// A tree head: origin, size and root hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity (and its key name).
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// The RFC 6962 root hash.
    pub root: Hash,
    /// Extension lines (opaque, usually none).
    pub extensions: Vec<String>,
}

/// A checkpoint whose signature by the log was verified, with its note (cosignatures
/// included).
#[derive(Clone, Debug)]
pub struct Signed {
    /// The tree head.
    pub checkpoint: Checkpoint,
    /// The note it came in, verbatim.
    pub note: Note,
}

impl Checkpoint {
    /// The note text: origin, size, root and extension lines, each ending in a newline.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            base64::encode(&self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses the note text `body` of a checkpoint read from `file`.
    pub fn parse(file: &str, body: &str) -> Result<Checkpoint, Diagnostic> {
        let at = |line: u32, message: &str| {
            Diagnostic::new(message)
                .in_file(file)
                .at(toolbase::diag::Position::LineCol { line, col: 1 })
        };
        let lines: Vec<&str> = body.split_terminator('\n').collect();
        if lines.len() < 3 {
            return Err(at(1, "not a checkpoint")
                .expected("three lines: origin, tree size, base64 root hash"));
        }
        if lines[0].is_empty() {
            return Err(at(1, "empty origin line"));
        }
        let size_ok = lines[1] == "0"
            || (!lines[1].starts_with('0') && lines[1].bytes().all(|b| b.is_ascii_digit()));
        let size = lines[1]
            .parse::<u64>()
            .ok()
            .filter(|_| size_ok)
            .ok_or_else(|| {
                at(2, "bad tree size")
                    .expected("a decimal number without leading zeroes")
                    .found(format!("'{}'", lines[1]))
            })?;
        let root = base64::decode(lines[2].as_bytes())
            .and_then(|r| <Hash>::try_from(r).ok())
            .ok_or_else(|| {
                at(3, "bad root hash")
                    .expected("base64 of 32 bytes")
                    .found(format!("'{}'", lines[2]))
            })?;
        if let Some(i) = lines[3..].iter().position(|l| l.is_empty()) {
            return Err(at(4 + i as u32, "empty extension line"));
        }
        Ok(Checkpoint {
            origin: lines[0].to_string(),
            size,
            root,
            extensions: lines[3..].iter().map(|s| s.to_string()).collect(),
        })
    }

    /// The checkpoint as a note signed by `key` under the key name `self.origin`.
    pub fn sign(&self, key: &SigningKey) -> Result<Note, Diagnostic> {
        let text = self.body();
        let signature = key.sign(text.as_bytes())?;
        Ok(Note {
            text,
            signatures: vec![Signature {
                name: self.origin.clone(),
                key_id: note::key_id(&self.origin, &key.public),
                signature,
            }],
        })
    }
}

/// Parses the checkpoint note `bytes` read from `file`, verifies its signature by `log`
/// and that its origin is the log key's name.
pub fn open(file: &str, bytes: &[u8], log: &Verifier) -> Result<Signed, Diagnostic> {
    let note = note::parse(file, bytes)?;
    log.verify(file, &note)?;
    let checkpoint = Checkpoint::parse(file, &note.text)?;
    if checkpoint.origin != log.name {
        return Err(Diagnostic::new("the checkpoint is for another log")
            .in_file(file)
            .expected(format!("origin '{}'", log.name))
            .found(format!("'{}'", checkpoint.origin)));
    }
    Ok(Signed { checkpoint, note })
}
