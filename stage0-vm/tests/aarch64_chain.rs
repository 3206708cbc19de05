//! A small AArch64 chain through the whole Linux user-mode machine: hand-assembled static
//! ELF programs (laid out as hex2 lays out the stage0-posix binaries: one RWX segment
//! at 0x600000, code after the headers) that write, copy a file, and run a child the way
//! kaem does (clone, execve, waitid), checked by their output, files and exit statuses.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod common;

use common::install;
const BASE: u64 = 0x60_0000;
const ENTRY: u64 = BASE + 0x78;

/// A tiny assembler: words, labels, and fixups resolved at the end.
#[derive(Default)]
struct Asm {
    words: Vec<u32>,
    labels: HashMap<&'static str, usize>,
    fixups: Vec<(usize, &'static str, Fix)>,
    bytes: Vec<(usize, Vec<u8>)>,
}

#[derive(Clone, Copy)]
enum Fix {
    /// imm26 (B, BL).
    Branch26,
    /// imm19 at bits 23..5 (B.cond, CBZ, CBNZ, LDR literal).
    Imm19,
    /// ADR: imm21 split into immlo and immhi.
    Adr,
}

impl Asm {
    fn op(&mut self, w: u32) -> &mut Self {
        self.words.push(w);
        self
    }
    fn label(&mut self, name: &'static str) -> &mut Self {
        self.labels.insert(name, self.words.len());
        self
    }
    fn fix(&mut self, w: u32, to: &'static str, fix: Fix) -> &mut Self {
        self.fixups.push((self.words.len(), to, fix));
        self.op(w)
    }
    /// Data bytes (padded to a word) at a label.
    fn data(&mut self, name: &'static str, bytes: &[u8]) -> &mut Self {
        self.label(name);
        let at = self.words.len();
        let words = bytes.len().div_ceil(4).max(1);
        self.words.extend(std::iter::repeat_n(0, words));
        self.bytes.push((at, bytes.to_vec()));
        self
    }
    fn elf(&self) -> Vec<u8> {
        let mut words = self.words.clone();
        for &(at, to, fix) in &self.fixups {
            let delta = self.labels[to] as i64 - at as i64;
            words[at] |= match fix {
                Fix::Branch26 => (delta as u32) & 0x3ff_ffff,
                Fix::Imm19 => ((delta as u32) & 0x7ffff) << 5,
                Fix::Adr => {
                    let bytes = (delta * 4) as u32;
                    (bytes & 3) << 29 | ((bytes >> 2) & 0x7ffff) << 5
                }
            };
        }
        let mut code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        for (at, b) in &self.bytes {
            code[4 * at..4 * at + b.len()].copy_from_slice(b);
        }
        let total = 0x78 + code.len() as u64;
        let mut out = Vec::new();
        out.extend_from_slice(b"\x7fELF\x02\x01\x01\x00");
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        out.extend_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&ENTRY.to_le_bytes());
        out.extend_from_slice(&64u64.to_le_bytes()); // e_phoff
        out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&64u16.to_le_bytes()); // e_ehsize
        out.extend_from_slice(&56u16.to_le_bytes()); // e_phentsize
        out.extend_from_slice(&1u16.to_le_bytes()); // e_phnum
        out.extend_from_slice(&[0; 6]);
        out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        out.extend_from_slice(&7u32.to_le_bytes()); // RWX
        out.extend_from_slice(&0u64.to_le_bytes()); // p_offset
        out.extend_from_slice(&BASE.to_le_bytes()); // p_vaddr
        out.extend_from_slice(&BASE.to_le_bytes()); // p_paddr
        out.extend_from_slice(&total.to_le_bytes()); // p_filesz
        out.extend_from_slice(&(total + 0x1000).to_le_bytes()); // p_memsz
        out.extend_from_slice(&1u64.to_le_bytes());
        assert_eq!(out.len(), 0x78);
        out.extend_from_slice(&code);
        out
    }
}

