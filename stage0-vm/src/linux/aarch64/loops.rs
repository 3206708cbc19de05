//! The AArch64 side of loop fast-forward ([`crate::linux::loops`]): reading a loop's path
//! from memory and the symbolic semantics of the A64 subset M2-Planet's loops are made
//! of, over the shared [`Executor`].
//!
//! A path runs from the loop head through straight-line code and unconditional jumps
//! back to it, with exactly one conditional exit branch (`cbz`/`cbnz`, or a `b.cond`
//! that is not a skip). M2-Planet's code has three shapes the reader resolves itself:
//! a literal load over its data word (`ldr wN, [pc, #8]; b +8; .word v`: register N is
//! the constant `v`, read when the path is read, and the data word lies inside the path's
//! code snapshot), the jump through it (`br x16` right after `ldr w16` of that form: a
//! jump to `v`), and the condition value (`mov x0, #1; b.cond +8; mov x0, #0; cbnz x0`:
//! x0 is the condition, a predicated move, [`skip`]). The exit branch of M2-Planet's
//! loops jumps over the jump to the loop's end (`cbnz x0, +20`), so the path may continue
//! on either side of it: the fall-through side is tried first, then the taken side.
//!
//! Every path entry is one guest instruction, so the shared count (`m` times the path's
//! length) is exact; the `b.cond` of a condition value runs one instruction (it skips)
//! or two, and the path holds the count of the iterations that go on, the only ones
//! fast-forwarded. Calls, returns, system calls, flag writes other than `subs`/`adds`,
//! and every instruction not named in [`handled`] leave the loop to the interpreter.

use super::decode::{
    decode, Access, Arith, Bitfield, Index, Insn, Kind, Logic, MoveWide, Mul, Shift, SINK, ZR,
};
use super::exec::{bitfield, shift_reg};
use super::{Aarch64, DecodeCache};
use crate::linux::loops::symbolic::{lin, logic, sum, truncate, Bitwise, FlagSrc, Lin, Sym};
use crate::linux::loops::{self, Executor, Fail, LoopCpu, Path, MAX_PATH};
use crate::linux::memory::Memory;

/// The loop heads of an AArch64 processor.
#[derive(Default)]
pub(super) struct Loops(loops::Loops<Entry>);

impl Loops {
    /// Instructions fast-forwarded so far.
    pub(super) fn skipped(&self) -> u64 {
        self.0.skipped
    }
}

impl std::fmt::Debug for Loops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Loops {{ skipped: {} }}", self.0.skipped)
    }
}

/// One guest instruction of a loop path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// An instruction the symbolic semantics run as decoded.
    Insn(Insn),
    /// `ldr wN, [pc, #8]` (or `ldrsw`) before `b +8` over its data word: `rt = value`.
    Literal { rt: u8, value: u64 },
    /// A jump the path follows (`b`, the `br` of a literal), or the move a `b.cond +8`
    /// skips, where it runs (counted only: its effect is the `b.cond` entry's).
    Jump,
    /// A `b.cond +8` over `mov rd, #value`: `rd = if cond holds { rd } else { value }`.
    Predicated { cond: u8, rd: u8, value: u64 },
}

/// What the fast-forward sees of the processor while its run loop holds the registers:
/// the register file and the decode cache that stores must keep true.
pub(super) struct View<'a> {
    regs: &'a mut [u64; 64],
    cache: &'a mut DecodeCache,
}

impl Aarch64 {
    /// At a backward jump (the pc is at its target): [`loops::fast_forward`] with A64
    /// paths, within `room` instructions.
    #[cold]
    pub(super) fn fast_forward(&mut self, mem: &mut Memory, room: u64) -> u64 {
        let mut view = View {
            regs: &mut self.regs,
            cache: &mut self.cache,
        };
        loops::fast_forward(&mut view, mem, &mut self.loops.0, self.pc, room)
    }
}

