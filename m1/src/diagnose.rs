//! M1's errors: a typed kind with its location, and its wording in one place.
//!
//! It owns [`Error`] (an [`ErrorKind`] and [`Where`] it is) and [`Error::diagnostic`], the
//! one place an M1 error becomes a `toolbase` [`Diagnostic`]: its message, expected/found,
//! hint, and its file, line and column (found again on the located walk of
//! [`crate::expand`] for errors that pass 1 only knows by a record's text). It also owns
//! the "did you mean" suggestion by edit distance, which M0 shares. The analysis decides
//! *that* something is wrong and which kind; this module only says so.

use toolbase::diag::{Diagnostic, Position};

use crate::collapse::{locate, At};
use crate::config::Config;
use crate::express::{number_of, RangeError, MAX_PADDING};
use crate::lexer::{TokenKind, MAX_ATOM, MAX_STRING};
use crate::number::strtoint;
use crate::source::Source;

/// An M1 error: what is wrong, and where.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Error<'t> {
    /// What is wrong.
    pub kind: ErrorKind<'t>,
    /// Where.
    pub at: Where<'t>,
}

/// Where an error is.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Where<'t> {
    /// At this token of the located walk.
    Token(At),
    /// At the first token with this text (pass 1 knows records by text only).
    FirstOf(&'t [u8]),
    /// Nowhere in particular (the inputs as a whole).
    Nowhere,
}

