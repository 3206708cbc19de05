//! Static ELF executables as the chains produce them, and the Linux initial process image.
//!
//! This module owns two jobs: parsing an ELF32/ELF64 little-endian executable's header
//! and program headers (hex2's output has no section headers, so nothing else is read;
//! every field is read with an explicit little-endian load at its file offset), and
//! building a fresh address space from it: the `PT_LOAD` segments mapped page-aligned
//! (overlapping or touching pages merged into one region, `p_memsz` beyond `p_filesz`
//! zero), an empty heap after the highest segment, and a stack holding what the kernel
//! puts there at process start (argc, argv, envp, a minimal auxiliary vector and the
//! strings). A malformed file is an [`ElfError`] naming the file offset and what was
//! expected; nothing here panics on any input.

use std::fmt;

use super::cpu::Arch;
use super::memory::{MapError, Memory};

/// The page size of every emulated architecture.
pub const PAGE: u64 = 4096;

/// The stack's size: the kernel's default `ulimit -s`.
pub const STACK_SIZE: u64 = 8 << 20;

/// A `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// `p_offset`.
    pub offset: u64,
    /// `p_vaddr`.
    pub vaddr: u64,
    /// `p_filesz`.
    pub filesz: u64,
    /// `p_memsz`.
    pub memsz: u64,
}

/// What the loader needs from an executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Executable {
    /// From `e_machine` and `EI_CLASS`.
    pub arch: Arch,
    /// `e_entry`.
    pub entry: u64,
    /// The `PT_LOAD` segments in file order.
    pub segments: Vec<Segment>,
    /// `e_phoff`, `e_phentsize`, `e_phnum` (for `AT_PHDR`).
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u64,
    /// `e_phnum`.
    pub phnum: u64,
}

/// Why a file is not a loadable executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfError {
    /// The file offset of the offending field.
    pub offset: u64,
    /// What is wrong.
    pub kind: ElfErrorKind,
}

/// The kinds of [`ElfError`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ElfErrorKind {
    /// The file ends inside a header or a segment.
    Truncated {
        /// Bytes needed.
        needed: u64,
        /// The file's length.
        len: u64,
    },
    /// No `\x7fELF` magic.
    NotElf,
    /// `EI_CLASS`, `EI_DATA` or `EI_VERSION` is not one this machine loads.
    BadIdent {
        /// The field.
        field: &'static str,
        /// Its value.
        found: u64,
    },
    /// `e_type` is not `ET_EXEC` (2).
    NotExecutable {
        /// The value found.
        found: u64,
    },
    /// `e_machine` (with the class) names no architecture of this machine.
    UnsupportedMachine {
        /// The value found.
        machine: u64,
        /// 32 or 64.
        bits: u32,
    },
    /// A `PT_INTERP` header: a dynamically linked program.
    Dynamic,
    /// A segment's numbers do not make sense (`filesz > memsz`, address overflow, too big).
    BadSegment {
        /// Why.
        why: &'static str,
    },
    /// There are no `PT_LOAD` segments.
    NoSegments,
    /// A segment could not be mapped.
    Map(MapError),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at file offset {:#x}: ", self.offset)?;
        match &self.kind {
            ElfErrorKind::Truncated { needed, len } => write!(
                f,
                "the file ends early: expected at least {needed} bytes, found {len}"
            ),
            ElfErrorKind::NotElf => write!(f, "expected the ELF magic 7f 45 4c 46: not an ELF file"),
            ElfErrorKind::BadIdent { field, found } => write!(
                f,
                "unsupported {field} {found} (expected ELFCLASS32/64, little-endian, version 1)"
            ),
            ElfErrorKind::NotExecutable { found } => {
                write!(f, "e_type is {found}, expected 2 (ET_EXEC, a static executable)")
            }
            ElfErrorKind::UnsupportedMachine { machine, bits } => write!(
                f,
                "e_machine {machine} ({bits}-bit) is not one of x86 (3, 32-bit), amd64 (62), aarch64 (183), riscv32/riscv64 (243)"
            ),
            ElfErrorKind::Dynamic => write!(
                f,
                "a PT_INTERP header: this is a dynamically linked program; only static executables run here"
            ),
            ElfErrorKind::BadSegment { why } => write!(f, "bad PT_LOAD segment: {why}"),
            ElfErrorKind::NoSegments => write!(f, "no PT_LOAD segment: nothing to run"),
            ElfErrorKind::Map(e) => write!(f, "cannot map the segment: {e:?}"),
        }
    }
}

