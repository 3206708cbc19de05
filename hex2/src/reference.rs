//! The reference semantics of hex2 and its seed dialects: a deliberately plain linker that
//! follows `spec/hex2-m1.md` §1 (mescc-tools 1.7.0, [`Dialect::Full`]) and
//! `spec/seed-tools.md` §2-3 (the seed `hex1`, [`Dialect::SeedHex1`], and `hex2-0`,
//! [`Dialect::SeedHex2`]) paragraph by paragraph and names its rules as the spec does, for
//! readers and for property tests that check the engine ([`crate::link`]) against it.
//!
//! It is not optimised (a byte at a time, a `HashMap` of labels, two full passes) and it
//! reports errors as a plain [`Error`] without locations; the engine's diagnostics are the
//! user-facing ones. What a dialect changes is gathered in one place, [`Rules`] (seed-tools.md
//! §3.1 lists the same rules); everything else is shared.
//!
//! ```
//! use hex2::{reference, Arch, Config, Dialect, Endian, Source};
//! let mut config = Config::new(Arch::X86);
//! config.endian = Endian::Little;
//! let src = Source { name: "a.hex2", text: b":a 90 !a &a" };
//! assert_eq!(reference::link(&[src], &config).unwrap(), [0x90, 0xFE, 0, 0, 0, 0]);
//!
//! // The seed hex1 of x86: one-character labels, `%` only (base address 0x08048000).
//! let seed = Config::seed(Dialect::SeedHex1, Arch::X86);
//! let src = Source { name: "a.hex1", text: b":a 90 %a" };
//! assert_eq!(reference::link(&[src], &seed).unwrap(), [0x90, 0xFB, 0xFF, 0xFF, 0xFF]);
//! ```

use std::collections::HashMap;

use crate::config::{ByteMode, Config, Dialect, Endian};
use crate::source::Source;
use toolbase::arch::Arch;

/// Why a reference link failed (spec §1.10, without the reference's exact text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// A name of 4096 bytes or more (§1.5; full hex2 only).
    NameTooLong,
    /// A pointer with no name at the end of a file (§4: the reference reads byte 0xFF).
    NameAtEndOfFile,
    /// A NUL byte inside a name (the reference's C strings cut it; hexroot refuses it).
    NulInName,
    /// `Target label NAME is not valid` (§1.6 step 2).
    UnknownLabel(Vec<u8>),
    /// A displacement or address outside its field's range (§1.6 step 5, §1.8).
    OutOfRange {
        /// The sigil.
        sigil: u8,
        /// The value that did not fit.
        value: i64,
    },
    /// `Unaligned branch target` on armv7l with `^` (§1.7).
    UnalignedBranch(Vec<u8>),
    /// A comment that runs to the end of a file (seed-tools.md §3.1: the seeds hang;
    /// full hex2 ends the comment there).
    CommentAtEndOfFile,
    /// A `.` word cut short by the end of a file (§1.8; the reference loops forever; the
    /// seed hex2-0 drops the word).
    WordCutShort,
}

/// What a dialect on an architecture accepts and how it reads it: the differences of the
/// seed dialects from full hex2 (seed-tools.md §3.1), in one place.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// The pointer sigils; any other of `!@$~%&` is an ignored byte.
    pub sigils: &'static [u8],
    /// Whether `<` pads to a multiple of 4 (otherwise an ignored byte).
    pub pads: bool,
    /// Whether `^` sets the alignment flag (otherwise an ignored byte).
    pub caret: bool,
    /// Whether `.` starts a RISC-V word.
    pub dot: bool,
    /// Whether a comment also ends at a carriage return (always at a newline).
    pub comment_ends_at_cr: bool,
    /// hex1: a label or pointer name is the one byte after `:` or the sigil.
    pub one_byte_names: bool,
    /// A label between the two nibbles of a byte is at the address after that byte
    /// (the x86, amd64 and aarch64 seeds count a byte at its first nibble).
    pub label_after_half_byte: bool,
    /// Full hex2: names of 4096 bytes or more, range checks, the architectural
    /// displacement rule (§1.7), `^` on armv7l, aarch64 and ppc64le, an unfinished `.`
    /// word is an error. Otherwise the seed's value rules (seed-tools.md §3.1).
    pub full: bool,
}

