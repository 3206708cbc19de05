//! Helpers shared by crossverify's integration tests: run a subcommand in-process with
//! captured streams, and private scratch directories.
#![allow(dead_code)]

use std::ffi::OsString;
use std::path::PathBuf;

/// Runs `f` with `args` (program or subcommand name first); returns (status, stdout, stderr).
pub fn run(f: hex0::cli::ToolMain, args: &[&str]) -> (i32, String, String) {
    let args: Vec<OsString> = args.iter().map(OsString::from).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = {
        let mut io = hex0::cli::Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
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
