//! The symbolic side of [`super`]: one loop iteration executed over values that are
//! affine in the iteration number. It owns the value domain ([`Lin`] over the iteration's
//! inputs, [`Aff`] once their first values and steps are known, conditions of comparison
//! sources), the [`Executor`] every instruction set's symbolic semantics run on (registers,
//! loads and stores at fixed or moving addresses, comparisons) and the end-of-path check
//! that every input is invariant or an induction. What each instruction does is the
//! instruction set's own ([`super::LoopCpu::step`]).

use std::rc::Rc;

use super::{ranges_overlap, LoopCpu, Path, MAX_TERMS};
use crate::linux::memory::Memory;

/// Register numbers an executor tracks: `0..MAX_REGS` (x86: 16; RISC-V: 32; AArch64's
/// register file: x0..x30, the zero register, SP and the write sink, 34).
pub(crate) const MAX_REGS: usize = 34;

/// All ones in the low `bytes` bytes (1..=8).
pub(crate) fn mask(bytes: u8) -> u64 {
    u64::MAX >> (64 - 8 * u32::from(bytes & 15).clamp(1, 8))
}

/// The inductions of a loop: each location stepped, with its step.
pub(crate) type Inductions = Rc<[(Loc, u64)]>;

/// Where an iteration's input lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    Reg(u8),
    Mem { addr: u64, size: u8 },
}

/// A location read before it is written: its value at the start of iteration `j` is
/// `init + delta * j` (modulo its width).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Input {
    pub(crate) loc: Loc,
    pub(crate) init: u64,
    pub(crate) delta: u64,
    pub(crate) bytes: u8,
}

/// `off + sum(coef * input)`, modulo `2^(8 * bytes)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lin {
    pub(crate) off: u64,
    pub(crate) terms: [(u16, u64); MAX_TERMS],
    pub(crate) n: u8,
    pub(crate) bytes: u8,
}

/// A value inside one iteration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sym {
    Lin(Lin),
    /// 0 or 1: condition `cc` ([`super::exit::Outcome::cond`]) of comparison source
    /// `flags`, zero-extended.
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

/// A comparison source of the iteration: an operation whose outcome (result zero, sign,
/// carry or borrow, overflow, parity: [`super::exit::Outcome`]) a later condition reads. An
/// x86 flag-writing instruction is one; so is a RISC-V compare or branch, and an AArch64
/// `cmp`, each written as the subtraction or test it stands for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum FlagSrc {
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
    /// An outcome the executor does not model (x86 inc/dec, shifts): reading it fails.
    Opaque,
}

impl Lin {
    pub(crate) fn constant(v: u64, bytes: u8) -> Lin {
        Lin {
            off: v & mask(bytes),
            terms: [(0, 0); MAX_TERMS],
            n: 0,
            bytes,
        }
    }

    pub(crate) fn input(id: u16, bytes: u8) -> Lin {
        let mut l = Lin::constant(0, bytes);
        l.terms[0] = (id, 1);
        l.n = 1;
        l
    }

    pub(crate) fn terms(&self) -> &[(u16, u64)] {
        &self.terms[..usize::from(self.n)]
    }

    /// `self + k * other` at `bytes`, if it still fits.
    pub(crate) fn add(self, other: Lin, k: u64, bytes: u8) -> Option<Lin> {
        let mut r = Lin::constant(self.off.wrapping_add(k.wrapping_mul(other.off)), bytes);
        for &(id, c) in self.terms() {
            r = r.plus_term(id, c)?;
        }
        for &(id, c) in other.terms() {
            r = r.plus_term(id, c.wrapping_mul(k))?;
        }
        Some(r)
    }

    pub(crate) fn plus_term(mut self, id: u16, c: u64) -> Option<Lin> {
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

    pub(crate) fn scaled(self, k: u64) -> Lin {
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
pub(crate) struct Aff {
    pub(crate) c0: u64,
    pub(crate) c1: u64,
    pub(crate) mask: u64,
}

impl Aff {
    #[inline]
    pub(crate) fn at(self, j: u64) -> u64 {
        self.c0.wrapping_add(self.c1.wrapping_mul(j)) & self.mask
    }
}

/// A store whose address moves between iterations.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided {
    pub(crate) addr: Aff,
    pub(crate) size: u8,
    pub(crate) value: Aff,
}

/// What one symbolic iteration found.
pub(crate) struct Iteration {
    pub(crate) inputs: Vec<Input>,
    /// The stores at fixed addresses, last value per address, in first-store order.
    pub(crate) writes: Vec<(u64, u8, Sym)>,
    /// Every fixed-address access (loads and stores).
    pub(crate) accesses: Vec<(u64, u8)>,
    pub(crate) strided: Option<(Lin, u8, Sym)>,
    pub(crate) regs: [Option<Sym>; MAX_REGS],
    pub(crate) flag_srcs: Vec<FlagSrc>,
    /// The exit branch's flag source and condition.
    pub(crate) exit: Option<(u16, u8)>,
}

/// The symbolic executor of one iteration on processor `M`: `deltas` are the inductions a
/// first pass found (none in the first pass, where every address is taken as fixed).
pub(crate) struct Executor<'a, M: LoopCpu> {
    pub(crate) cpu: &'a M,
    pub(crate) mem: &'a Memory,
    pub(crate) deltas: &'a [(Loc, u64)],
    pub(crate) it: Iteration,
}

pub(crate) type Fail = ();

impl<'a, M: LoopCpu> Executor<'a, M> {
    pub(crate) fn new(cpu: &'a M, mem: &'a Memory, deltas: &'a [(Loc, u64)]) -> Self {
        Executor {
            cpu,
            mem,
            deltas,
            it: Iteration {
                inputs: Vec::new(),
                writes: Vec::new(),
                accesses: Vec::new(),
                strided: None,
                regs: [None; MAX_REGS],
                flag_srcs: Vec::new(),
                exit: None,
            },
        }
    }

