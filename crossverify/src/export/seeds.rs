//! `seeds --json`: the rows of `crossverify seeds` as a `hexroot.crossverify.seeds/1`
//! document, built from the same [`Row`]s the table prints.

use crate::json::{array, Value};
use crate::seeds::{Outcome, Row, Verdict};

/// The word of a row's verdict.
pub fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Agrees => "agrees",
        Verdict::Differs => "differs",
        Verdict::Failed => "failed",
        Verdict::NotAvailable => "not-available",
    }
}

/// The document: `source` is `bundled` or the seeds directory given, `written` the
/// manifest and report paths (`None` when they were not written).
pub fn json(rows: &[Row], source: &str, summary: &str, written: Option<(String, String)>) -> Value {
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let rows = rows.iter().map(|r| {
        let detail = match &r.outcome {
            Outcome::Built(_) => None,
            Outcome::Failed(w) | Outcome::NotAvailable(w) => Some(w.clone()),
        };
        Value::object()
            .with("seed", r.seed.name())
            .with("path", r.path.name())
            .with("implementation", r.path.implementation())
            .with("expected", &r.expected)
            .with("sha256", r.sha256.clone())
            .with("verdict", word(r.verdict))
            .with("detail", detail)
    });
    let (manifest, report) = match written {
        Some((m, r)) => (Value::Str(m), Value::Str(r)),
        None => (Value::Null, Value::Null),
    };
    Value::object()
        .with("schema", crate::export::schema_id("seeds"))
        .with("source", source)
        .with(
            "summary",
            Value::object()
                .with("line", summary)
                .with("agrees", count(Verdict::Agrees))
                .with("differs", count(Verdict::Differs))
                .with("failed", count(Verdict::Failed))
                .with("not_available", count(Verdict::NotAvailable)),
        )
        .with("rows", array(rows))
        .with("manifest", manifest)
        .with("report", report)
}
