//! `manifest --json`: what `crossverify manifest` wrote, as a
//! `hexroot.crossverify.manifest/1` document, built from the entries and the report it
//! wrote.

use crate::json::{array, name_fields, Value};
use crate::report::Report;
use crate::sha256sum::Entry;

/// The document for `entries` written to `manifest` with `report` beside it at
/// `report_path`.
pub fn json(manifest: &str, report_path: &str, entries: &[Entry], report: &Report) -> Value {
    let entries = entries.iter().map(|e| {
        name_fields(Value::object(), "name", &e.name)
            .with("sha256", &e.sha256)
            .with("implementation", report.implementation_of(&e.name))
    });
    Value::object()
        .with("schema", crate::export::schema_id("manifest"))
        .with("manifest", manifest)
        .with("report", report_path)
        .with("host", &report.host)
        .with("os", &report.os)
        .with("arch", &report.arch)
        .with("date", &report.date)
        .with(
            "tools",
            array(
                report
                    .tools
                    .iter()
                    .map(|(n, v)| Value::object().with("name", n).with("version", v)),
            ),
        )
        .with("entries", array(entries))
}
