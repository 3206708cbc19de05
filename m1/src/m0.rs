//! The seed M0 dialect (stage0-posix `M0 INPUT OUTPUT`), on the M1 lexer.
//!
//! It owns the seed's semantics (spec `seed-tools.md` section 4): one input, DEFINEs that
//! apply to the tokens after them (a later DEFINE of the same name wins from there on),
//! `"text"` as one run of hex digits plus `00`, `'text'` raw, numbers judged on the token's
//! tail after its first character (decimal or upper-case `0x` hex, 32-bit arithmetic on
//! x86 and riscv32, 64-bit on the others; on x86, amd64 and aarch64 `@` is 2 bytes, `%` 4,
//! anything else 1; on riscv `!` `@` `~` are I, S and U immediate words and `%` 4 bytes),
//! and the output layout of one token per line. Unlike the seed, a word that is neither
//! defined, a number, a string, hex2 syntax (`: ! @ $ ~ % & ^ . <`) nor hex digits is an
//! error unless [`Options::pass_unknown`] is set.

use std::collections::HashMap;

use toolbase::diag::{Diagnostic, Position};

use crate::config::DigitStyle;
use crate::diagnose::closest;
use crate::lexer::{Lexer, LineEnd, Token, TokenKind};
use crate::number::push_byte;
use crate::source::Source;
use toolbase::arch::Arch;

/// How to run M0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Which seed to follow.
    pub arch: Arch,
    /// Print unknown words unchanged, as the seed does, instead of failing.
    pub pass_unknown: bool,
}

/// Assembles `source` as the seed M0 of `arch` does, failing on unknown words.
pub fn assemble(source: &Source<'_>, arch: Arch) -> Result<Vec<u8>, Diagnostic> {
    assemble_with(
        source,
        &Options {
            arch,
            pass_unknown: false,
        },
    )
}

fn wide(arch: Arch) -> bool {
    arch.word_bytes() == 8
}

/// The seed's number reading of a token's tail: `(value, is_number)`.
fn seed_number(tail: &[u8], wide: bool) -> Option<i64> {
    let first = *tail.first()?;
    let mut v: i64 = 0;
    if let Some(hex) = tail.strip_prefix(b"0x") {
        for &c in hex {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'A'..=b'F' => c - b'A' + 10,
                _ => {
                    v = 0;
                    break;
                }
            };
            v = v.wrapping_mul(16).wrapping_add(i64::from(d));
        }
    } else {
        let (neg, digits) = match tail.strip_prefix(b"-") {
            Some(d) => (true, d),
            None => (false, tail),
        };
        for &c in digits {
            if !c.is_ascii_digit() {
                v = 0;
                break;
            }
            v = v.wrapping_mul(10).wrapping_add(i64::from(c - b'0'));
        }
        if neg {
            v = v.wrapping_neg();
        }
    }
    if !wide {
        v = i64::from(v as i32);
    }
    (first == b'0' || v != 0).then_some(v)
}

fn push_le_hex(out: &mut Vec<u8>, value: u64, bytes: usize) {
    for i in 0..bytes {
        push_byte(out, (value >> (8 * i)) as u8, DigitStyle::Hex);
    }
}

/// What a number token prints as, `Err(())` when the seed rejects it (riscv: a prefix
/// other than `! @ ~ %`).
fn express_number(first: u8, v: i64, arch: Arch, out: &mut Vec<u8>) -> Result<(), ()> {
    if arch.is_riscv() {
        let u = v as u32;
        let word = match first {
            b'%' => {
                push_le_hex(out, u64::from(u), 4);
                return Ok(());
            }
            b'!' => (u & 0xFFF) << 20,
            b'@' => ((u & 0x1F) << 7) | ((u & 0xFE0) << 20),
            b'~' => {
                let w = u & 0xFFFF_F000;
                if u & 0xFFF >= 0x800 {
                    w.wrapping_add(0x1000)
                } else {
                    w
                }
            }
            _ => return Err(()),
        };
        out.push(b'.');
        push_le_hex(out, u64::from(word), 4);
        return Ok(());
    }
    let bytes = match first {
        b'@' => 2,
        b'%' => 4,
        _ => 1,
    };
    push_le_hex(out, v as u64, bytes);
    Ok(())
}

