//! The x86 executor: one decoded [`Insn`] applied to the registers, the flags and guest
//! [`Memory`], as the SDM's operation pseudo-code describes it.
//!
//! Operands are resolved once to a `Place` (register, high byte register, memory
//! address) so that read-modify-write instructions compute their address once. Every
//! store goes through [`X86::store`], which tells the decode cache. Values are kept
//! masked to the operand size; 32-bit register writes zero the upper half (64-bit mode),
//! 8- and 16-bit writes keep the rest of the register. Nothing here panics: register
//! numbers are masked, arithmetic wraps, division is checked.
//!
//! Flags the SDM leaves undefined take the values the AMD EPYC host produces (measured
//! with a C program running each instruction between pushfq/popfq): shifts by a nonzero
//! count set AF and give OF by the one-bit formula on the last step (SHL: MSB(result) XOR
//! CF; SHR: MSB of the operand before the last step; SAR: 0), a count beyond the operand
//! width shifts in zeros (or sign bits); rotates by a nonzero masked count set CF and OF
//! (ROL/RCL: MSB XOR CF; ROR/RCR: the two top bits XORed) even when the count is a
//! multiple of the width; MUL/IMUL keep SF, ZF, AF and PF; DIV/IDIV keep CF and OF, clear
//! SF, ZF and PF and set AF; AND/OR/XOR/TEST clear AF; BT* keep all but CF; BSF/BSR set
//! ZF and PF for a zero source (leaving the destination unchanged), else PF from the
//! result, and clear the other flags. A shift or rotate by zero changes no flag but still writes its
//! destination (a 32-bit register is zero-extended).

use super::decode::{
    mask, Alu, BitOp, Insn, Mem, Op, Operand, Shift, Str, BASE_RIP, NONE, RAX, RBP, RBX, RCX, RDI,
    RDX, RSI, RSP,
};
use super::flags::{msb, szp, AF, ARITH, CF, OF, PF, SF, ZF};
use super::{Flow, X86};
use crate::linux::cpu::FaultKind;
use crate::linux::memory::Memory;

type R<T> = Result<T, FaultKind>;

/// A resolved operand.
#[derive(Clone, Copy, Debug)]
enum Place {
    Reg(u8),
    Hi(u8),
    Mem(u64),
    Imm(u64),
}

/// The repeated string instructions run at most this many iterations per step, then
/// restart (as an interrupted REP does), so the instruction budget bounds them.
const REP_CHUNK: u32 = 1 << 16;

/// `v` (a `size`-byte value) sign-extended.
#[inline]
pub fn sext(v: u64, size: u8) -> i64 {
    let shift = 64 - 8 * u32::from(size.clamp(1, 8));
    ((v << shift) as i64) >> shift
}

/// Loads `size` bytes little-endian.
#[inline(always)]
pub(super) fn load(mem: &Memory, addr: u64, size: u8) -> R<u64> {
    match size {
        1 => mem.read_u8(addr).map(u64::from),
        2 => mem.read_u16(addr).map(u64::from),
        4 => mem.read_u32(addr).map(u64::from),
        _ => mem.read_u64(addr),
    }
    .map_err(FaultKind::Memory)
}

impl<const LONG: bool> X86<LONG> {
    #[inline]
    fn reg(&self, n: u8) -> u64 {
        self.regs[usize::from(n & 15)]
    }

    /// Writes the low `size` bytes of register `n` as the hardware does.
    #[inline]
    pub fn set_reg(&mut self, n: u8, size: u8, v: u64) {
        let r = &mut self.regs[usize::from(n & 15)];
        *r = match size {
            1 => (*r & !0xFF) | (v & 0xFF),
            2 => (*r & !0xFFFF) | (v & 0xFFFF),
            4 => v & 0xFFFF_FFFF,
            _ => v,
        };
    }

    /// The effective address of a memory operand.
    #[inline]
    pub(super) fn effective_address(&self, m: &Mem) -> u64 {
        let mut a = i64::from(m.disp) as u64;
        if m.base < 16 {
            a = a.wrapping_add(self.reg(m.base));
        } else if LONG && m.base == BASE_RIP {
            a = a.wrapping_add(self.rip);
        }
        if m.index != NONE {
            a = a.wrapping_add(self.reg(m.index) << (m.scale & 3));
        }
        // 32-bit mode has only 32-bit addresses (16-bit addressing is not decoded).
        if !LONG || m.addr_size == 4 {
            a & 0xFFFF_FFFF
        } else {
            a
        }
    }

