//! Output: the bytes pass 2 writes and the map entries that describe them.
//!
//! It owns the output buffer of a [`Linker`] (bytes written and not yet taken, and how many
//! were taken before), how a caller streams it ([`Linker::take_bytes`],
//! [`Linker::drain_bytes`], [`Linker::written`]), the writing of a pointer's field in the
//! configured byte order, and the map entries of pointers and digit bytes (the map's format
//! is [`crate::map`]'s).

use super::Linker;
use crate::config::Endian;
use crate::map::MapEntry;
use crate::pointer::Spec;
use crate::source::Loc;

impl Linker {
    /// Bytes written so far and not yet taken; lets a caller stream the output.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.drained += self.out.len() as u64;
        std::mem::take(&mut self.out)
    }

    /// Hands the bytes written so far and not yet taken to `f`, then forgets them (the
    /// buffer is kept, so streaming the output allocates nothing after the first chunk).
    pub fn drain_bytes<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let r = f(&self.out);
        self.drained += self.out.len() as u64;
        self.out.clear();
        r
    }

    /// How many output bytes pass 2 has produced so far (taken or not).
    pub fn written(&self) -> u64 {
        self.drained + self.out.len() as u64
    }

    /// Writes the value of a pointer whose field starts at address `start`, in the
    /// configured byte order: at `out_pos` if its place was reserved, else appended (and
    /// mapped, with its token, when a map is made).
    #[inline]
    pub(super) fn write_field(
        &mut self,
        value: u32,
        spec: Spec,
        start: u32,
        at: Loc,
        out_pos: Option<usize>,
        token: &[u8],
    ) {
        let size = spec.size as usize;
        let bytes = match self.config.endian {
            Endian::Little => {
                let b = value.to_le_bytes();
                [b[0], b[1], b[2], b[3]]
            }
            Endian::Big => {
                let b = value.to_be_bytes();
                let mut r = [0u8; 4];
                r[..size].copy_from_slice(&b[4 - size..]);
                r
            }
        };
        if let Some(pos) = out_pos {
            self.out[pos..pos + size].copy_from_slice(&bytes[..size]);
            return;
        }
        let offset = self.drained + self.out.len() as u64;
        self.out.extend_from_slice(&bytes[..size]);
        if self.config.map {
            self.map.push(MapEntry {
                offset,
                len: size as u32,
                address: start,
                at,
                token: token.into(),
                bytes: bytes[..size].into(),
            });
        }
    }

    /// Maps one digit byte: it extends the previous entry when that is digits written
    /// right before it (one word without separators, as M1 prints one token), else it
    /// starts an entry.
    pub(super) fn map_digit_byte(&mut self, byte: u8) {
        let text = &self.digit_text[..self.digits_per_byte as usize];
        let at = self.nib_at;
        let offset = self.drained + self.out.len() as u64;
        if let Some(last) = self.map.last_mut() {
            let adjacent = last.at.file == at.file
                && last.at.line == at.line
                && last.at.col as usize + last.token.len() == at.col as usize
                && last.offset + u64::from(last.len) == offset
                && last.token.iter().all(u8::is_ascii_hexdigit);
            if adjacent {
                last.len += 1;
                let mut t = std::mem::take(&mut last.token).into_vec();
                t.extend_from_slice(text);
                last.token = t.into_boxed_slice();
                let mut b = std::mem::take(&mut last.bytes).into_vec();
                b.push(byte);
                last.bytes = b.into_boxed_slice();
                return;
            }
        }
        self.map.push(MapEntry {
            offset,
            len: 1,
            address: self.ip,
            at,
            token: text.into(),
            bytes: Box::new([byte]),
        });
    }
}
