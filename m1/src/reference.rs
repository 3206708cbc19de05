//! The reference semantics of M1 (mescc-tools 1.7.0): a deliberately plain macro
//! assembler that follows `spec/hex2-m1.md` §2 paragraph by paragraph (tokenizer §2.2,
//! DEFINE §2.3, expression assignment in steps A, B and C §2.4, printing §2.6) and names
//! its rules as the spec does, for readers and for the property tests that check the engine
//! ([`crate::assemble`], two threads on large inputs through the tool) against it.
//!
//! It is not optimised (owned token texts, a `HashMap` of records) and it reports errors as
//! a plain [`Error`] without locations; the engine's diagnostics are the user-facing ones.
//!
//! ```
//! use m1::{reference, Arch, Config, Endian, Source};
//! let config = Config { arch: Arch::X86, endian: Endian::Little, ..Default::default() };
//! let src = Source { name: "a.M1", text: b"DEFINE NOP 90\n:a NOP %1\n" };
//! assert_eq!(reference::assemble(&[src], &config).unwrap(), b"\n:a 90 01000000\n");
//! ```

use std::collections::HashMap;

use crate::config::{Config, DigitStyle, Endian};
use crate::number::strtoint;
use crate::source::Source;

/// Why a reference run failed (spec §2.7, without the reference's exact text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// Nothing was tokenized.
    Empty,
    /// `Unmatched "!`: a string without its closing quote.
    Unmatched,
    /// A string of 4095 or more content bytes.
    StringTooLong,
    /// An atom of 4096 or more bytes.
    AtomTooLong,
    /// `Macro value must exist`.
    MacroValueMissing,
    /// `A displacement of V does not fit in N bytes`.
    OutOfRange(Vec<u8>),
    /// `negative null padding not possible`.
    NegativePadding,
    /// `Received invalid other; TEXT`.
    InvalidOther(Vec<u8>),
}

/// A token of §2.2.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Newline,
    /// An atom's text.
    Atom(Vec<u8>),
    /// A string's text with its opening quote (the record key), no closing quote.
    Str(Vec<u8>),
}

impl Token {
    /// The record key: the text of an atom or string (newlines have none).
    fn text(&self) -> Option<&[u8]> {
        match self {
            Token::Newline => None,
            Token::Atom(t) | Token::Str(t) => Some(t),
        }
    }
}

/// Assembles `sources` as mescc-tools M1 would, returning the hex2 text.
pub fn assemble(sources: &[Source<'_>], config: &Config) -> Result<Vec<u8>, Error> {
    let mut tokens = Vec::new();
    for source in sources {
        tokenize(source.text, &mut tokens)?;
    }
    if tokens.is_empty() {
        return Err(Error::Empty);
    }
    let (items, records, defines) = expand_defines(&tokens)?;
    let expressions = assign_expressions(&records, &defines, config)?;
    print(&items, &expressions)
}

/// §2.2: appends one file's tokens; a newline only if the list does not already end in one.
fn tokenize(text: &[u8], tokens: &mut Vec<Token>) -> Result<(), Error> {
    fn newline(tokens: &mut Vec<Token>) {
        if tokens.last().is_some_and(|t| *t != Token::Newline) {
            tokens.push(Token::Newline);
        }
    }
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b' ' | b'\t' => i += 1,
            b'\n' => {
                newline(tokens);
                i += 1;
            }
            b'#' | b';' => {
                // Through the next `\n` or `\r` (or the end), then a newline.
                i = text[i..]
                    .iter()
                    .position(|&b| b == b'\n' || b == b'\r')
                    .map_or(text.len(), |n| i + n + 1);
                newline(tokens);
            }
            quote @ (b'"' | b'\'') => {
                let close = text[i + 1..]
                    .iter()
                    .position(|&b| b == quote)
                    .ok_or(Error::Unmatched)?;
                if close >= 4095 {
                    return Err(Error::StringTooLong);
                }
                tokens.push(Token::Str(text[i..i + 1 + close].to_vec()));
                i += close + 2;
            }
            _ => {
                let end = text[i..]
                    .iter()
                    .position(|&b| matches!(b, b' ' | b'\t' | b'\n'))
                    .map_or(text.len(), |n| i + n);
                if end - i >= 4096 {
                    return Err(Error::AtomTooLong);
                }
                tokens.push(Token::Atom(text[i..end].to_vec()));
                i = end;
            }
        }
    }
    newline(tokens);
    Ok(())
}

