//! Where each program a chain runs came from: the steps, with their inputs, that led from
//! source files to that binary.
//!
//! This module owns the provenance graph of a replay. It is built from the step records
//! only (which step last wrote each file before a given step, and what that step read), so
//! it works on a real run's records and on a dry run's alike. For a program it gives the
//! chain of producing steps (`x86/artifact/M2 <- hex2-0 <- catm <- M0 <- catm <- cc_x86
//! <- catm`), the *compile steps* (the first steps on each path that read C source:
//! `.c`/`.h` files) and the C sources those compile steps read, with a file that a `catm`
//! step concatenated from C files replaced by the files it was made of. It runs nothing
//! and reads no file.

use std::collections::BTreeSet;

/// One step as the provenance graph sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The 1-based step number.
    pub number: usize,
    /// The program it ran (relative to the replay root when inside it).
    pub program: String,
    /// Short name for display: our tool's kind (`hex2-0`, `catm`) or the program's file
    /// name (`cc_x86`, `M2`).
    pub name: String,
    /// Whether the program is one of our tools (assemblers, linkers, catm) rather than an
    /// external program.
    pub ours: bool,
    /// Files read, in argument order (relative to the root when inside it).
    pub inputs: Vec<String>,
    /// Files written.
    pub outputs: Vec<String>,
}

impl Link {
    /// Whether this step compiles C: an external program reading `.c` or `.h` files.
    pub fn compiles_c(&self) -> bool {
        !self.ours && self.inputs.iter().any(|i| is_c_source(i))
    }
}

/// Whether `path` names a C source or header file.
pub fn is_c_source(path: &str) -> bool {
    path.ends_with(".c") || path.ends_with(".h")
}

/// The provenance of one program as it ran at one step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origin {
    /// One line per file the chain produced on the way: `FILE <- step N NAME(INPUTS)`.
    pub lines: Vec<String>,
    /// The steps that compiled C on the way (nearest first).
    pub compile_steps: Vec<usize>,
    /// The C sources of those compile steps, in their order, catm products expanded.
    pub sources: Vec<String>,
    /// Files on the way that no step wrote (sources of any kind: C, M1, hex2).
    pub leaves: Vec<String>,
    /// Whether the chain produced the program at all (false: it came from outside).
    pub built_by_chain: bool,
}

impl Origin {
    /// The short form, e.g. `x86/artifact/M2 <- hex2-0 <- catm <- M0 <- catm <- cc_x86(x86/artifact/M2-0.c) <- catm(...)`.
    pub fn summary(&self) -> String {
        self.lines
            .first()
            .map(|l| l.to_string())
            .unwrap_or_else(|| "not built by the chain".to_string())
    }
}

/// The provenance graph: every step, in order.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    links: Vec<Link>,
}

impl Graph {
    /// A graph over `links` (any order; kept sorted by step number).
    pub fn new(mut links: Vec<Link>) -> Graph {
        links.sort_by_key(|l| l.number);
        Graph { links }
    }

    /// Every link.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The step with this number.
    pub fn link(&self, number: usize) -> Option<&Link> {
        self.links.iter().find(|l| l.number == number)
    }

    /// The last step before step `before` that wrote `file`.
    pub fn producer(&self, file: &str, before: usize) -> Option<&Link> {
        self.links
            .iter()
            .rev()
            .filter(|l| l.number < before)
            .find(|l| l.outputs.iter().any(|o| o == file))
    }

    /// How the chain produced `program` as it stood when step `at` ran.
    pub fn origin(&self, program: &str, at: usize) -> Origin {
        let mut o = Origin::default();
        let mut seen = BTreeSet::new();
        let Some(first) = self.producer(program, at) else {
            return o;
        };
        o.built_by_chain = true;
        o.lines
            .push(format!("{program} <- {}", self.chain_text(first)));
        self.walk(first, &mut o, &mut seen);
        o
    }

    /// `hex2-0 <- catm <- M0 <- ... <- cc_x86(M2-0.c) <- catm(a.c, b.c)`: the main line
    /// back from `link`, through each step's first input that a step produced.
    fn chain_text(&self, link: &Link) -> String {
        let mut parts = Vec::new();
        let mut cur = Some(link);
        while let Some(l) = cur {
            if parts.len() > 64 {
                parts.push("...".to_string());
                break;
            }
            if l.compiles_c() {
                let c: Vec<String> = l
                    .inputs
                    .iter()
                    .filter(|i| is_c_source(i))
                    .cloned()
                    .collect();
                parts.push(format!("{}({})", l.name, abbreviate(&c)));
                if let Some(p) = c.iter().find_map(|i| self.producer(i, l.number)) {
                    parts.push(format!("{}({})", p.name, abbreviate(&p.inputs)));
                }
                break;
            }
            parts.push(l.name.clone());
            cur = l.inputs.iter().find_map(|i| self.producer(i, l.number));
        }
        parts.join(" <- ")
    }

