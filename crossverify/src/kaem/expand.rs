//! Variable expansion: from parsed [`Word`]s to the argument bytes a command receives.
//!
//! This module owns kaem's expansion rule and nothing else (no parsing, no environment
//! handling beyond reading it): `${NAME}` takes the variable's value, `${NAME:-TEXT}` takes
//! TEXT when the variable is unset or empty, an unset variable is empty, and the value of
//! an *unquoted* reference is split at spaces, tabs and newlines into separate words - so
//! an empty value or a value of one space yields no argument at all, which the stage0-posix
//! scripts rely on (`BLOOD_FLAG=" "`). Quoted text and quoted references are never split,
//! and a word holding a quoted part (even `""`) always yields an argument.

use std::collections::BTreeMap;

use super::syntax::{Part, Word};

/// The variables of a kaem run, by name (bytes), all exported to children.
pub type Vars = BTreeMap<Vec<u8>, Vec<u8>>;

fn is_split_byte(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\n'
}

/// Accumulates the fields one word produces.
#[derive(Default)]
struct Fields {
    done: Vec<Vec<u8>>,
    current: Vec<u8>,
    started: bool,
}

impl Fields {
    fn literal(&mut self, bytes: &[u8], quoted: bool) {
        self.current.extend_from_slice(bytes);
        if quoted || !bytes.is_empty() {
            self.started = true;
        }
    }

    fn split(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if is_split_byte(b) {
                if self.started {
                    self.done.push(std::mem::take(&mut self.current));
                    self.started = false;
                }
            } else {
                self.current.push(b);
                self.started = true;
            }
        }
    }

    fn parts(&mut self, parts: &[Part], vars: &Vars) {
        for p in parts {
            match p {
                Part::Text { bytes, quoted } => self.literal(bytes, *quoted),
                Part::Var {
                    name,
                    default,
                    quoted,
                    ..
                } => {
                    let value = vars.get(name).filter(|v| !v.is_empty());
                    match (value, default) {
                        (Some(v), _) if *quoted => self.literal(v, true),
                        (Some(v), _) => self.split(v),
                        (None, Some(d)) => self.parts(d, vars),
                        (None, None) if *quoted => self.literal(b"", true),
                        (None, None) => {}
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Vec<Vec<u8>> {
        if self.started {
            self.done.push(self.current);
        }
        self.done
    }
}

/// The arguments `words` expand to.
pub fn expand_words(words: &[Word], vars: &Vars) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for w in words {
        let mut f = Fields::default();
        f.parts(&w.parts, vars);
        out.extend(f.finish());
    }
    out
}

/// The bytes `parts` expand to with no splitting at all (the value of an assignment).
pub fn expand_joined(parts: &[Part], vars: &Vars) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            Part::Text { bytes, .. } => out.extend_from_slice(bytes),
            Part::Var { name, default, .. } => match vars.get(name).filter(|v| !v.is_empty()) {
                Some(v) => out.extend_from_slice(v),
                None => {
                    if let Some(d) = default {
                        out.extend(expand_joined(d, vars));
                    }
                }
            },
        }
    }
    out
}
