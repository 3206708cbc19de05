//! The A64 decoder: one 32-bit instruction word to one typed [`Insn`], a pure function.
//!
//! It follows the encoding index of the Arm Architecture Reference Manual (top-level
//! `op0` = bits 28..25, then each group's own fields) for the integer user-mode subset
//! (data processing immediate and register, branches, exception generation, hints,
//! loads and stores) and names what it recognises but the machine lacks (SIMD and
//! floating point, atomics, exclusives, pointer authentication...) as [`Insn::Missing`].
//! Everything else is [`Insn::Unallocated`]. Register fields are resolved here, once, into
//! indices of the executor's register file: 0..=30 the general registers, [`ZR`] (always
//! zero), [`SP`] and [`SINK`] (where writes to the zero register go), so the executor
//! never asks whether register 31 means SP or ZR.

// The enum variants and fields are the ARM ARM's mnemonics and field names.
#![allow(missing_docs)]

/// Register-file index that always reads zero (register 31 as XZR/WZR, read).
pub const ZR: u8 = 31;
/// Register-file index of the stack pointer (register 31 as SP).
pub const SP: u8 = 32;
/// Register-file index that absorbs writes to the zero register.
pub const SINK: u8 = 33;

/// ADD, ADDS, SUB, SUBS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    Add,
    Adds,
    Sub,
    Subs,
}

/// AND, ORR, EOR, ANDS (the register forms may invert the second operand: BIC, ORN,
/// EON, BICS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logic {
    And,
    Orr,
    Eor,
    Ands,
}

/// LSL, LSR, ASR, ROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shift {
    Lsl,
    Lsr,
    Asr,
    Ror,
}

/// The register extensions UXTB..SXTX (`option` field, 0..=7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Extend {
    Uxtb,
    Uxth,
    Uxtw,
    Uxtx,
    Sxtb,
    Sxth,
    Sxtw,
    Sxtx,
}

/// MOVN, MOVZ, MOVK.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MoveWide {
    Movn,
    Movz,
    Movk,
}

/// SBFM, BFM, UBFM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bitfield {
    Sbfm,
    Bfm,
    Ubfm,
}

/// CSEL, CSINC, CSINV, CSNEG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Select {
    Csel,
    Csinc,
    Csinv,
    Csneg,
}

/// The one-source operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unary {
    Rbit,
    Rev16,
    /// REV32 (64-bit) or REV (32-bit): bytes reversed in each word.
    Rev32,
    /// REV (64-bit).
    Rev64,
    Clz,
    Cls,
}

/// The multiply family (data processing, three sources).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mul {
    Madd,
    Msub,
    Smaddl,
    Smsubl,
    Umaddl,
    Umsubl,
    Smulh,
    Umulh,
}

/// A single-register load or store: its width and sign extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Strb,
    Strh,
    StrW,
    StrX,
    Ldrb,
    Ldrh,
    LdrW,
    LdrX,
    /// Sign-extending byte load into a W register.
    Ldrsb32,
    /// Sign-extending byte load into an X register.
    Ldrsb64,
    Ldrsh32,
    Ldrsh64,
    Ldrsw,
    /// Prefetch: computes nothing visible.
    Prfm,
}

/// What an [`Access`] does to memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Load,
    Store,
    Prefetch,
}

impl Access {
    /// Whether it loads, stores or prefetches.
    #[inline]
    pub fn kind(self) -> Kind {
        match self {
            Access::Strb | Access::Strh | Access::StrW | Access::StrX => Kind::Store,
            Access::Prfm => Kind::Prefetch,
            _ => Kind::Load,
        }
    }
}

/// How a load or store computes its address and writes back its base.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Index {
    /// `[Xn, #imm]`, no writeback.
    Offset,
    /// `[Xn, #imm]!`: address and new base are Xn + imm.
    Pre,
    /// `[Xn], #imm`: address Xn, new base Xn + imm.
    Post,
}

/// A register pair's element kind: W, X, or W sign-extended to X (LDPSW).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairKind {
    W,
    X,
    Sw,
}

