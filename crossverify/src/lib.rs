//! # crossverify: rebuild the seeds by every path, write, compare and explain manifests
//!
//! crossverify is hexroot's main job. `crossverify seeds` rebuilds each bundled seed (Knight,
//! x86, amd64) by every independent path available on this host (our hex0 library, our M1
//! and hex2, the seed itself running in our Knight VM or natively) and checks each result
//! against `seeds/SHA256SUMS`. `crossverify manifest` writes a GNU `sha256sum` file with a
//! report bound to it (host, OS, CPU architecture, implementations, date); `crossverify
//! compare` decides, artifact by artifact, whether reports from several machines agree
//! (quorum, diversity, fail closed); `crossverify explain` says where two artifacts differ:
//! byte offset, ELF segment and virtual address, symbol, and with hex2 map files the
//! source token that emitted the byte.
//!
//! `crossverify sign` / `verify` attach and check OpenSSH signatures on reports, so a vote
//! is attributable to a signer; `crossverify log` keeps reports in an append-only C2SP
//! transparency log of static files (tiles, checkpoints, inclusion and consistency
//! proofs), so a publisher cannot show different reports to different people.
//!
//! Module map: [`tool`] dispatches subcommands; [`seeds`] owns the seed table and the
//! rebuild paths; [`sha256sum`] the sha256sum format (its one writer and one reader);
//! [`report`] the report format and the host facts; [`manifest`] the subcommand that
//! writes the two; [`compare`] the agreement policy; [`sign`] report signatures; [`tlog`]
//! the transparency log; [`explain`] the byte-level diagnosis; a private module runs the
//! external programs (`ssh-keygen`, `openssl`) and owns their scratch directories;
//! [`json`] and [`html`] the documents' values and pages, [`export`] the writers of every
//! command's `--json` document and `--html` page, [`replay`] and [`ddc`] the chain replays.
//!
//! The modules are layered (drawn top first); a module uses only its own layer and the
//! ones below, no modules form a cycle, and `tests/layers.rs` checks both on every module
//! file:
//!
//! ```text
//! dispatch     tool
//! commands     compare::cli  seeds::cli  explain::cli  manifest  sign::cli  tlog::cli
//!              replay  ddc  replay::exec  replay::runner
//! export       export::{compare, explain, manifest, replay, seeds}  (JSON and HTML)
//! results      compare + compare::result  seeds  explain + explain::{source, disassembly}
//!              replay::{record, findings, text, glance, checks, hostcc, tools, mirror, ...}
//! formats      sha256sum  report  sign  tlog::*  kaem::*
//! foundations  this root (sha256_hex, FILE_MODE)  json::*  html  external
//! ```
//!
//! A command builds its result (the data its text, JSON and HTML are made from) and hands
//! it to [`export`]; the writers see only result types, never a command line.
//!
//! ```
//! use crossverify::sha256sum::{parse, render, Entry};
//! // A known answer: SHA-256 of "abc", listed the way `sha256sum` lists it.
//! let entry = Entry::of("abc.txt", b"abc");
//! let text = render(&[entry.clone()]);
//! assert_eq!(
//!     text,
//!     b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  abc.txt\n"
//! );
//! assert_eq!(parse("abc.sha256", &text).unwrap(), [entry]);
//! ```
//!
//! Non-features: no network, no server (the log is files for any static host), no
//! cryptography but SHA-256 (signatures are `ssh-keygen`'s and `openssl`'s), no state
//! outside the files named on the command line. crossverify is the only hexroot crate
//! that spawns processes (the native seeds in [`seeds`], and the two signing programs).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Errors are hex0's `Diagnostic` (160 bytes), built only on the cold path of a failed
// run; boxing them would buy nothing measurable.
#![allow(clippy::result_large_err)]

pub mod compare;
pub mod ddc;
pub mod explain;
pub mod export;
mod external;
pub mod html;
pub mod json;
pub mod kaem;
pub mod manifest;
pub mod replay;
pub mod report;
pub mod seeds;
pub mod sha256sum;
pub mod sign;
pub mod tlog;
pub mod tool;

/// Mode of every file crossverify writes (manifests, reports, signatures, log files),
/// before umask.
pub const FILE_MODE: u32 = 0o644;

/// Lower-case hexadecimal SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}
