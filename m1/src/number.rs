//! Numbers: the reference's text-to-int parser and the digit writers.
//!
//! It re-exports the shared `strtoint` ([`toolbase::number`], spec `hex2-m1.md` section 0) and
//! owns the formatting of a value as hex2 text digits in a [`DigitStyle`] and [`Endian`]
//! (spec 2.6: hex and binary per byte, octal per whole value with arithmetic shifts). It knows nothing about sigils or
//! architectures; those are the expressions' (`express.rs`).

use crate::config::{DigitStyle, Endian};

pub use toolbase::number::strtoint;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// The two upper-case hex digits of every byte.
static HEX_PAIRS: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

/// Digits per byte in `style`: 2 hex, 3 octal, 8 binary.
pub fn digits_per_byte(style: DigitStyle) -> usize {
    match style {
        DigitStyle::Hex => 2,
        DigitStyle::Octal => 3,
        DigitStyle::Binary => 8,
    }
}

/// Appends `value` as `bytes` bytes of digits in `style`, most significant first, then with
/// the byte groups reversed for little endian. Octal writes 3 digits per byte of the whole
/// value (not per byte), shifting arithmetically, as the reference does; callers mask
/// values narrower than 4 bytes first.
pub fn push_digits(out: &mut Vec<u8>, value: i32, bytes: usize, style: DigitStyle, endian: Endian) {
    if style == DigitStyle::Hex && (1..=4).contains(&bytes) {
        // Per byte is the same as per value in hex; the common case, done with a table
        // of digit pairs into a local array, then one append.
        let v = value as u32;
        let mut digits = [0u8; 8];
        for i in 0..bytes {
            let byte = match endian {
                Endian::Big => bytes - 1 - i,
                Endian::Little => i,
            };
            let pair = HEX_PAIRS[usize::from((v >> (8 * byte)) as u8)];
            digits[2 * i] = pair[0];
            digits[2 * i + 1] = pair[1];
        }
        // Constant-length appends compile to plain stores, not a memcpy call.
        match bytes {
            1 => out.extend_from_slice(&digits[..2]),
            2 => out.extend_from_slice(&digits[..4]),
            3 => out.extend_from_slice(&digits[..6]),
            _ => out.extend_from_slice(&digits[..8]),
        }
        return;
    }
    let per = digits_per_byte(style);
    let (shift, mask) = match style {
        DigitStyle::Hex => (4, 0xF),
        DigitStyle::Octal => (3, 0x7),
        DigitStyle::Binary => (1, 0x1),
    };
    let n = per * bytes;
    let start = out.len();
    let v = i64::from(value);
    for i in (0..n).rev() {
        let d = (v >> (shift * i)) & mask;
        out.push(HEX[d as usize]);
    }
    if endian == Endian::Little {
        let digits = &mut out[start..];
        digits.reverse();
        for group in digits.chunks_mut(per) {
            group.reverse();
        }
    }
}

/// The hex digits of `value` as `bytes` bytes (1 to 4, the value already masked) in
/// `endian` order, in the first `2 * bytes` places of a fixed 8-byte array (the rest is
/// scratch): [`push_digits`] in hex without a loop or an append.
#[inline(always)]
pub(crate) fn hex_word(value: i32, bytes: usize, endian: Endian) -> [u8; 8] {
    let v = value as u32;
    let b = match endian {
        Endian::Little => v.to_le_bytes(),
        Endian::Big => (v << ((32 - 8 * bytes.clamp(1, 4)) & 31)).to_be_bytes(),
    };
    let [p0, p1, p2, p3] = b.map(|x| HEX_PAIRS[usize::from(x)]);
    [p0[0], p0[1], p1[0], p1[1], p2[0], p2[1], p3[0], p3[1]]
}

/// Writes each byte of `body` as two hex digits and a space into the start of `dst`
/// (which holds at least `3 * body.len()` bytes): a string's bytes in hex.
#[inline]
pub(crate) fn hex_spaced(body: &[u8], dst: &mut [u8]) {
    for (&b, d) in body.iter().zip(dst.chunks_exact_mut(3)) {
        let [hi, lo] = HEX_PAIRS[usize::from(b)];
        d.copy_from_slice(&[hi, lo, b' ']);
    }
}

/// Appends one byte as digits in `style` (strings use this; bytes are always unsigned).
pub fn push_byte(out: &mut Vec<u8>, byte: u8, style: DigitStyle) {
    push_digits(out, i32::from(byte), 1, style, Endian::Big);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(v: i32, bytes: usize, style: DigitStyle, endian: Endian) -> String {
        let mut out = Vec::new();
        push_digits(&mut out, v, bytes, style, endian);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn octal_is_per_value_and_reversed_by_groups() {
        assert_eq!(digits(258, 2, DigitStyle::Octal, Endian::Big), "000402");
        assert_eq!(digits(258, 2, DigitStyle::Octal, Endian::Little), "402000");
        assert_eq!(
            digits(-1, 4, DigitStyle::Octal, Endian::Big),
            "777777777777"
        );
        assert_eq!(digits(258, 2, DigitStyle::Hex, Endian::Little), "0201");
        assert_eq!(digits(-1, 4, DigitStyle::Hex, Endian::Big), "FFFFFFFF");
        assert_eq!(
            digits(0x12_3456, 3, DigitStyle::Hex, Endian::Little),
            "563412"
        );
        assert_eq!(
            digits(258, 2, DigitStyle::Binary, Endian::Little),
            "0000001000000001"
        );
    }
}
