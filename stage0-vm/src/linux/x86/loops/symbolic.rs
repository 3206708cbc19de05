//! The symbolic side of [`super`]: one loop iteration executed over values that are
//! affine in the iteration number. It owns the value domain ([`Lin`] over the iteration's
//! inputs, [`Aff`] once their first values and steps are known, conditions of flag
//! sources), the x86 subset's symbolic semantics ([`Executor::step`]) and the end-of-path
//! check that every input is invariant or an induction.

use std::rc::Rc;

use super::super::decode::{mask, Alu, Insn, Mem, Op, Operand, BASE_RIP, NONE, RSP};
use super::super::X86;
use super::{ranges_overlap, Path, MAX_TERMS};
use crate::linux::memory::Memory;

/// The inductions of a loop: each location stepped, with its step.
pub(super) type Inductions = Rc<[(Loc, u64)]>;

/// Where an iteration's input lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Loc {
    Reg(u8),
    Mem { addr: u64, size: u8 },
}

/// A location read before it is written: its value at the start of iteration `j` is
/// `init + delta * j` (modulo its width).
#[derive(Clone, Copy, Debug)]
pub(super) struct Input {
    pub(super) loc: Loc,
    pub(super) init: u64,
    pub(super) delta: u64,
    pub(super) bytes: u8,
}

/// `off + sum(coef * input)`, modulo `2^(8 * bytes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Lin {
    pub(super) off: u64,
    pub(super) terms: [(u16, u64); MAX_TERMS],
    pub(super) n: u8,
    pub(super) bytes: u8,
}

/// A value inside one iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sym {
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
pub(super) enum FlagSrc {
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
    pub(super) fn constant(v: u64, bytes: u8) -> Lin {
        Lin {
            off: v & mask(bytes),
            terms: [(0, 0); MAX_TERMS],
            n: 0,
            bytes,
        }
    }

    pub(super) fn input(id: u16, bytes: u8) -> Lin {
        let mut l = Lin::constant(0, bytes);
        l.terms[0] = (id, 1);
        l.n = 1;
        l
    }

    pub(super) fn terms(&self) -> &[(u16, u64)] {
        &self.terms[..usize::from(self.n)]
    }

    /// `self + k * other` at `bytes`, if it still fits.
    pub(super) fn add(self, other: Lin, k: u64, bytes: u8) -> Option<Lin> {
        let mut r = Lin::constant(self.off.wrapping_add(k.wrapping_mul(other.off)), bytes);
        for &(id, c) in self.terms() {
            r = r.plus_term(id, c)?;
        }
        for &(id, c) in other.terms() {
            r = r.plus_term(id, c.wrapping_mul(k))?;
        }
        Some(r)
    }

