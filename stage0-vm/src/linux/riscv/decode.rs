//! The RISC-V instruction decoder: one 32-bit little-endian instruction word to a typed
//! [`Inst`], for RV32 or RV64 (the I base, the M extension, FENCE/FENCE.I, ECALL, EBREAK).
//!
//! This module owns the encodings (formats R/I/S/B/U/J, opcode/funct3/funct7 tables and
//! immediate assembly) as the unprivileged ISA manual defines them, and nothing else: it
//! never looks at registers or memory. Encodings of other extensions (A, F, D, Q, Zicsr,
//! privileged instructions, compressed 16-bit forms) decode to [`Op::Unsupported`] with
//! their mnemonic; reserved and unknown encodings to [`Op::Unknown`]. Decoding is total:
//! every `u32` gives an `Inst`.

/// An operation: the instruction without its operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Op {
    /// Not an instruction: the decoded-code cache's empty slot (never produced by
    /// [`decode`]).
    NotDecoded,
    Lui,
    Auipc,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Ld,
    Lbu,
    Lhu,
    Lwu,
    Sb,
    Sh,
    Sw,
    Sd,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Addiw,
    Slliw,
    Srliw,
    Sraiw,
    Addw,
    Subw,
    Sllw,
    Srlw,
    Sraw,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Mulw,
    Divw,
    Divuw,
    Remw,
    Remuw,
    /// FENCE (and FENCE.TSO, PAUSE): a no-op on one hart.
    Fence,
    /// FENCE.I: a no-op here, since stores to code already invalidate decoded code.
    FenceI,
    Ecall,
    Ebreak,
    /// A recognised instruction of an extension this machine lacks; `imm` indexes
    /// [`UNSUPPORTED`] for its mnemonic.
    Unsupported,
    /// A reserved or unknown encoding.
    Unknown,
    /// Fused pairs (never produced by [`decode`]; see [`super::fuse`]): `addi B,B,imm`
    /// then `sd R,0(B)`.
    AddiSd,
    /// `addi B,B,imm` then `sw R,0(B)`.
    AddiSw,
    /// `ld R,0(B)` then `addi B,B,imm`.
    LdAddi,
    /// `lw R,0(B)` then `addi B,B,imm`.
    LwAddi,
    /// `addi R,B,imm` then `ld R,0(R)`.
    AddiLd,
    /// `addi R,B,imm` then `lw R,0(R)`.
    AddiLw,
}

/// A decoded instruction. Register fields are 0..=31; fields an operation does not use are
/// zero. `imm` is the sign-extended immediate (for shifts, the shift amount; for U-type,
/// the value with its low 12 bits zero).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C, align(8))]
pub struct Inst {
    /// The operation.
    pub op: Op,
    /// Destination register.
    pub rd: u8,
    /// First source register.
    pub rs1: u8,
    /// Second source register.
    pub rs2: u8,
    /// Immediate.
    pub imm: i32,
}

impl Inst {
    /// The empty cache slot.
    pub const NOT_DECODED: Inst = Inst {
        op: Op::NotDecoded,
        rd: 0,
        rs1: 0,
        rs2: 0,
        imm: 0,
    };

    fn new(op: Op, rd: u32, rs1: u32, rs2: u32, imm: i32) -> Inst {
        Inst {
            op,
            rd: rd as u8,
            rs1: rs1 as u8,
            rs2: rs2 as u8,
            imm,
        }
    }

    fn bare(op: Op) -> Inst {
        Inst::new(op, 0, 0, 0, 0)
    }

    fn unsupported(mnemonic: &'static str) -> Inst {
        let i = UNSUPPORTED.iter().position(|&m| m == mnemonic).unwrap_or(0);
        Inst::new(Op::Unsupported, 0, 0, 0, i as i32)
    }

    /// The mnemonic of an [`Op::Unsupported`] instruction (`None` for every other op).
    pub fn unsupported_mnemonic(&self) -> Option<&'static str> {
        match self.op {
            Op::Unsupported => UNSUPPORTED.get(self.imm as usize).copied(),
            _ => None,
        }
    }
}

/// Mnemonics of the recognised instructions this machine does not implement.
pub const UNSUPPORTED: &[&str] = &[
    "compressed instruction (C extension)",
    "lr.w",
    "sc.w",
    "amoswap.w",
    "amoadd.w",
    "amoxor.w",
    "amoand.w",
    "amoor.w",
    "amomin.w",
    "amomax.w",
    "amominu.w",
    "amomaxu.w",
    "lr.d",
    "sc.d",
    "amoswap.d",
    "amoadd.d",
    "amoxor.d",
    "amoand.d",
    "amoor.d",
    "amomin.d",
    "amomax.d",
    "amominu.d",
    "amomaxu.d",
    "flw",
    "fld",
    "flq",
    "fsw",
    "fsd",
    "fsq",
    "fmadd",
    "fmsub",
    "fnmsub",
    "fnmadd",
    "floating-point operation (F/D/Q extension)",
    "csrrw",
    "csrrs",
    "csrrc",
    "csrrwi",
    "csrrsi",
    "csrrci",
    "sret",
    "mret",
    "wfi",
    "sfence.vma",
    "instruction longer than 32 bits",
];

