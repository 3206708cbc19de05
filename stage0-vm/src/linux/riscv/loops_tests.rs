//! Property tests of [`super::loops`]: a run with fast-forwarded loops equals the plain
//! fetch-decode-execute path ([`super::Riscv::run_uncached`]: registers, pc, memory,
//! instruction counts, how each run ended) on M2-Planet-shaped counted loops, RV32 and
//! RV64, with random bounds, steps, compares, exit layouts, store sizes and buffers placed
//! where the stores fault, overwrite the loop's own counter or its code.

use proptest::prelude::*;

use super::Riscv;
use crate::linux::cpu::{Cpu, Exit};
use crate::linux::loops::testing::{
    same_memory, Tally, BUFFERS, CODE, DATA, FRAME, STARTS_AND_BOUNDS, STEPS,
};
use crate::linux::memory::Memory;

/// The global holding the buffer pointer.
const GLOBAL: u64 = DATA;

const SP: u32 = 2;
const T3: u32 = 28;
const A0: u32 = 10;
const A1: u32 = 11;

/// One generated loop.
#[derive(Clone, Debug)]
struct Case {
    /// The counter's first value (at t3-8) and the bound it is compared with.
    start: i32,
    bound: i32,
    /// Subtracted from the counter each iteration.
    step: i32,
    /// The compare: 0..6 a set-compare into a0 (see [`compare`]), 6..12 a branch on a1, a0.
    cmp: u8,
    /// Negate the set-compare (`xori a0, a0, 1`).
    negate: bool,
    /// Exit by `beqz a0, END` instead of `bnez a0, +8; jal x0, END`.
    direct: bool,
    /// The value stored at buffer + counter.
    value: i32,
    /// Store the machine word instead of a byte.
    word: bool,
    /// Where the buffer pointer points.
    buffer: u64,
    /// Run chunk sizes (budgets of successive `run` calls).
    chunks: Vec<u64>,
}

fn case() -> impl Strategy<Value = Case> {
    let buffer = prop_oneof![
        Just(DATA + 0x800),
        Just(DATA + 0x2000 - 40),
        Just(FRAME - 300),
        Just(CODE + 0x40),
        (0u64..0x1800).prop_map(|o| DATA + o),
    ];
    (
        (
            -20i32..600,
            -20i32..600,
            prop_oneof![Just(1i32), Just(-1), Just(2), Just(-3), Just(0)],
        ),
        (
            0u8..12,
            any::<bool>(),
            any::<bool>(),
            -2048i32..2048,
            any::<bool>(),
        ),
        buffer,
        proptest::collection::vec(1u64..4000, 1..6),
    )
        .prop_map(
            |((start, bound, step), (cmp, negate, direct, value, word), buffer, chunks)| Case {
                start,
                bound,
                step,
                cmp,
                negate,
                direct,
                value,
                word,
                buffer,
                chunks,
            },
        )
}

fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | 0x33
}

fn i(op: u32, imm: i32, rs1: u32, f3: u32, rd: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}

fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}

