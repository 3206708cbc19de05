//! The `crossverify` command: subcommand dispatch, `--help` and `--version`.
//!
//! It owns only the first word of the command line. Each subcommand is a
//! `fn(&[OsString], &mut Streams) -> i32` in its module and receives the arguments from the
//! subcommand name on (so its `args[0]` is `seeds`, `manifest`, ...), which lets tests call
//! a subcommand directly.

use std::ffi::OsString;

use toolbase::args::{Arg, NoValue, Opt, Parser};
use toolbase::cli::{program_name, Streams, ToolMain, EXIT_SUCCESS, EXIT_USAGE};

/// The subcommands, by name, with their entry points and one-line summaries.
pub const SUBCOMMANDS: &[(&str, ToolMain, &str)] = &[
    (
        "seeds",
        crate::seeds::cli::main,
        "rebuild the bundled seeds by every path, check SHA256SUMS",
    ),
    (
        "manifest",
        crate::manifest::main,
        "write a sha256sum manifest and its report",
    ),
    (
        "compare",
        crate::compare::cli::main,
        "decide agreement per artifact across reports",
    ),
    (
        "sign",
        crate::sign::cli::sign_main,
        "sign reports with an OpenSSH key (ssh-keygen -Y sign)",
    ),
    (
        "verify",
        crate::sign::cli::verify_main,
        "check reports' signatures against allowed signers",
    ),
    (
        "log",
        crate::tlog::cli::main,
        "append reports to a transparency log of static files; prove, verify",
    ),
    (
        "explain",
        crate::explain::cli::main,
        "show where two artifacts differ",
    ),
    (
        "replay",
        crate::replay::main,
        "replay a bootstrap's kaem scripts with hexroot's tools",
    ),
    (
        "ddc",
        crate::ddc::main,
        "diverse double-compiling of a compiler the chain builds",
    ),
];

const HELP: &str = "\
Usage: crossverify SUBCOMMAND [ARGS...]

Rebuilds hexroot's seeds by every independent path and cross-checks artifacts between
machines. Run 'crossverify SUBCOMMAND --help' for a subcommand's options.

Subcommands:
";

/// The options of `crossverify` itself (each subcommand has its own).
#[derive(Clone, Copy)]
enum Flag {
    Help,
    Version,
}

const OPTS: &[Opt<Flag, NoValue>] = &[
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// What `--help` prints after the subcommands, before the option list `OPTS` renders.
const HELP_OPTIONS: &str = "
Options:
";

/// What `--help` prints after the option list.
const HELP_TAIL: &str = "
Exit status: 0 agreement (or success), 1 disagreement or bad input, 2 bad command line
or an error that prevents a verdict.

Run 'crossverify help SUBCOMMAND' for a subcommand's help too, and 'crossverify
SUBCOMMAND --version' for the version.

Example:
  $ crossverify seeds --out seeds-out && cd seeds-out && sha256sum -c crossverify-seeds.sha256
";

/// Runs `crossverify` with `args` (program name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    // Started as `M1`, `hex2`, ... (a link in replay's PATH directory): act as that tool.
    if let Some(status) = crate::replay::tools::multicall(args, io) {
        return status;
    }
    let tool = program_name(args, "crossverify");
    let Some(first) = args.get(1) else {
        io.usage_error(
            &tool,
            "missing SUBCOMMAND: expected one of seeds, manifest, compare, sign, verify, log, explain, replay, ddc",
        );
        return EXIT_USAGE;
    };
    let flag = match Parser::new(&args[1..2], OPTS).next() {
        Some(Ok(Arg::Flag(flag))) => Some(flag),
        _ => None,
    };
    let first = first.to_string_lossy();
    match (flag, first.as_ref()) {
        (None, "help") if args.len() > 2 => {
            let name = args[2].to_string_lossy();
            match SUBCOMMANDS.iter().find(|(n, _, _)| *n == name) {
                Some((_, run, _)) => run(&[args[2].clone(), OsString::from("--help")], io),
                None => unknown_subcommand(io, &tool, &name),
            }
        }
        (Some(Flag::Help), _) | (None, "help") => {
            let _ = io.stdout.write_all(HELP.as_bytes());
            for (name, _, summary) in SUBCOMMANDS {
                let _ = writeln!(io.stdout, "  {name:<10} {summary}");
            }
            let options = toolbase::help::option_list(&toolbase::help::documented(OPTS));
            let _ = io.stdout.write_all(HELP_OPTIONS.as_bytes());
            let _ = io.stdout.write_all(options.as_bytes());
            let _ = io.stdout.write_all(HELP_TAIL.as_bytes());
            EXIT_SUCCESS
        }
        (Some(Flag::Version), _) => {
            io.version("crossverify");
            EXIT_SUCCESS
        }
        (None, name) => match SUBCOMMANDS.iter().find(|(n, _, _)| *n == name) {
            // `crossverify SUBCOMMAND --version`: the version of the one binary.
            Some(_) if matches!(&args[2..], [v] if v == "--version" || v == "-V") => {
                io.version("crossverify");
                EXIT_SUCCESS
            }
            Some((_, run, _)) => run(&args[1..], io),
            None => unknown_subcommand(io, &tool, name),
        },
    }
}

fn unknown_subcommand(io: &mut Streams, tool: &str, name: &str) -> i32 {
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _, _)| *n).collect();
    io.usage_error(
        tool,
        &format!(
            "unknown subcommand '{name}'; expected one of {}",
            names.join(", ")
        ),
    );
    EXIT_USAGE
}

/// The summary and `--help` text of every subcommand, as `crossverify SUBCOMMAND --help`
/// prints it (for the man page and the completion).
pub fn subcommand_helps() -> Vec<(&'static str, &'static str, String)> {
    SUBCOMMANDS
        .iter()
        .map(|&(name, run, summary)| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let mut io = Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: false,
                cwd: None,
            };
            run(&[OsString::from(name), OsString::from("--help")], &mut io);
            out.extend_from_slice(&err);
            (name, summary, String::from_utf8_lossy(&out).into_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> (i32, String) {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = main(
            &args,
            &mut Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: false,
                cwd: None,
            },
        );
        out.extend_from_slice(&err);
        (status, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn help_subcommand_and_subcommand_version() {
        let (status, text) = run(&["crossverify", "help", "seeds"]);
        assert_eq!(status, 0);
        assert!(text.starts_with("Usage: crossverify seeds"), "{text}");
        assert_eq!(run(&["crossverify", "help", "nope"]).0, EXIT_USAGE);
        for sub in ["replay", "seeds", "compare"] {
            let (status, text) = run(&["crossverify", sub, "--version"]);
            assert_eq!(
                (status, text.as_str()),
                (
                    0,
                    format!("crossverify (hexroot) {}\n", env!("CARGO_PKG_VERSION")).as_str()
                )
            );
        }
        // every subcommand's help is found for the man page
        let helps = subcommand_helps();
        assert_eq!(helps.len(), SUBCOMMANDS.len());
        assert!(helps
            .iter()
            .all(|(_, _, h)| h.contains("Usage: crossverify")));
    }
}