impl LoopCpu for View<'_> {
    type Insn = Entry;
    const REG_BYTES: u8 = 8;

    fn reg(&self, n: u8) -> u64 {
        self.regs[usize::from(n & 63)]
    }

    fn set_reg(&mut self, n: u8, _bytes: u8, value: u64) {
        if n != ZR && n != SINK {
            self.regs[usize::from(n & 63)] = value;
        }
    }

    fn store(&mut self, mem: &mut Memory, addr: u64, size: u8, value: u64) -> Result<(), ()> {
        mem.write_sized(addr, size, value).map_err(|_| ())?;
        self.cache.invalidate(addr, u64::from(size));
        Ok(())
    }

    fn in_code(&self, _addr: u64, _len: u64) -> bool {
        // Every store drops the decoded slots it overwrites (`store`, `wrote`).
        false
    }

    fn wrote(&mut self, addr: u64, len: u64) {
        self.cache.invalidate(addr, len);
    }

    fn step(ex: &mut Executor<'_, Self>, pc: u64, entry: &Entry) -> Result<(), Fail> {
        match *entry {
            Entry::Jump => Ok(()),
            Entry::Literal { rt, value } => write(ex, rt, konst(value, 8), true),
            Entry::Predicated { cond, rd, value } => predicated(ex, cond, rd, value),
            Entry::Insn(i) => step(ex, pc, i),
        }
    }

    fn path(mem: &Memory, head: u64) -> Option<Path<Entry>> {
        path(mem, head)
    }
}

/// Whether `insn` is a jump the run loop may find a loop head behind (calls and returns
/// are not).
pub(super) fn is_jump(insn: &Insn) -> bool {
    matches!(
        insn,
        Insn::B { .. } | Insn::BCond { .. } | Insn::Cbz { .. } | Insn::Tbz { .. } | Insn::Br { .. }
    )
}

/// Whether the symbolic semantics know `i` as a plain instruction of the path (branches
/// and literal loads are the reader's own).
fn handled(i: &Insn) -> bool {
    match i {
        Insn::ArithImm { .. } | Insn::ArithShift { .. } | Insn::MoveWide { .. } => true,
        Insn::LogicImm { op, .. } | Insn::LogicShift { op, .. } => *op != Logic::Ands,
        Insn::LoadStore { .. } | Insn::Adr { .. } | Insn::Adrp { .. } | Insn::Nop => true,
        // Register-only results, unknown to the analysis unless constant.
        Insn::Bitfield { .. } | Insn::Mul { .. } | Insn::Div { .. } | Insn::ShiftVar { .. } => true,
        Insn::Unary { .. } | Insn::Extr { .. } => true,
        _ => false,
    }
}

/// The path of the loop whose head is `head`, continuing after its exit branch on the
/// fall-through side if that returns to the head, else on the taken side.
fn path(mem: &Memory, head: u64) -> Option<Path<Entry>> {
    walk(mem, head, false).or_else(|| walk(mem, head, true))
}

/// The instruction word at `pc`, decoded.
fn fetch(mem: &Memory, pc: u64) -> Option<Insn> {
    mem.read_u32(pc).ok().map(decode)
}

/// The path from `head` back to it, following the exit branch's taken side if `taken`.
fn walk(mem: &Memory, head: u64, taken: bool) -> Option<Path<Entry>> {
    let mut insns: Vec<(u64, Entry)> = Vec::new();
    let mut exit = None;
    let mut pc = head;
    loop {
        if insns.len() >= MAX_PATH {
            return None;
        }
        let insn = fetch(mem, pc)?;
        let next = pc.wrapping_add(4);
        let rel = |offset: i32| pc.wrapping_add(offset as i64 as u64);
        let (entry, to) = match insn {
            Insn::B { offset } => (Entry::Jump, rel(offset)),
            Insn::LoadLiteral { op, rt, offset: 8 } => (literal(mem, pc, op, rt)?, next),
            Insn::Br { rn } => (Entry::Jump, jump_target(&insns, pc, rn)?),
            Insn::BCond { cond, offset: 8 } if skip(mem, &insns, pc, taken).is_some() => {
                let (rd, value, moves) = skip(mem, &insns, pc, taken)?;
                insns.push((pc, Entry::Predicated { cond, rd, value }));
                if moves {
                    // Counted only: the move's effect is the b.cond entry's.
                    insns.push((next, Entry::Jump));
                }
                pc = next.wrapping_add(4);
                if pc == head {
                    break;
                }
                continue;
            }
            Insn::BCond { offset, .. } | Insn::Cbz { offset, .. } => {
                let target = rel(offset);
                if exit.is_some() || target == next {
                    return None;
                }
                // Taking the branch leaves the loop when the path goes on without it.
                exit = Some(!taken);
                (Entry::Insn(insn), if taken { target } else { next })
            }
            i if handled(&i) => (Entry::Insn(i), next),
            _ => return None,
        };
        insns.push((pc, entry));
        pc = to;
        if pc & 3 != 0 {
            return None;
        }
        if pc == head {
            break;
        }
    }
    // A literal load's entry covers its `b +8` and data word too, so the path's code
    // snapshot holds the value it was read with.
    Path::new(mem, insns, exit?, |e| {
        if matches!(e, Entry::Literal { .. }) {
            12
        } else {
            4
        }
    })
}

