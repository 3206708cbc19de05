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
//! - `loops`: loop fast-forward over any instruction set's symbolic semantics (whole
//!   iterations of a proven counted loop applied at once);
//! - [`elf`]: static ELF executables and the initial process image (segments, heap,
//!   stack with argc, argv, envp and the auxiliary vector);
//! - [`fs`]: descriptors, buffered open file descriptions, errno values;
//! - [`syscall`]: each system call with Linux semantics, on the host file system relative
//!   to the guest's own working directory (optionally confined to a sandbox);
//! - [`process`]: the process model (fork runs the child to its end first, execve
//!   replaces the image or goes to an [`ExecHook`], wait returns recorded statuses) and
//!   the public entry point [`run`];
//! - [`x86`]: the i386 and x86-64 instruction sets;
//! - [`tool`]: the `stage0-vm run` command line.
//!
//! Everything but the instruction sets is shared by every architecture.

pub mod aarch64;
pub mod cpu;
pub mod elf;
pub mod fs;
pub(crate) mod loops;
pub mod memory;
pub mod process;
pub mod riscv;
pub mod syscall;
pub mod tool;
pub mod x86;

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use process::{
    probe, run, run_with_cpu, supported, Ended, ExecHook, ExecRequest, HookOutcome, LoadError,
    ProcessInfo, RunConfig, RunError, RunOutcome,
};
pub use syscall::RunIo;