/// Instructions recognised but not implemented, by name (for the fault report).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Missing {
    SimdFp,
    Sve,
    Atomic,
    Exclusive,
    PointerAuth,
    Mte,
    System,
    Crc32,
    Hvc,
    Smc,
    Eret,
    Flags,
}

impl Missing {
    /// The mnemonic or class name shown in a fault report.
    pub fn mnemonic(self) -> &'static str {
        match self {
            Missing::SimdFp => "SIMD&FP instruction",
            Missing::Sve => "SVE instruction",
            Missing::Atomic => "atomic memory operation",
            Missing::Exclusive => "load/store exclusive or ordered",
            Missing::PointerAuth => "pointer authentication instruction",
            Missing::Mte => "memory tagging instruction",
            Missing::System => "mrs/msr/sys (system register access)",
            Missing::Crc32 => "crc32",
            Missing::Hvc => "hvc",
            Missing::Smc => "smc",
            Missing::Eret => "eret/drps",
            Missing::Flags => "flag manipulation (rmif/setf/cfinv)",
        }
    }
}

/// One decoded A64 instruction. Register fields are register-file indices (see the
/// module documentation); `sf` is true for the 64-bit (X) form.
#[allow(missing_docs)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Insn {
    /// A decode-cache slot not decoded yet (never produced by [`decode`]).
    Undecoded,
    Unallocated,
    Missing(Missing),
    Nop,
    Svc,
    /// BRK, HLT or UDF.
    Trap(&'static str),
    Adr {
        rd: u8,
        offset: i32,
    },
    /// `offset` in pages (4 KiB).
    Adrp {
        rd: u8,
        offset: i32,
    },
    ArithImm {
        op: Arith,
        sf: bool,
        rd: u8,
        rn: u8,
        imm: u32,
    },
    LogicImm {
        op: Logic,
        sf: bool,
        rd: u8,
        rn: u8,
        imm: u64,
    },
    MoveWide {
        op: MoveWide,
        sf: bool,
        rd: u8,
        imm16: u16,
        shift: u8,
    },
    Bitfield {
        op: Bitfield,
        sf: bool,
        rd: u8,
        rn: u8,
        immr: u8,
        imms: u8,
    },
    Extr {
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        lsb: u8,
    },
    B {
        offset: i32,
    },
    Bl {
        offset: i32,
    },
    BCond {
        cond: u8,
        offset: i32,
    },
    Cbz {
        sf: bool,
        nonzero: bool,
        rt: u8,
        offset: i32,
    },
    Tbz {
        nonzero: bool,
        rt: u8,
        bit: u8,
        offset: i32,
    },
    Br {
        rn: u8,
    },
    Blr {
        rn: u8,
    },
    Ret {
        rn: u8,
    },
    /// Immediate-offset load or store (scaled unsigned, unscaled, pre- or post-index).
    LoadStore {
        op: Access,
        index: Index,
        rt: u8,
        rn: u8,
        offset: i32,
    },
    /// Register-offset load or store: address Xn + extend(Rm) << shift.
    LoadStoreReg {
        op: Access,
        rt: u8,
        rn: u8,
        rm: u8,
        ext: Extend,
        shift: u8,
    },
    /// PC-relative load (LDR literal).
    LoadLiteral {
        op: Access,
        rt: u8,
        offset: i32,
    },
    Pair {
        kind: PairKind,
        load: bool,
        index: Index,
        rt: u8,
        rt2: u8,
        rn: u8,
        offset: i16,
    },
    ArithShift {
        op: Arith,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        shift: Shift,
        amount: u8,
    },
    ArithExt {
        op: Arith,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        ext: Extend,
        amount: u8,
    },
    ArithCarry {
        op: Arith,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    LogicShift {
        op: Logic,
        sf: bool,
        invert: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        shift: Shift,
        amount: u8,
    },
    /// CCMP (`sub`) or CCMN; `rm` is a register index, or the 5-bit immediate if `imm`.
    CondCompare {
        sub: bool,
        sf: bool,
        imm: bool,
        rn: u8,
        rm: u8,
        cond: u8,
        nzcv: u8,
    },
    CondSelect {
        op: Select,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        cond: u8,
    },
    Div {
        signed: bool,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    ShiftVar {
        shift: Shift,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
    },
    Unary {
        op: Unary,
        sf: bool,
        rd: u8,
        rn: u8,
    },
    Mul {
        op: Mul,
        sf: bool,
        rd: u8,
        rn: u8,
        rm: u8,
        ra: u8,
    },
    /// MRS Xt, NZCV.
    ReadNzcv {
        rt: u8,
    },
    /// MSR NZCV, Xt.
    WriteNzcv {
        rt: u8,
    },
}

#[inline]
fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1u32 << (hi - lo + 1)) - 1)
}

