//! Pointer evaluation: what a pointer sigil means and the value its field holds.
//!
//! It owns the sigil table (size and kind of each sigil, RISC-V's immediates), the
//! architectural displacement rules (spec 1.7, the `^` alignment flag), the RISC-V
//! immediate encodings (spec 1.8) and the range checks of full hex2, and the seeds'
//! unchecked arithmetic, as pure functions of addresses. Errors are typed kinds without a
//! location; the engine's `diagnose` adds where the pointer is, the label's
//! definition and the hint, and its `output` writes the value in the configured byte order.

use crate::config::Dialect;
use toolbase::arch::Arch;

/// How a pointer's value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum How {
    /// A displacement (architecture rule or `a>b`).
    Rel,
    /// The label's address.
    Abs,
    /// A RISC-V immediate XORed into the next word.
    Imm(Format),
}

/// RISC-V immediate formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// I-type: bits 31..20.
    I,
    /// B-type: the branch offset's scattered bits.
    B,
    /// J-type: the jump offset's scattered bits.
    J,
    /// U-type: the upper 20 bits, rounded for a following I-type.
    U,
}

impl Format {
    /// The format's letter, as the spec names it.
    pub fn letter(self) -> char {
        match self {
            Format::I => 'I',
            Format::B => 'B',
            Format::J => 'J',
            Format::U => 'U',
        }
    }
}

/// A sigil's field: its size in bytes (0 for an immediate) and how its value is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Spec {
    /// Bytes the field takes in the output.
    pub size: u32,
    /// How the value is computed.
    pub how: How,
}

/// Size and kind of the pointer `sigil`; `riscv` turns `! @ $ ~` into immediates (in every
/// dialect). Which sigils exist at all is the scanner's class table's job.
pub fn spec(sigil: u8, riscv: bool) -> Spec {
    let rel = |size| Spec {
        size,
        how: How::Rel,
    };
    let abs = |size| Spec {
        size,
        how: How::Abs,
    };
    let imm = |f| Spec {
        size: 0,
        how: How::Imm(f),
    };
    match sigil {
        b'!' if riscv => imm(Format::I),
        b'@' if riscv => imm(Format::B),
        b'$' if riscv => imm(Format::J),
        b'~' if riscv => imm(Format::U),
        b'!' => rel(1),
        b'@' => rel(2),
        b'$' => abs(2),
        b'~' => rel(3),
        b'%' => rel(4),
        _ => abs(4),
    }
}

/// Why a pointer's value cannot be written (full hex2 only; the seeds never check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PointerError {
    /// ARMv7 `^` branch to a target that is not a multiple of 4.
    UnalignedTarget {
        /// The target address.
        target: u32,
    },
    /// The value does not fit its field.
    DoesNotFit {
        /// The field is an address (`$`), not a displacement.
        absolute: bool,
        /// The value, as a signed number.
        value: i32,
        /// The field's size in bytes.
        size: u32,
        /// The field's range.
        lo: i32,
        /// The field's range.
        hi: i32,
    },
    /// A RISC-V B or J displacement out of range or odd.
    ImmediateRange {
        /// The displacement.
        displacement: i32,
        /// The immediate's format.
        format: Format,
        /// The format's range.
        lo: i32,
        /// The format's range.
        hi: i32,
    },
}

/// The architectural displacement from `b` (the field's end) to `t` (spec 1.7). With
/// `caret_rule` (full hex2) the `^` flag `aligned` selects the word form and is consumed.
pub fn displacement(
    arch: Arch,
    caret_rule: bool,
    aligned: &mut bool,
    t: u32,
    b: u32,
) -> Result<u32, PointerError> {
    if !caret_rule {
        return Ok(t.wrapping_sub(b));
    }
    let aligned = std::mem::replace(aligned, false);
    let ti = t as i32;
    let bi = b as i32;
    let b3 = (b & 3) as i32;
    Ok(match (arch, aligned) {
        (Arch::Armv7l | Arch::Aarch64, false) => {
            ti.wrapping_sub(bi).wrapping_sub(8).wrapping_add(b3) as u32
        }
        (Arch::Armv7l, true) => {
            if t & 3 != 0 {
                return Err(PointerError::UnalignedTarget { target: t });
            }
            ((ti.wrapping_sub(bi).wrapping_add(b3) >> 2).wrapping_sub(2)) as u32
        }
        (Arch::Aarch64, true) => (ti.wrapping_sub((b & !3) as i32) >> 2) as u32,
        (_, false) => t.wrapping_sub(b & !3),
        (_, true) => t.wrapping_sub(b & !3) | 1,
    })
}

