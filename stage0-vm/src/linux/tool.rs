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

use toolbase::cli::{Streams, EXIT_SUCCESS, EXIT_USAGE};

use super::cpu::Arch;
use super::process::{run, LoadError, RunConfig, RunError};
use super::syscall::RunIo;

const HELP: &str = "\
Usage: stage0-vm run [OPTIONS] PROGRAM [ARGS...]

Runs a static Linux ELF executable (i386, x86-64, AArch64, RV32, RV64 as the stage0-posix
chains build them) in hexroot's user-mode machine: the program, and every program it
forks and executes, are emulated inside this process; files are the host's, relative
to the guest's own working directory (this one at start).

Options (before PROGRAM; everything after PROGRAM is its arguments):
  --arch ARCH       require PROGRAM to be x86, amd64, aarch64, riscv32 or riscv64
                    (default: whatever its ELF header says)
  --trace           print every executed instruction (process id, address, the next
                    bytes) and every system call on stderr
  --max-steps N     stop (exit 125) after N guest instructions in all processes
  --sandbox DIR     guest paths resolve inside DIR and may not leave it (by '..' or
                    symbolic links); the guest starts in DIR
  --env-clear       start with an empty environment instead of this process's
  --env NAME=VALUE  add a variable to the guest's environment (repeatable)
  --quiet           no summary line on stderr at the end
  -h, --help        print this help and exit
  -V, --version     print the version and exit

Exit status: the guest's (128 + signal when a fault killed it, e.g. 139 for SIGSEGV,
132 for SIGILL, 136 for SIGFPE, 159 for an unknown system call); 125 when --max-steps
ran out or the working directory is unusable; 126 PROGRAM is not a runnable executable;
127 PROGRAM does not exist; 2 bad command line.

Example:
  $ stage0-vm run seeds/x86/hex0-seed seeds/x86/hex0.hex0 hex0 && cmp hex0 seeds/x86/hex0-seed
";

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
    let mut i = 1;
    while i < args.len() {
        let arg = args[i].to_string_lossy().into_owned();
        if !arg.starts_with('-') || arg == "-" {
            break;
        }
        i += 1;
        let mut value = |name: &str| -> Result<OsString, i32> {
            let v = args.get(i).cloned();
            i += 1;
            v.ok_or_else(|| {
                io.usage_error(TOOL, &format!("option '{name}' needs a value"));
                EXIT_USAGE
            })
        };
        match arg.as_str() {
            "--" => break,
            "-h" | "--help" => {
                let _ = io.stdout.write_all(HELP.as_bytes());
                return EXIT_SUCCESS;
            }
            "-V" | "--version" => {
                io.version("stage0-vm");
                return EXIT_SUCCESS;
            }
            "--trace" => config.trace = true,
            "--quiet" => quiet = true,
            "--env-clear" => env.clear(),
            "--env" => match value("--env") {
                Ok(v) if v.as_bytes().contains(&b'=') => env.push(v.into_vec()),
                Ok(v) => {
                    io.usage_error(
                        TOOL,
                        &format!("--env expects NAME=VALUE, found '{}'", v.to_string_lossy()),
                    );
                    return EXIT_USAGE;
                }
                Err(code) => return code,
            },
            "--arch" => match value("--arch") {
                Ok(v) => match parse_arch(&v.to_string_lossy()) {
                    Some(a) => config.arch = Some(a),
                    None => {
                        io.usage_error(TOOL, &format!("unknown architecture '{}': expected x86, amd64, aarch64, riscv32 or riscv64", v.to_string_lossy()));
                        return EXIT_USAGE;
                    }
                },
                Err(code) => return code,
            },
            "--max-steps" => match value("--max-steps") {
                Ok(v) => match v.to_string_lossy().parse::<u64>() {
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
                Err(code) => return code,
            },
            "--sandbox" => {
                match value("--sandbox") {
                    Ok(v) => {
                        let dir = PathBuf::from(v);
                        if !dir.is_dir() {
                            io.usage_error(TOOL, &format!("--sandbox {}: not a directory (expected an existing directory)", dir.display()));
                            return EXIT_USAGE;
                        }
                        config.cwd = dir.clone();
                        config.sandbox = Some(dir);
                    }
                    Err(code) => return code,
                }
            }
            _ => {
                io.usage_error(TOOL, &format!("unknown option '{arg}'"));
                return EXIT_USAGE;
            }
        }
    }
    let Some(program) = args.get(i) else {
        io.usage_error(TOOL, "expected a PROGRAM to run");
        return EXIT_USAGE;
    };
    config.program = PathBuf::from(program);
    config.argv = args[i..].iter().map(|a| a.as_bytes().to_vec()).collect();
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
