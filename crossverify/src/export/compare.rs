//! `compare --json` and `compare --html`: a finished [`Comparison`] as a
//! `hexroot.crossverify.compare/1` document and as a page.
//!
//! Both show the policy's judgements as made ([`crate::compare::judge`]); nothing is
//! judged here. A verdict's row class is a fixed reading of its word ([`class`]).

use std::fmt::Write as _;

use crate::compare::result::{numbers, Comparison};
use crate::compare::{Judgement, Verdict};
use crate::html::{self, escape};
use crate::json::{array, name_fields, Value};

/// The page's row class for a verdict.
pub fn class(v: Verdict) -> &'static str {
    match v {
        Verdict::Agree => "agreed",
        Verdict::AgreeOverDissent => "dissent",
        Verdict::Lone => "lone",
        Verdict::Short => "short",
        Verdict::Missing => "missing",
        Verdict::Differ => "differed",
        Verdict::Tie => "tie",
        Verdict::NotDiverse { .. } => "not-diverse",
    }
}

fn report_numbers(indices: &[usize]) -> Value {
    array(indices.iter().map(|i| i + 1))
}

fn artifact(j: &Judgement) -> Value {
    let lacking = match j.verdict {
        Verdict::NotDiverse {
            implementations,
            hosts,
        } => Value::object()
            .with("implementations", implementations)
            .with("hosts", hosts),
        _ => Value::Null,
    };
    name_fields(Value::object(), "name", &j.name)
        .with("verdict", j.verdict.word())
        .with("agrees", j.verdict.agrees())
        .with("agreeing", j.agreeing)
        .with("voters", j.voters)
        .with(
            "groups",
            array(j.groups.iter().map(|(d, members)| {
                Value::object()
                    .with("sha256", d)
                    .with("reports", report_numbers(members))
            })),
        )
        .with("missing", report_numbers(&j.missing))
        .with("not_diverse", lacking)
        .with("notes", j.notes.clone())
}

/// The `hexroot.crossverify.compare/1` document of `run`.
pub fn json(run: &Comparison) -> Value {
    let reports = run
        .reports
        .iter()
        .zip(run.standings)
        .enumerate()
        .map(|(i, (r, s))| {
            let log = s.logged.as_ref().map(|(index, cp)| {
                Value::object()
                    .with("index", *index)
                    .with("size", cp.size)
                    .with("origin", &cp.origin)
            });
            Value::object()
                .with("number", i + 1)
                .with("path", r.path.display().to_string())
                .with("sha256", &r.report_sha256)
                .with("host", &r.report.host)
                .with("os", &r.report.os)
                .with("arch", &r.report.arch)
                .with("date", &r.report.date)
                .with("votes", s.refusals.is_empty())
                .with("signer", s.signer.clone())
                .with("log_entry", log)
                .with("cosigned_by", s.cosigned.clone())
                .with("refusals", s.refusals.clone())
        });
    Value::object()
        .with("schema", crate::export::schema_id("compare"))
        .with(
            "policy",
            Value::object()
                .with("quorum", run.quorum)
                .with("diverse", run.diverse)
                .with("signed", run.signed)
                .with("logged", run.logged)
                .with("witnessed", run.witnessed),
        )
        .with(
            "summary",
            Value::object()
                .with("line", run.summary())
                .with("passes", run.passes())
                .with("artifacts", run.judgements.len())
                .with("agreed", run.agreed())
                .with("voters", run.voters),
        )
        .with("reports", array(reports))
        .with("artifacts", array(run.judgements.iter().map(artifact)))
}

