//! Where two artifacts differ: the `explain` subcommand.
//!
//! For two files it finds the first differing byte and counts the differing bytes (bytes
//! beyond the shorter file count as differing). When a file is an ELF file (read with
//! `goblin`), it names the program header segment holding that byte and its virtual address
//! (our outputs usually have no section headers, so program headers must suffice), the
//! section when there are section headers, and the nearest symbol when there is a symbol
//! table. With hex2 map files (`--map A.map B.map`) it names the source token that emitted
//! the byte and, for a label reference, the value it resolved to on each side; with M1 maps
//! as well (`--m1-map`, from `M1 --map`), the M1 source token behind that hex2 token. It prints a
//! hex context of both sides. Offsets are absolute file offsets. This module owns the
//! diagnosis only; it never decides agreement ([`crate::compare`] does).
//!
//! Map file grammar (written by `hex2 --map`): the first line is `# hexroot hex2 map 1`;
//! every further line is `OFFSET LENGTH ADDRESS FILE:LINE:COL TOKEN`, OFFSET and LENGTH in
//! decimal, ADDRESS as `0x` and eight or more hex digits, TOKEN after the last space (hex2
//! escapes spaces in tokens). M1 map grammar (written by `M1 --map`): the first line is
//! `# hexroot M1 map 1`; every further line is `OUTLINE:OUTCOL FILE:LINE:COL TOKEN`, the
//! position in M1's hex2 output where the source token at `FILE:LINE:COL` was printed.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::Path;

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

/// The first line of a hex2 map file.
pub const MAP_MAGIC: &str = "# hexroot hex2 map 1";

/// Where two byte strings first differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Difference {
    /// Offset of the first differing byte (or the length of the shorter input when one is
    /// a prefix of the other).
    pub first: usize,
    /// How many bytes differ, counting the excess of the longer input.
    pub count: usize,
}

/// The first difference between `a` and `b`, or `None` when they are identical.
pub fn difference(a: &[u8], b: &[u8]) -> Option<Difference> {
    let common = a.len().min(b.len());
    let mut first = None;
    let mut count = a.len().max(b.len()) - common;
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        if x != y {
            first.get_or_insert(i);
            count += 1;
        }
    }
    match first {
        Some(f) => Some(Difference { first: f, count }),
        None if count > 0 => Some(Difference {
            first: common,
            count,
        }),
        None => None,
    }
}

/// What an ELF file says about one file offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfPlace {
    /// `ELF32`/`ELF64`, endianness, machine.
    pub kind: String,
    /// Whether the file is little-endian.
    pub little_endian: bool,
    /// The segment holding the offset: index, type, file offset, vaddr, flags.
    pub segment: Option<String>,
    /// The virtual address of the offset, when a segment maps it.
    pub vaddr: Option<u64>,
    /// The section holding the offset, when there are section headers.
    pub section: Option<String>,
    /// `symbol+0xN`, when a symbol table is present.
    pub symbol: Option<String>,
}

fn segment_type(t: u32) -> String {
    match t {
        0 => "PT_NULL".into(),
        1 => "PT_LOAD".into(),
        2 => "PT_DYNAMIC".into(),
        3 => "PT_INTERP".into(),
        4 => "PT_NOTE".into(),
        6 => "PT_PHDR".into(),
        7 => "PT_TLS".into(),
        0x6474_e551 => "PT_GNU_STACK".into(),
        other => format!("type {other:#x}"),
    }
}

fn flags(f: u32) -> String {
    let mut s = String::new();
    s.push(if f & 4 != 0 { 'R' } else { '-' });
    s.push(if f & 2 != 0 { 'W' } else { '-' });
    s.push(if f & 1 != 0 { 'X' } else { '-' });
    s
}

