//! The executor: registers, memory with its pre-decode cache, the fetch/dispatch loop and
//! the semantics of every instruction (with the reference's quirks), and the native
//! HALCODE calls.
//!
//! Memory is a byte array of exactly the configured size, big-endian, with every data
//! access bounds-checked as the reference does (`addr >= size` → Address_1, `addr + n >=
//! size` → Address_2): a fault, never a host panic. Decoded instructions are cached per
//! byte address; every store into memory that may hold decoded code invalidates the cache
//! entries that could overlap it, so self-modifying and loaded code behave exactly. The
//! loop allocates nothing per instruction. POSIX calls live in `posix`, devices in
//! `devices`, messages in `fault`.

use std::io::{Read, Write};
use std::path::PathBuf;

use crate::devices::{tape_index, DeviceError, Devices, TTY};
use crate::fault::{Fault, Stop};
use crate::isa::{decode, DecodeError, Group, Op};
use crate::posix::Posix;

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
    /// `--trace`: one line per executed instruction on the trace stream.
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

/// The host streams a run may use: stdin/stdout for the TTY (unless `--tty-in`/`--tty-out`
/// name files) and POSIX fds 0..2; stderr also receives `--trace` lines.
pub struct Io<'a> {
    /// Standard input.
    pub stdin: &'a mut dyn Read,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
}

/// One pre-decoded instruction: the operation, its registers, its length and its
/// immediate already extended as the operation reads it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Decoded {
    pub op: Op,
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
    pub len: u8,
    pub imm: u32,
}

/// Memory and its pre-decode cache (one slot per byte address).
pub(crate) struct Mem {
    pub bytes: Vec<u8>,
    cache: Vec<Decoded>,
    /// One past the highest address any cached instruction may cover: stores at or above
    /// it cannot touch cached code, so they skip invalidation.
    code_end: u32,
}

/// A data access outside memory: the address to show, Address_2 or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutOfWorld {
    pub shown: u32,
    pub second: bool,
}

impl Mem {
    fn new(size: usize) -> Mem {
        Mem {
            bytes: vec![0; size],
            cache: Vec::new(),
            code_end: 0,
        }
    }

    #[inline(always)]
    fn size(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// The reference's bounds rule for an `n`-byte access at `addr`.
    #[inline(always)]
    pub fn check(&self, addr: u32, n: u32) -> Result<usize, OutOfWorld> {
        let size = self.size();
        if u64::from(addr) + u64::from(n) < u64::from(size) {
            Ok(addr as usize)
        } else {
            Err(out_of_world(addr, n, size))
        }
    }

    /// Loads `n` (1, 2 or 4) bytes big-endian, zero-extended.
    #[inline(always)]
    pub fn load(&self, addr: u32, n: u32) -> Result<u32, OutOfWorld> {
        let i = self.check(addr, n)?;
        let b = &self.bytes;
        Ok(match n {
            1 => u32::from(b[i]),
            2 => u32::from(u16::from_be_bytes([b[i], b[i + 1]])),
            _ => u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]),
        })
    }

    /// Stores the low `n` bytes of `value` big-endian.
    #[inline(always)]
    pub fn store(&mut self, addr: u32, n: u32, value: u32) -> Result<(), OutOfWorld> {
        let i = self.check(addr, n)?;
        let be = value.to_be_bytes();
        self.bytes[i..i + n as usize].copy_from_slice(&be[4 - n as usize..]);
        self.invalidate(addr, n);
        Ok(())
    }

    /// Forgets decoded instructions that may overlap `[addr, addr + n)`.
    #[inline(always)]
    pub fn invalidate(&mut self, addr: u32, n: u32) {
        if addr < self.code_end {
            self.invalidate_slow(addr, n);
        }
    }

    #[cold]
    fn invalidate_slow(&mut self, addr: u32, n: u32) {
        let lo = addr.saturating_sub(5) as usize;
        let hi = (addr as usize + n as usize).min(self.cache.len());
        for slot in self.cache.get_mut(lo..hi).unwrap_or(&mut []) {
            slot.op = Op::Undecoded;
        }
    }

    /// Decodes the instruction at `ip` (known `< size`) into the cache.
    #[cold]
    fn fill(&mut self, ip: u32) -> Result<Decoded, DecodeError> {
        if self.cache.len() != self.bytes.len() {
            self.cache = vec![Decoded::default(); self.bytes.len()];
        }
        let i = ip as usize;
        let d = match decode(&self.bytes[i..]) {
            Ok(instr) => {
                let raw = instr.imm;
                let imm = match instr.op {
                    Op::Halcode
                    | Op::CmpskipiE
                    | Op::CmpskipiNe
                    | Op::CmpskipuiG
                    | Op::CmpskipuiGe
                    | Op::CmpskipuiLe
                    | Op::CmpskipuiL => raw,
                    _ => instr.imm_signed(),
                };
                Decoded {
                    op: instr.op,
                    a: instr.regs[0] & 15,
                    b: instr.regs[1] & 15,
                    c: instr.regs[2] & 15,
                    d: instr.regs[3] & 15,
                    len: instr.byte_len() as u8,
                    imm,
                }
            }
            Err(DecodeError::Illegal) => Decoded {
                op: Op::Illegal,
                len: 4,
                ..Decoded::default()
            },
            Err(DecodeError::Truncated) => {
                // An illegal first byte with fewer than 4 bytes left is still illegal.
                if Group::from_prefix(self.bytes[i]).is_none() && self.bytes.len() - i >= 4 {
                    Decoded {
                        op: Op::Illegal,
                        len: 4,
                        ..Decoded::default()
                    }
                } else {
                    return Err(DecodeError::Truncated);
                }
            }
        };
        self.cache[i] = d;
        self.code_end = self.code_end.max(ip.saturating_add(6));
        Ok(d)
    }

    /// The first four bytes at `ip` as a big-endian word (for messages; `ip + 4 <= size`).
    fn word(&self, ip: u32) -> u32 {
        let i = ip as usize;
        match self.bytes.get(i..i + 4) {
            Some(w) => u32::from_be_bytes([w[0], w[1], w[2], w[3]]),
            None => 0,
        }
    }

    /// Copies `data` to `addr` (ROM loading, POSIX read), invalidating decoded code.
    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        let i = addr as usize;
        self.bytes[i..i + data.len()].copy_from_slice(data);
        self.invalidate(addr, data.len() as u32);
    }
}

