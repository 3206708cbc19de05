//! # hexroot: the umbrella package
//!
//! hexroot is a second, independent implementation of the bootstrap toolchain of stage0
//! and mescc-tools (hex0, hex1, hex2, M0, M1, catm, blood-elf, the Knight VM) plus a
//! harness that cross-verifies their results. The tools live in the workspace crates; this
//! package owns the repository-wide tests (`tests/`: golden vectors, cross-crate property
//! tests) and benches (`benches/`), and the one table that names every tool's entry point,
//! so tests can run any tool exactly as its binary does; and, from each tool's `--help` and
//! option table, every binary's man page and bash completion ([`pages`]).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod pages;

pub use toolbase::cli::ToolMain;

/// Every hexroot binary by name, with the library function its `main` calls.
pub const TOOLS: &[(&str, ToolMain)] = &[
    ("hex0", hex0::tool::main),
    ("catm", hex0::catm::main),
    ("crossverify", crossverify::tool::main),
    ("stage0-vm", stage0_vm::tool::main),
    ("hex2", hex2::tool::main),
    ("hex1", hex2::tool::hex1_main),
    ("M1", m1::tool::main),
    ("M0", m1::tool::m0_main),
    ("blood-elf", m1::tool::blood_elf_main),
];

/// The entry point of the tool called `name`.
pub fn tool(name: &str) -> Option<ToolMain> {
    TOOLS.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
}
