//! The executor: registers, memory with its pre-decode cache, the fetch/dispatch loop and
//! the semantics of every instruction (with the reference's quirks), and the native
//! HALCODE calls.
//!
//! Memory is a byte array of exactly the configured size, big-endian, with every data
//! access bounds-checked as the reference does (`addr >= size` → Address_1, `addr + n >=
//! size` → Address_2): a fault, never a host panic. Decoded instructions are cached per
//! byte address; every store into memory that may hold decoded code invalidates the cache
//! entries that could overlap it, so self-modifying and loaded code behave exactly
//! (frequent idioms such as a CMPSKIPI followed by a JUMP, or LOADUI R1 + FGETC +
//! JUMP.NP R0, are fused into one slot covering all of them; each fused step still counts
//! and `--max-steps` can stop between them). Each arm advances ip by its operation's
//! constant length, so the next fetch does not wait for the slot. The loop allocates
//! nothing per instruction. POSIX calls live in `posix`, devices in `devices`, messages
//! in `fault`.

use std::io::{Read, Write};
use std::path::PathBuf;

use crate::devices::{tape_index, DeviceError, Devices, TAPE_01, TTY};
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

/// One pre-decoded instruction (8 bytes): the operation, its registers, its length and
/// its raw 16-bit immediate (HALCODE re-reads its 24-bit code from memory). A fused
/// slot keeps a JUMP displacement in `c`/`d` little-endian (`c` the low byte), so the
/// arm reads it with one 16-bit load.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Decoded {
    pub op: Op,
    pub a: u8,
    pub b: u8,
    pub c: u8,
    pub d: u8,
    pub len: u8,
    pub imm: i16,
}

/// Addresses below this many bytes have pre-decode cache slots (8 bytes each); code
/// above it is decoded at every execution (correct, slower).
const CACHE_LIMIT: usize = 1 << 21;

/// The most bytes one cache slot depends on (a LOADUI fused with the FGETC and JUMP.NP
/// after it).
const SLOT_SPAN: u32 = 16;

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
    /// Zeroed memory of `size` bytes (`vec!` of zeros: the host maps pages lazily, so a
    /// large `--memory` costs only what the program touches).
    fn new(size: usize) -> Mem {
        Mem {
            bytes: vec![0; size],
            cache: vec![Decoded::default(); size.min(CACHE_LIMIT)],
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
        // A slot depends on its own bytes (up to 6) and, when fused, on the bytes of the
        // instructions after it (up to 16 in all: LOADUI + FGETC + JUMP.NP).
        let lo = addr.saturating_sub(SLOT_SPAN - 1) as usize;
        let hi = (addr as usize + n as usize).min(self.cache.len());
        for slot in self.cache.get_mut(lo..hi).unwrap_or(&mut []) {
            slot.op = Op::Undecoded;
        }
    }

    /// Decodes the instruction at `ip` (known `< cache.len()`) into the cache.
    #[cold]
    fn fill(&mut self, ip: u32, fuse: bool) -> Result<(), DecodeError> {
        let mut d = self.decode_at(ip)?;
        if is_cmpskipi(d.op) {
            // CMPSKIPI* uses only `a` and `imm`: `b` != 0 marks it fused with the JUMP
            // that follows (`b` = that JUMP's length, `c`/`d` = its displacement).
            d.b = 0;
            let next = ip.wrapping_add(u32::from(d.len));
            if fuse && next < self.size() {
                if let Ok(j) = self.decode_at(next) {
                    let skip = Group::len_of_prefix(self.bytes[next as usize]);
                    if j.op == Op::Jump && u32::from(j.len) == skip {
                        let [lo, hi] = j.imm.to_le_bytes();
                        d.b = j.len;
                        d.c = lo;
                        d.d = hi;
                    }
                }
            }
        }
        if matches!(d.op, Op::Cmpi | Op::Cmpui) {
            // CMPI/CMPUI Ra Rb imm followed by JUMP.cond Ra: `b` bit 7 marks the fusion,
            // bits 4-6 the comparison results (1 less, 2 equal, 4 greater) that take the
            // jump, `c`/`d` its displacement (the JUMP.cond is 6 bytes).
            d.b &= 15;
            let next = ip.wrapping_add(u32::from(d.len));
            if fuse && next < self.size() {
                if let Ok(j) = self.decode_at(next) {
                    if let Some(taken) = cmp_jump_taken(j.op) {
                        if j.a == d.a && j.len == 6 {
                            let [lo, hi] = j.imm.to_le_bytes();
                            d.b |= 0x80 | taken << 4;
                            d.c = lo;
                            d.d = hi;
                        }
                    }
                }
            }
        }
        if matches!(d.op, Op::Cmp | Op::Cmpu) {
            // CMP/CMPU Ra Rb Rc followed by JUMP.cond Ra: `d` bit 7 marks the fusion, bits
            // 4-6 the taken set (as for CMPI), `imm` the JUMP's displacement.
            d.d = 0;
            let next = ip.wrapping_add(u32::from(d.len));
            if fuse && next < self.size() {
                if let Ok(j) = self.decode_at(next) {
                    if let Some(taken) = cmp_jump_taken(j.op) {
                        if j.a == d.a && j.len == 6 {
                            d.d = 0x80 | taken << 4;
                            d.imm = j.imm;
                        }
                    }
                }
            }
        }
        if matches!(d.op, Op::Loadi | Op::Loadui) {
            // LOADUI R1 tape followed by FGETC (then maybe JUMP.NP R0) or FPUTC: `b` = 1
            // FGETC, 2 FGETC + JUMP.NP R0 (`c`/`d` = its displacement), 3 FPUTC.
            d.b = 0;
            let next = ip.wrapping_add(u32::from(d.len));
            if fuse
                && d.a == 1
                && matches!(d.imm, 0x1100 | 0x1101)
                && u64::from(next) + 4 <= u64::from(self.size())
                && self.bytes[next as usize] == 0x42
            {
                match self.word(next) & 0x00FF_FFFF {
                    0x100100 => {
                        d.b = 1;
                        let after = next + 4;
                        if after < self.size() {
                            if let Ok(j) = self.decode_at(after) {
                                if j.op == Op::JumpNp && j.a == 0 && j.len == 6 {
                                    let [lo, hi] = j.imm.to_le_bytes();
                                    (d.b, d.c, d.d) = (2, lo, hi);
                                }
                            }
                        }
                    }
                    0x100200 => d.b = 3,
                    _ => {}
                }
            }
        }
        if d.op == Op::Halcode {
            let [_, b, c, low] = self.word(ip).to_be_bytes();
            (d.b, d.c, d.d) = (b, c, low);
        }
        self.cache[ip as usize] = d;
        self.code_end = self.code_end.max(ip.saturating_add(SLOT_SPAN));
        Ok(())
    }

    /// Decodes the instruction at `ip` (known `< size`).
    fn decode_at(&self, ip: u32) -> Result<Decoded, DecodeError> {
        let i = ip as usize;
        let d = match decode(&self.bytes[i..]) {
            Ok(instr) => Decoded {
                op: instr.op,
                a: instr.regs[0] & 15,
                b: instr.regs[1] & 15,
                c: instr.regs[2] & 15,
                d: instr.regs[3] & 15,
                len: instr.byte_len() as u8,
                imm: instr.imm as u16 as i16,
            },
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
        Ok(d)
    }

    /// The first four bytes at `ip` as a big-endian word (for messages); bytes past the end
    /// of memory read as zero, as the reference's allocation happens to give.
    fn word(&self, ip: u32) -> u32 {
        let mut w = [0u8; 4];
        for (k, b) in w.iter_mut().enumerate() {
            *b = self.bytes.get(ip as usize + k).copied().unwrap_or(0);
        }
        u32::from_be_bytes(w)
    }

    /// Copies `data` to `addr` (ROM loading, POSIX read), invalidating decoded code.
    pub fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        let i = addr as usize;
        self.bytes[i..i + data.len()].copy_from_slice(data);
        self.invalidate(addr, data.len() as u32);
    }
}

