//! The M1 engine: token stream, DEFINE expansion, expression assignment and printing.
//!
//! It owns the semantics of spec `hex2-m1.md` 2.2-2.6 over the [`crate::lexer`] tokens:
//! newline collapsing across files, DEFINE's whole-program last-one-wins rule, the three
//! assignment steps (strings, numbers in the reference's newest-first order, pass-through
//! and `<N` padding), the "invalid other" check in token order, and the exact output
//! spacing. It works in two passes over the inputs, which it never copies: pass 1 interns
//! every distinct text ([`crate::intern`]) and records DEFINEs; then every error is found
//! before pass 2 writes a single byte, so a failed run writes nothing. Expressions are not
//! stored (except DEFINE values, which are slices of the input, and pass 1's record number
//! for each token it had to look up): numbers and strings are re-expressed from their
//! text as they are printed. On large inputs pass 2 runs on a second thread while the
//! calling thread writes the blocks it produces. It does not parse command lines.

use std::io::Write;
use std::sync::mpsc::{channel, sync_channel, Receiver, SyncSender};

use toolbase::diag::{Diagnostic, Position};

use crate::intern::{Inputs, Table};
use crate::lexer::{Lexer, Token, TokenKind};
use crate::number::{digits_per_byte, hex_spaced, hex_word, push_byte, push_digits, strtoint};
use crate::walk::{visit, Tok, Visit, Walk, T_NL, T_STR};
use crate::{Arch, Config, DigitStyle, Source};

/// Largest `<N` padding hexroot expands, in bytes (the reference has no limit; no real
/// program pads by more than a few bytes).
pub const MAX_PADDING: i32 = 1 << 24;

// Record kinds, stored in `Record::state` above the USED bit.
const USED: u8 = 1;
const K_NONE: u8 = 0;
const K_DEFINE: u8 = 1 << 1;
const K_STRING: u8 = 2 << 1;
const K_NUMBER: u8 = 3 << 1;
const K_PASS: u8 = 4 << 1;
const K_PAD: u8 = 5 << 1;
const KIND: u8 = 7 << 1;

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
    pub error: Option<Box<Diagnostic>>,
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
            self.error = Some(Box::new(token_error(self.sources, at)));
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
                    self.error = Some(Box::new(missing_value(self.sources, define)));
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