    #[inline]
    fn place(&self, op: Operand) -> Place {
        match op {
            Operand::Reg(n) => Place::Reg(n),
            Operand::RegHi(n) => Place::Hi(n),
            Operand::Mem(m) => Place::Mem(self.effective_address(&m)),
            Operand::Imm(v) => Place::Imm(v),
            Operand::None => Place::Imm(0),
        }
    }

    #[inline]
    fn get(&self, mem: &Memory, p: Place, size: u8) -> R<u64> {
        Ok(match p {
            Place::Reg(n) => self.reg(n) & mask(size),
            Place::Hi(n) => (self.reg(n) >> 8) & 0xFF,
            Place::Mem(a) => load(mem, a, size)?,
            Place::Imm(v) => v & mask(size),
        })
    }

    #[inline]
    fn put(&mut self, mem: &mut Memory, p: Place, size: u8, v: u64) -> R<()> {
        match p {
            Place::Reg(n) => self.set_reg(n, size, v),
            Place::Hi(n) => {
                let r = &mut self.regs[usize::from(n & 3)];
                *r = (*r & !0xFF00) | ((v & 0xFF) << 8);
            }
            Place::Mem(a) => self.store(mem, a, size, v)?,
            // Decoding never makes an immediate a destination.
            Place::Imm(_) => return Err(FaultKind::Unimplemented { mnemonic: None }),
        }
        Ok(())
    }

    #[inline]
    fn read(&self, mem: &Memory, op: Operand, size: u8) -> R<u64> {
        self.get(mem, self.place(op), size)
    }

    #[inline]
    fn write(&mut self, mem: &mut Memory, op: Operand, size: u8, v: u64) -> R<()> {
        let p = self.place(op);
        self.put(mem, p, size, v)
    }

    /// Stores `size` bytes little-endian and drops cached instructions they overlap.
    #[inline(always)]
    pub fn store(&mut self, mem: &mut Memory, addr: u64, size: u8, v: u64) -> R<()> {
        match size {
            1 => mem.write_u8(addr, v as u8),
            2 => mem.write_u16(addr, v as u16),
            4 => mem.write_u32(addr, v as u32),
            _ => mem.write_u64(addr, v),
        }
        .map_err(FaultKind::Memory)?;
        self.note_store(addr, u64::from(size));
        Ok(())
    }

    #[inline]
    fn push(&mut self, mem: &mut Memory, size: u8, v: u64) -> R<()> {
        let sp = self.reg(RSP).wrapping_sub(u64::from(size)) & Self::ADDR_MASK;
        self.store(mem, sp, size, v)?;
        self.regs[usize::from(RSP)] = sp;
        Ok(())
    }

    #[inline]
    fn pop(&mut self, mem: &Memory, size: u8) -> R<u64> {
        let sp = self.reg(RSP);
        let v = load(mem, sp, size)?;
        self.regs[usize::from(RSP)] = sp.wrapping_add(u64::from(size)) & Self::ADDR_MASK;
        Ok(v)
    }