/// For a JUMP.cond after a CMPI/CMPUI into its register (whose value is then 1, 2 or 4):
/// the set of those values that take the jump, as a 3-bit mask.
fn cmp_jump_taken(op: Op) -> Option<u8> {
    Some(match op {
        Op::JumpC | Op::JumpB | Op::JumpO | Op::JumpZ | Op::JumpNp => 0,
        Op::JumpNz | Op::JumpP => 7,
        Op::JumpG => 4,
        Op::JumpGe => 6,
        Op::JumpE => 2,
        Op::JumpNe => 5,
        Op::JumpLe => 3,
        Op::JumpL => 1,
        _ => return None,
    })
}

/// The CMPSKIPI*/CMPSKIPUI* operations (register against immediate), the ones that
/// fuse with a following JUMP.
fn is_cmpskipi(op: Op) -> bool {
    use Op::*;
    matches!(
        op,
        CmpskipiG
            | CmpskipiGe
            | CmpskipiE
            | CmpskipiNe
            | CmpskipiLe
            | CmpskipiL
            | CmpskipuiG
            | CmpskipuiGe
            | CmpskipuiLe
            | CmpskipuiL
    )
}

/// R0..R15 of the executor's 256-entry register file.
fn lo16(r: &[u32; 256]) -> &[u32; 16] {
    r.first_chunk().unwrap_or(&[0; 16])
}

