//! # AArch64 (A64, user mode, integer only)
//!
//! This module owns the AArch64 processor of the Linux user-mode machine: its registers
//! (x0..x30, SP, PC, NZCV), the fetch loop, the decode cache and the Linux system call
//! convention (`svc #0`, number in x8, arguments x0..x5, result in x0, the generic
//! `asm-generic/unistd.h` table). Decoding lives in [`decode`](mod@decode) (one word to one typed
//! instruction, a pure function) and semantics in `exec`; both follow the Arm
//! Architecture Reference Manual. Not modelled: SIMD and floating point, SVE, atomics and
//! exclusives, system registers other than NZCV, pointer authentication, tagging, and
//! alignment checks on data accesses (Linux user mode allows unaligned ones).
//!
//! Two paths execute the same [`exec`](Aarch64) function: the plain one fetches and
//! decodes every instruction; the cached one keeps each decoded instruction in a slot per
//! 4-byte word of a window over the code. Every store the processor makes drops the
//! slots it overwrites, and after a system call that writes guest memory (read, getcwd,
//! uname, wait4, waitid) the next `run` drops the slots of the buffer it names, so
//! self-modifying code behaves as on hardware. Tests run both paths and compare.
//!
//! The cached path also fast-forwards proven counted loops at backward jumps
//! (`loops`, over the shared `linux::loops`); the plain path interprets every
//! instruction and is the reference it is tested against.

pub mod decode;
mod exec;
mod loops;
#[cfg(test)]
mod loops_tests;

use std::fmt::Write as _;

use self::decode::{decode, Insn, SP};
use self::exec::Step;
use super::cpu::{
    fault_bytes, generic_sys, Arch, Cpu, CpuFault, Exit, FaultKind, Sys, SyscallRequest,
};
use super::memory::{MemFault, Memory};

pub use self::exec::{
    add_with_carry32, add_with_carry64, bitfield, condition_holds, extend_reg, shift_reg, Nzcv,
};

/// The largest span of code the decode cache covers (beyond it, instructions are decoded
/// every time they run): 16 MiB, four million slots.
const MAX_WINDOW: u64 = 16 << 20;

/// Decoded instructions for the 4-byte words of `[base, base + 4 * slots.len())`.
#[derive(Debug, Default)]
struct DecodeCache {
    base: u64,
    slots: Vec<Insn>,
}

impl DecodeCache {
    /// The slot of `pc` (4-aligned), growing the window to cover it when that keeps the
    /// window within [`MAX_WINDOW`].
    #[inline]
    fn slot(&mut self, pc: u64) -> Option<&mut Insn> {
        let index = pc.wrapping_sub(self.base) >> 2;
        if index < self.slots.len() as u64 {
            return Some(&mut self.slots[index as usize]);
        }
        self.grow(pc)
    }

    #[cold]
    fn grow(&mut self, pc: u64) -> Option<&mut Insn> {
        const CHUNK: u64 = 64 << 10;
        let lo = pc & !(CHUNK - 1);
        let hi = lo.checked_add(CHUNK)?;
        let (new_lo, new_hi) = if self.slots.is_empty() {
            (lo, hi)
        } else {
            let end = self.base + 4 * self.slots.len() as u64;
            (lo.min(self.base), hi.max(end))
        };
        if new_hi - new_lo > MAX_WINDOW {
            return None;
        }
        let mut slots = vec![Insn::Undecoded; ((new_hi - new_lo) / 4) as usize];
        let at = ((self.base.wrapping_sub(new_lo)) / 4) as usize;
        if !self.slots.is_empty() {
            slots[at..at + self.slots.len()].copy_from_slice(&self.slots);
        }
        self.base = new_lo;
        self.slots = slots;
        let index = ((pc - new_lo) >> 2) as usize;
        self.slots.get_mut(index)
    }