#[cold]
fn err(offset: u64, kind: ElfErrorKind) -> ElfError {
    ElfError { offset, kind }
}

/// Little-endian field reads at absolute file offsets.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn get(&self, offset: u64, n: u64) -> Result<u64, ElfError> {
        let end = offset.saturating_add(n);
        if end > self.bytes.len() as u64 {
            return Err(err(
                offset,
                ElfErrorKind::Truncated {
                    needed: end,
                    len: self.bytes.len() as u64,
                },
            ));
        }
        let mut v = 0u64;
        for (i, b) in self.bytes[offset as usize..end as usize].iter().enumerate() {
            v |= u64::from(*b) << (8 * i);
        }
        Ok(v)
    }
}

const PT_LOAD: u64 = 1;
const PT_INTERP: u64 = 3;

/// Parses `bytes` as a static executable.
pub fn parse(bytes: &[u8]) -> Result<Executable, ElfError> {
    let r = Reader { bytes };
    if bytes.len() < 4 || bytes[..4] != *b"\x7fELF" {
        if bytes.len() < 4 && b"\x7fELF".starts_with(bytes) && !bytes.is_empty() {
            r.get(0, 4)?;
        }
        return Err(err(0, ElfErrorKind::NotElf));
    }
    let class = r.get(4, 1)?;
    let wide = match class {
        1 => false,
        2 => true,
        found => {
            return Err(err(
                4,
                ElfErrorKind::BadIdent {
                    field: "EI_CLASS",
                    found,
                },
            ))
        }
    };
    for (at, field) in [(5, "EI_DATA"), (6, "EI_VERSION")] {
        let found = r.get(at, 1)?;
        if found != 1 {
            return Err(err(at, ElfErrorKind::BadIdent { field, found }));
        }
    }
    let e_type = r.get(16, 2)?;
    if e_type != 2 {
        return Err(err(16, ElfErrorKind::NotExecutable { found: e_type }));
    }
    let machine = r.get(18, 2)?;
    let arch = match (machine, wide) {
        (3, false) => Arch::I386,
        (62, true) => Arch::Amd64,
        (183, true) => Arch::Aarch64,
        (243, false) => Arch::Riscv32,
        (243, true) => Arch::Riscv64,
        _ => {
            return Err(err(
                18,
                ElfErrorKind::UnsupportedMachine {
                    machine,
                    bits: if wide { 64 } else { 32 },
                },
            ))
        }
    };
    // (offset of e_entry, e_phoff, e_phentsize, e_phnum; word width)
    let (entry, phoff, phentsize, phnum, w) = if wide {
        (
            r.get(24, 8)?,
            r.get(32, 8)?,
            r.get(54, 2)?,
            r.get(56, 2)?,
            8,
        )
    } else {
        (
            r.get(24, 4)?,
            r.get(28, 4)?,
            r.get(42, 2)?,
            r.get(44, 2)?,
            4,
        )
    };
    let min_ent = if wide { 56 } else { 32 };
    if phnum > 0 && phentsize < min_ent {
        return Err(err(
            if wide { 54 } else { 42 },
            ElfErrorKind::BadSegment {
                why: "e_phentsize is smaller than a program header",
            },
        ));
    }
    let mut segments = Vec::new();
    for i in 0..phnum {
        let at = phoff.saturating_add(i.saturating_mul(phentsize));
        let p_type = r.get(at, 4)?;
        let (offset, vaddr, filesz, memsz) = if wide {
            (
                r.get(at + 8, w)?,
                r.get(at + 16, w)?,
                r.get(at + 32, w)?,
                r.get(at + 40, w)?,
            )
        } else {
            (
                r.get(at + 4, w)?,
                r.get(at + 8, w)?,
                r.get(at + 16, w)?,
                r.get(at + 20, w)?,
            )
        };
        match p_type {
            PT_INTERP => return Err(err(at, ElfErrorKind::Dynamic)),
            PT_LOAD => {}
            _ => continue,
        }
        let bad = |why| Err(err(at, ElfErrorKind::BadSegment { why }));
        if filesz > memsz {
            return bad("p_filesz is larger than p_memsz");
        }
        if memsz > super::memory::MAX_REGION {
            return bad("p_memsz is larger than the machine maps (1 GiB)");
        }
        let limit = if wide { u64::MAX } else { u64::from(u32::MAX) };
        if vaddr.checked_add(memsz).is_none_or(|e| e > limit) {
            return bad("the segment runs past the end of the address space");
        }
        if offset > bytes.len() as u64 || (offset == bytes.len() as u64 && filesz > 0) {
            return Err(err(
                at,
                ElfErrorKind::Truncated {
                    needed: offset.saturating_add(filesz),
                    len: bytes.len() as u64,
                },
            ));
        }
        // As with Linux's file-backed mapping, bytes the header places past the end of
        // the file read as zero (the AArch64 chain's hex2-0 claims 148 bytes it lacks).
        let filesz = filesz.min(bytes.len() as u64 - offset);
        segments.push(Segment {
            offset,
            vaddr,
            filesz,
            memsz,
        });
    }
    if segments.is_empty() {
        return Err(err(phoff, ElfErrorKind::NoSegments));
    }
    Ok(Executable {
        arch,
        entry,
        segments,
        phoff,
        phentsize,
        phnum,
    })
}