/// R0..R15 of the executor's 256-entry register file, writable.
fn lo16_mut(r: &mut [u32; 256]) -> &mut [u32; 16] {
    match r.first_chunk_mut() {
        Some(lo) => lo,
        None => unreachable!(),
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
            (true, _) => self.exec::<true, true>(dev, io),
            (false, true) => self.exec::<false, true>(dev, io),
            (false, false) => self.exec::<false, false>(dev, io),
        }
    }

    fn exec<const TRACE: bool, const LIMITED: bool>(
        &mut self,
        dev: &mut Devices,
        io: &mut Io,
    ) -> Result<Stop, Fault> {
        let limit = self.config.max_steps.unwrap_or(u64::MAX);
        let posix = self.config.posix;
        let mut before = [0u32; 16];
        // The hot state lives in locals (registers, ip, counter) and is written back to
        // `self` whenever the run leaves the loop or calls out (HALCODE).
        // 256 registers so that a u8 field indexes them without a mask or a bounds check;
        // only R0..R15 exist (the decoder masks every register field to 4 bits, and the
        // fields that carry fusion flags are masked where they name a register).
        let mut r = [0u32; 256];
        r[..16].copy_from_slice(&self.regs);
        let mut pc = self.ip;
        let mut steps = self.steps;
        macro_rules! rd {
            ($l:lifetime, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break $l Err(mem_fault(steps, e, false)),
                }
            };
        }
        macro_rules! wr {
            ($l:lifetime, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break $l Err(mem_fault(steps, e, true)),
                }
            };
        }
        let result = 'run: loop {
            if LIMITED && steps >= limit {
                break 'run Err(Fault::MaxSteps { steps, ip: pc });
            }
            let ip = pc;
            // An empty cache slot decodes as `Undecoded`, whose arm below fills it and
            // retries: the common path has no extra test.
            // `d` borrows the slot (each arm loads only the fields it uses, before any
            // store); code above the cache is decoded into `above`.
            let above: Decoded;
            let d: &Decoded = match self.mem.cache.get(ip as usize) {
                Some(d) => d,
                None => {
                    if ip >= self.mem.size() {
                        break 'run Err(Fault::FetchOutside { steps, ip });
                    }
                    match self.mem.decode_at(ip) {
                        Ok(d) => {
                            above = d;
                            &above
                        }
                        Err(_) => {
                            break 'run Err(Fault::FetchTruncated {
                                steps: steps + 1,
                                ip,
                            })
                        }
                    }
                }
            };
            // The slot as it was, for the trace line (written after the instruction).
            let traced = if TRACE { *d } else { Decoded::default() };
            steps += 1;
            if TRACE {
                before.copy_from_slice(&r[..16]);
            }
            // The sign-extended immediate, loaded where an arm uses it.
            macro_rules! imm {
                () => {
                    (d.imm as i32 as u32)
                };
            }
            macro_rules! A {
                () => {
                    usize::from(d.a)
                };
            }
            macro_rules! B {
                () => {
                    usize::from(d.b)
                };
            }
            macro_rules! C {
                () => {
                    usize::from(d.c)
                };
            }
            macro_rules! D {
                () => {
                    usize::from(d.d)
                };
            }

            // CMPSKIPI* when its condition holds: skip the next instruction (when fused, a
            // JUMP, always 4 bytes: a constant, so the next fetch does not wait for the
            // slot; else its length is read from memory).
            macro_rules! skipi {
                ($l:lifetime, $next:ident) => {
                    if d.b != 0 {
                        pc = $next.wrapping_add(4);
                    } else {
                        match skip(&self.mem, $next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break $l Err(e),
                        }
                    }
                };
            }
            // CMPSKIPI* when its condition fails: a fused JUMP runs now as the next step
            // (unless the step limit falls between the two).
            macro_rules! fused_jump {
                ($next:ident) => {
                    if d.b != 0 && (!LIMITED || steps < limit) {
                        steps += 1;
                        let disp = i16::from_le_bytes([d.c, d.d]) as i32 as u32;
                        pc = $next.wrapping_add(4).wrapping_add(disp);
                    }
                };
            }

            // CMPI/CMPUI fused with the JUMP.cond after it: that JUMP runs now as the
            // next step (unless the step limit falls between the two).
            macro_rules! fused_cmp_jump {
                ($f:expr, $next:ident) => {
                    if d.b & 0x80 != 0 && (!LIMITED || steps < limit) {
                        steps += 1;
                        let after = $next.wrapping_add(6);
                        pc = if u32::from(d.b >> 4) & $f != 0 {
                            let disp = i16::from_le_bytes([d.c, d.d]) as i32 as u32;
                            after.wrapping_add(disp)
                        } else {
                            after
                        };
                    }
                };
            }

            // The same for CMP/CMPU (flag and taken set in `d`, displacement in `imm`).
            macro_rules! fused_cmp3_jump {
                ($f:expr, $next:ident) => {
                    if d.d & 0x80 != 0 && (!LIMITED || steps < limit) {
                        steps += 1;
                        let after = $next.wrapping_add(6);
                        pc = if u32::from(d.d >> 4) & $f != 0 {
                            after.wrapping_add(imm!())
                        } else {
                            after
                        };
                    }
                };
            }

            match d.op {
                Op::Nop => {
                    pc = ip.wrapping_add(4);
                }
                Op::Halt => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    if TRACE {
                        self.trace_line(ip, &traced, &before, lo16(&r), io);
                    }
                    break 'run Ok(Stop::Halt);
                }
                Op::Undecoded => {
                    steps -= 1;
                    pc = ip;
                    if self.mem.fill(ip, !TRACE).is_err() {
                        break 'run Err(Fault::FetchTruncated {
                            steps: steps + 1,
                            ip,
                        });
                    }
                    continue;
                }
                Op::Illegal => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let past_end = self.mem.size() - ip < 4;
                    break 'run Err(Fault::illegal(steps, ip, self.mem.word(ip), past_end));
                }
                Op::Halcode => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    // The 24-bit code was pre-extracted into b, c, d at decode time.
                    let code = u32::from_be_bytes([0, d.b, d.c, d.d]);
                    if !posix {
                        // FGETC/FPUTC on an open tape: a slice index, no call.
                        if !TRACE {
                            if code == 0x100100 && r[1].wrapping_sub(TAPE_01) < 2 {
                                if let Some(v) = dev.getc_fast(r[1] as usize & 1) {
                                    r[0] = v;
                                    continue;
                                }
                            } else if code == 0x100200
                                && r[1].wrapping_sub(TAPE_01) < 2
                                && dev.putc_fast(r[1] as usize & 1, r[0] as u8)
                            {
                                continue;
                            }
                        }
                        // Native services never end the run; the error is boxed so the
                        // common path moves one word.
                        if let Err(e) =
                            native_halcode(lo16_mut(&mut r), &self.mem, steps, ip, code, dev, io)
                        {
                            break 'run Err(*e);
                        }
                        if TRACE {
                            self.trace_line(ip, &traced, &before, lo16(&r), io);
                        }
                        continue;
                    }
                    self.regs = *lo16(&r);
                    self.steps = steps;
                    let done = self.posix_call(ip, code, io);
                    r[..16].copy_from_slice(&self.regs);
                    match done {
                        Ok(None) => {}
                        Ok(Some(stop)) => {
                            if TRACE {
                                self.trace_line(ip, &traced, &before, lo16(&r), io);
                            }
                            break 'run Ok(stop);
                        }
                        Err(e) => break 'run Err(e),
                    }
                }
                // ---- 4OP
                Op::AddCi | Op::AdduCi => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()]
                        .wrapping_add(r[C!()])
                        .wrapping_add(u32::from(r[D!()] & 0x20 != 0));
                }
                Op::AddCo | Op::AddCio | Op::AdduCo | Op::AdduCio => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (vb, vc, vd) = (r[B!()], r[C!()], r[D!()]);
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
                    r[D!()] = if carry { vd | 0x20 } else { vd & !0x20 };
                    r[A!()] = vb.wrapping_add(vc).wrapping_add(cin);
                }
                Op::SubBi | Op::SubuBi => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()]
                        .wrapping_sub(r[C!()])
                        .wrapping_sub(u32::from(r[D!()] & 0x10 != 0));
                }
                Op::SubBo | Op::SubBio | Op::SubuBo | Op::SubuBio => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (vb, vc, vd) = (r[B!()], r[C!()], r[D!()]);
                    let borrow = match d.op {
                        Op::SubBo | Op::SubBio => vb & 0x8000_0000 != 0,
                        _ => vb < vc,
                    };
                    let bin = match d.op {
                        Op::SubBio | Op::SubuBio => u32::from(vd & 0x10 != 0),
                        _ => 0,
                    };
                    r[D!()] = if borrow { vd | 0x10 } else { vd & !0x10 };
                    r[A!()] = vb.wrapping_sub(vc).wrapping_sub(bin);
                }
                Op::Multiply => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let p = i64::from(r[C!()] as i32) * i64::from(r[D!()] as i32);
                    r[A!()] = p as u32;
                    r[B!()] = (p / (1i64 << 32)) as u32;
                }
                Op::Multiplyu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let p = u64::from(r[C!()]) * u64::from(r[D!()]);
                    r[A!()] = p as u32;
                    r[B!()] = (p >> 32) as u32;
                }
                Op::Divide => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (vc, vd) = (r[C!()] as i32, r[D!()] as i32);
                    if vd == 0 {
                        break 'run Err(Fault::DivideByZero("DIVIDE"));
                    }
                    if vc == i32::MIN && vd == -1 {
                        break 'run Err(div_overflow(steps, "DIVIDE", ip));
                    }
                    r[A!()] = (vc / vd) as u32;
                    r[B!()] = (vc % vd) as u32;
                }
                Op::Divideu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (vc, vd) = (r[C!()], r[D!()]);
                    if vd == 0 {
                        break 'run Err(Fault::DivideByZero("DIVIDEU"));
                    }
                    r[A!()] = vc / vd;
                    r[B!()] = vc % vd;
                }
                Op::Mux => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = (r[C!()] & !r[B!()]) | (r[D!()] & r[B!()]);
                }
                Op::Nmux => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = (r[C!()] & r[B!()]) | (r[D!()] & !r[B!()]);
                }
                Op::Sort | Op::Sortu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (vc, vd) = (r[C!()], r[D!()]);
                    let greater = if d.op == Op::Sort {
                        (vc as i32) > (vd as i32)
                    } else {
                        vc > vd
                    };
                    if greater {
                        r[A!()] = vc;
                        r[B!()] = vd;
                    } else {
                        r[B!()] = vc;
                        r[A!()] = vd;
                    }
                }
                // ---- 3OP
                Op::Add | Op::Addu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_add(r[C!()]);
                }
                Op::Sub | Op::Subu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_sub(r[C!()]);
                }
                Op::Cmp => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[B!()] as i32, r[C!()] as i32);
                    let f = cmp_bits(x < y, x == y);
                    r[A!()] = f;
                    fused_cmp3_jump!(f, next);
                }
                Op::Cmpu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[B!()], r[C!()]);
                    let f = cmp_bits(x < y, x == y);
                    r[A!()] = f;
                    fused_cmp3_jump!(f, next);
                }
                Op::Mul | Op::Mulu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_mul(r[C!()]);
                }
                Op::Mulh => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = 0;
                }
                Op::Muluh => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = ((u64::from(r[B!()]) * u64::from(r[C!()])) >> 32) as u32;
                }
                Op::Div | Op::Mod => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[B!()] as i32, r[C!()] as i32);
                    let name = if d.op == Op::Div { "DIV" } else { "MOD" };
                    if y == 0 {
                        break 'run Err(Fault::DivideByZero(name));
                    }
                    if x == i32::MIN && y == -1 {
                        break 'run Err(div_overflow(steps, name, ip));
                    }
                    r[A!()] = if d.op == Op::Div { x / y } else { x % y } as u32;
                }
                Op::Divu | Op::Modu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[B!()], r[C!()]);
                    if y == 0 {
                        break 'run Err(Fault::DivideByZero(if d.op == Op::Divu {
                            "DIVU"
                        } else {
                            "MODU"
                        }));
                    }
                    r[A!()] = if d.op == Op::Divu { x / y } else { x % y };
                }
                Op::Max => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = (r[B!()] as i32).max(r[C!()] as i32) as u32;
                }
                Op::Maxu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].max(r[C!()]);
                }
                Op::Min => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = (r[B!()] as i32).min(r[C!()] as i32) as u32;
                }
                Op::Minu => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].min(r[C!()]);
                }
                Op::And => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] & r[C!()];
                }
                Op::Or => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] | r[C!()];
                }
                Op::Xor => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] ^ r[C!()];
                }
                Op::Nand => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !(r[B!()] & r[C!()]);
                }
                Op::Nor => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !(r[B!()] | r[C!()]);
                }
                Op::Xnor => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !(r[B!()] ^ r[C!()]);
                }
                Op::Mpq => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !r[B!()] & r[C!()];
                }
                Op::Lpq => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] & !r[C!()];
                }
                Op::Cpq => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !r[B!()] | r[C!()];
                }
                Op::Bpq => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] | !r[C!()];
                }
                Op::Sal => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] << (r[C!()] & 31);
                }
                Op::Sar => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()] >> (r[C!()] & 31);
                }
                Op::Sl0 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = sl0(r[B!()], r[C!()]);
                }
                Op::Sr0 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = sr0(r[B!()], r[C!()]);
                }
                Op::Sl1 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = sl1(r[B!()], r[C!()]);
                }
                Op::Sr1 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = sr1(r[B!()], r[C!()]);
                }
                Op::Rol => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].rotate_right(r[C!()] & 31);
                }
                Op::Ror => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].rotate_left(r[C!()] & 31);
                }
                Op::Loadx | Op::Loadx32 | Op::Loadxu32 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let addr = r[B!()].wrapping_add(r[C!()]);
                    r[A!()] = rd!('run, self.mem.load(addr, 4));
                }
                Op::Loadx8 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let addr = r[B!()].wrapping_add(r[C!()]);
                    r[A!()] = rd!('run, self.mem.load(addr, 1)) as u8 as i8 as i32 as u32;
                }
                Op::Loadxu8 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let addr = r[B!()].wrapping_add(r[C!()]);
                    r[A!()] = rd!('run, self.mem.load(addr, 1));
                }
                Op::Loadx16 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let addr = r[B!()].wrapping_add(r[C!()]);
                    r[A!()] = rd!('run, self.mem.load(addr, 2)) as u16 as i16 as i32 as u32;
                }
                Op::Loadxu16 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let addr = r[B!()].wrapping_add(r[C!()]);
                    r[A!()] = rd!('run, self.mem.load(addr, 2));
                }
                Op::Storex | Op::Storex32 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(r[C!()]));
                    wr!('run, self.mem.store(addr, 4, v));
                }
                Op::Storex8 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(r[C!()]));
                    wr!('run, self.mem.store(addr, 1, v));
                }
                Op::Storex16 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(r[C!()]));
                    wr!('run, self.mem.store(addr, 2, v));
                }
                // CMPJUMP*: one arm per condition, so no second dispatch.
                Op::CmpjumpG => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) > (y as i32) {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpGe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) >= (y as i32) {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpE => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x == y {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpNe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x != y {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpLe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) <= (y as i32) {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpL => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) < (y as i32) {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpuG => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x > y {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpuGe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x >= y {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpuLe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x <= y {
                        pc = r[C!()];
                    }
                }
                Op::CmpjumpuL => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x < y {
                        pc = r[C!()];
                    }
                }
                // ---- 2OP
                Op::Neg => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_neg();
                }
                Op::Abs => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let v = r[B!()];
                    r[A!()] = if (v as i32) >= 0 { v } else { v.wrapping_neg() };
                }
                Op::Nabs => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let v = r[B!()];
                    r[A!()] = if (v as i32) < 0 { v } else { v.wrapping_neg() };
                }
                Op::Swap => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (va, vb) = (r[A!()], r[B!()]);
                    r[B!()] = va;
                    r[A!()] = vb;
                }
                Op::Copy => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()];
                }
                Op::Move => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = r[B!()];
                    r[B!()] = 0;
                }
                Op::Not => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = !r[B!()];
                }
                Op::Branch => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (target, at) = (r[A!()], r[B!()]);
                    wr!('run, self.mem.store(at, 4, next));
                    pc = target;
                }
                Op::Call => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (ia, ib) = (A!(), B!());
                    let at = r[ib];
                    wr!('run, self.mem.store(at, 4, next));
                    r[ib] = at.wrapping_add(4);
                    pc = r[ia];
                }
                Op::Pushr | Op::Push32 | Op::Push8 | Op::Push16 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let n = match d.op {
                        Op::Push8 => 1,
                        Op::Push16 => 2,
                        _ => 4,
                    };
                    let ib = B!();
                    let (v, at) = (r[A!()], r[ib]);
                    wr!('run, self.mem.store(at, n, v));
                    r[ib] = at.wrapping_add(n);
                }
                Op::Popr
                | Op::Pop8
                | Op::Popu8
                | Op::Pop16
                | Op::Popu16
                | Op::Pop32
                | Op::Popu32 => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let n = match d.op {
                        Op::Pop8 | Op::Popu8 => 1,
                        Op::Pop16 | Op::Popu16 => 2,
                        _ => 4,
                    };
                    let (ia, op) = (A!(), d.op);
                    let at = r[B!()].wrapping_sub(n);
                    r[B!()] = at;
                    let raw = rd!('run, self.mem.load(at, n));
                    wr!('run, self.mem.store(at, n, 0));
                    r[ia] = match op {
                        Op::Pop8 => raw as u8 as i8 as i32 as u32,
                        Op::Pop16 => raw as u16 as i16 as i32 as u32,
                        _ => raw,
                    };
                }
                // CMPSKIP*
                Op::CmpskipG => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) > (y as i32) {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipGe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) >= (y as i32) {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipE => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x == y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipNe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x != y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipLe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) <= (y as i32) {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipL => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) < (y as i32) {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipuG => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x > y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipuGe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x >= y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipuLe => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x <= y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                Op::CmpskipuL => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x < y {
                        match skip(&self.mem, next, steps) {
                            Ok(to) => pc = to,
                            Err(e) => break 'run Err(e),
                        }
                    }
                }
                // CMPSKIPI*: E/NE compare with the zero-extended immediate
                Op::CmpskipiG => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if (x as i32) > (imm!() as i32) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipiGe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if (x as i32) >= (imm!() as i32) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipiE => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x == u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipiNe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x != u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipiLe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if (x as i32) <= (imm!() as i32) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipiL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if (x as i32) < (imm!() as i32) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                // CMPSKIPUI*: zero-extended immediate, unsigned
                Op::CmpskipuiG => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x > u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipuiGe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x >= u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipuiLe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x <= u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                Op::CmpskipuiL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[A!()];
                    if x < u32::from(d.imm as u16) {
                        skipi!('run, next);
                    } else {
                        fused_jump!(next);
                    }
                }
                // ---- 1OP
                Op::Readpc => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = next;
                }
                Op::Readscid => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = 2;
                }
                Op::False => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = 0;
                }
                Op::True => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    r[A!()] = u32::MAX;
                }
                Op::JsrCoroutine => {
                    pc = r[A!()];
                }
                Op::Ret | Op::Poppc => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let at = r[A!()].wrapping_sub(4);
                    r[A!()] = at;
                    let target = rd!('run, self.mem.load(at, 4));
                    wr!('run, self.mem.store(at, 4, 0));
                    pc = target;
                }
                Op::Pushpc => {
                    let next = ip.wrapping_add(4);
                    pc = next;
                    let ia = A!();
                    let at = r[ia];
                    wr!('run, self.mem.store(at, 4, next));
                    r[ia] = at.wrapping_add(4);
                }
                // ---- 0OPI
                Op::Jump => {
                    pc = ip.wrapping_add(4).wrapping_add(imm!());
                }
                // ---- 2OPI
                Op::SetG | Op::SetGe | Op::SetE | Op::SetNe | Op::SetLe | Op::SetL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    let hit = match d.op {
                        Op::SetG => f & 4 != 0,
                        Op::SetGe => f & 6 != 0,
                        Op::SetE => f & 2 != 0,
                        Op::SetNe => f & 2 == 0,
                        Op::SetLe => f & 3 != 0,
                        _ => f & 1 != 0,
                    };
                    r[B!()] = if hit { imm!() } else { 0 };
                }
                Op::Addi | Op::Addui => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_add(imm!());
                }
                Op::Subi | Op::Subui => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = r[B!()].wrapping_sub(imm!());
                }
                Op::Cmpi => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[usize::from(d.b & 15)] as i32, imm!() as i32);
                    let f = cmp_bits(x < y, x == y);
                    r[A!()] = f;
                    fused_cmp_jump!(f, next);
                }
                Op::Cmpui => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let x = r[usize::from(d.b & 15)];
                    let f = cmp_bits(x < imm!(), x == imm!());
                    r[A!()] = f;
                    fused_cmp_jump!(f, next);
                }
                Op::Load | Op::Load32 | Op::Loadu32 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let addr = r[B!()].wrapping_add(imm!());
                    r[A!()] = rd!('run, self.mem.load(addr, 4));
                }
                Op::Load8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let addr = r[B!()].wrapping_add(imm!());
                    r[A!()] = rd!('run, self.mem.load(addr, 1)) as u8 as i8 as i32 as u32;
                }
                Op::Loadu8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let addr = r[B!()].wrapping_add(imm!());
                    r[A!()] = rd!('run, self.mem.load(addr, 1));
                }
                Op::Load16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let addr = r[B!()].wrapping_add(imm!());
                    r[A!()] = rd!('run, self.mem.load(addr, 2)) as u16 as i16 as i32 as u32;
                }
                Op::Loadu16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let addr = r[B!()].wrapping_add(imm!());
                    r[A!()] = rd!('run, self.mem.load(addr, 2));
                }
                Op::Store | Op::Store32 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(imm!()));
                    wr!('run, self.mem.store(addr, 4, v));
                }
                Op::Store8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(imm!()));
                    wr!('run, self.mem.store(addr, 1, v));
                }
                Op::Store16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (v, addr) = (r[A!()], r[B!()].wrapping_add(imm!()));
                    wr!('run, self.mem.store(addr, 2, v));
                }
                Op::Andi => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = r[B!()] & imm!();
                }
                Op::Ori => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = r[B!()] | imm!();
                }
                Op::Xori => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = r[B!()] ^ imm!();
                }
                Op::Nandi => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = !(r[B!()] & imm!());
                }
                Op::Nori => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = !(r[B!()] | imm!());
                }
                Op::Xnori => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = !(r[B!()] ^ imm!());
                }
                // CMPJUMPI*
                Op::CmpjumpiG => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) > (y as i32) {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpiGe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) >= (y as i32) {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpiE => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x == y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpiNe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x != y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpiLe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) <= (y as i32) {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpiL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if (x as i32) < (y as i32) {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpuiG => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x > y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpuiGe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x >= y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpuiLe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x <= y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::CmpjumpuiL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (x, y) = (r[A!()], r[B!()]);
                    if x < y {
                        pc = next.wrapping_add(imm!());
                    }
                }
                // ---- 1OPI
                // JUMP.*: one arm per condition.
                Op::JumpC => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 0x20 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpB => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 0x10 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpO => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 0x08 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpG => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 4 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpGe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 6 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpE => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 2 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpNe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 2 == 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpLe => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 3 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpL => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f & 1 != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpZ => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f == 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpNz => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if f != 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpP => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if (f as i32) >= 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::JumpNp => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let f = r[A!()];
                    if (f as i32) < 0 {
                        pc = next.wrapping_add(imm!());
                    }
                }
                Op::Calli => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let (ia, target) = (A!(), next.wrapping_add(imm!()));
                    let at = r[ia];
                    wr!('run, self.mem.store(at, 4, next));
                    r[ia] = at.wrapping_add(4);
                    pc = target;
                }
                Op::Loadi | Op::Loadui => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = imm!();
                    // Fused with the FGETC/FPUTC after it (R1 = a tape): that HALCODE runs
                    // now as the next step when its fast path applies (and the JUMP.NP R0
                    // after an FGETC as the step after), each within the step limit.
                    if !TRACE && d.b != 0 && !posix && (!LIMITED || steps < limit) {
                        let tape = imm!() as usize & 1;
                        if d.b == 3 {
                            if dev.putc_fast(tape, r[0] as u8) {
                                steps += 1;
                                pc = next.wrapping_add(4);
                            }
                        } else if let Some(v) = dev.getc_fast(tape) {
                            r[0] = v;
                            steps += 1;
                            pc = next.wrapping_add(4);
                            if d.b == 2 && (!LIMITED || steps < limit) {
                                steps += 1;
                                pc = pc.wrapping_add(6);
                                if (v as i32) < 0 {
                                    let disp = i16::from_le_bytes([d.c, d.d]) as i32 as u32;
                                    pc = pc.wrapping_add(disp);
                                }
                            }
                        }
                    }
                }
                Op::Sali => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] <<= imm!() & 31;
                }
                Op::Sari => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] >>= imm!() & 31;
                }
                Op::Sl0i => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = sl0(r[A!()], imm!());
                }
                Op::Sr0i => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = sr0(r[A!()], imm!());
                }
                Op::Sl1i => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = sl1(r[A!()], imm!());
                }
                Op::Sr1i => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = sr1(r[A!()], imm!());
                }
                Op::Loadr | Op::Loadr32 | Op::Loadru32 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = rd!('run, self.mem.load(next.wrapping_add(imm!()), 4));
                }
                Op::Loadr8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = rd!('run, self.mem.load(next.wrapping_add(imm!()), 1)) as u8 as i8
                        as i32 as u32;
                }
                Op::Loadru8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = rd!('run, self.mem.load(next.wrapping_add(imm!()), 1));
                }
                Op::Loadr16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = rd!('run, self.mem.load(next.wrapping_add(imm!()), 2)) as u16 as i16
                        as i32 as u32;
                }
                Op::Loadru16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    r[A!()] = rd!('run, self.mem.load(next.wrapping_add(imm!()), 2));
                }
                Op::Storer | Op::Storer32 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let v = r[A!()];
                    wr!('run, self.mem.store(next.wrapping_add(imm!()), 4, v));
                }
                Op::Storer8 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let v = r[A!()];
                    wr!('run, self.mem.store(next.wrapping_add(imm!()), 1, v));
                }
                Op::Storer16 => {
                    let next = ip.wrapping_add(6);
                    pc = next;
                    let v = r[A!()];
                    wr!('run, self.mem.store(next.wrapping_add(imm!()), 2, v));
                }
            }
            if TRACE {
                self.trace_line(ip, &traced, &before, lo16(&r), io);
            }
        };
        self.regs = *lo16(&r);
        self.ip = pc;
        self.steps = steps;
        result
    }

    /// Executes POSIX-mode HALCODE `code`; `Some(stop)` ends the run (exit).
    fn posix_call(&mut self, ip: u32, code: u32, io: &mut Io) -> Result<Option<Stop>, Fault> {
        let known = crate::isa::POSIX_HALCODES.iter().any(|&(c, _)| c == code);
        if !known {
            return Err(invalid_halcode(&self.mem, self.steps, ip));
        }
        crate::posix::call(self, code, io)
    }

    #[cold]
    fn trace_line(&self, ip: u32, d: &Decoded, before: &[u32; 16], regs: &[u32; 16], io: &mut Io) {
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
        // The registers the instruction writes (in write order), with their new values;
        // for HALCODE, whose writes depend on the service, the registers it changed.
        let mut wrote = Vec::new();
        if d.op == Op::Halcode {
            for (k, (old, new)) in before.iter().zip(regs.iter()).enumerate() {
                if old != new {
                    wrote.push(format!("R{k}={new:08X}"));
                }
            }
        } else {
            let fields = [d.a, d.b, d.c, d.d];
            for &f in d.op.writes() {
                let k = usize::from(fields[f] & 15);
                let entry = format!("R{k}={:08X}", regs[k]);
                if !wrote.contains(&entry) {
                    wrote.push(entry);
                }
            }
        }
        if !wrote.is_empty() {
            line.push_str("  ; ");
            line.push_str(&wrote.join(" "));
        }
        let _ = writeln!(io.stderr, "{line}");
    }
}