/// What the ELF file `bytes` says about file offset `offset`; `Ok(None)` when `bytes` is
/// not an ELF file, `Err` with goblin's reason when it claims to be one but cannot be read.
pub fn elf_place(bytes: &[u8], offset: usize) -> Result<Option<ElfPlace>, String> {
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(None);
    }
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| e.to_string())?;
    let mut place = ElfPlace {
        kind: format!(
            "ELF{} {}-endian, machine {}",
            if elf.is_64 { 64 } else { 32 },
            if elf.little_endian { "little" } else { "big" },
            goblin::elf::header::machine_to_str(elf.header.e_machine)
        ),
        little_endian: elf.little_endian,
        ..ElfPlace::default()
    };
    let off = offset as u64;
    // Prefer a PT_LOAD segment; any other segment covering the byte is a fallback.
    let mut best: Option<(usize, &goblin::elf::ProgramHeader)> = None;
    for (i, ph) in elf.program_headers.iter().enumerate() {
        if ph.p_offset <= off && off < ph.p_offset.saturating_add(ph.p_filesz) {
            let better = match best {
                None => true,
                Some((_, b)) => b.p_type != 1 && ph.p_type == 1,
            };
            if better {
                best = Some((i, ph));
            }
        }
    }
    if let Some((i, ph)) = best {
        let vaddr = ph.p_vaddr.wrapping_add(off - ph.p_offset);
        place.vaddr = Some(vaddr);
        place.segment = Some(format!(
            "segment {i} ({}, file offset {:#x}, size {:#x}, vaddr {:#x}, {})",
            segment_type(ph.p_type),
            ph.p_offset,
            ph.p_filesz,
            ph.p_vaddr,
            flags(ph.p_flags)
        ));
    }
    for sh in &elf.section_headers {
        if sh.sh_type != goblin::elf::section_header::SHT_NOBITS
            && sh.sh_offset <= off
            && off < sh.sh_offset.saturating_add(sh.sh_size)
        {
            let name = elf.shdr_strtab.get_at(sh.sh_name).unwrap_or("?");
            place.section = Some(format!("{name} (+{:#x})", off - sh.sh_offset));
        }
    }
    if let Some(vaddr) = place.vaddr {
        let mut nearest: Option<(u64, &str)> = None;
        for sym in elf.syms.iter() {
            let name = elf.strtab.get_at(sym.st_name).unwrap_or("");
            if name.is_empty() || sym.st_value > vaddr {
                continue;
            }
            if !matches!(nearest, Some((v, _)) if sym.st_value <= v) {
                nearest = Some((sym.st_value, name));
            }
        }
        place.symbol = nearest.map(|(v, n)| {
            if v == vaddr {
                n.to_string()
            } else {
                format!("{n}+{:#x}", vaddr - v)
            }
        });
    }
    Ok(Some(place))
}

/// One line of a hex2 map file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapEntry {
    /// File offset of the first byte.
    pub offset: u64,
    /// Number of bytes.
    pub length: u64,
    /// Address of the first byte.
    pub address: u64,
    /// `FILE:LINE:COL` of the token.
    pub location: String,
    /// The token.
    pub token: String,
}

/// A malformed line `line` of the map `file`.
#[cold]
fn map_error(file: &str, line: usize, message: &str) -> Diagnostic {
    Diagnostic::new(message.to_string())
        .in_file(file)
        .at(toolbase::diag::Position::LineCol {
            line: line as u32,
            col: 1,
        })
}

