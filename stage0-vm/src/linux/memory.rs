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
#[derive(Clone, Debug)]
struct Region {
    base: u64,
    bytes: Vec<u8>,
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

macro_rules! access {
    ($read:ident, $write:ident, $t:ty, $n:expr) => {
        #[doc = concat!("Loads a little-endian `", stringify!($t), "` at `addr`.")]
        #[inline]
        pub fn $read(&self, addr: u64) -> Result<$t, MemFault> {
            let (r, off) = self.locate(addr, $n, false)?;
            let mut b = [0u8; $n];
            b.copy_from_slice(&r.bytes[off..off + $n]);
            Ok(<$t>::from_le_bytes(b))
        }
        #[doc = concat!("Stores a little-endian `", stringify!($t), "` at `addr`.")]
        #[inline]
        pub fn $write(&mut self, addr: u64, value: $t) -> Result<(), MemFault> {
            let i = self.locate_index(addr, $n, true)?;
            let r = &mut self.regions[i];
            let off = (addr - r.base) as usize;
            r.bytes[off..off + $n].copy_from_slice(&value.to_le_bytes());
            Ok(())
        }
    };
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

    #[inline]
    fn locate_index(&self, addr: u64, len: u64, write: bool) -> Result<usize, MemFault> {
        for (i, r) in self.regions.iter().enumerate() {
            if r.offset(addr, len).is_some() {
                return Ok(i);
            }
        }
        Err(MemFault {
            addr,
            len: len as u8,
            write,
        })
    }

    #[inline]
    fn locate(&self, addr: u64, len: u64, write: bool) -> Result<(&Region, usize), MemFault> {
        for r in &self.regions {
            if let Some(off) = r.offset(addr, len) {
                return Ok((r, off));
            }
        }
        Err(MemFault {
            addr,
            len: len as u8,
            write,
        })
    }

    access!(read_u8, write_u8, u8, 1);
    access!(read_u16, write_u16, u16, 2);
    access!(read_u32, write_u32, u32, 4);
    access!(read_u64, write_u64, u64, 8);

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
    }
}
