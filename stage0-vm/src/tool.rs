//! The `stage0-vm` command: the reference VM's command line (`--rom`, `--tape_01`,
//! `--tape_02` and their aliases, `--memory`, `--stack`, `--POSIX-MODE`, `--fuzzing`,
//! `--tty-in`, `--tty-out`, `--help`) plus ours (`--max-steps`, `--trace`, `--sandbox`,
//! `--disassemble`, `--version`), with the reference's messages and exit statuses.
//!
//! The reference's parsing is kept exactly (arguments scanned left to right, a value option
//! takes the next argument whatever it looks like, later options override earlier ones,
//! anything else is `unknown option ARG` with exit 1), over `toolbase::args` and one option
//! table that also renders the option lists of `--help`. This module owns argument
//! handling, wiring host files and streams to the machine, and reporting; it reads the
//! process's stdin for TTY and POSIX input (the shared `Streams` has no stdin).

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;

use toolbase::args::{Arg, Opt, Parser, UsageError};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS};
use toolbase::help::{option_list_at, OptionHelp};

use crate::devices::{Devices, TapeStore};
use crate::fault::halt_message;
use crate::machine::{Config, Io, LoadError, Machine, DEFAULT_MEMORY, DEFAULT_STACK};

/// The flags of `stage0-vm`.
#[derive(Clone, Copy)]
enum Flag {
    Posix,
    Fuzzing,
    Help,
    Trace,
    Version,
}

/// The options of `stage0-vm` that take a value.
#[derive(Clone, Copy)]
enum Value {
    Rom,
    Tape1,
    Tape2,
    Memory,
    Stack,
    TtyIn,
    TtyOut,
    MaxSteps,
    Sandbox,
    Disassemble,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-r", "--rom", "--tape-00", "-0"], Value::Rom, "FILE")
        .doc("the program image, loaded at address 0 (required)"),
    Opt::value(&["-1", "--tape_01", "--tape-01"], Value::Tape1, "FILE")
        .doc("host file behind tape 1, device 0x1100 (default tape_01)"),
    Opt::value(&["-2", "--tape_02", "--tape-02"], Value::Tape2, "FILE")
        .doc("host file behind tape 2, device 0x1101 (default tape_02)"),
    Opt::value(&["-m", "--memory"], Value::Memory, "SIZE").doc(
        "memory size in bytes; a final K, M or G multiplies by\n1024, 1024^2, 1024^3 (default 16K; lower-case k is NOT a\nsuffix: '4k' means 4 bytes, as in the reference)",
    ),
    Opt::value(&["-s", "--stack"], Value::Stack, "SIZE")
        .doc("POSIX mode: R12 = ROM size + SIZE (default 64K)"),
    Opt::flag(&["-P", "--POSIX-MODE", "--posix-mode"], Flag::Posix)
        .doc("HALCODEs are POSIX system calls instead of devices"),
    Opt::flag(&["-F", "--fuzzing"], Flag::Fuzzing)
        .doc("FOPEN_WRITE opens nothing and sets R0 = 0"),
    Opt::value(&["--tty-in"], Value::TtyIn, "FILE")
        .doc("TTY input from FILE instead of stdin"),
    Opt::value(&["--tty-out"], Value::TtyOut, "FILE")
        .doc("TTY output to FILE (truncated) instead of stdout"),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::value(&["--max-steps"], Value::MaxSteps, "N")
        .doc("stop with an error after N instructions")
        .hexroot(),
    Opt::flag(&["--trace"], Flag::Trace)
        .doc("print every executed instruction on stderr: address,\nbytes, mnemonic and the registers it wrote (new values)")
        .hexroot(),
    Opt::value(&["--sandbox"], Value::Sandbox, "DIR")
        .doc("POSIX mode: the guest's paths resolve inside DIR and\nmay not leave it (by '..' or symbolic links)")
        .hexroot(),
    Opt::value(&["--disassemble"], Value::Disassemble, "ROM")
        .doc("print the disassembly of ROM and exit")
        .hexroot(),
    Opt::flag(&["-V", "--version"], Flag::Version)
        .doc("print the version and exit")
        .hexroot(),
];

/// The width of the option column of both lists in `--help`.
const OPTION_COLUMN: usize = 30;

/// What `--help` prints before the option lists.
const HELP_HEAD: &str = "\
Runs a Knight ROM on the 32-bit Knight machine of stage0, exactly as stage0's vm does:
same options, same stderr messages, same instruction count, same exit statuses.

";

/// What `--help` prints after the option lists.
const HELP_TAIL: &str = "
Host access: the VM touches only the ROM, the two tape files (tape 2 is created only if
the program opens it for writing) and the --tty-in/--tty-out files. In POSIX mode the
guest opens whatever paths it names, relative to the working directory, as the
reference does; use --sandbox DIR to confine it. TTY input (device 0) is read from
stdin one byte at a time (0..255, 0xFFFFFFFF at end of input), as the reference's
production variant; the reference's raw-terminal mode is not reproduced.

