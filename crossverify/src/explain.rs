//! Where two artifacts differ: the `explain` subcommand's diagnosis.
//!
//! For two files it finds the first differing byte and counts the differing bytes (bytes
//! beyond the shorter file count as differing). When a file is an ELF file (read with
//! `goblin`), it names the program header segment holding that byte and its virtual address
//! (our outputs usually have no section headers, so program headers must suffice), the
//! section when there are section headers, and the nearest symbol when there is a symbol
//! table. With hex2 maps (read with [`hex2::map`]) it names the source token that emitted
//! the byte and, for a label reference, the value it resolved to on each side, and says for
//! each side whether its bytes are the ones that token emits ([`source`]); with M1 maps as
//! well (read with [`m1::map`]), the M1 source token behind that hex2 token, from the M1 map
//! whose output file is the hex2 token's file. It disassembles the instruction covering the
//! byte on both sides ([`disassembly`]) and prints a hex context of both. Offsets are
//! absolute file offsets. This module owns the diagnosis and its text; it never decides
//! agreement ([`crate::compare`] does), parses no map format itself, and the command line
//! is [`cli`]'s.

pub mod cli;
pub mod disassembly;
pub mod source;

use std::fmt::Write as _;

use hex2::map::Map;
use m1::map::M1Map;

pub use disassembly::Isa;
pub use source::TokenCheck;

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

/// The value of the `len` bytes at `offset` of `bytes` in the given byte order.
fn value(bytes: &[u8], offset: u64, len: u32, little: bool) -> Option<u64> {
    let start = usize::try_from(offset).ok()?;
    let len = len as usize;
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

/// The instruction covering the first differing byte on each side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disassembly {
    /// The instruction set decoded.
    pub isa: Isa,
    /// A's and B's instruction (`None`: that side ends before the byte).
    pub sides: [Option<disassembly::Line>; 2],
}

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
    /// What each side's hex2 map says about its token (`None`: no maps, or no entry).
    pub tokens: [Option<TokenCheck>; 2],
    /// The instruction covering the byte (`Err`: why there is none, e.g. an ELF machine
    /// without a disassembler).
    pub disassembly: Result<Disassembly, String>,
    /// Hex context around the first difference.
    pub context: Vec<ContextRow>,
}

/// What `crossverify explain` is told besides the two files.
#[derive(Clone, Copy, Debug, Default)]
pub struct Inputs<'a> {
    /// The hex2 maps of A and B.
    pub maps: Option<(&'a Map, &'a Map)>,
    /// The paths of A's and B's hex2 maps, as given (to prefer the M1 map beside them).
    pub map_paths: [&'a str; 2],
    /// M1 maps (path as given, parsed), in the order given.
    pub m1_maps: &'a [(String, M1Map)],
    /// Byte order of resolved values (`None`: the ELF header's, little-endian for raw).
    pub big_endian: Option<bool>,
    /// The instruction set to disassemble (`None`: from the ELF header, Knight for raw).
    pub isa: Option<Isa>,
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
/// `None` when they are identical. `maps` are the parsed hex2 maps of each side.
pub fn explain(
    names: (&str, &str),
    a: &[u8],
    b: &[u8],
    maps: Option<(&Map, &Map)>,
    big_endian: Option<bool>,
) -> Option<String> {
    let inputs = Inputs {
        maps,
        big_endian,
        ..Inputs::default()
    };
    analyse(names, a, b, &inputs).map(|e| e.render())
}

/// The [`Explanation`] of how `a` and `b` differ; `None` when they are identical.
pub fn analyse(names: (&str, &str), a: &[u8], b: &[u8], inputs: &Inputs) -> Option<Explanation> {
    let d = difference(a, b)?;
    let elf = [elf_place(a, d.first), elf_place(b, d.first)];
    let mut little = inputs.big_endian.map(|b| !b);
    for p in elf.iter().flatten().flatten() {
        little.get_or_insert(p.little_endian);
    }
    let mut tokens = [None, None];
    let mut source = Vec::new();
    let mut m1_source = Vec::new();
    if let Some((ma, mb)) = inputs.maps {
        let off = d.first as u64;
        tokens = [source::check(ma, a, off), source::check(mb, b, off)];
        source = source_lines(&tokens, (a, b), little.unwrap_or(true));
        if !inputs.m1_maps.is_empty() {
            for (side, t) in tokens.iter_mut().enumerate() {
                if let Some(t) = t {
                    t.m1 = Some(source::m1_source(
                        inputs.m1_maps,
                        t,
                        side,
                        inputs.map_paths[side],
                    ));
                }
            }
            m1_source = m1_lines(&tokens);
        }
    }
    let disassembly = disassemble((a, b), d.first as u64, &tokens, inputs.isa);
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
        source,
        m1_source,
        tokens,
        disassembly,
        context,
    })
}

fn spaced_hex(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    hex.join(" ")
}

