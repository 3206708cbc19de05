//! The RISC-V side of loop fast-forward ([`crate::linux::loops`]): reading a loop's path
//! from memory and the symbolic semantics of the RV32I/RV64I(M) subset the chains' loops
//! are made of, over the shared [`Executor`].
//!
//! A path runs from the loop head through straight-line code and `jal x0` jumps back to
//! the head, with exactly one conditional branch, which is the exit. M2-Planet's loops
//! branch over a `jal` to the loop's end (`bnez a0, +8; jal x0, END`), so the path may
//! continue on either side of the branch: the fall-through side is tried first, then the
//! taken side. Compares are comparison sources: `slt`/`sltu` (and their immediate forms)
//! are the condition "less" or "below" of the subtraction of their operands, a branch is
//! the same condition of its two registers, or a zero test when one of them is `x0`.
//! Calls, indirect jumps, system calls and every instruction not named in [`handled`]
//! leave the loop to the interpreter.

use super::cache::CodeCache;
use super::decode::{decode, Inst, Op};
use super::exec::{CodeWatch, Hart};
use crate::linux::loops::symbolic::{lin, logic, sum, Bitwise, FlagSrc, Lin, Sym};
use crate::linux::loops::{self, Executor, Fail, LoopCpu, Path, MAX_PATH};
use crate::linux::memory::Memory;

/// The loop heads of a RISC-V processor.
pub(super) type Loops = loops::Loops<Inst>;

/// Conditions, numbered as [`crate::linux::loops::exit`] says.
const BELOW: u8 = 2;
const EQUAL: u8 = 4;
const LESS: u8 = 12;

/// What the fast-forward sees of a hart while its run loop holds the registers: the
/// registers and the decoded-code cache that stores must keep true.
pub(super) struct View<'a, const RV64: bool> {
    pub(super) x: &'a mut [u64; 32],
    pub(super) code: &'a mut CodeCache,
}

impl<const RV64: bool> LoopCpu for View<'_, RV64> {
    type Insn = Inst;
    const REG_BYTES: u8 = if RV64 { 8 } else { 4 };

    fn reg(&self, n: u8) -> u64 {
        Hart::<RV64>::addr(self.x[usize::from(n & 31)])
    }

    fn set_reg(&mut self, n: u8, _bytes: u8, value: u64) {
        if n & 31 != 0 {
            self.x[usize::from(n & 31)] = Hart::<RV64>::sx(value);
        }
    }

    fn store(&mut self, mem: &mut Memory, addr: u64, size: u8, value: u64) -> Result<(), ()> {
        mem.write_sized(addr, size, value).map_err(|_| ())?;
        self.code.stored(addr, u64::from(size));
        Ok(())
    }

    fn in_code(&self, _addr: u64, _len: u64) -> bool {
        // Every store empties the decoded slots it overwrites (`store`, `wrote`).
        false
    }

    fn wrote(&mut self, addr: u64, len: u64) {
        self.code.invalidate(addr, len);
    }

    fn step(ex: &mut Executor<'_, Self>, pc: u64, insn: &Inst) -> Result<(), Fail> {
        step(ex, pc, insn)
    }

    fn path(mem: &Memory, head: u64) -> Option<Path<Inst>> {
        path::<RV64>(mem, head)
    }
}

/// Whether the symbolic executor knows `i` (a `jal` only as a plain jump, `rd = x0`).
fn handled(i: &Inst) -> bool {
    use Op::*;
    match i.op {
        Jal => i.rd == 0,
        Lui | Auipc | Addi | Add | Sub | Slli | Mul | Xori | Ori | Andi | Xor | Or | And | Slt
        | Sltu | Slti | Sltiu | Lb | Lbu | Lh | Lhu | Lw | Lwu | Ld | Sb | Sh | Sw | Sd | Beq
        | Bne | Blt | Bge | Bltu | Bgeu | Fence => true,
        _ => false,
    }
}

/// Whether `op` is a jump the run loop may find a loop head behind (a backward `jal` or
/// branch).
pub(super) fn is_jump(op: Op) -> bool {
    op == Op::Jal || is_branch(op)
}

