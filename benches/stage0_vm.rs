//! Knight VM speed: hex0 decoders written in Knight code turn 1 MiB of hex text on tape 1
//! into bytes on tape 2, in memory: `stage0_vm::asm::hex0_decoder` and hexroot's own
//! Knight hex0 seed (`seeds/knight/hex0.rom`).
//! And the chain-like workload (`stage0_vm::workload`: a table-driven macro expander made
//! of small subroutines, as stage0's M0 assemblers are) over 1 MiB of input.
//! Throughput is reported in executed instructions per second ("elements/s").

mod common;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stage0_vm::{asm::hex0_decoder, run_with_tapes, Config};

fn bench(c: &mut Criterion) {
    let rom = hex0_decoder();
    let tape = common::hex_text(1 << 20, b"# a comment line\n");
    let config = Config::default();
    let steps = run_with_tapes(&rom, &tape, &config).expect("runs").steps;
    let mut g = c.benchmark_group("stage0_vm");
    g.throughput(Throughput::Elements(steps));
    g.sample_size(10);
    g.bench_function("hex0_decoder_1MiB", |b| {
        b.iter(|| run_with_tapes(&rom, &tape, &config).expect("runs"))
    });
    let seed_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/knight/hex0.rom");
    if let Ok(seed) = std::fs::read(seed_path) {
        let steps = run_with_tapes(&seed, &tape, &config).expect("runs").steps;
        g.throughput(Throughput::Elements(steps));
        g.bench_function("knight_hex0_seed_1MiB", |b| {
            b.iter(|| run_with_tapes(&seed, &tape, &config).expect("runs"))
        });
    }
    let (rom, input) = (
        stage0_vm::workload::rom(),
        stage0_vm::workload::input(1 << 20),
    );
    let config = Config {
        memory_size: stage0_vm::workload::MEMORY,
        ..Config::default()
    };
    let steps = run_with_tapes(&rom, &input, &config).expect("runs").steps;
    g.throughput(Throughput::Elements(steps));
    g.bench_function("macro_expander_1MiB", |b| {
        b.iter(|| run_with_tapes(&rom, &input, &config).expect("runs"))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
