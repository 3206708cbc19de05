//! The machine-readable and browsable forms of the subcommands' results: `--json FILE`
//! and `--html FILE`.
//!
//! This module owns where those documents go and their names: every JSON document starts
//! with `"schema": "hexroot.crossverify.CMD/N"` (see [`schema_id`]; N is 1 except for
//! `explain`, which is at 2; the schema files are `crossverify/schemas/CMD.vN.json`,
//! compiled in as [`SCHEMAS`]), is written atomically
//! to FILE, or to standard output instead of the text when FILE is `-`. The submodules
//! turn each command's own result data (the same data its text is printed from; nothing is
//! judged twice) into a [`crate::json::Value`] and, for `replay` and `compare`, into a
//! page ([`crate::html`]). A version bump (`/2`) is needed for any change that removes or
//! renames a member or changes its meaning; adding a member is not allowed either, since
//! the schemas refuse unknown members.

pub mod compare;
pub mod explain;
pub mod manifest;
pub mod replay;
pub mod seeds;

use std::ffi::OsStr;
use std::path::PathBuf;

use toolbase::cli::Streams;
use toolbase::diag::Diagnostic;

/// The commands with a JSON form, the version of their schema and its file's text, in
/// that order.
pub const SCHEMAS: &[(&str, u32, &str)] = &[
    ("replay", 2, include_str!("../schemas/replay.v2.json")),
    ("compare", 1, include_str!("../schemas/compare.v1.json")),
    ("explain", 2, include_str!("../schemas/explain.v2.json")),
    ("seeds", 1, include_str!("../schemas/seeds.v1.json")),
    ("manifest", 1, include_str!("../schemas/manifest.v1.json")),
];

/// The version of `command`'s schema (1 for a command without one).
pub fn version(command: &str) -> u32 {
    SCHEMAS
        .iter()
        .find(|(c, ..)| *c == command)
        .map_or(1, |&(_, v, _)| v)
}

/// `hexroot.crossverify.CMD/N`: the value of a document's `schema` member.
pub fn schema_id(command: &str) -> String {
    format!("hexroot.crossverify.{command}/{}", version(command))
}

/// The committed schema of `command`'s JSON document, parsed.
pub fn schema_of(command: &str) -> Option<crate::json::Value> {
    let (_, v, text) = SCHEMAS.iter().find(|(c, ..)| *c == command)?;
    crate::json::read::parse(
        &format!("crossverify/schemas/{command}.v{v}.json"),
        text.as_bytes(),
    )
    .ok()
}

/// Where a `--json` or `--html` document goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    /// Standard output, in place of the text (`-`).
    Stdout,
    /// A file, written atomically.
    File(PathBuf),
}

impl Destination {
    /// `-` is standard output; anything else a file.
    pub fn parse(v: &OsStr) -> Destination {
        if v == "-" {
            Destination::Stdout
        } else {
            Destination::File(PathBuf::from(v))
        }
    }

    /// A file named relative to the tool's directory ([`Streams::cwd`]) taken there.
    pub fn under(self, io: &Streams) -> Destination {
        match self {
            Destination::File(path) => Destination::File(io.resolve(path)),
            stdout => stdout,
        }
    }

    /// Whether the text output gives way to this document.
    pub fn is_stdout(&self) -> bool {
        *self == Destination::Stdout
    }
}

/// Writes `text` to `dest` (`what` names the document in an error).
pub fn write(
    dest: &Destination,
    text: &str,
    what: &str,
    io: &mut Streams,
) -> Result<(), Diagnostic> {
    match dest {
        Destination::Stdout => io.stdout.write_all(text.as_bytes()).map_err(|e| {
            Diagnostic::io("standard output", &format!("cannot write the {what}"), &e)
        }),
        Destination::File(path) => toolbase::output::write_atomic(path, text.as_bytes(), 0o644)
            .map_err(|e| Diagnostic::io(path, &format!("cannot write the {what}"), &e)),
    }
}

/// Writes the optional `json` and `html` documents; on failure prints the error and gives
/// `false`.
pub fn write_all(
    json: Option<(&Destination, &crate::json::Value)>,
    html: Option<(&Destination, &str)>,
    io: &mut Streams,
) -> bool {
    let mut ok = true;
    if let Some((dest, doc)) = json {
        if let Err(d) = write(dest, &doc.render(), "JSON document", io) {
            io.error(&d);
            ok = false;
        }
    }
    if let Some((dest, page)) = html {
        if let Err(d) = write(dest, page, "HTML page", io) {
            io.error(&d);
            ok = false;
        }
    }
    ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_schema_parses_and_names_its_document() {
        for (command, ..) in SCHEMAS {
            let s = schema_of(command).unwrap_or_else(|| panic!("{command}: schema unreadable"));
            let id = s
                .get("properties")
                .and_then(|p| p.get("schema"))
                .and_then(|p| p.get("const"))
                .and_then(crate::json::Value::as_str);
            assert_eq!(id, Some(schema_id(command).as_str()), "{command}");
            let probe = crate::json::Value::object();
            // Unsupported keywords would show up here as schema errors.
            let errs = crate::json::schema::check(&s, &probe).unwrap_err();
            assert!(
                errs.iter().all(|e| !e.contains("schema:")),
                "{command}: {errs:?}"
            );
        }
    }
}
