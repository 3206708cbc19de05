//! The linker's diagnostics: every error it reports, located at file, line and column.
//!
//! It owns [`ErrorKind`], what can be wrong at a location, and [`Linker::error`], the one
//! place such an error becomes a `toolbase` diagnostic with its wording (message,
//! expected/found, notes and hint) and its file, line and column; the typed pointer errors
//! of [`crate::pointer`] arrive here inside [`ErrorKind::Pointer`]. The undefined labels,
//! an error about the whole link rather than one place, are worded by
//! `Linker::undefined_error`. The scanner and the linking code decide *that* something is
//! wrong, and which kind.

use toolbase::diag::{Diagnostic, Position};

use super::{Linker, MAX_NAME};
use crate::labels::LabelDef;
use crate::map::escape;
use crate::pointer::PointerError;
use crate::source::Loc;

/// What is wrong at a location, without its wording (see [`Linker::error`]).
#[derive(Clone, Copy, Debug)]
pub(super) enum ErrorKind<'n> {
    /// A `.` word with `missing` bytes still to come when its file ended (full hex2).
    DotWordCutShort { missing: u8 },
    /// A NUL byte at byte `byte` (counted from 0) of a `what` name (label, pointer, base
    /// label). The references keep names as C strings (or, in the seed hex1, never define
    /// label 0), so a NUL makes them find or miss labels by accident (spec 1.5).
    NulInName { what: &'static str, byte: usize },
    /// A `what` name of `len` bytes, over [`MAX_NAME`] (full hex2).
    NameTooLong { what: &'static str, len: usize },
    /// A comment that the end of the file cuts (the seeds hang there).
    CommentAtEof,
    /// A pointer `sigil` with no name before the end of the file.
    PointerAtEof { sigil: u8 },
    /// The pointer `name` to `target`, whose field ends at `field_end`, has no valid value.
    Pointer {
        error: PointerError,
        name: &'n [u8],
        target: LabelDef,
        field_end: u32,
    },
}

impl Linker {
    pub(super) fn describe(&self, at: Loc) -> String {
        let file = self.files.get(at.file as usize).map_or("?", |s| s.as_str());
        format!("{file}:{}:{}", at.line, at.col)
    }

    #[cold]
    pub(super) fn locate(&self, d: Diagnostic, at: Loc) -> Diagnostic {
        let file = self
            .files
            .get(at.file as usize)
            .cloned()
            .unwrap_or_default();
        d.in_file(file).at(Position::LineCol {
            line: at.line,
            col: at.col,
        })
    }

    #[cold]
    pub(super) fn diag_at(&self, at: Loc, message: impl Into<String>) -> Diagnostic {
        self.locate(Diagnostic::new(message), at)
    }

    /// The one place a located linker error becomes a diagnostic: its wording (message,
    /// expected/found, notes, hint) at `at`.
    #[cold]
    pub(super) fn error(&self, at: Loc, kind: ErrorKind<'_>) -> Diagnostic {
        match kind {
            ErrorKind::DotWordCutShort { missing } => self
                .diag_at(at, "'.' word cut short by the end of the file")
                .expected("four bytes' worth of digits after '.'")
                .found(format!("{} byte(s) missing", missing))
                .hint("complete the word, e.g. '.00000000'"),
            ErrorKind::NulInName { what, byte } => self
                .diag_at(at, format!("NUL byte in a {what} name"))
                .expected("a name of non-NUL bytes")
                .found(format!("a NUL byte at byte {} of the name", byte + 1))
                .hint("the reference tools cut names at a NUL byte and then match the wrong label; remove the NUL"),
            ErrorKind::NameTooLong { what, len } => self
                .diag_at(at, format!("{what} name too long"))
                .expected(format!("at most {MAX_NAME} bytes"))
                .found(format!("{len} bytes"))
                .hint("hex2 limits names to 4095 bytes; shorten the name"),
            ErrorKind::CommentAtEof => {
                let ends = if self.comment_ends_at_cr {
                    "a newline or carriage return"
                } else {
                    "a newline"
                };
                self.diag_at(at, "comment at the end of the file without a newline")
                    .expected(format!("{ends} ending the comment"))
                    .found("the end of the file")
                    .hint("the seed hex1 and hex2-0 read a comment to its end and hang when the file ends first; end the file with a newline")
            }
            ErrorKind::PointerAtEof { sigil } => self
                .diag_at(
                    at,
                    format!("pointer '{}' at the end of the file", sigil as char),
                )
                .expected("a label name after the sigil")
                .found("end of file")
                .hint("remove the stray sigil or name the label"),
            ErrorKind::Pointer {
                error,
                name,
                target,
                field_end,
            } => self.pointer_error(error, at, name, target, field_end),
        }
    }

    fn definition_note(&self, name: &[u8]) -> String {
        match self.labels.get(name) {
            Some(d) => format!(
                "'{}' is defined at {} (address {:#010x})",
                escape(name),
                self.describe(d.at),
                d.address
            ),
            None => format!("'{}' is not defined", escape(name)),
        }
    }

    /// The wording of pointer error `e` of the pointer `name` at `at` to `target`, whose
    /// field ends at `field_end`.
    #[cold]
    fn pointer_error(
        &self,
        e: PointerError,
        at: Loc,
        name: &[u8],
        target: LabelDef,
        field_end: u32,
    ) -> Diagnostic {
        let shown = escape(name);
        match e {
            PointerError::UnalignedTarget { target: t } => self
                .diag_at(at, format!("unaligned branch target '{shown}'"))
                .expected("a target address that is a multiple of 4 after '^'")
                .found(format!("{t:#010x}"))
                .note(self.definition_note(name))
                .hint("align the label with '<' or fix the target"),
            PointerError::DoesNotFit {
                absolute,
                value,
                size,
                lo,
                hi,
            } => {
                let (kind, what) = if absolute {
                    ("absolute", "address")
                } else {
                    ("relative", "displacement")
                };
                let bytes = if size == 1 { "byte" } else { "bytes" };
                self.diag_at(
                    at,
                    format!("{kind} {what} of {value} does not fit in {size} {bytes}"),
                )
                .expected(format!("a value in {lo} ..= {hi}"))
                .found(format!(
                    "{value} (field ends at {field_end:#010x}, target {:#010x})",
                    target.address
                ))
                .note(format!(
                    "'{shown}' is defined at {} (address {:#010x})",
                    self.describe(target.at),
                    target.address
                ))
                .hint("use a wider pointer sigil (e.g. '%' or '&'), or move the label closer")
            }
            PointerError::ImmediateRange {
                displacement,
                format,
                lo,
                hi,
            } => self
                .diag_at(
                    at,
                    format!(
                        "value {displacement} out of range for field type {}",
                        format.letter()
                    ),
                )
                .expected(format!("an even displacement in {lo} ..= {hi}"))
                .found(format!("{displacement}"))
                .note(self.definition_note(name))
                .hint("use an auipc/jalr pair ('~label' then '!label') for far targets"),
        }
    }

    /// The error for the undefined labels met in pass 2 (the first, located at its first
    /// use, with its other uses and the other undefined labels as notes).
    #[cold]
    pub(super) fn undefined_error(&self) -> Diagnostic {
        let Some((name, uses)) = self.undefined.first() else {
            return Diagnostic::new("internal error: no undefined label");
        };
        let mut d = Diagnostic::new(format!("undefined label '{}'", escape(name)));
        if let Some(first) = uses.first() {
            d = self.locate(d, *first);
        }
        d = d
            .expected("a label defined with ':NAME' in some input file")
            .found(format!("{} use(s) and no definition", uses.len()));
        for u in uses.iter().skip(1) {
            d = d.note(format!("also used at {}", self.describe(*u)));
        }
        if self.undefined.len() > 1 {
            let others: Vec<String> = self.undefined[1..]
                .iter()
                .take(10)
                .map(|(n, u)| format!("'{}' ({} use(s))", escape(n), u.len()))
                .collect();
            d = d.note(format!(
                "{} other undefined label(s): {}",
                self.undefined.len() - 1,
                others.join(", ")
            ));
        }
        d.hint("check the spelling, or add the file that defines it with -f")
    }
}
