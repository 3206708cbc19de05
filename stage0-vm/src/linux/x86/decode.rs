//! The x86 decoder: bytes at one address to one typed [`Insn`] (operation, operand size,
//! operands, length), for i386 (32-bit protected mode, flat segments) and x86-64 (64-bit
//! mode), as the Intel SDM vol. 2 and the AMD APM vol. 3 encode them.
//!
//! This module owns prefixes (66, 67, F2, F3, F0, the ignored segment prefixes, REX),
//! ModRM/SIB addressing (RIP-relative in 64-bit mode), immediates, and the one- and
//! two-byte opcode maps of the general-purpose integer instructions. It knows nothing
//! about registers' values or memory: the executor ([`super::exec`]) gives each [`Op`] its
//! meaning. Relative branch targets are resolved here to absolute addresses, which is why
//! decoding takes the instruction's address. Encodings the machine lacks decode to
//! [`DecodeError::Unimplemented`] with the mnemonic when it is known.

/// Register numbers as the encodings use them (REX extends them to 8..15).
pub const RAX: u8 = 0;
/// ECX/RCX: shift counts, string counts, `loop`.
pub const RCX: u8 = 1;
/// EDX/RDX: the high half of mul/div.
pub const RDX: u8 = 2;
/// EBX/RBX.
pub const RBX: u8 = 3;
/// ESP/RSP: the stack pointer.
pub const RSP: u8 = 4;
/// EBP/RBP: the frame pointer of `leave`/`enter`.
pub const RBP: u8 = 5;
/// ESI/RSI: string source.
pub const RSI: u8 = 6;
/// EDI/RDI: string destination.
pub const RDI: u8 = 7;

/// A memory operand's base when the address is RIP-relative (64-bit mode, mod 00 r/m 101).
pub const BASE_RIP: u8 = 16;
/// No base or no index register.
pub const NONE: u8 = 0xFF;

/// A memory operand: `base + (index << scale) + disp`, truncated to the address size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mem {
    /// 0..15, [`BASE_RIP`] or [`NONE`].
    pub base: u8,
    /// 0..15 or [`NONE`].
    pub index: u8,
    /// Shift applied to the index: 0..3.
    pub scale: u8,
    /// Address size in bytes: 4 or 8 (16-bit addressing is not implemented).
    pub addr_size: u8,
    /// Sign-extended displacement.
    pub disp: i32,
}

/// An operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operand {
    /// No operand.
    None,
    /// General register 0..15 (the low 8/16/32 bits for smaller sizes; with a REX
    /// prefix, byte registers 4..7 are SPL, BPL, SIL, DIL).
    Reg(u8),
    /// AH, CH, DH, BH (byte registers 4..7 without REX): bits 8..15 of register 0..3.
    RegHi(u8),
    /// Memory.
    Mem(Mem),
    /// An immediate, already sign- or zero-extended as the encoding specifies.
    Imm(u64),
}

/// The eight operations of the 00-3F block and of group 1, in encoding order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Alu {
    Add,
    Or,
    Adc,
    Sbb,
    And,
    Sub,
    Xor,
    Cmp,
}

/// The eight operations of group 2 (shifts and rotates), in encoding order (/6 is the
/// undocumented alias of SHL, as on hardware).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Shift {
    Rol,
    Ror,
    Rcl,
    Rcr,
    Shl,
    Shr,
    Sal,
    Sar,
}

/// Bit test operations (0F A3/AB/B3/BB, 0F BA /4../7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum BitOp {
    Bt,
    Bts,
    Btr,
    Btc,
}

/// String operations (A4-AF), with their repeat prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Str {
    Movs,
    Cmps,
    Stos,
    Lods,
    Scas,
}

/// A repeat prefix of a string operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rep {
    /// None.
    Once,
    /// F3: REP, or REPE for cmps/scas.
    Rep,
    /// F2: REPNE for cmps/scas (REP for the others, as on hardware).
    Repne,
}