    /// Executes `i`; `self.rip` already points past it.
    pub fn exec(&mut self, mem: &mut Memory, i: &Insn) -> R<Flow> {
        let size = i.size;
        match i.op {
            Op::Alu(alu) => self.alu(mem, alu, size, i.dst, i.src)?,
            Op::Test => {
                let a = self.read(mem, i.dst, size)?;
                let b = self.read(mem, i.src, size)?;
                self.flags.set_logic(size, a & b);
            }
            Op::Mov => {
                let v = self.read(mem, i.src, size)?;
                self.write(mem, i.dst, size, v)?;
            }
            Op::Movzx | Op::Movsx => {
                let from = i.imm as u8;
                let mut v = self.read(mem, i.src, from)?;
                if i.op == Op::Movsx {
                    v = sext(v, from) as u64 & mask(size);
                }
                self.write(mem, i.dst, size, v)?;
            }
            Op::Lea => {
                if let Operand::Mem(m) = i.src {
                    let a = self.effective_address(&m);
                    self.write(mem, i.dst, size, a)?;
                }
            }
            Op::Xchg => {
                let (pd, ps) = (self.place(i.dst), self.place(i.src));
                let a = self.get(mem, pd, size)?;
                let b = self.get(mem, ps, size)?;
                self.put(mem, pd, size, b)?;
                self.put(mem, ps, size, a)?;
            }
            Op::Inc | Op::Dec => {
                let p = self.place(i.dst);
                let a = self.get(mem, p, size)?;
                let up = i.op == Op::Inc;
                let r = if up {
                    a.wrapping_add(1)
                } else {
                    a.wrapping_sub(1)
                } & mask(size);
                self.put(mem, p, size, r)?;
                self.flags.set_incdec(up, size, a, r);
            }
            Op::Neg => {
                let p = self.place(i.dst);
                let a = self.get(mem, p, size)?;
                let r = a.wrapping_neg() & mask(size);
                self.put(mem, p, size, r)?;
                self.flags.set_sub(size, 0, a, r);
            }
            Op::Not => {
                let p = self.place(i.dst);
                let a = self.get(mem, p, size)?;
                self.put(mem, p, size, !a & mask(size))?;
            }
            Op::Mul | Op::Imul1 => self.mul_wide(mem, i.op == Op::Imul1, size, i.dst)?,
            Op::Imul2 | Op::Imul3 => {
                let (a, b) = if i.op == Op::Imul2 {
                    (self.read(mem, i.dst, size)?, self.read(mem, i.src, size)?)
                } else {
                    (self.read(mem, i.src, size)?, i.imm & mask(size))
                };
                let p = i128::from(sext(a, size)) * i128::from(sext(b, size));
                let r = p as u64 & mask(size);
                self.write(mem, i.dst, size, r)?;
                let over = p != i128::from(sext(r, size));
                self.flags.update(CF | OF, if over { CF | OF } else { 0 });
            }
            Op::Div | Op::Idiv => self.div(mem, i.op == Op::Idiv, size, i.dst)?,
            Op::Shift(s) => self.shift(mem, s, size, i.dst, i.src)?,
            Op::Bit(b) => self.bit(mem, b, size, i.dst, i.src)?,
            Op::Bsf | Op::Bsr => {
                let v = self.read(mem, i.src, size)?;
                let p = self.place(i.dst);
                let r = if v == 0 {
                    self.get(mem, p, size)?
                } else if i.op == Op::Bsf {
                    u64::from(v.trailing_zeros())
                } else {
                    u64::from(63 - v.leading_zeros())
                };
                if v != 0 {
                    self.put(mem, p, size, r)?;
                }
                self.flags
                    .set_eager(if v == 0 { ZF | PF } else { szp(r, size) & PF });
            }
            Op::Bswap => {
                let v = self.read(mem, i.dst, size)?;
                let r = match size {
                    8 => v.swap_bytes(),
                    4 => u64::from((v as u32).swap_bytes()),
                    _ => return unimplemented("bswap r16"),
                };
                self.write(mem, i.dst, size, r)?;
            }
            Op::Xadd => {
                let p = self.place(i.dst);
                let a = self.get(mem, p, size)?;
                let b = self.read(mem, i.src, size)?;
                let r = a.wrapping_add(b) & mask(size);
                self.write(mem, i.src, size, a)?;
                self.put(mem, p, size, r)?;
                self.flags.set_add(size, a, b, r);
            }
            Op::Cmpxchg => {
                let p = self.place(i.dst);
                let d = self.get(mem, p, size)?;
                let acc = self.reg(RAX) & mask(size);
                if acc == d {
                    let s = self.read(mem, i.src, size)?;
                    self.put(mem, p, size, s)?;
                } else {
                    self.set_reg(RAX, size, d);
                }
                self.flags
                    .set_sub(size, acc, d, acc.wrapping_sub(d) & mask(size));
            }
            Op::Push => {
                let v = self.read(mem, i.src, size)?;
                self.push(mem, size, v)?;
            }
            Op::Pop => {
                let sp = self.reg(RSP);
                let v = load(mem, sp, size)?;
                self.regs[usize::from(RSP)] = sp.wrapping_add(u64::from(size)) & Self::ADDR_MASK;
                if let Err(e) = self.write(mem, i.dst, size, v) {
                    self.regs[usize::from(RSP)] = sp;
                    return Err(e);
                }
            }
            Op::Pushf => {
                let v = u64::from(self.eflags()) & mask(size);
                self.push(mem, size, v)?;
            }
            Op::Popf => {
                let mut v = self.pop(mem, size)? as u32;
                if size == 2 {
                    v |= self.eflags() & 0xFFFF_0000;
                }
                self.flags.set_eager(v & ARITH);
                self.df = v & (1 << 10) != 0;
                self.free_bits = v & ((1 << 18) | (1 << 21));
            }
            Op::CallRel => {
                self.push(mem, size, self.rip & mask(size))?;
                self.rip = i.imm;
            }
            Op::CallInd => {
                let t = self.read(mem, i.src, size)?;
                self.push(mem, size, self.rip & mask(size))?;
                self.rip = t & Self::ADDR_MASK;
            }
            Op::JmpRel => self.rip = i.imm,
            Op::JmpInd => self.rip = self.read(mem, i.src, size)? & Self::ADDR_MASK,
            Op::Jcc(cc) => {
                if self.flags.cond(cc) {
                    self.rip = i.imm;
                }
            }
            Op::Setcc(cc) => {
                let v = u64::from(self.flags.cond(cc));
                self.write(mem, i.dst, 1, v)?;
            }
            Op::Cmovcc(cc) => {
                let v = self.read(mem, i.src, size)?;
                // A 32-bit cmov zero-extends its destination even when it does not move.
                let v = if self.flags.cond(cc) {
                    v
                } else {
                    self.read(mem, i.dst, size)?
                };
                self.write(mem, i.dst, size, v)?;
            }
            Op::Loop(kind) => self.loop_(kind, i)?,
            Op::Ret => {
                let t = self.pop(mem, size)?;
                let sp = self.reg(RSP).wrapping_add(i.imm) & Self::ADDR_MASK;
                self.regs[usize::from(RSP)] = sp;
                self.rip = t & Self::ADDR_MASK;
            }
            Op::Leave => {
                let sp = self.reg(RSP);
                self.regs[usize::from(RSP)] = self.reg(RBP) & Self::ADDR_MASK;
                match self.pop(mem, size) {
                    Ok(v) => self.set_reg(RBP, size, v),
                    Err(e) => {
                        self.regs[usize::from(RSP)] = sp;
                        return Err(e);
                    }
                }
            }
            Op::Enter => {
                if (i.imm >> 16) & 0x1F != 0 {
                    return unimplemented("enter with a nesting level");
                }
                self.push(mem, size, self.reg(RBP) & mask(size))?;
                let frame = self.reg(RSP);
                self.set_reg(RBP, size, frame);
                self.regs[usize::from(RSP)] = frame.wrapping_sub(i.imm & 0xFFFF) & Self::ADDR_MASK;
            }
            Op::Cbw => {
                let half = size / 2;
                let v = sext(self.reg(RAX), half) as u64;
                self.set_reg(RAX, size, v);
            }
            Op::Cwd => {
                let v = if msb(self.reg(RAX), size) {
                    u64::MAX
                } else {
                    0
                };
                self.set_reg(RDX, size, v);
            }
            Op::Str(s) => self.string(mem, s, size, i)?,
            Op::Xlat => {
                let asz = self.read(mem, i.src, 1)? as u8;
                let a = self.reg(RBX).wrapping_add(self.reg(RAX) & 0xFF) & mask(asz);
                let v = load(mem, a, 1)?;
                self.set_reg(RAX, 1, v);
            }
            Op::Lahf => {
                let v = (self.flags.get() & (SF | ZF | AF | PF | CF)) | 2;
                self.put(mem, Place::Hi(RAX), 1, u64::from(v))?;
            }
            Op::Sahf => {
                let ah = (self.reg(RAX) >> 8) as u32;
                self.flags.update(SF | ZF | AF | PF | CF, ah);
            }
            Op::Clc => self.flags.update(CF, 0),
            Op::Stc => self.flags.update(CF, CF),
            Op::Cmc => {
                let cf = self.flags.cf();
                self.flags.update(CF, if cf { 0 } else { CF });
            }
            Op::Cld => self.df = false,
            Op::Std => self.df = true,
            Op::Nop => {}
            Op::Int => {
                let n = self.read(mem, i.src, 1)?;
                return match n {
                    0x80 if !LONG => Ok(Flow::Syscall),
                    0x80 => unimplemented("int 0x80 (the 32-bit system call) in a 64-bit process"),
                    3 => Err(FaultKind::Trap { mnemonic: "int3" }),
                    _ => Err(FaultKind::Trap { mnemonic: "int" }),
                };
            }
            Op::Syscall => {
                self.regs[usize::from(RCX)] = self.rip;
                self.regs[11] = u64::from(self.eflags());
                return Ok(Flow::Syscall);
            }
            Op::Trap(t) => {
                return Err(FaultKind::Trap {
                    mnemonic: t.mnemonic(),
                })
            }
        }
        Ok(Flow::Next)
    }

