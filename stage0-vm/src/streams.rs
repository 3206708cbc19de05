//! The host streams a Knight run uses ([`Io`]), shared by the machine (TTY device,
//! `--trace`) and POSIX mode (descriptors 0, 1 and 2), below both.

use std::io::{Read, Write};

/// The host streams a run may use: stdin/stdout for the TTY (unless `--tty-in`/`--tty-out`
/// name files) and POSIX fds 0..2; stderr also receives `--trace` lines.
pub struct Io<'a> {
    /// Standard input.
    pub stdin: &'a mut dyn Read,
    /// Standard output.
    pub stdout: &'a mut dyn Write,
    /// Standard error.
    pub stderr: &'a mut dyn Write,
}