#[cold]
fn out_of_world(addr: u32, n: u32, size: u32) -> OutOfWorld {
    if addr >= size {
        OutOfWorld {
            shown: addr,
            second: false,
        }
    } else {
        OutOfWorld {
            shown: addr.wrapping_add(n),
            second: true,
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

/// The ROM does not fit: the reference's "Program NAME is X bytes large..." case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RomTooLarge {
    /// ROM size in bytes.
    pub rom: usize,
    /// Memory size in bytes.
    pub memory: usize,
}

#[inline(always)]
fn cmp_bits(lt: bool, eq: bool) -> u32 {
    if eq {
        2
    } else if lt {
        1
    } else {
        4
    }
}

#[inline(always)]
fn sl0(v: u32, n: u32) -> u32 {
    if n >= 32 {
        0
    } else {
        v << n
    }
}
#[inline(always)]
fn sr0(v: u32, n: u32) -> u32 {
    if n >= 32 {
        0
    } else {
        v >> n
    }
}
#[inline(always)]
fn sl1(v: u32, n: u32) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        ((u64::from(v) << n) | ((1u64 << n) - 1)) as u32
    }
}
#[inline(always)]
fn sr1(v: u32, n: u32) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        (v >> n) | !(u32::MAX >> n)
    }
}

impl Machine {
    /// A machine with `rom` loaded at address 0, registers zero (POSIX mode: R15 = ROM
    /// size, R12 = ROM size + stack size), ip = 0.
    pub fn new(rom: &[u8], config: &Config) -> Result<Machine, RomTooLarge> {
        if rom.len() > config.memory_size {
            return Err(RomTooLarge {
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
        if self.config.trace {
            self.exec::<true>(dev, io)
        } else {
            self.exec::<false>(dev, io)
        }
    }

    #[cold]
    fn mem_fault(&self, e: OutOfWorld, write: bool) -> Fault {
        Fault::Outside {
            steps: self.steps,
            shown: e.shown,
            second: e.second,
            write,
        }
    }

    fn exec<const TRACE: bool>(&mut self, dev: &mut Devices, io: &mut Io) -> Result<Stop, Fault> {
        let limit = self.config.max_steps.unwrap_or(u64::MAX);
        let mut before = [0u32; 16];
        macro_rules! rd {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Err(self.mem_fault(e, false)),
                }
            };
        }
        macro_rules! wr {
            ($e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => return Err(self.mem_fault(e, true)),
                }
            };
        }
        loop {
            if self.steps >= limit {
                return Err(Fault::MaxSteps {
                    steps: self.steps,
                    ip: self.ip,
                });
            }
            let ip = self.ip;
            let d = match self.mem.cache.get(ip as usize) {
                Some(d) if d.op != Op::Undecoded => *d,
                _ => {
                    if ip >= self.mem.size() {
                        return Err(Fault::FetchOutside {
                            steps: self.steps,
                            ip,
                        });
                    }
                    match self.mem.fill(ip) {
                        Ok(d) => d,
                        Err(_) => {
                            return Err(Fault::FetchTruncated {
                                steps: self.steps + 1,
                                ip,
                            })
                        }
                    }
                }
            };
            self.steps += 1;
            let next = ip.wrapping_add(u32::from(d.len));
            self.ip = next;
            if TRACE {
                before = self.regs;
            }
            let (a, b, c, dd) = (
                usize::from(d.a & 15),
                usize::from(d.b & 15),
                usize::from(d.c & 15),
                usize::from(d.d & 15),
            );
            let imm = d.imm;
            let r = &mut self.regs;
            match d.op {
                Op::Nop => {}
                Op::Halt => {
                    if TRACE {
                        self.trace_line(ip, &d, &before, io);
                    }
                    return Ok(Stop::Halt);
                }
                Op::Undecoded | Op::Illegal => {
                    return Err(Fault::Illegal {
                        steps: self.steps,
                        ip,
                        word: self.mem.word(ip),
                    })
                }
                Op::Halcode => {
                    if let Some(stop) = self.halcode(ip, imm, dev, io)? {
                        if TRACE {
                            self.trace_line(ip, &d, &before, io);
                        }
                        return Ok(stop);
                    }
                }
                // ---- 4OP
                Op::AddCi | Op::AdduCi => {
                    r[a] = r[b]
                        .wrapping_add(r[c])
                        .wrapping_add(u32::from(r[dd] & 0x20 != 0));
                }
                Op::AddCo | Op::AddCio | Op::AdduCo | Op::AdduCio => {
                    let (vb, vc, vd) = (r[b], r[c], r[dd]);
                    let carry = match d.op {
                        Op::AddCo | Op::AddCio => {
                            i64::from(vb as i32) + i64::from(vc as i32) >= 1 << 31
                        }
                        _ => vb.checked_add(vc).is_none(),
                    };
                    let cin = match d.op {
                        Op::AddCio | Op::AdduCio => u32::from(vd & 0x20 != 0),
                        _ => 0,
                    };
                    r[dd] = if carry { vd | 0x20 } else { vd & !0x20 };
                    r[a] = vb.wrapping_add(vc).wrapping_add(cin);
                }
                Op::SubBi | Op::SubuBi => {
                    r[a] = r[b]
                        .wrapping_sub(r[c])
                        .wrapping_sub(u32::from(r[dd] & 0x10 != 0));
                }
                Op::SubBo | Op::SubBio | Op::SubuBo | Op::SubuBio => {
                    let (vb, vc, vd) = (r[b], r[c], r[dd]);
                    let borrow = match d.op {
                        Op::SubBo | Op::SubBio => vb & 0x8000_0000 != 0,
                        _ => vb < vc,
                    };
                    let bin = match d.op {
                        Op::SubBio | Op::SubuBio => u32::from(vd & 0x10 != 0),
                        _ => 0,
                    };
                    r[dd] = if borrow { vd | 0x10 } else { vd & !0x10 };
                    r[a] = vb.wrapping_sub(vc).wrapping_sub(bin);
                }
                Op::Multiply => {
                    let p = i64::from(r[c] as i32) * i64::from(r[dd] as i32);
                    r[a] = p as u32;
                    r[b] = (p / (1i64 << 32)) as u32;
                }
                Op::Multiplyu => {
                    let p = u64::from(r[c]) * u64::from(r[dd]);
                    r[a] = p as u32;
                    r[b] = (p >> 32) as u32;
                }
                Op::Divide => {
                    let (vc, vd) = (r[c] as i32, r[dd] as i32);
                    if vd == 0 {
                        return Err(Fault::DivideByZero("DIVIDE"));
                    }
                    if vc == i32::MIN && vd == -1 {
                        return Err(self.div_overflow("DIVIDE", ip));
                    }
                    r[a] = (vc / vd) as u32;
                    r[b] = (vc % vd) as u32;
                }
                Op::Divideu => {
                    let (vc, vd) = (r[c], r[dd]);
                    if vd == 0 {
                        return Err(Fault::DivideByZero("DIVIDEU"));
                    }
                    r[a] = vc / vd;
                    r[b] = vc % vd;
                }
                Op::Mux => r[a] = (r[c] & !r[b]) | (r[dd] & r[b]),
                Op::Nmux => r[a] = (r[c] & r[b]) | (r[dd] & !r[b]),
                Op::Sort | Op::Sortu => {
                    let (vc, vd) = (r[c], r[dd]);
                    let greater = if d.op == Op::Sort {
                        (vc as i32) > (vd as i32)
                    } else {
                        vc > vd
                    };
                    if greater {
                        r[a] = vc;
                        r[b] = vd;
                    } else {
                        r[b] = vc;
                        r[a] = vd;
                    }
                }
                // ---- 3OP
                Op::Add | Op::Addu => r[a] = r[b].wrapping_add(r[c]),
                Op::Sub | Op::Subu => r[a] = r[b].wrapping_sub(r[c]),
                Op::Cmp => {
                    let (x, y) = (r[b] as i32, r[c] as i32);
                    r[a] = cmp_bits(x < y, x == y);
                }
                Op::Cmpu => {
                    let (x, y) = (r[b], r[c]);
                    r[a] = cmp_bits(x < y, x == y);
                }
                Op::Mul | Op::Mulu => r[a] = r[b].wrapping_mul(r[c]),
                Op::Mulh => r[a] = 0,
                Op::Muluh => r[a] = ((u64::from(r[b]) * u64::from(r[c])) >> 32) as u32,
                Op::Div | Op::Mod => {
                    let (x, y) = (r[b] as i32, r[c] as i32);
                    let name = if d.op == Op::Div { "DIV" } else { "MOD" };
                    if y == 0 {
                        return Err(Fault::DivideByZero(name));
                    }
                    if x == i32::MIN && y == -1 {
                        return Err(self.div_overflow(name, ip));
                    }
                    r[a] = if d.op == Op::Div { x / y } else { x % y } as u32;
                }
                Op::Divu | Op::Modu => {
                    let (x, y) = (r[b], r[c]);
                    if y == 0 {
                        return Err(Fault::DivideByZero(if d.op == Op::Divu {
                            "DIVU"
                        } else {
                            "MODU"
                        }));
                    }
                    r[a] = if d.op == Op::Divu { x / y } else { x % y };
                }
                Op::Max => r[a] = (r[b] as i32).max(r[c] as i32) as u32,
                Op::Maxu => r[a] = r[b].max(r[c]),
                Op::Min => r[a] = (r[b] as i32).min(r[c] as i32) as u32,
                Op::Minu => r[a] = r[b].min(r[c]),
                Op::And => r[a] = r[b] & r[c],
                Op::Or => r[a] = r[b] | r[c],
                Op::Xor => r[a] = r[b] ^ r[c],
                Op::Nand => r[a] = !(r[b] & r[c]),
                Op::Nor => r[a] = !(r[b] | r[c]),
                Op::Xnor => r[a] = !(r[b] ^ r[c]),
                Op::Mpq => r[a] = !r[b] & r[c],
                Op::Lpq => r[a] = r[b] & !r[c],
                Op::Cpq => r[a] = !r[b] | r[c],
                Op::Bpq => r[a] = r[b] | !r[c],
                Op::Sal => r[a] = r[b] << (r[c] & 31),
                Op::Sar => r[a] = r[b] >> (r[c] & 31),
                Op::Sl0 => r[a] = sl0(r[b], r[c]),
                Op::Sr0 => r[a] = sr0(r[b], r[c]),
                Op::Sl1 => r[a] = sl1(r[b], r[c]),
                Op::Sr1 => r[a] = sr1(r[b], r[c]),
                Op::Rol => r[a] = r[b].rotate_right(r[c] & 31),
                Op::Ror => r[a] = r[b].rotate_left(r[c] & 31),
                Op::Loadx | Op::Loadx32 | Op::Loadxu32 => {
                    let addr = r[b].wrapping_add(r[c]);
                    self.regs[a] = rd!(self.mem.load(addr, 4));
                }
                Op::Loadx8 => {
                    let addr = r[b].wrapping_add(r[c]);
                    self.regs[a] = rd!(self.mem.load(addr, 1)) as u8 as i8 as i32 as u32;
                }
                Op::Loadxu8 => {
                    let addr = r[b].wrapping_add(r[c]);
                    self.regs[a] = rd!(self.mem.load(addr, 1));
                }
                Op::Loadx16 => {
                    let addr = r[b].wrapping_add(r[c]);
                    self.regs[a] = rd!(self.mem.load(addr, 2)) as u16 as i16 as i32 as u32;
                }
                Op::Loadxu16 => {
                    let addr = r[b].wrapping_add(r[c]);
                    self.regs[a] = rd!(self.mem.load(addr, 2));
                }
                Op::Storex | Op::Storex32 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(r[c]));
                    wr!(self.mem.store(addr, 4, v));
                }
                Op::Storex8 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(r[c]));
                    wr!(self.mem.store(addr, 1, v));
                }
                Op::Storex16 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(r[c]));
                    wr!(self.mem.store(addr, 2, v));
                }
                Op::CmpjumpG
                | Op::CmpjumpGe
                | Op::CmpjumpE
                | Op::CmpjumpNe
                | Op::CmpjumpLe
                | Op::CmpjumpL
                | Op::CmpjumpuG
                | Op::CmpjumpuGe
                | Op::CmpjumpuLe
                | Op::CmpjumpuL => {
                    if compare(d.op, r[a], r[b]) {
                        self.ip = r[c];
                    }
                }
                // ---- 2OP
                Op::Neg => r[a] = r[b].wrapping_neg(),
                Op::Abs => {
                    let v = r[b];
                    r[a] = if (v as i32) >= 0 { v } else { v.wrapping_neg() };
                }
                Op::Nabs => {
                    let v = r[b];
                    r[a] = if (v as i32) < 0 { v } else { v.wrapping_neg() };
                }
                Op::Swap => {
                    let (va, vb) = (r[a], r[b]);
                    r[b] = va;
                    r[a] = vb;
                }
                Op::Copy => r[a] = r[b],
                Op::Move => {
                    r[a] = r[b];
                    r[b] = 0;
                }
                Op::Not => r[a] = !r[b],
                Op::Branch => {
                    let (target, at) = (r[a], r[b]);
                    wr!(self.mem.store(at, 4, next));
                    self.ip = target;
                }
                Op::Call => {
                    let at = r[b];
                    wr!(self.mem.store(at, 4, next));
                    self.regs[b] = at.wrapping_add(4);
                    self.ip = self.regs[a];
                }
                Op::Pushr | Op::Push32 | Op::Push8 | Op::Push16 => {
                    let n = match d.op {
                        Op::Push8 => 1,
                        Op::Push16 => 2,
                        _ => 4,
                    };
                    let (v, at) = (r[a], r[b]);
                    wr!(self.mem.store(at, n, v));
                    self.regs[b] = at.wrapping_add(n);
                }
                Op::Popr
                | Op::Pop8
                | Op::Popu8
                | Op::Pop16
                | Op::Popu16
                | Op::Pop32
                | Op::Popu32 => {
                    let n = match d.op {
                        Op::Pop8 | Op::Popu8 => 1,
                        Op::Pop16 | Op::Popu16 => 2,
                        _ => 4,
                    };
                    let at = r[b].wrapping_sub(n);
                    r[b] = at;
                    let raw = rd!(self.mem.load(at, n));
                    wr!(self.mem.store(at, n, 0));
                    self.regs[a] = match d.op {
                        Op::Pop8 => raw as u8 as i8 as i32 as u32,
                        Op::Pop16 => raw as u16 as i16 as i32 as u32,
                        _ => raw,
                    };
                }
                Op::CmpskipG
                | Op::CmpskipGe
                | Op::CmpskipE
                | Op::CmpskipNe
                | Op::CmpskipLe
                | Op::CmpskipL
                | Op::CmpskipuG
                | Op::CmpskipuGe
                | Op::CmpskipuLe
                | Op::CmpskipuL => {
                    if compare(d.op, r[a], r[b]) {
                        self.skip(next)?;
                    }
                }
                Op::CmpskipiG
                | Op::CmpskipiGe
                | Op::CmpskipiE
                | Op::CmpskipiNe
                | Op::CmpskipiLe
                | Op::CmpskipiL
                | Op::CmpskipuiG
                | Op::CmpskipuiGe
                | Op::CmpskipuiLe
                | Op::CmpskipuiL => {
                    if compare(d.op, r[a], imm) {
                        self.skip(next)?;
                    }
                }
                // ---- 1OP
                Op::Readpc => r[a] = next,
                Op::Readscid => r[a] = 2,
                Op::False => r[a] = 0,
                Op::True => r[a] = u32::MAX,
                Op::JsrCoroutine => self.ip = r[a],
                Op::Ret | Op::Poppc => {
                    let at = r[a].wrapping_sub(4);
                    r[a] = at;
                    let target = rd!(self.mem.load(at, 4));
                    wr!(self.mem.store(at, 4, 0));
                    self.ip = target;
                }
                Op::Pushpc => {
                    let at = r[a];
                    wr!(self.mem.store(at, 4, next));
                    self.regs[a] = at.wrapping_add(4);
                }
                // ---- 0OPI
                Op::Jump => self.ip = next.wrapping_add(imm),
                // ---- 2OPI
                Op::SetG | Op::SetGe | Op::SetE | Op::SetNe | Op::SetLe | Op::SetL => {
                    let f = r[a];
                    let hit = match d.op {
                        Op::SetG => f & 4 != 0,
                        Op::SetGe => f & 6 != 0,
                        Op::SetE => f & 2 != 0,
                        Op::SetNe => f & 2 == 0,
                        Op::SetLe => f & 3 != 0,
                        _ => f & 1 != 0,
                    };
                    r[b] = if hit { imm } else { 0 };
                }
                Op::Addi | Op::Addui => r[a] = r[b].wrapping_add(imm),
                Op::Subi | Op::Subui => r[a] = r[b].wrapping_sub(imm),
                Op::Cmpi => {
                    let (x, y) = (r[b] as i32, imm as i32);
                    r[a] = cmp_bits(x < y, x == y);
                }
                Op::Cmpui => {
                    let x = r[b];
                    r[a] = cmp_bits(x < imm, x == imm);
                }
                Op::Load | Op::Load32 | Op::Loadu32 => {
                    let addr = r[b].wrapping_add(imm);
                    self.regs[a] = rd!(self.mem.load(addr, 4));
                }
                Op::Load8 => {
                    let addr = r[b].wrapping_add(imm);
                    self.regs[a] = rd!(self.mem.load(addr, 1)) as u8 as i8 as i32 as u32;
                }
                Op::Loadu8 => {
                    let addr = r[b].wrapping_add(imm);
                    self.regs[a] = rd!(self.mem.load(addr, 1));
                }
                Op::Load16 => {
                    let addr = r[b].wrapping_add(imm);
                    self.regs[a] = rd!(self.mem.load(addr, 2)) as u16 as i16 as i32 as u32;
                }
                Op::Loadu16 => {
                    let addr = r[b].wrapping_add(imm);
                    self.regs[a] = rd!(self.mem.load(addr, 2));
                }
                Op::Store | Op::Store32 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(imm));
                    wr!(self.mem.store(addr, 4, v));
                }
                Op::Store8 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(imm));
                    wr!(self.mem.store(addr, 1, v));
                }
                Op::Store16 => {
                    let (v, addr) = (r[a], r[b].wrapping_add(imm));
                    wr!(self.mem.store(addr, 2, v));
                }
                Op::Andi => r[a] = r[b] & imm,
                Op::Ori => r[a] = r[b] | imm,
                Op::Xori => r[a] = r[b] ^ imm,
                Op::Nandi => r[a] = !(r[b] & imm),
                Op::Nori => r[a] = !(r[b] | imm),
                Op::Xnori => r[a] = !(r[b] ^ imm),
                Op::CmpjumpiG
                | Op::CmpjumpiGe
                | Op::CmpjumpiE
                | Op::CmpjumpiNe
                | Op::CmpjumpiLe
                | Op::CmpjumpiL
                | Op::CmpjumpuiG
                | Op::CmpjumpuiGe
                | Op::CmpjumpuiLe
                | Op::CmpjumpuiL => {
                    if compare(d.op, r[a], r[b]) {
                        self.ip = next.wrapping_add(imm);
                    }
                }
                // ---- 1OPI
                Op::JumpC
                | Op::JumpB
                | Op::JumpO
                | Op::JumpG
                | Op::JumpGe
                | Op::JumpE
                | Op::JumpNe
                | Op::JumpLe
                | Op::JumpL
                | Op::JumpZ
                | Op::JumpNz
                | Op::JumpP
                | Op::JumpNp => {
                    let f = r[a];
                    let taken = match d.op {
                        Op::JumpC => f & 0x20 != 0,
                        Op::JumpB => f & 0x10 != 0,
                        Op::JumpO => f & 0x08 != 0,
                        Op::JumpG => f & 4 != 0,
                        Op::JumpGe => f & 6 != 0,
                        Op::JumpE => f & 2 != 0,
                        Op::JumpNe => f & 2 == 0,
                        Op::JumpLe => f & 3 != 0,
                        Op::JumpL => f & 1 != 0,
                        Op::JumpZ => f == 0,
                        Op::JumpNz => f != 0,
                        Op::JumpP => (f as i32) >= 0,
                        _ => (f as i32) < 0,
                    };
                    if taken {
                        self.ip = next.wrapping_add(imm);
                    }
                }
                Op::Calli => {
                    let at = r[a];
                    wr!(self.mem.store(at, 4, next));
                    self.regs[a] = at.wrapping_add(4);
                    self.ip = next.wrapping_add(imm);
                }
                Op::Loadi | Op::Loadui => r[a] = imm,
                Op::Sali => r[a] <<= imm & 31,
                Op::Sari => r[a] >>= imm & 31,
                Op::Sl0i => r[a] = sl0(r[a], imm),
                Op::Sr0i => r[a] = sr0(r[a], imm),
                Op::Sl1i => r[a] = sl1(r[a], imm),
                Op::Sr1i => r[a] = sr1(r[a], imm),
                Op::Loadr | Op::Loadr32 | Op::Loadru32 => {
                    self.regs[a] = rd!(self.mem.load(next.wrapping_add(imm), 4));
                }
                Op::Loadr8 => {
                    self.regs[a] =
                        rd!(self.mem.load(next.wrapping_add(imm), 1)) as u8 as i8 as i32 as u32;
                }
                Op::Loadru8 => {
                    self.regs[a] = rd!(self.mem.load(next.wrapping_add(imm), 1));
                }
                Op::Loadr16 => {
                    self.regs[a] =
                        rd!(self.mem.load(next.wrapping_add(imm), 2)) as u16 as i16 as i32 as u32;
                }
                Op::Loadru16 => {
                    self.regs[a] = rd!(self.mem.load(next.wrapping_add(imm), 2));
                }
                Op::Storer | Op::Storer32 => {
                    let v = r[a];
                    wr!(self.mem.store(next.wrapping_add(imm), 4, v));
                }
                Op::Storer8 => {
                    let v = r[a];
                    wr!(self.mem.store(next.wrapping_add(imm), 1, v));
                }
                Op::Storer16 => {
                    let v = r[a];
                    wr!(self.mem.store(next.wrapping_add(imm), 2, v));
                }
            }
            if TRACE {
                self.trace_line(ip, &d, &before, io);
            }
        }
    }

    #[cold]
    fn div_overflow(&self, name: &'static str, ip: u32) -> Fault {
        Fault::DivideOverflow {
            name,
            steps: self.steps,
            ip,
        }
    }

    /// CMPSKIP: skip the instruction at `next` (6 bytes if it starts with E0/E1, else 4).
    #[inline(always)]
    fn skip(&mut self, next: u32) -> Result<(), Fault> {
        match self.mem.bytes.get(next as usize) {
            Some(&b0) => {
                self.ip = next.wrapping_add(Group::len_of_prefix(b0));
                Ok(())
            }
            None => Err(Fault::SkipOutside {
                steps: self.steps,
                ip: next,
            }),
        }
    }

    /// Executes HALCODE `code`; `Some(stop)` ends the run (POSIX exit).
    fn halcode(
        &mut self,
        ip: u32,
        code: u32,
        dev: &mut Devices,
        io: &mut Io,
    ) -> Result<Option<Stop>, Fault> {
        if self.config.posix {
            let known = crate::isa::POSIX_HALCODES.iter().any(|&(c, _)| c == code);
            if !known {
                return Err(self.invalid_halcode(ip));
            }
            return crate::posix::call(self, code, io);
        }
        let dev_err = |e: DeviceError| match e {
            DeviceError::NotValid(t, c) => Fault::TapeNotValid(t, c),
            DeviceError::Missing(n) => Fault::TapeMissing(n),
            DeviceError::Io(m) => Fault::Io(m),
        };
        let r = &mut self.regs;
        match code {
            0x100000 => {
                if let Some(i) = tape_index(r[0]) {
                    dev.open_read(i).map_err(dev_err)?;
                }
            }
            0x100001 => {
                if dev.fuzzing {
                    r[0] = 0;
                } else if let Some(i) = tape_index(r[0]) {
                    dev.open_write(i).map_err(dev_err)?;
                }
            }
            0x100002 => {
                if let Some(i) = tape_index(r[0]) {
                    dev.close(i).map_err(dev_err)?;
                }
            }
            0x100003 => {
                if let Some(i) = tape_index(r[0]) {
                    dev.rewind(i).map_err(dev_err)?;
                }
            }
            0x100100 => {
                r[0] = if let Some(i) = tape_index(r[1]) {
                    dev.getc(i).map_err(dev_err)?.map_or(u32::MAX, u32::from)
                } else if r[1] == TTY {
                    tty_getc(dev, io)
                } else {
                    u32::MAX
                };
            }
            0x100200 => {
                let byte = r[0] as u8;
                if let Some(i) = tape_index(r[1]) {
                    dev.putc(i, byte).map_err(dev_err)?;
                } else if r[1] == TTY {
                    let out: &mut dyn Write = match &mut dev.tty_out {
                        Some(f) => f.as_mut(),
                        None => io.stdout,
                    };
                    out.write_all(&[byte])
                        .map_err(|e| Fault::Io(format!("cannot write the TTY: {e}")))?;
                }
            }
            0x110000 => r[0] = self.mem.size(),
            _ => return Err(self.invalid_halcode(ip)),
        }
        Ok(None)
    }

    #[cold]
    fn invalid_halcode(&self, ip: u32) -> Fault {
        Fault::InvalidHalcode {
            steps: self.steps,
            ip,
            word: self.mem.word(ip),
        }
    }

    #[cold]
    fn trace_line(&self, ip: u32, d: &Decoded, before: &[u32; 16], io: &mut Io) {
        let n = usize::from(d.len);
        let i = ip as usize;
        let bytes = self.mem.bytes.get(i..i + n).unwrap_or(&[]);
        let mut line = format!("{ip:08X}  ");
        for b in bytes {
            line.push_str(&format!("{b:02X}"));
        }
        while line.len() < 26 {
            line.push(' ');
        }
        line.push_str(&crate::disasm::render(bytes).unwrap_or_else(|| d.op.name().to_string()));
        let mut wrote = Vec::new();
        for (k, (old, new)) in before.iter().zip(self.regs.iter()).enumerate() {
            if old != new {
                wrote.push(format!("R{k}={new:08X}"));
            }
        }
        if !wrote.is_empty() {
            line.push_str("  ; ");
            line.push_str(&wrote.join(" "));
        }
        let _ = writeln!(io.stderr, "{line}");
    }
}

