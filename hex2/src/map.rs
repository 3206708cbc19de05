//! The link map (`--map FILE`, a hexroot extension): which source token produced which
//! output bytes.
//!
//! It owns the entry type and the text format, both ways: [`write_map`] writes it,
//! [`Map::parse`] reads it back (crossverify's `explain` uses this, nothing else parses
//! it), [`entry_at`] finds the entry of an output offset. It does not decide what is
//! recorded (the engine does). Format version 2, one entry per line after the header
//! `# hexroot hex2 map 2`, sorted by offset:
//! `OFFSET LENGTH ADDRESS BYTES FILE:LINE:COL TOKEN`, OFFSET and LENGTH in decimal, ADDRESS
//! as `0x` and 8 lower-case hex digits, BYTES the LENGTH bytes the token emitted as
//! lower-case hex digits without separators (for a label reference: the resolved value as
//! written). TOKEN never contains a space: bytes outside `!`..`~` and the backslash are
//! written `\xNN`. Digit bytes written without separators (one word, as M1 prints the
//! expression of one token) are one entry located at the first digit, whose TOKEN is the
//! word; a separator starts a new entry, so a byte can be traced to its word's column and
//! through an M1 map to the M1 token that printed it. Version 1 (`# hexroot hex2 map 1`)
//! had no BYTES and made one entry of a line's whole run of digit bytes; it is still read
//! (its entries have empty `bytes`).

use std::io::{self, Write};

use toolbase::diag::{split_location, Diagnostic};

use crate::source::Loc;

/// One run of output bytes and the token that produced it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// Offset of the first byte in the output.
    pub offset: u64,
    /// Number of bytes.
    pub len: u32,
    /// Absolute address of the first byte.
    pub address: u32,
    /// Where the token starts.
    pub at: Loc,
    /// The token text as in the source (raw bytes).
    pub token: Box<[u8]>,
    /// The `len` bytes the token emitted (empty when read from a version 1 map).
    pub bytes: Box<[u8]>,
}

/// The first line of a map file (the version written).
pub const MAP_HEADER: &str = "# hexroot hex2 map 2";

/// The first line of a version 1 map file (still read).
pub const MAP_HEADER_V1: &str = "# hexroot hex2 map 1";

/// `bytes` with every byte outside `!`..`~` and the backslash written as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (b'!'..=b'~').contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// The bytes [`escape`] wrote as `text`; `None` when an escape is malformed.
pub fn unescape(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        if b == b'\\' {
            let hex = text.get(i + 1..i + 4)?;
            if hex[0] != b'x' {
                return None;
            }
            out.push(hex_byte(hex[1], hex[2])?);
            i += 4;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

fn hex_digit(d: u8) -> Option<u8> {
    (d as char).to_digit(16).map(|v| v as u8)
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_digit(hi)? << 4 | hex_digit(lo)?)
}

/// `bytes` as lower-case hex digits without separators.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs.map(|p| hex_byte(p[0], p[1])).collect()
}

/// Writes the map in the documented format; `files` are indexed by [`Loc::file`].
pub fn write_map(w: &mut dyn Write, entries: &[MapEntry], files: &[String]) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    writeln!(w, "{MAP_HEADER}")?;
    for e in entries {
        let file = files.get(e.at.file as usize).map_or("?", |s| s.as_str());
        writeln!(
            w,
            "{} {} 0x{:08x} {} {}:{}:{} {}",
            e.offset,
            e.len,
            e.address,
            hex(&e.bytes),
            file,
            e.at.line,
            e.at.col,
            escape(&e.token)
        )?;
    }
    w.flush()
}

/// The entry covering output offset `offset`, by binary search (entries sorted by offset).
pub fn entry_at(entries: &[MapEntry], offset: u64) -> Option<&MapEntry> {
    let end = |e: &MapEntry| e.offset.saturating_add(u64::from(e.len));
    let i = entries.partition_point(|e| end(e) <= offset);
    entries
        .get(i)
        .filter(|e| e.offset <= offset && offset < end(e))
}

/// A map file read back: its entries and the file names their [`Loc::file`] index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Map {
    /// The format version of the file read (1 or 2).
    pub version: u32,
    /// Every entry, sorted by offset.
    pub entries: Vec<MapEntry>,
    /// The source file names, in order of first appearance.
    pub files: Vec<String>,
}

