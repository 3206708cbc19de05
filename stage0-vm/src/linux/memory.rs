//! The guest address space of a Linux user-mode process: a few mapped regions (the ELF
//! segments with the heap after them, the stack), each a zero-filled byte vector,
//! addressed little-endian as on every architecture this machine emulates.
//!
//! This module owns address translation and bounds checks only: every access outside a
//! mapped region is a [`MemFault`], never a panic. Permissions are not modelled (the
//! chains' segments are read-write-execute). Region sizes are the guest's own (what it
//! mapped or grew with brk), so guest memory costs what it allocated plus a small constant.

/// An access outside every mapped region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemFault {
    /// The first byte address of the access.
    pub addr: u64,
    /// The access width in bytes.
    pub len: u8,
    /// A store (true) or a load or fetch (false).
    pub write: bool,
}

/// One mapped region: `bytes[i]` is the byte at guest address `base + i`.
#[derive(Debug)]
struct Region {
    base: u64,
    bytes: Vec<u8>,
}

/// The granule of [`Region`]'s copy.
const PAGE: usize = 4096;
static ZERO_PAGE: [u8; PAGE] = [0; PAGE];

impl Clone for Region {
    /// Copies only the pages that are not all zero into a fresh zeroed vector (which the
    /// allocator gets lazily from the kernel): forking a process whose 8 MiB stack is
    /// mostly untouched then costs what it used, not 8 MiB of writes.
    fn clone(&self) -> Region {
        let mut bytes = vec![0u8; self.bytes.len()];
        for (dst, src) in bytes.chunks_mut(PAGE).zip(self.bytes.chunks(PAGE)) {
            if src != &ZERO_PAGE[..src.len()] {
                dst.copy_from_slice(src);
            }
        }
        Region {
            base: self.base,
            bytes,
        }
    }
}

impl Region {
    #[inline]
    fn offset(&self, addr: u64, len: u64) -> Option<usize> {
        let off = addr.wrapping_sub(self.base);
        if off < self.bytes.len() as u64 && len <= self.bytes.len() as u64 - off {
            Some(off as usize)
        } else {
            None
        }
    }
}

/// The guest address space.
#[derive(Clone, Debug, Default)]
pub struct Memory {
    /// Sorted by base, never overlapping.
    regions: Vec<Region>,
    /// The region of the last successful access, tried first (a guest's loads and stores
    /// run in long streaks on one region: the stack, the heap).
    hint: Cell<usize>,
    /// The region the hint pointed at before, tried second: compiled code alternates
    /// between two regions (locals on the stack, objects on the heap or in the globals).
    prev: Cell<usize>,
}

/// Why [`Memory::map`] or [`Memory::resize`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The range overlaps a mapped region or wraps around the address space.
    Overlap,
    /// No region starts at the given base.
    NoRegion,
    /// The size exceeds [`MAX_REGION`].
    TooLarge,
}

/// The largest region the machine maps (1 GiB): a guest asking for more is refused as the
/// kernel would refuse an allocation it cannot back, instead of exhausting the host.
pub const MAX_REGION: u64 = 1 << 30;

use std::cell::Cell;

macro_rules! access {
    ($read:ident, $write:ident, $t:ty, $n:expr) => {
        #[doc = concat!("Loads a little-endian `", stringify!($t), "` at `addr`.")]
        #[inline(always)]
        pub fn $read(&self, addr: u64) -> Result<$t, MemFault> {
            self.load::<$n>(addr).map(<$t>::from_le_bytes)
        }
        #[doc = concat!("Stores a little-endian `", stringify!($t), "` at `addr`.")]
        #[inline(always)]
        pub fn $write(&mut self, addr: u64, value: $t) -> Result<(), MemFault> {
            self.store::<$n>(addr, value.to_le_bytes())
        }
    };
}

/// The `N` bytes of `r` at guest address `addr`, if they all lie in it.
#[inline(always)]
fn window<const N: usize>(r: &Region, addr: u64) -> Option<&[u8; N]> {
    let off = usize::try_from(addr.wrapping_sub(r.base)).ok()?;
    r.bytes.get(off..off.checked_add(N)?)?.try_into().ok()
}

/// [`window`], writable.
#[inline(always)]
fn window_mut<const N: usize>(r: &mut Region, addr: u64) -> Option<&mut [u8; N]> {
    let off = usize::try_from(addr.wrapping_sub(r.base)).ok()?;
    r.bytes.get_mut(off..off.checked_add(N)?)?.try_into().ok()
}

