//! The module layering of crossverify, enforced: formats at the bottom, each command's
//! result data above them, the JSON and HTML writers (`export`) above those, the commands'
//! command lines on top. The check ([`layering::check`], shared with stage0-vm's test) reads
//! every module file under `src/` and fails naming the file and line of every reference
//! to a higher layer and every cycle. The declared order is [`LAYERS`]; ARCHITECTURE.md
//! and `src/lib.rs` draw it.

#[path = "../../tests/support/layering.rs"]
mod layering;

use std::collections::BTreeSet;

/// The layers, bottom first (see [`layering::Layers`]).
const LAYERS: layering::Layers = &[
    (
        "foundations",
        &["crate", "external", "html", "json", "json::*"],
    ),
    (
        "formats",
        &[
            "sha256sum",
            "report",
            "sign",
            "tlog",
            "tlog::*",
            "kaem",
            "kaem::*",
        ],
    ),
    (
        "results",
        &[
            "compare",
            "compare::result",
            "explain",
            "explain::disassembly",
            "explain::source",
            "seeds",
            "replay::bytediff",
            "replay::checks",
            "replay::findings",
            "replay::foreign",
            "replay::glance",
            "replay::hostcc",
            "replay::mirror",
            "replay::paths",
            "replay::provenance",
            "replay::record",
            "replay::text",
            "replay::textdiff",
            "replay::tools",
        ],
    ),
    ("export", &["export", "export::*"]),
    (
        "commands",
        &[
            "compare::cli",
            "ddc",
            "explain::cli",
            "manifest",
            "replay",
            "replay::exec",
            "replay::runner",
            "seeds::cli",
            "sign::cli",
            "tlog::cli",
        ],
    ),
    ("dispatch", &["tool"]),
];

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    layering::assert_layered(env!("CARGO_MANIFEST_DIR"), LAYERS, &[], &[]);
}

#[test]
fn every_form_of_path_is_read() {
    let code = "use crate::{report::{self, Loaded}, tlog::note::Verifier};\n\
                use super::glance;\nlet x = crate::export::write_all(a);\n\
                pub use cli::main; // crate::html is a comment\n";
    let found: BTreeSet<String> = layering::statements(code)
        .into_iter()
        .flat_map(|(_, s)| layering::paths_in(s))
        .map(|p| p.join("::"))
        .collect();
    for want in [
        "crate::report",
        "crate::report::Loaded",
        "crate::tlog::note::Verifier",
        "super::glance",
        "crate::export::write_all",
        "cli::main",
    ] {
        assert!(found.contains(want), "{want} not in {found:?}");
    }
    let code = layering::code_lines(code).join("\n");
    assert!(!code.contains("html"), "a comment was read");
}
