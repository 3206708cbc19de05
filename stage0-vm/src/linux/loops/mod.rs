//! Loop fast-forward, for every instruction set: whole iterations of a simple counted
//! loop done at once.
//!
//! The chains' compilers spend most of their guest instructions in a few tiny loops:
//! M2-Planet clears its 4 KiB token buffer a byte at a time before every token, and
//! M2libc's `calloc` zeroes with a byte loop (88% of the 12.4 G instructions of M2
//! building M2-Planet). This module owns the one lever that removes them without
//! knowing any program: at a backward jump to a loop head it reads the loop's single
//! path (straight-line code and unconditional jumps from the head back to it, with one
//! conditional exit), executes one iteration symbolically over values that are affine
//! in the iteration number `j` ([`symbolic::Lin`]), and proves from that iteration that
//!
//! - every location read before it is written (register, or memory at an address that
//!   does not change between iterations) is either never written (invariant) or only
//!   stepped by a constant (an induction: `x = x + delta`),
//! - the flags are never read before the path writes them,
//! - at most one store has an address that moves between iterations (the strided store,
//!   of a value that is affine in `j`), and no other access, code byte or later read
//!   overlaps the range it covers,
//! - the exit condition is a comparison of affine values.
//!
//! Then iteration `j`'s effects are a function of `j` alone, and [`fast_forward`]
//! applies the first `m` of them: the strided stores of iterations `0..m`, each
//! induction at its value after `m` iterations, `m` times the path's length added to the
//! instruction count. `m` stops one full iteration before the first iteration that
//! exits (found by evaluating the exit condition, [`exit::Outcome`]),
//! and within the instruction budget, so the interpreter then runs the last iteration
//! and the exit itself: every temporary (a register, the flags or a stack slot written
//! before it is read) ends as it would have, and the guest state, memory and instruction
//! count equal a plain run's exactly (property test `fast_forward_equals_plain_steps`).
//! Anything the analysis does not cover (calls, other instructions, a second strided
//! store, a loaded value flowing into an address) leaves the loop to the interpreter.
//!
//! This module owns what is the same on every processor: the loop heads seen, the plan
//! and its proof, and applying it. An instruction set implements [`LoopCpu`]: how its
//! loop path is read from memory and what each of its instructions does symbolically
//! (x86: `x86::loops`; RISC-V: `riscv::loops`).

use std::collections::HashMap;
use std::rc::Rc;

pub(crate) mod exit;
pub(crate) mod symbolic;
#[cfg(test)]
pub(crate) mod testing;

use crate::linux::memory::Memory;
use exit::Exit;
use symbolic::{mask, Inductions, Input, Loc, Strided, Sym};
pub(crate) use symbolic::{Executor, Fail};

/// The longest path (instructions per iteration) analysed.
pub(crate) const MAX_PATH: usize = 128;
/// Iterations skipped at most per fast-forward (the exit scan's bound).
const MAX_SKIP: u64 = 1 << 20;
/// Fewer iterations than this are left to the interpreter.
const MIN_SKIP: u64 = 3;
/// A loop head whose analysis failed this many times in a row is not analysed again.
const MAX_MISSES: u32 = 8;
/// Inputs of a linear value at most.
pub(crate) const MAX_TERMS: usize = 3;

