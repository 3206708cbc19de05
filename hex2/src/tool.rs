//! The `hex2` and `hex1` commands over the engine.
//!
//! `hex2` follows the command line of mescc-tools 1.7.0 hex2 exactly (spec 1.1), plus two
//! hexroot extensions: `--map FILE` (the link map, see [`crate::map`]) and `--seed-hex2-0`
//! (the stage0-posix seed hex2-0's positional form `hex2 --seed-hex2-0 --architecture ARCH
//! INPUT OUTPUT`). `hex1` is the seed hex1's form `hex1 [--architecture ARCH] INPUT OUTPUT`.
//! This module owns argument handling, file reading (streamed in line-aligned chunks, each
//! file read twice like the reference), output and reporting; the language is in the engine.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{Read, Write};

use hex0::args::{Arg, Opt, Parser};
use hex0::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use hex0::diag::Diagnostic;
use hex0::output::OutputFile;

use crate::engine::Pass;
use crate::{reference_warnings, Arch, ByteMode, Config, Dialect, Endian, Linker};

/// Mode full hex2 creates its output with (before umask), as `fopen(…, "w")`.
pub const CREATE_MODE: u32 = 0o666;
/// Mode full hex2 gives its output afterwards (exact, no umask) unless `--non-executable`.
pub const EXECUTABLE_MODE: u32 = 0o750;
/// Mode the seed forms create their output with (before umask).
pub const SEED_MODE: u32 = 0o700;

/// Size of the read buffer; files are fed in chunks ending at a line boundary.
const CHUNK: usize = 1 << 20;

/// Reads `path` and feeds it to `linker` in line-aligned chunks; after each chunk `sink`
/// may take the bytes written so far.
fn feed_file(
    linker: &mut Linker,
    path: &OsStr,
    sink: &mut dyn FnMut(&mut Linker) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
    let name = path.to_string_lossy();
    let mut file = File::open(path).map_err(|e| {
        Diagnostic::io(path, "cannot open input", &e).hint(
            "check the -f file name (hex2 reads every input twice, so it must be a regular file)",
        )
    })?;
    linker.begin_file(&name);
    let mut buf = vec![0u8; CHUNK];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        let n = match file.read(&mut buf[filled..]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Diagnostic::io(path, "cannot read input", &e)),
        };
        if n == 0 {
            linker.feed(&buf[..filled])?;
            break;
        }
        filled += n;
        if let Some(last_nl) = buf[..filled].iter().rposition(|&b| b == b'\n') {
            linker.feed(&buf[..=last_nl])?;
            buf.copy_within(last_nl + 1..filled, 0);
            filled -= last_nl + 1;
            sink(linker).map_err(|e| Diagnostic::new(format!("cannot write output: {e}")))?;
        }
    }
    linker.end_file()?;
    sink(linker).map_err(|e| Diagnostic::new(format!("cannot write output: {e}")))
}

/// Links `inputs` with `config`, handing output bytes to `sink` as they are produced.
fn link_files(
    inputs: &[&OsStr],
    config: Config,
    sink: &mut dyn FnMut(&mut Linker) -> std::io::Result<()>,
) -> Result<crate::Linked, Diagnostic> {
    let mut linker = Linker::new(config);
    let mut none = |_: &mut Linker| Ok(());
    linker.begin_pass(Pass::One);
    for f in inputs {
        feed_file(&mut linker, f, &mut none)?;
    }
    linker.begin_pass(Pass::Two);
    for f in inputs {
        if linker.has_failed() {
            feed_file(&mut linker, f, &mut none)?;
        } else {
            feed_file(&mut linker, f, sink)?;
        }
    }
    let mut linked = linker.finish()?;
    linked.bytes.clear();
    Ok(linked)
}

#[derive(Clone, Copy)]
enum Id {
    File,
    Output,
    Arch,
    Base,
    Big,
    Little,
    Octal,
    Binary,
    NonExec,
    Help,
    Version,
    Map,
    SeedHex2,
}

