//! What every hexroot binary shares: exit statuses, the streams a tool may use, error
//! reporting and the `main` wrapper.
//!
//! Tools are written as `fn(&[OsString], &mut Streams) -> i32` in their libraries, so tests
//! and other tools (crossverify's replay) can run them in-process; the binary is one line
//! that calls [`run_main`]. A library never reads `std::env::args`, never prints to the
//! process's stdout directly and never exits; this module is where those happen.
//!
//! Exit statuses: [`EXIT_SUCCESS`] (0), [`EXIT_FAILURE`] (1: bad input, I/O failure) and
//! [`EXIT_USAGE`] (2: bad command line). The drop-in tools whose reference pins a status
//! for a bad command line (mescc-tools exits 1 on `Unknown option`) use 1 there instead;
//! each tool's `--help` says which.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use crate::diag::Diagnostic;

/// Success.
pub const EXIT_SUCCESS: i32 = 0;
/// Bad input or an I/O failure.
pub const EXIT_FAILURE: i32 = 1;
/// A bad command line.
pub const EXIT_USAGE: i32 = 2;

/// The streams and terminal facts a tool may use.
pub struct Streams<'a> {
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error: diagnostics, warnings, progress.
    pub stderr: &'a mut dyn Write,
    /// Whether standard output is a terminal (progress is shown only then, unless asked).
    pub stdout_is_terminal: bool,
    /// The working directory relative file names are resolved against ([`Streams::resolve`]);
    /// `None`: the process's. An in-process caller (crossverify's replay) gives the step's
    /// directory here instead of changing the process's.
    pub cwd: Option<&'a Path>,
}

impl Streams<'_> {
    /// Where the file `name` given on the command line is: `name` under [`Streams::cwd`]
    /// when it is relative and a directory was given, `name` itself otherwise. Tools open
    /// the resolved path and, where they can, name the file as given in messages (hex2
    /// names its inputs, and its map lists them, as resolved).
    pub fn resolve(&self, name: impl AsRef<Path>) -> PathBuf {
        resolve_in(self.cwd, name)
    }

    /// Prints a diagnostic on stderr, preceded by nothing: it already carries its location.
    pub fn error(&mut self, diagnostic: &Diagnostic) {
        let _ = writeln!(self.stderr, "{diagnostic}");
    }

    /// The exit status of a finished run: 0 on success; otherwise the diagnostic is
    /// printed and the status is 1 (bad input or I/O failure).
    pub fn finish(&mut self, result: Result<(), Diagnostic>) -> i32 {
        match result {
            Ok(()) => EXIT_SUCCESS,
            Err(d) => {
                self.error(&d);
                EXIT_FAILURE
            }
        }
    }

    /// Prints `TOOL (hexroot) VERSION` on stdout, the answer of every hexroot-only tool to
    /// `--version` (the drop-ins for mescc-tools answer with [`Streams::drop_in_version`]).
    pub fn version(&mut self, tool: &str) {
        let _ = writeln!(
            self.stdout,
            "{tool} (hexroot) {}",
            env!("CARGO_PKG_VERSION")
        );
    }

    /// Prints the `--version` of a drop-in tool: the reference's text unchanged (its first
    /// line is what scripts match), then `hexroot VERSION (hexroot implementation)`, so
    /// that anyone can tell which implementation is installed.
    pub fn drop_in_version(&mut self, reference: &str) {
        let _ = write!(self.stdout, "{reference}");
        let _ = writeln!(self.stdout, "{}", hexroot_line());
    }

    /// Prints `TOOL: error: MESSAGE` and a pointer to `--help` for a bad command line.
    pub fn usage_error(&mut self, tool: &str, message: &str) {
        let _ = writeln!(self.stderr, "{tool}: error: {message}");
        let _ = writeln!(self.stderr, "{tool}: try '{tool} --help' for usage");
    }
}

/// `name` under `cwd` when it is relative and a directory is given, `name` itself
/// otherwise (see [`Streams::cwd`]).
pub fn resolve_in(cwd: Option<&Path>, name: impl AsRef<Path>) -> PathBuf {
    match cwd {
        Some(dir) if name.as_ref().is_relative() => dir.join(name),
        _ => name.as_ref().to_path_buf(),
    }
}

/// The line a drop-in tool's `--version` adds after the reference's text.
pub fn hexroot_line() -> String {
    format!(
        "hexroot {} (hexroot implementation, not the reference)",
        env!("CARGO_PKG_VERSION")
    )
}

/// The signature of a tool's entry point: arguments including the program name.
pub type ToolMain = fn(&[OsString], &mut Streams) -> i32;

/// Runs a tool as a process: collects the arguments, wires up the standard streams, treats
/// a closed stdout pipe as a normal end (like `head` closing early), and exits with the
/// tool's status.
pub fn run_main(tool: ToolMain) -> ! {
    let args: Vec<OsString> = std::env::args_os().collect();
    let stdout = io::stdout();
    let stdout_is_terminal = stdout.is_terminal();
    let mut out = PipeTolerant {
        inner: stdout.lock(),
        broken: false,
    };
    // Not locked for the whole run: a progress line's thread (`progress`) writes too.
    let mut err = io::stderr();
    let mut streams = Streams {
        stdout: &mut out,
        stderr: &mut err,
        stdout_is_terminal,
        cwd: None,
    };
    let status = tool(&args, &mut streams);
    let flushed = out.flush();
    if flushed.is_err() && !out.broken {
        let _ = writeln!(err, "error: cannot write standard output");
        std::process::exit(EXIT_FAILURE);
    }
    std::process::exit(status)
}

/// Standard output that swallows a broken pipe, remembering that it happened.
struct PipeTolerant<W> {
    inner: W,
    broken: bool,
}

impl<W: Write> Write for PipeTolerant<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.broken {
            return Ok(buf.len());
        }
        match self.inner.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.broken = true;
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.broken {
            return Ok(());
        }
        match self.inner.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.broken = true;
                Ok(())
            }
            other => other,
        }
    }
}

/// The program name to show in messages: the last path component of `argv[0]`, or
/// `default` when there is none.
pub fn program_name(args: &[OsString], default: &str) -> String {
    args.first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| default.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_names_resolve_under_the_given_directory_only() {
        let dir = Path::new("/chain/x86");
        assert_eq!(
            resolve_in(Some(dir), "bin/M1"),
            Path::new("/chain/x86/bin/M1")
        );
        assert_eq!(resolve_in(Some(dir), "/abs/f"), Path::new("/abs/f"));
        assert_eq!(resolve_in(None, "bin/M1"), Path::new("bin/M1"));
    }
}