    fn alu(&mut self, mem: &mut Memory, alu: Alu, size: u8, dst: Operand, src: Operand) -> R<()> {
        let b = self.read(mem, src, size)?;
        let p = self.place(dst);
        let a = self.get(mem, p, size)?;
        let r = self.alu_value(alu, size, a, b);
        if alu != Alu::Cmp {
            self.put(mem, p, size, r)?;
        }
        Ok(())
    }

    /// `a alu b` on `size`-byte operands, setting the flags; the result to store.
    #[inline(always)]
    pub(super) fn alu_value(&mut self, alu: Alu, size: u8, a: u64, b: u64) -> u64 {
        let carry = u64::from(matches!(alu, Alu::Adc | Alu::Sbb) && self.flags.cf());
        let r = match alu {
            Alu::Add | Alu::Adc => a.wrapping_add(b).wrapping_add(carry),
            Alu::Sub | Alu::Cmp | Alu::Sbb => a.wrapping_sub(b).wrapping_sub(carry),
            Alu::And => a & b,
            Alu::Or => a | b,
            Alu::Xor => a ^ b,
        } & mask(size);
        match alu {
            Alu::Add | Alu::Adc => self.flags.set_add(size, a, b, r),
            Alu::Sub | Alu::Sbb | Alu::Cmp => self.flags.set_sub(size, a, b, r),
            Alu::And | Alu::Or | Alu::Xor => self.flags.set_logic(size, r),
        }
        r
    }

