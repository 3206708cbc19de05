//! The label table: name -> address and definition site, with a small fast hasher.
//!
//! It owns lookups and "last definition wins" insertion; it does not know how names are
//! scanned. Names are copied into one arena (inputs are streamed, so they cannot borrow).

use std::hash::Hasher;

use crate::source::Loc;

/// An FxHash-style hasher: multiply-rotate over 8-byte words, with a final fold. Fast for short names; not
/// resistant to adversarial collisions (inputs are the user's own programs).
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // The multiply only carries bits upwards, so the low bits (which pick the bucket)
        // would depend on the last word's low bytes alone; fold the high half down.
        let h = self.hash;
        (h ^ (h >> 29) ^ (h >> 47)).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (h >> 32)
    }
}

/// One label: its address and where it was (last) defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelDef {
    /// The absolute address (32-bit, wrapping).
    pub address: u32,
    /// The definition site.
    pub at: Loc,
}

/// An empty index slot.
const EMPTY: u64 = u64::MAX;
/// Bytes of a record's header in the arena: address, file, line, col, name length.
const HEADER: usize = 20;

/// Every label of a link, by name: an open-addressing index (each slot holds the name's
/// 32-bit hash and the offset of its record) into one arena of records, each a 20-byte
/// header (address, file, line, column, name length; little-endian u32s) followed by the
/// name, so a lookup touches one index slot and one record, and no label is a separate
/// allocation.
#[derive(Debug, Clone)]
pub struct LabelTable {
    index: Vec<u64>,
    arena: Vec<u8>,
    count: usize,
}

impl Default for LabelTable {
    fn default() -> Self {
        LabelTable {
            index: vec![EMPTY; 1024],
            arena: Vec::new(),
            count: 0,
        }
    }
}

#[inline]
fn hash_name(name: &[u8]) -> u32 {
    let mut h = FxHasher::default();
    h.write(name);
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

#[inline]
fn word(arena: &[u8], at: usize) -> u32 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&arena[at..at + 4]);
    u32::from_le_bytes(w)
}

/// `a == b` for slices of equal length, inline, eight bytes at a time (names are short:
/// a call to the library's memcmp costs more than the comparison).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let mut wa = a.chunks_exact(8);
    let mut wb = b.chunks_exact(8);
    for (x, y) in (&mut wa).zip(&mut wb) {
        if x.iter().zip(y).fold(0u8, |d, (p, q)| d | (p ^ q)) != 0 {
            return false;
        }
    }
    wa.remainder()
        .iter()
        .zip(wb.remainder())
        .fold(0u8, |d, (p, q)| d | (p ^ q))
        == 0
}

impl LabelTable {
    /// The name and definition of the record at `off`, and the offset of the next record.
    #[inline]
    fn record(&self, off: usize) -> (&[u8], LabelDef, usize) {
        let a = &self.arena;
        let len = word(a, off + 16) as usize;
        let def = LabelDef {
            address: word(a, off),
            at: Loc {
                file: word(a, off + 4),
                line: word(a, off + 8),
                col: word(a, off + 12),
            },
        };
        let name = &a[off + HEADER..off + HEADER + len];
        (name, def, off + HEADER + len)
    }

    #[inline]
    fn name_matches(&self, off: usize, name: &[u8]) -> bool {
        let len = word(&self.arena, off + 16) as usize;
        len == name.len() && same_bytes(&self.arena[off + HEADER..off + HEADER + len], name)
    }