impl Rules {
    /// The rules of `dialect` on `arch`.
    pub fn of(dialect: Dialect, arch: Arch) -> Rules {
        let riscv = arch.is_riscv();
        let seed_half_byte = matches!(arch, Arch::X86 | Arch::Amd64 | Arch::Aarch64);
        match dialect {
            Dialect::Full => Rules {
                sigils: b"!@$~%&",
                pads: riscv || matches!(arch, Arch::Armv7l | Arch::Aarch64),
                caret: matches!(arch, Arch::Armv7l | Arch::Aarch64 | Arch::Ppc64le),
                dot: riscv,
                comment_ends_at_cr: true,
                one_byte_names: false,
                label_after_half_byte: false,
                full: true,
            },
            Dialect::SeedHex2 => Rules {
                sigils: if riscv || arch == Arch::Aarch64 {
                    b"!@$~%&"
                } else {
                    b"!@$%&"
                },
                pads: riscv,
                caret: arch == Arch::Aarch64,
                dot: riscv,
                comment_ends_at_cr: true,
                one_byte_names: false,
                label_after_half_byte: seed_half_byte,
                full: false,
            },
            Dialect::SeedHex1 => Rules {
                sigils: match arch {
                    a if a.is_riscv() => b"!@$~",
                    Arch::Aarch64 => b"$~&",
                    _ => b"%",
                },
                pads: false,
                caret: false,
                dot: false,
                comment_ends_at_cr: arch != Arch::Aarch64,
                one_byte_names: true,
                label_after_half_byte: seed_half_byte,
                full: false,
            },
        }
    }
}

/// Which of the two passes is running (§1.3).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Assigns label addresses; writes nothing.
    One,
    /// Writes bytes, resolving pointers.
    Two,
}

/// The state §1.3-1.8 name.
struct State<'c> {
    config: &'c Config,
    rules: Rules,
    pass: Pass,
    /// The address of the next output byte.
    ip: u32,
    labels: HashMap<Vec<u8>, u32>,
    /// The digit accumulator and how many digits it holds (§1.4); reset per file.
    digits: u32,
    ndigits: u32,
    /// The `^` flag (§1.7); survives files.
    aligned: bool,
    /// The RISC-V XOR register (§1.8); survives files.
    xor: u32,
    /// Bytes still owed to the current `.` word, and the word so far (§1.8).
    word_left: u32,
    word: u32,
    out: Vec<u8>,
}

/// Links `sources` as mescc-tools hex2 (spec §1) or the seed of `config.dialect`
/// (seed-tools.md §2-3) would, returning the output bytes.
pub fn link(sources: &[Source<'_>], config: &Config) -> Result<Vec<u8>, Error> {
    let mut st = State {
        config,
        rules: Rules::of(config.dialect, config.arch),
        pass: Pass::One,
        ip: config.base_address,
        labels: HashMap::new(),
        digits: 0,
        ndigits: 0,
        aligned: false,
        xor: 0,
        word_left: 0,
        word: 0,
        out: Vec::new(),
    };
    for pass in [Pass::One, Pass::Two] {
        st.pass = pass;
        st.ip = config.base_address;
        st.aligned = false;
        st.xor = 0;
        for source in sources {
            st.file(source.text)?;
        }
    }
    Ok(st.out)
}

/// The value of `b` as a digit of the byte mode, if it is one (§1.4).
fn digit_value(mode: ByteMode, b: u8) -> Option<u32> {
    let radix = match mode {
        ByteMode::Hex => 16,
        ByteMode::Octal => 8,
        ByteMode::Binary => 2,
    };
    (b as char).to_digit(radix)
}

/// Digits per byte and bits per digit of a byte mode (§1.4).
fn digit_shape(mode: ByteMode) -> (u32, u32) {
    match mode {
        ByteMode::Hex => (2, 4),
        ByteMode::Octal => (3, 3),
        ByteMode::Binary => (8, 1),
    }
}

/// The size in bytes a pointer occupies (§1.6 table; §1.8 "pass 1 sizes").
fn pointer_size(arch: Arch, sigil: u8) -> u32 {
    match sigil {
        b'!' | b'@' | b'$' | b'~' if arch.is_riscv() => 0,
        b'!' => 1,
        b'@' | b'$' => 2,
        b'~' => 3,
        _ => 4,
    }
}

/// A name (§1.5): every byte up to a space, tab, newline, `>` or the end; in hex1 the one
/// byte at `start` (seed-tools.md §2). Returns the name and the index of its terminator
/// (`text.len()` at the end; in hex1 the byte after the name).
fn read_name(rules: Rules, text: &[u8], start: usize) -> Result<(&[u8], usize), Error> {
    let end = if rules.one_byte_names {
        (start + 1).min(text.len())
    } else {
        text[start..]
            .iter()
            .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'>'))
            .map_or(text.len(), |n| start + n)
    };
    let name = &text[start..end];
    if rules.full && name.len() >= 4096 {
        return Err(Error::NameTooLong);
    }
    if name.contains(&0) {
        return Err(Error::NulInName);
    }
    Ok((name, end))
}

