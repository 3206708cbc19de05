//! The module layering check shared by the crates that enforce one (the `tests/layers.rs`
//! of crossverify, stage0-vm, hex0, hex2, m1 and toolbase, which include this file with
//! `#[path]`, so no crate depends on another for it): it reads every module file
//! under a crate's `src/`, collects the modules each refers to (`crate::…`, `super::…`,
//! `self::…` and child-module paths, grouped `use` lists included; comments and test
//! modules are not read), and names the file and line of every reference to a higher
//! layer and every cycle ([`check`]); [`check_parts`] does the same for the ordered parts
//! of one directory module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The layers, bottom first, each with its modules. A module may refer to its own layer
/// and the ones below; `name::*` stands for every module under `name`, an exact name wins
/// over a pattern; `crate` is the crate root.
pub type Layers<'a> = &'a [(&'a str, &'a [&'a str])];

/// Directory modules, each with its parts (its children) bottom first: see
/// [`check_parts`].
pub type Parts<'a> = &'a [(&'a str, &'a [&'a str])];

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
                    _ => stem.strip_suffix("/mod").unwrap_or(stem).replace('/', "::"),
                };
                found.insert(name, path);
            }
        }
    }
    // A module declared `#[cfg(test)] mod NAME;` in its own file is test code.
    let test_only: BTreeSet<String> = found
        .iter()
        .flat_map(|(name, file)| {
            let text = std::fs::read_to_string(file).unwrap();
            let lines: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
            let prefix = if name == "crate" {
                String::new()
            } else {
                format!("{name}::")
            };
            lines
                .windows(2)
                .filter(|w| w[0] == "#[cfg(test)]")
                .filter_map(|w| test_module(&w[1]))
                .map(|m| format!("{prefix}{m}"))
                .collect::<Vec<_>>()
        })
        .collect();
    found.retain(|name, _| !test_only.contains(name));
    found
}

/// The module a `mod NAME;` line (`pub`, `pub(crate)` too) declares in a file of its own.
fn test_module(line: &str) -> Option<&str> {
    let rest = line
        .strip_prefix("pub(crate) ")
        .or(line.strip_prefix("pub "))
        .unwrap_or(line);
    rest.strip_prefix("mod ")?.strip_suffix(';')
}

/// The production text of a module file: comments blanked, the inline test module cut
/// off, a test module declared in its own file (`#[cfg(test)] mod NAME;`) left out.
pub fn code_lines(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut skip = false;
    for (i, line) in lines.iter().enumerate() {
        if std::mem::take(&mut skip) {
            out.push(String::new());
            continue;
        }
        let t = line.trim_start();
        let next = lines.get(i + 1).map_or("", |n| n.trim());
        if t.starts_with("#[cfg(test)]") && test_module(next).is_some() {
            skip = true;
            out.push(String::new());
            continue;
        }
        if t.starts_with("#[cfg(test)]") && next.starts_with("mod ") {
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
pub fn paths_in(code: &str) -> Vec<Vec<String>> {
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
    // The members are what the statement names, not the prefix itself: `use
    // crate::{m0, tool}` refers to two modules and not to the crate root; `self` among the
    // members names the prefix.
    let mut out = Vec::new();
    // Single-segment members (`{self, Judgement}`) name items of `prefix` itself; longer
    // ones (`report::{self, Loaded}`, split only at the list's own commas) are read below.
    let members = top_level_members(inner)
        .into_iter()
        .map(str::trim)
        .filter(|m| !m.contains("::"));
    out.extend(members.filter(|m| !m.is_empty()).map(|m| {
        let mut p = prefix.clone();
        match m.split(' ').next().unwrap_or(m) {
            "self" => {}
            name => p.push(name.to_string()),
        }
        p
    }));
    for member in paths_in(inner) {
        let mut p = prefix.clone();
        p.extend(member.into_iter().filter(|s| s != "self"));
        out.push(p);
    }
    (out, end + 3 + close + 1)
}

/// The members of a `use` list's inside, split at its own commas (not at those of a
/// nested list).
fn top_level_members(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out
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
pub fn statements(text: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut depth = 0;
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"::{") {
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

/// The module `m` counts as: the unit of `units` it is in, or itself.
fn unit_of(m: &str, units: &[&str]) -> String {
    units
        .iter()
        .find(|u| {
            m.strip_prefix(**u)
                .is_some_and(|rest| rest.starts_with("::"))
        })
        .map_or(m.to_string(), |u| u.to_string())
}

/// `graph` with each unit's modules merged into one (the first place of each reference
/// kept), references inside a unit dropped.
fn collapse(graph: BTreeMap<String, Refs>, units: &[&str]) -> BTreeMap<String, Refs> {
    let mut out: BTreeMap<String, Refs> = BTreeMap::new();
    for (from, refs) in graph {
        let from = unit_of(&from, units);
        let merged = out.entry(from.clone()).or_default();
        for (to, place) in refs {
            let to = unit_of(&to, units);
            if to != from {
                merged.entry(to).or_insert(place);
            }
        }
    }
    out
}

/// The layer of `module`: its index in `layers`.
fn layer_of(layers: Layers, module: &str) -> Option<usize> {
    let exact = layers.iter().position(|(_, ms)| ms.contains(&module));
    exact.or_else(|| {
        layers.iter().position(|(_, ms)| {
            ms.iter().any(|m| {
                m.strip_suffix("::*")
                    .is_some_and(|parent| module.starts_with(&format!("{parent}::")))
            })
        })
    })
}

/// A cycle through `start` in `graph`, as the modules on it.
fn cycle_from(graph: &BTreeMap<String, Refs>, start: &str) -> Option<Vec<String>> {
    let mut stack = vec![(start.to_string(), vec![start.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((m, path)) = stack.pop() {
        for to in graph.get(&m).into_iter().flat_map(|r| r.keys()) {
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

/// Fails, naming every problem [`check`] finds, unless the crate whose manifest directory
/// is `manifest_dir` keeps its layering (each layer test calls this with
/// `env!("CARGO_MANIFEST_DIR")`).
pub fn assert_layered(manifest_dir: &str, layers: Layers, units: &[&str], parts: Parts) {
    let problems = check(&Path::new(manifest_dir).join("src"), layers, units, parts);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every problem of the crate whose sources are `src`: a module in no layer, a reference
/// to a higher layer, a cycle (each naming file and line). Empty: the layering holds.
///
/// A module named in `units` counts with all its submodules as one module here:
/// references to and from its files are its own, references among them are checked by
/// [`check_parts`] for each directory module of `parts`, with its order.
pub fn check(src: &Path, layers: Layers, units: &[&str], parts: Parts) -> Vec<String> {
    let graph = collapse(references(src).0, units);
    let mut problems: Vec<String> = parts
        .iter()
        .flat_map(|(dir, order)| check_parts(src, dir, order))
        .collect();
    for (from, refs) in &graph {
        let Some(lf) = layer_of(layers, from) else {
            problems.push(format!("module `{from}` is in no layer: add it to LAYERS"));
            continue;
        };
        for (to, (file, line)) in refs {
            let lt = layer_of(layers, to).unwrap_or(usize::MAX);
            if lt > lf {
                problems.push(format!(
                    "{file}:{line}: `{from}` ({}) refers to `{to}` ({}), a higher layer",
                    layers[lf].0,
                    layers.get(lt).map_or("no layer", |l| l.0)
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
    problems
}

/// The child of directory module `dir` that module `m` is or lies in (`dir::a::b` → `a`).
fn part_of<'m>(m: &'m str, dir: &str) -> Option<&'m str> {
    let rest = m.strip_prefix(dir)?.strip_prefix("::")?;
    rest.split("::").next()
}

/// Every problem among the files of directory module `dir`, whose children (each with its
/// own submodules) are its parts, declared bottom first in `order`: a part not in `order`,
/// a reference from a part to a later one, a cycle among the parts (each naming file and
/// line). A part's references to `dir` itself (its parent's types, `super::X`) and `dir`'s
/// references to its parts are how Rust splits one module into files and are not checked;
/// references between parts must go down the order, so the parts cannot form a cycle.
pub fn check_parts(src: &Path, dir: &str, order: &[&str]) -> Vec<String> {
    let (graph, modules) = references(src);
    let mut problems = Vec::new();
    for part in modules.keys().filter_map(|m| part_of(m, dir)) {
        if !order.contains(&part) {
            let msg = format!("module `{dir}::{part}` is in no place of `{dir}`'s order");
            if !problems.contains(&msg) {
                problems.push(msg);
            }
        }
    }
    let mut parts: BTreeMap<String, Refs> = BTreeMap::new();
    for (from, refs) in &graph {
        let Some(pf) = part_of(from, dir) else {
            continue;
        };
        let merged = parts.entry(pf.to_string()).or_default();
        for (to, place) in refs {
            match part_of(to, dir) {
                Some(pt) if pt != pf => {
                    merged.entry(pt.to_string()).or_insert(place.clone());
                }
                _ => {}
            }
        }
    }
    let place = |p: &str| order.iter().position(|o| *o == p).unwrap_or(usize::MAX);
    for (from, refs) in &parts {
        for (to, (file, line)) in refs {
            if place(to) > place(from) {
                problems.push(format!(
                    "{file}:{line}: `{dir}::{from}` refers to `{dir}::{to}`, a later part \
                     of `{dir}` (order: {})",
                    order.join(" -> ")
                ));
            }
        }
    }
    let mut reported = BTreeSet::new();
    for m in parts.keys() {
        if let Some(cycle) = cycle_from(&parts, m) {
            let key: BTreeSet<String> = cycle.iter().cloned().collect();
            if reported.insert(key) {
                let places: Vec<String> = cycle
                    .windows(2)
                    .map(|w| {
                        let (file, line) = &parts[&w[0]][&w[1]];
                        format!("{file}:{line}")
                    })
                    .collect();
                let names: Vec<String> = cycle.iter().map(|p| format!("{dir}::{p}")).collect();
                problems.push(format!(
                    "cycle {} (at {})",
                    names.join(" -> "),
                    places.join(", ")
                ));
            }
        }
    }
    problems
}
