//! The `stage0-vm run` command: runs a static Linux ELF program of the chains in the
//! user-mode machine.
//!
//! This module owns the command line (options up to the program, everything after it is
//! the program's), the guest environment (the host's by default, as the kernel would
//! pass it), wiring the process's standard streams to the guest, and the final report.
//! It is reached from [`crate::tool::main`] when the first argument is `run`, which is
//! not a Knight option, so the Knight command line is unchanged.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use toolbase::args::{Arg, Opt, Parser, UsageError};
use toolbase::cli::{Streams, EXIT_SUCCESS, EXIT_USAGE};

use super::cpu::Arch;
use super::process::{run, LoadError, RunConfig, RunError};
use super::syscall::RunIo;

/// What `--help` prints before the option list.
const HELP_HEAD: &str = "\
Usage: stage0-vm run [OPTIONS] PROGRAM [ARGS...]

Runs a static Linux ELF executable (i386, x86-64, AArch64, RV32, RV64 as the stage0-posix
chains build them) in hexroot's user-mode machine: the program, and every program it
forks and executes, are emulated inside this process; files are the host's, relative
to the guest's own working directory (this one at start).

Options (before PROGRAM; everything after PROGRAM is its arguments):
";

/// What `--help` prints after the option list.
const HELP_TAIL: &str = "
Exit status: the guest's (128 + signal when a fault killed it, e.g. 139 for SIGSEGV,
132 for SIGILL, 136 for SIGFPE, 159 for an unknown system call); 125 when --max-steps
ran out or the working directory is unusable; 126 PROGRAM is not a runnable executable;
127 PROGRAM does not exist; 2 bad command line.

Example:
  $ stage0-vm run seeds/x86/hex0-seed seeds/x86/hex0.hex0 hex0 && cmp hex0 seeds/x86/hex0-seed
";

/// The flags of `stage0-vm run`.
#[derive(Clone, Copy)]
enum Flag {
    Trace,
    EnvClear,
    Quiet,
    Help,
    Version,
    /// `--`: the options end, the next argument is PROGRAM.
    EndOfOptions,
}

/// The options of `stage0-vm run` that take a value.
#[derive(Clone, Copy)]
enum Value {
    Arch,
    MaxSteps,
    Sandbox,
    Env,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["--arch"], Value::Arch, "ARCH").doc(
        "require PROGRAM to be x86, amd64, aarch64, riscv32 or riscv64\n(default: whatever its ELF header says)",
    ),
    Opt::flag(&["--trace"], Flag::Trace).doc(
        "print every executed instruction (process id, address, the next\nbytes) and every system call on stderr",
    ),
    Opt::value(&["--max-steps"], Value::MaxSteps, "N")
        .doc("stop (exit 125) after N guest instructions in all processes"),
    Opt::value(&["--sandbox"], Value::Sandbox, "DIR").doc(
        "guest paths resolve inside DIR and may not leave it (by '..' or\nsymbolic links); the guest starts in DIR",
    ),
    Opt::flag(&["--env-clear"], Flag::EnvClear)
        .doc("start with an empty environment instead of this process's"),
    Opt::value(&["--env"], Value::Env, "NAME=VALUE")
        .doc("add a variable to the guest's environment (repeatable)"),
    Opt::flag(&["--quiet"], Flag::Quiet).doc("no summary line on stderr at the end"),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
    Opt::flag(&["--"], Flag::EndOfOptions),
];

/// What `stage0-vm run --help` prints: the text around the option list, which [`OPTS`]
/// renders.
fn help() -> String {
    HELP_HEAD.to_string()
        + &toolbase::help::option_list(&toolbase::help::documented(OPTS))
        + HELP_TAIL
}

/// The documented options of `stage0-vm run` (for the man page and the completion).
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

fn parse_arch(s: &str) -> Option<Arch> {
    [
        Arch::I386,
        Arch::Amd64,
        Arch::Aarch64,
        Arch::Riscv32,
        Arch::Riscv64,
    ]
    .into_iter()
    .find(|a| a.name() == s)
}

