//! The report log's hot paths: appending report-sized entries to a tile directory, an
//! inclusion proof read from cold tiles, and its verification (crossverify::tlog).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

use crossverify::tlog::merkle::{self, leaf_hash};
use crossverify::tlog::tiles::{self, Tiles};

const ENTRIES: u64 = 65_536;

fn entry(i: u64) -> Vec<u8> {
    format!(
        "# hexroot crossverify report 1\nmanifest m.sha256\nhost machine-{i}\n{}\n",
        "x".repeat(240)
    )
    .into_bytes()
}

fn bench(c: &mut Criterion) {
    let base = std::env::temp_dir().join(format!("hexroot-bench-tlog-{}", std::process::id()));
    let entries: Vec<Vec<u8>> = (0..ENTRIES).map(entry).collect();
    let mut g = c.benchmark_group("tlog");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ENTRIES));
    g.bench_function("append_65536", |b| {
        b.iter(|| {
            let _ = std::fs::remove_dir_all(&base);
            tiles::append(black_box(&base), 0, &entries).unwrap()
        })
    });
    let _ = std::fs::remove_dir_all(&base);
    tiles::append(&base, 0, &entries).unwrap();
    let root = merkle::root(&mut Tiles::new(&base, ENTRIES), ENTRIES).unwrap();
    g.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    g.bench_function("inclusion_proof_cold_tiles", |b| {
        b.iter(|| {
            i = (i + 7_919) % ENTRIES;
            merkle::inclusion_proof(&mut Tiles::new(&base, ENTRIES), black_box(i), ENTRIES).unwrap()
        })
    });
    let proof = merkle::inclusion_proof(&mut Tiles::new(&base, ENTRIES), 12_345, ENTRIES).unwrap();
    let leaf = leaf_hash(&entries[12_345]);
    g.bench_function("verify_inclusion", |b| {
        b.iter(|| {
            assert!(merkle::verify_inclusion(
                black_box(&leaf),
                12_345,
                ENTRIES,
                &proof,
                &root
            ))
        })
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&base);
}

criterion_group!(benches, bench);
criterion_main!(benches);
