//! The pre-decoded slot, what the fast executor keeps per code address: the [`Form`] the
//! dispatcher runs, the [`Slot`] with the first instruction's fields, the fused
//! instructions' operands and the condition as data, the register moves fused into
//! prologues and epilogues ([`RegMove`]) and the most bytes a slot depends on. `predecode`
//! fills slots, `memory` keeps and invalidates them, `exec` runs them.

use super::cond::{Cond, FlagTest};
use crate::isa::{Instr, Op};

/// The most bytes one slot depends on: a fused subroutine (see `routine`) takes up to
/// this, every other slot up to `predecode`'s `FUSE_SPAN`.
pub(crate) const SLOT_SPAN: u32 = 96;

/// The longest PUSHR/POPR run one slot covers.
pub(super) const MAX_RUN: usize = 6;

/// What the dispatcher runs for a slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Form {
    /// Not decoded yet (or invalidated by a store).
    #[default]
    Empty,
    /// Not run from the slot: an illegal word, or code the slot cannot hold; the plain
    /// step runs (and reports) it.
    Plain,
    /// Any other operation: `semantics::execute` with the slot's fields.
    Other,
    Halt,
    /// `imm` = the 24-bit code.
    Halcode,
    Move,
    Copy,
    False,
    True,
    /// ADDI/ADDUI, and SUBI/SUBUI with `imm` negated: a = b + imm.
    AddImm,
    /// LOADI/LOADUI: a = imm.
    LoadImm,
    /// ANDI: a = b & imm.
    AndImm,
    /// SALI: a <<= imm & 31.
    ShiftLeftImm,
    Add,
    Sub,
    Or,
    Loadxu8,
    Loadx,
    Load,
    Loadu8,
    Loadr16,
    Store,
    Pushr,
    Popr,
    Push8,
    Pop8,
    Popu8,
    Calli,
    Ret,
    Jump,
    /// JUMP.cond a: `test`.
    JumpIf,
    /// CMPSKIP* a b: `cond`.
    CmpSkip,
    /// CMPSKIPI*/CMPSKIPUI* a imm: `cond`, `imm` extended as the condition needs.
    CmpSkipImm,
    /// CMPJUMPI*/CMPJUMPUI* a b: `cond`, target next + imm.
    CmpJumpImm,
    /// CMPSKIP* a b + JUMP (`disp`).
    CmpSkipJump,
    /// CMPSKIPI* a imm + JUMP (`disp`).
    CmpSkipImmJump,
    /// CMP/CMPU a b c + JUMP.cond a: `cond.bias` for the compare, `cond.accept` the
    /// outcomes that take the jump (`disp`).
    CmpJumpIf,
    /// CMPI/CMPUI a b imm + JUMP.cond a (as `CmpJumpIf`, compared with `imm`).
    CmpImmJumpIf,
    /// LOADUI R1 tape + FGETC (`imm` = the tape device).
    TapeGetc,
    /// LOADUI R1 tape + FGETC + JUMP.NP R0 (`disp`).
    TapeGetcJumpNp,
    /// LOADUI R1 tape + FPUTC.
    TapePutc,
    /// `count` × PUSHR `run[k]` b, then `moves` (a save prologue); `disp` = its length.
    PushRun,
    /// `count` × POPR `run[k]` b.
    PopRun,
    /// `moves` (`tail` bytes), `count` × POPR `run[k]` b, then RET b (an epilogue).
    PopRunRet,
    /// LOADXU8 a b c; LOADXU8 run[0] run[1] run[2]; ADDUI run[3] run[4] imm;
    /// CMPSKIP.NE run[5] run[6]; then a JUMP (`tail` = 4) or JUMP.cond run[7] (`tail` = 6,
    /// `test`) to `disp`.
    ByteCompare,
    /// A whole string-compare subroutine (`routine::StringMatch`, `routine` its index):
    /// save prologue, byte-compare loop, maybe a verdict, restore epilogue and RET.
    StringMatch,
    /// A table look-up loop calling a `StringMatch` per entry (`routine::ListWalk`,
    /// `routine` its index).
    ListWalk,
}

