//! What to assemble for: the instruction set (an [`Arch`] of the one table in
//! `toolbase::arch`), the byte order of numbers and the digit style of the output text,
//! gathered in [`Config`]. It holds settings only; the modules that read them express,
//! print and check.

use toolbase::arch::Arch;

/// Byte order of numbers in the output text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Most significant byte first (the reference's default).
    #[default]
    Big,
    /// Least significant byte first.
    Little,
}

/// How bytes are written in the output text (hex2's `-O` and `-b` read the other two).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum DigitStyle {
    /// Two hex digits per byte (default).
    #[default]
    Hex,
    /// Three octal digits per byte (numbers: per whole value, as the reference).
    Octal,
    /// Eight binary digits per byte.
    Binary,
}

/// What to assemble for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Config {
    /// Instruction set.
    pub arch: Arch,
    /// Byte order of numbers.
    pub endian: Endian,
    /// Output digit style.
    pub digits: DigitStyle,
}
