//! Where two binary outputs of a step differ, in one paragraph: the first differing
//! offset, how many bytes differ, and a hex context of both sides around it. This module
//! owns that account (the replay prints it for a tool step and a host check whose outputs
//! differ); text outputs are [`super::textdiff`]'s and ELF places [`crate::explain`]'s.

use std::fmt::Write as _;

/// An explain-style account of two outputs that differ, or `None` when they are equal:
/// the first differing offset, how many bytes differ, and hex context around it.
pub fn explain_difference(theirs: &[u8], ours: &[u8]) -> Option<String> {
    if theirs == ours {
        return None;
    }
    let common = theirs.len().min(ours.len());
    let first = (0..common)
        .find(|&i| theirs[i] != ours[i])
        .unwrap_or(common);
    let differing = (0..common).filter(|&i| theirs[i] != ours[i]).count();
    let mut s = format!(
        "first difference at offset {first:#x} ({first}); theirs {} bytes, ours {} bytes; {differing} of the {common} common bytes differ",
        theirs.len(),
        ours.len()
    );
    if theirs.len() != ours.len() {
        let _ = write!(
            s,
            "; lengths differ by {}",
            theirs.len().abs_diff(ours.len())
        );
    }
    let start = first.saturating_sub(8) & !7;
    for (who, bytes) in [("theirs", theirs), ("ours  ", ours)] {
        let _ = write!(s, "\n    {who} {start:#010x}:");
        let end = (start + 24).min(bytes.len());
        for (i, b) in bytes.iter().enumerate().take(end).skip(start) {
            if i == first {
                let _ = write!(s, " [{b:02x}]");
            } else {
                let _ = write!(s, " {b:02x}");
            }
        }
        if first >= bytes.len() {
            s.push_str(" [end]");
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_is_explained_with_offset_and_context() {
        assert!(explain_difference(b"same", b"same").is_none());
        let d = explain_difference(b"abcdefghijkl", b"abcdefgXijkl").unwrap();
        assert!(d.starts_with("first difference at offset 0x7 (7)"), "{d}");
        assert!(d.contains("[68]") && d.contains("[58]"), "{d}");
        let d = explain_difference(b"abc", b"abcd").unwrap();
        assert!(
            d.contains("lengths differ by 1") && d.contains("[end]"),
            "{d}"
        );
    }
}
