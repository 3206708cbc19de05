//! Guest memory: a byte array of exactly the configured size, big-endian, with the
//! reference's bounds rule on every data access (`addr >= size` → Address_1, `addr + n >=
//! size` → Address_2: a fault, never a host panic), and the pre-decoded slots of the code
//! in it (see `predecode`), which every store that may overlap them invalidates.

use super::form::{Form, Slot, SLOT_SPAN};
use super::subroutine::{ListWalk, StringMatch};
use crate::isa::{decode, DecodeError, Group, Instr};

/// Addresses below this have pre-decode slots; code above it runs through the plain
/// step (correct, slower).
const CACHE_LIMIT: usize = 1 << 20;

/// Memory and its pre-decoded slots (one per byte address).
pub(crate) struct Mem {
    pub bytes: Vec<u8>,
    /// Grown on demand up to `slot_limit` (so a large memory costs nothing up front).
    pub(super) slots: Vec<Slot>,
    pub(super) slot_limit: usize,
    /// One past the highest address any slot may depend on: stores at or above it cannot
    /// touch decoded code, so they skip invalidation.
    pub(super) code_end: u32,
    /// The fused subroutines the `StringMatch` slots name (one per entry address).
    pub(super) routines: Vec<StringMatch>,
    /// The list walks the `ListWalk` slots name.
    pub(super) walks: Vec<ListWalk>,
}

/// A data access outside memory: the address to show, Address_2 or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OutOfWorld {
    pub shown: u32,
    pub second: bool,
}

impl Mem {
    /// Zeroed memory of `size` bytes.
    pub fn new(size: usize) -> Mem {
        Mem {
            bytes: vec![0; size],
            slots: Vec::new(),
            slot_limit: size.min(CACHE_LIMIT),
            code_end: 0,
            routines: Vec::new(),
            walks: Vec::new(),
        }
    }

    #[inline(always)]
    pub fn size(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// Loads `n` (1, 2 or 4) bytes big-endian, zero-extended.
    #[inline(always)]
    pub fn load(&self, addr: u32, n: u32) -> Result<u32, OutOfWorld> {
        match n {
            1 => self.load_n::<1>(addr).map(|[b]| u32::from(b)),
            2 => self
                .load_n::<2>(addr)
                .map(|b| u32::from(u16::from_be_bytes(b))),
            _ => self.load_n::<4>(addr).map(u32::from_be_bytes),
        }
    }

    /// The `N` bytes at `addr` under the reference's rule (`addr + N < size`): one bounds
    /// check, the range taken one byte longer than the access.
    #[inline(always)]
    fn load_n<const N: usize>(&self, addr: u32) -> Result<[u8; N], OutOfWorld> {
        let i = addr as usize;
        match self
            .bytes
            .get(i..=i.saturating_add(N))
            .and_then(|s| s.first_chunk::<N>())
        {
            Some(b) => Ok(*b),
            None => Err(out_of_world(addr, N as u32, self.size())),
        }
    }

    /// Stores the low `n` bytes of `value` big-endian.
    #[inline(always)]
    pub fn store(&mut self, addr: u32, n: u32, value: u32) -> Result<(), OutOfWorld> {
        let be = value.to_be_bytes();
        match n {
            1 => self.store_n::<1>(addr, [be[3]]),
            2 => self.store_n::<2>(addr, [be[2], be[3]]),
            _ => self.store_n::<4>(addr, be),
        }
    }

    #[inline(always)]
    fn store_n<const N: usize>(&mut self, addr: u32, data: [u8; N]) -> Result<(), OutOfWorld> {
        let i = addr as usize;
        let size = self.size();
        match self
            .bytes
            .get_mut(i..=i.saturating_add(N))
            .and_then(|s| s.first_chunk_mut::<N>())
        {
            Some(b) => *b = data,
            None => return Err(out_of_world(addr, N as u32, size)),
        }
        self.invalidate(addr, N as u32);
        Ok(())
    }

    /// Whether `[addr, addr + n)` may be loaded and stored word by word (`n` a multiple
    /// of 4) under the reference's rule and holds no decoded code.
    #[inline(always)]
    pub fn clear_of_code(&self, addr: u32, n: u32) -> bool {
        addr >= self.code_end && u64::from(addr) + u64::from(n) < u64::from(self.size())
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
        // A slot depends on its own bytes and, when fused, on the instructions after it
        // (up to SLOT_SPAN bytes in all).
        let lo = addr.saturating_sub(SLOT_SPAN - 1) as usize;
        let hi = (addr as usize + n as usize).min(self.slots.len());
        for slot in self.slots.get_mut(lo..hi).unwrap_or(&mut []) {
            slot.form = Form::Empty;
        }
    }

    /// The instruction at `ip` (known `< size`): `Ok(None)` if the reference rejects it
    /// as illegal, `Err` if it runs past the end of memory.
    pub fn decode_at(&self, ip: u32) -> Result<Option<Instr>, DecodeError> {
        let i = ip as usize;
        match decode(&self.bytes[i..]) {
            Ok(instr) => Ok(Some(instr)),
            Err(DecodeError::Illegal) => Ok(None),
            Err(DecodeError::Truncated) => {
                // An illegal first byte with fewer than 4 bytes left is still illegal.
                if Group::from_prefix(self.bytes[i]).is_none() && self.bytes.len() - i >= 4 {
                    Ok(None)
                } else {
                    Err(DecodeError::Truncated)
                }
            }
        }
    }

    /// The first four bytes at `ip` as a big-endian word (for messages; 0 if fewer).
    pub fn word(&self, ip: u32) -> u32 {
        // Bytes past the end of memory read as zero, as the reference's allocation gives.
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

impl crate::posix::GuestMemory for Mem {
    fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn write_bytes(&mut self, addr: u32, data: &[u8]) {
        Mem::write_bytes(self, addr, data);
    }
}
