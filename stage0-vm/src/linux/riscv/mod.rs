//! RV32 and RV64 user-mode processors for the Linux machine: RV32I/RV64I and the M
//! extension (the chains' binaries use nothing else, measured), behind [`Cpu`].
//!
//! This module owns the RISC-V side of the [`Cpu`] contract: the processor state, the run
//! loop over decoded code, and the Linux system call convention (number in a7, arguments in
//! a0..a5, result in a0, the generic `asm-generic/unistd.h` table). One core serves both
//! widths, parameterised by `RV64`: [`decode`](mod@decode) turns a word into an instruction, [`exec`]
//! applies it, [`cache`] keeps decoded instructions per code slot, [`fuse`] runs the
//! commonest adjacent pairs (stack pushes and pops) as one step, `loops`
//! fast-forwards proven counted loops. [`Riscv::run`] (the
//! [`Cpu::run`] of the trait) executes from the cache; [`Riscv::run_uncached`] fetches and
//! decodes every instruction again and is the reference the cached path is tested against.
//! No allocation or dynamic dispatch happens per instruction.

pub mod cache;
pub mod decode;
pub mod exec;
pub mod fuse;
mod loops;
#[cfg(test)]
mod loops_tests;

use std::fmt;

use self::cache::CodeCache;
use self::decode::decode;
use self::exec::{Hart, Stop};
use super::cpu::{
    fault_bytes, generic_sys, Arch, Cpu, CpuFault, Exit, FaultKind, Sys, SyscallRequest,
};
use super::memory::{MemFault, Memory};

/// A RISC-V processor of width 64 (`RV64`) or 32, with its decoded-code cache.
#[derive(Clone)]
pub struct Riscv<const RV64: bool> {
    hart: Hart<RV64>,
    code: CodeCache,
    /// The loop heads seen at backward jumps (see [`loops`]).
    loops: loops::Loops,
    /// The system call the last `run` stopped at, until the next `run` accounts for the
    /// guest memory it may have written.
    pending: Option<SyscallRequest>,
}

/// The RV32 processor (RV32IM).
pub type Rv32 = Riscv<false>;
/// The RV64 processor (RV64IM).
pub type Rv64 = Riscv<true>;

/// ABI names of x0..x31, for register dumps.
const ABI_NAMES: [&str; 32] = [
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
    "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4",
    "t5", "t6",
];

/// The meaning of a system call number on RV64 or RV32: the generic Linux table.
pub fn sys_of(number: u64, rv64: bool) -> Option<Sys> {
    generic_sys(number, if rv64 { 8 } else { 4 })
}

impl<const RV64: bool> Riscv<RV64> {
    /// Register `r` (0..=31) as the guest sees it, zero-extended on RV32.
    pub fn reg(&self, r: usize) -> u64 {
        Hart::<RV64>::addr(self.hart.x[r & 31])
    }

    /// Sets register `r` (writes to x0 are ignored), truncated to XLEN.
    pub fn set_reg(&mut self, r: usize, value: u64) {
        self.hart.x[r & 31] = Hart::<RV64>::sx(value);
        self.hart.x[0] = 0;
    }

    /// The guest instructions counted so far that were fast-forwarded (whole loop
    /// iterations applied at once, see the `loops` module) rather than interpreted.
    pub fn fast_forwarded(&self) -> u64 {
        self.loops.skipped
    }

    /// The registers and program counter, exactly.
    pub fn hart(&self) -> &Hart<RV64> {
        &self.hart
    }

    /// Drops decoded code the last system call may have overwritten (or unmapped).
    fn settle_syscall(&mut self) {
        let Some(req) = self.pending.take() else {
            return;
        };
        let [a0, a1, a2, a3, ..] = req.args;
        match req.sys {
            Some(Sys::Read) => self.code.invalidate(a1, a2),
            Some(Sys::Getcwd) => self.code.invalidate(a0, a1),
            Some(Sys::Uname) => self.code.invalidate(a0, 6 * 65),
            Some(Sys::Llseek) => self.code.invalidate(a3, 8),
            Some(Sys::Wait4) => {
                self.code.invalidate(a1, 4);
                self.code.invalidate(a3, 256);
            }
            Some(Sys::Brk) if a0 != 0 => self.code.flush_from(a0),
            Some(
                Sys::Brk
                | Sys::Write
                | Sys::OpenAt
                | Sys::Close
                | Sys::Lseek
                | Sys::Exit
                | Sys::ExitGroup
                | Sys::Clone
                | Sys::Execve
                | Sys::Chdir
                | Sys::Fchdir
                | Sys::Fchmod
                | Sys::FchmodAt
                | Sys::FaccessAt
                | Sys::UnlinkAt
                | Sys::MkdirAt
                | Sys::Getpid,
            ) => {}
            _ => self.code.flush(),
        }
    }

    fn fault(&self, mem: &Memory, kind: FaultKind) -> Exit {
        let pc = self.pc();
        Exit::Fault(CpuFault {
            pc,
            bytes: fault_bytes(mem, pc),
            kind,
        })
    }

    fn stop(&mut self, mem: &Memory, n: u64, stop: Stop) -> (u64, Exit) {
        match stop {
            Stop::Syscall => {
                self.pending = Some(self.syscall());
                (n + 1, Exit::Syscall)
            }
            Stop::Fault(kind) => (n, self.fault(mem, kind)),
        }
    }

    /// The program counter is not 4-aligned (only possible at entry: jumps check).
    fn misaligned(&self) -> bool {
        self.hart.pc & 3 != 0
    }

