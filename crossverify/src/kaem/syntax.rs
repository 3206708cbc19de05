//! The kaem lexer and parser: a pure function from a script's bytes to its commands.
//!
//! This module owns the surface syntax of both kaem dialects - the minimal kaem of the
//! seeds (`kaem-optional-seed`, `kaem-0`) and the full mescc-tools kaem - and nothing else:
//! it never looks at variables, the environment or the filesystem. A script becomes a list
//! of [`Command`]s, each a list of [`Word`]s, each a list of [`Part`]s (literal text or a
//! variable reference, each marked quoted or not), so that expansion can later split
//! unquoted variable values into words exactly as kaem does (expansion happens before
//! word splitting). Every command and word keeps the byte offset where it starts, and a
//! malformed script gives a [`ParseError`] at the offending byte.
//!
//! Syntax (full dialect):
//! - commands end at an unescaped newline outside quotes; words are separated by spaces
//!   and tabs;
//! - `#` at the start of a word starts a comment that runs to the end of the line;
//! - `\` followed by a newline continues the command on the next line; `\` followed by any
//!   other byte makes that byte literal (also inside `"..."`);
//! - `"..."` is one word part, spaces and newlines included, with `${...}` expanded inside;
//! - `${NAME}` and `${NAME:-TEXT}` (TEXT may itself hold quotes and `${...}`); a `$` not
//!   followed by `{` is literal.
//!
//! Minimal dialect (kaem-0): spaces/tabs separate words, newlines end commands, `#` at the
//! start of a word comments out the rest of the line, `\` drops the byte after it (so a
//! backslash-newline continues the command), and `"..."` groups spaces into one word on
//! the arches that have strings (x86, amd64, aarch64) and is ordinary text on riscv. There
//! are no variables.

/// Which kaem reads the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The seeds' minimal kaem (`kaem-optional-seed`, `kaem-0`); `strings` is false on
    /// riscv32 and riscv64, whose minimal kaem has no `"..."` grouping.
    Minimal {
        /// Whether `"..."` groups spaces into one word.
        strings: bool,
    },
    /// mescc-tools kaem.
    Full,
}

/// One piece of a word.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal bytes; `quoted` when they came from inside `"..."` (an empty quoted part
    /// still makes a word).
    Text {
        /// The bytes, escapes already resolved.
        bytes: Vec<u8>,
        /// Whether they were inside double quotes.
        quoted: bool,
    },
    /// `${NAME}` or `${NAME:-DEFAULT}`.
    Var {
        /// The variable's name.
        name: Vec<u8>,
        /// The text used when the variable is unset or empty (`:-`), if given.
        default: Option<Vec<Part>>,
        /// Whether the reference was inside double quotes (then its value is not split).
        quoted: bool,
        /// Byte offset of the `$` in the script.
        offset: usize,
    },
}

/// One word of a command, before expansion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the word's first byte in the script.
    pub offset: usize,
    /// Its pieces, in order.
    pub parts: Vec<Part>,
}

impl Word {
    /// The word's text if it is plain literal text (no variable), quoted or not.
    pub fn literal(&self) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for p in &self.parts {
            match p {
                Part::Text { bytes, .. } => out.extend_from_slice(bytes),
                Part::Var { .. } => return None,
            }
        }
        Some(out)
    }
}

/// One command line of a script (continuations joined).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    /// Byte offset of the command's first word.
    pub offset: usize,
    /// Its words, in order; never empty.
    pub words: Vec<Word>,
}

/// What is wrong with a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseErrorKind {
    /// A `"` without its closing `"`.
    UnterminatedString,
    /// A `${` without its closing `}`.
    UnterminatedVariable,
    /// `${}` or a name with a byte that cannot be in a variable name.
    BadVariableName {
        /// The offending byte, or `None` for an empty name.
        found: Option<u8>,
    },
    /// A `\` as the very last byte of the script.
    TrailingBackslash,
}

/// A located syntax error; `offset` is a byte offset into the script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Where the problem is.
    pub offset: usize,
    /// What it is.
    pub kind: ParseErrorKind,
}