fn page_down(a: u64) -> u64 {
    a & !(PAGE - 1)
}

fn page_up(a: u64) -> u64 {
    a.saturating_add(PAGE - 1) & !(PAGE - 1)
}

/// A fresh process image: memory, where to start, where the heap begins.
#[derive(Clone, Debug)]
pub struct Image {
    /// The address space.
    pub mem: Memory,
    /// The entry point.
    pub entry: u64,
    /// The initial stack pointer (at argc).
    pub sp: u64,
    /// The start of the heap region (mapped, length 0): the initial program break.
    pub brk_base: u64,
}

/// The top of the stack region (exclusive) for an architecture.
pub fn stack_top(arch: Arch) -> u64 {
    if arch.word_bytes() == 4 {
        0x7fff_f000
    } else {
        0x7fff_ffff_f000
    }
}

/// Maps `exe`'s segments (from `bytes`, the file it was parsed from) and builds the
/// initial stack with `argv` and `envp`.
pub fn load(
    exe: &Executable,
    bytes: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
) -> Result<Image, ElfError> {
    let mut mem = Memory::new();
    // Page ranges of every segment, merged where they overlap or touch.
    let mut ranges: Vec<(u64, u64)> = exe
        .segments
        .iter()
        .filter(|s| s.memsz > 0)
        .map(|s| (page_down(s.vaddr), page_up(s.vaddr + s.memsz)))
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (lo, hi) in ranges {
        match merged.last_mut() {
            Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
            _ => merged.push((lo, hi)),
        }
    }
    let top = stack_top(exe.arch);
    let stack_base = top - STACK_SIZE;
    for &(lo, hi) in &merged {
        if hi - lo > super::memory::MAX_REGION {
            return Err(err(exe.phoff, ElfErrorKind::Map(MapError::TooLarge)));
        }
        mem.map(lo, hi - lo)
            .map_err(|e| err(exe.phoff, ElfErrorKind::Map(e)))?;
    }
    for s in &exe.segments {
        if s.filesz == 0 {
            continue;
        }
        let src = &bytes[s.offset as usize..(s.offset + s.filesz) as usize];
        mem.slice_mut(s.vaddr, s.filesz)
            .map_err(|_| err(s.offset, ElfErrorKind::Map(MapError::NoRegion)))?
            .copy_from_slice(src);
    }
    let brk_base = merged.last().map_or(0, |r| r.1);
    if brk_base == 0 {
        return Err(err(exe.phoff, ElfErrorKind::NoSegments));
    }
    mem.map(brk_base, 0)
        .map_err(|e| err(exe.phoff, ElfErrorKind::Map(e)))?;
    mem.map(stack_base, STACK_SIZE)
        .map_err(|e| err(exe.phoff, ElfErrorKind::Map(e)))?;
    let phdr = phdr_address(exe);
    let sp = build_stack(&mut mem, exe, top, argv, envp, phdr).ok_or_else(|| {
        err(
            0,
            ElfErrorKind::BadSegment {
                why: "the arguments and environment do not fit the 8 MiB stack",
            },
        )
    })?;
    Ok(Image {
        mem,
        entry: exe.entry,
        sp,
        brk_base,
    })
}

/// The guest address of the program headers, when a segment maps them.
fn phdr_address(exe: &Executable) -> Option<u64> {
    exe.segments
        .iter()
        .find(|s| s.offset <= exe.phoff && exe.phoff < s.offset + s.filesz)
        .map(|s| s.vaddr + (exe.phoff - s.offset))
}

const AT_NULL: u64 = 0;
const AT_PHDR: u64 = 3;
const AT_PHENT: u64 = 4;
const AT_PHNUM: u64 = 5;
const AT_PAGESZ: u64 = 6;
const AT_ENTRY: u64 = 9;
const AT_RANDOM: u64 = 25;

