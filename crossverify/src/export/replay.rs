//! `replay --json` and `replay --html`: the replay report ([`Report`]) as a
//! `hexroot.crossverify.replay/2` document and as a page.
//!
//! Both are built from the report's records and the independent checks' findings, the
//! same data `--report` prints; each step's *result* class is
//! [`crate::replay::glance::result`], the reading the final line uses too.

use std::fmt::Write as _;

use crate::html::{self, escape};
use crate::json::{array, micros, Value};
use crate::replay::glance::counts;
pub use crate::replay::glance::{result, RESULTS};
use crate::replay::hostcc::{Outcome, StepCheck};
use crate::replay::record::{FileHash, Report, Status, StepRecord, Verdict};

fn files(list: &[FileHash]) -> Value {
    array(list.iter().map(|f| {
        Value::object()
            .with("path", &f.path)
            .with("sha256", f.sha256.clone())
    }))
}

fn outcome_fields(o: Value, outcome: &Outcome) -> Value {
    let (word, detail) = match outcome {
        Outcome::Agreed => ("agreed", None),
        Outcome::Differed(w) => ("differed", Some(w.clone())),
        Outcome::NotCheckable(w) => ("not-checkable", Some(w.clone())),
    };
    o.with("outcome", word).with("detail", detail)
}

fn independent(c: &StepCheck) -> Value {
    let o = Value::object()
        .with("program", &c.program)
        .with("program_sha256", c.program_sha256.clone())
        .with("built_by_chain", c.origin.built_by_chain)
        .with("provenance", c.origin.lines.clone())
        .with(
            "compile_steps",
            array(c.origin.compile_steps.iter().copied()),
        )
        .with("sources", c.origin.sources.clone())
        .with("notes", c.notes.clone())
        .with(
            "results",
            array(c.results.iter().map(|(cc, outcome)| {
                outcome_fields(Value::object().with("compiler", cc), outcome)
            })),
        );
    outcome_fields(o, &c.outcome())
}

fn step(report: &Report, r: &StepRecord) -> Value {
    let check = report.independent.check(r.number);
    let (class, why) = result(r, check);
    let (verdict, detail, status) = match &r.verdict {
        Verdict::Ran => ("ran", None, None),
        Verdict::Agreed => ("agreed", None, None),
        Verdict::Differed(w) => ("differed", Some(w.clone()), None),
        Verdict::Failed(s) => ("failed", None, Some(i64::from(*s))),
    };
    Value::object()
        .with("number", r.number)
        .with("location", &r.location)
        .with("command", &r.command)
        .with("tool", r.tool.clone())
        .with("kind", r.kind)
        .with("implementation", r.implementation.name())
        .with("exec", r.exec.clone())
        .with(
            "program",
            r.program.as_ref().map(|p| {
                Value::object()
                    .with("path", &p.path)
                    .with("sha256", p.sha256.clone())
            }),
        )
        .with("ours_us", r.ours_time.map(micros))
        .with("theirs_us", r.theirs_time.map(micros))
        .with("ended_us", r.ended.map(micros))
        .with("verdict", verdict)
        .with("detail", detail)
        .with("exit_status", status)
        .with("result", class)
        .with("result_detail", why)
        .with("inputs", files(&r.inputs))
        .with("outputs", files(&r.outputs))
        .with(
            "spawned",
            array(r.spawned.iter().map(|(kind, (n, t))| {
                Value::object()
                    .with("kind", kind)
                    .with("runs", *n)
                    .with("ours_us", micros(*t))
            })),
        )
        .with("spawned_agreed", r.spawned_agreed)
        .with("independent", check.map(independent))
        .with("output", &r.output)
}

fn status_fields(report: &Report) -> (&'static str, Option<String>) {
    match report.status() {
        Status::Complete => ("complete", None),
        Status::Failed(w) => ("failed", Some(w)),
        Status::Incomplete(w) => ("incomplete", Some(w)),
    }
}