fn artifact_row(run: &Comparison, j: &Judgement) -> String {
    let c = class(j.verdict);
    let name = String::from_utf8_lossy(&j.name);
    let mut votes = String::new();
    for (d, members) in &j.groups {
        let hosts: Vec<String> = members
            .iter()
            .filter_map(|i| run.reports.get(*i))
            .map(|r| r.report.host.clone())
            .collect();
        let _ = write!(
            votes,
            "<div><code>{}</code> [{}] {}</div>",
            escape(d),
            numbers(members),
            escape(&hosts.join(", "))
        );
    }
    if !j.missing.is_empty() {
        let _ = write!(votes, "<div>missing in [{}]</div>", numbers(&j.missing));
    }
    // A difference, expanded: the two largest groups side by side, in full, with who
    // lists each digest and what built it.
    if let [(da, ma), (db, mb), ..] = j.groups.as_slice() {
        let who = |members: &[usize]| {
            let each: Vec<String> = members
                .iter()
                .filter_map(|i| run.reports.get(*i).map(|r| (i, r)))
                .map(|(i, r)| {
                    format!(
                        "[{}] {}, host {}, built by {}",
                        i + 1,
                        r.path.display(),
                        r.report.host,
                        r.report.implementation_of(&j.name).unwrap_or("unspecified")
                    )
                })
                .collect();
            each.join("\n")
        };
        votes.push_str(&html::sides(
            (&format!("sha256 {da}"), &who(ma)),
            (&format!("sha256 {db}"), &who(mb)),
        ));
    }
    for n in &j.notes {
        let _ = write!(votes, "<div class=\"note\">{}</div>", escape(n));
    }
    format!(
        "<tr class=\"row {c}\"><td><code>{}</code></td><td class=\"verdict\">{}</td>\
         <td>{}/{}</td><td>{votes}</td></tr>\n",
        escape(&name.escape_debug().to_string()),
        escape(j.verdict.word()),
        j.agreeing,
        j.voters
    )
}

/// The `--html` page of `run`.
pub fn html(run: &Comparison) -> String {
    let counts: Vec<String> = html::CLASSES
        .iter()
        .map(|(c, _)| {
            (
                *c,
                run.judgements
                    .iter()
                    .filter(|j| class(j.verdict) == *c)
                    .count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| format!("<span id=\"count-{c}\">{c} {n}</span>"))
        .collect();
    let mut lines = vec![format!("artifacts: {}", counts.join(", "))];
    if !run.signed {
        lines.push(
            "votes are unsigned claims: anyone can copy a report under another host name and \
             vote twice; sign reports and compare with --allowed-signers"
                .into(),
        );
    }
    if run.voters == 0 {
        lines.push("no report may vote: nothing is agreed".into());
    }
    let summary = html::summary(run.passes(), &run.summary(), &lines);
    let mut body = String::from(
        "<section id=\"artifacts\">\n<h2>Artifacts</h2>\n<table>\n<tr><th>artifact</th>\
         <th>verdict</th><th>agree</th><th>sha256 [reports]</th></tr>\n",
    );
    for j in run.judgements {
        body.push_str(&artifact_row(run, j));
    }
    body.push_str("</table>\n</section>\n");
    body.push_str(
        "<section id=\"reports\">\n<h2>Reports</h2>\n<table>\n<tr><th>#</th><th>report</th>\
         <th>host</th><th>date</th><th>standing</th></tr>\n",
    );
    for (i, (r, s)) in run.reports.iter().zip(run.standings).enumerate() {
        let _ = writeln!(
            body,
            "<tr class=\"{}\"><td>{}</td><td><code>{}</code></td><td>{} ({})</td><td>{}</td><td>{}</td></tr>",
            if s.refusals.is_empty() { "report" } else { "report novote" },
            i + 1,
            escape(&r.path.display().to_string()),
            escape(&r.report.host),
            escape(&r.report.host_kind()),
            escape(&r.report.date),
            escape(&if s.refusals.is_empty() && s.facts().is_empty() {
                "votes (unsigned)".to_string()
            } else {
                s.facts().join("; ")
            })
        );
    }
    body.push_str("</table>\n</section>\n");
    let refused: Vec<(usize, &Vec<String>)> = run
        .standings
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.refusals.is_empty())
        .map(|(i, s)| (i, &s.refusals))
        .collect();
    let _ = writeln!(
        body,
        "<section id=\"unverified\">\n<h2>Not verified: reports without a vote ({})</h2>\n<table>",
        refused.len()
    );
    for (i, why) in refused {
        let _ = writeln!(
            body,
            "<tr class=\"entry\"><td>[{}]</td><td>{}</td></tr>",
            i + 1,
            escape(&why.join("; "))
        );
    }
    body.push_str("</table>\n</section>\n");
    html::page("crossverify compare", &summary, &body)
}
