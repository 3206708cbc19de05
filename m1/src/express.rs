//! What a token's text means on an architecture: M1's expressions as pure functions.
//!
//! It owns steps A and B of the reference's expression assignment (spec `hex2-m1.md` 2.4)
//! for one text: strings ([`express_string`]), numbers with their sigil's width and range
//! and RISC-V's instruction-word encodings ([`number_of`]), and the `<N` padding limit.
//! Two pairs are a reference and a fast path of the same rule: [`number_of`] is the
//! reference and [`quick_number`] the fast path for the common sigil-and-digits texts
//! (`None` means "ask the reference"), and `by_text_slow` is the reference of [`by_text`],
//! the hot "is this text valid on its own" test; the tests below check each fast path
//! against its reference. Digit writing is [`crate::number`]'s, the location of errors
//! [`crate::diagnose`]'s.

use crate::config::{Config, DigitStyle};
use crate::number::{push_byte, strtoint};
use toolbase::arch::Arch;

/// Largest `<N` padding hexroot expands, in bytes (the reference has no limit; no real
/// program pads by more than a few bytes).
pub const MAX_PADDING: i32 = 1 << 24;

/// A number token, ready to print: the value (masked or encoded), its width, and whether
/// it is a RISC-V instruction word (printed with a leading `.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Num {
    pub value: i32,
    pub bytes: usize,
    pub dot: bool,
}

/// A number out of its sigil's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RangeError {
    pub value: i32,
    pub bytes: usize,
    pub lo: i64,
    pub hi: i64,
}

fn mask(value: i32, bytes: usize) -> i32 {
    if bytes >= 4 {
        value
    } else {
        value & ((1i32 << (8 * bytes)) - 1)
    }
}

fn ranged(value: i32, bytes: usize, lo: i64, hi: i64) -> Result<Num, RangeError> {
    if i64::from(value) < lo || i64::from(value) > hi {
        return Err(RangeError {
            value,
            bytes,
            lo,
            hi,
        });
    }
    Ok(Num {
        value: mask(value, bytes),
        bytes,
        dot: false,
    })
}

/// The common case of [`number_of`], off RISC-V: a sigil and plain decimal digits
/// (`%-42`, `!7`) with a non-zero value, `0`, or `0x` and up to 8 hex digits, in range.
/// `None` means "ask [`number_of`]", not "not a number".
#[inline(always)]
pub(crate) fn quick_number(text: &[u8], arch: Arch) -> Option<Num> {
    if arch.is_riscv() || text.len() < 2 || text.len() > 12 {
        return None;
    }
    let (bytes, lo, hi): (usize, i64, i64) = match text[0] {
        b'!' => (1, -129, 256),
        b'@' => (2, -32769, 32768),
        b'$' => (2, -32769, 65536),
        b'~' => (3, -8_388_609, 8_388_608),
        b'%' | b'&' => (4, i64::MIN, i64::MAX),
        _ => return None,
    };
    let rest = &text[1..];
    if rest[0] == b'0' {
        // `0` and `0x` followed by 1 to 8 hex digits (no `_` or `-`): numbers whatever
        // their value, since the text after the sigil starts with `0`.
        if rest.len() == 1 {
            return ranged(0, bytes, lo, hi).ok();
        }
        if rest[1] != b'x' || rest.len() < 3 || rest.len() > 10 {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &rest[2..] {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            n = (n << 4) | u32::from(d);
        }
        return ranged(n as i32, bytes, lo, hi).ok();
    }
    let negative = rest[0] == b'-';
    let digits = if negative { &rest[1..] } else { rest };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut n: u32 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.wrapping_mul(10).wrapping_add(u32::from(d));
    }
    let v = if negative {
        (n as i32).wrapping_neg()
    } else {
        n as i32
    };
    if v == 0 {
        return None;
    }
    ranged(v, bytes, lo, hi).ok()
}