/// The `hexroot.crossverify.replay/2` document of `report`; `error` is the message of
/// the error that failed the run (`None`: it passed, exit status 0).
pub fn json(report: &Report, error: Option<&str>) -> Value {
    let s = report.summary();
    let c = report.independent.counts();
    let (status, why) = status_fields(report);
    let mut results = Value::object();
    for (class, n) in counts(report) {
        results = results.with(class, n);
    }
    let summary = Value::object()
        .with("line", report.summary_line())
        .with("at_a_glance", report.at_a_glance())
        .with("steps", report.steps.len())
        .with(
            "per_kind",
            array(
                s.per_kind
                    .iter()
                    .map(|(k, n)| Value::object().with("kind", k).with("steps", *n)),
            ),
        )
        .with("agreed", s.agreed)
        .with("differed", s.differed)
        .with("external", s.external)
        .with("spawned", s.spawned)
        .with("spawned_agreed", s.spawned_agreed)
        .with("ours_us", micros(s.ours_time))
        .with("theirs_us", micros(s.theirs_time))
        .with("host_cc", report.independent.compilers.clone())
        .with(
            "independent",
            Value::object()
                .with("agreed", c.agreed)
                .with("differed", c.differed)
                .with("not_checkable", c.not_checkable),
        )
        .with("results", results);
    let by_outcome = |want: fn(&Outcome) -> bool| {
        array(
            report
                .independent
                .checks
                .iter()
                .filter(|k| want(&k.outcome()))
                .map(|k| {
                    let detail = match k.outcome() {
                        Outcome::Differed(w) | Outcome::NotCheckable(w) => w,
                        Outcome::Agreed => String::new(),
                    };
                    Value::object()
                        .with("step", k.step)
                        .with("program", &k.program)
                        .with("detail", detail)
                }),
        )
    };
    Value::object()
        .with("schema", crate::export::schema_id("replay"))
        .with("passed", error.is_none())
        .with("error", error)
        .with("status", status)
        .with("status_detail", why)
        .with("script", &report.script)
        .with("root", report.root.display().to_string())
        .with("tools", &report.mode)
        .with("hexroot", &report.hexroot)
        .with("summary", summary)
        .with("steps", array(report.steps.iter().map(|r| step(report, r))))
        .with(
            "host_cc_differences",
            by_outcome(|o| matches!(o, Outcome::Differed(_))),
        )
        .with(
            "unverified",
            by_outcome(|o| matches!(o, Outcome::NotCheckable(_))),
        )
        .with(
            "host_cc_dir",
            report
                .independent
                .dir
                .as_ref()
                .map(|d| d.display().to_string()),
        )
        .with(
            "manifest",
            array(
                report
                    .manifest
                    .iter()
                    .map(|(p, h)| Value::object().with("path", p).with("sha256", h.clone())),
            ),
        )
        .with(
            "answers",
            report.answers.as_ref().map(|a| {
                Value::object()
                    .with("file", &a.file)
                    .with("matched", a.matched)
                    .with(
                        "mismatched",
                        array(a.mismatched.iter().map(|(p, want, got)| {
                            Value::object()
                                .with("path", p)
                                .with("expected", want)
                                .with("found", got.clone())
                        })),
                    )
            }),
        )
}

/// A difference's text with its two sides apart: the lines that start with `theirs` or
/// `ours` (the hex context, the first differing line) side by side under the rest.
pub fn difference_html(text: &str) -> String {
    let (mut head, mut theirs, mut ours) = (Vec::new(), Vec::new(), Vec::new());
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("theirs") {
            theirs.push(t);
        } else if t.starts_with("ours") {
            ours.push(t);
        } else {
            head.push(line);
        }
    }
    let mut s = format!(
        "<pre class=\"difference\">{}</pre>",
        escape(&head.join("\n"))
    );
    if !theirs.is_empty() || !ours.is_empty() {
        s.push_str(&html::sides(
            ("theirs", &theirs.join("\n")),
            ("ours", &ours.join("\n")),
        ));
    } else if let Some((t, o)) = quoted_sides(text) {
        s.push_str(&html::sides(("theirs", t), ("ours", o)));
    }
    s
}

/// The two lines of a text difference (`... theirs 'A', ours 'B'; ...`), if it is one.
fn quoted_sides(text: &str) -> Option<(&str, &str)> {
    let (_, rest) = text.split_once(" theirs '")?;
    let (theirs, rest) = rest.split_once("', ours '")?;
    let ours = rest.split_once("'; ").map_or(rest, |(o, _)| o);
    Some((theirs, ours.strip_suffix('\'').unwrap_or(ours)))
}

fn files_html(label: &str, list: &[FileHash]) -> String {
    if list.is_empty() {
        return String::new();
    }
    let mut s = format!("<details><summary>{label} ({})</summary><pre>", list.len());
    for f in list {
        let _ = writeln!(
            s,
            "{}  {}",
            escape(f.sha256.as_deref().unwrap_or("(missing)")),
            escape(&f.path)
        );
    }
    s.push_str("</pre></details>");
    s
}

fn step_row(report: &Report, r: &StepRecord) -> String {
    let check = report.independent.check(r.number);
    let (class, why) = result(r, check);
    let mut details = format!("<code>{}</code>", escape(&r.location));
    if let Some(e) = &r.exec {
        let _ = write!(details, "<br>exec: {}", escape(e));
    }
    if let Some(c) = check {
        let _ = write!(
            details,
            "<br>program: <code>{}</code><br>provenance: <code>{}</code>",
            escape(&c.program),
            escape(&c.origin.summary())
        );
        for (cc, o) in &c.results {
            let word = match o {
                Outcome::Agreed => "agreed".to_string(),
                Outcome::Differed(_) => "DIFFERED".to_string(),
                Outcome::NotCheckable(w) => format!("not checkable: {w}"),
            };
            let _ = write!(details, "<br>host cc {}: {}", escape(cc), escape(&word));
        }
    }
    // An unverified step's reason is on its host-cc lines already.
    if let (Some(w), "differed" | "failed") = (&why, class) {
        details.push_str(&difference_html(w));
    }
    details.push_str(&files_html("inputs", &r.inputs));
    details.push_str(&files_html("outputs", &r.outputs));
    format!(
        "<tr class=\"row {class}\" id=\"step-{n}\"><td>{n}</td><td><code>{cmd}</code></td>\
         <td>{tool}</td><td>{imp}</td><td class=\"verdict\">{class}</td><td>{details}</td></tr>\n",
        n = r.number,
        cmd = escape(&r.command),
        tool = escape(r.tool.as_deref().unwrap_or("external program")),
        imp = r.implementation.name(),
    )
}