/// An operation. Operands are `dst` and `src` of [`Insn`]; `imm` carries the third
/// operand or the resolved branch target where noted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Op {
    /// dst = dst op src (Cmp only sets flags).
    Alu(Alu),
    Test,
    Mov,
    /// dst = zero-extended src; `imm` = source size in bytes.
    Movzx,
    /// dst = sign-extended src; `imm` = source size in bytes (movsxd: 4).
    Movsx,
    /// dst = effective address of src.
    Lea,
    Xchg,
    Inc,
    Dec,
    Neg,
    Not,
    /// One-operand MUL: rDX:rAX = rAX * src.
    Mul,
    /// One-operand IMUL.
    Imul1,
    /// dst = src * imm (69, 6B) or dst = dst * src (0F AF, `imm` unused, src2 = dst).
    Imul3,
    Imul2,
    Div,
    Idiv,
    /// dst = dst shifted by src (Imm or Reg(RCX) meaning CL).
    Shift(Shift),
    /// Bit test of dst at bit src.
    Bit(BitOp),
    Bsf,
    Bsr,
    Bswap,
    Xadd,
    Cmpxchg,
    Push,
    Pop,
    Pushf,
    Popf,
    /// Call to `imm` (absolute).
    CallRel,
    /// Call to the value of src.
    CallInd,
    /// Jump to `imm`.
    JmpRel,
    /// Jump to the value of src.
    JmpInd,
    /// Conditional jump to `imm` if condition `cc` holds.
    Jcc(u8),
    /// dst (byte) = condition.
    Setcc(u8),
    /// dst = src if condition.
    Cmovcc(u8),
    /// E0-E3: loopne, loope, loop, jcxz with target `imm`; the u8 is the opcode's low 2
    /// bits.
    Loop(u8),
    /// Return, releasing `imm` extra bytes.
    Ret,
    Leave,
    /// ENTER imm16 (in `imm` bits 0..15), nesting level (bits 16..23).
    Enter,
    /// CBW/CWDE/CDQE by size.
    Cbw,
    /// CWD/CDQ/CQO by size.
    Cwd,
    /// String operation; `imm` 0 = once, 1 = rep/repe, 2 = repne.
    Str(Str),
    /// AL = [rBX + AL].
    Xlat,
    Lahf,
    Sahf,
    Clc,
    Stc,
    Cmc,
    Cld,
    Std,
    Nop,
    /// INT imm8.
    Int,
    Syscall,
    /// A trap instruction: int3, int1, ud2, hlt and the privileged ones.
    Trap(&'static str),
}

/// One decoded instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    /// The operation.
    pub op: Op,
    /// Operand size in bytes: 1, 2, 4 or 8.
    pub size: u8,
    /// Length in bytes (1..15).
    pub len: u8,
    /// The destination (or only) operand.
    pub dst: Operand,
    /// The source operand.
    pub src: Operand,
    /// A third operand or resolved branch target (see [`Op`]).
    pub imm: u64,
}

/// Why bytes did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The instruction continues past the bytes given (at the end of mapped memory).
    Truncated,
    /// An encoding this machine does not implement, or an invalid one (None).
    Unimplemented(Option<&'static str>),
}

/// The longest instruction the processor accepts (SDM vol. 2 2.3.11).
pub const MAX_LEN: usize = 15;

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
    long: bool,
    /// 66 seen.
    opsize16: bool,
    /// 67 seen.
    addr_override: bool,
    rex: u8,
    /// F3 = 1, F2 = 2.
    rep: u8,
}

fn unimpl<T>(mnemonic: &'static str) -> Result<T, DecodeError> {
    Err(DecodeError::Unimplemented(Some(mnemonic)))
}

fn invalid<T>() -> Result<T, DecodeError> {
    Err(DecodeError::Unimplemented(None))
}

/// ModRM fields: mod, reg (with REX.R), and the r/m operand.
struct ModRm {
    reg: u8,
    rm: Operand,
}