/// What is wrong.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ErrorKind<'t> {
    /// `DEFINE` without NAME and VALUE before the end of the input.
    MissingValue,
    /// A NUL byte at byte `byte` (counted from 0) of the token. The reference keeps token
    /// texts as C strings in a scratch buffer it clears only up to the first NUL, so a NUL
    /// silently cuts a token and leaves its tail to be glued onto a later one; no real input
    /// has one, so M1 refuses it. (A NUL in a comment is harmless.)
    NulInToken { byte: usize },
    /// A string with no closing `quote` before the end of its file.
    Unterminated { quote: u8 },
    /// A string whose body of `len` bytes is over [`MAX_STRING`].
    StringTooLong { len: usize },
    /// An atom of `len` bytes, over [`MAX_ATOM`].
    AtomTooLong { len: usize },
    /// The number `text` out of its sigil's range.
    OutOfRange { text: &'t [u8], range: RangeError },
    /// The padding `text`, `<N` with N negative or over [`MAX_PADDING`].
    Padding { text: &'t [u8], n: i32 },
    /// `text` is no DEFINE name, number, string or pass-through.
    UnknownToken {
        text: &'t [u8],
        /// The DEFINE name it is likely a typo of.
        suggestion: Option<&'t [u8]>,
        hint: UnknownHint,
    },
    /// The inputs hold no token at all.
    NoInput,
    /// The inputs together are longer than the 32-bit offsets of [`crate::intern`] reach.
    TooBig,
    /// An error that an earlier walk saw and a later one did not find again.
    Internal(&'static str),
}

/// Which hint an unknown token gets, by what it looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnknownHint {
    /// It ends with a carriage return (CRLF line endings).
    CarriageReturn,
    /// A knight bare number over 65536.
    KnightBareNumber,
    /// Bare hex digits, accepted only in DEFINE values on this architecture.
    BareHex(&'static str),
    /// Anything else: define it.
    Define,
}

impl<'t> Error<'t> {
    /// An error at token `at`.
    pub(crate) fn at(at: At, kind: ErrorKind<'t>) -> Self {
        Error {
            kind,
            at: Where::Token(at),
        }
    }

    /// The error of a bad token (unterminated string, too long), as the lexer flagged it.
    pub(crate) fn bad_token(at: At) -> Error<'static> {
        let len = at.tok.end - at.tok.start;
        let kind = match at.tok.kind {
            TokenKind::Str {
                quote,
                terminated: false,
            } => ErrorKind::Unterminated { quote },
            TokenKind::Str { .. } => ErrorKind::StringTooLong { len: len - 1 },
            _ => ErrorKind::AtomTooLong { len },
        };
        Error::at(at, kind)
    }

    /// The error of the unknown token `text` at `at`, with its suggestion among `defines`
    /// (the DEFINE names) and its hint.
    pub(crate) fn unknown_token(
        at: At,
        text: &'t [u8],
        config: &Config,
        defines: &[&'t [u8]],
    ) -> Self {
        let hint = if text.last() == Some(&b'\r') {
            UnknownHint::CarriageReturn
        } else if config.arch.is_knight()
            && number_of(text, config.arch).is_none()
            && strtoint(text) > 65536
        {
            UnknownHint::KnightBareNumber
        } else if text.iter().all(u8::is_ascii_hexdigit) {
            UnknownHint::BareHex(config.arch.name())
        } else {
            UnknownHint::Define
        };
        let suggestion = closest(text, defines);
        Error::at(
            at,
            ErrorKind::UnknownToken {
                text,
                suggestion,
                hint,
            },
        )
    }

    /// The error as a diagnostic: its wording, located in `sources`.
    #[cold]
    pub(crate) fn diagnostic(&self, sources: &[Source<'_>]) -> Diagnostic {
        let d = wording(self.kind);
        let at = match self.at {
            Where::Token(at) => Some(at),
            Where::FirstOf(text) => locate(sources, text),
            Where::Nowhere => None,
        };
        match at {
            Some(at) => d.in_file(sources[at.file].name).at(Position::LineCol {
                line: at.tok.line,
                col: at.tok.col,
            }),
            None => d,
        }
    }
}

/// The message, expected/found and hint of each kind of error.
#[cold]
fn wording(kind: ErrorKind<'_>) -> Diagnostic {
    match kind {
        ErrorKind::MissingValue => Diagnostic::new("DEFINE without a value")
            .expected("DEFINE NAME VALUE")
            .found("the end of the input"),
        ErrorKind::NulInToken { byte } => Diagnostic::new("NUL byte in a token")
            .expected("a token of non-NUL bytes")
            .found(format!("a NUL byte at byte {} of the token", byte + 1))
            .hint("mescc-tools M1 cuts tokens at a NUL byte and glues the rest onto a later token; remove the NUL"),
        ErrorKind::Unterminated { quote } => {
            let q = quote as char;
            Diagnostic::new(format!("unterminated string: no closing {q}"))
                .expected(format!("a {q} closing the string that starts here"))
                .found("the end of the file")
                .hint(format!("add the missing {q}; strings may span lines but not files"))
        }
        ErrorKind::StringTooLong { len } => {
            Diagnostic::new(format!("string of {len} bytes is too long"))
                .expected(format!("at most {MAX_STRING} bytes between the quotes (M1's limit)"))
                .hint("split it into several strings")
        }
        ErrorKind::AtomTooLong { len } => Diagnostic::new(format!("token of {len} bytes is too long"))
            .expected(format!("at most {MAX_ATOM} bytes (M1's limit)"))
            .hint("is a space missing between two tokens?"),
        ErrorKind::OutOfRange { text, range: e } => Diagnostic::new(format!(
            "number {} ({}) does not fit in {} byte{}",
            String::from_utf8_lossy(text),
            e.value,
            e.bytes,
            if e.bytes == 1 { "" } else { "s" }
        ))
        .expected(format!("a value from {} to {}", e.lo, e.hi))
        .found(e.value.to_string())
        .hint("use a wider sigil (! 1 byte, @ and $ 2, ~ 3, % and & 4)"),
        ErrorKind::Padding { text, n } if n < 0 => {
            Diagnostic::new(format!("negative padding '{}'", String::from_utf8_lossy(text)))
                .expected("<N with N a count of zero bytes, 0 or more")
                .found(n.to_string())
        }
        ErrorKind::Padding { text, n } => {
            Diagnostic::new(format!("padding '{}' is too large", String::from_utf8_lossy(text)))
                .expected(format!("at most {MAX_PADDING} bytes of padding (hexroot's limit)"))
                .found(n.to_string())
        }
        ErrorKind::UnknownToken {
            text,
            suggestion,
            hint,
        } => unknown_wording(text, suggestion, hint),
        ErrorKind::NoInput => Diagnostic::new("no input: the input files hold no tokens")
            .expected("M1 source files given with -f")
            .found("nothing but blank lines and comments, or no files"),
        ErrorKind::TooBig => Diagnostic::new("the inputs together exceed 4 GiB, M1's limit"),
        ErrorKind::Internal(what) => Diagnostic::new(format!("internal error: {what}")),
    }
}

#[cold]
fn unknown_wording(text: &[u8], suggestion: Option<&[u8]>, hint: UnknownHint) -> Diagnostic {
    let shown = String::from_utf8_lossy(text);
    let message = match suggestion {
        Some(best) => format!(
            "unknown token '{}'; did you mean '{}'?",
            shown.escape_debug(),
            String::from_utf8_lossy(best).escape_debug()
        ),
        None => format!("unknown token '{}'", shown.escape_debug()),
    };
    let hint = match hint {
        UnknownHint::CarriageReturn => {
            "the token ends with a carriage return: convert the file's CRLF line endings to LF"
                .to_string()
        }
        UnknownHint::KnightBareNumber => {
            "knight bare numbers must be at most 65536; use %N for a 4-byte value".to_string()
        }
        UnknownHint::BareHex(arch) => format!(
            "bare hex is only accepted in DEFINE values on {arch}; write '{shown}' (single quotes) or DEFINE a name for it"
        ),
        UnknownHint::Define => format!("define it: DEFINE {shown} VALUE"),
    };
    Diagnostic::new(message)
        .expected("a DEFINEd name, a number such as %42 or !-1, a string, a label :name or a reference &name")
        .found(format!("'{}', which is none of these", shown.escape_debug()))
        .hint(hint)
}

/// The first token (atom or string) holding a NUL byte, as an error (see
/// [`ErrorKind::NulInToken`]).
#[cold]
pub(crate) fn nul_in_token(sources: &[Source<'_>]) -> Option<Error<'static>> {
    for (file, s) in sources.iter().enumerate() {
        if !s.text.contains(&0) {
            continue;
        }
        for tok in crate::lexer::Lexer::new(s.text) {
            if matches!(tok.kind, TokenKind::Newline(_)) || !tok.text(s.text).contains(&0) {
                continue;
            }
            let byte = tok.text(s.text).iter().position(|&c| c == 0).unwrap_or(0);
            return Some(Error::at(At { file, tok }, ErrorKind::NulInToken { byte }));
        }
    }
    None
}

/// The DEFINE name closest to `text` by edit distance, if close enough to be a likely typo.
pub(crate) fn closest<'d>(text: &[u8], names: &[&'d [u8]]) -> Option<&'d [u8]> {
    let limit = (text.len() / 3).max(1);
    names
        .iter()
        .filter(|n| n.len().abs_diff(text.len()) <= limit)
        .map(|n| (edit_distance(text, n), *n))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, n)| (*d, *n))
        .map(|(_, n)| n)
}

/// Levenshtein distance in bytes.
pub(crate) fn edit_distance(a: &[u8], b: &[u8]) -> usize {
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = (diag + usize::from(ca != cb)).min(row[j] + 1).min(up + 1);
            diag = up;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_and_closest() {
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        let names: Vec<&[u8]> = vec![b"mov_eax,", b"mov_ebx,", b"ret"];
        assert_eq!(closest(b"mov_eaxx", &names), Some(&b"mov_eax,"[..]));
        assert_eq!(closest(b"zzz", &names), None);
    }
}
