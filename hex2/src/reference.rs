//! The reference semantics of hex2 (mescc-tools 1.7.0, [`Dialect::Full`]): a deliberately
//! plain linker that follows `spec/hex2-m1.md` §1 paragraph by paragraph and names its
//! rules as the spec does, for readers and for property tests that check the engine
//! ([`crate::link`]) against it.
//!
//! It is not optimised (a byte at a time, a `HashMap` of labels, two full passes) and it
//! reports errors as a plain [`Error`] without locations; the engine's diagnostics are the
//! user-facing ones. The seed dialects (hex1, hex2-0) are not covered here: they are
//! specified in `spec/seed-tools.md` §2-3 and checked by golden vectors.
//!
//! ```
//! use hex2::{reference, Arch, Config, Endian, Source};
//! let mut config = Config::new(Arch::X86);
//! config.endian = Endian::Little;
//! let src = Source { name: "a.hex2", text: b":a 90 !a &a" };
//! assert_eq!(reference::link(&[src], &config).unwrap(), [0x90, 0xFE, 0, 0, 0, 0]);
//! ```

use std::collections::HashMap;

use crate::{Arch, ByteMode, Config, Dialect, Endian, Source};

/// Why a reference link failed (spec §1.10, without the reference's exact text).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The configuration is not [`Dialect::Full`].
    Unsupported,
    /// A name of 4096 bytes or more (§1.5).
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
    /// A `.` word cut short by the end of a file (§1.8; the reference loops forever).
    WordCutShort,
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

/// Links `sources` as mescc-tools hex2 would (spec §1), returning the output bytes.
pub fn link(sources: &[Source<'_>], config: &Config) -> Result<Vec<u8>, Error> {
    if config.dialect != Dialect::Full {
        return Err(Error::Unsupported);
    }
    let mut st = State {
        config,
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

/// Whether `<` pads on this architecture (§1.7).
fn pads(arch: Arch) -> bool {
    matches!(
        arch,
        Arch::Armv7l | Arch::Aarch64 | Arch::Riscv32 | Arch::Riscv64
    )
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

/// A name: every byte up to a space, tab, newline, `>` or the end (§1.5). Returns the
/// name and the index of its terminator (`text.len()` at the end).
fn read_name(text: &[u8], start: usize) -> Result<(&[u8], usize), Error> {
    let end = text[start..]
        .iter()
        .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'>'))
        .map_or(text.len(), |n| start + n);
    let name = &text[start..end];
    if name.len() >= 4096 {
        return Err(Error::NameTooLong);
    }
    if name.contains(&0) {
        return Err(Error::NulInName);
    }
    Ok((name, end))
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
                    b'#' | b';' => i = comment_end(text, i),
                    _ => self.digit(b)?,
                }
                continue;
            }
            match b {
                b':' => i = self.label_definition(text, i)?,
                b'!' | b'@' | b'$' | b'~' | b'%' | b'&' => i = self.pointer(text, i, b)?,
                b'<' if pads(self.config.arch) => self.pad(),
                b'^' => self.aligned = true,
                b'.' if self.config.arch.is_riscv() => {
                    self.word_left = 4;
                    self.word = 0;
                }
                b'#' | b';' => i = comment_end(text, i),
                _ => self.digit(b)?,
            }
        }
        if self.word_left > 0 {
            return Err(Error::WordCutShort);
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
            byte ^= self.xor as u8;
            self.xor >>= 8;
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

    /// `:name` (§1.5): pass 1 records the current `ip`, last definition winning.
    fn label_definition(&mut self, text: &[u8], at: usize) -> Result<usize, Error> {
        let (name, end) = read_name(text, at)?;
        if self.pass == Pass::One {
            self.labels.insert(name.to_vec(), self.ip);
        }
        // The terminator: `>` is discarded; any other is ordinary input (pass 1) or
        // discarded (pass 2); both read the same for bytes and addresses.
        Ok(if end < text.len() { end + 1 } else { end })
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
        let (target_name, end) = read_name(text, at)?;
        let word_immediate = arch.is_riscv() && sigil != b'%' && sigil != b'&';
        let mut next = if end < text.len() { end + 1 } else { end };
        let mut base_name = None;
        if !word_immediate && end < text.len() && text[end] == b'>' {
            let (base, bend) = read_name(text, next)?;
            base_name = Some(base);
            next = if bend < text.len() { bend + 1 } else { bend };
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
        let field_end = self.ip.wrapping_add(size);
        let displacement = match base_name {
            Some(base) => target.wrapping_sub(self.address_of(base)?) as i32,
            None => self.architectural_displacement(target, field_end, target_name)?,
        };
        let value = match sigil {
            b'$' | b'&' => target as i32,
            _ => displacement,
        };
        check_range(sigil, value)?;
        let bytes = match self.config.endian {
            Endian::Little => value.to_le_bytes()[..size as usize].to_vec(),
            Endian::Big => value.to_be_bytes()[4 - size as usize..].to_vec(),
        };
        self.emit(&bytes);
        Ok(next)
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

    /// RISC-V `!@$~`: an I, B, J or U immediate XORed into the register (§1.8).
    fn word_immediate(&mut self, sigil: u8, target: u32) -> Result<(), Error> {
        let d = target.wrapping_sub(self.ip) as i32;
        let bits = |v: i32, hi: u32, lo: u32| ((v as u32) >> lo) & ((1 << (hi - lo + 1)) - 1);
        let encoded = match sigil {
            b'!' => bits(d.wrapping_add(4), 11, 0) << 20,
            b'@' => {
                if !(-4096..=4095).contains(&d) || d & 1 != 0 {
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
                if !(-1_048_576..=1_048_575).contains(&d) || d & 1 != 0 {
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

/// The byte after a comment (§1.3): through the next `\n` or `\r`, or the end.
fn comment_end(text: &[u8], from: usize) -> usize {
    text[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(text.len(), |n| from + n + 1)
}
