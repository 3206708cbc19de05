//! The Knight machine: registers, memory, and the two executors over them, split by job:
//!
//! - `cond`: the condition families as data (compare-and-branch conditions, flag tests);
//! - `form`: the slot the fast executor keeps per code address (a typed `form::Form`
//!   with its operands and condition as data);
//! - `subroutine`: the fused subroutines as data (the string-compare routine, the list walk);
//! - `memory`: the byte memory with the reference's bounds rule and the slot table;
//! - `semantics`: what every instruction does, written once (`execute`);
//! - `predecode`: filling the slot of each code address: hot forms, condition families
//!   and the fused forms, invalidated by stores;
//! - `routine`: fused subroutines (the string-compare routine and the table look-up loop
//!   calling it), recognised in the code and run natively, stopping at any instruction
//!   they cannot finish;
//! - `exec`: the fast executor over the slots;
//! - `step`: the plain step (`isa::decode` + `execute`, no cache, no fusion): the
//!   reference semantics, `--trace`, and the fast executor's fallback;
//! - `halcode`: native devices and the POSIX dispatch; `trace`: `--trace` lines.
//!
//! Each part uses only the ones listed before it and this module's types (`Machine`,
//! `Io`); `stage0-vm/tests/layers.rs` checks the order.
//!
//! Every fused step still counts, `--max-steps` can stop between any two instructions,
//! and self-modifying and loaded code behave exactly (stores invalidate the slots that
//! could cover them). POSIX calls live in `crate::posix`, devices in `crate::devices`,
//! messages in `crate::fault`.

use std::path::PathBuf;

use crate::devices::Devices;
use crate::fault::{Fault, Stop};
use crate::posix::Posix;
pub use crate::streams::Io;

mod cond;
mod exec;
mod form;
mod halcode;
mod memory;
pub(crate) mod predecode;
mod routine;
mod semantics;
mod step;
mod subroutine;
mod trace;

pub(crate) use memory::Mem;

/// How a machine is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// Memory size in bytes (`--memory`; the reference's default is 16 KiB).
    pub memory_size: usize,
    /// Stop with [`Fault::MaxSteps`] after this many instructions (ours; `None`: no limit).
    pub max_steps: Option<u64>,
    /// `--POSIX-MODE`: the POSIX HALCODE table instead of the native one.
    pub posix: bool,
    /// `--stack`: only used to seed R12 in POSIX mode.
    pub stack_size: u32,
    /// `--fuzzing`: FOPEN_WRITE opens nothing and sets R0 = 0.
    pub fuzzing: bool,
    /// `--trace`: one line per executed instruction on stderr: address, bytes, mnemonic,
    /// and the registers it wrote with their new values.
    pub trace: bool,
    /// `--sandbox DIR` (ours): POSIX-mode paths are confined to DIR.
    pub sandbox: Option<PathBuf>,
}

/// The reference's default memory size.
pub const DEFAULT_MEMORY: usize = 16 * 1024;
/// The reference's default stack size (POSIX mode).
pub const DEFAULT_STACK: u32 = 64 * 1024;

impl Default for Config {
    fn default() -> Config {
        Config {
            memory_size: DEFAULT_MEMORY,
            max_steps: None,
            posix: false,
            stack_size: DEFAULT_STACK,
            fuzzing: false,
            trace: false,
            sandbox: None,
        }
    }
}

/// A Knight machine: sixteen 32-bit registers, the instruction pointer, memory, the
/// executed-instruction counter and the POSIX-mode state.
pub struct Machine {
    /// R0..R15.
    pub regs: [u32; 16],
    /// The instruction pointer.
    pub ip: u32,
    /// Instructions executed so far.
    pub steps: u64,
    pub(crate) mem: Mem,
    config: Config,
    pub(crate) posix: Posix,
}

/// The largest memory the 32-bit machine can have (the reference's C `int` limit).
pub const MAX_MEMORY: usize = 0x7FFF_FFFF;

/// Why a machine cannot be set up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The ROM does not fit: the reference's "Program NAME is X bytes large..." case.
    RomTooLarge {
        /// ROM size in bytes.
        rom: usize,
        /// Memory size in bytes.
        memory: usize,
    },
    /// `memory_size` is above [`MAX_MEMORY`].
    MemoryTooLarge {
        /// The requested size in bytes.
        memory: usize,
    },
}

/// R0..R15 of the fast executor's 256-entry register file.
fn lo16(r: &[u32; 256]) -> &[u32; 16] {
    r.first_chunk().unwrap_or(&[0; 16])
}

/// R0..R15 of the fast executor's 256-entry register file, writable.
fn lo16_mut(r: &mut [u32; 256]) -> &mut [u32; 16] {
    match r.first_chunk_mut() {
        Some(lo) => lo,
        None => unreachable!(),
    }
}

impl Machine {
    /// A machine with `rom` loaded at address 0, registers zero (POSIX mode: R15 = ROM
    /// size, R12 = ROM size + stack size), ip = 0.
    pub fn new(rom: &[u8], config: &Config) -> Result<Machine, LoadError> {
        if config.memory_size > MAX_MEMORY {
            return Err(LoadError::MemoryTooLarge {
                memory: config.memory_size,
            });
        }
        if rom.len() > config.memory_size {
            return Err(LoadError::RomTooLarge {
                rom: rom.len(),
                memory: config.memory_size,
            });
        }
        let mut mem = Mem::new(config.memory_size);
        mem.bytes[..rom.len()].copy_from_slice(rom);
        let mut regs = [0u32; 16];
        if config.posix {
            regs[15] = rom.len() as u32;
            regs[12] = (rom.len() as u32).wrapping_add(config.stack_size);
        }
        Ok(Machine {
            regs,
            ip: 0,
            steps: 0,
            mem,
            posix: Posix::new(config.sandbox.clone()),
            config: config.clone(),
        })
    }

    /// The memory bytes.
    pub fn memory(&self) -> &[u8] {
        &self.mem.bytes
    }

    /// Runs until HALT, POSIX exit or a fault. Tape output is flushed by the caller
    /// ([`Devices::finish`]) whatever the outcome.
    pub fn run(&mut self, dev: &mut Devices, io: &mut Io) -> Result<Stop, Fault> {
        dev.fuzzing = self.config.fuzzing;
        // Without `--max-steps` the limit checks are compiled out (the counter cannot
        // reach 2^64).
        match (self.config.trace, self.config.max_steps.is_some()) {
            (true, _) => self.exec_traced(dev, io),
            (false, true) => self.exec::<true>(dev, io),
            (false, false) => self.exec::<false>(dev, io),
        }
    }
}

#[cfg(test)]
mod tests;
