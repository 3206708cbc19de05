//! Why a run stops: [`Stop`] for the normal ends (HALT, POSIX exit) and [`Fault`] for
//! every error, each printing exactly the reference's stderr text (or, for the cases where
//! the reference crashes, hangs or reads outside its buffer, a clear message of ours).
//!
//! This module owns the wording only; the machine decides when a fault happens.

use std::fmt;

/// A normal end of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// HALT: exit status 0.
    Halt,
    /// SYS_EXIT in POSIX mode, with the exit status (R0 mod 256).
    Exit(u8),
}

impl Stop {
    /// The process exit status of this end.
    pub fn status(self) -> i32 {
        match self {
            Stop::Halt => 0,
            Stop::Exit(s) => i32::from(s),
        }
    }
}

/// The message printed on stderr at a normal end: `Computer Program has Halted` and the
/// instruction count.
pub fn halt_message(steps: u64) -> String {
    format!("Computer Program has Halted\nAfter Executing {steps} instructions\n")
}

/// A run that ended in error. `Display` gives the exact stderr text (with final newline).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Fetch with `ip >= memory size`.
    FetchOutside {
        /// Instructions executed (the failed fetch is not counted).
        steps: u64,
        /// The instruction pointer.
        ip: u32,
    },
    /// Ours: the instruction at `ip` starts inside memory but its last bytes are past the
    /// end (the reference reads outside its buffer).
    FetchTruncated {
        /// Instructions executed.
        steps: u64,
        /// Address of the instruction.
        ip: u32,
    },
    /// A data access outside memory.
    Outside {
        /// Instructions executed, including the faulting one.
        steps: u64,
        /// The address shown: the access address (Address_1) or address + width (Address_2).
        shown: u32,
        /// `Address_2` (the access ends at or after the end of memory) rather than `Address_1`.
        second: bool,
        /// A write (`Writeout`) rather than a read (`READIN`).
        write: bool,
    },
    /// An instruction the reference does not know.
    Illegal {
        /// Instructions executed, including this one.
        steps: u64,
        /// Its address.
        ip: u32,
        /// Its first four bytes, big-endian.
        word: u32,
    },
    /// An instruction the reference does not know whose four bytes run past the end of
    /// memory (the reference reads the missing ones outside its buffer; here they are 0).
    IllegalPastEnd {
        /// Instructions executed, including this one.
        steps: u64,
        /// Its address.
        ip: u32,
        /// The bytes there, big-endian, zeros past the end.
        word: u32,
    },
    /// A HALCODE not in the current mode's table.
    InvalidHalcode {
        /// Instructions executed, including this one.
        steps: u64,
        /// Its address.
        ip: u32,
        /// Its four bytes.
        word: u32,
    },
    /// Division by zero; the name is the instruction's (`DIV`, `MODU`, `DIVIDE`...).
    DivideByZero(&'static str),
    /// Ours: 0x80000000 / -1 (the reference dies from SIGFPE).
    DivideOverflow {
        /// The instruction name.
        name: &'static str,
        /// Instructions executed, including this one.
        steps: u64,
        /// Its address.
        ip: u32,
    },
    /// A tape call on a tape that is not open: tape name and call name.
    TapeNotValid(&'static str, &'static str),
    /// FOPEN_READ of a missing tape file.
    TapeMissing(String),
    /// Ours: a host I/O error on a tape, TTY or output file.
    Io(String),
    /// Ours: the `--max-steps` limit was reached before the program stopped.
    MaxSteps {
        /// Instructions executed.
        steps: u64,
        /// Address of the next instruction.
        ip: u32,
    },
    /// POSIX read with a count not below the memory size.
    PosixReadTooLarge,
    /// Ours: a POSIX call's buffer or path extends past the end of memory (the reference
    /// reads or writes outside its buffer).
    PosixOutside {
        /// Instructions executed.
        steps: u64,
        /// The call's name.
        call: &'static str,
        /// Start address of the buffer or path.
        addr: u32,
    },
    /// Ours: CMPSKIP skipping from an address outside memory (the reference reads past
    /// its buffer to size the skipped instruction).
    SkipOutside {
        /// Instructions executed.
        steps: u64,
        /// The address of the instruction to be skipped.
        ip: u32,
    },
}

