//! # toolbase: what every hexroot tool shares
//!
//! The bottom crate of the workspace. It owns the conventions every tool follows, so no
//! tool crate depends on another tool crate for things that are not that tool:
//!
//! - [`diag`]: the located error shape (`FILE:LINE:COL: error: ...`, expected, found, hint);
//! - [`output`]: outputs written to a temporary file and renamed, never half-written;
//! - [`args`]: the option parser, where one definition per option drives parsing and `--help`;
//! - [`help`]: the `--help` option list, man page, bash completion and examples, from one
//!   description;
//! - [`cli`]: exit statuses, the [`cli::Streams`] a tool writes to, and the `main` wrapper;
//! - [`progress`]: one updating progress line on stderr with elapsed time and an estimate;
//! - [`number`]: the reference's `strtoint`, shared by hex2 and M1;
//! - [`arch`]: the one architecture table (names, endianness, word size, seed base address,
//!   system-call convention) every crate reads.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// A `Diagnostic` is built only on the cold error path; boxing it would cost an allocation per
// reported error and an indirection per field for no measurable gain.
#![allow(clippy::result_large_err)]

pub mod arch;
pub mod args;
pub mod cli;
pub mod diag;
pub mod help;
pub mod number;
pub mod output;
pub mod progress;