    /// The reference run loop: fetch, decode and execute each instruction anew, no cache.
    /// Same contract as [`Cpu::run`].
    pub fn run_uncached(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        self.settle_syscall();
        if self.misaligned() {
            return (0, self.fault(mem, misaligned_fetch()));
        }
        let mut n = 0;
        while n < budget {
            let word = match mem.read_u32(self.hart.pc) {
                Ok(w) => w,
                Err(f) => return (n, self.fault(mem, FaultKind::Memory(f))),
            };
            if let Err(stop) = self.hart.execute(mem, &mut (), decode(word, RV64)) {
                return self.stop(mem, n, stop);
            }
            n += 1;
        }
        (n, Exit::Budget)
    }
}

/// What the cache keeps for the instruction at `pc`: its decoding, or the fused form of it
/// and the next instruction when that is in the same page and the two make a pair.
#[inline(never)]
fn decode_slot<const RV64: bool>(mem: &Memory, pc: u64) -> Result<decode::Inst, MemFault> {
    let first = decode(mem.read_u32(pc)?, RV64);
    let next = pc.wrapping_add(4);
    if CodeCache::page_of(next) != CodeCache::page_of(pc) {
        return Ok(first);
    }
    Ok(match mem.read_u32(next) {
        Ok(w) => fuse::fuse(first, decode(w, RV64)).unwrap_or(first),
        Err(_) => first,
    })
}

fn misaligned_fetch() -> FaultKind {
    FaultKind::Unimplemented {
        mnemonic: Some("instruction fetch from an address that is not 4-byte aligned"),
    }
}

impl<const RV64: bool> Cpu for Riscv<RV64> {
    const ARCH: Arch = if RV64 { Arch::Riscv64 } else { Arch::Riscv32 };

    fn new(entry: u64, sp: u64) -> Self {
        let mut hart = Hart {
            x: [0; 32],
            pc: Hart::<RV64>::addr(entry),
        };
        hart.x[2] = Hart::<RV64>::sx(sp);
        Riscv {
            hart,
            code: CodeCache::default(),
            loops: loops::Loops::default(),
            pending: None,
        }
    }

    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        self.settle_syscall();
        if self.misaligned() {
            return (0, self.fault(mem, misaligned_fetch()));
        }
        let mut n = 0;
        let mut pc = self.hart.pc;
        let mut page = u64::MAX;
        let mut base = 0;
        let x = &mut self.hart.x;
        let mut why = Stop::Syscall;
        let stop = loop {
            if n == budget {
                break None;
            }
            if CodeCache::page_of(pc) != page {
                page = CodeCache::page_of(pc);
                base = self.code.page_base(page);
            }
            let slot = CodeCache::slot(base, pc);
            let mut inst = self.code.get(slot);
            if inst.op == decode::Op::NotDecoded {
                inst = match decode_slot::<RV64>(mem, pc) {
                    Ok(i) => i,
                    Err(f) => break Some(Stop::Fault(FaultKind::Memory(f))),
                };
                self.code.set(slot, inst);
            }
            if fuse::is_pair(inst.op) {
                if budget - n >= 2 {
                    if let Some(next) = fuse::run_pair::<RV64, _>(x, mem, &mut self.code, inst, pc)
                    {
                        pc = next;
                        n += 2;
                        continue;
                    }
                }
                // The first instruction alone, on the plain path (a fault is reported
                // exactly as there; a budget of one instruction ends after it).
                inst = match mem.read_u32(pc) {
                    Ok(w) => decode(w, RV64),
                    Err(f) => break Some(Stop::Fault(FaultKind::Memory(f))),
                };
            }
            let next = match Hart::<RV64>::step(x, mem, &mut self.code, inst, pc, &mut why) {
                exec::STOPPED => break Some(why),
                next => next,
            };
            n += 1;
            if next <= pc && loops::is_jump(inst.op) {
                // A backward jump: the guest is at a loop head.
                let mut view = loops::View::<RV64> {
                    x,
                    code: &mut self.code,
                };
                n += crate::linux::loops::fast_forward(
                    &mut view,
                    mem,
                    &mut self.loops,
                    next,
                    budget - n,
                );
                page = u64::MAX;
            }
            pc = next;
        };
        self.hart.pc = pc;
        match stop {
            None => (n, Exit::Budget),
            Some(Stop::Syscall) => {
                self.hart.pc = Hart::<RV64>::addr(pc.wrapping_add(4));
                self.stop(mem, n, Stop::Syscall)
            }
            Some(fault) => self.stop(mem, n, fault),
        }
    }

    fn syscall(&self) -> SyscallRequest {
        let x = &self.hart.x;
        let number = self.reg(17);
        let mut args = [0; 6];
        for (i, a) in args.iter_mut().enumerate() {
            *a = Hart::<RV64>::addr(x[10 + i]);
        }
        SyscallRequest {
            number,
            sys: sys_of(number, RV64),
            args,
        }
    }

    fn set_syscall_result(&mut self, value: i64) {
        self.set_reg(10, value as u64);
    }

    fn pc(&self) -> u64 {
        self.hart.pc
    }

    fn registers(&self) -> String {
        let digits = if RV64 { 16 } else { 8 };
        let mut s = format!("pc   {:#0w$x}\n", self.pc(), w = digits + 2);
        for (r, name) in ABI_NAMES.iter().enumerate().skip(1) {
            s += &format!("{:<4} {:#0w$x}\n", name, self.reg(r), w = digits + 2);
        }
        s
    }
}

impl<const RV64: bool> fmt::Debug for Riscv<RV64> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(if RV64 { "Rv64" } else { "Rv32" })
            .field("hart", &self.hart)
            .finish_non_exhaustive()
    }
}
