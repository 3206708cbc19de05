//! The label table: name -> address and definition site, with a small fast hasher.
//!
//! It owns lookups and "last definition wins" insertion; it does not know how names are
//! scanned. Names are owned byte strings (inputs are streamed, so they cannot borrow).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::Loc;

/// An FxHash-style hasher: multiply-rotate over 8-byte words. Fast for short names; not
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
        self.hash
    }
}

/// A hash map with [`FxHasher`].
pub type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One label: its address and where it was (last) defined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LabelDef {
    /// The absolute address (32-bit, wrapping).
    pub address: u32,
    /// The definition site.
    pub at: Loc,
}

/// Every label of a link, by name.
#[derive(Default, Debug, Clone)]
pub struct LabelTable {
    map: FxHashMap<Box<[u8]>, LabelDef>,
}

impl LabelTable {
    /// Defines `name`; a later definition replaces an earlier one (the reference's rule).
    #[inline]
    pub fn define(&mut self, name: &[u8], def: LabelDef) {
        match self.map.get_mut(name) {
            Some(slot) => *slot = def,
            None => {
                self.map.insert(name.into(), def);
            }
        }
    }

    /// The definition of `name`, if any.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<LabelDef> {
        self.map.get(name).copied()
    }

    /// Number of distinct labels.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Every label, sorted by address then name.
    pub fn sorted(&self) -> Vec<(&[u8], LabelDef)> {
        let mut v: Vec<_> = self.map.iter().map(|(k, d)| (&k[..], *d)).collect();
        v.sort_by(|a, b| a.1.address.cmp(&b.1.address).then(a.0.cmp(b.0)));
        v
    }
}