/// `ldr wN`/`ldrsw xN, [pc, #8]` at `pc` followed by `b +8`: the constant it loads.
fn literal(mem: &Memory, pc: u64, op: Access, rt: u8) -> Option<Entry> {
    if fetch(mem, pc.wrapping_add(4))? != (Insn::B { offset: 8 }) {
        return None;
    }
    let word = mem.read_u32(pc.wrapping_add(8)).ok()?;
    let value = match op {
        Access::LdrW => u64::from(word),
        Access::Ldrsw => word as i32 as i64 as u64,
        _ => return None,
    };
    Some(Entry::Literal { rt, value })
}

/// The target of `br rn` at `pc` if the three words before it are a literal load into
/// `rn`, its `b +8` and its data word (M2-Planet's far jump), else None.
fn jump_target(insns: &[(u64, Entry)], pc: u64, rn: u8) -> Option<u64> {
    match insns {
        [.., (at, Entry::Literal { rt, value }), (skip, Entry::Jump)]
            if *rt == rn && *at == pc.wrapping_sub(12) && *skip == pc.wrapping_sub(8) =>
        {
            Some(*value)
        }
        _ => None,
    }
}

/// M2-Planet's condition value at the `b.cond +8` at `pc`: `mov xR, #k1` just before it
/// (the last path entry), `mov xR, #k2` skipped, then the exit branch `cbz`/`cbnz xR`,
/// one of `k1`, `k2` zero: `(R, k2, whether the move runs)` in every iteration that goes
/// on along the path (the side `taken` of the exit branch). An iteration's instruction
/// count depends on whether the `b.cond` skips, so the path can only stand for the
/// iterations that go on, and those are the only ones fast-forwarded.
fn skip(mem: &Memory, insns: &[(u64, Entry)], pc: u64, taken: bool) -> Option<(u8, u64, bool)> {
    let set = |i: Insn| match i {
        Insn::MoveWide {
            op: op @ (MoveWide::Movz | MoveWide::Movn),
            sf,
            rd,
            imm16,
            shift,
        } if rd != SINK => Some((rd, move_wide(op, sf, 0, imm16, shift))),
        _ => None,
    };
    let (r1, k1) = match insns.last()? {
        (at, Entry::Insn(i)) if *at == pc.wrapping_sub(4) => set(*i)?,
        _ => return None,
    };
    let (r2, k2) = set(fetch(mem, pc.wrapping_add(4))?)?;
    let Insn::Cbz {
        sf, nonzero, rt, ..
    } = fetch(mem, pc.wrapping_add(8))?
    else {
        return None;
    };
    let (z1, z2) = (k1 & width(sf) == 0, k2 & width(sf) == 0);
    if r1 != r2 || rt != r1 || z1 == z2 {
        return None;
    }
    // Going on along the path: xR is nonzero when a cbnz is taken, zero when a cbz is.
    let goes_on_nonzero = nonzero == taken;
    // The move runs when the value that goes on is k2.
    Some((r1, k2, z2 != goes_on_nonzero))
}

/// MOVZ, MOVN, MOVK of `old` at width `sf`, as the executor computes them.
fn move_wide(op: MoveWide, sf: bool, old: u64, imm16: u16, shift: u8) -> u64 {
    let imm = u64::from(imm16) << shift;
    let r = match op {
        MoveWide::Movz => imm,
        MoveWide::Movn => !imm,
        MoveWide::Movk => (old & !(0xffffu64 << shift)) | imm,
    };
    r & width(sf)
}

fn width(sf: bool) -> u64 {
    if sf {
        u64::MAX
    } else {
        0xffff_ffff
    }
}

fn konst(v: u64, bytes: u8) -> Sym {
    Sym::Lin(Lin::constant(v, bytes))
}

/// The constant `s` stands for, if it is one.
fn constant(s: Sym) -> Option<u64> {
    match s {
        Sym::Lin(l) if l.n == 0 => Some(l.off),
        _ => None,
    }
}