/// Where reading resumes after a name ending at `end`: past its terminator (a `>` is
/// discarded; a space, tab or newline reads the same either way), in hex1 right there.
fn after_name(rules: Rules, text: &[u8], end: usize) -> usize {
    if rules.one_byte_names || end == text.len() {
        end
    } else {
        end + 1
    }
}

impl State<'_> {
    /// One input file, byte by byte (§1.3).
    fn file(&mut self, text: &[u8]) -> Result<(), Error> {
        self.digits = 0;
        self.ndigits = 0;
        let mut i = 0;
        while i < text.len() {
            let b = text[i];
            i += 1;
            if self.word_left > 0 {
                // §1.8: inside a `.` word every byte is a digit or an ignored non-digit,
                // except that comments still run to their end.
                match b {
                    b'#' | b';' => i = comment_end(self.rules, text, i)?,
                    _ => self.digit(b)?,
                }
                continue;
            }
            let rules = self.rules;
            match b {
                b':' => i = self.label_definition(text, i)?,
                _ if rules.sigils.contains(&b) => i = self.pointer(text, i, b)?,
                b'<' if rules.pads => self.pad(),
                b'^' if rules.caret => self.aligned = true,
                b'.' if rules.dot => {
                    self.word_left = 4;
                    self.word = 0;
                }
                b'#' | b';' => i = comment_end(rules, text, i)?,
                _ => self.digit(b)?,
            }
        }
        if self.word_left > 0 {
            if self.rules.full {
                return Err(Error::WordCutShort);
            }
            // seed-tools.md §3.1: the seed drops an unfinished word
            self.word_left = 0;
            self.word = 0;
        }
        Ok(())
    }

    /// A digit of the byte mode adds to the accumulator; anything else is ignored (§1.4).
    fn digit(&mut self, b: u8) -> Result<(), Error> {
        let Some(d) = digit_value(self.config.byte_mode, b) else {
            return Ok(());
        };
        let (per_byte, bits) = digit_shape(self.config.byte_mode);
        self.digits = (self.digits << bits) | d;
        self.ndigits += 1;
        if self.ndigits == per_byte {
            let value = self.digits;
            self.digits = 0;
            self.ndigits = 0;
            self.byte(value);
        }
        Ok(())
    }

    /// A completed byte value: part of a `.` word, or an output byte (§1.4, §1.8).
    fn byte(&mut self, value: u32) {
        if self.word_left > 0 {
            // W = (W << 8) XOR v, v untruncated (octal values up to 511 carry a bit).
            self.word = (self.word << 8) ^ value;
            self.word_left -= 1;
            if self.word_left == 0 {
                let w = match self.config.endian {
                    Endian::Little => self.word.swap_bytes(),
                    Endian::Big => self.word,
                };
                self.xor ^= w;
            }
            return;
        }
        let mut byte = value as u8;
        if self.config.arch.is_riscv() {
            let r = self.xor & 0xFF;
            self.xor >>= 8;
            byte = if self.rules.full {
                byte ^ r as u8
            } else {
                // seed-tools.md §3.1: the seeds XOR the low nibble and add the high one back
                ((value & 0xF0) + ((value & 0x0F) ^ r)) as u8
            };
        }
        self.emit(&[byte]);
    }

    /// Writes bytes in pass 2 and advances `ip` in both passes.
    fn emit(&mut self, bytes: &[u8]) {
        if self.pass == Pass::Two {
            self.out.extend_from_slice(bytes);
        }
        self.ip = self.ip.wrapping_add(bytes.len() as u32);
    }

    /// `<`: zero bytes up to a multiple of 4 (§1.7).
    fn pad(&mut self) {
        if self.ip & 1 != 0 {
            self.emit(&[0]);
        }
        if self.ip & 2 != 0 {
            self.emit(&[0, 0]);
        }
    }

    /// `:name` (§1.5): pass 1 records the current `ip`, last definition winning; in the
    /// x86, amd64 and aarch64 seeds the address after a half-finished byte. A hex1 `:` at
    /// the very end of a file defines nothing.
    fn label_definition(&mut self, text: &[u8], at: usize) -> Result<usize, Error> {
        if self.rules.one_byte_names && at == text.len() {
            return Ok(at);
        }
        let (name, end) = read_name(self.rules, text, at)?;
        if self.pass == Pass::One {
            let half = self.rules.label_after_half_byte && self.ndigits != 0;
            let address = self.ip.wrapping_add(u32::from(half));
            self.labels.insert(name.to_vec(), address);
        }
        Ok(after_name(self.rules, text, end))
    }

    fn address_of(&self, name: &[u8]) -> Result<u32, Error> {
        self.labels
            .get(name)
            .copied()
            .ok_or_else(|| Error::UnknownLabel(name.to_vec()))
    }

    /// A pointer: sigil, target name, optional `>base` (§1.6, §1.8).
    fn pointer(&mut self, text: &[u8], at: usize, sigil: u8) -> Result<usize, Error> {
        if at == text.len() {
            return Err(Error::NameAtEndOfFile);
        }
        let arch = self.config.arch;
        let rules = self.rules;
        let (target_name, end) = read_name(rules, text, at)?;
        let word_immediate = arch.is_riscv() && sigil != b'%' && sigil != b'&';
        let mut next = after_name(rules, text, end);
        let mut base_name = None;
        let base_form = !rules.one_byte_names && !word_immediate;
        if base_form && end < text.len() && text[end] == b'>' {
            let (base, bend) = read_name(rules, text, next)?;
            base_name = Some(base);
            next = after_name(rules, text, bend);
        }
        if self.pass == Pass::One {
            self.ip = self.ip.wrapping_add(pointer_size(arch, sigil));
            return Ok(next);
        }
        let target = self.address_of(target_name)?;
        if word_immediate {
            self.word_immediate(sigil, target)?;
            return Ok(next);
        }
        let size = pointer_size(arch, sigil);
        let base = match base_name {
            Some(b) => Some(self.address_of(b)?),
            None => None,
        };
        let value = if rules.full {
            self.full_value(sigil, size, target, base, target_name)?
        } else {
            self.seed_value(sigil, size, target, base)
        };
        let bytes = match self.config.endian {
            Endian::Little => value.to_le_bytes()[..size as usize].to_vec(),
            Endian::Big => value.to_be_bytes()[4 - size as usize..].to_vec(),
        };
        self.emit(&bytes);
        Ok(next)
    }

    /// The value of a full hex2 pointer (§1.6): the displacement (from `>base`, or by the
    /// architecture's rule, which reads `^`) or the absolute address, range-checked.
    fn full_value(
        &mut self,
        sigil: u8,
        size: u32,
        target: u32,
        base: Option<u32>,
        target_name: &[u8],
    ) -> Result<i32, Error> {
        let field_end = self.ip.wrapping_add(size);
        let displacement = match base {
            Some(b) => target.wrapping_sub(b) as i32,
            None => self.architectural_displacement(target, field_end, target_name)?,
        };
        let value = match sigil {
            b'$' | b'&' => target as i32,
            _ => displacement,
        };
        check_range(sigil, value)?;
        Ok(value)
    }

    /// The value of a seed pointer (seed-tools.md §3.1), never range-checked: `$` and `&`
    /// the address (RISC-V: minus `>base`); relative sigils the target minus `>base`, or
    /// minus the field's end, on aarch64 minus the field's start, then counted in 4-byte
    /// words after `^` (always in the aarch64 hex1).
    fn seed_value(&mut self, sigil: u8, size: u32, target: u32, base: Option<u32>) -> i32 {
        let arch = self.config.arch;
        if matches!(sigil, b'$' | b'&') {
            return match base {
                Some(b) if arch.is_riscv() => target.wrapping_sub(b) as i32,
                _ => target as i32,
            };
        }
        if arch == Arch::Aarch64 {
            let raw = target.wrapping_sub(base.unwrap_or(self.ip)) as i32;
            let aligned = std::mem::replace(&mut self.aligned, false);
            return if aligned || self.rules.one_byte_names {
                raw >> 2
            } else {
                raw
            };
        }
        let field_end = self.ip.wrapping_add(size);
        target.wrapping_sub(base.unwrap_or(field_end)) as i32
    }

    /// The displacement rule of each architecture (§1.7); reads and clears `^` where the
    /// architecture has one.
    fn architectural_displacement(&mut self, t: u32, b: u32, name: &[u8]) -> Result<i32, Error> {
        let (t, b) = (t as i32, b as i32);
        let aligned = self.aligned;
        Ok(match self.config.arch {
            Arch::Armv7l => {
                self.aligned = false;
                if !aligned {
                    t.wrapping_sub(b).wrapping_sub(8).wrapping_add(b & 3)
                } else if t & 3 != 0 {
                    return Err(Error::UnalignedBranch(name.to_vec()));
                } else {
                    (t.wrapping_sub(b).wrapping_add(b & 3) >> 2).wrapping_sub(2)
                }
            }
            Arch::Aarch64 => {
                self.aligned = false;
                if aligned {
                    t.wrapping_sub(b & !3) >> 2
                } else {
                    t.wrapping_sub(b).wrapping_sub(8).wrapping_add(b & 3)
                }
            }
            Arch::Ppc64le => {
                self.aligned = false;
                let d = t.wrapping_sub(b & !3);
                if aligned {
                    d | 1
                } else {
                    d
                }
            }
            _ => t.wrapping_sub(b),
        })
    }

    /// RISC-V `!@$~`: an I, B, J or U immediate XORed into the register (§1.8); the seeds
    /// check no range.
    fn word_immediate(&mut self, sigil: u8, target: u32) -> Result<(), Error> {
        let d = target.wrapping_sub(self.ip) as i32;
        let check = self.rules.full;
        let bits = |v: i32, hi: u32, lo: u32| ((v as u32) >> lo) & ((1 << (hi - lo + 1)) - 1);
        let encoded = match sigil {
            b'!' => bits(d.wrapping_add(4), 11, 0) << 20,
            b'@' => {
                if check && (!(-4096..=4095).contains(&d) || d & 1 != 0) {
                    return Err(Error::OutOfRange {
                        sigil,
                        value: d.into(),
                    });
                }
                bits(d, 12, 12) << 31
                    | bits(d, 10, 5) << 25
                    | bits(d, 4, 1) << 8
                    | bits(d, 11, 11) << 7
            }
            b'$' => {
                if check && (!(-1_048_576..=1_048_575).contains(&d) || d & 1 != 0) {
                    return Err(Error::OutOfRange {
                        sigil,
                        value: d.into(),
                    });
                }
                bits(d, 20, 20) << 31
                    | bits(d, 10, 1) << 21
                    | bits(d, 11, 11) << 20
                    | bits(d, 19, 12) << 12
            }
            _ => (d as u32).wrapping_add(0x800) & 0xFFFF_F000,
        };
        self.xor ^= encoded;
        Ok(())
    }
}

/// The range check of each sigil (§1.6 table).
fn check_range(sigil: u8, value: i32) -> Result<(), Error> {
    let ok = match sigil {
        b'!' => (-128..=127).contains(&value),
        b'@' => (-32768..=32767).contains(&value),
        b'$' => (0..=65535).contains(&value),
        b'~' => (-8_388_608..=8_388_607).contains(&value),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::OutOfRange {
            sigil,
            value: value.into(),
        })
    }
}

/// The byte after a comment (§1.3): through the next `\n` or `\r` (only `\n` in the
/// aarch64 hex1), or the end of the file, which in the seeds is an error (the seeds hang).
fn comment_end(rules: Rules, text: &[u8], from: usize) -> Result<usize, Error> {
    match text[from..]
        .iter()
        .position(|&b| b == b'\n' || (b == b'\r' && rules.comment_ends_at_cr))
    {
        Some(n) => Ok(from + n + 1),
        None if rules.full => Ok(text.len()),
        None => Err(Error::CommentAtEndOfFile),
    }
}