Messages on stderr: at HALT 'Computer Program has Halted' and 'After Executing N
instructions'; faults print the reference's text. Divide overflow (0x80000000 / -1),
which kills the reference with SIGFPE, is a clear fault here.

Exit status: 0 after HALT; R0 mod 256 after a POSIX exit; 1 on any fault, missing or
oversized ROM, unknown option or bad option value.

Example:
  $ stage0-vm --rom seeds/knight/hex0.rom --tape_01 seeds/knight/hex0.hex0 \\
            --tape_02 hex0.rom --memory 16K && cmp hex0.rom seeds/knight/hex0.rom
";

/// What `--help` prints after the usage line: the text around the two option lists (the
/// reference's options and hexroot's), which [`OPTS`] renders.
fn help() -> String {
    let (ours, reference): (Vec<_>, Vec<_>) = toolbase::help::documented(OPTS)
        .into_iter()
        .partition(|o| o.hexroot);
    // The list says whose an option is; no "(hexroot only)" after each.
    let ours: Vec<_> = ours
        .into_iter()
        .map(|o| OptionHelp {
            hexroot: false,
            ..o
        })
        .collect();
    format!(
        "{HELP_HEAD}Options (reference):\n{}Options (hexroot):\n{}{HELP_TAIL}",
        option_list_at(&reference, OPTION_COLUMN),
        option_list_at(&ours, OPTION_COLUMN)
    )
}

/// The documented options of `stage0-vm` (for the man page and the completion).
pub fn options() -> Vec<OptionHelp> {
    toolbase::help::documented(OPTS)
}

fn usage_line(argv0: &str) -> String {
    format!("Usage: {argv0} --rom $rom [--tape_01 $foo] [--tape_02 $bar]\n")
}

/// `atoi`: optional leading spaces, sign, decimal digits; garbage gives 0.
fn atoi(s: &[u8]) -> i64 {
    let mut i = 0;
    while i < s.len() && matches!(s[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let mut v: i64 = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = (v * 10 + i64::from(s[i] - b'0')).min(1 << 40);
        i += 1;
    }
    if neg {
        -v
    } else {
        v
    }
}

/// The reference's size syntax; `None` when the value does not fit a C `int` (≥ 2 GiB)
/// or is negative, which the reference cannot use.
pub fn parse_size(s: &str) -> Option<u32> {
    let b = s.as_bytes();
    let (digits, mult) = match b.last() {
        Some(b'K') => (&b[..b.len() - 1], 1i64 << 10),
        Some(b'M') => (&b[..b.len() - 1], 1 << 20),
        Some(b'G') => (&b[..b.len() - 1], 1 << 30),
        _ => (b, 1),
    };
    let v = atoi(digits) * mult;
    if (0..(1i64 << 31)).contains(&v) {
        Some(v as u32)
    } else {
        None
    }
}

struct Options {
    rom: Option<OsString>,
    tapes: [OsString; 2],
    tty_in: Option<File>,
    tty_out: Option<File>,
    config: Config,
    disassemble: Option<OsString>,
}

enum Parsed {
    Run(Options),
    Exit(i32),
}

fn fail(io: &mut Streams, msg: &str) -> Parsed {
    Parsed::Exit(failed(io, msg))
}

/// Prints `msg` on stderr; the exit status of a bad command line.
fn failed(io: &mut Streams, msg: &str) -> i32 {
    let _ = io.stderr.write_all(msg.as_bytes());
    EXIT_FAILURE
}

fn parse(args: &[OsString], io: &mut Streams) -> Parsed {
    let argv0 = args.first().map_or_else(
        || "stage0-vm".to_string(),
        |a| a.to_string_lossy().into_owned(),
    );
    let mut o = Options {
        rom: None,
        tapes: ["tape_01".into(), "tape_02".into()],
        tty_in: None,
        tty_out: None,
        config: Config {
            memory_size: DEFAULT_MEMORY,
            stack_size: DEFAULT_STACK,
            ..Config::default()
        },
        disassemble: None,
    };
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        let (id, value) = match arg {
            Ok(Arg::Value(id, value)) => (id, value),
            Ok(Arg::Flag(flag)) => {
                match flag {
                    Flag::Posix => o.config.posix = true,
                    Flag::Fuzzing => o.config.fuzzing = true,
                    Flag::Trace => o.config.trace = true,
                    Flag::Help => {
                        let _ = io.stdout.write_all(usage_line(&argv0).as_bytes());
                        let _ = io.stdout.write_all(b"\n");
                        let _ = io.stdout.write_all(help().as_bytes());
                        return Parsed::Exit(EXIT_SUCCESS);
                    }
                    Flag::Version => {
                        io.version("stage0-vm");
                        return Parsed::Exit(EXIT_SUCCESS);
                    }
                }
                continue;
            }
            // The reference takes every other argument for an option it does not know.
            Ok(Arg::Positional(p)) => {
                return fail(io, &format!("unknown option {}\n", p.to_string_lossy()))
            }
            Err(UsageError::UnknownOption(arg)) => {
                return fail(io, &format!("unknown option {arg}\n"))
            }
            Err(UsageError::MissingValue(arg)) => {
                // The reference dereferences NULL here.
                return fail(
                    io,
                    &format!(
                        "{argv0}: error: option {arg} needs a value\n{argv0}: try '{argv0} --help' for usage\n"
                    ),
                );
            }
        };
        if let Err(status) = apply(&mut o, id, value, &argv0, io) {
            return Parsed::Exit(status);
        }
    }
    Parsed::Run(o)
}

