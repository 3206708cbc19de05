//! The command lines: `M1` (mescc-tools 1.7.0's, plus `--map`), `M0` (the seed's
//! `M0 INPUT OUTPUT`, plus `--architecture` and `--pass-unknown`) and `blood-elf`
//! (mescc-tools 1.7.0's).
//!
//! This module owns argument handling, file reading (a large file is read in two halves at
//! once, on two threads) and reporting only: options are taken
//! in command-line order as the reference does (`-f` files are read when met, so an
//! unreadable file stops the run before later options), and outputs go through
//! [`toolbase::output::OutputFile`], so a failed run never creates or changes an output.
//! Where the reference pins a text it comes first, unchanged: `--help` of M1 and blood-elf
//! is the reference's text followed by a `hexroot options:` list rendered from the option
//! table, `--version` the reference's lines followed by one naming hexroot; exit status 1
//! for a bad command line is the reference's.

use std::ffi::{OsStr, OsString};
use std::io::Write;

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;
use toolbase::output::OutputFile;

use crate::config::{Config, DigitStyle, Endian};
use crate::engine::{assemble_to, assemble_with_map, second_core, write_error};
use crate::source::Source;
use crate::{blood_elf, m0};
use toolbase::arch::Arch;

/// Mode M1 and blood-elf create their outputs with (before umask), as `fopen(.., "w")`.
pub const OUTPUT_MODE: u32 = 0o666;
/// Mode the seed M0 creates its output with (before umask).
pub const M0_OUTPUT_MODE: u32 = 0o600;

/// The flags of `M1`.
#[derive(Clone, Copy)]
enum M1Flag {
    Big,
    Little,
    Octal,
    Binary,
    Help,
    Version,
}

/// The options of `M1` that take a value.
#[derive(Clone, Copy)]
enum M1Value {
    File,
    Output,
    Arch,
    Map,
}

/// The flags of `M0`.
#[derive(Clone, Copy)]
enum M0Flag {
    PassUnknown,
    Help,
    Version,
}

/// The options of `M0` that take a value.
#[derive(Clone, Copy)]
enum M0Value {
    Arch,
}

/// The flags of `blood-elf`.
#[derive(Clone, Copy)]
enum ElfFlag {
    Elf64,
    Big,
    Little,
    Hex,
    Octal,
    Binary,
    Help,
    Version,
}

/// The options of `blood-elf` that take a value.
#[derive(Clone, Copy)]
enum ElfValue {
    File,
    Output,
    Entry,
}

const M1_OPTS: &[Opt<M1Flag, M1Value>] = &[
    Opt::value(&["-f", "--file"], M1Value::File, "FILE")
        .doc("assemble FILE (repeatable, in order; read when met)"),
    Opt::value(&["-o", "--output"], M1Value::Output, "FILE")
        .doc("write the hex2 text to FILE (default: standard output)"),
    Opt::value(&["-A", "--architecture"], M1Value::Arch, "ARCH")
        .doc("the target (default knight-native); names below"),
    Opt::flag(&["--big-endian"], M1Flag::Big).doc("write numbers most significant byte first"),
    Opt::flag(&["--little-endian"], M1Flag::Little)
        .doc("write numbers least significant byte first"),
    Opt::flag(&["-O", "--octal"], M1Flag::Octal).doc("write octal digit triples, not hex pairs"),
    Opt::flag(&["-b", "--binary"], M1Flag::Binary).doc("write binary digit octets"),
    Opt::flag(&["-h", "--help"], M1Flag::Help).doc("print this help (on stderr) and exit"),
    Opt::flag(&["-V", "--version"], M1Flag::Version).doc("print the version and exit"),
    Opt::value(&["--map"], M1Value::Map, "FILE")
        .doc(
            "also write the source map: where each output token came\nfrom (for 'crossverify explain')",
        )
        .hexroot(),
];

/// The reference's M1 usage text, byte for byte (vector `m1/help`).
const M1_HELP: &str = "\
Usage: M1 --file FILENAME1 {-f FILENAME2} (--big-endian|--little-endian) [--architecture name]
Architectures: knight-native, knight-posix, x86, amd64, armv7, riscv32 and riscv64
To leverage octal or binary output: --octal, --binary
";

