//! The table of distinct token texts ("records"), built for speed and small memory.
//!
//! A text is never copied: a record is the text's position in the inputs (a global offset
//! across all sources and a length), its hash, a few bytes of engine state and, for texts
//! of at most 16 bytes (nearly all), a 16-byte key that determines the text, so a lookup
//! compares two words instead of reading the inputs. The index is an open-addressing
//! table of `u32` record numbers with linear probing. For a 40 MB program with about a
//! million distinct texts this is some 40 MB, against the reference's 255 MB (M1 interns
//! that many only when it must find an error; a valid program's table holds its DEFINEs
//! and the tokens whose meaning its text does not fix). It owns lookup and insertion
//! only; what a record means is the engine's business.

/// A hasher over short byte strings (FxHash-style: 8 bytes at a time, rotate, multiply).
/// Texts of up to 16 bytes, nearly every token, are read as two overlapping words (or
/// three small loads under 8 bytes), without a loop or a copy: see [`short_key`].
#[inline]
pub fn hash(text: &[u8]) -> u32 {
    match short_key(text) {
        Some(key) => short_hash(text.len(), key),
        None => long_hash(text),
    }
}

const K: u64 = 0x517c_c1b7_2722_0a95;

/// [`hash`] of a text of `n <= 16` bytes from its [`short_key`].
#[inline(always)]
fn short_hash(n: usize, [a, b]: [u64; 2]) -> u32 {
    let mut h: u64 = n as u64;
    h = (h.rotate_left(5) ^ a).wrapping_mul(K);
    h = (h.rotate_left(5) ^ b).wrapping_mul(K);
    (h >> 32) as u32 ^ (h as u32)
}

fn long_hash(text: &[u8]) -> u32 {
    let n = text.len();
    let mut h: u64 = n as u64;
    let mut chunks = text.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h.rotate_left(5) ^ w).wrapping_mul(K);
    }
    h = (h.rotate_left(5) ^ word(text, n - 8)).wrapping_mul(K);
    // Fold the well-mixed high bits down.
    ((h >> 32) ^ h) as u32
}

/// For a text of at most 16 bytes, two words that, with its length, determine it exactly
/// (two overlapping 8- or 4-byte loads; under 4 bytes, the first, middle and last bytes,
/// which are all of them). `None` for longer texts.
#[inline(always)]
pub fn short_key(text: &[u8]) -> Option<[u64; 2]> {
    let n = text.len();
    if n > 16 {
        return None;
    }
    Some(if n >= 8 {
        [word(text, 0), word(text, n - 8)]
    } else if n >= 4 {
        [u64::from(word4(text, 0)), u64::from(word4(text, n - 4))]
    } else if n > 0 {
        [
            u64::from(text[0]) | u64::from(text[n / 2]) << 8 | u64::from(text[n - 1]) << 16,
            0,
        ]
    } else {
        [0, 0]
    })
}

/// The 4 bytes of `s` at `at` as one word (the caller keeps `at + 4 <= s.len()`).
#[inline(always)]
fn word4(s: &[u8], at: usize) -> u32 {
    match <[u8; 4]>::try_from(&s[at..at + 4]) {
        Ok(w) => u32::from_le_bytes(w),
        Err(_) => 0,
    }
}

/// The 8 bytes of `s` at `at` as one word (the caller keeps `at + 8 <= s.len()`).
#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    match <[u8; 8]>::try_from(&s[at..at + 8]) {
        Ok(w) => u64::from_le_bytes(w),
        Err(_) => 0,
    }
}

/// Byte-string equality without a library call for the short texts tokens usually are.
#[inline(always)]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let n = a.len();
    if (8..=16).contains(&n) {
        // Two overlapping 8-byte words cover the text.
        return word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8);
    }
    if n < 8 {
        return a.iter().zip(b).all(|(x, y)| x == y);
    }
    a == b
}

/// One distinct text.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Global offset of the text (see [`Inputs`]).
    pub start: u32,
    /// Engine data (the index of a DEFINE value, a count...).
    pub payload: u32,
    /// [`hash`] of the text.
    pub hash: u32,
    /// Length of the text (tokens are at most 4096 bytes).
    pub len: u16,
    /// Engine state bits.
    pub state: u8,
    /// [`short_key`] of a text of at most 16 bytes (zeros for longer texts): with `len`,
    /// it compares the text without reading the inputs.
    pub key: [u64; 2],
}

/// All sources seen as one global offset space, so a text is (offset, length).
pub struct Inputs<'a> {
    texts: Vec<&'a [u8]>,
    bases: Vec<u32>,
}

impl<'a> Inputs<'a> {
    /// The sources in order; `None` if together they exceed 4 GiB.
    pub fn new(texts: Vec<&'a [u8]>) -> Option<Self> {
        let mut bases = Vec::with_capacity(texts.len());
        let mut total: u64 = 0;
        for t in &texts {
            bases.push(u32::try_from(total).ok()?);
            total += t.len() as u64;
        }
        u32::try_from(total).ok()?;
        Some(Inputs { texts, bases })
    }

