//! The RISC-V executor: one decoded [`Inst`] applied to a hart's registers and memory, for
//! RV64 (`RV64 = true`) or RV32.
//!
//! This module owns the instruction semantics of the I base and the M extension as the
//! unprivileged ISA manual defines them. RV32 registers are held sign-extended to 64 bits
//! (every RV32 result is the RV64 W-form result), which makes signed and unsigned compares,
//! bitwise operations and LUI the same on both widths; addresses and the program counter
//! are taken modulo 2^XLEN. `x0` is written like any register and re-zeroed after every
//! instruction. Division never faults: by zero it gives all ones (quotient) or the dividend
//! (remainder), and MIN / -1 gives MIN and remainder 0. Stores report what they wrote to a
//! [`CodeWatch`] so that decoded copies of code can be dropped.

use super::decode::{Inst, Op};
use crate::linux::cpu::FaultKind;
use crate::linux::memory::Memory;

/// Why an instruction did not simply complete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// ECALL: the program counter is already past it.
    Syscall,
    /// The instruction cannot execute; the program counter still points at it.
    Fault(FaultKind),
}

/// Told about every completed store, so decoded code at those bytes can be invalidated.
pub trait CodeWatch {
    /// `len` bytes at `addr` were written.
    fn stored(&mut self, addr: u64, len: u64);
}

/// No decoded code to watch: the plain decode-every-time path.
impl CodeWatch for () {
    #[inline(always)]
    fn stored(&mut self, _addr: u64, _len: u64) {}
}

/// A hart's user-visible state: 32 integer registers (`x[0]` always reads zero) and pc.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hart<const RV64: bool> {
    /// The integer registers; on RV32 each holds its 32-bit value sign-extended.
    pub x: [u64; 32],
    /// The program counter (on RV32 below 2^32).
    pub pc: u64,
}

/// What [`Hart::step`] returns instead of a program counter when the instruction stopped
/// (never a real one: every program counter is 4-aligned).
pub const STOPPED: u64 = 1;

/// The misaligned-jump fault (there is no C extension, so targets must be 4-aligned).
pub const MISALIGNED_TARGET: &str = "jump or branch to an address that is not 4-byte aligned";

impl<const RV64: bool> Hart<RV64> {
    /// A value truncated to XLEN, in the register representation.
    #[inline(always)]
    pub fn sx(v: u64) -> u64 {
        if RV64 {
            v
        } else {
            v as i32 as i64 as u64
        }
    }

    /// A value truncated to XLEN, as an address.
    #[inline(always)]
    pub fn addr(v: u64) -> u64 {
        if RV64 {
            v
        } else {
            v & 0xffff_ffff
        }
    }

    /// Executes `i` at `self.pc`. On success the program counter is the next instruction.
    #[inline(always)]
    pub fn execute<W: CodeWatch>(
        &mut self,
        mem: &mut Memory,
        watch: &mut W,
        i: Inst,
    ) -> Result<(), Stop> {
        let mut stop = Stop::Syscall;
        match Self::step(&mut self.x, mem, watch, i, self.pc, &mut stop) {
            STOPPED => {
                if stop == Stop::Syscall {
                    self.pc = Self::addr(self.pc.wrapping_add(4));
                }
                Err(stop)
            }
            next => {
                self.pc = next;
                Ok(())
            }
        }
    }

