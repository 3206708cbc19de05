//! The Knight instruction set as data: every opcode with its group, sub-opcode and name,
//! and the pure decoder and encoder between instruction bytes and [`Instr`].
//!
//! This module owns the encoding only (formats, operand fields, which bytes are ignored);
//! it knows nothing about what an instruction does (see `machine`) nor about HALCODE
//! services (only their 24-bit codes and names, for the disassembler).

/// The instruction groups, keyed by the first byte of the instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// `00 00 00 00`.
    Nop,
    /// `01 XX ab cd`.
    FourOp,
    /// `05 XX Xa bc`.
    ThreeOp,
    /// `09 XX XX ab`.
    TwoOp,
    /// `0D XX XX Xa`.
    OneOp,
    /// `3C XX ii ii`.
    ZeroOpI,
    /// `42 hh hh hh`.
    Halcode,
    /// `E0 ?? OO Oa ii ii` (6 bytes).
    OneOpI,
    /// `E1 ?? OO ab ii ii` (6 bytes).
    TwoOpI,
    /// `FF ?? ?? ??`.
    Halt,
}

impl Group {
    /// The first byte of every instruction of the group.
    pub const fn prefix(self) -> u8 {
        match self {
            Group::Nop => 0x00,
            Group::FourOp => 0x01,
            Group::ThreeOp => 0x05,
            Group::TwoOp => 0x09,
            Group::OneOp => 0x0D,
            Group::ZeroOpI => 0x3C,
            Group::Halcode => 0x42,
            Group::OneOpI => 0xE0,
            Group::TwoOpI => 0xE1,
            Group::Halt => 0xFF,
        }
    }

    /// The group a first byte selects, if any.
    pub const fn from_prefix(b0: u8) -> Option<Group> {
        Some(match b0 {
            0x00 => Group::Nop,
            0x01 => Group::FourOp,
            0x05 => Group::ThreeOp,
            0x09 => Group::TwoOp,
            0x0D => Group::OneOp,
            0x3C => Group::ZeroOpI,
            0x42 => Group::Halcode,
            0xE0 => Group::OneOpI,
            0xE1 => Group::TwoOpI,
            0xFF => Group::Halt,
            _ => return None,
        })
    }

    /// Instruction length in bytes: 6 for the two immediate groups with 2 operands
    /// fields (`E0`, `E1`), 4 for every other.
    pub const fn byte_len(self) -> u32 {
        match self {
            Group::OneOpI | Group::TwoOpI => 6,
            _ => 4,
        }
    }

    /// Instruction length given only the first byte (what CMPSKIP uses to skip).
    pub const fn len_of_prefix(b0: u8) -> u32 {
        if b0 == 0xE0 || b0 == 0xE1 {
            6
        } else {
            4
        }
    }
}

macro_rules! opcodes {
    ($($op:ident $group:ident $code:literal $name:literal;)*) => {
        /// Every Knight operation (one per mnemonic), in table order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u8)]
        #[allow(missing_docs)]
        pub enum Op {
            $($op,)*
        }

        /// The opcode table: operation, group, sub-opcode within the group, mnemonic.
        /// HALT and NOP have sub-opcode 0; HALCODE has one entry (the code is an operand).
        pub const OPCODES: &[OpInfo] = &[
            $(OpInfo { op: Op::$op, group: Group::$group, code: $code, name: $name },)*
        ];
    };
}

/// One row of the opcode table.
#[derive(Clone, Copy, Debug)]
pub struct OpInfo {
    /// The operation.
    pub op: Op,
    /// Its group (first byte).
    pub group: Group,
    /// Sub-opcode within the group (its width depends on the group).
    pub code: u32,
    /// Mnemonic as in the Knight definitions.
    pub name: &'static str,
}

