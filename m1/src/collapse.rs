//! The token list of all of M1's sources, as the reference's list builder makes it: each
//! source's [`crate::lexer`] tokens one file after the other, runs of newlines collapsed
//! into one. It owns [`At`] (a token and the source it is in), [`Collapsed`] (the list)
//! and [`locate`] (the first token with a given text, for errors about records); the DEFINE
//! walk ([`crate::expand`]) and the diagnostics ([`crate::diagnose`]) build on it.

use crate::lexer::{Lexer, Token, TokenKind};
use crate::source::Source;

/// A token of the collapsed token list: which source it is in, and the token.
#[derive(Clone, Copy, Debug)]
pub(crate) struct At {
    pub file: usize,
    pub tok: Token,
}

/// The token list of all sources, newlines collapsed as the reference's list builder does.
pub(crate) struct Collapsed<'s, 'a> {
    sources: &'s [Source<'a>],
    file: usize,
    lexer: Option<Lexer<'a>>,
    last_was_newline: bool,
}

impl<'s, 'a> Collapsed<'s, 'a> {
    pub fn new(sources: &'s [Source<'a>]) -> Self {
        Collapsed {
            sources,
            file: 0,
            lexer: sources.first().map(|s| Lexer::new(s.text)),
            last_was_newline: true,
        }
    }
}

impl Iterator for Collapsed<'_, '_> {
    type Item = At;

    #[inline(always)]
    fn next(&mut self) -> Option<At> {
        loop {
            let lexer = self.lexer.as_mut()?;
            match lexer.next() {
                Some(tok) => {
                    let nl = matches!(tok.kind, TokenKind::Newline(_));
                    if nl && self.last_was_newline {
                        continue;
                    }
                    self.last_was_newline = nl;
                    return Some(At {
                        file: self.file,
                        tok,
                    });
                }
                None => {
                    self.file += 1;
                    self.lexer = self.sources.get(self.file).map(|s| Lexer::new(s.text));
                }
            }
        }
    }
}

/// Where `text` first occurs as a token (for errors about records).
#[cold]
pub(crate) fn locate(sources: &[Source<'_>], text: &[u8]) -> Option<At> {
    Collapsed::new(sources).find(|at| {
        !matches!(at.tok.kind, TokenKind::Newline(_)) && at.tok.text(sources[at.file].text) == text
    })
}