/// Executes native HALCODE `code` (devices); never ends the run normally.
#[inline(never)]
fn native_halcode(
    r: &mut [u32; 16],
    mem: &Mem,
    steps: u64,
    ip: u32,
    code: u32,
    dev: &mut Devices,
    io: &mut Io,
) -> Result<(), Box<Fault>> {
    let dev_err = |e: DeviceError| {
        Box::new(match e {
            DeviceError::NotValid(t, c) => Fault::TapeNotValid(t, c),
            DeviceError::Missing(n) => Fault::TapeMissing(n),
            DeviceError::Io(m) => Fault::Io(m),
        })
    };
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
                    .map_err(|e| Box::new(Fault::Io(format!("cannot write the TTY: {e}"))))?;
            }
        }
        0x110000 => r[0] = mem.size(),
        _ => return Err(Box::new(invalid_halcode(mem, steps, ip))),
    }
    Ok(())
}

#[cold]
fn invalid_halcode(mem: &Mem, steps: u64, ip: u32) -> Fault {
    Fault::InvalidHalcode {
        steps,
        ip,
        word: mem.word(ip),
    }
}

#[cold]
fn mem_fault(steps: u64, e: OutOfWorld, write: bool) -> Fault {
    Fault::Outside {
        steps,
        shown: e.shown,
        second: e.second,
        write,
    }
}