    fn walk(&self, link: &Link, o: &mut Origin, seen: &mut BTreeSet<usize>) {
        if !seen.insert(link.number) {
            return;
        }
        if link.compiles_c() {
            o.compile_steps.push(link.number);
            for i in &link.inputs {
                if is_c_source(i) {
                    self.expand_source(i, link.number, o, seen);
                }
            }
            return;
        }
        for i in &link.inputs {
            match self.producer(i, link.number) {
                Some(p) => {
                    let line = format!(
                        "  {i} <- step {} {}({})",
                        p.number,
                        p.name,
                        abbreviate(&p.inputs)
                    );
                    if !o.lines.contains(&line) {
                        o.lines.push(line);
                    }
                    self.walk(p, o, seen);
                }
                None => {
                    if !o.leaves.contains(i) {
                        o.leaves.push(i.clone());
                    }
                }
            }
        }
    }

    /// A C input of a compile step: itself when no step wrote it, or the C files a catm
    /// step made it from.
    fn expand_source(&self, file: &str, before: usize, o: &mut Origin, seen: &mut BTreeSet<usize>) {
        match self.producer(file, before) {
            Some(p) if p.name == "catm" && p.inputs.iter().all(|i| is_c_source(i)) => {
                o.lines.push(format!(
                    "  {file} <- step {} catm({})",
                    p.number,
                    p.inputs.join(", ")
                ));
                seen.insert(p.number);
                for i in &p.inputs {
                    self.expand_source(i, p.number, o, seen);
                }
            }
            Some(p) => {
                // A generated C file: recorded, but its own origin is not followed.
                o.lines.push(format!(
                    "  {file} <- step {} {}({}) (generated C)",
                    p.number,
                    p.name,
                    abbreviate(&p.inputs)
                ));
                if !o.sources.iter().any(|s| s == file) {
                    o.sources.push(file.to_string());
                }
            }
            None => {
                if !o.sources.iter().any(|s| s == file) {
                    o.sources.push(file.to_string());
                }
                if !o.leaves.iter().any(|s| s == file) {
                    o.leaves.push(file.to_string());
                }
            }
        }
    }
}

/// The first few of `files`, then how many more.
fn abbreviate(files: &[String]) -> String {
    const SHOWN: usize = 3;
    let mut s: Vec<String> = files.iter().take(SHOWN).cloned().collect();
    if files.len() > SHOWN {
        s.push(format!("... {} more", files.len() - SHOWN));
    }
    s.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(n: usize, name: &str, ours: bool, ins: &[&str], outs: &[&str]) -> Link {
        Link {
            number: n,
            program: name.to_string(),
            name: name.to_string(),
            ours,
            inputs: ins.iter().map(|s| s.to_string()).collect(),
            outputs: outs.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn chain() -> Graph {
        Graph::new(vec![
            link(1, "catm", true, &["boot.c", "cc.h", "cc.c"], &["M2-0.c"]),
            link(2, "cc_x86", false, &["M2-0.c"], &["M2-0.M1"]),
            link(3, "catm", true, &["defs.M1", "M2-0.M1"], &["M2-0-0.M1"]),
            link(4, "M0", true, &["M2-0-0.M1"], &["M2-0.hex2"]),
            link(5, "hex2-0", true, &["M2-0.hex2"], &["M2"]),
            link(6, "M2", false, &["a.c", "b.h"], &["a.M1"]),
            link(7, "hex2-0", true, &["a.M1"], &["a"]),
        ])
    }

    #[test]
    fn origin_walks_back_to_the_catm_inputs_of_the_compiled_file() {
        let g = chain();
        let o = g.origin("M2", 6);
        assert!(o.built_by_chain);
        assert_eq!(o.compile_steps, vec![2]);
        assert_eq!(o.sources, vec!["boot.c", "cc.h", "cc.c"]);
        assert!(o.leaves.contains(&"defs.M1".to_string()));
        assert_eq!(
            o.summary(),
            "M2 <- hex2-0 <- M0 <- catm <- cc_x86(M2-0.c) <- catm(boot.c, cc.h, cc.c)"
        );
    }

    #[test]
    fn programs_from_outside_or_from_assembly_have_no_c_sources() {
        let g = chain();
        assert!(!g.origin("cc_x86", 2).built_by_chain);
        let g = Graph::new(vec![link(1, "hex2-0", true, &["x.hex2"], &["x"])]);
        let o = g.origin("x", 2);
        assert!(o.built_by_chain && o.sources.is_empty() && o.compile_steps.is_empty());
    }

    #[test]
    fn the_producer_is_the_last_writer_before_the_step() {
        let g = chain();
        assert_eq!(g.producer("a", 8).map(|l| l.number), Some(7));
        assert!(g.producer("a", 7).is_none());
        let o = g.origin("a", 8);
        assert_eq!(o.sources, vec!["a.c", "b.h"]);
    }
}
