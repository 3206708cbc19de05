//! C2SP `tlog-cosignature` (Ed25519, `cosignature/v1`): a witness's statement that a
//! checkpoint is the largest consistent tree it has seen of that log, and the policy
//! "at least N of these witnesses cosigned" that a reader applies before trusting a proof.
//!
//! A cosignature is one more signature line of the checkpoint's note, by the witness's key
//! name, whose base64 holds the key ID (`SHA-256(name || 0x0A || 0x04 || key)[:4]`), an
//! 8-byte big-endian POSIX timestamp and a 64-byte Ed25519 signature over
//!
//! ```text
//! cosignature/v1
//! time <timestamp, decimal>
//! <the checkpoint's note text, with its final newline>
//! ```
//!
//! A witness's vkey is `<name>+<key ID>+<base64(0x04 || key)>`. The signed message does
//! not commit to the witness's name, so one key is one witness: a policy refuses the same
//! key under two names. A failing cosignature by a trusted witness rejects the checkpoint
//! (the signed-note rule for known keys); cosignatures by unknown keys are ignored. This
//! module owns the format and the quorum count; signing and verifying are OpenSSL's
//! ([`crate::tlog::ed25519`]), notes [`crate::tlog::note`]'s.

use std::collections::BTreeSet;

use toolbase::diag::Diagnostic;

use super::ed25519::{self, SigningKey};
use super::note::{self, Note, Signature};

/// The signature type byte of Ed25519 `cosignature/v1` cosignatures.
pub const COSIGNATURE_V1: u8 = 0x04;
/// The first line of the signed message.
const HEADER: &str = "cosignature/v1";
/// Bytes after the key ID: the timestamp and the Ed25519 signature.
const SIGNATURE_LEN: usize = 8 + 64;

/// A witness: its key name and raw Ed25519 public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Witness {
    /// The key name, e.g. `witness.example/w1`.
    pub name: String,
    /// The raw 32-byte Ed25519 public key.
    pub public: [u8; 32],
}

/// The message a `cosignature/v1` signs: the header, the time line and the note text.
pub fn message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("{HEADER}\ntime {timestamp}\n{text}").into_bytes()
}

/// The timestamp of a `cosignature/v1` signature line, or `None` when its bytes after
/// the key ID are not an 8-byte timestamp up to 2^63-1 and a 64-byte signature.
pub fn timestamp(signature: &Signature) -> Option<u64> {
    if signature.signature.len() != SIGNATURE_LEN {
        return None;
    }
    let t = u64::from_be_bytes(signature.signature[..8].try_into().ok()?);
    (t <= i64::MAX as u64).then_some(t)
}

impl Witness {
    /// The key ID.
    pub fn key_id(&self) -> u32 {
        note::typed_key_id(&self.name, COSIGNATURE_V1, &self.public)
    }

    /// The vkey text.
    pub fn vkey(&self) -> String {
        note::typed_vkey(&self.name, COSIGNATURE_V1, &self.public)
    }

    /// Parses a witness vkey read from `file`.
    pub fn parse_vkey(file: &str, text: &[u8]) -> Result<Witness, Diagnostic> {
        let (name, public) = note::parse_typed_vkey(file, text, COSIGNATURE_V1, "witness key")
            .map_err(|d| {
                d.hint("a witness key has type 0x04 (its base64 starts with 'B'); make one with 'crossverify log key --cosigner NAME'")
            })?;
        Ok(Witness { name, public })
    }

    /// The cosignature by `key` (this witness's private key) of the note text `text` at
    /// `timestamp`.
    pub fn sign(
        &self,
        key: &SigningKey,
        timestamp: u64,
        text: &str,
    ) -> Result<Signature, Diagnostic> {
        let signature = key.sign(&message(timestamp, text))?;
        let mut bytes = timestamp.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature);
        Ok(Signature {
            name: self.name.clone(),
            key_id: self.key_id(),
            signature: bytes,
        })
    }

    /// The timestamp of this witness's valid cosignature on `note`, `None` when it has
    /// none; a malformed or failing one is an error naming `file`.
    pub fn check(&self, file: &str, note: &Note) -> Result<Option<u64>, Diagnostic> {
        let id = self.key_id();
        let mut good = None;
        for s in note
            .signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == id)
        {
            let bad = |why: &str| {
                Diagnostic::new(format!("bad cosignature by witness {}: {why}", self.name))
                    .in_file(file)
                    .note(format!("key ID {id:08x}"))
            };
            let Some(timestamp) = timestamp(s) else {
                return Err(bad("not a cosignature/v1")
                    .expected(format!(
                        "{SIGNATURE_LEN} bytes after the key ID: a timestamp up to 2^63-1 and an Ed25519 signature"
                    ))
                    .found(format!("{} bytes", s.signature.len())));
            };
            if !ed25519::verify(
                &self.public,
                &message(timestamp, &note.text),
                &s.signature[8..],
            )? {
                return Err(bad("it does not verify")
                    .hint("the checkpoint was altered after it was cosigned, or the line was copied from another checkpoint"));
            }
            good = good.max(Some(timestamp));
        }
        Ok(good)
    }
}

