//! The module layering of stage0-vm, enforced: the instruction set at the bottom, the
//! host's files and streams above it, POSIX mode above those, the two machines (Knight and
//! Linux user mode) above that, the command lines on top and the crate root's library calls
//! over everything. The check ([`layering::check`], shared with crossverify's test) reads
//! every module file under `src/` and fails naming the file and line of every reference to
//! a higher layer and every cycle. Each machine's directory (`machine/`, `linux/`) counts
//! as one module there; inside it, and inside `linux/`'s instruction-set directories, each
//! file is its own module and the parts are ordered ([`PARTS`], checked by
//! [`layering::check_parts`], which `check` runs): a part uses only the parts before it,
//! besides its directory's own types, so no cycle can form among them. The declared orders
//! are [`LAYERS`] and [`PARTS`]; ARCHITECTURE.md draws them.

#[path = "../../tests/support/layering.rs"]
mod layering;

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

/// The directories that count as one module each in [`LAYERS`] (their insides: [`PARTS`]).
const UNITS: &[&str] = &["machine", "linux"];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, UNITS, PARTS);
}

/// Each machine directory's parts, bottom first (see [`layering::check_parts`]).
const PARTS: layering::Parts = &[
    (
        "machine",
        &[
            "cond",
            "form",
            "subroutine",
            "memory",
            "semantics",
            "predecode",
            "routine",
            "exec",
            "step",
            "halcode",
            "trace",
        ],
    ),
    (
        "linux",
        &[
            "memory", "cpu", "loops", "elf", "fs", "syscall", "x86", "riscv", "aarch64", "process",
            "tool",
        ],
    ),
    (
        "linux::x86",
        &["decode", "flags", "exec", "fast", "loops", "disasm"],
    ),
    ("linux::aarch64", &["decode", "exec", "loops"]),
    ("linux::loops", &["symbolic", "exit"]),
    (
        "linux::riscv",
        &["decode", "exec", "fuse", "cache", "loops"],
    ),
];

#[test]
fn a_cycle_among_the_parts_of_a_directory_fails_and_parent_child_use_does_not() {
    let src = std::env::temp_dir().join(format!("stage0-vm-layers-{}", std::process::id()));
    let files = [
        ("lib.rs", "mod m;\n"),
        ("m/mod.rs", "mod a;\nmod b;\nuse a::Low;\npub struct Top;\n"),
        (
            "m/a.rs",
            "use super::Top;\nuse super::b::High;\npub struct Low;\n",
        ),
        ("m/b.rs", "use super::a::Low;\npub struct High;\n"),
    ];
    for (name, text) in files {
        let path = src.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let problems = layering::check_parts(&src, "m", &["a", "b"]);
    std::fs::remove_dir_all(&src).unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("m/a.rs:2: `m::a` refers to `m::b`, a later part"));
    assert!(problems[1].starts_with("cycle m::a -> m::b -> m::a"));
}