    /// One-operand MUL/IMUL: rDX:rAX (AX for bytes) = rAX * src.
    fn mul_wide(&mut self, mem: &mut Memory, signed: bool, size: u8, src: Operand) -> R<()> {
        let b = self.read(mem, src, size)?;
        let a = self.reg(RAX) & mask(size);
        let bits = 8 * u32::from(size);
        let (lo, hi, over) = if signed {
            let p = i128::from(sext(a, size)) * i128::from(sext(b, size));
            let lo = p as u64 & mask(size);
            (
                lo,
                (p >> bits) as u64 & mask(size),
                p != i128::from(sext(lo, size)),
            )
        } else {
            let p = u128::from(a) * u128::from(b);
            let hi = (p >> bits) as u64 & mask(size);
            (p as u64 & mask(size), hi, hi != 0)
        };
        if size == 1 {
            self.set_reg(RAX, 2, lo | (hi << 8));
        } else {
            self.set_reg(RAX, size, lo);
            self.set_reg(RDX, size, hi);
        }
        self.flags.update(CF | OF, if over { CF | OF } else { 0 });
        Ok(())
    }

    /// DIV/IDIV of rDX:rAX (AX for bytes) by src.
    fn div(&mut self, mem: &mut Memory, signed: bool, size: u8, src: Operand) -> R<()> {
        let d = self.read(mem, src, size)?;
        if d == 0 {
            return Err(FaultKind::DivideError);
        }
        let m = mask(size);
        let bits = 8 * u32::from(size);
        let (hi, lo) = if size == 1 {
            ((self.reg(RAX) >> 8) & 0xFF, self.reg(RAX) & 0xFF)
        } else {
            (self.reg(RDX) & m, self.reg(RAX) & m)
        };
        let n = (u128::from(hi) << bits) | u128::from(lo);
        let (q, r) = if signed {
            let shift = 128 - 2 * bits;
            let n = ((n << shift) as i128) >> shift;
            let dv = i128::from(sext(d, size));
            let (q, r) = match (n.checked_div(dv), n.checked_rem(dv)) {
                (Some(q), Some(r)) => (q, r),
                _ => return Err(FaultKind::DivideError),
            };
            let limit = 1i128 << (bits - 1);
            if q < -limit || q >= limit {
                return Err(FaultKind::DivideError);
            }
            (q as u64 & m, r as u64 & m)
        } else {
            let q = n / u128::from(d);
            if q > u128::from(m) {
                return Err(FaultKind::DivideError);
            }
            (q as u64, (n % u128::from(d)) as u64)
        };
        if size == 1 {
            self.set_reg(RAX, 2, q | (r << 8));
        } else {
            self.set_reg(RAX, size, q);
            self.set_reg(RDX, size, r);
        }
        self.flags.update(SF | ZF | PF | AF, AF);
        Ok(())
    }

