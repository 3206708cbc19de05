//! The `compare` subcommand: load the reports, decide who may vote (signatures checked by
//! [`crate::sign`], log inclusion by [`crate::tlog::proof`], witness cosignatures by
//! [`crate::tlog::cosignature`]), judge with
//! [`super::judge`] and print the table.
//!
//! It owns the command line and the printed form; the policy is [`super`]'s.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

use super::result::{numbers, Comparison, Standing};
use super::{judge, Ballot, Judgement, Policy};
use crate::export::Destination;
use crate::report::{self, Loaded};
use crate::sign::{self, Check};
use crate::tlog::checkpoint::Checkpoint;
use crate::tlog::cosignature::{self, Quorum};
use crate::tlog::note::Verifier;
use crate::tlog::proof::Inclusion;

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Diverse,
    RequireLog,
    Help,
    Version,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Quorum,
    Allowed,
    LogKey,
    Witness,
    WitnessQuorum,
    Json,
    Html,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-q", "--quorum"], Value::Quorum, "K")
        .doc(
            "K voters listing the same digest suffice (and no other\ndigest has as many); never fewer than two; default: all",
        ),
    Opt::flag(&["-d", "--diverse"], Flag::Diverse)
        .doc(
            "the agreeing voters must also span two implementations\n(not 'unspecified') and two host kinds (OS/CPU)",
        ),
    Opt::value(&["-a", "--allowed-signers"], Value::Allowed, "FILE")
        .doc(
            "check REPORT.sig with ssh-keygen against FILE",
        ),
    Opt::value(&["--log-key"], Value::LogKey, "VKEY")
        .doc(
            "check REPORT.tlog-proof (inclusion in the log) against the\nlog's verifier key in the file VKEY",
        ),
    Opt::flag(&["--require-log"], Flag::RequireLog)
        .doc(
            "a report without a valid REPORT.tlog-proof gets no vote",
        ),
    Opt::value(&["--witness"], Value::Witness, "FILE")
        .doc(
            "trusted witness vkeys (type 0x04), one a line; repeatable:\na report without a REPORT.tlog-proof whose checkpoint\ncarries their valid cosignatures (C2SP tlog-cosignature)\ngets no vote",
        ),
    Opt::value(&["--witness-quorum"], Value::WitnessQuorum, "N")
        .doc(
            "how many distinct witnesses must cosign (default: all)",
        ),
    Opt::value(&["--json"], Value::Json, "FILE")
        .doc(
            "also write the verdicts as JSON (schema\nhexroot.crossverify.compare/1); '-': to stdout, no table",
        ),
    Opt::value(&["--html"], Value::Html, "FILE")
        .doc(
            "also write them as one self-contained HTML page; '-': to\nstdout, no table",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify compare [--quorum K] [--diverse] [--allowed-signers FILE]
                           [--log-key VKEY [--require-log]
                            [--witness FILE... [--witness-quorum N]]]
                           [--json FILE|-] [--html FILE|-] REPORT...

Decides, for every artifact named in any REPORT, whether the reports agree on its SHA-256.
A REPORT is a FILE.report written by 'crossverify manifest' or 'crossverify seeds' (its
manifest FILE must sit beside it); naming the manifest FILE itself also works. By default
every voter must list the same digest. Fails closed: an artifact missing from a report,
a tie between digests, one lone report, or a malformed report is never agreement.

Without --allowed-signers every report votes, and its vote is an unsigned claim (a copy
under another host name is another vote). With it, only reports whose REPORT.sig is a
good signature by an allowed signer vote, one vote per signer; the others are listed
with the reason they get none.

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 every artifact agrees, 1 some artifact does not (or no report may vote),
2 bad command line, a report that cannot be read or checked, or two checkpoints of the
log that contradict each other (no verdict).

Example:
  $ crossverify compare --quorum 2 --allowed-signers allowed_signers --log-key log.vkey \\
      --require-log alice.sha256.report bob.sha256.report carol.sha256.report   # needs: three machines' signed, logged reports
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

#[derive(Default)]
struct Options {
    quorum: Option<usize>,
    diverse: bool,
    allowed: Option<PathBuf>,
    log_key: Option<PathBuf>,
    require_log: bool,
    witnesses: Vec<PathBuf>,
    witness_quorum: Option<usize>,
    json: Option<Destination>,
    html: Option<Destination>,
    paths: Vec<PathBuf>,
}

/// Parses the command line; `Err(status)` when the run ends here.
fn parse_options(args: &[OsString], io: &mut Streams) -> Result<Options, i32> {
    let tool = "crossverify compare";
    let mut o = Options::default();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Value(Value::Quorum, v)) => match v.to_string_lossy().parse::<usize>() {
                Ok(k) if k >= 1 => o.quorum = Some(k),
                _ => {
                    io.usage_error(
                        tool,
                        &format!(
                            "bad --quorum '{}': expected a whole number of reports, at least 1",
                            v.to_string_lossy()
                        ),
                    );
                    return Err(EXIT_USAGE);
                }
            },
            Ok(Arg::Flag(Flag::Diverse)) => o.diverse = true,
            Ok(Arg::Value(Value::Allowed, v)) => o.allowed = Some(v.into()),
            Ok(Arg::Value(Value::LogKey, v)) => o.log_key = Some(v.into()),
            Ok(Arg::Flag(Flag::RequireLog)) => o.require_log = true,
            Ok(Arg::Value(Value::Witness, v)) => o.witnesses.push(v.into()),
            Ok(Arg::Value(Value::WitnessQuorum, v)) => match v.to_string_lossy().parse::<usize>() {
                Ok(n) if n >= 1 => o.witness_quorum = Some(n),
                _ => {
                    io.usage_error(
                            tool,
                            &format!(
                                "bad --witness-quorum '{}': expected a whole number of witnesses, at least 1",
                                v.to_string_lossy()
                            ),
                        );
                    return Err(EXIT_USAGE);
                }
            },
            Ok(Arg::Value(Value::Json, v)) => o.json = Some(Destination::parse(v)),
            Ok(Arg::Value(Value::Html, v)) => o.html = Some(Destination::parse(v)),
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return Err(EXIT_SUCCESS);
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("crossverify");
                return Err(EXIT_SUCCESS);
            }
            Ok(Arg::Positional(p)) => o.paths.push(report_path(Path::new(p))),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return Err(EXIT_USAGE);
            }
        }
    }
    let both_stdout = [&o.json, &o.html]
        .iter()
        .all(|d| d.as_ref().is_some_and(Destination::is_stdout));
    let problem = if both_stdout {
        Some("--json - and --html - cannot both go to standard output".to_string())
    } else if o.paths.is_empty() {
        Some("missing REPORT: expected at least two reports".to_string())
    } else if o.require_log && o.log_key.is_none() {
        Some(
            "--require-log needs --log-key VKEY, the key the log's checkpoints are signed with"
                .into(),
        )
    } else if o.witness_quorum.is_some() && o.witnesses.is_empty() {
        Some("--witness-quorum needs --witness FILE, the witnesses' keys".into())
    } else if !o.witnesses.is_empty() && o.log_key.is_none() {
        Some("--witness needs --log-key VKEY: witnesses cosign the log's checkpoints".into())
    } else {
        match o.quorum {
            Some(k) if k > o.paths.len() => Some(format!(
                "--quorum {k} cannot be met by {} report(s)",
                o.paths.len()
            )),
            None if o.paths.len() < 2 => {
                Some("one report agrees with nothing: give at least two, or --quorum 1".into())
            }
            _ => None,
        }
    };
    if let Some(p) = problem {
        io.usage_error(tool, &p);
        return Err(EXIT_USAGE);
    }
    Ok(o)
}