/// The reference's M1 `--version` text (vector `m1/version`).
const M1_VERSION: &str = "M1 1.7.0\n";

/// The documented options of `M1` (for the man page and the completion).
pub fn m1_options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(M1_OPTS)
}

/// What `M1 --help` prints: the reference's text, then hexroot's options.
pub fn m1_help() -> String {
    let notes = format!(
        "\nArchitectures (--architecture): {}.\nExit status: 0 success, 1 anything else (a bad command line too, as the reference).\n\nExample:\n  $ printf 'DEFINE NOP 90\\n:a NOP %%a\\n' > a.M1 && M1 -A x86 --little-endian -f a.M1 -o a.hex2\n",
        toolbase::arch::names()
    );
    M1_HELP.to_string() + &toolbase::help::hexroot_section(&m1_options(), &notes)
}

/// A command-line problem: mescc-tools exits 1 for these.
fn bad_usage(io: &mut Streams, tool: &str, message: &str) -> i32 {
    io.usage_error(tool, message);
    EXIT_FAILURE
}

/// M1 and blood-elf take their inputs only with `-f`: a bare argument is a usage error.
fn unexpected_positional(io: &mut Streams, tool: &str, arg: &OsStr) -> i32 {
    let message = format!(
        "unexpected argument '{}': input files are given with -f FILE",
        arg.to_string_lossy()
    );
    bad_usage(io, tool, &message)
}

fn read_input(io: &Streams, path: &OsStr) -> Result<(String, Vec<u8>), Diagnostic> {
    let name = path.to_string_lossy().into_owned();
    read_whole(&io.resolve(path))
        .map(|bytes| (name, bytes))
        .map_err(|e| Diagnostic::io(path, "cannot open input", &e))
}

/// Files at least this large are read by two threads, half each.
const SPLIT_READ: u64 = 8 << 20;

/// `std::fs::read`, except that a large regular file is read in two halves at once, the
/// second by another thread (the copy out of the page cache is most of the time a large
/// input takes to read). Anything unusual (the file is not regular, changes size while
/// read, no second thread) falls back to `std::fs::read`.
fn read_whole(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    let len = match usize::try_from(meta.len()) {
        Ok(len) if meta.is_file() && meta.len() >= SPLIT_READ && second_core() => len,
        _ => {
            let mut bytes = Vec::new();
            (&file).read_to_end(&mut bytes)?;
            return Ok(bytes);
        }
    };
    let mut bytes = vec![0u8; len];
    let half = len / 2;
    let (first, second) = bytes.split_at_mut(half);
    let both = std::thread::scope(|scope| {
        let other = std::thread::Builder::new()
            .name("m1-read".into())
            .spawn_scoped(scope, || file.read_exact_at(second, half as u64));
        let mine = file.read_exact_at(first, 0);
        match other {
            Ok(h) => mine.and(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))),
            Err(e) => Err(e),
        }
    });
    let mut probe = [0u8; 1];
    match both {
        // Complete only if the file did not grow meanwhile.
        Ok(()) if file.read_at(&mut probe, meta.len())? == 0 => Ok(bytes),
        _ => std::fs::read(path),
    }
}

/// Writes through `write` into the file `path` (created with `mode`) or stdout.
fn emit(
    io: &mut Streams,
    path: Option<&OsStr>,
    mode: u32,
    write: impl FnOnce(&mut dyn Write) -> Result<(), Diagnostic>,
) -> Result<(), Diagnostic> {
    match path {
        None => write(io.stdout),
        Some(path) => {
            let mut file = OutputFile::create(io.resolve(path), mode)
                .map_err(|e| Diagnostic::io(path, "cannot open output", &e))?;
            write(&mut file)?;
            file.commit()
                .map_err(|e| Diagnostic::io(path, "cannot write output", &e))
        }
    }
}

