//! The A64 executor: the effect of one decoded [`Insn`] on the registers, the flags and
//! guest memory, written after the pseudo-code of the Arm Architecture Reference Manual
//! (AddWithCarry, ShiftReg, ExtendReg, the bitfield move, the condition test).
//!
//! It owns semantics only: fetching, decoding and caching belong to the parent module. An
//! instruction either completes ([`Step::Next`], the program counter updated), asks for
//! a system call, or faults before changing anything (a load or store outside memory
//! leaves the registers and the base register's writeback untouched).

use super::decode::{
    Access, Arith, Bitfield, Extend, Index, Insn, Kind, Logic, MoveWide, Mul, PairKind, Select,
    Shift, Unary,
};
use super::Aarch64;
use crate::linux::cpu::FaultKind;
use crate::linux::memory::{MemFault, Memory};

/// How an instruction ended.
#[derive(Debug)]
pub enum Step {
    /// Completed; `pc` holds the next instruction.
    Next,
    /// `svc #0` executed; `pc` is past it.
    Syscall,
    /// Faulted; nothing changed, `pc` still addresses the instruction.
    Fault(FaultKind),
}

/// The NZCV flags as the four-bit value of CCMP's `nzcv` field (N = 8, Z = 4, C = 2, V = 1).
pub type Nzcv = u8;

const N: Nzcv = 8;
const Z: Nzcv = 4;
const C: Nzcv = 2;
const V: Nzcv = 1;

/// AddWithCarry(x, y, carry) on 64 bits: the sum and its flags.
#[inline]
pub fn add_with_carry64(x: u64, y: u64, carry: bool) -> (u64, Nzcv) {
    let (partial, c1) = x.overflowing_add(y);
    let (sum, c2) = partial.overflowing_add(u64::from(carry));
    let overflow = (!(x ^ y) & (x ^ sum)) >> 63 == 1;
    (sum, flags(sum >> 63 == 1, sum == 0, c1 | c2, overflow))
}

/// AddWithCarry(x, y, carry) on 32 bits.
#[inline]
pub fn add_with_carry32(x: u32, y: u32, carry: bool) -> (u32, Nzcv) {
    let (partial, c1) = x.overflowing_add(y);
    let (sum, c2) = partial.overflowing_add(u32::from(carry));
    let overflow = (!(x ^ y) & (x ^ sum)) >> 31 == 1;
    (sum, flags(sum >> 31 == 1, sum == 0, c1 | c2, overflow))
}

#[inline]
fn flags(n: bool, z: bool, c: bool, v: bool) -> Nzcv {
    (u8::from(n) << 3) | (u8::from(z) << 2) | (u8::from(c) << 1) | u8::from(v)
}

/// ConditionHolds(cond) for the flags `nzcv`.
#[inline]
pub fn condition_holds(cond: u8, nzcv: Nzcv) -> bool {
    let (n, z, c, v) = (nzcv & N != 0, nzcv & Z != 0, nzcv & C != 0, nzcv & V != 0);
    let base = match cond >> 1 {
        0 => z,
        1 => c,
        2 => n,
        3 => v,
        4 => c && !z,
        5 => n == v,
        6 => n == v && !z,
        _ => true,
    };
    if cond & 1 == 1 && cond != 0b1111 {
        !base
    } else {
        base
    }
}

/// ShiftReg: `value` (a `datasize`-bit quantity) shifted by `amount` < datasize.
#[inline]
pub fn shift_reg(value: u64, shift: Shift, amount: u32, sf: bool) -> u64 {
    if sf {
        match shift {
            Shift::Lsl => value << amount,
            Shift::Lsr => value >> amount,
            Shift::Asr => ((value as i64) >> amount) as u64,
            Shift::Ror => value.rotate_right(amount),
        }
    } else {
        let v = value as u32;
        u64::from(match shift {
            Shift::Lsl => v << amount,
            Shift::Lsr => v >> amount,
            Shift::Asr => ((v as i32) >> amount) as u32,
            Shift::Ror => v.rotate_right(amount),
        })
    }
}