/// Parses hex2 map `text` read from `file`; entries sorted by offset.
pub fn parse_map(file: &str, text: &[u8]) -> Result<Vec<MapEntry>, Diagnostic> {
    let text_str = String::from_utf8_lossy(text);
    let mut lines = text_str.split_inclusive('\n');
    let err = |line: usize, msg: &str| map_error(file, line, msg);
    match lines.next() {
        Some(l) if l.trim_end_matches('\n') == MAP_MAGIC => {}
        other => {
            return Err(err(1, "not a hex2 map file")
                .expected(format!("'{MAP_MAGIC}'"))
                .found(format!("'{}'", other.unwrap_or("").trim_end())))
        }
    }
    let mut entries = Vec::new();
    for (n, line) in lines.enumerate() {
        let line_no = n + 2;
        let line = line.strip_suffix('\n').unwrap_or(line);
        // FILE may hold spaces; TOKEN never does (hex2 escapes it), so it is after the last.
        let mut f = line.splitn(4, ' ');
        let (Some(o), Some(l), Some(a), Some(rest)) = (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(err(line_no, "short map line")
                .expected("OFFSET LENGTH ADDRESS FILE:LINE:COL TOKEN")
                .found(format!("'{line}'")));
        };
        let (loc, token) = rest.rsplit_once(' ').unwrap_or((rest, ""));
        let token = token.to_string();
        let address = a
            .strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok());
        match (o.parse::<u64>(), l.parse::<u64>(), address) {
            (Ok(offset), Ok(length), Some(address)) => entries.push(MapEntry {
                offset,
                length,
                address,
                location: loc.to_string(),
                token,
            }),
            _ => {
                return Err(err(line_no, "bad map line")
                    .expected("decimal OFFSET and LENGTH, ADDRESS as 0x and hex digits")
                    .found(format!("'{line}'")))
            }
        }
    }
    entries.sort_by_key(|e| (e.offset, e.length));
    Ok(entries)
}

/// The map entry covering file offset `offset` (the last one starting at or before it
/// whose range contains it).
pub fn map_lookup(map: &[MapEntry], offset: u64) -> Option<&MapEntry> {
    let end = map.partition_point(|e| e.offset <= offset);
    map[..end]
        .iter()
        .rev()
        .find(|e| e.length > 0 && offset < e.offset.saturating_add(e.length))
}

/// The first line of an M1 map file (`M1 --map`).
pub const M1_MAP_MAGIC: &str = "# hexroot M1 map 1";

/// One line of an M1 map: where M1 printed a token in its hex2 output, and the source
/// token it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct M1MapEntry {
    /// 1-based line of the hex2 output.
    pub out_line: u64,
    /// 1-based column (bytes) of the hex2 output.
    pub out_col: u64,
    /// `FILE:LINE:COL` of the M1 source token.
    pub location: String,
    /// The M1 source token.
    pub token: String,
}

/// `(line, col)` from the end of `FILE:LINE:COL`.
fn split_line_col(location: &str) -> Option<(&str, u64, u64)> {
    let mut parts = location.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line, col))
}

/// Parses M1 map `text` read from `file`: the line `# hexroot M1 map 1`, then
/// `OUTLINE:OUTCOL FILE:LINE:COL TOKEN` lines; entries sorted by output position.
pub fn parse_m1_map(file: &str, text: &[u8]) -> Result<Vec<M1MapEntry>, Diagnostic> {
    let text = String::from_utf8_lossy(text);
    let err = |line: usize, msg: &str| map_error(file, line, msg);
    let mut lines = text.lines();
    if lines.next() != Some(M1_MAP_MAGIC) {
        return Err(err(1, "not an M1 map file").expected(format!("'{M1_MAP_MAGIC}'")));
    }
    let mut entries = Vec::new();
    for (n, line) in lines.enumerate() {
        let bad = || {
            err(n + 2, "bad M1 map line")
                .expected("OUTLINE:OUTCOL FILE:LINE:COL TOKEN")
                .found(format!("'{line}'"))
        };
        let (out, rest) = line.split_once(' ').ok_or_else(bad)?;
        let (ol, oc) = out.split_once(':').ok_or_else(bad)?;
        let (out_line, out_col) = match (ol.parse(), oc.parse()) {
            (Ok(l), Ok(c)) => (l, c),
            _ => return Err(bad()),
        };
        // The location ends at the first space after which `FILE:LINE:COL` parses; a
        // token may hold spaces (strings), a file name rarely does.
        let mut cut = None;
        for (i, _) in rest.match_indices(' ') {
            if split_line_col(&rest[..i]).is_some() {
                cut = Some(i);
                break;
            }
        }
        let (location, token) = match cut {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None if split_line_col(rest).is_some() => (rest, ""),
            None => return Err(bad()),
        };
        entries.push(M1MapEntry {
            out_line,
            out_col,
            location: location.to_string(),
            token: token.to_string(),
        });
    }
    entries.sort_by_key(|e| (e.out_line, e.out_col));
    Ok(entries)
}