impl ParseError {
    /// The error as a located diagnostic for the script `file` whose bytes are `source`.
    #[cold]
    pub fn to_diagnostic(&self, file: &str, source: &[u8]) -> toolbase::diag::Diagnostic {
        use toolbase::diag::{describe_byte, Diagnostic};
        let d = Diagnostic::new(match &self.kind {
            ParseErrorKind::UnterminatedString => "unterminated string",
            ParseErrorKind::UnterminatedVariable => "unterminated variable reference",
            ParseErrorKind::BadVariableName { .. } => "bad variable name",
            ParseErrorKind::TrailingBackslash => "backslash at the end of the script",
        })
        .in_file(file)
        .at_offset_in(source, self.offset);
        match &self.kind {
            ParseErrorKind::UnterminatedString => d
                .expected("a closing '\"'")
                .found("the end of the script")
                .hint("close the string opened here, or escape the quote as \\\""),
            ParseErrorKind::UnterminatedVariable => d
                .expected("'}' closing '${'")
                .found("the end of the line")
                .hint("write ${NAME} or ${NAME:-default}"),
            ParseErrorKind::BadVariableName { found } => d
                .expected("a variable name of letters, digits and '_'")
                .found(match found {
                    Some(b) => describe_byte(*b),
                    None => "an empty name".to_string(),
                }),
            ParseErrorKind::TrailingBackslash => d
                .expected("a byte to escape after '\\'")
                .found("the end of the script"),
        }
    }
}

/// A byte cursor over the script.
struct Cursor<'a> {
    src: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn first(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }
    fn second(&self) -> Option<u8> {
        self.src.get(self.pos + 1).copied()
    }
    fn bump(&mut self) -> Option<u8> {
        let b = self.first()?;
        self.pos += 1;
        Some(b)
    }
    fn skip_comment(&mut self) {
        while let Some(b) = self.first() {
            if b == b'\n' {
                break;
            }
            self.pos += 1;
        }
    }
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Whether `b` may appear in a variable name.
pub fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses a whole script.
pub fn parse(src: &[u8], dialect: Dialect) -> Result<Vec<Command>, ParseError> {
    let mut c = Cursor { src, pos: 0 };
    let mut commands = Vec::new();
    let mut words: Vec<Word> = Vec::new();
    loop {
        match c.first() {
            None => break,
            Some(b'\n') => {
                c.pos += 1;
                finish(&mut commands, &mut words);
            }
            Some(b) if is_blank(b) => c.pos += 1,
            Some(b'\\') if c.second() == Some(b'\n') => c.pos += 2,
            Some(b'#') => c.skip_comment(),
            Some(_) => {
                let w = match dialect {
                    Dialect::Minimal { strings } => minimal_word(&mut c, strings)?,
                    Dialect::Full => full_word(&mut c)?,
                };
                // A word of nothing but escaped-away bytes (minimal dialect) is no word.
                if !w.parts.is_empty() {
                    words.push(w);
                }
            }
        }
    }
    finish(&mut commands, &mut words);
    Ok(commands)
}

fn finish(commands: &mut Vec<Command>, words: &mut Vec<Word>) {
    if let Some(first) = words.first() {
        commands.push(Command {
            offset: first.offset,
            words: std::mem::take(words),
        });
    }
}

fn push_text(parts: &mut Vec<Part>, b: u8, quoted: bool) {
    if let Some(Part::Text { bytes, quoted: q }) = parts.last_mut() {
        if *q == quoted {
            bytes.push(b);
            return;
        }
    }
    parts.push(Part::Text {
        bytes: vec![b],
        quoted,
    });
}

fn minimal_word(c: &mut Cursor, strings: bool) -> Result<Word, ParseError> {
    let offset = c.pos;
    let mut parts = Vec::new();
    while let Some(b) = c.first() {
        match b {
            b' ' | b'\t' | b'\n' => break,
            b'\\' => {
                c.pos += 1;
                if c.bump().is_none() {
                    return Err(ParseError {
                        offset: c.pos - 1,
                        kind: ParseErrorKind::TrailingBackslash,
                    });
                }
            }
            b'"' if strings => {
                let start = c.pos;
                c.pos += 1;
                parts.push(Part::Text {
                    bytes: Vec::new(),
                    quoted: true,
                });
                loop {
                    match c.bump() {
                        None => {
                            return Err(ParseError {
                                offset: start,
                                kind: ParseErrorKind::UnterminatedString,
                            })
                        }
                        Some(b'"') => break,
                        Some(b'\\') => {
                            if c.bump().is_none() {
                                return Err(ParseError {
                                    offset: start,
                                    kind: ParseErrorKind::UnterminatedString,
                                });
                            }
                        }
                        Some(x) => push_text(&mut parts, x, true),
                    }
                }
            }
            _ => {
                c.pos += 1;
                push_text(&mut parts, b, false);
            }
        }
    }
    Ok(Word { offset, parts })
}

