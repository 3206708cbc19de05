//! # stage0-vm: the Knight bare-metal virtual machine
//!
//! This crate will own the 32-bit Knight machine of stage0 (registers, memory, decoder,
//! executor, HALCODE devices, POSIX mode) as a library, and the `stage0-vm` binary with
//! stage0's vm command line. It is not written yet (issue 6).
#![forbid(unsafe_code)]
