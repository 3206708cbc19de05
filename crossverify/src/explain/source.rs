//! What the maps say about the differing byte: the hex2 token that emitted it on each side,
//! whether that side's bytes are the ones the token emits, and the M1 token behind it.
//!
//! This module owns the look-ups only; the map formats belong to their writers
//! ([`hex2::map`], [`m1::map`]) and are read with their parsers. The M1 map of a side is the
//! one whose header names the hex2 file of that side's token (the FILE of the hex2 map's
//! `FILE:LINE:COL`): an exact name first, else the same path once `./` and doubled slashes
//! are dropped, else the same file name. When several maps match equally, the one in the
//! directory of the side's hex2 map wins if it is the only one there; else side A takes
//! the first given and side B the last, and a note says so. Version 1 M1 maps name no file;
//! exactly two of them are taken as A's and B's, in that order.

use hex2::map::{Map, MapEntry};
use m1::map::M1Map;

/// The M1 token behind a hex2 token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct M1Source {
    /// The M1 map it was found in (its path, as given).
    pub map: String,
    /// `FILE:LINE:COL` of the M1 token.
    pub location: String,
    /// The token (escaped as the M1 map writes it).
    pub token: String,
    /// How the map was chosen, when that needs saying (by file name only, ambiguous).
    pub note: Option<String>,
}

/// What one side's hex2 map says about the differing byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenCheck {
    /// `FILE:LINE:COL` of the hex2 token covering the byte.
    pub location: String,
    /// The hex2 file of that token.
    pub file: String,
    /// The token (escaped as the map writes it).
    pub token: String,
    /// File offset of the token's first byte.
    pub offset: u64,
    /// Number of bytes the token covers.
    pub len: u32,
    /// Address of the token's first byte.
    pub address: u32,
    /// The side's bytes at the token's range (shorter when the file ends inside it).
    pub actual: Vec<u8>,
    /// The bytes the map says the token emits (empty for a version 1 map).
    pub expected: Vec<u8>,
    /// Whether `actual` is `expected`; `None` when the map does not record it.
    pub emitted_by_token: Option<bool>,
    /// File offset of the first byte of the token's source line (where its instruction
    /// most likely starts: M1 prints one instruction per line).
    pub line_start: u64,
    /// The M1 token behind it (`None` without M1 maps; `Err` says why none was found).
    pub m1: Option<Result<M1Source, String>>,
}

fn same_line(a: &MapEntry, b: &MapEntry) -> bool {
    a.at.file == b.at.file && a.at.line == b.at.line
}

/// The [`TokenCheck`] of the byte at `offset` of `bytes` (linked with `map`), without its
/// M1 source; `None` when no entry covers the offset.
pub fn check(map: &Map, bytes: &[u8], offset: u64) -> Option<TokenCheck> {
    let entries = &map.entries;
    let end_of = |e: &MapEntry| e.offset.saturating_add(u64::from(e.len));
    let i = entries.partition_point(|e| end_of(e) <= offset);
    let e = entries
        .get(i)
        .filter(|e| e.offset <= offset && offset < end_of(e))?;
    let mut first = i;
    while first > 0
        && same_line(&entries[first - 1], e)
        && end_of(&entries[first - 1]) == entries[first].offset
    {
        first -= 1;
    }
    let start = usize::try_from(e.offset).unwrap_or(usize::MAX);
    let end = start.saturating_add(e.len as usize);
    let actual = bytes
        .get(start.min(bytes.len())..end.min(bytes.len()))
        .unwrap_or(&[])
        .to_vec();
    let expected = e.bytes.to_vec();
    Some(TokenCheck {
        location: map.describe(e.at),
        file: map.file_of(e.at).to_string(),
        token: hex2::map::escape(&e.token),
        offset: e.offset,
        len: e.len,
        address: e.address,
        emitted_by_token: (!expected.is_empty()).then(|| actual == expected),
        actual,
        expected,
        line_start: entries[first].offset,
        m1: None,
    })
}

/// `path` without `./` components and doubled slashes.
fn normalise(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    format!("{}{}", if absolute { "/" } else { "" }, parts.join("/"))
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn directory(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(d, _)| d)
}