/// Loads every report, refusing one given twice.
fn load(paths: &[PathBuf]) -> Result<Vec<Loaded>, Diagnostic> {
    let mut reports: Vec<Loaded> = Vec::new();
    for p in paths {
        let l = report::load(p)?;
        if let Some(first) = reports.iter().find(|r| r.report_sha256 == l.report_sha256) {
            return Err(Diagnostic::new("the same report is given twice")
                .in_file(p.display().to_string())
                .note(format!("identical to {}", first.path.display()))
                .hint("each machine's report may vote once"));
        }
        reports.push(l);
    }
    Ok(reports)
}

fn standing(
    r: &Loaded,
    o: &Options,
    log: Option<&Verifier>,
    witnesses: &Quorum,
) -> Result<Standing, Diagnostic> {
    let mut s = Standing::default();
    let bytes =
        std::fs::read(&r.path).map_err(|e| Diagnostic::io(&r.path, "cannot read report", &e))?;
    if let Some(allowed) = &o.allowed {
        match sign::check_report(allowed, &r.path, &bytes)? {
            Check::Signed(who) => s.signer = Some(who),
            other => s.refusals.extend(other.refusal()),
        }
    }
    if let Some(log) = log {
        let proof_path = crate::tlog::proof_path(&r.path);
        let file = proof_path.display().to_string();
        match std::fs::read(&proof_path) {
            Ok(text) => match Inclusion::parse(&file, &text)
                .and_then(|p| p.verify(&file, &bytes, log).map(|c| (p.index, c)))
            {
                Ok((index, signed)) => {
                    if !witnesses.is_empty() {
                        match witnesses.check(&file, &signed.note) {
                            Ok(by) => s.cosigned = by.into_iter().map(|c| c.name).collect(),
                            Err(d) => s.refusals.push(format!("not witnessed: {}", d.message)),
                        }
                    }
                    s.logged = Some((index, signed.checkpoint));
                }
                Err(d) => s
                    .refusals
                    .push(format!("not shown in the log: {}", d.message)),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if o.require_log || !witnesses.is_empty() {
                    s.refusals
                        .push("not in the log (no REPORT.tlog-proof)".into());
                }
            }
            Err(e) => return Err(Diagnostic::io(&proof_path, "cannot read proof", &e)),
        }
    }
    Ok(s)
}

