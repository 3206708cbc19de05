//! # i386 and x86-64: the general-purpose integer instruction set
//!
//! This module owns the x86 processor of the Linux user-mode machine: sixteen 64-bit
//! general registers (eight used in 32-bit mode), the instruction pointer, the arithmetic
//! flags and DF, and the interpreter loop. [`I386`] is 32-bit protected mode with flat
//! segments (the Linux i386 ABI, `int 0x80`); [`Amd64`] is 64-bit mode (`syscall`). Both
//! are [`X86`], one core parameterised by the mode. The instruction set is split into
//! [`decode`] (bytes to a typed instruction, written from the SDM/APM opcode maps),
//! [`exec`] (one instruction's semantics over registers and [`Memory`]) and [`flags`]
//! (lazy CF/PF/AF/ZF/SF/OF). Decoded instructions are kept in a direct-mapped cache keyed
//! by address; every store that may overlap a cached instruction drops it, so
//! self-modifying code behaves as on hardware.
//!
//! Where the SDM leaves a flag undefined, the machine does what the AMD EPYC host it was
//! measured on does (see [`exec`]): shifts set AF, MUL/IMUL keep SF/ZF/AF/PF, DIV/IDIV
//! clear SF/ZF/PF, set AF and keep CF/OF, the logic operations clear AF; multi-bit shift
//! and rotate counts give OF by the one-bit formula applied to the result.
//!
//! Not implemented (they fault as `Unimplemented` with the mnemonic): x87/MMX/SSE/AVX,
//! segment registers and fs/gs overrides, 16-bit addressing, far branches, I/O,
//! BCD adjustments, pusha/popa, shld/shrd, enter with a nesting level, cpuid, rdtsc.
//! The trap flag is never set (popf ignores TF), IF always reads 1.

pub mod decode;
pub mod exec;
pub mod flags;

#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use super::cpu::{fault_bytes, Arch, Cpu, CpuFault, Exit, FaultKind, Sys, SyscallRequest};
use super::memory::Memory;
use decode::{decode, DecodeError, Insn, MAX_LEN};
use flags::Flags;

/// The x86 processor in 32-bit (`LONG = false`) or 64-bit mode.
pub struct X86<const LONG: bool> {
    /// RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8..R15 (in 32-bit mode the upper halves
    /// stay zero).
    pub regs: [u64; 16],
    /// The next instruction's address.
    pub rip: u64,
    /// CF, PF, AF, ZF, SF, OF.
    pub flags: Flags,
    /// The direction flag.
    pub df: bool,
    /// AC (bit 18) and ID (bit 21) as popf last wrote them (no effect otherwise).
    pub free_bits: u32,
    cache: Cache,
}

/// i386: 32-bit protected mode, flat segments, `int 0x80`.
pub type I386 = X86<false>;
/// x86-64: 64-bit mode, `syscall`.
pub type Amd64 = X86<true>;

/// Slots in the decoded-instruction cache (a power of two).
const CACHE_SLOTS: usize = 1 << 14;

/// One cached instruction: `tag` is its address (`u64::MAX`: empty).
#[derive(Clone, Copy)]
struct Slot {
    tag: u64,
    insn: Insn,
}

const EMPTY: Slot = Slot {
    tag: u64::MAX,
    insn: Insn {
        op: decode::Op::Nop,
        size: 1,
        len: 1,
        dst: decode::Operand::None,
        src: decode::Operand::None,
        imm: 0,
    },
};

/// Decoded instructions by address, direct-mapped, and the address range they were
/// decoded from (`lo..hi`, stores outside it need no check).
struct Cache {
    slots: Vec<Slot>,
    lo: u64,
    hi: u64,
}

impl Cache {
    fn new() -> Cache {
        Cache {
            slots: Vec::new(),
            lo: u64::MAX,
            hi: 0,
        }
    }

    #[inline]
    fn index(addr: u64) -> usize {
        (addr as usize) & (CACHE_SLOTS - 1)
    }

    /// Drops every cached instruction that overlaps `addr..addr + len`.
    #[inline]
    fn invalidate(&mut self, addr: u64, len: u64) {
        let end = addr.wrapping_add(len);
        if end <= self.lo || addr >= self.hi {
            return;
        }
        self.invalidate_slow(addr, end);
    }

    #[cold]
    fn invalidate_slow(&mut self, addr: u64, end: u64) {
        // An instruction overlapping the store starts at most MAX_LEN - 1 bytes before it.
        let first = addr.saturating_sub(MAX_LEN as u64 - 1);
        let mut a = first;
        while a < end {
            if let Some(slot) = self.slots.get_mut(Cache::index(a)) {
                if slot.tag == a && a.wrapping_add(u64::from(slot.insn.len)) > addr {
                    slot.tag = u64::MAX;
                }
            }
            a += 1;
        }
    }
}

