//! Manifests: GNU `sha256sum` files, written and read strictly, and the `manifest`
//! subcommand that writes one with its report.
//!
//! A manifest is exactly what `sha256sum` prints and `sha256sum -c` accepts without a
//! warning: one line per file, `<64 lower-case hex digits><space><space><name>\n`. A name
//! holding a backslash or a newline is written GNU's way: the line starts with `\`, and in
//! the name `\` becomes `\\` and a newline becomes `\n`. Reading accepts exactly that
//! (and `*` in place of the second space, GNU's binary-mode marker) and nothing else: any
//! other line, a missing final newline, an upper-case or short digest, an unknown escape or
//! a name listed twice is an error naming `FILE:LINE:COL`. Names are bytes (Unix paths need
//! not be UTF-8). This module owns the sha256sum format and the files it lists; the report
//! written beside a manifest is [`crate::report`]'s.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::{Diagnostic, Position};
use toolbase::output::write_atomic;

use crate::report::{self, Report};

/// Mode for manifests and reports (before umask).
pub const FILE_MODE: u32 = 0o644;

/// One line of a manifest: a file's SHA-256 and its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 64 lower-case hex digits.
    pub sha256: String,
    /// The file name as listed (unescaped bytes).
    pub name: Vec<u8>,
}

impl Entry {
    /// An entry for `name` with the digest of `bytes`.
    pub fn of(name: impl Into<Vec<u8>>, bytes: &[u8]) -> Entry {
        Entry {
            sha256: crate::sha256_hex(bytes),
            name: name.into(),
        }
    }

    /// The name for messages (lossy UTF-8).
    pub fn display_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// The manifest text for `entries`, in the order given.
pub fn render(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let escape = e.name.iter().any(|&b| b == b'\\' || b == b'\n');
        if escape {
            out.push(b'\\');
        }
        out.extend_from_slice(e.sha256.as_bytes());
        out.extend_from_slice(b"  ");
        if escape {
            for &b in &e.name {
                match b {
                    b'\\' => out.extend_from_slice(b"\\\\"),
                    b'\n' => out.extend_from_slice(b"\\n"),
                    _ => out.push(b),
                }
            }
        } else {
            out.extend_from_slice(&e.name);
        }
        out.push(b'\n');
    }
    out
}