// Encoders for the instructions these programs use (fields as in the ARM ARM).
fn movz(rd: u32, imm: u32) -> u32 {
    0xd280_0000 | imm << 5 | rd
}
fn movn(rd: u32, imm: u32) -> u32 {
    0x9280_0000 | imm << 5 | rd
}
fn mov(rd: u32, rm: u32) -> u32 {
    0xaa00_03e0 | rm << 16 | rd // orr xd, xzr, xm
}
fn ldr_x(rt: u32, rn: u32, offset: u32) -> u32 {
    0xf940_0000 | (offset / 8) << 10 | rn << 5 | rt
}
fn ldr_w(rt: u32, rn: u32, offset: u32) -> u32 {
    0xb940_0000 | (offset / 4) << 10 | rn << 5 | rt
}
fn add_imm(rd: u32, rn: u32, imm: u32) -> u32 {
    0x9100_0000 | imm << 10 | rn << 5 | rd
}
fn sub_imm(rd: u32, rn: u32, imm: u32) -> u32 {
    0xd100_0000 | imm << 10 | rn << 5 | rd
}
fn cmp_imm(rn: u32, imm: u32) -> u32 {
    0xf100_001f | imm << 10 | rn << 5
}
fn stp_pre(rt: u32, rt2: u32, rn: u32, offset: i32) -> u32 {
    0xa980_0000 | ((offset / 8) as u32 & 0x7f) << 15 | rt2 << 10 | rn << 5 | rt
}
fn str_x(rt: u32, rn: u32, offset: u32) -> u32 {
    0xf900_0000 | (offset / 8) << 10 | rn << 5 | rt
}
const SVC: u32 = 0xd400_0001;
const B: u32 = 0x1400_0000;
const BL: u32 = 0x9400_0000;
const RET: u32 = 0xd65f_03c0;
const BLE: u32 = 0x5400_000d;
const CBZ_X: u32 = 0xb400_0000;
const ADR: u32 = 0x1000_0000;

fn exit_with(a: &mut Asm, code_reg: Option<u32>) {
    if let Some(r) = code_reg {
        a.op(mov(0, r));
    }
    a.op(movz(8, 93)).op(SVC);
}

/// write(1, label, len)
fn write_label(a: &mut Asm, label: &'static str, len: u32) {
    a.op(movz(0, 1))
        .fix(ADR | 1, label, Fix::Adr)
        .op(movz(2, len))
        .op(movz(8, 64))
        .op(SVC);
}

fn hello() -> Vec<u8> {
    let mut a = Asm::default();
    write_label(&mut a, "msg", 14);
    a.op(movz(0, 0));
    exit_with(&mut a, None);
    a.data("msg", b"hello, world!\n");
    a.elf()
}

/// cat FILE: openat(AT_FDCWD, argv[1], O_RDONLY), read 16 bytes at a time into a buffer
/// on the stack, write them to stdout; exit 2 if the open fails.
fn cat() -> Vec<u8> {
    let mut a = Asm::default();
    a.op(ldr_x(1, 31, 16)) // argv[1]
        .op(movn(0, 99)) // AT_FDCWD = -100
        .op(movz(2, 0))
        .op(movz(3, 0))
        .op(movz(8, 56))
        .op(SVC)
        .op(mov(19, 0))
        .op(0xb6f8_0000 | 19) // tbz x19, #63 -> open ok (patched below)
        .op(movz(0, 2));
    let tbz_at = a.words.len() - 2;
    exit_with(&mut a, None);
    let ok = a.words.len();
    a.words[tbz_at] |= (((ok - tbz_at) as u32) & 0x3fff) << 5;
    a.op(sub_imm(31, 31, 32)).label("loop");
    a.op(mov(0, 19))
        .op(add_imm(1, 31, 0))
        .op(movz(2, 16))
        .op(movz(8, 63))
        .op(SVC)
        .fix(CBZ_X, "done", Fix::Imm19)
        .op(mov(2, 0))
        .op(movz(0, 1))
        .op(add_imm(1, 31, 0))
        .op(movz(8, 64))
        .op(SVC)
        .fix(B, "loop", Fix::Branch26)
        .label("done")
        .op(movz(0, 0));
    exit_with(&mut a, None);
    a.elf()
}