    fn shift(&mut self, mem: &mut Memory, s: Shift, size: u8, dst: Operand, src: Operand) -> R<()> {
        let count = self.read(mem, src, 1)? & if size == 8 { 63 } else { 31 };
        let p = self.place(dst);
        let a = self.get(mem, p, size)?;
        if count == 0 {
            // No flag changes, but the destination is written (a 32-bit register is
            // zero-extended).
            return self.put(mem, p, size, a);
        }
        let c = count as u32;
        let bits = 8 * u32::from(size);
        let m = mask(size);
        let bit = |v: u64, n: u32| (v >> n) & 1 != 0;
        let cf_old = self.flags.cf();
        let (r, cf, of) = match s {
            Shift::Shl | Shift::Sal => {
                let wide = u128::from(a) << c;
                let r = wide as u64 & m;
                let cf = (wide >> bits) & 1 != 0;
                (r, cf, msb(r, size) != cf)
            }
            Shift::Shr => {
                let last = a >> (c - 1);
                (a >> c, last & 1 != 0, msb(last, size))
            }
            Shift::Sar => {
                let sa = sext(a, size);
                ((sa >> c) as u64 & m, (sa >> (c - 1)) & 1 != 0, false)
            }
            Shift::Rol | Shift::Ror => {
                let n = c % bits;
                let r = if n == 0 {
                    a
                } else if s == Shift::Rol {
                    ((a << n) | (a >> (bits - n))) & m
                } else {
                    ((a >> n) | (a << (bits - n))) & m
                };
                if s == Shift::Rol {
                    let cf = r & 1 != 0;
                    (r, cf, msb(r, size) != cf)
                } else {
                    (r, msb(r, size), msb(r, size) != bit(r, bits - 2))
                }
            }
            Shift::Rcl | Shift::Rcr => {
                let width = bits + 1;
                let n = c % width;
                let v = (u128::from(cf_old) << bits) | u128::from(a);
                let all = (1u128 << width) - 1;
                let rot = if n == 0 {
                    v
                } else if s == Shift::Rcl {
                    ((v << n) | (v >> (width - n))) & all
                } else {
                    ((v >> n) | (v << (width - n))) & all
                };
                let r = rot as u64 & m;
                let cf = (rot >> bits) & 1 != 0;
                if s == Shift::Rcl {
                    (r, cf, msb(r, size) != cf)
                } else {
                    (r, cf, msb(r, size) != bit(r, bits - 2))
                }
            }
        };
        self.put(mem, p, size, r)?;
        let f = if cf { CF } else { 0 } | if of { OF } else { 0 };
        if matches!(s, Shift::Shl | Shift::Sal | Shift::Shr | Shift::Sar) {
            self.flags.set_eager(f | szp(r, size) | AF);
        } else {
            self.flags.update(CF | OF, f);
        }
        Ok(())
    }

