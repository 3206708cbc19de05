//! The independent checks of a replay's external steps: the bookkeeping while it runs.
//!
//! This module owns what the replay keeps about the steps that are not our tools: the
//! program each step ran and its sha256 at that moment, the provenance graph built from
//! the step records ([`graph`]), and the [`hostcc`](super::hostcc) check of each step,
//! gathered into the [`Findings`] the report keeps (their counts, sections and verdict
//! are [`super::findings`]'s). It runs processes only through [`super::hostcc::Checker`].

use std::path::{Path, PathBuf};

use super::findings::Findings;
use super::hostcc::{Checker, HostCc, Outcome, StepCheck, StepRun};
use super::provenance::{Graph, Link};
use super::record::{hash_file, StepRecord};
use crate::kaem::shell::Step;

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
