//! The RFC 6962 / 9162 tree against known answers (the Certificate Transparency test
//! vectors for the 8-leaf tree: roots, inclusion and consistency proofs), and by
//! property: every proof verifies, any changed byte, index or size fails, and the tiles
//! on disk give the same hashes as the leaves in memory.

mod common;
use common::scratch;

use crossverify::tlog::merkle::{self, leaf_hash, Hash, Leaves};
use crossverify::tlog::tiles::{self, Tiles};
use proptest::prelude::*;

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn h(s: &str) -> Hash {
    unhex(s).try_into().unwrap()
}

/// The CT reference leaves: "", 00, 10, 2021, 3031, 40414243, 50..57, 60..6f.
fn ct_leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|s| unhex(s))
    .collect()
}

/// Roots of the CT reference tree for sizes 0..=8.
const CT_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn ct_tree() -> Leaves {
    Leaves(ct_leaves().iter().map(|l| leaf_hash(l)).collect())
}

#[test]
fn ct_roots() {
    let mut t = ct_tree();
    for (size, want) in CT_ROOTS.iter().enumerate() {
        let hashes = &t.0[..size].to_vec();
        assert_eq!(
            merkle::root(&mut t, size as u64).unwrap(),
            h(want),
            "size {size}"
        );
        assert_eq!(
            merkle::reference_root(hashes),
            h(want),
            "reference, size {size}"
        );
    }
}

