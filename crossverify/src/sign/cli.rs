//! The `crossverify sign` and `crossverify verify` subcommands, thin over
//! [`crate::sign`]: sign reports with an OpenSSH key, check them against allowed signers.

use std::ffi::OsString;
use std::path::PathBuf;

use toolbase::args::{Arg, Kind, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;
use toolbase::output::write_atomic;

use super::{check_report, sig_path, Check};
use crate::FILE_MODE;

/// The flags.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    Help,
    Version,
}

/// The options that take a value.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Value {
    Key,
    Allowed,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-k", "--key"], Value::Key, "KEY").doc(
        "an OpenSSH private key ('ssh-keygen -t ed25519 -f KEY'), or the public\nkey of one held by ssh-agent",
    ),
    Opt::value(&["-a", "--allowed-signers"], Value::Allowed, "FILE")
        .doc("lines 'PRINCIPAL namespaces=\"hexroot-report\" ssh-ed25519 KEY'"),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// The documented options of the subcommand whose option is `want`: the flags and that
/// option, from the table that parses them.
fn options(want: Value) -> Vec<toolbase::help::OptionHelp> {
    let shown: Vec<_> = OPTS
        .iter()
        .filter(|o| match o.kind {
            Kind::Flag(_) => true,
            Kind::Value(v, _) => v == want,
        })
        .copied()
        .collect();
    toolbase::help::documented(&shown)
}

/// The documented options of `crossverify sign`: the flags and `--key`.
pub fn sign_options() -> Vec<toolbase::help::OptionHelp> {
    options(Value::Key)
}

/// The documented options of `crossverify verify`: the flags and `--allowed-signers`.
pub fn verify_options() -> Vec<toolbase::help::OptionHelp> {
    options(Value::Allowed)
}

/// The `--help` of the subcommand whose option is `want`: `text` with `{options}`
/// replaced by its options, as the table renders them.
fn help(text: &str, want: Value) -> String {
    text.replace("{options}", &toolbase::help::option_list(&options(want)))
}

const SIGN_HELP: &str = "\
Usage: crossverify sign --key KEY REPORT...

Signs each REPORT (after checking it against its manifest) with the OpenSSH key KEY,
through 'ssh-keygen -Y sign -n hexroot-report', and writes the signature to REPORT.sig.
The report binds its manifest by SHA-256, so the signature covers both.

Options:
{options}
Exit status: 0 every report signed, 1 a report, key or signature file failed, 2 bad
command line.

Example:
  $ crossverify sign --key ~/.ssh/id_ed25519 alice.sha256.report   # needs: an OpenSSH key and a report
";

const VERIFY_HELP: &str = "\
Usage: crossverify verify --allowed-signers FILE REPORT...

Checks each REPORT against its manifest and its signature REPORT.sig against the
allowed-signers FILE (ssh-keygen's format; the namespace is hexroot-report), and prints
who signed it. Unsigned reports and reports signed by unknown keys do not verify.

Options:
{options}
Exit status: 0 every report has a good signature by an allowed signer, 1 some does not
(or cannot be read), 2 bad command line.

Example:
  $ crossverify verify --allowed-signers allowed_signers *.report   # needs: signed reports and their signers
";

/// The parsed command line: the option's value and the reports.
fn parse(
    tool: &str,
    help: &str,
    want: Value,
    args: &[OsString],
    io: &mut Streams,
) -> Result<(PathBuf, Vec<PathBuf>), i32> {
    let mut value = None;
    let mut reports = Vec::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(self::help(help, want).as_bytes());
                return Err(EXIT_SUCCESS);
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("crossverify");
                return Err(EXIT_SUCCESS);
            }
            Ok(Arg::Value(id, v)) => {
                if id != want {
                    io.usage_error(tool, "option not accepted here");
                    return Err(EXIT_USAGE);
                }
                value = Some(PathBuf::from(v));
            }
            Ok(Arg::Positional(p)) => reports.push(PathBuf::from(p)),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return Err(EXIT_USAGE);
            }
        }
    }
    match value {
        Some(v) if !reports.is_empty() => Ok((v, reports)),
        _ => {
            io.usage_error(tool, "expected the option and at least one REPORT");
            Err(EXIT_USAGE)
        }
    }
}

fn read(p: &std::path::Path) -> Result<Vec<u8>, Diagnostic> {
    crate::report::load(p)?;
    std::fs::read(p).map_err(|e| Diagnostic::io(p, "cannot read report", &e))
}

/// Runs `crossverify sign` with `args` (subcommand name first).
pub fn sign_main(args: &[OsString], io: &mut Streams) -> i32 {
    let (key, reports) = match parse("crossverify sign", SIGN_HELP, Value::Key, args, io) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let result = reports.iter().try_for_each(|r| {
        let sig = super::sign(&key, &read(r)?)?;
        let out = sig_path(r);
        write_atomic(&out, &sig, FILE_MODE)
            .map_err(|e| Diagnostic::io(&out, "cannot write signature", &e))?;
        let _ = writeln!(io.stdout, "{}: signed", out.display());
        Ok(())
    });
    io.finish(result)
}

/// Runs `crossverify verify` with `args` (subcommand name first).
pub fn verify_main(args: &[OsString], io: &mut Streams) -> i32 {
    let (allowed, reports) =
        match parse("crossverify verify", VERIFY_HELP, Value::Allowed, args, io) {
            Ok(v) => v,
            Err(status) => return status,
        };
    let mut status = EXIT_SUCCESS;
    for r in &reports {
        let check = read(r).and_then(|bytes| check_report(&allowed, r, &bytes));
        match check {
            Ok(Check::Signed(who)) => {
                let _ = writeln!(io.stdout, "{}: good signature by {who}", r.display());
            }
            Ok(other) => {
                let _ = writeln!(
                    io.stdout,
                    "{}: NOT VERIFIED: {}",
                    r.display(),
                    other.refusal().unwrap_or_default()
                );
                status = EXIT_FAILURE;
            }
            Err(d) => {
                io.error(&d);
                status = EXIT_FAILURE;
            }
        }
    }
    status
}
