//! Loop fast-forward: whole iterations of a simple counted loop done at once.
//!
//! The chains' compilers spend most of their guest instructions in a few tiny loops:
//! M2-Planet clears its 4 KiB token buffer a byte at a time before every token, and
//! M2libc's `calloc` zeroes with a byte loop (88% of the 12.4 G instructions of M2
//! building M2-Planet). This module owns the one lever that removes them without
//! knowing any program: at a backward jump to a loop head it reads the loop's single
//! path (straight-line code and unconditional jumps from the head back to it, with one
//! conditional exit), executes one iteration symbolically over values that are affine
//! in the iteration number `j` ([`Lin`]), and proves from that iteration that
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
//! Then iteration `j`'s effects are a function of `j` alone, and [`X86::fast_forward`]
//! applies the first `m` of them: the strided stores of iterations `0..m`, each
//! induction at its value after `m` iterations, `m` times the path's length added to the
//! instruction count. `m` stops one full iteration before the first iteration that
//! exits (found by evaluating the exit condition with the interpreter's own [`Flags`]),
//! and within the instruction budget, so the interpreter then runs the last iteration
//! and the exit itself: every temporary (a register, the flags or a stack slot written
//! before it is read) ends as it would have, and the guest state, memory and instruction
//! count equal a plain run's exactly (property test `fast_forward_equals_plain_steps`).
//! Anything the analysis does not cover (calls, other instructions, a second strided
//! store, a loaded value flowing into an address) leaves the loop to the interpreter.

use std::collections::HashMap;
use std::rc::Rc;

use super::decode::{mask, Alu, Insn, Mem, Op, Operand, Shift, BASE_RIP, NONE, RSP};
use super::flags::Flags;
use super::{decode_at, X86};
use crate::linux::memory::Memory;

/// The longest path (instructions per iteration) analysed.
const MAX_PATH: usize = 128;
/// Iterations skipped at most per fast-forward (the exit scan's bound).
const MAX_SKIP: u64 = 1 << 20;
/// Fewer iterations than this are left to the interpreter.
const MIN_SKIP: u64 = 3;
/// A loop head whose analysis failed this many times in a row is not analysed again.
const MAX_MISSES: u32 = 8;
/// Inputs of a linear value at most.
const MAX_TERMS: usize = 3;

/// The loop heads seen, with what is known of them.
#[derive(Default)]
pub(super) struct Loops {
    heads: HashMap<u64, Head>,
    /// Instructions fast-forwarded so far (they are in the instruction count too).
    pub(super) skipped: u64,
}

enum Head {
    /// A loop path that may be fast-forwarded, with the analyses that failed in a row and
    /// the inductions the last successful one found (the next one tries them first).
    Path(Rc<Path>, u32, Inductions),
    /// Not a loop this module handles.
    Never,
}

impl Loops {
    /// Forgets every path (the code they were decoded from may have changed).
    pub(super) fn clear(&mut self) {
        self.heads.clear();
    }
}

/// One iteration's instructions, from the loop head.
struct Path {
    insns: Vec<(u64, Insn)>,
    /// The addresses the path was decoded from: `code.0..code.1`.
    code: (u64, u64),
    /// Whether taking the conditional exit leaves the loop (else not taking it does).
    exit_when_taken: bool,
}

/// Builds the path of the loop whose head is `head`, if it has the shape handled here.
fn path<const LONG: bool>(mem: &Memory, head: u64) -> Option<Path> {
    let mut insns = Vec::new();
    let mut exit = None;
    let mut pc = head;
    loop {
        if insns.len() >= MAX_PATH {
            return None;
        }
        let insn = decode_at::<LONG>(mem, pc).ok()?;
        if !handled(&insn) {
            return None;
        }
        let next = pc.wrapping_add(u64::from(insn.len)) & X86::<LONG>::ADDR_MASK;
        insns.push((pc, insn));
        pc = match insn.op {
            Op::JmpRel => insn.imm,
            Op::Jcc(_) if exit.is_some() => return None,
            Op::Jcc(_) if insn.imm == head => {
                exit = Some(false);
                head
            }
            Op::Jcc(_) => {
                exit = Some(true);
                next
            }
            _ => next,
        };
        if pc == head {
            break;
        }
    }
    let exit_when_taken = exit?;
    let lo = insns.iter().map(|i| i.0).min()?;
    let hi = insns.iter().map(|i| i.0 + u64::from(i.1.len)).max()?;
    Some(Path {
        code: (lo, hi),
        insns,
        exit_when_taken,
    })
}