    pub(super) fn plus_term(mut self, id: u16, c: u64) -> Option<Lin> {
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

    pub(super) fn scaled(self, k: u64) -> Lin {
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
pub(super) struct Aff {
    pub(super) c0: u64,
    pub(super) c1: u64,
    pub(super) mask: u64,
}

impl Aff {
    #[inline]
    pub(super) fn at(self, j: u64) -> u64 {
        self.c0.wrapping_add(self.c1.wrapping_mul(j)) & self.mask
    }
}

/// A store whose address moves between iterations.
#[derive(Clone, Copy, Debug)]
pub(super) struct Strided {
    pub(super) addr: Aff,
    pub(super) size: u8,
    pub(super) value: Aff,
}

/// What one symbolic iteration found.
pub(super) struct Iteration {
    pub(super) inputs: Vec<Input>,
    /// The stores at fixed addresses, last value per address, in first-store order.
    pub(super) writes: Vec<(u64, u8, Sym)>,
    /// Every fixed-address access (loads and stores).
    pub(super) accesses: Vec<(u64, u8)>,
    pub(super) strided: Option<(Lin, u8, Sym)>,
    pub(super) regs: [Option<Sym>; 16],
    pub(super) flag_srcs: Vec<FlagSrc>,
    /// The exit branch's flag source and condition.
    pub(super) exit: Option<(u16, u8)>,
}

/// The symbolic executor of one iteration: `deltas` are the inductions a first pass
/// found (none in the first pass, where every address is taken as fixed).
pub(super) struct Executor<'a, const LONG: bool> {
    pub(super) cpu: &'a X86<LONG>,
    pub(super) mem: &'a Memory,
    pub(super) deltas: &'a [(Loc, u64)],
    pub(super) it: Iteration,
}

pub(super) type Fail = ();

impl<'a, const LONG: bool> Executor<'a, LONG> {
    const REG_BYTES: u8 = if LONG { 8 } else { 4 };
    const ADDR_BYTES: u8 = if LONG { 8 } else { 4 };

    pub(super) fn new(cpu: &'a X86<LONG>, mem: &'a Memory, deltas: &'a [(Loc, u64)]) -> Self {
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

    pub(super) fn input(&mut self, loc: Loc, init: u64, bytes: u8) -> Result<Lin, Fail> {
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
    pub(super) fn aff(&self, l: &Lin) -> Aff {
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

    pub(super) fn reg(&mut self, n: u8) -> Result<Sym, Fail> {
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
    pub(super) fn read_reg(&mut self, n: u8, size: u8) -> Result<Sym, Fail> {
        Ok(truncate(self.reg(n)?, size))
    }

    pub(super) fn write_reg(&mut self, n: u8, size: u8, v: Sym) -> Result<(), Fail> {
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

    pub(super) fn address(&mut self, m: &Mem, next_pc: u64) -> Result<Lin, Fail> {
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
    pub(super) fn fixed(&self, a: &Lin) -> Option<u64> {
        let f = self.aff(a);
        (f.c1 == 0).then_some(f.c0)
    }

    pub(super) fn load(&mut self, a: Lin, size: u8) -> Result<Sym, Fail> {
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

    pub(super) fn store(&mut self, a: Lin, size: u8, v: Sym) -> Result<(), Fail> {
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

    pub(super) fn read(&mut self, o: Operand, size: u8, next_pc: u64) -> Result<Sym, Fail> {
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

    pub(super) fn write(&mut self, o: Operand, size: u8, v: Sym, next_pc: u64) -> Result<(), Fail> {
        match o {
            Operand::Reg(n) => self.write_reg(n, size, v),
            Operand::Mem(m) => {
                let a = self.address(&m, next_pc)?;
                self.store(a, size, v)
            }
            _ => Err(()),
        }
    }

    pub(super) fn set_flags(&mut self, f: FlagSrc) -> Result<u16, Fail> {
        let id = u16::try_from(self.it.flag_srcs.len()).map_err(|_| ())?;
        self.it.flag_srcs.push(f);
        Ok(id)
    }

    /// The flag source a flag reader sees (the flags must have been written).
    pub(super) fn flags(&self) -> Result<u16, Fail> {
        let id = self.it.flag_srcs.len().checked_sub(1).ok_or(())?;
        match self.it.flag_srcs[id] {
            FlagSrc::Opaque => Err(()),
            _ => Ok(id as u16),
        }
    }

    /// Executes one instruction of the path symbolically.
    pub(super) fn step(&mut self, pc: u64, i: &Insn) -> Result<(), Fail> {
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
                            super::super::exec::sext(l.off, from) as u64
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
    pub(super) fn steps(&mut self, path: &Path) -> Result<(), Fail> {
        for (pc, i) in &path.insns {
            self.step(*pc, i)?;
        }
        Ok(())
    }

    /// After [`Executor::steps`]: checks that every input is invariant or an induction
    /// (its value at the end is itself plus a constant) and returns the inductions.
    pub(super) fn finish(self) -> Result<(Iteration, Vec<(Loc, u64)>), Fail> {
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

pub(super) fn overlap(a: u64, asz: u8, b: u64, bsz: u8) -> bool {
    ranges_overlap(a, u64::from(asz), b, u64::from(bsz))
}

pub(super) fn lin(s: Sym) -> Result<Lin, Fail> {
    match s {
        Sym::Lin(l) => Ok(l),
        _ => Err(()),
    }
}

/// `s` read as a `size`-byte operand.
pub(super) fn truncate(s: Sym, size: u8) -> Sym {
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
pub(super) fn sum(a: Sym, b: Sym, k: u64, size: u8) -> Sym {
    match (a, b) {
        (Sym::Lin(a), Sym::Lin(b)) => a.add(b, k, size).map_or(Sym::Unknown, Sym::Lin),
        _ => Sym::Unknown,
    }
}

/// and/or/xor: constants only.
pub(super) fn logic(alu: Alu, a: Sym, b: Sym, size: u8) -> Sym {
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
