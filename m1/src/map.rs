//! The M1 source map (`M1 --map FILE`, a hexroot extension): which M1 source token
//! produced the text at each position of M1's hex2 output.
//!
//! It owns the text format, both ways: [`header`] and [`write_entry`] write it (the
//! mapped printer of `print.rs` calls them), [`M1Map::parse`] reads it back (crossverify's
//! `explain` uses this, nothing else parses it) and [`M1Map::token_at`] looks a hex2 output
//! position up. Format version 2: the header line `# hexroot M1 map 2 OUTPUT`, OUTPUT the
//! name of the hex2 file the map describes (M1's `-o`, `-` for standard output; it runs to
//! the end of the line), then per printed token `OUTLINE:OUTCOL FILE:LINE:COL TOKEN`
//! (1-based; TOKEN as in the source, with `\n`, `\r`, `\t`, `\\` and other control or
//! non-ASCII bytes escaped as `\xNN`). Version 1 (`# hexroot M1 map 1`) has no OUTPUT and
//! is still read.

use toolbase::diag::{split_location, Diagnostic};

/// The start of the first line of a map file (the version written), before ` OUTPUT`.
pub const MAP_HEADER: &str = "# hexroot M1 map 2";

/// The first line of a version 1 map file (still read).
pub const MAP_HEADER_V1: &str = "# hexroot M1 map 1";

/// One line of an M1 map: where M1 printed a token in its hex2 output, and the source
/// token it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct M1MapEntry {
    /// 1-based line of the hex2 output.
    pub out_line: u64,
    /// 1-based column (bytes) of the hex2 output.
    pub out_col: u64,
    /// The M1 source file.
    pub file: String,
    /// 1-based line in it.
    pub line: u64,
    /// 1-based column (bytes) in it.
    pub col: u64,
    /// The M1 source token (raw bytes).
    pub token: Vec<u8>,
}

impl M1MapEntry {
    /// `FILE:LINE:COL` of the source token.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file, self.line, self.col)
    }

    /// The token as the map writes it (escaped).
    pub fn token_text(&self) -> String {
        let mut s = Vec::new();
        escape_into(&mut s, &self.token);
        String::from_utf8_lossy(&s).into_owned()
    }
}

/// A map file read back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct M1Map {
    /// The format version of the file read (1 or 2).
    pub version: u32,
    /// The hex2 output file the map describes (`None` in version 1).
    pub output: Option<String>,
    /// Every entry, sorted by output position.
    pub entries: Vec<M1MapEntry>,
}

/// The header line (with its newline) of a map describing the output file `output`.
pub fn header(output: &str) -> String {
    let output: String = output
        .chars()
        .map(|c| if c == '\n' || c == '\r' { '?' } else { c })
        .collect();
    format!("{MAP_HEADER} {output}\n")
}

fn escape_into(map: &mut Vec<u8>, token: &[u8]) {
    for &b in token {
        match b {
            b'\n' => map.extend_from_slice(b"\\n"),
            b'\r' => map.extend_from_slice(b"\\r"),
            b'\t' => map.extend_from_slice(b"\\t"),
            b'\\' => map.extend_from_slice(b"\\\\"),
            0x20..=0x7E => map.push(b),
            _ => map.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
        }
    }
}

fn unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let (byte, used) = match *text.get(i + 1)? {
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b't' => (b'\t', 2),
            b'\\' => (b'\\', 2),
            b'x' => {
                let h = std::str::from_utf8(text.get(i + 2..i + 4)?).ok()?;
                (u8::from_str_radix(h, 16).ok()?, 4)
            }
            _ => return None,
        };
        out.push(byte);
        i += used;
    }
    Some(out)
}

/// Appends the map line of the token `token` found at `file:line:col` and printed at
/// `out_line:out_col` of the output.
pub fn write_entry(
    map: &mut Vec<u8>,
    (out_line, out_col): (u64, u64),
    (file, line, col): (&str, u64, u64),
    token: &[u8],
) {
    map.extend_from_slice(format!("{out_line}:{out_col} {file}:{line}:{col} ").as_bytes());
    escape_into(map, token);
    map.push(b'\n');
}