/// Whether the symbolic executor knows `i`.
fn handled(i: &Insn) -> bool {
    let simple = |o: Operand| matches!(o, Operand::Reg(_) | Operand::Mem(_) | Operand::Imm(_));
    match i.op {
        Op::Mov => simple(i.dst) && simple(i.src),
        Op::Alu(a) => !matches!(a, Alu::Adc | Alu::Sbb) && simple(i.dst) && simple(i.src),
        Op::Test => simple(i.dst) && simple(i.src),
        Op::Lea => matches!((i.dst, i.src), (Operand::Reg(_), Operand::Mem(_))),
        Op::Movzx | Op::Movsx => matches!(i.dst, Operand::Reg(_)) && simple(i.src),
        Op::Inc | Op::Dec => simple(i.dst),
        Op::Shift(Shift::Shl | Shift::Sal) => simple(i.dst) && matches!(i.src, Operand::Imm(_)),
        Op::Push => matches!(i.src, Operand::Reg(_) | Operand::Imm(_)),
        Op::Pop => matches!(i.dst, Operand::Reg(_)),
        Op::Setcc(_) => simple(i.dst),
        Op::JmpRel | Op::Jcc(_) | Op::Nop => true,
        _ => false,
    }
}

/// The inductions of a loop: each location stepped, with its step.
type Inductions = Rc<[(Loc, u64)]>;

/// Where an iteration's input lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    Reg(u8),
    Mem { addr: u64, size: u8 },
}

/// A location read before it is written: its value at the start of iteration `j` is
/// `init + delta * j` (modulo its width).
#[derive(Clone, Copy, Debug)]
struct Input {
    loc: Loc,
    init: u64,
    delta: u64,
    bytes: u8,
}

/// `off + sum(coef * input)`, modulo `2^(8 * bytes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lin {
    off: u64,
    terms: [(u16, u64); MAX_TERMS],
    n: u8,
    bytes: u8,
}

/// A value inside one iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sym {
    Lin(Lin),
    /// 0 or 1: condition `cc` of flag source `flags`, zero-extended.
    Cond {
        cc: u8,
        flags: u16,
    },
    /// The low byte is [`Sym::Cond`], the rest is whatever it was.
    LowCond {
        cc: u8,
        flags: u16,
    },
    Unknown,
}

/// A flag-writing operation of the iteration.
#[derive(Clone, Copy, Debug)]
enum FlagSrc {
    Add {
        size: u8,
        a: Sym,
        b: Sym,
    },
    Sub {
        size: u8,
        a: Sym,
        b: Sym,
    },
    Logic {
        size: u8,
        a: Sym,
        b: Sym,
    },
    /// Flags the executor does not model (inc/dec, shifts): reading them fails.
    Opaque,
}

impl Lin {
    fn constant(v: u64, bytes: u8) -> Lin {
        Lin {
            off: v & mask(bytes),
            terms: [(0, 0); MAX_TERMS],
            n: 0,
            bytes,
        }
    }

    fn input(id: u16, bytes: u8) -> Lin {
        let mut l = Lin::constant(0, bytes);
        l.terms[0] = (id, 1);
        l.n = 1;
        l
    }

    fn terms(&self) -> &[(u16, u64)] {
        &self.terms[..usize::from(self.n)]
    }

    /// `self + k * other` at `bytes`, if it still fits.
    fn add(self, other: Lin, k: u64, bytes: u8) -> Option<Lin> {
        let mut r = Lin::constant(self.off.wrapping_add(k.wrapping_mul(other.off)), bytes);
        for &(id, c) in self.terms() {
            r = r.plus_term(id, c)?;
        }
        for &(id, c) in other.terms() {
            r = r.plus_term(id, c.wrapping_mul(k))?;
        }
        Some(r)
    }

    fn plus_term(mut self, id: u16, c: u64) -> Option<Lin> {
        let m = mask(self.bytes);
        let c = c & m;
        let n = usize::from(self.n);
        if c == 0 {
            return Some(self);
        }
        if let Some(k) = self.terms[..n].iter().position(|t| t.0 == id) {
            let v = self.terms[k].1.wrapping_add(c) & m;
            if v == 0 {
                // The term cancelled out.
                self.terms.copy_within(k + 1..n, k);
                self.n -= 1;
            } else {
                self.terms[k].1 = v;
            }
        } else if n < MAX_TERMS {
            self.terms[n] = (id, c);
            self.n += 1;
        } else {
            return None;
        }
        Some(self)
    }

