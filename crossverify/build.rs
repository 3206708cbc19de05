//! Embeds the bundled seeds (`../seeds/`) in the crossverify binary.
//!
//! It writes `$OUT_DIR/bundled.rs`: one `(path, Option<&[u8]>)` per seed file, `None` when
//! the file is absent from this checkout, so a partial checkout still builds and
//! `crossverify seeds` reports exactly which file is missing.

use std::fmt::Write as _;
use std::path::PathBuf;

const FILES: &[&str] = &[
    "SHA256SUMS",
    "knight/hex0.hex0",
    "knight/hex0.M1",
    "knight/defs.M1",
    "knight/hex0.rom",
    "x86/hex0.hex0",
    "x86/hex0.M1",
    "x86/defs.M1",
    "x86/hex0-seed",
    "amd64/hex0.hex0",
    "amd64/hex0.M1",
    "amd64/defs.M1",
    "amd64/hex0-seed",
];

fn main() {
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let seeds = manifest_dir.join("..").join("seeds");
    println!("cargo:rerun-if-changed={}", seeds.display());
    let mut out = String::from("/// The bundled seed files, by path relative to `seeds/`.\npub(crate) const BUNDLED: &[(&str, Option<&[u8]>)] = &[\n");
    for f in FILES {
        let p = seeds.join(f);
        println!("cargo:rerun-if-changed={}", p.display());
        if p.is_file() {
            let _ = writeln!(
                out,
                "    ({f:?}, Some(include_bytes!({:?}))),",
                p.display().to_string()
            );
        } else {
            let _ = writeln!(out, "    ({f:?}, None),");
        }
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("bundled.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
