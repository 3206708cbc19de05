//! The hex0 language: source bytes in, machine bytes out.
//!
//! Grammar (stage0-posix seed hex0, `spec/seed-tools.md` §1 and `spec/grammar.md` §1 of the repository):
//!
//! ```text
//! source  = { digit | comment | other }
//! digit   = '0'..'9' | 'A'..'F' | 'a'..'f'       (one nibble)
//! comment = ('#' | ';') { any byte but the line end } (line end)
//! other   = any other byte                       (skipped)
//! ```
//!
//! Nibbles pair up in order, wherever they are (`1 2` and `1#x\n2` are both the byte 0x12);
//! an odd last nibble is dropped. The seeds differ in two accidents, which [`Dialect`]
//! selects: the x86 and amd64 seeds take `G`/`g` as a digit of value 16 (hexroot refuses
//! such input instead of reproducing it), and the riscv seeds also end a comment at `\r`.
//! This module owns only the translation; reading files and reporting live in
//! [`crate::tool`].

use toolbase::diag::{describe_byte, Diagnostic};

/// Which seed's reading of the language to follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// The common ground of every seed: comments end at `\n` only, and a `G`/`g` outside a
    /// comment (which the seeds read differently) is an error.
    #[default]
    Portable,
    /// The x86 seed: like `Portable` (its `G`-as-16 accident is refused, not reproduced).
    X86,
    /// The amd64 seed: like `Portable` (its `G`-as-16 accident is refused, not reproduced).
    Amd64,
    /// The aarch64 seed: comments end at `\n`; `G`/`g` are ordinary skipped bytes.
    Aarch64,
    /// The riscv32 seed: comments end at `\n` or `\r`; `G`/`g` are skipped.
    Riscv32,
    /// The riscv64 seed: comments end at `\n` or `\r`; `G`/`g` are skipped.
    Riscv64,
}

impl Dialect {
    /// The dialect of the seed for an architecture name (`x86`, `amd64`, `aarch64`,
    /// `riscv32`, `riscv64`; `AMD64`, `AArch64` and `x86_64` are accepted too), or
    /// `portable`.
    pub fn from_name(name: &str) -> Option<Dialect> {
        if name == "portable" {
            return Some(Dialect::Portable);
        }
        Dialect::for_arch(toolbase::arch::Arch::from_name_or_alias(name)?)
    }

    /// The dialect of the stage0-posix seed for `arch`, if it has one.
    pub fn for_arch(arch: toolbase::arch::Arch) -> Option<Dialect> {
        use toolbase::arch::Arch;
        Some(match arch {
            Arch::X86 => Dialect::X86,
            Arch::Amd64 => Dialect::Amd64,
            Arch::Aarch64 => Dialect::Aarch64,
            Arch::Riscv32 => Dialect::Riscv32,
            Arch::Riscv64 => Dialect::Riscv64,
            _ => return None,
        })
    }

    /// Whether a carriage return ends a comment.
    pub fn cr_ends_comment(self) -> bool {
        matches!(self, Dialect::Riscv32 | Dialect::Riscv64)
    }

    /// Whether `G`/`g` outside a comment is refused (because some seed reads it as a digit).
    pub fn refuses_g(self) -> bool {
        matches!(self, Dialect::Portable | Dialect::X86 | Dialect::Amd64)
    }

    fn table(self) -> &'static [u8; 256] {
        if self.refuses_g() {
            &TABLE_REFUSE_G
        } else {
            &TABLE_SKIP_G
        }
    }
}

/// Byte classes: 0..=15 are nibble values, then these.
const SKIP: u8 = 16;
const COMMENT: u8 = 17;
const LOOSE_G: u8 = 18;

const fn class_table(refuse_g: bool) -> [u8; 256] {
    let mut t = [SKIP; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'A' as usize + i] = 10 + i as u8;
        t[b'a' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t[b'#' as usize] = COMMENT;
    t[b';' as usize] = COMMENT;
    if refuse_g {
        t[b'G' as usize] = LOOSE_G;
        t[b'g' as usize] = LOOSE_G;
    }
    t
}

static TABLE_REFUSE_G: [u8; 256] = class_table(true);
static TABLE_SKIP_G: [u8; 256] = class_table(false);

/// Why a hex0 source was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A `G` or `g` outside a comment: the x86 and amd64 seeds read it as a digit of value
    /// 16, the others skip it, so the source means different bytes to different seeds.
    AmbiguousDigit(u8),
}