fn illegal_lines(f: &mut fmt::Formatter<'_>, steps: u64, ip: u32, word: u32) -> fmt::Result {
    write!(
        f,
        "Invalid instruction was received at address:{ip:08X}\nAfter {steps} instructions\n\
         Unable to execute the following instruction:\n\t{word:08X}\n"
    )
}

impl Fault {
    /// The fault for an illegal instruction at `ip` (`past_end`: its four bytes run past
    /// the end of memory).
    pub fn illegal(steps: u64, ip: u32, word: u32, past_end: bool) -> Fault {
        match past_end {
            false => Fault::Illegal { steps, ip, word },
            true => Fault::IllegalPastEnd { steps, ip, word },
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::FetchOutside { steps, ip } => write!(
                f,
                "Invalid state reached after: {steps} instructions\n{}: READ Instruction outside of World\n",
                *ip as i32
            ),
            Fault::FetchTruncated { steps, ip } => write!(
                f,
                "Invalid state reached after: {steps} instructions\n{}: READ Instruction outside of World \
                 (the instruction at address {ip:08X} runs past the end of memory)\n",
                *ip as i32
            ),
            Fault::Outside { steps, shown, second, write } => write!(
                f,
                "Invalid state reached after: {steps} instructions\n{}: {} bytes Address_{} is outside of World\n",
                *shown as i32,
                if *write { "Writeout" } else { "READIN" },
                if *second { 2 } else { 1 }
            ),
            Fault::Illegal { steps, ip, word } => illegal_lines(f, *steps, *ip, *word),
            Fault::IllegalPastEnd { steps, ip, word } => {
                illegal_lines(f, *steps, *ip, *word)?;
                writeln!(
                    f,
                    "(the instruction at address {ip:08X} runs past the end of memory; its missing bytes are shown as 00)"
                )
            }
            Fault::InvalidHalcode { steps, ip, word } => {
                f.write_str("Invalid HALCODE\nComputer Program has Halted\n")?;
                illegal_lines(f, *steps, *ip, *word)
            }
            Fault::DivideByZero(name) => writeln!(f, "{name} by zero exception"),
            Fault::DivideOverflow { name, steps, ip } => writeln!(
                f,
                "{name} overflow exception: 0x80000000 divided by -1 at address:{ip:08X} after {steps} \
                 instructions (the quotient does not fit in 32 bits; the reference VM is killed by SIGFPE here)"
            ),
            Fault::TapeNotValid(tape, call) => {
                write!(f, "{tape} not valid for {call}\nAborting to prevent issues\n")
            }
            Fault::TapeMissing(name) => writeln!(f, "File named {name} does not exist"),
            Fault::Io(msg) => writeln!(f, "stage0-vm: error: {msg}"),
            Fault::MaxSteps { steps, ip } => writeln!(
                f,
                "stage0-vm: error: stopped after {steps} instructions at address:{ip:08X}: the --max-steps \
                 limit was reached (hint: raise --max-steps if the program is only slow)"
            ),
            Fault::PosixReadTooLarge => f.write_str("ERROR trying to read more than we have memory\n"),
            Fault::PosixOutside { steps, call, addr } => writeln!(
                f,
                "Invalid state reached after: {steps} instructions\n{}: {call} buffer is outside of World \
                 (it runs past the end of memory; the reference would touch memory outside the VM)",
                *addr as i32
            ),
            Fault::SkipOutside { steps, ip } => writeln!(
                f,
                "Invalid state reached after: {steps} instructions\n{}: CMPSKIP would skip an instruction \
                 outside of World",
                *ip as i32
            ),
        }
    }
}

impl std::error::Error for Fault {}
