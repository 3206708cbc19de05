//! M1's pass 1: interning, DEFINE records and expression assignment.
//!
//! It owns [`Program`], everything pass 1 learns: the interned texts ([`crate::intern`]),
//! the DEFINE values (slices of the input, never copies), the record number of each
//! printed token that had to be looked up, and each record's expression kind after the
//! reference's steps A, B and C and the "invalid other" check (spec `hex2-m1.md` 2.3-2.4).
//! It walks the inputs with the fast [`crate::walk`] and, in its non-exact mode, only checks
//! the tokens whose expression follows from their text ([`crate::express::by_text`]);
//! [`crate::engine::analyse`] decides when to run it exactly. Printing is
//! [`crate::print`]'s; the wording of errors is [`crate::diagnose`]'s.

use toolbase::diag::Diagnostic;

use crate::config::Config;
use crate::diagnose::{Error, ErrorKind, Where};
use crate::expand::{walk_error, Expanded, Item};
use crate::express::{by_text, number_of, FAST_FIRST, MAX_PADDING};
use crate::intern::{Inputs, Table};
use crate::number::strtoint;
use crate::source::Source;
use crate::walk::{visit, Tok, Visit, Walk, T_NL, T_STR};
use toolbase::arch::Arch;

// Record kinds, stored in `Record::state` above the USED bit.
pub(crate) const USED: u8 = 1;
pub(crate) const K_NONE: u8 = 0;
pub(crate) const K_DEFINE: u8 = 1 << 1;
pub(crate) const K_STRING: u8 = 2 << 1;
pub(crate) const K_NUMBER: u8 = 3 << 1;
pub(crate) const K_PASS: u8 = 4 << 1;
pub(crate) const K_PAD: u8 = 5 << 1;
pub(crate) const KIND: u8 = 7 << 1;

/// Everything pass 1 learnt, with expressions assigned.
pub(crate) struct Program<'a> {
    pub(crate) inputs: Inputs<'a>,
    pub(crate) table: Table,
    /// DEFINE values: (global start, length), or `None` for a newline token.
    pub(crate) values: Vec<Option<(u32, u16)>>,
    /// First bytes of DEFINE names: only tokens starting with one need a table lookup.
    pub(crate) defined_first: [bool; 256],
    /// The record number of every printed token whose first byte is not in [`FAST_FIRST`],
    /// in token order: pass 2 reads them in turn instead of looking the texts up again.
    pub(crate) ids: Vec<u32>,
    /// The expression of every record, by record number (filled after assignment).
    pub(crate) exprs: Vec<Expr<'a>>,
}

/// The expression of a record, ready for pass 2.
#[derive(Clone, Copy)]
pub(crate) enum Expr<'a> {
    /// A DEFINE value of at most 16 bytes (or a newline), padded with zeros.
    Short([u8; 16], u8),
    /// A longer DEFINE value.
    Long(&'a [u8]),
    /// Not a DEFINE name: expressed from the token's text.
    ByText,
}

/// What pass 1 builds, borrowed for the walk.
struct Pass1<'p, 'a> {
    table: &'p mut Table,
    inputs: &'p Inputs<'a>,
    sources: &'p [Source<'a>],
    values: &'p mut Vec<Option<(u32, u16)>>,
    defined_first: &'p mut [bool; 256],
    ids: &'p mut Vec<u32>,
    arch: Arch,
    /// Intern every text (see [`crate::engine::analyse`]).
    exact: bool,
    /// Whether the walk delivered any item.
    any: bool,
    /// Whether the walk stopped at a token invalid by its text (fast mode only).
    gave_up: bool,
}

impl Visit for Pass1<'_, '_> {
    #[inline(always)]
    fn newline(&mut self) {
        self.any = true;
    }

    /// Tokens judged by their text are only checked (interning is out of line).
    #[inline(always)]
    fn text(&mut self, file: u32, src: &[u8], start: usize, end: usize, _: u8) -> bool {
        self.any = true;
        let text = &src[start..end];
        let fast = FAST_FIRST[usize::from(text[0])];
        if fast && !self.exact {
            if by_text(text, self.arch) {
                return true;
            }
            self.gave_up = true;
            return false;
        }
        self.token(text, file, start as u32, fast);
        true
    }

    #[inline(never)]
    fn define(&mut self, name: Option<Tok>, value: Tok) -> bool {
        self.any = true;
        let (inputs, sources) = (self.inputs, self.sources);
        let v = match value.kind {
            T_NL => None,
            kind => {
                let text = value.text(sources);
                let start = inputs.global(value.file as usize, value.start as usize);
                self.table.intern(inputs, text, start);
                let skip = u32::from(kind == T_STR);
                Some((start + skip, (text.len() - skip as usize) as u16))
            }
        };
        if let Some(name) = name {
            let text = name.text(sources);
            let id = self.table.intern(
                inputs,
                text,
                inputs.global(name.file as usize, name.start as usize),
            );
            self.defined_first[usize::from(text[0])] = true;
            let r = &mut self.table.records[id as usize];
            r.state = (r.state & !KIND) | K_DEFINE;
            r.payload = self.values.len() as u32;
            self.values.push(v);
        }
        true
    }
}

impl Pass1<'_, '_> {
    /// A printed token that is interned (`fast`: its first byte is in [`FAST_FIRST`],
    /// which happens in exact mode only; such tokens get no entry in `ids`).
    #[inline(always)]
    fn token(&mut self, text: &[u8], file: u32, start: u32, fast: bool) {
        let id = self.table.intern(
            self.inputs,
            text,
            self.inputs.global(file as usize, start as usize),
        );
        self.table.records[id as usize].state |= USED;
        if !fast {
            self.ids.push(id);
        }
    }
}