    /// The index slot holding `name`, or the empty slot where it would go.
    #[inline]
    fn slot(&self, name: &[u8], hash: u32) -> usize {
        let mask = self.index.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let k = self.index[i];
            if k == EMPTY {
                return i;
            }
            if (k >> 32) as u32 == hash && self.name_matches(k as u32 as usize, name) {
                return i;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let cap = self.index.len() * 2;
        let old = std::mem::replace(&mut self.index, vec![EMPTY; cap]);
        let mask = cap - 1;
        for k in old.into_iter().filter(|&k| k != EMPTY) {
            let mut i = (k >> 32) as usize & mask;
            while self.index[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.index[i] = k;
        }
    }

    fn write_def(&mut self, off: usize, def: LabelDef) {
        let fields = [def.address, def.at.file, def.at.line, def.at.col];
        for (n, v) in fields.into_iter().enumerate() {
            self.arena[off + 4 * n..off + 4 * n + 4].copy_from_slice(&v.to_le_bytes());
        }
    }

    /// Defines `name`; a later definition replaces an earlier one (the reference's rule).
    #[inline]
    pub fn define(&mut self, name: &[u8], def: LabelDef) {
        self.define_hashed(name, hash_name(name), def);
    }

    /// [`LabelTable::define`] with the name's hash already computed by [`LabelTable::hash`].
    #[inline]
    pub fn define_hashed(&mut self, name: &[u8], hash: u32, def: LabelDef) {
        let i = self.slot(name, hash);
        let k = self.index[i];
        if k != EMPTY {
            self.write_def(k as u32 as usize, def);
            return;
        }
        let off = self.arena.len();
        self.arena.resize(off + HEADER, 0);
        self.write_def(off, def);
        self.arena[off + 16..off + 20].copy_from_slice(&(name.len() as u32).to_le_bytes());
        self.arena.extend_from_slice(name);
        self.index[i] = (u64::from(hash) << 32) | off as u64;
        self.count += 1;
        if self.count * 2 > self.index.len() {
            self.grow();
        }
    }

    /// The definition of `name`, if any.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<LabelDef> {
        self.get_hashed(name, hash_name(name))
    }

    /// The hash [`LabelTable::get_hashed`] and the `touch` methods take for `name`.
    #[inline]
    pub fn hash(name: &[u8]) -> u32 {
        hash_name(name)
    }

    /// [`LabelTable::get`] with the name's hash already computed by [`LabelTable::hash`].
    #[inline]
    pub fn get_hashed(&self, name: &[u8], hash: u32) -> Option<LabelDef> {
        let k = self.index[self.slot(name, hash)];
        (k != EMPTY).then(|| self.record(k as u32 as usize).1)
    }

    /// Reads the index slots where lookups of `hashes` start, and then (with `records`)
    /// the records those slots point to, so that they are in the cache when the lookups
    /// come. The reads are independent of each other, so their cache misses overlap (a
    /// safe stand-in for prefetch instructions). Changes nothing.
    pub fn touch(&self, hashes: &[u32], records: bool) {
        let mask = self.index.len() - 1;
        let mut acc = 0u64;
        for &h in hashes {
            acc ^= self.index[h as usize & mask];
        }
        if records {
            for &h in hashes {
                // a record can straddle two cache lines: read its first byte and the
                // 16th byte of its name (names are usually shorter; reading past is harmless)
                let off = self.index[h as usize & mask] as u32 as usize;
                let first = self.arena.get(off).copied().unwrap_or(0);
                let late = self.arena.get(off + HEADER + 15).copied().unwrap_or(0);
                acc ^= u64::from(first ^ late);
            }
        }
        std::hint::black_box(acc);
    }

    /// Number of distinct labels.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every label in first-definition order (with its last definition).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], LabelDef)> + '_ {
        let mut off = 0;
        std::iter::from_fn(move || {
            if off >= self.arena.len() {
                return None;
            }
            let (name, def, next) = self.record(off);
            off = next;
            Some((name, def))
        })
    }

    /// Every label, sorted by address then name.
    pub fn sorted(&self) -> Vec<(&[u8], LabelDef)> {
        let mut v: Vec<_> = self.iter().collect();
        v.sort_by(|a, b| a.1.address.cmp(&b.1.address).then(a.0.cmp(b.0)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_definition_wins_and_growth_keeps_everything() {
        let mut t = LabelTable::default();
        let at = Loc::default();
        for i in 0..5000u32 {
            t.define(format!("L{i}").as_bytes(), LabelDef { address: i, at });
        }
        t.define(b"L7", LabelDef { address: 99, at });
        t.define(b"", LabelDef { address: 1, at });
        assert_eq!(t.len(), 5001);
        assert_eq!(t.get(b"L7").unwrap().address, 99);
        assert_eq!(t.get(b"L4999").unwrap().address, 4999);
        assert_eq!(t.get(b"").unwrap().address, 1);
        assert!(t.get(b"L5000").is_none());
    }
}