    /// Forgets the decoded instructions overlapping `[addr, addr + len)`.
    #[inline]
    fn invalidate(&mut self, addr: u64, len: u64) {
        let end = self.base + 4 * self.slots.len() as u64;
        if addr < end && addr.saturating_add(len) > self.base {
            self.invalidate_overlap(addr, len, end);
        }
    }

    #[cold]
    fn invalidate_overlap(&mut self, addr: u64, len: u64, end: u64) {
        let lo = addr.max(self.base);
        let hi = addr.saturating_add(len).min(end);
        if lo >= hi {
            return;
        }
        let first = ((lo - self.base) / 4) as usize;
        let last = ((hi - 1 - self.base) / 4) as usize;
        for slot in &mut self.slots[first..=last] {
            *slot = Insn::Undecoded;
        }
    }
}

/// An AArch64 processor.
#[derive(Debug)]
pub struct Aarch64 {
    /// x0..x30, then the zero register (31, always 0), SP (32) and the write sink (33);
    /// 64 entries so that a register index masked with 63 needs no bounds check.
    regs: [u64; 64],
    pc: u64,
    nzcv: Nzcv,
    cache: DecodeCache,
    /// Decode through the cache (true) or fetch and decode every instruction.
    cached: bool,
    /// The guest buffers the last system call may have written, to drop from the cache.
    written: [(u64, u64); 2],
    /// The loop heads seen at backward jumps (see [`loops`](mod@loops)).
    loops: loops::Loops,
}

impl Clone for Aarch64 {
    /// A copy with the same architectural state and an empty decode cache (fork is
    /// usually followed by execve, which would drop it anyway).
    fn clone(&self) -> Aarch64 {
        Aarch64 {
            regs: self.regs,
            pc: self.pc,
            nzcv: self.nzcv,
            cache: DecodeCache::default(),
            cached: self.cached,
            written: [(0, 0); 2],
            loops: loops::Loops::default(),
        }
    }
}

impl Aarch64 {
    /// Register `n` (0..=30 x0..x30, 31 SP).
    pub fn x(&self, n: usize) -> u64 {
        match n {
            0..=30 => self.regs[n],
            _ => self.regs[usize::from(SP)],
        }
    }

    /// Sets register `n` (0..=30 x0..x30, 31 SP).
    pub fn set_x(&mut self, n: usize, value: u64) {
        match n {
            0..=30 => self.regs[n] = value,
            _ => self.regs[usize::from(SP)] = value,
        }
    }

    /// The flags as NZCV in bits 3..0.
    pub fn nzcv(&self) -> Nzcv {
        self.nzcv
    }

    /// Sets the flags (NZCV in bits 3..0).
    pub fn set_nzcv(&mut self, nzcv: Nzcv) {
        self.nzcv = nzcv & 0xf;
    }

    /// Guest instructions counted so far that loop fast-forward applied (whole
    /// iterations done at once, see the `loops` module) rather than interpreted.
    pub fn fast_forwarded(&self) -> u64 {
        self.loops.skipped()
    }

    /// Chooses the cached (default) or the plain fetch-and-decode path (which never
    /// fast-forwards).
    pub fn set_cached(&mut self, cached: bool) {
        self.cached = cached;
        self.cache = DecodeCache::default();
    }

    #[cold]
    fn fault(&self, mem: &Memory, kind: FaultKind) -> Exit {
        Exit::Fault(CpuFault {
            pc: self.pc,
            bytes: fault_bytes(mem, self.pc),
            kind,
        })
    }

    /// The instruction at `pc`, fetched and decoded.
    #[inline]
    fn fetch(mem: &Memory, pc: u64) -> Result<Insn, FaultKind> {
        if pc & 3 != 0 {
            return Err(FaultKind::Trap {
                mnemonic: "misaligned pc (alignment fault on fetch)",
            });
        }
        match mem.read_u32(pc) {
            Ok(word) => Ok(decode(word)),
            Err(f) => Err(FaultKind::Memory(MemFault { len: 4, ..f })),
        }
    }