/// The M1 token printed at or last before hex2 output position `line:col` on that line.
pub fn m1_lookup(map: &[M1MapEntry], line: u64, col: u64) -> Option<&M1MapEntry> {
    let end = map.partition_point(|e| (e.out_line, e.out_col) <= (line, col));
    map[..end].last().filter(|e| e.out_line == line)
}

/// The M1 source of the byte at `offset`, through the hex2 map and then the M1 map.
pub fn m1_source(hex2_map: &[MapEntry], m1_map: &[M1MapEntry], offset: u64) -> Option<String> {
    let e = map_lookup(hex2_map, offset)?;
    let (_, line, col) = split_line_col(&e.location)?;
    let m = m1_lookup(m1_map, line, col)?;
    Some(format!("{} {}", m.location, m.token))
}

fn value(bytes: &[u8], e: &MapEntry, little: bool) -> Option<u64> {
    let start = usize::try_from(e.offset).ok()?;
    let len = usize::try_from(e.length).ok()?;
    let field = bytes.get(start..start.checked_add(len)?)?;
    if len > 8 {
        return None;
    }
    let mut v = 0u64;
    if little {
        for &b in field.iter().rev() {
            v = v << 8 | u64::from(b);
        }
    } else {
        for &b in field {
            v = v << 8 | u64::from(b);
        }
    }
    Some(v)
}

/// One row of hex context: its offset and sixteen bytes of each side (`None` past the
/// end).
pub type ContextRow = (usize, [Option<u8>; 16], [Option<u8>; 16]);

/// Everything `crossverify explain` says about two files that differ: the data its text
/// and its JSON document are both made from.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// A's and B's names, as given.
    pub names: (String, String),
    /// A's and B's sizes in bytes.
    pub sizes: (usize, usize),
    /// Where they differ.
    pub difference: Difference,
    /// The byte of each at the first difference (`None`: past its end).
    pub bytes: (Option<u8>, Option<u8>),
    /// Where that byte is in each, when it is an ELF file (`Err`: it starts like one but
    /// cannot be read).
    pub elf: [Result<Option<ElfPlace>, String>; 2],
    /// What the hex2 maps say about the byte, one line each (empty without maps).
    pub source: Vec<String>,
    /// What the M1 maps say, one line each (empty without them).
    pub m1_source: Vec<String>,
    /// Hex context around the first difference.
    pub context: Vec<ContextRow>,
}

fn context_bytes(bytes: &[u8], start: usize) -> [Option<u8>; 16] {
    let mut row = [None; 16];
    for (i, slot) in row.iter_mut().enumerate() {
        *slot = bytes.get(start + i).copied();
    }
    row
}

fn hex_line(start: usize, row: &[Option<u8>; 16], mark: usize) -> String {
    let mut s = format!("{start:08x} ");
    for (i, byte) in row.iter().enumerate() {
        match byte {
            Some(b) if start + i == mark => {
                let _ = write!(s, "[{b:02x}]");
            }
            Some(b) => {
                let _ = write!(s, " {b:02x} ");
            }
            None if start + i == mark => s.push_str("[--]"),
            None => s.push_str("    "),
        }
    }
    s.trim_end().to_string()
}

/// The full explanation of how `a` and `b` differ, as printed by `crossverify explain`;
/// `None` when they are identical. `maps` are the parsed map files of each side.
pub fn explain(
    names: (&str, &str),
    a: &[u8],
    b: &[u8],
    maps: Option<(&[MapEntry], &[MapEntry])>,
    big_endian: Option<bool>,
) -> Option<String> {
    analyse(names, a, b, maps, big_endian).map(|e| e.render())
}

