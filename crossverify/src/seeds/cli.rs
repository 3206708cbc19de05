//! The `seeds` subcommand's command line: parse the options, rebuild every seed
//! ([`super::run`]), print the table, write the rebuilt seeds, the manifest and its report
//! ([`crate::manifest::write_with_report`]) and, with `--json`, the document
//! ([`crate::export::seeds`]). It owns the options and the printed summary; the seed table,
//! the paths and the rows are [`super`]'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

use super::{run, table, Outcome, SeedSource, Verdict};
use crate::manifest;
use crate::sha256sum::Entry;

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Quiet,
    Help,
    Version,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Manifest,
    Out,
    Json,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-m", "--manifest"], Value::Manifest, "FILE")
        .doc(
            "the manifest to write (default crossverify-seeds.sha256); its\nreport is FILE.report",
        ),
    Opt::value(&["-o", "--out"], Value::Out, "OUTDIR")
        .doc(
            "also write every rebuilt binary to OUTDIR/PATH/SEED (mode 0644)\nand put the manifest there by default, so that\n'cd OUTDIR && sha256sum -c crossverify-seeds.sha256' checks them",
        ),
    Opt::flag(&["-q", "--quiet"], Flag::Quiet)
        .doc(
            "no progress on stderr (also off when stdout is not a terminal)",
        ),
    Opt::value(&["--json"], Value::Json, "FILE")
        .doc(
            "also write the rows as JSON (schema hexroot.crossverify.seeds/1);\n'-': to stdout, in place of the table",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify seeds [--manifest FILE] [--out OUTDIR] [--quiet] [--json FILE|-] [DIR]

Rebuilds each of hexroot's seeds (knight/hex0.rom, x86/hex0-seed, amd64/hex0-seed) by every
independent path available on this host and checks every result against SHA256SUMS:
  shipped      the binary as shipped
  hex0         hexroot's hex0 library on hex0.hex0
  m1+hex2      hexroot's M1 and hex2 on defs.M1 + hex0.M1
  seed-in-vm   the Knight seed in hexroot's Knight VM, on its own source
  seed-native  the x86/amd64 seed executed by this host, on its own source ('not
               available on this host' when it cannot; that is never agreement)
The seeds embedded in this binary are used unless DIR (same layout as seeds/) is given.
Prints a table, then writes a manifest of every rebuilt binary (named PATH/SEED) and its
report, for exchanging with other machines ('crossverify compare').

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 every available path agrees with SHA256SUMS, 1 some path differs or fails,
2 bad command line, a missing or malformed seed file, or an unwritable manifest.

Example:
  $ crossverify seeds --out seeds-out --quiet
";

/// The documented options, from the table that parses them: what `--help` lists, and the
/// man page's and the completion's options.
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `--help` prints: the text around the option list, which `OPTS` renders.
fn help() -> String {
    HELP_HEAD.to_string() + &toolbase::help::option_list(&options()) + HELP_TAIL
}

/// Runs `crossverify seeds` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify seeds";
    let mut manifest_path = None;
    let mut out_dir: Option<PathBuf> = None;
    let mut quiet = false;
    let mut dirs = Vec::new();
    let mut json = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Value(Value::Manifest, v)) => manifest_path = Some(PathBuf::from(v)),
            Ok(Arg::Value(Value::Out, v)) => out_dir = Some(PathBuf::from(v)),
            Ok(Arg::Flag(Flag::Quiet)) => quiet = true,
            Ok(Arg::Value(Value::Json, v)) => json = Some(crate::export::Destination::parse(v)),
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => dirs.push(PathBuf::from(p)),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let source = match dirs.as_slice() {
        [] => SeedSource::Bundled,
        [d] => SeedSource::Dir(d.clone()),
        _ => {
            io.usage_error(tool, "expected at most one seeds DIR");
            return EXIT_USAGE;
        }
    };
    let manifest_path = manifest_path.unwrap_or_else(|| {
        out_dir
            .as_deref()
            .unwrap_or(Path::new(""))
            .join("crossverify-seeds.sha256")
    });
    let show_progress = !quiet && io.stdout_is_terminal;
    let stderr = &mut *io.stderr;
    let mut progress = |what: &str| {
        if show_progress {
            let _ = writeln!(stderr, "crossverify: rebuilding {what}");
        }
    };
    let rows = match run(&source, &mut progress) {
        Ok(r) => r,
        Err(d) => {
            io.error(&d);
            return EXIT_USAGE;
        }
    };
    let text_out = !json
        .as_ref()
        .is_some_and(crate::export::Destination::is_stdout);
    if text_out {
        let _ = io.stdout.write_all(table(&rows).as_bytes());
    }
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let (agree, differ, failed, na) = (
        count(Verdict::Agrees),
        count(Verdict::Differs),
        count(Verdict::Failed),
        count(Verdict::NotAvailable),
    );
    let summary = format!(
        "{agree} of {} available paths agree with SHA256SUMS ({differ} differ, {failed} failed); {na} not available on this host",
        agree + differ + failed
    );
    if text_out {
        let _ = writeln!(io.stdout, "\n{summary}");
    }
    let mut entries = Vec::new();
    let mut built_by = Vec::new();
    for r in &rows {
        if let Outcome::Built(bytes) = &r.outcome {
            entries.push(Entry::of(
                format!("{}/{}", r.path.name(), r.seed.name()),
                bytes,
            ));
            built_by.push(r.path.implementation().to_string());
        }
    }
    if let Some(dir) = &out_dir {
        for (r, e) in rows
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Built(_)))
            .zip(&entries)
        {
            let Outcome::Built(bytes) = &r.outcome else {
                continue;
            };
            let dest = dir.join(std::ffi::OsStr::new(&e.display_name()));
            let written = dest
                .parent()
                .map_or(Ok(()), std::fs::create_dir_all)
                .and_then(|()| toolbase::output::write_atomic(&dest, bytes, 0o644));
            if let Err(err) = written {
                io.error(&Diagnostic::io(&dest, "cannot write rebuilt seed", &err));
                return EXIT_USAGE;
            }
        }
    }
    // The workspace shares one version: every path's tool is at crossverify's version.
    let tools: Vec<(String, String)> = ["crossverify", "hex0", "M1", "hex2", "stage0-vm"]
        .iter()
        .map(|t| (t.to_string(), env!("CARGO_PKG_VERSION").to_string()))
        .collect();
    match manifest::write_with_report(&manifest_path, &entries, &built_by, &tools) {
        Ok((report, _)) => {
            if text_out {
                let _ = writeln!(
                    io.stdout,
                    "wrote {} and {}",
                    manifest_path.display(),
                    report.display()
                );
            }
            if let Some(dest) = &json {
                let source = match &source {
                    SeedSource::Bundled => "bundled".to_string(),
                    SeedSource::Dir(d) => d.display().to_string(),
                };
                let written = Some((
                    manifest_path.display().to_string(),
                    report.display().to_string(),
                ));
                let doc = crate::export::seeds::json(&rows, &source, &summary, written);
                if !crate::export::write_all(Some((dest, &doc)), None, io) {
                    return EXIT_USAGE;
                }
            }
        }
        Err(d) => {
            io.error(&d);
            return EXIT_USAGE;
        }
    }
    if differ + failed == 0 {
        EXIT_SUCCESS
    } else {
        EXIT_FAILURE
    }
}