    fn scaled(self, k: u64) -> Lin {
        let mut r = self;
        r.off = r.off.wrapping_mul(k) & mask(r.bytes);
        for t in r.terms[..usize::from(r.n)].iter_mut() {
            t.1 = t.1.wrapping_mul(k) & mask(r.bytes);
        }
        r.terms.sort_by_key(|t| t.1 == 0);
        r.n = r.terms.iter().filter(|t| t.1 != 0).count() as u8;
        r
    }
}

/// `c0 + c1 * j` modulo `mask + 1`: a [`Lin`] with the inputs' values filled in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Aff {
    c0: u64,
    c1: u64,
    mask: u64,
}

impl Aff {
    #[inline]
    fn at(self, j: u64) -> u64 {
        self.c0.wrapping_add(self.c1.wrapping_mul(j)) & self.mask
    }
}

/// A store whose address moves between iterations.
#[derive(Clone, Copy, Debug)]
struct Strided {
    addr: Aff,
    size: u8,
    value: Aff,
}

/// What one symbolic iteration found.
struct Iteration {
    inputs: Vec<Input>,
    /// The stores at fixed addresses, last value per address, in first-store order.
    writes: Vec<(u64, u8, Sym)>,
    /// Every fixed-address access (loads and stores).
    accesses: Vec<(u64, u8)>,
    strided: Option<(Lin, u8, Sym)>,
    regs: [Option<Sym>; 16],
    flag_srcs: Vec<FlagSrc>,
    /// The exit branch's flag source and condition.
    exit: Option<(u16, u8)>,
}

/// The symbolic executor of one iteration: `deltas` are the inductions a first pass
/// found (none in the first pass, where every address is taken as fixed).
struct Executor<'a, const LONG: bool> {
    cpu: &'a X86<LONG>,
    mem: &'a Memory,
    deltas: &'a [(Loc, u64)],
    it: Iteration,
}

type Fail = ();

impl<'a, const LONG: bool> Executor<'a, LONG> {
    const REG_BYTES: u8 = if LONG { 8 } else { 4 };
    const ADDR_BYTES: u8 = if LONG { 8 } else { 4 };

    fn new(cpu: &'a X86<LONG>, mem: &'a Memory, deltas: &'a [(Loc, u64)]) -> Self {
        Executor {
            cpu,
            mem,
            deltas,
            it: Iteration {
                inputs: Vec::new(),
                writes: Vec::new(),
                accesses: Vec::new(),
                strided: None,
                regs: [None; 16],
                flag_srcs: Vec::new(),
                exit: None,
            },
        }
    }

    fn input(&mut self, loc: Loc, init: u64, bytes: u8) -> Result<Lin, Fail> {
        if let Some(id) = self.it.inputs.iter().position(|i| i.loc == loc) {
            return Ok(Lin::input(id as u16, bytes));
        }
        let delta = self.deltas.iter().find(|d| d.0 == loc).map_or(0, |d| d.1);
        let id = u16::try_from(self.it.inputs.len()).map_err(|_| ())?;
        self.it.inputs.push(Input {
            loc,
            init,
            delta,
            bytes,
        });
        Ok(Lin::input(id, bytes))
    }

    /// `l` with the inputs' initial values and deltas filled in.
    fn aff(&self, l: &Lin) -> Aff {
        let m = mask(l.bytes);
        let (mut c0, mut c1) = (l.off, 0u64);
        for &(id, c) in l.terms() {
            let i = &self.it.inputs[usize::from(id)];
            c0 = c0.wrapping_add(c.wrapping_mul(i.init));
            c1 = c1.wrapping_add(c.wrapping_mul(i.delta));
        }
        Aff {
            c0: c0 & m,
            c1: c1 & m,
            mask: m,
        }
    }

    fn reg(&mut self, n: u8) -> Result<Sym, Fail> {
        let n = n & 15;
        if let Some(s) = self.it.regs[usize::from(n)] {
            return Ok(s);
        }
        let init = self.cpu.regs[usize::from(n)];
        let l = self.input(Loc::Reg(n), init, Self::REG_BYTES)?;
        self.it.regs[usize::from(n)] = Some(Sym::Lin(l));
        Ok(Sym::Lin(l))
    }

    /// Register `n` read as a `size`-byte operand.
    fn read_reg(&mut self, n: u8, size: u8) -> Result<Sym, Fail> {
        Ok(truncate(self.reg(n)?, size))
    }

    fn write_reg(&mut self, n: u8, size: u8, v: Sym) -> Result<(), Fail> {
        let n = n & 15;
        let new = match size {
            // 32-bit writes zero-extend; in 32-bit mode the register is 32 bits.
            4 | 8 => v,
            1 => match v {
                Sym::Cond { cc, flags } => Sym::LowCond { cc, flags },
                _ => Sym::Unknown,
            },
            _ => Sym::Unknown,
        };
        self.it.regs[usize::from(n)] = Some(new);
        Ok(())
    }

