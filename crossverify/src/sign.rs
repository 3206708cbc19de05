//! Signed reports: OpenSSH signatures (`ssh-keygen -Y sign`) over a report's bytes, in the
//! namespace `hexroot-report`, checked against an allowed-signers file.
//!
//! A report binds its manifest by SHA-256, so a signature over the report covers the
//! manifest too. The signature sits beside the report as `REPORT.sig` (the armored
//! `-----BEGIN SSH SIGNATURE-----` text `ssh-keygen` prints). Checking asks `ssh-keygen
//! -Y find-principals` who, among the allowed signers, holds the signing key, then
//! `ssh-keygen -Y verify` whether the signature by that principal is good for exactly
//! these bytes. The principal is the voter `compare` counts: one vote per principal, however
//! many reports or host names it signs. An allowed-signers line looks like
//!
//! ```text
//! alice@example.org namespaces="hexroot-report" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI...
//! ```
//!
//! This module owns the command lines and what their answers mean; hexroot computes no
//! signature itself. The `sign` and `verify` subcommands are [`cli`].

pub mod cli;

use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;

use crate::external::{self, words, Scratch};

/// The signature namespace of reports (`ssh-keygen -n`).
pub const NAMESPACE: &str = "hexroot-report";
const SSH_KEYGEN: &str = "ssh-keygen";
const PACKAGE: &str = "openssh-client";

/// The signature file beside `report`: `REPORT.sig`.
pub fn sig_path(report: &Path) -> PathBuf {
    let mut s = report.as_os_str().to_os_string();
    s.push(".sig");
    PathBuf::from(s)
}

/// What checking a report's signature found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A good signature by this allowed principal.
    Signed(String),
    /// No `REPORT.sig`.
    Unsigned,
    /// The signing key is not in the allowed-signers file.
    UnknownSigner,
    /// The signature does not verify (altered report, wrong namespace, malformed file).
    Bad(String),
}

impl Check {
    /// Why a report without a good signature gets no vote (`None` when it has one).
    pub fn refusal(&self) -> Option<String> {
        match self {
            Check::Signed(_) => None,
            Check::Unsigned => Some("unsigned (no REPORT.sig)".into()),
            Check::UnknownSigner => Some("signed by a key not in the allowed signers".into()),
            Check::Bad(why) => Some(format!("bad signature: {why}")),
        }
    }
}

/// The armored signature of `message` by the private key `key` (or the public key of a
/// key held by ssh-agent).
pub fn sign(key: &Path, message: &[u8]) -> Result<Vec<u8>, Diagnostic> {
    let mut args = words(&["-Y", "sign", "-n", NAMESPACE, "-f"]);
    args.push(key.into());
    let done = external::run(SSH_KEYGEN, PACKAGE, &args, message)?;
    if !done.success || !done.stdout.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
        return Err(external::failed(SSH_KEYGEN, "sign", &done)
            .in_file(key.display().to_string())
            .hint("make a key with 'ssh-keygen -t ed25519 -f FILE'"));
    }
    Ok(done.stdout)
}

/// Checks `signature` over `message` against the allowed-signers file `allowed`.
pub fn verify(allowed: &Path, signature: &[u8], message: &[u8]) -> Result<Check, Diagnostic> {
    if !allowed.is_file() {
        return Err(Diagnostic::new("cannot read the allowed signers")
            .in_file(allowed.display().to_string())
            .expected(
                "a file of lines 'PRINCIPAL namespaces=\"hexroot-report\" ssh-ed25519 KEY'",
            ));
    }
    let scratch = Scratch::create("sig")?;
    let sig = scratch.file("report.sig", signature)?;
    let mut args = words(&["-Y", "find-principals", "-s"]);
    args.push(sig.clone().into());
    args.push("-f".into());
    args.push(allowed.into());
    let found = external::run(SSH_KEYGEN, PACKAGE, &args, b"")?;
    if !found.success {
        return Ok(if found.stderr.contains("No principal matched") {
            Check::UnknownSigner
        } else {
            Check::Bad(
                found
                    .stderr
                    .lines()
                    .next()
                    .unwrap_or("unreadable signature")
                    .to_string(),
            )
        });
    }
    let principals = String::from_utf8_lossy(&found.stdout).into_owned();
    let mut said = String::new();
    for principal in principals.lines().filter(|l| !l.is_empty()) {
        let mut args = words(&["-Y", "verify", "-n", NAMESPACE, "-f"]);
        args.push(allowed.into());
        args.extend(words(&["-I", principal, "-s"]));
        args.push(sig.clone().into());
        let done = external::run(SSH_KEYGEN, PACKAGE, &args, message)?;
        if done.success {
            return Ok(Check::Signed(principal.to_string()));
        }
        said = done.stderr;
    }
    Ok(Check::Bad(if said.is_empty() {
        "it does not verify".into()
    } else {
        said.lines().next().unwrap_or_default().to_string()
    }))
}

/// Checks the signature beside `report` (whose bytes are `message`).
pub fn check_report(allowed: &Path, report: &Path, message: &[u8]) -> Result<Check, Diagnostic> {
    match std::fs::read(sig_path(report)) {
        Ok(sig) => verify(allowed, &sig, message),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Check::Unsigned),
        Err(e) => Err(Diagnostic::io(
            sig_path(report),
            "cannot read signature",
            &e,
        )),
    }
}
