//! Property tests of [`super::loops`]: a cached run with fast-forwarded loops equals the
//! plain fetch-decode-execute path (`set_cached(false)`: registers, pc, flags, memory,
//! instruction counts, how each run ended) on M2-Planet-shaped counted loops, with random
//! bounds, steps, `SKIP_INST` conditions, exit layouts, store sizes and buffers placed
//! where the stores fault, overwrite the loop's own counter or its code.

use proptest::prelude::*;

use super::Aarch64;
use crate::linux::cpu::{Cpu, Exit};
use crate::linux::loops::testing::{
    same_memory, Tally, BUFFERS, CODE, DATA, FRAME, STACK_TOP, STARTS_AND_BOUNDS, STEPS,
};
use crate::linux::memory::Memory;

// x13 is M2-Planet's locals pointer, at FRAME; the counter is the local at x13 - 8.
/// x18, M2-Planet's stack pointer (pushes and pops of 8 bytes).
const PUSHES: u64 = FRAME - 64;

/// The `SKIP_INST_cc` conditions M2-Planet emits: EQ NE LT LE GT GE LO LS HS HI.
const CONDS: [u32; 10] = [0, 1, 11, 13, 12, 10, 3, 9, 2, 8];

/// One generated loop.
#[derive(Clone, Debug)]
struct Case {
    /// The counter's first value (at x13 - 8) and the bound it is compared with.
    start: i64,
    bound: i32,
    /// Added to the counter each iteration.
    step: i32,
    /// Index into [`CONDS`].
    cond: u8,
    /// `cmp counter, bound` (M2's `i < n`) rather than `cmp bound, counter` (`0 <= i`).
    counter_first: bool,
    /// Set 0 then skip setting 1 (the negated selection) instead of M2's 1 then 0.
    flip: bool,
    /// Exit by `cbz x0, END` instead of `cbnz x0, +20` over the far jump to the end.
    direct: bool,
    /// M2-Planet's `for` layout: the test, a far jump to the body, the step (jumping back
    /// to the test), then the body (jumping back to the step).
    for_loop: bool,
    /// The value stored at buffer + counter.
    value: u16,
    /// Store the doubleword instead of a byte.
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
            -20i64..600,
            -20i32..600,
            prop_oneof![Just(1i32), Just(-1), Just(2), Just(-3), Just(0)],
        ),
        (
            0u8..10,
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<u16>(),
            any::<bool>(),
            any::<bool>(),
        ),
        buffer,
        proptest::collection::vec(1u64..4000, 1..6),
    )
        .prop_map(
            |(
                (start, bound, step),
                (cond, counter_first, flip, direct, value, word, for_loop),
                buffer,
                chunks,
            )| Case {
                start,
                bound,
                step,
                cond,
                counter_first,
                flip,
                direct,
                for_loop,
                value,
                word,
                buffer,
                chunks,
            },
        )
}

/// A small assembler for the A64 words M2-Planet emits (its `aarch64_defs.M1` macros).
struct Asm {
    words: Vec<u32>,
}

