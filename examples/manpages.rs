//! Writes every binary's man page (`NAME.1`) and bash completion (`NAME.bash`) into a
//! directory: `cargo run --example manpages -- OUTDIR`. Both are rendered from the
//! binary's `--help` text and option table (see `hexroot::pages`).
#![forbid(unsafe_code)]

use std::path::PathBuf;

use toolbase::help::{bash_completion, man_page};
use toolbase::output::write_atomic;

fn main() {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("manpages: error: missing OUTDIR; usage: cargo run --example manpages -- OUTDIR");
        std::process::exit(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("manpages: error: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    for page in hexroot::pages::pages() {
        let files = [
            (
                format!("{}.1", page.name),
                man_page(&page, env!("CARGO_PKG_VERSION")),
            ),
            (format!("{}.bash", page.name), bash_completion(&page)),
        ];
        for (name, text) in files {
            let path = dir.join(name);
            if let Err(e) = write_atomic(&path, text.as_bytes(), 0o644) {
                eprintln!("manpages: error: cannot write {}: {e}", path.display());
                std::process::exit(1);
            }
        }
    }
}
