//! The `seeds` part of crossverify (being written).

use std::ffi::OsString;

use hex0::cli::{Streams, EXIT_USAGE};

/// Runs `crossverify seeds` with `args` (subcommand name first).
pub fn main(_args: &[OsString], _io: &mut Streams) -> i32 {
    EXIT_USAGE
}
