//! The agreement policy: given reports from several machines, decide artifact by artifact
//! whether they agree, and the `compare` subcommand that prints the verdicts.
//!
//! Every artifact named by any report is judged. The reports vote with the SHA-256 their
//! manifest lists; a report that does not list the artifact casts no vote for any digest.
//! The verdict fails closed:
//!
//! - **agree**: the largest group of equal digests has at least K members (K is
//!   `--quorum`, by default every report), no other group is as large, and with
//!   `--diverse` that group spans at least two implementations (`unspecified` does not
//!   count) and two host kinds (`os/arch`);
//! - **missing**: fewer than K agree and some report does not list the artifact;
//! - **differ**: fewer than K agree because digests differ;
//! - **tie**: K reports agree, but another digest is listed as often (never agreement);
//! - **not diverse**: the quorum agrees but does not span enough implementations or hosts.
//!
//! A malformed report, a manifest that does not match its report, or the same report given
//! twice is an error: no verdict at all. This module owns the policy and its table; the
//! formats are [`crate::manifest`]'s and [`crate::report`]'s.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use hex0::args::{Arg, Opt, Parser};
use hex0::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};

use crate::report::{self, Loaded, UNSPECIFIED};

/// What agreement requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How many reports must list the same digest.
    pub quorum: usize,
    /// Whether the agreeing reports must span two implementations and two host kinds.
    pub diverse: bool,
}

/// The verdict on one artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Enough reports agree (see the module documentation).
    Agree,
    /// Not enough agree, and some report does not list the artifact.
    Missing,
    /// Not enough agree: the digests differ.
    Differ,
    /// Two groups of digests are equally large.
    Tie,
    /// The quorum agrees but is not diverse enough.
    NotDiverse,
}

impl Verdict {
    /// The word printed in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Missing => "MISSING",
            Verdict::Differ => "DIFFER",
            Verdict::Tie => "TIE",
            Verdict::NotDiverse => "NOT-DIVERSE",
        }
    }
}

/// The judgement of one artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The artifact's name.
    pub name: Vec<u8>,
    /// The verdict.
    pub verdict: Verdict,
    /// Digests with the indices of the reports listing them, largest group first.
    pub groups: Vec<(String, Vec<usize>)>,
    /// Indices of the reports that do not list the artifact.
    pub missing: Vec<usize>,
}

/// Judges every artifact named by any of `reports` under `policy`, in name order.
pub fn judge(reports: &[Loaded], policy: Policy) -> Vec<Judgement> {
    let names: BTreeSet<&[u8]> = reports
        .iter()
        .flat_map(|r| r.entries.iter().map(|e| e.name.as_slice()))
        .collect();
    names
        .into_iter()
        .map(|name| {
            let mut by_digest: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            let mut missing = Vec::new();
            for (i, r) in reports.iter().enumerate() {
                match r.entries.iter().find(|e| e.name == name) {
                    Some(e) => by_digest.entry(&e.sha256).or_default().push(i),
                    None => missing.push(i),
                }
            }
            let mut groups: Vec<(String, Vec<usize>)> = by_digest
                .into_iter()
                .map(|(d, v)| (d.to_string(), v))
                .collect();
            groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
            let top = groups.first().map_or(0, |g| g.1.len());
            let tie = groups.get(1).is_some_and(|g| g.1.len() == top);
            let verdict = if top < policy.quorum.max(1) {
                if missing.is_empty() {
                    Verdict::Differ
                } else {
                    Verdict::Missing
                }
            } else if tie {
                Verdict::Tie
            } else if policy.diverse && !is_diverse(reports, name, &groups[0].1) {
                Verdict::NotDiverse
            } else {
                Verdict::Agree
            };
            Judgement {
                name: name.to_vec(),
                verdict,
                groups,
                missing,
            }
        })
        .collect()
}

/// Whether the reports `members` span two implementations of `name` (other than
/// `unspecified`) and two host kinds.
fn is_diverse(reports: &[Loaded], name: &[u8], members: &[usize]) -> bool {
    let implementations: BTreeSet<&str> = members
        .iter()
        .filter_map(|&i| reports[i].report.implementation_of(name))
        .filter(|i| *i != UNSPECIFIED)
        .collect();
    let hosts: BTreeSet<String> = members
        .iter()
        .map(|&i| reports[i].report.host_kind())
        .collect();
    implementations.len() >= 2 && hosts.len() >= 2
}

#[derive(Clone, Copy)]
enum Id {
    Quorum,
    Diverse,
    Help,
    Version,
}

const OPTS: &[Opt<Id>] = &[
    Opt::value(&["-q", "--quorum"], Id::Quorum),
    Opt::flag(&["-d", "--diverse"], Id::Diverse),
    Opt::flag(&["-h", "--help"], Id::Help),
    Opt::flag(&["-V", "--version"], Id::Version),
];

const HELP: &str = "\
Usage: crossverify compare [--quorum K] [--diverse] REPORT...

Decides, for every artifact named in any REPORT, whether the reports agree on its SHA-256.
A REPORT is a FILE.report written by 'crossverify manifest' or 'crossverify seeds' (its
manifest FILE must sit beside it); naming the manifest FILE itself also works. By default
every report must list the same digest. Fails closed: an artifact missing from a report,
a tie between digests, or a malformed report is never agreement.

