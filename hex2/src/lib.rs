//! # hex2: the hex2 linker of mescc-tools, and the seed hex1 and hex2-0, for every architecture
//!
//! hex2 is hex0 plus labels and pointers. Hex digits pair into bytes (across whitespace,
//! comments, labels and pointers; the half byte left at the end of each file is dropped),
//! `#` and `;` start a comment that runs to the end of the line, `:name` defines a label at
//! the address of the next byte, and a pointer sigil followed by a label name writes that
//! label's address or a displacement to it:
//!
//! | sigil | bytes | value |
//! |---|---|---|
//! | `!` | 1 | relative displacement (signed, checked) |
//! | `@` | 2 | relative displacement (signed, checked) |
//! | `$` | 2 | absolute address (unsigned, checked) |
//! | `~` | 3 | relative displacement (signed, checked) |
//! | `%` | 4 | relative displacement |
//! | `&` | 4 | absolute address |
//!
//! `%a>b` writes `a - b`. Relative displacements are measured from the end of the field,
//! except where the architecture says otherwise: armv7l, aarch64 and ppc64le have their own
//! branch rules selected by a preceding `^`, and riscv32/riscv64 switch `! @ $ ~` to
//! instruction immediates (I, B, J, U formats) XORed into the next 32-bit word, along with
//! `.XXXXXXXX` literal words. `<` pads to a 4-byte boundary on armv7l, aarch64 and RISC-V.
//! The exact rules are those of mescc-tools 1.7.0 (`spec/hex2-m1.md` and `spec/grammar.md` §2-3 of the repository); the
//! seed forms (stage0-posix hex1 and hex2-0) are selected by [`Dialect`].
//!
//! ```
//! use hex2::{link, Arch, Config, Endian, Source};
//! let mut config = Config::new(Arch::X86);
//! config.endian = Endian::Little;
//! config.base_address = 0x0804_8000;
//! let text = b":_start\nB8 2A 00 00 00 # mov eax, 42\nEB !_start # jmp _start\n&_start\n";
//! let linked = link(&[Source { name: "exit.hex2", text }], &config).unwrap();
//! assert_eq!(linked.bytes, [0xB8, 0x2A, 0, 0, 0, 0xEB, 0xF9, 0x00, 0x80, 0x04, 0x08]);
//! assert_eq!(linked.labels.get(b"_start").unwrap().address, 0x0804_8000);
//! ```
//!
//! Non-features: no 8-byte pointers (addresses are 32-bit and wrap, as in the reference),
//! no network, no state outside the files named on the command line; the library never
//! reads argv or the filesystem (the [`tool`] module does).
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Errors are the shared `toolbase::diag::Diagnostic` by project convention; they are built
// once, on the cold path, so their size does not matter.
#![allow(clippy::result_large_err)]

mod config;
mod engine;
pub mod labels;
mod linked;
pub mod map;
pub mod pointer;
pub mod reference;
mod source;
pub mod tool;

pub use config::{reference_warnings, ByteMode, Config, Dialect, Endian};
pub use engine::{Linker, Pass};
pub use labels::{LabelDef, LabelTable};
pub use linked::Linked;
pub use map::MapEntry;
pub use source::{Loc, Source};
pub use toolbase::number::strtoint;

use toolbase::diag::Diagnostic;

/// A target architecture of hex2 (spec 1.2): the shared table's, with its names, byte
/// order and seed base address.
pub use toolbase::arch::{Arch, ARCHES};

