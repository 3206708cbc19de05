//! # m1: the M1 and M0 macro assemblers and blood-elf
//!
//! M1 turns macro-assembly source into hex2 text, byte for byte as mescc-tools 1.7.0's `M1`
//! does (spec `hex2-m1.md` section 2). The language:
//!
//! - tokens are separated by spaces and tabs; `\n` ends a line; `#` or `;` at the start of
//!   a token comments out the rest of the line; `"text"` is a string printed as hex bytes
//!   plus a NUL, `'text'` is printed raw; anything else is an atom;
//! - `DEFINE NAME VALUE` makes every occurrence of NAME, before or after, print VALUE as
//!   written (the last DEFINE of a name wins everywhere);
//! - `!N` `@N` `$N` `~N` `%N` `&N` are numbers of 1, 2, 2, 3, 4 and 4 bytes in the chosen
//!   endianness (on RISC-V `!` `@` `~` are I, S and U immediates written as `.` words,
//!   on knight bare numbers are 2-byte values); numbers take `0x`, `0b`, leading-`0` octal,
//!   `-` and `_` as the reference's `strtoint`;
//! - `:label`, `&label`, `%label`, `!label`, `@label`, `$label`, `~label`, `^...` pass
//!   through to hex2, and `<N` becomes N zero bytes (`<` and `<0` pass through);
//! - anything else is an error ("unknown token", with the closest DEFINE suggested).
//!
//! The output keeps the source's line structure, with single spaces between tokens
//! (spec 2.6). [`m0`] is the seed M0's one-token-per-line dialect on the same lexer, and
//! [`blood_elf`] writes blood-elf's symbol-table footer. [`map`] owns the source map format
//! (`--map`). [`tool`] holds the command lines.
//!
//! ```
//! let src = b"DEFINE mov_eax, B8\n:_start\nmov_eax, %42 \"hi\"\n";
//! let config = m1::Config { arch: m1::Arch::X86, endian: m1::Endian::Little, ..Default::default() };
//! let text = m1::assemble(&[m1::Source { name: "a.M1", text: src }], &config).unwrap();
//! assert_eq!(text, b"\n:_start\nB8 2A000000 68 69 00 \n");
//! ```
//!
//! Non-features: no address arithmetic (that is hex2's), no syntax beyond the reference's,
//! no reading of files (the [`tool`] module does that), no network.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// The API returns `toolbase::diag::Diagnostic` by value, the workspace's one error shape; errors
// are cold and leave the hot loops through side fields, so its size costs nothing there.
#![allow(clippy::result_large_err)]

pub(crate) mod analyse;
pub(crate) mod blocks;
pub mod blood_elf;
pub(crate) mod collapse;
mod config;
pub(crate) mod diagnose;
pub(crate) mod engine;
pub(crate) mod expand;
pub(crate) mod express;
pub mod intern;
pub mod lexer;
pub mod m0;
pub mod map;
pub mod number;
pub(crate) mod print;
pub mod reference;
mod source;
pub mod tool;
pub(crate) mod walk;

/// The instruction sets M1 knows (the one table in `toolbase::arch`); they differ in
/// number encoding and string padding, and the two Knight names behave alike.
pub use toolbase::arch::Arch;

pub use config::{Config, DigitStyle, Endian};
pub use engine::{assemble, assemble_to, assemble_with_map};
pub use source::Source;