#[cold]
fn div_overflow(steps: u64, name: &'static str, ip: u32) -> Fault {
    Fault::DivideOverflow { name, steps, ip }
}

/// CMPSKIP: the address after skipping the instruction at `next` (6 bytes if it starts
/// with E0/E1, else 4).
#[inline(always)]
fn skip(mem: &Mem, next: u32, steps: u64) -> Result<u32, Fault> {
    match mem.bytes.get(next as usize) {
        Some(&b0) => Ok(next.wrapping_add(Group::len_of_prefix(b0))),
        None => Err(Fault::SkipOutside { steps, ip: next }),
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

#[cfg(test)]
mod tests {
    use crate::asm::Builder;
    use crate::isa::Op::*;
    use crate::{run_with_tapes, Config, Fault, Stop};

    fn run(b: &Builder, config: &Config) -> Result<crate::TapeRun, Fault> {
        run_with_tapes(&b.finish().unwrap(), b"", config)
    }

    #[test]
    fn max_steps_stops_a_runaway_loop() {
        let mut b = Builder::new();
        b.label("l").to(Jump, &[], "l");
        let config = Config {
            max_steps: Some(1000),
            ..Config::default()
        };
        let f = run(&b, &config).unwrap_err();
        assert_eq!(f, Fault::MaxSteps { steps: 1000, ip: 0 });
        assert!(f.to_string().contains("--max-steps"));
    }

    #[test]
    fn fused_cmpskipi_jump_counts_two_steps_and_honours_max_steps() {
        // CMPSKIPI.E R0 1 fails (R0 = 0), so the JUMP runs: two steps per iteration.
        let mut b = Builder::new();
        b.label("l").op(CmpskipiE, &[0], 1).to(Jump, &[], "l");
        for (limit, ip) in [(1000, 0), (1001, 6)] {
            let config = Config {
                max_steps: Some(limit),
                ..Config::default()
            };
            let f = run(&b, &config).unwrap_err();
            assert_eq!(f, Fault::MaxSteps { steps: limit, ip });
        }
        // The condition holds: the JUMP is skipped (one step) and HALT follows.
        let mut b = Builder::new();
        b.op(CmpskipiE, &[0], 0)
            .to(Jump, &[], "away")
            .op(Halt, &[], 0)
            .label("away")
            .op(Halt, &[], 0);
        let run = run(&b, &Config::default()).unwrap();
        assert_eq!((run.stop, run.steps), (Stop::Halt, 2));
    }

    #[test]
    fn fused_cmpi_jump_cond_takes_the_same_paths() {
        // R0 = 5; CMPI R2 R0 k; JUMP.cond R2 "yes"; HALT (2 bytes of steps apart).
        for (cond, k, taken) in [
            (JumpE, 5, true),
            (JumpE, 6, false),
            (JumpNe, 6, true),
            (JumpL, 6, true),
            (JumpG, 6, false),
            (JumpGe, 5, true),
            (JumpLe, 4, false),
            (JumpNz, 0, true),
            (JumpZ, 0, false),
            (JumpP, 9, true),
            (JumpNp, 9, false),
        ] {
            for op in [Cmpi, Cmpui, Cmp, Cmpu] {
                let mut b = Builder::new();
                b.op(Loadui, &[0], 5).op(Loadui, &[1], k);
                if matches!(op, Cmp | Cmpu) {
                    b.op(op, &[2, 0, 1], 0);
                } else {
                    b.op(op, &[2, 0], k);
                }
                b.to(cond, &[2], "yes")
                    .op(Halt, &[], 0)
                    .label("yes")
                    .op(Nop, &[], 0)
                    .op(Halt, &[], 0);
                let run = run(&b, &Config::default()).unwrap();
                assert_eq!(run.steps, if taken { 6 } else { 5 }, "{op:?} {cond:?} {k}");
                for limit in [3, 4] {
                    let config = Config {
                        max_steps: Some(limit),
                        ..Config::default()
                    };
                    match run_with_tapes(&b.finish().unwrap(), b"", &config) {
                        Err(Fault::MaxSteps { steps, .. }) => assert_eq!(steps, limit),
                        other => panic!("{other:?}"),
                    }
                }
            }
        }
    }

    /// Runs `rom` on `tape` fused (fast) and unfused (`--trace`) with every step limit up
    /// to the full run and one beyond: the results (fault with steps and ip, or the tape,
    /// steps and stop) must be the same.
    fn same_fused_and_traced_at_every_limit(rom: &[u8], tape: &[u8], up_to: u64) {
        for limit in 1..=up_to {
            let fused = Config {
                max_steps: Some(limit),
                ..Config::default()
            };
            let traced = Config {
                trace: true,
                ..fused.clone()
            };
            assert_eq!(
                run_with_tapes(rom, tape, &fused),
                run_with_tapes(rom, tape, &traced),
                "limit {limit}"
            );
        }
    }

    #[test]
    fn fused_runs_match_traced_runs_at_every_step_limit() {
        let tape = b"# c 12\n4a 3B ; x 9\nfF 00\n01 7e\n";
        let seed = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../seeds/knight/hex0.rom"
        ))
        .unwrap();
        for rom in [crate::asm::hex0_decoder(), seed] {
            let full = run_with_tapes(&rom, tape, &Config::default()).unwrap();
            assert_eq!(full.tape_02, [0x4A, 0x3B, 0xFF, 0, 1, 0x7E]);
            same_fused_and_traced_at_every_limit(&rom, tape, full.steps + 1);
        }
    }

    #[test]
    fn overwriting_a_fused_fgetc_invalidates_the_loadui() {
        // LOADUI R1 tape_01; FGETC; JUMP.NP R0 done; then the FGETC is overwritten with a
        // NOP: from the second pass on the loop never reads (and never ends).
        let mut b = Builder::new();
        b.op(Loadui, &[0], 0x1100)
            .op(Halcode, &[], 0x100000)
            .label("top")
            .op(Loadui, &[1], 0x1100)
            .label("getc")
            .op(Halcode, &[], 0x100100)
            .to(JumpNp, &[0], "done")
            .to(Loadr, &[2], "nop")
            .to(Storer, &[2], "getc")
            .to(Jump, &[], "top")
            .label("done")
            .op(Halt, &[], 0)
            .label("nop")
            .op(Nop, &[], 0);
        let rom = b.finish().unwrap();
        same_fused_and_traced_at_every_limit(&rom, b"abc", 60);
        let config = Config {
            max_steps: Some(1000),
            ..Config::default()
        };
        let f = run_with_tapes(&rom, b"abc", &config).unwrap_err();
        assert!(matches!(f, Fault::MaxSteps { steps: 1000, .. }), "{f:?}");
    }

    #[test]
    fn overwriting_a_fused_jump_invalidates_the_cmpskipi() {
        // First pass: CMPSKIPI.NE fails, its fused JUMP goes to "a", which overwrites the
        // JUMP (at 4) with a NOP; second pass: CMPSKIPI.NE, NOP, HALT.
        let mut b = Builder::new();
        b.label("top").op(CmpskipiNe, &[0], 0);
        let jump_at = b.here() as i32;
        b.to(Jump, &[], "a")
            .op(Halt, &[], 0)
            .label("a")
            .op(Addi, &[1, 1], 1)
            .op(False, &[2], 0);
        let store_at = b.here() as i32;
        let store_len = 6;
        b.op(Storer, &[2], jump_at - (store_at + store_len))
            .to(Jump, &[], "top");
        assert_eq!(b.here() as i32 - store_at, store_len + 4);
        let config = Config {
            max_steps: Some(100),
            ..Config::default()
        };
        let run = run(&b, &config).unwrap();
        assert_eq!((run.stop, run.steps), (Stop::Halt, 9));
    }

    #[test]
    fn int_min_divided_by_minus_one_is_a_clean_fault() {
        for op in [Div, Mod] {
            let mut b = Builder::new();
            b.op(Loadui, &[1], 0x7FFF) // R1 = 0x7FFF, then build 0x80000000
                .op(Loadui, &[1], 1)
                .op(Sali, &[1], 31)
                .op(Loadi, &[2], -1)
                .op(op, &[3, 1, 2], 0)
                .op(Halt, &[], 0);
            let f = run(&b, &Config::default()).unwrap_err();
            assert!(
                matches!(
                    f,
                    Fault::DivideOverflow {
                        steps: 5,
                        ip: 24,
                        ..
                    }
                ),
                "{f:?}"
            );
        }
    }

    #[test]
    fn self_modifying_store_invalidates_the_decoded_instruction() {
        // The loop body's ADDI R1 R1 1 is executed once, then overwritten with HALT.
        let mut b = Builder::new();
        b.label("body")
            .op(Addi, &[1, 1], 1)
            .op(Loadr, &[2], 10) // R2 = the HALT word below
            .op(Storer, &[2], -18) // over "body"
            .to(Jump, &[], "body")
            .op(Halt, &[], 0);
        let run = run(&b, &Config::default()).unwrap();
        assert_eq!(run.stop, Stop::Halt);
        assert_eq!(run.steps, 5);
    }

    #[test]
    fn posix_exit_status_and_write() {
        // write(1, "hi", 2); exit(7)
        let mut b = Builder::new();
        b.op(Loadui, &[0], 1)
            .op(Loadui, &[1], 0x40)
            .op(Loadui, &[2], 2)
            .op(Halcode, &[], 0x000001)
            .op(Loadui, &[0], 0x107)
            .op(Halcode, &[], 0x00003C);
        while b.here() < 0x40 {
            b.op(Nop, &[], 0);
        }
        b.bytes(b"hi");
        let config = Config {
            posix: true,
            ..Config::default()
        };
        let run = run(&b, &config).unwrap();
        assert_eq!(run.stop, Stop::Exit(7));
        assert_eq!(run.tty_out, b"hi");
    }

    #[test]
    fn sandbox_refuses_escapes() {
        let dir = std::env::temp_dir().join(format!("hexroot-vm-sandbox-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut p = crate::posix::Posix::new(Some(dir.clone()));
        assert!(p.resolve_for_test(b"../x").is_none());
        assert!(p.resolve_for_test(b"a/../../x").is_none());
        let inside = p.resolve_for_test(b"/etc/passwd").unwrap();
        assert!(inside.starts_with(dir.canonicalize().unwrap()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn quirks_mulh_sar_rol() {
        let mut b = Builder::new();
        b.op(Loadi, &[1], -2)
            .op(Loadi, &[2], 3)
            .op(Mulh, &[3, 1, 2], 0)
            .op(Sar, &[4, 1, 2], 0)
            .op(Loadi, &[5], 1)
            .op(Rol, &[6, 5, 5], 0)
            .op(Multiply, &[7, 8, 1, 2], 0)
            .op(Halt, &[], 0);
        let rom = b.finish().unwrap();
        let mut m = crate::Machine::new(&rom, &Config::default()).unwrap();
        let mut dev = crate::Devices::new(crate::TapeStore::Memory([None, None]));
        let (mut i, mut o, mut e): (&[u8], Vec<u8>, Vec<u8>) = (&[], vec![], vec![]);
        let mut io = crate::Io {
            stdin: &mut i,
            stdout: &mut o,
            stderr: &mut e,
        };
        assert_eq!(m.run(&mut dev, &mut io), Ok(Stop::Halt));
        assert_eq!(m.regs[3], 0, "MULH is always 0");
        assert_eq!(m.regs[4], 0xFFFF_FFFE >> 3, "SAR is logical");
        assert_eq!(m.regs[6], 0x8000_0000, "ROL rotates right");
        assert_eq!(
            (m.regs[7], m.regs[8]),
            (0xFFFF_FFFA, 0),
            "MULTIPLY high truncates"
        );
    }
}