impl Asm {
    fn at(&self) -> u64 {
        CODE + 4 * self.words.len() as u64
    }
    fn w(&mut self, word: u32) {
        self.words.push(word);
    }
    /// `ldr wN, [pc, #8]` (or `ldrsw xN` if `signed`), `b +8`, `.word value`.
    fn literal(&mut self, rt: u32, signed: bool, value: u32) {
        self.w(if signed { 0x9800_0040 } else { 0x1800_0040 } | rt);
        self.w(0x1400_0002);
        self.w(value);
    }
    /// `mov xd, xm` (orr xd, xzr, xm).
    fn mov(&mut self, rd: u32, rm: u32) {
        self.w(0xaa00_03e0 | rm << 16 | rd);
    }
    /// x0 = k by movz or movn.
    fn set_x0(&mut self, k: i32) {
        if k >= 0 {
            self.w(0xd280_0000 | (k as u32 & 0xffff) << 5);
        } else {
            self.w(0x9280_0000 | ((!k) as u32 & 0xffff) << 5);
        }
    }
    fn push_x0(&mut self) {
        self.w(0xf81f_8e40); // str x0, [x18, #-8]!
    }
    fn pop_x1(&mut self) {
        self.w(0xf840_8641); // ldr x1, [x18], #8
    }
    fn deref_x0(&mut self) {
        self.w(0xf940_0000); // ldr x0, [x0]
    }
    /// x0 = the counter's address: SET_X0_FROM_X13, LOAD_W14_AHEAD %8, SUB_X0_X0_X14.
    fn counter_addr(&mut self) {
        self.mov(0, 13);
        self.literal(14, false, 8);
        self.w(0xcb0e_0000);
    }
    fn counter(&mut self) {
        self.counter_addr();
        self.deref_x0();
    }
    /// `b .+off` for a word to be patched later.
    fn hole(&mut self) -> usize {
        self.words.push(0);
        self.words.len() - 1
    }
    /// LOAD_W16_AHEAD, SKIP_32_DATA, &target, BR_X16.
    fn far_jump(&mut self, target: u64) {
        self.literal(16, false, target as u32);
        self.w(0xd61f_0200);
    }
}

/// The loop's code as words: M2-Planet's `while` (or `for`) with a compare,
/// `SKIP_INST_cc`, the exit, `buffer[counter] = value` and `counter = counter + step`.
fn assemble(c: &Case) -> Vec<u32> {
    let mut a = Asm { words: Vec::new() };
    let head = a.at();
    if c.counter_first {
        a.counter();
        a.push_x0();
        a.literal(0, true, c.bound as u32);
    } else {
        a.literal(0, true, c.bound as u32);
        a.push_x0();
        a.counter();
    }
    a.pop_x1();
    a.w(0xeb00_003f); // cmp x1, x0
    let (first, second) = if c.flip { (0, 1) } else { (1, 0) };
    a.set_x0(first);
    a.w(0x5400_0040 | CONDS[usize::from(c.cond)]);
    a.set_x0(second);
    let exit = a.hole();
    let end_literal = if c.direct {
        None
    } else {
        a.far_jump(0);
        Some(a.words.len() - 2)
    };
    if c.for_loop {
        a.far_jump(0);
        let then = a.words.len() - 2;
        let step = a.at();
        counter_step(&mut a, c);
        a.far_jump(head);
        a.words[then] = a.at() as u32;
        body(&mut a, c);
        a.far_jump(step);
    } else {
        body(&mut a, c);
        counter_step(&mut a, c);
        a.far_jump(head);
    }
    let end = a.at();
    a.words[exit] = match end_literal {
        None => 0xb400_0000 | (((end - (CODE + 4 * exit as u64)) / 4) as u32 & 0x7ffff) << 5,
        Some(at) => {
            a.words[at] = end as u32;
            0xb500_00a0 // cbnz x0, +20
        }
    };
    a.w(0x1400_0000); // b .: spin
    a.words
}

/// `buffer[counter] = value`.
fn body(a: &mut Asm, c: &Case) {
    a.literal(0, true, DATA as u32);
    a.deref_x0();
    a.push_x0();
    a.counter();
    a.pop_x1();
    a.w(0x8b00_0020); // add x0, x1, x0
    a.push_x0();
    a.set_x0(i32::from(c.value));
    a.pop_x1();
    a.w(if c.word { 0xf900_0020 } else { 0x3900_0020 });
}

/// `counter = counter + step`.
fn counter_step(a: &mut Asm, c: &Case) {
    a.counter_addr();
    a.push_x0();
    a.counter();
    a.push_x0();
    a.set_x0(c.step);
    a.pop_x1();
    a.w(0x8b00_0020); // add x0, x1, x0
    a.pop_x1();
    a.w(0xf900_0020); // str x0, [x1]
}

fn memory(words: &[u32], c: &Case) -> Memory {
    let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    crate::linux::loops::testing::memory(&code, c.start, c.buffer, 8)
}

fn machine(cached: bool) -> Aarch64 {
    let mut cpu = <Aarch64 as Cpu>::new(CODE, STACK_TOP - 16);
    cpu.set_cached(cached);
    cpu.set_x(13, FRAME);
    cpu.set_x(18, PUSHES);
    cpu
}