/// Record keys in first-seen order, and each DEFINE name's value (raw text; `\n` for a
/// newline token).
type Records = Vec<Vec<u8>>;
type Defines = HashMap<Vec<u8>, Vec<u8>>;

/// §2.3: the DEFINE walk. `DEFINE NAME VALUE` becomes a newline; NAME's record gets
/// VALUE's raw text (the last DEFINE wins); every text met becomes a record.
fn expand_defines(tokens: &[Token]) -> Result<(Vec<Token>, Records, Defines), Error> {
    let mut items = Vec::new();
    let mut records: Records = Vec::new();
    let mut seen: HashMap<Vec<u8>, ()> = HashMap::new();
    let mut defines = Defines::new();
    let mut record = |t: &Token, records: &mut Records| {
        if let Some(text) = t.text() {
            if seen.insert(text.to_vec(), ()).is_none() {
                records.push(text.to_vec());
            }
        }
    };
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        if *t == Token::Atom(b"DEFINE".to_vec()) {
            record(t, &mut records);
            let (Some(name), Some(value)) = (tokens.get(i + 1), tokens.get(i + 2)) else {
                return Err(Error::MacroValueMissing);
            };
            record(name, &mut records);
            record(value, &mut records);
            let raw = match value {
                Token::Newline => b"\n".to_vec(),
                Token::Atom(v) => v.clone(),
                Token::Str(v) => v[1..].to_vec(),
            };
            if let Some(name) = name.text() {
                defines.insert(name.to_vec(), raw);
            }
            items.push(Token::Newline);
            i += 3;
        } else {
            record(t, &mut records);
            items.push(t.clone());
            i += 1;
        }
    }
    Ok((items, records, defines))
}

/// §2.4: an expression for every record, or the first error of steps B and C.
fn assign_expressions(
    records: &Records,
    defines: &Defines,
    config: &Config,
) -> Result<HashMap<Vec<u8>, Vec<u8>>, Error> {
    let mut expressions = HashMap::new();
    // Step A: strings (overwriting a DEFINE of a string-named record).
    for text in records {
        match text[0] {
            b'\'' => drop(expressions.insert(text.clone(), text[1..].to_vec())),
            b'"' => drop(expressions.insert(text.clone(), double_quoted(&text[1..], config))),
            _ => {}
        }
    }
    for (name, value) in defines {
        expressions
            .entry(name.clone())
            .or_insert_with(|| value.clone());
    }
    // Step B: numbers, visiting the most recently first-seen text first.
    for text in records.iter().rev() {
        if expressions.contains_key(text) || text[0] == b'<' {
            continue;
        }
        if let Some(expr) = number(text, config)? {
            expressions.insert(text.clone(), expr);
        }
    }
    // Step C: pass-through and padding.
    for text in records {
        if expressions.contains_key(text) {
            continue;
        }
        if matches!(
            text[0],
            b'!' | b'@' | b'$' | b'~' | b'%' | b'&' | b':' | b'^'
        ) {
            expressions.insert(text.clone(), text.clone());
        } else if text[0] == b'<' {
            let n = strtoint(&text[1..]);
            if n < 0 {
                return Err(Error::NegativePadding);
            }
            let expr = if n == 0 {
                text.clone()
            } else {
                vec![b'0'; n as usize * digits_per_byte(config.digits)]
            };
            expressions.insert(text.clone(), expr);
        }
    }
    Ok(expressions)
}

/// Step A for `"text"`: every byte and a NUL as digits plus a space; on knight in hex
/// mode, zero digits up to a multiple of four bytes.
fn double_quoted(body: &[u8], config: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    for &b in body.iter().chain([0u8].iter()) {
        out.extend(digits(i32::from(b), 1, config.digits, Endian::Big));
        out.push(b' ');
    }
    if config.arch.is_knight() && config.digits == DigitStyle::Hex {
        out.extend(std::iter::repeat_n(b'0', 6 - 2 * (body.len() % 4)));
    }
    out
}

fn digits_per_byte(style: DigitStyle) -> usize {
    match style {
        DigitStyle::Hex => 2,
        DigitStyle::Octal => 3,
        DigitStyle::Binary => 8,
    }
}