/// The 16 "random" bytes behind `AT_RANDOM`: fixed, so every run is reproducible.
const RANDOM: [u8; 16] = *b"hexroot-linux-vm";

/// Writes the initial stack below `top`; returns the stack pointer (at argc), 16-aligned.
fn build_stack(
    mem: &mut Memory,
    exe: &Executable,
    top: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    phdr: Option<u64>,
) -> Option<u64> {
    let word = exe.arch.word_bytes();
    let mut at = top - 16;
    let put = |mem: &mut Memory, s: &[u8], at: &mut u64| -> Option<u64> {
        *at = at.checked_sub(s.len() as u64 + 1)?;
        let dst = mem.slice_mut(*at, s.len() as u64 + 1).ok()?;
        dst[..s.len()].copy_from_slice(s);
        dst[s.len()] = 0;
        Some(*at)
    };
    let mut envp_at = Vec::with_capacity(envp.len());
    for e in envp.iter().rev() {
        envp_at.push(put(mem, e, &mut at)?);
    }
    envp_at.reverse();
    let mut argv_at = Vec::with_capacity(argv.len());
    for a in argv.iter().rev() {
        argv_at.push(put(mem, a, &mut at)?);
    }
    argv_at.reverse();
    at = at.checked_sub(16)? & !15;
    let random = at;
    mem.slice_mut(random, 16).ok()?.copy_from_slice(&RANDOM);
    let mut auxv = vec![
        (AT_PAGESZ, PAGE),
        (AT_ENTRY, exe.entry),
        (AT_RANDOM, random),
    ];
    if let Some(p) = phdr {
        auxv.extend([
            (AT_PHDR, p),
            (AT_PHENT, exe.phentsize),
            (AT_PHNUM, exe.phnum),
        ]);
    }
    auxv.push((AT_NULL, 0));
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&argv_at);
    words.push(0);
    words.extend(&envp_at);
    words.push(0);
    for (k, v) in auxv {
        words.extend([k, v]);
    }
    let size = words.len() as u64 * word;
    let sp = at.checked_sub(size)? & !15;
    if sp < top - STACK_SIZE + PAGE * 16 {
        return None;
    }
    for (i, w) in words.iter().enumerate() {
        let a = sp + i as u64 * word;
        if word == 4 {
            mem.write_u32(a, *w as u32).ok()?;
        } else {
            mem.write_u64(a, *w).ok()?;
        }
    }
    Some(sp)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A minimal static executable: one header, one PT_LOAD of the whole file at `base`
    /// (as hex2 writes them), then `code`.
    pub(crate) fn tiny_elf(arch: Arch, base: u64, code: &[u8], extra_mem: u64) -> Vec<u8> {
        let wide = arch.word_bytes() == 8;
        let (ehsize, phsize) = if wide { (64u64, 56u64) } else { (52, 32) };
        let machine: u16 = match arch {
            Arch::I386 => 3,
            Arch::Amd64 => 62,
            Arch::Aarch64 => 183,
            Arch::Riscv32 | Arch::Riscv64 => 243,
        };
        let entry = base + ehsize + phsize;
        let total = ehsize + phsize + code.len() as u64;
        let mut f = Vec::new();
        f.extend_from_slice(b"\x7fELF");
        f.extend_from_slice(&[if wide { 2 } else { 1 }, 1, 1, 0]);
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&2u16.to_le_bytes());
        f.extend_from_slice(&machine.to_le_bytes());
        f.extend_from_slice(&1u32.to_le_bytes());
        let word = |f: &mut Vec<u8>, v: u64| {
            if wide {
                f.extend_from_slice(&v.to_le_bytes())
            } else {
                f.extend_from_slice(&(v as u32).to_le_bytes())
            }
        };
        word(&mut f, entry);
        word(&mut f, ehsize);
        word(&mut f, 0);
        f.extend_from_slice(&0u32.to_le_bytes());
        for v in [ehsize, phsize, 1, 0, 0, 0] {
            f.extend_from_slice(&(v as u16).to_le_bytes());
        }
        assert_eq!(f.len() as u64, ehsize);
        f.extend_from_slice(&1u32.to_le_bytes());
        if wide {
            f.extend_from_slice(&7u32.to_le_bytes());
        }
        word(&mut f, 0);
        word(&mut f, base);
        word(&mut f, base);
        word(&mut f, total);
        word(&mut f, total + extra_mem);
        if !wide {
            f.extend_from_slice(&7u32.to_le_bytes());
        }
        word(&mut f, 1);
        assert_eq!(f.len() as u64, ehsize + phsize);
        f.extend_from_slice(code);
        f
    }

    #[test]
    fn loads_a_hex2_style_executable_and_its_stack() {
        for arch in [
            Arch::I386,
            Arch::Amd64,
            Arch::Riscv32,
            Arch::Riscv64,
            Arch::Aarch64,
        ] {
            let f = tiny_elf(arch, 0x60_0000, &[0xAA, 0xBB], 5000);
            let exe = parse(&f).unwrap();
            assert_eq!(exe.arch, arch);
            let img = load(
                &exe,
                &f,
                &[b"prog".to_vec(), b"x".to_vec()],
                &[b"A=1".to_vec()],
            )
            .unwrap();
            assert_eq!(img.mem.read_u8(exe.entry).unwrap(), 0xAA);
            // memsz beyond filesz is zero and mapped.
            assert_eq!(img.mem.read_u8(exe.entry + 2 + 4000).unwrap(), 0);
            assert_eq!(img.brk_base % PAGE, 0);
            assert!(img.brk_base >= 0x60_0000 + f.len() as u64 + 5000);
            assert_eq!(img.sp % 16, 0);
            let w = arch.word_bytes();
            let rd = |a: u64| {
                if w == 4 {
                    u64::from(img.mem.read_u32(a).unwrap())
                } else {
                    img.mem.read_u64(a).unwrap()
                }
            };
            assert_eq!(rd(img.sp), 2);
            assert_eq!(img.mem.c_string(rd(img.sp + w), 100).unwrap(), b"prog");
            assert_eq!(img.mem.c_string(rd(img.sp + 2 * w), 100).unwrap(), b"x");
            assert_eq!(rd(img.sp + 3 * w), 0);
            assert_eq!(img.mem.c_string(rd(img.sp + 4 * w), 100).unwrap(), b"A=1");
            assert_eq!(rd(img.sp + 5 * w), 0);
            assert_eq!(rd(img.sp + 6 * w), AT_PAGESZ);
            assert_eq!(rd(img.sp + 7 * w), PAGE);
        }
    }

    #[test]
    fn malformed_files_are_errors_naming_the_offset() {
        let good = tiny_elf(Arch::I386, 0x0804_8000, &[0x90], 0);
        assert_eq!(parse(b"").unwrap_err().kind, ElfErrorKind::NotElf);
        assert_eq!(
            parse(b"#!/bin/sh\n").unwrap_err().kind,
            ElfErrorKind::NotElf
        );
        assert!(matches!(
            parse(&good[..30]).unwrap_err().kind,
            ElfErrorKind::Truncated { .. }
        ));
        let mut bad = good.clone();
        bad[18] = 40; // EM_ARM
        let e = parse(&bad).unwrap_err();
        assert_eq!(e.offset, 18);
        assert!(e.to_string().contains("e_machine 40"), "{e}");
        let mut bad = good.clone();
        bad[5] = 2; // big-endian
        assert_eq!(parse(&bad).unwrap_err().offset, 5);
        let mut bad = good.clone();
        bad[16] = 3; // ET_DYN
        assert!(matches!(
            parse(&bad).unwrap_err().kind,
            ElfErrorKind::NotExecutable { found: 3 }
        ));
        let mut bad = good.clone();
        bad[52 + 16] = 0xff; // filesz > memsz
        bad[52 + 17] = 0xff;
        assert!(matches!(
            parse(&bad).unwrap_err().kind,
            ElfErrorKind::BadSegment { .. } | ElfErrorKind::Truncated { .. }
        ));
        let mut bad = good.clone();
        bad[52] = 3; // PT_INTERP
        assert_eq!(parse(&bad).unwrap_err().kind, ElfErrorKind::Dynamic);
        let mut bad = good;
        bad[52] = 4; // PT_NOTE only
        assert_eq!(parse(&bad).unwrap_err().kind, ElfErrorKind::NoSegments);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_loader(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200), flips in proptest::collection::vec((0usize..140, proptest::num::u8::ANY), 0..6)) {
            let _ = parse(&bytes).map(|e| load(&e, &bytes, &[], &[]));
            let mut f = tiny_elf(Arch::Amd64, 0x60_0000, &[1, 2, 3], 0);
            for (i, b) in flips {
                let n = f.len();
                f[i % n] = b;
            }
            let _ = parse(&f).map(|e| load(&e, &f, &[b"a".to_vec()], &[]));
        }
    }
}
