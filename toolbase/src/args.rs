//! A small command-line parser shared by every hexroot binary.
//!
//! Each tool declares its options as a table of [`Opt`]s, every accepted spelling listed
//! (`-f` and `--file`), and walks the command line with [`Parser`], which yields options
//! and positional arguments in the order given. A tool names its options with two enums:
//! one for flags and one for options that take a value. A table entry is either
//! [`Opt::flag`] of a flag id or [`Opt::value`] of a value id, and the parser yields
//! [`Arg::Flag`] or [`Arg::Value`] with the value, so "this option takes a value" is carried
//! by the type: a tool matches every id exactly once and no arm is unreachable. A tool
//! without flags or without value options uses [`NoFlag`] or [`NoValue`] (no variants).
//!
//! Options may come in any order and may repeat (`-f a -f b`); a value is always the next
//! argument, as in mescc-tools (no `--opt=value`, no bundling of short flags). The parser
//! knows nothing about what options mean; it only reports unknown options and missing
//! values as [`UsageError`]s, typed so that a tool may word them its own way.
//!
//! An option may also carry its help ([`Opt::doc`]): one line saying what it does, with
//! the name of its value given to [`Opt::value`], and whether it is hexroot's own rather
//! than the reference's ([`Opt::hexroot`]). [`crate::help`] renders the `--help` option
//! list, the man page and the bash completion from that same table, so parsing and help
//! cannot disagree.

use std::ffi::{OsStr, OsString};
use std::fmt;

/// The flag ids of a tool whose options all take a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoFlag {}

/// The value ids of a tool whose options are all flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoValue {}

/// What an option is: a flag, or an option whose value is the next argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind<F, V> {
    /// An option without a value.
    Flag(F),
    /// An option with a value, and the value's name in help (`FILE`).
    Value(V, &'static str),
}

/// One option of a tool: its spellings, what it is, and its help.
#[derive(Clone, Copy, Debug)]
pub struct Opt<F, V> {
    /// Every accepted spelling, e.g. `&["-f", "--file"]`.
    pub names: &'static [&'static str],
    /// The tool's id for it, and whether it takes a value.
    pub kind: Kind<F, V>,
    /// What it does, for `--help` (continuation lines start with `\n`); empty: not listed.
    pub help: &'static str,
    /// Whether the option is hexroot's own, not the reference tool's.
    pub hexroot: bool,
}

impl<F, V> Opt<F, V> {
    /// An option without a value, spelled any of `names`: `Opt::flag(&["-h", "--help"], Help)`.
    pub const fn flag(names: &'static [&'static str], id: F) -> Self {
        Opt {
            names,
            kind: Kind::Flag(id),
            help: "",
            hexroot: false,
        }
    }

    /// An option whose value is the next argument, named `value_name` in help:
    /// `Opt::value(&["-f", "--file"], File, "FILE")`.
    pub const fn value(names: &'static [&'static str], id: V, value_name: &'static str) -> Self {
        Opt {
            names,
            kind: Kind::Value(id, value_name),
            help: "",
            hexroot: false,
        }
    }

    /// The option with its help line(s), which lists it in `--help`.
    pub const fn doc(mut self, help: &'static str) -> Self {
        self.help = help;
        self
    }

    /// The option marked as hexroot's own (the reference tool has no such option).
    pub const fn hexroot(mut self) -> Self {
        self.hexroot = true;
        self
    }

    /// The name of its value in help (`FILE`); empty for a flag.
    pub const fn value_name(&self) -> &'static str {
        match self.kind {
            Kind::Flag(_) => "",
            Kind::Value(_, name) => name,
        }
    }
}

/// One item of a command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg<'a, F, V> {
    /// A flag.
    Flag(F),
    /// An option that takes a value, with its value.
    Value(V, &'a OsStr),
    /// An argument that is not an option (it does not start with `-`, or is `-` itself).
    Positional(&'a OsStr),
}

/// A command line the tool cannot accept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UsageError {
    /// An argument starting with `-` that no option of the table spells, as given.
    UnknownOption(String),
    /// An option that takes a value, spelled as given, was the last argument.
    MissingValue(&'static str),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::UnknownOption(arg) => write!(f, "unknown option '{arg}'"),
            UsageError::MissingValue(name) => write!(
                f,
                "option '{name}' needs a value, but it is the last argument"
            ),
        }
    }
}

