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

/// Every complete subtree hash of the CT reference tree (level, then index), as the
/// transparency-dev test constants list them.
const CT_NODES: [&[&str]; 4] = [
    &[
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    &[
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    &[
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    &["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];

/// `NH[level][index]` of the CT reference tree.
fn nh(level: usize, index: usize) -> Hash {
    h(CT_NODES[level][index])
}

#[test]
fn ct_subtree_hashes_from_memory_and_tiles() {
    let mut mem = ct_tree();
    let dir = scratch("ct-subtrees");
    tiles::append(&dir, 0, &ct_leaves()).unwrap();
    let mut disk = Tiles::new(&dir, 8);
    for (level, row) in CT_NODES.iter().enumerate() {
        for index in 0..row.len() {
            let want = nh(level, index);
            let (l, i) = (level as u32, index as u64);
            assert_eq!(
                mem_subtree(&mut mem, l, i),
                want,
                "memory NH[{level}][{index}]"
            );
            assert_eq!(
                merkle::Subtrees::subtree(&mut disk, l, i).unwrap(),
                want,
                "tiles NH[{level}][{index}]"
            );
        }
    }
    assert_eq!(merkle::root(&mut disk, 8).unwrap(), h(CT_ROOTS[8]));
}

fn mem_subtree(t: &mut Leaves, level: u32, index: u64) -> Hash {
    match merkle::Subtrees::subtree(t, level, index) {
        Ok(h) => h,
        Err(never) => match never {},
    }
}

/// Proofs worked out by hand from the definitions of RFC 6962 section 2.1.1 (`PATH`) and
/// 2.1.2 (`SUBPROOF`) over the reference tree, beyond the published vectors: each hash is
/// a published node hash, or (where the definition asks for the hash of an incomplete
/// range) the node hash of published ones.
#[test]
fn hand_derived_proofs() {
    let mut t = ct_tree();
    let d4_7 = merkle::node_hash(&nh(1, 2), &nh(0, 6)); // MTH(D[4:7])
    let inclusion: [(u64, u64, Vec<Hash>); 4] = [
        (6, 7, vec![nh(1, 2), nh(2, 0)]),
        (3, 8, vec![nh(0, 2), nh(1, 0), nh(2, 1)]),
        (4, 5, vec![nh(2, 0)]),
        (7, 8, vec![nh(0, 6), nh(1, 2), nh(2, 0)]),
    ];
    for (index, size, want) in inclusion {
        let proof = merkle::inclusion_proof(&mut t, index, size).unwrap();
        assert_eq!(proof, want, "PATH({index}, D[{size}])");
        let root = h(CT_ROOTS[size as usize]);
        assert!(merkle::verify_inclusion(
            &t.0[index as usize],
            index,
            size,
            &proof,
            &root
        ));
    }
    let consistency: [(u64, u64, Vec<Hash>); 6] = [
        (3, 7, vec![nh(0, 2), nh(0, 3), nh(1, 0), d4_7]),
        (4, 7, vec![d4_7]),
        (5, 8, vec![nh(0, 4), nh(0, 5), nh(1, 3), nh(2, 0)]),
        (7, 8, vec![nh(0, 6), nh(0, 7), nh(1, 2), nh(2, 0)]),
        (4, 8, vec![nh(2, 1)]),
        (3, 4, vec![nh(0, 2), nh(0, 3), nh(1, 0)]),
    ];
    for (old, new, want) in consistency {
        let proof = merkle::consistency_proof(&mut t, old, new).unwrap();
        assert_eq!(proof, want, "PROOF({old}, D[{new}])");
        let (a, b) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
        assert!(merkle::verify_consistency(old, new, &a, &b, &proof));
    }
    // MTH(D[7]) = node(NH[2][0], MTH(D[4:7])), by the definition.
    assert_eq!(merkle::node_hash(&nh(2, 0), &d4_7), h(CT_ROOTS[7]));
}

/// Every consistency proof between every pair of sizes of the reference tree verifies,
/// and each with any one bit of any hash changed does not.
#[test]
fn all_consistency_pairs_of_the_reference_tree() {
    let mut t = ct_tree();
    for new in 1..=8u64 {
        for old in 1..=new {
            let (a, b) = (h(CT_ROOTS[old as usize]), h(CT_ROOTS[new as usize]));
            let proof = merkle::consistency_proof(&mut t, old, new).unwrap();
            assert!(
                merkle::verify_consistency(old, new, &a, &b, &proof),
                "{old} -> {new}"
            );
            for i in 0..proof.len() {
                for byte in 0..32 {
                    let mut p = proof.clone();
                    p[i][byte] ^= 1 << (byte % 8);
                    assert!(
                        !merkle::verify_consistency(old, new, &a, &b, &p),
                        "{old} -> {new} hash {i} byte {byte}"
                    );
                }
            }
            for index in 0..new {
                let proof = merkle::inclusion_proof(&mut t, index, new).unwrap();
                let leaf = t.0[index as usize];
                assert!(merkle::verify_inclusion(&leaf, index, new, &proof, &b));
                for i in 0..proof.len() {
                    for byte in 0..32 {
                        let mut p = proof.clone();
                        p[i][byte] ^= 0x80 >> (byte % 8);
                        assert!(!merkle::verify_inclusion(&leaf, index, new, &p, &b));
                    }
                }
            }
        }
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