/// One pre-decoded code address (64 bytes with the alignment, so that a slot's
/// address is a shift).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(align(32))]
pub(crate) struct Slot {
    pub form: Form,
    /// The first instruction (for `Other`).
    pub op: Op,
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
    /// Length of the first instruction.
    pub len: u8,
    /// Instructions the slot covers.
    pub n: u8,
    /// Length of a fused trailing JUMP.
    pub tail: u8,
    /// The immediate as the form uses it (raw for `Other`).
    pub imm: u32,
    /// The condition (`Cond::bias` or `FlagTest::mask`) of the forms that test one
    /// (read through [`Slot::cond`] / [`Slot::test`]), shared to keep the slot small.
    pub(super) check: u32,
    /// `Cond::accept`, or `FlagTest::invert`.
    pub(super) accept: u8,
    /// A fused jump's displacement, sign-extended.
    pub disp: u32,
    /// Registers of the fused instructions.
    pub run: [u8; 8],
    /// PUSHR/POPR instructions in a run.
    pub count: u8,
    /// Register moves in a prologue or epilogue (`moves[..nmoves]`).
    pub nmoves: u8,
    pub moves: [RegMove; 3],
    /// The fused routine of a `StringMatch` or `ListWalk` slot (an index into
    /// `Mem::routines` or `Mem::walks`).
    pub routine: u16,
}

/// A register move fused into a prologue or epilogue, as data so that running one needs
/// no match on a kind: `r[a] = if from_imm { imm } else { r[b] }; r[clear] = 0`. MOVE a b has
/// `clear` = b; COPY, FALSE (`b` = [`ZERO_REG`]) and LOADUI (`from_imm`) clear
/// [`ZERO_REG`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RegMove {
    pub a: u8,
    pub b: u8,
    pub clear: u8,
    pub from_imm: bool,
}

/// A register-file index no instruction names (registers are 0..=15): it is only ever
/// written zero, so it always reads zero.
pub(crate) const ZERO_REG: u8 = 255;

impl RegMove {
    /// MOVE a b (a = b, b = 0), COPY a b, FALSE a or LOADUI a (the slot's `imm`), or
    /// `None` for any other operation.
    pub(crate) fn of(op: Op, a: u8, b: u8) -> Option<RegMove> {
        let (b, clear, from_imm) = match op {
            Op::Move => (b, b, false),
            Op::Copy => (b, ZERO_REG, false),
            Op::False => (ZERO_REG, ZERO_REG, false),
            Op::Loadui | Op::Loadi => (ZERO_REG, ZERO_REG, true),
            _ => return None,
        };
        Some(RegMove {
            a,
            b,
            clear,
            from_imm,
        })
    }
}

impl Default for Slot {
    fn default() -> Slot {
        Slot {
            form: Form::Empty,
            op: Op::Nop,
            a: 0,
            b: 0,
            c: 0,
            d: 0,
            len: 4,
            n: 1,
            tail: 0,
            imm: 0,
            check: 0,
            accept: 0,
            disp: 0,
            run: [0; 8],
            count: 0,
            nmoves: 0,
            moves: [RegMove::default(); 3],
            routine: 0,
        }
    }
}

impl Slot {
    #[inline(always)]
    pub fn cond(&self) -> Cond {
        Cond {
            accept: self.accept,
            bias: self.check,
        }
    }

    #[inline(always)]
    pub fn test(&self) -> FlagTest {
        FlagTest {
            mask: self.check,
            invert: self.accept != 0,
        }
    }

    /// The bytes the slot depends on (its instructions'; at most [`SLOT_SPAN`]).
    pub(super) fn bytes(&self) -> u32 {
        let len = u32::from(self.len);
        match self.form {
            Form::CmpSkipJump | Form::CmpSkipImmJump => len + 4,
            Form::CmpJumpIf | Form::CmpImmJumpIf => len + 6,
            Form::TapeGetc | Form::TapePutc => 10,
            Form::TapeGetcJumpNp => 16,
            Form::PushRun => self.disp,
            Form::PopRun => u32::from(self.tail) + 4 * u32::from(self.count),
            Form::PopRunRet => u32::from(self.tail) + 4 * u32::from(self.count) + 4,
            Form::ByteCompare => 18 + u32::from(self.tail),
            Form::StringMatch | Form::ListWalk => self.disp,
            _ => len.max(4),
        }
    }

    pub(super) fn set_cond(&mut self, c: Cond) {
        (self.check, self.accept) = (c.bias, c.accept);
    }

    pub(super) fn set_test(&mut self, t: FlagTest) {
        (self.check, self.accept) = (t.mask, u8::from(t.invert));
    }

    /// The first instruction, for `semantics::execute`.
    pub fn instr(&self) -> Instr {
        Instr {
            op: self.op,
            regs: [self.a, self.b, self.c, self.d],
            imm: self.imm,
            ignored: 0,
        }
    }
}
