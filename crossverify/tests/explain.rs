//! `explain` on constructed ELF32 and ELF64 pairs (program headers only, and with section
//! headers and a symbol table), on raw files, and with hex2 map files.

mod common;
use common::{run, s, scratch};
use std::path::Path;

use crossverify::explain;

/// A minimal little-endian ELF32 (i386) with one PT_LOAD segment mapping the whole file at
/// 0x8048000, followed by `code`.
fn elf32(code: &[u8]) -> Vec<u8> {
    let total = 52 + 32 + code.len() as u32;
    let mut v = Vec::new();
    v.extend_from_slice(b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0");
    for h in [2u16, 3] {
        v.extend_from_slice(&h.to_le_bytes()); // e_type EXEC, e_machine 386
    }
    for w in [1u32, 0x8048054, 52, 0, 0] {
        v.extend_from_slice(&w.to_le_bytes()); // version, entry, phoff, shoff, flags
    }
    for h in [52u16, 32, 1, 40, 0, 0] {
        v.extend_from_slice(&h.to_le_bytes()); // ehsize, phentsize, phnum, shentsize, shnum, shstrndx
    }
    for w in [1u32, 0, 0x8048000, 0x8048000, total, total, 5, 0x1000] {
        v.extend_from_slice(&w.to_le_bytes());
    }
    v.extend_from_slice(code);
    v
}

/// A little-endian ELF64 (x86-64): one PT_LOAD at 0x600000, `code` at offset 120, then a
/// symbol table with `_start` (code start) and `loop` (code start + 8) and section headers.
fn elf64(code: &[u8]) -> Vec<u8> {
    let base = 0x600000u64;
    let code_off = 120u64;
    let strtab = b"\0_start\0loop\0";
    let shstrtab = b"\0.text\0.symtab\0.strtab\0.shstrtab\0";
    let strtab_off = code_off + code.len() as u64;
    let shstrtab_off = strtab_off + strtab.len() as u64;
    let symtab_off = (shstrtab_off + shstrtab.len() as u64 + 7) & !7;
    let shoff = symtab_off + 3 * 24;
    let mut v = Vec::new();
    v.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    v.extend_from_slice(&2u16.to_le_bytes());
    v.extend_from_slice(&62u16.to_le_bytes());
    v.extend_from_slice(&1u32.to_le_bytes());
    for q in [base + code_off, 64, shoff] {
        v.extend_from_slice(&q.to_le_bytes());
    }
    v.extend_from_slice(&0u32.to_le_bytes());
    for h in [64u16, 56, 1, 64, 5, 4] {
        v.extend_from_slice(&h.to_le_bytes());
    }
    // PT_LOAD R+X mapping offset 0 .. end of code.
    v.extend_from_slice(&1u32.to_le_bytes());
    v.extend_from_slice(&5u32.to_le_bytes());
    let end = code_off + code.len() as u64;
    for q in [0, base, base, end, end, 0x1000] {
        v.extend_from_slice(&q.to_le_bytes());
    }
    assert_eq!(v.len() as u64, code_off);
    v.extend_from_slice(code);
    v.extend_from_slice(strtab);
    v.extend_from_slice(shstrtab);
    v.resize(symtab_off as usize, 0);
    // Symbols: null, _start (FUNC, GLOBAL), loop (NOTYPE, GLOBAL).
    v.extend_from_slice(&[0; 24]);
    for (name, info, value) in [
        (1u32, 0x12u8, base + code_off),
        (8, 0x10, base + code_off + 8),
    ] {
        v.extend_from_slice(&name.to_le_bytes());
        v.push(info);
        v.push(0);
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&value.to_le_bytes());
        v.extend_from_slice(&0u64.to_le_bytes());
    }
    let sh = |v: &mut Vec<u8>,
              name: u32,
              ty: u32,
              addr: u64,
              off: u64,
              size: u64,
              link: u32,
              info: u32,
              entsize: u64| {
        v.extend_from_slice(&name.to_le_bytes());
        v.extend_from_slice(&ty.to_le_bytes());
        v.extend_from_slice(&(if ty == 1 { 6u64 } else { 0 }).to_le_bytes());
        for q in [addr, off, size] {
            v.extend_from_slice(&q.to_le_bytes());
        }
        v.extend_from_slice(&link.to_le_bytes());
        v.extend_from_slice(&info.to_le_bytes());
        v.extend_from_slice(&1u64.to_le_bytes());
        v.extend_from_slice(&entsize.to_le_bytes());
    };
    v.extend_from_slice(&[0; 64]);
    sh(
        &mut v,
        1,
        1,
        base + code_off,
        code_off,
        code.len() as u64,
        0,
        0,
        0,
    ); // .text
    sh(&mut v, 7, 2, 0, symtab_off, 72, 3, 1, 24); // .symtab -> .strtab
    sh(&mut v, 15, 3, 0, strtab_off, strtab.len() as u64, 0, 0, 0); // .strtab
    sh(
        &mut v,
        23,
        3,
        0,
        shstrtab_off,
        shstrtab.len() as u64,
        0,
        0,
        0,
    ); // .shstrtab
    v
}

