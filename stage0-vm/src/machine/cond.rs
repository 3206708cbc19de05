//! The Knight condition families as data, the bottom of the machine: a comparison's
//! outcome ([`relation`]), the compare-and-branch conditions ([`Cond`], [`Family`], the
//! table [`compare`], [`skip_imm`]) and the flag tests ([`FlagTest`], the table
//! [`flag_test`]). The plain semantics, the pre-decoder, the fused routines and the fast
//! executor all test conditions through these.

use crate::isa::Op;

/// A comparison's outcome as CMP writes it: 1 less, 2 equal, 4 greater (unsigned).
#[inline(always)]
pub(crate) fn relation(x: u32, y: u32) -> u32 {
    if x == y {
        2
    } else if x < y {
        1
    } else {
        4
    }
}

/// The bias that turns an unsigned comparison of biased values into a signed one.
pub(crate) const SIGNED: u32 = 0x8000_0000;

/// A condition on the comparison of two values: the outcomes it accepts (a mask over
/// [`relation`]'s 1, 2, 4) and the bias applied to both ([`SIGNED`] or 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cond {
    pub accept: u8,
    pub bias: u32,
}

impl Cond {
    #[inline(always)]
    pub fn holds(self, x: u32, y: u32) -> bool {
        relation(x ^ self.bias, y ^ self.bias) & u32::from(self.accept) != 0
    }
}

/// The compare-and-branch families.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    /// CMPSKIP* a b: skip the next instruction.
    Skip,
    /// CMPSKIPI* / CMPSKIPUI* a imm: skip the next instruction.
    SkipImm,
    /// CMPJUMP* a b c: ip = c.
    JumpReg,
    /// CMPJUMPI* / CMPJUMPUI* a b imm: ip = next + imm.
    JumpImm,
}

const G: u8 = 4;
const GE: u8 = 6;
const E: u8 = 2;
const NE: u8 = 5;
const LE: u8 = 3;
const L: u8 = 1;
const S: u32 = SIGNED;
const U: u32 = 0;

macro_rules! compare_table {
    ($($op:ident $family:ident $accept:ident $bias:ident;)*) => {
        /// The family and condition of a compare-and-branch operation.
        pub(crate) fn compare(op: Op) -> Option<(Family, Cond)> {
            Some(match op {
                $(Op::$op => (Family::$family, Cond { accept: $accept, bias: $bias }),)*
                _ => return None,
            })
        }
    };
}

// Equality ignores the bias; unbiased CMPSKIPI.E/NE compare with the zero-extended
// immediate, as CMPSKIPUI* do (see `skip_imm`).
compare_table! {
    CmpskipG Skip G S; CmpskipGe Skip GE S; CmpskipE Skip E U; CmpskipNe Skip NE U;
    CmpskipLe Skip LE S; CmpskipL Skip L S;
    CmpskipuG Skip G U; CmpskipuGe Skip GE U; CmpskipuLe Skip LE U; CmpskipuL Skip L U;
    CmpskipiG SkipImm G S; CmpskipiGe SkipImm GE S; CmpskipiE SkipImm E U;
    CmpskipiNe SkipImm NE U; CmpskipiLe SkipImm LE S; CmpskipiL SkipImm L S;
    CmpskipuiG SkipImm G U; CmpskipuiGe SkipImm GE U; CmpskipuiLe SkipImm LE U;
    CmpskipuiL SkipImm L U;
    CmpjumpG JumpReg G S; CmpjumpGe JumpReg GE S; CmpjumpE JumpReg E U;
    CmpjumpNe JumpReg NE U; CmpjumpLe JumpReg LE S; CmpjumpL JumpReg L S;
    CmpjumpuG JumpReg G U; CmpjumpuGe JumpReg GE U; CmpjumpuLe JumpReg LE U;
    CmpjumpuL JumpReg L U;
    CmpjumpiG JumpImm G S; CmpjumpiGe JumpImm GE S; CmpjumpiE JumpImm E U;
    CmpjumpiNe JumpImm NE U; CmpjumpiLe JumpImm LE S; CmpjumpiL JumpImm L S;
    CmpjumpuiG JumpImm G U; CmpjumpuiGe JumpImm GE U; CmpjumpuiLe JumpImm LE U;
    CmpjumpuiL JumpImm L U;
}

/// The immediate a CMPSKIPI/CMPSKIPUI compares with: sign-extended for the signed
/// orderings, zero-extended for equality and the unsigned forms.
pub(crate) fn skip_imm(cond: Cond, raw: u32) -> u32 {
    if cond.bias == SIGNED {
        raw as u16 as i16 as i32 as u32
    } else {
        raw & 0xFFFF
    }
}

/// A test on a flags register (JUMP.cond, SET.cond): `(f & mask != 0) != invert`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FlagTest {
    pub mask: u32,
    pub invert: bool,
}

impl FlagTest {
    #[inline(always)]
    pub fn holds(self, f: u32) -> bool {
        (f & self.mask != 0) != self.invert
    }
}

macro_rules! flag_table {
    ($($op:ident $mask:literal $invert:literal;)*) => {
        /// The flag test of a JUMP.cond or SET.cond operation.
        pub(crate) fn flag_test(op: Op) -> Option<FlagTest> {
            Some(match op {
                $(Op::$op => FlagTest { mask: $mask, invert: $invert },)*
                _ => return None,
            })
        }
    };
}

flag_table! {
    JumpC 0x20 false; JumpB 0x10 false; JumpO 0x08 false; JumpG 4 false; JumpGe 6 false;
    JumpE 2 false; JumpNe 2 true; JumpLe 3 false; JumpL 1 false;
    JumpZ 0xFFFF_FFFF true; JumpNz 0xFFFF_FFFF false;
    JumpP 0x8000_0000 true; JumpNp 0x8000_0000 false;
    SetG 4 false; SetGe 6 false; SetE 2 false; SetNe 2 true; SetLe 3 false; SetL 1 false;
}
