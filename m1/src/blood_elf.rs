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
    let mut o = Vec::new();
    let q = |o: &mut Vec<u8>, value: i32, bytes: usize| {
        o.push(b'\'');
        push_digits(o, value, bytes, options.digits, options.endian);
        o.push(b'\'');
    };
    // A word that is 8 bytes in the 64-bit layout: the value then a zero word.
    let wide = |o: &mut Vec<u8>, value: i32| {
        q(o, value, 4);
        if options.elf64 {
            o.push(b' ');
            q(o, 0, 4);
        }
    };
    let pad = |o: &mut Vec<u8>| {
        if options.elf64 {
            o.push(b' ');
            q(o, 0, 4);
        }
    };
    let line = |o: &mut Vec<u8>, s: &str| o.extend_from_slice(s.as_bytes());

    line(&mut o, "# Generated sections\n:ELF_shstr\n");
    q(&mut o, 0, 1);
    line(
        &mut o,
        "\t# NULL\n:ELF_shstr__text\n\".text\"\n:ELF_shstr__shstr\n\".shstrtab\"\n:ELF_shstr__sym\n\".symtab\"\n:ELF_shstr__str\n\".strtab\"\n\n",
    );

    line(&mut o, ":ELF_section_headers\n");
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
            wide(&mut o, v);
        } else {
            q(&mut o, v, 4);
        }
        line(&mut o, &format!("\t#{name}\n"));
    }
    line(&mut o, "\n");

    let count = (symbols.len() + 1) as i32;
    let entsize = if options.elf64 { 0x18 } else { 0x10 };
    struct Header {
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
    let headers = [
        Header {
            name: "text",
            ty: 1,
            flags: 6,
            addr: "ELF_text",
            offset: "ELF_text>ELF_base",
            size: "ELF_data>ELF_text",
            link: 0,
            info: 0,
            entsize: 0,
        },
        Header {
            name: "shstr",
            ty: 3,
            flags: 0,
            addr: "ELF_shstr",
            offset: "ELF_shstr>ELF_base",
            size: "ELF_section_headers>ELF_shstr",
            link: 0,
            info: 0,
            entsize: 0,
        },
        Header {
            name: "str",
            ty: 3,
            flags: 0,
            addr: "ELF_str",
            offset: "ELF_str>ELF_base",
            size: "ELF_sym>ELF_str",
            link: 0,
            info: 0,
            entsize: 0,
        },
        Header {
            name: "sym",
            ty: 2,
            flags: 0,
            addr: "ELF_sym",
            offset: "ELF_sym>ELF_base",
            size: "ELF_end>ELF_sym",
            link: 3,
            info: count,
            entsize,
        },
    ];
    for h in headers {
        let label = h.name;
        line(
            &mut o,
            &format!(":ELF_section_header_{label}\n%ELF_shstr__{label}>ELF_shstr\t#sh_name\n"),
        );
        q(&mut o, h.ty, 4);
        line(&mut o, "\t#sh_type\n");
        wide(&mut o, h.flags);
        line(&mut o, &format!("\t#sh_flags\n&{}", h.addr));
        pad(&mut o);
        line(&mut o, &format!("\t#sh_addr\n%{}", h.offset));
        pad(&mut o);
        line(&mut o, &format!("\t#sh_offset\n%{}", h.size));
        pad(&mut o);
        line(&mut o, "\t#sh_size\n");
        q(&mut o, h.link, 4);
        line(&mut o, "\t#sh_link\n");
        q(&mut o, h.info, 4);
        line(&mut o, "\t#sh_info\n");
        wide(&mut o, 1);
        line(&mut o, "\t#sh_addralign\n");
        wide(&mut o, h.entsize);
        line(&mut o, "\t#sh_entsize\n\n");
    }

    line(&mut o, "# Generated string table\n:ELF_str\n");
    q(&mut o, 0, 1);
    line(&mut o, "\t# NULL string\n");
    for s in &symbols {
        o.extend_from_slice(b":ELF_str_");
        o.extend_from_slice(s);
        o.extend_from_slice(b"\t\"");
        o.extend_from_slice(s);
        o.extend_from_slice(b"\"\n");
    }
    line(&mut o, "# END Generated string table\n\n\n");

    line(
        &mut o,
        "# Generated symbol table\n:ELF_sym\n# Required NULL symbol entry\n",
    );
    if options.elf64 {
        q(&mut o, 0, 4);
        line(&mut o, "\t# st_name\n");
        q(&mut o, 0, 1);
        line(&mut o, "\t# st_info\n");
        q(&mut o, 0, 1);
        line(&mut o, "\t# st_other\n");
        q(&mut o, 1, 2);
        line(&mut o, "\t# st_shndx\n");
        wide(&mut o, 0);
        line(&mut o, "\t# st_value\n");
        wide(&mut o, 0);
        line(&mut o, "\t# st_size\n\n");
    } else {
        q(&mut o, 0, 4);
        line(&mut o, "\t# st_name\n");
        q(&mut o, 0, 4);
        line(&mut o, "\t# st_value\n");
        q(&mut o, 0, 4);
        line(&mut o, "\t# st_size\n");
        q(&mut o, 0, 1);
        line(&mut o, "\t# st_info\n");
        q(&mut o, 0, 1);
        line(&mut o, "\t# st_other\n");
        q(&mut o, 1, 2);
        line(&mut o, "\t# st_shndx\n\n");
    }
    for s in &symbols {
        let hidden = s.first() == Some(&b'_') && Some(*s) != last_entry;
        o.extend_from_slice(b"%ELF_str_");
        o.extend_from_slice(s);
        o.extend_from_slice(b">ELF_str\t# st_name\n");
        let other = |o: &mut Vec<u8>| {
            q(o, 2, 1);
            o.extend_from_slice(b"\t# st_info (FUNC)\n");
            q(o, if hidden { 2 } else { 0 }, 1);
            let name = match (hidden, options.elf64) {
                (true, _) => "hidden",
                (false, false) => "default",
                (false, true) => "other",
            };
            o.extend_from_slice(format!("\t# st_other ({name})\n").as_bytes());
            q(o, 1, 2);
            o.extend_from_slice(b"\t# st_shndx\n");
        };
        if options.elf64 {
            other(&mut o);
            o.push(b'&');
            o.extend_from_slice(s);
            pad(&mut o);
            line(&mut o, "\t# st_value\n");
            wide(&mut o, 0);
            line(&mut o, "\t# st_size (unknown size)\n\n");
        } else {
            o.push(b'&');
            o.extend_from_slice(s);
            line(&mut o, "\t#st_value\n");
            q(&mut o, 0, 4);
            line(&mut o, "\t# st_size (unknown size)\n");
            other(&mut o);
            o.push(b'\n');
        }
    }
    line(&mut o, "# END Generated symbol table\n\n:ELF_end\n");
    Ok(o)
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