fn is_branch(op: Op) -> bool {
    matches!(
        op,
        Op::Beq | Op::Bne | Op::Blt | Op::Bge | Op::Bltu | Op::Bgeu
    )
}

/// The path of the loop whose head is `head`, continuing after its exit branch on the
/// fall-through side if that returns to the head, else on the taken side.
fn path<const RV64: bool>(mem: &Memory, head: u64) -> Option<Path<Inst>> {
    walk::<RV64>(mem, head, false).or_else(|| walk::<RV64>(mem, head, true))
}

/// The path from `head` back to it, following the branch's taken side if `taken`.
fn walk<const RV64: bool>(mem: &Memory, head: u64, taken: bool) -> Option<Path<Inst>> {
    let mut insns = Vec::new();
    let mut exit = None;
    let mut pc = head;
    loop {
        if insns.len() >= MAX_PATH {
            return None;
        }
        let i = decode(mem.read_u32(pc).ok()?, RV64);
        if !handled(&i) {
            return None;
        }
        insns.push((pc, i));
        let next = Hart::<RV64>::addr(pc.wrapping_add(4));
        let target = Hart::<RV64>::addr(pc.wrapping_add(i.imm as i64 as u64));
        pc = match i.op {
            Op::Jal => target,
            op if is_branch(op) => {
                if exit.is_some() || target == next {
                    return None;
                }
                // Taking the branch leaves the loop when the path goes on without it.
                exit = Some(!taken);
                if taken {
                    target
                } else {
                    next
                }
            }
            _ => next,
        };
        if pc & 3 != 0 {
            return None;
        }
        if pc == head {
            break;
        }
    }
    Path::new(mem, insns, exit?, |_| 4)
}

/// Register `r`'s value (x0 reads zero).
fn read<const RV64: bool>(ex: &mut Executor<'_, View<'_, RV64>>, r: u8) -> Result<Sym, Fail> {
    if r == 0 {
        return Ok(Sym::Lin(Lin::constant(0, View::<RV64>::REG_BYTES)));
    }
    ex.reg(r)
}

/// Writes register `rd` (writes to x0 are dropped).
fn write<const RV64: bool>(
    ex: &mut Executor<'_, View<'_, RV64>>,
    rd: u8,
    v: Sym,
) -> Result<(), Fail> {
    if rd == 0 {
        return Ok(());
    }
    ex.set_reg(rd, v)
}

/// `v` if it is a constant of a narrower load, extended as the load extends it.
fn extended(v: Sym, from: u8, signed: bool, bytes: u8) -> Sym {
    match v {
        Sym::Lin(l) if l.n == 0 => {
            let shift = 64 - 8 * u32::from(from);
            let c = if signed {
                (((l.off << shift) as i64) >> shift) as u64
            } else {
                l.off
            };
            Sym::Lin(Lin::constant(c, bytes))
        }
        Sym::Lin(l) if l.bytes == bytes => v,
        _ => Sym::Unknown,
    }
}

/// The condition `cc` of the subtraction `a - b`, as a 0-or-1 value; a compare of a
/// condition with 1 (`sltiu rd, c, 1`: "c is false") is that condition negated.
fn compare<const RV64: bool>(
    ex: &mut Executor<'_, View<'_, RV64>>,
    cc: u8,
    a: Sym,
    b: Sym,
) -> Result<Sym, Fail> {
    let size = View::<RV64>::REG_BYTES;
    if let (Sym::Cond { cc: c, flags }, Sym::Lin(one), BELOW) = (a, b, cc) {
        if one.n == 0 && one.off == 1 {
            return Ok(Sym::Cond { cc: c ^ 1, flags });
        }
    }
    let flags = ex.set_flags(FlagSrc::Sub { size, a, b })?;
    Ok(Sym::Cond { cc, flags })
}

