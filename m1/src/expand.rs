//! The located token list of M1 with DEFINE extraction, as the reference's expansion walk
//! (spec `hex2-m1.md` 2.2-2.3).
//!
//! It owns [`Expanded`]: the [`crate::collapse`] list (all sources' tokens, runs of
//! newlines collapsed) with `DEFINE NAME VALUE` taken out, keeping each token's file, line
//! and column, and the error of a walk that failed ([`walk_error`]). This is the located
//! path of the walk, the reference for [`crate::walk`] (the fast path, which yields the
//! same item sequence without locations; the tests in `walk.rs` check that they agree):
//! diagnostics, the map and the "invalid other" check use it. It does not interpret token
//! texts.

use crate::collapse::{At, Collapsed};
use crate::diagnose::{Error, ErrorKind, Where};
use crate::lexer::{Token, TokenKind};
use crate::source::Source;
use toolbase::diag::Diagnostic;

/// One item of the token list after DEFINE processing.
pub(crate) enum Item {
    /// A newline token (including a `DEFINE` turned into one).
    Newline,
    /// A printed token.
    Text(At),
    /// `DEFINE NAME VALUE` (NAME is `None` when it was a newline token).
    #[cfg_attr(not(test), allow(dead_code))]
    Define { name: Option<At>, value: At },
}

/// The token list with DEFINE directives taken out, as the reference's expansion walk.
/// It stops at the first bad token (or a DEFINE without a value), leaving the diagnostic
/// in [`Expanded::error`]; items stay small so the hot loop copies little.
pub(crate) struct Expanded<'s, 'a> {
    tokens: Collapsed<'s, 'a>,
    sources: &'s [Source<'a>],
    pending: Option<At>,
    /// Why the walk stopped early, if it did.
    pub error: Option<Box<Error<'static>>>,
}

impl<'s, 'a> Expanded<'s, 'a> {
    pub fn new(sources: &'s [Source<'a>]) -> Self {
        Expanded {
            tokens: Collapsed::new(sources),
            sources,
            pending: None,
            error: None,
        }
    }

    #[inline(always)]
    fn checked(&mut self) -> Option<At> {
        let at = self.tokens.next()?;
        if bad_token(&at.tok) {
            self.error = Some(Box::new(Error::bad_token(at)));
            return None;
        }
        Some(at)
    }
}

impl Iterator for Expanded<'_, '_> {
    type Item = Item;

    #[inline]
    fn next(&mut self) -> Option<Item> {
        if self.error.is_some() {
            return None;
        }
        if let Some(define) = self.pending.take() {
            let name = self.checked();
            let value = if name.is_some() { self.checked() } else { None };
            let (Some(name), Some(value)) = (name, value) else {
                if self.error.is_none() {
                    self.error = Some(Box::new(Error::at(define, ErrorKind::MissingValue)));
                }
                return None;
            };
            let name = (!matches!(name.tok.kind, TokenKind::Newline(_))).then_some(name);
            return Some(Item::Define { name, value });
        }
        let at = self.checked()?;
        Some(match at.tok.kind {
            TokenKind::Newline(_) => Item::Newline,
            TokenKind::Atom if at.tok.text(self.sources[at.file].text) == b"DEFINE" => {
                self.pending = Some(at);
                Item::Newline
            }
            _ => Item::Text(at),
        })
    }
}

#[inline]
pub(crate) fn bad_token(tok: &Token) -> bool {
    match tok.kind {
        TokenKind::Str {
            terminated: false, ..
        } => true,
        TokenKind::Atom | TokenKind::Str { .. } => tok.too_long(),
        TokenKind::Newline(_) => false,
    }
}

/// The error of a walk that failed (a bad token or a DEFINE without a value), found again
/// by the located, line-counting token walk.
#[cold]
pub(crate) fn walk_error(sources: &[Source<'_>]) -> Diagnostic {
    let mut items = Expanded::new(sources);
    for _ in &mut items {}
    let e = match items.error {
        Some(e) => *e,
        None => Error {
            kind: ErrorKind::Internal("a token error vanished"),
            at: Where::Nowhere,
        },
    };
    e.diagnostic(sources)
}
