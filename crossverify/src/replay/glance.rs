//! A replay's results at a glance: each step's result class, the final line, the chain's
//! own output as kept in the report, and the step end times an earlier report gives for
//! the progress estimate.
//!
//! It owns the one reading of verdicts every form shares (text final line, JSON `result`,
//! HTML row colour): a tool step's own verdict (`agreed`, `differed`, `failed`, or `ran`
//! when one implementation ran it), and for an external step that ran, its host-cc
//! outcome (`agreed`, `differed`, or `unverified` when nothing checked it), where `agreed`
//! also stands for two machines' identical runs (`--exec both`) unless a host
//! compiler's build differed. It judges
//! nothing anew: the verdicts are made where the steps run.

use std::path::Path;
use std::time::Duration;

use super::hostcc::{Outcome, StepCheck};
use super::record::{Implementation, Report, StepRecord, Verdict};

/// The result classes of a step, in the order the summary counts them.
pub const RESULTS: &[&str] = &["agreed", "differed", "failed", "unverified", "ran"];

/// A step's result class (one of [`RESULTS`]) and the text that explains it, if any.
pub fn result(r: &StepRecord, check: Option<&StepCheck>) -> (&'static str, Option<String>) {
    match (&r.verdict, r.implementation, check.map(StepCheck::outcome)) {
        (Verdict::Differed(why), _, _) => ("differed", Some(why.clone())),
        (Verdict::Failed(s), _, _) => ("failed", Some(format!("exit status {s}"))),
        // A host compiler's build that differs is a finding even where two machines agreed.
        (_, Implementation::External, Some(Outcome::Differed(why))) => ("differed", Some(why)),
        (Verdict::Agreed, _, _) => ("agreed", None),
        (Verdict::Ran, Implementation::External, Some(Outcome::Agreed)) => ("agreed", None),
        (Verdict::Ran, Implementation::External, Some(Outcome::NotCheckable(why))) => {
            ("unverified", Some(why))
        }
        (Verdict::Ran, Implementation::External, None) => {
            ("unverified", Some("nothing checked this step".into()))
        }
        (Verdict::Ran, _, _) => ("ran", None),
    }
}

/// How many steps of `report` fall in each class of [`RESULTS`], in that order.
pub fn counts(report: &Report) -> Vec<(&'static str, usize)> {
    RESULTS
        .iter()
        .map(|class| {
            let n = report
                .steps
                .iter()
                .filter(|r| result(r, report.independent.check(r.number)).0 == *class)
                .count();
            (*class, n)
        })
        .collect()
}

/// The final line's text after `replay: ok: ` or `replay: FAILED: `, e.g. `74 steps in
/// 1:04: 50 verified (49 by two implementations, 1 by a host compiler's build), 24 not
/// independently verified; answers 19 of 19 matched (x86.answers)`, or with one kind of
/// check `49 verified by two implementations, ...`.
pub fn final_line(report: &Report, elapsed: Duration) -> String {
    let class = |r: &StepRecord| result(r, report.independent.check(r.number)).0;
    let count = |want: &str| report.steps.iter().filter(|r| class(r) == want).count();
    let agreed = |how: fn(&StepRecord) -> bool| {
        report
            .steps
            .iter()
            .filter(|r| class(r) == "agreed" && how(r))
            .count()
    };
    let by_tools = agreed(|r| r.implementation != Implementation::External);
    let by_machines = agreed(StepRecord::machines_agreed);
    let by_host_cc = count("agreed") - by_tools - by_machines;
    let kinds: Vec<(usize, &str)> = [
        (by_tools, "by two implementations"),
        (by_machines, "by two machines"),
        (by_host_cc, "by a host compiler's build"),
    ]
    .into_iter()
    .filter(|k| k.0 > 0)
    .collect();
    let mut parts = Vec::new();
    match kinds.as_slice() {
        [] => {}
        [(n, how)] => parts.push(format!("{n} verified {how}")),
        _ => {
            let each: Vec<String> = kinds.iter().map(|(n, how)| format!("{n} {how}")).collect();
            parts.push(format!(
                "{} verified ({})",
                count("agreed"),
                each.join(", ")
            ));
        }
    }
    for (word, text) in [("differed", "DIFFERED"), ("failed", "FAILED")] {
        let n = count(word);
        if n > 0 {
            parts.push(format!("{n} {text}"));
        }
    }
    let ran = count("ran");
    if ran > 0 {
        let who = match report.mode.as_str() {
            "ours" => "hexroot's tools",
            _ => "the chain's own tools",
        };
        parts.push(format!(
            "{ran} run by {who} only (--tools both compares them)"
        ));
    }
    let unverified = count("unverified");
    if unverified > 0 {
        parts.push(format!("{unverified} not independently verified"));
    }
    let mut line = format!(
        "{} step{} in {}: {}",
        report.steps.len(),
        if report.steps.len() == 1 { "" } else { "s" },
        toolbase::progress::clock(elapsed),
        if parts.is_empty() {
            "nothing ran".to_string()
        } else {
            parts.join(", ")
        }
    );
    match &report.answers {
        Some(a) => line.push_str(&format!(
            "; answers {} of {} matched ({})",
            a.matched,
            a.matched + a.mismatched.len(),
            Path::new(&a.file)
                .strip_prefix(&report.root)
                .unwrap_or(Path::new(&a.file))
                .display()
        )),
        None if report.failure.is_some() => line.push_str("; answers not checked (stopped early)"),
        None => line.push_str("; answers not checked (no --answers)"),
    }
    line
}