/// The comparison of a compare-and-branch/skip operation.
#[inline(always)]
fn compare(op: Op, x: u32, y: u32) -> bool {
    let (sx, sy) = (x as i32, y as i32);
    match op {
        Op::CmpjumpG | Op::CmpskipG | Op::CmpskipiG | Op::CmpjumpiG => sx > sy,
        Op::CmpjumpGe | Op::CmpskipGe | Op::CmpskipiGe | Op::CmpjumpiGe => sx >= sy,
        Op::CmpjumpE | Op::CmpskipE | Op::CmpskipiE | Op::CmpjumpiE => x == y,
        Op::CmpjumpNe | Op::CmpskipNe | Op::CmpskipiNe | Op::CmpjumpiNe => x != y,
        Op::CmpjumpLe | Op::CmpskipLe | Op::CmpskipiLe | Op::CmpjumpiLe => sx <= sy,
        Op::CmpjumpL | Op::CmpskipL | Op::CmpskipiL | Op::CmpjumpiL => sx < sy,
        Op::CmpjumpuG | Op::CmpskipuG | Op::CmpskipuiG | Op::CmpjumpuiG => x > y,
        Op::CmpjumpuGe | Op::CmpskipuGe | Op::CmpskipuiGe | Op::CmpjumpuiGe => x >= y,
        Op::CmpjumpuLe | Op::CmpskipuLe | Op::CmpskipuiLe | Op::CmpjumpuiLe => x <= y,
        _ => x < y,
    }
}

/// One byte from the TTY: the `--tty-in` file or stdin; 0xFFFFFFFF at end of input.
/// (The production variant's semantics; see the crate docs.)
fn tty_getc(dev: &mut Devices, io: &mut Io) -> u32 {
    if let Some(out) = &mut dev.tty_out {
        let _ = out.flush();
    }
    let _ = io.stdout.flush();
    let input: &mut dyn Read = match &mut dev.tty_in {
        Some(r) => r.as_mut(),
        None => io.stdin,
    };
    let mut b = [0u8; 1];
    loop {
        match input.read(&mut b) {
            Ok(0) => return u32::MAX,
            Ok(_) => return u32::from(b[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return u32::MAX,
        }
    }
}