/// `M1 --architecture x86 --little-endian -f SOURCE -o HEX2 --map MAP`, which must succeed.
fn m1_x86(source: &Path, hex2: &Path, map: &Path) {
    let (status, _, err) = run(
        m1::tool::main,
        &[
            "M1",
            "--architecture",
            "x86",
            "--little-endian",
            "-f",
            s(source),
            "-o",
            s(hex2),
            "--map",
            s(map),
        ],
    );
    assert_eq!(status, 0, "{err}");
}

/// `hex2 --architecture x86 --little-endian [--base-address BASE] -f INPUT... -o OUT
/// --map MAP`, which must succeed.
fn hex2_x86(base: Option<&str>, inputs: &[&Path], out: &Path, map: &Path) {
    let mut args = vec!["hex2", "--architecture", "x86", "--little-endian"];
    if let Some(b) = base {
        args.extend(["--base-address", b]);
    }
    for i in inputs {
        args.extend(["-f", s(i)]);
    }
    args.extend(["-o", s(out), "--map", s(map)]);
    let (status, _, err) = run(hex2::tool::main, &args);
    assert_eq!(status, 0, "{err}");
}

#[test]
fn raw_difference_counts() {
    assert_eq!(explain::difference(b"abc", b"abc"), None);
    let d = explain::difference(b"abcdef", b"abXdeY").unwrap();
    assert_eq!((d.first, d.count), (2, 2));
    let d = explain::difference(b"abc", b"abcde").unwrap();
    assert_eq!((d.first, d.count), (3, 2));
    let d = explain::difference(b"", b"x").unwrap();
    assert_eq!((d.first, d.count), (0, 1));
}

#[test]
fn elf32_program_headers_suffice() {
    let code = [0x90u8; 16];
    let a = elf32(&code);
    let mut b = a.clone();
    b[52 + 32 + 5] = 0xcc;
    let place = explain::elf_place(&a, 52 + 32 + 5).unwrap().unwrap();
    assert_eq!(place.vaddr, Some(0x8048000 + 89));
    assert!(
        place.kind.starts_with("ELF32 little-endian"),
        "{}",
        place.kind
    );
    assert_eq!(place.symbol, None);
    let text = explain::explain(("a", "b"), &a, &b, None, None).unwrap();
    assert!(
        text.contains("first difference at offset 0x59 (89): 0x90 in A, 0xcc in B"),
        "{text}"
    );
    assert!(text.contains("1 byte differ"), "{text}");
    assert!(
        text.contains("segment 0 (PT_LOAD, file offset 0x0"),
        "{text}"
    );
    assert!(text.contains("virtual address 0x8048059"), "{text}");
    assert!(text.contains("[90]") && text.contains("[cc]"), "{text}");
    // Swept from the entry point (offset 84): the instruction at 89 on each side.
    assert!(text.contains("disassembly (x86):"), "{text}");
    assert!(text.contains(" 8048059: 90 "), "{text}");
    assert!(text.contains("nop") && text.contains("int3"), "{text}");
}

