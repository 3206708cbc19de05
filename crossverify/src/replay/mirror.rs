//! The mirror of a replay root that `--exec both` runs its emulated side in: a copy of
//! the root made on first use, compared with the root after each step (what differs, and
//! why) and made equal to it again. It owns the tree walk and copy; the runner
//! ([`super::exec`]) decides when.

use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;

use super::bytediff::explain_difference;

/// A copy of the replay root kept equal to it between `both` steps.
#[derive(Debug, Default)]
pub struct Mirror {
    dir: Option<PathBuf>,
}

/// Every regular file and symbolic link below `dir` (relative paths), `.git` left out.
fn walk(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir.join(rel)) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if name == ".git" {
            continue;
        }
        let r = rel.join(&name);
        match e.file_type() {
            Ok(t) if t.is_dir() => {
                out.push(r.clone());
                walk(dir, &r, out);
            }
            Ok(_) => out.push(r),
            Err(_) => {}
        }
    }
}

/// What a path holds, for comparing two trees.
#[derive(PartialEq, Eq)]
enum Content {
    Missing,
    Dir,
    Link(PathBuf),
    File(Vec<u8>, u32),
}

fn content(p: &Path) -> Content {
    use std::os::unix::fs::PermissionsExt;
    match std::fs::symlink_metadata(p) {
        Err(_) => Content::Missing,
        Ok(m) if m.is_dir() => Content::Dir,
        Ok(m) if m.file_type().is_symlink() => {
            Content::Link(std::fs::read_link(p).unwrap_or_default())
        }
        Ok(m) => Content::File(
            std::fs::read(p).unwrap_or_default(),
            m.permissions().mode() & 0o777,
        ),
    }
}

/// Makes `dst` hold what `src` holds.
fn copy_entry(src: &Path, dst: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(src);
    if std::fs::symlink_metadata(dst).is_ok_and(|m| m.is_dir())
        && !meta.as_ref().is_ok_and(|m| m.is_dir())
    {
        std::fs::remove_dir_all(dst)?;
    } else if std::fs::symlink_metadata(dst).is_ok() && !meta.as_ref().is_ok_and(|m| m.is_dir()) {
        std::fs::remove_file(dst)?;
    }
    let Ok(meta) = meta else { return Ok(()) };
    if let Some(parent) = dst.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if meta.is_dir() {
        std::fs::create_dir_all(dst)?;
        std::fs::set_permissions(dst, meta.permissions())
    } else if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(std::fs::read_link(src)?, dst)
    } else {
        std::fs::copy(src, dst).map(|_| ())
    }
}

impl Mirror {
    /// The mirror of `root`, made on first use under `scratch`.
    pub(super) fn ensure(&mut self, root: &Path, scratch: &Path) -> Result<PathBuf, Diagnostic> {
        if let Some(d) = &self.dir {
            return Ok(d.clone());
        }
        let dir = scratch.join("mirror");
        let mut all = Vec::new();
        walk(root, Path::new(""), &mut all);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Diagnostic::io(&dir, "cannot create the mirror of the root", &e))?;
        for rel in &all {
            copy_entry(&root.join(rel), &dir.join(rel)).map_err(|e| {
                Diagnostic::io(dir.join(rel), "cannot copy into the mirror of the root", &e)
            })?;
        }
        self.dir = Some(dir.clone());
        Ok(dir)
    }

    /// Compares every entry of the two trees; returns the relative paths that differ
    /// (with what differs) and makes the mirror equal to `root` again.
    pub(super) fn compare_and_resync(&self, root: &Path) -> Result<Vec<String>, Diagnostic> {
        let Some(dir) = &self.dir else {
            return Ok(Vec::new());
        };
        let mut paths = Vec::new();
        walk(root, Path::new(""), &mut paths);
        walk(dir, Path::new(""), &mut paths);
        paths.sort();
        paths.dedup();
        let mut differences = Vec::new();
        for rel in paths {
            let (real, copy) = (root.join(&rel), dir.join(&rel));
            let (a, b) = (content(&real), content(&copy));
            if a == b {
                continue;
            }
            let why = match (&a, &b) {
                (Content::File(x, mx), Content::File(y, my)) => match explain_difference(x, y) {
                    Some(why) => why,
                    None => format!("mode native {mx:o}, emulated {my:o}"),
                },
                (Content::Missing, _) => "only the emulated run wrote it".to_string(),
                (_, Content::Missing) => "only the native run wrote it".to_string(),
                _ => "different kinds of file".to_string(),
            };
            differences.push(format!("{}: {why}", rel.display()));
            copy_entry(&real, &copy)
                .map_err(|e| Diagnostic::io(&copy, "cannot update the mirror of the root", &e))?;
        }
        Ok(differences)
    }
}