/// The [`Explanation`] of how `a` and `b` differ; `None` when they are identical.
pub fn analyse(
    names: (&str, &str),
    a: &[u8],
    b: &[u8],
    maps: Option<(&[MapEntry], &[MapEntry])>,
    big_endian: Option<bool>,
) -> Option<Explanation> {
    let d = difference(a, b)?;
    let elf = [elf_place(a, d.first), elf_place(b, d.first)];
    let mut little = big_endian.map(|b| !b);
    for p in elf.iter().flatten().flatten() {
        little.get_or_insert(p.little_endian);
    }
    let mut out = String::new();
    if let Some((ma, mb)) = maps {
        let little = little.unwrap_or(true);
        let ea = map_lookup(ma, d.first as u64);
        let eb = map_lookup(mb, d.first as u64);
        match (ea, eb) {
            (Some(ea), eb) => {
                let reference = ea.token.starts_with(['%', '&', '$', '@', '!', '~']);
                let there = eb.unwrap_or(ea);
                let va = value(a, ea, little);
                let vb = value(b, there, little);
                let fmt_v =
                    |v: Option<u64>| v.map_or("(out of range)".into(), |v| format!("{v:#x}"));
                if reference {
                    let _ = writeln!(
                        out,
                        "source: {} {} resolved to {} here, {} there",
                        ea.location,
                        ea.token,
                        fmt_v(va),
                        fmt_v(vb)
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "source: {} {} emitted {} here, {} there",
                        ea.location,
                        ea.token,
                        fmt_v(va),
                        fmt_v(vb)
                    );
                }
                if let Some(eb) = eb {
                    if eb.location != ea.location || eb.token != ea.token {
                        let _ = writeln!(out, "   B's map: {} {}", eb.location, eb.token);
                    }
                    if eb.address != ea.address {
                        let _ = writeln!(
                            out,
                            "   at address {:#010x} in A, {:#010x} in B",
                            ea.address, eb.address
                        );
                    }
                }
            }
            (None, Some(eb)) => {
                let _ = writeln!(
                    out,
                    "source: A's map covers no byte at this offset; B's map: {} {}",
                    eb.location, eb.token
                );
            }
            (None, None) => {
                let _ = writeln!(out, "source: neither map covers this offset");
            }
        }
    }
    let start = d.first.saturating_sub(d.first % 16).saturating_sub(16);
    let mut context = Vec::new();
    for row in [start, start + 16, start + 32] {
        if row >= a.len().max(b.len()) && row > d.first {
            break;
        }
        context.push((row, context_bytes(a, row), context_bytes(b, row)));
    }
    Some(Explanation {
        names: (names.0.to_string(), names.1.to_string()),
        sizes: (a.len(), b.len()),
        difference: d,
        bytes: (a.get(d.first).copied(), b.get(d.first).copied()),
        elf,
        source: out.lines().map(str::to_string).collect(),
        m1_source: Vec::new(),
        context,
    })
}

impl Explanation {
    /// The text `crossverify explain` prints.
    pub fn render(&self) -> String {
        let d = self.difference;
        let mut out = String::new();
        let _ = writeln!(out, "A: {} ({} bytes)", self.names.0, self.sizes.0);
        let _ = writeln!(out, "B: {} ({} bytes)", self.names.1, self.sizes.1);
        let show = |x: Option<u8>| x.map_or("end of file".to_string(), |v| format!("{v:#04x}"));
        let _ = writeln!(
            out,
            "first difference at offset {:#x} ({}): {} in A, {} in B",
            d.first,
            d.first,
            show(self.bytes.0),
            show(self.bytes.1)
        );
        let _ = writeln!(
            out,
            "{} {}{}",
            d.count,
            if d.count == 1 {
                "byte differs"
            } else {
                "bytes differ"
            },
            if self.sizes.0 == self.sizes.1 {
                String::new()
            } else {
                format!(
                    " (the sizes differ by {})",
                    self.sizes.0.abs_diff(self.sizes.1)
                )
            }
        );
        for (tag, place) in [("A", &self.elf[0]), ("B", &self.elf[1])] {
            match place {
                Ok(Some(p)) => {
                    let _ = writeln!(out, "{tag}: {}", p.kind);
                    match (&p.segment, p.vaddr) {
                        (Some(s), Some(v)) => {
                            let _ = writeln!(out, "   in {s}: virtual address {v:#x}");
                        }
                        _ => {
                            let _ = writeln!(out, "   no program header segment maps this offset (ELF headers or padding)");
                        }
                    }
                    if let Some(s) = &p.section {
                        let _ = writeln!(out, "   section {s}");
                    }
                    if let Some(s) = &p.symbol {
                        let _ = writeln!(out, "   symbol {s}");
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "{tag}: starts like an ELF file but cannot be read as one: {e}"
                    );
                }
            }
        }
        for l in self.source.iter().chain(&self.m1_source) {
            let _ = writeln!(out, "{l}");
        }
        let _ = writeln!(out, "context:");
        for (row, ra, rb) in &self.context {
            let _ = writeln!(out, "  A {}", hex_line(*row, ra, d.first));
            let _ = writeln!(out, "  B {}", hex_line(*row, rb, d.first));
        }
        out
    }
}

