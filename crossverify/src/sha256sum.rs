//! The GNU `sha256sum` format, written and read in this one place: the entry type, the
//! line writer, the strict reader, and the file-name escaping that reports share.
//!
//! A line is `<64 lower-case hex digits><space><space><name>\n`, exactly what coreutils 9
//! prints and `sha256sum -c` accepts without a warning. A name holding a backslash, a
//! newline or a carriage return is written coreutils' way: the line starts with `\`, and in
//! the name `\` becomes `\\`, a newline `\n` and a carriage return `\r`. Reading accepts
//! exactly that, plus `*` in place of the second space (the binary-mode marker), and
//! nothing else: a missing final newline, an upper-case, short, long or non-hex digest, a
//! bad separator, an empty name, a NUL in a name, an unknown escape or a name listed twice
//! is an error naming `FILE:LINE:COL` with what was expected and what was found. Names are
//! bytes (Unix paths need not be UTF-8). This module knows nothing about reports, replays
//! or commands; they all come here for the format.

use std::collections::HashMap;
use std::path::Path;

use toolbase::diag::{describe_byte, Diagnostic};

/// Hex digits in a SHA-256 digest.
pub const DIGEST_LEN: usize = 64;

/// One line of a sha256sum file: a file's SHA-256 and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 64 lower-case hex digits.
    pub sha256: String,
    /// The file name as listed (unescaped bytes).
    pub name: Vec<u8>,
}

impl Entry {
    /// An entry for `name` with the digest of `bytes`.
    pub fn of(name: impl Into<Vec<u8>>, bytes: &[u8]) -> Entry {
        Entry {
            sha256: crate::sha256_hex(bytes),
            name: name.into(),
        }
    }

