//! What the independent checks of a replay's external steps found, as the report keeps
//! it: the host compilers, where their builds are kept, each step's check, the outcome
//! counts, the summary line's part, the verdict that makes a replay with a differing step
//! fail, and the report's sections (per step, `## Differences found by the host compilers`
//! and `## Not independently verified`). This module owns that result; running the checks
//! is [`super::checks`]'s.

use std::fmt::Write as _;
use std::path::PathBuf;

use toolbase::diag::Diagnostic;

use super::hostcc::{Outcome, StepCheck};

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

    /// The lines the report prints under step `n` (`machines_agreed`: two machines ran it
    /// with identical outputs, so it was checked after all).
    pub fn render_step(&self, n: usize, machines_agreed: bool, o: &mut String) {
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
        match (c.results.is_empty(), machines_agreed) {
            (true, true) => {
                let _ = writeln!(o, "  host cc: none in use (two machines agreed: see exec)");
            }
            (true, false) => {
                let _ = writeln!(o, "  host cc: none in use, not independently verified");
            }
            _ => {}
        }
    }

    /// The report's closing sections; `machines_agreed(n)`: step `n` was checked by two
    /// machines, so it is not listed as unverified.
    pub fn render_sections(&self, o: &mut String, machines_agreed: &dyn Fn(usize) -> bool) {
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
        let unverified: Vec<(&StepCheck, String)> = self
            .checks
            .iter()
            .filter(|s| !machines_agreed(s.step))
            .filter_map(|s| match s.outcome() {
                Outcome::NotCheckable(why) => Some((s, why)),
                _ => None,
            })
            .collect();
        let _ = writeln!(
            o,
            "\n## Not independently verified ({} step(s): these ran only the chain's own program; nothing checked them)",
            unverified.len()
        );
        for (s, why) in unverified {
            let _ = writeln!(o, "step {}: {}: {why}", s.step, s.program);
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