    fn address(&mut self, m: &Mem, next_pc: u64) -> Result<Lin, Fail> {
        let bytes = if LONG { m.addr_size } else { 4 };
        let mut a = Lin::constant(i64::from(m.disp) as u64, bytes);
        if m.base < 16 {
            a = a
                .add(lin(self.read_reg(m.base, bytes)?)?, 1, bytes)
                .ok_or(())?;
        } else if m.base == BASE_RIP {
            a = a.add(Lin::constant(next_pc, bytes), 1, bytes).ok_or(())?;
        }
        if m.index != NONE {
            let i = lin(self.read_reg(m.index, bytes)?)?;
            a = a.add(i, 1 << (m.scale & 3), bytes).ok_or(())?;
        }
        Ok(a)
    }

    /// The fixed address `a` stands for, or None if it moves between iterations.
    fn fixed(&self, a: &Lin) -> Option<u64> {
        let f = self.aff(a);
        (f.c1 == 0).then_some(f.c0)
    }

    fn load(&mut self, a: Lin, size: u8) -> Result<Sym, Fail> {
        let addr = self.fixed(&a).ok_or(())?;
        self.it.accesses.push((addr, size));
        for &(w, ws, v) in self.it.writes.iter().rev() {
            if w == addr && ws == size {
                return Ok(v);
            }
            if overlap(w, ws, addr, size) {
                return Err(());
            }
        }
        let init = match size {
            1 => self.mem.read_u8(addr).map(u64::from),
            2 => self.mem.read_u16(addr).map(u64::from),
            4 => self.mem.read_u32(addr).map(u64::from),
            _ => self.mem.read_u64(addr),
        }
        .map_err(|_| ())?;
        Ok(Sym::Lin(self.input(Loc::Mem { addr, size }, init, size)?))
    }

    fn store(&mut self, a: Lin, size: u8, v: Sym) -> Result<(), Fail> {
        let v = truncate(v, size);
        let Some(addr) = self.fixed(&a) else {
            if self.it.strided.is_some() {
                return Err(());
            }
            self.it.strided = Some((a, size, v));
            return Ok(());
        };
        self.it.accesses.push((addr, size));
        if let Some(w) = self
            .it
            .writes
            .iter_mut()
            .find(|w| w.0 == addr && w.1 == size)
        {
            w.2 = v;
            return Ok(());
        }
        if self.it.writes.iter().any(|w| overlap(w.0, w.1, addr, size)) {
            return Err(());
        }
        self.it.writes.push((addr, size, v));
        Ok(())
    }

    fn read(&mut self, o: Operand, size: u8, next_pc: u64) -> Result<Sym, Fail> {
        match o {
            Operand::Reg(n) => self.read_reg(n, size),
            Operand::Imm(v) => Ok(Sym::Lin(Lin::constant(v, size))),
            Operand::Mem(m) => {
                let a = self.address(&m, next_pc)?;
                self.load(a, size)
            }
            _ => Err(()),
        }
    }

    fn write(&mut self, o: Operand, size: u8, v: Sym, next_pc: u64) -> Result<(), Fail> {
        match o {
            Operand::Reg(n) => self.write_reg(n, size, v),
            Operand::Mem(m) => {
                let a = self.address(&m, next_pc)?;
                self.store(a, size, v)
            }
            _ => Err(()),
        }
    }

    fn set_flags(&mut self, f: FlagSrc) -> Result<u16, Fail> {
        let id = u16::try_from(self.it.flag_srcs.len()).map_err(|_| ())?;
        self.it.flag_srcs.push(f);
        Ok(id)
    }

    /// The flag source a flag reader sees (the flags must have been written).
    fn flags(&self) -> Result<u16, Fail> {
        let id = self.it.flag_srcs.len().checked_sub(1).ok_or(())?;
        match self.it.flag_srcs[id] {
            FlagSrc::Opaque => Err(()),
            _ => Ok(id as u16),
        }
    }

