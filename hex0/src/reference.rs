//! The reference semantics of hex0 (`spec/grammar.md` §1, `spec/seed-tools.md` §1): a
//! deliberately plain reading of the grammar, a byte at a time, for readers and for the
//! property tests that check the table-driven [`crate::lang`] against it.
//!
//! ```
//! use hex0::{reference, Dialect};
//! assert_eq!(reference::assemble(b"B8 2A # mov\n0 0", Dialect::Portable), Some(vec![0xB8, 0x2A, 0x00]));
//! assert_eq!(reference::assemble(b"G0", Dialect::X86), None);
//! ```

use crate::lang::Dialect;

/// The bytes of `source` in `dialect`, or `None` where hexroot refuses the input (a `G`/`g`
/// outside a comment in the dialects whose seeds read it as a digit).
pub fn assemble(source: &[u8], dialect: Dialect) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    // The pending high nibble, if one digit of the current byte has been read.
    let mut high: Option<u8> = None;
    let mut in_comment = false;
    for &b in source {
        if in_comment {
            // A comment runs to the line end: `\n`, or also `\r` in the riscv dialects.
            in_comment = !(b == b'\n' || (b == b'\r' && dialect.cr_ends_comment()));
            continue;
        }
        match b {
            b'#' | b';' => in_comment = true,
            b'G' | b'g' if dialect.refuses_g() => return None,
            _ => {
                // A digit is a nibble; two make a byte, high first; anything else is skipped.
                let Some(nibble) = (b as char).to_digit(16) else {
                    continue;
                };
                match high.take() {
                    None => high = Some(nibble as u8),
                    Some(h) => out.push(h << 4 | nibble as u8),
                }
            }
        }
    }
    // An odd last nibble is dropped.
    Some(out)
}