opcodes! {
    Nop Nop 0x0 "NOP";
    Halt Halt 0x0 "HALT";
    Halcode Halcode 0x0 "HALCODE";
    // 4OP
    AddCi FourOp 0x00 "ADD.CI";
    AddCo FourOp 0x01 "ADD.CO";
    AddCio FourOp 0x02 "ADD.CIO";
    AdduCi FourOp 0x03 "ADDU.CI";
    AdduCo FourOp 0x04 "ADDU.CO";
    AdduCio FourOp 0x05 "ADDU.CIO";
    SubBi FourOp 0x06 "SUB.BI";
    SubBo FourOp 0x07 "SUB.BO";
    SubBio FourOp 0x08 "SUB.BIO";
    SubuBi FourOp 0x09 "SUBU.BI";
    SubuBo FourOp 0x0A "SUBU.BO";
    SubuBio FourOp 0x0B "SUBU.BIO";
    Multiply FourOp 0x0C "MULTIPLY";
    Multiplyu FourOp 0x0D "MULTIPLYU";
    Divide FourOp 0x0E "DIVIDE";
    Divideu FourOp 0x0F "DIVIDEU";
    Mux FourOp 0x10 "MUX";
    Nmux FourOp 0x11 "NMUX";
    Sort FourOp 0x12 "SORT";
    Sortu FourOp 0x13 "SORTU";
    // 3OP
    Add ThreeOp 0x000 "ADD";
    Addu ThreeOp 0x001 "ADDU";
    Sub ThreeOp 0x002 "SUB";
    Subu ThreeOp 0x003 "SUBU";
    Cmp ThreeOp 0x004 "CMP";
    Cmpu ThreeOp 0x005 "CMPU";
    Mul ThreeOp 0x006 "MUL";
    Mulh ThreeOp 0x007 "MULH";
    Mulu ThreeOp 0x008 "MULU";
    Muluh ThreeOp 0x009 "MULUH";
    Div ThreeOp 0x00A "DIV";
    Mod ThreeOp 0x00B "MOD";
    Divu ThreeOp 0x00C "DIVU";
    Modu ThreeOp 0x00D "MODU";
    Max ThreeOp 0x010 "MAX";
    Maxu ThreeOp 0x011 "MAXU";
    Min ThreeOp 0x012 "MIN";
    Minu ThreeOp 0x013 "MINU";
    And ThreeOp 0x020 "AND";
    Or ThreeOp 0x021 "OR";
    Xor ThreeOp 0x022 "XOR";
    Nand ThreeOp 0x023 "NAND";
    Nor ThreeOp 0x024 "NOR";
    Xnor ThreeOp 0x025 "XNOR";
    Mpq ThreeOp 0x026 "MPQ";
    Lpq ThreeOp 0x027 "LPQ";
    Cpq ThreeOp 0x028 "CPQ";
    Bpq ThreeOp 0x029 "BPQ";
    Sal ThreeOp 0x030 "SAL";
    Sar ThreeOp 0x031 "SAR";
    Sl0 ThreeOp 0x032 "SL0";
    Sr0 ThreeOp 0x033 "SR0";
    Sl1 ThreeOp 0x034 "SL1";
    Sr1 ThreeOp 0x035 "SR1";
    Rol ThreeOp 0x036 "ROL";
    Ror ThreeOp 0x037 "ROR";
    Loadx ThreeOp 0x038 "LOADX";
    Loadx8 ThreeOp 0x039 "LOADX8";
    Loadxu8 ThreeOp 0x03A "LOADXU8";
    Loadx16 ThreeOp 0x03B "LOADX16";
    Loadxu16 ThreeOp 0x03C "LOADXU16";
    Loadx32 ThreeOp 0x03D "LOADX32";
    Loadxu32 ThreeOp 0x03E "LOADXU32";
    Storex ThreeOp 0x048 "STOREX";
    Storex8 ThreeOp 0x049 "STOREX8";
    Storex16 ThreeOp 0x04A "STOREX16";
    Storex32 ThreeOp 0x04B "STOREX32";
    CmpjumpG ThreeOp 0x050 "CMPJUMP.G";
    CmpjumpGe ThreeOp 0x051 "CMPJUMP.GE";
    CmpjumpE ThreeOp 0x052 "CMPJUMP.E";
    CmpjumpNe ThreeOp 0x053 "CMPJUMP.NE";
    CmpjumpLe ThreeOp 0x054 "CMPJUMP.LE";
    CmpjumpL ThreeOp 0x055 "CMPJUMP.L";
    CmpjumpuG ThreeOp 0x060 "CMPJUMPU.G";
    CmpjumpuGe ThreeOp 0x061 "CMPJUMPU.GE";
    CmpjumpuLe ThreeOp 0x064 "CMPJUMPU.LE";
    CmpjumpuL ThreeOp 0x065 "CMPJUMPU.L";
    // 2OP
    Neg TwoOp 0x0000 "NEG";
    Abs TwoOp 0x0001 "ABS";
    Nabs TwoOp 0x0002 "NABS";
    Swap TwoOp 0x0003 "SWAP";
    Copy TwoOp 0x0004 "COPY";
    Move TwoOp 0x0005 "MOVE";
    Not TwoOp 0x0006 "NOT";
    Branch TwoOp 0x0100 "BRANCH";
    Call TwoOp 0x0101 "CALL";
    Pushr TwoOp 0x0200 "PUSHR";
    Push8 TwoOp 0x0201 "PUSH8";
    Push16 TwoOp 0x0202 "PUSH16";
    Push32 TwoOp 0x0203 "PUSH32";
    Popr TwoOp 0x0280 "POPR";
    Pop8 TwoOp 0x0281 "POP8";
    Popu8 TwoOp 0x0282 "POPU8";
    Pop16 TwoOp 0x0283 "POP16";
    Popu16 TwoOp 0x0284 "POPU16";
    Pop32 TwoOp 0x0285 "POP32";
    Popu32 TwoOp 0x0286 "POPU32";
    CmpskipG TwoOp 0x0300 "CMPSKIP.G";
    CmpskipGe TwoOp 0x0301 "CMPSKIP.GE";
    CmpskipE TwoOp 0x0302 "CMPSKIP.E";
    CmpskipNe TwoOp 0x0303 "CMPSKIP.NE";
    CmpskipLe TwoOp 0x0304 "CMPSKIP.LE";
    CmpskipL TwoOp 0x0305 "CMPSKIP.L";
    CmpskipuG TwoOp 0x0380 "CMPSKIPU.G";
    CmpskipuGe TwoOp 0x0381 "CMPSKIPU.GE";
    CmpskipuLe TwoOp 0x0384 "CMPSKIPU.LE";
    CmpskipuL TwoOp 0x0385 "CMPSKIPU.L";
    // 1OP
    Readpc OneOp 0x00000 "READPC";
    Readscid OneOp 0x00001 "READSCID";
    False OneOp 0x00002 "FALSE";
    True OneOp 0x00003 "TRUE";
    JsrCoroutine OneOp 0x01000 "JSR_COROUTINE";
    Ret OneOp 0x01001 "RET";
    Pushpc OneOp 0x02000 "PUSHPC";
    Poppc OneOp 0x02001 "POPPC";
    // 0OPI
    Jump ZeroOpI 0x00 "JUMP";
    // 2OPI
    SetG TwoOpI 0x00 "SET.G";
    SetGe TwoOpI 0x01 "SET.GE";
    SetE TwoOpI 0x02 "SET.E";
    SetNe TwoOpI 0x03 "SET.NE";
    SetLe TwoOpI 0x04 "SET.LE";
    SetL TwoOpI 0x05 "SET.L";
    Addi TwoOpI 0x0E "ADDI";
    Addui TwoOpI 0x0F "ADDUI";
    Subi TwoOpI 0x10 "SUBI";
    Subui TwoOpI 0x11 "SUBUI";
    Cmpi TwoOpI 0x12 "CMPI";
    Load TwoOpI 0x13 "LOAD";
    Load8 TwoOpI 0x14 "LOAD8";
    Loadu8 TwoOpI 0x15 "LOADU8";
    Load16 TwoOpI 0x16 "LOAD16";
    Loadu16 TwoOpI 0x17 "LOADU16";
    Load32 TwoOpI 0x18 "LOAD32";
    Loadu32 TwoOpI 0x19 "LOADU32";
    Cmpui TwoOpI 0x1F "CMPUI";
    Store TwoOpI 0x20 "STORE";
    Store8 TwoOpI 0x21 "STORE8";
    Store16 TwoOpI 0x22 "STORE16";
    Store32 TwoOpI 0x23 "STORE32";
    Andi TwoOpI 0xB0 "ANDI";
    Ori TwoOpI 0xB1 "ORI";
    Xori TwoOpI 0xB2 "XORI";
    Nandi TwoOpI 0xB3 "NANDI";
    Nori TwoOpI 0xB4 "NORI";
    Xnori TwoOpI 0xB5 "XNORI";
    CmpjumpiG TwoOpI 0xC0 "CMPJUMPI.G";
    CmpjumpiGe TwoOpI 0xC1 "CMPJUMPI.GE";
    CmpjumpiE TwoOpI 0xC2 "CMPJUMPI.E";
    CmpjumpiNe TwoOpI 0xC3 "CMPJUMPI.NE";
    CmpjumpiLe TwoOpI 0xC4 "CMPJUMPI.LE";
    CmpjumpiL TwoOpI 0xC5 "CMPJUMPI.L";
    CmpjumpuiG TwoOpI 0xD0 "CMPJUMPUI.G";
    CmpjumpuiGe TwoOpI 0xD1 "CMPJUMPUI.GE";
    CmpjumpuiLe TwoOpI 0xD4 "CMPJUMPUI.LE";
    CmpjumpuiL TwoOpI 0xD5 "CMPJUMPUI.L";
    // 1OPI
    JumpC OneOpI 0x2C0 "JUMP.C";
    JumpB OneOpI 0x2C1 "JUMP.B";
    JumpO OneOpI 0x2C2 "JUMP.O";
    JumpG OneOpI 0x2C3 "JUMP.G";
    JumpGe OneOpI 0x2C4 "JUMP.GE";
    JumpE OneOpI 0x2C5 "JUMP.E";
    JumpNe OneOpI 0x2C6 "JUMP.NE";
    JumpLe OneOpI 0x2C7 "JUMP.LE";
    JumpL OneOpI 0x2C8 "JUMP.L";
    JumpZ OneOpI 0x2C9 "JUMP.Z";
    JumpNz OneOpI 0x2CA "JUMP.NZ";
    JumpP OneOpI 0x2CB "JUMP.P";
    JumpNp OneOpI 0x2CC "JUMP.NP";
    Calli OneOpI 0x2D0 "CALLI";
    Loadi OneOpI 0x2D1 "LOADI";
    Loadui OneOpI 0x2D2 "LOADUI";
    Sali OneOpI 0x2D3 "SALI";
    Sari OneOpI 0x2D4 "SARI";
    Sl0i OneOpI 0x2D5 "SL0I";
    Sr0i OneOpI 0x2D6 "SR0I";
    Sl1i OneOpI 0x2D7 "SL1I";
    Sr1i OneOpI 0x2D8 "SR1I";
    Loadr OneOpI 0x2E0 "LOADR";
    Loadr8 OneOpI 0x2E1 "LOADR8";
    Loadru8 OneOpI 0x2E2 "LOADRU8";
    Loadr16 OneOpI 0x2E3 "LOADR16";
    Loadru16 OneOpI 0x2E4 "LOADRU16";
    Loadr32 OneOpI 0x2E5 "LOADR32";
    Loadru32 OneOpI 0x2E6 "LOADRU32";
    Storer OneOpI 0x2F0 "STORER";
    Storer8 OneOpI 0x2F1 "STORER8";
    Storer16 OneOpI 0x2F2 "STORER16";
    Storer32 OneOpI 0x2F3 "STORER32";
    CmpskipiG OneOpI 0xA00 "CMPSKIPI.G";
    CmpskipiGe OneOpI 0xA01 "CMPSKIPI.GE";
    CmpskipiE OneOpI 0xA02 "CMPSKIPI.E";
    CmpskipiNe OneOpI 0xA03 "CMPSKIPI.NE";
    CmpskipiLe OneOpI 0xA04 "CMPSKIPI.LE";
    CmpskipiL OneOpI 0xA05 "CMPSKIPI.L";
    CmpskipuiG OneOpI 0xA10 "CMPSKIPUI.G";
    CmpskipuiGe OneOpI 0xA11 "CMPSKIPUI.GE";
    CmpskipuiLe OneOpI 0xA14 "CMPSKIPUI.LE";
    CmpskipuiL OneOpI 0xA15 "CMPSKIPUI.L";
}

