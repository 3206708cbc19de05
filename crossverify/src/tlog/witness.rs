//! An offline witness: what a C2SP `tlog-witness` does on `add-checkpoint`, run by one of
//! the machines that check each other instead of by a public service.
//!
//! The witness keeps one file per log, its *state*: the last checkpoint it cosigned
//! (none at first, meaning size 0). Given a request (`old N`, a consistency proof, a blank
//! line, a checkpoint) it checks, as the spec asks, that the checkpoint is signed by the
//! log's key, that `N` is the size of its state (otherwise it refuses, saying the size it
//! holds, the HTTP 409 of the protocol), that the proof leads from its state to the new
//! checkpoint (same size: same root), then records the new checkpoint as its state and
//! returns the cosignature line (the protocol's response body). It never cosigns two
//! inconsistent trees. This module owns those checks; the formats are
//! [`crate::tlog::proof`]'s and [`crate::tlog::cosignature`]'s.

use std::path::Path;

use toolbase::diag::Diagnostic;
use toolbase::output::write_atomic;

use super::checkpoint::{self, Signed};
use super::cosignature::Witness;
use super::ed25519::SigningKey;
use super::note::{Signature, Verifier};
use super::proof::Consistency;

/// The checkpoint the witness last cosigned, from `state` (`None` when the file does not
/// exist: the witness has never cosigned this log).
pub fn load_state(state: &Path, log: &Verifier) -> Result<Option<Signed>, Diagnostic> {
    match std::fs::read(state) {
        Ok(bytes) => checkpoint::open(&state.display().to_string(), &bytes, log).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Diagnostic::io(state, "cannot read witness state", &e)),
    }
}

/// Checks the `add-checkpoint` body `request` (read from `file`) against the witness's
/// `state` and the log's key; on success records the new checkpoint in `state` and
/// returns it with the cosignature by `witness` (private key `key`) at time `now`.
pub fn add_checkpoint(
    file: &str,
    request: &[u8],
    log: &Verifier,
    state: &Path,
    witness: &Witness,
    key: &SigningKey,
    now: u64,
) -> Result<(Signed, Signature), Diagnostic> {
    if key.public != witness.public {
        return Err(Diagnostic::new("the private key is not the witness's key")
            .in_file(key.path.display().to_string()));
    }
    let proof = Consistency::parse(file, request)?;
    let older = load_state(state, log)?;
    let held = older.as_ref().map_or(0, |s| s.checkpoint.size);
    if proof.old != held {
        return Err(Diagnostic::new(
            "the request starts from another tree size than the witness holds",
        )
        .in_file(file)
        .expected(format!("old {held}"))
        .found(format!("old {}", proof.old))
        .note(format!(
            "the witness last cosigned tree size {held} ({})",
            state.display()
        ))
        .hint(format!(
            "make the request again: crossverify log prove --from {} DIR",
            state.display()
        )));
    }
    let newer = match &older {
        Some(o) => proof.verify(file, o, log)?,
        None => proof.verify_from_empty(file, log)?,
    };
    let cosignature = witness.sign(key, now, &newer.note.text)?;
    // The state is the log's checkpoint as cosigned (the log's signature, not the other
    // witnesses' lines, which this witness did not check).
    let mut recorded = newer.note.clone();
    let id = log.key_id();
    recorded
        .signatures
        .retain(|s| s.name == log.name && s.key_id == id);
    write_atomic(state, recorded.render().as_bytes(), crate::FILE_MODE)
        .map_err(|e| Diagnostic::io(state, "cannot write witness state", &e))?;
    Ok((newer, cosignature))
}
