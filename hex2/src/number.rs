//! The mescc-tools number parser ("strtoint") used for `--base-address`.
//!
//! It owns only the text-to-int conversion with the reference's quirks (leading `0` is octal,
//! only lower-case `0x`/`0b`, `_` skipped anywhere, junk gives 0, 32-bit wrap). It never fails:
//! invalid text yields 0, exactly as the reference does.

/// Parses `text` as the reference's `strtoint` does (spec section 0): never fails, junk is 0.
pub fn strtoint(text: &[u8]) -> i32 {
    if text.is_empty() {
        return 0;
    }
    let (base, digits): (u32, &[u8]) = if let Some(rest) = text.strip_prefix(b"0b") {
        (2, rest)
    } else if let Some(rest) = text.strip_prefix(b"0x") {
        (16, rest)
    } else if let Some(rest) = text.strip_prefix(b"0") {
        (8, rest)
    } else {
        (10, text)
    };
    let (negative, digits) = match digits.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, digits),
    };
    let mut n: u32 = 0;
    for &c in digits {
        if c == b'_' {
            continue;
        }
        let d = match (c as char).to_digit(16) {
            Some(d) if d < base => d,
            _ => return 0,
        };
        n = n.wrapping_mul(base).wrapping_add(d);
    }
    let n = n as i32;
    if negative {
        n.wrapping_neg()
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::strtoint;

    #[test]
    fn spec_table() {
        for (t, v) in [
            ("16", 16),
            ("1_6", 16),
            ("0x10", 16),
            ("0x_1_0", 16),
            ("020", 16),
            ("0b10000", 16),
            ("010", 8),
            ("-010", -10),
            ("-0x10", 0),
            ("0x-10", -16),
            ("0X10", 0),
            ("0B1", 0),
            ("09", 0),
            ("08", 0),
            ("12zz", 0),
            ("0abc", 0),
            ("-", 0),
            ("_", 0),
            ("0x", 0),
            ("0b", 0),
            ("4294967296", 0),
            ("0x100000010", 16),
            ("4294967295", -1),
            ("0xFFFFFFFF", -1),
            ("", 0),
        ] {
            assert_eq!(strtoint(t.as_bytes()), v, "{t}");
        }
    }
}
