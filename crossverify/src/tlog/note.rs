//! C2SP signed notes: text followed by a blank line and signature lines
//! `— <key name> <base64(key ID || signature)>`, and the Ed25519 verifier keys (`vkeys`)
//! that name who may sign.
//!
//! A note is valid UTF-8 without control characters other than newline; its text ends in
//! a newline and is separated from the signatures by the last blank line. Key names are
//! non-empty and hold neither Unicode spaces nor `+`. An Ed25519 key's ID is the first four
//! bytes, big-endian, of `SHA-256(name || 0x0A || 0x01 || 32-byte public key)`, and its
//! vkey is `<name>+<8 hex digits of the ID>+<base64(0x01 || public key)>`. A verifier
//! ignores signatures by keys it does not know (witness cosignatures, say) and rejects a
//! note whose known-key signature fails or that has none. This module owns the format;
//! the signing itself is delegated to OpenSSL ([`crate::tlog::ed25519`]).

use sha2::{Digest, Sha256};
use toolbase::diag::Diagnostic;

use super::base64;
use super::ed25519;

/// The signature type byte of plain Ed25519 note signatures.
pub const ED25519: u8 = 0x01;
/// The em dash (U+2014) and space that open a signature line.
const DASH: &str = "\u{2014} ";
/// At most this many signature lines are read (the spec asks for at least 16).
const MAX_SIGNATURES: usize = 64;

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The key name.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature, big-endian).
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

impl Signature {
    /// The signature line, with its final newline.
    pub fn line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{DASH}{} {}\n", self.name, base64::encode(&bytes))
    }
}

/// A parsed note: its text (with the final newline) and its signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in a newline.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<Signature>,
}

impl Note {
    /// The note's bytes: text, blank line, signature lines.
    pub fn render(&self) -> String {
        let mut s = self.text.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.line());
        }
        s
    }
}

/// Whether `name` may be a key name: non-empty, no Unicode space, no `+`.
pub fn is_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// Parses a signed note read from `file`.
pub fn parse(file: &str, bytes: &[u8]) -> Result<Note, Diagnostic> {
    let at = |offset: usize, message: &str| {
        Diagnostic::new(message)
            .in_file(file)
            .at_offset_in(bytes, offset)
    };
    let text = std::str::from_utf8(bytes).map_err(|e| {
        at(e.valid_up_to(), "a signed note must be UTF-8").found("an invalid UTF-8 sequence")
    })?;
    if let Some(p) = text.bytes().position(|b| b < 0x20 && b != b'\n') {
        return Err(at(p, "control character in a signed note")
            .found(toolbase::diag::describe_byte(bytes[p]))
            .expected("printable text and newlines"));
    }
    if !text.ends_with('\n') {
        return Err(at(bytes.len(), "the note does not end with a newline")
            .hint("a truncated note cannot be trusted; fetch it again"));
    }
    let Some(split) = text.rfind("\n\n") else {
        return Err(at(bytes.len(), "no signatures")
            .expected("the text, a blank line, then lines '\u{2014} NAME SIGNATURE'"));
    };
    let body = &text[..split + 1];
    let mut signatures = Vec::new();
    let mut offset = split + 2;
    for line in text[split + 2..].split_terminator('\n') {
        if signatures.len() == MAX_SIGNATURES {
            return Err(
                at(offset, "too many signatures").expected(format!("at most {MAX_SIGNATURES}"))
            );
        }
        signatures.push(
            parse_signature(line)
                .map_err(|(col, what, expected)| at(offset + col, what).expected(expected))?,
        );
        offset += line.len() + 1;
    }
    if signatures.is_empty() {
        return Err(at(split + 2, "no signatures")
            .expected("lines '\u{2014} NAME SIGNATURE' after the blank line"));
    }
    Ok(Note {
        text: body.to_string(),
        signatures,
    })
}

type LineError = (usize, &'static str, &'static str);

fn parse_signature(line: &str) -> Result<Signature, LineError> {
    let rest = line.strip_prefix(DASH).ok_or((
        0,
        "not a signature line",
        "'\u{2014} ' (em dash U+2014, space), a key name, a space, base64",
    ))?;
    let (name, sig) = rest.split_once(' ').ok_or((
        DASH.len(),
        "signature line without a signature",
        "a key name, a space, base64",
    ))?;
    if !is_key_name(name) {
        return Err((DASH.len(), "bad key name", "a name without spaces or '+'"));
    }
    let at = DASH.len() + name.len() + 1;
    let raw = base64::decode(sig.as_bytes()).ok_or((
        at,
        "bad signature encoding",
        "standard base64 with padding",
    ))?;
    if raw.len() < 5 {
        return Err((at, "signature too short", "a 4-byte key ID and a signature"));
    }
    Ok(Signature {
        name: name.to_string(),
        key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        signature: raw[4..].to_vec(),
    })
}