/// Sets what the value option `id` with `value` says in `o`; `Err(status)` when the run ends here.
fn apply(
    o: &mut Options,
    id: Value,
    value: &OsStr,
    argv0: &str,
    io: &mut Streams,
) -> Result<(), i32> {
    let size = |io: &mut Streams, what: &str| -> Result<u32, i32> {
        let text = value.to_string_lossy();
        parse_size(&text).ok_or_else(|| {
            failed(
                io,
                &format!(
                    "{argv0}: error: {what} '{text}' is not a usable size: expected 0 to 2147483647 bytes \
                     (hint: use K, M or G suffixes, e.g. 64K; 2G and more does not fit)\n"
                ),
            )
        })
    };
    match id {
        Value::Rom => o.rom = Some(value.to_os_string()),
        Value::Tape1 => o.tapes[0] = value.to_os_string(),
        Value::Tape2 => o.tapes[1] = value.to_os_string(),
        Value::TtyIn => match File::open(value) {
            Ok(f) => o.tty_in = Some(f),
            Err(_) => return Err(failed(io, "unable to open file for --tty-in\n")),
        },
        Value::TtyOut => match File::create(value) {
            Ok(f) => o.tty_out = Some(f),
            Err(_) => return Err(failed(io, "unable to open file for --tty-out\n")),
        },
        Value::Memory => o.config.memory_size = size(io, "--memory")? as usize,
        Value::Stack => o.config.stack_size = size(io, "--stack")?,
        Value::MaxSteps => match value.to_string_lossy().parse::<u64>() {
            Ok(n) => o.config.max_steps = Some(n),
            Err(_) => {
                return Err(failed(
                    io,
                    &format!(
                    "{argv0}: error: --max-steps expects a number of instructions, found '{}'\n",
                    value.to_string_lossy()
                ),
                ))
            }
        },
        Value::Sandbox => {
            let dir = PathBuf::from(value);
            if !dir.is_dir() {
                return Err(failed(
                    io,
                    &format!(
                        "{argv0}: error: --sandbox {}: not a directory (expected an existing directory)\n",
                        dir.display()
                    ),
                ));
            }
            o.config.sandbox = Some(dir);
        }
        Value::Disassemble => o.disassemble = Some(value.to_os_string()),
    }
    Ok(())
}