    /// Executes one instruction of the path symbolically.
    fn step(&mut self, pc: u64, i: &Insn) -> Result<(), Fail> {
        let size = i.size;
        let next = pc.wrapping_add(u64::from(i.len)) & X86::<LONG>::ADDR_MASK;
        match i.op {
            Op::Mov => {
                let v = self.read(i.src, size, next)?;
                self.write(i.dst, size, v, next)?;
            }
            Op::Lea => {
                let Operand::Mem(m) = i.src else {
                    return Err(());
                };
                let a = self.address(&m, next)?;
                self.write(i.dst, size, truncate(Sym::Lin(a), size), next)?;
            }
            Op::Alu(alu @ (Alu::Xor | Alu::Sub))
                if i.dst == i.src && matches!(i.dst, Operand::Reg(_)) =>
            {
                // Zeroing idioms: the result and flags do not depend on the register, which
                // is therefore not an input.
                let zero = Sym::Lin(Lin::constant(0, size));
                self.set_flags(match alu {
                    Alu::Xor => FlagSrc::Logic {
                        size,
                        a: zero,
                        b: zero,
                    },
                    _ => FlagSrc::Sub {
                        size,
                        a: zero,
                        b: zero,
                    },
                })?;
                self.write(i.dst, size, zero, next)?;
            }
            Op::Alu(alu) => {
                let b = self.read(i.src, size, next)?;
                let a = self.read(i.dst, size, next)?;
                let (r, f) = match alu {
                    Alu::Add => (sum(a, b, 1, size), FlagSrc::Add { size, a, b }),
                    Alu::Sub | Alu::Cmp => (sum(a, b, u64::MAX, size), FlagSrc::Sub { size, a, b }),
                    _ => {
                        let r = logic(alu, a, b, size);
                        (r, FlagSrc::Logic { size, a: r, b: r })
                    }
                };
                self.set_flags(f)?;
                if alu != Alu::Cmp {
                    self.write(i.dst, size, r, next)?;
                }
            }
            Op::Test => {
                let b = self.read(i.src, size, next)?;
                let a = self.read(i.dst, size, next)?;
                self.set_flags(FlagSrc::Logic { size, a, b })?;
            }
            Op::Movzx | Op::Movsx => {
                let from = i.imm as u8;
                let v = self.read(i.src, from, next)?;
                let v = match v {
                    Sym::Cond { .. } => v,
                    Sym::Lin(l) if l.n == 0 => {
                        let c = if i.op == Op::Movsx {
                            super::exec::sext(l.off, from) as u64
                        } else {
                            l.off
                        };
                        Sym::Lin(Lin::constant(c, size))
                    }
                    _ => Sym::Unknown,
                };
                self.write(i.dst, size, v, next)?;
            }
            Op::Inc | Op::Dec => {
                let a = self.read(i.dst, size, next)?;
                let k = if i.op == Op::Inc { 1 } else { u64::MAX };
                let r = sum(a, Sym::Lin(Lin::constant(1, size)), k, size);
                self.set_flags(FlagSrc::Opaque)?;
                self.write(i.dst, size, r, next)?;
            }
            Op::Shift(_) => {
                let Operand::Imm(count) = i.src else {
                    return Err(());
                };
                let count = count & if size == 8 { 63 } else { 31 };
                let a = self.read(i.dst, size, next)?;
                if count != 0 {
                    let r = match a {
                        Sym::Lin(l) => Sym::Lin(l.scaled(1 << count)),
                        _ => Sym::Unknown,
                    };
                    self.set_flags(FlagSrc::Opaque)?;
                    self.write(i.dst, size, r, next)?;
                }
            }
            Op::Push => {
                let v = self.read(i.src, size, next)?;
                let sp = lin(self.reg(RSP)?)?;
                let sp = sp
                    .add(
                        Lin::constant(u64::from(size), Self::ADDR_BYTES),
                        u64::MAX,
                        Self::ADDR_BYTES,
                    )
                    .ok_or(())?;
                self.store(sp, size, v)?;
                self.it.regs[usize::from(RSP)] = Some(Sym::Lin(sp));
            }
            Op::Pop => {
                let sp = lin(self.reg(RSP)?)?;
                let v = self.load(sp, size)?;
                let up = sp
                    .add(
                        Lin::constant(u64::from(size), Self::ADDR_BYTES),
                        1,
                        Self::ADDR_BYTES,
                    )
                    .ok_or(())?;
                self.it.regs[usize::from(RSP)] = Some(Sym::Lin(up));
                self.write(i.dst, size, v, next)?;
            }
            Op::Setcc(cc) => {
                let flags = self.flags()?;
                self.write(i.dst, 1, Sym::Cond { cc, flags }, next)?;
            }
            Op::Jcc(cc) => {
                // The path's one conditional branch is its exit.
                self.it.exit = Some((self.flags()?, cc));
            }
            Op::JmpRel | Op::Nop => {}
            _ => return Err(()),
        }
        Ok(())
    }

    /// Runs the whole path.
    fn steps(&mut self, path: &Path) -> Result<(), Fail> {
        for (pc, i) in &path.insns {
            self.step(*pc, i)?;
        }
        Ok(())
    }