#[test]
fn elf64_with_symbols_and_sections() {
    let code: Vec<u8> = (0..16).collect();
    let a = elf64(&code);
    let mut b = a.clone();
    b[120 + 10] ^= 0xff;
    b[120 + 12] ^= 0xff;
    let place = explain::elf_place(&a, 130).unwrap().unwrap();
    assert_eq!(place.vaddr, Some(0x600000 + 130));
    assert_eq!(place.symbol.as_deref(), Some("loop+0x2"));
    assert_eq!(place.section.as_deref(), Some(".text (+0xa)"));
    let text = explain::explain(("a", "b"), &a, &b, None, None).unwrap();
    assert!(
        text.contains("ELF64 little-endian, machine X86_64"),
        "{text}"
    );
    assert!(text.contains("symbol loop+0x2"), "{text}");
    assert!(text.contains("2 bytes differ"), "{text}");
    let at_start = explain::elf_place(&a, 120).unwrap().unwrap();
    assert_eq!(at_start.symbol.as_deref(), Some("_start"));
}

#[test]
fn truncated_elf_is_reported_not_fatal() {
    let a = elf32(&[0x90; 4]);
    let b = a[..30].to_vec();
    let text = explain::explain(("a", "b"), &a, &b, None, None).unwrap();
    assert!(
        text.contains("B: starts like an ELF file but cannot be read as one"),
        "{text}"
    );
    assert!(text.contains("the sizes differ by"), "{text}");
}

#[test]
fn map_names_the_source_token() {
    let dir = scratch("explain-map");
    // A jump displacement at offset 85..89 differs: a label resolved differently.
    let mut code_a = vec![0xe9, 0x10, 0, 0, 0, 0x90, 0x90, 0x90];
    let a = elf32(&code_a);
    code_a[1] = 0x14;
    let b = elf32(&code_a);
    // Version 1 maps (no emitted bytes) are still read.
    let map = "# hexroot hex2 map 1\n0 84 0x08048000 ELF.hex2:1:1 7F\n84 1 0x08048054 M0.hex2:412:1 E9\n85 4 0x08048055 M0.hex2:412:4 %label_foo\n89 3 0x08048059 M0.hex2:413:1 909090\n";
    std::fs::write(dir.join("a"), &a).unwrap();
    std::fs::write(dir.join("b"), &b).unwrap();
    std::fs::write(dir.join("a.map"), map).unwrap();
    std::fs::write(dir.join("b.map"), map).unwrap();
    let (status, out, err) = run(
        explain::cli::main,
        &[
            "explain",
            "--map",
            s(&dir.join("a.map")),
            s(&dir.join("b.map")),
            s(&dir.join("a")),
            s(&dir.join("b")),
        ],
    );
    assert_eq!(status, 1, "{err}");
    assert!(
        out.contains("source: M0.hex2:412:4 %label_foo resolved to 0x10 here, 0x14 there"),
        "{out}"
    );
    assert!(
        out.contains("side A: its map (version 1) does not record what token `%label_foo`"),
        "{out}"
    );
    // The disassembly starts at the token's line (E9 at 84): the whole jump on each side.
    assert!(
        out.contains(" 8048054: e9 10 00 00 00") && out.contains("jmp 0x8048069"),
        "{out}"
    );
    // Also `--map A.map --map B.map`.
    let (status, out2, _) = run(
        explain::cli::main,
        &[
            "explain",
            s(&dir.join("a")),
            "-m",
            s(&dir.join("a.map")),
            s(&dir.join("b")),
            "-m",
            s(&dir.join("b.map")),
        ],
    );
    assert_eq!(status, 1);
    assert!(out2.contains("A: "), "{out2}");
    // Identical files: exit 0. A bad map: exit 2 with the map's line.
    let (status, out, _) = run(
        explain::cli::main,
        &["explain", s(&dir.join("a")), s(&dir.join("a"))],
    );
    assert_eq!(status, 0);
    assert!(out.contains("identical"), "{out}");
    std::fs::write(
        dir.join("bad.map"),
        "# hexroot hex2 map 1\n12 x 0x0 f:1:1 AA\n",
    )
    .unwrap();
    let (status, _, err) = run(
        explain::cli::main,
        &[
            "explain",
            "--map",
            s(&dir.join("bad.map")),
            s(&dir.join("b.map")),
            s(&dir.join("a")),
            s(&dir.join("b")),
        ],
    );
    assert_eq!(status, 2);
    assert!(err.contains("bad.map:2:1: error: bad map line"), "{err}");
    let (status, _, _) = run(explain::cli::main, &["explain", s(&dir.join("a"))]);
    assert_eq!(status, 2);
}

