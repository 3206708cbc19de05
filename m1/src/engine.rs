//! The M1 engine: the two passes over the inputs, and which modules do what.
//!
//! It implements the semantics of spec `hex2-m1.md` 2.2-2.6 over the [`crate::lexer`]
//! tokens in two passes over the inputs, which it never copies. Pass 1 ([`crate::analyse`])
//! interns every distinct text ([`crate::intern`]), records DEFINEs and assigns every
//! expression, so every error is found (a typed [`crate::diagnose::Error`], worded there)
//! before pass 2 ([`crate::print`]) writes a single byte, and a failed run writes nothing. Expressions
//! are not stored (except DEFINE values, which are slices of the input, and pass 1's record
//! number for each token it had to look up): numbers and strings are re-expressed from
//! their text ([`crate::express`]) as they are printed. Both passes walk the inputs with the
//! fast [`crate::walk`]; errors and the map use the located walk of [`crate::expand`]. On
//! large inputs pass 2 runs on a second thread while the calling thread writes the blocks
//! it produces ([`crate::blocks`]). This module only orchestrates: it runs pass 1 fast, and
//! again exactly when the fast run met an invalid token, and it holds the library entry
//! points over the two passes ([`assemble`], [`assemble_to`], [`assemble_with_map`],
//! re-exported at the crate root) and the one wording of a failed output write
//! (`write_error`). It does not parse command lines.

use std::io::Write;

use toolbase::diag::Diagnostic;

use crate::analyse::analyse_in;
pub(crate) use crate::analyse::Program;
pub(crate) use crate::blocks::second_core;
use crate::config::Config;
use crate::diagnose::nul_in_token;
use crate::source::Source;

/// Pass 1 and expression assignment; every error of the program is found here.
///
/// Tokens whose expression follows from their text alone (strings, valid numbers,
/// pass-through, `<N`) are not interned, unless they are DEFINE names or values: only
/// their validity matters, and it is checked on the spot. If one is invalid, the analysis
/// restarts in `exact` mode, which interns every text so that the error reported is the one
/// the reference's newest-first order picks (and a later DEFINE of that text can rescue it).
pub(crate) fn analyse<'a>(
    sources: &[Source<'a>],
    config: &Config,
) -> Result<Program<'a>, Diagnostic> {
    if let Some(e) = nul_in_token(sources) {
        return Err(e.diagnostic(sources));
    }
    match analyse_in(sources, config, false)? {
        Some(p) => Ok(p),
        None => analyse_in(sources, config, true).map(|p| p.expect("exact mode completes")),
    }
}