    /// After [`Executor::steps`]: checks that every input is invariant or an induction
    /// (its value at the end is itself plus a constant) and returns the inductions.
    fn finish(self) -> Result<(Iteration, Vec<(Loc, u64)>), Fail> {
        let mut inductions = Vec::new();
        for (id, input) in self.it.inputs.iter().enumerate() {
            let end = match input.loc {
                Loc::Reg(n) => self.it.regs[usize::from(n)],
                Loc::Mem { addr, size } => self
                    .it
                    .writes
                    .iter()
                    .find(|w| w.0 == addr && w.1 == size)
                    .map(|w| w.2),
            };
            let Some(end) = end else {
                continue;
            };
            let Sym::Lin(l) = end else {
                return Err(());
            };
            if l.bytes != input.bytes || l.terms() != [(id as u16, 1)] {
                return Err(());
            }
            if l.off != 0 {
                inductions.push((input.loc, l.off));
            }
        }
        Ok((self.it, inductions))
    }
}

fn overlap(a: u64, asz: u8, b: u64, bsz: u8) -> bool {
    ranges_overlap(a, u64::from(asz), b, u64::from(bsz))
}

fn lin(s: Sym) -> Result<Lin, Fail> {
    match s {
        Sym::Lin(l) => Ok(l),
        _ => Err(()),
    }
}

/// `s` read as a `size`-byte operand.
fn truncate(s: Sym, size: u8) -> Sym {
    match s {
        Sym::Lin(l) if size == l.bytes => s,
        Sym::Lin(l) if size <= l.bytes || l.n == 0 => {
            let mut r = l;
            r.bytes = size;
            r.off &= mask(size);
            for t in r.terms.iter_mut() {
                t.1 &= mask(size);
            }
            Sym::Lin(r.scaled(1))
        }
        Sym::Cond { .. } => s,
        Sym::LowCond { cc, flags } if size == 1 => Sym::Cond { cc, flags },
        _ => Sym::Unknown,
    }
}

/// `a + k * b` at `size` bytes.
fn sum(a: Sym, b: Sym, k: u64, size: u8) -> Sym {
    match (a, b) {
        (Sym::Lin(a), Sym::Lin(b)) => a.add(b, k, size).map_or(Sym::Unknown, Sym::Lin),
        _ => Sym::Unknown,
    }
}

/// and/or/xor: constants only.
fn logic(alu: Alu, a: Sym, b: Sym, size: u8) -> Sym {
    match (a, b) {
        (Sym::Lin(x), Sym::Lin(y)) if x.n == 0 && y.n == 0 => {
            let v = match alu {
                Alu::And => x.off & y.off,
                Alu::Or => x.off | y.off,
                _ => x.off ^ y.off,
            };
            Sym::Lin(Lin::constant(v, size))
        }
        _ => Sym::Unknown,
    }
}

/// The exit condition as a function of `j`: the flag sources of the path with their
/// operands affine in `j` (None: not evaluable), the exit branch's source and condition.
struct Exit {
    srcs: Vec<Option<ExitFlags>>,
    root: u16,
    cc: u8,
    when_taken: bool,
}

/// An operand of a flag source in the exit condition.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Term {
    Aff(Aff),
    /// 0 or 1: condition `cc` of an earlier flag source.
    Cond {
        cc: u8,
        flags: u16,
    },
}

#[derive(Clone, Copy)]
enum FlagOp {
    Add,
    Sub,
    Logic,
}

#[derive(Clone, Copy)]
struct ExitFlags {
    op: FlagOp,
    size: u8,
    a: Term,
    b: Term,
}

impl Exit {
    fn new<const LONG: bool>(ex: &Executor<'_, LONG>, path: &Path) -> Result<Exit, Fail> {
        let (root, cc) = ex.it.exit.ok_or(())?;
        let term = |s: Sym| match s {
            Sym::Lin(l) => Some(Term::Aff(ex.aff(&l))),
            Sym::Cond { cc, flags } => Some(Term::Cond { cc, flags }),
            _ => None,
        };
        let srcs = ex
            .it
            .flag_srcs
            .iter()
            .map(|f| {
                let (op, size, a, b) = match *f {
                    FlagSrc::Add { size, a, b } => (FlagOp::Add, size, a, b),
                    FlagSrc::Sub { size, a, b } => (FlagOp::Sub, size, a, b),
                    FlagSrc::Logic { size, a, b } => (FlagOp::Logic, size, a, b),
                    FlagSrc::Opaque => return None,
                };
                Some(ExitFlags {
                    op,
                    size,
                    a: term(a)?,
                    b: term(b)?,
                })
            })
            .collect();
        let exit = Exit {
            srcs,
            root,
            cc,
            when_taken: path.exit_when_taken,
        };
        exit.check(root, 0)?;
        Ok(exit)
    }