/// Which of `maps` describes the hex2 file `file`, for side `side` (0 = A, 1 = B) whose
/// hex2 map is `hex2_map` (its path): the index and a note when the choice needs one;
/// `Err` with the reason when none does.
pub fn pick_m1_map(
    maps: &[(String, M1Map)],
    file: &str,
    side: usize,
    hex2_map: &str,
) -> Result<(usize, Option<String>), String> {
    type Test<'a> = (&'a str, &'a dyn Fn(&str) -> bool);
    let tests: [Test; 3] = [
        ("", &|out: &str| out == file),
        (" (after normalising the path)", &|out: &str| {
            normalise(out) == normalise(file)
        }),
        (" (by file name only)", &|out: &str| {
            file_name(out) == file_name(file)
        }),
    ];
    for (how, matches) in tests {
        let found: Vec<usize> = maps
            .iter()
            .enumerate()
            .filter(|(_, (_, m))| m.output.as_deref().is_some_and(matches))
            .map(|(i, _)| i)
            .collect();
        let pick = if side == 0 {
            found.first()
        } else {
            found.last()
        };
        let Some(&pick) = pick else { continue };
        let beside: Vec<usize> = found
            .iter()
            .copied()
            .filter(|&i| normalise(directory(&maps[i].0)) == normalise(directory(hex2_map)))
            .collect();
        if let ([only], true) = (beside.as_slice(), found.len() > 1) {
            let note =
                (!how.is_empty()).then(|| format!("M1 map {} matched {file}{how}", maps[*only].0));
            return Ok((*only, note));
        }
        let note = if found.len() > 1 {
            let names: Vec<&str> = found.iter().map(|&i| maps[i].0.as_str()).collect();
            Some(format!(
                "ambiguous: {} M1 maps describe {file}{how} ({}); side {} uses {}",
                found.len(),
                names.join(", "),
                if side == 0 { "A" } else { "B" },
                maps[pick].0
            ))
        } else if how.is_empty() {
            None
        } else {
            Some(format!("M1 map {} matched {file}{how}", maps[pick].0))
        };
        return Ok((pick, note));
    }
    if maps.len() == 2 && maps.iter().all(|(_, m)| m.output.is_none()) {
        return Ok((
            side,
            Some(format!(
                "version 1 M1 maps name no output file; side {} uses {}, given {}",
                if side == 0 { "A" } else { "B" },
                maps[side].0,
                if side == 0 { "first" } else { "second" }
            )),
        ));
    }
    Err(format!("no M1 map describes {file}"))
}

/// The M1 source of `check`'s hex2 token (side `side`, its hex2 map at `hex2_map`), from
/// the map of `maps` that describes its file.
pub fn m1_source(
    maps: &[(String, M1Map)],
    check: &TokenCheck,
    side: usize,
    hex2_map: &str,
) -> Result<M1Source, String> {
    let (i, note) = pick_m1_map(maps, &check.file, side, hex2_map)?;
    let (path, map) = &maps[i];
    let (_, line, col) = toolbase::diag::split_location(&check.location)
        .ok_or_else(|| format!("bad location {}", check.location))?;
    let e = map
        .token_at(u64::from(line), u64::from(col))
        .ok_or_else(|| format!("{} is not in the M1 map {path}", check.location))?;
    Ok(M1Source {
        map: path.clone(),
        location: e.location(),
        token: e.token_text(),
        note,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m1(output: Option<&str>) -> M1Map {
        M1Map {
            version: if output.is_some() { 2 } else { 1 },
            output: output.map(str::to_string),
            entries: Vec::new(),
        }
    }

    #[test]
    fn maps_are_picked_by_output_file() {
        let maps = vec![
            ("a.m1map".to_string(), m1(Some("./x/a.hex2"))),
            ("b.m1map".to_string(), m1(Some("x/b.hex2"))),
            ("c.m1map".to_string(), m1(Some("/elsewhere/b.hex2"))),
        ];
        assert_eq!(pick_m1_map(&maps, "x/b.hex2", 0, "a.map"), Ok((1, None)));
        let (i, note) = pick_m1_map(&maps, "x//a.hex2", 1, "a.map").unwrap();
        assert_eq!(i, 0);
        assert!(note.unwrap().contains("normalising"));
        let (i, note) = pick_m1_map(&maps, "y/b.hex2", 1, "a.map").unwrap();
        assert_eq!(i, 2);
        assert!(note.unwrap().contains("ambiguous"));
        assert!(pick_m1_map(&maps, "z.hex2", 0, "a.map").is_err());
        let old = vec![("1".to_string(), m1(None)), ("2".to_string(), m1(None))];
        assert_eq!(pick_m1_map(&old, "any", 1, "a.map").unwrap().0, 1);
        // Each side built in its own directory: the M1 map beside the side's hex2 map.
        let two = vec![
            ("alice/p.m1map".to_string(), m1(Some("p.hex2"))),
            ("bob/p.m1map".to_string(), m1(Some("p.hex2"))),
        ];
        assert_eq!(pick_m1_map(&two, "p.hex2", 0, "bob/p.map"), Ok((1, None)));
        assert_eq!(
            pick_m1_map(&two, "p.hex2", 1, "./alice/p.map"),
            Ok((0, None))
        );
    }
}