#[test]
fn real_hex2_maps_end_to_end() {
    let dir = scratch("explain-hex2");
    std::fs::write(dir.join("a.hex2"), "E9 %target\n90 90\n:target\nC3\n").unwrap();
    std::fs::write(dir.join("b.hex2"), "E9 %target\n90 90 90\n:target\nC3\n").unwrap();
    for side in ["a", "b"] {
        hex2_x86(
            Some("0x8048000"),
            &[&dir.join(format!("{side}.hex2"))],
            &dir.join(side),
            &dir.join(format!("{side}.map")),
        );
    }
    let (status, out, err) = run(
        explain::cli::main,
        &[
            "explain",
            "--map",
            s(&dir.join("a.map")),
            s(&dir.join("b.map")),
            s(&dir.join("a")),
            s(&dir.join("b")),
        ],
    );
    assert_eq!(status, 1, "{err}");
    assert!(
        out.contains("first difference at offset 0x1 (1): 0x02 in A, 0x03 in B"),
        "{out}"
    );
    let want = format!(
        "source: {}:1:4 %target resolved to 0x2 here, 0x3 there",
        s(&dir.join("a.hex2"))
    );
    assert!(out.contains(&want), "{out}");
}

#[test]
fn m1_maps_name_the_m1_source_token() {
    let dir = scratch("explain-m1");
    let defs = "DEFINE jmp E9\nDEFINE nop 90\nDEFINE ret C3\n";
    std::fs::write(
        dir.join("a.M1"),
        format!("{defs}jmp %target\nnop nop\n:target\nret\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.M1"),
        format!("{defs}jmp %target\nnop nop nop\n:target\nret\n"),
    )
    .unwrap();
    for side in ["a", "b"] {
        let p = |ext: &str| dir.join(format!("{side}{ext}"));
        m1_x86(&p(".M1"), &p(".hex2"), &p(".m1map"));
        hex2_x86(None, &[&p(".hex2")], &p(""), &p(".map"));
    }
    let (status, out, err) = run(
        explain::cli::main,
        &[
            "explain",
            "--map",
            s(&dir.join("a.map")),
            s(&dir.join("b.map")),
            "--m1-map",
            s(&dir.join("a.m1map")),
            "--m1-map",
            s(&dir.join("b.m1map")),
            s(&dir.join("a")),
            s(&dir.join("b")),
        ],
    );
    assert_eq!(status, 1, "{err}");
    assert!(out.contains("resolved to 0x2 here, 0x3 there"), "{out}");
    let want = format!("M1 source: {}:4:5 %target", s(&dir.join("a.M1")));
    assert!(out.contains(&want), "{out}");
    // --m1-map without hex2 maps is a usage error.
    let (status, _, _) = run(
        explain::cli::main,
        &[
            "explain",
            "--m1-map",
            s(&dir.join("a.m1map")),
            "--m1-map",
            s(&dir.join("b.m1map")),
            s(&dir.join("a")),
            s(&dir.join("b")),
        ],
    );
    assert_eq!(status, 2);
}

