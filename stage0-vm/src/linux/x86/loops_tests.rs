//! Property tests of [`super::loops`]: a run with fast-forwarded loops equals the plain
//! decode-and-execute path (registers, flags, memory, instruction count, how it ended) on
//! M2-Planet-shaped counted loops with random bounds, steps, conditions, store sizes and
//! buffers placed where the stores fault, overwrite the loop's own counter or its code.

use proptest::prelude::*;

use super::{Flow, X86};
use crate::linux::cpu::{fault_bytes, Cpu, CpuFault, Exit};
use crate::linux::loops::testing::{
    same_memory, Tally, BUFFERS, CODE, DATA, FRAME, STARTS_AND_BOUNDS, STEPS,
};
use crate::linux::memory::Memory;

/// The global holding the buffer pointer.
const GLOBAL: u64 = DATA;

/// One generated loop.
#[derive(Clone, Debug)]
struct Case {
    /// The counter's first value ([ebp-8]) and the bound it is compared with.
    start: i32,
    bound: i32,
    /// Subtracted from the counter each iteration.
    step: i32,
    /// The exit test's condition (setcc cc; ...; je end): the loop runs while cc holds.
    cc: u8,
    /// Compare directly with `jcc` instead of setcc/movzx/test/je.
    direct: bool,
    /// The byte (or word) stored at buffer + counter.
    value: u32,
    /// Store size 1, or the machine word.
    word: bool,
    /// The layout of the `for` loops: test, jump to the body, update after it.
    for_shape: bool,
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
        Just(CODE + 0x100),
        (0u64..0x1800).prop_map(|o| DATA + o),
    ];
    (
        (
            -20i32..600,
            -20i32..600,
            prop_oneof![Just(1i32), Just(-1), Just(2), Just(-3), Just(0)],
        ),
        (
            0u8..16,
            any::<bool>(),
            any::<u32>(),
            any::<bool>(),
            any::<bool>(),
        ),
        buffer,
        proptest::collection::vec(1u64..4000, 1..6),
    )
        .prop_map(
            |((start, bound, step), (cc, direct, value, word, for_shape), buffer, chunks)| Case {
                start,
                bound,
                step,
                cc,
                direct,
                value,
                word,
                for_shape,
                buffer,
                chunks,
            },
        )
}

/// A small assembler for the shapes M2-Planet emits.
struct Asm {
    code: Vec<u8>,
    long: bool,
}

impl Asm {
    fn at(&self) -> u64 {
        CODE + self.code.len() as u64
    }
    /// An instruction on the machine word (REX.W in 64-bit mode).
    fn w(&mut self, bytes: &[u8]) {
        if self.long {
            self.code.push(0x48);
        }
        self.code.extend_from_slice(bytes);
    }
    fn b(&mut self, bytes: &[u8]) {
        self.code.extend_from_slice(bytes);
    }
    /// mov eax, v (M2-Planet writes 0 as xor eax, eax).
    fn mov_eax(&mut self, v: u32) {
        if v == 0 {
            self.b(&[0x31, 0xC0]);
        } else {
            self.b(&[0xB8]);
            self.b(&v.to_le_bytes());
        }
    }
    /// lea eax, [ebp-8]
    fn lea_counter(&mut self) {
        self.w(&[0x8D, 0x45, 0xF8]);
    }
    /// A rel32 jump or jcc to be patched: returns the patch offset.
    fn jump(&mut self, opcode: &[u8]) -> usize {
        self.b(opcode);
        let at = self.code.len();
        self.b(&[0; 4]);
        at
    }
    fn patch(&mut self, at: usize, target: u64) {
        let next = CODE + at as u64 + 4;
        let rel = (target.wrapping_sub(next) as i64) as i32;
        self.code[at..at + 4].copy_from_slice(&rel.to_le_bytes());
    }
    fn jmp_to(&mut self, target: u64) {
        let at = self.jump(&[0xE9]);
        self.patch(at, target);
    }
}