const OPTS: &[Opt<Id>] = &[
    Opt::value(&["-f", "--file"], Id::File),
    Opt::value(&["-o", "--output"], Id::Output),
    Opt::value(&["-A", "--architecture"], Id::Arch),
    Opt::value(&["-B", "--base-address"], Id::Base),
    Opt::flag(&["--big-endian"], Id::Big),
    Opt::flag(&["--little-endian"], Id::Little),
    Opt::flag(&["-O", "--octal"], Id::Octal),
    Opt::flag(&["-b", "--binary"], Id::Binary),
    Opt::flag(&["--non-executable"], Id::NonExec),
    Opt::flag(&["-h", "--help"], Id::Help),
    Opt::flag(&["-V", "--version"], Id::Version),
    Opt::value(&["--map"], Id::Map),
    Opt::flag(&["--seed-hex2-0"], Id::SeedHex2),
];

const ARCH_LIST: &str =
    "knight-native, knight-posix, x86, amd64, armv7l, aarch64, ppc64le, riscv32, riscv64";

fn error(io: &mut Streams, tool: &str, message: &str) -> i32 {
    let _ = writeln!(io.stderr, "{tool}: error: {message}");
    EXIT_FAILURE
}

/// Runs `hex2` with `args` (program name first). Exit status 0 on success, 1 on any
/// failure (bad input, I/O, and also a bad command line, as the reference).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    if args.iter().skip(1).any(|a| a == "--seed-hex2-0") {
        return seed_main(args, io, Dialect::SeedHex2);
    }
    let tool = program_name(args, "hex2");
    let mut config = Config::new(Arch::KnightNative);
    let mut inputs: Vec<&OsStr> = Vec::new();
    let mut outputs: Vec<OutputFile> = Vec::new();
    let mut map_path: Option<&OsStr> = None;
    let mut executable = true;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        let arg = match arg {
            Ok(a) => a,
            Err(e) if e.message.starts_with("unknown option") => {
                return error(io, &tool, &format!("{}; try '{tool} --help'", e.message));
            }
            Err(e) => return error(io, &tool, &e.message),
        };
        let (id, value) = match arg {
            Arg::Opt(id, v) => (id, v.unwrap_or_default()),
            Arg::Positional(p) => {
                return error(
                    io,
                    &tool,
                    &format!(
                    "unexpected argument '{}'; expected an option (inputs are given with -f FILE)",
                    p.to_string_lossy()
                ),
                )
            }
        };
        match id {
            Id::File => inputs.push(value),
            Id::Output => match OutputFile::create(value, CREATE_MODE) {
                Ok(o) => outputs.push(o),
                Err(e) => {
                    io.error(&Diagnostic::io(value, "cannot open output", &e));
                    return EXIT_FAILURE;
                }
            },
            Id::Arch => match Arch::from_name(&value.to_string_lossy()) {
                Some(a) => config.arch = a,
                None => {
                    return error(
                        io,
                        &tool,
                        &format!(
                            "unknown architecture '{}'; expected one of {ARCH_LIST}",
                            value.to_string_lossy()
                        ),
                    )
                }
            },
            Id::Base => {
                config.base_address = crate::strtoint(value.as_encoded_bytes()) as u32;
            }
            Id::Big => config.endian = Endian::Big,
            Id::Little => config.endian = Endian::Little,
            Id::Octal => config.byte_mode = ByteMode::Octal,
            Id::Binary => config.byte_mode = ByteMode::Binary,
            Id::NonExec => executable = false,
            Id::Help => {
                let argv0 = args.first().map_or("hex2".into(), |a| a.to_string_lossy());
                let _ = write!(
                    io.stderr,
                    "Usage: {argv0} --file FILENAME1 {{-f FILENAME2}} (--big-endian|--little-endian) [--base-address 0x12345] [--architecture name]\nArchitecture: knight-native, knight-posix, x86, amd64, armv7l, aarch64, riscv32 and riscv64\nTo leverage octal or binary input: --octal, --binary\n"
                );
                return EXIT_SUCCESS;
            }
            Id::Version => {
                let _ = io.stdout.write_all(b"hex2 1.7.0\n");
                return EXIT_SUCCESS;
            }
            Id::Map => map_path = Some(value),
            Id::SeedHex2 => {}
        }
    }
    let _ = io.stderr.write_all(reference_warnings(&config).as_bytes());
    if inputs.is_empty() {
        return error(
            io,
            &tool,
            "no input file; expected at least one '-f FILE' (or '--file FILE')",
        );
    }
    config.map = map_path.is_some();
    let mut last = outputs.pop();
    let mut to_stdout = Vec::new();
    let result = {
        let mut sink = |l: &mut Linker| -> std::io::Result<()> {
            let bytes = l.take_bytes();
            match last.as_mut() {
                Some(o) => o.write_all(&bytes),
                None => {
                    to_stdout.extend_from_slice(&bytes);
                    Ok(())
                }
            }
        };
        link_files(&inputs, config, &mut sink)
    };
    let linked = match result {
        Ok(l) => l,
        Err(d) => {
            io.error(&d);
            return EXIT_FAILURE;
        }
    };
    if let Some(path) = map_path {
        let written = OutputFile::create(path, CREATE_MODE).and_then(|mut o| {
            crate::map::write_map(&mut o, &linked.map, &linked.files)?;
            o.commit()
        });
        if let Err(e) = written {
            io.error(&Diagnostic::io(path, "cannot write map", &e));
            return EXIT_FAILURE;
        }
    }
    for earlier in outputs {
        if let Err(e) = earlier.commit() {
            return error(io, &tool, &format!("cannot write output: {e}"));
        }
    }
    match last {
        Some(mut o) => {
            if executable {
                o.set_exact_mode(EXECUTABLE_MODE);
            }
            let dest = o.destination().to_path_buf();
            if let Err(e) = o.commit() {
                io.error(&Diagnostic::io(dest, "cannot write output", &e));
                return EXIT_FAILURE;
            }
        }
        None => {
            if io.stdout.write_all(&to_stdout).is_err() {
                return error(io, &tool, "cannot write standard output");
            }
        }
    }
    EXIT_SUCCESS
}

