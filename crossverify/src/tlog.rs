//! A transparency log of reports, as static files: C2SP `tlog-tiles` (an RFC 6962 Merkle
//! tree served as tiles of height 8, with entry bundles), `tlog-checkpoint` signed notes,
//! `tlog-proof` inclusion proofs and `tlog-witness` consistency proofs.
//!
//! Each entry is the exact bytes of one report. The log is a directory that any static
//! web server, object store or CDN can serve: nothing of ours runs on a server, readers
//! fetch the checkpoint and the tiles they need and compute proofs themselves, and
//! checkpoints in this format can be cosigned by the public C2SP witnesses. Module map:
//! [`merkle`] the tree arithmetic; [`tiles`] the directory layout, appending and reading;
//! [`note`] signed notes and verifier keys; [`ed25519`] the OpenSSL delegation;
//! [`checkpoint`] the tree head; [`proof`] the proof texts; [`cosignature`] witness
//! cosignatures and the quorum of them a reader requires; [`witness`] an offline witness
//! (what a `tlog-witness` checks before it cosigns); [`cli`] the `log` subcommand.
//! The only cryptography in hexroot is SHA-256; signatures are OpenSSL's.

pub mod base64;
pub mod checkpoint;
pub mod cli;
pub mod cosignature;
pub mod ed25519;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod tiles;
pub mod witness;

/// The proof file written beside `report`: `REPORT.tlog-proof`.
pub fn proof_path(report: &std::path::Path) -> std::path::PathBuf {
    let mut s = report.as_os_str().to_os_string();
    s.push(".tlog-proof");
    std::path::PathBuf::from(s)
}
