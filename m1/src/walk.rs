//! The hot token walk of M1: lexing, newline collapsing and DEFINE extraction in one loop.
//!
//! It owns nothing new in meaning: it produces exactly the item sequence of
//! [`crate::expand`]'s `Expanded` iterator (which stays the reference for diagnostics and
//! the map), but drives a visitor ([`Visit`]: one method per item kind, inlined into the
//! loop) instead of stacking iterators, finds token ends with word-at-a-time (SWAR) byte
//! tests, and tracks no line or column (only byte offsets), which is what the two passes
//! of M1 spend their time in. When
//! the walk meets a bad token or a DEFINE without a value it only says so; the caller
//! re-walks with `Expanded` to build the located diagnostic (a cold path). It does not
//! interpret texts.

use crate::lexer::{MAX_ATOM, MAX_STRING};
use crate::source::Source;

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

/// How a walk ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Every item was delivered.
    Done,
    /// The callback asked to stop.
    Stopped,
    /// A bad token (unterminated string, over-long token) or a DEFINE without a value:
    /// `expand::Expanded` gives the diagnostic.
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

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The 8 bytes of `src` at `i` as a little-endian word, if there are 8.
#[inline(always)]
fn word_at(src: &[u8], i: usize) -> Option<u64> {
    let w: &[u8; 8] = src.get(i..i + 8)?.try_into().ok()?;
    Some(u64::from_le_bytes(*w))
}

/// Offset of the first space, tab or `\n` at or after `from`, and that byte (`src.len()`
/// and 0 if none): the end of an atom. One SWAR test per 8 bytes flags the bytes below `!` (the lowest flag is
/// exact); a flagged byte that is not a separator (`\r`, other control bytes) is stepped
/// over.
#[inline(always)]
pub(crate) fn atom_end(src: &[u8], from: usize) -> (usize, u8) {
    let mut i = from;
    // Two words without a loop first: most atoms end within them.
    if let Some(w) = src.get(i..i + 16) {
        let (a, b) = w.split_at(8);
        let word = |x: &[u8]| <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
        let (wa, wb) = (word(a), word(b));
        let (la, lb) = (
            wa.wrapping_sub(LO * 0x21) & !wa & HI,
            wb.wrapping_sub(LO * 0x21) & !wb & HI,
        );
        if la != 0 || lb != 0 {
            // The flagged byte, taken from the word rather than loaded again.
            let (k, c) = if la != 0 {
                let bit = la.trailing_zeros();
                ((bit / 8) as usize, (wa >> (bit & !7)) as u8)
            } else {
                let bit = lb.trailing_zeros();
                (8 + (bit / 8) as usize, (wb >> (bit & !7)) as u8)
            };
            if matches!(c, b' ' | b'\t' | b'\n') {
                return (i + k, c);
            }
            i += k + 1;
        } else {
            i += 16;
        }
    }
    while let Some(w) = word_at(src, i) {
        let low = w.wrapping_sub(LO * 0x21) & !w & HI;
        if low == 0 {
            i += 8;
            continue;
        }
        let j = i + (low.trailing_zeros() / 8) as usize;
        if matches!(src[j], b' ' | b'\t' | b'\n') {
            return (j, src[j]);
        }
        i = j + 1;
    }
    while let Some(&c) = src.get(i) {
        if matches!(c, b' ' | b'\t' | b'\n') {
            return (i, c);
        }
        i += 1;
    }
    (src.len(), 0)
}