/// What an instruction set provides for its loops to be fast-forwarded: its registers,
/// its stores (so that decoded copies of code stay true) and its instructions' symbolic
/// semantics.
pub(crate) trait LoopCpu: Sized {
    /// A decoded instruction of the loop path.
    type Insn;
    /// The width of a register in bytes.
    const REG_BYTES: u8;
    /// Register `n`'s value now (zero-extended from its width).
    fn reg(&self, n: u8) -> u64;
    /// Sets register `n` (an induction) to `value`, `bytes` wide.
    fn set_reg(&mut self, n: u8, bytes: u8, value: u64);
    /// Stores `size` bytes of `value` at `addr` as the guest's store instruction would
    /// (little-endian, decoded code that it overwrites dropped).
    fn store(&mut self, mem: &mut Memory, addr: u64, size: u8, value: u64) -> Result<(), ()>;
    /// Whether `len` bytes at `addr` may hold decoded code that a store must not reach
    /// (an instruction set that drops overwritten code on every store says `false`).
    fn in_code(&self, addr: u64, len: u64) -> bool;
    /// `len` bytes at `addr` were written directly (a byte fill): drop decoded code there.
    fn wrote(&mut self, addr: u64, len: u64);
    /// Executes instruction `insn` of the path, at `pc`, symbolically.
    fn step(ex: &mut Executor<'_, Self>, pc: u64, insn: &Self::Insn) -> Result<(), Fail>;
    /// Reads the path of the loop whose head is `head` from `mem`, if it has a shape the
    /// instruction set handles.
    fn path(mem: &Memory, head: u64) -> Option<Path<Self::Insn>>;
}

/// The loop heads seen, with what is known of them.
pub(crate) struct Loops<I> {
    heads: HashMap<u64, Head<I>>,
    /// Instructions fast-forwarded so far (they are in the instruction count too).
    pub(crate) skipped: u64,
}

/// A copy (a forked processor) starts knowing no loops, as its decoded code starts empty.
impl<I> Clone for Loops<I> {
    fn clone(&self) -> Self {
        Loops::default()
    }
}

impl<I> Default for Loops<I> {
    fn default() -> Self {
        Loops {
            heads: HashMap::new(),
            skipped: 0,
        }
    }
}

enum Head<I> {
    /// A loop path that may be fast-forwarded, with the analyses that failed in a row and
    /// the inductions the last successful one found (the next one tries them first).
    Path(Rc<Path<I>>, u32, Inductions),
    /// Not a loop this module handles.
    Never,
}

/// One iteration's instructions, from the loop head.
pub(crate) struct Path<I> {
    pub(crate) insns: Vec<(u64, I)>,
    /// The addresses the path was decoded from: `code.0..code.1`.
    pub(crate) code: (u64, u64),
    /// Whether taking the conditional exit leaves the loop (else not taking it does).
    pub(crate) exit_when_taken: bool,
    /// The bytes at `code` when the path was read: a path is used only while they are
    /// unchanged.
    bytes: Vec<u8>,
}

impl<I> Path<I> {
    /// The path of `insns` (each with its address; `len` gives an instruction's length),
    /// as they are in `mem` now.
    pub(crate) fn new(
        mem: &Memory,
        insns: Vec<(u64, I)>,
        exit_when_taken: bool,
        len: impl Fn(&I) -> u64,
    ) -> Option<Path<I>> {
        let lo = insns.iter().map(|i| i.0).min()?;
        let hi = insns.iter().map(|i| i.0 + len(&i.1)).max()?;
        let bytes = mem.slice(lo, hi - lo).ok()?.to_vec();
        Some(Path {
            insns,
            code: (lo, hi),
            exit_when_taken,
            bytes,
        })
    }