/// `bytes` bytes of `value` as digits, most significant first (octal: of the whole value,
/// shifting arithmetically), then the byte groups reversed for little endian (§2.6).
fn digits(value: i32, bytes: usize, style: DigitStyle, endian: Endian) -> Vec<u8> {
    let (per, shift, mask) = match style {
        DigitStyle::Hex => (2, 4, 0xF),
        DigitStyle::Octal => (3, 3, 0x7),
        DigitStyle::Binary => (8, 1, 0x1),
    };
    let v = i64::from(value);
    let all: Vec<u8> = (0..per * bytes)
        .rev()
        .map(|i| b"0123456789ABCDEF"[((v >> (shift * i)) & mask) as usize])
        .collect();
    let mut groups: Vec<&[u8]> = all.chunks(per).collect();
    if endian == Endian::Little {
        groups.reverse();
    }
    groups.concat()
}

/// Whether a sigil's text is a number: its digits start with `0` or its value is not 0.
fn is_number(rest: &[u8], v: i32) -> bool {
    rest.first() == Some(&b'0') || v != 0
}

/// `value` masked to `bytes` bytes, in range `lo..=hi` (checked before masking).
fn fixed(
    text: &[u8],
    value: i32,
    bytes: usize,
    lo: i64,
    hi: i64,
    config: &Config,
) -> Result<Vec<u8>, Error> {
    if !(lo..=hi).contains(&i64::from(value)) {
        return Err(Error::OutOfRange(text.to_vec()));
    }
    let masked = if bytes == 4 {
        value
    } else {
        value & ((1 << (8 * bytes)) - 1)
    };
    Ok(digits(masked, bytes, config.digits, config.endian))
}

/// Step B for one record: its expression if it is a number on the architecture.
fn number(text: &[u8], config: &Config) -> Result<Option<Vec<u8>>, Error> {
    let (first, rest) = (text[0], &text[1..]);
    if config.arch.is_riscv() {
        if !matches!(first, b'!' | b'@' | b'$' | b'~' | b'%') {
            return Ok(None);
        }
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return Ok(None);
        }
        let u = v as u32;
        let word = |w: u32| {
            let mut e = vec![b'.'];
            e.extend(digits(w as i32, 4, config.digits, config.endian));
            Some(e)
        };
        return Ok(match first {
            b'!' => word((u & 0xFFF) << 20),
            b'@' => word((u & 0x1F) << 7 | (u & 0xFE0) << 20),
            b'~' => {
                word((u & 0xFFFF_F000).wrapping_add(if u & 0xFFF >= 0x800 { 0x1000 } else { 0 }))
            }
            b'$' => Some(digits(v & 0xFFFF, 2, config.digits, config.endian)),
            _ => Some(digits(v, 4, config.digits, config.endian)),
        });
    }
    let width = crate::express::sigil_range(first);
    if let Some((bytes, lo, hi)) = width {
        let v = strtoint(rest);
        if !is_number(rest, v) {
            return Ok(None);
        }
        return fixed(text, v, bytes, lo, hi, config).map(Some);
    }
    // Knight only: bare numbers are two bytes, like `$` above 32767, like `@` otherwise.
    if !config.arch.is_knight() {
        return Ok(None);
    }
    let v = strtoint(text);
    if !is_number(text, v) || v > 65536 {
        return Ok(None);
    }
    let hi = if v > 32767 { 65536 } else { 32768 };
    fixed(text, v, 2, -32769, hi, config).map(Some)
}

/// §2.6: newlines print only before a non-newline or at the end; a token prints its
/// expression and a space unless a newline follows.
fn print(items: &[Token], expressions: &HashMap<Vec<u8>, Vec<u8>>) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let next_is_newline = items.get(i + 1).is_none_or(|t| *t == Token::Newline);
        match item.text() {
            None => {
                if i + 1 == items.len() || items[i + 1] != Token::Newline {
                    out.push(b'\n');
                }
            }
            Some(text) => {
                let expr = expressions
                    .get(text)
                    .ok_or_else(|| Error::InvalidOther(text.to_vec()))?;
                out.extend_from_slice(expr);
                if !next_is_newline {
                    out.push(b' ');
                }
            }
        }
    }
    Ok(out)
}
