//! The exit condition of a fast-forwarded loop as a function of the iteration number:
//! the path's comparison sources with operands affine in `j`, each evaluated to its
//! [`Outcome`], and the first exiting iteration found by binary search where the
//! comparison's form proves it monotone (else by a scan).
//!
//! Conditions are numbered as in x86's `tttn` field (the low bit negates): 0 overflow,
//! 2 below (unsigned less), 4 equal, 6 below or equal, 8 sign, 10 parity, 12 less
//! (signed), 14 less or equal; 1, 3, ... 15 their negations. Every instruction set writes
//! its compares and branches in these terms (RISC-V `bltu` is condition 2 of the
//! subtraction of its operands, AArch64 `b.hs` condition 3, and so on).

use super::symbolic::{mask, Aff, Executor, Fail, FlagSrc, Sym};
use super::{LoopCpu, Path};

/// What a comparison source computes, as x86 defines its flags for the operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Outcome {
    zero: bool,
    sign: bool,
    carry: bool,
    overflow: bool,
    parity: bool,
}

impl Outcome {
    /// The outcome of `op` on `size`-byte operands `a` and `b` (already truncated).
    pub(crate) fn of(op: FlagOp, size: u8, a: u64, b: u64) -> Outcome {
        let m = mask(size);
        let sign = 1u64 << (8 * u32::from(size) - 1);
        let (r, carry, overflow) = match op {
            FlagOp::Add => {
                let r = a.wrapping_add(b) & m;
                (
                    r,
                    u128::from(a) + u128::from(b) > u128::from(m),
                    (a ^ r) & (b ^ r) & sign != 0,
                )
            }
            FlagOp::Sub => {
                let r = a.wrapping_sub(b) & m;
                (r, a < b, (a ^ b) & (a ^ r) & sign != 0)
            }
            FlagOp::Logic => (a & b, false, false),
        };
        Outcome {
            zero: r == 0,
            sign: r & sign != 0,
            carry,
            overflow,
            parity: (r as u8).count_ones().is_multiple_of(2),
        }
    }

    /// Condition `cc` (numbered as the module says) of this outcome.
    pub(crate) fn cond(self, cc: u8) -> bool {
        let less = self.sign != self.overflow;
        let base = match (cc >> 1) & 7 {
            0 => self.overflow,
            1 => self.carry,
            2 => self.zero,
            3 => self.carry || self.zero,
            4 => self.sign,
            5 => self.parity,
            6 => less,
            _ => less || self.zero,
        };
        base != (cc & 1 != 0)
    }
}

/// The exit condition as a function of `j`: the flag sources of the path with their
/// operands affine in `j` (None: not evaluable), the exit branch's source and condition.
pub(super) struct Exit {
    pub(super) srcs: Vec<Option<ExitFlags>>,
    pub(super) root: u16,
    pub(super) cc: u8,
    pub(super) when_taken: bool,
}

/// An operand of a flag source in the exit condition.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Term {
    Aff(Aff),
    /// 0 or 1: condition `cc` of an earlier flag source.
    Cond {
        cc: u8,
        flags: u16,
    },
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum FlagOp {
    Add,
    Sub,
    Logic,
}

#[derive(Clone, Copy)]
pub(super) struct ExitFlags {
    pub(super) op: FlagOp,
    pub(super) size: u8,
    pub(super) a: Term,
    pub(super) b: Term,
}

impl Exit {
    pub(super) fn new<M: LoopCpu>(
        ex: &Executor<'_, M>,
        path: &Path<M::Insn>,
    ) -> Result<Exit, Fail> {
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
    pub(super) fn check(&self, id: u16, depth: u8) -> Result<(), Fail> {
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

    pub(super) fn value(&self, t: Term, j: u64) -> u64 {
        match t {
            Term::Aff(a) => a.at(j),
            Term::Cond { cc, flags } => u64::from(self.flags_at(flags, j).cond(cc)),
        }
    }

    /// The outcome comparison source `id` computes in iteration `j`.
    pub(super) fn flags_at(&self, id: u16, j: u64) -> Outcome {
        match self.srcs.get(usize::from(id)) {
            Some(Some(f)) => {
                let m = mask(f.size);
                Outcome::of(f.op, f.size, self.value(f.a, j) & m, self.value(f.b, j) & m)
            }
            _ => Outcome::default(),
        }
    }

    /// Whether iteration `j` leaves the loop at the exit branch.
    pub(super) fn exits(&self, j: u64) -> bool {
        self.flags_at(self.root, j).cond(self.cc) == self.when_taken
    }

    /// The first iteration below `limit` that exits, or `limit` (or the end of a range
    /// known not to exit). Where the exit is monotone in `j` ([`Exit::monotone`]) this is
    /// a binary search, else a scan.
    pub(super) fn first_exit(&self, limit: u64) -> u64 {
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
    pub(super) fn monotone(&self, id: u16, cc: u8) -> Option<u64> {
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
pub(super) fn unwrapped_steps(x: Aff, bits: u32, signed: bool) -> u64 {
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