/// Executes one instruction of the path symbolically.
fn step<const RV64: bool>(
    ex: &mut Executor<'_, View<'_, RV64>>,
    pc: u64,
    i: &Inst,
) -> Result<(), Fail> {
    let size = View::<RV64>::REG_BYTES;
    let imm = Sym::Lin(Lin::constant(i.imm as i64 as u64, size));
    let a = read(ex, i.rs1)?;
    let b = match i.op {
        Op::Add | Op::Sub | Op::Mul | Op::Xor | Op::Or | Op::And | Op::Slt | Op::Sltu => {
            read(ex, i.rs2)?
        }
        _ => imm,
    };
    let value = match i.op {
        Op::Lui => imm,
        Op::Auipc => Sym::Lin(Lin::constant(pc.wrapping_add(i.imm as i64 as u64), size)),
        Op::Addi | Op::Add => sum(a, b, 1, size),
        Op::Sub => sum(a, b, u64::MAX, size),
        Op::Slli => match a {
            Sym::Lin(l) => Sym::Lin(l.scaled(1 << (i.imm as u32 & (8 * u32::from(size) - 1)))),
            _ => Sym::Unknown,
        },
        Op::Mul => match (a, b) {
            (Sym::Lin(x), Sym::Lin(k)) | (Sym::Lin(k), Sym::Lin(x)) if k.n == 0 => {
                Sym::Lin(x.scaled(k.off))
            }
            _ => Sym::Unknown,
        },
        Op::Xori | Op::Xor => match (a, b) {
            (Sym::Cond { cc, flags }, Sym::Lin(one)) if one.n == 0 && one.off == 1 => {
                Sym::Cond { cc: cc ^ 1, flags }
            }
            _ => logic(Bitwise::Xor, a, b, size),
        },
        Op::Andi | Op::And => match (a, b) {
            (Sym::Cond { .. }, Sym::Lin(one)) if one.n == 0 && one.off == 1 => a,
            _ => logic(Bitwise::And, a, b, size),
        },
        Op::Ori | Op::Or => logic(Bitwise::Or, a, b, size),
        Op::Slt | Op::Slti => compare(ex, LESS, a, b)?,
        Op::Sltu | Op::Sltiu => compare(ex, BELOW, a, b)?,
        Op::Lb | Op::Lbu | Op::Lh | Op::Lhu | Op::Lw | Op::Lwu | Op::Ld => {
            let (from, signed) = match i.op {
                Op::Lb => (1, true),
                Op::Lbu => (1, false),
                Op::Lh => (2, true),
                Op::Lhu => (2, false),
                Op::Lw => (4, true),
                Op::Lwu => (4, false),
                _ => (8, false),
            };
            let addr = lin(sum(a, imm, 1, size))?;
            let v = ex.load(addr, from)?;
            extended(v, from, signed, size)
        }
        Op::Sb | Op::Sh | Op::Sw | Op::Sd => {
            let bytes = match i.op {
                Op::Sb => 1,
                Op::Sh => 2,
                Op::Sw => 4,
                _ => 8,
            };
            let addr = lin(sum(a, imm, 1, size))?;
            let v = read(ex, i.rs2)?;
            return ex.store(addr, bytes, v);
        }
        op if is_branch(op) => return branch(ex, i),
        Op::Jal | Op::Fence => return Ok(()),
        _ => return Err(()),
    };
    write(ex, i.rd, value)
}

/// The path's one conditional branch: its exit.
fn branch<const RV64: bool>(ex: &mut Executor<'_, View<'_, RV64>>, i: &Inst) -> Result<(), Fail> {
    let size = View::<RV64>::REG_BYTES;
    let (a, b) = (read(ex, i.rs1)?, read(ex, i.rs2)?);
    let cc = match i.op {
        Op::Beq => EQUAL,
        Op::Bne => EQUAL | 1,
        Op::Blt => LESS,
        Op::Bge => LESS | 1,
        Op::Bltu => BELOW,
        _ => BELOW | 1,
    };
    let src = match (i.op, i.rs1, i.rs2) {
        // A zero test: `beqz`/`bnez` as x86's `test r, r`.
        (Op::Beq | Op::Bne, _, 0) => FlagSrc::Logic { size, a, b: a },
        (Op::Beq | Op::Bne, 0, _) => FlagSrc::Logic { size, a: b, b },
        _ => FlagSrc::Sub { size, a, b },
    };
    let flags = ex.set_flags(src)?;
    ex.it.exit = Some((flags, cc));
    Ok(())
}