/// Step B of the reference for one text: `None` when it is not a number on `arch`.
pub(crate) fn number_of(text: &[u8], arch: Arch) -> Option<Result<Num, RangeError>> {
    let (&first, rest) = text.split_first()?;
    let is_number = |rest: &[u8], v: i32| rest.first() == Some(&b'0') || v != 0;
    if arch.is_riscv() {
        if !matches!(first, b'!' | b'@' | b'$' | b'~' | b'%') {
            return None;
        }
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return None;
        }
        let word = |w: u32| {
            Some(Ok(Num {
                value: w as i32,
                bytes: 4,
                dot: true,
            }))
        };
        let u = v as u32;
        return match first {
            b'!' => word((u & 0xFFF) << 20),
            b'@' => word(((u & 0x1F) << 7) | ((u & 0xFE0) << 20)),
            b'~' => {
                let mut w = u & 0xFFFF_F000;
                if u & 0xFFF >= 0x800 {
                    w = w.wrapping_add(0x1000);
                }
                word(w)
            }
            b'$' => Some(Ok(Num {
                value: v & 0xFFFF,
                bytes: 2,
                dot: false,
            })),
            _ => Some(Ok(Num {
                value: v,
                bytes: 4,
                dot: false,
            })),
        };
    }
    let sigil = sigil_range(first);
    if let Some((bytes, lo, hi)) = sigil {
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return None;
        }
        return Some(ranged(v, bytes, lo, hi));
    }
    if !arch.is_knight() {
        return None;
    }
    let v = strtoint(text);
    if !is_number(text, v) || v > 65536 {
        return None;
    }
    if v > 32767 {
        Some(ranged(v, 2, -32769, 65536))
    } else {
        Some(ranged(v, 2, -32769, 32768))
    }
}

/// First bytes of texts that may be expressible from their text alone.
pub(crate) static FAST_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let chars = *b"!@$~%&:^<\"'";
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether the byte after a sigil makes the text a label (pass-through) whatever follows:
/// `strtoint` reads 0 from anything not starting with a digit, `-` or `_`, and such a text
/// is not a number on any architecture.
pub(crate) static LABEL_SECOND: [bool; 256] = {
    let mut t = [true; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = false;
        c += 1;
    }
    t[b'-' as usize] = false;
    t[b'_' as usize] = false;
    t
};

/// Whether `text` is valid and its expression follows from the text alone: a string, an
/// in-range number, a pass-through or a `<N` padding within limits.
///
/// Every text starting with `%` or `&` is valid: a 4-byte number takes any value, and a
/// text that is not a number passes through.
#[inline(always)]
pub(crate) fn by_text(text: &[u8], arch: Arch) -> bool {
    match text[0] {
        b'"' | b'\'' | b':' | b'^' | b'%' | b'&' => return true,
        b'!' | b'@' | b'$' | b'~' => match text.get(1) {
            None => return true,
            Some(&c) if LABEL_SECOND[usize::from(c)] => return true,
            _ => {
                if quick_number(text, arch).is_some() {
                    return true;
                }
            }
        },
        _ => {}
    }
    by_text_slow(text, arch)
}

/// The reference of [`by_text`]: the same answer from [`number_of`] and the `<N` rule
/// alone (with [`quick_number`] tried first, as the fast path's cheap case).
#[inline(never)]
fn by_text_slow(text: &[u8], arch: Arch) -> bool {
    if quick_number(text, arch).is_some() {
        return true;
    }
    match text[0] {
        b'"' | b'\'' => true,
        b'<' => {
            let n = strtoint(&text[1..]);
            (0..=MAX_PADDING).contains(&n)
        }
        first => match number_of(text, arch) {
            Some(r) => r.is_ok(),
            None => matches!(first, b'!' | b'@' | b'$' | b'~' | b'%' | b'&' | b':' | b'^'),
        },
    }
}