impl<const LONG: bool> Clone for X86<LONG> {
    /// A copy of the processor state; the copy starts with an empty decode cache (fork is
    /// usually followed by execve).
    fn clone(&self) -> Self {
        X86 {
            regs: self.regs,
            rip: self.rip,
            flags: self.flags,
            df: self.df,
            free_bits: self.free_bits,
            cache: Cache::new(),
        }
    }
}

impl<const LONG: bool> fmt::Debug for X86<LONG> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(if LONG { "Amd64" } else { "I386" })
            .field("regs", &self.regs)
            .field("rip", &self.rip)
            .field("eflags", &self.eflags())
            .finish()
    }
}

/// What an executed instruction asks of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Go on.
    Next,
    /// A system call: stop with [`Exit::Syscall`].
    Syscall,
}

/// The i386 system call numbers (arch/x86/entry/syscalls/syscall_32.tbl).
fn sys_i386(n: u64) -> Option<Sys> {
    Some(match n {
        1 => Sys::Exit,
        2 => Sys::Fork,
        3 => Sys::Read,
        4 => Sys::Write,
        5 => Sys::Open,
        6 => Sys::Close,
        7 => Sys::Waitpid,
        10 => Sys::Unlink,
        11 => Sys::Execve,
        12 => Sys::Chdir,
        15 => Sys::Chmod,
        19 => Sys::Lseek,
        20 => Sys::Getpid,
        33 => Sys::Access,
        39 => Sys::Mkdir,
        40 => Sys::Rmdir,
        45 => Sys::Brk,
        54 => Sys::Ioctl,
        94 => Sys::Fchmod,
        114 => Sys::Wait4,
        120 => Sys::Clone,
        122 => Sys::Uname,
        133 => Sys::Fchdir,
        140 => Sys::Llseek,
        183 => Sys::Getcwd,
        252 => Sys::ExitGroup,
        295 => Sys::OpenAt,
        296 => Sys::MkdirAt,
        301 => Sys::UnlinkAt,
        306 => Sys::FchmodAt,
        307 => Sys::FaccessAt,
        _ => return None,
    })
}

/// The x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
fn sys_amd64(n: u64) -> Option<Sys> {
    Some(match n {
        0 => Sys::Read,
        1 => Sys::Write,
        2 => Sys::Open,
        3 => Sys::Close,
        8 => Sys::Lseek,
        12 => Sys::Brk,
        16 => Sys::Ioctl,
        21 => Sys::Access,
        39 => Sys::Getpid,
        56 => Sys::Clone,
        57 => Sys::Fork,
        59 => Sys::Execve,
        60 => Sys::Exit,
        61 => Sys::Wait4,
        63 => Sys::Uname,
        79 => Sys::Getcwd,
        80 => Sys::Chdir,
        81 => Sys::Fchdir,
        83 => Sys::Mkdir,
        84 => Sys::Rmdir,
        87 => Sys::Unlink,
        90 => Sys::Chmod,
        91 => Sys::Fchmod,
        231 => Sys::ExitGroup,
        257 => Sys::OpenAt,
        258 => Sys::MkdirAt,
        263 => Sys::UnlinkAt,
        268 => Sys::FchmodAt,
        269 => Sys::FaccessAt,
        _ => return None,
    })
}

const NAMES: [&str; 16] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "8", "9", "10", "11", "12", "13", "14", "15",
];

impl<const LONG: bool> X86<LONG> {
    /// Addresses and the instruction pointer are this wide.
    pub const ADDR_MASK: u64 = if LONG { u64::MAX } else { 0xFFFF_FFFF };

    /// The EFLAGS value pushf would push: the arithmetic flags, DF, IF (always 1), the
    /// reserved bit 1 and AC/ID as last written.
    pub fn eflags(&self) -> u32 {
        self.flags.get() | 0x202 | (u32::from(self.df) << 10) | self.free_bits
    }

    /// Decodes the instruction at `pc` into the cache (or finds it there).
    #[inline]
    fn fetch(&mut self, mem: &Memory, pc: u64) -> Result<Insn, FaultKind> {
        if let Some(slot) = self.cache.slots.get(Cache::index(pc)) {
            if slot.tag == pc {
                return Ok(slot.insn);
            }
        }
        self.fetch_slow(mem, pc)
    }

