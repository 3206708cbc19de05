//! The contract between the shared Linux process layer and each instruction set.
//!
//! An instruction set module (one per ISA: `x86` for i386 and x86-64, `aarch64`, `riscv`
//! for RV32 and RV64) implements [`Cpu`]: registers and program counter, a `run` loop that
//! executes instructions over [`Memory`] until the guest makes a system call, faults, or
//! spends its instruction budget, and the architecture's system call convention (which
//! registers hold the number, the arguments and the result, and the number table as
//! [`Sys`]). Everything else (ELF loading, the initial stack, the system calls
//! themselves, fork/execve/wait) is shared and never looks inside a `Cpu`.

use std::fmt;

use super::memory::{MemFault, Memory};

/// The architectures of the Linux user-mode machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    /// i386: ELF32, EM_386 (3), `int 0x80`.
    I386,
    /// x86-64: ELF64, EM_X86_64 (62), `syscall`.
    Amd64,
    /// AArch64: ELF64, EM_AARCH64 (183), `svc #0`.
    Aarch64,
    /// RV32 (I plus what the chains use): ELF32, EM_RISCV (243), `ecall`.
    Riscv32,
    /// RV64 (I plus what the chains use): ELF64, EM_RISCV (243), `ecall`.
    Riscv64,
}

impl Arch {
    /// Its row in hexroot's architecture table (names, byte order, word size).
    pub fn table(self) -> toolbase::arch::Arch {
        use toolbase::arch::Arch as T;
        match self {
            Arch::I386 => T::X86,
            Arch::Amd64 => T::Amd64,
            Arch::Aarch64 => T::Aarch64,
            Arch::Riscv32 => T::Riscv32,
            Arch::Riscv64 => T::Riscv64,
        }
    }

    /// The name used on command lines (`--arch`).
    pub fn name(self) -> &'static str {
        self.table().name()
    }

    /// Bytes in a pointer: 4 or 8.
    pub fn word_bytes(self) -> u64 {
        u64::from(self.table().word_bytes())
    }
}

/// A system call, by meaning rather than by number. Each ISA maps its own numbers onto
/// these (i386 and x86-64 have their own tables; AArch64 and RISC-V share the generic one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Sys {
    Read,
    Write,
    Open,
    OpenAt,
    Close,
    Lseek,
    /// `_llseek` (RV32 has no `lseek`): fd, offset high, offset low, result pointer, whence.
    Llseek,
    Brk,
    Exit,
    ExitGroup,
    Fork,
    /// `clone` used as fork (flags SIGCHLD only).
    Clone,
    Execve,
    Waitpid,
    Wait4,
    /// `waitid(idtype, id, siginfo_t *info, options)` (the AArch64 and RISC-V kaem seeds).
    Waitid,
    Chdir,
    Fchdir,
    Chmod,
    Fchmod,
    FchmodAt,
    Access,
    FaccessAt,
    Unlink,
    UnlinkAt,
    Mkdir,
    MkdirAt,
    Rmdir,
    Getcwd,
    Uname,
    Getpid,
    Ioctl,
}

/// The generic Linux system call table (`asm-generic/unistd.h`), shared by AArch64, RV32
/// and RV64. The one number whose meaning depends on the word size is 62: `lseek` on
/// 64-bit machines, `_llseek` on 32-bit ones (which have no `lseek`).
pub fn generic_sys(number: u64, word_bytes: u64) -> Option<Sys> {
    Some(match number {
        17 => Sys::Getcwd,
        29 => Sys::Ioctl,
        34 => Sys::MkdirAt,
        35 => Sys::UnlinkAt,
        48 => Sys::FaccessAt,
        49 => Sys::Chdir,
        50 => Sys::Fchdir,
        52 => Sys::Fchmod,
        53 => Sys::FchmodAt,
        56 => Sys::OpenAt,
        57 => Sys::Close,
        62 if word_bytes == 8 => Sys::Lseek,
        62 => Sys::Llseek,
        63 => Sys::Read,
        64 => Sys::Write,
        93 => Sys::Exit,
        94 => Sys::ExitGroup,
        95 => Sys::Waitid,
        160 => Sys::Uname,
        172 => Sys::Getpid,
        214 => Sys::Brk,
        220 => Sys::Clone,
        221 => Sys::Execve,
        260 => Sys::Wait4,
        _ => return None,
    })
}