    /// Executes `i` at `pc` over registers `x`; returns the next program counter, or
    /// [`STOPPED`] with the reason in `stop` (after ECALL the next instruction is at
    /// `pc + 4`; after a fault nothing has changed). A plain `u64` keeps the interpreter's
    /// hot path in registers.
    #[inline(always)]
    pub fn step<W: CodeWatch>(
        x: &mut [u64; 32],
        mem: &mut Memory,
        watch: &mut W,
        i: Inst,
        pc: u64,
        stop: &mut Stop,
    ) -> u64 {
        let a = x[(i.rs1 & 31) as usize];
        let b = x[(i.rs2 & 31) as usize];
        let imm = i.imm as i64 as u64;
        let mut next = Self::addr(pc.wrapping_add(4));
        macro_rules! stop {
            ($why:expr) => {{
                *stop = $why;
                return STOPPED;
            }};
        }
        macro_rules! fault {
            ($kind:expr) => {
                stop!(Stop::Fault($kind))
            };
        }
        macro_rules! mem {
            ($access:expr) => {
                match $access {
                    Ok(v) => v,
                    Err(f) => fault!(FaultKind::Memory(f)),
                }
            };
        }
        let ea = Self::addr(a.wrapping_add(imm));
        macro_rules! jump {
            ($target:expr) => {{
                let t = $target;
                if t & 3 != 0 {
                    fault!(FaultKind::Unimplemented {
                        mnemonic: Some(MISALIGNED_TARGET),
                    });
                }
                next = t;
            }};
        }
        macro_rules! branch {
            ($cond:expr) => {{
                if $cond {
                    jump!(Self::addr(pc.wrapping_add(imm)));
                }
                0
            }};
        }
        macro_rules! store {
            ($write:ident, $t:ty, $n:expr) => {{
                mem!(mem.$write(ea, b as $t));
                watch.stored(ea, $n);
                0
            }};
        }
        let v = match i.op {
            Op::Lui => imm,
            Op::Auipc => Self::sx(pc.wrapping_add(imm)),
            Op::Jal => {
                jump!(Self::addr(pc.wrapping_add(imm)));
                Self::sx(pc.wrapping_add(4))
            }
            Op::Jalr => {
                jump!(ea & !1);
                Self::sx(pc.wrapping_add(4))
            }
            Op::Beq => branch!(a == b),
            Op::Bne => branch!(a != b),
            Op::Blt => branch!((a as i64) < (b as i64)),
            Op::Bge => branch!((a as i64) >= (b as i64)),
            Op::Bltu => branch!(a < b),
            Op::Bgeu => branch!(a >= b),
            Op::Lb => mem!(mem.read_u8(ea)) as i8 as i64 as u64,
            Op::Lh => mem!(mem.read_u16(ea)) as i16 as i64 as u64,
            Op::Lw => mem!(mem.read_u32(ea)) as i32 as i64 as u64,
            Op::Ld => mem!(mem.read_u64(ea)),
            Op::Lbu => mem!(mem.read_u8(ea)) as u64,
            Op::Lhu => mem!(mem.read_u16(ea)) as u64,
            Op::Lwu => mem!(mem.read_u32(ea)) as u64,
            Op::Sb => store!(write_u8, u8, 1),
            Op::Sh => store!(write_u16, u16, 2),
            Op::Sw => store!(write_u32, u32, 4),
            Op::Sd => store!(write_u64, u64, 8),
            Op::Addi => Self::sx(a.wrapping_add(imm)),
            Op::Slti => ((a as i64) < (imm as i64)) as u64,
            Op::Sltiu => (a < imm) as u64,
            Op::Xori => a ^ imm,
            Op::Ori => a | imm,
            Op::Andi => a & imm,
            Op::Slli => Self::sll(a, imm),
            Op::Srli => Self::srl(a, imm),
            Op::Srai => Self::sra(a, imm),
            Op::Add => Self::sx(a.wrapping_add(b)),
            Op::Sub => Self::sx(a.wrapping_sub(b)),
            Op::Sll => Self::sll(a, b),
            Op::Slt => ((a as i64) < (b as i64)) as u64,
            Op::Sltu => (a < b) as u64,
            Op::Xor => a ^ b,
            Op::Srl => Self::srl(a, b),
            Op::Sra => Self::sra(a, b),
            Op::Or => a | b,
            Op::And => a & b,
            Op::Addiw => w32::add(a, imm),
            Op::Slliw => w32::sll(a, imm),
            Op::Srliw => w32::srl(a, imm),
            Op::Sraiw => w32::sra(a, imm),
            Op::Addw => w32::add(a, b),
            Op::Subw => w32::sub(a, b),
            Op::Sllw => w32::sll(a, b),
            Op::Srlw => w32::srl(a, b),
            Op::Sraw => w32::sra(a, b),
            Op::Mul => Self::sx(a.wrapping_mul(b)),
            Op::Mulh => Self::wide(w32::mulh, x64::mulh, a, b),
            Op::Mulhsu => Self::wide(w32::mulhsu, x64::mulhsu, a, b),
            Op::Mulhu => Self::wide(w32::mulhu, x64::mulhu, a, b),
            Op::Div => Self::wide(w32::div, x64::div, a, b),
            Op::Divu => Self::wide(w32::divu, x64::divu, a, b),
            Op::Rem => Self::wide(w32::rem, x64::rem, a, b),
            Op::Remu => Self::wide(w32::remu, x64::remu, a, b),
            Op::Mulw => w32::mul(a, b),
            Op::Divw => w32::div(a, b),
            Op::Divuw => w32::divu(a, b),
            Op::Remw => w32::rem(a, b),
            Op::Remuw => w32::remu(a, b),
            Op::Fence | Op::FenceI => 0,
            Op::Ecall => stop!(Stop::Syscall),
            Op::Ebreak => fault!(FaultKind::Trap { mnemonic: "ebreak" }),
            Op::Unsupported => fault!(FaultKind::Unimplemented {
                mnemonic: i.unsupported_mnemonic(),
            }),
            // Fused pairs run in `super::fuse`; the cached loop never passes them here.
            Op::NotDecoded
            | Op::Unknown
            | Op::AddiSd
            | Op::AddiSw
            | Op::LdAddi
            | Op::LwAddi
            | Op::AddiLd
            | Op::AddiLw => fault!(FaultKind::Unimplemented { mnemonic: None }),
        };
        x[(i.rd & 31) as usize] = v;
        x[0] = 0;
        next
    }

