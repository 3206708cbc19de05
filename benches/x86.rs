//! x86 user-mode machine speed: a hand-made i386 loop in the style of M2-Planet's output
//! (lea/mov/push/pop/add/movzx/cmp/setcc/dec/jnz) run directly on the processor, and
//! hexroot's own i386 hex0 seed (`seeds/x86/hex0-seed`) assembling 1 MiB of generated
//! hex0 text through `stage0_vm::linux::run` (ELF loading, one read system call per
//! byte). Throughput is reported in guest instructions per second ("elements/s").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stage0_vm::linux::cpu::{Cpu, Exit};
use stage0_vm::linux::memory::Memory;
use stage0_vm::linux::x86::I386;
use stage0_vm::linux::{run, RunConfig, RunIo};

const ITERATIONS: u32 = 1_000_000;

/// The loop: 11 instructions per iteration, then `int 0x80`.
fn loop_program() -> Vec<u8> {
    let mut code = vec![0xBD, 0x00, 0xF0, 0x01, 0x00, 0xB9]; // mov ebp, 0x1F000; mov ecx, N
    code.extend(ITERATIONS.to_le_bytes());
    code.extend([
        0x8D, 0x45, 0xF8, // lea eax, [ebp-8]
        0x8B, 0x00, // mov eax, [eax]
        0x50, // push eax
        0xB8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1
        0x5B, // pop ebx
        0x01, 0xD8, // add eax, ebx
        0x89, 0x45, 0xF8, // mov [ebp-8], eax
        0x0F, 0xB6, 0xD0, // movzx edx, al
        0x39, 0xD1, // cmp ecx, edx
        0x0F, 0x94, 0xC0, // sete al
        0x49, // dec ecx
        0x75, 0xE4, // jnz the lea
        0xCD, 0x80, // int 0x80
    ]);
    code
}

fn run_loop(code: &[u8]) -> u64 {
    let mut mem = Memory::new();
    mem.map(0x1000, 0x1000).expect("maps");
    mem.map(0x10000, 0x10000).expect("maps");
    mem.slice_mut(0x1000, code.len() as u64)
        .expect("fits")
        .copy_from_slice(code);
    let mut cpu = I386::new(0x1000, 0x20000);
    let (n, exit) = cpu.run(&mut mem, u64::MAX);
    assert_eq!(exit, Exit::Syscall);
    n
}

/// 1 MiB of hex0 text: 32 hex pairs a line, a comment every 16 lines.
fn hex0_text() -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut x: u32 = 0x1234_5678;
    let mut line = 0;
    while out.len() < (1 << 20) {
        for _ in 0..32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            out.extend_from_slice(format!("{:02x} ", (x >> 16) as u8).as_bytes());
        }
        line += 1;
        out.extend_from_slice(if line % 16 == 0 {
            b"# comment\n"
        } else {
            b"\n"
        });
    }
    out
}

fn run_seed(seed: &std::path::Path, dir: &std::path::Path) -> u64 {
    let config = RunConfig {
        program: seed.to_path_buf(),
        argv: vec![b"hex0-seed".to_vec(), b"in.hex0".to_vec(), b"out".to_vec()],
        envp: Vec::new(),
        cwd: dir.to_path_buf(),
        max_steps: None,
        trace: false,
        sandbox: None,
        arch: None,
    };
    let (mut stdin, mut stdout, mut stderr) = (std::io::empty(), std::io::sink(), std::io::sink());
    let mut io = RunIo {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let outcome = run(&config, &mut io, None).expect("the seed runs");
    assert_eq!(outcome.status, 0);
    outcome.instructions
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("x86");
    g.sample_size(10);
    let code = loop_program();
    g.throughput(Throughput::Elements(run_loop(&code)));
    g.bench_function("i386_m2_style_loop", |b| b.iter(|| run_loop(&code)));
    let seed = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/x86/hex0-seed");
    let dir = std::env::temp_dir().join(format!("hexroot-x86-bench-{}", std::process::id()));
    if seed.exists() && std::fs::create_dir_all(&dir).is_ok() {
        std::fs::write(dir.join("in.hex0"), hex0_text()).expect("writes the input");
        g.throughput(Throughput::Elements(run_seed(&seed, &dir)));
        g.bench_function("i386_hex0_seed_1MiB", |b| b.iter(|| run_seed(&seed, &dir)));
        let _ = std::fs::remove_dir_all(&dir);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