/// Links `sources` (in order) into bytes: pass 1 assigns label addresses, pass 2 writes.
pub fn link(sources: &[Source<'_>], config: &Config) -> Result<Linked, Diagnostic> {
    let mut linker = Linker::new(*config);
    for pass in [Pass::One, Pass::Two] {
        linker.begin_pass(pass);
        for s in sources {
            linker.begin_file(s.name);
            linker.feed(s.text)?;
            linker.end_file()?;
        }
    }
    linker.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x86() -> Config {
        let mut c = Config::new(Arch::X86);
        c.endian = Endian::Little;
        c.base_address = 0x1000;
        c
    }

    fn one(text: &[u8], config: &Config) -> Result<Linked, Diagnostic> {
        link(
            &[Source {
                name: "t.hex2",
                text,
            }],
            config,
        )
    }

    #[test]
    fn undefined_label_names_every_use() {
        let e = one(b":a 00\n%nope\n&a\n  !nope\n", &x86()).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with("t.hex2:2:1: error: undefined label 'nope'"),
            "{text}"
        );
        assert!(text.contains("also used at t.hex2:4:3"), "{text}");
    }

    #[test]
    fn displacement_out_of_range_gives_value_range_and_both_sites() {
        let mut src = b":far\n".to_vec();
        src.extend(std::iter::repeat_n(b"00 ".as_slice(), 200).flatten());
        src.extend_from_slice(b"\nEB !far\n");
        let text = one(&src, &x86()).unwrap_err().to_string();
        assert!(
            text.starts_with("t.hex2:3:4: error: relative displacement of -202"),
            "{text}"
        );
        assert!(text.contains("-128 ..= 127"), "{text}");
        assert!(text.contains("'far' is defined at t.hex2:1:1"), "{text}");
    }

    #[test]
    fn riscv_dot_cut_short_is_an_error_in_full_hex2_but_dropped_by_the_seed() {
        let mut c = Config::new(Arch::Riscv64);
        c.endian = Endian::Little;
        assert!(one(b"11 22 .0000", &c).is_err());
        let seed = Config::seed(Dialect::SeedHex2, Arch::Riscv64);
        assert_eq!(
            one(b":a 11 22 33 .a", &seed).unwrap().bytes,
            [0x11, 0x22, 0x33]
        );
    }

    #[test]
    fn a_comment_running_to_the_end_of_the_file_is_an_error_only_in_the_seeds() {
        // every seed hex1 and hex2-0 hangs there (issue 15); full hex2 ends the comment
        assert_eq!(one(b"00 # c", &x86()).unwrap().bytes, [0]);
        for dialect in [Dialect::SeedHex1, Dialect::SeedHex2] {
            for arch in [
                Arch::X86,
                Arch::Amd64,
                Arch::Aarch64,
                Arch::Riscv32,
                Arch::Riscv64,
            ] {
                let seed = Config::seed(dialect, arch);
                let e = one(b"00\n11 ; c", &seed).unwrap_err().to_string();
                assert!(
                    e.contains("t.hex2:2:4: error: comment at the end of the file"),
                    "{e}"
                );
                assert!(one(b"00 # c\n", &seed).is_ok());
            }
            let seed = Config::seed(dialect, Arch::X86);
            assert!(one(b"00 # c\r", &seed).is_ok(), "a carriage return ends it");
        }
        let aarch64_hex1 = Config::seed(Dialect::SeedHex1, Arch::Aarch64);
        assert!(
            one(b"00 # c\r", &aarch64_hex1).is_err(),
            "only a newline ends it there"
        );
    }

    #[test]
    fn pointer_at_end_of_file_is_an_error() {
        let e = one(b"00 &", &x86()).unwrap_err();
        assert!(e.to_string().contains("pointer '&' at the end of the file"));
        assert!(one(b": 00 & ", &x86()).is_ok(), "the empty label is fine");
    }

    #[test]
    fn label_too_long_is_an_error_only_in_full_hex2() {
        let mut src = b":".to_vec();
        src.extend(std::iter::repeat_n(b'L', 4096));
        assert!(one(&src, &x86()).is_err());
        src.pop();
        assert!(one(&src, &x86()).is_ok());
    }

    #[test]
    fn feeding_line_by_line_equals_feeding_whole() {
        let text = b":a 0 1 # c\n2 3 %a ;x\n:b A\nB &b\n<^ 4\n";
        for arch in ARCHES {
            let mut c = Config::new(arch);
            c.base_address = 0x401;
            let whole = one(text, &c).unwrap().bytes;
            let mut l = Linker::new(c);
            for pass in [Pass::One, Pass::Two] {
                l.begin_pass(pass);
                l.begin_file("t.hex2");
                for line in text.split_inclusive(|&b| b == b'\n') {
                    l.feed(line).unwrap();
                }
                l.end_file().unwrap();
            }
            assert_eq!(l.finish().unwrap().bytes, whole, "{arch:?}");
        }
    }

    #[test]
    fn deferred_pointers_equal_eager_ones() {
        // without a map, x86 pass 2 resolves pointers per chunk in groups; with a map,
        // on the spot: both must give the same bytes and the same first error
        let mut text = Vec::new();
        for i in 0..300 {
            let j = (i * 7919) % 300;
            text.extend_from_slice(
                format!(":L{i}\nE8 %L{j} &L{j} @L{i} 90 $L{j}>L{i}\n").as_bytes(),
            );
        }
        let mut c = x86();
        let plain = one(&text, &c).unwrap().bytes;
        c.map = true;
        assert_eq!(one(&text, &c).unwrap().bytes, plain);
        // the first failing pointer is the one reported
        let bad = format!("&L1 !far &nowhere\n:L1 {}\n:far\n", "00 ".repeat(200));
        for map in [false, true] {
            c.map = map;
            let e = one(bad.as_bytes(), &c).unwrap_err().to_string();
            assert!(e.contains("does not fit in 1 byte"), "{e}");
        }
    }

    #[test]
    fn bulk_digit_runs_keep_label_lines_and_columns() {
        // the no-map fast path counts digits and newlines in bulk; the map path goes
        // digit by digit: label sites must agree
        let mut text = Vec::new();
        for i in 0..200usize {
            text.extend_from_slice(&b"0123456789 aBcD\t\n"[..(i * 7) % 18]);
            text.extend_from_slice(format!(" :L{i} 0\n\n").as_bytes());
        }
        let mut c = x86();
        let fast = one(&text, &c).unwrap();
        c.map = true;
        let slow = one(&text, &c).unwrap();
        assert_eq!(fast.bytes, slow.bytes);
        let sites = |l: &Linked| l.labels.iter().map(|(_, d)| d).collect::<Vec<_>>();
        assert_eq!(sites(&fast), sites(&slow));
    }

    #[test]
    fn map_lists_every_emitting_token() {
        let mut c = x86();
        c.map = true;
        let linked = one(b":s\nE8 %s\n90 90\nC3C3\n", &c).unwrap();
        let mut out = Vec::new();
        map::write_map(&mut out, &linked.map, &linked.files).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# hexroot hex2 map 2\n\
             0 1 0x00001000 e8 t.hex2:2:1 E8\n\
             1 4 0x00001001 fbffffff t.hex2:2:4 %s\n\
             5 1 0x00001005 90 t.hex2:3:1 90\n\
             6 1 0x00001006 90 t.hex2:3:4 90\n\
             7 2 0x00001007 c3c3 t.hex2:4:1 C3C3\n"
        );
        assert_eq!(map::entry_at(&linked.map, 3).unwrap().offset, 1);
        assert_eq!(linked.labels.get(b"s").unwrap().at.line, 1);
    }

    #[test]
    fn seed_riscv_adds_the_high_nibble_back() {
        // seed vectors xor-into-nonzero: '@a' four bytes after 'a' over FF FF FF FF
        let seed = Config::seed(Dialect::SeedHex1, Arch::Riscv32);
        let got = one(b":a $a FF FF FF FF @a FF FF FF FF", &seed)
            .unwrap()
            .bytes;
        assert_eq!(got, [0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0xF1, 0xFF, 0xE1]);
    }
}
