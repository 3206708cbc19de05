//! The M1 tokenizer: a pure function from the bytes of one file to tokens.
//!
//! It owns the lexical rules of mescc-tools M1 (spec `hex2-m1.md` 2.2): space and tab
//! separate tokens and nothing else is whitespace (`\r` belongs to tokens); `\n` ends a
//! line; `#` or `;` at the start of a token is a comment through the next `\n` or `\r`;
//! `"` or `'` at the start of a token is a string through the next same quote; anything
//! else is an atom running to a space, tab or `\n`. Problems (an unterminated string, a
//! token over the reference's length limits) are flags on tokens; turning them into errors,
//! collapsing newlines and interpreting texts is left to M1's `expand`, `diagnose` and
//! `express` modules and to [`crate::m0`]. It allocates nothing. This is the located
//! tokenizer, the reference of M1's fast walk (`walk.rs`, tested to yield the same items);
//! [`crate::reference`] has its own plain tokenizer, the spec model the whole assembler is
//! tested against.

/// Longest atom the reference accepts, in bytes.
pub const MAX_ATOM: usize = 4095;
/// Longest string content (quotes excluded) the reference accepts, in bytes.
pub const MAX_STRING: usize = 4094;

/// Why a line ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnd {
    /// A `\n` byte.
    LineFeed,
    /// A `#` or `;` comment (it ends the line it is on).
    Comment,
    /// The end of the file.
    EndOfFile,
}

/// What a token is. (`repr(u32)` keeps it one aligned word, which the hot loops copy
/// without store-forwarding stalls.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TokenKind {
    /// The end of a line (the engines collapse runs of these).
    Newline(LineEnd),
    /// A run of bytes up to a space, tab or `\n`.
    Atom,
    /// A quoted string; the token text keeps the opening quote and drops the closing one.
    Str {
        /// `"` or `'`.
        quote: u8,
        /// False when the file ended before the closing quote.
        terminated: bool,
    },
}

/// One token: its kind, its text as a byte range of the file, and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Offset of its first byte (the opening quote of a string).
    pub start: usize,
    /// Offset just past its text (a string's closing quote is not part of the text).
    pub end: usize,
    /// 1-based line of its first byte.
    pub line: u32,
    /// 1-based column (in bytes) of its first byte.
    pub col: u32,
}

impl Token {
    /// The token's text in `src`: the atom, or a string's opening quote and content.
    pub fn text<'a>(&self, src: &'a [u8]) -> &'a [u8] {
        &src[self.start..self.end]
    }

    /// Whether it is over the reference's length limit (4095 bytes for an atom, 4094
    /// bytes of content for a string).
    pub fn too_long(&self) -> bool {
        match self.kind {
            TokenKind::Atom => self.end - self.start > MAX_ATOM,
            TokenKind::Str { .. } => self.end - self.start - 1 > MAX_STRING,
            TokenKind::Newline(_) => false,
        }
    }
}

/// Offset of the first byte of `hay` equal to `a`, `b` or `c`, 8 bytes at a time (a
/// portable SWAR search: the lowest flagged byte of each word is exact).
#[inline(always)]
pub fn find3(hay: &[u8], a: u8, b: u8, c: u8) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let (ma, mb, mc) = (LO * u64::from(a), LO * u64::from(b), LO * u64::from(c));
    let zero = |v: u64| v.wrapping_sub(LO) & !v & HI;
    let mut chunks = hay.chunks_exact(8);
    let mut base = 0;
    for chunk in &mut chunks {
        let w = u64::from_le_bytes([
            chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
        ]);
        let hit = zero(w ^ ma) | zero(w ^ mb) | zero(w ^ mc);
        if hit != 0 {
            return Some(base + (hit.trailing_zeros() / 8) as usize);
        }
        base += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|p| base + p)
}

/// The tokens of one file, in order, ending with one `Newline(EndOfFile)`.
pub struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    finished: bool,
    /// The byte besides `\n` that ends a comment: `\r` for M1, `\n` again for the seed
    /// M0 (whose comments run to a `\n` only).
    comment_end: u8,
}

impl<'a> Lexer<'a> {
    /// A lexer at the start of `src`, line 1.
    pub fn new(src: &'a [u8]) -> Self {
        Lexer {
            src,
            pos: 0,
            line: 1,
            line_start: 0,
            finished: false,
            comment_end: b'\r',
        }
    }

    /// A lexer whose comments end at a `\n` only (not at a `\r`), as the seed M0's do.
    pub fn comments_to_newline(src: &'a [u8]) -> Self {
        Lexer {
            comment_end: b'\n',
            ..Lexer::new(src)
        }
    }