/// Register `r`'s value (the zero register reads zero).
fn read(ex: &mut Executor<'_, View<'_>>, r: u8) -> Result<Sym, Fail> {
    if r == ZR {
        return Ok(konst(0, 8));
    }
    ex.reg(r)
}

/// Register `r` read as an operand of width `sf`.
fn operand(ex: &mut Executor<'_, View<'_>>, r: u8, sf: bool) -> Result<Sym, Fail> {
    Ok(truncate(read(ex, r)?, bytes(sf)))
}

fn bytes(sf: bool) -> u8 {
    if sf {
        8
    } else {
        4
    }
}

/// Writes `v`, a result of width `sf`, to register `rd` (writes to the zero register are
/// dropped); a W result is zero-extended, which keeps only constants and conditions.
fn write(ex: &mut Executor<'_, View<'_>>, rd: u8, v: Sym, sf: bool) -> Result<(), Fail> {
    if rd == SINK || rd == ZR {
        return Ok(());
    }
    let v = match v {
        _ if sf => truncate(v, 8),
        Sym::Cond { .. } => v,
        _ => constant(v).map_or(Sym::Unknown, |c| konst(c & 0xffff_ffff, 8)),
    };
    ex.set_reg(rd, v)
}

/// The comparison source the condition of a flag reader reads: the last flag write,
/// which must not be the exit's zero test (`cbz` writes no flags).
fn nzcv(ex: &Executor<'_, View<'_>>) -> Result<u16, Fail> {
    let id = ex.flags()?;
    if ex.it.exit.is_some_and(|e| e.0 == id) {
        return Err(());
    }
    Ok(id)
}

/// A64 condition `cond` after comparison source `flags`, as the shared numbering (x86's
/// `tttn`). After a subtraction ARM's carry is "no borrow" (HS is x86's AE); after an
/// addition or a logical operation only the conditions that read N, Z and, where it is
/// clear in both, V are taken.
fn condition(ex: &Executor<'_, View<'_>>, flags: u16, cond: u8) -> Result<u8, Fail> {
    const AFTER_SUB: [u8; 14] = [4, 5, 3, 2, 8, 9, 0, 1, 7, 6, 13, 12, 15, 14];
    let cc = *AFTER_SUB.get(usize::from(cond)).ok_or(())?;
    match ex.it.flag_srcs.get(usize::from(flags)).ok_or(())? {
        FlagSrc::Sub { .. } => Ok(cc),
        FlagSrc::Add { .. } | FlagSrc::Logic { .. } if matches!(cond, 0 | 1 | 4 | 5 | 10..=13) => {
            Ok(cc)
        }
        _ => Err(()),
    }
}

/// The move skipped when `cond` holds: a condition value when it picks 1 or 0.
fn predicated(ex: &mut Executor<'_, View<'_>>, cond: u8, rd: u8, value: u64) -> Result<(), Fail> {
    let flags = nzcv(ex)?;
    let cc = condition(ex, flags, cond)?;
    let kept = read(ex, rd)?;
    let v = match (constant(kept), value) {
        (Some(1), 0) => Sym::Cond { cc, flags },
        (Some(0), 1) => Sym::Cond { cc: cc ^ 1, flags },
        (Some(k), v) if k == v => kept,
        _ => Sym::Unknown,
    };
    write(ex, rd, v, true)
}

/// The second operand of a shifted-register instruction, at width `sf`.
fn shifted(
    ex: &mut Executor<'_, View<'_>>,
    rm: u8,
    sf: bool,
    shift: Shift,
    amount: u8,
) -> Result<Sym, Fail> {
    let b = operand(ex, rm, sf)?;
    Ok(match (b, shift) {
        _ if amount == 0 => b,
        (Sym::Lin(l), Shift::Lsl) => Sym::Lin(l.scaled(1 << amount)),
        _ => constant(b).map_or(Sym::Unknown, |c| {
            konst(shift_reg(c, shift, u32::from(amount), sf), bytes(sf))
        }),
    })
}