/// Pass 1 over `sources` and expression assignment. In `exact` mode every text is interned
/// and the analysis always completes (`Some`); otherwise tokens judged by their text are only
/// checked, and `None` says one was invalid (see [`crate::engine::analyse`]).
pub(crate) fn analyse_in<'a>(
    sources: &[Source<'a>],
    config: &Config,
    exact: bool,
) -> Result<Option<Program<'a>>, Diagnostic> {
    let nowhere = |kind| Error {
        kind,
        at: Where::Nowhere,
    };
    let inputs = Inputs::new(sources.iter().map(|s| s.text).collect())
        .ok_or_else(|| nowhere(ErrorKind::TooBig).diagnostic(sources))?;
    let total: usize = sources.iter().map(|s| s.text.len()).sum();
    let mut table = Table::with_capacity(if exact { total / 64 + 16 } else { 4096 });
    let mut values: Vec<Option<(u32, u16)>> = Vec::new();
    let mut defined_first = [false; 256];
    let mut ids: Vec<u32> = Vec::with_capacity(total / 32 + 16);
    let mut state = Pass1 {
        table: &mut table,
        inputs: &inputs,
        sources,
        values: &mut values,
        defined_first: &mut defined_first,
        ids: &mut ids,
        arch: config.arch,
        exact,
        any: false,
        gave_up: false,
    };
    let outcome = visit(sources, &mut state);
    let (any, gave_up) = (state.any, state.gave_up);
    match outcome {
        Walk::Done => {}
        Walk::Stopped if gave_up => return Ok(None),
        _ => return Err(walk_error(sources)),
    }
    if !any {
        return Err(nowhere(ErrorKind::NoInput).diagnostic(sources));
    }
    let mut program = Program {
        inputs,
        table,
        values,
        defined_first,
        ids,
        exprs: Vec::new(),
    };
    program.assign(sources, config)?;
    program.exprs = (0..program.table.records.len())
        .map(|id| program.expr_of(id))
        .collect();
    Ok(Some(program))
}

impl<'a> Program<'a> {
    /// The expression of record `id` for pass 2.
    fn expr_of(&self, id: usize) -> Expr<'a> {
        let r = &self.table.records[id];
        if r.state & KIND != K_DEFINE {
            return Expr::ByText;
        }
        let value: &'a [u8] = match self.values[r.payload as usize] {
            Some((start, len)) => self.inputs.bytes(start, len),
            None => b"\n",
        };
        if value.len() <= 16 {
            let mut short = [0u8; 16];
            short[..value.len()].copy_from_slice(value);
            Expr::Short(short, value.len() as u8)
        } else {
            Expr::Long(value)
        }
    }

    fn text(&self, id: usize) -> &[u8] {
        let r = &self.table.records[id];
        self.inputs.bytes(r.start, r.len)
    }

    fn set_kind(&mut self, id: usize, kind: u8) {
        let r = &mut self.table.records[id];
        r.state = (r.state & !KIND) | kind;
    }

    fn kind(&self, id: usize) -> u8 {
        self.table.records[id].state & KIND
    }

    /// Steps A, B and C of the reference, then the invalid-other check.
    fn assign(&mut self, sources: &[Source<'_>], config: &Config) -> Result<(), Diagnostic> {
        let n = self.table.records.len();
        for id in 0..n {
            if matches!(self.text(id).first(), Some(b'"' | b'\'')) {
                self.set_kind(id, K_STRING);
            }
        }
        for id in (0..n).rev() {
            if self.kind(id) != K_NONE || self.text(id).first() == Some(&b'<') {
                continue;
            }
            match number_of(self.text(id), config.arch) {
                Some(Ok(_)) => self.set_kind(id, K_NUMBER),
                Some(Err(range)) => {
                    let text = self.text(id);
                    let kind = ErrorKind::OutOfRange { text, range };
                    let at = Where::FirstOf(text);
                    return Err(Error { kind, at }.diagnostic(sources));
                }
                None => {}
            }
        }
        for id in (0..n).rev() {
            if self.kind(id) != K_NONE {
                continue;
            }
            let text = self.text(id);
            match text[0] {
                b'!' | b'@' | b'$' | b'~' | b'%' | b'&' | b':' | b'^' => self.set_kind(id, K_PASS),
                b'<' => {
                    let n = strtoint(&text[1..]);
                    if n == 0 {
                        self.set_kind(id, K_PASS);
                    } else if !(0..=MAX_PADDING).contains(&n) {
                        let kind = ErrorKind::Padding { text, n };
                        let at = Where::FirstOf(text);
                        return Err(Error { kind, at }.diagnostic(sources));
                    } else {
                        self.set_kind(id, K_PAD);
                    }
                }
                _ => {}
            }
        }
        let unknown = self
            .table
            .records
            .iter()
            .any(|r| r.state & USED != 0 && r.state & KIND == K_NONE);
        if unknown {
            return Err(self.invalid_other(sources, config));
        }
        Ok(())
    }

    #[cold]
    fn invalid_other(&self, sources: &[Source<'_>], config: &Config) -> Diagnostic {
        for item in Expanded::new(sources) {
            let Item::Text(at) = item else { continue };
            let text = at.tok.text(sources[at.file].text);
            let Some(id) = self.table.find(&self.inputs, text) else {
                continue;
            };
            if self.kind(id as usize) == K_NONE {
                let defines: Vec<&[u8]> = (0..self.table.records.len())
                    .filter(|&id| self.kind(id) == K_DEFINE)
                    .map(|id| self.text(id))
                    .collect();
                return Error::unknown_token(at, text, config, &defines).diagnostic(sources);
            }
        }
        let kind = ErrorKind::Internal("an unknown token vanished");
        Error {
            kind,
            at: Where::Nowhere,
        }
        .diagnostic(sources)
    }
}