/// I-type immediate: bits 31:20, sign-extended.
fn imm_i(w: u32) -> i32 {
    (w as i32) >> 20
}

/// S-type immediate: bits 31:25 and 11:7, sign-extended.
fn imm_s(w: u32) -> i32 {
    ((w as i32) >> 25) << 5 | ((w >> 7) & 0x1f) as i32
}

/// B-type immediate: a signed multiple of 2 from bits 31, 7, 30:25, 11:8.
fn imm_b(w: u32) -> i32 {
    ((w as i32) >> 31) << 12
        | (((w >> 7) & 1) << 11) as i32
        | (((w >> 25) & 0x3f) << 5) as i32
        | (((w >> 8) & 0xf) << 1) as i32
}

/// U-type immediate: bits 31:12 in place.
fn imm_u(w: u32) -> i32 {
    (w & 0xffff_f000) as i32
}

/// J-type immediate: a signed multiple of 2 from bits 31, 19:12, 20, 30:21.
fn imm_j(w: u32) -> i32 {
    ((w as i32) >> 31) << 20
        | (w & 0x000f_f000) as i32
        | (((w >> 20) & 1) << 11) as i32
        | (((w >> 21) & 0x3ff) << 1) as i32
}

/// Decodes one instruction word for RV64 (`rv64`) or RV32.
pub fn decode(w: u32, rv64: bool) -> Inst {
    if w & 3 != 3 {
        return Inst::unsupported("compressed instruction (C extension)");
    }
    if w & 0x1f == 0x1f {
        return Inst::unsupported("instruction longer than 32 bits");
    }
    let rd = (w >> 7) & 0x1f;
    let f3 = (w >> 12) & 7;
    let rs1 = (w >> 15) & 0x1f;
    let rs2 = (w >> 20) & 0x1f;
    let f7 = w >> 25;
    let r = |op| Inst::new(op, rd, rs1, rs2, 0);
    let i = |op| Inst::new(op, rd, rs1, 0, imm_i(w));
    let unknown = Inst::bare(Op::Unknown);
    match w & 0x7f {
        0x37 => Inst::new(Op::Lui, rd, 0, 0, imm_u(w)),
        0x17 => Inst::new(Op::Auipc, rd, 0, 0, imm_u(w)),
        0x6f => Inst::new(Op::Jal, rd, 0, 0, imm_j(w)),
        0x67 if f3 == 0 => i(Op::Jalr),
        0x63 => {
            let op = match f3 {
                0 => Op::Beq,
                1 => Op::Bne,
                4 => Op::Blt,
                5 => Op::Bge,
                6 => Op::Bltu,
                7 => Op::Bgeu,
                _ => return unknown,
            };
            Inst::new(op, 0, rs1, rs2, imm_b(w))
        }
        0x03 => i(match (f3, rv64) {
            (0, _) => Op::Lb,
            (1, _) => Op::Lh,
            (2, _) => Op::Lw,
            (3, true) => Op::Ld,
            (4, _) => Op::Lbu,
            (5, _) => Op::Lhu,
            (6, true) => Op::Lwu,
            _ => return unknown,
        }),
        0x23 => {
            let op = match (f3, rv64) {
                (0, _) => Op::Sb,
                (1, _) => Op::Sh,
                (2, _) => Op::Sw,
                (3, true) => Op::Sd,
                _ => return unknown,
            };
            Inst::new(op, 0, rs1, rs2, imm_s(w))
        }
        0x13 => decode_op_imm(w, rv64, rd, f3, rs1),
        0x33 => r(match (f7, f3) {
            (0, 0) => Op::Add,
            (0x20, 0) => Op::Sub,
            (0, 1) => Op::Sll,
            (0, 2) => Op::Slt,
            (0, 3) => Op::Sltu,
            (0, 4) => Op::Xor,
            (0, 5) => Op::Srl,
            (0x20, 5) => Op::Sra,
            (0, 6) => Op::Or,
            (0, 7) => Op::And,
            (1, 0) => Op::Mul,
            (1, 1) => Op::Mulh,
            (1, 2) => Op::Mulhsu,
            (1, 3) => Op::Mulhu,
            (1, 4) => Op::Div,
            (1, 5) => Op::Divu,
            (1, 6) => Op::Rem,
            (1, 7) => Op::Remu,
            _ => return unknown,
        }),
        0x1b if rv64 => match (f3, f7) {
            (0, _) => i(Op::Addiw),
            (1, 0) => Inst::new(Op::Slliw, rd, rs1, 0, rs2 as i32),
            (5, 0) => Inst::new(Op::Srliw, rd, rs1, 0, rs2 as i32),
            (5, 0x20) => Inst::new(Op::Sraiw, rd, rs1, 0, rs2 as i32),
            _ => unknown,
        },
        0x3b if rv64 => r(match (f7, f3) {
            (0, 0) => Op::Addw,
            (0x20, 0) => Op::Subw,
            (0, 1) => Op::Sllw,
            (0, 5) => Op::Srlw,
            (0x20, 5) => Op::Sraw,
            (1, 0) => Op::Mulw,
            (1, 4) => Op::Divw,
            (1, 5) => Op::Divuw,
            (1, 6) => Op::Remw,
            (1, 7) => Op::Remuw,
            _ => return unknown,
        }),
        0x0f => match f3 {
            0 => Inst::bare(Op::Fence),
            1 => Inst::bare(Op::FenceI),
            _ => unknown,
        },
        0x73 => decode_system(w, f3),
        0x2f => decode_amo(w, f3),
        0x07 => float_memory(f3, ["flw", "fld", "flq"]),
        0x27 => float_memory(f3, ["fsw", "fsd", "fsq"]),
        0x43 => Inst::unsupported("fmadd"),
        0x47 => Inst::unsupported("fmsub"),
        0x4b => Inst::unsupported("fnmsub"),
        0x4f => Inst::unsupported("fnmadd"),
        0x53 => Inst::unsupported("floating-point operation (F/D/Q extension)"),
        _ => unknown,
    }
}

