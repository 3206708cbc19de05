//! The repository is self-contained: every relative link in every Markdown file resolves to
//! a file or folder of the tree (an anchor to a heading of the target, where it names one),
//! and no document, source or script points outside the repository (the sibling shared directory, an
//! absolute path into a checkout) — a fresh clone with nothing beside it must work.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// The repository root (this package's manifest folder).
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every file under `dir` with one of `exts`, skipping build output and VCS folders.
fn files(dir: &Path, exts: &[&str], out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "differential-cases") {
                files(&p, exts, out);
            }
        } else if exts.iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

/// The targets of the inline links `[text](target)` and `![alt](target)` of a Markdown
/// text, outside code spans and fenced code blocks.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // drop code spans
        let mut plain = String::new();
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
            } else if !in_code {
                plain.push(c);
            }
        }
        let mut rest = plain.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            found.push((n + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    found
}

/// GitHub's anchor of a heading: lower case, spaces to `-`, other punctuation dropped.
fn anchor_of(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Whether `path` (a Markdown file) has a heading whose anchor is `anchor`.
fn has_anchor(path: &Path, anchor: &str) -> bool {
    let Ok(text) = fs::read_to_string(path) else {
        return false;
    };
    text.lines()
        .filter(|l| l.starts_with('#'))
        .any(|l| anchor_of(l.trim_start_matches('#')) == anchor)
}

/// `path` with `.` and `..` resolved lexically; `None` if it climbs above the start.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

#[test]
fn every_markdown_link_resolves_inside_the_repository() {
    let root = root();
    let mut docs = Vec::new();
    files(&root, &[".md"], &mut docs);
    assert!(
        docs.len() > 5,
        "no Markdown files found under {}",
        root.display()
    );
    let mut broken = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        let text = fs::read_to_string(doc).unwrap();
        let rel_doc = doc.strip_prefix(&root).unwrap();
        for (line, target) in link_targets(&text) {
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let where_ = format!("{}:{line}: {target}", rel_doc.display());
            if path.starts_with('/') {
                broken.push(format!("{where_}: absolute path"));
                continue;
            }
            let file = if path.is_empty() {
                rel_doc.to_path_buf()
            } else {
                rel_doc.parent().unwrap().join(path)
            };
            let Some(file) = normalise(&file) else {
                broken.push(format!("{where_}: points outside the repository"));
                continue;
            };
            let full = root.join(&file);
            if !full.exists() {
                broken.push(format!("{where_}: {} does not exist", file.display()));
            } else if let Some(a) = anchor {
                if full.extension().is_some_and(|e| e == "md") && !has_anchor(&full, a) {
                    broken.push(format!("{where_}: no heading with anchor #{a}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
    assert!(checked > 10, "only {checked} links checked");
}

#[test]
fn nothing_points_outside_the_repository() {
    let root = root();
    let mut texts = Vec::new();
    files(
        &root,
        &[".md", ".rs", ".sh", ".toml", ".yml", ".yaml"],
        &mut texts,
    );
    let this = Path::new(file!()).file_name().unwrap().to_owned();
    let mut found = Vec::new();
    for f in &texts {
        if f.file_name() == Some(&this) {
            continue;
        }
        let Ok(text) = fs::read_to_string(f) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            for bad in [
                concat!("..", "/shared"),
                concat!("/wo", "rk/"),
                concat!("shared", "/spec"),
            ] {
                if line.contains(bad) {
                    let rel = f.strip_prefix(&root).unwrap();
                    found.push(format!("{}:{}: {}", rel.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "paths outside the repository:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_link_reader_finds_links() {
    let t = "see [a](x.md) and `[b](no.md)` and ![i](img.png#top)\n```\n[c](fenced.md)\n```\n";
    let got: Vec<String> = link_targets(t).into_iter().map(|(_, s)| s).collect();
    assert_eq!(got, ["x.md", "img.png#top"]);
    assert_eq!(anchor_of(" Compatibility "), "compatibility");
    assert_eq!(
        anchor_of("1.8 RISC-V word mode (riscv32, riscv64)"),
        "18-risc-v-word-mode-riscv32-riscv64"
    );
    assert_eq!(normalise(Path::new("a/../../b")), None);
}
