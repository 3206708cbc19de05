//! The module layering of hex2, enforced: the link settings and the source locations at
//! the bottom, the label table, the map format and the pointer rules above them, the
//! result of a link above those, the two linkers (the engine and the reference) above
//! that, the command line on top and the crate root's library calls over everything. The
//! check ([`layering::check`], shared with the other crates' tests) reads every module
//! file under `src/` and fails naming the file and line of every reference to a higher
//! layer and every cycle. The engine's directory counts as one module there; inside it
//! each file is its own module and the parts are ordered ([`PARTS`]): a part uses only
//! the parts before it, besides the engine's own types. The declared orders are
//! [`LAYERS`] and [`PARTS`]; ARCHITECTURE.md draws them.

#[path = "../../tests/support/layering.rs"]
mod layering;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    ("settings", &["config", "source"]),
    ("tables", &["labels", "map", "pointer"]),
    ("result", &["linked"]),
    ("linkers", &["engine", "reference"]),
    ("commands", &["tool"]),
    ("library", &["crate"]),
];

/// The directories that count as one module each in [`LAYERS`] (their insides: [`PARTS`]).
const UNITS: &[&str] = &["engine"];

/// The engine directory's parts, bottom first (see [`layering::check_parts`]).
const PARTS: layering::Parts = &[("engine", &["diagnose", "scan", "link", "output", "fork"])];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, UNITS, PARTS);
}