/// The key ID of an Ed25519 key: `SHA-256(name || 0x0A || 0x01 || public)[:4]`.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    typed_key_id(name, ED25519, public)
}

/// The key ID of a 32-byte key of signature type `kind`:
/// `SHA-256(name || 0x0A || kind || public)[:4]`.
pub fn typed_key_id(name: &str, kind: u8, public: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', kind]);
    h.update(public);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// The vkey text of a 32-byte key of signature type `kind`:
/// `<name>+<hex key ID>+<base64(kind || public key)>`.
pub fn typed_vkey(name: &str, kind: u8, public: &[u8; 32]) -> String {
    let mut k = vec![kind];
    k.extend_from_slice(public);
    format!(
        "{name}+{:08x}+{}",
        typed_key_id(name, kind, public),
        base64::encode(&k)
    )
}

/// Parses a vkey of signature type `kind` (a 32-byte key, `what` naming it in messages)
/// read from `file`, surrounding whitespace ignored; checks its key ID.
pub fn parse_typed_vkey(
    file: &str,
    text: &[u8],
    kind: u8,
    what: &str,
) -> Result<(String, [u8; 32]), Diagnostic> {
    let bad = |why: &str| {
        Diagnostic::new(format!("bad {what}: {why}"))
            .in_file(file)
            .expected("NAME+KEYID+BASE64 as 'crossverify log key' prints")
    };
    let s = std::str::from_utf8(text)
        .map_err(|_| bad("not UTF-8"))?
        .trim();
    let parts: Vec<&str> = s.splitn(3, '+').collect();
    let [name, id, key] = parts[..] else {
        return Err(bad("expected three fields separated by '+'"));
    };
    if !is_key_name(name) {
        return Err(bad("bad key name"));
    }
    let raw = base64::decode(key.as_bytes()).ok_or_else(|| bad("the key is not base64"))?;
    if raw.len() != 33 || raw[0] != kind {
        let found = match raw.first() {
            Some(t) => format!("type 0x{t:02x}, {} bytes", raw.len() - 1),
            None => "nothing".into(),
        };
        return Err(bad(&format!("not a key of type 0x{kind:02x} (32 bytes)")).found(found));
    }
    let public: [u8; 32] = raw[1..].try_into().expect("32 bytes");
    let want = typed_key_id(name, kind, &public);
    if id.len() != 8 || u32::from_str_radix(id, 16).ok() != Some(want) {
        return Err(bad("the key ID does not match the name and key")
            .found(id.to_string())
            .note(format!("expected {want:08x}")));
    }
    Ok((name.to_string(), public))
}

/// An Ed25519 note verifier: a key name and a public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    /// The key name (for a log, its origin).
    pub name: String,
    /// The raw 32-byte Ed25519 public key.
    pub public: [u8; 32],
}

impl Verifier {
    /// The key ID.
    pub fn key_id(&self) -> u32 {
        key_id(&self.name, &self.public)
    }

    /// The vkey text: `<name>+<hex key ID>+<base64(0x01 || public key)>`.
    pub fn vkey(&self) -> String {
        typed_vkey(&self.name, ED25519, &self.public)
    }

    /// Parses a vkey read from `file` (surrounding whitespace ignored).
    pub fn parse_vkey(file: &str, text: &[u8]) -> Result<Verifier, Diagnostic> {
        let (name, public) = parse_typed_vkey(file, text, ED25519, "verifier key")?;
        Ok(Verifier { name, public })
    }

    /// Checks that `note` carries a valid signature by this key: signatures by other keys
    /// are ignored, a failing signature by this key is an error, and so is none at all.
    pub fn verify(&self, file: &str, note: &Note) -> Result<(), Diagnostic> {
        let id = self.key_id();
        let mine: Vec<&Signature> = note
            .signatures
            .iter()
            .filter(|s| s.name == self.name && s.key_id == id)
            .collect();
        if mine.is_empty() {
            return Err(Diagnostic::new("no signature by the trusted key")
                .in_file(file)
                .expected(format!(
                    "a signature line by {} (key ID {id:08x})",
                    self.name
                ))
                .note(format!(
                    "signed by: {}",
                    note.signatures
                        .iter()
                        .map(|s| format!("{} ({:08x})", s.name, s.key_id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
        }
        for s in mine {
            if !ed25519::verify(&self.public, note.text.as_bytes(), &s.signature)? {
                return Err(Diagnostic::new("the signature does not verify")
                    .in_file(file)
                    .note(format!("key {} ({id:08x})", self.name))
                    .hint("the note was altered after it was signed, or signed by another key"));
            }
        }
        Ok(())
    }
}