/// The RISC-V immediate of format `f` for displacement `d` (spec 1.8); `check` refuses an
/// out-of-range or odd B/J displacement.
pub fn riscv_imm(f: Format, d: i32, check: bool) -> Result<u32, PointerError> {
    let v = d as u32;
    let bit = |n: u32| (v >> n) & 1;
    let range = |lo: i32, hi: i32| {
        if check && (!(lo..=hi).contains(&d) || d & 1 != 0) {
            Err(PointerError::ImmediateRange {
                displacement: d,
                format: f,
                lo,
                hi,
            })
        } else {
            Ok(())
        }
    };
    Ok(match f {
        Format::I => (v.wrapping_add(4) & 0xFFF) << 20,
        Format::U => v.wrapping_add(0x800) & 0xFFFF_F000,
        Format::B => {
            range(-4096, 4095)?;
            bit(12) << 31 | ((v >> 5) & 0x3F) << 25 | ((v >> 1) & 0xF) << 8 | bit(11) << 7
        }
        Format::J => {
            range(-1_048_576, 1_048_575)?;
            bit(20) << 31 | ((v >> 1) & 0x3FF) << 21 | bit(11) << 20 | ((v >> 12) & 0xFF) << 12
        }
    })
}

/// Full hex2's value of a pointer to `t` (optionally `name>base`) whose field ends at
/// `field_end`, range-checked for its size.
pub fn full_value(
    arch: Arch,
    caret_rule: bool,
    aligned: &mut bool,
    spec: Spec,
    t: u32,
    base: Option<u32>,
    field_end: u32,
) -> Result<u32, PointerError> {
    if let How::Imm(f) = spec.how {
        // ip did not move: it is the address of the next instruction
        return riscv_imm(f, t.wrapping_sub(field_end) as i32, true);
    }
    let disp = match base {
        Some(b) => t.wrapping_sub(b),
        None => displacement(arch, caret_rule, aligned, t, field_end)?,
    };
    let value = if spec.how == How::Abs { t } else { disp };
    let v = value as i32;
    let (lo, hi) = match (spec.size, spec.how) {
        (1, _) => (-128, 127),
        (2, How::Rel) => (-32768, 32767),
        (2, _) => (0, 65535),
        (3, _) => (-8_388_608, 8_388_607),
        _ => return Ok(value),
    };
    if v < lo || v > hi {
        return Err(PointerError::DoesNotFit {
            absolute: spec.how == How::Abs,
            value: v,
            size: spec.size,
            lo,
            hi,
        });
    }
    Ok(value)
}

/// The seeds' value of a pointer to `t` whose field runs from `start` to `field_end`: no
/// checks, and AArch64's word displacements as hex1 (always) and hex2-0 (after `^`) make
/// them.
#[allow(clippy::too_many_arguments)]
pub fn seed_value(
    arch: Arch,
    dialect: Dialect,
    aligned: &mut bool,
    spec: Spec,
    t: u32,
    base: Option<u32>,
    start: u32,
    field_end: u32,
) -> u32 {
    match spec.how {
        How::Imm(f) => riscv_imm(f, t.wrapping_sub(field_end) as i32, false).unwrap_or(0),
        How::Abs => match base {
            Some(b) if arch.is_riscv() => t.wrapping_sub(b),
            _ => t,
        },
        How::Rel if arch == Arch::Aarch64 => {
            let raw = match base {
                Some(b) => t.wrapping_sub(b),
                None => t.wrapping_sub(start),
            };
            let words = dialect == Dialect::SeedHex1 || std::mem::replace(aligned, false);
            if words {
                ((raw as i32) >> 2) as u32
            } else {
                raw
            }
        }
        How::Rel => match base {
            Some(b) => t.wrapping_sub(b),
            None => t.wrapping_sub(field_end),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sigils_have_their_sizes() {
        assert_eq!(spec(b'!', false).size, 1);
        assert_eq!(spec(b'$', false).how, How::Abs);
        assert_eq!(spec(b'&', false).size, 4);
        assert_eq!(spec(b'@', true).how, How::Imm(Format::B));
    }

    #[test]
    fn x86_displacement_is_target_minus_field_end() {
        let mut aligned = false;
        let v = full_value(
            Arch::X86,
            true,
            &mut aligned,
            spec(b'%', false),
            0x100,
            None,
            0x110,
        );
        assert_eq!(v, Ok(0xFFFF_FFF0));
    }

    #[test]
    fn a_byte_displacement_out_of_range_is_refused() {
        let mut aligned = false;
        let e = full_value(
            Arch::X86,
            true,
            &mut aligned,
            spec(b'!', false),
            0x1000,
            None,
            0x10,
        );
        assert_eq!(
            e,
            Err(PointerError::DoesNotFit {
                absolute: false,
                value: 0xFF0,
                size: 1,
                lo: -128,
                hi: 127
            })
        );
    }

    #[test]
    fn riscv_branch_must_be_even_and_near() {
        assert!(riscv_imm(Format::B, 3, true).is_err());
        assert!(riscv_imm(Format::B, 5000, true).is_err());
        assert_eq!(riscv_imm(Format::B, 5000, false).map(|_| ()), Ok(()));
        assert_eq!(riscv_imm(Format::I, 0, true), Ok(4 << 20));
    }

    #[test]
    fn the_caret_flag_is_consumed_only_where_it_applies() {
        let mut aligned = true;
        let _ = displacement(Arch::X86, false, &mut aligned, 8, 4);
        assert!(aligned, "the seeds' rule leaves the flag alone");
        let _ = displacement(Arch::Aarch64, true, &mut aligned, 8, 4);
        assert!(!aligned);
    }
}
