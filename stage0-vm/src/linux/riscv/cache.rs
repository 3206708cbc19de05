//! The decoded-code cache: each 4-byte instruction slot of the code the guest runs is
//! decoded once and kept as an [`Inst`], so the interpreter's loop is a lookup and a
//! `match`, not a fetch and a decode.
//!
//! This module owns where decoded instructions live and when they stop being valid. Code
//! is cached per 4 KiB page in a direct-mapped table of [`TABLE`] pages (a page that
//! collides with another simply replaces it and is decoded again on demand). Every store
//! the guest makes reaches [`CodeWatch::stored`], which empties the slots it overwrote, so
//! self-modifying code runs as on hardware; writes the kernel makes on the guest's behalf
//! (system calls) are handled by the caller through [`CodeCache::invalidate`] and
//! [`CodeCache::flush`]. A slot is either empty ([`super::decode::Op::NotDecoded`]) or holds
//! exactly `decode` of the word now in memory at its address, or the [`super::fuse`]d form
//! of that word and the next one in the same page (so emptying a word's slot also empties
//! the slot before it).

use super::decode::Inst;
use super::exec::CodeWatch;

/// Bytes per cached page, as a shift.
const PAGE_SHIFT: u32 = 12;
/// Instruction slots per page.
const SLOTS: usize = 1 << (PAGE_SHIFT - 2);
/// Pages held at once (direct-mapped by page number).
pub const TABLE: usize = 256;
/// A table entry that holds no page.
const EMPTY: u64 = u64::MAX;

/// Decoded instructions of the pages the guest executed from.
#[derive(Clone, Debug)]
pub struct CodeCache {
    /// The page number held by each table entry, or [`EMPTY`].
    tags: Vec<u64>,
    /// The first slot of each table entry's page in `slots`, once allocated.
    chunk: Vec<Option<usize>>,
    /// The slots of every allocated page, [`SLOTS`] per page.
    slots: Vec<Inst>,
    /// One past the highest page number ever cached (0 if none).
    top: u64,
}

impl Default for CodeCache {
    fn default() -> Self {
        CodeCache {
            tags: vec![EMPTY; TABLE],
            chunk: vec![None; TABLE],
            slots: Vec::new(),
            top: 0,
        }
    }
}

impl CodeCache {
    /// The page number of an address.
    #[inline(always)]
    pub fn page_of(addr: u64) -> u64 {
        addr >> PAGE_SHIFT
    }

    /// The index in `CodeCache::slots` of the first slot of `page`, installing the page
    /// (all slots empty) if the table does not hold it.
    #[inline]
    pub fn page_base(&mut self, page: u64) -> usize {
        let t = (page as usize) & (TABLE - 1);
        if self.tags[t] != page {
            self.install(t, page);
        }
        self.chunk[t].unwrap_or(0)
    }

    #[cold]
    fn install(&mut self, t: usize, page: u64) {
        match self.chunk[t] {
            Some(c) => self.slots[c..c + SLOTS].fill(Inst::NOT_DECODED),
            None => {
                self.chunk[t] = Some(self.slots.len());
                self.slots
                    .resize(self.slots.len() + SLOTS, Inst::NOT_DECODED);
            }
        }
        self.tags[t] = page;
        self.top = self.top.max(page.saturating_add(1));
    }

    /// The slot index of `addr` within a page whose first slot is `base`.
    #[inline(always)]
    pub fn slot(base: usize, addr: u64) -> usize {
        base + ((addr >> 2) as usize & (SLOTS - 1))
    }

    /// The instruction in slot `i`.
    #[inline(always)]
    pub fn get(&self, i: usize) -> Inst {
        self.slots[i]
    }

    /// Fills slot `i`.
    #[inline(always)]
    pub fn set(&mut self, i: usize, inst: Inst) {
        self.slots[i] = inst;
    }

    /// Empties every slot overlapping the `len` bytes at `addr`, and the slot before them.
    #[inline]
    pub fn invalidate(&mut self, addr: u64, len: u64) {
        if len == 0 {
            return;
        }
        let last = addr.wrapping_add(len - 1);
        if len > 64 || last < addr {
            return self.invalidate_wide(addr, last);
        }
        // The slot before may hold a pair that ends in these bytes.
        let mut word = (addr >> 2).saturating_sub(1);
        while word <= last >> 2 {
            let page = word >> (PAGE_SHIFT - 2);
            let t = (page as usize) & (TABLE - 1);
            if self.tags[t] == page {
                if let Some(c) = self.chunk[t] {
                    self.slots[c + (word as usize & (SLOTS - 1))] = Inst::NOT_DECODED;
                }
            }
            word += 1;
        }
    }

    /// Invalidation of a long range (a large `read`): drop every cached page it touches.
    #[cold]
    fn invalidate_wide(&mut self, addr: u64, last: u64) {
        let (first, last) = (Self::page_of(addr), Self::page_of(last));
        for tag in self.tags.iter_mut() {
            let hit = if first <= last {
                (first..=last).contains(tag)
            } else {
                *tag >= first || *tag <= last
            };
            if *tag != EMPTY && hit {
                *tag = EMPTY;
            }
        }
    }

    /// Drops every cached page.
    pub fn flush(&mut self) {
        self.tags.fill(EMPTY);
        self.top = 0;
    }

    /// Drops every cached page at or above `addr` (memory there may have been unmapped).
    #[inline]
    pub fn flush_from(&mut self, addr: u64) {
        let first = Self::page_of(addr);
        if first >= self.top {
            return;
        }
        for tag in self.tags.iter_mut() {
            if *tag != EMPTY && *tag >= first {
                *tag = EMPTY;
            }
        }
        self.top = first;
    }
}

impl CodeWatch for CodeCache {
    #[inline(always)]
    fn stored(&mut self, addr: u64, len: u64) {
        let page = Self::page_of(addr);
        let t = (page as usize) & (TABLE - 1);
        let end_page = Self::page_of(addr.wrapping_add(len - 1));
        if self.tags[t] == page || end_page != page {
            self.invalidate(addr, len);
        }
    }
}