/// The loop's code: returns the bytes.
fn assemble(c: &Case, long: bool) -> Vec<u8> {
    let mut a = Asm {
        code: Vec::new(),
        long,
    };
    let head = a.at();
    // Exit test: bound <cc> counter, i.e. mov eax, bound; push eax; lea; mov eax, [eax];
    // pop ebx; cmp ebx, eax.
    a.mov_eax(c.bound as u32);
    if long {
        a.w(&[0x63, 0xC0]); // movsxd rax, eax
    }
    a.b(&[0x50]);
    a.lea_counter();
    a.w(&[0x8B, 0x00]);
    a.b(&[0x5B]);
    a.w(&[0x39, 0xC3]);
    let exit = if c.direct {
        // Leave when cc does not hold.
        a.jump(&[0x0F, 0x80 | (c.cc ^ 1)])
    } else {
        a.b(&[0x0F, 0x90 | c.cc, 0xC0]);
        a.b(&[0x0F, 0xB6, 0xC0]);
        a.w(&[0x85, 0xC0]);
        a.jump(&[0x0F, 0x84])
    };
    let (body_jump, iter_at) = if c.for_shape {
        let to_body = a.jump(&[0xE9]);
        let iter = a.at();
        update(&mut a, c);
        a.jmp_to(head);
        (Some(to_body), Some(iter))
    } else {
        (None, None)
    };
    let body = a.at();
    if let Some(at) = body_jump {
        a.patch(at, body);
    }
    // buffer[counter] = value: mov eax, &GLOBAL; mov eax, [eax]; push eax; lea; mov eax,
    // [eax]; pop ebx; add eax, ebx; push eax; mov eax, value; pop ebx; mov [ebx], al/eax.
    a.mov_eax(GLOBAL as u32);
    a.w(&[0x8B, 0x00]);
    a.b(&[0x50]);
    a.lea_counter();
    a.w(&[0x8B, 0x00]);
    a.b(&[0x5B]);
    a.w(&[0x01, 0xD8]);
    a.b(&[0x50]);
    a.mov_eax(c.value);
    a.b(&[0x5B]);
    if c.word {
        a.w(&[0x89, 0x03]);
    } else {
        a.b(&[0x88, 0x03]);
    }
    match iter_at {
        Some(iter) => a.jmp_to(iter),
        None => {
            update(&mut a, c);
            a.jmp_to(head);
        }
    }
    let end = a.at();
    a.patch(exit, end);
    a.b(&[0xEB, 0xFE]); // jmp $
    a.code
}

/// counter = counter - step: lea; push eax; lea; mov eax, [eax]; push eax; mov eax, step;
/// pop ebx; sub ebx, eax; mov eax, ebx; pop ebx; mov [ebx], eax.
fn update(a: &mut Asm, c: &Case) {
    a.lea_counter();
    a.b(&[0x50]);
    a.lea_counter();
    a.w(&[0x8B, 0x00]);
    a.b(&[0x50]);
    a.mov_eax(c.step as u32);
    if a.long {
        a.w(&[0x63, 0xC0]);
    }
    a.b(&[0x5B]);
    a.w(&[0x29, 0xC3]);
    a.w(&[0x89, 0xD8]);
    a.b(&[0x5B]);
    a.w(&[0x89, 0x03]);
}

fn memory<const L: bool>(code: &[u8], c: &Case) -> Memory {
    let word = if L { 8 } else { 4 };
    crate::linux::loops::testing::memory(code, i64::from(c.start), c.buffer, word)
}

