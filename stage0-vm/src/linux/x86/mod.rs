//! # i386 and x86-64: the general-purpose integer instruction set
//!
//! This module owns the x86 processor of the Linux user-mode machine: sixteen 64-bit
//! general registers (eight used in 32-bit mode), the instruction pointer, the arithmetic
//! flags and DF, and the interpreter loop. [`I386`] is 32-bit protected mode with flat
//! segments (the Linux i386 ABI, `int 0x80`); [`Amd64`] is 64-bit mode (`syscall`). Both
//! are [`X86`], one core parameterised by the mode. The instruction set is split into
//! [`decode`](mod@decode) (bytes to a typed instruction, written from the SDM/APM opcode maps),
//! [`exec`] (one instruction's semantics over registers and [`Memory`]) and [`flags`]
//! (lazy CF/PF/AF/ZF/SF/OF); [`disasm`] renders decoded instructions as text. Decoded
//! instructions are kept in a direct-mapped cache keyed
//! by address; every store that may overlap a cached instruction drops it, so
//! self-modifying code behaves as on hardware. At a backward jump, `loops` may apply
//! whole iterations of a proven counted loop at once, with the plain path's exact result.
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
pub mod disasm;
pub mod exec;
pub mod fast;
pub mod flags;
mod loops;

#[cfg(test)]
mod loops_tests;
#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

use std::fmt;

use super::cpu::{fault_bytes, Arch, Cpu, CpuFault, Exit, FaultKind, Sys, SyscallRequest};
use super::memory::Memory;
use decode::{decode, DecodeError, Form, Insn, MAX_LEN};
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
    /// Decoded instructions (taken out of `self` while [`Cpu::run`] runs).
    cache: Cache,
    /// The addresses instructions were decoded from: `code.0..code.1`.
    code: (u64, u64),
    /// Bytes in `code` stored to by the current instruction (`dirty.0..dirty.1`): the run
    /// loop drops the cached instructions they overlap once the instruction is done.
    dirty: (u64, u64),
    /// The system call of the last [`Exit::Syscall`], whose memory writes may hit code.
    last_sys: Option<(Sys, [u64; 6])>,
    /// The inner run loop goes on while its instruction count is below this: the budget,
    /// or 0 once a store hit decoded code (see `dirty`), so one comparison per
    /// instruction serves both.
    limit: u64,
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
        form: decode::Form::Other,
    },
};

/// Decoded instructions by address, direct-mapped.
#[derive(Default)]
struct Cache {
    slots: Vec<Slot>,
    /// The loop heads seen at backward jumps (see [`loops`]).
    loops: loops::Loops,
}

impl Cache {
    fn new() -> Cache {
        Cache::default()
    }

    #[inline]
    fn index(addr: u64) -> usize {
        (addr as usize) & (CACHE_SLOTS - 1)
    }

