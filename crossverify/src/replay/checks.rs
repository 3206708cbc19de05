//! The independent checks of a replay's external steps: bookkeeping, verdict and report.
//!
//! This module owns what the replay keeps about the steps that are not our tools: the
//! program each step ran and its sha256 at that moment, the provenance graph built from
//! the step records ([`graph`]), the [`hostcc`](super::hostcc) check of each step, the
//! counts for the summary line, the report's sections (per step, `## Differences found
//! by the host compilers` and `## Not independently verified`), and the verdict that
//! makes a replay with a differing step fail. It runs processes only through
//! [`super::hostcc::Checker`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;

use super::hostcc::{Checker, HostCc, Outcome, StepCheck, StepRun};
use super::provenance::{Graph, Link};
use super::record::{hash_file, StepRecord};
use crate::kaem::shell::Step;

/// What the replay found about its external steps.
#[derive(Clone, Debug, Default)]
pub struct Findings {
    /// The host compilers in use (empty: none).
    pub compilers: Vec<String>,
    /// Where host builds and differing outputs are kept, when anything is kept.
    pub dir: Option<PathBuf>,
    /// One entry per external step, in order.
    pub checks: Vec<StepCheck>,
}

/// Counts of the checks' outcomes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Steps every compiler that could check agreed on.
    pub agreed: usize,
    /// Steps some compiler's build disagreed on.
    pub differed: usize,
    /// Steps nothing could check.
    pub not_checkable: usize,
}

impl Findings {
    /// The check of step `n`, if it was external.
    pub fn check(&self, n: usize) -> Option<&StepCheck> {
        self.checks.iter().find(|c| c.step == n)
    }

    /// The outcome counts.
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for s in &self.checks {
            match s.outcome() {
                Outcome::Agreed => c.agreed += 1,
                Outcome::Differed(_) => c.differed += 1,
                Outcome::NotCheckable(_) => c.not_checkable += 1,
            }
        }
        c
    }

    /// The summary line's part: `external steps checked by host cc (gcc): agreed 3,
    /// differed 0, not checkable 2`.
    pub fn summary(&self) -> String {
        let c = self.counts();
        let who = if self.compilers.is_empty() {
            "no host cc".to_string()
        } else {
            format!("host cc {}", self.compilers.join(", "))
        };
        format!(
            "external steps checked by {who}: agreed {}, differed {}, not checkable {}",
            c.agreed, c.differed, c.not_checkable
        )
    }

    /// The error that fails a replay in which a check differed.
    pub fn verdict(&self) -> Option<Diagnostic> {
        let differed: Vec<&StepCheck> = self
            .checks
            .iter()
            .filter(|c| matches!(c.outcome(), Outcome::Differed(_)))
            .collect();
        let first = differed.first()?;
        let mut d = Diagnostic::new(format!(
            "{} external step(s) gave different outputs when their program was built by the host's compiler; the first is step {} ({})",
            differed.len(),
            first.step,
            first.program
        ));
        if let Outcome::Differed(why) = first.outcome() {
            d = d.note(why);
        }
        Some(d.hint("the report's '## Differences found by the host compilers' section lists each one; a difference is a finding about the program, not a failure of the replay"))
    }

    /// The lines the report prints under step `n`.
    pub fn render_step(&self, n: usize, o: &mut String) {
        let Some(c) = self.check(n) else { return };
        let _ = writeln!(
            o,
            "  program: {} (sha256 {} when it ran)",
            c.program,
            c.program_sha256.as_deref().unwrap_or("unreadable")
        );
        let _ = writeln!(o, "  provenance: {}", c.origin.summary());
        for l in c.origin.lines.iter().skip(1) {
            let _ = writeln!(o, "  {l}");
        }
        for note in &c.notes {
            let _ = writeln!(o, "  note: {note}");
        }
        for (cc, outcome) in &c.results {
            let _ = writeln!(o, "  host cc {cc}: {}", outcome_text(outcome));
        }
        if c.results.is_empty() {
            let _ = writeln!(o, "  host cc: none in use, not independently verified");
        }
    }

    /// The report's closing sections.
    pub fn render_sections(&self, o: &mut String) {
        if self.checks.is_empty() {
            return;
        }
        let c = self.counts();
        let _ = writeln!(
            o,
            "\n## Differences found by the host compilers ({})",
            c.differed
        );
        for s in &self.checks {
            if let Outcome::Differed(why) = s.outcome() {
                let _ = writeln!(o, "step {}: {}: {why}", s.step, s.program);
            }
        }
        let _ = writeln!(
            o,
            "\n## Not independently verified ({} step(s): these ran only the chain's own program; nothing checked them)",
            c.not_checkable
        );
        for s in &self.checks {
            if let Outcome::NotCheckable(why) = s.outcome() {
                let _ = writeln!(o, "step {}: {}: {why}", s.step, s.program);
            }
        }
        if let Some(d) = &self.dir {
            let _ = writeln!(
                o,
                "\nhost builds and differing outputs kept in: {}",
                d.display()
            );
        }
    }
}

fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Agreed => {
            "agreed (exit status, standard output and every output file identical)".into()
        }
        Outcome::Differed(why) => format!("DIFFERED: {why}"),
        Outcome::NotCheckable(why) => format!("not checkable: {why}"),
    }
}

/// The provenance graph of a replay's steps, with the program each ran.
pub fn graph(steps: &[StepRecord], programs: &[(usize, String)]) -> Graph {
    Graph::new(
        steps
            .iter()
            .map(|r| Link {
                number: r.number,
                program: programs
                    .iter()
                    .find(|(n, _)| *n == r.number)
                    .map(|(_, p)| p.clone())
                    .unwrap_or_default(),
                name: match r.kind {
                    Some(k) => k.to_string(),
                    None => programs
                        .iter()
                        .find(|(n, _)| *n == r.number)
                        .and_then(|(_, p)| Path::new(p).file_name())
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                },
                ours: r.kind.is_some(),
                inputs: r.inputs.iter().map(|f| f.path.clone()).collect(),
                outputs: r.outputs.iter().map(|f| f.path.clone()).collect(),
            })
            .collect(),
    )
}

/// The replay's side of the checks: what ran, and the checker.
pub struct Session {
    checker: Checker,
    keep_dir: bool,
    programs: Vec<(usize, String)>,
    hashes: Vec<(usize, Option<String>)>,
    checks: Vec<StepCheck>,
    /// What the last external step wrote to standard output.
    pub last_stdout: Vec<u8>,
}

impl Session {
    /// A session with `compilers`, working in `dir` (or a temporary directory, removed at
    /// the end unless something differed).
    pub fn new(compilers: Vec<HostCc>, dir: Option<PathBuf>) -> Session {
        static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let keep_dir = dir.is_some();
        let dir = dir.unwrap_or_else(|| {
            let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            std::env::temp_dir().join(format!("hexroot-hostcc-{}-{n}", std::process::id()))
        });
        Session {
            checker: Checker::new(compilers, dir),
            keep_dir,
            programs: Vec::new(),
            hashes: Vec::new(),
            checks: Vec::new(),
            last_stdout: Vec::new(),
        }
    }

    /// Records the program step `n` is about to run, and its sha256.
    pub fn before(&mut self, n: usize, root: &Path, step: &Step) {
        let program = crate::kaem::shell::normalize(&step.cwd.join(&step.program));
        self.programs.push((n, relative(root, &program)));
        self.hashes.push((n, hash_file(&program)));
    }

    /// See [`Checker::use_our_tools`].
    pub fn use_our_tools(&mut self, exe: &Path) -> std::io::Result<()> {
        self.checker.use_our_tools(exe)
    }

    /// After step `n` (its record is the last of `steps`): checks it if it is an external
    /// step that succeeded.
    pub fn after(&mut self, n: usize, root: &Path, step: &Step, steps: &[StepRecord], ok: bool) {
        let Some(rec) = steps.last().filter(|r| r.number == n && r.kind.is_none()) else {
            return;
        };
        let graph = graph(steps, &self.programs);
        let program = relative(
            root,
            &crate::kaem::shell::normalize(&step.cwd.join(&step.program)),
        );
        let mut check = StepCheck {
            step: n,
            origin: graph.origin(&program, n),
            program,
            program_sha256: self
                .hashes
                .iter()
                .find(|(m, _)| *m == n)
                .and_then(|(_, h)| h.clone()),
            results: Vec::new(),
            notes: Vec::new(),
        };
        if !ok {
            check.results = self
                .checker
                .compilers()
                .iter()
                .map(|c| {
                    (
                        c.name.clone(),
                        Outcome::NotCheckable("the step itself failed".into()),
                    )
                })
                .collect();
        } else {
            let outputs: Vec<String> = rec.outputs.iter().map(|f| f.path.clone()).collect();
            let program_abs = crate::kaem::shell::normalize(&step.cwd.join(&step.program));
            let run = StepRun {
                number: n,
                root,
                cwd: step.cwd,
                program: &program_abs,
                argv: &step.argv,
                vars: step.vars,
                outputs: &outputs,
                stdout: &self.last_stdout,
            };
            self.checker.check(&graph, &run, &mut check);
        }
        self.checks.push(check);
    }

    /// The findings; the scratch directory is removed unless it was asked for or holds
    /// outputs that differed.
    pub fn finish(self) -> Findings {
        let mut f = Findings {
            compilers: self
                .checker
                .compilers()
                .iter()
                .map(|c| c.name.clone())
                .collect(),
            dir: None,
            checks: self.checks,
        };
        let dir = self.checker.dir().to_path_buf();
        if self.keep_dir || f.counts().differed > 0 {
            f.dir = dir.exists().then_some(dir);
        } else {
            let _ = std::fs::remove_dir_all(&dir);
        }
        f
    }
}

fn relative(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}