/// Offset of the first `\n` or `\r` at or after `from`: the end of a comment. As
/// [`atom_end`], flagging the bytes below `\x0e`.
#[inline(always)]
pub(crate) fn comment_end(src: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    // 16 bytes per step (two words, one branch) while they last.
    while let Some(w) = src.get(i..i + 16) {
        let (a, b) = w.split_at(8);
        let flags = |x: &[u8]| {
            let x = <[u8; 8]>::try_from(x).map_or(0, u64::from_le_bytes);
            x.wrapping_sub(LO * 0x0E) & !x & HI
        };
        let (la, lb) = (flags(a), flags(b));
        if la == 0 && lb == 0 {
            i += 16;
            continue;
        }
        let j = i + if la != 0 {
            (la.trailing_zeros() / 8) as usize
        } else {
            8 + (lb.trailing_zeros() / 8) as usize
        };
        if matches!(src[j], b'\n' | b'\r') {
            return Some(j);
        }
        i = j + 1;
    }
    while let Some(w) = word_at(src, i) {
        let low = w.wrapping_sub(LO * 0x0E) & !w & HI;
        if low == 0 {
            i += 8;
            continue;
        }
        let j = i + (low.trailing_zeros() / 8) as usize;
        if matches!(src[j], b'\n' | b'\r') {
            return Some(j);
        }
        i = j + 1;
    }
    src[i.min(src.len())..]
        .iter()
        .position(|&c| c == b'\n' || c == b'\r')
        .map(|p| i + p)
}

