//! Runs the Knight hex0 decoder over 1 MiB of hex text N times (argument, default 20) and
//! prints the instruction count; divide by the process's user CPU time (e.g. from
//! `/usr/bin/time -f %U`) for instructions per second on a busy machine. A second
//! argument names another ROM to run instead (e.g. `seeds/knight/hex0.rom`).

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut tape = Vec::with_capacity(1 << 20);
    let mut x: u32 = 0x1234_5678;
    while tape.len() < (1 << 20) {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        tape.extend_from_slice(format!("{:02x} ", (x >> 16) as u8).as_bytes());
        if (x >> 8) & 63 == 0 {
            tape.extend_from_slice(b"# comment\n");
        }
    }
    let rom = match std::env::args().nth(2) {
        Some(path) => std::fs::read(path).expect("reads the ROM"),
        None => stage0_vm::asm::hex0_decoder(),
    };
    let config = stage0_vm::Config::default();
    let start = std::time::Instant::now();
    let mut steps = 0;
    for _ in 0..n {
        steps += stage0_vm::run_with_tapes(&rom, &tape, &config)
            .expect("runs")
            .steps;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{steps} instructions, {secs:.3} s wall, {:.1} M instr/s wall",
        steps as f64 / secs / 1e6
    );
}
