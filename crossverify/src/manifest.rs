//! The `manifest` subcommand: hashes the files named on the command line and writes
//! their sha256sum file with its report beside it, atomically each.
//!
//! The sha256sum format itself (entries, escaping, the strict reader) is
//! [`crate::sha256sum`]'s and the report format [`crate::report`]'s; this module only
//! decides what to list (a directory stands for every regular file under it, in byte
//! order of their paths) and how they are named: as given, or relative to `--root DIR`.
//! A name is the artifact's identity when two machines' manifests are compared, so it is
//! never derived from where the manifest itself is written.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{resolve_in, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::{Diagnostic, Position};
use toolbase::output::write_atomic;

use crate::kaem::shell::normalize;
use crate::report::{self, is_word, Report};
use crate::sha256sum::{self, Entry};
use crate::FILE_MODE;

/// Writes `manifest_path` with `entries` and, beside it, its report (built-by per entry
/// from `built_by`, in the same order), atomically each. Returns the report's path and
/// the report.
pub fn write_with_report(
    manifest_path: &std::path::Path,
    entries: &[Entry],
    built_by: &[String],
    tools: &[(String, String)],
) -> Result<(PathBuf, Report), Diagnostic> {
    let text = sha256sum::render(entries);
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

/// `("crossverify", VERSION)`: the tool every manifest's report names first.
pub fn this_tool() -> (String, String) {
    (
        "crossverify".to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    )
}

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Help,
    Version,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Implementation,
    Output,
    Root,
    Tool,
    Json,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-i", "--implementation"], Value::Implementation, "NAME")
        .doc(
            "the implementation that built the FILEs that follow (may be\nrepeated; a name without spaces, e.g. mescc-tools, hexroot);\ndefault 'unspecified', which never counts toward diversity",
        ),
    Opt::value(&["-o", "--output"], Value::Output, "FILE")
        .doc(
            "the manifest to write (default crossverify.sha256)",
        ),
    Opt::value(&["-C", "--root"], Value::Root, "DIR")
        .doc(
            "name the FILEs relative to DIR (each must be inside it);\ncheck with 'cd DIR && sha256sum -c MANIFEST'",
        ),
    Opt::value(&["-t", "--tool"], Value::Tool, "NAME=VERSION")
        .doc(
            "a tool version to record in the report (may be repeated)",
        ),
    Opt::value(&["--json"], Value::Json, "FILE")
        .doc(
            "also write what was listed as JSON (schema\nhexroot.crossverify.manifest/1); '-': to stdout",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify manifest [--implementation NAME] [-o FILE] [--tool NAME=VERSION]
                            [--json FILE|-] FILE...

Writes a GNU sha256sum manifest of the FILEs (default crossverify.sha256), which
'sha256sum -c' accepts, and beside it FILE.report: host name, OS, CPU architecture, the
implementation that built each artifact, tool versions and the date (UTC), bound to the
manifest by the manifest's SHA-256. Send both files to whoever compares them
('crossverify compare'). A FILE that is a directory lists every regular file under it.
Names are the FILEs as given (relative to the current directory, where 'sha256sum -c'
then checks them), or relative to DIR with --root DIR: name artifacts the same way on
every machine, since 'compare' matches them by name.

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 written, 1 an unreadable FILE or unwritable output (nothing is written),
2 bad command line.

Examples:
  $ printf 'B8' > a.bin && crossverify manifest -i hexroot -o mine.sha256 a.bin && sha256sum -c mine.sha256
  $ mkdir -p out/bin && printf 'B8' > out/bin/a && crossverify manifest -C out -o out.sha256 out && cd out && sha256sum -c ../out.sha256
";

/// The documented options, from the table that parses them: what `--help` lists, and the
/// man page's and the completion's options.
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `--help` prints: the text around the option list, which `OPTS` renders.
fn help() -> String {
    HELP_HEAD.to_string() + &toolbase::help::option_list(&options()) + HELP_TAIL
}

/// Runs `crossverify manifest` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify manifest";
    let mut implementation = "unspecified".to_string();
    let mut output = PathBuf::from("crossverify.sha256");
    let mut tools = vec![this_tool()];
    let mut files: Vec<(OsString, String)> = Vec::new();
    let mut json = None;
    let mut root = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Value(Value::Implementation, v)) => {
                let v = v.to_string_lossy();
                if !is_word(&v) {
                    io.usage_error(tool, &format!("bad implementation name '{v}': expected printable ASCII without spaces"));
                    return EXIT_USAGE;
                }
                implementation = v.into_owned();
            }
            Ok(Arg::Value(Value::Output, v)) => output = PathBuf::from(v),
            Ok(Arg::Value(Value::Root, v)) => root = Some(PathBuf::from(v)),
            Ok(Arg::Value(Value::Json, v)) => {
                json = Some(crate::export::Destination::parse(v).under(io))
            }
            Ok(Arg::Value(Value::Tool, v)) => {
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
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => files.push((p.to_os_string(), implementation.clone())),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    if files.is_empty() {
        io.usage_error(tool, "missing FILE: expected at least one file to list");
        return EXIT_USAGE;
    }
    let mut listed = Vec::new();
    for (file, imp) in &files {
        match expand(io.cwd, Path::new(file)) {
            Ok(found) => listed.extend(found.into_iter().map(|f| (f, imp))),
            Err(d) => {
                io.error(&d);
                return EXIT_FAILURE;
            }
        }
    }
    // Where relative names are: the tool's directory, absolute.
    let here = std::env::current_dir()
        .unwrap_or_default()
        .join(io.cwd.unwrap_or(Path::new(".")));
    let mut entries = Vec::new();
    let mut built_by = Vec::new();
    let mut seen = Vec::new();
    let root_dir = root.as_ref().map(|dir| normalize(&here.join(dir)));
    for (file, imp) in &listed {
        let absolute = normalize(&here.join(file));
        if seen.contains(&absolute) {
            io.error(
                &Diagnostic::new("file named twice (directly or inside a directory named)")
                    .in_file(file.to_string_lossy())
                    .at(Position::None),
            );
            return EXIT_USAGE;
        }
        let name = match (&root, &root_dir) {
            (Some(dir), Some(root_dir)) => match name_under(root_dir, &absolute) {
                Some(rel) => rel.as_os_str().as_bytes().to_vec(),
                None => {
                    io.error(
                        &Diagnostic::new(format!("not inside --root {}", dir.display()))
                            .in_file(file.to_string_lossy())
                            .at(Position::None)
                            .hint("--root names the directory every FILE is named from"),
                    );
                    return EXIT_USAGE;
                }
            },
            _ => file.clone().into_os_string().into_vec(),
        };
        let bytes = match std::fs::read(io.resolve(file)) {
            Ok(b) => b,
            Err(e) => {
                io.error(&Diagnostic::io(file, "cannot read file to list", &e));
                return EXIT_FAILURE;
            }
        };
        seen.push(absolute);
        entries.push(Entry::of(name, &bytes));
        built_by.push((*imp).clone());
    }
    let output = io.resolve(&output);
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
                    "wrote {} and {} ({} files)",
                    output.display(),
                    report_path.display(),
                    entries.len()
                );
                let manifest = normalize(&here.join(&output));
                let _ = match &root {
                    Some(dir) => writeln!(
                        io.stdout,
                        "check with: cd {} && sha256sum -c {}",
                        dir.display(),
                        manifest.display()
                    ),
                    None => writeln!(
                        io.stdout,
                        "check from this directory: sha256sum -c {}",
                        output.display()
                    ),
                };
            }
            EXIT_SUCCESS
        }
        Err(d) => {
            io.error(&d);
            EXIT_FAILURE
        }
    }
}