/// ADD, ADDS, SUB, SUBS of `a` and `b` at width `sf`, with the flag source if it sets
/// the flags.
fn arith(
    ex: &mut Executor<'_, View<'_>>,
    op: Arith,
    sf: bool,
    a: Sym,
    b: Sym,
) -> Result<Sym, Fail> {
    let size = bytes(sf);
    match op {
        Arith::Add => Ok(sum(a, b, 1, size)),
        Arith::Sub => Ok(sum(a, b, u64::MAX, size)),
        Arith::Adds => {
            ex.set_flags(FlagSrc::Add { size, a, b })?;
            Ok(sum(a, b, 1, size))
        }
        Arith::Subs => {
            ex.set_flags(FlagSrc::Sub { size, a, b })?;
            Ok(sum(a, b, u64::MAX, size))
        }
    }
}

/// AND, ORR, EOR (not ANDS) of `a` and `b` at width `sf`: a move when one side is zero,
/// else constants only.
fn bitwise(op: Logic, sf: bool, a: Sym, b: Sym) -> Sym {
    let size = bytes(sf);
    match op {
        Logic::Orr | Logic::Eor if constant(a) == Some(0) => b,
        Logic::Orr | Logic::Eor if constant(b) == Some(0) => a,
        Logic::Orr => logic(Bitwise::Or, a, b, size),
        Logic::Eor => logic(Bitwise::Xor, a, b, size),
        _ => logic(Bitwise::And, a, b, size),
    }
}

/// Executes one instruction of the path symbolically.
fn step(ex: &mut Executor<'_, View<'_>>, pc: u64, i: Insn) -> Result<(), Fail> {
    let (rd, sf, v) = match i {
        Insn::ArithImm {
            op,
            sf,
            rd,
            rn,
            imm,
        } => {
            let a = operand(ex, rn, sf)?;
            (
                rd,
                sf,
                arith(ex, op, sf, a, konst(u64::from(imm), bytes(sf)))?,
            )
        }
        Insn::ArithShift {
            op,
            sf,
            rd,
            rn,
            rm,
            shift,
            amount,
        } => {
            let a = operand(ex, rn, sf)?;
            let b = shifted(ex, rm, sf, shift, amount)?;
            (rd, sf, arith(ex, op, sf, a, b)?)
        }
        Insn::LogicImm {
            op,
            sf,
            rd,
            rn,
            imm,
        } => {
            let a = operand(ex, rn, sf)?;
            (rd, sf, bitwise(op, sf, a, konst(imm, bytes(sf))))
        }
        Insn::LogicShift {
            op,
            sf,
            invert,
            rd,
            rn,
            rm,
            shift,
            amount,
        } => {
            let a = operand(ex, rn, sf)?;
            let b = shifted(ex, rm, sf, shift, amount)?;
            let b = match (invert, constant(b)) {
                (false, _) => b,
                (true, Some(c)) => konst(!c, bytes(sf)),
                (true, None) => Sym::Unknown,
            };
            (rd, sf, bitwise(op, sf, a, b))
        }
        Insn::MoveWide {
            op,
            sf,
            rd,
            imm16,
            shift,
        } => (rd, sf, move_imm(ex, op, sf, rd, imm16, shift)?),
        Insn::Adr { rd, offset } => (rd, true, konst(pc.wrapping_add(offset as i64 as u64), 8)),
        Insn::Adrp { rd, offset } => {
            let page = (pc & !0xfff).wrapping_add(((offset as i64) << 12) as u64);
            (rd, true, konst(page, 8))
        }
        Insn::LoadStore {
            op,
            index,
            rt,
            rn,
            offset,
        } => return load_store(ex, op, index, (rt, rn), offset),
        Insn::BCond { cond, .. } => {
            let flags = nzcv(ex)?;
            let cc = condition(ex, flags, cond)?;
            ex.it.exit = Some((flags, cc));
            return Ok(());
        }
        Insn::Cbz {
            sf, nonzero, rt, ..
        } => {
            let v = operand(ex, rt, sf)?;
            let flags = ex.set_flags(FlagSrc::Logic {
                size: bytes(sf),
                a: v,
                b: v,
            })?;
            ex.it.exit = Some((flags, if nonzero { 5 } else { 4 }));
            return Ok(());
        }
        Insn::Nop => return Ok(()),
        other => return register_only(ex, other),
    };
    write(ex, rd, v, sf)
}

/// MOVZ and MOVN (constants), MOVK (a constant if the register held one).
fn move_imm(
    ex: &mut Executor<'_, View<'_>>,
    op: MoveWide,
    sf: bool,
    rd: u8,
    imm16: u16,
    shift: u8,
) -> Result<Sym, Fail> {
    let old = match op {
        MoveWide::Movk if rd != SINK => constant(read(ex, rd)?),
        MoveWide::Movk => Some(0),
        _ => Some(0),
    };
    Ok(old.map_or(Sym::Unknown, |old| {
        konst(move_wide(op, sf, old, imm16, shift), 8)
    }))
}

