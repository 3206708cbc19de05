//! The module layering of hex0, enforced: the language at the bottom, the reference
//! reading of it beside it, the two command lines above, the crate root's re-exports over
//! everything. The check ([`layering::check`], shared with the other crates' tests) reads
//! every module file under `src/` and fails naming the file and line of every reference
//! to a higher layer and every cycle. The declared order is [`LAYERS`]; ARCHITECTURE.md
//! draws it.

#[path = "../../tests/support/layering.rs"]
mod layering;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    ("language", &["lang"]),
    ("reference", &["reference"]),
    ("commands", &["tool", "catm"]),
    ("library", &["crate"]),
];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, &[], &[]);
}
