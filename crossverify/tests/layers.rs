//! The module layering of crossverify, enforced: formats at the bottom, each command's
//! result data above them, the JSON and HTML writers (`export`) above those, the commands'
//! command lines on top. This test reads every module file under `src/`, collects the
//! modules it refers to (`crate::…`, `super::…`, `self::…` and child-module paths, grouped
//! `use` lists included; comments and the trailing `#[cfg(test)] mod tests` are not read),
//! and fails naming the file and line of every reference to a higher layer and every
//! cycle. The declared order is [`LAYERS`]; ARCHITECTURE.md and `src/lib.rs` draw it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first. A module may refer to its own layer and the ones below;
/// `name::*` stands for every module under `name`, an exact name wins over a pattern.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "foundations",
        &["crate", "external", "html", "json", "json::*"],
    ),
    (
        "formats",
        &[
            "sha256sum",
            "report",
            "sign",
            "tlog",
            "tlog::*",
            "kaem",
            "kaem::*",
        ],
    ),
    (
        "results",
        &[
            "compare",
            "compare::result",
            "explain",
            "explain::disassembly",
            "explain::source",
            "seeds",
            "replay::bytediff",
            "replay::checks",
            "replay::findings",
            "replay::foreign",
            "replay::glance",
            "replay::hostcc",
            "replay::paths",
            "replay::provenance",
            "replay::record",
            "replay::text",
            "replay::textdiff",
            "replay::tools",
        ],
    ),
    ("export", &["export", "export::*"]),
    (
        "commands",
        &[
            "compare::cli",
            "ddc",
            "explain::cli",
            "manifest",
            "replay",
            "replay::exec",
            "seeds::cli",
            "sign::cli",
            "tlog::cli",
        ],
    ),
    ("dispatch", &["tool"]),
];

/// References allowed against the rules, each with the reason; the test fails when one
/// of them is gone, so the list only shrinks. The replay runner is one type,
/// [`Runner`](crossverify::replay::Runner), whose process hook is in `replay/exec.rs`: a
/// cycle inside the replay command, above everything else.
const EXEMPT: &[(&str, &str, &str)] = &[
    (
        "replay",
        "replay::exec",
        "the runner and its process hook share Runner",
    ),
    (
        "replay::exec",
        "replay",
        "the runner and its process hook share Runner",
    ),
];

/// A reference from one module file to another: the target and where it is written.
type Refs = BTreeMap<String, (String, usize)>;

/// Every module file under `src/` (the `bin/` crate excepted): module path → file.
fn module_files(src: &Path) -> BTreeMap<String, std::path::PathBuf> {
    let mut found = BTreeMap::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                if rel != "bin" {
                    dirs.push(path);
                }
            } else if let Some(stem) = rel.strip_suffix(".rs") {
                let name = match stem {
                    "lib" => "crate".to_string(),
                    _ => stem.replace('/', "::"),
                };
                found.insert(name, path);
            }
        }
    }
    // A module declared `#[cfg(test)] mod tests;` in its own file is test code.
    found.retain(|name, _| name != "tests" && !name.ends_with("::tests"));
    found
}

/// The production text of a module file: comments blanked, the test module cut off.
fn code_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]")
            && lines
                .get(i + 1)
                .is_some_and(|n| n.trim_start().starts_with("mod "))
        {
            break;
        }
        let code = match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        };
        out.push(code.to_string());
    }
    out
}

/// The module a path written in module `at` names: the longest prefix that is a module.
fn resolve(at: &str, path: &[&str], modules: &BTreeMap<String, std::path::PathBuf>) -> String {
    let mut full: Vec<&str> = match path.first() {
        Some(&"crate") => Vec::new(),
        _ if at == "crate" => Vec::new(),
        _ => at.split("::").collect(),
    };
    for (i, seg) in path.iter().enumerate() {
        match *seg {
            "crate" if i == 0 => {}
            "self" => {}
            "super" => {
                full.pop();
            }
            s => full.push(s),
        }
    }
    (0..=full.len())
        .rev()
        .map(|n| full[..n].join("::"))
        .find(|c| modules.contains_key(c))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| "crate".to_string())
}