/// The `--html` page of `report`; `error` as for [`json`].
pub fn html(report: &Report, error: Option<&str>) -> String {
    let (status, why) = status_fields(report);
    let first = |w: &str| w.lines().next().unwrap_or_default().to_string();
    let headline = match (&why, error) {
        (Some(w), _) => format!("{status}: {}", first(w)),
        (None, Some(e)) => format!("{status}, but FAILED: {}", first(e)),
        (None, None) => format!("{status}: every step ran; nothing failed or differed"),
    };
    let counts: Vec<String> = counts(report)
        .iter()
        .map(|(class, n)| format!("<span id=\"count-{class}\">{class} {n}</span>"))
        .collect();
    let summary = html::summary(
        error.is_none(),
        &headline,
        &[
            format!(
                "<strong id=\"at-a-glance\">{}</strong>",
                escape(&report.at_a_glance())
            ),
            format!(
                "script <code>{}</code>, root <code>{}</code>, tools {}",
                escape(&report.script),
                escape(&report.root.display().to_string()),
                escape(&report.mode)
            ),
            format!(
                "<span id=\"summary-line\">{}</span>",
                escape(&report.summary_line())
            ),
            format!("steps: {}", counts.join(", ")),
        ],
    );
    let mut body = String::from(
        "<section id=\"steps\">\n<h2>Steps</h2>\n<table>\n<tr><th>step</th><th>command</th>\
         <th>tool</th><th>implementation</th><th>result</th><th>details</th></tr>\n",
    );
    for r in &report.steps {
        body.push_str(&step_row(report, r));
    }
    body.push_str("</table>\n</section>\n");
    let unverified: Vec<&StepCheck> = report
        .independent
        .checks
        .iter()
        .filter(|c| {
            matches!(c.outcome(), Outcome::NotCheckable(_)) && !report.machines_agreed(c.step)
        })
        .collect();
    let _ = write!(
        body,
        "<section id=\"unverified\">\n<h2>Not independently verified ({} step(s): these ran only \
         the chain's own program; nothing checked them)</h2>\n<table>\n\
         <tr><th>step</th><th>program</th><th>why</th></tr>\n",
        unverified.len()
    );
    for c in unverified {
        let why = match c.outcome() {
            Outcome::NotCheckable(w) => w,
            _ => String::new(),
        };
        let _ = writeln!(
            body,
            "<tr class=\"entry\"><td><a href=\"#step-{n}\">{n}</a></td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&c.program),
            escape(&why),
            n = c.step
        );
    }
    body.push_str("</table>\n</section>\n");
    body.push_str(
        "<section id=\"manifest\">\n<h2>Manifest</h2>\n<table>\n<tr><th>sha256</th><th>artifact</th></tr>\n",
    );
    for (p, h) in &report.manifest {
        let _ = writeln!(
            body,
            "<tr class=\"artifact\"><td><code>{}</code></td><td><code>{}</code></td></tr>",
            escape(h.as_deref().unwrap_or("(no longer exists)")),
            escape(p)
        );
    }
    body.push_str("</table>\n</section>\n");
    if let Some(a) = &report.answers {
        let _ = writeln!(
            body,
            "<section id=\"answers\">\n<h2>Answers</h2>\n<p>{}: {} matched, {} did not</p>",
            escape(&a.file),
            a.matched,
            a.mismatched.len()
        );
        for (p, want, got) in &a.mismatched {
            body.push_str(&html::sides(
                (&format!("expected for {p}"), want),
                ("found", got.as_deref().unwrap_or("no such file")),
            ));
        }
        body.push_str("</section>\n");
    }
    html::page(
        &format!("crossverify replay: {}", report.script),
        &summary,
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_of_a_difference_are_shown() {
        let hex = "first difference at offset 0x7 (7)\n    theirs 0x00000000: 61 [62]\n    ours   0x00000000: 61 [63]";
        let h = difference_html(hex);
        assert!(
            h.contains("<b>theirs</b><pre>theirs 0x00000000: 61 [62]</pre>"),
            "{h}"
        );
        let text = "out.M1: first difference at line 7: theirs 'backdoor', ours 'mov_eax,[esp]'; in function login; 1 of 3 functions differ";
        assert_eq!(quoted_sides(text), Some(("backdoor", "mov_eax,[esp]")));
        assert!(difference_html(text).contains("<b>ours</b><pre>mov_eax,[esp]</pre>"));
        assert_eq!(quoted_sides("x: theirs 'a', ours 'b'"), Some(("a", "b")));
    }
}
