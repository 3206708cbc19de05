//! # The Linux user-mode machine: static ELF programs of the stage0-posix chains
//!
//! This module owns hexroot's second kind of machine: a Linux process, as the chains'
//! binaries see one, for i386, x86-64, AArch64, RV32 and RV64. It is layered so that each
//! part can be audited alone:
//!
//! - [`memory`]: the guest's little-endian address space (mapped regions, bounds-checked
//!   loads and stores, no host pointers escape);
//! - [`cpu`]: the contract every instruction set implements ([`cpu::Cpu`]): run until a
//!   system call or a fault, expose the system call's number and arguments, take its
//!   result. Each instruction set lives in one module of its own and nothing
//!   architecture-specific lives outside it.
//!
//! The ELF loader, the initial stack, the system calls and the process model (fork,
//! execve, wait) sit on top of these and are shared by every instruction set.

pub mod aarch64;
pub mod cpu;
pub mod memory;