/// OP-IMM (opcode 0x13): the shift amount is 6 bits on RV64 and 5 on RV32; the bits above
/// it select SRLI or SRAI and must otherwise be zero.
fn decode_op_imm(w: u32, rv64: bool, rd: u32, f3: u32, rs1: u32) -> Inst {
    let i = |op| Inst::new(op, rd, rs1, 0, imm_i(w));
    let (shamt, high) = match rv64 {
        true => ((w >> 20) & 0x3f, w >> 26),
        false if w & (1 << 25) == 0 => ((w >> 20) & 0x1f, w >> 26),
        false => (0, u32::MAX),
    };
    let shift = |op| Inst::new(op, rd, rs1, 0, shamt as i32);
    match (f3, high) {
        (0, _) => i(Op::Addi),
        (2, _) => i(Op::Slti),
        (3, _) => i(Op::Sltiu),
        (4, _) => i(Op::Xori),
        (6, _) => i(Op::Ori),
        (7, _) => i(Op::Andi),
        (1, 0) => shift(Op::Slli),
        (5, 0) => shift(Op::Srli),
        (5, 0x10) => shift(Op::Srai),
        _ => Inst::bare(Op::Unknown),
    }
}

/// SYSTEM (opcode 0x73): ECALL and EBREAK exactly, the CSR instructions and the
/// privileged returns by name.
fn decode_system(w: u32, f3: u32) -> Inst {
    match (w, f3) {
        (0x0000_0073, _) => Inst::bare(Op::Ecall),
        (0x0010_0073, _) => Inst::bare(Op::Ebreak),
        (0x1020_0073, _) => Inst::unsupported("sret"),
        (0x3020_0073, _) => Inst::unsupported("mret"),
        (0x1050_0073, _) => Inst::unsupported("wfi"),
        (_, 0) if w >> 25 == 0x09 && (w >> 7) & 0x1f == 0 => Inst::unsupported("sfence.vma"),
        (_, 1) => Inst::unsupported("csrrw"),
        (_, 2) => Inst::unsupported("csrrs"),
        (_, 3) => Inst::unsupported("csrrc"),
        (_, 5) => Inst::unsupported("csrrwi"),
        (_, 6) => Inst::unsupported("csrrsi"),
        (_, 7) => Inst::unsupported("csrrci"),
        _ => Inst::bare(Op::Unknown),
    }
}

/// AMO (opcode 0x2f, the A extension), named by funct5 and width.
fn decode_amo(w: u32, f3: u32) -> Inst {
    const W: [&str; 11] = [
        "lr.w",
        "sc.w",
        "amoswap.w",
        "amoadd.w",
        "amoxor.w",
        "amoand.w",
        "amoor.w",
        "amomin.w",
        "amomax.w",
        "amominu.w",
        "amomaxu.w",
    ];
    const D: [&str; 11] = [
        "lr.d",
        "sc.d",
        "amoswap.d",
        "amoadd.d",
        "amoxor.d",
        "amoand.d",
        "amoor.d",
        "amomin.d",
        "amomax.d",
        "amominu.d",
        "amomaxu.d",
    ];
    let k = match w >> 27 {
        0x02 => 0,
        0x03 => 1,
        0x01 => 2,
        0x00 => 3,
        0x04 => 4,
        0x0c => 5,
        0x08 => 6,
        0x10 => 7,
        0x14 => 8,
        0x18 => 9,
        0x1c => 10,
        _ => return Inst::bare(Op::Unknown),
    };
    match f3 {
        2 => Inst::unsupported(W[k]),
        3 => Inst::unsupported(D[k]),
        _ => Inst::bare(Op::Unknown),
    }
}

/// LOAD-FP / STORE-FP by width (funct3 2, 3, 4: single, double, quad).
fn float_memory(f3: u32, names: [&'static str; 3]) -> Inst {
    match f3 {
        2..=4 => Inst::unsupported(names[(f3 - 2) as usize]),
        _ => Inst::bare(Op::Unknown),
    }
}