/// The paths written in `code`: each as its segments, grouped `use` lists expanded.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let b = code.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let starts = word(b[i]) && (i == 0 || !(word(b[i - 1]) || b[i - 1] == b':'));
        if !starts {
            i += 1;
            continue;
        }
        let (segs, end) = path_at(code, i);
        if segs.len() > 1 || code[end..].starts_with("::{") {
            let (paths, after) = expand(code, segs, end);
            out.extend(paths);
            i = after.max(i + 1);
        } else {
            i = end.max(i + 1);
        }
    }
    out
}

/// The `a::b::c` starting at byte `i`, and where it ends.
fn path_at(code: &str, mut i: usize) -> (Vec<String>, usize) {
    let b = code.as_bytes();
    let mut segs = Vec::new();
    loop {
        let start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
            i += 1;
        }
        segs.push(code[start..i].to_string());
        let more = code[i..].starts_with("::")
            && code[i + 2..]
                .bytes()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_');
        if !more {
            return (segs, i);
        }
        i += 2;
    }
}

/// `prefix` followed, when a `::{…}` list comes at `end`, by each of its members; and
/// where the path (with its list) ends.
fn expand(code: &str, prefix: Vec<String>, end: usize) -> (Vec<Vec<String>>, usize) {
    let Some(list) = code[end..].strip_prefix("::{") else {
        return (vec![prefix], end);
    };
    let mut depth = 0;
    let mut close = list.len();
    for (i, c) in list.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                close = i;
                break;
            }
            '}' => depth -= 1,
            _ => {}
        }
    }
    let inner = &list[..close];
    let mut out = vec![prefix.clone()];
    let members = inner
        .split(',')
        .map(str::trim)
        .filter(|m| !m.contains("::"));
    out.extend(members.filter(|m| !m.is_empty()).map(|m| {
        let mut p = prefix.clone();
        p.push(m.split(' ').next().unwrap_or(m).to_string());
        p
    }));
    for member in paths_in(inner) {
        let mut p = prefix.clone();
        p.extend(member);
        out.push(p);
    }
    // Single-segment members (`{self, Judgement}`) name items of `prefix` itself.
    (out, end + 3 + close + 1)
}

/// The modules each module file refers to, with the first place it does.
fn references(src: &Path) -> (BTreeMap<String, Refs>, BTreeMap<String, std::path::PathBuf>) {
    let modules = module_files(src);
    let mut graph = BTreeMap::new();
    for (name, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let rel = file.strip_prefix(src.parent().unwrap()).unwrap();
        let children: BTreeSet<&str> = modules
            .keys()
            .filter_map(|m| match name.as_str() {
                "crate" => Some(m.as_str()).filter(|m| !m.contains("::")),
                _ => m.strip_prefix(&format!("{name}::")),
            })
            .filter(|m| !m.contains("::"))
            .collect();
        let mut refs = Refs::new();
        let lines = code_lines(&text);
        // Whole statements: a grouped `use` may span lines; each path is credited to the
        // line its first segment is on.
        let joined = lines.join("\n");
        let line_of = |at: usize| joined[..at].bytes().filter(|&c| c == b'\n').count() + 1;
        for (at, stmt) in statements(&joined) {
            for p in paths_in(stmt) {
                let first = p[0].as_str();
                let relative =
                    matches!(first, "crate" | "super" | "self") || children.contains(first);
                if !relative {
                    continue;
                }
                let segs: Vec<&str> = p.iter().map(String::as_str).collect();
                let target = resolve(name, &segs, &modules);
                if &target != name {
                    let place = stmt.find(first).map_or(at, |o| at + o);
                    refs.entry(target)
                        .or_insert((rel.display().to_string(), line_of(place)));
                }
            }
        }
        graph.insert(name.clone(), refs);
    }
    (graph, modules)
}

