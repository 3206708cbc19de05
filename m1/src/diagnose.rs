//! M1's diagnostics: every error the assembler reports, located at its token.
//!
//! It owns the wording of each error (message, expected/found, hint) and its location
//! (file, line and column of the token, found again on the located walk of
//! [`crate::expand`] for errors the fast paths only detect), and the "did you mean"
//! suggestion by edit distance, which M0 shares. The analysis decides *that* something is
//! wrong; this module only says so.

use toolbase::diag::{Diagnostic, Position};

use crate::expand::{locate, At, Expanded};
use crate::express::{number_of, RangeError, MAX_PADDING};
use crate::lexer::TokenKind;
use crate::number::strtoint;
use crate::{Config, Source};

/// The diagnostic for a walk that failed (a bad token or a DEFINE without a value),
/// found again by the located, line-counting token walk.
#[cold]
pub(crate) fn walk_error(sources: &[Source<'_>]) -> Diagnostic {
    let mut items = Expanded::new(sources);
    for _ in &mut items {}
    match items.error {
        Some(e) => *e,
        None => Diagnostic::new("internal error: a token error vanished"),
    }
}

fn located(sources: &[Source<'_>], at: At, message: String) -> Diagnostic {
    Diagnostic::new(message)
        .in_file(sources[at.file].name)
        .at(Position::LineCol {
            line: at.tok.line,
            col: at.tok.col,
        })
}

#[cold]
pub(crate) fn missing_value(sources: &[Source<'_>], define: At) -> Diagnostic {
    located(sources, define, "DEFINE without a value".into())
        .expected("DEFINE NAME VALUE")
        .found("the end of the input")
}

/// The first token (atom or string) holding a NUL byte, as an error. The reference keeps
/// token texts as C strings in a scratch buffer it clears only up to the first NUL, so a
/// NUL silently cuts a token and leaves its tail to be glued onto a later one; no real
/// input has one, so M1 refuses it. (A NUL in a comment is harmless.)
#[cold]
pub(crate) fn nul_in_token(sources: &[Source<'_>]) -> Option<Diagnostic> {
    for (file, s) in sources.iter().enumerate() {
        if !s.text.contains(&0) {
            continue;
        }
        for tok in crate::lexer::Lexer::new(s.text) {
            if matches!(tok.kind, TokenKind::Newline(_)) || !tok.text(s.text).contains(&0) {
                continue;
            }
            let n = tok.text(s.text).iter().position(|&c| c == 0).unwrap_or(0);
            return Some(
                located(sources, At { file, tok }, "NUL byte in a token".into())
                    .expected("a token of non-NUL bytes")
                    .found(format!("a NUL byte at byte {} of the token", n + 1))
                    .hint("mescc-tools M1 cuts tokens at a NUL byte and glues the rest onto a later token; remove the NUL"),
            );
        }
    }
    None
}

#[cold]
pub(crate) fn token_error(sources: &[Source<'_>], at: At) -> Diagnostic {
    match at.tok.kind {
        TokenKind::Str {
            quote,
            terminated: false,
        } => unterminated(sources, at, quote),
        _ => too_long(sources, at),
    }
}

#[cold]
fn unterminated(sources: &[Source<'_>], at: At, quote: u8) -> Diagnostic {
    let q = quote as char;
    located(sources, at, format!("unterminated string: no closing {q}"))
        .expected(format!("a {q} closing the string that starts here"))
        .found("the end of the file")
        .hint(format!(
            "add the missing {q}; strings may span lines but not files"
        ))
}

#[cold]
fn too_long(sources: &[Source<'_>], at: At) -> Diagnostic {
    let len = at.tok.end - at.tok.start;
    match at.tok.kind {
        TokenKind::Str { .. } => located(
            sources,
            at,
            format!("string of {} bytes is too long", len - 1),
        )
        .expected(format!(
            "at most {} bytes between the quotes (M1's limit)",
            crate::lexer::MAX_STRING
        ))
        .hint("split it into several strings"),
        _ => located(sources, at, format!("token of {len} bytes is too long"))
            .expected(format!(
                "at most {} bytes (M1's limit)",
                crate::lexer::MAX_ATOM
            ))
            .hint("is a space missing between two tokens?"),
    }
}

#[cold]
pub(crate) fn range_error(sources: &[Source<'_>], text: &[u8], e: RangeError) -> Diagnostic {
    let shown = String::from_utf8_lossy(text);
    let mut d = Diagnostic::new(format!(
        "number {shown} ({}) does not fit in {} byte{}",
        e.value,
        e.bytes,
        if e.bytes == 1 { "" } else { "s" }
    ))
    .expected(format!("a value from {} to {}", e.lo, e.hi))
    .found(e.value.to_string())
    .hint("use a wider sigil (! 1 byte, @ and $ 2, ~ 3, % and & 4)");
    if let Some(at) = locate(sources, text) {
        d = d.in_file(sources[at.file].name).at(Position::LineCol {
            line: at.tok.line,
            col: at.tok.col,
        });
    }
    d
}

#[cold]
pub(crate) fn padding_error(sources: &[Source<'_>], text: &[u8], n: i32) -> Diagnostic {
    let shown = String::from_utf8_lossy(text);
    let mut d = if n < 0 {
        Diagnostic::new(format!("negative padding '{shown}'"))
            .expected("<N with N a count of zero bytes, 0 or more")
            .found(n.to_string())
    } else {
        Diagnostic::new(format!("padding '{shown}' is too large"))
            .expected(format!(
                "at most {MAX_PADDING} bytes of padding (hexroot's limit)"
            ))
            .found(n.to_string())
    };
    if let Some(at) = locate(sources, text) {
        d = d.in_file(sources[at.file].name).at(Position::LineCol {
            line: at.tok.line,
            col: at.tok.col,
        });
    }
    d
}

/// The inputs together are longer than the 32-bit offsets of [`crate::intern`] reach.
#[cold]
pub(crate) fn too_big() -> Diagnostic {
    Diagnostic::new("the inputs together exceed 4 GiB, M1's limit")
}

/// The inputs hold no token at all.
#[cold]
pub(crate) fn no_input() -> Diagnostic {
    Diagnostic::new("no input: the input files hold no tokens")
        .expected("M1 source files given with -f")
        .found("nothing but blank lines and comments, or no files")
}

/// A token that is no DEFINE name, number, string or pass-through (`defines`: the DEFINE
/// names, for the "did you mean" suggestion).
#[cold]
pub(crate) fn unknown_token(
    sources: &[Source<'_>],
    at: At,
    text: &[u8],
    config: &Config,
    defines: &[&[u8]],
) -> Diagnostic {
    let shown = String::from_utf8_lossy(text);
    let mut d = located(
        sources,
        at,
        format!("unknown token '{}'", shown.escape_debug()),
    );
    if let Some(best) = closest(text, defines) {
        d.message = format!(
            "unknown token '{}'; did you mean '{}'?",
            shown.escape_debug(),
            String::from_utf8_lossy(best).escape_debug()
        );
    }
    d = d
            .expected("a DEFINEd name, a number such as %42 or !-1, a string, a label :name or a reference &name")
            .found(format!("'{}', which is none of these", shown.escape_debug()));
    if text.last() == Some(&b'\r') {
        d = d.hint(
            "the token ends with a carriage return: convert the file's CRLF line endings to LF",
        );
    } else if config.arch.is_knight()
        && number_of(text, config.arch).is_none()
        && strtoint(text) > 65536
    {
        d = d.hint("knight bare numbers must be at most 65536; use %N for a 4-byte value");
    } else if text.iter().all(u8::is_ascii_hexdigit) {
        d = d.hint(format!(
                "bare hex is only accepted in DEFINE values on {}; write '{}' (single quotes) or DEFINE a name for it",
                config.arch.name(),
                shown
            ));
    } else {
        d = d.hint(format!("define it: DEFINE {shown} VALUE"));
    }
    d
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