    /// Every flag source the exit depends on is evaluable (and earlier than its reader).
    fn check(&self, id: u16, depth: u8) -> Result<(), Fail> {
        let f = self
            .srcs
            .get(usize::from(id))
            .copied()
            .flatten()
            .ok_or(())?;
        if depth > 4 {
            return Err(());
        }
        for t in [f.a, f.b] {
            if let Term::Cond { flags, .. } = t {
                if flags >= id {
                    return Err(());
                }
                self.check(flags, depth + 1)?;
            }
        }
        Ok(())
    }

    fn value(&self, t: Term, j: u64) -> u64 {
        match t {
            Term::Aff(a) => a.at(j),
            Term::Cond { cc, flags } => u64::from(self.flags_at(flags, j).cond(cc)),
        }
    }

    /// The flags source `id` computes in iteration `j`, by the interpreter's [`Flags`].
    fn flags_at(&self, id: u16, j: u64) -> Flags {
        let mut flags = Flags::default();
        if let Some(Some(f)) = self.srcs.get(usize::from(id)) {
            let m = mask(f.size);
            let (a, b) = (self.value(f.a, j) & m, self.value(f.b, j) & m);
            match f.op {
                FlagOp::Add => flags.set_add(f.size, a, b, a.wrapping_add(b) & m),
                FlagOp::Sub => flags.set_sub(f.size, a, b, a.wrapping_sub(b) & m),
                FlagOp::Logic => flags.set_logic(f.size, a & b),
            }
        }
        flags
    }

    /// Whether iteration `j` leaves the loop at the exit branch.
    fn exits(&self, j: u64) -> bool {
        self.flags_at(self.root, j).cond(self.cc) == self.when_taken
    }

