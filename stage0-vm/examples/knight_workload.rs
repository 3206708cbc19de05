//! Writes the chain-like Knight workload (`stage0_vm::workload`) for running it on another
//! VM: `knight_workload PREFIX [SIZE]` writes PREFIX.rom, PREFIX.in (SIZE bytes of input,
//! default 2 MiB), PREFIX.expected (what the ROM writes to tape 2) and PREFIX.memory (the
//! `--memory` value). Used by `benches/knight_vs_c.sh`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(prefix) = args.next() else {
        eprintln!("usage: knight_workload PREFIX [SIZE]");
        return ExitCode::FAILURE;
    };
    let size = args.next().and_then(|s| s.parse().ok()).unwrap_or(2 << 20);
    let input = stage0_vm::workload::input(size);
    let files: [(&str, Vec<u8>); 4] = [
        ("rom", stage0_vm::workload::rom()),
        ("expected", stage0_vm::workload::expand(&input)),
        ("in", input),
        (
            "memory",
            stage0_vm::workload::MEMORY.to_string().into_bytes(),
        ),
    ];
    for (ext, bytes) in files {
        let path = format!("{prefix}.{ext}");
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("knight_workload: {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