/// With no argument: clone (fork), the child execve's this program with argument
/// "child", the parent waits with waitid and exits with the child's status plus one
/// after printing "parent\n". With an argument: print "child\n" through a subroutine,
/// exit 41.
fn spawner() -> Vec<u8> {
    let mut a = Asm::default();
    a.op(ldr_x(0, 31, 0)) // argc
        .op(cmp_imm(0, 1))
        .fix(BLE, "parent", Fix::Imm19)
        .fix(BL, "say_child", Fix::Branch26)
        .op(movz(0, 41));
    exit_with(&mut a, None);
    a.label("say_child")
        .op(stp_pre(29, 30, 31, -16))
        .op(add_imm(29, 31, 0));
    write_label(&mut a, "child_msg", 6);
    a.op(0xa8c1_7bfd) // ldp x29, x30, [sp], #16
        .op(RET);
    a.label("parent")
        .op(movz(0, 17)) // SIGCHLD
        .op(movz(1, 0))
        .op(movz(2, 0))
        .op(movz(3, 0))
        .op(movz(4, 0))
        .op(movz(8, 220))
        .op(SVC)
        .op(mov(19, 0))
        .fix(CBZ_X, "in_child", Fix::Imm19)
        // Parent: waitid(P_PID, pid, &info, WEXITED) with info on the stack.
        .op(sub_imm(31, 31, 128))
        .op(movz(0, 1))
        .op(mov(1, 19))
        .op(add_imm(2, 31, 0))
        .op(movz(3, 4))
        .op(movz(8, 95))
        .op(SVC)
        .op(ldr_w(20, 31, 24)) // si_status
        .op(add_imm(20, 20, 1));
    write_label(&mut a, "parent_msg", 7);
    exit_with(&mut a, Some(20));
    // Child: execve(argv[0], [argv[0], "child", NULL], envp).
    a.label("in_child")
        .op(ldr_x(0, 31, 8))
        .op(sub_imm(31, 31, 32))
        .op(str_x(0, 31, 0))
        .fix(ADR | 1, "child_arg", Fix::Adr)
        .op(str_x(1, 31, 8))
        .op(0xf900_0bff) // str xzr, [sp, #16]
        .op(add_imm(1, 31, 0))
        .op(movz(2, 0))
        .op(movz(8, 221))
        .op(SVC)
        .op(movz(0, 99));
    exit_with(&mut a, None);
    a.data("child_msg", b"child\n")
        .data("parent_msg", b"parent\n")
        .data("child_arg", b"child\0");
    a.elf()
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("aarch64-chain", name)
}

fn run_program(dir: &Path, program: &Path, args: &[&str]) -> (i32, Vec<u8>, Vec<u8>) {
    let mut argv =
        vec![format!("./{}", program.file_name().unwrap().to_str().unwrap()).into_bytes()];
    argv.extend(args.iter().map(|a| a.as_bytes().to_vec()));
    common::run_in(
        dir,
        program,
        argv,
        vec![b"PATH=/none".to_vec()],
        b"",
        1_000_000,
    )
}

#[test]
fn hello_writes_and_exits() {
    let d = scratch("hello");
    let p = install(&d, "hello", &hello());
    let (status, out, err) = run_program(&d, &p, &[]);
    assert_eq!(
        (status, out.as_slice()),
        (0, &b"hello, world!\n"[..]),
        "{}",
        String::from_utf8_lossy(&err)
    );
}

#[test]
fn cat_copies_a_file_in_chunks() {
    let d = scratch("cat");
    let p = install(&d, "cat", &cat());
    let text: Vec<u8> = (0..200u32).map(|i| b'a' + (i % 26) as u8).collect();
    std::fs::write(d.join("in.txt"), &text).unwrap();
    let (status, out, err) = run_program(&d, &p, &["in.txt"]);
    assert_eq!(status, 0, "{}", String::from_utf8_lossy(&err));
    assert_eq!(out, text);
    let (status, out, _) = run_program(&d, &p, &["missing.txt"]);
    assert_eq!((status, out.len()), (2, 0));
}

#[test]
fn spawner_forks_execs_and_waits_like_kaem() {
    let d = scratch("spawn");
    let p = install(&d, "spawner", &spawner());
    let (status, out, err) = run_program(&d, &p, &[]);
    assert_eq!(
        (status, String::from_utf8_lossy(&out).into_owned()),
        (42, "child\nparent\n".to_string()),
        "{}",
        String::from_utf8_lossy(&err)
    );
}
