//! Criterion bench of the hex2 library: links a generated x86 program (about 2 MB of hex2,
//! 20,000 labels) from memory, so the figure is the engine alone, without file I/O.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use hex2::{link, Arch, Config, Endian, Source};
use std::hint::black_box;

/// A deterministic program in the shape of M1's output: instruction bytes, labels,
/// `%label`/`&label` pointers and `%a>b` differences.
fn program(functions: usize) -> Vec<u8> {
    let mut s = String::from(":ELF_base\n");
    let mut x: u32 = 7;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    for f in 0..functions {
        s.push_str(&format!(":FUNCTION_f{f}\n"));
        for _ in 0..12 + next() % 20 {
            match next() % 10 {
                0..=5 => s.push_str(&format!(
                    "{:02X}{:02X} {:02X}\n",
                    next() & 0xFF,
                    next() & 0xFF,
                    next() & 0xFF
                )),
                6 => s.push_str(&format!("E8 %FUNCTION_f{}\n", next() as usize % functions)),
                7 => s.push_str(&format!("B8 &GLOBAL_g{}\n", next() as usize % functions)),
                8 => s.push_str(&format!("EB !LOOP_f{f}\n")),
                _ => s.push_str(&format!("%FUNCTION_f{f}>ELF_base\n")),
            }
        }
        s.push_str(&format!(":LOOP_f{f}\nC3\n:GLOBAL_g{f}\n00 00 00 00\n"));
    }
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let text = program(20_000);
    let mut config = Config::new(Arch::X86);
    config.endian = Endian::Little;
    config.base_address = 0x0804_8000;
    let sources = [Source {
        name: "bench.hex2",
        text: &text,
    }];
    // the loop labels are within reach of the short jumps
    assert!(link(&sources, &config).is_ok());
    let mut group = c.benchmark_group("hex2");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.sample_size(20);
    group.bench_function("link_x86_20k_functions", |b| {
        b.iter(|| {
            link(black_box(&sources), black_box(&config))
                .unwrap()
                .bytes
                .len()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