/// ExtendReg: the low byte, halfword, word or doubleword of `value`, sign- or
/// zero-extended, shifted left by `shift` (0..=4); the caller truncates to its width.
#[inline]
pub fn extend_reg(value: u64, ext: Extend, shift: u32) -> u64 {
    let extended = match ext {
        Extend::Uxtb => value & 0xff,
        Extend::Uxth => value & 0xffff,
        Extend::Uxtw => value & 0xffff_ffff,
        Extend::Uxtx | Extend::Sxtx => value,
        Extend::Sxtb => value as i8 as i64 as u64,
        Extend::Sxth => value as i16 as i64 as u64,
        Extend::Sxtw => value as i32 as i64 as u64,
    };
    extended << shift
}

/// `n` low bits set (n <= 64).
#[inline]
fn ones(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Sign-extends the low `width` bits of `value` (1 <= width <= 64).
#[inline]
fn sign_extend(value: u64, width: u32) -> u64 {
    let unused = 64 - width;
    (((value << unused) as i64) >> unused) as u64
}

/// SBFM, BFM and UBFM: the ARM ARM's wmask/tmask merge, computed as the field extract
/// (imms >= immr) or field insert (imms < immr) it amounts to.
#[inline]
pub fn bitfield(op: Bitfield, sf: bool, dst: u64, src: u64, immr: u32, imms: u32) -> u64 {
    let datasize = if sf { 64 } else { 32 };
    let (r, s) = (immr, imms);
    let result = if s >= r {
        let width = s - r + 1;
        let field = (src >> r) & ones(width);
        match op {
            Bitfield::Ubfm => field,
            Bitfield::Sbfm => sign_extend(field, width),
            Bitfield::Bfm => (dst & !ones(width)) | field,
        }
    } else {
        let lsb = datasize - r;
        let width = s + 1;
        let field = src & ones(width);
        match op {
            Bitfield::Ubfm => field << lsb,
            Bitfield::Sbfm => sign_extend(field, width) << lsb,
            Bitfield::Bfm => {
                let mask = ones(width) << lsb;
                (dst & !mask) | ((field << lsb) & mask)
            }
        }
    };
    truncate(result, sf)
}

#[inline]
fn truncate(value: u64, sf: bool) -> u64 {
    if sf {
        value
    } else {
        value & 0xffff_ffff
    }
}

/// The result and flags of ADD/ADDS/SUB/SUBS on `x` and `y` at width `sf`.
#[inline]
fn arith(op: Arith, sf: bool, x: u64, y: u64) -> (u64, Nzcv) {
    let (y, carry) = match op {
        Arith::Add | Arith::Adds => (y, false),
        Arith::Sub | Arith::Subs => (!y, true),
    };
    add_carry(sf, x, y, carry)
}

#[inline]
fn add_carry(sf: bool, x: u64, y: u64, carry: bool) -> (u64, Nzcv) {
    if sf {
        add_with_carry64(x, y, carry)
    } else {
        let (r, f) = add_with_carry32(x as u32, y as u32, carry);
        (u64::from(r), f)
    }
}

#[inline]
fn sets_flags(op: Arith) -> bool {
    matches!(op, Arith::Adds | Arith::Subs)
}

/// The result and N, Z flags (C = V = 0) of a logical operation at width `sf`.
#[inline]
fn logic(op: Logic, sf: bool, x: u64, y: u64) -> u64 {
    let r = match op {
        Logic::And | Logic::Ands => x & y,
        Logic::Orr => x | y,
        Logic::Eor => x ^ y,
    };
    truncate(r, sf)
}

#[inline]
fn logic_flags(sf: bool, r: u64) -> Nzcv {
    let negative = if sf { r >> 63 } else { r >> 31 } & 1 == 1;
    flags(negative, r == 0, false, false)
}

fn unary(op: Unary, sf: bool, x: u64) -> u64 {
    if sf {
        match op {
            Unary::Rbit => x.reverse_bits(),
            Unary::Rev16 => ((x & 0x00ff_00ff_00ff_00ff) << 8) | ((x >> 8) & 0x00ff_00ff_00ff_00ff),
            Unary::Rev32 => {
                let lo = (x as u32).swap_bytes();
                let hi = ((x >> 32) as u32).swap_bytes();
                (u64::from(hi) << 32) | u64::from(lo)
            }
            Unary::Rev64 => x.swap_bytes(),
            Unary::Clz => u64::from(x.leading_zeros()),
            Unary::Cls => u64::from(((x ^ (x << 1)) | 1).leading_zeros()),
        }
    } else {
        let w = x as u32;
        u64::from(match op {
            Unary::Rbit => w.reverse_bits(),
            Unary::Rev16 => ((w & 0x00ff_00ff) << 8) | ((w >> 8) & 0x00ff_00ff),
            Unary::Rev32 | Unary::Rev64 => w.swap_bytes(),
            Unary::Clz => w.leading_zeros(),
            Unary::Cls => ((w ^ (w << 1)) | 1).leading_zeros(),
        })
    }
}

fn multiply(op: Mul, sf: bool, n: u64, m: u64, a: u64) -> u64 {
    let sw = |x: u64| x as i32 as i64 as u64;
    let uw = |x: u64| x & 0xffff_ffff;
    let r = match op {
        Mul::Madd => a.wrapping_add(n.wrapping_mul(m)),
        Mul::Msub => a.wrapping_sub(n.wrapping_mul(m)),
        Mul::Smaddl => a.wrapping_add(sw(n).wrapping_mul(sw(m))),
        Mul::Smsubl => a.wrapping_sub(sw(n).wrapping_mul(sw(m))),
        Mul::Umaddl => a.wrapping_add(uw(n).wrapping_mul(uw(m))),
        Mul::Umsubl => a.wrapping_sub(uw(n).wrapping_mul(uw(m))),
        Mul::Smulh => ((i128::from(n as i64) * i128::from(m as i64)) >> 64) as u64,
        Mul::Umulh => ((u128::from(n) * u128::from(m)) >> 64) as u64,
    };
    truncate(r, sf)
}

fn divide(signed: bool, sf: bool, n: u64, m: u64) -> u64 {
    match (signed, sf) {
        _ if truncate(m, sf) == 0 => 0,
        (false, true) => n / m,
        (false, false) => u64::from(n as u32 / m as u32),
        (true, true) => (n as i64).wrapping_div(m as i64) as u64,
        (true, false) => u64::from((n as i32).wrapping_div(m as i32) as u32),
    }
}

fn move_wide(op: MoveWide, sf: bool, old: u64, imm16: u16, shift: u8) -> u64 {
    let imm = u64::from(imm16) << shift;
    let r = match op {
        MoveWide::Movz => imm,
        MoveWide::Movn => !imm,
        MoveWide::Movk => (old & !(0xffffu64 << shift)) | imm,
    };
    truncate(r, sf)
}

fn extract(sf: bool, n: u64, m: u64, lsb: u8) -> u64 {
    if sf {
        ((((u128::from(n)) << 64) | u128::from(m)) >> lsb) as u64
    } else {
        let both = ((n & 0xffff_ffff) << 32) | (m & 0xffff_ffff);
        (both >> lsb) & 0xffff_ffff
    }
}

fn select(op: Select, sf: bool, holds: bool, n: u64, m: u64) -> u64 {
    let r = if holds {
        n
    } else {
        match op {
            Select::Csel => m,
            Select::Csinc => m.wrapping_add(1),
            Select::Csinv => !m,
            Select::Csneg => m.wrapping_neg(),
        }
    };
    truncate(r, sf)
}

#[inline]
fn mem_fault(f: MemFault) -> Step {
    Step::Fault(FaultKind::Memory(f))
}

impl Aarch64 {
    #[inline]
    fn reg(&self, r: u8) -> u64 {
        self.regs[usize::from(r & 63)]
    }

    #[inline]
    fn set_reg(&mut self, r: u8, value: u64) {
        self.regs[usize::from(r & 63)] = value;
    }

    /// Loads `op`'s width at `addr`, extended into a register value.
    #[inline]
    fn load(mem: &Memory, op: Access, addr: u64) -> Result<u64, MemFault> {
        Ok(match op {
            Access::Ldrb => u64::from(mem.read_u8(addr)?),
            Access::Ldrh => u64::from(mem.read_u16(addr)?),
            Access::LdrW => u64::from(mem.read_u32(addr)?),
            Access::LdrX => mem.read_u64(addr)?,
            Access::Ldrsb32 => u64::from(mem.read_u8(addr)? as i8 as i32 as u32),
            Access::Ldrsb64 => mem.read_u8(addr)? as i8 as i64 as u64,
            Access::Ldrsh32 => u64::from(mem.read_u16(addr)? as i16 as i32 as u32),
            Access::Ldrsh64 => mem.read_u16(addr)? as i16 as i64 as u64,
            Access::Ldrsw => mem.read_u32(addr)? as i32 as i64 as u64,
            Access::Strb | Access::Strh | Access::StrW | Access::StrX | Access::Prfm => 0,
        })
    }

    /// Stores the low bytes of `value` at `addr` as `op`'s width (a no-op for loads and
    /// prefetches, which the caller routes elsewhere).
    #[inline]
    fn store(
        &mut self,
        mem: &mut Memory,
        op: Access,
        value: u64,
        addr: u64,
    ) -> Result<(), MemFault> {
        let len = match op {
            Access::Strb => {
                mem.write_u8(addr, value as u8)?;
                1
            }
            Access::Strh => {
                mem.write_u16(addr, value as u16)?;
                2
            }
            Access::StrW => {
                mem.write_u32(addr, value as u32)?;
                4
            }
            Access::StrX => {
                mem.write_u64(addr, value)?;
                8
            }
            _ => return Ok(()),
        };
        self.cache.invalidate(addr, len);
        Ok(())
    }

    /// Loads (`Some` values) or stores (`None`) a register pair at `addr`.
    fn pair(
        &mut self,
        mem: &mut Memory,
        kind: PairKind,
        load: bool,
        regs: (u8, u8),
        addr: u64,
    ) -> Result<Option<(u64, u64)>, MemFault> {
        let size = if kind == PairKind::X { 8 } else { 4 };
        let second = addr.wrapping_add(size);
        if load {
            return Ok(Some(match kind {
                PairKind::X => (mem.read_u64(addr)?, mem.read_u64(second)?),
                PairKind::W => (
                    u64::from(mem.read_u32(addr)?),
                    u64::from(mem.read_u32(second)?),
                ),
                PairKind::Sw => (
                    mem.read_u32(addr)? as i32 as i64 as u64,
                    mem.read_u32(second)? as i32 as i64 as u64,
                ),
            }));
        }
        let (a, b) = (self.reg(regs.0), self.reg(regs.1));
        // Both halves are checked before either is written.
        mem.slice(second, size)
            .map_err(|f| MemFault { write: true, ..f })?;
        if kind == PairKind::X {
            mem.write_u64(addr, a)?;
            mem.write_u64(second, b)?;
        } else {
            mem.write_u32(addr, a as u32)?;
            mem.write_u32(second, b as u32)?;
        }
        self.cache.invalidate(addr, 2 * size);
        Ok(None)
    }

    /// The address a load or store accesses and its base register's new value.
    #[inline]
    fn indexed(&self, index: Index, rn: u8, offset: i64) -> (u64, Option<u64>) {
        let base = self.reg(rn);
        let moved = base.wrapping_add(offset as u64);
        match index {
            Index::Offset => (moved, None),
            Index::Pre => (moved, Some(moved)),
            Index::Post => (base, Some(moved)),
        }
    }

    /// Executes `insn`, fetched from `pc`.
    #[inline]
    pub(super) fn exec(&mut self, mem: &mut Memory, insn: Insn, pc: u64) -> Step {
        let next = pc.wrapping_add(4);
        let rel = |offset: i32| pc.wrapping_add(offset as i64 as u64);
        match insn {
            Insn::ArithImm {
                op,
                sf,
                rd,
                rn,
                imm,
            } => {
                let (r, f) = arith(op, sf, self.reg(rn), u64::from(imm));
                if sets_flags(op) {
                    self.nzcv = f;
                }
                self.set_reg(rd, r);
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
                let y = shift_reg(self.reg(rm), shift, u32::from(amount), sf);
                let (r, f) = arith(op, sf, self.reg(rn), y);
                if sets_flags(op) {
                    self.nzcv = f;
                }
                self.set_reg(rd, r);
            }
            Insn::ArithExt {
                op,
                sf,
                rd,
                rn,
                rm,
                ext,
                amount,
            } => {
                let y = extend_reg(self.reg(rm), ext, u32::from(amount));
                let (r, f) = arith(op, sf, self.reg(rn), y);
                if sets_flags(op) {
                    self.nzcv = f;
                }
                self.set_reg(rd, r);
            }
            Insn::ArithCarry { op, sf, rd, rn, rm } => {
                let m = self.reg(rm);
                let y = if matches!(op, Arith::Sub | Arith::Subs) {
                    !m
                } else {
                    m
                };
                let (r, f) = add_carry(sf, self.reg(rn), y, self.nzcv & C != 0);
                if sets_flags(op) {
                    self.nzcv = f;
                }
                self.set_reg(rd, r);
            }
            Insn::LogicImm {
                op,
                sf,
                rd,
                rn,
                imm,
            } => {
                let r = logic(op, sf, self.reg(rn), imm);
                if op == Logic::Ands {
                    self.nzcv = logic_flags(sf, r);
                }
                self.set_reg(rd, r);
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
                let y = shift_reg(self.reg(rm), shift, u32::from(amount), sf);
                let y = if invert { !y } else { y };
                let r = logic(op, sf, self.reg(rn), y);
                if op == Logic::Ands {
                    self.nzcv = logic_flags(sf, r);
                }
                self.set_reg(rd, r);
            }
            Insn::MoveWide {
                op,
                sf,
                rd,
                imm16,
                shift,
            } => {
                let r = move_wide(op, sf, self.reg(rd), imm16, shift);
                self.set_reg(rd, r);
            }
            Insn::Bitfield {
                op,
                sf,
                rd,
                rn,
                immr,
                imms,
            } => {
                let r = bitfield(
                    op,
                    sf,
                    self.reg(rd),
                    self.reg(rn),
                    u32::from(immr),
                    u32::from(imms),
                );
                self.set_reg(rd, r);
            }
            Insn::Extr {
                sf,
                rd,
                rn,
                rm,
                lsb,
            } => {
                let r = extract(sf, self.reg(rn), self.reg(rm), lsb);
                self.set_reg(rd, r);
            }
            Insn::Adr { rd, offset } => self.set_reg(rd, rel(offset)),
            Insn::Adrp { rd, offset } => {
                let page = (pc & !0xfff).wrapping_add(((offset as i64) << 12) as u64);
                self.set_reg(rd, page);
            }
            Insn::B { offset } => {
                self.pc = rel(offset);
                return Step::Next;
            }
            Insn::Bl { offset } => {
                self.regs[30] = next;
                self.pc = rel(offset);
                return Step::Next;
            }
            Insn::BCond { cond, offset } => {
                if condition_holds(cond, self.nzcv) {
                    self.pc = rel(offset);
                    return Step::Next;
                }
            }
            Insn::Cbz {
                sf,
                nonzero,
                rt,
                offset,
            } => {
                if (truncate(self.reg(rt), sf) != 0) == nonzero {
                    self.pc = rel(offset);
                    return Step::Next;
                }
            }
            Insn::Tbz {
                nonzero,
                rt,
                bit,
                offset,
            } => {
                if ((self.reg(rt) >> bit) & 1 == 1) == nonzero {
                    self.pc = rel(offset);
                    return Step::Next;
                }
            }
            Insn::Br { rn } | Insn::Ret { rn } => {
                self.pc = self.reg(rn);
                return Step::Next;
            }
            Insn::Blr { rn } => {
                self.pc = self.reg(rn);
                self.regs[30] = next;
                return Step::Next;
            }
            Insn::LoadStore {
                op,
                index,
                rt,
                rn,
                offset,
            } => {
                let (addr, writeback) = self.indexed(index, rn, i64::from(offset));
                // The access comes first (a fault changes nothing), then the writeback,
                // then the loaded value: a load into its own base register, the ARM ARM's
                // constrained unpredictable case, keeps the loaded value.
                let loaded = match op.kind() {
                    Kind::Store => match self.store(mem, op, self.reg(rt), addr) {
                        Ok(()) => None,
                        Err(f) => return mem_fault(f),
                    },
                    Kind::Load => match Self::load(mem, op, addr) {
                        Ok(v) => Some(v),
                        Err(f) => return mem_fault(f),
                    },
                    Kind::Prefetch => None,
                };
                if let Some(base) = writeback {
                    self.set_reg(rn, base);
                }
                if let Some(v) = loaded {
                    self.set_reg(rt, v);
                }
            }
            Insn::LoadStoreReg {
                op,
                rt,
                rn,
                rm,
                ext,
                shift,
            } => {
                let addr =
                    self.reg(rn)
                        .wrapping_add(extend_reg(self.reg(rm), ext, u32::from(shift)));
                match op.kind() {
                    Kind::Store => {
                        if let Err(f) = self.store(mem, op, self.reg(rt), addr) {
                            return mem_fault(f);
                        }
                    }
                    Kind::Load => match Self::load(mem, op, addr) {
                        Ok(v) => self.set_reg(rt, v),
                        Err(f) => return mem_fault(f),
                    },
                    Kind::Prefetch => {}
                }
            }
            Insn::LoadLiteral { op, rt, offset } => {
                if op != Access::Prfm {
                    match Self::load(mem, op, rel(offset)) {
                        Ok(v) => self.set_reg(rt, v),
                        Err(f) => return mem_fault(f),
                    }
                }
            }
            Insn::Pair {
                kind,
                load,
                index,
                rt,
                rt2,
                rn,
                offset,
            } => {
                let (addr, writeback) = self.indexed(index, rn, i64::from(offset));
                let loaded = match self.pair(mem, kind, load, (rt, rt2), addr) {
                    Ok(v) => v,
                    Err(f) => return mem_fault(f),
                };
                if let Some(base) = writeback {
                    self.set_reg(rn, base);
                }
                if let Some((a, b)) = loaded {
                    self.set_reg(rt, a);
                    self.set_reg(rt2, b);
                }
            }
            Insn::CondCompare {
                sub,
                sf,
                imm,
                rn,
                rm,
                cond,
                nzcv,
            } => {
                if condition_holds(cond, self.nzcv) {
                    let y = if imm { u64::from(rm) } else { self.reg(rm) };
                    let op = if sub { Arith::Subs } else { Arith::Adds };
                    self.nzcv = arith(op, sf, self.reg(rn), y).1;
                } else {
                    self.nzcv = nzcv;
                }
            }
            Insn::CondSelect {
                op,
                sf,
                rd,
                rn,
                rm,
                cond,
            } => {
                let holds = condition_holds(cond, self.nzcv);
                let r = select(op, sf, holds, self.reg(rn), self.reg(rm));
                self.set_reg(rd, r);
            }
            Insn::Div {
                signed,
                sf,
                rd,
                rn,
                rm,
            } => {
                let r = divide(signed, sf, self.reg(rn), self.reg(rm));
                self.set_reg(rd, r);
            }
            Insn::ShiftVar {
                shift,
                sf,
                rd,
                rn,
                rm,
            } => {
                let amount = (self.reg(rm) % if sf { 64 } else { 32 }) as u32;
                let r = shift_reg(self.reg(rn), shift, amount, sf);
                self.set_reg(rd, r);
            }
            Insn::Unary { op, sf, rd, rn } => {
                let r = unary(op, sf, self.reg(rn));
                self.set_reg(rd, r);
            }
            Insn::Mul {
                op,
                sf,
                rd,
                rn,
                rm,
                ra,
            } => {
                let r = multiply(op, sf, self.reg(rn), self.reg(rm), self.reg(ra));
                self.set_reg(rd, r);
            }
            Insn::ReadNzcv { rt } => self.set_reg(rt, u64::from(self.nzcv) << 28),
            Insn::WriteNzcv { rt } => self.nzcv = ((self.reg(rt) >> 28) & 0xf) as u8,
            Insn::Nop => {}
            Insn::Svc => {
                self.pc = next;
                return Step::Syscall;
            }
            Insn::Trap(mnemonic) => return Step::Fault(FaultKind::Trap { mnemonic }),
            Insn::Missing(m) => {
                return Step::Fault(FaultKind::Unimplemented {
                    mnemonic: Some(m.mnemonic()),
                })
            }
            Insn::Unallocated | Insn::Undecoded => {
                return Step::Fault(FaultKind::Unimplemented { mnemonic: None })
            }
        }
        self.pc = next;
        Step::Next
    }
}