/// The diagnostic for a walk that failed (a bad token or a DEFINE without a value),
/// found again by the located, line-counting token walk.
#[cold]
fn walk_error(sources: &[Source<'_>]) -> Diagnostic {
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
fn missing_value(sources: &[Source<'_>], define: At) -> Diagnostic {
    located(sources, define, "DEFINE without a value".into())
        .expected("DEFINE NAME VALUE")
        .found("the end of the input")
}

/// The first token (atom or string) holding a NUL byte, as an error. The reference keeps
/// token texts as C strings in a scratch buffer it clears only up to the first NUL, so a
/// NUL silently cuts a token and leaves its tail to be glued onto a later one; no real
/// input has one, so M1 refuses it. (A NUL in a comment is harmless.)
#[cold]
fn nul_in_token(sources: &[Source<'_>]) -> Option<Diagnostic> {
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

#[inline]
fn bad_token(tok: &Token) -> bool {
    match tok.kind {
        TokenKind::Str {
            terminated: false, ..
        } => true,
        TokenKind::Atom | TokenKind::Str { .. } => tok.too_long(),
        TokenKind::Newline(_) => false,
    }
}

#[cold]
fn token_error(sources: &[Source<'_>], at: At) -> Diagnostic {
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

/// A number token, ready to print: the value (masked or encoded), its width, and whether
/// it is a RISC-V instruction word (printed with a leading `.`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Num {
    pub value: i32,
    pub bytes: usize,
    pub dot: bool,
}

/// A number out of its sigil's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RangeError {
    pub value: i32,
    pub bytes: usize,
    pub lo: i64,
    pub hi: i64,
}

fn mask(value: i32, bytes: usize) -> i32 {
    if bytes >= 4 {
        value
    } else {
        value & ((1i32 << (8 * bytes)) - 1)
    }
}

fn ranged(value: i32, bytes: usize, lo: i64, hi: i64) -> Result<Num, RangeError> {
    if i64::from(value) < lo || i64::from(value) > hi {
        return Err(RangeError {
            value,
            bytes,
            lo,
            hi,
        });
    }
    Ok(Num {
        value: mask(value, bytes),
        bytes,
        dot: false,
    })
}

/// The common case of [`number_of`], off RISC-V: a sigil and plain decimal digits
/// (`%-42`, `!7`) with a non-zero value, `0`, or `0x` and up to 8 hex digits, in range.
/// `None` means "ask [`number_of`]", not "not a number".
#[inline(always)]
fn quick_number(text: &[u8], arch: Arch) -> Option<Num> {
    if arch.is_riscv() || text.len() < 2 || text.len() > 12 {
        return None;
    }
    let (bytes, lo, hi): (usize, i64, i64) = match text[0] {
        b'!' => (1, -129, 256),
        b'@' => (2, -32769, 32768),
        b'$' => (2, -32769, 65536),
        b'~' => (3, -8_388_609, 8_388_608),
        b'%' | b'&' => (4, i64::MIN, i64::MAX),
        _ => return None,
    };
    let rest = &text[1..];
    if rest[0] == b'0' {
        // `0` and `0x` followed by 1 to 8 hex digits (no `_` or `-`): numbers whatever
        // their value, since the text after the sigil starts with `0`.
        if rest.len() == 1 {
            return ranged(0, bytes, lo, hi).ok();
        }
        if rest[1] != b'x' || rest.len() < 3 || rest.len() > 10 {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &rest[2..] {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => return None,
            };
            n = (n << 4) | u32::from(d);
        }
        return ranged(n as i32, bytes, lo, hi).ok();
    }
    let negative = rest[0] == b'-';
    let digits = if negative { &rest[1..] } else { rest };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut n: u32 = 0;
    for &c in digits {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n.wrapping_mul(10).wrapping_add(u32::from(d));
    }
    let v = if negative {
        (n as i32).wrapping_neg()
    } else {
        n as i32
    };
    if v == 0 {
        return None;
    }
    ranged(v, bytes, lo, hi).ok()
}

/// Step B of the reference for one text: `None` when it is not a number on `arch`.
pub(crate) fn number_of(text: &[u8], arch: Arch) -> Option<Result<Num, RangeError>> {
    let (&first, rest) = text.split_first()?;
    let is_number = |rest: &[u8], v: i32| rest.first() == Some(&b'0') || v != 0;
    if arch.is_riscv() {
        if !matches!(first, b'!' | b'@' | b'$' | b'~' | b'%') {
            return None;
        }
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return None;
        }
        let word = |w: u32| {
            Some(Ok(Num {
                value: w as i32,
                bytes: 4,
                dot: true,
            }))
        };
        let u = v as u32;
        return match first {
            b'!' => word((u & 0xFFF) << 20),
            b'@' => word(((u & 0x1F) << 7) | ((u & 0xFE0) << 20)),
            b'~' => {
                let mut w = u & 0xFFFF_F000;
                if u & 0xFFF >= 0x800 {
                    w = w.wrapping_add(0x1000);
                }
                word(w)
            }
            b'$' => Some(Ok(Num {
                value: v & 0xFFFF,
                bytes: 2,
                dot: false,
            })),
            _ => Some(Ok(Num {
                value: v,
                bytes: 4,
                dot: false,
            })),
        };
    }
    let sigil = match first {
        b'!' => Some((1, -129, 256)),
        b'@' => Some((2, -32769, 32768)),
        b'$' => Some((2, -32769, 65536)),
        b'~' => Some((3, -8_388_609, 8_388_608)),
        b'%' | b'&' => Some((4, i64::MIN, i64::MAX)),
        _ => None,
    };
    if let Some((bytes, lo, hi)) = sigil {
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return None;
        }
        return Some(ranged(v, bytes, lo, hi));
    }
    if !arch.is_knight() {
        return None;
    }
    let v = strtoint(text);
    if !is_number(text, v) || v > 65536 {
        return None;
    }
    if v > 32767 {
        Some(ranged(v, 2, -32769, 65536))
    } else {
        Some(ranged(v, 2, -32769, 32768))
    }
}

/// Everything pass 1 learnt, with expressions assigned.
pub(crate) struct Program<'a> {
    inputs: Inputs<'a>,
    table: Table,
    /// DEFINE values: (global start, length), or `None` for a newline token.
    values: Vec<Option<(u32, u16)>>,
    /// First bytes of DEFINE names: only tokens starting with one need a table lookup.
    defined_first: [bool; 256],
    /// The record number of every printed token whose first byte is not in [`FAST_FIRST`],
    /// in token order: pass 2 reads them in turn instead of looking the texts up again.
    ids: Vec<u32>,
    /// The expression of every record, by record number (filled after assignment).
    exprs: Vec<Expr<'a>>,
}

/// The expression of a record, ready for pass 2.
#[derive(Clone, Copy)]
enum Expr<'a> {
    /// A DEFINE value of at most 16 bytes (or a newline), padded with zeros.
    Short([u8; 16], u8),
    /// A longer DEFINE value.
    Long(&'a [u8]),
    /// Not a DEFINE name: expressed from the token's text.
    ByText,
}

/// First bytes of texts that may be expressible from their text alone.
static FAST_FIRST: [bool; 256] = {
    let mut t = [false; 256];
    let chars = *b"!@$~%&:^<\"'";
    let mut i = 0;
    while i < chars.len() {
        t[chars[i] as usize] = true;
        i += 1;
    }
    t
};

/// Whether the byte after a sigil makes the text a label (pass-through) whatever follows:
/// `strtoint` reads 0 from anything not starting with a digit, `-` or `_`, and such a text
/// is not a number on any architecture.
static LABEL_SECOND: [bool; 256] = {
    let mut t = [true; 256];
    let mut c = b'0';
    while c <= b'9' {
        t[c as usize] = false;
        c += 1;
    }
    t[b'-' as usize] = false;
    t[b'_' as usize] = false;
    t
};

/// Whether `text` is valid and its expression follows from the text alone: a string, an
/// in-range number, a pass-through or a `<N` padding within limits.
///
/// Every text starting with `%` or `&` is valid: a 4-byte number takes any value, and a
/// text that is not a number passes through.
#[inline(always)]
fn by_text(text: &[u8], arch: Arch) -> bool {
    match text[0] {
        b'"' | b'\'' | b':' | b'^' | b'%' | b'&' => return true,
        b'!' | b'@' | b'$' | b'~' => match text.get(1) {
            None => return true,
            Some(&c) if LABEL_SECOND[usize::from(c)] => return true,
            _ => {
                if quick_number(text, arch).is_some() {
                    return true;
                }
            }
        },
        _ => {}
    }
    by_text_slow(text, arch)
}

#[inline(never)]
fn by_text_slow(text: &[u8], arch: Arch) -> bool {
    if quick_number(text, arch).is_some() {
        return true;
    }
    match text[0] {
        b'"' | b'\'' => true,
        b'<' => {
            let n = strtoint(&text[1..]);
            (0..=MAX_PADDING).contains(&n)
        }
        first => match number_of(text, arch) {
            Some(r) => r.is_ok(),
            None => matches!(first, b'!' | b'@' | b'$' | b'~' | b'%' | b'&' | b':' | b'^'),
        },
    }
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
    /// Intern every text (see [`analyse`]).
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

/// Pass 1 and expression assignment; every error of the program is found here.
///
/// Tokens whose expression follows from their text alone (strings, valid numbers,
/// pass-through, `<N`) are not interned, unless they are DEFINE names or values: only
/// their validity matters, and it is checked on the spot. If one is invalid, the analysis
/// restarts in `exact` mode, which interns every text so that the error reported is the one
/// the reference's newest-first order picks (and a later DEFINE of that text can rescue it).
pub(crate) fn analyse<'a>(
    sources: &[Source<'a>],
    config: &Config,
) -> Result<Program<'a>, Diagnostic> {
    if let Some(d) = nul_in_token(sources) {
        return Err(d);
    }
    match analyse_in(sources, config, false)? {
        Some(p) => Ok(p),
        None => analyse_in(sources, config, true).map(|p| p.expect("exact mode completes")),
    }
}

fn analyse_in<'a>(
    sources: &[Source<'a>],
    config: &Config,
    exact: bool,
) -> Result<Option<Program<'a>>, Diagnostic> {
    let inputs = Inputs::new(sources.iter().map(|s| s.text).collect())
        .ok_or_else(|| Diagnostic::new("the inputs together exceed 4 GiB, M1's limit"))?;
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
        return Err(Diagnostic::new("no input: the input files hold no tokens")
            .expected("M1 source files given with -f")
            .found("nothing but blank lines and comments, or no files"));
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
                Some(Err(e)) => return Err(range_error(sources, self.text(id), e)),
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
                        return Err(padding_error(sources, text, n));
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
                return self.unknown_token(sources, at, text, config);
            }
        }
        Diagnostic::new("internal error: an unknown token vanished")
    }

    #[cold]
    fn unknown_token(
        &self,
        sources: &[Source<'_>],
        at: At,
        text: &[u8],
        config: &Config,
    ) -> Diagnostic {
        let shown = String::from_utf8_lossy(text);
        let mut d = located(
            sources,
            at,
            format!("unknown token '{}'", shown.escape_debug()),
        );
        let defines: Vec<&[u8]> = (0..self.table.records.len())
            .filter(|&id| self.kind(id) == K_DEFINE)
            .map(|id| self.text(id))
            .collect();
        if let Some(best) = closest(text, &defines) {
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

    /// Pass 2: prints the hex2 text (and the map, when asked for).
    pub fn print(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
        map: Option<(&mut dyn Write, &str)>,
    ) -> std::io::Result<()> {
        match map {
            None => self.print_plain(sources, config, out),
            Some((map, output)) => self.print_mapped(sources, config, out, Some(map), output),
        }
    }

    /// Pass 2 without a map, over the fast walk: the same spacing rules as
    /// [`Program::print_mapped`] (a token is followed by a space unless a newline comes
    /// next; a newline is printed unless another newline follows it), kept as the
    /// separator owed before the next token. On inputs of a megabyte or more, when the
    /// machine has a second core, the walk runs on a second thread and this one writes
    /// the blocks it produces, so writing overlaps the work.
    fn print_plain(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let total: usize = sources.iter().map(|s| s.text.len()).sum();
        if total < 1 << 20 || !second_core() {
            return self.print_blocks(sources, config, Sink::Writer(out));
        }
        let (full_tx, full_rx) = sync_channel::<(Vec<u8>, usize)>(MAX_BLOCKS - 2);
        let (empty_tx, empty_rx) = channel::<Vec<u8>>();
        std::thread::scope(|scope| {
            let worker = std::thread::Builder::new()
                .name("m1-pass2".into())
                .spawn_scoped(scope, move || {
                    let sink = Sink::Channel {
                        full: full_tx,
                        empty: empty_rx,
                        blocks: 1,
                    };
                    self.print_blocks(sources, config, sink)
                });
            let worker = match worker {
                Ok(w) => w,
                // No thread: nothing was sent; do it all here.
                Err(_) => {
                    drop((full_rx, empty_tx));
                    return self.print_blocks(sources, config, Sink::Writer(out));
                }
            };
            let mut written = Ok(());
            for (block, n) in &full_rx {
                if let Err(e) = out.write_all(&block[..n]) {
                    written = Err(e);
                    break;
                }
                let _ = empty_tx.send(block);
            }
            // Unblocks a worker waiting to send or for an empty block.
            drop((full_rx, empty_tx));
            let worked = match worker.join() {
                Ok(r) => r,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            written.and(worked)
        })
    }

    /// Pass 2's walk, its blocks going to `sink`.
    fn print_blocks(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        sink: Sink<'_>,
    ) -> std::io::Result<()> {
        let mut pass = Pass2 {
            program: self,
            config,
            o: OutBuf::new(sink),
            scratch: Vec::new(),
            pend: 0,
            ids: self.ids.iter(),
        };
        visit(sources, &mut pass);
        let mut o = pass.o;
        if pass.pend == b'\n' {
            o.byte(b'\n');
        }
        o.flush();
        match o.err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// The expression of the token `src[start..end]` when pass 1 kept no record number for
    /// it: the common cases (labels, decimal numbers in hex) written directly, the rest
    /// through [`Program::express`].
    #[inline(always)]
    fn express_fast(
        &self,
        src: &[u8],
        start: usize,
        end: usize,
        config: &Config,
        o: &mut OutBuf<'_>,
        scratch: &mut Vec<u8>,
    ) {
        let text = &src[start..end];
        let first = text[0];
        if self.defined_first[usize::from(first)] && first != b'"' && first != b'\'' {
            if let Some(id) = self.table.find(&self.inputs, text) {
                if let e @ (Expr::Short(..) | Expr::Long(_)) = self.exprs[id as usize] {
                    match e {
                        Expr::Short(v, n) => o.fixed(&v, usize::from(n)),
                        Expr::Long(v) => o.bytes(v),
                        Expr::ByText => {}
                    }
                    return;
                }
            }
        }
        match first {
            b'"' if config.digits == DigitStyle::Hex => {
                // Step A in hex: each byte and the closing NUL as `XX `, then knight's
                // padding to a 4-byte boundary.
                let body = &text[1..];
                let len = 3 * (body.len() + 1);
                if let Some(dst) = o.room(len) {
                    hex_spaced(body, dst);
                    dst[len - 3..].copy_from_slice(b"00 ");
                    o.n += len;
                    if config.arch.is_knight() {
                        o.zeros(6 - 2 * (body.len() % 4));
                    }
                    return;
                }
            }
            b'!' | b'@' | b'$' | b'~' | b'%' | b'&' => {
                let label = match text.get(1) {
                    None => true,
                    Some(&c) => LABEL_SECOND[usize::from(c)],
                };
                if label {
                    o.text(src, start, end);
                    return;
                }
                if config.digits == DigitStyle::Hex {
                    if let Some(num) = quick_number(text, config.arch) {
                        let digits = hex_word(num.value, num.bytes, config.endian);
                        o.fixed(&digits, 2 * num.bytes);
                        return;
                    }
                }
            }
            b':' | b'^' => {
                o.text(src, start, end);
                return;
            }
            b'<' => {
                let n = strtoint(&text[1..]);
                if n == 0 {
                    o.bytes(text);
                } else {
                    o.zeros(n.max(0) as usize * digits_per_byte(config.digits));
                }
                return;
            }
            _ => {}
        }
        scratch.clear();
        let mut flushed = 0;
        // Paddings, the only expressions `express` may flush, were handled above.
        let _ = self.express(text, config, scratch, &mut flushed, &mut std::io::sink());
        o.bytes(scratch);
    }

    /// Pass 2 with a map, over the located token walk.
    fn print_mapped(
        &self,
        sources: &[Source<'_>],
        config: &Config,
        out: &mut dyn Write,
        mut map: Option<&mut dyn Write>,
        output: &str,
    ) -> std::io::Result<()> {
        const FLUSH_AT: usize = 1 << 16;
        let mut buf: Vec<u8> = Vec::with_capacity(FLUSH_AT + 8192);
        let mut map_buf: Vec<u8> = Vec::new();
        if map.is_some() {
            map_buf.extend_from_slice(crate::map::header(output).as_bytes());
        }
        let mut flushed: u64 = 0;
        let mut out_line: u64 = 1;
        let mut line_start: u64 = 0;
        // The previous token, waiting to learn whether a newline follows it.
        let mut prev: Option<Option<At>> = None;
        let mut items = Expanded::new(sources).filter_map(|item| match item {
            Item::Newline => Some(None),
            Item::Text(at) => Some(Some(at)),
            Item::Define { .. } => None,
        });
        loop {
            let next = items.next();
            if let Some(p) = prev {
                let next_is_newline = matches!(next, None | Some(None));
                match p {
                    None => {
                        if next.is_none() || !next_is_newline {
                            buf.push(b'\n');
                            if map.is_some() {
                                out_line += 1;
                                line_start = flushed + buf.len() as u64;
                            }
                        }
                    }
                    Some(at) => {
                        let before = buf.len();
                        if map.is_some() {
                            let col = flushed + before as u64 - line_start + 1;
                            map_line(&mut map_buf, out_line, col, sources, at);
                        }
                        let text = at.tok.text(sources[at.file].text);
                        self.express(text, config, &mut buf, &mut flushed, out)?;
                        if !next_is_newline {
                            buf.push(b' ');
                        }
                        if map.is_some() {
                            // Expressions may hold newlines (DEFINE values, '..' strings).
                            let start = before.min(buf.len());
                            for (i, &b) in buf[start..].iter().enumerate() {
                                if b == b'\n' {
                                    out_line += 1;
                                    line_start = flushed + (start + i + 1) as u64;
                                }
                            }
                        }
                    }
                }
                if buf.len() >= FLUSH_AT {
                    out.write_all(&buf)?;
                    flushed += buf.len() as u64;
                    buf.clear();
                }
                if let Some(m) = map.as_mut() {
                    if map_buf.len() >= FLUSH_AT {
                        m.write_all(&map_buf)?;
                        map_buf.clear();
                    }
                }
            }
            match next {
                Some(n) => prev = Some(n),
                None => break,
            }
        }
        out.write_all(&buf)?;
        if let Some(m) = map.as_mut() {
            m.write_all(&map_buf)?;
        }
        Ok(())
    }

    /// Appends the expression of the token `text` to `buf` (long paddings are flushed
    /// through `out`). Pass 1 made sure it has one.
    fn express(
        &self,
        text: &[u8],
        config: &Config,
        buf: &mut Vec<u8>,
        flushed: &mut u64,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let first = text[0];
        if first == b'"' || first == b'\'' {
            express_string(text, config, buf);
            return Ok(());
        }
        if self.defined_first[usize::from(first)] {
            if let Some(id) = self.table.find(&self.inputs, text) {
                let r = &self.table.records[id as usize];
                if r.state & KIND == K_DEFINE {
                    match self.values[r.payload as usize] {
                        Some((start, len)) => buf.extend_from_slice(self.inputs.bytes(start, len)),
                        None => buf.push(b'\n'),
                    }
                    return Ok(());
                }
            }
        }
        if first == b'<' {
            let n = strtoint(&text[1..]);
            if n == 0 {
                buf.extend_from_slice(text);
                return Ok(());
            }
            let mut zeros = n.max(0) as usize * digits_per_byte(config.digits);
            while zeros > 0 {
                let chunk = zeros.min(1 << 16);
                buf.resize(buf.len() + chunk, b'0');
                zeros -= chunk;
                if buf.len() >= 1 << 17 {
                    out.write_all(buf)?;
                    *flushed += buf.len() as u64;
                    buf.clear();
                }
            }
            return Ok(());
        }
        if let Some(num) = quick_number(text, config.arch) {
            push_digits(buf, num.value, num.bytes, config.digits, config.endian);
            return Ok(());
        }
        match number_of(text, config.arch) {
            Some(Ok(num)) => {
                if num.dot {
                    buf.push(b'.');
                }
                push_digits(buf, num.value, num.bytes, config.digits, config.endian);
            }
            _ => buf.extend_from_slice(text),
        }
        Ok(())
    }
}

/// Whether the machine lets this process run two threads at once.
pub(crate) fn second_core() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Pass 2 (without a map) as a walk visitor.
struct Pass2<'p, 'a, 'w> {
    program: &'p Program<'a>,
    config: &'p Config,
    o: OutBuf<'w>,
    scratch: Vec<u8>,
    /// Owed before the next token: nothing at the start, a space after a token, a
    /// newline after a newline (a run of newlines prints one).
    pend: u8,
    ids: std::slice::Iter<'p, u32>,
}

impl Visit for Pass2<'_, '_, '_> {
    #[inline(always)]
    fn newline(&mut self) {
        self.pend = b'\n';
    }

    #[inline(always)]
    fn text(&mut self, _: u32, src: &[u8], start: usize, end: usize, _: u8) -> bool {
        let o = &mut self.o;
        if self.pend != 0 {
            o.byte(self.pend);
        }
        self.pend = b' ';
        let p = self.program;
        let mut by_text = true;
        if !FAST_FIRST[usize::from(src[start])] {
            if let Some(&id) = self.ids.next() {
                match &p.exprs[id as usize] {
                    Expr::Short(v, n) => {
                        o.fixed(v, usize::from(*n));
                        by_text = false;
                    }
                    Expr::Long(v) => {
                        o.bytes(v);
                        by_text = false;
                    }
                    Expr::ByText => {}
                }
            }
        }
        if by_text {
            p.express_fast(src, start, end, self.config, o, &mut self.scratch);
        }
        if o.n >= FLUSH_AT {
            o.flush();
            if o.err.is_some() {
                return false;
            }
        }
        true
    }

    fn define(&mut self, _: Option<Tok>, _: Tok) -> bool {
        true
    }
}

/// Pass 2's output is flushed in blocks of this size.
const FLUSH_AT: usize = 1 << 18;
/// Room past [`FLUSH_AT`] for the fixed-size stores of one token (and any string).
const OUT_CAP: usize = FLUSH_AT + 16 * 1024;
/// Most blocks in use at once when a second thread writes them.
const MAX_BLOCKS: usize = 4;

/// Where pass 2's blocks go.
enum Sink<'w> {
    /// Written here, by this thread.
    Writer(&'w mut dyn Write),
    /// Sent (with their used length) to the thread that writes them, which sends the
    /// empty blocks back.
    Channel {
        full: SyncSender<(Vec<u8>, usize)>,
        empty: Receiver<Vec<u8>>,
        /// Blocks allocated so far.
        blocks: usize,
    },
}

/// Pass 2's output buffer: a block of fixed size with a write index, so that short
/// expressions are stored with fixed-size copies (the bytes past the index are scratch);
/// handed on in blocks of [`FLUSH_AT`] bytes. The first write error is kept and later
/// writes are dropped.
struct OutBuf<'w> {
    buf: Vec<u8>,
    n: usize,
    sink: Sink<'w>,
    err: Option<std::io::Error>,
}

impl<'w> OutBuf<'w> {
    fn new(sink: Sink<'w>) -> Self {
        OutBuf {
            buf: vec![0; OUT_CAP],
            n: 0,
            sink,
            err: None,
        }
    }

    /// Appends the first `len` bytes of `src` (`len <= N`) with one `N`-byte store.
    #[inline(always)]
    fn fixed<const N: usize>(&mut self, src: &[u8; N], len: usize) {
        match self.buf.get_mut(self.n..self.n + N) {
            Some(dst) => {
                dst.copy_from_slice(src);
                self.n += len.min(N);
            }
            None => self.bytes(&src[..len.min(N)]),
        }
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        match self.buf.get_mut(self.n) {
            Some(dst) => {
                *dst = b;
                self.n += 1;
            }
            None => self.bytes(&[b]),
        }
    }

    /// Appends `src[start..end]`, with a 16-byte store when the source has the room.
    #[inline(always)]
    fn text(&mut self, src: &[u8], start: usize, end: usize) {
        if end - start <= 16 {
            if let Some(Ok(w)) = src.get(start..start + 16).map(<&[u8; 16]>::try_from) {
                self.fixed(w, end - start);
                return;
            }
        }
        self.bytes(&src[start..end]);
    }

    #[inline(never)]
    fn bytes(&mut self, mut s: &[u8]) {
        while !s.is_empty() {
            if self.n >= OUT_CAP {
                self.flush();
            }
            let take = s.len().min(OUT_CAP - self.n);
            self.buf[self.n..self.n + take].copy_from_slice(&s[..take]);
            self.n += take;
            s = &s[take..];
        }
    }

    /// The next `len` bytes of the block, flushing it first if they do not fit; `None`
    /// if they never fit. The caller fills them and advances `n`.
    #[inline]
    fn room(&mut self, len: usize) -> Option<&mut [u8]> {
        if self.n + len > OUT_CAP {
            self.flush();
        }
        self.buf.get_mut(self.n..self.n + len)
    }

    /// Appends `count` `0` digits.
    fn zeros(&mut self, mut count: usize) {
        static ZEROS: [u8; 4096] = [b'0'; 4096];
        while count > 0 {
            let chunk = count.min(ZEROS.len());
            self.bytes(&ZEROS[..chunk]);
            count -= chunk;
        }
    }

    #[inline(never)]
    fn flush(&mut self) {
        let n = std::mem::take(&mut self.n);
        if self.err.is_some() {
            return;
        }
        match &mut self.sink {
            Sink::Writer(out) => {
                if let Err(e) = out.write_all(&self.buf[..n]) {
                    self.err = Some(e);
                }
            }
            Sink::Channel {
                full,
                empty,
                blocks,
            } => {
                let block = std::mem::take(&mut self.buf);
                let next = if full.send((block, n)).is_err() {
                    None
                } else if let Ok(b) = empty.try_recv() {
                    Some(b)
                } else if *blocks < MAX_BLOCKS {
                    *blocks += 1;
                    Some(vec![0; OUT_CAP])
                } else {
                    empty.recv().ok()
                };
                match next {
                    Some(b) => self.buf = b,
                    None => {
                        // The writing thread stopped (it holds the write error).
                        self.err = Some(std::io::Error::other("the output writer stopped"));
                        self.buf = vec![0; OUT_CAP];
                    }
                }
            }
        }
    }
}

/// Step A for one string record (the text keeps its opening quote).
pub(crate) fn express_string(text: &[u8], config: &Config, buf: &mut Vec<u8>) {
    let (quote, body) = (text[0], &text[1..]);
    if quote == b'\'' {
        buf.extend_from_slice(body);
        return;
    }
    for &b in body.iter().chain(std::iter::once(&0u8)) {
        push_byte(buf, b, config.digits);
        buf.push(b' ');
    }
    if config.arch.is_knight() && config.digits == DigitStyle::Hex {
        let pad = 6 - 2 * (body.len() % 4);
        buf.resize(buf.len() + pad, b'0');
    }
}

fn map_line(map: &mut Vec<u8>, out_line: u64, out_col: u64, sources: &[Source<'_>], at: At) {
    let src = sources[at.file].text;
    let mut end = at.tok.end;
    if let TokenKind::Str {
        terminated: true, ..
    } = at.tok.kind
    {
        end += 1;
    }
    crate::map::write_entry(
        map,
        (out_line, out_col),
        (
            sources[at.file].name,
            u64::from(at.tok.line),
            u64::from(at.tok.col),
        ),
        &src[at.tok.start..end],
    );
}

/// Where `text` first occurs as a token (for errors about records).
#[cold]
fn locate(sources: &[Source<'_>], text: &[u8]) -> Option<At> {
    Collapsed::new(sources).find(|at| {
        !matches!(at.tok.kind, TokenKind::Newline(_)) && at.tok.text(sources[at.file].text) == text
    })
}

#[cold]
fn range_error(sources: &[Source<'_>], text: &[u8], e: RangeError) -> Diagnostic {
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
fn padding_error(sources: &[Source<'_>], text: &[u8], n: i32) -> Diagnostic {
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
    use crate::Endian;

    #[test]
    fn edit_distance_and_closest() {
        assert_eq!(edit_distance(b"kitten", b"sitting"), 3);
        let names: Vec<&[u8]> = vec![b"mov_eax,", b"mov_ebx,", b"ret"];
        assert_eq!(closest(b"mov_eaxx", &names), Some(&b"mov_eax,"[..]));
        assert_eq!(closest(b"zzz", &names), None);
    }

    #[test]
    fn numbers_by_architecture() {
        assert_eq!(
            number_of(b"!256", Arch::X86),
            Some(Ok(Num {
                value: 0,
                bytes: 1,
                dot: false
            }))
        );
        assert!(matches!(number_of(b"!257", Arch::X86), Some(Err(_))));
        assert_eq!(number_of(b"90", Arch::X86), None);
        assert!(number_of(b"16", Arch::KnightNative).is_some());
        for t in [
            "!1",
            "!256",
            "!257",
            "!-129",
            "!-130",
            "@32768",
            "$65536",
            "~-8388609",
            "%-5",
            "&42",
            "%4294967296",
            "%99999999999",
            "!1a",
            "!-",
            "%0",
            "%012",
            "%1_0",
            "%-0",
            "!0",
            "%0",
            "&0x10",
            "&0xFFFFFFFF",
            "&0x1ffffffff",
            "%0x_1",
            "!0x100",
            "!0xff",
            "@0x8000",
            "$0xFfFf",
            "%0x",
            "%0xg",
            "%0X1",
            "%00",
            "~0x-1",
        ] {
            for arch in [Arch::X86, Arch::KnightNative, Arch::Riscv64] {
                if let Some(q) = quick_number(t.as_bytes(), arch) {
                    assert_eq!(number_of(t.as_bytes(), arch), Some(Ok(q)), "{t}");
                }
            }
        }
        assert_eq!(number_of(b"&42", Arch::Riscv32), None);
        assert_eq!(
            number_of(b"@-1", Arch::Riscv32).unwrap().unwrap().value as u32,
            0xFE00_0F80
        );
    }

    fn run(src: &[u8], config: &Config, exact: bool) -> Result<Vec<u8>, String> {
        let sources = [Source {
            name: "t",
            text: src,
        }];
        let p = analyse_in(&sources, config, exact).map_err(|e| e.to_string())?;
        let Some(p) = p else {
            return Err("fast path gave up".into());
        };
        let mut out = Vec::new();
        p.print(&sources, config, &mut out, None).unwrap();
        // The plain printer (fast walk) and the mapped one (located walk) agree.
        let (mut mapped, mut map) = (Vec::new(), Vec::new());
        p.print(&sources, config, &mut mapped, Some((&mut map, "t.hex2")))
            .unwrap();
        assert_eq!(out, mapped, "{:?}", String::from_utf8_lossy(src));
        Ok(out)
    }

    /// On a large input, pass 2 with its writing thread gives the one-thread output, and a
    /// failing writer stops it with the writer's error (no hang).
    #[test]
    fn threaded_pass2_agrees_and_stops_on_write_errors() {
        let mut src = String::from("DEFINE op_a 0F0B\nDEFINE long 0123456789ABCDEF0123456789\n");
        for i in 0..60_000 {
            src.push_str(&format!(
                ":l{i} op_a %{i} !{} long \"s{i}\" &l{i} <2 ; c\n",
                i % 100
            ));
        }
        assert!(src.len() > 1 << 20);
        let sources = [Source {
            name: "big",
            text: src.as_bytes(),
        }];
        let config = Config {
            arch: Arch::X86,
            endian: Endian::Little,
            digits: DigitStyle::Hex,
        };
        let p = analyse(&sources, &config).unwrap();
        let mut threaded = Vec::new();
        p.print(&sources, &config, &mut threaded, None).unwrap();
        let mut single = Vec::new();
        p.print_blocks(&sources, &config, Sink::Writer(&mut single))
            .unwrap();
        assert!(threaded == single, "outputs differ");

        struct Failing(usize);
        impl Write for Failing {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for room in [0, 1 << 20] {
            let e = p
                .print(&sources, &config, &mut Failing(room), None)
                .unwrap_err();
            assert_eq!(e.to_string(), "disk full");
        }
    }

    /// The fast path (tokens judged by their text) agrees with the exact, fully interned
    /// analysis whenever it completes, and gives up exactly when there is an error to find.
    #[test]
    fn fast_path_agrees_with_exact_analysis() {
        let vocab: &[&str] = &[
            "DEFINE",
            "x",
            "y",
            "!1",
            "!300",
            "@-1",
            "$70000",
            "%9",
            "&0x10",
            ":l",
            "&l",
            "<2",
            "<-1",
            "<0",
            "\"ab\"",
            "'cd'",
            "16",
            "70000",
            "90",
            "\n",
            "\n",
            " ",
            "!0abc",
            "~5",
            "^~l",
            "# c\n",
            "DEFINE !300 FF\n",
            "DEFINE y 0123456789ABCDEF0123\n",
            ":a_rather_long_label_name",
            "%-_5",
            "!_1",
            "%",
            "$0x_7f",
            "<1",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..3000 {
            let mut src = String::new();
            for _ in 0..(round % 17) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                src.push_str(vocab[(x % vocab.len() as u64) as usize]);
                src.push(' ');
            }
            for arch in [Arch::KnightNative, Arch::X86, Arch::Riscv64] {
                let config = Config {
                    arch,
                    endian: if round % 2 == 0 {
                        Endian::Little
                    } else {
                        Endian::Big
                    },
                    digits: match round % 5 {
                        3 => DigitStyle::Octal,
                        4 => DigitStyle::Binary,
                        _ => DigitStyle::Hex,
                    },
                };
                let exact = run(src.as_bytes(), &config, true);
                match run(src.as_bytes(), &config, false) {
                    Err(e) if e == "fast path gave up" => {}
                    fast => assert_eq!(fast, exact, "{src:?} on {arch:?}"),
                }
                assert_eq!(
                    crate::assemble(
                        &[Source {
                            name: "t",
                            text: src.as_bytes()
                        }],
                        &config
                    )
                    .map_err(|e| e.to_string()),
                    exact,
                    "{src:?}"
                );
            }
        }
    }
}