    /// An operation whose RV32 form is the W form and RV64 form the full-width one.
    #[inline(always)]
    fn wide(f32: fn(u64, u64) -> u64, f64: fn(u64, u64) -> u64, a: u64, b: u64) -> u64 {
        if RV64 {
            f64(a, b)
        } else {
            f32(a, b)
        }
    }

    #[inline(always)]
    fn sll(a: u64, s: u64) -> u64 {
        Self::wide(w32::sll, |a, s| a.wrapping_shl(s as u32), a, s)
    }

    #[inline(always)]
    fn srl(a: u64, s: u64) -> u64 {
        Self::wide(w32::srl, |a, s| a.wrapping_shr(s as u32), a, s)
    }

    #[inline(always)]
    fn sra(a: u64, s: u64) -> u64 {
        Self::wide(
            w32::sra,
            |a, s| (a as i64).wrapping_shr(s as u32) as u64,
            a,
            s,
        )
    }
}

/// 32-bit operations with the result sign-extended to 64 bits: RV64's W forms, and every
/// RV32 operation in the sign-extended register representation.
pub mod w32 {
    #[inline(always)]
    fn sx(v: u32) -> u64 {
        v as i32 as i64 as u64
    }

    /// ADDW.
    #[inline(always)]
    pub fn add(a: u64, b: u64) -> u64 {
        sx((a as u32).wrapping_add(b as u32))
    }

    /// SUBW.
    #[inline(always)]
    pub fn sub(a: u64, b: u64) -> u64 {
        sx((a as u32).wrapping_sub(b as u32))
    }

    /// SLLW (shift amount modulo 32).
    #[inline(always)]
    pub fn sll(a: u64, s: u64) -> u64 {
        sx((a as u32).wrapping_shl(s as u32))
    }

    /// SRLW.
    #[inline(always)]
    pub fn srl(a: u64, s: u64) -> u64 {
        sx((a as u32).wrapping_shr(s as u32))
    }