/// The whole map of `entries` describing `output`, as [`M1Map::parse`] reads it.
pub fn write_map(output: &str, entries: &[M1MapEntry]) -> Vec<u8> {
    let mut map = header(output).into_bytes();
    for e in entries {
        write_entry(
            &mut map,
            (e.out_line, e.out_col),
            (&e.file, e.line, e.col),
            &e.token,
        );
    }
    map
}

fn parse_line(line: &str) -> Option<M1MapEntry> {
    let (out, rest) = line.split_once(' ')?;
    let (ol, oc) = out.split_once(':')?;
    let (out_line, out_col) = (ol.parse().ok()?, oc.parse().ok()?);
    // The location ends at the first space after which `FILE:LINE:COL` parses; a token
    // may hold spaces (strings), a file name rarely does.
    let cut = rest
        .match_indices(' ')
        .map(|(i, _)| i)
        .find(|&i| split_location(&rest[..i]).is_some());
    let (location, token) = match cut {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    let (file, line, col) = split_location(location)?;
    Some(M1MapEntry {
        out_line,
        out_col,
        file: file.to_string(),
        line: line.into(),
        col: col.into(),
        token: unescape(token.as_bytes())?,
    })
}

impl M1Map {
    /// Parses map `text` read from `file` (either version); errors name `file:LINE:1`.
    pub fn parse(file: &str, text: &[u8]) -> Result<M1Map, Diagnostic> {
        let text = String::from_utf8_lossy(text);
        let mut lines = text.split('\n');
        let first = lines.next().unwrap_or("");
        let (version, output) = if first == MAP_HEADER_V1 {
            (1, None)
        } else if let Some(out) = first
            .strip_prefix(MAP_HEADER)
            .and_then(|r| r.strip_prefix(' '))
        {
            (2, Some(out.to_string()))
        } else {
            return Err(Diagnostic::at_line(file, 1, "not an M1 map file")
                .expected(format!("'{MAP_HEADER} OUTPUT' (or version 1)"))
                .found(format!("'{first}'")));
        };
        let mut entries = Vec::new();
        for (n, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry = parse_line(line).ok_or_else(|| {
                Diagnostic::at_line(file, n + 2, "bad M1 map line")
                    .expected("OUTLINE:OUTCOL FILE:LINE:COL TOKEN")
                    .found(format!("'{line}'"))
            })?;
            entries.push(entry);
        }
        entries.sort_by_key(|e| (e.out_line, e.out_col));
        Ok(M1Map {
            version,
            output,
            entries,
        })
    }

    /// The M1 token printed at or last before output position `line:col`, on that line.
    pub fn token_at(&self, line: u64, col: u64) -> Option<&M1MapEntry> {
        let end = self
            .entries
            .partition_point(|e| (e.out_line, e.out_col) <= (line, col));
        self.entries[..end].last().filter(|e| e.out_line == line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse_is_the_same_map() {
        let entries = vec![
            M1MapEntry {
                out_line: 2,
                out_col: 1,
                file: "dir with space/a:b.M1".into(),
                line: 3,
                col: 4,
                token: b"\"a b\\\n\t\xc3\"".to_vec(),
            },
            M1MapEntry {
                out_line: 2,
                out_col: 9,
                file: "b.M1".into(),
                line: 1,
                col: 1,
                token: b"%label".to_vec(),
            },
        ];
        let text = write_map("out dir/prog.hex2", &entries);
        let map = M1Map::parse("m", &text).unwrap();
        assert_eq!(map.output.as_deref(), Some("out dir/prog.hex2"));
        assert_eq!(map.entries, entries);
        assert_eq!(map.token_at(2, 12).unwrap().file, "b.M1");
        assert!(map.token_at(3, 1).is_none());
    }

    #[test]
    fn version_1_and_errors() {
        let map = M1Map::parse("m", b"# hexroot M1 map 1\n1:1 a.M1:1:1 :x\n").unwrap();
        assert_eq!((map.version, map.output), (1, None));
        let e = M1Map::parse("m", b"# hexroot M1 map 2 o\nbad\n").unwrap_err();
        assert!(e.to_string().contains("m:2:1"), "{e}");
        assert!(M1Map::parse("m", b"# hexroot M1 map 2\n").is_err());
    }
}