Options:
  -q, --quorum K  K reports listing the same digest suffice (and no other digest is
                  listed as often); default: all of them
  -d, --diverse   the agreeing reports must also span at least two implementations
                  (not 'unspecified') and two host kinds (OS/CPU architecture)
  -h, --help      print this help and exit
  -V, --version   print the version and exit

Exit status: 0 every artifact agrees, 1 some artifact does not, 2 bad command line or a
report that cannot be read or checked (no verdict).

Example:
  crossverify compare --quorum 2 --diverse alice.sha256.report bob.sha256.report
";

/// The report for a command-line argument: the argument itself, or `ARG.report` when the
/// argument is a manifest with a report beside it.
fn report_path(arg: &Path) -> PathBuf {
    let as_manifest = report::path_for(arg);
    if !matches!(arg.extension(), Some(e) if e == "report") && as_manifest.is_file() {
        as_manifest
    } else {
        arg.to_path_buf()
    }
}

fn short(d: &str) -> &str {
    &d[..16.min(d.len())]
}

/// Runs `crossverify compare` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify compare";
    let mut quorum = None;
    let mut diverse = false;
    let mut paths = Vec::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Opt(Id::Quorum, Some(v))) => match v.to_string_lossy().parse::<usize>() {
                Ok(k) if k >= 1 => quorum = Some(k),
                _ => {
                    io.usage_error(
                        tool,
                        &format!(
                            "bad --quorum '{}': expected a whole number of reports, at least 1",
                            v.to_string_lossy()
                        ),
                    );
                    return EXIT_USAGE;
                }
            },
            Ok(Arg::Opt(Id::Diverse, _)) => diverse = true,
            Ok(Arg::Opt(Id::Help, _)) => {
                let _ = io.stdout.write_all(HELP.as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(Id::Version, _)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(_, None)) => unreachable!("the parser gives a value"),
            Ok(Arg::Positional(p)) => paths.push(report_path(Path::new(p))),
            Err(e) => {
                io.usage_error(tool, &e.message);
                return EXIT_USAGE;
            }
        }
    }
    if paths.is_empty() {
        io.usage_error(tool, "missing REPORT: expected at least two reports");
        return EXIT_USAGE;
    }
    let quorum = match quorum {
        Some(k) if k > paths.len() => {
            io.usage_error(
                tool,
                &format!("--quorum {k} cannot be met by {} report(s)", paths.len()),
            );
            return EXIT_USAGE;
        }
        Some(k) => k,
        None if paths.len() < 2 => {
            io.usage_error(
                tool,
                "one report agrees with nothing: give at least two, or --quorum 1",
            );
            return EXIT_USAGE;
        }
        None => paths.len(),
    };
    let mut reports: Vec<Loaded> = Vec::new();
    for p in &paths {
        match report::load(p) {
            Ok(l) => {
                if let Some(first) = reports.iter().find(|r| r.report_sha256 == l.report_sha256) {
                    io.error(
                        &hex0::diag::Diagnostic::new("the same report is given twice")
                            .in_file(p.display().to_string())
                            .note(format!("identical to {}", first.path.display()))
                            .hint("each machine's report may vote once"),
                    );
                    return EXIT_USAGE;
                }
                reports.push(l);
            }
            Err(d) => {
                io.error(&d);
                return EXIT_USAGE;
            }
        }
    }
    let judgements = judge(&reports, Policy { quorum, diverse });
    let out = &mut *io.stdout;
    let _ = writeln!(out, "reports:");
    for (i, r) in reports.iter().enumerate() {
        let _ = writeln!(
            out,
            "  [{}] {}  host {} ({}), {}",
            i + 1,
            r.path.display(),
            r.report.host,
            r.report.host_kind(),
            r.report.date
        );
    }
    let width = judgements
        .iter()
        .map(|j| String::from_utf8_lossy(&j.name).chars().count())
        .max()
        .unwrap_or(8)
        .max(8);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:<11}  {:>6}  sha256 [reports]",
        "artifact", "verdict", "agree"
    );
    for j in &judgements {
        let top = j.groups.first().map_or(0, |g| g.1.len());
        let mut votes: Vec<String> = j
            .groups
            .iter()
            .map(|(d, members)| {
                let m: Vec<String> = members.iter().map(|i| (i + 1).to_string()).collect();
                format!("{} [{}]", short(d), m.join(","))
            })
            .collect();
        if !j.missing.is_empty() {
            let m: Vec<String> = j.missing.iter().map(|i| (i + 1).to_string()).collect();
            votes.push(format!("missing [{}]", m.join(",")));
        }
        let _ = writeln!(
            out,
            "{:<width$}  {:<11}  {:>6}  {}",
            String::from_utf8_lossy(&j.name).escape_debug().to_string(),
            j.verdict.word(),
            format!("{top}/{}", reports.len()),
            votes.join("  ")
        );
    }
    let bad = judgements
        .iter()
        .filter(|j| j.verdict != Verdict::Agree)
        .count();
    let _ = writeln!(
        out,
        "\n{} of {} artifacts agree (quorum {quorum} of {}{})",
        judgements.len() - bad,
        judgements.len(),
        reports.len(),
        if diverse { ", diverse" } else { "" }
    );
    if bad == 0 {
        EXIT_SUCCESS
    } else {
        EXIT_FAILURE
    }
}
