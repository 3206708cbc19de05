//! blood-elf: the M1 footer that gives a `-debug` ELF its `.symtab` and `.strtab`.
//!
//! It owns the label scan (spec `hex2-m1.md` section 3: a `:` anywhere outside comments and
//! double-quoted strings starts a name running to a space, tab, `\n`, `>` or the end) and
//! the exact text mescc-tools 1.7.0's blood-elf writes for both ELF classes, endiannesses
//! and digit styles. It does not read files or parse command lines ([`crate::tool`] does).

use crate::config::{DigitStyle, Endian};
use crate::number::push_digits;
use crate::source::Source;

/// How to write the footer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options {
    /// The 64-bit ELF layout (`--64`).
    pub elf64: bool,
    /// Byte order of the constants.
    pub endian: Endian,
    /// Digit style of the constants.
    pub digits: DigitStyle,
}

/// Names longer than this are refused, as by the reference (its 4096-byte token buffer).
pub const MAX_NAME: usize = 4095;

/// Why the label scan stopped: the byte offset of the `:` and what is wrong there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanError {
    /// A `:` is the last byte of the file: the reference has no name to read.
    NameAtEnd(usize),
    /// The name after the `:` at this offset has more than [`MAX_NAME`] bytes (the length).
    NameTooLong(usize, usize),
}

