//! What a replay records and reports: per-step records, the summary, the manifest of
//! artifacts, the answers check, and the report text.
//!
//! This module owns the record shapes, hashing files and the manifest's text (the rest
//! of the report's text is [`super::text`]'s); its `sha256sum` lines and the answers file
//! are [`crate::sha256sum`]'s format. It runs nothing and decides nothing about how a
//! step runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Which implementation ran a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Implementation {
    /// hexroot's, in-process.
    Ours,
    /// The program the script names, as a process.
    Theirs,
    /// Both, outputs compared.
    Both,
    /// Not a tool we implement: run as a process.
    External,
}

impl Implementation {
    /// `ours`, `theirs`, `both`, `external`.
    pub fn name(self) -> &'static str {
        match self {
            Implementation::Ours => "ours",
            Implementation::Theirs => "theirs",
            Implementation::Both => "both",
            Implementation::External => "external",
        }
    }
}

/// How a step turned out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// It ran and exited 0 (one implementation).
    Ran,
    /// Both implementations ran and every output is identical.
    Agreed,
    /// Both ran and they disagree (outputs or statuses); the text says where.
    Differed(String),
    /// It exited with this non-zero status.
    Failed(i32),
}

/// One file a step read or wrote, with its sha256 (`None`: missing or unreadable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileHash {
    /// The path, relative to the replay root when it is inside it.
    pub path: String,
    /// Lower-case hex sha256.
    pub sha256: Option<String>,
}

/// Everything recorded about one step.
#[derive(Clone, Debug)]
pub struct StepRecord {
    /// 1-based step number.
    pub number: usize,
    /// `SCRIPT:LINE:COL`.
    pub location: String,
    /// The command line as the script gave it (after expansion).
    pub command: String,
    /// The tool, e.g. `hex2-0 (x86, base 0x8048000)`, or `None` for an external program.
    pub tool: Option<String>,
    /// The tool kind's name (`hex2-0`), for the summary.
    pub kind: Option<&'static str>,
    /// Who ran it.
    pub implementation: Implementation,
    /// Inputs, hashed before the step.
    pub inputs: Vec<FileHash>,
    /// Outputs, hashed after the step.
    pub outputs: Vec<FileHash>,
    /// Wall time of our in-process run.
    pub ours_time: Option<Duration>,
    /// Wall time of their (or the external) process.
    pub theirs_time: Option<Duration>,
    /// How it ended.
    pub verdict: Verdict,
    /// Tool runs made through our PATH directory by this (external) step, by kind.
    pub spawned: BTreeMap<String, (usize, Duration)>,
    /// How many of those runs were also run by the original, with identical outputs
    /// (`both` mode).
    pub spawned_agreed: usize,
    /// The execution paths of a program step (`native`, `emulated`, `native+emulated
    /// agreed`...), `None` for our in-process tools.
    pub exec: Option<String>,
    /// What the step's program wrote on its standard output and error (and kaem's own
    /// output before it), as [`super::glance::kept_output`] keeps it; empty with
    /// `--verbose`, which shows it on the terminal instead.
    pub output: String,
    /// When the step ended, after the replay's start.
    pub ended: Option<Duration>,
    /// The chain's executable of a tool step that ran it (`theirs`, `both`), hashed when
    /// it ran; external steps' programs are in [`super::findings::Findings`].
    pub program: Option<FileHash>,
}

pub use crate::sha256_hex;

/// The sha256 of the file at `path`, or `None` when it cannot be read.
pub fn hash_file(path: &Path) -> Option<String> {
    std::fs::read(path).ok().map(|b| sha256_hex(&b))
}

/// The GNU `sha256sum` line (newline included) for `path` with digest `hash`.
pub fn sha256sum_line(hash: &str, path: &str) -> String {
    String::from_utf8_lossy(&crate::sha256sum::line(hash, path.as_bytes())).into_owned()
}

/// The result of checking an answers file.
#[derive(Clone, Debug, Default)]
pub struct AnswersCheck {
    /// The answers file, as named.
    pub file: String,
    /// Entries whose file matched.
    pub matched: usize,
    /// Entries that did not: path, expected, found (`None`: missing).
    pub mismatched: Vec<(String, String, Option<String>)>,
}

/// Everything the report says.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// The script, as named.
    pub script: String,
    /// The root directory.
    pub root: PathBuf,
    /// `ours`, `theirs` or `both`.
    pub mode: String,
    /// Every step, in order.
    pub steps: Vec<StepRecord>,
    /// Final hashes of every artifact the steps wrote (path relative to the root).
    pub manifest: BTreeMap<String, Option<String>>,
    /// The answers check, when asked for.
    pub answers: Option<AnswersCheck>,
    /// `None` when the replay completed; otherwise why it stopped.
    pub failure: Option<String>,
    /// Provenance and host-cc checks of the external steps.
    pub independent: super::findings::Findings,
    /// Which hexroot ran the replay: `crossverify (hexroot) VERSION`, and the sha256 of
    /// its executable when it can be read.
    pub hexroot: String,
}

