//! A toy instruction set for testing the process layer without a real one (tests only).
//!
//! Eight 64-bit registers; `r0` holds a system call's number and result, `r1..r6` its
//! arguments, with x86-64's system call numbers. Encodings (little-endian):
//! `01` syscall; `02 r imm64` load immediate; `03 d s` move; `04 off32` jump if r0 == 0
//! (relative to the next instruction); `05` a trap; `06 r addr64` r = u32 at addr;
//! `07 r` negate; `08 a v` store byte r[v] at r[a]; `09 r n` shift right; anything else
//! is an unknown encoding.

use super::cpu::{fault_bytes, Arch, Cpu, CpuFault, Exit, FaultKind, Sys, SyscallRequest};
use super::memory::Memory;

#[derive(Clone, Debug)]
pub struct Mock {
    pc: u64,
    r: [u64; 8],
}

/// The mock uses x86-64's system call numbers.
fn sys_of(n: u64) -> Option<Sys> {
    super::x86::sys_amd64(n)
}

impl Mock {
    fn fault(&self, mem: &Memory, kind: FaultKind) -> Exit {
        Exit::Fault(CpuFault {
            pc: self.pc,
            bytes: fault_bytes(mem, self.pc),
            kind,
        })
    }
}

impl Cpu for Mock {
    const ARCH: Arch = Arch::Amd64;

    fn new(entry: u64, sp: u64) -> Self {
        let mut r = [0; 8];
        r[7] = sp;
        Mock { pc: entry, r }
    }

    fn run(&mut self, mem: &mut Memory, budget: u64) -> (u64, Exit) {
        let mut n = 0;
        while n < budget {
            let Ok(code) = mem.slice_upto(self.pc, 10).map(<[u8]>::to_vec) else {
                return (
                    n,
                    self.fault(mem, FaultKind::Unimplemented { mnemonic: None }),
                );
            };
            let b = |i: usize| code.get(i).copied().unwrap_or(0);
            let imm = |i: usize| (0..8).fold(0u64, |v, k| v | u64::from(b(i + k)) << (8 * k));
            let reg = |i: usize| usize::from(b(i) & 7);
            let len = match code[0] {
                1 => {
                    self.pc += 1;
                    return (n + 1, Exit::Syscall);
                }
                2 => {
                    self.r[reg(1)] = imm(2);
                    10
                }
                3 => {
                    self.r[reg(1)] = self.r[reg(2)];
                    3
                }
                4 => {
                    let off = imm(1) as u32 as i32 as i64 as u64;
                    if self.r[0] == 0 {
                        self.pc = self.pc.wrapping_add(5).wrapping_add(off);
                        n += 1;
                        continue;
                    }
                    5
                }
                5 => return (n, self.fault(mem, FaultKind::Trap { mnemonic: "int3" })),
                6 => match mem.read_u32(imm(2)) {
                    Ok(v) => {
                        self.r[reg(1)] = u64::from(v);
                        10
                    }
                    Err(m) => return (n, self.fault(mem, FaultKind::Memory(m))),
                },
                7 => {
                    self.r[reg(1)] = self.r[reg(1)].wrapping_neg();
                    2
                }
                8 => match mem.write_u8(self.r[reg(1)], self.r[reg(2)] as u8) {
                    Ok(()) => 3,
                    Err(m) => return (n, self.fault(mem, FaultKind::Memory(m))),
                },
                9 => {
                    self.r[reg(1)] >>= b(2) & 63;
                    3
                }
                _ => {
                    return (
                        n,
                        self.fault(mem, FaultKind::Unimplemented { mnemonic: None }),
                    )
                }
            };
            self.pc += len;
            n += 1;
        }
        (n, Exit::Budget)
    }

    fn syscall(&self) -> SyscallRequest {
        SyscallRequest {
            number: self.r[0],
            sys: sys_of(self.r[0]),
            args: [
                self.r[1], self.r[2], self.r[3], self.r[4], self.r[5], self.r[6],
            ],
        }
    }

    fn set_syscall_result(&mut self, value: i64) {
        self.r[0] = value as u64;
    }

    fn pc(&self) -> u64 {
        self.pc
    }

    fn registers(&self) -> String {
        format!("pc={:#x} r={:x?}", self.pc, self.r)
    }
}

/// Assembles a mock program: code first, data at `DATA` (a fixed address after it).
#[derive(Default)]
pub struct Asm {
    pub code: Vec<u8>,
    pub data: Vec<u8>,
}

pub const BASE: u64 = 0x40_0000;
const CODE_AT: u64 = BASE + 64 + 56;
const CODE_MAX: usize = 0x800;
pub const DATA: u64 = CODE_AT + CODE_MAX as u64;

impl Asm {
    /// Adds bytes to the data (NUL-terminated if a string is wanted) and gives their address.
    pub fn data(&mut self, bytes: &[u8]) -> u64 {
        let at = DATA + self.data.len() as u64;
        self.data.extend_from_slice(bytes);
        while self.data.len() & 7 != 0 {
            self.data.push(0);
        }
        at
    }

    /// A NULL-terminated pointer array of NUL-terminated strings.
    pub fn strings(&mut self, items: &[&[u8]]) -> u64 {
        let ptrs: Vec<u64> = items
            .iter()
            .map(|s| {
                let mut v = s.to_vec();
                v.push(0);
                self.data(&v)
            })
            .collect();
        let mut arr = Vec::new();
        for p in ptrs {
            arr.extend_from_slice(&p.to_le_bytes());
        }
        arr.extend_from_slice(&[0; 8]);
        self.data(&arr)
    }

    pub fn li(&mut self, r: u8, v: u64) -> &mut Self {
        self.code.push(2);
        self.code.push(r);
        self.code.extend_from_slice(&v.to_le_bytes());
        self
    }

    pub fn mov(&mut self, d: u8, s: u8) -> &mut Self {
        self.code.extend_from_slice(&[3, d, s]);
        self
    }

    /// `r0 = number(args...)`.
    pub fn sys(&mut self, number: u64, args: &[u64]) -> &mut Self {
        for (i, a) in args.iter().enumerate() {
            self.li(i as u8 + 1, *a);
        }
        self.li(0, number);
        self.code.push(1);
        self
    }

    pub fn op(&mut self, bytes: &[u8]) -> &mut Self {
        self.code.extend_from_slice(bytes);
        self
    }

    /// Jump if r0 == 0 to a label set later with `here`; returns the patch position.
    pub fn jz(&mut self) -> usize {
        self.code.push(4);
        self.code.extend_from_slice(&[0; 4]);
        self.code.len()
    }

    /// Points the jump at `patch` here.
    pub fn here(&mut self, patch: usize) {
        let off = (self.code.len() - patch) as u32;
        self.code[patch - 4..patch].copy_from_slice(&off.to_le_bytes());
    }

    /// `exit(r0)`.
    pub fn exit_r0(&mut self) -> &mut Self {
        self.mov(1, 0);
        self.li(0, 60);
        self.code.push(1);
        self
    }

    pub fn elf(&self) -> Vec<u8> {
        assert!(self.code.len() <= CODE_MAX);
        let mut body = self.code.clone();
        body.resize(CODE_MAX, 0);
        body.extend_from_slice(&self.data);
        super::elf::tests::tiny_elf(Arch::Amd64, BASE, &body, 0)
    }
}
