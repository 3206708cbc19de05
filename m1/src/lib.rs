//! # m1: the M1 and M0 macro assemblers and blood-elf
//!
//! This crate will own the M1 language (DEFINE macros, strings, numbers, labels) as a
//! library that turns M1 source into hex2 text, the seed M0 layout on the same engine, and
//! blood-elf's symbol footer, with the `M1`, `M0` and `blood-elf` binaries over it.
//! It is not written yet (issue 5).
#![forbid(unsafe_code)]