impl Memory {
    /// An empty address space.
    pub fn new() -> Memory {
        Memory::default()
    }

    /// Maps `len` zero bytes at `base`.
    pub fn map(&mut self, base: u64, len: u64) -> Result<(), MapError> {
        if len > MAX_REGION {
            return Err(MapError::TooLarge);
        }
        let end = base.checked_add(len).ok_or(MapError::Overlap)?;
        if self
            .regions
            .iter()
            .any(|r| base < r.base + r.bytes.len() as u64 && r.base < end)
        {
            return Err(MapError::Overlap);
        }
        let at = self.regions.partition_point(|r| r.base < base);
        self.regions.insert(
            at,
            Region {
                base,
                bytes: vec![0; len as usize],
            },
        );
        Ok(())
    }

    /// Grows or shrinks the region that starts at `base` to `len` bytes (new bytes zero).
    pub fn resize(&mut self, base: u64, len: u64) -> Result<(), MapError> {
        if len > MAX_REGION {
            return Err(MapError::TooLarge);
        }
        let i = self
            .regions
            .iter()
            .position(|r| r.base == base)
            .ok_or(MapError::NoRegion)?;
        let end = base.checked_add(len).ok_or(MapError::Overlap)?;
        if let Some(next) = self.regions.get(i + 1) {
            if end > next.base {
                return Err(MapError::Overlap);
            }
        }
        self.regions[i].bytes.resize(len as usize, 0);
        Ok(())
    }

    /// The length of the region that starts at `base`, if one does.
    pub fn region_len(&self, base: u64) -> Option<u64> {
        self.regions
            .iter()
            .find(|r| r.base == base)
            .map(|r| r.bytes.len() as u64)
    }

    /// Total bytes mapped.
    pub fn mapped_bytes(&self) -> u64 {
        self.regions.iter().map(|r| r.bytes.len() as u64).sum()
    }

    /// The `N` bytes at `addr`: the fast path of every load (the hinted region first,
    /// one bounds check), any other region through `Memory::search`.
    #[inline(always)]
    pub fn load<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemFault> {
        if let Some(b) = self
            .regions
            .get(self.hint.get())
            .and_then(|r| window::<N>(r, addr))
        {
            return Ok(*b);
        }
        self.load_slow(addr)
    }

    #[cold]
    #[inline(never)]
    fn load_slow<const N: usize>(&self, addr: u64) -> Result<[u8; N], MemFault> {
        let i = self.search(addr, N as u64, false)?;
        match self.regions.get(i).and_then(|r| window::<N>(r, addr)) {
            Some(b) => Ok(*b),
            None => Err(MemFault {
                addr,
                len: N as u8,
                write: false,
            }),
        }
    }

    /// Stores the `N` bytes `v` at `addr` (the fast path of every store, as [`Memory::load`]).
    #[inline(always)]
    pub fn store<const N: usize>(&mut self, addr: u64, v: [u8; N]) -> Result<(), MemFault> {
        let h = self.hint.get();
        if let Some(b) = self
            .regions
            .get_mut(h)
            .and_then(|r| window_mut::<N>(r, addr))
        {
            *b = v;
            return Ok(());
        }
        self.store_slow(addr, v)
    }

    #[cold]
    #[inline(never)]
    fn store_slow<const N: usize>(&mut self, addr: u64, v: [u8; N]) -> Result<(), MemFault> {
        let i = self.search(addr, N as u64, true)?;
        match self
            .regions
            .get_mut(i)
            .and_then(|r| window_mut::<N>(r, addr))
        {
            Some(b) => {
                *b = v;
                Ok(())
            }
            None => Err(MemFault {
                addr,
                len: N as u8,
                write: true,
            }),
        }
    }

    #[inline]
    fn locate_index(&self, addr: u64, len: u64, write: bool) -> Result<usize, MemFault> {
        let hint = self.hint.get();
        if let Some(r) = self.regions.get(hint) {
            if r.offset(addr, len).is_some() {
                return Ok(hint);
            }
        }
        self.search(addr, len, write)
    }

    /// The region holding `addr..addr + len`: the previously hinted one first, then every
    /// region in order; the one found becomes the hint.
    #[inline(never)]
    fn search(&self, addr: u64, len: u64, write: bool) -> Result<usize, MemFault> {
        let (hint, prev) = (self.hint.get(), self.prev.get());
        let found = match self.regions.get(prev) {
            Some(r) if r.offset(addr, len).is_some() => Some(prev),
            _ => self
                .regions
                .iter()
                .position(|r| r.offset(addr, len).is_some()),
        };
        match found {
            Some(i) => {
                if i != hint {
                    self.prev.set(hint);
                    self.hint.set(i);
                }
                Ok(i)
            }
            None => Err(MemFault {
                addr,
                len: len as u8,
                write,
            }),
        }
    }

