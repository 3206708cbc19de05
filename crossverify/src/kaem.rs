//! A kaem interpreter: runs the kaem scripts of a bootstrap chain, handing every program
//! it would start to a [`shell::Host`].
//!
//! This module owns kaem's language - [`syntax`] (a pure parser over bytes), [`expand`]
//! (variables) and [`shell`] (builtins, assignments, aliases, `cd`, PATH lookup,
//! `--verbose`/`--strict`, and nested kaem runs interpreted in-process) - but does not
//! start processes or run tools itself: the host decides how each program runs (that is
//! `crate::replay`). Both dialects are covered: the seeds' minimal kaem (`kaem-0`,
//! `kaem-optional-seed`) and mescc-tools' full kaem, with the constructs listed in
//! seed-tools.md §6 and §7. `if`/`then`/`else`/`fi` (unused by any chain) is reported as
//! unsupported rather than guessed at.

// A `Diagnostic` is built only on the cold error path; boxing it would cost an allocation
// per reported error for no measurable gain (as in the hex0 crate).
#![allow(clippy::result_large_err)]

pub mod expand;
pub mod shell;
pub mod syntax;

pub use expand::{expand_joined, expand_words, Vars};
pub use shell::{Frame, Host, Shell, Step};
pub use syntax::{parse, Command, Dialect, ParseError, ParseErrorKind, Part, Word};

#[cfg(test)]
mod tests;