/// Which witnesses must cosign: at least `quorum` distinct keys of `witnesses`.
#[derive(Clone, Debug, Default)]
pub struct Quorum {
    /// The trusted witnesses.
    pub witnesses: Vec<Witness>,
    /// How many of them must cosign.
    pub quorum: usize,
}

/// A witness that cosigned, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cosigned {
    /// The witness's key name.
    pub name: String,
    /// The POSIX time of its cosignature.
    pub timestamp: u64,
}

impl Quorum {
    /// A policy of `witnesses`, `quorum` of them (all when `None`). One key under two
    /// names, or a quorum above the witnesses' count, is an error.
    pub fn new(witnesses: Vec<Witness>, quorum: Option<usize>) -> Result<Quorum, Diagnostic> {
        let keys: BTreeSet<[u8; 32]> = witnesses.iter().map(|w| w.public).collect();
        if keys.len() != witnesses.len() {
            return Err(Diagnostic::new("one witness key is given twice")
                .hint("a cosignature/v1 does not sign the witness's name, so one key is one witness, whatever its names"));
        }
        let quorum = quorum.unwrap_or(witnesses.len());
        if quorum > witnesses.len() {
            return Err(Diagnostic::new(format!(
                "--witness-quorum {quorum} cannot be met by {} witness key(s)",
                witnesses.len()
            )));
        }
        Ok(Quorum { witnesses, quorum })
    }

    /// Whether the policy asks for anything.
    pub fn is_empty(&self) -> bool {
        self.quorum == 0
    }

    /// The witnesses that validly cosigned `note` (read from `file`); an error when fewer
    /// than the quorum did, or when a trusted witness's cosignature fails.
    pub fn check(&self, file: &str, note: &Note) -> Result<Vec<Cosigned>, Diagnostic> {
        let mut cosigned = Vec::new();
        for w in &self.witnesses {
            if let Some(timestamp) = w.check(file, note)? {
                cosigned.push(Cosigned {
                    name: w.name.clone(),
                    timestamp,
                });
            }
        }
        if cosigned.len() < self.quorum {
            let names: Vec<&str> = cosigned.iter().map(|c| c.name.as_str()).collect();
            return Err(Diagnostic::new(format!(
                "the checkpoint is cosigned by {} of the {} trusted witnesses, {} needed",
                cosigned.len(),
                self.witnesses.len(),
                self.quorum
            ))
            .in_file(file)
            .note(if names.is_empty() {
                "cosigned by none of them".to_string()
            } else {
                format!("cosigned by {}", names.join(", "))
            })
            .hint("a checkpoint too new for the witnesses: fetch a later proof once they have cosigned it"));
        }
        Ok(cosigned)
    }
}

/// The witnesses listed in the file `path`: one vkey a line; blank lines and lines
/// starting with `#` are ignored.
pub fn load_witnesses(path: &std::path::Path) -> Result<Vec<Witness>, Diagnostic> {
    let text =
        std::fs::read(path).map_err(|e| Diagnostic::io(path, "cannot read witness keys", &e))?;
    let file = path.display().to_string();
    let mut out = Vec::new();
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            continue;
        }
        let w = Witness::parse_vkey(&file, trimmed).map_err(|d| {
            d.at(toolbase::diag::Position::LineCol {
                line: n as u32 + 1,
                col: 1,
            })
        })?;
        out.push(w);
    }
    if out.is_empty() {
        return Err(Diagnostic::new("no witness key in the file")
            .in_file(file)
            .expected(
                "lines NAME+KEYID+BASE64 (type 0x04), as 'crossverify log key --cosigner' prints",
            ));
    }
    Ok(out)
}
