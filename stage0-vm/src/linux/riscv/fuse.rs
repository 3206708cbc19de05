//! Instruction pairs the cached run executes as one: the stack pushes, pops and local
//! loads that M2-Planet's and cc_riscv's code is mostly made of.
//!
//! This module owns which adjacent pairs fuse and what a fused pair does. A pair is fused
//! only when executing it as one step is exactly executing its two instructions in order:
//! - `addi B, B, imm` then `sd`/`sw R, 0(B)` (a push; B is not x0 and R is not B);
//! - `ld`/`lw R, 0(B)` then `addi B, B, imm` (a pop; B is not x0 and R is not B);
//! - `addi R, B, imm` then `ld`/`lw R, 0(R)` (a local or argument load; R is not x0).
//!
//! [`fuse`] is a pure function of the two decoded instructions; the cache keeps the fused
//! form in the first instruction's slot (and empties it whenever either word is written,
//! see [`super::cache`]). [`run_pair`] does the pair's work only when its memory access
//! succeeds, and otherwise changes nothing and says so, so that the caller executes the
//! first instruction alone through the plain executor and every fault is reported exactly
//! where and how the plain path reports it. The caller also runs the plain path when fewer
//! than two instructions of budget remain.

use super::decode::{Inst, Op};
use super::exec::{CodeWatch, Hart};
use crate::linux::memory::Memory;

/// The fused form of `first` followed by `second`, if the pair is one of this module's.
pub fn fuse(first: Inst, second: Inst) -> Option<Inst> {
    let pair = |op, rd, rs1, rs2, imm| Inst {
        op,
        rd,
        rs1,
        rs2,
        imm,
    };
    match (first.op, second.op) {
        (Op::Addi, Op::Sd | Op::Sw)
            if first.rd == first.rs1
                && first.rd != 0
                && second.rs1 == first.rd
                && second.rs2 != first.rd
                && second.imm == 0 =>
        {
            let op = if second.op == Op::Sd {
                Op::AddiSd
            } else {
                Op::AddiSw
            };
            Some(pair(op, 0, first.rs1, second.rs2, first.imm))
        }
        (Op::Ld | Op::Lw, Op::Addi)
            if first.imm == 0
                && first.rs1 != 0
                && first.rd != first.rs1
                && second.rd == first.rs1
                && second.rs1 == first.rs1 =>
        {
            let op = if first.op == Op::Ld {
                Op::LdAddi
            } else {
                Op::LwAddi
            };
            Some(pair(op, first.rd, first.rs1, 0, second.imm))
        }
        (Op::Addi, Op::Ld | Op::Lw)
            if first.rd != 0
                && second.rd == first.rd
                && second.rs1 == first.rd
                && second.imm == 0 =>
        {
            let op = if second.op == Op::Ld {
                Op::AddiLd
            } else {
                Op::AddiLw
            };
            Some(pair(op, first.rd, first.rs1, 0, first.imm))
        }
        _ => None,
    }
}

/// Whether `op` is a fused pair (two instructions, eight bytes).
#[inline(always)]
pub fn is_pair(op: Op) -> bool {
    matches!(
        op,
        Op::AddiSd | Op::AddiSw | Op::LdAddi | Op::LwAddi | Op::AddiLd | Op::AddiLw
    )
}

/// Executes the fused pair `i` at `pc`: the next program counter (`pc + 8`), or `None`
/// with nothing changed when its memory access would fault.
#[inline(always)]
pub fn run_pair<const RV64: bool, W: CodeWatch>(
    x: &mut [u64; 32],
    mem: &mut Memory,
    watch: &mut W,
    i: Inst,
    pc: u64,
) -> Option<u64> {
    let (rd, rs1, rs2) = (
        (i.rd & 31) as usize,
        (i.rs1 & 31) as usize,
        (i.rs2 & 31) as usize,
    );
    let imm = i.imm as i64 as u64;
    let sum = Hart::<RV64>::sx(x[rs1].wrapping_add(imm));
    match i.op {
        Op::AddiSd | Op::AddiSw => {
            let ea = Hart::<RV64>::addr(sum);
            let len = if i.op == Op::AddiSd {
                mem.write_u64(ea, x[rs2]).ok()?;
                8
            } else {
                mem.write_u32(ea, x[rs2] as u32).ok()?;
                4
            };
            watch.stored(ea, len);
            x[rs1] = sum;
        }
        Op::LdAddi | Op::LwAddi => {
            let ea = Hart::<RV64>::addr(x[rs1]);
            x[rd] = load(mem, ea, i.op == Op::LdAddi)?;
            x[0] = 0;
            x[rs1] = sum;
        }
        Op::AddiLd | Op::AddiLw => {
            x[rd] = load(mem, Hart::<RV64>::addr(sum), i.op == Op::AddiLd)?;
        }
        _ => return None,
    }
    Some(Hart::<RV64>::addr(pc.wrapping_add(8)))
}

/// LD (`double`) or LW (sign-extended) at `ea`.
#[inline(always)]
fn load(mem: &Memory, ea: u64, double: bool) -> Option<u64> {
    if double {
        mem.read_u64(ea).ok()
    } else {
        mem.read_u32(ea).ok().map(|w| w as i32 as i64 as u64)
    }
}