/// Runs `c` cached and plain in the same chunks; returns the instructions the cached
/// run fast-forwarded.
fn same(c: &Case) -> Result<u64, TestCaseError> {
    let words = assemble(c);
    let mut m1 = memory(&words, c);
    let mut m2 = memory(&words, c);
    let mut a = machine(true);
    let mut b = machine(false);
    for &chunk in &c.chunks {
        let ra = a.run(&mut m1, chunk);
        let rb = b.run(&mut m2, chunk);
        prop_assert_eq!(&ra, &rb);
        if ra.1 != Exit::Budget {
            break;
        }
    }
    prop_assert_eq!(b.fast_forwarded(), 0);
    for n in 0..=31 {
        prop_assert_eq!(a.x(n), b.x(n), "x{}", n);
    }
    prop_assert_eq!(a.pc(), b.pc());
    prop_assert_eq!(a.nzcv(), b.nzcv());
    same_memory(&m1, &m2)?;
    Ok(a.fast_forwarded())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Fast-forwarded loops end in exactly the state the plain path reaches.
    #[test]
    fn fast_forward_equals_plain_steps(c in case()) {
        same(&c)?;
    }
}

/// M2-Planet's token-buffer loop of 4 KiB (`while(0 <= i)`: cmp, SKIP_INST_LE, cbnz
/// over the far jump) is skipped, not interpreted: a guard on the lever itself.
#[test]
fn a_clearing_loop_is_fast_forwarded() {
    let c = Case {
        start: 4096,
        bound: 0,
        step: -1,
        cond: 3,
        counter_first: false,
        flip: false,
        direct: false,
        for_loop: false,
        value: 0x5B,
        word: false,
        buffer: DATA + 0x100,
        chunks: vec![1 << 20],
    };
    let words = assemble(&c);
    let mut mem = memory(&words, &c);
    let mut cpu = machine(true);
    assert_eq!(cpu.run(&mut mem, 1 << 20).1, Exit::Budget);
    let skipped = cpu.fast_forwarded();
    assert!(
        skipped > 4000 * 30,
        "only {skipped} instructions fast-forwarded"
    );
    assert_eq!(mem.read_u8(DATA + 0x100).unwrap(), 0x5B);
    assert_eq!(mem.read_u8(DATA + 0x100 + 4096).unwrap(), 0x5B);
    assert_eq!(mem.read_u8(DATA + 0x100 + 4097).unwrap(), 0);
    assert_eq!(same(&c).unwrap(), skipped);
}

/// Every condition, operand order, selection, exit and loop layout, step, store size and buffer
/// placement: equal to the plain path, and fast-forwarded in a good share of them.
#[test]
fn the_grid_of_loop_shapes_equals_plain_steps() {
    let mut tally = Tally::default();
    for cond in 0..10u8 {
        for step in STEPS {
            for (start, bound) in STARTS_AND_BOUNDS {
                for shape in 0..32u8 {
                    for buffer in BUFFERS {
                        let c = Case {
                            start: i64::from(start),
                            bound,
                            step,
                            cond,
                            counter_first: shape & 1 != 0,
                            flip: shape & 8 != 0,
                            direct: shape & 4 != 0,
                            for_loop: shape & 16 != 0,
                            value: 0x5A,
                            word: shape & 2 != 0,
                            buffer,
                            chunks: vec![3000, 17, 5000],
                        };
                        tally.add(&c, same(&c));
                    }
                }
            }
        }
    }
    tally.check();
}

/// The proptest case that caught a miscount: a taken `SKIP_INST` skips its move, so that
/// iteration runs one instruction fewer than one that falls through.
#[test]
fn a_taken_skip_runs_one_instruction_fewer() {
    let c = Case {
        start: 0,
        bound: 81,
        step: 1,
        cond: 1,
        counter_first: false,
        flip: false,
        direct: false,
        for_loop: false,
        value: 0,
        word: false,
        buffer: 14336,
        chunks: vec![239],
    };
    same(&c).unwrap();
}
