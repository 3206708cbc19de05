//! Linux user-mode machine speed: hexroot's i386 and x86-64 hex0 seeds (`seeds/x86`,
//! `seeds/amd64`), emulated by `stage0_vm::linux::run`, assemble 256 KiB of hex0 text
//! read from a file one byte per `read` call, as the chains' seeds do: the instruction
//! sets' speed plus the system call path (buffered reads and writes).
//! Throughput is reported in executed guest instructions per second ("elements/s").

mod common;

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stage0_vm::linux::{run, RunConfig, RunIo};

fn emulate(seed: &Path, dir: &Path) -> u64 {
    let config = RunConfig {
        program: seed.to_path_buf(),
        argv: vec![b"hex0".to_vec(), b"in.hex0".to_vec(), b"out".to_vec()],
        cwd: dir.to_path_buf(),
        ..RunConfig::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin: &[u8] = &[];
    let mut io = RunIo {
        stdin: &mut stdin,
        stdout: &mut out,
        stderr: &mut err,
    };
    let r = run(&config, &mut io, None).expect("the seed runs");
    assert_eq!(r.status, 0, "{}", String::from_utf8_lossy(&err));
    r.instructions
}

fn bench(c: &mut Criterion) {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("hexroot-bench-linux-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    std::fs::write(
        dir.join("in.hex0"),
        common::hex_text(1 << 18, b"# comment\n"),
    )
    .expect("input");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut g = c.benchmark_group("linux");
    g.sample_size(10);
    for (name, seed) in [
        ("i386_hex0_seed_256KiB", "seeds/x86/hex0-seed"),
        ("amd64_hex0_seed_256KiB", "seeds/amd64/hex0-seed"),
    ] {
        let seed = repo.join(seed);
        if !seed.exists() {
            continue;
        }
        g.throughput(Throughput::Elements(emulate(&seed, &dir)));
        g.bench_function(name, |b| b.iter(|| emulate(&seed, &dir)));
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