    #[cold]
    fn fetch_slow(&mut self, mem: &Memory, pc: u64) -> Result<Insn, FaultKind> {
        let insn = decode_at::<LONG>(mem, pc)?;
        if self.cache.slots.is_empty() {
            self.cache.slots = vec![EMPTY; CACHE_SLOTS];
        }
        if let Some(slot) = self.cache.slots.get_mut(Cache::index(pc)) {
            *slot = Slot { tag: pc, insn };
        }
        self.cache.lo = self.cache.lo.min(pc);
        self.cache.hi = self.cache.hi.max(pc.saturating_add(u64::from(insn.len)));
        Ok(insn)
    }

    /// Tells the decode cache that `len` bytes at `addr` were written.
    #[inline]
    pub fn stored(&mut self, addr: u64, len: u64) {
        self.cache.invalidate(addr, len);
    }

    /// Executes one instruction without the cache: the plain reference path.
    pub fn step_uncached(&mut self, mem: &mut Memory) -> Result<Flow, FaultKind> {
        let pc = self.rip;
        let insn = decode_at::<LONG>(mem, pc)?;
        self.rip = pc.wrapping_add(u64::from(insn.len)) & Self::ADDR_MASK;
        let r = self.exec(mem, &insn);
        if r.is_err() {
            self.rip = pc;
        }
        r
    }

    fn fault(mem: &Memory, pc: u64, kind: FaultKind) -> Exit {
        Exit::Fault(CpuFault {
            pc,
            bytes: fault_bytes(mem, pc),
            kind,
        })
    }
}

/// Decodes the instruction at `pc` from memory.
pub fn decode_at<const LONG: bool>(mem: &Memory, pc: u64) -> Result<Insn, FaultKind> {
    let bytes = mem
        .slice_upto(pc, MAX_LEN as u64)
        .map_err(FaultKind::Memory)?;
    decode(bytes, pc, LONG).map_err(|e| match e {
        DecodeError::Truncated => FaultKind::Memory(super::memory::MemFault {
            addr: pc.wrapping_add(bytes.len() as u64),
            len: 1,
            write: false,
        }),
        DecodeError::Unimplemented(mnemonic) => FaultKind::Unimplemented { mnemonic },
    })
}

impl<const LONG: bool> Cpu for X86<LONG> {
    const ARCH: Arch = if LONG { Arch::Amd64 } else { Arch::I386 };

    fn new(entry: u64, sp: u64) -> Self {
        let mut regs = [0; 16];
        regs[usize::from(decode::RSP)] = sp & Self::ADDR_MASK;
        X86 {
            regs,
            rip: entry & Self::ADDR_MASK,
            flags: Flags::default(),
            df: false,
            free_bits: 0,
            cache: Cache::new(),
        }
    }

    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        let mut n = 0;
        while n < budget {
            let pc = self.rip;
            let insn = match self.fetch(mem, pc) {
                Ok(i) => i,
                Err(kind) => return (n, Self::fault(mem, pc, kind)),
            };
            self.rip = pc.wrapping_add(u64::from(insn.len)) & Self::ADDR_MASK;
            match self.exec(mem, &insn) {
                Ok(Flow::Next) => n += 1,
                Ok(Flow::Syscall) => return (n + 1, Exit::Syscall),
                Err(kind) => {
                    self.rip = pc;
                    return (n, Self::fault(mem, pc, kind));
                }
            }
        }
        (n, Exit::Budget)
    }

    fn syscall(&self) -> SyscallRequest {
        let r = |i: usize| self.regs.get(i).copied().unwrap_or(0);
        if LONG {
            let number = r(0);
            SyscallRequest {
                number,
                sys: sys_amd64(number),
                args: [r(7), r(6), r(2), r(10), r(8), r(9)],
            }
        } else {
            let number = r(0) & 0xFFFF_FFFF;
            SyscallRequest {
                number,
                sys: sys_i386(number),
                args: [r(3), r(1), r(2), r(6), r(7), r(5)].map(|v| v & 0xFFFF_FFFF),
            }
        }
    }

    fn set_syscall_result(&mut self, value: i64) {
        self.regs[0] = value as u64 & Self::ADDR_MASK;
    }

    fn pc(&self) -> u64 {
        self.rip
    }

    fn registers(&self) -> String {
        let mut s = String::new();
        let count = if LONG { 16 } else { 8 };
        for (name, v) in NAMES.iter().zip(self.regs.iter()).take(count) {
            if LONG {
                s.push_str(&format!("r{name:<3} {v:#018x}\n"));
            } else {
                s.push_str(&format!("e{name} {v:#010x}\n"));
            }
        }
        let ip = if LONG { "rip" } else { "eip" };
        s.push_str(&format!("{ip}  {:#x}\n", self.rip));
        s.push_str(&format!("eflags {:#x}\n", self.eflags()));
        s
    }
}