/// Runs `stage0-vm` with `args` (program name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    // `run` is not a Knight option: the Linux user-mode machine's command line.
    if args.get(1).is_some_and(|a| a == "run") {
        return crate::linux::tool::main(&args[1..], io);
    }
    let o = match parse(args, io) {
        Parsed::Run(o) => o,
        Parsed::Exit(code) => return code,
    };
    let argv0 = args.first().map_or_else(
        || "stage0-vm".to_string(),
        |a| a.to_string_lossy().into_owned(),
    );
    if let Some(path) = &o.disassemble {
        return match std::fs::read(path) {
            Ok(rom) => {
                let _ = io
                    .stdout
                    .write_all(crate::disasm::disassemble(&rom).as_bytes());
                EXIT_SUCCESS
            }
            Err(e) => {
                let _ = writeln!(
                    io.stderr,
                    "{}: error: cannot read ROM: {}",
                    PathBuf::from(path).display(),
                    toolbase::diag::describe_io_error(&e)
                );
                EXIT_FAILURE
            }
        };
    }
    let Some(rom_name) = o.rom else {
        let _ = io.stderr.write_all(usage_line(&argv0).as_bytes());
        return EXIT_FAILURE;
    };
    let shown = rom_name.to_string_lossy().into_owned();
    let Ok(rom) = std::fs::read(&rom_name) else {
        let _ = write!(
            io.stderr,
            "The rom file: {shown} could not be found\n\
             if you are running the make; you forgot the git submodules\n\
             Please review the section: \"Need to know information\" in the README\n"
        );
        return EXIT_FAILURE;
    };
    let mut machine = match Machine::new(&rom, &o.config) {
        Ok(m) => m,
        Err(LoadError::RomTooLarge { rom, memory }) => {
            let _ = writeln!(
                io.stderr,
                "Program {shown} is {rom} bytes large but only {memory} bytes of memory have been allocated!"
            );
            return EXIT_FAILURE;
        }
        Err(LoadError::MemoryTooLarge { memory }) => {
            // Unreachable from the command line (parse_size caps sizes); kept total.
            let _ = writeln!(
                io.stderr,
                "{argv0}: error: memory of {memory} bytes is too large"
            );
            return EXIT_FAILURE;
        }
    };
    let [t1, t2] = o.tapes;
    let mut dev = Devices::new(TapeStore::Host([PathBuf::from(t1), PathBuf::from(t2)]));
    if let Some(f) = o.tty_in {
        dev.tty_in = Some(Box::new(BufReader::new(f)));
    }
    if let Some(f) = o.tty_out {
        dev.tty_out = Some(Box::new(BufWriter::new(f)));
    }
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut run_io = Io {
        stdin: &mut stdin,
        stdout: io.stdout,
        stderr: io.stderr,
    };
    let result = machine.run(&mut dev, &mut run_io);
    let flushed = dev.finish();
    let _ = io.stdout.flush();
    let status = match result {
        Ok(stop) => {
            let _ = io.stderr.write_all(halt_message(machine.steps).as_bytes());
            stop.status()
        }
        Err(fault) => {
            let _ = write!(io.stderr, "{fault}");
            EXIT_FAILURE
        }
    };
    if let Err(e) = flushed {
        let _ = writeln!(io.stderr, "{argv0}: error: {e:?}");
        return EXIT_FAILURE;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_follow_atoi() {
        assert_eq!(parse_size("4M"), Some(4 << 20));
        assert_eq!(parse_size("5000"), Some(5000));
        assert_eq!(parse_size("4k"), Some(4));
        assert_eq!(parse_size("junk"), Some(0));
        assert_eq!(parse_size(" +16K"), Some(16384));
        assert_eq!(parse_size("2G"), None);
        assert_eq!(parse_size("-1"), None);
    }
}

#[cfg(test)]
mod cli_tests {
    use std::ffi::OsString;

    use toolbase::cli::Streams;

    fn run(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
        let mut argv: Vec<OsString> = vec!["stage0-vm".into()];
        argv.extend(args.iter().map(|a| {
            // The test's file names are made relative to its scratch directory.
            if !matches!(*a, "rom" | "in" | "out") {
                OsString::from(a)
            } else {
                dir.join(a).into_os_string()
            }
        }));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut io = Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
            cwd: None,
        };
        let status = super::main(&argv, &mut io);
        (
            status,
            String::from_utf8_lossy(&out).into_owned(),
            String::from_utf8_lossy(&err).into_owned(),
        )
    }

    #[test]
    fn trace_disassemble_and_max_steps() {
        let dir = std::env::temp_dir().join(format!("hexroot-vm-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("rom"), crate::asm::hex0_decoder()).unwrap();
        std::fs::write(dir.join("in"), b"41 42 # c\n43\n").unwrap();

        let (status, _, err) = run(
            &dir,
            &["--rom", "rom", "--tape_01", "in", "--tape_02", "out"],
        );
        assert_eq!(status, 0, "{err}");
        assert!(err.starts_with("Computer Program has Halted\nAfter Executing "));
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"ABC");

        let (status, _, err) = run(
            &dir,
            &[
                "--rom",
                "rom",
                "--tape_01",
                "in",
                "--tape_02",
                "out",
                "--trace",
            ],
        );
        assert_eq!(status, 0);
        let first = err.lines().next().unwrap();
        assert_eq!(
            first,
            "00000000  E0002D201100    LOADUI R0 4352  ; R0=00001100"
        );

        let (status, out, _) = run(&dir, &["--disassemble", "rom"]);
        assert_eq!(status, 0);
        assert!(out.contains("FGETC") && out.contains("HALT"));

        let (status, _, err) = run(
            &dir,
            &[
                "--rom",
                "rom",
                "--tape_01",
                "in",
                "--tape_02",
                "out",
                "--max-steps",
                "10",
            ],
        );
        assert_eq!(status, 1);
        assert!(err.contains("stopped after 10 instructions"), "{err}");

        let (status, _, err) = run(&dir, &["--rom"]);
        assert_eq!(status, 1);
        assert!(err.contains("needs a value"));
        let (status, _, err) = run(&dir, &["--rom", "rom", "--memory", "2G"]);
        assert_eq!(status, 1);
        assert!(err.contains("not a usable size"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