/// Walks `args` (without the program name) against a table of options.
pub struct Parser<'a, F, V> {
    args: &'a [OsString],
    next: usize,
    opts: &'a [Opt<F, V>],
}

impl<'a, F: Copy, V: Copy> Parser<'a, F, V> {
    /// A parser over `args`, which must not include the program name.
    pub fn new(args: &'a [OsString], opts: &'a [Opt<F, V>]) -> Self {
        Parser {
            args,
            next: 0,
            opts,
        }
    }

    /// The arguments not yet read (after a positional argument: those after it), for a
    /// tool whose options end at its first positional argument.
    pub fn rest(&self) -> &'a [OsString] {
        self.args.get(self.next..).unwrap_or(&[])
    }

    fn lookup(&self, name: &OsStr) -> Option<(&'static str, &'a Opt<F, V>)> {
        self.opts.iter().find_map(|o| {
            o.names
                .iter()
                .find(|n| OsStr::new(n) == name)
                .map(|n| (*n, o))
        })
    }
}

impl<'a, F: Copy, V: Copy> Iterator for Parser<'a, F, V> {
    type Item = Result<Arg<'a, F, V>, UsageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let arg = self.args.get(self.next)?;
        self.next += 1;
        let bytes = arg.as_encoded_bytes();
        if bytes.len() < 2 || bytes[0] != b'-' {
            return Some(Ok(Arg::Positional(arg)));
        }
        let Some((name, opt)) = self.lookup(arg) else {
            return Some(Err(UsageError::UnknownOption(
                arg.to_string_lossy().into_owned(),
            )));
        };
        let id = match opt.kind {
            Kind::Flag(id) => return Some(Ok(Arg::Flag(id))),
            Kind::Value(id, _) => id,
        };
        match self.args.get(self.next) {
            Some(value) => {
                self.next += 1;
                Some(Ok(Arg::Value(id, value)))
            }
            None => Some(Err(UsageError::MissingValue(name))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Flag {
        Quiet,
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Value {
        File,
    }

    const OPTS: &[Opt<Flag, Value>] = &[
        Opt::value(&["-f", "--file"], Value::File, "FILE"),
        Opt::flag(&["-q", "--quiet"], Flag::Quiet),
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
                Arg::Value(Value::File, OsStr::new("a")),
                Arg::Positional(OsStr::new("x")),
                Arg::Flag(Flag::Quiet),
                Arg::Value(Value::File, OsStr::new("b")),
                Arg::Positional(OsStr::new("-")),
            ]
        );
    }

    #[test]
    fn missing_value_and_unknown_option_are_errors() {
        let args = os(&["--file"]);
        let err = Parser::new(&args, OPTS).next().unwrap().unwrap_err();
        assert_eq!(err, UsageError::MissingValue("--file"));
        assert_eq!(
            err.to_string(),
            "option '--file' needs a value, but it is the last argument"
        );
        let args = os(&["--frob"]);
        let err = Parser::new(&args, OPTS).next().unwrap().unwrap_err();
        assert_eq!(err.to_string(), "unknown option '--frob'");
    }

    #[test]
    fn rest_is_what_follows_the_last_item_read() {
        let args = os(&["-q", "prog", "-f", "x"]);
        let mut parser = Parser::new(&args, OPTS);
        assert_eq!(parser.next(), Some(Ok(Arg::Flag(Flag::Quiet))));
        assert_eq!(parser.next(), Some(Ok(Arg::Positional(OsStr::new("prog")))));
        assert_eq!(parser.rest(), &os(&["-f", "x"])[..]);
    }

    #[test]
    fn a_table_of_flags_only_needs_no_value_arm() {
        const FLAGS: &[Opt<Flag, NoValue>] = &[Opt::flag(&["-q"], Flag::Quiet)];
        let args = os(&["-q"]);
        for arg in Parser::new(&args, FLAGS) {
            match arg {
                Ok(Arg::Flag(Flag::Quiet)) | Ok(Arg::Positional(_)) | Err(_) => {}
            }
        }
    }
}
