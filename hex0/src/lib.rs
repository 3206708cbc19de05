//! # hex0: the hex0 language and catm
//!
//! hex0 is the first language of a bootstrap: hex digit pairs become bytes, `#` and `;`
//! start comments, everything else is skipped (full grammar in [`lang`]). What every tool
//! shares (diagnostics, options, output files, numbers, the architecture table) is in the
//! `toolbase` crate.
//!
//! The tools themselves are [`tool`] (`hex0 INPUT OUTPUT`) and [`catm`] (`catm OUTPUT
//! INPUT...`); their binaries are one line each.
//!
//! ```
//! // mov eax, 42; a known-answer example
//! let src = b"B8 2A 00 00 00 # mov $42, %eax\n";
//! assert_eq!(hex0::assemble(src, hex0::Dialect::Portable).unwrap(), [0xB8, 0x2A, 0, 0, 0]);
//! ```
//!
//! Non-features: no labels (that is hex1 and hex2, in the `hex2` crate), no network, no
//! state outside the files named on the command line.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// A `Diagnostic` is built only on the cold error path; boxing it would cost an allocation per
// reported error and an indirection per field for no measurable gain.
#![allow(clippy::result_large_err)]

pub mod catm;
pub mod lang;
pub mod reference;
pub mod tool;

pub use lang::{assemble, assemble_into, Dialect, Error, ErrorKind};