    /// The name for messages (lossy UTF-8).
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// Whether `s` is 64 lower-case hex digits.
pub fn is_sha256_hex(s: &[u8]) -> bool {
    s.len() == DIGEST_LEN && s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Whether coreutils escapes `name`: it holds `\`, a newline or a carriage return.
pub fn needs_escape(name: &[u8]) -> bool {
    name.iter().any(|b| matches!(b, b'\\' | b'\n' | b'\r'))
}

/// `name` with `\` as `\\`, newline as `\n` and carriage return as `\r`.
pub fn escape_name(name: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len());
    for &b in name {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
    out
}

/// An escape [`unescape_name`] refuses: where it starts in the escaped name, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEscape {
    /// Offset of the backslash in the escaped name.
    pub offset: usize,
    /// What follows the backslash, for the message.
    pub found: String,
}

/// What an escape may be, for messages.
pub const ESCAPES: &str = "'\\\\', '\\n' or '\\r'";

/// The inverse of [`escape_name`]; any other backslash sequence is refused.
pub fn unescape_name(raw: &[u8]) -> Result<Vec<u8>, BadEscape> {
    let mut name = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            name.push(raw[i]);
            i += 1;
            continue;
        }
        match raw.get(i + 1) {
            Some(b'\\') => name.push(b'\\'),
            Some(b'n') => name.push(b'\n'),
            Some(b'r') => name.push(b'\r'),
            other => {
                return Err(BadEscape {
                    offset: i,
                    found: match other {
                        Some(&b) => format!("'\\' {}", describe_byte(b)),
                        None => "'\\' at the end of the name".into(),
                    },
                })
            }
        }
        i += 2;
    }
    Ok(name)
}

/// One sha256sum line (newline included) for the file `name` with digest `sha256`.
pub fn line(sha256: &str, name: &[u8]) -> Vec<u8> {
    let escape = needs_escape(name);
    let mut out = Vec::with_capacity(DIGEST_LEN + 4 + name.len());
    if escape {
        out.push(b'\\');
    }
    out.extend_from_slice(sha256.as_bytes());
    out.extend_from_slice(b"  ");
    if escape {
        out.extend_from_slice(&escape_name(name));
    } else {
        out.extend_from_slice(name);
    }
    out.push(b'\n');
    out
}

/// The sha256sum text for `entries`, in the order given.
pub fn render(entries: &[Entry]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|e| line(&e.sha256, &e.name))
        .collect()
}

/// Parses the sha256sum `text` read from `file`, strictly (see the module documentation).
pub fn parse(file: &str, text: &[u8]) -> Result<Vec<Entry>, Diagnostic> {
    if text.is_empty() {
        return Err(Diagnostic::new("empty sha256sum file: it lists no file")
            .in_file(file)
            .expected("lines '<sha256>  <name>'"));
    }
    if text.last() != Some(&b'\n') {
        return Err(Diagnostic::new("the last line does not end with a newline")
            .in_file(file)
            .at_offset_in(text, text.len())
            .hint("a truncated file cannot be trusted; fetch it again"));
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut first_line: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut start = 0;
    for (number, line) in text[..text.len() - 1].split(|&b| b == b'\n').enumerate() {
        let reader = Line { file, text, start };
        let (entry, name_at) = reader.parse(line)?;
        if let Some(first) = first_line.get(&entry.name) {
            return Err(reader
                .error(name_at, "file listed twice")
                .found(format!("'{}'", entry.display_name()))
                .note(format!("first listed on line {first}")));
        }
        first_line.insert(entry.name.clone(), number + 1);
        entries.push(entry);
        start += line.len() + 1;
    }
    Ok(entries)
}

/// Reads and parses the sha256sum file at `path`, which a message on failure calls `what`
/// (`manifest`, `the answers file`); returns its bytes and its entries.
pub fn load(path: &Path, what: &str) -> Result<(Vec<u8>, Vec<Entry>), Diagnostic> {
    let text = std::fs::read(path)
        .map_err(|e| Diagnostic::io(path, &format!("cannot read {what}"), &e))?;
    let entries = parse(&path.display().to_string(), &text)?;
    Ok((text, entries))
}

/// One line being read: where it starts in the file, for messages.
struct Line<'a> {
    file: &'a str,
    text: &'a [u8],
    start: usize,
}

impl Line<'_> {
    fn error(&self, offset_in_line: usize, message: &str) -> Diagnostic {
        Diagnostic::new(message)
            .in_file(self.file)
            .at_offset_in(self.text, self.start + offset_in_line)
    }

    /// The entry on `line` (without its newline), and the offset of its name in the line.
    fn parse(&self, line: &[u8]) -> Result<(Entry, usize), Diagnostic> {
        let escaped = line.first() == Some(&b'\\');
        let at = usize::from(escaped);
        let body = &line[at..];
        let sha256 = self.digest(body, at)?;
        let sep = at + DIGEST_LEN;
        if body.get(DIGEST_LEN) != Some(&b' ')
            || !matches!(body.get(DIGEST_LEN + 1), Some(b' ' | b'*'))
        {
            let found = &body[DIGEST_LEN..body.len().min(DIGEST_LEN + 2)];
            return Err(self
                .error(sep, "bad separator after the digest")
                .expected("two spaces, or a space and '*'")
                .found(format!("'{}'", String::from_utf8_lossy(found))));
        }
        let name_at = sep + 2;
        let raw = &body[DIGEST_LEN + 2..];
        if raw.is_empty() {
            return Err(self
                .error(name_at, "missing file name")
                .expected("a file name"));
        }
        if let Some(nul) = raw.iter().position(|&b| b == 0) {
            return Err(self
                .error(name_at + nul, "NUL in a file name")
                .expected("a file name (a Unix path holds no NUL)")
                .found("NUL (0x00)"));
        }
        let name = if escaped {
            unescape_name(raw).map_err(|bad| {
                self.error(name_at + bad.offset, "unknown escape in a file name")
                    .expected(ESCAPES)
                    .found(bad.found)
            })?
        } else {
            raw.to_vec()
        };
        Ok((Entry { sha256, name }, name_at))
    }

    /// The digest at the start of `body` (which starts at `at` in the line).
    fn digest(&self, body: &[u8], at: usize) -> Result<String, Diagnostic> {
        let hex = body
            .iter()
            .take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            .count();
        let expected = "64 lower-case hex digits, two spaces (or space and '*'), a name";
        let problem = match body.get(hex) {
            _ if hex > DIGEST_LEN => Some(format!("a digest of {hex} hex digits")),
            Some(b'A'..=b'F') => Some("an upper-case hex digit".into()),
            _ if hex == DIGEST_LEN => None,
            Some(b' ' | b'\t') | None => Some(format!("a digest of {hex} hex digits")),
            Some(&b) => Some(describe_byte(b)),
        };
        match problem {
            None => Ok(String::from_utf8_lossy(&body[..DIGEST_LEN]).into_owned()),
            Some(found) => {
                let col = if hex > DIGEST_LEN { DIGEST_LEN } else { hex };
                Err(self
                    .error(at + col, "not a sha256sum line")
                    .expected(expected)
                    .found(found))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn plain_and_escaped_names_round_trip() {
        let entries = vec![
            Entry {
                sha256: H.into(),
                name: b"a b.bin".to_vec(),
            },
            Entry {
                sha256: H.into(),
                name: b"back\\slash\nnewline\rreturn".to_vec(),
            },
        ];
        let text = render(&entries);
        assert_eq!(
            String::from_utf8_lossy(&text),
            format!("{H}  a b.bin\n\\{H}  back\\\\slash\\nnewline\\rreturn\n")
        );
        assert_eq!(parse("m", &text).unwrap(), entries);
    }

    #[test]
    fn coreutils_lines_parse() {
        // Written by GNU coreutils 9.1 `sha256sum` for files holding "x" named
        // "a<CR>b", "a\b" and "a<LF>b".
        let x = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
        let text = format!("\\{x}  a\\rb\n\\{x}  a\\\\b\n\\{x}  a\\nb\n{x} *bin\n");
        let names: Vec<Vec<u8>> = parse("gnu", text.as_bytes())
            .unwrap()
            .into_iter()
            .map(|e| e.name)
            .collect();
        assert_eq!(names, [&b"a\rb"[..], b"a\\b", b"a\nb", b"bin"]);
    }

    #[test]
    fn strictness_names_line_column_expected_and_found() {
        let upper = H.to_uppercase();
        for (text, what) in [
            (
                format!("{H}  a"),
                "m:1:68: error: the last line does not end",
            ),
            (
                format!("{upper}  a\n"),
                "m:1:2: error: not a sha256sum line",
            ),
            (
                format!("{}  a\n", &H[..63]),
                "found: a digest of 63 hex digits",
            ),
            (format!("{H}0  a\n"), "found: a digest of 65 hex digits"),
            (
                format!("{}g  a\n", &H[..63]),
                "m:1:64: error: not a sha256sum line",
            ),
            (format!("{H} a\n"), "m:1:65: error: bad separator"),
            (format!("{H}\ta\n"), "bad separator"),
            (format!("{H}  \n"), "m:1:67: error: missing file name"),
            (
                format!("{H}  a\n{H}  a\n"),
                "m:2:67: error: file listed twice",
            ),
            (format!("\\{H}  a\\x\n"), "m:1:69: error: unknown escape"),
            (format!("\\{H}  a\\\n"), "at the end of the name"),
            (format!("{H}  a\0b\n"), "m:1:68: error: NUL in a file name"),
            (String::new(), "empty"),
        ] {
            let e = parse("m", text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(what), "{text:?}: {e}");
        }
        let e = parse("m", format!("{H}  a\nxyz\n").as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("m:2:1: error"), "{e}");
    }

    #[test]
    fn escaping_is_only_for_names_that_need_it() {
        assert_eq!(line(H, b"a b"), format!("{H}  a b\n").into_bytes());
        assert_eq!(line(H, b"a\\b"), format!("\\{H}  a\\\\b\n").into_bytes());
        assert_eq!(unescape_name(b"a\\rb\\\\").unwrap(), b"a\rb\\");
        assert_eq!(unescape_name(b"ab\\t").unwrap_err().offset, 2);
    }
}
