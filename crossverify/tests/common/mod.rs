//! Helpers shared by crossverify's integration tests: run a subcommand in-process with
//! captured streams, and private scratch directories.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crossverify::report::{self, Report};
use crossverify::sha256sum::{self, Entry};

/// Runs `f` with `args` (program or subcommand name first); returns (status, stdout, stderr).
pub fn run(f: toolbase::cli::ToolMain, args: &[&str]) -> (i32, String, String) {
    run_in(None, f, args)
}

/// [`run`] with the tool's directory ([`toolbase::cli::Streams::cwd`]) set to `cwd`.
pub fn run_in(
    cwd: Option<&Path>,
    f: toolbase::cli::ToolMain,
    args: &[&str],
) -> (i32, String, String) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = {
        let mut io = toolbase::cli::Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
            cwd,
        };
        f(&args, &mut io)
    };
    (
        status,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// A fresh, empty directory for test `name`.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("crossverify-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `p` as a `&str` (test paths are UTF-8).
pub fn s(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

/// Writes `NAME.sha256` and its report in `dir`: files (name, contents, implementation)
/// built on host `os/arch`. Returns the report's path.
pub fn machine(
    dir: &Path,
    name: &str,
    os: &str,
    arch: &str,
    files: &[(&str, &str, &str)],
) -> PathBuf {
    let entries: Vec<Entry> = files
        .iter()
        .map(|(n, c, _)| Entry::of(*n, c.as_bytes()))
        .collect();
    let text = sha256sum::render(&entries);
    std::fs::create_dir_all(dir).unwrap();
    let mpath = dir.join(format!("{name}.sha256"));
    std::fs::write(&mpath, &text).unwrap();
    let r = Report {
        manifest: format!("{name}.sha256").into_bytes(),
        manifest_sha256: crossverify::sha256_hex(&text),
        host: name.into(),
        os: os.into(),
        arch: arch.into(),
        date: "2026-11-23T08:00:00Z".into(),
        tools: vec![("crossverify".into(), "0.1.0".into())],
        built_by: files
            .iter()
            .map(|(n, _, i)| (i.to_string(), n.as_bytes().to_vec()))
            .collect(),
    };
    let rpath = report::path_for(&mpath);
    std::fs::write(&rpath, r.render()).unwrap();
    rpath
}