#[derive(Clone, Copy)]
enum Id {
    Map,
    M1Map,
    BigEndian,
    LittleEndian,
    Json,
    Help,
    Version,
}

const OPTS: &[Opt<Id>] = &[
    Opt::value(&["-m", "--map"], Id::Map),
    Opt::value(&["--m1-map"], Id::M1Map),
    Opt::flag(&["--big-endian"], Id::BigEndian),
    Opt::flag(&["--little-endian"], Id::LittleEndian),
    Opt::value(&["--json"], Id::Json),
    Opt::flag(&["-h", "--help"], Id::Help),
    Opt::flag(&["-V", "--version"], Id::Version),
];

const HELP: &str = "\
Usage: crossverify explain [--map A.map B.map [--m1-map A.m1map --m1-map B.m1map]]
                           [--big-endian|--little-endian] [--json FILE|-] A B

Shows where the files A and B differ: the first differing byte (offset, both values), how
many bytes differ, and, for ELF files, the program header segment and virtual address of
that byte, its section and the nearest symbol when the file has them, then a hex context
of both sides. With --map (the files 'hex2 --map' wrote while linking A and B), it also
names the source token that emitted the byte, e.g.
  source: M0.hex2:412:9 %label_foo resolved to 0x8049a10 here, 0x8049a14 there

Options:
  -m, --map A.map B.map  hex2 map files of A and B (give --map twice, or its two values)
  --m1-map FILE          M1 map of A's, then of B's hex2 input ('M1 --map'): also name
                         the M1 source token behind the hex2 token (give it twice)
  --big-endian           read resolved values big-endian (default: the ELF header's
  --little-endian        endianness, little-endian for raw files)
  --json FILE            also write the explanation as JSON (schema
                         hexroot.crossverify.explain/1); '-': to stdout, in place of it
  -h, --help             print this help and exit
  -V, --version          print the version and exit

Exit status: 0 identical, 1 different, 2 bad command line or an unreadable file.

Example:
  $ crossverify explain --map mine.map theirs.map hex2-mine hex2-theirs   # needs: two differing builds and their 'hex2 --map' maps
";

fn read(path: &Path, what: &str, io: &mut Streams) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) => {
            io.error(&Diagnostic::io(path, what, &e));
            None
        }
    }
}

/// Reads and parses every map in `paths`; on the first failure, reports it and gives `None`.
fn read_maps<T>(
    paths: &[OsString],
    what: &str,
    parse: fn(&str, &[u8]) -> Result<Vec<T>, Diagnostic>,
    io: &mut Streams,
) -> Option<Vec<Vec<T>>> {
    let mut parsed = Vec::with_capacity(paths.len());
    for path in paths {
        let text = read(Path::new(path), what, io)?;
        match parse(&path.to_string_lossy(), &text) {
            Ok(entries) => parsed.push(entries),
            Err(d) => {
                io.error(&d);
                return None;
            }
        }
    }
    Some(parsed)
}

