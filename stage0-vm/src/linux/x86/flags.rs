//! The six arithmetic flags (CF, PF, AF, ZF, SF, OF), computed lazily.
//!
//! Most instructions that write flags are add, sub, cmp, test and the logic operations,
//! and most flags they write are never read. So [`Flags`] records the last such operation
//! (its kind, operand size, operands and result) and derives each flag only when a
//! conditional jump, setcc, pushf or a partial flag update asks for it. Every other
//! flag-writing instruction stores its flags eagerly ([`Flags::set_eager`]). The formulas
//! are the SDM's definitions written on whole words: the carry out of the most
//! significant bit of a sum is `msb((a & b) | ((a | b) & !r))`, the borrow of a
//! difference `msb((!a & b) | (!(a ^ b) & r))`; they hold with a carry or borrow in, so
//! ADC and SBB use them too. DF and the system flags live in the processor, not here.

use super::decode::mask;

/// Carry flag (bit 0).
pub const CF: u32 = 1 << 0;
/// Parity flag: the low byte of the result has an even number of set bits (bit 2).
pub const PF: u32 = 1 << 2;
/// Auxiliary carry: carry or borrow out of bit 3 (bit 4).
pub const AF: u32 = 1 << 4;
/// Zero flag (bit 6).
pub const ZF: u32 = 1 << 6;
/// Sign flag (bit 7).
pub const SF: u32 = 1 << 7;
/// Overflow flag (bit 11).
pub const OF: u32 = 1 << 11;
/// The six arithmetic flags.
pub const ARITH: u32 = CF | PF | AF | ZF | SF | OF;

/// What the last flag-writing operation was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `res = a + b (+ carry)`.
    Add,
    /// `res = a - b (- borrow)`.
    Sub,
    /// AND, OR, XOR, TEST: CF = OF = AF = 0.
    Logic,
    /// INC/DEC: like Add/Sub with b = 1, CF kept in `bits`.
    Inc,
    Dec,
    /// All six flags are in `bits`.
    Eager,
}

/// The arithmetic flags, lazily.
#[derive(Clone, Copy, Debug)]
pub struct Flags {
    kind: Kind,
    size: u8,
    a: u64,
    b: u64,
    res: u64,
    bits: u32,
}

impl Default for Flags {
    fn default() -> Flags {
        Flags {
            kind: Kind::Eager,
            size: 4,
            a: 0,
            b: 0,
            res: 0,
            bits: 0,
        }
    }
}

/// The most significant bit of a `size`-byte value.
#[inline]
pub fn msb(v: u64, size: u8) -> bool {
    (v >> (8 * u32::from(size) - 1)) & 1 != 0
}

/// PF, ZF and SF of a `size`-byte result.
#[inline]
pub fn szp(res: u64, size: u8) -> u32 {
    let r = res & mask(size);
    let mut f = 0;
    if (r as u8).count_ones() & 1 == 0 {
        f |= PF;
    }
    if r == 0 {
        f |= ZF;
    }
    if msb(r, size) {
        f |= SF;
    }
    f
}

impl Flags {
    /// Records `res = a + b (+ carry in)`.
    #[inline]
    pub fn set_add(&mut self, size: u8, a: u64, b: u64, res: u64) {
        *self = Flags {
            kind: Kind::Add,
            size,
            a,
            b,
            res,
            bits: 0,
        };
    }

    /// Records `res = a - b (- borrow in)`.
    #[inline]
    pub fn set_sub(&mut self, size: u8, a: u64, b: u64, res: u64) {
        *self = Flags {
            kind: Kind::Sub,
            size,
            a,
            b,
            res,
            bits: 0,
        };
    }

    /// Records a logic result.
    #[inline]
    pub fn set_logic(&mut self, size: u8, res: u64) {
        *self = Flags {
            kind: Kind::Logic,
            size,
            a: 0,
            b: 0,
            res,
            bits: 0,
        };
    }

    /// Records INC (`up`) or DEC of `a` giving `res`; CF is kept.
    #[inline]
    pub fn set_incdec(&mut self, up: bool, size: u8, a: u64, res: u64) {
        let cf = u32::from(self.cf());
        *self = Flags {
            kind: if up { Kind::Inc } else { Kind::Dec },
            size,
            a,
            b: 1,
            res,
            bits: cf,
        };
    }

    /// Sets all six flags from `bits` (other bits ignored).
    #[inline]
    pub fn set_eager(&mut self, bits: u32) {
        self.kind = Kind::Eager;
        self.bits = bits & ARITH;
    }

    /// Replaces the flags in `which` by those in `bits`, keeping the others.
    #[inline]
    pub fn update(&mut self, which: u32, bits: u32) {
        let old = self.get();
        self.set_eager((old & !which) | (bits & which));
    }

    /// The carry flag.
    #[inline]
    pub fn cf(&self) -> bool {
        let (a, b, r) = (self.a, self.b, self.res);
        match self.kind {
            Kind::Add => msb((a & b) | ((a | b) & !r), self.size),
            Kind::Sub => msb((!a & b) | (!(a ^ b) & r), self.size),
            Kind::Logic => false,
            Kind::Inc | Kind::Dec | Kind::Eager => self.bits & CF != 0,
        }
    }

    /// The zero flag.
    #[inline]
    pub fn zf(&self) -> bool {
        match self.kind {
            Kind::Eager => self.bits & ZF != 0,
            _ => self.res & mask(self.size) == 0,
        }
    }

    /// The sign flag.
    #[inline]
    pub fn sf(&self) -> bool {
        match self.kind {
            Kind::Eager => self.bits & SF != 0,
            _ => msb(self.res, self.size),
        }
    }

    /// The overflow flag.
    #[inline]
    pub fn of(&self) -> bool {
        let (a, b, r) = (self.a, self.b, self.res);
        match self.kind {
            Kind::Add | Kind::Inc => msb((a ^ r) & (b ^ r), self.size),
            Kind::Sub | Kind::Dec => msb((a ^ b) & (a ^ r), self.size),
            Kind::Logic => false,
            Kind::Eager => self.bits & OF != 0,
        }
    }

    /// The parity flag.
    #[inline]
    pub fn pf(&self) -> bool {
        match self.kind {
            Kind::Eager => self.bits & PF != 0,
            _ => (self.res as u8).count_ones() & 1 == 0,
        }
    }

    /// The auxiliary carry flag.
    #[inline]
    pub fn af(&self) -> bool {
        match self.kind {
            Kind::Eager => self.bits & AF != 0,
            Kind::Logic => false,
            _ => (self.a ^ self.b ^ self.res) & 0x10 != 0,
        }
    }

    /// All six flags in their EFLAGS positions.
    pub fn get(&self) -> u32 {
        if self.kind == Kind::Eager {
            return self.bits;
        }
        let mut f = szp(self.res, self.size);
        if self.cf() {
            f |= CF;
        }
        if self.af() {
            f |= AF;
        }
        if self.of() {
            f |= OF;
        }
        f
    }

    /// Condition `cc` (the low nibble of Jcc/SETcc/CMOVcc: O NO B AE E NE BE A S NS P
    /// NP L GE LE G).
    #[inline]
    pub fn cond(&self, cc: u8) -> bool {
        let t = match cc >> 1 {
            0 => self.of(),
            1 => self.cf(),
            2 => self.zf(),
            3 => self.cf() || self.zf(),
            4 => self.sf(),
            5 => self.pf(),
            6 => self.sf() != self.of(),
            _ => self.zf() || (self.sf() != self.of()),
        };
        t != (cc & 1 != 0)
    }
}