/// Two verified checkpoints of one size with different roots: the log showed different
/// histories to different people.
fn split_view(standings: &[Standing], reports: &[Loaded]) -> Option<Diagnostic> {
    let logged: Vec<(usize, &Checkpoint)> = standings
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.logged.as_ref().map(|(_, c)| (i, c)))
        .collect();
    for (n, (i, a)) in logged.iter().enumerate() {
        if let Some((j, _)) = logged[n + 1..]
            .iter()
            .find(|(_, b)| b.size == a.size && b.root != a.root)
        {
            return Some(
                Diagnostic::new("the log signed two different trees of the same size: a split view")
                    .in_file(crate::tlog::proof_path(&reports[*j].path).display().to_string())
                    .note(format!(
                        "{} has another root for tree size {}",
                        crate::tlog::proof_path(&reports[*i].path).display(),
                        a.size
                    ))
                    .hint("keep both proofs: two signed, contradicting checkpoints prove the log misbehaved"),
            );
        }
    }
    None
}

/// Runs `crossverify compare` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let o = match parse_options(args, io) {
        Ok(o) => o,
        Err(status) => return status,
    };
    let prepared = load(&o.paths).and_then(|reports| {
        let log = match &o.log_key {
            Some(p) => {
                let text =
                    std::fs::read(p).map_err(|e| Diagnostic::io(p, "cannot read log key", &e))?;
                Some(Verifier::parse_vkey(&p.display().to_string(), &text)?)
            }
            None => None,
        };
        let mut witnesses = Vec::new();
        for p in &o.witnesses {
            witnesses.extend(cosignature::load_witnesses(p)?);
        }
        let witnesses = Quorum::new(witnesses, o.witness_quorum)?;
        let standings = reports
            .iter()
            .map(|r| standing(r, &o, log.as_ref(), &witnesses))
            .collect::<Result<Vec<_>, _>>()?;
        match split_view(&standings, &reports) {
            Some(d) => Err(d),
            None => Ok((reports, standings)),
        }
    });
    let (reports, standings) = match prepared {
        Ok(v) => v,
        Err(d) => {
            io.error(&d);
            return EXIT_USAGE;
        }
    };
    let mut ballots = Ballot::unsigned(&reports);
    for (b, s) in ballots.iter_mut().zip(&standings) {
        if let Some(who) = &s.signer {
            b.voter = who.clone();
        }
    }
    ballots.retain(|b| standings[b.index].refusals.is_empty());
    let voters = ballots
        .iter()
        .map(|b| b.voter.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let quorum = o.quorum.unwrap_or(voters);
    let judgements = judge(
        &ballots,
        Policy {
            quorum,
            diverse: o.diverse,
        },
    );
    let run = Comparison {
        reports: &reports,
        standings: &standings,
        judgements: &judgements,
        quorum,
        voters,
        diverse: o.diverse,
        signed: o.allowed.is_some(),
        logged: o.require_log,
        witnessed: !o.witnesses.is_empty(),
    };
    let to_stdout = [&o.json, &o.html]
        .iter()
        .any(|d| d.as_ref().is_some_and(Destination::is_stdout));
    if !to_stdout {
        print(io, &run);
    }
    let doc = o.json.as_ref().map(|_| crate::export::compare::json(&run));
    let page = o.html.as_ref().map(|_| crate::export::compare::html(&run));
    if !crate::export::write_all(
        o.json.as_ref().zip(doc.as_ref()),
        o.html.as_ref().zip(page.as_deref()),
        io,
    ) {
        return EXIT_USAGE;
    }
    if run.passes() {
        EXIT_SUCCESS
    } else {
        EXIT_FAILURE
    }
}

