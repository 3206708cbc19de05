//! Throughput of the M1 engine (`m1::assemble_to`) on a generated 16 MB x86 program shaped
//! like real M1: a block of DEFINEs, then labels, DEFINEd mnemonics, numbers of every
//! width, label references, strings and comments.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

/// A deterministic M1 program of at least `size` bytes.
fn source(size: usize) -> Vec<u8> {
    let mut s = String::with_capacity(size + 256);
    for k in 0..200 {
        s.push_str(&format!(
            "DEFINE op_{k}, {:02X}{:02X}\n",
            k % 256,
            (k * 7) % 256
        ));
    }
    let mut x: u32 = 0x2545_F491;
    let mut f = 0;
    while s.len() < size {
        s.push_str(&format!(":FUNCTION_{f}\n"));
        for _ in 0..20 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let op = x % 200;
            match (x >> 8) % 8 {
                0..=3 => s.push_str(&format!("\top_{op}, ; plain instruction\n")),
                4 => s.push_str(&format!("\top_{op}, %{}\n", x % 100_000)),
                5 => s.push_str(&format!("\top_{op}, !{}\n", (x % 200) as i32 - 100)),
                6 => s.push_str(&format!("\top_{op}, %FUNCTION_{}\n", x % (f + 1))),
                _ => s.push_str(&format!(
                    "\top_{op}, @{} ~{} &0x{:x}\n",
                    x % 30_000,
                    x % 1_000_000,
                    x
                )),
            }
        }
        s.push_str(&format!("\t\"string number {f} with some text\"\n"));
        f += 1;
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let src = source(16 << 20);
    let sources = [m1::Source {
        name: "bench.M1",
        text: &src,
    }];
    let config = m1::Config {
        arch: m1::Arch::X86,
        endian: m1::Endian::Little,
        digits: m1::DigitStyle::Hex,
    };
    let mut g = c.benchmark_group("m1");
    g.throughput(Throughput::Bytes(src.len() as u64));
    g.sample_size(10);
    g.bench_function("assemble_16MB_x86", |b| {
        b.iter(|| m1::assemble_to(black_box(&sources), &config, &mut std::io::sink()).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
