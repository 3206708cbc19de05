//! The module layering of toolbase, enforced: the self-contained conventions at the
//! bottom (diagnostics, the option table, numbers, the architecture table, output files,
//! the progress line), the two modules built on them above (the CLI wrapper over
//! diagnostics, the help renderer over the option table), the crate root's module list
//! over everything. The check ([`layering::check`], shared with the other crates' tests)
//! reads every module file under `src/` and fails naming the file and line of every
//! reference to a higher layer and every cycle. The declared order is [`LAYERS`];
//! ARCHITECTURE.md draws it.

#[path = "../../tests/support/layering.rs"]
mod layering;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    (
        "conventions",
        &["diag", "args", "number", "arch", "output", "progress"],
    ),
    ("built on them", &["cli", "help"]),
    ("library", &["crate"]),
];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, &[], &[]);
}