    fn bit(&mut self, mem: &mut Memory, b: BitOp, size: u8, dst: Operand, src: Operand) -> R<()> {
        let bits = 8 * u64::from(size);
        let off = self.read(mem, src, size)?;
        let (p, n) = match (dst, src) {
            (Operand::Mem(m), Operand::Reg(_)) => {
                // A register bit offset reaches beyond the operand (signed).
                let off = sext(off, size);
                let words = off >> bits.trailing_zeros();
                let a = self
                    .effective_address(&m)
                    .wrapping_add((words as u64).wrapping_mul(u64::from(size)));
                let a = if m.addr_size == 4 { a & 0xFFFF_FFFF } else { a };
                (Place::Mem(a), off as u64 & (bits - 1))
            }
            _ => (self.place(dst), off & (bits - 1)),
        };
        let v = self.get(mem, p, size)?;
        let cf = (v >> n) & 1 != 0;
        let r = match b {
            BitOp::Bt => None,
            BitOp::Bts => Some(v | (1 << n)),
            BitOp::Btr => Some(v & !(1 << n)),
            BitOp::Btc => Some(v ^ (1 << n)),
        };
        if let Some(r) = r {
            self.put(mem, p, size, r)?;
        }
        self.flags.update(CF, if cf { CF } else { 0 });
        Ok(())
    }

    /// LOOPNE, LOOPE, LOOP, JrCXZ.
    fn loop_(&mut self, kind: u8, i: &Insn) -> R<()> {
        let asz = match i.src {
            Operand::Imm(v) => v as u8,
            _ => 4,
        };
        let take = if kind == 3 {
            self.reg(RCX) & mask(asz) == 0
        } else {
            let c = self.reg(RCX).wrapping_sub(1) & mask(asz);
            self.set_reg(RCX, asz, c);
            c != 0
                && match kind {
                    0 => !self.flags.zf(),
                    1 => self.flags.zf(),
                    _ => true,
                }
        };
        if take {
            self.rip = i.imm;
        }
        Ok(())
    }

    /// MOVS, CMPS, STOS, LODS, SCAS, with their repeat prefix.
    fn string(&mut self, mem: &mut Memory, s: Str, size: u8, i: &Insn) -> R<()> {
        let asz = match i.src {
            Operand::Imm(v) => v as u8,
            _ => 4,
        };
        let am = mask(asz);
        let step = if self.df {
            u64::from(size).wrapping_neg()
        } else {
            u64::from(size)
        };
        let rep = i.imm;
        let mut left = REP_CHUNK;
        loop {
            if rep != 0 && self.reg(RCX) & am == 0 {
                return Ok(());
            }
            let (si, di) = (self.reg(RSI) & am, self.reg(RDI) & am);
            match s {
                Str::Movs => {
                    let v = load(mem, si, size)?;
                    self.store(mem, di, size, v)?;
                }
                Str::Stos => self.store(mem, di, size, self.reg(RAX))?,
                Str::Lods => {
                    let v = load(mem, si, size)?;
                    self.set_reg(RAX, size, v);
                }
                Str::Cmps | Str::Scas => {
                    let a = if s == Str::Cmps {
                        load(mem, si, size)?
                    } else {
                        self.reg(RAX) & mask(size)
                    };
                    let b = load(mem, di, size)?;
                    self.flags
                        .set_sub(size, a, b, a.wrapping_sub(b) & mask(size));
                }
            }
            if matches!(s, Str::Movs | Str::Lods | Str::Cmps) {
                self.set_reg(RSI, asz, si.wrapping_add(step) & am);
            }
            if s != Str::Lods {
                self.set_reg(RDI, asz, di.wrapping_add(step) & am);
            }
            if rep == 0 {
                return Ok(());
            }
            let c = self.reg(RCX).wrapping_sub(1) & am;
            self.set_reg(RCX, asz, c);
            if matches!(s, Str::Cmps | Str::Scas) && (self.flags.zf() != (rep == 1)) {
                return Ok(());
            }
            left -= 1;
            if left == 0 {
                if c != 0 {
                    self.rip = self.rip.wrapping_sub(u64::from(i.len)) & Self::ADDR_MASK;
                }
                return Ok(());
            }
        }
    }
}

fn unimplemented<T>(mnemonic: &'static str) -> R<T> {
    Err(FaultKind::Unimplemented {
        mnemonic: Some(mnemonic),
    })
}
