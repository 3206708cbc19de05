//! The hot token walk of M1: lexing, newline collapsing and DEFINE extraction in one loop.
//!
//! It owns nothing new in meaning: it produces exactly the item sequence of
//! [`crate::engine`]'s `Expanded` iterator (which stays the reference for diagnostics and
//! the map), but drives a callback instead of stacking iterators, and tracks no line or
//! column (only byte offsets), which is what the two passes of M1 spend their time in. When
//! the walk meets a bad token or a DEFINE without a value it only says so; the caller
//! re-walks with `Expanded` to build the located diagnostic (a cold path). It does not
//! interpret texts.

use crate::lexer::{find3, MAX_ATOM, MAX_STRING};
use crate::Source;

/// A newline token.
pub(crate) const T_NL: u8 = 0;
/// An atom.
pub(crate) const T_ATOM: u8 = 1;
/// A terminated string (the text keeps the opening quote, drops the closing one).
pub(crate) const T_STR: u8 = 2;

/// One token: source number, byte range of its text, kind (`T_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tok {
    /// Index of the source.
    pub file: u32,
    /// Offset of the first byte of the text.
    pub start: u32,
    /// Offset just past the text.
    pub end: u32,
    /// `T_NL`, `T_ATOM` or `T_STR`.
    pub kind: u8,
}

impl Tok {
    /// The token's text in its source.
    #[inline(always)]
    pub fn text<'a>(&self, sources: &[Source<'a>]) -> &'a [u8] {
        &sources[self.file as usize].text[self.start as usize..self.end as usize]
    }
}

/// One item of the walk (as `engine::Item`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// A newline (including a `DEFINE` keyword turned into one).
    Newline,
    /// A printed token.
    Text(Tok),
    /// `DEFINE NAME VALUE` (NAME is `None` when it was a newline token).
    Define {
        /// The name.
        name: Option<Tok>,
        /// The value (may be a newline token).
        value: Tok,
    },
}

/// How a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Every item was delivered.
    Done,
    /// The callback asked to stop.
    Stopped,
    /// A bad token (unterminated string, over-long token) or a DEFINE without a value:
    /// `engine::Expanded` gives the diagnostic.
    Failed,
}

// Byte classes for the dispatch at the start of a token.
const C_ATOM: u8 = 0;
const C_BLANK: u8 = 1;
const C_NL: u8 = 2;
const C_COMMENT: u8 = 3;
const C_QUOTE: u8 = 4;

static CLASS: [u8; 256] = {
    let mut t = [C_ATOM; 256];
    t[b' ' as usize] = C_BLANK;
    t[b'\t' as usize] = C_BLANK;
    t[b'\n' as usize] = C_NL;
    t[b'#' as usize] = C_COMMENT;
    t[b';' as usize] = C_COMMENT;
    t[b'"' as usize] = C_QUOTE;
    t[b'\'' as usize] = C_QUOTE;
    t
};