#[derive(Clone, Copy)]
enum SeedId {
    Arch,
    Seed,
    Help,
    Version,
}

const SEED_OPTS: &[Opt<SeedId>] = &[
    Opt::value(&["-A", "--architecture"], SeedId::Arch),
    Opt::flag(&["--seed-hex2-0"], SeedId::Seed),
    Opt::flag(&["-h", "--help"], SeedId::Help),
    Opt::flag(&["-V", "--version"], SeedId::Version),
];

const SEED_ARCHES: &str = "x86, amd64, aarch64, riscv32, riscv64";

const HEX1_HELP: &str = "\
Usage: hex1 [--architecture ARCH] INPUT OUTPUT

Links the hex1 source INPUT into the binary OUTPUT as the stage0-posix seed hex1 of ARCH
does: hex digit pairs become bytes, '#' and ';' start comments, ':c' defines the
one-character label c, and the architecture's pointer forms refer to one:
  x86, amd64      %c  4-byte displacement from the end of the field
  aarch64         $c  low 16 bits of the address; &c 4-byte address;
                  ~c  3-byte word displacement from the field (written before the opcode)
  riscv32/64      !c @c $c ~c  I/B/J/U immediate XORed into the next instruction word
Base address 0x08048000 (x86) or 0x00600000 (others), little-endian. OUTPUT is created with
mode 0700 (less the umask) through a temporary file, so a failed run leaves no output.
Arguments after OUTPUT are ignored, as by the seed.

Options:
  -A, --architecture ARCH  x86 (default), amd64, aarch64, riscv32, riscv64
  -h, --help               print this help and exit
  -V, --version            print the version and exit