/// `arg` itself, or for a directory every regular file under it (symbolic links to
/// files included, links to directories not followed), in byte order of their paths;
/// named as `arg` is, and read under `cwd` when relative.
fn expand(cwd: Option<&Path>, arg: &Path) -> Result<Vec<PathBuf>, Diagnostic> {
    let meta = std::fs::metadata(resolve_in(cwd, arg))
        .map_err(|e| Diagnostic::io(arg, "cannot read file to list", &e))?;
    if !meta.is_dir() {
        return Ok(vec![arg.to_path_buf()]);
    }
    let mut found = Vec::new();
    let mut pending = vec![arg.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(resolve_in(cwd, &dir))
            .map_err(|e| Diagnostic::io(&dir, "cannot read directory to list", &e))?;
        for entry in entries {
            let entry =
                entry.map_err(|e| Diagnostic::io(&dir, "cannot read directory to list", &e))?;
            let path = dir.join(entry.file_name());
            let kind = entry
                .file_type()
                .map_err(|e| Diagnostic::io(&path, "cannot read file to list", &e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() || (kind.is_symlink() && resolve_in(cwd, &path).is_file()) {
                found.push(path);
            }
        }
    }
    found.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(found)
}

/// The name of `file` under directory `root` (both absolute and lexical), or `None` when
/// it is not inside it.
fn name_under<'a>(root: &Path, file: &'a Path) -> Option<&'a Path> {
    file.strip_prefix(root)
        .ok()
        .filter(|rel| !rel.as_os_str().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_relative_to_the_root() {
        let r = |b: &str, f: &'static str| name_under(Path::new(b), Path::new(f));
        assert_eq!(r("/w/out", "/w/d/a"), None);
        assert_eq!(r("/w", "/w/d/a"), Some(Path::new("d/a")));
        assert_eq!(r("/w/d", "/w/d/a"), Some(Path::new("a")));
        assert_eq!(r("/x/y", "/w/a"), None);
        assert_eq!(r("/w/d", "/w/dd/a"), None);
    }
}