    /// Global offset of byte `offset` of source `file`.
    pub fn global(&self, file: usize, offset: usize) -> u32 {
        self.bases[file] + offset as u32
    }

    /// The bytes at global offset `start`, `len` long.
    #[inline]
    pub fn bytes(&self, start: u32, len: u16) -> &'a [u8] {
        let file = if self.bases.len() == 1 {
            0
        } else {
            self.bases.partition_point(|&b| b <= start) - 1
        };
        let off = (start - self.bases[file]) as usize;
        &self.texts[file][off..off + usize::from(len)]
    }
}

/// The set of distinct texts, in first-seen order.
pub struct Table {
    /// Records in first-seen order.
    pub records: Vec<Record>,
    slots: Vec<u32>,
    mask: usize,
}

const EMPTY: u32 = u32::MAX;

impl Table {
    /// An empty table sized for about `expected` records.
    pub fn with_capacity(expected: usize) -> Self {
        let size = (expected.max(16) * 2).next_power_of_two();
        Table {
            records: Vec::with_capacity(expected),
            slots: vec![EMPTY; size],
            mask: size - 1,
        }
    }

    /// The record number of `text` (at global offset `start`), inserting it if new.
    #[inline]
    pub fn intern(&mut self, inputs: &Inputs<'_>, text: &[u8], start: u32) -> u32 {
        let (i, found) = self.probe(inputs, text);
        if let Some(id) = found {
            return id;
        }
        let id = self.records.len() as u32;
        self.records.push(Record {
            start,
            payload: 0,
            hash: hash(text),
            len: text.len() as u16,
            state: 0,
            key: short_key(text).unwrap_or([0, 0]),
        });
        self.slots[i] = id;
        if self.records.len() * 2 > self.slots.len() {
            self.grow();
        }
        id
    }

    /// The record number of `text`, if it was interned.
    #[inline]
    pub fn find(&self, inputs: &Inputs<'_>, text: &[u8]) -> Option<u32> {
        self.probe(inputs, text).1
    }

    /// The slot where `text` is or would go, and its record number if it is there.
    #[inline(always)]
    fn probe(&self, inputs: &Inputs<'_>, text: &[u8]) -> (usize, Option<u32>) {
        let n = text.len();
        if let Some(key) = short_key(text) {
            let mut i = short_hash(n, key) as usize & self.mask;
            loop {
                let s = self.slots[i];
                if s == EMPTY {
                    return (i, None);
                }
                let r = &self.records[s as usize];
                if r.key == key && usize::from(r.len) == n {
                    return (i, Some(s));
                }
                i = (i + 1) & self.mask;
            }
        }
        let h = long_hash(text);
        let mut i = h as usize & self.mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return (i, None);
            }
            let r = &self.records[s as usize];
            if r.hash == h && usize::from(r.len) == n && same(inputs.bytes(r.start, r.len), text) {
                return (i, Some(s));
            }
            i = (i + 1) & self.mask;
        }
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![EMPTY; size];
        self.mask = size - 1;
        for (id, r) in self.records.iter().enumerate() {
            let mut i = r.hash as usize & self.mask;
            while self.slots[i] != EMPTY {
                i = (i + 1) & self.mask;
            }
            self.slots[i] = id as u32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_across_sources() {
        let a = b"abc abd".as_slice();
        let b = b"abc".as_slice();
        let inputs = Inputs::new(vec![a, b]).unwrap();
        let mut t = Table::with_capacity(1);
        let x = t.intern(&inputs, b"abc", inputs.global(0, 0));
        let y = t.intern(&inputs, b"abd", inputs.global(0, 4));
        let z = t.intern(&inputs, b"abc", inputs.global(1, 0));
        assert_eq!(x, z);
        assert_ne!(x, y);
        for i in 0..100u32 {
            let s = format!("{i}");
            assert!(t.find(&inputs, s.as_bytes()).is_none());
        }
        assert_eq!(t.find(&inputs, b"abd"), Some(y));
        assert_eq!(inputs.bytes(t.records[y as usize].start, 3), b"abd");
        // Every length class of the hash (0, 1-3, 4-7, 8-16, longer) keeps texts apart.
        let long: Vec<u8> = (0..64u8).map(|i| b'a' + i % 26).collect();
        let inputs2 = Inputs::new(vec![&long]).unwrap();
        let mut t2 = Table::with_capacity(1);
        let mut ids = Vec::new();
        for len in 0..=40usize {
            for start in [0usize, 1, 3] {
                let text = &long[start..start + len];
                let id = t2.intern(&inputs2, text, inputs2.global(0, start));
                assert_eq!(t2.find(&inputs2, text), Some(id), "{len} {start}");
                ids.push((id, text));
            }
        }
        for (id, text) in &ids {
            for (other, text2) in &ids {
                assert_eq!(id == other, text == text2);
            }
        }
        assert_eq!(t2.find(&inputs2, b"abcX"), None);
    }
}