/// The native HALCODE services (default mode): code and name.
pub const NATIVE_HALCODES: &[(u32, &str)] = &[
    (0x100000, "FOPEN_READ"),
    (0x100001, "FOPEN_WRITE"),
    (0x100002, "FCLOSE"),
    (0x100003, "REWIND"),
    (0x100100, "FGETC"),
    (0x100200, "FPUTC"),
    (0x110000, "HAL_MEM"),
];

/// The POSIX-mode HALCODE services (`--POSIX-MODE`): code and name.
pub const POSIX_HALCODES: &[(u32, &str)] = &[
    (0x000000, "SYS_READ"),
    (0x000001, "SYS_WRITE"),
    (0x000002, "SYS_OPEN"),
    (0x000003, "SYS_CLOSE"),
    (0x000008, "SYS_LSEEK"),
    (0x000015, "SYS_ACCESS"),
    (0x00003C, "SYS_EXIT"),
    (0x00003F, "SYS_UNAME"),
    (0x00004F, "SYS_GETCWD"),
    (0x000050, "SYS_CHDIR"),
    (0x000051, "SYS_FCHDIR"),
    (0x00005A, "SYS_CHMOD"),
];

impl Op {
    /// The table row of this operation (the table is in declaration order).
    pub fn info(self) -> Option<&'static OpInfo> {
        OPCODES.get(self as usize)
    }

    /// The mnemonic.
    pub fn name(self) -> &'static str {
        self.info().map_or("(unknown)", |i| i.name)
    }

    /// The group of this operation.
    pub fn group(self) -> Option<Group> {
        self.info().map(|i| i.group)
    }

    /// The operation with sub-opcode `code` in `group`, if the reference knows it.
    pub fn lookup(group: Group, code: u32) -> Option<Op> {
        OPCODES
            .iter()
            .find(|i| i.group == group && i.code == code)
            .map(|i| i.op)
    }
}