/// A load or store with an immediate offset, its base written back for the pre- and
/// post-index forms (after the access; a load into its base keeps the loaded value).
fn load_store(
    ex: &mut Executor<'_, View<'_>>,
    op: Access,
    index: Index,
    (rt, rn): (u8, u8),
    offset: i32,
) -> Result<(), Fail> {
    let base = lin(read(ex, rn)?)?;
    let moved = lin(sum(Sym::Lin(base), konst(offset as i64 as u64, 8), 1, 8))?;
    let addr = if index == Index::Post { base } else { moved };
    let size = match op {
        Access::Strb | Access::Ldrb | Access::Ldrsb32 | Access::Ldrsb64 | Access::Prfm => 1,
        Access::Strh | Access::Ldrh | Access::Ldrsh32 | Access::Ldrsh64 => 2,
        Access::StrW | Access::LdrW | Access::Ldrsw => 4,
        Access::StrX | Access::LdrX => 8,
    };
    let loaded = match op.kind() {
        Kind::Store => {
            let v = read(ex, rt)?;
            ex.store(addr, size, v)?;
            None
        }
        Kind::Load => Some(extended(op, ex.load(addr, size)?)),
        Kind::Prefetch => None,
    };
    if index != Index::Offset {
        ex.set_reg(rn, Sym::Lin(moved))?;
    }
    match loaded {
        Some(v) => write(ex, rt, v, true),
        None => Ok(()),
    }
}

/// A loaded value as the load extends it into the register: the doubleword as it is, a
/// narrower value only if it is a constant.
fn extended(op: Access, v: Sym) -> Sym {
    if op == Access::LdrX {
        return truncate(v, 8);
    }
    let Some(c) = constant(v) else {
        return Sym::Unknown;
    };
    let c = match op {
        Access::Ldrsb32 => u64::from(c as u8 as i8 as i32 as u32),
        Access::Ldrsb64 => c as u8 as i8 as i64 as u64,
        Access::Ldrsh32 => u64::from(c as u16 as i16 as i32 as u32),
        Access::Ldrsh64 => c as u16 as i16 as i64 as u64,
        Access::Ldrsw => c as u32 as i32 as i64 as u64,
        _ => c,
    };
    konst(c, 8)
}

/// Instructions that only write one register: a constant for a bitfield move of
/// constants, else a value the analysis does not follow.
fn register_only(ex: &mut Executor<'_, View<'_>>, i: Insn) -> Result<(), Fail> {
    let (rd, sf, v) = match i {
        Insn::Bitfield {
            op,
            sf,
            rd,
            rn,
            immr,
            imms,
        } => {
            let src = constant(read(ex, rn)?);
            // Only BFM keeps bits of its destination.
            let dst = if op != Bitfield::Bfm || rd == SINK {
                Some(0)
            } else {
                constant(read(ex, rd)?)
            };
            let v = match (src, dst) {
                (Some(s), Some(d)) => konst(
                    bitfield(op, sf, d, s, u32::from(immr), u32::from(imms)),
                    bytes(sf),
                ),
                _ => Sym::Unknown,
            };
            (rd, sf, v)
        }
        Insn::Mul {
            op: Mul::Madd,
            sf,
            rd,
            rn,
            rm,
            ra,
        } => {
            let (a, b) = (operand(ex, rn, sf)?, operand(ex, rm, sf)?);
            let product = match (a, b) {
                (Sym::Lin(x), Sym::Lin(k)) | (Sym::Lin(k), Sym::Lin(x)) if k.n == 0 => {
                    Sym::Lin(x.scaled(k.off))
                }
                _ => Sym::Unknown,
            };
            (rd, sf, sum(operand(ex, ra, sf)?, product, 1, bytes(sf)))
        }
        Insn::Mul { sf, rd, .. }
        | Insn::Div { sf, rd, .. }
        | Insn::ShiftVar { sf, rd, .. }
        | Insn::Unary { sf, rd, .. }
        | Insn::Extr { sf, rd, .. } => (rd, sf, Sym::Unknown),
        _ => return Err(()),
    };
    write(ex, rd, v, sf)
}