/// Step A for one string record (the text keeps its opening quote).
pub(crate) fn express_string(text: &[u8], config: &Config, buf: &mut Vec<u8>) {
    let (quote, body) = (text[0], &text[1..]);
    if quote == b'\'' {
        buf.extend_from_slice(body);
        return;
    }
    for &b in body.iter().chain(std::iter::once(&0u8)) {
        push_byte(buf, b, config.digits);
        buf.push(b' ');
    }
    if config.arch.is_knight() && config.digits == DigitStyle::Hex {
        let pad = 6 - 2 * (body.len() % 4);
        buf.resize(buf.len() + pad, b'0');
    }
}

/// The width in bytes of a number with sigil `first`, and the open range its value must
/// lie in (spec `hex2-m1.md`): `!` 1 byte, `@` and `$` 2 (`$` unsigned), `~` 3,
/// `%` and `&` 4 (any value).
pub(crate) fn sigil_range(first: u8) -> Option<(usize, i64, i64)> {
    match first {
        b'!' => Some((1, -129, 256)),
        b'@' => Some((2, -32769, 32768)),
        b'$' => Some((2, -32769, 65536)),
        b'~' => Some((3, -8_388_609, 8_388_608)),
        b'%' | b'&' => Some((4, i64::MIN, i64::MAX)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_architecture() {
        assert_eq!(
            number_of(b"!256", Arch::X86),
            Some(Ok(Num {
                value: 0,
                bytes: 1,
                dot: false
            }))
        );
        assert!(matches!(number_of(b"!257", Arch::X86), Some(Err(_))));
        assert_eq!(number_of(b"90", Arch::X86), None);
        assert!(number_of(b"16", Arch::KnightNative).is_some());
        for t in [
            "!1",
            "!256",
            "!257",
            "!-129",
            "!-130",
            "@32768",
            "$65536",
            "~-8388609",
            "%-5",
            "&42",
            "%4294967296",
            "%99999999999",
            "!1a",
            "!-",
            "%0",
            "%012",
            "%1_0",
            "%-0",
            "!0",
            "%0",
            "&0x10",
            "&0xFFFFFFFF",
            "&0x1ffffffff",
            "%0x_1",
            "!0x100",
            "!0xff",
            "@0x8000",
            "$0xFfFf",
            "%0x",
            "%0xg",
            "%0X1",
            "%00",
            "~0x-1",
        ] {
            for arch in [Arch::X86, Arch::KnightNative, Arch::Riscv64] {
                if let Some(q) = quick_number(t.as_bytes(), arch) {
                    assert_eq!(number_of(t.as_bytes(), arch), Some(Ok(q)), "{t}");
                }
            }
        }
        assert_eq!(number_of(b"&42", Arch::Riscv32), None);
        assert_eq!(
            number_of(b"@-1", Arch::Riscv32).unwrap().unwrap().value as u32,
            0xFE00_0F80
        );
    }

    /// The hot validity test gives the reference's answer on texts of every first byte,
    /// sigils followed by digits, signs, `_`, `x` and letters included.
    #[test]
    fn by_text_agrees_with_its_reference() {
        let firsts = b"!@$~%&:^<\"'";
        let rests: &[&[u8]] = &[
            b"",
            b"0",
            b"1",
            b"-",
            b"_",
            b"x",
            b"a",
            b"00",
            b"0x",
            b"0x1f",
            b"0xFFFFFFFF",
            b"0x1ffffffff",
            b"-1",
            b"-129",
            b"-130",
            b"255",
            b"256",
            b"257",
            b"32768",
            b"65536",
            b"65537",
            b"8388608",
            b"-8388609",
            b"4294967296",
            b"1_0",
            b"_1",
            b"-_5",
            b"1a",
            b"16777216",
            b"16777217",
            b"-0",
            b"0b101",
            b"017",
            b"99999999999",
        ];
        let mut checked = 0;
        for &first in firsts {
            for rest in rests {
                let mut text = vec![first];
                text.extend_from_slice(rest);
                for arch in [Arch::X86, Arch::KnightNative, Arch::Riscv64, Arch::Riscv32] {
                    assert_eq!(
                        by_text(&text, arch),
                        by_text_slow(&text, arch),
                        "{:?} on {arch:?}",
                        String::from_utf8_lossy(&text)
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1000);
    }
}
