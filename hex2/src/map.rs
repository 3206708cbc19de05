//! The link map (`--map FILE`, a hexroot extension): which source token produced which
//! output bytes.
//!
//! It owns the entry type and the text format that crossverify's `explain` parses; it does
//! not decide what is recorded (the engine does). Format, one entry per line after the
//! header `# hexroot hex2 map 1`, sorted by offset:
//! `OFFSET LENGTH ADDRESS FILE:LINE:COL TOKEN`, OFFSET and LENGTH in decimal, ADDRESS as
//! `0x` and 8 lower-case hex digits. TOKEN never contains a space: bytes outside `!`..`~`
//! and the backslash are written `\xNN`. A run of plain digit bytes of one line is one
//! entry whose TOKEN is their digits without separators, located at its first digit.

use std::io::{self, Write};

use crate::Loc;

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
}

/// The first line of a map file.
pub const MAP_HEADER: &str = "# hexroot hex2 map 1";

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

/// Writes the map in the documented format; `files` are indexed by [`Loc::file`].
pub fn write_map(w: &mut dyn Write, entries: &[MapEntry], files: &[String]) -> io::Result<()> {
    let mut w = io::BufWriter::new(w);
    writeln!(w, "{MAP_HEADER}")?;
    for e in entries {
        let file = files.get(e.at.file as usize).map_or("?", |s| s.as_str());
        writeln!(
            w,
            "{} {} 0x{:08x} {}:{}:{} {}",
            e.offset,
            e.len,
            e.address,
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
    let i = entries.partition_point(|e| e.offset + u64::from(e.len) <= offset);
    entries.get(i).filter(|e| e.offset <= offset)
}