    /// SRAW.
    #[inline(always)]
    pub fn sra(a: u64, s: u64) -> u64 {
        (a as i32).wrapping_shr(s as u32) as i64 as u64
    }

    /// MULW.
    #[inline(always)]
    pub fn mul(a: u64, b: u64) -> u64 {
        sx((a as u32).wrapping_mul(b as u32))
    }

    /// RV32 MULH: the high half of signed × signed.
    #[inline(always)]
    pub fn mulh(a: u64, b: u64) -> u64 {
        (((a as i32 as i64) * (b as i32 as i64)) >> 32) as u64
    }

    /// RV32 MULHSU: the high half of signed × unsigned.
    #[inline(always)]
    pub fn mulhsu(a: u64, b: u64) -> u64 {
        (((a as i32 as i64) * (b as u32 as i64)) >> 32) as u64
    }

    /// RV32 MULHU: the high half of unsigned × unsigned.
    #[inline(always)]
    pub fn mulhu(a: u64, b: u64) -> u64 {
        sx((((a as u32 as u64) * (b as u32 as u64)) >> 32) as u32)
    }

    /// DIVW: by zero all ones, MIN / -1 = MIN.
    #[inline(always)]
    pub fn div(a: u64, b: u64) -> u64 {
        let (a, b) = (a as i32, b as i32);
        if b == 0 {
            u64::MAX
        } else {
            a.wrapping_div(b) as i64 as u64
        }
    }

    /// DIVUW: by zero all ones.
    #[inline(always)]
    pub fn divu(a: u64, b: u64) -> u64 {
        match b as u32 {
            0 => u64::MAX,
            d => sx(a as u32 / d),
        }
    }

    /// REMW: by zero the dividend, MIN % -1 = 0.
    #[inline(always)]
    pub fn rem(a: u64, b: u64) -> u64 {
        let (a, b) = (a as i32, b as i32);
        if b == 0 {
            a as i64 as u64
        } else {
            a.wrapping_rem(b) as i64 as u64
        }
    }

    /// REMUW: by zero the dividend.
    #[inline(always)]
    pub fn remu(a: u64, b: u64) -> u64 {
        match b as u32 {
            0 => sx(a as u32),
            d => sx(a as u32 % d),
        }
    }
}

/// RV64's full-width multiply-high and division operations.
pub mod x64 {
    /// MULH.
    #[inline(always)]
    pub fn mulh(a: u64, b: u64) -> u64 {
        (((a as i64 as i128) * (b as i64 as i128)) >> 64) as u64
    }

    /// MULHSU.
    #[inline(always)]
    pub fn mulhsu(a: u64, b: u64) -> u64 {
        (((a as i64 as i128) * (b as i128)) >> 64) as u64
    }

    /// MULHU.
    #[inline(always)]
    pub fn mulhu(a: u64, b: u64) -> u64 {
        (((a as u128) * (b as u128)) >> 64) as u64
    }

    /// DIV: by zero all ones, MIN / -1 = MIN.
    #[inline(always)]
    pub fn div(a: u64, b: u64) -> u64 {
        match b as i64 {
            0 => u64::MAX,
            d => (a as i64).wrapping_div(d) as u64,
        }
    }

    /// DIVU: by zero all ones.
    #[inline(always)]
    pub fn divu(a: u64, b: u64) -> u64 {
        a.checked_div(b).unwrap_or(u64::MAX)
    }

    /// REM: by zero the dividend, MIN % -1 = 0.
    #[inline(always)]
    pub fn rem(a: u64, b: u64) -> u64 {
        match b as i64 {
            0 => a,
            d => (a as i64).wrapping_rem(d) as u64,
        }
    }

    /// REMU: by zero the dividend.
    #[inline(always)]
    pub fn remu(a: u64, b: u64) -> u64 {
        a.checked_rem(b).unwrap_or(a)
    }
}