/// The `source:` lines: the token on each side, what it resolved to, and whether each
/// side's bytes are what its token emits.
fn source_lines(
    tokens: &[Option<TokenCheck>; 2],
    (a, b): (&[u8], &[u8]),
    little: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    match (&tokens[0], &tokens[1]) {
        (Some(ea), eb) => {
            let reference = ea.token.starts_with(['%', '&', '$', '@', '!', '~']);
            let there = eb.as_ref().unwrap_or(ea);
            let va = value(a, ea.offset, ea.len, little);
            let vb = value(b, there.offset, there.len, little);
            let fmt_v = |v: Option<u64>| v.map_or("(out of range)".into(), |v| format!("{v:#x}"));
            let verb = if reference { "resolved to" } else { "emitted" };
            out.push(format!(
                "source: {} {} {verb} {} here, {} there",
                ea.location,
                ea.token,
                fmt_v(va),
                fmt_v(vb)
            ));
            if let Some(eb) = eb {
                if eb.location != ea.location || eb.token != ea.token {
                    out.push(format!("   B's map: {} {}", eb.location, eb.token));
                }
                if eb.address != ea.address {
                    out.push(format!(
                        "   at address {:#010x} in A, {:#010x} in B",
                        ea.address, eb.address
                    ));
                }
            }
        }
        (None, Some(eb)) => out.push(format!(
            "source: A's map covers no byte at this offset; B's map: {} {}",
            eb.location, eb.token
        )),
        (None, None) => out.push("source: neither map covers this offset".into()),
    }
    for (tag, t) in ["A", "B"].iter().zip(tokens) {
        let Some(t) = t else { continue };
        out.push(match t.emitted_by_token {
            Some(true) => format!(
                "side {tag}: bytes {} are what token `{}` at {} emits",
                spaced_hex(&t.actual),
                t.token,
                t.location
            ),
            Some(false) => format!(
                "side {tag}: bytes {} are NOT what token `{}` at {} emits ({})",
                spaced_hex(&t.actual),
                t.token,
                t.location,
                spaced_hex(&t.expected)
            ),
            None => format!(
                "side {tag}: its map (version 1) does not record what token `{}` at {} emits",
                t.token, t.location
            ),
        });
    }
    out
}

/// The `M1 source:` lines of the two sides' tokens, and the notes on how maps were chosen.
fn m1_lines(tokens: &[Option<TokenCheck>; 2]) -> Vec<String> {
    let show = |t: &Option<TokenCheck>| match t.as_ref().and_then(|t| t.m1.as_ref()) {
        Some(Ok(s)) => format!("{} {} (M1 map {})", s.location, s.token, s.map),
        Some(Err(why)) => format!("({why})"),
        None => "(no hex2 map entry)".to_string(),
    };
    let (sa, sb) = (show(&tokens[0]), show(&tokens[1]));
    let mut out = vec![format!("M1 source: {sa}")];
    if sb != sa {
        out.push(format!("   B's M1 source: {sb}"));
    }
    for t in tokens.iter().flatten() {
        if let Some(Ok(source::M1Source {
            note: Some(note), ..
        })) = &t.m1
        {
            let line = format!("   note: {note}");
            if !out.contains(&line) {
                out.push(line);
            }
        }
    }
    out
}

/// The instruction covering `first` on each side, swept from the token's source line when
/// there is a map entry, else from [`disassembly::default_start`].
fn disassemble(
    (a, b): (&[u8], &[u8]),
    first: u64,
    tokens: &[Option<TokenCheck>; 2],
    forced: Option<Isa>,
) -> Result<Disassembly, String> {
    let isa = disassembly::isa_of(a, forced).or_else(|e| {
        if a.starts_with(b"\x7fELF") {
            Err(e)
        } else {
            disassembly::isa_of(b, forced)
        }
    })?;
    let side = |bytes: &[u8], t: &Option<TokenCheck>| {
        let start = match t {
            Some(t) => disassembly::Start {
                offset: t.line_start,
                address: u64::from(t.address).wrapping_sub(t.offset - t.line_start),
            },
            None => disassembly::default_start(bytes, first),
        };
        disassembly::covering(bytes, isa, start, first)
    };
    Ok(Disassembly {
        isa,
        sides: [side(a, &tokens[0]), side(b, &tokens[1])],
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
        match &self.disassembly {
            Ok(dis) => {
                let _ = writeln!(out, "disassembly ({}):", dis.isa.name());
                for (tag, line) in ["A", "B"].iter().zip(&dis.sides) {
                    match line {
                        Some(l) => {
                            let _ = writeln!(out, "  {tag} {}", l.render());
                        }
                        None => {
                            let _ = writeln!(out, "  {tag} (the file ends before this offset)");
                        }
                    }
                }
            }
            Err(why) => {
                let _ = writeln!(out, "disassembly: {why}");
            }
        }
        let _ = writeln!(out, "context:");
        for (row, ra, rb) in &self.context {
            let _ = writeln!(out, "  A {}", hex_line(*row, ra, d.first));
            let _ = writeln!(out, "  B {}", hex_line(*row, rb, d.first));
        }
        out
    }
}
