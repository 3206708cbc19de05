//! Scanning: what each input byte means, and the resumable scanner that reads chunks.
//!
//! It owns the byte classes of a configuration (which bytes are digits, comments, sigils,
//! `<`, `^` and `.` in each dialect and architecture), the scanner that walks a chunk
//! (separators and digits in bulk, comments, names with their terminators and limits),
//! nibble pairing into bytes, label definition sites, pointer tokens (`name` and
//! `name>base`), `<` padding and the RISC-V `.` words and XOR register. What a pointer's
//! label resolves to is [`super::link`]'s; the wording of errors is [`super::diagnose`]'s.

use toolbase::diag::Diagnostic;

use super::diagnose::ErrorKind;
use super::{Linker, Pass, MAX_NAME};
use crate::config::{ByteMode, Config, Dialect, Endian};
use crate::map::MapEntry;
use crate::pointer::{self, How};
use crate::source::Loc;
use toolbase::arch::Arch;

/// What a byte means where a token may start: a digit's value (0..=15) or one of these.
pub(super) mod class {
    pub const IGNORE: u8 = 16;
    pub const NEWLINE: u8 = 17;
    pub const COMMENT: u8 = 18;
    pub const COLON: u8 = 19;
    pub const SIGIL: u8 = 20;
    pub const PAD: u8 = 21;
    pub const CARET: u8 = 22;
    pub const DOT: u8 = 23;
}

/// The class of every byte under `config` (a digit's value, or one of [`class`]), and
/// whether the `^` branch rule applies.
pub(super) fn byte_classes(config: &Config) -> ([u8; 256], bool) {
    let arch = config.arch;
    let riscv = arch.is_riscv();
    let mut class = [class::IGNORE; 256];
    for b in 0..=255u8 {
        let d = match config.byte_mode {
            ByteMode::Hex => (b as char).to_digit(16),
            ByteMode::Octal => (b as char).to_digit(8),
            ByteMode::Binary => (b as char).to_digit(2),
        };
        if let Some(d) = d {
            class[b as usize] = d as u8;
        }
    }
    class[b'\n' as usize] = class::NEWLINE;
    class[b'#' as usize] = class::COMMENT;
    class[b';' as usize] = class::COMMENT;
    class[b':' as usize] = class::COLON;
    let sigils: &[u8] = match config.dialect {
        Dialect::Full => b"!@$~%&",
        Dialect::SeedHex2 => match arch {
            a if a.is_riscv() => b"!@$~%&",
            Arch::Aarch64 => b"!@$~%&",
            _ => b"!@$%&",
        },
        Dialect::SeedHex1 => match arch {
            a if a.is_riscv() => b"!@$~",
            Arch::Aarch64 => b"$~&",
            _ => b"%",
        },
    };
    for &s in sigils {
        class[s as usize] = class::SIGIL;
    }
    let (pads, caret, caret_rule, dot) = match config.dialect {
        Dialect::Full => {
            let pads = matches!(arch, Arch::Armv7l | Arch::Aarch64) || riscv;
            let caret = matches!(arch, Arch::Armv7l | Arch::Aarch64 | Arch::Ppc64le);
            (pads, caret, caret, riscv)
        }
        Dialect::SeedHex2 => (riscv, arch == Arch::Aarch64, arch == Arch::Aarch64, riscv),
        Dialect::SeedHex1 => (false, false, false, false),
    };
    if pads {
        class[b'<' as usize] = class::PAD;
    }
    if caret {
        class[b'^' as usize] = class::CARET;
    }
    if dot {
        class[b'.' as usize] = class::DOT;
    }
    (class, caret_rule)
}

impl Linker {
    #[inline]
    pub(super) fn loc(&self, chunk_pos: usize) -> Loc {
        let abs = self.file_offset + chunk_pos;
        Loc {
            file: self.file,
            line: self.line,
            col: (abs - self.line_start + 1) as u32,
        }
    }

