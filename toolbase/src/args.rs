//! A small command-line parser shared by every hexroot binary.
//!
//! Each tool declares its options as a table of [`Opt`]s, every accepted spelling listed
//! (`-f` and `--file`), and walks the command line with [`Parser`], which yields options
//! with their values and positional arguments in the order given. Options may come in any
//! order and may repeat (`-f a -f b`); a value is always the next argument, as in
//! mescc-tools (no `--opt=value`, no bundling of short flags). The parser knows nothing
//! about what options mean; it only reports unknown options and missing values as
//! [`UsageError`]s.
//!
//! An option may also carry its help ([`Opt::doc`]): the name of its value and one line
//! saying what it does, and whether it is hexroot's own rather than the reference's
//! ([`Opt::hexroot`]). [`crate::help`] renders the `--help` option list, the man page
//! and the bash completion from that same table, so parsing and help cannot disagree.

use std::ffi::{OsStr, OsString};
use std::fmt;

/// One option of a tool: its spellings, whether it takes a value, and the tool's name for
/// it.
#[derive(Clone, Copy, Debug)]
pub struct Opt<T> {
    /// Every accepted spelling, e.g. `&["-f", "--file"]`.
    pub names: &'static [&'static str],
    /// Whether the next argument is the option's value.
    pub takes_value: bool,
    /// What the tool calls this option.
    pub id: T,
    /// The name of its value in help (`FILE`); empty for a flag or an undocumented option.
    pub value_name: &'static str,
    /// What it does, for `--help` (continuation lines start with `\n`); empty: not listed.
    pub help: &'static str,
    /// Whether the option is hexroot's own, not the reference tool's.
    pub hexroot: bool,
}

impl<T> Opt<T> {
    /// An option without a value, spelled any of `names`: `Opt::flag(&["-h", "--help"], Help)`.
    pub const fn flag(names: &'static [&'static str], id: T) -> Self {
        Opt {
            names,
            takes_value: false,
            id,
            value_name: "",
            help: "",
            hexroot: false,
        }
    }

    /// An option whose value is the next argument: `Opt::value(&["-f", "--file"], File)`.
    pub const fn value(names: &'static [&'static str], id: T) -> Self {
        Opt {
            names,
            takes_value: true,
            id,
            value_name: "",
            help: "",
            hexroot: false,
        }
    }

    /// The option with its help: `value_name` (`FILE`, empty for a flag) and `help`.
    pub const fn doc(mut self, value_name: &'static str, help: &'static str) -> Self {
        self.value_name = value_name;
        self.help = help;
        self
    }

    /// The option marked as hexroot's own (the reference tool has no such option).
    pub const fn hexroot(mut self) -> Self {
        self.hexroot = true;
        self
    }
}

/// One item of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg<'a, T> {
    /// An option, with its value when it takes one.
    Opt(T, Option<&'a OsStr>),
    /// An argument that is not an option (it does not start with `-`, or is `-` itself).
    Positional(&'a OsStr),
}

/// A command line the tool cannot accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError {
    /// What was wrong, in one line.
    pub message: String,
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl UsageError {
    /// A usage error with this message.
    #[cold]
    pub fn new(message: impl Into<String>) -> Self {
        UsageError {
            message: message.into(),
        }
    }
}

/// Walks `args` (without the program name) against a table of options.
pub struct Parser<'a, T> {
    args: &'a [OsString],
    next: usize,
    opts: &'a [Opt<T>],
}

impl<'a, T: Copy> Parser<'a, T> {
    /// A parser over `args`, which must not include the program name.
    pub fn new(args: &'a [OsString], opts: &'a [Opt<T>]) -> Self {
        Parser {
            args,
            next: 0,
            opts,
        }
    }

    fn lookup(&self, name: &OsStr) -> Option<&'a Opt<T>> {
        self.opts
            .iter()
            .find(|o| o.names.iter().any(|n| OsStr::new(n) == name))
    }
}

impl<'a, T: Copy> Iterator for Parser<'a, T> {
    type Item = Result<Arg<'a, T>, UsageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let arg = self.args.get(self.next)?;
        self.next += 1;
        let bytes = arg.as_encoded_bytes();
        if bytes.len() < 2 || bytes[0] != b'-' {
            return Some(Ok(Arg::Positional(arg)));
        }
        let Some(opt) = self.lookup(arg) else {
            return Some(Err(UsageError::new(format!(
                "unknown option '{}'",
                arg.to_string_lossy()
            ))));
        };
        if !opt.takes_value {
            return Some(Ok(Arg::Opt(opt.id, None)));
        }
        match self.args.get(self.next) {
            Some(value) => {
                self.next += 1;
                Some(Ok(Arg::Opt(opt.id, Some(value))))
            }
            None => Some(Err(UsageError::new(format!(
                "option '{}' needs a value, but it is the last argument",
                arg.to_string_lossy()
            )))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Id {
        File,
        Quiet,
    }

    const OPTS: &[Opt<Id>] = &[
        Opt::value(&["-f", "--file"], Id::File),
        Opt::flag(&["-q", "--quiet"], Id::Quiet),
    ];

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn repeated_values_and_any_order() {
        let args = os(&["-f", "a", "x", "--quiet", "--file", "b", "-"]);
        let got: Vec<_> = Parser::new(&args, OPTS).map(Result::unwrap).collect();
        assert_eq!(
            got,
            vec![
                Arg::Opt(Id::File, Some(OsStr::new("a"))),
                Arg::Positional(OsStr::new("x")),
                Arg::Opt(Id::Quiet, None),
                Arg::Opt(Id::File, Some(OsStr::new("b"))),
                Arg::Positional(OsStr::new("-")),
            ]
        );
    }

    #[test]
    fn missing_value_and_unknown_option_are_errors() {
        let args = os(&["-f"]);
        assert!(Parser::new(&args, OPTS).next().unwrap().is_err());
        let args = os(&["--frob"]);
        let err = Parser::new(&args, OPTS).next().unwrap().unwrap_err();
        assert_eq!(err.message, "unknown option '--frob'");
    }
}