/// A system call request as the guest made it: the architecture's number (mapped to
/// [`Sys`] when known) and six raw argument registers (zero-extended on 32-bit machines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyscallRequest {
    /// The number in the architecture's own table.
    pub number: u64,
    /// Its meaning, if this machine implements it.
    pub sys: Option<Sys>,
    /// The argument registers in order.
    pub args: [u64; 6],
}

/// Why [`Cpu::run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The guest executed its system call instruction; the program counter is already past
    /// it. Read [`Cpu::syscall`], perform it, then [`Cpu::set_syscall_result`].
    Syscall,
    /// The instruction budget given to `run` is spent.
    Budget,
    /// The guest cannot continue.
    Fault(CpuFault),
}

/// A fault, with everything needed to report it: where, the bytes there, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuFault {
    /// The address of the faulting instruction.
    pub pc: u64,
    /// Up to 16 bytes from `pc` (fewer at the end of memory, none if `pc` is unmapped).
    pub bytes: Vec<u8>,
    /// The reason.
    pub kind: FaultKind,
}

/// The reason of a [`CpuFault`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A load, store or fetch outside mapped memory.
    Memory(MemFault),
    /// An encoding this machine does not implement (or that is undefined), with the
    /// mnemonic when the decoder recognised the instruction but the machine lacks it.
    Unimplemented {
        /// e.g. `Some("movsb")`, or `None` for an unknown encoding.
        mnemonic: Option<&'static str>,
    },
    /// Integer division by zero or quotient overflow (the kernel's SIGFPE).
    DivideError,
    /// A breakpoint or trap instruction (`int3`, `ebreak`, `brk`, `ud2`...).
    Trap {
        /// The mnemonic.
        mnemonic: &'static str,
    },
}

impl fmt::Display for CpuFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at {:#x} (bytes", self.pc)?;
        if self.bytes.is_empty() {
            write!(f, " unavailable")?;
        }
        for b in &self.bytes {
            write!(f, " {b:02x}")?;
        }
        write!(f, "): ")?;
        match &self.kind {
            FaultKind::Memory(m) => write!(
                f,
                "{} of {} byte{} at {:#x} outside mapped memory",
                if m.write { "store" } else { "load" },
                m.len,
                if m.len == 1 { "" } else { "s" },
                m.addr
            ),
            FaultKind::Unimplemented { mnemonic: Some(m) } => {
                write!(f, "instruction '{m}' is not implemented by this machine")
            }
            FaultKind::Unimplemented { mnemonic: None } => {
                write!(f, "unknown instruction encoding")
            }
            FaultKind::DivideError => write!(f, "divide error (division by zero or overflow)"),
            FaultKind::Trap { mnemonic } => write!(f, "trap instruction '{mnemonic}'"),
        }
    }
}

/// Fetches up to 16 bytes at `pc` for a [`CpuFault`] report.
pub fn fault_bytes(mem: &Memory, pc: u64) -> Vec<u8> {
    mem.slice_upto(pc, 16)
        .map(<[u8]>::to_vec)
        .unwrap_or_default()
}

/// One instruction set's processor state and interpreter.
///
/// `Clone` is how fork copies a process. Implementations keep all state in `self`
/// (registers, flags, any decode cache, which must be invalidated by stores to code so
/// that self-modifying code behaves as on hardware).
pub trait Cpu: Clone + fmt::Debug {
    /// The architecture this implements.
    const ARCH: Arch;

    /// A processor about to execute `entry` with the stack pointer at `sp` and every other
    /// register as the Linux ABI leaves it at process start (zero).
    fn new(entry: u64, sp: u64) -> Self;

    /// Executes instructions until a system call, a fault or `budget` instructions have
    /// run. Returns the number of instructions executed (a system call instruction counts;
    /// a faulting one does not) and why it stopped.
    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit);

    /// The system call the guest just requested (valid after [`Exit::Syscall`]).
    fn syscall(&self) -> SyscallRequest;

    /// Writes a system call's result into the return register: a non-negative value, or
    /// `-errno` (as the kernel does, truncated to the register width).
    fn set_syscall_result(&mut self, value: i64);

    /// The program counter (the next instruction to execute).
    fn pc(&self) -> u64;

    /// One line per register for `--trace` and fault reports.
    fn registers(&self) -> String;
}
