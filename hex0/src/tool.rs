//! The `hex0` command: `hex0 [--architecture ARCH] INPUT OUTPUT`, the seed's positional
//! form, over [`crate::lang`].
//!
//! It reads INPUT whole, assembles it and writes OUTPUT through [`toolbase::output`] with the
//! seeds' creation mode 0700 (before umask). It owns argument handling and reporting only.

use std::ffi::OsString;

use crate::lang::{assemble, Dialect};
use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;
use toolbase::output::write_atomic;

/// Mode the seeds create their outputs with (before umask).
pub const OUTPUT_MODE: u32 = 0o700;

#[derive(Clone, Copy)]
enum Flag {
    Help,
    Version,
}

#[derive(Clone, Copy)]
enum Value {
    Arch,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-A", "--architecture"], Value::Arch, "ARCH").doc(
        "follow the seed of ARCH where seeds differ: x86, amd64,
aarch64, riscv32, riscv64 (riscv seeds also end a comment at
a carriage return). Default: portable (comments end at '\\n';
a G/g outside a comment, which some seeds read as a digit, is
an error).",
    ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

const HELP_HEAD: &str = "\
Usage: hex0 [--architecture ARCH] INPUT OUTPUT

Assembles the hex0 source INPUT into the binary OUTPUT, as the stage0-posix seed hex0
does: hex digit pairs become bytes, '#' and ';' start a comment to the end of the line,
every other byte is skipped. OUTPUT is created with mode 0700 (less the umask), written
to a temporary file and renamed into place, so a failed run leaves no partial output.
Arguments after OUTPUT are ignored, as by the seed.

Options:
";

const HELP_TAIL: &str = "
Exit status: 0 success, 1 unreadable input, bad input or unwritable output,
2 bad command line.

Example:
  $ printf 'B8 2A 00 00 00 # mov eax, 42\\n' > exit.hex0 && hex0 exit.hex0 exit.bin
";

/// The documented options of `hex0` (for the man page and the completion).
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `hex0 --help` prints: the text around the option list, which the option table
/// renders.
fn help() -> String {
    HELP_HEAD.to_string()
        + &toolbase::help::option_list(&toolbase::help::documented(OPTS))
        + HELP_TAIL
}

/// Runs `hex0` with `args` (program name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = program_name(args, "hex0");
    let mut dialect = Dialect::Portable;
    let mut files = Vec::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Value(Value::Arch, name)) => {
                match Dialect::from_name(&name.to_string_lossy()) {
                    Some(d) => dialect = d,
                    None => {
                        io.usage_error(
                            &tool,
                            &format!(
                                "unknown architecture '{}'; expected one of x86, amd64, aarch64, riscv32, riscv64, portable",
                                name.to_string_lossy()
                            ),
                        );
                        return EXIT_USAGE;
                    }
                }
            }
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("hex0");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => files.push(p),
            Err(e) => {
                io.usage_error(&tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let (input, output) = match files.as_slice() {
        [input, output, ..] => (*input, *output),
        [_] => {
            io.usage_error(
                &tool,
                "missing OUTPUT: expected 'hex0 INPUT OUTPUT', found only INPUT",
            );
            return EXIT_USAGE;
        }
        [] => {
            io.usage_error(
                &tool,
                "missing INPUT and OUTPUT: expected 'hex0 INPUT OUTPUT'",
            );
            return EXIT_USAGE;
        }
    };
    let name = input.to_string_lossy();
    let source = match std::fs::read(io.resolve(input)) {
        Ok(s) => s,
        Err(e) => {
            io.error(&Diagnostic::io(input, "cannot read input", &e));
            return EXIT_FAILURE;
        }
    };
    let bytes = match assemble(&source, dialect) {
        Ok(b) => b,
        Err(e) => {
            io.error(&e.to_diagnostic(&name, &source));
            return EXIT_FAILURE;
        }
    };
    if let Err(e) = write_atomic(io.resolve(output), &bytes, OUTPUT_MODE) {
        io.error(&Diagnostic::io(output, "cannot write output", &e));
        return EXIT_FAILURE;
    }
    EXIT_SUCCESS
}
