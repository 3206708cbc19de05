//! Throughput of the hex0 assembler on a generated 64 MB source shaped like real hex0
//! (pairs separated by spaces, a comment on most lines).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// A deterministic hex0 source of at least `size` bytes.
fn source(size: usize) -> Vec<u8> {
    let mut s = Vec::with_capacity(size + 128);
    let mut x: u32 = 0x2545_F491;
    let digits = b"0123456789ABCDEF";
    while s.len() < size {
        for k in 0..8 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            if k > 0 {
                s.push(b' ');
            }
            s.push(digits[(x >> 4 & 15) as usize]);
            s.push(digits[(x & 15) as usize]);
        }
        if !x.is_multiple_of(4) {
            s.extend_from_slice(b" # mov_eax, 0x2A ; a comment like real seeds have");
        }
        s.push(b'\n');
    }
    s
}

fn bench(c: &mut Criterion) {
    let src = source(64 << 20);
    let mut g = c.benchmark_group("hex0");
    g.throughput(Throughput::Bytes(src.len() as u64));
    g.sample_size(10);
    g.bench_function("assemble_64MB", |b| {
        b.iter(|| hex0::assemble(black_box(&src), hex0::Dialect::Portable).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