/// Walks all `sources` as one token list, calling `f` with each item in order; `f`
/// returns false to stop the walk. Sources must total under 4 GiB (the caller checks).
#[inline(always)]
pub(crate) fn walk(sources: &[Source<'_>], mut f: impl FnMut(Ev) -> bool) -> Walk {
    let mut last_nl = true;
    // 0: no DEFINE pending; 1: the name is next; 2: the value is next.
    let mut pending: u8 = 0;
    let mut name = Tok {
        file: 0,
        start: 0,
        end: 0,
        kind: T_NL,
    };
    for (fi, s) in sources.iter().enumerate() {
        let src = s.text;
        let n = src.len();
        let file = fi as u32;
        let mut pos = 0usize;
        loop {
            let mut eof = false;
            let tok;
            loop {
                let Some(&b) = src.get(pos) else {
                    eof = true;
                    tok = Tok {
                        file,
                        start: n as u32,
                        end: n as u32,
                        kind: T_NL,
                    };
                    break;
                };
                match CLASS[usize::from(b)] {
                    C_BLANK => pos += 1,
                    C_NL => {
                        tok = Tok {
                            file,
                            start: pos as u32,
                            end: pos as u32,
                            kind: T_NL,
                        };
                        pos += 1;
                        break;
                    }
                    C_COMMENT => {
                        tok = Tok {
                            file,
                            start: pos as u32,
                            end: pos as u32,
                            kind: T_NL,
                        };
                        pos = match find3(&src[pos..], b'\n', b'\r', b'\n') {
                            Some(i) => pos + i + 1,
                            None => n,
                        };
                        break;
                    }
                    C_QUOTE => {
                        let start = pos;
                        let Some(i) = find3(&src[start + 1..], b, b, b) else {
                            return Walk::Failed;
                        };
                        let end = start + 1 + i;
                        if end - start - 1 > MAX_STRING {
                            return Walk::Failed;
                        }
                        tok = Tok {
                            file,
                            start: start as u32,
                            end: end as u32,
                            kind: T_STR,
                        };
                        pos = end + 1;
                        break;
                    }
                    _ => {
                        let start = pos;
                        let end = find3(&src[start + 1..], b' ', b'\t', b'\n')
                            .map_or(n, |p| start + 1 + p);
                        if end - start > MAX_ATOM {
                            return Walk::Failed;
                        }
                        tok = Tok {
                            file,
                            start: start as u32,
                            end: end as u32,
                            kind: T_ATOM,
                        };
                        pos = end;
                        break;
                    }
                }
            }
            let nl = tok.kind == T_NL;
            if !(nl && last_nl) {
                last_nl = nl;
                let go = match pending {
                    0 => {
                        if nl {
                            f(Ev::Newline)
                        } else if tok.kind == T_ATOM
                            && &src[tok.start as usize..tok.end as usize] == b"DEFINE"
                        {
                            pending = 1;
                            f(Ev::Newline)
                        } else {
                            f(Ev::Text(tok))
                        }
                    }
                    1 => {
                        name = tok;
                        pending = 2;
                        true
                    }
                    _ => {
                        pending = 0;
                        f(Ev::Define {
                            name: (name.kind != T_NL).then_some(name),
                            value: tok,
                        })
                    }
                };
                if !go {
                    return Walk::Stopped;
                }
            }
            if eof {
                break;
            }
        }
    }
    if pending != 0 {
        return Walk::Failed;
    }
    Walk::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Expanded, Item};

    fn tok_of(at: crate::engine::At) -> Tok {
        Tok {
            file: at.file as u32,
            start: at.tok.start as u32,
            end: at.tok.end as u32,
            kind: match at.tok.kind {
                crate::lexer::TokenKind::Newline(_) => T_NL,
                crate::lexer::TokenKind::Atom => T_ATOM,
                crate::lexer::TokenKind::Str { .. } => T_STR,
            },
        }
    }

    /// The walk delivers exactly the items of the located `Expanded` iterator, and fails
    /// exactly when it reports an error.
    #[test]
    fn walk_agrees_with_expanded() {
        let vocab: &[&[u8]] = &[
            b"DEFINE", b"x", b"\n", b"\n", b" ", b"\t", b"# c\n", b"; c\r", b"\"s t\"", b"'q\nr'",
            b"\"open", b"'", b"\r", b"a#b", b"%1", b"\r\n",
        ];
        let long = vec![b'A'; crate::lexer::MAX_ATOM + 1];
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for round in 0..4000 {
            let mut files: Vec<Vec<u8>> = vec![Vec::new(); 1 + round % 3];
            for f in files.iter_mut() {
                for _ in 0..(round % 13) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let i = (x % (vocab.len() as u64 + 1)) as usize;
                    if i == vocab.len() {
                        if round % 50 == 0 {
                            f.extend_from_slice(&long);
                        }
                    } else {
                        f.extend_from_slice(vocab[i]);
                    }
                    if x & 8 != 0 {
                        f.push(b' ');
                    }
                }
            }
            let sources: Vec<Source<'_>> = files
                .iter()
                .map(|t| Source { name: "t", text: t })
                .collect();
            let mut got = Vec::new();
            let outcome = walk(&sources, |ev| {
                got.push(ev);
                true
            });
            let mut items = Expanded::new(&sources);
            let want: Vec<Ev> = (&mut items)
                .map(|item| match item {
                    Item::Newline => Ev::Newline,
                    Item::Text(at) => Ev::Text(tok_of(at)),
                    Item::Define { name, value } => Ev::Define {
                        name: name.map(tok_of),
                        value: tok_of(value),
                    },
                })
                .collect();
            let failed = items.error.is_some();
            assert_eq!(outcome == Walk::Failed, failed, "{files:?}");
            // A token's end for a newline token is not compared (the lexers agree on
            // the start; both are empty).
            assert_eq!(got, want, "{files:?}");
        }
    }
}