/// One instruction, decoded: the operation and every field of its encoding, including
/// the bytes the machine ignores (so that [`encode`] gives back the exact bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Instr {
    /// The operation.
    pub op: Op,
    /// Register fields in encoding order (unused ones are 0).
    pub regs: [u8; 4],
    /// The raw 16-bit immediate (0OPI, 1OPI, 2OPI), or the 24-bit HALCODE code.
    pub imm: u32,
    /// Ignored bits kept for re-encoding: byte 1 of `E0`/`E1` forms, bytes 1..3 of HALT.
    pub ignored: u32,
}

/// Why bytes do not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// The reference rejects these bytes ("Invalid instruction").
    Illegal,
    /// Fewer bytes than the instruction needs (4, or 6 for `E0`/`E1`).
    Truncated,
}

#[inline]
fn nib_hi(b: u8) -> u8 {
    b >> 4
}
#[inline]
fn nib_lo(b: u8) -> u8 {
    b & 0x0F
}

/// Decodes the instruction at the start of `bytes` (its length is `instr.byte_len()`).
pub fn decode(bytes: &[u8]) -> Result<Instr, DecodeError> {
    let b0 = *bytes.first().ok_or(DecodeError::Truncated)?;
    let group = Group::from_prefix(b0).ok_or(DecodeError::Illegal)?;
    let need = group.byte_len() as usize;
    if bytes.len() < need {
        return Err(DecodeError::Truncated);
    }
    let (b1, b2, b3) = (bytes[1], bytes[2], bytes[3]);
    let imm16 = |hi: u8, lo: u8| u32::from(u16::from_be_bytes([hi, lo]));
    let mut instr = Instr {
        op: Op::Nop,
        regs: [0; 4],
        imm: 0,
        ignored: 0,
    };
    let code = match group {
        Group::Nop => {
            if (b1, b2, b3) != (0, 0, 0) {
                return Err(DecodeError::Illegal);
            }
            0
        }
        Group::Halt => {
            instr.ignored = u32::from_be_bytes([0, b1, b2, b3]);
            0
        }
        Group::Halcode => {
            instr.imm = u32::from_be_bytes([0, b1, b2, b3]);
            0
        }
        Group::FourOp => {
            instr.regs = [nib_hi(b2), nib_lo(b2), nib_hi(b3), nib_lo(b3)];
            u32::from(b1)
        }
        Group::ThreeOp => {
            instr.regs = [nib_lo(b2), nib_hi(b3), nib_lo(b3), 0];
            (u32::from(b1) << 4) | u32::from(nib_hi(b2))
        }
        Group::TwoOp => {
            instr.regs = [nib_hi(b3), nib_lo(b3), 0, 0];
            (u32::from(b1) << 8) | u32::from(b2)
        }
        Group::OneOp => {
            instr.regs = [nib_lo(b3), 0, 0, 0];
            (u32::from(b1) << 12) | (u32::from(b2) << 4) | u32::from(nib_hi(b3))
        }
        Group::ZeroOpI => {
            instr.imm = imm16(b2, b3);
            u32::from(b1)
        }
        Group::OneOpI => {
            instr.ignored = u32::from(b1);
            instr.regs = [nib_lo(b3), 0, 0, 0];
            instr.imm = imm16(bytes[4], bytes[5]);
            (u32::from(b2) << 4) | u32::from(nib_hi(b3))
        }
        Group::TwoOpI => {
            instr.ignored = u32::from(b1);
            instr.regs = [nib_hi(b3), nib_lo(b3), 0, 0];
            instr.imm = imm16(bytes[4], bytes[5]);
            u32::from(b2)
        }
    };
    instr.op = Op::lookup(group, code).ok_or(DecodeError::Illegal)?;
    Ok(instr)
}

