//! The module layering of m1, enforced: the settings and the inputs at the bottom, the
//! lexer, the number writers, the intern table and the map format above them, then the
//! pure expressions and the two token walks (the collapsed list and the fast walk), the
//! typed errors, the located DEFINE expansion, pass 1 and pass 2's output blocks, pass 2's
//! printer, the engines (M1's, M0's, blood-elf's, the reference), the command lines, and
//! the crate root's re-exports over everything. The check ([`layering::check`], shared
//! with the other crates' tests) reads every module file under `src/` and fails naming the
//! file and line of every reference to a higher layer and every cycle. The declared order
//! is [`LAYERS`]; ARCHITECTURE.md draws it.

#[path = "../../tests/support/layering.rs"]
mod layering;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    ("settings", &["config", "source"]),
    ("tokens", &["lexer", "number", "intern", "map"]),
    ("expressions", &["express", "collapse", "walk"]),
    ("diagnostics", &["diagnose"]),
    ("expansion", &["expand"]),
    ("passes", &["analyse", "blocks"]),
    ("printing", &["print"]),
    ("engines", &["engine", "m0", "blood_elf", "reference"]),
    ("commands", &["tool"]),
    ("library", &["crate"]),
];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, &[], &[]);
}

#[test]
fn a_grouped_use_of_modules_refers_to_them_and_not_to_the_crate_root() {
    // `tool` imports `use crate::{blood_elf, m0};`: two modules, not the crate root above it
    let paths: Vec<String> = layering::paths_in("use crate::{blood_elf, m0};")
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(paths, ["crate::blood_elf", "crate::m0"]);
    // `self` names the prefix; a nested list's members are not the outer list's
    let paths: Vec<String> = layering::paths_in("use crate::{report::{self, Loaded}, m0};")
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    assert_eq!(
        paths,
        ["crate::m0", "crate::report", "crate::report::Loaded"]
    );
}