fn full_word(c: &mut Cursor) -> Result<Word, ParseError> {
    let offset = c.pos;
    let mut parts = Vec::new();
    while let Some(b) = c.first() {
        match b {
            b' ' | b'\t' | b'\n' => break,
            b'\\' => match c.second() {
                Some(b'\n') => c.pos += 2,
                Some(x) => {
                    c.pos += 2;
                    push_text(&mut parts, x, false);
                }
                None => {
                    return Err(ParseError {
                        offset: c.pos,
                        kind: ParseErrorKind::TrailingBackslash,
                    })
                }
            },
            b'"' => string(c, &mut parts)?,
            b'$' if c.second() == Some(b'{') => {
                let v = variable(c, false)?;
                parts.push(v);
            }
            _ => {
                c.pos += 1;
                push_text(&mut parts, b, false);
            }
        }
    }
    Ok(Word { offset, parts })
}

/// A `"..."` at the cursor, appended to `parts`.
fn string(c: &mut Cursor, parts: &mut Vec<Part>) -> Result<(), ParseError> {
    let start = c.pos;
    c.pos += 1;
    parts.push(Part::Text {
        bytes: Vec::new(),
        quoted: true,
    });
    loop {
        match c.first() {
            None => {
                return Err(ParseError {
                    offset: start,
                    kind: ParseErrorKind::UnterminatedString,
                })
            }
            Some(b'"') => {
                c.pos += 1;
                return Ok(());
            }
            Some(b'\\') => {
                c.pos += 1;
                match c.bump() {
                    None => {
                        return Err(ParseError {
                            offset: start,
                            kind: ParseErrorKind::UnterminatedString,
                        })
                    }
                    Some(x) => push_text(parts, x, true),
                }
            }
            Some(b'$') if c.second() == Some(b'{') => {
                let v = variable(c, true)?;
                parts.push(v);
            }
            Some(x) => {
                c.pos += 1;
                push_text(parts, x, true);
            }
        }
    }
}

/// A `${NAME}` or `${NAME:-DEFAULT}` at the cursor.
fn variable(c: &mut Cursor, quoted: bool) -> Result<Part, ParseError> {
    let start = c.pos;
    c.pos += 2;
    let name_start = c.pos;
    while c.first().is_some_and(is_name_byte) {
        c.pos += 1;
    }
    let name = c.src[name_start..c.pos].to_vec();
    let unterminated = ParseError {
        offset: start,
        kind: ParseErrorKind::UnterminatedVariable,
    };
    let default = match c.first() {
        Some(b'}') if !name.is_empty() => {
            c.pos += 1;
            None
        }
        Some(b':') if !name.is_empty() && c.second() == Some(b'-') => {
            c.pos += 2;
            let mut parts = Vec::new();
            loop {
                match c.first() {
                    None | Some(b'\n') => return Err(unterminated),
                    Some(b'}') => {
                        c.pos += 1;
                        break;
                    }
                    Some(b'\\') => match c.second() {
                        None | Some(b'\n') => return Err(unterminated),
                        Some(x) => {
                            c.pos += 2;
                            push_text(&mut parts, x, quoted);
                        }
                    },
                    Some(b'"') if !quoted => string(c, &mut parts)?,
                    Some(b'$') if c.second() == Some(b'{') => {
                        let v = variable(c, quoted)?;
                        parts.push(v);
                    }
                    Some(x) => {
                        c.pos += 1;
                        push_text(&mut parts, x, quoted);
                    }
                }
            }
            Some(parts)
        }
        None | Some(b'\n') if !name.is_empty() => return Err(unterminated),
        found => {
            return Err(ParseError {
                offset: c.pos,
                kind: ParseErrorKind::BadVariableName {
                    found: if name.is_empty() && found == Some(b'}') {
                        None
                    } else {
                        found
                    },
                },
            })
        }
    };
    Ok(Part::Var {
        name,
        default,
        quoted,
        offset: start,
    })
}
