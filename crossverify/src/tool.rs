//! The `crossverify` command: subcommand dispatch, `--help` and `--version`.
//!
//! It owns only the first word of the command line. Each subcommand is a
//! `fn(&[OsString], &mut Streams) -> i32` in its module and receives the arguments from the
//! subcommand name on (so its `args[0]` is `seeds`, `manifest`, ...), which lets tests call
//! a subcommand directly.

use std::ffi::OsString;

use toolbase::cli::{program_name, Streams, ToolMain, EXIT_SUCCESS, EXIT_USAGE};

/// The subcommands, by name, with their entry points and one-line summaries.
pub const SUBCOMMANDS: &[(&str, ToolMain, &str)] = &[
    (
        "seeds",
        crate::seeds::main,
        "rebuild the bundled seeds by every path, check SHA256SUMS",
    ),
    (
        "manifest",
        crate::manifest::main,
        "write a sha256sum manifest and its report",
    ),
    (
        "compare",
        crate::compare::main,
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
        crate::explain::main,
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

const HELP_TAIL: &str = "
Options:
  -h, --help     print this help and exit
  -V, --version  print the version and exit

Exit status: 0 agreement (or success), 1 disagreement or bad input, 2 bad command line
or an error that prevents a verdict.

Example:
  crossverify seeds && sha256sum -c crossverify-seeds.sha256
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
    let first = first.to_string_lossy();
    match first.as_ref() {
        "-h" | "--help" | "help" => {
            let _ = io.stdout.write_all(HELP.as_bytes());
            for (name, _, summary) in SUBCOMMANDS {
                let _ = writeln!(io.stdout, "  {name:<10} {summary}");
            }
            let _ = io.stdout.write_all(HELP_TAIL.as_bytes());
            EXIT_SUCCESS
        }
        "-V" | "--version" => {
            io.version("crossverify");
            EXIT_SUCCESS
        }
        name => match SUBCOMMANDS.iter().find(|(n, _, _)| *n == name) {
            Some((_, run, _)) => run(&args[1..], io),
            None => {
                let names: Vec<&str> = SUBCOMMANDS.iter().map(|(n, _, _)| *n).collect();
                io.usage_error(
                    &tool,
                    &format!(
                        "unknown subcommand '{name}'; expected one of {}",
                        names.join(", ")
                    ),
                );
                EXIT_USAGE
            }
        },
    }
}
