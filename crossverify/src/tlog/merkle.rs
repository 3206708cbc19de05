//! The RFC 6962 / RFC 9162 Merkle tree: leaf and node hashes, tree hashes of any range,
//! inclusion and consistency proofs, and their verification.
//!
//! `MTH(D[n])` is SHA-256 of the empty string for no leaves, `SHA-256(0x00 || d)` for one
//! leaf, and `SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))` otherwise, with `k` the largest
//! power of two smaller than `n`. Proofs are built from any [`Subtrees`] source (the leaves
//! in memory, or the tiles of a log on disk, [`crate::tlog::tiles`]) following RFC 6962
//! section 2.1 (`PATH`, `SUBPROOF`), and verified by the algorithms of RFC 9162 sections
//! 2.1.3.2 and 2.1.4.2, which need nothing but the proof, the sizes and the hashes. This
//! module owns the tree arithmetic; it knows no file format.

use sha2::{Digest, Sha256};

/// A SHA-256 hash: a leaf, an interior node or a tree root.
pub type Hash = [u8; 32];

/// `SHA-256(0x00 || entry)`: the hash of a leaf.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 || left || right)`: the hash of an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: SHA-256 of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// A source of complete, aligned subtree hashes.
pub trait Subtrees {
    /// Why a hash could not be had (a missing tile, an I/O error).
    type Error;
    /// The hash of the complete subtree of `2^height` leaves whose first leaf is
    /// `index * 2^height`.
    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash, Self::Error>;
}

/// The largest power of two strictly smaller than `n` (`n >= 2`).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// `MTH(D[lo:hi])` for `lo < hi`.
pub fn range_hash<S: Subtrees>(s: &mut S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return s.subtree(n.trailing_zeros(), lo / n);
    }
    let k = split(n);
    let left = range_hash(s, lo, lo + k)?;
    let right = range_hash(s, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root hash of the first `size` leaves.
pub fn root<S: Subtrees>(s: &mut S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        Ok(empty_root())
    } else {
        range_hash(s, 0, size)
    }
}

/// The inclusion proof (`PATH`) of leaf `index` in the tree of `size` leaves, from the
/// leaf's sibling up. `index < size` is the caller's to ensure.
pub fn inclusion_proof<S: Subtrees>(
    s: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    let (mut lo, mut hi) = (0, size);
    // Descend from the root, remembering siblings; the proof lists them bottom-up.
    while hi - lo > 1 {
        let k = split(hi - lo);
        if index < lo + k {
            out.push(range_hash(s, lo + k, hi)?);
            hi = lo + k;
        } else {
            out.push(range_hash(s, lo, lo + k)?);
            lo += k;
        }
    }
    out.reverse();
    Ok(out)
}

/// The consistency proof (`PROOF(m, D[n])`) between the trees of `old` and `new` leaves;
/// empty when `old` is 0 or not below `new` (no proof exists from a larger tree).
pub fn consistency_proof<S: Subtrees>(
    s: &mut S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, S::Error> {
    let mut out = Vec::new();
    if old == 0 || old >= new {
        return Ok(out);
    }
    // SUBPROOF(m, D[lo:hi], b), unrolled: each step records one sibling.
    let (mut m, mut lo, mut hi, mut whole) = (old, 0, new, true);
    while m != hi - lo {
        let k = split(hi - lo);
        if m <= k {
            out.push(range_hash(s, lo + k, hi)?);
            hi = lo + k;
        } else {
            out.push(range_hash(s, lo, lo + k)?);
            lo += k;
            m -= k;
            whole = false;
        }
    }
    if !whole {
        out.push(range_hash(s, lo, hi)?);
    }
    out.reverse();
    Ok(out)
}

/// Whether `proof` shows the leaf hashing to `leaf` at `index` in the tree of `size`
/// leaves with root `root` (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// Whether `proof` shows the tree of `new` leaves with root `new_root` extends the tree of
/// `old` leaves with root `old_root` (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        return proof.is_empty();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *old_root && sr == *new_root && s == 0
}

/// Leaf hashes held in memory: the reference [`Subtrees`] source, computing every subtree
/// from the leaves by the definition.
pub struct Leaves(pub Vec<Hash>);

impl Subtrees for Leaves {
    type Error = std::convert::Infallible;

    fn subtree(&mut self, height: u32, index: u64) -> Result<Hash, Self::Error> {
        let width = 1usize << height;
        let start = index as usize * width;
        let mut level: Vec<Hash> = self.0[start..start + width].to_vec();
        while level.len() > 1 {
            level = level.chunks(2).map(|p| node_hash(&p[0], &p[1])).collect();
        }
        Ok(level[0])
    }
}

/// `MTH(D[n])` of `leaves` by the recursive definition, sharing no code with the proofs.
pub fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n as u64) as usize;
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}