    pub(crate) fn input(&mut self, loc: Loc, init: u64, bytes: u8) -> Result<Lin, Fail> {
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
    pub(crate) fn aff(&self, l: &Lin) -> Aff {
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

    /// Register `n`'s value in the iteration (its whole width): an input until written.
    pub(crate) fn reg(&mut self, n: u8) -> Result<Sym, Fail> {
        if let Some(s) = *self.it.regs.get(usize::from(n)).ok_or(())? {
            return Ok(s);
        }
        let init = self.cpu.reg(n);
        let l = self.input(Loc::Reg(n), init, M::REG_BYTES)?;
        self.it.regs[usize::from(n)] = Some(Sym::Lin(l));
        Ok(Sym::Lin(l))
    }

    /// The fixed address `a` stands for, or None if it moves between iterations.
    pub(crate) fn fixed(&self, a: &Lin) -> Option<u64> {
        let f = self.aff(a);
        (f.c1 == 0).then_some(f.c0)
    }

    pub(crate) fn load(&mut self, a: Lin, size: u8) -> Result<Sym, Fail> {
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
        let init = self.mem.read_sized(addr, size).map_err(|_| ())?;
        Ok(Sym::Lin(self.input(Loc::Mem { addr, size }, init, size)?))
    }

    pub(crate) fn store(&mut self, a: Lin, size: u8, v: Sym) -> Result<(), Fail> {
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

    pub(crate) fn set_flags(&mut self, f: FlagSrc) -> Result<u16, Fail> {
        let id = u16::try_from(self.it.flag_srcs.len()).map_err(|_| ())?;
        self.it.flag_srcs.push(f);
        Ok(id)
    }

    /// The flag source a flag reader sees (the flags must have been written).
    pub(crate) fn flags(&self) -> Result<u16, Fail> {
        let id = self.it.flag_srcs.len().checked_sub(1).ok_or(())?;
        match self.it.flag_srcs[id] {
            FlagSrc::Opaque => Err(()),
            _ => Ok(id as u16),
        }
    }

    /// Sets register `n` to `v` (the whole register).
    pub(crate) fn set_reg(&mut self, n: u8, v: Sym) -> Result<(), Fail> {
        *self.it.regs.get_mut(usize::from(n)).ok_or(())? = Some(v);
        Ok(())
    }

    /// Runs the whole path.
    pub(crate) fn steps(&mut self, path: &Path<M::Insn>) -> Result<(), Fail> {
        for (pc, i) in &path.insns {
            M::step(self, *pc, i)?;
        }
        Ok(())
    }

    /// After [`Executor::steps`]: checks that every input is invariant or an induction
    /// (its value at the end is itself plus a constant) and returns the inductions.
    pub(crate) fn finish(self) -> Result<(Iteration, Vec<(Loc, u64)>), Fail> {
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

pub(crate) fn overlap(a: u64, asz: u8, b: u64, bsz: u8) -> bool {
    ranges_overlap(a, u64::from(asz), b, u64::from(bsz))
}

pub(crate) fn lin(s: Sym) -> Result<Lin, Fail> {
    match s {
        Sym::Lin(l) => Ok(l),
        _ => Err(()),
    }
}

/// `s` read as a `size`-byte operand.
pub(crate) fn truncate(s: Sym, size: u8) -> Sym {
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
pub(crate) fn sum(a: Sym, b: Sym, k: u64, size: u8) -> Sym {
    match (a, b) {
        (Sym::Lin(a), Sym::Lin(b)) => a.add(b, k, size).map_or(Sym::Unknown, Sym::Lin),
        _ => Sym::Unknown,
    }
}

/// A bitwise operation, on constants only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Bitwise {
    And,
    Or,
    Xor,
}

/// `a op b` at `size` bytes if both are constants, else unknown.
pub(crate) fn logic(op: Bitwise, a: Sym, b: Sym, size: u8) -> Sym {
    match (a, b) {
        (Sym::Lin(x), Sym::Lin(y)) if x.n == 0 && y.n == 0 => {
            let v = match op {
                Bitwise::And => x.off & y.off,
                Bitwise::Or => x.off | y.off,
                Bitwise::Xor => x.off ^ y.off,
            };
            Sym::Lin(Lin::constant(v, size))
        }
        _ => Sym::Unknown,
    }
}
