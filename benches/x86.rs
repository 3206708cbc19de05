//! x86 processor speed: a hand-made i386 loop in the style of M2-Planet's output
//! (lea/mov/push/pop/add/movzx/cmp/setcc/dec/jnz) run directly on the processor, without
//! the process layer (`benches/linux.rs` runs the hex0 seeds through the whole machine);
//! once on the stack alone, once also touching a global (in the code's region) and a
//! heap object, as compiled code does (the memory's region hints alternate).
//! Throughput is reported in guest instructions per second ("elements/s").

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use stage0_vm::linux::cpu::{Cpu, Exit};
use stage0_vm::linux::memory::Memory;
use stage0_vm::linux::x86::I386;

const ITERATIONS: u32 = 1_000_000;

/// The loop: 11 instructions per iteration (13 with `regions`: a global load and a heap
/// store), then `int 0x80`.
fn loop_program(regions: bool) -> Vec<u8> {
    let mut code = vec![0xBD, 0x00, 0xF0, 0x01, 0x00, 0xB9]; // mov ebp, 0x1F000; mov ecx, N
    code.extend(ITERATIONS.to_le_bytes());
    if regions {
        code.extend([
            0x8B, 0x1D, 0x00, 0x18, 0x00, 0x00, // mov ebx, [0x1800] (a global)
            0x89, 0x1D, 0x10, 0x00, 0x03, 0x00, // mov [0x30010], ebx (the heap)
        ]);
    }
    let back = if regions { 0xD8 } else { 0xE4 };
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
        0x75, back, // jnz the loop's start
        0xCD, 0x80, // int 0x80
    ]);
    code
}

fn run_loop(code: &[u8]) -> u64 {
    let mut mem = Memory::new();
    mem.map(0x1000, 0x1000).expect("maps");
    mem.map(0x10000, 0x10000).expect("maps");
    mem.map(0x30000, 0x1000).expect("maps");
    mem.slice_mut(0x1000, code.len() as u64)
        .expect("fits")
        .copy_from_slice(code);
    let mut cpu = I386::new(0x1000, 0x20000);
    let (n, exit) = cpu.run(&mut mem, u64::MAX);
    assert_eq!(exit, Exit::Syscall);
    n
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("x86");
    g.sample_size(10);
    for (name, regions) in [
        ("i386_m2_style_loop", false),
        ("i386_m2_style_loop_three_regions", true),
    ] {
        let code = loop_program(regions);
        g.throughput(Throughput::Elements(run_loop(&code)));
        g.bench_function(name, |b| b.iter(|| run_loop(&code)));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