/// Offset of the first byte `q` at or after `from`: the end of a string. SWAR, as
/// [`atom_end`], flagging the zero bytes of the word XORed with `q` (the lowest is exact).
#[inline(always)]
fn find_byte(src: &[u8], from: usize, q: u8) -> Option<usize> {
    let mut i = from;
    let m = LO * u64::from(q);
    while let Some(w) = word_at(src, i) {
        let x = w ^ m;
        let hit = x.wrapping_sub(LO) & !x & HI;
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    src[i.min(src.len())..]
        .iter()
        .position(|&c| c == q)
        .map(|p| i + p)
}

/// What a walk reports to: newlines, printed tokens and DEFINEs, split by kind so that the hot ones are
/// inlined into the walk's loop with the token's source at hand.
pub(crate) trait Visit {
    /// A newline (including a `DEFINE` keyword turned into one).
    fn newline(&mut self);
    /// A printed token: `src[start..end]` of source `file`, kind `T_ATOM` or `T_STR`.
    /// Returns false to stop the walk.
    fn text(&mut self, file: u32, src: &[u8], start: usize, end: usize, kind: u8) -> bool;
    /// `DEFINE NAME VALUE` (NAME is `None` when it was a newline token). Returns false
    /// to stop the walk.
    fn define(&mut self, name: Option<Tok>, value: Tok) -> bool;
}

/// Walks all `sources` as one token list, reporting each item in order to `v`. Sources
/// must total under 4 GiB (the caller checks).
#[inline(always)]
pub(crate) fn visit(sources: &[Source<'_>], v: &mut impl Visit) -> Walk {
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
            let (start, end, kind);
            // Whether the token is the atom `DEFINE` (tested on its first byte first).
            let mut is_define = false;
            loop {
                let Some(&b) = src.get(pos) else {
                    eof = true;
                    (start, end, kind) = (n, n, T_NL);
                    break;
                };
                let class = CLASS[usize::from(b)];
                if class == C_ATOM {
                    start = pos;
                    let sep;
                    (end, sep) = atom_end(src, pos + 1);
                    if end - start > MAX_ATOM {
                        return Walk::Failed;
                    }
                    kind = T_ATOM;
                    is_define = b == b'D' && &src[start..end] == b"DEFINE";
                    // The separator that ended the atom is consumed here when it is a
                    // blank (a newline is a token of its own).
                    pos = if sep == b' ' || sep == b'\t' {
                        end + 1
                    } else {
                        end
                    };
                    break;
                }
                if class == C_BLANK {
                    pos += 1;
                    continue;
                }
                match class {
                    C_NL => {
                        (start, end, kind) = (pos, pos, T_NL);
                        pos += 1;
                        break;
                    }
                    C_COMMENT => {
                        (start, end, kind) = (pos, pos, T_NL);
                        pos = match comment_end(src, pos + 1) {
                            Some(i) => i + 1,
                            None => n,
                        };
                        break;
                    }
                    _ => {
                        start = pos;
                        let Some(i) = find_byte(src, start + 1, b) else {
                            return Walk::Failed;
                        };
                        end = i;
                        if end - start - 1 > MAX_STRING {
                            return Walk::Failed;
                        }
                        kind = T_STR;
                        pos = end + 1;
                        break;
                    }
                }
            }
            let nl = kind == T_NL;
            if !(nl && last_nl) {
                last_nl = nl;
                if pending == 0 {
                    if nl {
                        v.newline();
                    } else if is_define {
                        pending = 1;
                        v.newline();
                    } else if !v.text(file, src, start, end, kind) {
                        return Walk::Stopped;
                    }
                } else {
                    let tok = Tok {
                        file,
                        start: start as u32,
                        end: end as u32,
                        kind,
                    };
                    if pending == 1 {
                        name = tok;
                        pending = 2;
                    } else {
                        pending = 0;
                        if !v.define((name.kind != T_NL).then_some(name), tok) {
                            return Walk::Stopped;
                        }
                    }
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
    use crate::expand::{Expanded, Item};

    /// One item of the walk (as `expand::Item`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Ev {
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

    /// A closure over [`Ev`] as a [`Visit`].
    struct Closure<F>(F);

    impl<F: FnMut(Ev) -> bool> Visit for Closure<F> {
        fn newline(&mut self) {
            (self.0)(Ev::Newline);
        }
        fn text(&mut self, file: u32, _: &[u8], start: usize, end: usize, kind: u8) -> bool {
            (self.0)(Ev::Text(Tok {
                file,
                start: start as u32,
                end: end as u32,
                kind,
            }))
        }
        fn define(&mut self, name: Option<Tok>, value: Tok) -> bool {
            (self.0)(Ev::Define { name, value })
        }
    }

    /// Walks all `sources` as one token list, calling `f` with each item in order; `f`
    /// returns false to stop the walk (a newline cannot stop it). [`visit`] with a closure.
    fn walk(sources: &[Source<'_>], f: impl FnMut(Ev) -> bool) -> Walk {
        visit(sources, &mut Closure(f))
    }

    fn tok_of(at: crate::collapse::At) -> Tok {
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

    /// The word-at-a-time searches agree with plain byte loops at every offset.
    #[test]
    fn searches_agree_with_byte_loops() {
        let alphabet = b"ab \t\n\r\x01\x0b#\"'\x80\xff ";
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..300 {
            let len = round % 70;
            let src: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Mostly letters, so that atoms run across words.
                    if x & 3 == 0 {
                        alphabet[(x >> 8) as usize % alphabet.len()]
                    } else {
                        b'a'
                    }
                })
                .collect();
            for from in 0..=len {
                let sep = src[from..]
                    .iter()
                    .position(|&c| matches!(c, b' ' | b'\t' | b'\n'))
                    .map_or(len, |p| from + p);
                let byte = src.get(sep).copied().unwrap_or(0);
                assert_eq!(atom_end(&src, from), (sep, byte), "{src:?} from {from}");
                let eol = src[from..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .map(|p| from + p);
                assert_eq!(comment_end(&src, from), eol, "{src:?} from {from}");
                let quote = src[from..]
                    .iter()
                    .position(|&c| c == b'"')
                    .map(|p| from + p);
                assert_eq!(find_byte(&src, from, b'"'), quote, "{src:?} from {from}");
            }
        }
    }

    /// The walk delivers exactly the items of the located `Expanded` iterator, and fails
    /// exactly when it reports an error.
    #[test]
    fn walk_agrees_with_expanded() {
        let vocab: &[&[u8]] = &[
            b"DEFINE",
            b"x",
            b"\n",
            b"\n",
            b" ",
            b"\t",
            b"# c\n",
            b"; c\r",
            b"\"s t\"",
            b"'q\nr'",
            b"\"open",
            b"'",
            b"\r",
            b"a#b",
            b"%1",
            b"\r\n",
            b"\x01",
            b"a\rb",
            b"%12345678\r9",
            b"# long comment text\x0b;\rz",
            b"\"quoted text with spaces\"",
            b"\xe9\xa0",
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
