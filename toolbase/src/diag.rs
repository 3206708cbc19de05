//! Diagnostics: the one error shape every hexroot tool reports.
//!
//! A [`Diagnostic`] is a location (file plus line and column for text, or a byte offset
//! for binary input) and a message that says what was expected, what was found and, where
//! we can tell, how to fix it. Tools keep their own typed error kinds close to the code that
//! detects them and convert them into a `Diagnostic` only when reporting, so the hot paths
//! carry nothing but byte offsets. This module owns the shape and the printed form
//! (`FILE:LINE:COL: error: ...`); it does not decide exit statuses (see [`crate::cli`]).

use std::fmt;

/// Where in a file a problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Position {
    /// The problem concerns the whole file, or no file at all.
    None,
    /// 1-based line and column (columns count bytes) in a text input.
    LineCol {
        /// 1-based line number.
        line: u32,
        /// 1-based column, in bytes.
        col: u32,
    },
    /// Absolute byte offset in a binary input (a ROM, an ELF file).
    Offset(u64),
}

/// A located, explained error, ready to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file the problem is in, as the user named it.
    pub file: Option<String>,
    /// Where in the file.
    pub position: Position,
    /// One line saying what went wrong.
    pub message: String,
    /// What the tool expected at that point.
    pub expected: Option<String>,
    /// What it found instead.
    pub found: Option<String>,
    /// Further located facts (another use site, the definition of a label).
    pub notes: Vec<String>,
    /// How to fix it, when we can tell.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a message and no location yet.
    #[cold]
    pub fn new(message: impl Into<String>) -> Self {
        Diagnostic {
            file: None,
            position: Position::None,
            message: message.into(),
            expected: None,
            found: None,
            notes: Vec::new(),
            hint: None,
        }
    }

    /// A diagnostic for an I/O failure on `path` while doing `action` ("cannot open").
    #[cold]
    pub fn io(path: impl AsRef<std::path::Path>, action: &str, err: &std::io::Error) -> Self {
        Diagnostic::new(format!("{action}: {}", describe_io_error(err)))
            .in_file(path.as_ref().display().to_string())
    }

    /// Names the file the problem is in.
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Sets the position.
    pub fn at(mut self, position: Position) -> Self {
        self.position = position;
        self
    }

    /// Sets the line and column from a byte offset into the text `source`.
    pub fn at_offset_in(self, source: &[u8], offset: usize) -> Self {
        let (line, col) = line_col(source, offset);
        self.at(Position::LineCol { line, col })
    }

    /// Says what was expected.
    pub fn expected(mut self, what: impl Into<String>) -> Self {
        self.expected = Some(what.into());
        self
    }

    /// Says what was found.
    pub fn found(mut self, what: impl Into<String>) -> Self {
        self.found = Some(what.into());
        self
    }

    /// Adds a note (another location, a related fact).
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a hint on how to fix the problem.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// A diagnostic about line `line` (1-based) of `file` as a whole, at its column 1.
    #[cold]
    pub fn at_line(file: &str, line: usize, message: &str) -> Self {
        Diagnostic::new(message.to_string())
            .in_file(file)
            .at(Position::LineCol {
                line: u32::try_from(line).unwrap_or(u32::MAX),
                col: 1,
            })
    }

    /// The `FILE:LINE:COL` prefix, or `None` when the diagnostic names no file.
    pub fn location(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match self.position {
            Position::None => file.clone(),
            Position::LineCol { line, col } => format!("{file}:{line}:{col}"),
            Position::Offset(offset) => format!("{file}: offset {offset:#x}"),
        })
    }
}

impl fmt::Display for Diagnostic {
    /// `FILE:LINE:COL: error: MESSAGE`, then indented `expected`, `found`, notes and hint
    /// lines. Without a file the first line is `error: MESSAGE`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location() {
            Some(loc) => write!(f, "{loc}: error: {}", self.message)?,
            None => write!(f, "error: {}", self.message)?,
        }
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(found) = &self.found {
            write!(f, "\n  found: {found}")?;
        }
        for n in &self.notes {
            write!(f, "\n  note: {n}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// `(file, line, col)` from a location written `FILE:LINE:COL`, as diagnostics and the
/// link maps write it (FILE may itself hold colons); `None` when it is not one.
pub fn split_location(location: &str) -> Option<(&str, u32, u32)> {
    let mut parts = location.rsplitn(3, ':');
    let col = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    Some((parts.next()?, line, col))
}

/// 1-based line and column (in bytes) of `offset` in `source`. An offset past the end
/// gives the position just after the last byte.
#[cold]
pub fn line_col(source: &[u8], offset: usize) -> (u32, u32) {
    let offset = offset.min(source.len());
    let before = &source[..offset];
    let line = 1 + before.iter().filter(|&&b| b == b'\n').count();
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |p| p + 1);
    let col = 1 + offset - line_start;
    (saturate(line), saturate(col))
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A byte as a reader wants to see it in a message: `'G'` for printable ASCII, otherwise
/// `byte 0x80`.
pub fn describe_byte(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("'{}'", b as char)
    } else {
        format!("byte {b:#04x}")
    }
}

/// An I/O error without Rust's "(os error N)" suffix.
pub fn describe_io_error(err: &std::io::Error) -> String {
    let text = err.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_bytes_from_one() {
        let src = b"ab\ncd\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 1), (1, 2));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 99), (3, 1));
    }

    #[test]
    fn display_has_location_expected_found_and_hint() {
        let d = Diagnostic::new("bad digit")
            .in_file("in.hex0")
            .at(Position::LineCol { line: 2, col: 5 })
            .expected("a hex digit")
            .found("'G'")
            .hint("remove it");
        assert_eq!(
            d.to_string(),
            "in.hex0:2:5: error: bad digit\n  expected: a hex digit\n  found: 'G'\n  hint: remove it"
        );
    }
}