fn b(off: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let o = off as u32;
    (o >> 12 & 1) << 31
        | (o >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | (o >> 1 & 0xf) << 8
        | (o >> 11 & 1) << 7
        | 0x63
}

fn j(off: i32) -> u32 {
    let o = off as u32;
    (o >> 20 & 1) << 31
        | (o >> 1 & 0x3ff) << 21
        | (o >> 11 & 1) << 20
        | (o >> 12 & 0xff) << 12
        | 0x6f
}

/// A small assembler for the shapes M2-Planet emits for RISC-V.
struct Asm {
    words: Vec<u32>,
    rv64: bool,
}

impl Asm {
    fn at(&self) -> u64 {
        CODE + 4 * self.words.len() as u64
    }
    fn w(&mut self, word: u32) {
        self.words.push(word);
    }
    fn addi(&mut self, rd: u32, rs1: u32, imm: i32) {
        self.w(i(0x13, imm, rs1, 0, rd));
    }
    /// ld/lw rd, 0(rs1): the machine word.
    fn load(&mut self, rd: u32, rs1: u32) {
        self.w(i(0x03, 0, rs1, if self.rv64 { 3 } else { 2 }, rd));
    }
    /// sd/sw rs2, 0(rs1).
    fn store(&mut self, rs2: u32, rs1: u32) {
        self.w(s(0, rs2, rs1, if self.rv64 { 3 } else { 2 }));
    }
    fn push_a0(&mut self) {
        let word = if self.rv64 { 8 } else { 4 };
        self.addi(SP, SP, -word);
        self.store(A0, SP);
    }
    fn pop_a1(&mut self) {
        let word = if self.rv64 { 8 } else { 4 };
        self.load(A1, SP);
        self.addi(SP, SP, word);
    }
    /// a0 = the counter.
    fn counter(&mut self) {
        self.addi(A0, T3, -8);
        self.load(A0, A0);
    }
    /// A jump or branch at the current address to be patched later.
    fn hole(&mut self) -> usize {
        self.words.push(0);
        self.words.len() - 1
    }
    fn offset(&self, at: usize, target: u64) -> i32 {
        (target as i64 - (CODE + 4 * at as u64) as i64) as i32
    }
}

/// The compare of the exit test, a1 = bound and a0 = counter: 0..6 set a0 (slt a1,a0;
/// slt a0,a1; sltu a1,a0; sltu a0,a1; equal by sub+sltiu; unequal by sub+sltu x0), 6..12
/// branch on a1, a0 (beq bne blt bge bltu bgeu) over the jump to the end.
fn compare(a: &mut Asm, c: &Case) -> usize {
    if c.cmp >= 6 {
        let f3 = [0, 1, 4, 5, 6, 7][usize::from(c.cmp - 6)];
        a.w(b(8, A0, A1, f3));
        return a.hole();
    }
    match c.cmp {
        0 => a.w(r(0, A0, A1, 2, A0)),
        1 => a.w(r(0, A1, A0, 2, A0)),
        2 => a.w(r(0, A0, A1, 3, A0)),
        3 => a.w(r(0, A1, A0, 3, A0)),
        4 => {
            a.w(r(0x20, A0, A1, 0, A0));
            a.w(i(0x13, 1, A0, 3, A0));
        }
        _ => {
            a.w(r(0x20, A0, A1, 0, A0));
            a.w(r(0, A0, 0, 3, A0));
        }
    }
    if c.negate {
        a.w(i(0x13, 1, A0, 4, A0));
    }
    if c.direct {
        // beqz a0, END
        a.hole()
    } else {
        a.w(b(8, 0, A0, 1));
        a.hole()
    }
}

/// The loop's code as words, and the index of the exit hole (a branch if `direct`, else a
/// `jal`).
fn assemble(c: &Case, rv64: bool) -> Vec<u32> {
    let mut a = Asm {
        words: Vec::new(),
        rv64,
    };
    let head = a.at();
    a.addi(A0, 0, c.bound);
    a.push_a0();
    a.counter();
    a.pop_a1();
    let exit = compare(&mut a, c);
    let exit_is_branch = c.cmp < 6 && c.direct;
    // buffer[counter] = value.
    let global = (GLOBAL as i64 - a.at() as i64) as i32;
    let hi = (global + 0x800) & !0xfff;
    a.w((hi as u32) | A0 << 7 | 0x17); // auipc a0, hi
    a.addi(A0, A0, global - hi);
    a.load(A0, A0);
    a.push_a0();
    a.counter();
    a.pop_a1();
    a.w(r(0, A0, A1, 0, A0)); // add a0, a1, a0
    a.push_a0();
    a.addi(A0, 0, c.value);
    a.pop_a1();
    if c.word {
        a.store(A0, A1);
    } else {
        a.w(s(0, A0, A1, 0));
    }
    // counter = counter - step.
    a.addi(A0, T3, -8);
    a.push_a0();
    a.counter();
    a.push_a0();
    a.addi(A0, 0, c.step);
    a.pop_a1();
    a.w(r(0x20, A0, A1, 0, A0)); // sub a0, a1, a0
    a.pop_a1();
    a.store(A0, A1);
    let back = a.words.len();
    a.w(j(a.offset(back, head)));
    let end = a.at();
    a.words[exit] = if exit_is_branch {
        b(a.offset(exit, end), 0, A0, 0)
    } else {
        j(a.offset(exit, end))
    };
    a.w(j(0)); // jal x0, 0: spin
    a.words
}

fn memory(words: &[u32], c: &Case, rv64: bool) -> Memory {
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let word = if rv64 { 8 } else { 4 };
    crate::linux::loops::testing::memory(&code, i64::from(c.start), c.buffer, word)
}

fn machine<const RV64: bool>() -> Riscv<RV64> {
    let mut cpu = Riscv::<RV64>::new(CODE, FRAME - 64);
    cpu.set_reg(T3 as usize, FRAME);
    cpu
}

/// Runs `c` cached and plain in the same chunks; returns the instructions the cached
/// run fast-forwarded.
fn same<const RV64: bool>(c: &Case) -> Result<u64, TestCaseError> {
    let words = assemble(c, RV64);
    let mut m1 = memory(&words, c, RV64);
    let mut m2 = memory(&words, c, RV64);
    let mut a = machine::<RV64>();
    let mut b = machine::<RV64>();
    for &chunk in &c.chunks {
        let ra = a.run(&mut m1, chunk);
        let rb = b.run_uncached(&mut m2, chunk);
        prop_assert_eq!(&ra, &rb);
        if ra.1 != Exit::Budget {
            break;
        }
    }
    prop_assert_eq!(a.hart(), b.hart());
    same_memory(&m1, &m2)?;
    Ok(a.fast_forwarded())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Fast-forwarded loops end in exactly the state the plain path reaches.
    #[test]
    fn fast_forward_equals_plain_steps(c in case(), rv64: bool) {
        if rv64 {
            same::<true>(&c)?;
        } else {
            same::<false>(&c)?;
        }
    }
}

/// The M2-Planet token-buffer loop of 4 KiB (`while(0 <= i)`: slt, xori, bnez over a
/// jal) is skipped, not interpreted: a guard on the lever itself.
#[test]
fn a_clearing_loop_is_fast_forwarded() {
    for rv64 in [false, true] {
        let c = Case {
            start: 4096,
            bound: 0,
            step: 1,
            cmp: 1,
            negate: true,
            direct: false,
            value: 0x5B,
            word: false,
            buffer: DATA + 0x100,
            chunks: vec![1 << 20],
        };
        let words = assemble(&c, rv64);
        let mut mem = memory(&words, &c, rv64);
        let skipped = if rv64 {
            let mut cpu = machine::<true>();
            assert_eq!(cpu.run(&mut mem, 1 << 20).1, Exit::Budget);
            cpu.fast_forwarded()
        } else {
            let mut cpu = machine::<false>();
            assert_eq!(cpu.run(&mut mem, 1 << 20).1, Exit::Budget);
            cpu.fast_forwarded()
        };
        assert!(
            skipped > 4000 * 30,
            "only {skipped} instructions fast-forwarded"
        );
        assert_eq!(mem.read_u8(DATA + 0x100).unwrap(), 0x5B);
        assert_eq!(mem.read_u8(DATA + 0x100 + 4096).unwrap(), 0x5B);
        assert_eq!(mem.read_u8(DATA + 0x100 + 4097).unwrap(), 0);
    }
}

/// Every compare, negation, exit layout, step, store size and buffer placement, both
/// widths: equal to the plain path, and fast-forwarded in a good share of them.
#[test]
fn the_grid_of_loop_shapes_equals_plain_steps() {
    let mut tally = Tally::default();
    for rv64 in [false, true] {
        for cmp in 0..12u8 {
            for step in STEPS {
                for (start, bound) in STARTS_AND_BOUNDS {
                    for shape in 0..8u8 {
                        for buffer in BUFFERS {
                            let c = Case {
                                start,
                                bound,
                                step,
                                cmp,
                                negate: shape & 1 != 0,
                                direct: shape & 4 != 0,
                                value: 0x5A,
                                word: shape & 2 != 0,
                                buffer,
                                chunks: vec![3000, 17, 5000],
                            };
                            let r = if rv64 {
                                same::<true>(&c)
                            } else {
                                same::<false>(&c)
                            };
                            tally.add(&(rv64, &c), r);
                        }
                    }
                }
            }
        }
    }
    tally.check();
}
