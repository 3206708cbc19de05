//! # stage0-vm: the Knight bare-metal virtual machine
//!
//! The 32-bit Knight machine of stage0, as the reference VM actually behaves (not as the
//! ISA document intends), as a library and as the `stage0-vm` binary with the reference's
//! command line.
//!
//! ## Machine model
//!
//! Sixteen 32-bit registers R0..R15 (all zero at start), a separate instruction pointer
//! (0 at start), and a zero-filled byte memory of exactly `--memory` bytes (16 KiB by
//! default) holding the ROM at address 0. Memory and immediates are **big-endian**; every
//! 16-bit immediate is sign-extended except in CMPSKIPI.E/NE and CMPSKIPUI.*. There are no
//! flag registers: CMP writes 4 (greater), 2 (equal) or 1 (less) into a register, the
//! carry/borrow forms of ADD/SUB set bit 0x20/0x10 of a register. An n-byte data access at
//! A faults when `A >= size` or `A + n >= size` (so the last n bytes are unreachable); a
//! fetch only checks `ip < size`. Instructions are 4 bytes, or 6 for the `E0`/`E1` groups;
//! relative jumps count from the next instruction. HALCODE (`42 hh hh hh`) reaches the
//! devices: two tapes (0x1100 input, 0x1101 output, host files) and the TTY (0), or, with
//! `--POSIX-MODE`, twelve POSIX system calls. Every executed instruction is counted; HALT
//! prints the count. The reference's quirks (MULH always 0, logical SAR, ROL/ROR swapped,
//! SUB.BO's borrow, ADD.CO's signed carry, register aliasing orders) are reproduced; see
//! `machine`.
//!
//! ```
//! use stage0_vm::{run_with_tapes, Config};
//! // LOADUI R0 0x1101; FOPEN_WRITE; LOADUI R1 0x1101; LOADUI R0 'A'; FPUTC; HALT
//! let rom = [
//!     0xE0, 0, 0x2D, 0x20, 0x11, 0x01, 0x42, 0x10, 0x00, 0x01,
//!     0xE0, 0, 0x2D, 0x21, 0x11, 0x01, 0xE0, 0, 0x2D, 0x20, 0x00, 0x41,
//!     0x42, 0x10, 0x02, 0x00, 0xFF, 0, 0, 0,
//! ];
//! let run = run_with_tapes(&rom, b"", &Config::default()).unwrap();
//! assert_eq!(run.tape_02, b"A");
//! assert_eq!(run.steps, 6);
//! ```
//!
//! ## Non-features
//!
//! No 16/64-bit variants, no raw-mode terminal (TTY input is plain stdin or `--tty-in`, as
//! the reference's production variant), no host access beyond the tape and TTY files named
//! on the command line (and, in POSIX mode, the paths the guest opens; `--sandbox DIR`
//! confines those). Where the reference crashes or reads outside its buffer, we stop with a
//! clear fault instead.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod asm;
pub mod devices;
pub mod disasm;
pub mod fault;
pub mod isa;
pub mod linux;
pub mod machine;
mod posix;
mod sandbox;
mod streams;
pub mod tool;
pub mod workload;

pub use devices::{Devices, TapeStore};
pub use disasm::disassemble;
pub use fault::{Fault, Stop};
pub use machine::{Config, Io, LoadError, Machine};

/// The result of [`run_with_tapes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TapeRun {
    /// What the program wrote to tape 2 (empty if it never opened it for writing).
    pub tape_02: Vec<u8>,
    /// Instructions executed (the count HALT prints).
    pub steps: u64,
    /// How the program stopped.
    pub stop: Stop,
    /// Bytes written to the TTY (device 0) or, in POSIX mode, to fd 1.
    pub tty_out: Vec<u8>,
}

/// Runs `rom` with `tape_01` as the input tape, entirely in memory (no host file is
/// touched; TTY input is empty); returns tape 2's bytes and the step count. A ROM larger
/// than memory, or a memory above [`machine::MAX_MEMORY`], is reported as a [`Fault::Io`].
pub fn run_with_tapes(rom: &[u8], tape_01: &[u8], config: &Config) -> Result<TapeRun, Fault> {
    let mut machine = Machine::new(rom, config).map_err(|e| match e {
        LoadError::RomTooLarge { rom, memory } => Fault::Io(format!(
            "the ROM is {rom} bytes large but only {memory} bytes of memory are configured"
        )),
        LoadError::MemoryTooLarge { memory } => Fault::Io(format!(
            "a memory of {memory} bytes is too large: the machine allows at most {} bytes",
            machine::MAX_MEMORY
        )),
    })?;
    let mut dev = Devices::new(TapeStore::Memory([Some(tape_01.to_vec()), None]));
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let mut stdin: &[u8] = &[];
    let mut io = Io {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let stop = machine.run(&mut dev, &mut io);
    dev.finish().map_err(|e| Fault::Io(format!("{e:?}")))?;
    let stop = stop?;
    Ok(TapeRun {
        tape_02: dev.memory_file(1).unwrap_or_default().to_vec(),
        steps: machine.steps,
        stop,
        tty_out: stdout,
    })
}