    #[inline]
    fn locate(&self, addr: u64, len: u64, write: bool) -> Result<(&Region, usize), MemFault> {
        let i = self.locate_index(addr, len, write)?;
        let r = &self.regions[i];
        Ok((r, (addr - r.base) as usize))
    }

    access!(read_u8, write_u8, u8, 1);
    access!(read_u16, write_u16, u16, 2);
    access!(read_u32, write_u32, u32, 4);
    access!(read_u64, write_u64, u64, 8);

    /// Loads the little-endian value of `size` bytes (1, 2, 4, or 8 for any other) at
    /// `addr`, zero-extended.
    pub fn read_sized(&self, addr: u64, size: u8) -> Result<u64, MemFault> {
        match size {
            1 => self.read_u8(addr).map(u64::from),
            2 => self.read_u16(addr).map(u64::from),
            4 => self.read_u32(addr).map(u64::from),
            _ => self.read_u64(addr),
        }
    }

    /// Stores the low `size` bytes (1, 2, 4, or 8 for any other) of `value` at `addr`,
    /// little-endian.
    pub fn write_sized(&mut self, addr: u64, size: u8, value: u64) -> Result<(), MemFault> {
        match size {
            1 => self.write_u8(addr, value as u8),
            2 => self.write_u16(addr, value as u16),
            4 => self.write_u32(addr, value as u32),
            _ => self.write_u64(addr, value),
        }
    }

    /// The `len` bytes at `addr`, if they lie in one region (instruction fetch, system call
    /// buffers). A range that spans two adjacent regions is a fault.
    #[inline]
    pub fn slice(&self, addr: u64, len: u64) -> Result<&[u8], MemFault> {
        let (r, off) = self.locate(addr, len, false)?;
        Ok(&r.bytes[off..off + len as usize])
    }

    /// Up to `max` bytes at `addr` that lie in one region (at least one, or a fault):
    /// instruction fetch near the end of a region.
    #[inline]
    pub fn slice_upto(&self, addr: u64, max: u64) -> Result<&[u8], MemFault> {
        let (r, off) = self.locate(addr, 1, false)?;
        let end = (off as u64).saturating_add(max).min(r.bytes.len() as u64) as usize;
        Ok(&r.bytes[off..end])
    }

    /// The `len` bytes at `addr`, writable (system call read buffers, loading).
    pub fn slice_mut(&mut self, addr: u64, len: u64) -> Result<&mut [u8], MemFault> {
        let i = self.locate_index(addr, len, true)?;
        let r = &mut self.regions[i];
        let off = (addr - r.base) as usize;
        Ok(&mut r.bytes[off..off + len as usize])
    }

    /// Up to `max` writable bytes at `addr` that lie in one region (at least one, or a
    /// fault): a `read` into a buffer near the end of a region gets what fits, as the
    /// kernel's partial copy would.
    pub fn slice_upto_mut(&mut self, addr: u64, max: u64) -> Result<&mut [u8], MemFault> {
        let i = self.locate_index(addr, 1, true)?;
        let r = &mut self.regions[i];
        let off = (addr - r.base) as usize;
        let end = (off as u64).saturating_add(max).min(r.bytes.len() as u64) as usize;
        Ok(&mut r.bytes[off..end])
    }