/// Runs `crossverify explain` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify explain";
    let mut maps: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
    let mut big = None;
    let mut m1_maps: Vec<OsString> = Vec::new();
    let mut json = None;
    // Positionals seen when the first --map came: with `--map A.map B.map`, the next
    // positional is B's map.
    let mut map_at = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Opt(Id::Map, Some(v))) => {
                maps.push(v.to_os_string());
                map_at.get_or_insert(files.len());
            }
            Ok(Arg::Opt(Id::M1Map, Some(v))) => m1_maps.push(v.to_os_string()),
            Ok(Arg::Opt(Id::BigEndian, _)) => big = Some(true),
            Ok(Arg::Opt(Id::Json, Some(v))) => json = Some(crate::export::Destination::parse(v)),
            Ok(Arg::Opt(Id::LittleEndian, _)) => big = Some(false),
            Ok(Arg::Opt(Id::Help, _)) => {
                let _ = io.stdout.write_all(HELP.as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(Id::Version, _)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(_, None)) => unreachable!("the parser gives a value"),
            Ok(Arg::Positional(p)) => files.push(p.to_os_string()),
            Err(e) => {
                io.usage_error(tool, &e.message);
                return EXIT_USAGE;
            }
        }
    }
    if let (1, 3, Some(at)) = (maps.len(), files.len(), map_at) {
        maps.push(files.remove(at));
    }
    if files.len() != 2 {
        io.usage_error(
            tool,
            &format!("expected two files A and B, found {}", files.len()),
        );
        return EXIT_USAGE;
    }
    if !maps.is_empty() && maps.len() != 2 {
        io.usage_error(
            tool,
            &format!("expected two map files (A's and B's), found {}", maps.len()),
        );
        return EXIT_USAGE;
    }
    if !m1_maps.is_empty() && (m1_maps.len() != 2 || maps.len() != 2) {
        io.usage_error(
            tool,
            "--m1-map needs two M1 map files (A's, then B's) and the two hex2 maps (--map)",
        );
        return EXIT_USAGE;
    }
    let (Some(a), Some(b)) = (
        read(Path::new(&files[0]), "cannot read A", io),
        read(Path::new(&files[1]), "cannot read B", io),
    ) else {
        return EXIT_USAGE;
    };
    let Some(parsed) = read_maps(&maps, "cannot read map", parse_map, io) else {
        return EXIT_USAGE;
    };
    let Some(parsed_m1) = read_maps(&m1_maps, "cannot read M1 map", parse_m1_map, io) else {
        return EXIT_USAGE;
    };
    let maps = match parsed.as_slice() {
        [ma, mb] => Some((ma.as_slice(), mb.as_slice())),
        _ => None,
    };
    let names = (files[0].to_string_lossy(), files[1].to_string_lossy());
    let Some(mut e) = analyse((&names.0, &names.1), &a, &b, maps, big) else {
        if let Some(dest) = &json {
            let doc = crate::export::explain::identical(
                (&names.0, &names.1),
                a.len(),
                &crate::sha256_hex(&a),
            );
            return if crate::export::write_all(Some((dest, &doc)), None, io) {
                EXIT_SUCCESS
            } else {
                EXIT_USAGE
            };
        }
        let _ = writeln!(
            io.stdout,
            "{} and {} are identical ({} bytes, sha256 {})",
            names.0,
            names.1,
            a.len(),
            crate::sha256_hex(&a)
        );
        return EXIT_SUCCESS;
    };
    if let ([ha, hb], [ma, mb]) = (parsed.as_slice(), parsed_m1.as_slice()) {
        let off = e.difference.first as u64;
        let sa = m1_source(ha, ma, off);
        let sb = m1_source(hb, mb, off);
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "(not in the M1 map)".into());
        e.m1_source.push(format!("M1 source: {}", show(&sa)));
        if sb != sa {
            e.m1_source.push(format!("   B's M1 source: {}", show(&sb)));
        }
    }
    match &json {
        Some(dest) => {
            let doc = crate::export::explain::json(&e, (&a, &b));
            if !crate::export::write_all(Some((dest, &doc)), None, io) {
                return EXIT_USAGE;
            }
            if !dest.is_stdout() {
                let _ = io.stdout.write_all(e.render().as_bytes());
            }
        }
        None => {
            let _ = io.stdout.write_all(e.render().as_bytes());
        }
    }
    EXIT_FAILURE
}
