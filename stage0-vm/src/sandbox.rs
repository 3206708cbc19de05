//! Guest paths to host paths, optionally confined to a sandbox directory.
//!
//! This module owns the one rule both guest kinds (the Knight machine's POSIX mode and the
//! Linux user-mode machine) follow: a guest path is resolved against the guest's own
//! working directory (a host path kept by the machine; the host process never changes
//! directory). Without a sandbox that is all. With one, absolute guest paths start at the
//! sandbox root, `..` may not climb above it, and the deepest existing ancestor of the
//! result, with symbolic links resolved, must still lie inside it; otherwise the path is
//! refused (`None`).

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// The host path for guest path `guest`, seen from working directory `cwd`, or `None`
/// when the sandbox `root` (canonical) refuses it.
pub(crate) fn resolve(root: Option<&Path>, cwd: &Path, guest: &[u8]) -> Option<PathBuf> {
    let guest = Path::new(OsStr::from_bytes(guest));
    let Some(root) = root else {
        return Some(cwd.join(guest));
    };
    let mut out = if guest.is_absolute() {
        root.to_path_buf()
    } else {
        cwd.to_path_buf()
    };
    for c in guest.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                if out == root || !out.pop() {
                    return None;
                }
            }
            Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    // Symbolic links must not lead out: the deepest existing ancestor, canonicalized,
    // must still be inside the root.
    let mut probe = out.clone();
    loop {
        if let Ok(real) = probe.canonicalize() {
            if !real.starts_with(root) {
                return None;
            }
            break;
        }
        if !probe.pop() {
            return None;
        }
    }
    Some(out)
}

/// The working directory as the guest sees it: `/` plus the path below the sandbox root,
/// or the host path without a sandbox.
pub(crate) fn shown(root: Option<&Path>, cwd: &Path) -> Vec<u8> {
    match root {
        Some(root) => {
            let rel = cwd.strip_prefix(root).unwrap_or(Path::new(""));
            let mut s = b"/".to_vec();
            s.extend_from_slice(rel.as_os_str().as_bytes());
            s
        }
        None => cwd.as_os_str().as_bytes().to_vec(),
    }
}
