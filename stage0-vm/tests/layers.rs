//! The module layering of stage0-vm, enforced: the instruction set at the bottom, the
//! host's files and streams above it, POSIX mode above those, the two machines (Knight
//! and Linux user mode) above that, the command lines on top and the crate root's
//! library calls over everything. The check ([`layering::check`], shared with
//! crossverify's test) reads every module file under `src/` and fails naming the file and
//! line of every reference to a higher layer and every cycle. Each machine's directory
//! (`machine/`, `linux/`) counts as one module: its files are the parts of one executor
//! and are not layered among themselves. The declared order is [`LAYERS`];
//! ARCHITECTURE.md draws it.

#[path = "../../tests/support/layering.rs"]
mod layering;

use std::path::Path;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    ("instruction set", &["isa", "asm", "disasm", "fault"]),
    ("host", &["streams", "sandbox", "devices"]),
    ("posix", &["posix"]),
    ("machines", &["machine", "linux"]),
    ("workloads", &["workload"]),
    ("commands", &["tool"]),
    ("library", &["crate"]),
];

/// The directories that count as one module each.
const UNITS: &[&str] = &["machine", "linux"];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let problems = layering::check(&src, LAYERS, UNITS);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
