//! Where the replay finds things on the host: a path made absolute against the process's
//! working directory, and the original program a shim stands in for (the first
//! executable of its name on `PATH` outside the shim directory). This module owns those
//! two lookups, shared by the runner, the shims ([`super::tools`]) and the foreign-program
//! launcher ([`super::foreign`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// `p` as an absolute path: itself, or joined to the process's working directory.
pub(crate) fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    }
}

/// The original `name`: the first executable of that name on `path` outside `shim`
/// (relative `path` entries are taken under `cwd`, the process's directory if `None`).
pub fn find_original(
    name: &OsStr,
    shim: Option<&Path>,
    path: Option<&OsStr>,
    cwd: Option<&Path>,
) -> Option<std::path::PathBuf> {
    let shim = shim.and_then(|s| std::fs::canonicalize(s).ok());
    for dir in std::env::split_paths(path?) {
        let dir = if dir.as_os_str().is_empty() {
            toolbase::cli::resolve_in(cwd, ".")
        } else {
            toolbase::cli::resolve_in(cwd, dir)
        };
        if shim.is_some() && std::fs::canonicalize(&dir).ok() == shim {
            continue;
        }
        let candidate = dir.join(name);
        if std::fs::metadata(&candidate).is_ok_and(|m| {
            use std::os::unix::fs::PermissionsExt;
            m.is_file() && m.permissions().mode() & 0o111 != 0
        }) {
            return Some(candidate);
        }
    }
    None
}