/// How a replay ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// It reached its end and nothing failed.
    Complete,
    /// It reached its end, but steps failed or differed, or answers did not match (why).
    Failed(String),
    /// It stopped before the end (why); nothing is a verdict on the whole chain.
    Incomplete(String),
}

/// The summary counts of a report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Steps per tool kind (name to count).
    pub per_kind: BTreeMap<String, usize>,
    /// Steps run by both implementations with identical outputs.
    pub agreed: usize,
    /// Steps where the two disagreed.
    pub differed: usize,
    /// Steps run as external programs.
    pub external: usize,
    /// Tool runs spawned by external programs through our PATH directory.
    pub spawned: usize,
    /// Those of them that both implementations ran with identical outputs.
    pub spawned_agreed: usize,
    /// Total wall time of our in-process tool runs (steps and spawned runs).
    pub ours_time: Duration,
    /// Total wall time of their tool processes (not external programs).
    pub theirs_time: Duration,
}

impl StepRecord {
    /// An external program two machines ran (`--exec both`: natively, or through qemu-user,
    /// and in hexroot's machine) with every output identical.
    pub fn machines_agreed(&self) -> bool {
        self.implementation == Implementation::External && self.verdict == Verdict::Agreed
    }
}

impl Report {
    /// Whether step `n` was checked by two machines ([`StepRecord::machines_agreed`]).
    pub fn machines_agreed(&self, n: usize) -> bool {
        self.steps
            .iter()
            .any(|r| r.number == n && r.machines_agreed())
    }

    /// Counts per kind, agreement and time.
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for r in &self.steps {
            if let Some(k) = r.kind {
                *s.per_kind.entry(k.to_string()).or_default() += 1;
                s.theirs_time += r.theirs_time.unwrap_or_default();
            }
            s.ours_time += r.ours_time.unwrap_or_default();
            match (&r.implementation, &r.verdict) {
                (Implementation::External, _) => s.external += 1,
                (_, Verdict::Agreed) => s.agreed += 1,
                (_, Verdict::Differed(_)) => s.differed += 1,
                _ => {}
            }
            s.spawned_agreed += r.spawned_agreed;
            for (n, t) in r.spawned.values() {
                s.spawned += n;
                s.ours_time += *t;
            }
        }
        s
    }

    /// The one-line summary printed at the end of a run.
    pub fn summary_line(&self) -> String {
        let s = self.summary();
        let kinds: Vec<String> = s.per_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!(
            "{} steps ({}); agreed {}, differed {}, external {}, spawned tool runs {} (agreed {}); our tools {:.1} ms, their tools {:.1} ms",
            self.steps.len(),
            kinds.join(", "),
            s.agreed,
            s.differed,
            s.external,
            s.spawned,
            s.spawned_agreed,
            ms(s.ours_time),
            ms(s.theirs_time)
        ) + &if self.independent.checks.is_empty() {
            String::new()
        } else {
            format!("; {}", self.independent.summary())
        }
    }

    /// The manifest as sha256sum entries (paths relative to the root; files that no
    /// longer exist are left out).
    pub fn manifest_entries(&self) -> Vec<crate::sha256sum::Entry> {
        self.manifest
            .iter()
            .filter_map(|(path, hash)| {
                Some(crate::sha256sum::Entry {
                    sha256: hash.clone()?,
                    name: path.clone().into_bytes(),
                })
            })
            .collect()
    }

    /// How the run ended, as the report's second line says.
    pub fn status(&self) -> Status {
        let bad_answers = self.answers.as_ref().map_or(0, |a| a.mismatched.len());
        let bad_steps = self
            .steps
            .iter()
            .filter(|s| matches!(s.verdict, Verdict::Failed(_) | Verdict::Differed(_)))
            .count();
        match &self.failure {
            Some(why) => Status::Incomplete(why.clone()),
            None if bad_steps > 0 => {
                Status::Failed(format!("{bad_steps} step(s) failed or differed"))
            }
            None if bad_answers > 0 => {
                Status::Failed(format!("{bad_answers} answer(s) did not match"))
            }
            None => Status::Complete,
        }
    }
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest_and_sha256sum_lines() {
        let h = sha256_hex(b"abc");
        assert_eq!(
            h,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256sum_line(&h, "a b"), format!("{h}  a b\n"));
        assert_eq!(sha256sum_line(&h, "a\rb"), format!("\\{h}  a\\rb\n"));
    }
}