impl Instr {
    /// Length of the encoding in bytes (4 or 6).
    pub fn byte_len(&self) -> u32 {
        self.op.group().map_or(4, Group::byte_len)
    }

    /// The 16-bit immediate as the machine reads it: signed, sign-extended to 32 bits.
    pub fn imm_signed(&self) -> u32 {
        self.imm as u16 as i16 as i32 as u32
    }
}

/// Encodes `instr` back to its bytes (4 or 6).
pub fn encode(instr: &Instr) -> Vec<u8> {
    let Some(info) = instr.op.info() else {
        return Vec::new();
    };
    let r = instr.regs.map(|x| x & 0x0F);
    let c = info.code;
    let [_, i1, i2, i3] = instr.imm.to_be_bytes();
    let ig = instr.ignored as u8;
    match info.group {
        Group::Nop => vec![0, 0, 0, 0],
        Group::Halt => {
            let [_, x1, x2, x3] = instr.ignored.to_be_bytes();
            vec![0xFF, x1, x2, x3]
        }
        Group::Halcode => vec![0x42, i1, i2, i3],
        Group::FourOp => vec![0x01, c as u8, (r[0] << 4) | r[1], (r[2] << 4) | r[3]],
        Group::ThreeOp => vec![
            0x05,
            (c >> 4) as u8,
            (((c & 0xF) as u8) << 4) | r[0],
            (r[1] << 4) | r[2],
        ],
        Group::TwoOp => vec![0x09, (c >> 8) as u8, c as u8, (r[0] << 4) | r[1]],
        Group::OneOp => vec![
            0x0D,
            (c >> 12) as u8,
            (c >> 4) as u8,
            (((c & 0xF) as u8) << 4) | r[0],
        ],
        Group::ZeroOpI => vec![0x3C, c as u8, i2, i3],
        Group::OneOpI => vec![
            0xE0,
            ig,
            (c >> 4) as u8,
            (((c & 0xF) as u8) << 4) | r[0],
            i2,
            i3,
        ],
        Group::TwoOpI => vec![0xE1, ig, c as u8, (r[0] << 4) | r[1], i2, i3],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_enum_order() {
        for (i, info) in OPCODES.iter().enumerate() {
            assert_eq!(info.op as usize, i, "{}", info.name);
            assert_eq!(info.op.info().unwrap().name, info.name);
        }
        // 198 opcodes outside HALCODE, plus NOP, HALT and HALCODE.
        assert_eq!(OPCODES.len(), 201);
    }

    #[test]
    fn decodes_known_words() {
        let i = decode(&[0xE1, 0x00, 0x0E, 0x12, 0xFF, 0xFE]).unwrap();
        assert_eq!(i.op, Op::Addi);
        assert_eq!(i.regs[..2], [1, 2]);
        assert_eq!(i.imm_signed(), 0xFFFF_FFFE);
        let i = decode(&[0x05, 0x00, 0x21, 0x23]).unwrap();
        assert_eq!((i.op, i.regs[..3].to_vec()), (Op::Sub, vec![1, 2, 3]));
        assert_eq!(decode(&[0, 0, 0, 1]), Err(DecodeError::Illegal));
        assert_eq!(decode(&[0xE0, 0, 0x2D]), Err(DecodeError::Truncated));
        assert_eq!(decode(&[0x01, 0x14, 0, 0]), Err(DecodeError::Illegal));
    }

    #[test]
    fn every_opcode_round_trips() {
        for info in OPCODES {
            let instr = Instr {
                op: info.op,
                regs: [1, 2, 3, 4],
                imm: 0x1234,
                ignored: 0,
            };
            let bytes = encode(&instr);
            let back = decode(&bytes).unwrap();
            assert_eq!(encode(&back), bytes, "{}", info.name);
            assert_eq!(back.op, info.op);
        }
    }
}

impl Op {
    /// Which register fields the operation writes, as indices into [`Instr::regs`]
    /// (0 = first field "a", 1 = "b", 3 = "d"); empty for stores, jumps, skips, NOP, HALT.
    /// HALCODE writes depend on the service (R0 for FGETC, HAL_MEM and POSIX calls).
    pub fn writes(self) -> &'static [usize] {
        use Op::*;
        match self {
            AddCo | AddCio | AdduCo | AdduCio | SubBo | SubBio | SubuBo | SubuBio => &[3, 0],
            Multiply | Multiplyu | Divide | Divideu | Sort | Sortu | Swap | Move => &[0, 1],
            Popr | Pop8 | Popu8 | Pop16 | Popu16 | Pop32 | Popu32 => &[1, 0],
            Call | Pushr | Push8 | Push16 | Push32 => &[1],
            SetG | SetGe | SetE | SetNe | SetLe | SetL => &[1],
            Nop | Halt | Halcode | Branch | JsrCoroutine | Jump => &[],
            Storex | Storex8 | Storex16 | Storex32 | Store | Store8 | Store16 | Store32 => &[],
            Storer | Storer8 | Storer16 | Storer32 => &[],
            CmpjumpG | CmpjumpGe | CmpjumpE | CmpjumpNe | CmpjumpLe | CmpjumpL | CmpjumpuG
            | CmpjumpuGe | CmpjumpuLe | CmpjumpuL => &[],
            CmpskipG | CmpskipGe | CmpskipE | CmpskipNe | CmpskipLe | CmpskipL | CmpskipuG
            | CmpskipuGe | CmpskipuLe | CmpskipuL => &[],
            CmpskipiG | CmpskipiGe | CmpskipiE | CmpskipiNe | CmpskipiLe | CmpskipiL
            | CmpskipuiG | CmpskipuiGe | CmpskipuiLe | CmpskipuiL => &[],
            CmpjumpiG | CmpjumpiGe | CmpjumpiE | CmpjumpiNe | CmpjumpiLe | CmpjumpiL
            | CmpjumpuiG | CmpjumpuiGe | CmpjumpuiLe | CmpjumpuiL => &[],
            JumpC | JumpB | JumpO | JumpG | JumpGe | JumpE | JumpNe | JumpLe | JumpL | JumpZ
            | JumpNz | JumpP | JumpNp => &[],
            _ => &[0],
        }
    }
}

#[cfg(test)]
mod write_tests {
    use super::*;

    #[test]
    fn writes_cover_the_obvious() {
        assert_eq!(Op::Add.writes(), &[0]);
        assert_eq!(Op::Store.writes(), &[] as &[usize]);
        assert_eq!(Op::AddCo.writes(), &[3, 0]);
        assert_eq!(Op::SetE.writes(), &[1]);
        assert_eq!(Op::Calli.writes(), &[0]);
        assert_eq!(Op::Ret.writes(), &[0]);
    }
}