/// Runs `stage0-vm run` with `args` (`run` first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    const TOOL: &str = "stage0-vm run";
    let mut config = RunConfig::default();
    let mut env: Vec<Vec<u8>> = std::env::vars_os()
        .map(|(k, v)| {
            let mut s = k.into_vec();
            s.push(b'=');
            s.extend(v.into_vec());
            s
        })
        .collect();
    let mut quiet = false;
    let mut parser = Parser::new(args.get(1..).unwrap_or(&[]), OPTS);
    let mut program_and_args: &[OsString] = &[];
    while let Some(arg) = parser.next() {
        let (id, v) = match arg {
            Ok(Arg::Value(id, v)) => (id, v),
            Ok(Arg::Flag(flag)) => {
                match flag {
                    Flag::EndOfOptions => {
                        program_and_args = parser.rest();
                        break;
                    }
                    Flag::Help => {
                        let _ = io.stdout.write_all(help().as_bytes());
                        return EXIT_SUCCESS;
                    }
                    Flag::Version => {
                        io.version("stage0-vm");
                        return EXIT_SUCCESS;
                    }
                    Flag::Trace => config.trace = true,
                    Flag::Quiet => quiet = true,
                    Flag::EnvClear => env.clear(),
                }
                continue;
            }
            Ok(Arg::Positional(_)) => {
                // PROGRAM: it and everything after it are the guest's.
                let rest = parser.rest();
                program_and_args = &args[args.len() - rest.len() - 1..];
                break;
            }
            Err(UsageError::MissingValue(name)) => {
                io.usage_error(TOOL, &format!("option '{name}' needs a value"));
                return EXIT_USAGE;
            }
            Err(e @ UsageError::UnknownOption(_)) => {
                io.usage_error(TOOL, &e.to_string());
                return EXIT_USAGE;
            }
        };
        match id {
            Value::Env if v.as_bytes().contains(&b'=') => env.push(v.as_bytes().to_vec()),
            Value::Env => {
                io.usage_error(
                    TOOL,
                    &format!("--env expects NAME=VALUE, found '{}'", v.to_string_lossy()),
                );
                return EXIT_USAGE;
            }
            Value::Arch => match parse_arch(&v.to_string_lossy()) {
                Some(a) => config.arch = Some(a),
                None => {
                    io.usage_error(TOOL, &format!("unknown architecture '{}': expected x86, amd64, aarch64, riscv32 or riscv64", v.to_string_lossy()));
                    return EXIT_USAGE;
                }
            },
            Value::MaxSteps => match v.to_string_lossy().parse::<u64>() {
                Ok(n) => config.max_steps = Some(n),
                Err(_) => {
                    io.usage_error(
                        TOOL,
                        &format!(
                            "--max-steps expects a number of instructions, found '{}'",
                            v.to_string_lossy()
                        ),
                    );
                    return EXIT_USAGE;
                }
            },
            Value::Sandbox => {
                let dir = PathBuf::from(v);
                if !dir.is_dir() {
                    io.usage_error(
                        TOOL,
                        &format!(
                            "--sandbox {}: not a directory (expected an existing directory)",
                            dir.display()
                        ),
                    );
                    return EXIT_USAGE;
                }
                config.cwd = dir.clone();
                config.sandbox = Some(dir);
            }
        }
    }
    let Some(program) = program_and_args.first() else {
        io.usage_error(TOOL, "expected a PROGRAM to run");
        return EXIT_USAGE;
    };
    config.program = PathBuf::from(program);
    config.argv = program_and_args
        .iter()
        .map(|a| a.as_bytes().to_vec())
        .collect();
    config.envp = env;
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut run_io = RunIo {
        stdin: &mut stdin,
        stdout: &mut *io.stdout,
        stderr: &mut *io.stderr,
    };
    let result = run(&config, &mut run_io, None);
    match result {
        Ok(out) => {
            if !quiet {
                let _ = writeln!(
                    io.stderr,
                    "stage0-vm: exit status {}, {} instructions in {} program run{}",
                    out.status,
                    out.instructions,
                    out.processes.len(),
                    if out.processes.len() == 1 { "" } else { "s" }
                );
            }
            out.status
        }
        Err(e) => {
            let _ = writeln!(io.stderr, "stage0-vm: error: {e}");
            match e {
                RunError::Load {
                    why: LoadError::Missing,
                    ..
                } => 127,
                RunError::Load { .. } => 126,
                RunError::StepLimit { .. } | RunError::Cwd { .. } => 125,
            }
        }
    }
}