#[inline]
fn bit(w: u32, at: u32) -> bool {
    (w >> at) & 1 == 1
}

/// The sign-extended value of the `width`-bit field `value`.
#[inline]
fn sext(value: u32, width: u32) -> i32 {
    ((value << (32 - width)) as i32) >> (32 - width)
}

/// Register 31 read as the zero register.
#[inline]
fn zr(field: u32) -> u8 {
    field as u8
}

/// Register 31 read or written as the stack pointer.
#[inline]
fn sp(field: u32) -> u8 {
    if field == 31 {
        SP
    } else {
        field as u8
    }
}

/// Register 31 written as the zero register (the write is discarded).
#[inline]
fn zr_dst(field: u32) -> u8 {
    if field == 31 {
        SINK
    } else {
        field as u8
    }
}

fn rd(w: u32) -> u32 {
    bits(w, 4, 0)
}
fn rn(w: u32) -> u32 {
    bits(w, 9, 5)
}
fn rm(w: u32) -> u32 {
    bits(w, 20, 16)
}

const ARITH: [Arith; 4] = [Arith::Add, Arith::Adds, Arith::Sub, Arith::Subs];
const LOGIC: [Logic; 4] = [Logic::And, Logic::Orr, Logic::Eor, Logic::Ands];
const SHIFT: [Shift; 4] = [Shift::Lsl, Shift::Lsr, Shift::Asr, Shift::Ror];
const EXTEND: [Extend; 8] = [
    Extend::Uxtb,
    Extend::Uxth,
    Extend::Uxtw,
    Extend::Uxtx,
    Extend::Sxtb,
    Extend::Sxth,
    Extend::Sxtw,
    Extend::Sxtx,
];

/// Decodes one instruction word.
pub fn decode(w: u32) -> Insn {
    match bits(w, 28, 25) {
        0b1000 | 0b1001 => data_processing_immediate(w),
        0b1010 | 0b1011 => branch_system(w),
        0b0100 | 0b0110 | 0b1100 | 0b1110 => load_store(w),
        0b0101 | 0b1101 => data_processing_register(w),
        0b0111 | 0b1111 => Insn::Missing(Missing::SimdFp),
        0b0010 => Insn::Missing(Missing::Sve),
        0b0000 if bits(w, 31, 16) == 0 => Insn::Trap("udf"),
        _ => Insn::Unallocated,
    }
}

