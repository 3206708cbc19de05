//! Whole RV32 and RV64 programs through the Linux machine (`stage0_vm::linux::run`): a
//! tiny hex0 of our own (hex pairs to bytes, `#` and `;` comments), hand-assembled here
//! and wrapped in a static ELF, translates its standard input; then its own output, a
//! second program assembled as hex text, is written to a file, run, and must exit with
//! the status it computes in a loop (the shape of the chains: a seed builds the next tool).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

mod common;

use common::install;

// ---- a minimal assembler: the manual's formats plus labels for branches and jumps ----

const ZERO: u32 = 0;
const SP: u32 = 2;
const T0: u32 = 5;
const T1: u32 = 6;
const T2: u32 = 7;
const S0: u32 = 8;
const S1: u32 = 9;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A7: u32 = 17;

#[derive(Default)]
struct Asm {
    words: Vec<u32>,
    labels: HashMap<&'static str, usize>,
    /// (word index, label, is_jal, the word without its offset)
    fixups: Vec<(usize, &'static str, bool, u32)>,
}

impl Asm {
    fn i(&mut self, imm: i32, rs1: u32, f3: u32, rd: u32, opc: u32) -> &mut Self {
        self.words
            .push(((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc);
        self
    }
    fn addi(&mut self, rd: u32, rs1: u32, imm: i32) -> &mut Self {
        self.i(imm, rs1, 0, rd, 0x13)
    }
    fn li(&mut self, rd: u32, imm: i32) -> &mut Self {
        self.addi(rd, ZERO, imm)
    }
    fn r(&mut self, f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32) -> &mut Self {
        self.words
            .push(f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x33);
        self
    }
    fn lbu(&mut self, rd: u32, rs1: u32) -> &mut Self {
        self.i(0, rs1, 4, rd, 0x03)
    }
    fn sb(&mut self, rs2: u32, rs1: u32) -> &mut Self {
        self.words.push(rs2 << 20 | rs1 << 15 | 0x23);
        self
    }
    fn ecall(&mut self) -> &mut Self {
        self.words.push(0x73);
        self
    }
    fn label(&mut self, name: &'static str) -> &mut Self {
        self.labels.insert(name, self.words.len());
        self
    }
    fn branch(&mut self, f3: u32, rs1: u32, rs2: u32, to: &'static str) -> &mut Self {
        let w = rs2 << 20 | rs1 << 15 | f3 << 12 | 0x63;
        self.fixups.push((self.words.len(), to, false, w));
        self.words.push(0);
        self
    }
    fn jump(&mut self, to: &'static str) -> &mut Self {
        self.fixups.push((self.words.len(), to, true, 0x6f));
        self.words.push(0);
        self
    }
    fn finish(&mut self) -> Vec<u8> {
        for &(at, to, jal, w) in &self.fixups {
            let o = ((self.labels[to] as i64 - at as i64) * 4) as u32;
            self.words[at] = if jal {
                w | ((o >> 20) & 1) << 31
                    | ((o >> 1) & 0x3ff) << 21
                    | ((o >> 11) & 1) << 20
                    | ((o >> 12) & 0xff) << 12
            } else {
                w | ((o >> 12) & 1) << 31
                    | ((o >> 5) & 0x3f) << 25
                    | ((o >> 1) & 0xf) << 8
                    | ((o >> 11) & 1) << 7
            };
        }
        self.words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

const BEQ: u32 = 0;
const BNE: u32 = 1;
const BGE: u32 = 5;
const BLTU: u32 = 6;

/// read(0, sp, 1); a0 <= 0 goes to `done`; the byte in t0.
fn read_byte(a: &mut Asm, done: &'static str) {
    a.li(A0, 0).addi(A1, SP, 0).li(A2, 1).li(A7, 63).ecall();
    a.branch(BGE, ZERO, A0, done).lbu(T0, SP);
}

/// The tiny hex0: hex pairs to bytes on stdout, `#`/`;` to end of line ignored.
fn hex0() -> Vec<u8> {
    let mut a = Asm::default();
    a.addi(SP, SP, -16).li(S0, 0).li(S1, 0);
    a.label("loop");
    read_byte(&mut a, "done");
    a.li(T1, b'#' as i32).branch(BEQ, T0, T1, "comment");
    a.li(T1, b';' as i32).branch(BEQ, T0, T1, "comment");
    a.addi(T2, T0, -(b'0' as i32))
        .li(T1, 10)
        .branch(BLTU, T2, T1, "digit");
    a.addi(T2, T0, -(b'a' as i32))
        .li(T1, 6)
        .branch(BLTU, T2, T1, "letter");
    a.addi(T2, T0, -(b'A' as i32))
        .branch(BLTU, T2, T1, "letter");
    a.jump("loop");
    a.label("letter").addi(T2, T2, 10);
    a.label("digit").branch(BNE, S0, ZERO, "second");
    a.addi(S1, T2, 0).li(S0, 1).jump("loop");
    a.label("second");
    a.i(4, S1, 1, S1, 0x13); // slli s1, s1, 4
    a.r(0, T2, S1, 6, S1); // or s1, s1, t2
    a.sb(S1, SP);
    a.li(A0, 1).addi(A1, SP, 0).li(A2, 1).li(A7, 64).ecall();
    a.li(S0, 0).jump("loop");
    a.label("comment");
    read_byte(&mut a, "done");
    a.li(T1, b'\n' as i32).branch(BNE, T0, T1, "comment");
    a.jump("loop");
    a.label("done").li(A0, 0).li(A7, 93).ecall();
    a.finish()
}

/// exit(1 + 2 + ... + 9 = 45) computed in a loop with mul-free adds, and a divide by a
/// register that holds zero on the way (the manual's all-ones quotient, no fault).
fn looping_exit() -> Vec<u8> {
    let mut a = Asm::default();
    a.li(T0, 9).li(A0, 0);
    a.label("top");
    a.r(0, T0, A0, 0, A0); // add a0, a0, t0
    a.addi(T0, T0, -1).branch(BNE, T0, ZERO, "top");
    a.r(1, ZERO, A0, 4, T1); // div t1, a0, zero
    a.addi(T1, T1, 1); // all ones + 1 = 0
    a.r(0, T1, A0, 0, A0); // a0 += 0
    a.li(A7, 93).ecall();
    a.finish()
}

/// A static ELF with one read-write-execute segment holding `code`, loaded at 0x10000.
fn elf(code: &[u8], rv64: bool) -> Vec<u8> {
    let base: u64 = 0x10000;
    let (eh, ph) = if rv64 { (64u64, 56u64) } else { (52, 32) };
    let entry = base + eh + ph;
    let size = eh + ph + code.len() as u64;
    let mut f = vec![0x7f, b'E', b'L', b'F', if rv64 { 2 } else { 1 }, 1, 1, 0];
    f.resize(16, 0);
    let word = |f: &mut Vec<u8>, v: u64| {
        if rv64 {
            f.extend_from_slice(&v.to_le_bytes())
        } else {
            f.extend_from_slice(&(v as u32).to_le_bytes())
        }
    };
    f.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f.extend_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f.extend_from_slice(&1u32.to_le_bytes());
    word(&mut f, entry);
    word(&mut f, eh); // e_phoff
    word(&mut f, 0); // e_shoff
    f.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    for v in [eh, ph, 1, 0, 0, 0] {
        f.extend_from_slice(&(v as u16).to_le_bytes());
    }
    f.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    if rv64 {
        f.extend_from_slice(&7u32.to_le_bytes()); // RWX
    }
    for v in [0, base, base, size, size] {
        word(&mut f, v);
    }
    if !rv64 {
        f.extend_from_slice(&7u32.to_le_bytes());
    }
    word(&mut f, 0x1000);
    assert_eq!(f.len() as u64, eh + ph);
    f.extend_from_slice(code);
    f
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("riscv", name)
}

/// Runs `program` in `dir` with `stdin`; its exit status and stdout.
fn run_program(dir: &Path, program: &Path, stdin: &[u8]) -> (i32, Vec<u8>) {
    let (status, out, err) = common::run_in(
        dir,
        program,
        vec![b"prog".to_vec()],
        Vec::new(),
        stdin,
        10_000_000,
    );
    assert!(err.is_empty(), "{}", String::from_utf8_lossy(&err));
    (status, out)
}

/// The bytes as hex0 source: two hex digits per byte, with comments in between.
fn as_hex0(bytes: &[u8]) -> Vec<u8> {
    let mut s = b"# written by the test\n".to_vec();
    for (k, b) in bytes.iter().enumerate() {
        s.extend_from_slice(format!("{b:02X}").as_bytes());
        s.push(if k % 16 == 15 { b'\n' } else { b' ' });
        if k % 64 == 63 {
            s.extend_from_slice(b"; a line comment\n");
        }
    }
    s
}

fn chain(rv64: bool) {
    let dir = scratch(if rv64 { "rv64" } else { "rv32" });
    let hex0 = install(&dir, "hex0", &elf(&hex0(), rv64));
    let (status, out) = run_program(&dir, &hex0, b"48 65 6c6C 6f # not 00 this\n0A ; nor ff\n");
    assert_eq!((status, out), (0, b"Hello\n".to_vec()));
    let target = elf(&looping_exit(), rv64);
    let (status, built) = run_program(&dir, &hex0, &as_hex0(&target));
    assert_eq!(status, 0);
    assert_eq!(built, target, "hex0 reproduces the program byte for byte");
    let built = install(&dir, "built", &built);
    let (status, out) = run_program(&dir, &built, b"");
    assert_eq!((status, out), (45, Vec::new()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rv64_hex0_builds_and_runs_a_program() {
    chain(true);
}

#[test]
fn rv32_hex0_builds_and_runs_a_program() {
    chain(false);
}

/// clone (fork) a child that exits 5, waitid(P_PID) for it, check si_code CLD_EXITED and
/// si_pid at the kernel's offsets for the width (the union of siginfo_t is at 12 on RV32
/// and 16 on RV64, as M2libc's waitpid reads it), and exit with si_status.
fn fork_and_waitid(rv64: bool) -> Vec<u8> {
    let (pid_at, status_at) = if rv64 { (16, 24) } else { (12, 20) };
    let lw = |a: &mut Asm, rd: u32, off: i32| {
        a.i(off, SP, 2, rd, 0x03);
    };
    let mut a = Asm::default();
    a.li(A0, 17)
        .li(A1, 0)
        .li(A2, 0)
        .li(13, 0)
        .li(14, 0)
        .li(A7, 220)
        .ecall();
    a.branch(BNE, A0, ZERO, "parent");
    a.li(A0, 5).li(A7, 93).ecall();
    a.label("parent").addi(S0, A0, 0).addi(SP, SP, -128);
    a.li(A0, 1)
        .addi(A1, S0, 0)
        .addi(A2, SP, 0)
        .li(13, 4)
        .li(14, 0)
        .li(A7, 95)
        .ecall();
    lw(&mut a, T0, pid_at);
    a.branch(BNE, T0, S0, "bad");
    lw(&mut a, T1, 8);
    a.li(T2, 1).branch(BNE, T1, T2, "bad");
    lw(&mut a, A0, status_at);
    a.li(A7, 93).ecall();
    a.label("bad").li(A0, 99).li(A7, 93).ecall();
    a.finish()
}

#[test]
fn waitid_fills_siginfo_at_the_kernel_offsets_for_the_width() {
    for rv64 in [true, false] {
        let dir = scratch(if rv64 { "waitid64" } else { "waitid32" });
        let prog = install(&dir, "fork", &elf(&fork_and_waitid(rv64), rv64));
        let (status, _) = run_program(&dir, &prog, b"");
        assert_eq!(status, 5, "rv64 {rv64}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