/// The votes of artifact `j` as the table shows them: `DIGEST16 [1,2]  missing [3]`.
pub fn votes(j: &Judgement) -> String {
    let mut votes: Vec<String> = j
        .groups
        .iter()
        .map(|(d, members)| format!("{} [{}]", short(d), numbers(members)))
        .collect();
    if !j.missing.is_empty() {
        votes.push(format!("missing [{}]", numbers(&j.missing)));
    }
    votes.join("  ")
}

fn print(io: &mut Streams, run: &Comparison) {
    let (reports, standings, judgements) = (run.reports, run.standings, run.judgements);
    let out = &mut *io.stdout;
    let _ = writeln!(out, "reports:");
    for (i, (r, s)) in reports.iter().zip(standings).enumerate() {
        let facts = s.facts();
        let _ = writeln!(
            out,
            "  [{}] {}  host {} ({}), {}{}{}",
            i + 1,
            r.path.display(),
            r.report.host,
            r.report.host_kind(),
            r.report.date,
            if facts.is_empty() { "" } else { "  " },
            facts.join("; ")
        );
    }
    if !run.signed {
        let _ = writeln!(
            out,
            "note: votes are unsigned claims: anyone can copy a report under another host name \
             and vote twice; sign reports ('crossverify sign') and compare with --allowed-signers"
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
        "\n{:<width$}  {:<13}  {:>6}  sha256 [reports]",
        "artifact", "verdict", "agree"
    );
    for j in judgements {
        let name = String::from_utf8_lossy(&j.name).escape_debug().to_string();
        let _ = writeln!(
            out,
            "{name:<width$}  {:<13}  {:>6}  {}",
            j.verdict.word(),
            format!("{}/{}", j.agreeing, j.voters),
            votes(j)
        );
        for n in &j.notes {
            let _ = writeln!(out, "{:<width$}    {n}", "");
        }
    }
    let _ = writeln!(out, "\n{}", run.summary());
    if run.voters == 0 {
        let _ = writeln!(out, "no report may vote: nothing is agreed");
    }
}