    /// The first iteration below `limit` that exits, or `limit` (or the end of a range
    /// known not to exit). Where the exit is monotone in `j` ([`Exit::monotone`]) this is
    /// a binary search, else a scan.
    fn first_exit(&self, limit: u64) -> u64 {
        if self.exits(0) {
            return 0;
        }
        let Some(end) = self.monotone(self.root, self.cc).map(|e| e.min(limit)) else {
            return (0..limit).find(|&j| self.exits(j)).unwrap_or(limit);
        };
        // exits(lo) is false; find the first true in (lo, end), if any.
        let (mut lo, mut hi) = (0, end);
        if end == 0 || !self.exits(end - 1) {
            return end;
        }
        hi -= 1;
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if self.exits(mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }

    /// An `end` such that condition `cc` of flag source `id` changes at most once over
    /// iterations `0..end`, where that follows from its form: an ordered comparison of
    /// a value that moves by a constant with one that does not, as long as the moving
    /// one does not wrap around in the comparison's (signed or unsigned) order; a sign
    /// test likewise; ZF of `test r, r` on such a condition.
    fn monotone(&self, id: u16, cc: u8) -> Option<u64> {
        let f = self.srcs.get(usize::from(id)).copied().flatten()?;
        let bits = 8 * u32::from(f.size);
        match (f.op, f.a, f.b, cc >> 1) {
            (FlagOp::Sub, Term::Aff(a), Term::Aff(b), 1 | 3 | 6 | 7) => {
                let moving = match (a.c1 & mask(f.size), b.c1 & mask(f.size)) {
                    (0, 0) => return Some(u64::MAX),
                    (_, 0) => a,
                    (0, _) => b,
                    _ => return None,
                };
                Some(unwrapped_steps(moving, bits, cc >> 1 >= 6))
            }
            (FlagOp::Logic, Term::Aff(a), Term::Aff(b), 4) if a == b => {
                Some(unwrapped_steps(a, bits, true))
            }
            (FlagOp::Logic, Term::Cond { cc, flags }, b, 2) if b == f.a => self.monotone(flags, cc),
            _ => None,
        }
    }
}

/// How many iterations `0..n` of `x(j) = c0 + c1 * j` (a `bits`-bit value) stay on one
/// side of the wrap-around point of the signed (or unsigned) order, so that `x` is
/// strictly monotone over them.
fn unwrapped_steps(x: Aff, bits: u32, signed: bool) -> u64 {
    let m = (1u128 << bits) - 1;
    let (c0, c1) = (u128::from(x.c0) & m, u128::from(x.c1) & m);
    let half = 1u128 << (bits - 1);
    let step_down = c1 >= half;
    let step = if step_down { (m + 1) - c1 } else { c1 };
    if step == 0 {
        return u64::MAX;
    }
    // The position of x(0) in the order, 0..=m.
    let pos = if signed { (c0 + half) & m } else { c0 };
    let room = if step_down { pos } else { m - pos };
    u64::try_from(room / step + 1).unwrap_or(u64::MAX)
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
fn plan<const LONG: bool>(
    cpu: &X86<LONG>,
    mem: &Memory,
    path: &Path,
) -> Result<(Plan, Inductions), Fail> {
    let mut first = Executor::new(cpu, mem, &[]);
    first.steps(path)?;
    let (_, assumed) = first.finish()?;
    let assumed: Inductions = Rc::from(assumed);
    Ok((prove(cpu, mem, path, &assumed)?, assumed))
}

/// The plan of `path` if `assumed` are its inductions: with them, addresses built from
/// an induction move; the iteration must then find exactly these inductions.
fn prove<const LONG: bool>(
    cpu: &X86<LONG>,
    mem: &Memory,
    path: &Path,
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

impl<const LONG: bool> X86<LONG> {
    /// At a backward jump to `head` (the guest is at the start of an iteration), applies
    /// as many whole iterations as are proven safe and fit in `room` instructions;
    /// returns the instructions they count.
    #[cold]
    pub(super) fn fast_forward(
        &mut self,
        mem: &mut Memory,
        loops: &mut Loops,
        head: u64,
        room: u64,
    ) -> u64 {
        let path = match loops.heads.entry(head).or_insert_with(|| {
            path::<LONG>(mem, head).map_or(Head::Never, |p| {
                Head::Path(Rc::new(p), 0, Rc::from(Vec::new()))
            })
        }) {
            Head::Path(p, _, last) => (Rc::clone(p), Rc::clone(last)),
            Head::Never => return 0,
        };
        let (done, found) = self.try_fast_forward(mem, &path.0, &path.1, room);
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
    fn try_fast_forward(
        &mut self,
        mem: &mut Memory,
        path: &Path,
        last: &Inductions,
        room: u64,
    ) -> (u64, Option<Inductions>) {
        let len = path.insns.len() as u64;
        // Iterations that fit in the budget, the interpreted one after the skip included.
        let fit = MAX_SKIP.min(room / len);
        if fit <= MIN_SKIP {
            return (0, None);
        }
        let (plan, found) = match prove(self, mem, path, last) {
            Ok(p) => (p, None),
            Err(()) => match plan(self, mem, path) {
                Ok((p, found)) => (p, Some(found)),
                Err(()) => return (0, None),
            },
        };
        // Skip iterations 0..m and leave iteration m, which neither exits nor runs out of
        // budget, to the interpreter: it rewrites every temporary, so the guest is never
        // seen between a skipped iteration and the next (the exit, a fault, the budget).
        let m = plan.exit.first_exit(fit).saturating_sub(1);
        if m < MIN_SKIP || !self.apply(mem, path, &plan, m) {
            return (0, None);
        }
        (m * len, found)
    }

    /// Does iterations `0..m` of `plan`, if every access they make is checked safe first.
    fn apply(&mut self, mem: &mut Memory, path: &Path, plan: &Plan, m: u64) -> bool {
        let code = |a: u64, len: u64| {
            self.in_code(a, len) || ranges_overlap(a, len, path.code.0, path.code.1 - path.code.0)
        };
        for &(a, size) in &plan.accesses {
            if mem.slice(a, u64::from(size)).is_err() || code(a, u64::from(size)) {
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
                || code(lo, len)
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
            } else {
                for j in 0..m {
                    if self
                        .store(mem, s.addr.at(j), s.size, s.value.at(j))
                        .is_err()
                    {
                        return false;
                    }
                }
            }
        }
        for i in &plan.inductions {
            let v = i.init.wrapping_add(i.delta.wrapping_mul(m)) & mask(i.bytes);
            match i.loc {
                Loc::Reg(n) => self.set_reg(n, i.bytes, v),
                // Checked mapped above (every memory input is an access).
                Loc::Mem { addr, size } => {
                    if self.store(mem, addr, size, v).is_err() {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn in_code(&self, addr: u64, len: u64) -> bool {
        addr.wrapping_add(len) > self.code.0 && addr < self.code.1
    }
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

fn ranges_overlap(a: u64, alen: u64, b: u64, blen: u64) -> bool {
    u128::from(a) < u128::from(b) + u128::from(blen)
        && u128::from(b) < u128::from(a) + u128::from(alen)
}