fn located(source: &Source<'_>, tok: &Token, message: String) -> Diagnostic {
    Diagnostic::new(message)
        .in_file(source.name)
        .at(Position::LineCol {
            line: tok.line,
            col: tok.col,
        })
}

/// Assembles `source` with `options`: each token the seed prints on a line of its own,
/// DEFINEs applying from where they stand.
pub fn assemble_with(source: &Source<'_>, options: &Options) -> Result<Vec<u8>, Diagnostic> {
    let src = source.text;
    let mut out = Vec::with_capacity(src.len());
    let mut defines: HashMap<&[u8], &[u8]> = HashMap::new();
    let mut tokens = seed_tokens(src);
    let wide = wide(options.arch);
    let mut printed = 0usize;
    while let Some(tok) = tokens.next() {
        check_where_the_seed_fails(source, &tok)?;
        let text = tok.text(src);
        match tok.kind {
            TokenKind::Str { quote: b'"', .. } => {
                for &b in &text[1..] {
                    push_byte(&mut out, b, DigitStyle::Hex);
                }
                out.extend_from_slice(b"00");
            }
            TokenKind::Str { .. } => out.extend_from_slice(&text[1..]),
            _ if text == b"DEFINE" => {
                let (Some(name), Some(value)) = (tokens.next(), tokens.next()) else {
                    return Err(
                        located(source, &tok, "DEFINE without a name and value".into())
                            .expected("DEFINE NAME VALUE")
                            .found("the end of the file"),
                    );
                };
                defines.insert(name.text(src), value.text(src));
                continue;
            }
            _ => print_word(source, &tok, &defines, options, wide, &mut out)?,
        }
        out.push(b'\n');
        printed += 1;
    }
    if printed == 0 {
        return Err(nothing_to_assemble(source));
    }
    Ok(out)
}

/// The tokens of `src` as the seed reads them: words and strings, and only the comment
/// that runs to the end of the file (comments end at a `\n` only; one without it hangs
/// the seed), which [`check_where_the_seed_fails`] refuses.
fn seed_tokens(src: &[u8]) -> impl Iterator<Item = Token> + '_ {
    let last_line = src.iter().rposition(|&c| c == b'\n').map_or(0, |p| p + 1);
    Lexer::comments_to_newline(src).filter(move |t| match t.kind {
        TokenKind::Newline(LineEnd::Comment) => t.start >= last_line,
        TokenKind::Newline(_) => false,
        _ => true,
    })
}

/// The tokens on which the seed M0 hangs or crashes: a comment the end of the file cuts,
/// a last word with nothing after it, an unterminated string.
fn check_where_the_seed_fails(source: &Source<'_>, tok: &Token) -> Result<(), Diagnostic> {
    if tok.kind == TokenKind::Newline(LineEnd::Comment) {
        return Err(located(source, tok, "comment at the end of the file without a newline".into())
            .expected("a newline ending the comment")
            .found("the end of the file")
            .hint("the seed M0 reads a comment to the next newline and hangs when there is none; end the file with a newline"));
    }
    if tok.kind == TokenKind::Atom && tok.end == source.text.len() {
        return Err(located(source, tok, "the last word runs to the end of the file".into())
            .expected("a space, tab or newline after the last word")
            .found("the end of the file")
            .hint("the seed M0 crashes on a word the end of the file cuts off; end the file with a newline"));
    }
    if let TokenKind::Str {
        quote,
        terminated: false,
    } = tok.kind
    {
        return Err(located(
            source,
            tok,
            format!("unterminated string: no closing {}", quote as char),
        )
        .expected(format!(
            "a {} closing the string that starts here",
            quote as char
        ))
        .found("the end of the file"));
    }
    Ok(())
}

