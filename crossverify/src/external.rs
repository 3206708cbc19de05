//! The programs crossverify delegates to: running `ssh-keygen` and `openssl` with given
//! arguments and input, and the private scratch directories their files live in.
//!
//! hexroot holds no cryptography beyond SHA-256; signatures are made and checked by the
//! OpenSSH and OpenSSL command-line tools users already trust. This module owns only the
//! mechanics: find the program, feed it bytes on stdin, collect stdout, and turn a missing
//! program or a failure into a [`Diagnostic`] that says which command failed and what it
//! printed. What the arguments mean is [`crate::sign`]'s and [`crate::tlog::ed25519`]'s.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use toolbase::diag::Diagnostic;

/// A private (0700) scratch directory under the system temporary directory, removed on
/// drop.
pub(crate) struct Scratch(pub(crate) PathBuf);

impl Scratch {
    /// A fresh directory whose name starts with `crossverify-TAG-`.
    pub(crate) fn new(tag: &str) -> std::io::Result<Scratch> {
        use std::os::unix::fs::DirBuilderExt;
        let base = std::env::temp_dir();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..100u32 {
            let p = base.join(format!(
                "crossverify-{tag}-{}-{nanos}-{attempt}",
                std::process::id()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&p) {
                Ok(()) => return Ok(Scratch(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(std::io::Error::other("no free scratch directory name"))
    }

    /// [`Scratch::new`], failing with a diagnostic.
    pub(crate) fn create(tag: &str) -> Result<Scratch, Diagnostic> {
        Scratch::new(tag).map_err(|e| {
            Diagnostic::io(std::env::temp_dir(), "cannot make a scratch directory", &e)
        })
    }

    /// Writes `bytes` to the file `name` inside the directory; returns its path.
    pub(crate) fn file(&self, name: &str, bytes: &[u8]) -> Result<PathBuf, Diagnostic> {
        let p = self.0.join(name);
        std::fs::write(&p, bytes)
            .map_err(|e| Diagnostic::io(&p, "cannot write scratch file", &e))?;
        Ok(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What a finished program returned.
pub(crate) struct Finished {
    /// Whether it exited with status 0.
    pub(crate) success: bool,
    /// Its standard output.
    pub(crate) stdout: Vec<u8>,
    /// Its standard error, lossily decoded and trimmed.
    pub(crate) stderr: String,
}

/// Runs `program` with `args`, `input` on stdin, and collects its output. Only failing to
/// start it is an error here (with a hint naming `package`); a non-zero exit is the
/// caller's to judge.
pub(crate) fn run(
    program: &str,
    package: &str,
    args: &[OsString],
    input: &[u8],
) -> Result<Finished, Diagnostic> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Diagnostic::new(format!(
                "cannot run '{program}': {}",
                toolbase::diag::describe_io_error(&e)
            ))
            .hint(format!(
                "install {package} (e.g. 'apt-get install -y {package}') or put '{program}' on PATH"
            ))
        })?;
    // Feed stdin from a thread so a program that writes before reading cannot deadlock us.
    let mut stdin = child.stdin.take();
    let data = input.to_vec();
    let feeder = std::thread::spawn(move || {
        if let Some(s) = stdin.as_mut() {
            let _ = s.write_all(&data);
        }
        drop(stdin);
    });
    let out = child
        .wait_with_output()
        .map_err(|e| Diagnostic::io(program, "cannot wait for", &e))?;
    let _ = feeder.join();
    Ok(Finished {
        success: out.status.success(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// Command-line words as the arguments [`run`] takes.
pub(crate) fn words(words: &[&str]) -> Vec<OsString> {
    words.iter().map(OsString::from).collect()
}

/// A diagnostic for `program` having failed on `what`, quoting its stderr.
pub(crate) fn failed(program: &str, what: &str, finished: &Finished) -> Diagnostic {
    let d = Diagnostic::new(format!("{program} failed to {what}"));
    if finished.stderr.is_empty() {
        d
    } else {
        d.note(format!("{program} said: {}", finished.stderr))
    }
}