Exit status: 0 success, 1 unreadable input, bad input (an undefined label is an error,
not address 0 as in the seed) or unwritable output, 2 bad command line.

Example:
  printf ':a 90 E9 %%a\\n' > loop.hex1 && hex1 --architecture x86 loop.hex1 loop.bin
";

const HEX2_0_HELP: &str = "\
Usage: hex2 --seed-hex2-0 [--architecture ARCH] INPUT OUTPUT

Links INPUT as the stage0-posix seed hex2-0 of ARCH does (base address 0x08048000 on x86,
0x00600000 otherwise, little-endian, no range checks, the seed's pointer forms per
architecture). OUTPUT is created with mode 0700 (less the umask) through a temporary file.
Arguments after OUTPUT are ignored, as by the seed.

Options:
  -A, --architecture ARCH  x86 (default), amd64, aarch64, riscv32, riscv64
  -h, --help               print this help and exit
  -V, --version            print the version and exit

Exit status: 0 success, 1 unreadable input, bad input or unwritable output, 2 bad command
line.

Example:
  hex2 --seed-hex2-0 --architecture amd64 hex2.hex2 hex2-0.bin
";

/// Runs `hex1` with `args` (program name first): `hex1 [--architecture ARCH] INPUT OUTPUT`.
pub fn hex1_main(args: &[OsString], io: &mut Streams) -> i32 {
    seed_main(args, io, Dialect::SeedHex1)
}

fn seed_main(args: &[OsString], io: &mut Streams, dialect: Dialect) -> i32 {
    let default_name = if dialect == Dialect::SeedHex1 {
        "hex1"
    } else {
        "hex2"
    };
    let tool = program_name(args, default_name);
    let mut arch = Arch::X86;
    let mut files: Vec<&OsStr> = Vec::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), SEED_OPTS) {
        match arg {
            Ok(Arg::Opt(SeedId::Arch, Some(v))) => match Arch::from_name(&v.to_string_lossy()) {
                Some(
                    a @ (Arch::X86 | Arch::Amd64 | Arch::Aarch64 | Arch::Riscv32 | Arch::Riscv64),
                ) => arch = a,
                _ => {
                    io.usage_error(
                        &tool,
                        &format!(
                            "unknown seed architecture '{}'; expected one of {SEED_ARCHES}",
                            v.to_string_lossy()
                        ),
                    );
                    return EXIT_USAGE;
                }
            },
            Ok(Arg::Opt(SeedId::Arch, None)) | Ok(Arg::Opt(SeedId::Seed, _)) => {}
            Ok(Arg::Opt(SeedId::Help, _)) => {
                let help = if dialect == Dialect::SeedHex1 {
                    HEX1_HELP
                } else {
                    HEX2_0_HELP
                };
                let _ = io.stdout.write_all(help.as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(SeedId::Version, _)) => {
                io.version(default_name);
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => files.push(p),
            Err(e) => {
                io.usage_error(&tool, &e.message);
                return EXIT_USAGE;
            }
        }
    }
    let (input, output) = match files.as_slice() {
        [input, output, ..] => (*input, *output),
        _ => {
            io.usage_error(&tool, "expected INPUT and OUTPUT file names");
            return EXIT_USAGE;
        }
    };
    let mut out = match OutputFile::create(output, SEED_MODE) {
        Ok(o) => o,
        Err(e) => {
            io.error(&Diagnostic::io(output, "cannot open output", &e));
            return EXIT_FAILURE;
        }
    };
    let config = Config::seed(dialect, arch);
    let result = {
        let mut sink = |l: &mut Linker| out.write_all(&l.take_bytes());
        link_files(&[input], config, &mut sink)
    };
    if let Err(d) = result {
        io.error(&d);
        return EXIT_FAILURE;
    }
    if let Err(e) = out.commit() {
        io.error(&Diagnostic::io(output, "cannot write output", &e));
        return EXIT_FAILURE;
    }
    EXIT_SUCCESS
}