    fn token(&self, kind: TokenKind, start: usize, end: usize) -> Token {
        Token {
            kind,
            start,
            end,
            line: self.line,
            col: col_of(start, self.line_start),
        }
    }
}

fn col_of(pos: usize, line_start: usize) -> u32 {
    u32::try_from(pos - line_start + 1).unwrap_or(u32::MAX)
}

impl Iterator for Lexer<'_> {
    type Item = Token;

    #[inline(always)]
    fn next(&mut self) -> Option<Token> {
        let src = self.src;
        loop {
            let Some(&b) = src.get(self.pos) else {
                if self.finished {
                    return None;
                }
                self.finished = true;
                return Some(self.token(
                    TokenKind::Newline(LineEnd::EndOfFile),
                    self.pos,
                    self.pos,
                ));
            };
            match b {
                b' ' | b'\t' => self.pos += 1,
                b'\n' => {
                    let t = self.token(TokenKind::Newline(LineEnd::LineFeed), self.pos, self.pos);
                    self.pos += 1;
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos;
                    return Some(t);
                }
                b'#' | b';' => {
                    let t = self.token(TokenKind::Newline(LineEnd::Comment), self.pos, self.pos);
                    let rest = &src[self.pos..];
                    match find3(rest, b'\n', self.comment_end, b'\n') {
                        Some(i) => self.pos += i + 1,
                        None => self.pos = src.len(),
                    }
                    self.line = self.line.saturating_add(1);
                    self.line_start = self.pos;
                    return Some(t);
                }
                b'"' | b'\'' => {
                    let start = self.pos;
                    let line = self.line;
                    let col = col_of(start, self.line_start);
                    let body = &src[start + 1..];
                    let (end, terminated) = match body.iter().position(|&c| c == b) {
                        Some(i) => (start + 1 + i, true),
                        None => (src.len(), false),
                    };
                    for (i, &c) in src[start + 1..end].iter().enumerate() {
                        if c == b'\n' {
                            self.line = self.line.saturating_add(1);
                            self.line_start = start + 1 + i + 1;
                        }
                    }
                    self.pos = if terminated { end + 1 } else { end };
                    return Some(Token {
                        kind: TokenKind::Str {
                            quote: b,
                            terminated,
                        },
                        start,
                        end,
                        line,
                        col,
                    });
                }
                _ => {
                    let start = self.pos;
                    let end = find3(&src[start + 1..], b' ', b'\t', b'\n')
                        .map_or(src.len(), |p| start + 1 + p);
                    self.pos = end;
                    return Some(self.token(TokenKind::Atom, start, end));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dump(src: &[u8]) -> Vec<String> {
        Lexer::new(src)
            .map(|t| match t.kind {
                TokenKind::Newline(e) => format!("NL({e:?})@{}:{}", t.line, t.col),
                _ => format!(
                    "{}@{}:{}",
                    String::from_utf8_lossy(t.text(src)),
                    t.line,
                    t.col
                ),
            })
            .collect()
    }

    #[test]
    fn atoms_strings_comments() {
        assert_eq!(
            dump(b"a#b \"q\"z ; c\r\n'x y'"),
            [
                "a#b@1:1",
                "\"q@1:5",
                "z@1:8",
                "NL(Comment)@1:10",
                "NL(LineFeed)@2:1",
                "'x y@3:1",
                "NL(EndOfFile)@3:6"
            ]
        );
    }

    #[test]
    fn unterminated_string_is_flagged() {
        let t: Vec<_> = Lexer::new(b"\"abc").collect();
        assert_eq!(
            t[0].kind,
            TokenKind::Str {
                quote: b'"',
                terminated: false
            }
        );
    }

    #[test]
    fn find3_agrees_with_a_plain_search() {
        let hay = b"abc defgh\tijklmnopq\nrs tuvwxyz0123456789";
        for start in 0..hay.len() {
            let want = hay[start..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t' || c == b'\n');
            assert_eq!(find3(&hay[start..], b' ', b'\t', b'\n'), want);
        }
        assert_eq!(find3(&[0x80, 0x20], b' ', b'\t', b'\n'), Some(1));
        assert_eq!(find3(&[0xA0; 20], b' ', b'\t', b'\n'), None);
    }

    #[test]
    fn length_limits() {
        let ok = vec![b'A'; MAX_ATOM];
        assert!(!Lexer::new(&ok).next().unwrap().too_long());
        let bad = vec![b'A'; MAX_ATOM + 1];
        assert!(Lexer::new(&bad).next().unwrap().too_long());
    }
}