/// The most of a step's own output the report keeps: the first [`HEAD`] and last
/// [`TAIL`] bytes.
const HEAD: usize = 16 * 1024;
const TAIL: usize = 48 * 1024;

/// `bytes` as the report keeps a step's output: lossy UTF-8, the middle of anything over
/// 64 KiB left out with a line saying how much.
pub fn kept_output(bytes: &[u8]) -> String {
    if bytes.len() <= HEAD + TAIL {
        return String::from_utf8_lossy(bytes).into_owned();
    }
    let left_out = bytes.len() - HEAD - TAIL;
    format!(
        "{}\n[... {left_out} bytes left out ...]\n{}",
        String::from_utf8_lossy(&bytes[..HEAD]),
        String::from_utf8_lossy(&bytes[bytes.len() - TAIL..])
    )
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> &str {
    let trimmed = text.trim_end_matches('\n');
    let mut start = trimmed.len();
    for _ in 0..lines {
        match trimmed[..start].rfind('\n') {
            Some(i) => start = i,
            None => return trimmed,
        }
    }
    &trimmed[start + 1..]
}

/// When each step ended after the start, from a report's text (`step N: ...` then
/// `  ended: S s after the start`), sorted by step; empty for any other text.
pub fn step_ends(report_text: &str) -> Vec<(usize, Duration)> {
    let mut ends = Vec::new();
    let mut step = None;
    for line in report_text.lines() {
        if let Some(rest) = line.strip_prefix("step ") {
            step = rest.split(':').next().and_then(|n| n.parse::<usize>().ok());
        } else if let (Some(n), Some(rest)) = (step, line.strip_prefix("  ended: ")) {
            let secs = rest.split(' ').next().and_then(|s| s.parse::<f64>().ok());
            if let Some(s) = secs.filter(|s| s.is_finite() && *s >= 0.0) {
                ends.push((n, Duration::from_secs_f64(s)));
            }
        }
    }
    ends.sort();
    ends
}

/// When the run will end, from an earlier run's step end times `previous`: step `done`
/// ended at `elapsed` now and at `previous[done]` then, so the rest takes as long as it
/// did then, scaled by the two runs' speeds so far. `None` when `previous` lacks `done`
/// or the last step.
pub fn remaining_from_previous(
    previous: &[(usize, Duration)],
    done: usize,
    elapsed: Duration,
) -> Option<Duration> {
    let (_, last) = previous.last()?;
    let then = previous.iter().find(|(n, _)| *n == done)?.1;
    if then.is_zero() {
        return Some(last.saturating_sub(then));
    }
    let scale = elapsed.as_secs_f64() / then.as_secs_f64();
    Some(Duration::from_secs_f64(
        (last.saturating_sub(then).as_secs_f64() * scale).min(1e9),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_kept_whole_or_head_and_tail() {
        assert_eq!(kept_output(b"reading file: a\n"), "reading file: a\n");
        let big = vec![b'x'; HEAD + TAIL + 10];
        let kept = kept_output(&big);
        assert!(kept.contains("[... 10 bytes left out ...]"));
        assert_eq!(
            kept.len(),
            HEAD + TAIL + "\n[... 10 bytes left out ...]\n".len()
        );
    }

    #[test]
    fn tail_takes_the_last_lines() {
        assert_eq!(tail("a\nb\nc\n", 2), "b\nc");
        assert_eq!(tail("a\nb\n", 5), "a\nb");
        assert_eq!(tail("", 3), "");
    }

    #[test]
    fn step_ends_come_from_the_report_text() {
        let text = "summary: x\n\nstep 1: hex0 a b\n  at: k:1:1\n  ended: 0.250 s after the start\nstep 2: M2 x\n  ended: 2.000 s after the start\n";
        let ends = step_ends(text);
        assert_eq!(
            ends,
            vec![(1, Duration::from_millis(250)), (2, Duration::from_secs(2))]
        );
        assert!(step_ends("garbage\n  ended: nan s").is_empty());
        // Half as fast as last time: the rest takes twice as long.
        let left = remaining_from_previous(&ends, 1, Duration::from_millis(500)).unwrap();
        assert_eq!(left, Duration::from_millis(3500));
        assert_eq!(remaining_from_previous(&ends, 7, Duration::ZERO), None);
    }
}