/// A refused hex0 source: where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// Byte offset of the offending byte in the source.
    pub offset: usize,
    /// What was wrong.
    pub kind: ErrorKind,
}

impl Error {
    /// The error as a located diagnostic for `file`, whose contents are `source`.
    #[cold]
    pub fn to_diagnostic(&self, file: &str, source: &[u8]) -> Diagnostic {
        match self.kind {
            ErrorKind::AmbiguousDigit(b) => Diagnostic::new(format!(
                "{} is not a hex digit, and the seeds disagree about it",
                describe_byte(b)
            ))
            .in_file(file)
            .at_offset_in(source, self.offset)
            .expected("a hex digit 0-9, A-F or a-f, a comment, or a byte no seed reads as a digit")
            .found(describe_byte(b))
            .hint(
                "the x86 and amd64 seeds read G/g as a digit of value 16, the others skip it; \
                 remove it or put it in a comment",
            ),
        }
    }
}

/// Assembles hex0 `source` into machine bytes.
///
/// ```
/// let bytes = hex0::assemble(b"B8 01 00 # mov eax, 1\n0 0 0 ; odd nibble dropped\n", hex0::Dialect::Portable).unwrap();
/// assert_eq!(bytes, [0xB8, 0x01, 0x00, 0x00]);
/// ```
pub fn assemble(source: &[u8], dialect: Dialect) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(source.len() / 3);
    assemble_into(source, dialect, &mut out)?;
    Ok(out)
}

/// Assembles hex0 `source`, appending the machine bytes to `out`. On error `out` holds
/// the bytes assembled before the offending byte.
pub fn assemble_into(source: &[u8], dialect: Dialect, out: &mut Vec<u8>) -> Result<(), Error> {
    let table = dialect.table();
    let cr_ends = dialect.cr_ends_comment();
    let n = source.len();
    let mut i = 0;
    // The pending high nibble, if any.
    let mut high: Option<u8> = None;
    while i < n {
        // Fast path: two adjacent digits with no pending nibble.
        if high.is_none() && i + 1 < n {
            let a = table[source[i] as usize];
            let b = table[source[i + 1] as usize];
            if a < 16 && b < 16 {
                out.push((a << 4) | b);
                i += 2;
                continue;
            }
        }
        let class = table[source[i] as usize];
        if class < 16 {
            match high.take() {
                Some(h) => out.push((h << 4) | class),
                None => high = Some(class),
            }
            i += 1;
        } else if class == SKIP {
            i += 1;
        } else if class == COMMENT {
            let rest = &source[i + 1..];
            let end = if cr_ends {
                rest.iter().position(|&b| b == b'\n' || b == b'\r')
            } else {
                rest.iter().position(|&b| b == b'\n')
            };
            i = match end {
                Some(p) => i + 1 + p + 1,
                None => n,
            };
        } else {
            return Err(Error {
                offset: i,
                kind: ErrorKind::AmbiguousDigit(source[i]),
            });
        }
    }
    Ok(())
}

/// Renders bytes as hex0 source: upper-case pairs, sixteen to a line. Assembling the result
/// gives `bytes` back in every dialect.
pub fn render(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 3);
    for line in bytes.chunks(16) {
        for (k, b) in line.iter().enumerate() {
            if k > 0 {
                s.push(' ');
            }
            s.push(DIGITS[(b >> 4) as usize] as char);
            s.push(DIGITS[(b & 15) as usize] as char);
        }
        s.push('\n');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nibbles_pair_across_comments_and_lines() {
        assert_eq!(
            assemble(b"1 2\n3# c\n4;x\n", Dialect::Portable).unwrap(),
            [0x12, 0x34]
        );
    }

    #[test]
    fn cr_ends_comments_only_on_riscv() {
        assert_eq!(assemble(b"#a\r12\n", Dialect::X86).unwrap(), []);
        assert_eq!(assemble(b"#a\r12\n", Dialect::Riscv64).unwrap(), [0x12]);
    }

    #[test]
    fn g_is_refused_where_a_seed_reads_it_as_a_digit() {
        let err = assemble(b"12\n G0", Dialect::Amd64).unwrap_err();
        assert_eq!(
            err,
            Error {
                offset: 4,
                kind: ErrorKind::AmbiguousDigit(b'G')
            }
        );
        assert_eq!(assemble(b"12 G0", Dialect::Aarch64).unwrap(), [0x12]);
        assert_eq!(assemble(b"12 #G\n", Dialect::X86).unwrap(), [0x12]);
    }
}
