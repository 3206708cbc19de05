//! Ed25519 signatures made and checked by OpenSSL (`openssl pkeyutl -rawin`), for the
//! log's signed notes.
//!
//! A signing key is an Ed25519 private key in a PEM file (`openssl genpkey -algorithm
//! ed25519 -out log.pem`); its raw 32-byte public key is read back with `openssl pkey
//! -pubout -outform DER` (a 12-byte SubjectPublicKeyInfo prefix, then the key).
//! Verification writes the public key in the same DER form to a private scratch
//! directory and asks `openssl pkeyutl -verify`. hexroot computes no signature itself;
//! this module owns only the command lines and the DER wrapping of a raw key.

use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;

use crate::external::{self, words, Scratch};

/// The DER SubjectPublicKeyInfo prefix of an Ed25519 public key (RFC 8410).
const SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];
const OPENSSL: &str = "openssl";
const PACKAGE: &str = "openssl";

/// An Ed25519 private key in a PEM file, with its public key.
#[derive(Clone, Debug)]
pub struct SigningKey {
    /// The PEM file.
    pub path: PathBuf,
    /// The raw 32-byte public key.
    pub public: [u8; 32],
}

impl SigningKey {
    /// Reads the public half of the Ed25519 private key in `path`.
    pub fn load(path: &Path) -> Result<SigningKey, Diagnostic> {
        let mut args = words(&["pkey", "-in"]);
        args.push(path.into());
        args.extend(words(&["-pubout", "-outform", "DER"]));
        let done = external::run(OPENSSL, PACKAGE, &args, b"")?;
        if !done.success {
            return Err(external::failed(OPENSSL, "read the key", &done)
                .in_file(path.display().to_string())
                .hint("make one with 'openssl genpkey -algorithm ed25519 -out FILE'"));
        }
        match done.stdout.strip_prefix(&SPKI_PREFIX[..]) {
            Some(k) if k.len() == 32 => Ok(SigningKey {
                path: path.to_path_buf(),
                public: k.try_into().expect("32 bytes"),
            }),
            _ => Err(Diagnostic::new("not an Ed25519 key")
                .in_file(path.display().to_string())
                .hint("make one with 'openssl genpkey -algorithm ed25519 -out FILE'")),
        }
    }

    /// The 64-byte Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Diagnostic> {
        let scratch = Scratch::create("sign")?;
        let msg = scratch.file("message", message)?;
        let mut args = words(&["pkeyutl", "-sign", "-rawin", "-inkey"]);
        args.push(self.path.clone().into());
        args.push("-in".into());
        args.push(msg.into());
        let done = external::run(OPENSSL, PACKAGE, &args, b"")?;
        if !done.success || done.stdout.len() != 64 {
            return Err(
                external::failed(OPENSSL, "sign", &done).in_file(self.path.display().to_string())
            );
        }
        Ok(done.stdout)
    }
}

/// Whether `signature` is a valid Ed25519 signature of `message` by `public`. A bad
/// signature is `Ok(false)`; only failing to run OpenSSL is an error.
pub fn verify(public: &[u8; 32], message: &[u8], signature: &[u8]) -> Result<bool, Diagnostic> {
    if signature.len() != 64 {
        return Ok(false);
    }
    let scratch = Scratch::create("verify")?;
    let mut der = SPKI_PREFIX.to_vec();
    der.extend_from_slice(public);
    let key = scratch.file("key.der", &der)?;
    let msg = scratch.file("message", message)?;
    let sig = scratch.file("signature", signature)?;
    let mut args = words(&["pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey"]);
    args.push(key.into());
    args.extend(words(&["-rawin", "-in"]));
    args.push(msg.into());
    args.push("-sigfile".into());
    args.push(sig.into());
    let done = external::run(OPENSSL, PACKAGE, &args, b"")?;
    let said = String::from_utf8_lossy(&done.stdout);
    if done.success && said.contains("Signature Verified Successfully") {
        Ok(true)
    } else if said.contains("Signature Verification Failure") {
        Ok(false)
    } else {
        Err(external::failed(OPENSSL, "verify a signature", &done))
    }
}
