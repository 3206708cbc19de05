//! # hex2: the hex2 linker of mescc-tools, and the seed hex1 and hex2-0, for every architecture
//!
//! This crate will own the hex2 language (labels, pointers, displacements, alignment and
//! the RISC-V word mode) as a library that links one or more sources into bytes for an
//! architecture, endianness and base address, and the `hex2` and `hex1` binaries over it.
//! It is not written yet (issue 4).
#![forbid(unsafe_code)]