/// Runs `c` with fast-forward and one instruction at a time on the plain path; returns
/// the instructions fast-forwarded.
fn same<const L: bool>(c: &Case) -> Result<u64, TestCaseError> {
    let code = assemble(c, L);
    let mut m1 = memory::<L>(&code, c);
    let mut m2 = memory::<L>(&code, c);
    let mut a = X86::<L>::new(CODE, FRAME - 64);
    a.regs[5] = FRAME;
    let mut b = a.clone();
    let mut ran = 0u64;
    let mut ended_a = None;
    for &chunk in &c.chunks {
        let (n, exit) = a.run(&mut m1, chunk);
        ran += n;
        if exit != Exit::Budget {
            ended_a = Some(exit);
            break;
        }
        prop_assert_eq!(n, chunk);
    }
    let mut steps = 0u64;
    let mut ended_b = None;
    while steps < ran || (ended_a.is_some() && ended_b.is_none()) {
        let pc = b.rip;
        match b.step_uncached(&mut m2) {
            Ok(Flow::Next) => steps += 1,
            Ok(Flow::Syscall) => {
                steps += 1;
                ended_b = Some(Exit::Syscall);
            }
            Err(kind) => {
                ended_b = Some(Exit::Fault(CpuFault {
                    pc,
                    bytes: fault_bytes(&m2, pc),
                    kind,
                }))
            }
        }
        if ended_b.is_some() || steps > ran + 1 {
            break;
        }
    }
    prop_assert_eq!(ended_a, ended_b);
    prop_assert_eq!(ran, steps);
    prop_assert_eq!(a.regs, b.regs);
    prop_assert_eq!(a.rip, b.rip);
    prop_assert_eq!(a.eflags(), b.eflags());
    same_memory(&m1, &m2)?;
    Ok(a.fast_forwarded())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    /// Fast-forwarded loops end in exactly the state the plain path reaches.
    #[test]
    fn fast_forward_equals_plain_steps(c in case(), long: bool) {
        if long {
            same::<true>(&c)?;
        } else {
            same::<false>(&c)?;
        }
    }
}

/// The M2-Planet token-buffer loop of 4 KiB is skipped, not interpreted (a guard on the
/// lever itself; the state is the plain path's either way, as tested above).
#[test]
fn a_clearing_loop_is_fast_forwarded() {
    for long in [false, true] {
        let c = Case {
            start: 4096,
            bound: 0,
            step: 1,
            cc: 0xE, // LE: while 0 <= i
            direct: false,
            value: 0xAB,
            word: false,
            for_shape: long,
            buffer: DATA + 0x100,
            chunks: vec![1 << 20],
        };
        let (skipped, mem) = if long {
            ran::<true>(&c)
        } else {
            ran::<false>(&c)
        };
        assert!(
            skipped > 4000 * 30,
            "only {skipped} instructions fast-forwarded"
        );
        assert_eq!(mem.read_u8(DATA + 0x100).unwrap(), 0xAB);
        assert_eq!(mem.read_u8(DATA + 0x100 + 4096).unwrap(), 0xAB);
        assert_eq!(mem.read_u8(DATA + 0x100 + 4097).unwrap(), 0);
    }
}

fn ran<const L: bool>(c: &Case) -> (u64, Memory) {
    let code = assemble(c, L);
    let mut mem = memory::<L>(&code, c);
    let mut cpu = X86::<L>::new(CODE, FRAME - 64);
    cpu.regs[5] = FRAME;
    let (n, exit) = cpu.run(&mut mem, 1 << 20);
    assert_eq!((n, exit), (1 << 20, Exit::Budget));
    (cpu.fast_forwarded(), mem)
}

/// Every combination of condition, step, shape, store size and buffer placement, both
/// modes: equal to the plain path, and fast-forwarded in a good share of them (so that
/// the property above does test the lever).
#[test]
fn the_grid_of_loop_shapes_equals_plain_steps() {
    let mut tally = Tally::default();
    for long in [false, true] {
        for cc in 0..16u8 {
            for step in STEPS {
                for (start, bound) in STARTS_AND_BOUNDS {
                    for shape in 0..8u8 {
                        for buffer in BUFFERS {
                            let c = Case {
                                start,
                                bound,
                                step,
                                cc,
                                direct: shape & 1 != 0,
                                value: 0x5A,
                                word: shape & 2 != 0,
                                for_shape: shape & 4 != 0,
                                buffer,
                                chunks: vec![3000, 17, 5000],
                            };
                            let r = if long {
                                same::<true>(&c)
                            } else {
                                same::<false>(&c)
                            };
                            tally.add(&(long, &c), r);
                        }
                    }
                }
            }
        }
    }
    tally.check();
}