    /// Drops every cached instruction that overlaps `addr..end`.
    #[cold]
    fn invalidate(&mut self, addr: u64, end: u64) {
        if end.wrapping_sub(addr) > CACHE_SLOTS as u64 {
            self.slots.fill(EMPTY);
            return;
        }
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
            code: (u64::MAX, 0),
            dirty: (u64::MAX, 0),
            last_sys: self.last_sys,
            limit: 0,
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
pub(crate) fn sys_amd64(n: u64) -> Option<Sys> {
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

    /// Decodes the instruction at `pc` into slot `idx` of the cache.
    #[cold]
    fn fill(
        &mut self,
        mem: &Memory,
        cache: &mut Cache,
        idx: usize,
        pc: u64,
    ) -> Result<(), FaultKind> {
        let insn = decode_at::<LONG>(mem, pc)?;
        if let Some(slot) = cache.slots.get_mut(idx) {
            *slot = Slot { tag: pc, insn };
        }
        self.code.0 = self.code.0.min(pc);
        self.code.1 = self.code.1.max(pc.saturating_add(u64::from(insn.len)));
        Ok(())
    }

    /// Notes that `addr..addr + len` was stored to (see `dirty`).
    #[inline(always)]
    pub(super) fn note_store(&mut self, addr: u64, len: u64) {
        let end = addr.wrapping_add(len);
        if end > self.code.0 && addr < self.code.1 {
            self.dirty.0 = self.dirty.0.min(addr);
            self.dirty.1 = self.dirty.1.max(end);
            self.limit = 0;
        }
    }

    /// Drops cached instructions the last system call may have written over (read into a
    /// buffer, brk shrinking and regrowing memory, the small result structures).
    fn after_syscall(&mut self, cache: &mut Cache) {
        let Some((sys, a)) = self.last_sys.take() else {
            return;
        };
        let (addr, len) = match sys {
            Sys::Read => (a[1], a[2]),
            Sys::Getcwd => (a[0], a[1]),
            Sys::Uname => (a[0], 390 + 6),
            Sys::Waitpid | Sys::Wait4 => (a[1], 4),
            Sys::Llseek => (a[3], 8),
            Sys::Brk if a[0] != 0 => (a[0], u64::MAX - a[0]),
            _ => return,
        };
        let len = len.min(u64::MAX - addr);
        self.note_store(addr, len);
        self.flush_dirty(cache);
    }

    #[inline(always)]
    fn flush_dirty(&mut self, cache: &mut Cache) {
        // `note_store` only ever records a nonzero end (it is above `code.0`).
        if self.dirty.1 != 0 {
            cache.invalidate(self.dirty.0, self.dirty.1);
            self.dirty = (u64::MAX, 0);
        }
    }

    fn run_cached(&mut self, mem: &mut Memory, cache: &mut Cache, budget: u64) -> (u64, Exit) {
        let mut n = 0;
        loop {
            self.limit = budget;
            // The hot loop: one comparison per instruction ends it at the budget and
            // after a store into decoded code (`note_store` clears `limit`).
            while n < self.limit {
                let pc = self.rip;
                let idx = Cache::index(pc);
                if !matches!(cache.slots.get(idx), Some(s) if s.tag == pc) {
                    if let Err(kind) = self.fill(mem, cache, idx, pc) {
                        return (n, Self::fault(mem, pc, kind));
                    }
                }
                let Some(slot) = cache.slots.get(idx) else {
                    return (
                        n,
                        Self::fault(mem, pc, FaultKind::Unimplemented { mnemonic: None }),
                    );
                };
                let insn = &slot.insn;
                let branch = matches!(insn.form, Form::Jmp | Form::Jcc);
                self.rip = pc.wrapping_add(u64::from(insn.len)) & Self::ADDR_MASK;
                match self.exec_fast(mem, insn) {
                    Ok(Flow::Next) => {
                        n += 1;
                        // A backward jump: the guest is at a loop head.
                        if branch && self.rip < pc {
                            let room = self.limit.saturating_sub(n);
                            n += crate::linux::loops::fast_forward(
                                self,
                                mem,
                                &mut cache.loops,
                                self.rip,
                                room,
                            );
                        }
                    }
                    Ok(Flow::Syscall) => {
                        self.flush_dirty(cache);
                        let req = self.syscall();
                        self.last_sys = req.sys.map(|s| (s, req.args));
                        return (n + 1, Exit::Syscall);
                    }
                    Err(kind) => {
                        self.flush_dirty(cache);
                        self.rip = pc;
                        return (n, Self::fault(mem, pc, kind));
                    }
                }
            }
            self.flush_dirty(cache);
            if n >= budget {
                return (n, Exit::Budget);
            }
        }
    }

    /// How many of the instructions run so far were fast-forwarded loop iterations
    /// (see the `loops` module) rather than interpreted one by one.
    pub fn fast_forwarded(&self) -> u64 {
        self.cache.loops.skipped
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
            code: (u64::MAX, 0),
            dirty: (u64::MAX, 0),
            last_sys: None,
            limit: 0,
        }
    }

    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        let mut cache = std::mem::take(&mut self.cache);
        if cache.slots.is_empty() {
            cache.slots = vec![EMPTY; CACHE_SLOTS];
        }
        self.after_syscall(&mut cache);
        // Stores made outside this loop (`step_uncached`) drop what they overlap too.
        self.flush_dirty(&mut cache);
        let r = self.run_cached(mem, &mut cache, budget);
        self.cache = cache;
        r
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