/// Assembles `sources` (in order, as one program) into hex2 text.
pub fn assemble(sources: &[Source<'_>], config: &Config) -> Result<Vec<u8>, Diagnostic> {
    let mut out = Vec::new();
    assemble_to(sources, config, &mut out)?;
    Ok(out)
}

/// Assembles `sources` and streams the hex2 text to `out`. Every error is found before the
/// first byte is written, so on `Err` nothing was written (except on a write failure).
pub fn assemble_to(
    sources: &[Source<'_>],
    config: &Config,
    out: &mut dyn Write,
) -> Result<(), Diagnostic> {
    let program = analyse(sources, config)?;
    program
        .print(sources, config, out, None)
        .map_err(|e| write_error(&e))
}

/// As [`assemble_to`], and also writes the map to `map` in the format of [`crate::map`] (its
/// header names `output`, the name of the file `out` writes, e.g. M1's `-o`).
pub fn assemble_with_map(
    sources: &[Source<'_>],
    config: &Config,
    out: &mut dyn Write,
    map: &mut dyn Write,
    output: &str,
) -> Result<(), Diagnostic> {
    let program = analyse(sources, config)?;
    program
        .print(sources, config, out, Some((map, output)))
        .map_err(|e| write_error(&e))
}

/// The diagnostic for a failed write of the output (M1's, M0's and blood-elf's).
#[cold]
pub(crate) fn write_error(e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(format!(
        "cannot write output: {}",
        toolbase::diag::describe_io_error(e)
    ))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::blocks::Sink;
    use crate::{Arch, DigitStyle, Endian};

    fn run(src: &[u8], config: &Config, exact: bool) -> Result<Vec<u8>, String> {
        let sources = [Source {
            name: "t",
            text: src,
        }];
        let p = analyse_in(&sources, config, exact).map_err(|e| e.to_string())?;
        let Some(p) = p else {
            return Err("fast path gave up".into());
        };
        let mut out = Vec::new();
        p.print(&sources, config, &mut out, None).unwrap();
        // The plain printer (fast walk) and the mapped one (located walk) agree.
        let (mut mapped, mut map) = (Vec::new(), Vec::new());
        p.print(&sources, config, &mut mapped, Some((&mut map, "t.hex2")))
            .unwrap();
        assert_eq!(out, mapped, "{:?}", String::from_utf8_lossy(src));
        Ok(out)
    }

    /// On a large input, pass 2 with its writing thread gives the one-thread output, and a
    /// failing writer stops it with the writer's error (no hang).
    #[test]
    fn threaded_pass2_agrees_and_stops_on_write_errors() {
        let mut src = String::from("DEFINE op_a 0F0B\nDEFINE long 0123456789ABCDEF0123456789\n");
        for i in 0..60_000 {
            src.push_str(&format!(
                ":l{i} op_a %{i} !{} long \"s{i}\" &l{i} <2 ; c\n",
                i % 100
            ));
        }
        assert!(src.len() > 1 << 20);
        let sources = [Source {
            name: "big",
            text: src.as_bytes(),
        }];
        let config = Config {
            arch: Arch::X86,
            endian: Endian::Little,
            digits: DigitStyle::Hex,
        };
        let p = analyse(&sources, &config).unwrap();
        let mut threaded = Vec::new();
        p.print(&sources, &config, &mut threaded, None).unwrap();
        let mut single = Vec::new();
        p.print_blocks(&sources, &config, Sink::Writer(&mut single))
            .unwrap();
        assert!(threaded == single, "outputs differ");

        struct Failing(usize);
        impl Write for Failing {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if self.0 < buf.len() {
                    return Err(std::io::Error::other("disk full"));
                }
                self.0 -= buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        for room in [0, 1 << 20] {
            let e = p
                .print(&sources, &config, &mut Failing(room), None)
                .unwrap_err();
            assert_eq!(e.to_string(), "disk full");
        }
    }

    /// The fast path (tokens judged by their text) agrees with the exact, fully interned
    /// analysis whenever it completes, and gives up exactly when there is an error to find.
    #[test]
    fn fast_path_agrees_with_exact_analysis() {
        let vocab: &[&str] = &[
            "DEFINE",
            "x",
            "y",
            "!1",
            "!300",
            "@-1",
            "$70000",
            "%9",
            "&0x10",
            ":l",
            "&l",
            "<2",
            "<-1",
            "<0",
            "\"ab\"",
            "'cd'",
            "16",
            "70000",
            "90",
            "\n",
            "\n",
            " ",
            "!0abc",
            "~5",
            "^~l",
            "# c\n",
            "DEFINE !300 FF\n",
            "DEFINE y 0123456789ABCDEF0123\n",
            ":a_rather_long_label_name",
            "%-_5",
            "!_1",
            "%",
            "$0x_7f",
            "<1",
        ];
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..3000 {
            let mut src = String::new();
            for _ in 0..(round % 17) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                src.push_str(vocab[(x % vocab.len() as u64) as usize]);
                src.push(' ');
            }
            for arch in [Arch::KnightNative, Arch::X86, Arch::Riscv64] {
                let config = Config {
                    arch,
                    endian: if round % 2 == 0 {
                        Endian::Little
                    } else {
                        Endian::Big
                    },
                    digits: match round % 5 {
                        3 => DigitStyle::Octal,
                        4 => DigitStyle::Binary,
                        _ => DigitStyle::Hex,
                    },
                };
                let exact = run(src.as_bytes(), &config, true);
                match run(src.as_bytes(), &config, false) {
                    Err(e) if e == "fast path gave up" => {}
                    fast => assert_eq!(fast, exact, "{src:?} on {arch:?}"),
                }
                assert_eq!(
                    assemble(
                        &[Source {
                            name: "t",
                            text: src.as_bytes()
                        }],
                        &config
                    )
                    .map_err(|e| e.to_string()),
                    exact,
                    "{src:?}"
                );
            }
        }
    }
}