#[test]
fn ct_inclusion_proofs() {
    let mut t = ct_tree();
    // (index, size, proof) from the CT test vectors.
    let cases: [(u64, u64, &[&str]); 5] = [
        (0, 1, &[]),
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (index, size, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let proof = merkle::inclusion_proof(&mut t, index, size).unwrap();
        assert_eq!(proof, want, "leaf {index} of {size}");
        let leaf = t.0[index as usize];
        let root = h(CT_ROOTS[size as usize]);
        assert!(merkle::verify_inclusion(&leaf, index, size, &proof, &root));
    }
}

#[test]
fn ct_consistency_proofs() {
    let mut t = ct_tree();
    let cases: [(u64, u64, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    for (old, new, want) in cases {
        let want: Vec<Hash> = want.iter().map(|s| h(s)).collect();
        let proof = merkle::consistency_proof(&mut t, old, new).unwrap();
        assert_eq!(proof, want, "{old} -> {new}");
        let (a, b) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
        assert!(merkle::verify_consistency(old, new, &a, &b, &proof));
    }
}

#[test]
fn degenerate_proofs() {
    let e = merkle::empty_root();
    let x = leaf_hash(b"x");
    assert!(
        !merkle::verify_inclusion(&x, 0, 0, &[], &e),
        "no leaf in the empty tree"
    );
    assert!(
        !merkle::verify_inclusion(&x, 1, 1, &[], &x),
        "index past the end"
    );
    assert!(merkle::verify_inclusion(&x, 0, 1, &[], &x));
    assert!(
        !merkle::verify_inclusion(&x, 0, 1, &[x], &x),
        "trailing hash"
    );
    assert!(merkle::verify_consistency(0, 5, &e, &x, &[]));
    assert!(!merkle::verify_consistency(0, 5, &e, &x, &[x]));
    assert!(
        !merkle::verify_consistency(1, 1, &e, &x, &[]),
        "same size, other root"
    );
    assert!(!merkle::verify_consistency(2, 1, &x, &x, &[]), "shrinking");
    assert!(
        !merkle::verify_consistency(1, 2, &x, &x, &[]),
        "missing proof"
    );
}

fn leaves(n: usize, seed: u8) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| format!("entry {seed} {i}").into_bytes())
        .collect()
}

/// Every corruption of an inclusion proof that must fail.
fn inclusion_fails(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) {
    for i in 0..proof.len() {
        for bit in [0u8, 3, 7] {
            let mut p = proof.to_vec();
            p[i][(i * 7) % 32] ^= 1 << bit;
            assert!(!merkle::verify_inclusion(leaf, index, size, &p, root));
        }
    }
    let mut l = *leaf;
    l[0] ^= 1;
    assert!(!merkle::verify_inclusion(&l, index, size, proof, root));
    let mut r = *root;
    r[31] ^= 0x80;
    assert!(!merkle::verify_inclusion(leaf, index, size, proof, &r));
    if !proof.is_empty() {
        assert!(!merkle::verify_inclusion(
            leaf,
            index,
            size,
            &proof[1..],
            root
        ));
    }
    let mut longer = proof.to_vec();
    longer.push(*root);
    assert!(!merkle::verify_inclusion(leaf, index, size, &longer, root));
    if index + 1 < size {
        assert!(!merkle::verify_inclusion(
            leaf,
            index + 1,
            size,
            proof,
            root
        ));
    }
    assert!(!merkle::verify_inclusion(
        leaf,
        index,
        size * 2 + 1,
        proof,
        root
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_inclusion_proof_verifies_and_no_changed_one(n in 1usize..300, pick in any::<u64>(), seed in any::<u8>()) {
        let mut t = Leaves(leaves(n, seed).iter().map(|l| leaf_hash(l)).collect());
        let root = merkle::reference_root(&t.0);
        let index = pick % n as u64;
        let proof = merkle::inclusion_proof(&mut t, index, n as u64).unwrap();
        prop_assert!(merkle::verify_inclusion(&t.0[index as usize], index, n as u64, &proof, &root));
        inclusion_fails(&t.0[index as usize], index, n as u64, &proof, &root);
    }

    #[test]
    fn every_consistency_proof_verifies_and_no_changed_one(n in 1usize..300, pick in any::<u64>(), seed in any::<u8>()) {
        let mut t = Leaves(leaves(n, seed).iter().map(|l| leaf_hash(l)).collect());
        let new = n as u64;
        let old = 1 + pick % new;
        let (a, b) = (merkle::reference_root(&t.0[..old as usize]), merkle::reference_root(&t.0));
        let proof = merkle::consistency_proof(&mut t, old, new).unwrap();
        prop_assert!(merkle::verify_consistency(old, new, &a, &b, &proof));
        for i in 0..proof.len() {
            let mut p = proof.clone();
            p[i][i % 32] ^= 0x10;
            prop_assert!(!merkle::verify_consistency(old, new, &a, &b, &p));
        }
        if old < new {
            let mut x = a;
            x[0] ^= 1;
            prop_assert!(!merkle::verify_consistency(old, new, &x, &b, &proof));
            let mut y = b;
            y[5] ^= 4;
            prop_assert!(!merkle::verify_consistency(old, new, &a, &y, &proof));
            prop_assert!(!merkle::verify_consistency(old, new, &a, &b, &proof[..proof.len() - 1]));
            prop_assert!(!merkle::verify_consistency(old, new, &b, &a, &proof));
        }
    }
}

/// The tiles on disk serve the same subtrees as the leaves in memory, at every size a
/// checkpoint was taken, across appends of every shape (one entry, a partial tile, many
/// full tiles), including for sizes whose partial tiles were replaced by full ones.
#[test]
fn tiles_equal_leaves_across_appends() {
    let dir = scratch("tiles-equal-leaves");
    let all = leaves(70_000, 9);
    let mut size = 0u64;
    let mut sizes = Vec::new();
    for batch in [1usize, 1, 254, 1, 300, 65_536 - 557, 3, 4_000] {
        size = tiles::append(&dir, size, &all[size as usize..size as usize + batch]).unwrap();
        sizes.push(size);
    }
    let mut mem = Leaves(all[..size as usize].iter().map(|l| leaf_hash(l)).collect());
    for &s in &sizes {
        let mut t = Tiles::new(&dir, s);
        let want = merkle::reference_root(&mem.0[..s as usize]);
        assert_eq!(merkle::root(&mut t, s).unwrap(), want, "root at size {s}");
        for index in [0, s / 3, s - 1] {
            assert_eq!(
                merkle::inclusion_proof(&mut t, index, s).unwrap(),
                merkle::inclusion_proof(&mut mem, index, s).unwrap(),
                "inclusion {index} of {s}"
            );
        }
        assert_eq!(
            merkle::consistency_proof(&mut t, sizes[0], s).unwrap(),
            merkle::consistency_proof(&mut mem, sizes[0], s).unwrap()
        );
    }
    assert_eq!(
        tiles::audit(&dir, size).unwrap(),
        merkle::reference_root(&mem.0)
    );
    assert_eq!(tiles::find(&dir, size, &all[66_000]).unwrap(), Some(66_000));
    assert_eq!(tiles::find(&dir, size, b"not there").unwrap(), None);
    // The C2SP example layout: a tree of 70,000 has 273 full level-0 tiles, a partial one
    // of width 112, a full level-1 tile, a partial one of width 17 and a level-2 tile of 1.
    let d = scratch("tiles-70000");
    assert_eq!(tiles::append(&d, 0, &all).unwrap(), 70_000);
    assert!(d.join("tile/0/272").is_file() && !d.join("tile/0/273").exists());
    assert_eq!(
        std::fs::read(d.join("tile/0/273.p/112")).unwrap().len(),
        112 * 32
    );
    assert_eq!(std::fs::read(d.join("tile/1/000")).unwrap().len(), 8192);
    assert_eq!(
        std::fs::read(d.join("tile/1/001.p/17")).unwrap().len(),
        17 * 32
    );
    assert_eq!(std::fs::read(d.join("tile/2/000.p/1")).unwrap().len(), 32);
    assert!(d.join("tile/entries/273.p/112").is_file());
    assert_eq!(tiles::index_path(1_234_067), "x001/x234/067");
    assert_eq!(tiles::index_path(5), "005");
    assert_eq!(tiles::index_path(1000), "x001/000");
}

#[test]
fn altered_tiles_are_caught() {
    let dir = scratch("tiles-altered");
    let all = leaves(600, 1);
    tiles::append(&dir, 0, &all).unwrap();
    let good = tiles::audit(&dir, 600).unwrap();
    let bundle = dir.join("tile/entries/001");
    let mut b = std::fs::read(&bundle).unwrap();
    b[5] ^= 1;
    std::fs::write(&bundle, &b).unwrap();
    let e = tiles::audit(&dir, 600).unwrap_err().to_string();
    assert!(e.contains("does not match the entries"), "{e}");
    b[5] ^= 1;
    std::fs::write(&bundle, &b).unwrap();
    assert_eq!(tiles::audit(&dir, 600).unwrap(), good);
    std::fs::write(dir.join("tile/0/002.p/88"), [0u8; 10]).unwrap();
    let e = tiles::audit(&dir, 600).unwrap_err().to_string();
    assert!(e.contains("malformed tile"), "{e}");
}