    /// The NUL-terminated string at `addr`, without its NUL, at most `max` bytes long.
    pub fn c_string(&self, addr: u64, max: usize) -> Result<&[u8], MemFault> {
        let bytes = self.slice_upto(addr, max as u64 + 1)?;
        match bytes.iter().position(|&b| b == 0) {
            Some(n) => Ok(&bytes[..n]),
            None => Err(MemFault {
                addr: addr + bytes.len() as u64,
                len: 1,
                write: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain model of an address space: every region searched in order, each access
    /// byte by byte.
    struct Model(Vec<(u64, Vec<u8>)>);

    impl Model {
        fn find(&self, addr: u64, len: u64) -> Option<(usize, usize)> {
            self.0.iter().enumerate().find_map(|(i, (base, bytes))| {
                let off = addr.checked_sub(*base)?;
                (off + len <= bytes.len() as u64).then_some((i, off as usize))
            })
        }
    }

    /// One access: a load or store of 1, 2, 4 or 8 bytes at an address near a region.
    fn access() -> impl Strategy<Value = (bool, u8, u64, u64)> {
        (
            any::<bool>(),
            prop_oneof![Just(1u8), Just(2u8), Just(4u8), Just(8u8)],
            prop_oneof![Just(0x1000u64), Just(0x3000u64), Just(0x8000u64)],
            -12i64..40,
            any::<u64>(),
        )
            .prop_map(|(w, n, base, d, v)| (w, n, base.wrapping_add(d as u64), v))
    }

    proptest! {
        /// The hinted fast path (last region, then the one before, then every region)
        /// gives the same values, stores and faults as the plain search, whatever order
        /// the accesses come in.
        #[test]
        fn fast_accesses_equal_the_plain_model(
            lens in proptest::array::uniform3(0u64..24),
            accesses in proptest::collection::vec(access(), 1..200),
        ) {
            let mut m = Memory::new();
            let mut model = Model(Vec::new());
            for (base, len) in [0x1000u64, 0x3000, 0x8000].into_iter().zip(lens) {
                m.map(base, len).unwrap();
                model.0.push((base, vec![0; len as usize]));
            }
            for (write, n, addr, v) in accesses {
                let len = u64::from(n);
                let want = model.find(addr, len);
                if write {
                    let got = match n {
                        1 => m.write_u8(addr, v as u8),
                        2 => m.write_u16(addr, v as u16),
                        4 => m.write_u32(addr, v as u32),
                        _ => m.write_u64(addr, v),
                    };
                    match want {
                        Some((i, off)) => {
                            prop_assert_eq!(got, Ok(()));
                            model.0[i].1[off..off + n as usize]
                                .copy_from_slice(&v.to_le_bytes()[..n as usize]);
                        }
                        None => prop_assert_eq!(got, Err(MemFault { addr, len: n, write: true })),
                    }
                } else {
                    let got = match n {
                        1 => m.read_u8(addr).map(u64::from),
                        2 => m.read_u16(addr).map(u64::from),
                        4 => m.read_u32(addr).map(u64::from),
                        _ => m.read_u64(addr),
                    };
                    let want = want.map(|(i, off)| {
                        let mut b = [0u8; 8];
                        b[..n as usize].copy_from_slice(&model.0[i].1[off..off + n as usize]);
                        u64::from_le_bytes(b)
                    });
                    prop_assert_eq!(got, want.ok_or(MemFault { addr, len: n, write: false }));
                }
            }
            for (base, bytes) in model.0.iter().filter(|(_, b)| !b.is_empty()) {
                prop_assert_eq!(m.slice(*base, bytes.len() as u64).unwrap(), &bytes[..]);
            }
        }
    }

    #[test]
    fn loads_and_stores_are_little_endian_and_bounded() {
        let mut m = Memory::new();
        m.map(0x1000, 16).unwrap();
        m.write_u32(0x1000, 0x1122_3344).unwrap();
        assert_eq!(m.read_u8(0x1000).unwrap(), 0x44);
        assert_eq!(m.read_u16(0x1002).unwrap(), 0x1122);
        assert!(m.read_u64(0x1009).is_err());
        assert!(m.read_u64(0x1008).is_ok());
        assert_eq!(
            m.read_u8(0xfff),
            Err(MemFault {
                addr: 0xfff,
                len: 1,
                write: false
            })
        );
        assert_eq!(m.map(0x100f, 4), Err(MapError::Overlap));
        m.resize(0x1000, 32).unwrap();
        assert_eq!(m.read_u8(0x101f).unwrap(), 0);
        assert!(m.read_u8(u64::MAX).is_err());
        // A copy is equal byte for byte, zero pages included, and independent.
        m.map(0x10_0000, 3 * 4096 + 5).unwrap();
        m.write_u8(0x10_0000 + 4096 + 7, 9).unwrap();
        m.write_u8(0x10_0000 + 3 * 4096 + 4, 3).unwrap();
        let mut c = m.clone();
        assert_eq!(
            c.slice(0x10_0000, 3 * 4096 + 5).unwrap(),
            m.slice(0x10_0000, 3 * 4096 + 5).unwrap()
        );
        assert_eq!(c.slice(0x1000, 32).unwrap(), m.slice(0x1000, 32).unwrap());
        c.write_u8(0x10_0000, 1).unwrap();
        assert_eq!(m.read_u8(0x10_0000).unwrap(), 0);
    }
}