    /// Whether the code the path was read from is still in memory.
    fn current(&self, mem: &Memory) -> bool {
        mem.slice(self.code.0, self.code.1 - self.code.0)
            .is_ok_and(|b| b == self.bytes)
    }
}

/// A proven fast-forward: what iterations `0..m` do.
struct Plan {
    strided: Option<Strided>,
    inductions: Vec<Input>,
    accesses: Vec<(u64, u8)>,
    exit: Exit,
}

/// Finds and proves the fast-forward of `path` from the current state, in two passes:
/// the first takes every address as fixed and finds the inductions; [`prove`] assumes
/// them. Returns the plan and the inductions.
fn plan<M: LoopCpu>(
    cpu: &M,
    mem: &Memory,
    path: &Path<M::Insn>,
) -> Result<(Plan, Inductions), Fail> {
    let mut first = Executor::new(cpu, mem, &[]);
    first.steps(path)?;
    let (_, assumed) = first.finish()?;
    let assumed: Inductions = Rc::from(assumed);
    Ok((prove(cpu, mem, path, &assumed)?, assumed))
}

/// The plan of `path` if `assumed` are its inductions: with them, addresses built from
/// an induction move; the iteration must then find exactly these inductions.
fn prove<M: LoopCpu>(
    cpu: &M,
    mem: &Memory,
    path: &Path<M::Insn>,
    assumed: &[(Loc, u64)],
) -> Result<Plan, Fail> {
    if assumed.is_empty() {
        return Err(());
    }
    let mut second = Executor::new(cpu, mem, assumed);
    second.steps(path)?;
    let exit = Exit::new(&second, path)?;
    let strided = match second.it.strided {
        None => None,
        Some((a, size, Sym::Lin(v))) => Some(Strided {
            addr: second.aff(&a),
            size,
            value: second.aff(&v),
        }),
        Some(_) => return Err(()),
    };
    let (it, found) = second.finish()?;
    if found != assumed {
        return Err(());
    }
    Ok(Plan {
        strided,
        inductions: it.inputs.iter().filter(|i| i.delta != 0).copied().collect(),
        accesses: it.accesses,
        exit,
    })
}

/// At a backward jump to `head` (the guest is at the start of an iteration), applies as
/// many whole iterations as are proven safe and fit in `room` instructions; returns the
/// instructions they count. The loop's path is read ([`LoopCpu::path`]) the first time,
/// and again whenever its code bytes changed.
#[cold]
pub(crate) fn fast_forward<M: LoopCpu>(
    cpu: &mut M,
    mem: &mut Memory,
    loops: &mut Loops<M::Insn>,
    head: u64,
    room: u64,
) -> u64 {
    if matches!(loops.heads.get(&head), Some(Head::Path(p, ..)) if !p.current(mem)) {
        // The loop's code changed since its path was read.
        loops.heads.remove(&head);
    }
    let path = match loops.heads.entry(head).or_insert_with(|| {
        M::path(mem, head).map_or(Head::Never, |p| {
            Head::Path(Rc::new(p), 0, Rc::from(Vec::new()))
        })
    }) {
        Head::Path(p, _, last) => (Rc::clone(p), Rc::clone(last)),
        Head::Never => return 0,
    };
    let (done, found) = try_fast_forward(cpu, mem, &path.0, &path.1, room);
    loops.skipped += done;
    if let Some(Head::Path(_, misses, last)) = loops.heads.get_mut(&head) {
        *misses = if done == 0 { *misses + 1 } else { 0 };
        if let Some(found) = found {
            *last = found;
        }
        if *misses >= MAX_MISSES {
            loops.heads.insert(head, Head::Never);
        }
    }
    done
}

/// The instructions skipped, and the inductions if they were not the `last` ones.
fn try_fast_forward<M: LoopCpu>(
    cpu: &mut M,
    mem: &mut Memory,
    path: &Path<M::Insn>,
    last: &Inductions,
    room: u64,
) -> (u64, Option<Inductions>) {
    let len = path.insns.len() as u64;
    // Iterations that fit in the budget, the interpreted one after the skip included.
    let fit = MAX_SKIP.min(room / len);
    if fit <= MIN_SKIP {
        return (0, None);
    }
    let (plan, found) = match prove(cpu, mem, path, last) {
        Ok(p) => (p, None),
        Err(()) => match plan(cpu, mem, path) {
            Ok((p, found)) => (p, Some(found)),
            Err(()) => return (0, None),
        },
    };
    // Skip iterations 0..m and leave iteration m, which neither exits nor runs out of
    // budget, to the interpreter: it rewrites every temporary, so the guest is never
    // seen between a skipped iteration and the next (the exit, a fault, the budget).
    let m = plan.exit.first_exit(fit).saturating_sub(1);
    if m < MIN_SKIP || !apply(cpu, mem, path, &plan, m) {
        return (0, None);
    }
    (m * len, found)
}

/// Does iterations `0..m` of `plan`, if every access they make is checked safe first.
fn apply<M: LoopCpu>(
    cpu: &mut M,
    mem: &mut Memory,
    path: &Path<M::Insn>,
    plan: &Plan,
    m: u64,
) -> bool {
    let code = |cpu: &M, a: u64, len: u64| {
        cpu.in_code(a, len) || ranges_overlap(a, len, path.code.0, path.code.1 - path.code.0)
    };
    for &(a, size) in &plan.accesses {
        if mem.slice(a, u64::from(size)).is_err() || code(cpu, a, u64::from(size)) {
            return false;
        }
    }
    if let Some(s) = plan.strided {
        // Iteration m's store too: it must not fault either.
        let Some((lo, len)) = s.range(m + 1) else {
            return false;
        };
        if plan
            .accesses
            .iter()
            .any(|&(a, size)| ranges_overlap(a, u64::from(size), lo, len))
            || code(cpu, lo, len)
            || mem.slice_mut(lo, len).is_err()
        {
            return false;
        }
        if s.size == 1 && s.value.c1 == 0 && len == m + 1 {
            // A byte fill (memset, clearing a buffer), in either direction.
            let lo = if s.addr.c1 == 1 { lo } else { lo + 1 };
            let Ok(bytes) = mem.slice_mut(lo, m) else {
                return false;
            };
            bytes.fill(s.value.c0 as u8);
            cpu.wrote(lo, m);
        } else {
            for j in 0..m {
                if cpu.store(mem, s.addr.at(j), s.size, s.value.at(j)).is_err() {
                    return false;
                }
            }
        }
    }
    for i in &plan.inductions {
        let v = i.init.wrapping_add(i.delta.wrapping_mul(m)) & mask(i.bytes);
        match i.loc {
            Loc::Reg(n) => cpu.set_reg(n, i.bytes, v),
            // Checked mapped above (every memory input is an access).
            Loc::Mem { addr, size } => {
                if cpu.store(mem, addr, size, v).is_err() {
                    return false;
                }
            }
        }
    }
    true
}

impl Strided {
    /// The bytes the stores of iterations `0..m` cover, `(first, length)`, if their
    /// addresses move one way without wrapping around the address space.
    fn range(&self, m: u64) -> Option<(u64, u64)> {
        let a = self.addr;
        let down = a.c1 > a.mask / 2;
        let step = if down {
            a.c1.wrapping_neg() & a.mask
        } else {
            a.c1
        };
        let travel = u128::from(step) * u128::from(m - 1);
        let first = u128::from(a.c0);
        let lo = if down {
            first.checked_sub(travel)?
        } else {
            first
        };
        let end = if down { first } else { first + travel } + u128::from(self.size);
        if end > u128::from(a.mask) + 1 {
            return None;
        }
        Some((lo as u64, (end - lo) as u64))
    }
}

pub(crate) fn ranges_overlap(a: u64, alen: u64, b: u64, blen: u64) -> bool {
    u128::from(a) < u128::from(b) + u128::from(blen)
        && u128::from(b) < u128::from(a) + u128::from(alen)
}