/// Runs `M1` with `args` (program name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = program_name(args, "M1");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut output: Option<&OsStr> = None;
    let mut map: Option<&OsStr> = None;
    let mut config = Config::default();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), M1_OPTS) {
        match arg {
            Ok(Arg::Value(M1Value::File, v)) => match read_input(io, v) {
                Ok(f) => files.push(f),
                Err(d) => {
                    io.error(&d);
                    return EXIT_FAILURE;
                }
            },
            Ok(Arg::Value(M1Value::Output, v)) => output = Some(v),
            Ok(Arg::Value(M1Value::Map, v)) => map = Some(v),
            Ok(Arg::Value(M1Value::Arch, v)) => {
                let name = v.to_string_lossy();
                match Arch::from_name(&name) {
                    Some(a) => config.arch = a,
                    None => {
                        return bad_usage(
                            io,
                            &tool,
                            &format!(
                                "unknown architecture '{name}'; expected one of {}",
                                toolbase::arch::names()
                            ),
                        )
                    }
                }
            }
            Ok(Arg::Flag(M1Flag::Big)) => config.endian = Endian::Big,
            Ok(Arg::Flag(M1Flag::Little)) => config.endian = Endian::Little,
            Ok(Arg::Flag(M1Flag::Octal)) => config.digits = DigitStyle::Octal,
            Ok(Arg::Flag(M1Flag::Binary)) => config.digits = DigitStyle::Binary,
            Ok(Arg::Flag(M1Flag::Help)) => {
                let _ = io.stderr.write_all(m1_help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(M1Flag::Version)) => {
                io.drop_in_version(M1_VERSION);
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => return unexpected_positional(io, &tool, p),
            Err(e) => return bad_usage(io, &tool, &e.to_string()),
        }
    }
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let map_at = map.map(|m| io.resolve(m));
    let result = emit(io, output, OUTPUT_MODE, |out| match (map, map_at) {
        (Some(map_path), Some(map_at)) => {
            let mut map_file = OutputFile::create(map_at, OUTPUT_MODE)
                .map_err(|e| Diagnostic::io(map_path, "cannot open map", &e))?;
            let output_name = output.map_or("-".into(), |o| o.to_string_lossy());
            assemble_with_map(&sources, &config, out, &mut map_file, &output_name)?;
            map_file
                .commit()
                .map_err(|e| Diagnostic::io(map_path, "cannot write map", &e))
        }
        _ => assemble_to(&sources, &config, out),
    });
    io.finish(result)
}

const M0_OPTS: &[Opt<M0Flag, M0Value>] = &[
    Opt::value(&["-A", "--architecture"], M0Value::Arch, "ARCH")
        .doc("x86 (default), amd64, aarch64, riscv32 or riscv64"),
    Opt::flag(&["--pass-unknown"], M0Flag::PassUnknown).doc(
        "print unknown words unchanged, as the seed does (by
default an unknown word is an error naming it)",
    ),
    Opt::flag(&["-h", "--help"], M0Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], M0Flag::Version).doc("print the version and exit"),
];

const M0_HELP_HEAD: &str = "\
Usage: M0 [--architecture ARCH] [--pass-unknown] INPUT [OUTPUT]

Expands the M0 macro source INPUT into hex2 text, one token per line, as the
stage0-posix seed M0 of ARCH does: DEFINE NAME VALUE applies to the tokens after it,
\"text\" becomes hex bytes plus 00, 'text' is copied, numbers (!N @N %N, and on riscv
the ~N U-type and I/S-type words) are written little endian. OUTPUT is created with
mode 0600 (less the umask) and written only if the whole input is good; without
OUTPUT the text goes to standard output. Arguments after OUTPUT are ignored.

Options:
";

const M0_HELP_TAIL: &str = "
Exit status: 0 success, 1 unreadable input, bad input or unwritable output,
2 bad command line.

Example:
  $ printf 'DEFINE NOP 90\\nNOP :a\\n' > nop.M1 && M0 --architecture amd64 nop.M1 nop.hex2
";

/// The documented options of `M0` (for the man page and the completion).
pub fn m0_options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(M0_OPTS)
}

/// What `M0 --help` prints: the text around the option list, which the option table
/// renders.
fn m0_help() -> String {
    M0_HELP_HEAD.to_string()
        + &toolbase::help::option_list(&toolbase::help::documented(M0_OPTS))
        + M0_HELP_TAIL
}