/// Prints a word that is not a string or DEFINE: a defined name's value, a number, hex2
/// syntax or hex digits unchanged (or any word, with [`Options::pass_unknown`]).
fn print_word(
    source: &Source<'_>,
    tok: &Token,
    defines: &HashMap<&[u8], &[u8]>,
    options: &Options,
    wide: bool,
    out: &mut Vec<u8>,
) -> Result<(), Diagnostic> {
    let text = tok.text(source.text);
    if let Some(value) = defines.get(text) {
        out.extend_from_slice(value);
    } else if let Some(v) = seed_number(&text[1..], wide) {
        if express_number(text[0], v, options.arch, out).is_err() {
            return Err(located(
                source,
                tok,
                format!(
                    "'{}' is not a number form of the {} M0",
                    String::from_utf8_lossy(text),
                    options.arch.name()
                ),
            )
            .expected("!N (I-type), @N (S-type), ~N (U-type) or %N (4 bytes)")
            .found(String::from_utf8_lossy(text).into_owned()));
        }
    } else if options.pass_unknown
        || matches!(
            text[0],
            b':' | b'!' | b'@' | b'$' | b'~' | b'%' | b'&' | b'^' | b'.' | b'<'
        )
        || text.iter().all(u8::is_ascii_hexdigit)
    {
        out.extend_from_slice(text);
    } else {
        return Err(unknown_token(source, tok, defines));
    }
    Ok(())
}

/// The error for a word that is neither defined, a number, hex2 syntax nor hex digits,
/// with the closest DEFINE suggested.
#[cold]
fn unknown_token(source: &Source<'_>, tok: &Token, defines: &HashMap<&[u8], &[u8]>) -> Diagnostic {
    let text = tok.text(source.text);
    let names: Vec<&[u8]> = defines.keys().copied().collect();
    let shown = String::from_utf8_lossy(text);
    let message = match closest(text, &names) {
        Some(best) => format!(
            "unknown token '{}'; did you mean '{}'?",
            shown.escape_debug(),
            String::from_utf8_lossy(best).escape_debug()
        ),
        None => format!("unknown token '{}'", shown.escape_debug()),
    };
    let hint = if text.last() == Some(&b'\r') {
        "the word ends with a carriage return: convert the file's CRLF line endings to LF (or pass --pass-unknown to print it unchanged, as the seed does)"
    } else {
        "the seed M0 prints unknown words unchanged; pass --pass-unknown to do the same"
    };
    located(source, tok, message)
        .expected("a name DEFINEd before this point, a number, a string, a label or pointer, or hex digits")
        .found(format!("'{}'", shown.escape_debug()))
        .hint(hint)
}

/// The error for an input that prints nothing (only DEFINEs), on which the seed crashes.
#[cold]
fn nothing_to_assemble(source: &Source<'_>) -> Diagnostic {
    Diagnostic::new("nothing to assemble: no token besides DEFINEs")
        .in_file(source.name)
        .expected("at least one word, number or string to print")
        .found("an input with no such token")
        .hint("the seed M0 crashes on an input that prints nothing")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str, arch: Arch) -> String {
        let s = Source {
            name: "t",
            text: src.as_bytes(),
        };
        String::from_utf8(
            assemble_with(
                &s,
                &Options {
                    arch,
                    pass_unknown: true,
                },
            )
            .unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn seed_vectors_in_small() {
        assert_eq!(
            run("!1 @1 %1 X-1 0y\n", Arch::X86),
            "01\n0100\n01000000\nFF\n0y\n"
        );
        assert_eq!(run("%4294967296\n", Arch::X86), "%4294967296\n");
        assert_eq!(run("%4294967296\n", Arch::Amd64), "00000000\n");
        assert_eq!(
            run("!1 @-1 ~0x800 !1x\n", Arch::Riscv64),
            ".00001000\n.800F00FE\n.00100000\n!1x\n"
        );
        assert_eq!(run("\"ab\" 'c d'", Arch::X86), "616200\nc d\n");
    }

    #[test]
    fn unknown_words_fail_by_default() {
        let s = Source {
            name: "t",
            text: b"DEFINE NOP 90\nNOQ\n",
        };
        let e = assemble(&s, Arch::X86).unwrap_err();
        assert!(e.message.contains("did you mean 'NOP'"), "{}", e.message);
    }
}