    /// The scanner proper: [`Linker::feed`] without the resolution of pending pointers.
    pub(super) fn scan(&mut self, chunk: &[u8]) -> Result<(), Diagnostic> {
        let len = chunk.len();
        // A local copy: the compiler then knows output writes cannot change it.
        let table = self.class;
        let mut i = 0;
        while i < len {
            let b = chunk[i];
            let c = table[b as usize];
            // The common bytes first: separators and digits (most of any real input).
            if c == class::IGNORE {
                i += 1;
                continue;
            }
            if c < 16 {
                let d = c;
                if self.fast_hex && self.xor == 0 && self.dot_left == 0 {
                    i = self.plain_run(chunk, i, &table);
                } else {
                    self.digit(d, b, i);
                    i += 1;
                }
                continue;
            }
            match c {
                class::NEWLINE => {
                    i += 1;
                    self.line += 1;
                    self.line_start = self.file_offset + i;
                }
                class::COMMENT => {
                    let start = i;
                    i += 1;
                    let stop_cr = self.comment_ends_at_cr;
                    match chunk[i..]
                        .iter()
                        .position(|&c| c == b'\n' || (c == b'\r' && stop_cr))
                    {
                        Some(p) => {
                            i += p;
                            if chunk[i] == b'\r' {
                                i += 1;
                            }
                        }
                        // Only a file's last chunk may lack a newline: the comment runs to
                        // the end of the file, where every seed hex1 and hex2-0 hangs.
                        None if self.config.dialect != Dialect::Full => {
                            return Err(self.error(self.loc(start), ErrorKind::CommentAtEof));
                        }
                        None => i = len,
                    }
                    // a terminating '\n' is left to the Newline arm
                }
                // Inside a `.` word every byte goes to the digit reader only: a sigil, `:`,
                // `<`, `^` or `.` there is an ignored non-digit (spec 1.8).
                _ if self.dot_left > 0 => i += 1,
                class::COLON => i = self.label(chunk, i)?,
                class::SIGIL => i = self.pointer(chunk, i)?,
                class::PAD => {
                    self.pad(chunk, i);
                    i += 1;
                }
                class::CARET => {
                    self.aligned = true;
                    i += 1;
                }
                class::DOT => {
                    self.dot_at = self.loc(i);
                    self.dot_left = 4;
                    self.dot_value = 0;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        self.file_offset += len;
        Ok(())
    }

    /// The end (exclusive) of a name starting at `start` (spec 1.5 terminators).
    #[inline]
    pub(super) fn name_end(chunk: &[u8], start: usize) -> usize {
        let mut j = start;
        // eight bytes at a time: the lowest flagged byte of `zero(w ^ splat(t))` is the
        // first byte of `w` equal to `t` (flags above it may be false, never below)
        const LOW: u64 = 0x0101_0101_0101_0101;
        let zero = |v: u64| v.wrapping_sub(LOW) & !v & (LOW << 7);
        while j + 8 <= chunk.len() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&chunk[j..j + 8]);
            let w = u64::from_le_bytes(bytes);
            let hit = zero(w ^ (LOW * u64::from(b' ')))
                | zero(w ^ (LOW * u64::from(b'\t')))
                | zero(w ^ (LOW * u64::from(b'\n')))
                | zero(w ^ (LOW * u64::from(b'>')));
            if hit != 0 {
                return j + (hit.trailing_zeros() / 8) as usize;
            }
            j += 8;
        }
        while j < chunk.len() {
            match chunk[j] {
                b' ' | b'\t' | b'\n' | b'>' => break,
                _ => j += 1,
            }
        }
        j
    }

    /// The limits of a name: no NUL byte (the references keep names as C strings, or, in
    /// the seed hex1, never define label 0, so a NUL makes them find or miss labels by
    /// accident; spec 1.5) and, for mescc-tools hex2, at most [`MAX_NAME`] bytes.
    #[inline]
    pub(super) fn check_name(
        &self,
        at: Loc,
        name: &[u8],
        what: &'static str,
    ) -> Result<(), Diagnostic> {
        if self.config.dialect == Dialect::Full && name.len() > MAX_NAME {
            let len = name.len();
            return Err(self.error(at, ErrorKind::NameTooLong { what, len }));
        }
        match name.iter().position(|&c| c == 0) {
            None => Ok(()),
            Some(byte) => Err(self.error(at, ErrorKind::NulInName { what, byte })),
        }
    }

    pub(super) fn label(&mut self, chunk: &[u8], i: usize) -> Result<usize, Diagnostic> {
        let at = self.loc(i);
        let (name, next) = if self.config.dialect == Dialect::SeedHex1 {
            if i + 1 >= chunk.len() {
                return Ok(i + 1);
            }
            let c = chunk[i + 1];
            if c == b'\n' {
                // the name byte is the newline itself; it still ends the line
                self.line += 1;
                self.line_start = self.file_offset + i + 2;
            }
            if c == 0 {
                let (what, byte) = ("label", 0);
                return Err(self.error(at, ErrorKind::NulInName { what, byte }));
            }
            (&chunk[i + 1..i + 2], i + 2)
        } else {
            let end = Self::name_end(chunk, i + 1);
            self.check_name(at, &chunk[i + 1..end], "label")?;
            let next = if end < chunk.len() && chunk[end] == b'>' {
                end + 1
            } else {
                end
            };
            (&chunk[i + 1..end], next)
        };
        if self.pass == Pass::One {
            let a = name.as_ptr() as usize - chunk.as_ptr() as usize;
            let half = u32::from(self.label_after_half_byte && self.ndig != 0);
            self.pending_defs.push((
                (a as u32, (a + name.len()) as u32),
                self.ip.wrapping_add(half),
                at,
            ));
        }
        Ok(next)
    }

    pub(super) fn pointer(&mut self, chunk: &[u8], i: usize) -> Result<usize, Diagnostic> {
        let at = self.loc(i);
        let sigil = chunk[i];
        let spec = pointer::spec(sigil, self.config.arch.is_riscv());
        let dialect = self.config.dialect;
        let (name, base, next, tok_end) = if dialect == Dialect::SeedHex1 {
            if i + 1 >= chunk.len() {
                return Err(self.error(at, ErrorKind::PointerAtEof { sigil }));
            }
            if chunk[i + 1] == b'\n' {
                self.line += 1;
                self.line_start = self.file_offset + i + 2;
            }
            if chunk[i + 1] == 0 {
                let (what, byte) = ("pointer", 0);
                return Err(self.error(at, ErrorKind::NulInName { what, byte }));
            }
            (&chunk[i + 1..i + 2], None, i + 2, i + 2)
        } else {
            let end = Self::name_end(chunk, i + 1);
            if end == chunk.len() && end == i + 1 {
                return Err(self.error(at, ErrorKind::PointerAtEof { sigil }));
            }
            self.check_name(at, &chunk[i + 1..end], "pointer")?;
            let name = &chunk[i + 1..end];
            let base_form =
                end < chunk.len() && chunk[end] == b'>' && !matches!(spec.how, How::Imm(_));
            if base_form {
                let bend = Self::name_end(chunk, end + 1);
                self.check_name(at, &chunk[end + 1..bend], "base label")?;
                let next = if bend < chunk.len() && chunk[bend] == b'>' {
                    bend + 1
                } else {
                    bend
                };
                (name, Some(&chunk[end + 1..bend]), next, bend)
            } else {
                (name, None, end, end)
            }
        };
        if self.pass == Pass::One {
            self.ip = self.ip.wrapping_add(spec.size);
            return Ok(next);
        }
        self.place_pointer(chunk, sigil, spec, name, base, at, &chunk[i..tok_end])?;
        Ok(next)
    }

    pub(super) fn pad(&mut self, chunk: &[u8], i: usize) {
        let mut n = 0u32;
        if self.ip & 1 != 0 {
            n += 1;
        }
        if self.ip.wrapping_add(n) & 2 != 0 {
            n += 2;
        }
        if n == 0 {
            return;
        }
        if self.pass == Pass::Two {
            let offset = self.drained + self.out.len() as u64;
            if self.config.map {
                self.map.push(MapEntry {
                    offset,
                    len: n,
                    address: self.ip,
                    at: self.loc(i),
                    token: chunk[i..i + 1].into(),
                    bytes: vec![0; n as usize].into(),
                });
            }
            self.out.resize(self.out.len() + n as usize, 0);
        }
        self.ip = self.ip.wrapping_add(n);
    }

    /// Plain hex digits, separators and newlines from `i` on, in bulk (hex mode, no map,
    /// no pending XOR or `.` word: the common case). Returns where the run ends, at the
    /// first byte of any other class.
    #[inline(always)]
    pub(super) fn plain_run(&mut self, chunk: &[u8], i: usize, table: &[u8; 256]) -> usize {
        let mut j = i;
        let len = chunk.len();
        if self.pass == Pass::One {
            // nibbles pair across separators, so only the number of digits matters
            let mut digits = 0u32;
            // eight bytes at a time: their `count_class` bytes side by side in one word
            const LOW: u64 = 0x0101_0101_0101_0101;
            let counts = &self.count_class;
            while j + 8 <= len {
                let mut w = 0u64;
                for (k, &b) in chunk[j..j + 8].iter().enumerate() {
                    w |= u64::from(counts[b as usize]) << (8 * k);
                }
                if w & (LOW << 7) != 0 {
                    break;
                }
                digits += byte_flags(w & LOW);
                let nl = w & (LOW << 1);
                if nl != 0 {
                    self.line += byte_flags(nl >> 1);
                    let last = (63 - nl.leading_zeros()) as usize / 8;
                    self.line_start = self.file_offset + j + last + 1;
                }
                j += 8;
            }
            while j < len {
                let c = table[chunk[j] as usize];
                if c < 16 {
                    digits += 1;
                } else if c == class::NEWLINE {
                    self.line += 1;
                    self.line_start = self.file_offset + j + 1;
                } else if c != class::IGNORE {
                    break;
                }
                j += 1;
            }
            let total = u32::from(self.ndig) + digits;
            self.ip = self.ip.wrapping_add(total / 2);
            self.ndig = (total % 2) as u8;
            // the value of a pending nibble does not matter in pass 1
            return j;
        }
        let mut acc = self.acc as u8;
        let mut pending = self.ndig == 1;
        let start_len = self.out.len();
        while j < len {
            let c = table[chunk[j] as usize];
            if c < 16 {
                if pending {
                    self.out.push((acc << 4) | c);
                } else {
                    acc = c;
                }
                pending = !pending;
            } else if c == class::NEWLINE {
                self.line += 1;
                self.line_start = self.file_offset + j + 1;
            } else if c != class::IGNORE {
                break;
            }
            j += 1;
        }
        self.ip = self.ip.wrapping_add((self.out.len() - start_len) as u32);
        self.acc = u32::from(acc);
        self.ndig = u8::from(pending);
        j
    }

    #[inline(always)]
    pub(super) fn digit(&mut self, d: u8, c: u8, i: usize) {
        if self.ndig == 0 && self.config.map && self.pass == Pass::Two {
            self.nib_at = self.loc(i);
        }
        if self.config.map {
            self.digit_text[self.ndig as usize] = c;
        }
        self.acc = (self.acc << self.digit_bits) | u32::from(d);
        self.ndig += 1;
        if self.ndig < self.digits_per_byte {
            return;
        }
        let v = self.acc;
        self.acc = 0;
        self.ndig = 0;
        if self.dot_left > 0 {
            // an octal value of 0o400 or more carries its ninth bit into the byte before
            self.dot_value = (self.dot_value << 8) ^ v;
            self.dot_left -= 1;
            if self.dot_left == 0 && self.pass == Pass::Two {
                let w = self.dot_value;
                self.xor ^= match self.config.endian {
                    Endian::Little => w.swap_bytes(),
                    Endian::Big => w,
                };
            }
            return;
        }
        if self.pass == Pass::One {
            self.ip = self.ip.wrapping_add(1);
            return;
        }
        let mut byte = v as u8;
        if self.xor != 0 {
            let r = self.xor & 0xFF;
            self.xor >>= 8;
            byte = if self.config.dialect == Dialect::Full {
                byte ^ r as u8
            } else {
                // the seeds add the high nibble back after XORing the low one
                ((v & 0xF0) + ((v & 0x0F) ^ r)) as u8
            };
        }
        if self.config.map {
            self.map_digit_byte(byte);
        }
        self.out.push(byte);
        self.ip = self.ip.wrapping_add(1);
    }
}

/// How many bytes of `x` are 1, when each byte of `x` is 0 or 1 (one multiply; the
/// default x86-64 target has no popcount instruction and `count_ones` is a long sequence).
#[inline(always)]
fn byte_flags(x: u64) -> u32 {
    (x.wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_name_end_equals_byte_by_byte() {
        // every byte value, at every offset of the eight-byte words, before each terminator
        let naive = |c: &[u8], s: usize| {
            s + c[s..]
                .iter()
                .position(|b| b" \t\n>".contains(b))
                .unwrap_or(c.len() - s)
        };
        for t in [b' ', b'\t', b'\n', b'>'] {
            for fill in 0..=255u8 {
                for at in 0..20 {
                    let mut c = vec![fill; 24];
                    c[at] = t;
                    for s in 0..c.len() {
                        assert_eq!(Linker::name_end(&c, s), naive(&c, s), "{t} {fill} {at} {s}");
                    }
                }
            }
        }
    }
}