/// Runs `M0` with `args` (program name first).
pub fn m0_main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = program_name(args, "M0");
    let mut options = m0::Options {
        arch: Arch::X86,
        pass_unknown: false,
    };
    let mut files = Vec::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), M0_OPTS) {
        match arg {
            Ok(Arg::Value(M0Value::Arch, v)) => {
                let name = v.to_string_lossy();
                match Arch::from_name(&name) {
                    Some(
                        a @ (Arch::X86
                        | Arch::Amd64
                        | Arch::Aarch64
                        | Arch::Riscv32
                        | Arch::Riscv64),
                    ) => options.arch = a,
                    _ => {
                        io.usage_error(
                            &tool,
                            &format!("unknown architecture '{name}'; expected one of x86, amd64, aarch64, riscv32, riscv64 (the arches with a seed M0)"),
                        );
                        return EXIT_USAGE;
                    }
                }
            }
            Ok(Arg::Flag(M0Flag::PassUnknown)) => options.pass_unknown = true,
            Ok(Arg::Flag(M0Flag::Help)) => {
                let _ = io.stdout.write_all(m0_help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(M0Flag::Version)) => {
                io.version("M0");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => files.push(p),
            Err(e) => {
                io.usage_error(&tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let Some(input) = files.first() else {
        io.usage_error(&tool, "missing INPUT: expected 'M0 INPUT OUTPUT'");
        return EXIT_USAGE;
    };
    let result = read_input(io, input).and_then(|(name, text)| {
        let bytes = m0::assemble_with(
            &Source {
                name: &name,
                text: &text,
            },
            &options,
        )?;
        emit(io, files.get(1).copied(), M0_OUTPUT_MODE, |out| {
            out.write_all(&bytes).map_err(|e| write_error(&e))
        })
    });
    io.finish(result)
}

const BLOOD_ELF_OPTS: &[Opt<ElfFlag, ElfValue>] = &[
    Opt::value(&["-f", "--file"], ElfValue::File, "FILE")
        .doc("read FILE for labels (repeatable, in order)"),
    Opt::value(&["-o", "--output"], ElfValue::Output, "FILE")
        .doc("write the footer to FILE (default: standard output)"),
    Opt::flag(&["--64"], ElfFlag::Elf64).doc("64-bit ELF layout (default 32-bit)"),
    Opt::flag(&["--big-endian"], ElfFlag::Big)
        .doc("constants most significant byte first (this or the next\nis required)"),
    Opt::flag(&["--little-endian"], ElfFlag::Little).doc("constants least significant byte first"),
    Opt::flag(&["-X", "--hex"], ElfFlag::Hex).doc("hex constants (the default)"),
    Opt::flag(&["-O", "--octal"], ElfFlag::Octal).doc("octal constants"),
    Opt::flag(&["-b", "--binary"], ElfFlag::Binary).doc("binary constants"),
    Opt::value(&["--entry"], ElfValue::Entry, "NAME")
        .doc("add NAME first (repeatable); the last one is not hidden"),
    Opt::flag(&["-h", "--help"], ElfFlag::Help).doc("print this help (on stderr) and exit"),
    Opt::flag(&["-V", "--version"], ElfFlag::Version).doc("print the version and exit"),
];

/// The reference's usage text, `{argv0}` standing for the program name.
const BLOOD_ELF_REFERENCE_HELP: &str =
    "Usage: {argv0} --file FILENAME1 {--file FILENAME2} --output FILENAME\n";

/// The reference's `--version` text, both lines (vector `blood-elf/version`).
const BLOOD_ELF_VERSION: &str =
    "blood-elf 2.0.1\n(Basically Launches Odd Object Dump ExecutabLe Files\n";

/// What hexroot adds to the reference's usage text.
const BLOOD_ELF_NOTES: &str = "
Writes the M1 footer that, linked after the program with a -debug ELF header, gives
the ELF a .symtab and .strtab listing every label (:name) of the FILEs, as
mescc-tools blood-elf 2.0.1.

Exit status: 0 success, 1 bad command line, unreadable input or unwritable output.

Example:
  $ printf ':_start\\n:main\\n' > hello.M1 && blood-elf --64 --little-endian -f hello.M1 --entry _start -o hello-footer.M1
";

/// The documented options of `blood-elf` (for the man page and the completion).
pub fn blood_elf_options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(BLOOD_ELF_OPTS)
}

/// What `blood-elf --help` prints: the reference's text, then hexroot's options.
pub fn blood_elf_help(argv0: &str) -> String {
    BLOOD_ELF_REFERENCE_HELP.replace("{argv0}", argv0)
        + &toolbase::help::hexroot_section(&blood_elf_options(), BLOOD_ELF_NOTES)
}

/// Runs `blood-elf` with `args` (program name first).
pub fn blood_elf_main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = program_name(args, "blood-elf");
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut output: Option<&OsStr> = None;
    let mut entries: Vec<Vec<u8>> = Vec::new();
    let mut endian: Option<Endian> = None;
    let mut options = blood_elf::Options {
        elf64: false,
        endian: Endian::Little,
        digits: DigitStyle::Hex,
    };
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), BLOOD_ELF_OPTS) {
        match arg {
            Ok(Arg::Value(ElfValue::File, v)) => match read_input(io, v) {
                Ok(f) => files.push(f),
                Err(d) => {
                    io.error(&d);
                    return EXIT_FAILURE;
                }
            },
            Ok(Arg::Value(ElfValue::Output, v)) => output = Some(v),
            Ok(Arg::Flag(ElfFlag::Elf64)) => options.elf64 = true,
            Ok(Arg::Flag(ElfFlag::Big)) => endian = Some(Endian::Big),
            Ok(Arg::Flag(ElfFlag::Little)) => endian = Some(Endian::Little),
            Ok(Arg::Flag(ElfFlag::Hex)) => options.digits = DigitStyle::Hex,
            Ok(Arg::Flag(ElfFlag::Octal)) => options.digits = DigitStyle::Octal,
            Ok(Arg::Flag(ElfFlag::Binary)) => options.digits = DigitStyle::Binary,
            Ok(Arg::Value(ElfValue::Entry, v)) => entries.push(v.as_encoded_bytes().to_vec()),
            Ok(Arg::Flag(ElfFlag::Help)) => {
                let _ = io.stderr.write_all(blood_elf_help(&tool).as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(ElfFlag::Version)) => {
                io.drop_in_version(BLOOD_ELF_VERSION);
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => return unexpected_positional(io, &tool, p),
            Err(e) => return bad_usage(io, &tool, &e.to_string()),
        }
    }
    if files.is_empty() {
        return bad_usage(io, &tool, "no input: give the M1 sources with -f FILE");
    }
    let Some(endian) = endian else {
        let _ = writeln!(
            io.stderr,
            "either --little-endian or --big-endian MUST be set"
        );
        return EXIT_FAILURE;
    };
    options.endian = endian;
    let sources: Vec<Source<'_>> = files
        .iter()
        .map(|(name, text)| Source { name, text })
        .collect();
    let entry_refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    let text = match blood_elf::footer(&sources, &entry_refs, &options) {
        Ok(text) => text,
        Err(d) => {
            io.error(&d);
            return EXIT_FAILURE;
        }
    };
    let result = emit(io, output, OUTPUT_MODE, |out| {
        out.write_all(&text).map_err(|e| write_error(&e))
    });
    io.finish(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tool: toolbase::cli::ToolMain, args: &[&str]) -> (i32, String, String) {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = {
            let mut io = Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: false,
                cwd: None,
            };
            tool(&args, &mut io)
        };
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("m1-tool-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A large file read in two halves is the file.
    #[test]
    fn split_read_reads_the_whole_file() {
        let dir = scratch("split-read");
        let path = dir.join("big.M1");
        let bytes: Vec<u8> = (0..SPLIT_READ as usize + 12_345)
            .map(|i| (i * 7 + i / 4099) as u8)
            .collect();
        std::fs::write(&path, &bytes).unwrap();
        assert!(read_whole(&path).unwrap() == bytes);
        assert!(read_whole(&dir.join("missing")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_option_values_are_errors_not_crashes() {
        for args in [
            &["M1", "-f"][..],
            &["M1", "-o"],
            &["M1", "-A"],
            &["M1", "--map"],
        ] {
            let (status, out, err) = run(main, args);
            assert_eq!(status, EXIT_FAILURE, "{args:?}");
            assert!(out.is_empty() && err.contains("needs a value"), "{err}");
        }
        let (status, _, err) = run(blood_elf_main, &["blood-elf", "-o"]);
        assert_eq!(status, EXIT_FAILURE);
        assert!(err.contains("needs a value"));
    }

    #[test]
    fn help_and_version_are_the_references() {
        let (status, out, err) = run(main, &["M1", "--help"]);
        assert_eq!((status, out.as_str()), (0, ""));
        assert!(err.starts_with(M1_HELP) && err.contains("\nhexroot options:\n"));
        assert!(err.contains("--map FILE") && err.contains("ppc64le"));
        assert_eq!(
            run(main, &["M1", "-V"]),
            (
                0,
                format!("M1 1.7.0\n{}\n", toolbase::cli::hexroot_line()),
                String::new()
            )
        );
        let (status, out, _) = run(m0_main, &["M0", "--help"]);
        assert_eq!(status, 0);
        assert!(out.contains("--pass-unknown"));
    }

    #[test]
    fn a_failed_run_leaves_no_output_and_names_the_place() {
        let dir = scratch("fail");
        let input = dir.join("in.M1");
        let output = dir.join("out");
        std::fs::write(&input, "DEFINE mov_eax, B8\n:a\n\tmov_eaxx %1\n").unwrap();
        let (status, _, err) = run(
            main,
            &[
                "M1",
                "-A",
                "x86",
                "-f",
                input.to_str().unwrap(),
                "-o",
                output.to_str().unwrap(),
            ],
        );
        assert_eq!(status, EXIT_FAILURE);
        assert!(
            err.contains("in.M1:3:2: error: unknown token 'mov_eaxx'; did you mean 'mov_eax,'?"),
            "{err}"
        );
        assert!(!output.exists());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn map_and_output_files() {
        let dir = scratch("map");
        let input = dir.join("in.M1");
        std::fs::write(&input, "DEFINE A 41\n:x A \"\u{e9}\"\n").unwrap();
        let (out, map) = (dir.join("out"), dir.join("map"));
        let (status, _, err) = run(
            main,
            &[
                "M1",
                "-A",
                "x86",
                "-f",
                input.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--map",
                map.to_str().unwrap(),
            ],
        );
        assert_eq!(status, 0, "{err}");
        // Bytes >= 0x80 in strings get their real hex digits (the reference's are garbage).
        assert_eq!(
            std::fs::read_to_string(&out).unwrap(),
            "\n:x 41 C3 A9 00 \n"
        );
        let map = std::fs::read_to_string(&map).unwrap();
        let name = input.to_str().unwrap();
        let output = out.to_str().unwrap();
        assert_eq!(
            map,
            format!("# hexroot M1 map 2 {output}\n2:1 {name}:2:1 :x\n2:4 {name}:2:4 A\n2:7 {name}:2:6 \"\\xc3\\xa9\"\n")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn m0_writes_stdout_without_output_and_fails_on_unknown_words() {
        let dir = scratch("m0");
        let input = dir.join("in.M1");
        std::fs::write(&input, "DEFINE X 90\nX :a\n").unwrap();
        let (status, out, _) = run(m0_main, &["M0", input.to_str().unwrap()]);
        assert_eq!((status, out.as_str()), (0, "90\n:a\n"));
        std::fs::write(&input, "Y\n").unwrap();
        let (status, _, err) = run(m0_main, &["M0", input.to_str().unwrap()]);
        assert_eq!(status, EXIT_FAILURE);
        assert!(err.contains("unknown token 'Y'"));
        let (status, out, _) = run(m0_main, &["M0", "--pass-unknown", input.to_str().unwrap()]);
        assert_eq!((status, out.as_str()), (0, "Y\n"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
