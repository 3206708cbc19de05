//! `catm OUTPUT INPUT...`: concatenation, as mescc-tools 1.7.0 catm.
//!
//! The output is created with mode 0600 (before umask), or keeps its mode if it existed,
//! and receives every input in order, each read to its end. An input that cannot be read is
//! an error naming it, and the earlier OUTPUT is left untouched (the reference leaves a
//! partial file). An input that is OUTPUT itself contributes what has been written so far,
//! exactly as with the reference, which truncates OUTPUT first and appends as it goes.

use std::ffi::OsString;
use std::fs::File;
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use toolbase::args::{Arg, NoValue, Opt, Parser};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS};
use toolbase::diag::Diagnostic;
use toolbase::output::OutputFile;

/// Mode catm creates its output with (before umask).
pub const OUTPUT_MODE: u32 = 0o600;

/// The options of `catm`, recognised only as the sole argument.
#[derive(Clone, Copy)]
enum Flag {
    Help,
    Version,
}

const OPTS: &[Opt<Flag, NoValue>] = &[
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// What `--help` prints before the option list.
const HELP_HEAD: &str = "\
Usage: catm OUTPUT [INPUT...]

Writes the concatenation of the INPUTs to OUTPUT, as mescc-tools catm: OUTPUT comes
first, is created with mode 0600 (less the umask) or keeps its mode if it exists, and
is replaced only when every input was read. An INPUT naming OUTPUT itself adds what was
written before it (the reference truncates OUTPUT first and appends as it goes). 'catm OUTPUT' writes an empty file.

Options (recognised only as the sole argument):
";

/// What `--help` prints after the option list.
const HELP_TAIL: &str = "
Exit status: 0 success, 1 missing arguments, an unreadable input or an unwritable output
(1, not 2, for a bad command line, as the reference).

Example:
  $ printf 'B8 2A\\n' > head.hex0 && printf '00 00 00\\n' > tail.hex0 && catm exit.hex0 head.hex0 tail.hex0
";

/// What `catm --help` prints: the text around the option list, which `OPTS` renders.
fn help() -> String {
    HELP_HEAD.to_string()
        + &toolbase::help::option_list(&toolbase::help::documented(OPTS))
        + HELP_TAIL
}

/// The documented options of `catm` (for the man page and the completion).
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// Concatenates `inputs` into `output`; see the module documentation. Relative names are
/// resolved against `cwd` when one is given; messages name the files as given.
pub fn concatenate(output: &Path, inputs: &[&Path], cwd: Option<&Path>) -> Result<(), Diagnostic> {
    let at = |name: &Path| toolbase::cli::resolve_in(cwd, name);
    let out = OutputFile::create(at(output), OUTPUT_MODE)
        .map_err(|e| Diagnostic::io(output, "cannot create output", &e))?;
    let output_id = std::fs::metadata(out.destination())
        .ok()
        .map(|m| (m.dev(), m.ino()));
    let mut bytes = Vec::new();
    for input in inputs {
        let mut file =
            File::open(at(input)).map_err(|e| Diagnostic::io(input, "cannot open input", &e))?;
        let meta = file
            .metadata()
            .map_err(|e| Diagnostic::io(input, "cannot read input", &e))?;
        if meta.is_dir() {
            return Err(Diagnostic::new("cannot read input: it is a directory")
                .in_file(input.display().to_string()));
        }
        if Some((meta.dev(), meta.ino())) == output_id {
            // The reference has truncated OUTPUT and appended to it so far: reading it
            // back gives what was written up to here.
            bytes.extend_from_within(..);
            continue;
        }
        file.read_to_end(&mut bytes)
            .map_err(|e| Diagnostic::io(input, "cannot read input", &e))?;
    }
    let mut out = out;
    out.write_all(&bytes)
        .and_then(|()| out.commit())
        .map_err(|e| Diagnostic::io(output, "cannot write output", &e))
}

/// Runs `catm` with `args` (program name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = program_name(args, "catm");
    let rest = args.get(1..).unwrap_or(&[]);
    match rest {
        [] => {
            io.usage_error(
                &tool,
                "catm requires 2 or more arguments: expected 'catm OUTPUT [INPUT...]'",
            );
            return EXIT_FAILURE;
        }
        [_] => match Parser::new(rest, OPTS).next() {
            Some(Ok(Arg::Flag(Flag::Help))) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Some(Ok(Arg::Flag(Flag::Version))) => {
                io.version("catm");
                return EXIT_SUCCESS;
            }
            // Anything else alone is OUTPUT: 'catm OUTPUT' writes an empty file.
            Some(Ok(Arg::Positional(_)) | Err(_)) | None => {}
        },
        _ => {}
    }
    let output = Path::new(&rest[0]);
    let inputs: Vec<&Path> = rest[1..].iter().map(Path::new).collect();
    io.finish(concatenate(output, &inputs, io.cwd))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 19: an in-process caller gives the directory; the process's is not changed
    /// and messages name the files as given.
    #[test]
    fn relative_names_are_taken_under_streams_cwd() {
        let dir = std::env::temp_dir().join(format!("hexroot-catm-cwd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a"), b"A").unwrap();
        std::fs::write(dir.join("b"), b"B").unwrap();
        let before = std::env::current_dir().unwrap();
        let run = |args: &[&str]| {
            let args: Vec<OsString> = args.iter().map(OsString::from).collect();
            let mut err = Vec::new();
            let status = main(
                &args,
                &mut Streams {
                    stdout: &mut Vec::new(),
                    stderr: &mut err,
                    stdout_is_terminal: false,
                    cwd: Some(&dir),
                },
            );
            (status, String::from_utf8_lossy(&err).into_owned())
        };
        assert_eq!(run(&["catm", "out", "a", "b"]).0, EXIT_SUCCESS);
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"AB");
        let (status, err) = run(&["catm", "out", "nope"]);
        assert_eq!(status, EXIT_FAILURE);
        assert!(err.starts_with("nope: error: cannot open input"), "{err}");
        assert_eq!(std::env::current_dir().unwrap(), before);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