/// The labels defined in `text`, in order (duplicates kept), as the reference scans them:
/// the byte right after a `:` always starts the name (`: a` names " a"), which then runs to
/// a space, tab, `\n`, `>` (consumed with it) or the end; `#` and `;` comment to a `\n` or
/// `\r`; a `"` skips to the next `"`. A name is written as a C string, so it ends at its
/// first NUL byte (the bytes after it still count against [`MAX_NAME`]).
pub fn labels(text: &[u8]) -> Result<Vec<&[u8]>, ScanError> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'#' | b';' => {
                i = text[i + 1..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .map_or(text.len(), |p| i + 1 + p + 1);
            }
            b'"' => {
                i = text[i + 1..]
                    .iter()
                    .position(|&c| c == b'"')
                    .map_or(text.len(), |p| i + 1 + p + 1);
            }
            b':' => {
                let start = i + 1;
                if start >= text.len() {
                    return Err(ScanError::NameAtEnd(i));
                }
                let end = text[start + 1..]
                    .iter()
                    .position(|&c| matches!(c, b' ' | b'\t' | b'\n' | b'>'))
                    .map_or(text.len(), |p| start + 1 + p);
                if end - start > MAX_NAME {
                    return Err(ScanError::NameTooLong(i, end - start));
                }
                let name = &text[start..end];
                let c_string = name
                    .iter()
                    .position(|&c| c == 0)
                    .map_or(name, |n| &name[..n]);
                found.push(c_string);
                // the terminator is consumed with the name
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    Ok(found)
}

/// The located diagnostic for a [`ScanError`] in `source`.
#[cold]
fn scan_diagnostic(source: &Source<'_>, e: ScanError) -> toolbase::diag::Diagnostic {
    use toolbase::diag::Diagnostic;
    match e {
        ScanError::NameAtEnd(at) => Diagnostic::new("label ':' at the end of the file")
            .in_file(source.name)
            .at_offset_in(source.text, at)
            .expected("a label name after ':'")
            .found("the end of the file")
            .hint("blood-elf reads the byte after ':' as the start of a name; add the name or remove the ':'"),
        ScanError::NameTooLong(at, len) => Diagnostic::new("label name too long")
            .in_file(source.name)
            .at_offset_in(source.text, at)
            .expected(format!("at most {MAX_NAME} bytes"))
            .found(format!("{len} bytes"))
            .hint("blood-elf limits names to 4095 bytes; shorten the name"),
    }
}

/// The footer for the labels of `sources` plus the `entries` (`--entry` names, which come
/// first).
pub fn footer(
    sources: &[Source<'_>],
    entries: &[&[u8]],
    options: &Options,
) -> Result<Vec<u8>, toolbase::diag::Diagnostic> {
    let mut symbols: Vec<&[u8]> = entries.to_vec();
    for s in sources {
        symbols.extend(labels(s.text).map_err(|e| scan_diagnostic(s, e))?);
    }
    let last_entry = entries.last().copied();
    let mut w = Writer {
        o: Vec::new(),
        options,
    };
    w.section_names();
    w.null_section_header();
    let count = (symbols.len() + 1) as i32;
    for header in section_headers(count, options.elf64) {
        w.section_header(&header);
    }
    w.string_table(&symbols);
    w.text("# Generated symbol table\n:ELF_sym\n# Required NULL symbol entry\n");
    w.null_symbol();
    for s in &symbols {
        let hidden = s.first() == Some(&b'_') && Some(*s) != last_entry;
        w.symbol(s, hidden);
    }
    w.text("# END Generated symbol table\n\n:ELF_end\n");
    Ok(w.o)
}

/// One of the four section headers after the NULL one: its name (`.NAME`'s label part),
/// its field values and the labels its address, offset and size are computed from.
struct SectionHeader {
    name: &'static str,
    ty: i32,
    flags: i32,
    addr: &'static str,
    offset: &'static str,
    size: &'static str,
    link: i32,
    info: i32,
    entsize: i32,
}

/// The section headers of `.text`, `.shstrtab`, `.strtab` and `.symtab` (with its `count`
/// symbols, the NULL one included), in the reference's order.
fn section_headers(count: i32, elf64: bool) -> [SectionHeader; 4] {
    let plain = |name, ty, flags, size| SectionHeader {
        name,
        ty,
        flags,
        addr: "",
        offset: "",
        size,
        link: 0,
        info: 0,
        entsize: 0,
    };
    [
        SectionHeader {
            addr: "ELF_text",
            offset: "ELF_text>ELF_base",
            ..plain("text", 1, 6, "ELF_data>ELF_text")
        },
        SectionHeader {
            addr: "ELF_shstr",
            offset: "ELF_shstr>ELF_base",
            ..plain("shstr", 3, 0, "ELF_section_headers>ELF_shstr")
        },
        SectionHeader {
            addr: "ELF_str",
            offset: "ELF_str>ELF_base",
            ..plain("str", 3, 0, "ELF_sym>ELF_str")
        },
        SectionHeader {
            addr: "ELF_sym",
            offset: "ELF_sym>ELF_base",
            link: 3,
            info: count,
            entsize: if elf64 { 0x18 } else { 0x10 },
            ..plain("sym", 2, 0, "ELF_end>ELF_sym")
        },
    ]
}

/// The footer text being written, in the layout, byte order and digit style of `options`.
struct Writer<'a> {
    o: Vec<u8>,
    options: &'a Options,
}

impl Writer<'_> {
    /// Text as it is.
    fn text(&mut self, s: &str) {
        self.o.extend_from_slice(s.as_bytes());
    }

    /// A constant of `bytes` bytes, quoted (`'2A000000'`).
    fn number(&mut self, value: i32, bytes: usize) {
        self.o.push(b'\'');
        let Options { digits, endian, .. } = *self.options;
        push_digits(&mut self.o, value, bytes, digits, endian);
        self.o.push(b'\'');
    }

    /// A word that is 8 bytes in the 64-bit layout: the value then a zero word.
    fn word(&mut self, value: i32) {
        self.number(value, 4);
        self.pad();
    }

    /// The zero word that widens a 4-byte pointer to 8 bytes in the 64-bit layout.
    fn pad(&mut self) {
        if self.options.elf64 {
            self.o.push(b' ');
            self.number(0, 4);
        }
    }

    /// The section name table (`.shstrtab`): NULL, `.text`, `.shstrtab`, `.symtab`,
    /// `.strtab`.
    fn section_names(&mut self) {
        self.text("# Generated sections\n:ELF_shstr\n");
        self.number(0, 1);
        self.text(
            "\t# NULL\n:ELF_shstr__text\n\".text\"\n:ELF_shstr__shstr\n\".shstrtab\"\n:ELF_shstr__sym\n\".symtab\"\n:ELF_shstr__str\n\".strtab\"\n\n",
        );
    }

    /// The NULL section header that starts the table: zeros, alignment 1.
    fn null_section_header(&mut self) {
        self.text(":ELF_section_headers\n");
        for (v, w, name) in [
            (0, false, "sh_name"),
            (0, false, "sh_type"),
            (0, true, "sh_flags"),
            (0, true, "sh_addr"),
            (0, true, "sh_offset"),
            (0, true, "sh_size"),
            (0, false, "sh_link"),
            (0, false, "sh_info"),
            (1, true, "sh_addralign"),
            (0, true, "sh_entsize"),
        ] {
            if w {
                self.word(v);
            } else {
                self.number(v, 4);
            }
            self.text(&format!("\t#{name}\n"));
        }
        self.text("\n");
    }

    /// One section header of [`section_headers`], each field commented with its name.
    fn section_header(&mut self, h: &SectionHeader) {
        let label = h.name;
        self.text(&format!(
            ":ELF_section_header_{label}\n%ELF_shstr__{label}>ELF_shstr\t#sh_name\n"
        ));
        self.number(h.ty, 4);
        self.text("\t#sh_type\n");
        self.word(h.flags);
        self.text(&format!("\t#sh_flags\n&{}", h.addr));
        self.pad();
        self.text(&format!("\t#sh_addr\n%{}", h.offset));
        self.pad();
        self.text(&format!("\t#sh_offset\n%{}", h.size));
        self.pad();
        self.text("\t#sh_size\n");
        self.number(h.link, 4);
        self.text("\t#sh_link\n");
        self.number(h.info, 4);
        self.text("\t#sh_info\n");
        self.word(1);
        self.text("\t#sh_addralign\n");
        self.word(h.entsize);
        self.text("\t#sh_entsize\n\n");
    }

    /// The string table (`.strtab`): the NULL string, then each symbol's name as a
    /// labelled string.
    fn string_table(&mut self, symbols: &[&[u8]]) {
        self.text("# Generated string table\n:ELF_str\n");
        self.number(0, 1);
        self.text("\t# NULL string\n");
        for s in symbols {
            self.o.extend_from_slice(b":ELF_str_");
            self.o.extend_from_slice(s);
            self.o.extend_from_slice(b"\t\"");
            self.o.extend_from_slice(s);
            self.o.extend_from_slice(b"\"\n");
        }
        self.text("# END Generated string table\n\n\n");
    }

    /// The NULL symbol the symbol table starts with, in the field order of the layout.
    fn null_symbol(&mut self) {
        if self.options.elf64 {
            self.number(0, 4);
            self.text("\t# st_name\n");
            self.number(0, 1);
            self.text("\t# st_info\n");
            self.number(0, 1);
            self.text("\t# st_other\n");
            self.number(1, 2);
            self.text("\t# st_shndx\n");
            self.word(0);
            self.text("\t# st_value\n");
            self.word(0);
            self.text("\t# st_size\n\n");
        } else {
            self.number(0, 4);
            self.text("\t# st_name\n");
            self.number(0, 4);
            self.text("\t# st_value\n");
            self.number(0, 4);
            self.text("\t# st_size\n");
            self.number(0, 1);
            self.text("\t# st_info\n");
            self.number(0, 1);
            self.text("\t# st_other\n");
            self.number(1, 2);
            self.text("\t# st_shndx\n\n");
        }
    }

    /// The symbol-table entry of the function `name` (its value the label's address, its
    /// size unknown), `hidden` or not, in the field order of the layout.
    fn symbol(&mut self, name: &[u8], hidden: bool) {
        self.o.extend_from_slice(b"%ELF_str_");
        self.o.extend_from_slice(name);
        self.o.extend_from_slice(b">ELF_str\t# st_name\n");
        if self.options.elf64 {
            self.symbol_kind(hidden);
            self.o.push(b'&');
            self.o.extend_from_slice(name);
            self.pad();
            self.text("\t# st_value\n");
            self.word(0);
            self.text("\t# st_size (unknown size)\n\n");
        } else {
            self.o.push(b'&');
            self.o.extend_from_slice(name);
            self.text("\t#st_value\n");
            self.number(0, 4);
            self.text("\t# st_size (unknown size)\n");
            self.symbol_kind(hidden);
            self.o.push(b'\n');
        }
    }

    /// A symbol's `st_info` (a function), `st_other` (hidden or default visibility) and
    /// `st_shndx` fields.
    fn symbol_kind(&mut self, hidden: bool) {
        self.number(2, 1);
        self.text("\t# st_info (FUNC)\n");
        self.number(if hidden { 2 } else { 0 }, 1);
        let visibility = match (hidden, self.options.elf64) {
            (true, _) => "hidden",
            (false, false) => "default",
            (false, true) => "other",
        };
        self.text(&format!("\t# st_other ({visibility})\n"));
        self.number(1, 2);
        self.text("\t# st_shndx\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_scan_follows_the_reference() {
        let src = b":_start ; entry\n:main \"a : not\" '3A :sq' mid:token\n# :no\n:x>y";
        let got: Vec<_> = labels(src)
            .unwrap()
            .into_iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert_eq!(got, ["_start", "main", "sq'", "token", "x"]);
    }
}