/// DecodeBitMasks(N, imms, immr, immediate, M) of the ARM ARM: the `(wmask, tmask)` pair,
/// or `None` for a reserved encoding.
pub fn decode_bit_masks(
    n: bool,
    imms: u32,
    immr: u32,
    immediate: bool,
    datasize: u32,
) -> Option<(u64, u64)> {
    let combined = (u32::from(n) << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 || (1u32 << len) > datasize {
        return None;
    }
    let levels = (1u32 << len) - 1;
    if immediate && imms & levels == levels {
        return None;
    }
    let s = imms & levels;
    let r = immr & levels;
    let d = s.wrapping_sub(r) & levels;
    let esize = 1u32 << len;
    let welem = ones(s + 1);
    let telem = ones(d + 1);
    let wmask = replicate(ror(welem, r, esize), esize, datasize);
    let tmask = replicate(telem, esize, datasize);
    Some((wmask, tmask))
}

/// `n` low bits set (n <= 64).
#[inline]
pub fn ones(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// Rotate the `esize`-bit value `x` right by `r`.
fn ror(x: u64, r: u32, esize: u32) -> u64 {
    if r == 0 {
        return x;
    }
    ((x >> r) | (x << (esize - r))) & ones(esize)
}

fn replicate(x: u64, esize: u32, datasize: u32) -> u64 {
    let mut out = 0u64;
    let mut at = 0;
    while at < datasize {
        out |= x << at;
        at += esize;
    }
    out & ones(datasize)
}

fn data_processing_immediate(w: u32) -> Insn {
    let sf = bit(w, 31);
    match bits(w, 25, 23) {
        0b000 | 0b001 => {
            let imm = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
            if bit(w, 31) {
                Insn::Adrp {
                    rd: zr_dst(rd(w)),
                    offset: imm,
                }
            } else {
                Insn::Adr {
                    rd: zr_dst(rd(w)),
                    offset: imm,
                }
            }
        }
        0b010 => {
            let op = ARITH[bits(w, 30, 29) as usize];
            let imm = bits(w, 21, 10) << if bit(w, 22) { 12 } else { 0 };
            let dst = if matches!(op, Arith::Adds | Arith::Subs) {
                zr_dst(rd(w))
            } else {
                sp(rd(w))
            };
            Insn::ArithImm {
                op,
                sf,
                rd: dst,
                rn: sp(rn(w)),
                imm,
            }
        }
        0b011 => Insn::Missing(Missing::Mte),
        0b100 => {
            let n = bit(w, 22);
            if !sf && n {
                return Insn::Unallocated;
            }
            let datasize = if sf { 64 } else { 32 };
            let Some((imm, _)) =
                decode_bit_masks(n, bits(w, 15, 10), bits(w, 21, 16), true, datasize)
            else {
                return Insn::Unallocated;
            };
            let op = LOGIC[bits(w, 30, 29) as usize];
            let dst = if op == Logic::Ands {
                zr_dst(rd(w))
            } else {
                sp(rd(w))
            };
            Insn::LogicImm {
                op,
                sf,
                rd: dst,
                rn: zr(rn(w)),
                imm,
            }
        }
        0b101 => {
            let hw = bits(w, 22, 21);
            let op = match bits(w, 30, 29) {
                0b00 => MoveWide::Movn,
                0b10 => MoveWide::Movz,
                0b11 => MoveWide::Movk,
                _ => return Insn::Unallocated,
            };
            if !sf && hw >= 2 {
                return Insn::Unallocated;
            }
            Insn::MoveWide {
                op,
                sf,
                rd: zr_dst(rd(w)),
                imm16: bits(w, 20, 5) as u16,
                shift: (hw * 16) as u8,
            }
        }
        0b110 => {
            let op = match bits(w, 30, 29) {
                0b00 => Bitfield::Sbfm,
                0b01 => Bitfield::Bfm,
                0b10 => Bitfield::Ubfm,
                _ => return Insn::Unallocated,
            };
            let (immr, imms) = (bits(w, 21, 16), bits(w, 15, 10));
            if bit(w, 22) != sf || (!sf && (immr >= 32 || imms >= 32)) {
                return Insn::Unallocated;
            }
            Insn::Bitfield {
                op,
                sf,
                rd: zr_dst(rd(w)),
                rn: zr(rn(w)),
                immr: immr as u8,
                imms: imms as u8,
            }
        }
        _ => {
            let imms = bits(w, 15, 10);
            if bits(w, 30, 29) != 0 || bit(w, 21) || bit(w, 22) != sf || (!sf && imms >= 32) {
                return Insn::Unallocated;
            }
            Insn::Extr {
                sf,
                rd: zr_dst(rd(w)),
                rn: zr(rn(w)),
                rm: zr(rm(w)),
                lsb: imms as u8,
            }
        }
    }
}

fn branch_system(w: u32) -> Insn {
    let op0 = bits(w, 31, 29);
    match op0 {
        0b000 | 0b100 => {
            let offset = sext(bits(w, 25, 0), 26) << 2;
            if bit(w, 31) {
                Insn::Bl { offset }
            } else {
                Insn::B { offset }
            }
        }
        0b001 | 0b101 => {
            let offset = sext(bits(w, 23, 5), 19) << 2;
            let rt = zr(rd(w));
            if !bit(w, 25) {
                Insn::Cbz {
                    sf: bit(w, 31),
                    nonzero: bit(w, 24),
                    rt,
                    offset,
                }
            } else {
                let bitno = (bits(w, 31, 31) << 5) | bits(w, 23, 19);
                Insn::Tbz {
                    nonzero: bit(w, 24),
                    rt,
                    bit: bitno as u8,
                    offset: sext(bits(w, 18, 5), 14) << 2,
                }
            }
        }
        0b010 => {
            if bits(w, 25, 24) == 0b00 && !bit(w, 4) {
                Insn::BCond {
                    cond: bits(w, 3, 0) as u8,
                    offset: sext(bits(w, 23, 5), 19) << 2,
                }
            } else {
                Insn::Unallocated
            }
        }
        0b110 => match bits(w, 25, 24) {
            0b00 => exception(w),
            0b01 => system(w),
            _ => branch_register(w),
        },
        _ => Insn::Unallocated,
    }
}

fn exception(w: u32) -> Insn {
    match (bits(w, 23, 21), bits(w, 4, 2), bits(w, 1, 0)) {
        (0b000, 0b000, 0b01) => Insn::Svc,
        (0b000, 0b000, 0b10) => Insn::Missing(Missing::Hvc),
        (0b000, 0b000, 0b11) => Insn::Missing(Missing::Smc),
        (0b001, 0b000, 0b00) => Insn::Trap("brk"),
        (0b010, 0b000, 0b00) => Insn::Trap("hlt"),
        _ => Insn::Unallocated,
    }
}

fn system(w: u32) -> Insn {
    // bits 23..22 = 00 for the system instructions proper (bit 21 L, 20..19 op0).
    if bits(w, 23, 22) != 0 {
        return Insn::Unallocated;
    }
    let l = bit(w, 21);
    let op0 = bits(w, 20, 19);
    let op1 = bits(w, 18, 16);
    let crn = bits(w, 15, 12);
    let crm = bits(w, 11, 8);
    let op2 = bits(w, 7, 5);
    let rt = rd(w);
    match (l, op0) {
        (false, 0b00) if op1 == 0b011 && crn == 0b0010 && rt == 31 => {
            // Hints: NOP, YIELD, WFE, WFI, SEV, ... BTI; those of pointer authentication
            // (PACIASP, AUTIASP...) are NOPs on a machine without it, as the ARM ARM
            // allocates them in the hint space for that purpose.
            let _ = (crm, op2);
            Insn::Nop
        }
        (false, 0b00) if op1 == 0b011 && crn == 0b0011 && rt == 31 => {
            // CLREX, DSB, DMB, ISB, SB: a single-threaded machine has nothing to order.
            Insn::Nop
        }
        (false, 0b00) if crn == 0b0100 && rt == 31 => Insn::Missing(Missing::Flags),
        (_, 0b11) if op1 == 0b011 && crn == 0b0100 && crm == 0b0010 && op2 == 0b000 => {
            if l {
                Insn::ReadNzcv { rt: zr_dst(rt) }
            } else {
                Insn::WriteNzcv { rt: zr(rt) }
            }
        }
        _ => Insn::Missing(Missing::System),
    }
}

fn branch_register(w: u32) -> Insn {
    if !bit(w, 25) {
        return Insn::Unallocated;
    }
    let opc = bits(w, 24, 21);
    let op2 = bits(w, 20, 16);
    let op3 = bits(w, 15, 10);
    let op4 = bits(w, 4, 0);
    if op2 != 0b11111 {
        return Insn::Unallocated;
    }
    let n = zr(rn(w));
    match (opc, op3, op4) {
        (0b0000, 0, 0) => Insn::Br { rn: n },
        (0b0001, 0, 0) => Insn::Blr { rn: n },
        (0b0010, 0, 0) => Insn::Ret { rn: n },
        (0b0100 | 0b0101, 0, 0b00000) if rn(w) == 31 => Insn::Missing(Missing::Eret),
        (0b0000..=0b0010 | 0b1000 | 0b1001, 0b000010 | 0b000011, _) => {
            Insn::Missing(Missing::PointerAuth)
        }
        (0b0100, 0b000010 | 0b000011, 0b11111) => Insn::Missing(Missing::PointerAuth),
        _ => Insn::Unallocated,
    }
}

fn load_store(w: u32) -> Insn {
    let op0 = bits(w, 31, 28);
    let v = bit(w, 26);
    let op2 = bits(w, 24, 23);
    let op3 = bits(w, 21, 16);
    let op4 = bits(w, 11, 10);
    match bits(w, 29, 27) {
        0b001 => {
            // Exclusives, ordered, compare-and-swap (and SIMD structure loads when V).
            if v {
                Insn::Missing(Missing::SimdFp)
            } else if op0 == 0b1101 && op2 >= 2 && op3 & 0b100000 != 0 {
                Insn::Missing(Missing::Mte)
            } else {
                Insn::Missing(Missing::Exclusive)
            }
        }
        0b011 => {
            if op2 >= 2 {
                // Memory copy/set (FEAT_MOPS) and others, or unallocated.
                return Insn::Missing(Missing::Atomic);
            }
            if v {
                return Insn::Missing(Missing::SimdFp);
            }
            // LDAPR/STLUR (bit 24 = 1) and the tag instructions are elsewhere.
            load_literal(w)
        }
        0b101 => {
            if v {
                return Insn::Missing(Missing::SimdFp);
            }
            load_store_pair(w, op2)
        }
        0b111 => {
            if v {
                return Insn::Missing(Missing::SimdFp);
            }
            if op2 >= 2 {
                return load_store_unsigned(w);
            }
            if op3 & 0b100000 == 0 {
                load_store_imm9(w, op4)
            } else {
                match op4 {
                    0b00 => Insn::Missing(Missing::Atomic),
                    0b10 => load_store_register(w),
                    _ => Insn::Missing(Missing::PointerAuth),
                }
            }
        }
        _ => Insn::Unallocated,
    }
}

/// The single-register access of `size` (bits 31..30) and `opc` (bits 23..22).
fn access(size: u32, opc: u32) -> Option<Access> {
    Some(match (size, opc) {
        (0, 0) => Access::Strb,
        (0, 1) => Access::Ldrb,
        (0, 2) => Access::Ldrsb64,
        (0, 3) => Access::Ldrsb32,
        (1, 0) => Access::Strh,
        (1, 1) => Access::Ldrh,
        (1, 2) => Access::Ldrsh64,
        (1, 3) => Access::Ldrsh32,
        (2, 0) => Access::StrW,
        (2, 1) => Access::LdrW,
        (2, 2) => Access::Ldrsw,
        (3, 0) => Access::StrX,
        (3, 1) => Access::LdrX,
        (3, 2) => Access::Prfm,
        _ => return None,
    })
}

/// Rt as a source (stores) or destination (loads).
fn rt_for(op: Access, field: u32) -> u8 {
    match op.kind() {
        Kind::Store => zr(field),
        _ => zr_dst(field),
    }
}

fn load_literal(w: u32) -> Insn {
    let op = match bits(w, 31, 30) {
        0b00 => Access::LdrW,
        0b01 => Access::LdrX,
        0b10 => Access::Ldrsw,
        _ => Access::Prfm,
    };
    Insn::LoadLiteral {
        op,
        rt: zr_dst(rd(w)),
        offset: sext(bits(w, 23, 5), 19) << 2,
    }
}

fn load_store_pair(w: u32, op2: u32) -> Insn {
    let load = bit(w, 22);
    if op2 == 0 && bits(w, 31, 30) == 0b01 {
        return Insn::Unallocated;
    }
    let kind = match (bits(w, 31, 30), load) {
        (0b00, _) => PairKind::W,
        (0b10, _) => PairKind::X,
        (0b01, true) => PairKind::Sw,
        (0b01, false) => return Insn::Missing(Missing::Mte),
        _ => return Insn::Unallocated,
    };
    let index = match op2 {
        0b00 | 0b10 => Index::Offset,
        0b01 => Index::Post,
        _ => Index::Pre,
    };
    let scale = if kind == PairKind::X { 3 } else { 2 };
    let reg = |f: u32| if load { zr_dst(f) } else { zr(f) };
    Insn::Pair {
        kind,
        load,
        index,
        rt: reg(rd(w)),
        rt2: reg(bits(w, 14, 10)),
        rn: sp(rn(w)),
        offset: (sext(bits(w, 21, 15), 7) << scale) as i16,
    }
}

fn load_store_imm9(w: u32, op4: u32) -> Insn {
    let Some(op) = access(bits(w, 31, 30), bits(w, 23, 22)) else {
        return Insn::Unallocated;
    };
    let index = match op4 {
        0b00 | 0b10 => Index::Offset,
        0b01 => Index::Post,
        _ => Index::Pre,
    };
    if op == Access::Prfm && op4 != 0b00 {
        return Insn::Unallocated;
    }
    Insn::LoadStore {
        op,
        index,
        rt: rt_for(op, rd(w)),
        rn: sp(rn(w)),
        offset: sext(bits(w, 20, 12), 9),
    }
}

fn load_store_unsigned(w: u32) -> Insn {
    let size = bits(w, 31, 30);
    let Some(op) = access(size, bits(w, 23, 22)) else {
        return Insn::Unallocated;
    };
    Insn::LoadStore {
        op,
        index: Index::Offset,
        rt: rt_for(op, rd(w)),
        rn: sp(rn(w)),
        offset: (bits(w, 21, 10) << size) as i32,
    }
}

fn load_store_register(w: u32) -> Insn {
    let size = bits(w, 31, 30);
    let Some(op) = access(size, bits(w, 23, 22)) else {
        return Insn::Unallocated;
    };
    let option = bits(w, 15, 13);
    if option & 0b010 == 0 {
        return Insn::Unallocated;
    }
    Insn::LoadStoreReg {
        op,
        rt: rt_for(op, rd(w)),
        rn: sp(rn(w)),
        rm: zr(rm(w)),
        ext: EXTEND[option as usize],
        shift: if bit(w, 12) { size as u8 } else { 0 },
    }
}

fn data_processing_register(w: u32) -> Insn {
    let sf = bit(w, 31);
    let op1 = bit(w, 28);
    let op2 = bits(w, 24, 21);
    let (d, n, m) = (rd(w), rn(w), rm(w));
    if !op1 {
        let amount = bits(w, 15, 10);
        if op2 & 0b1000 == 0 {
            if !sf && amount >= 32 {
                return Insn::Unallocated;
            }
            let op = LOGIC[bits(w, 30, 29) as usize];
            return Insn::LogicShift {
                op,
                sf,
                invert: bit(w, 21),
                rd: zr_dst(d),
                rn: zr(n),
                rm: zr(m),
                shift: SHIFT[bits(w, 23, 22) as usize],
                amount: amount as u8,
            };
        }
        let op = ARITH[bits(w, 30, 29) as usize];
        if op2 & 1 == 0 {
            let shift = bits(w, 23, 22);
            if shift == 3 || (!sf && amount >= 32) {
                return Insn::Unallocated;
            }
            return Insn::ArithShift {
                op,
                sf,
                rd: zr_dst(d),
                rn: zr(n),
                rm: zr(m),
                shift: SHIFT[shift as usize],
                amount: amount as u8,
            };
        }
        let imm3 = bits(w, 12, 10);
        if bits(w, 23, 22) != 0 || imm3 > 4 {
            return Insn::Unallocated;
        }
        let dst = if matches!(op, Arith::Adds | Arith::Subs) {
            zr_dst(d)
        } else {
            sp(d)
        };
        return Insn::ArithExt {
            op,
            sf,
            rd: dst,
            rn: sp(n),
            rm: zr(m),
            ext: EXTEND[bits(w, 15, 13) as usize],
            amount: imm3 as u8,
        };
    }
    match op2 {
        0b0000 => {
            if bits(w, 15, 10) != 0 {
                return Insn::Missing(Missing::Flags);
            }
            Insn::ArithCarry {
                op: ARITH[bits(w, 30, 29) as usize],
                sf,
                rd: zr_dst(d),
                rn: zr(n),
                rm: zr(m),
            }
        }
        0b0010 => {
            if !bit(w, 29) || bit(w, 10) || bit(w, 4) {
                return Insn::Unallocated;
            }
            Insn::CondCompare {
                sub: bit(w, 30),
                sf,
                imm: bit(w, 11),
                rn: zr(n),
                rm: if bit(w, 11) { m as u8 } else { zr(m) },
                cond: bits(w, 15, 12) as u8,
                nzcv: bits(w, 3, 0) as u8,
            }
        }
        0b0100 => {
            let op = match (bit(w, 29), bit(w, 30), bits(w, 11, 10)) {
                (false, false, 0b00) => Select::Csel,
                (false, false, 0b01) => Select::Csinc,
                (false, true, 0b00) => Select::Csinv,
                (false, true, 0b01) => Select::Csneg,
                _ => return Insn::Unallocated,
            };
            Insn::CondSelect {
                op,
                sf,
                rd: zr_dst(d),
                rn: zr(n),
                rm: zr(m),
                cond: bits(w, 15, 12) as u8,
            }
        }
        0b0110 => {
            if bit(w, 29) {
                return Insn::Unallocated;
            }
            if bit(w, 30) {
                one_source(w, sf)
            } else {
                two_source(w, sf)
            }
        }
        0b1000..=0b1111 => three_source(w, sf),
        _ => Insn::Unallocated,
    }
}

fn one_source(w: u32, sf: bool) -> Insn {
    let opcode2 = bits(w, 20, 16);
    if opcode2 == 0b00001 {
        return Insn::Missing(Missing::PointerAuth);
    }
    if opcode2 != 0 {
        return Insn::Unallocated;
    }
    let op = match (bits(w, 15, 10), sf) {
        (0b000000, _) => Unary::Rbit,
        (0b000001, _) => Unary::Rev16,
        (0b000010, _) => Unary::Rev32,
        (0b000011, true) => Unary::Rev64,
        (0b000100, _) => Unary::Clz,
        (0b000101, _) => Unary::Cls,
        _ => return Insn::Unallocated,
    };
    Insn::Unary {
        op,
        sf,
        rd: zr_dst(rd(w)),
        rn: zr(rn(w)),
    }
}

fn two_source(w: u32, sf: bool) -> Insn {
    let (d, n, m) = (zr_dst(rd(w)), zr(rn(w)), zr(rm(w)));
    let shift = |shift| Insn::ShiftVar {
        shift,
        sf,
        rd: d,
        rn: n,
        rm: m,
    };
    match bits(w, 15, 10) {
        0b000010 => Insn::Div {
            signed: false,
            sf,
            rd: d,
            rn: n,
            rm: m,
        },
        0b000011 => Insn::Div {
            signed: true,
            sf,
            rd: d,
            rn: n,
            rm: m,
        },
        0b001000 => shift(Shift::Lsl),
        0b001001 => shift(Shift::Lsr),
        0b001010 => shift(Shift::Asr),
        0b001011 => shift(Shift::Ror),
        0b010000..=0b010111 => Insn::Missing(Missing::Crc32),
        0b000000 | 0b000100 | 0b000101 | 0b001100 => Insn::Missing(Missing::Mte),
        _ => Insn::Unallocated,
    }
}

fn three_source(w: u32, sf: bool) -> Insn {
    if bits(w, 30, 29) != 0 {
        return Insn::Unallocated;
    }
    let op = match (bits(w, 23, 21), bit(w, 15), sf) {
        (0b000, false, _) => Mul::Madd,
        (0b000, true, _) => Mul::Msub,
        (0b001, false, true) => Mul::Smaddl,
        (0b001, true, true) => Mul::Smsubl,
        (0b010, false, true) => Mul::Smulh,
        (0b101, false, true) => Mul::Umaddl,
        (0b101, true, true) => Mul::Umsubl,
        (0b110, false, true) => Mul::Umulh,
        _ => return Insn::Unallocated,
    };
    Insn::Mul {
        op,
        sf,
        rd: zr_dst(rd(w)),
        rn: zr(rn(w)),
        rm: zr(rm(w)),
        ra: zr(bits(w, 14, 10)),
    }
}