    /// The instruction at `pc` through the decode cache.
    #[inline]
    fn fetch_cached(&mut self, mem: &Memory, pc: u64) -> Result<Insn, FaultKind> {
        if pc & 3 != 0 {
            return Self::fetch(mem, pc);
        }
        match self.cache.slot(pc) {
            Some(slot) if *slot != Insn::Undecoded => Ok(*slot),
            Some(slot) => {
                let insn = Self::fetch(mem, pc)?;
                *slot = insn;
                Ok(insn)
            }
            None => Self::fetch(mem, pc),
        }
    }
}

/// The guest buffers, as (address, length), that a system call may write.
fn written_buffers(req: &SyscallRequest) -> [(u64, u64); 2] {
    let a = req.args;
    let none = (0, 0);
    match req.sys {
        Some(Sys::Read) => [(a[1], a[2]), none],
        Some(Sys::Getcwd) => [(a[0], a[1]), none],
        // struct utsname: six 65-byte fields.
        Some(Sys::Uname) => [(a[0], 6 * 65), none],
        // The status word and struct rusage (18 words).
        Some(Sys::Wait4) => [(a[1], 4), (a[3], 18 * 8)],
        // siginfo_t.
        Some(Sys::Waitid) => [(a[2], 128), none],
        _ => [none, none],
    }
}

impl Cpu for Aarch64 {
    const ARCH: Arch = Arch::Aarch64;

    fn new(entry: u64, sp: u64) -> Aarch64 {
        let mut regs = [0; 64];
        regs[usize::from(SP)] = sp;
        Aarch64 {
            regs,
            pc: entry,
            nzcv: 0,
            cache: DecodeCache::default(),
            cached: true,
            written: [(0, 0); 2],
            loops: loops::Loops::default(),
        }
    }

    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        for (addr, len) in std::mem::take(&mut self.written) {
            self.cache.invalidate(addr, len);
        }
        let mut done = 0;
        while done < budget {
            let pc = self.pc;
            let fetched = if self.cached {
                self.fetch_cached(mem, pc)
            } else {
                Self::fetch(mem, pc)
            };
            let insn = match fetched {
                Ok(insn) => insn,
                Err(kind) => return (done, self.fault(mem, kind)),
            };
            match self.exec(mem, insn, pc) {
                Step::Next => {
                    done += 1;
                    if self.pc <= pc && self.cached && loops::is_jump(&insn) {
                        // A backward jump: the guest is at a loop head.
                        done += self.fast_forward(mem, budget - done);
                    }
                }
                Step::Syscall => {
                    self.written = written_buffers(&self.syscall());
                    return (done + 1, Exit::Syscall);
                }
                Step::Fault(kind) => return (done, self.fault(mem, kind)),
            }
        }
        (done, Exit::Budget)
    }

    fn syscall(&self) -> SyscallRequest {
        let number = self.regs[8];
        let mut args = [0; 6];
        args.copy_from_slice(&self.regs[..6]);
        SyscallRequest {
            number,
            sys: generic_sys(number, 8),
            args,
        }
    }

    fn set_syscall_result(&mut self, value: i64) {
        self.regs[0] = value as u64;
    }

    fn pc(&self) -> u64 {
        self.pc
    }

    fn registers(&self) -> String {
        let mut out = String::new();
        for (n, value) in self.regs[..31].iter().enumerate() {
            let _ = writeln!(out, "x{n:<2} {value:#018x}");
        }
        let _ = writeln!(out, "sp  {:#018x}", self.regs[usize::from(SP)]);
        let _ = writeln!(out, "pc  {:#018x}", self.pc);
        let f = |bit: u8, c: char| if self.nzcv & bit != 0 { c } else { '-' };
        let _ = write!(
            out,
            "nzcv {}{}{}{}",
            f(8, 'N'),
            f(4, 'Z'),
            f(2, 'C'),
            f(1, 'V')
        );
        out
    }
}