impl Map {
    /// Parses map `text` read from `file` (either version); errors name `file:LINE:1`.
    pub fn parse(file: &str, text: &[u8]) -> Result<Map, Diagnostic> {
        let text = String::from_utf8_lossy(text);
        let mut lines = text.split('\n');
        let version = match lines.next() {
            Some(MAP_HEADER) => 2,
            Some(MAP_HEADER_V1) => 1,
            other => {
                return Err(Diagnostic::at_line(file, 1, "not a hex2 map file")
                    .expected(format!("'{MAP_HEADER}' (or version 1)"))
                    .found(format!("'{}'", other.unwrap_or(""))))
            }
        };
        let mut map = Map {
            version,
            ..Map::default()
        };
        for (n, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let entry = map.parse_line(line).ok_or_else(|| {
                let shape = if version == 2 {
                    "OFFSET LENGTH 0xADDRESS BYTES FILE:LINE:COL TOKEN"
                } else {
                    "OFFSET LENGTH 0xADDRESS FILE:LINE:COL TOKEN"
                };
                Diagnostic::at_line(file, n + 2, "bad map line")
                    .expected(shape)
                    .found(format!("'{line}'"))
            })?;
            map.entries.push(entry);
        }
        map.entries.sort_by_key(|e| (e.offset, e.len));
        Ok(map)
    }

    fn parse_line(&mut self, line: &str) -> Option<MapEntry> {
        let fields = if self.version == 2 { 5 } else { 4 };
        let mut f = line.splitn(fields, ' ');
        let offset = f.next()?.parse().ok()?;
        let len: u32 = f.next()?.parse().ok()?;
        let address = u32::from_str_radix(f.next()?.strip_prefix("0x")?, 16).ok()?;
        let bytes = if self.version == 2 {
            let b = unhex(f.next()?)?;
            if b.len() != len as usize {
                return None;
            }
            b
        } else {
            Vec::new()
        };
        // FILE may hold spaces; TOKEN never does (it is escaped), so it is after the last.
        let (location, token) = f.next()?.rsplit_once(' ')?;
        let (name, line, col) = split_location(location)?;
        Some(MapEntry {
            offset,
            len,
            address,
            at: Loc {
                file: self.file_index(name),
                line,
                col,
            },
            token: unescape(token.as_bytes())?.into(),
            bytes: bytes.into(),
        })
    }

    fn file_index(&mut self, name: &str) -> u32 {
        let i = match self.files.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                self.files.push(name.to_string());
                self.files.len() - 1
            }
        };
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    /// The entry covering output offset `offset`.
    pub fn entry_at(&self, offset: u64) -> Option<&MapEntry> {
        entry_at(&self.entries, offset)
    }

    /// `FILE:LINE:COL` of `at`.
    pub fn describe(&self, at: Loc) -> String {
        let file = self.files.get(at.file as usize).map_or("?", |s| s.as_str());
        format!("{file}:{}:{}", at.line, at.col)
    }

    /// The file name of `at`.
    pub fn file_of(&self, at: Loc) -> &str {
        self.files.get(at.file as usize).map_or("?", |s| s.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(offset: u64, bytes: &[u8], file: u32, token: &[u8]) -> MapEntry {
        MapEntry {
            offset,
            len: bytes.len() as u32,
            address: 0x1000 + offset as u32,
            at: Loc {
                file,
                line: 3,
                col: 7,
            },
            token: token.into(),
            bytes: bytes.into(),
        }
    }

    #[test]
    fn write_then_parse_is_the_same_map() {
        let files = vec!["a dir/x:y.hex2".to_string(), "b.hex2".to_string()];
        let entries = vec![
            entry(0, &[0xe8], 0, b"E8"),
            entry(1, &[1, 2, 3, 4], 1, b"%lab\\el"),
            entry(5, &[0, 0], 0, b"\x01 "),
        ];
        let mut text = Vec::new();
        write_map(&mut text, &entries, &files).unwrap();
        let map = Map::parse("m", &text).unwrap();
        assert_eq!(map.version, 2);
        assert_eq!(map.entries, entries);
        assert_eq!(map.files, files);
        assert_eq!(map.entry_at(3).unwrap().offset, 1);
        assert_eq!(map.describe(map.entries[1].at), "b.hex2:3:7");
    }

    #[test]
    fn version_1_is_read_without_bytes() {
        let map = Map::parse("m", b"# hexroot hex2 map 1\n0 1 0x00001000 a.hex2:1:1 90\n").unwrap();
        assert_eq!(map.version, 1);
        assert!(map.entries[0].bytes.is_empty());
        assert_eq!(&*map.entries[0].token, b"90");
    }

    #[test]
    fn malformed_lines_name_their_line() {
        let e = Map::parse("m", b"# hexroot hex2 map 2\n0 2 0x0 90 a:1:1 90\n").unwrap_err();
        assert!(e.to_string().contains("m:2:1"), "{e}");
        assert!(Map::parse("m", b"# something else\n").is_err());
        assert!(unescape(b"\\x4").is_none());
        assert_eq!(unescape(b"a\\x20b").unwrap(), b"a b");
    }
}
