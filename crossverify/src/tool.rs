//! The `crossverify` command: subcommand dispatch, `--help` and `--version`.
//!
//! It owns only the first word of the command line. Each subcommand is a
//! `fn(&[OsString], &mut Streams) -> i32` in its module and receives the arguments from the
//! subcommand name on (so its `args[0]` is `seeds`, `manifest`, ...), which lets tests call
//! a subcommand directly.

use std::ffi::OsString;

use toolbase::args::{Arg, NoValue, Opt, Parser};
use toolbase::cli::{program_name, Streams, ToolMain, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::help::{OptionHelp, Page};

/// A subcommand: its name, entry point, one-line summary and documented options.
#[derive(Clone, Copy)]
pub struct Subcommand {
    /// The word after `crossverify`.
    pub name: &'static str,
    /// Its entry point, given the arguments from the subcommand's name on.
    pub run: ToolMain,
    /// What it does, in one line (the `--help` list and the man page).
    pub summary: &'static str,
    /// Its documented options, from the table its parser reads (the man page and the
    /// completion list them).
    pub options: fn() -> Vec<OptionHelp>,
}

/// The subcommands, in the order `--help` lists them.
pub const SUBCOMMANDS: &[Subcommand] = &[
    Subcommand {
        name: "seeds",
        run: crate::seeds::cli::main,
        summary: "rebuild the bundled seeds by every path, check SHA256SUMS",
        options: crate::seeds::cli::options,
    },
    Subcommand {
        name: "manifest",
        run: crate::manifest::main,
        summary: "write a sha256sum manifest and its report",
        options: crate::manifest::options,
    },
    Subcommand {
        name: "compare",
        run: crate::compare::cli::main,
        summary: "decide agreement per artifact across reports",
        options: crate::compare::cli::options,
    },
    Subcommand {
        name: "sign",
        run: crate::sign::cli::sign_main,
        summary: "sign reports with an OpenSSH key (ssh-keygen -Y sign)",
        options: crate::sign::cli::sign_options,
    },
    Subcommand {
        name: "verify",
        run: crate::sign::cli::verify_main,
        summary: "check reports' signatures against allowed signers",
        options: crate::sign::cli::verify_options,
    },
    Subcommand {
        name: "log",
        run: crate::tlog::cli::main,
        summary: "append reports to a transparency log of static files; prove, verify",
        options: crate::tlog::cli::options,
    },
    Subcommand {
        name: "explain",
        run: crate::explain::cli::main,
        summary: "show where two artifacts differ",
        options: crate::explain::cli::options,
    },
    Subcommand {
        name: "replay",
        run: crate::replay::main,
        summary: "replay a bootstrap's kaem scripts with hexroot's tools",
        options: crate::replay::options,
    },
    Subcommand {
        name: "ddc",
        run: crate::ddc::main,
        summary: "diverse double-compiling of a compiler the chain builds",
        options: crate::ddc::options,
    },
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
            match SUBCOMMANDS.iter().find(|s| s.name == name) {
                Some(sub) => (sub.run)(&[args[2].clone(), OsString::from("--help")], io),
                None => unknown_subcommand(io, &tool, &name),
            }
        }
        (Some(Flag::Help), _) | (None, "help") => {
            let _ = io.stdout.write_all(HELP.as_bytes());
            for Subcommand { name, summary, .. } in SUBCOMMANDS {
                let _ = writeln!(io.stdout, "  {name:<10} {summary}");
            }
            let options = toolbase::help::option_list(&options());
            let _ = io.stdout.write_all(HELP_OPTIONS.as_bytes());
            let _ = io.stdout.write_all(options.as_bytes());
            let _ = io.stdout.write_all(HELP_TAIL.as_bytes());
            EXIT_SUCCESS
        }
        (Some(Flag::Version), _) => {
            io.version("crossverify");
            EXIT_SUCCESS
        }
        (None, name) => match SUBCOMMANDS.iter().find(|s| s.name == name) {
            // `crossverify SUBCOMMAND --version`: the version of the one binary.
            Some(_) if matches!(&args[2..], [v] if v == "--version" || v == "-V") => {
                io.version("crossverify");
                EXIT_SUCCESS
            }
            Some(sub) => (sub.run)(&args[1..], io),
            None => unknown_subcommand(io, &tool, name),
        },
    }
}

fn unknown_subcommand(io: &mut Streams, tool: &str, name: &str) -> i32 {
    let names: Vec<&str> = SUBCOMMANDS.iter().map(|s| s.name).collect();
    io.usage_error(
        tool,
        &format!(
            "unknown subcommand '{name}'; expected one of {}",
            names.join(", ")
        ),
    );
    EXIT_USAGE
}

/// The documented options of `crossverify` itself, from the table that parses them.
pub fn options() -> Vec<OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// The page of every subcommand for the man page and the completion: its summary, its
/// `--help` text as `crossverify SUBCOMMAND --help` prints it, and its options from its
/// table.
pub fn subcommand_pages() -> Vec<Page> {
    SUBCOMMANDS
        .iter()
        .map(|sub| {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let mut io = Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: false,
                cwd: None,
            };
            (sub.run)(
                &[OsString::from(sub.name), OsString::from("--help")],
                &mut io,
            );
            out.extend_from_slice(&err);
            Page {
                name: sub.name.to_string(),
                summary: sub.summary.to_string(),
                help: String::from_utf8_lossy(&out).into_owned(),
                options: (sub.options)(),
                subcommands: Vec::new(),
            }
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
        let pages = subcommand_pages();
        assert_eq!(pages.len(), SUBCOMMANDS.len());
        assert!(pages.iter().all(|p| p.help.contains("Usage: crossverify")));
    }

    #[test]
    fn every_subcommand_help_lists_exactly_its_table_options() {
        // the man page and the completion read the tables; the help renders them
        for page in subcommand_pages() {
            let table: std::collections::BTreeSet<String> = page
                .options
                .iter()
                .flat_map(|o| o.names.iter().map(|n| n.to_string()))
                .collect();
            let listed: std::collections::BTreeSet<String> =
                toolbase::help::listed_options(&page.help)
                    .into_iter()
                    .collect();
            assert_eq!(listed, table, "crossverify {}", page.name);
        }
    }
}