/// Two M1 files assembled separately (each with its map), linked by hex2 with a map; B is
/// A with one byte changed. explain must take the M1 map of the hex2 file the byte came
/// from (both hex2 files have a token at the same line and column), say that B's bytes
/// are not what the token emits, and disassemble the instruction on both sides.
#[test]
fn two_m1_files_one_changed_byte_end_to_end() {
    let dir = scratch("explain-two-m1");
    let p = |name: &str| dir.join(name);
    std::fs::write(
        p("one.M1"),
        "DEFINE mov_eax, B8\nDEFINE ret C3\n:first\nmov_eax, %1\nret\n",
    )
    .unwrap();
    std::fs::write(
        p("two.M1"),
        "DEFINE mov_ebx, BB\nDEFINE ret C3\n:second\nmov_ebx, %2\nret\n",
    )
    .unwrap();
    for part in ["one", "two"] {
        m1_x86(
            &p(&format!("{part}.M1")),
            &p(&format!("{part}.hex2")),
            &p(&format!("{part}.m1map")),
        );
    }
    hex2_x86(
        Some("0x8048000"),
        &[&p("one.hex2"), &p("two.hex2")],
        &p("a"),
        &p("a.map"),
    );
    let a = std::fs::read(p("a")).unwrap();
    assert_eq!(a, [0xb8, 1, 0, 0, 0, 0xc3, 0xbb, 2, 0, 0, 0, 0xc3]);
    let mut b = a.clone();
    b[7] = 3;
    std::fs::write(p("b"), &b).unwrap();
    let paths = ["a.map", "one.m1map", "two.m1map", "a", "b"].map(p);
    let [map, one, two, a_path, b_path] = paths.each_ref().map(|x| s(x));
    let args = [
        "explain", "--arch", "x86", "--map", map, map, "--m1-map", one, "--m1-map", two, a_path,
        b_path,
    ];
    let (status, out, err) = run(explain::cli::main, &args);
    assert_eq!(status, 1, "{err}");
    let two_hex2_path = p("two.hex2");
    let two_hex2 = s(&two_hex2_path);
    assert!(
        out.contains(&format!(
            "source: {two_hex2}:3:4 02000000 emitted 0x2 here, 0x3 there"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "M1 source: {}:4:10 %2 (M1 map {})",
            s(&p("two.M1")),
            s(&p("two.m1map"))
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "side A: bytes 02 00 00 00 are what token `02000000` at {two_hex2}:3:4 emits"
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "side B: bytes 03 00 00 00 are NOT what token `02000000` at {two_hex2}:3:4 emits (02 00 00 00)"
        )),
        "{out}"
    );
    assert!(out.contains("disassembly (x86):"), "{out}");
    assert!(
        out.contains("A  8048006: bb 02 00 00 00") && out.contains("mov ebx, 0x2"),
        "{out}"
    );
    assert!(out.contains("mov ebx, 0x3"), "{out}");
    // The same as JSON, valid against the committed schema.
    let mut json_args = args.to_vec();
    json_args.splice(1..1, ["--json", "-"]);
    let (status, text, err) = run(explain::cli::main, &json_args);
    assert_eq!(status, 1, "{err}");
    let doc = crossverify::json::read::parse("explain", text.as_bytes()).unwrap();
    let schema = crossverify::export::schema_of("explain").unwrap();
    crossverify::json::schema::check(&schema, &doc).unwrap();
    let d = doc.get("difference").unwrap();
    let tok = d.get("b_token").unwrap();
    assert_eq!(
        tok.get("emitted_by_token"),
        Some(&crossverify::json::Value::Bool(false))
    );
    let dis = d.get("disassembly").unwrap();
    assert_eq!(
        dis.get("b")
            .and_then(|l| l.get("text"))
            .and_then(|t| t.as_str()),
        Some("mov ebx, 0x3")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