/// Whether `s` is 64 lower-case hex digits.
pub fn is_sha256_hex(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Parses the manifest `text` read from `file`, strictly (see the module documentation).
pub fn parse(file: &str, text: &[u8]) -> Result<Vec<Entry>, Diagnostic> {
    let err = |offset: usize, message: &str| {
        Diagnostic::new(message)
            .in_file(file)
            .at_offset_in(text, offset)
    };
    if text.is_empty() {
        return Err(Diagnostic::new("empty manifest: it lists no file")
            .in_file(file)
            .expected("lines '<sha256>  <name>'"));
    }
    if text.last() != Some(&b'\n') {
        return Err(err(text.len(), "the last line does not end with a newline")
            .hint("a truncated manifest cannot be trusted; fetch it again"));
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let end = start + text[start..].iter().position(|&b| b == b'\n').unwrap_or(0);
        let line = &text[start..end];
        let escaped = line.first() == Some(&b'\\');
        let body = if escaped { &line[1..] } else { line };
        let at = start + usize::from(escaped);
        if body.len() < 66 || !is_sha256_hex(&body[..64]) {
            let found = String::from_utf8_lossy(&body[..body.len().min(66)]).into_owned();
            return Err(err(at, "not a sha256sum line")
                .expected("64 lower-case hex digits, two spaces (or space and '*'), a name")
                .found(format!("'{found}'")));
        }
        if body[64] != b' ' || !matches!(body[65], b' ' | b'*') {
            return Err(err(at + 64, "bad separator after the digest")
                .expected("two spaces, or a space and '*'")
                .found(format!("'{}'", String::from_utf8_lossy(&body[64..66]))));
        }
        let raw = &body[66..];
        if raw.is_empty() {
            return Err(err(at + 66, "missing file name").expected("a file name"));
        }
        let mut name = Vec::with_capacity(raw.len());
        if escaped {
            let mut i = 0;
            while i < raw.len() {
                if raw[i] == b'\\' {
                    match raw.get(i + 1) {
                        Some(b'\\') => name.push(b'\\'),
                        Some(b'n') => name.push(b'\n'),
                        other => {
                            return Err(err(at + 66 + i, "unknown escape in a file name")
                                .expected("'\\\\' or '\\n'")
                                .found(match other {
                                    Some(&b) => {
                                        format!("'\\' {}", toolbase::diag::describe_byte(b))
                                    }
                                    None => "'\\' at the end of the line".into(),
                                }))
                        }
                    }
                    i += 2;
                } else {
                    name.push(raw[i]);
                    i += 1;
                }
            }
        } else {
            name.extend_from_slice(raw);
        }
        if let Some(first) = entries.iter().position(|e| e.name == name) {
            return Err(err(at + 66, "file listed twice")
                .found(format!("'{}'", String::from_utf8_lossy(&name)))
                .note(format!("first listed on line {}", first + 1)));
        }
        entries.push(Entry {
            sha256: String::from_utf8_lossy(&body[..64]).into_owned(),
            name,
        });
        start = end + 1;
    }
    Ok(entries)
}

/// Reads and parses the manifest at `path`.
pub fn load(path: &std::path::Path) -> Result<(Vec<u8>, Vec<Entry>), Diagnostic> {
    let text = std::fs::read(path).map_err(|e| Diagnostic::io(path, "cannot read manifest", &e))?;
    let entries = parse(&path.display().to_string(), &text)?;
    Ok((text, entries))
}

/// Writes `manifest_path` with `entries` and, beside it, its report (built-by per entry
/// from `built_by`, in the same order), atomically each. Returns the report's path and
/// the report.
pub fn write_with_report(
    manifest_path: &std::path::Path,
    entries: &[Entry],
    built_by: &[String],
    tools: &[(String, String)],
) -> Result<(PathBuf, Report), Diagnostic> {
    let text = render(entries);
    let mut report = Report::for_this_host(
        &manifest_path
            .file_name()
            .map(|n| n.as_bytes().to_vec())
            .unwrap_or_default(),
        &text,
    );
    report.tools = tools.to_vec();
    report.built_by = entries
        .iter()
        .zip(built_by)
        .map(|(e, b)| (b.clone(), e.name.clone()))
        .collect();
    let report_path = report::path_for(manifest_path);
    write_atomic(manifest_path, &text, FILE_MODE)
        .map_err(|e| Diagnostic::io(manifest_path, "cannot write manifest", &e))?;
    write_atomic(&report_path, &report.render(), FILE_MODE)
        .map_err(|e| Diagnostic::io(&report_path, "cannot write report", &e))?;
    Ok((report_path, report))
}

#[derive(Clone, Copy)]
enum Id {
    Implementation,
    Output,
    Tool,
    Json,
    Help,
    Version,
}

const OPTS: &[Opt<Id>] = &[
    Opt::value(&["-i", "--implementation"], Id::Implementation),
    Opt::value(&["-o", "--output"], Id::Output),
    Opt::value(&["-t", "--tool"], Id::Tool),
    Opt::value(&["--json"], Id::Json),
    Opt::flag(&["-h", "--help"], Id::Help),
    Opt::flag(&["-V", "--version"], Id::Version),
];

const HELP: &str = "\
Usage: crossverify manifest [--implementation NAME] [-o FILE] [--tool NAME=VERSION]
                            [--json FILE|-] FILE...

Writes a GNU sha256sum manifest of the FILEs (default crossverify.sha256), which
'sha256sum -c' accepts, and beside it FILE.report: host name, OS, CPU architecture, the
implementation that built each artifact, tool versions and the date (UTC), bound to the
manifest by the manifest's SHA-256. Send both files to whoever compares them
('crossverify compare').

Options:
  -i, --implementation NAME  the implementation that built the FILEs that follow (may be
                             repeated; a name without spaces, e.g. mescc-tools, hexroot);
                             default 'unspecified', which never counts toward diversity
  -o, --output FILE          the manifest to write (default crossverify.sha256)
  -t, --tool NAME=VERSION    a tool version to record in the report (may be repeated)
      --json FILE            also write what was listed as JSON (schema
                             hexroot.crossverify.manifest/1); '-': to stdout
  -h, --help                 print this help and exit
  -V, --version              print the version and exit

Exit status: 0 written, 1 an unreadable FILE or unwritable output (nothing is written),
2 bad command line.

Example:
  $ printf 'B8' > a.bin && crossverify manifest -i hexroot -o mine.sha256 a.bin && sha256sum -c mine.sha256
";

/// A name usable as an implementation or tool name in a report: non-empty, printable
/// ASCII without spaces.
pub fn is_word(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic())
}