impl<'a> Decoder<'a> {
    fn byte(&mut self) -> Result<u8, DecodeError> {
        if self.pos >= MAX_LEN {
            return unimpl("instruction longer than 15 bytes");
        }
        let b = *self.bytes.get(self.pos).ok_or(DecodeError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    /// A little-endian immediate of `n` bytes, sign-extended to 64 bits.
    fn imm_signed(&mut self, n: u8) -> Result<u64, DecodeError> {
        let mut v: u64 = 0;
        for i in 0..n {
            v |= u64::from(self.byte()?) << (8 * i);
        }
        let shift = 64 - 8 * u32::from(n);
        Ok((((v << shift) as i64) >> shift) as u64)
    }

    fn rex_w(&self) -> bool {
        self.rex & 8 != 0
    }

    /// The operand size of a non-byte instruction: 8 with REX.W, 2 with 66, else 4; or
    /// with `default64` (push, pop, near branches in 64-bit mode), 8 unless 66.
    fn vsize(&self, default64: bool) -> u8 {
        if self.long && (self.rex_w() || default64) {
            if default64 && self.opsize16 && !self.rex_w() {
                2
            } else {
                8
            }
        } else if self.opsize16 {
            2
        } else {
            4
        }
    }

    fn addr_size(&self) -> u8 {
        match (self.long, self.addr_override) {
            (true, false) => 8,
            (true, true) | (false, false) => 4,
            (false, true) => 2,
        }
    }

    /// A general register operand of `size` bytes numbered `n` (0..15).
    fn reg(&self, n: u8, size: u8) -> Operand {
        if size == 1 && self.rex == 0 && (4..8).contains(&n) {
            Operand::RegHi(n - 4)
        } else {
            Operand::Reg(n)
        }
    }

    /// Parses ModRM (and SIB, displacement); register operands are `size` bytes.
    fn modrm(&mut self, size: u8) -> Result<ModRm, DecodeError> {
        let b = self.byte()?;
        let md = b >> 6;
        let reg = ((b >> 3) & 7) | ((self.rex & 4) << 1);
        let rm_low = b & 7;
        if md == 3 {
            let n = rm_low | ((self.rex & 1) << 3);
            return Ok(ModRm {
                reg,
                rm: self.reg(n, size),
            });
        }
        let addr_size = self.addr_size();
        if addr_size == 2 {
            return unimpl("16-bit addressing");
        }
        let mut mem = Mem {
            base: NONE,
            index: NONE,
            scale: 0,
            addr_size,
            disp: 0,
        };
        if rm_low == 4 {
            let sib = self.byte()?;
            mem.scale = sib >> 6;
            let index = ((sib >> 3) & 7) | ((self.rex & 2) << 2);
            if index != RSP {
                mem.index = index;
            }
            let base = sib & 7;
            if base == 5 && md == 0 {
                mem.disp = self.imm_signed(4)? as i32;
            } else {
                mem.base = base | ((self.rex & 1) << 3);
            }
        } else if rm_low == 5 && md == 0 {
            mem.base = if self.long { BASE_RIP } else { NONE };
            mem.disp = self.imm_signed(4)? as i32;
        } else {
            mem.base = rm_low | ((self.rex & 1) << 3);
        }
        match md {
            1 => mem.disp = self.imm_signed(1)? as i32,
            2 => mem.disp = self.imm_signed(4)? as i32,
            _ => {}
        }
        Ok(ModRm {
            reg,
            rm: Operand::Mem(mem),
        })
    }

    /// ModRM whose r/m must be memory (lea).
    fn modrm_mem(&mut self, size: u8) -> Result<ModRm, DecodeError> {
        let m = self.modrm(size)?;
        match m.rm {
            Operand::Mem(_) => Ok(m),
            _ => invalid(),
        }
    }

    /// An immediate of the operand size, at most 4 bytes (Iz), sign-extended to 64 bits
    /// and truncated to the operand size.
    fn imm_z(&mut self, size: u8) -> Result<u64, DecodeError> {
        Ok(self.imm_signed(size.min(4))? & mask(size))
    }
}

/// All-ones in the low `size` bytes.
#[inline]
pub fn mask(size: u8) -> u64 {
    u64::MAX >> (64 - 8 * u32::from(size & 15).clamp(1, 8))
}

/// Decodes the instruction in `bytes` (the bytes from its address on, at most
/// [`MAX_LEN`] are looked at) located at `addr`, for 64-bit mode when `long`.
pub fn decode(bytes: &[u8], addr: u64, long: bool) -> Result<Insn, DecodeError> {
    let mut d = Decoder {
        bytes,
        pos: 0,
        long,
        opsize16: false,
        addr_override: false,
        rex: 0,
        rep: 0,
    };
    let op = loop {
        let b = d.byte()?;
        match b {
            0x66 => d.opsize16 = true,
            0x67 => d.addr_override = true,
            0xF3 => d.rep = 1,
            0xF2 => d.rep = 2,
            0xF0 | 0x26 | 0x2E | 0x36 | 0x3E => {}
            0x64 | 0x65 => return unimpl("fs/gs segment override"),
            0x40..=0x4F if long => {
                d.rex = b;
                // A REX prefix counts only immediately before the opcode.
                let next = *d.bytes.get(d.pos).ok_or(DecodeError::Truncated)?;
                if matches!(
                    next,
                    0x66 | 0x67 | 0xF3 | 0xF2 | 0xF0 | 0x26 | 0x2E | 0x36 | 0x3E
                ) || (0x40..=0x4F).contains(&next)
                {
                    d.rex = 0;
                }
            }
            _ => break b,
        }
    };
    let mut insn = if op == 0x0F {
        let op2 = d.byte()?;
        two_byte(&mut d, op2)?
    } else {
        one_byte(&mut d, op)?
    };
    insn.len = d.pos as u8;
    resolve_target(&mut insn, addr, long);
    Ok(insn)
}

/// Relative branches carry their displacement in `imm`; make it the absolute target,
/// wrapped to the instruction pointer's width (16 bits for 66-prefixed near branches in
/// 32-bit mode).
fn resolve_target(insn: &mut Insn, addr: u64, long: bool) {
    if matches!(insn.op, Op::CallRel | Op::JmpRel | Op::Jcc(_) | Op::Loop(_)) {
        let t = addr
            .wrapping_add(u64::from(insn.len))
            .wrapping_add(insn.imm);
        insn.imm = if long {
            t
        } else if insn.size == 2 {
            t & 0xFFFF
        } else {
            t & 0xFFFF_FFFF
        };
    }
}

fn insn(op: Op, size: u8, dst: Operand, src: Operand) -> Insn {
    Insn {
        op,
        size,
        len: 0,
        dst,
        src,
        imm: 0,
    }
}

fn with_imm(mut i: Insn, imm: u64) -> Insn {
    i.imm = imm;
    i
}

const ALUS: [Alu; 8] = [
    Alu::Add,
    Alu::Or,
    Alu::Adc,
    Alu::Sbb,
    Alu::And,
    Alu::Sub,
    Alu::Xor,
    Alu::Cmp,
];

const SHIFTS: [Shift; 8] = [
    Shift::Rol,
    Shift::Ror,
    Shift::Rcl,
    Shift::Rcr,
    Shift::Shl,
    Shift::Shr,
    Shift::Sal,
    Shift::Sar,
];

const BITOPS: [BitOp; 4] = [BitOp::Bt, BitOp::Bts, BitOp::Btr, BitOp::Btc];

/// Operand size of an instruction whose low opcode bit selects byte (0) or full size.
fn bsize(d: &Decoder, op: u8) -> u8 {
    if op & 1 == 0 {
        1
    } else {
        d.vsize(false)
    }
}

fn one_byte(d: &mut Decoder, op: u8) -> Result<Insn, DecodeError> {
    let long = d.long;
    Ok(match op {
        0x00..=0x3F if op & 7 < 6 => {
            let alu = Op::Alu(ALUS[usize::from(op >> 3) & 7]);
            let size = bsize(d, op);
            match op & 7 {
                0 | 1 => {
                    let m = d.modrm(size)?;
                    insn(alu, size, m.rm, d.reg(m.reg, size))
                }
                2 | 3 => {
                    let m = d.modrm(size)?;
                    insn(alu, size, d.reg(m.reg, size), m.rm)
                }
                _ => {
                    let imm = d.imm_z(size)?;
                    insn(alu, size, Operand::Reg(RAX), Operand::Imm(imm))
                }
            }
        }
        0x06 | 0x07 | 0x0E | 0x16 | 0x17 | 0x1E | 0x1F if !long => {
            return unimpl("push/pop segment register")
        }
        0x27 if !long => return unimpl("daa"),
        0x2F if !long => return unimpl("das"),
        0x37 if !long => return unimpl("aaa"),
        0x3F if !long => return unimpl("aas"),
        0x40..=0x4F => {
            // Only reached in 32-bit mode (REX in 64-bit mode).
            let o = if op < 0x48 { Op::Inc } else { Op::Dec };
            let size = d.vsize(false);
            insn(o, size, Operand::Reg(op & 7), Operand::None)
        }
        0x50..=0x5F => {
            let o = if op < 0x58 { Op::Push } else { Op::Pop };
            let size = d.vsize(true);
            let r = Operand::Reg((op & 7) | ((d.rex & 1) << 3));
            if o == Op::Push {
                insn(o, size, Operand::None, r)
            } else {
                insn(o, size, r, Operand::None)
            }
        }
        0x60 if !long => return unimpl("pusha"),
        0x61 if !long => return unimpl("popa"),
        0x62 if !long => return unimpl("bound"),
        0x63 if long => {
            let size = d.vsize(false);
            let m = d.modrm(4)?;
            let o = if size == 8 { Op::Movsx } else { Op::Mov };
            with_imm(insn(o, size, d.reg(m.reg, size), m.rm), 4)
        }
        0x63 => return unimpl("arpl"),
        0x68 | 0x6A => {
            let size = d.vsize(true);
            let imm = if op == 0x68 {
                d.imm_signed(size.min(4))?
            } else {
                d.imm_signed(1)?
            };
            insn(
                Op::Push,
                size,
                Operand::None,
                Operand::Imm(imm & mask(size)),
            )
        }
        0x69 | 0x6B => {
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            let imm = if op == 0x69 {
                d.imm_z(size)?
            } else {
                d.imm_signed(1)? & mask(size)
            };
            with_imm(insn(Op::Imul3, size, d.reg(m.reg, size), m.rm), imm)
        }
        0x6C..=0x6F => return unimpl("ins/outs"),
        0x70..=0x7F => {
            let rel = d.imm_signed(1)?;
            with_imm(
                insn(
                    Op::Jcc(op & 15),
                    d.vsize(true),
                    Operand::None,
                    Operand::None,
                ),
                rel,
            )
        }
        0x80..=0x83 => {
            if op == 0x82 && long {
                return invalid();
            }
            let size = if op & 1 == 0 { 1 } else { d.vsize(false) };
            let m = d.modrm(size)?;
            let imm = if op == 0x81 {
                d.imm_z(size)?
            } else {
                d.imm_signed(1)? & mask(size)
            };
            let alu = Op::Alu(ALUS[usize::from(m.reg & 7)]);
            insn(alu, size, m.rm, Operand::Imm(imm))
        }
        0x84..=0x87 => {
            let size = bsize(d, op);
            let m = d.modrm(size)?;
            let o = if op < 0x86 { Op::Test } else { Op::Xchg };
            insn(o, size, m.rm, d.reg(m.reg, size))
        }
        0x88..=0x8B => {
            let size = bsize(d, op);
            let m = d.modrm(size)?;
            if op < 0x8A {
                insn(Op::Mov, size, m.rm, d.reg(m.reg, size))
            } else {
                insn(Op::Mov, size, d.reg(m.reg, size), m.rm)
            }
        }
        0x8C | 0x8E => return unimpl("mov segment register"),
        0x8D => {
            let size = d.vsize(false);
            let m = d.modrm_mem(size)?;
            insn(Op::Lea, size, d.reg(m.reg, size), m.rm)
        }
        0x8F => {
            let size = d.vsize(true);
            let m = d.modrm(size)?;
            if m.reg & 7 != 0 {
                return invalid();
            }
            insn(Op::Pop, size, m.rm, Operand::None)
        }
        0x90 if d.rex & 1 == 0 => insn(Op::Nop, 1, Operand::None, Operand::None),
        0x90..=0x97 => {
            let size = d.vsize(false);
            let r = Operand::Reg((op & 7) | ((d.rex & 1) << 3));
            insn(Op::Xchg, size, r, Operand::Reg(RAX))
        }
        0x98 => insn(Op::Cbw, d.vsize(false), Operand::None, Operand::None),
        0x99 => insn(Op::Cwd, d.vsize(false), Operand::None, Operand::None),
        0x9A => return unimpl("call far"),
        0x9B => return unimpl("fwait"),
        0x9C => insn(Op::Pushf, d.vsize(true), Operand::None, Operand::None),
        0x9D => insn(Op::Popf, d.vsize(true), Operand::None, Operand::None),
        0x9E => insn(Op::Sahf, 1, Operand::None, Operand::None),
        0x9F => insn(Op::Lahf, 1, Operand::None, Operand::None),
        0xA0..=0xA3 => {
            let size = bsize(d, op);
            let addr_size = d.addr_size();
            if addr_size == 2 {
                return unimpl("16-bit addressing");
            }
            let off = d.imm_signed(addr_size)?;
            // The moffs is a full address; one beyond a 32-bit displacement is refused.
            if off != off as i32 as i64 as u64 && addr_size == 8 {
                return unimpl("mov moffs64 beyond 32-bit displacement");
            }
            let (disp, base) = (off as i32, NONE);
            let mem = Operand::Mem(Mem {
                base,
                index: NONE,
                scale: 0,
                addr_size,
                disp,
            });
            if op < 0xA2 {
                insn(Op::Mov, size, Operand::Reg(RAX), mem)
            } else {
                insn(Op::Mov, size, mem, Operand::Reg(RAX))
            }
        }
        0xA4..=0xA7 | 0xAA..=0xAF => {
            let s = match op {
                0xA4 | 0xA5 => Str::Movs,
                0xA6 | 0xA7 => Str::Cmps,
                0xAA | 0xAB => Str::Stos,
                0xAC | 0xAD => Str::Lods,
                _ => Str::Scas,
            };
            if d.addr_size() == 2 {
                return unimpl("16-bit addressing");
            }
            let size = bsize(d, op);
            // The address size rides in src as an immediate.
            let i = insn(
                Op::Str(s),
                size,
                Operand::None,
                Operand::Imm(u64::from(d.addr_size())),
            );
            with_imm(i, u64::from(d.rep))
        }
        0xA8 | 0xA9 => {
            let size = bsize(d, op);
            let imm = d.imm_z(size)?;
            insn(Op::Test, size, Operand::Reg(RAX), Operand::Imm(imm))
        }
        0xB0..=0xB7 => {
            let imm = d.imm_signed(1)? & 0xFF;
            let r = d.reg((op & 7) | ((d.rex & 1) << 3), 1);
            insn(Op::Mov, 1, r, Operand::Imm(imm))
        }
        0xB8..=0xBF => {
            let size = d.vsize(false);
            let imm = d.imm_signed(size)? & mask(size);
            let r = Operand::Reg((op & 7) | ((d.rex & 1) << 3));
            insn(Op::Mov, size, r, Operand::Imm(imm))
        }
        0xC0 | 0xC1 | 0xD0..=0xD3 => {
            let size = bsize(d, op);
            let m = d.modrm(size)?;
            let count = match op {
                0xC0 | 0xC1 => Operand::Imm(d.imm_signed(1)? & 0xFF),
                0xD0 | 0xD1 => Operand::Imm(1),
                _ => Operand::Reg(RCX),
            };
            insn(Op::Shift(SHIFTS[usize::from(m.reg & 7)]), size, m.rm, count)
        }
        0xC2 | 0xC3 => {
            let extra = if op == 0xC2 {
                d.imm_signed(2)? & 0xFFFF
            } else {
                0
            };
            with_imm(
                insn(Op::Ret, d.vsize(true), Operand::None, Operand::None),
                extra,
            )
        }
        0xC4 | 0xC5 => return unimpl(if long { "vex" } else { "les/lds" }),
        0xC6 | 0xC7 => {
            let size = bsize(d, op);
            let m = d.modrm(size)?;
            if m.reg & 7 != 0 {
                return invalid();
            }
            let imm = d.imm_z(size)?;
            insn(Op::Mov, size, m.rm, Operand::Imm(imm))
        }
        0xC8 => {
            let frame = d.imm_signed(2)? & 0xFFFF;
            let level = d.imm_signed(1)? & 0xFF;
            with_imm(
                insn(Op::Enter, d.vsize(true), Operand::None, Operand::None),
                frame | (level << 16),
            )
        }
        0xC9 => insn(Op::Leave, d.vsize(true), Operand::None, Operand::None),
        0xCA | 0xCB => return unimpl("retf"),
        0xCC => insn(Op::Trap("int3"), 1, Operand::None, Operand::None),
        0xCD => {
            let n = d.imm_signed(1)? & 0xFF;
            insn(Op::Int, 1, Operand::None, Operand::Imm(n))
        }
        0xCE if !long => return unimpl("into"),
        0xCF => return unimpl("iret"),
        0xD4 if !long => return unimpl("aam"),
        0xD5 if !long => return unimpl("aad"),
        0xD6 if !long => return unimpl("salc"),
        0xD7 => {
            if d.addr_size() == 2 {
                return unimpl("16-bit addressing");
            }
            insn(
                Op::Xlat,
                1,
                Operand::None,
                Operand::Imm(u64::from(d.addr_size())),
            )
        }
        0xD8..=0xDF => return unimpl("x87 floating point"),
        0xE0..=0xE3 => {
            let rel = d.imm_signed(1)?;
            // The count register width is the address size.
            let i = insn(
                Op::Loop(op & 3),
                d.vsize(true),
                Operand::None,
                Operand::Imm(u64::from(d.addr_size())),
            );
            with_imm(i, rel)
        }
        0xE4..=0xE7 | 0xEC..=0xEF => return unimpl("in/out"),
        0xE8 | 0xE9 => {
            let size = d.vsize(true);
            let rel = if size == 2 && !long {
                d.imm_signed(2)?
            } else {
                d.imm_signed(4)?
            };
            let o = if op == 0xE8 { Op::CallRel } else { Op::JmpRel };
            with_imm(insn(o, size, Operand::None, Operand::None), rel)
        }
        0xEA => return unimpl("jmp far"),
        0xEB => {
            let rel = d.imm_signed(1)?;
            with_imm(
                insn(Op::JmpRel, d.vsize(true), Operand::None, Operand::None),
                rel,
            )
        }
        0xF1 => insn(Op::Trap("int1"), 1, Operand::None, Operand::None),
        0xF4 => insn(Op::Trap("hlt"), 1, Operand::None, Operand::None),
        0xF5 => insn(Op::Cmc, 1, Operand::None, Operand::None),
        0xF6 | 0xF7 => group3(d, op)?,
        0xF8 => insn(Op::Clc, 1, Operand::None, Operand::None),
        0xF9 => insn(Op::Stc, 1, Operand::None, Operand::None),
        0xFA => insn(Op::Trap("cli"), 1, Operand::None, Operand::None),
        0xFB => insn(Op::Trap("sti"), 1, Operand::None, Operand::None),
        0xFC => insn(Op::Cld, 1, Operand::None, Operand::None),
        0xFD => insn(Op::Std, 1, Operand::None, Operand::None),
        0xFE => {
            let m = d.modrm(1)?;
            match m.reg & 7 {
                0 => insn(Op::Inc, 1, m.rm, Operand::None),
                1 => insn(Op::Dec, 1, m.rm, Operand::None),
                _ => return invalid(),
            }
        }
        0xFF => group5(d)?,
        _ => return invalid(),
    })
}

fn group3(d: &mut Decoder, op: u8) -> Result<Insn, DecodeError> {
    let size = bsize(d, op);
    let m = d.modrm(size)?;
    Ok(match m.reg & 7 {
        0 | 1 => {
            let imm = d.imm_z(size)?;
            insn(Op::Test, size, m.rm, Operand::Imm(imm))
        }
        n => {
            let o = [Op::Not, Op::Neg, Op::Mul, Op::Imul1, Op::Div, Op::Idiv][usize::from(n - 2)];
            insn(o, size, m.rm, Operand::None)
        }
    })
}

fn group5(d: &mut Decoder) -> Result<Insn, DecodeError> {
    // Decode ModRM with the full size first; branches and push use the 64-bit default.
    let save = d.pos;
    let peek = *d.bytes.get(d.pos).ok_or(DecodeError::Truncated)?;
    let sub = (peek >> 3) & 7;
    let size = match sub {
        2 | 4 | 6 => d.vsize(true),
        _ => d.vsize(false),
    };
    d.pos = save;
    let m = d.modrm(size)?;
    Ok(match sub {
        0 => insn(Op::Inc, size, m.rm, Operand::None),
        1 => insn(Op::Dec, size, m.rm, Operand::None),
        2 => insn(Op::CallInd, size, Operand::None, m.rm),
        4 => insn(Op::JmpInd, size, Operand::None, m.rm),
        6 => insn(Op::Push, size, Operand::None, m.rm),
        3 => return unimpl("call far"),
        5 => return unimpl("jmp far"),
        _ => return invalid(),
    })
}

fn two_byte(d: &mut Decoder, op: u8) -> Result<Insn, DecodeError> {
    let long = d.long;
    Ok(match op {
        0x05 if long => insn(Op::Syscall, 1, Operand::None, Operand::None),
        0x05 => return unimpl("syscall in 32-bit mode"),
        0x0B => insn(Op::Trap("ud2"), 1, Operand::None, Operand::None),
        0x0D | 0x18..=0x1F => {
            // prefetch hints and the reserved hint nops (0F 1F /0 is the long nop).
            let size = d.vsize(false);
            d.modrm(size)?;
            insn(Op::Nop, size, Operand::None, Operand::None)
        }
        0x31 => return unimpl("rdtsc"),
        0xA2 => return unimpl("cpuid"),
        0x40..=0x4F => {
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            insn(Op::Cmovcc(op & 15), size, d.reg(m.reg, size), m.rm)
        }
        0x80..=0x8F => {
            let size = d.vsize(true);
            let rel = if size == 2 && !long {
                d.imm_signed(2)?
            } else {
                d.imm_signed(4)?
            };
            with_imm(
                insn(Op::Jcc(op & 15), size, Operand::None, Operand::None),
                rel,
            )
        }
        0x90..=0x9F => {
            let m = d.modrm(1)?;
            insn(Op::Setcc(op & 15), 1, m.rm, Operand::None)
        }
        0xA3 | 0xAB | 0xB3 | 0xBB => {
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            let b = BITOPS[usize::from(op >> 3) & 3];
            insn(Op::Bit(b), size, m.rm, d.reg(m.reg, size))
        }
        0xBA => {
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            if m.reg & 7 < 4 {
                return invalid();
            }
            let imm = d.imm_signed(1)? & 0xFF;
            insn(
                Op::Bit(BITOPS[usize::from(m.reg & 3)]),
                size,
                m.rm,
                Operand::Imm(imm),
            )
        }
        0xA4 | 0xA5 => return unimpl("shld"),
        0xAC | 0xAD => return unimpl("shrd"),
        0xAF => {
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            insn(Op::Imul2, size, d.reg(m.reg, size), m.rm)
        }
        0xB0 | 0xB1 | 0xC0 | 0xC1 => {
            let size = bsize(d, op);
            let m = d.modrm(size)?;
            let o = if op < 0xC0 { Op::Cmpxchg } else { Op::Xadd };
            insn(o, size, m.rm, d.reg(m.reg, size))
        }
        0xB6 | 0xB7 | 0xBE | 0xBF => {
            let size = d.vsize(false);
            let src_size = if op & 1 == 0 { 1 } else { 2 };
            let m = d.modrm(src_size)?;
            let o = if op < 0xB8 { Op::Movzx } else { Op::Movsx };
            with_imm(insn(o, size, d.reg(m.reg, size), m.rm), u64::from(src_size))
        }
        0xBC | 0xBD => {
            if d.rep == 1 {
                return unimpl(if op == 0xBC { "tzcnt" } else { "lzcnt" });
            }
            let size = d.vsize(false);
            let m = d.modrm(size)?;
            let o = if op == 0xBC { Op::Bsf } else { Op::Bsr };
            insn(o, size, d.reg(m.reg, size), m.rm)
        }
        0xC8..=0xCF => {
            let size = d.vsize(false);
            let r = Operand::Reg((op & 7) | ((d.rex & 1) << 3));
            insn(Op::Bswap, size, r, Operand::None)
        }
        0x10..=0x17 | 0x28..=0x2F | 0x50..=0x7F | 0xC2..=0xC6 | 0xD0..=0xFF => {
            return unimpl("SSE/MMX")
        }
        _ => return invalid(),
    })
}