/// `text` cut after each `;`, `{` and `}` outside a `use` list, with each piece's offset.
fn statements(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("::{") {
            depth += 1;
            i += 3;
            continue;
        }
        match b[i] {
            b'{' if depth > 0 => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b';' | b'{' | b'}' | b'\n' if depth == 0 => {
                out.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.push((start, &text[start..]));
    out
}

/// The layer of `module`: its index in [`LAYERS`].
fn layer_of(module: &str) -> Option<usize> {
    let exact = LAYERS.iter().position(|(_, ms)| ms.contains(&module));
    exact.or_else(|| {
        LAYERS.iter().position(|(_, ms)| {
            ms.iter().any(|m| {
                m.strip_suffix("::*")
                    .is_some_and(|parent| module.starts_with(&format!("{parent}::")))
            })
        })
    })
}

fn exempt(from: &str, to: &str) -> bool {
    EXEMPT.iter().any(|(f, t, _)| *f == from && *t == to)
}

/// A cycle through `start` in `graph` (exempt references left out), as the modules on it.
fn cycle_from(graph: &BTreeMap<String, Refs>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((m, path)) = stack.pop() {
        for to in graph.get(&m).into_iter().flat_map(|r| r.keys()) {
            if exempt(&m, to) {
                continue;
            }
            if to == start {
                let mut cycle = path.clone();
                cycle.push(to.clone());
                return Some(cycle);
            }
            if seen.insert(to.clone()) {
                let mut next = path.clone();
                next.push(to.clone());
                stack.push((to.clone(), next));
            }
        }
    }
    None
}

#[test]
fn modules_refer_only_to_their_layer_and_below_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (graph, _) = references(&src);
    let mut problems = Vec::new();
    for (from, refs) in &graph {
        let Some(lf) = layer_of(from) else {
            problems.push(format!("module `{from}` is in no layer: add it to LAYERS"));
            continue;
        };
        for (to, (file, line)) in refs {
            let lt = layer_of(to).unwrap_or(usize::MAX);
            if lt > lf && !exempt(from, to) {
                problems.push(format!(
                    "{file}:{line}: `{from}` ({}) refers to `{to}` ({}), a higher layer",
                    LAYERS[lf].0,
                    LAYERS.get(lt).map_or("no layer", |l| l.0)
                ));
            }
        }
    }
    let mut reported = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = cycle_from(&graph, m) {
            let key: BTreeSet<String> = cycle.iter().cloned().collect();
            if reported.insert(key) {
                let places: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        let (file, line) = &graph[&w[0]][&w[1]];
                        format!("{file}:{line}")
                    })
                    .collect();
                problems.push(format!(
                    "cycle {} (at {})",
                    cycle.join(" -> "),
                    places.join(", ")
                ));
            }
        }
    }
    for (from, to, why) in EXEMPT {
        if !graph.get(*from).is_some_and(|r| r.contains_key(*to)) {
            problems.push(format!(
                "`{from}` no longer refers to `{to}` ({why}): remove it from EXEMPT"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_form_of_path_is_read() {
    let code = "use crate::{report::{self, Loaded}, tlog::note::Verifier};\n\
                use super::glance;\nlet x = crate::export::write_all(a);\n\
                pub use cli::main; // crate::html is a comment\n";
    let found: BTreeSet<String> = statements(code)
        .into_iter()
        .flat_map(|(_, s)| paths_in(s))
        .map(|p| p.join("::"))
        .collect();
    for want in [
        "crate::report",
        "crate::report::Loaded",
        "crate::tlog::note::Verifier",
        "super::glance",
        "crate::export::write_all",
        "cli::main",
    ] {
        assert!(found.contains(want), "{want} not in {found:?}");
    }
    let code = code_lines(code).join("\n");
    assert!(!code.contains("html"), "a comment was read");
}