/// Runs `crossverify manifest` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify manifest";
    let mut implementation = "unspecified".to_string();
    let mut output = PathBuf::from("crossverify.sha256");
    let mut tools = vec![(
        "crossverify".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    )];
    let mut files: Vec<(OsString, String)> = Vec::new();
    let mut json = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Opt(Id::Implementation, Some(v))) => {
                let v = v.to_string_lossy();
                if !is_word(&v) {
                    io.usage_error(tool, &format!("bad implementation name '{v}': expected printable ASCII without spaces"));
                    return EXIT_USAGE;
                }
                implementation = v.into_owned();
            }
            Ok(Arg::Opt(Id::Output, Some(v))) => output = PathBuf::from(v),
            Ok(Arg::Opt(Id::Json, Some(v))) => json = Some(crate::export::Destination::parse(v)),
            Ok(Arg::Opt(Id::Tool, Some(v))) => {
                let v = v.to_string_lossy();
                match v.split_once('=') {
                    Some((n, ver)) if is_word(n) && is_word(ver) => {
                        tools.push((n.into(), ver.into()))
                    }
                    _ => {
                        io.usage_error(
                            tool,
                            &format!(
                                "bad --tool '{v}': expected NAME=VERSION, both without spaces"
                            ),
                        );
                        return EXIT_USAGE;
                    }
                }
            }
            Ok(Arg::Opt(Id::Help, _)) => {
                let _ = io.stdout.write_all(HELP.as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(Id::Version, _)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(_, None)) => unreachable!("the parser gives a value"),
            Ok(Arg::Positional(p)) => files.push((p.to_os_string(), implementation.clone())),
            Err(e) => {
                io.usage_error(tool, &e.message);
                return EXIT_USAGE;
            }
        }
    }
    if files.is_empty() {
        io.usage_error(tool, "missing FILE: expected at least one file to list");
        return EXIT_USAGE;
    }
    let mut entries = Vec::new();
    let mut built_by = Vec::new();
    for (file, imp) in &files {
        let bytes = match std::fs::read(file) {
            Ok(b) => b,
            Err(e) => {
                io.error(&Diagnostic::io(file, "cannot read file to list", &e));
                return EXIT_FAILURE;
            }
        };
        let name = file.clone().into_vec();
        if entries.iter().any(|e: &Entry| e.name == name) {
            io.error(
                &Diagnostic::new("file named twice")
                    .in_file(file.to_string_lossy())
                    .at(Position::None),
            );
            return EXIT_USAGE;
        }
        entries.push(Entry::of(name, &bytes));
        built_by.push(imp.clone());
    }
    match write_with_report(&output, &entries, &built_by, &tools) {
        Ok((report_path, report)) => {
            if let Some(dest) = &json {
                let doc = crate::export::manifest::json(
                    &output.display().to_string(),
                    &report_path.display().to_string(),
                    &entries,
                    &report,
                );
                if !crate::export::write_all(Some((dest, &doc)), None, io) {
                    return EXIT_FAILURE;
                }
                if dest.is_stdout() {
                    return EXIT_SUCCESS;
                }
            }
            if io.stdout_is_terminal {
                let _ = writeln!(
                    io.stdout,
                    "wrote {} and {}",
                    output.display(),
                    report_path.display()
                );
            }
            EXIT_SUCCESS
        }
        Err(d) => {
            io.error(&d);
            EXIT_FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn plain_and_escaped_names_round_trip() {
        let entries = vec![
            Entry {
                sha256: H.into(),
                name: b"a b.bin".to_vec(),
            },
            Entry {
                sha256: H.into(),
                name: b"back\\slash\nnewline".to_vec(),
            },
        ];
        let text = render(&entries);
        assert_eq!(
            String::from_utf8_lossy(&text),
            format!("{H}  a b.bin\n\\{H}  back\\\\slash\\nnewline\n")
        );
        assert_eq!(parse("m", &text).unwrap(), entries);
    }

    #[test]
    fn strictness() {
        for (text, what) in [
            (format!("{H}  a"), "newline"),
            (format!("{}  a\n", H.to_uppercase()), "sha256sum line"),
            (format!("{H} a\n"), "separator"),
            (format!("{H}  a\n{H}  a\n"), "twice"),
            (format!("\\{H}  a\\x\n"), "escape"),
            (format!("{H}\ta\n"), "separator"),
            (String::new(), "empty"),
        ] {
            let e = parse("m", text.as_bytes()).unwrap_err();
            assert!(e.to_string().contains(what), "{text:?}: {e}");
        }
        let e = parse("m", format!("{H}  a\nxyz\n").as_bytes()).unwrap_err();
        assert!(e.to_string().starts_with("m:2:1: error"), "{e}");
    }
}
