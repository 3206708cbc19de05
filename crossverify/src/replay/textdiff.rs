//! Where two text outputs of a compiler differ, in the compiler's own terms.
//!
//! This module owns the account of a difference between two M1 files (what M2-Planet and
//! cc_* write): the first differing line on each side with its line number, the function
//! it lies in (the `:FUNCTION_name` label the compilers emit before every function), and
//! how many functions differ in all. Binary outputs are left to
//! [`super::bytediff::explain_difference`] and [`crate::explain`]. It decides nothing: a
//! difference is reported as found, never normalised.

use std::collections::BTreeMap;

/// Whether `bytes` look like a text file (UTF-8 without NUL bytes).
pub fn is_text(bytes: &[u8]) -> bool {
    !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok()
}

/// The label prefix M2-Planet and cc_* put before each function.
const FUNCTION_LABEL: &str = ":FUNCTION_";

/// An account of how two text outputs differ, or `None` when they are equal.
pub fn explain_text(theirs: &[u8], ours: &[u8]) -> Option<String> {
    if theirs == ours {
        return None;
    }
    let ta = String::from_utf8_lossy(theirs);
    let tb = String::from_utf8_lossy(ours);
    let la: Vec<&str> = ta.lines().collect();
    let lb: Vec<&str> = tb.lines().collect();
    let first = (0..la.len().max(lb.len()))
        .find(|&i| la.get(i) != lb.get(i))
        .unwrap_or(la.len().min(lb.len()));
    let show = |l: &[&str]| match l.get(first) {
        Some(s) => format!("'{}'", s.chars().take(120).collect::<String>()),
        None => "(end of file)".to_string(),
    };
    let mut s = format!(
        "first difference at line {}: theirs {}, ours {}",
        first + 1,
        show(&la),
        show(&lb)
    );
    let fa = functions(&la);
    let fb = functions(&lb);
    if fa.is_empty() && fb.is_empty() {
        s.push_str(&format!(
            "; theirs {} lines, ours {} lines",
            la.len(),
            lb.len()
        ));
        return Some(s);
    }
    match (enclosing(&la, first), enclosing(&lb, first)) {
        (Some(f), Some(g)) if f == g => s.push_str(&format!("; in function {f}")),
        (f, g) => s.push_str(&format!(
            "; in function {} (theirs) / {} (ours)",
            f.unwrap_or("(before the first function)"),
            g.unwrap_or("(before the first function)")
        )),
    }
    let names: std::collections::BTreeSet<&str> = fa.keys().chain(fb.keys()).copied().collect();
    let differing = names.iter().filter(|n| fa.get(*n) != fb.get(*n)).count();
    s.push_str(&format!(
        "; {differing} of {} functions differ; theirs {} lines, ours {} lines",
        names.len(),
        la.len(),
        lb.len()
    ));
    Some(s)
}

/// The function whose label is the last one at or before line `at`.
fn enclosing<'a>(lines: &[&'a str], at: usize) -> Option<&'a str> {
    lines
        .iter()
        .take(at + 1)
        .rev()
        .find_map(|l| l.trim().strip_prefix(FUNCTION_LABEL))
}

/// Each function's lines, by name (a name defined twice keeps both bodies, in order).
fn functions<'a>(lines: &[&'a str]) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current = None;
    for l in lines {
        if let Some(name) = l.trim().strip_prefix(FUNCTION_LABEL) {
            current = Some(name);
        }
        if let Some(c) = current {
            out.entry(c).or_default().push(l);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_line_function_and_count() {
        let a = b":FUNCTION_a\nx\n:FUNCTION_b\nsub_esp,BYTE '04'\nret\n:FUNCTION_c\ny\n";
        let b = b":FUNCTION_a\nx\n:FUNCTION_b\nmov_ecx, %4\nsub_esp,ecx\nret\n:FUNCTION_c\nz\n";
        let d = explain_text(a, b).unwrap();
        assert!(
            d.starts_with(
                "first difference at line 4: theirs 'sub_esp,BYTE '04'', ours 'mov_ecx, %4'"
            ),
            "{d}"
        );
        assert!(d.contains("in function b"), "{d}");
        assert!(d.contains("2 of 3 functions differ"), "{d}");
        assert!(explain_text(a, a).is_none());
    }

    #[test]
    fn a_shorter_side_ends_early() {
        let d = explain_text(b"a\nb\n", b"a\n").unwrap();
        assert!(d.contains("line 2: theirs 'b', ours (end of file)"), "{d}");
        assert!(d.ends_with("theirs 2 lines, ours 1 lines"), "{d}");
        assert!(is_text(b"abc\n") && !is_text(b"\x7fELF\0"));
    }
}
