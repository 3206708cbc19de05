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

use toolbase::args::{Arg, Opt, Parser, UsageError};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;
use toolbase::output::OutputFile;

use crate::config::{reference_warnings, ByteMode, Config, Dialect, Endian};
use crate::engine::{Checkpoint, Linker, Pass};
use crate::linked::Linked;
use toolbase::arch::Arch;
use toolbase::number::strtoint;

/// Mode full hex2 creates its output with (before umask), as `fopen(…, "w")`.
pub const CREATE_MODE: u32 = 0o666;
/// Mode full hex2 gives its output afterwards (exact, no umask) unless `--non-executable`.
pub const EXECUTABLE_MODE: u32 = 0o750;
/// Mode the seed forms create their output with (before umask).
pub const SEED_MODE: u32 = 0o700;

/// Size of the read buffer; files are fed in chunks ending at a line boundary.
const CHUNK: usize = 1 << 20;

/// Which part of a file [`feed_file`] feeds: the bytes from `start` (a line start) to
/// `end` (a line start, or the end of the file), and whether this is the file's beginning
/// (`begin_file`) and its end (`end_file`).
#[derive(Clone, Copy)]
struct Part {
    start: u64,
    end: u64,
    first: bool,
    last: bool,
}

/// The whole file.
const WHOLE: Part = Part {
    start: 0,
    end: u64::MAX,
    first: true,
    last: true,
};

/// Reads `part` of `path` and feeds it to `linker` in line-aligned chunks (`buf` is the
/// read buffer, kept between calls); after each chunk `sink` may take the bytes written
/// so far.
fn feed_file(
    linker: &mut Linker,
    path: &OsStr,
    buf: &mut Vec<u8>,
    part: Part,
    chunk: usize,
    sink: &mut dyn FnMut(&mut Linker) -> std::io::Result<()>,
) -> Result<(), Diagnostic> {
    use std::io::{Seek, SeekFrom};
    let name = path.to_string_lossy();
    let mut file = File::open(path).map_err(|e| {
        // the seed forms name their input positionally, not with -f
        let hint = match linker.config().dialect {
            Dialect::Full => "check the -f file name (hex2 reads every input twice, so it must be a regular file)",
            _ => "check the INPUT file name (it is read twice, so it must be a regular file)",
        };
        Diagnostic::io(path, "cannot open input", &e).hint(hint)
    })?;
    if part.start > 0 {
        file.seek(SeekFrom::Start(part.start))
            .map_err(|e| Diagnostic::io(path, "cannot read input", &e))?;
    }
    if part.first {
        linker.begin_file(&name);
    }
    if buf.len() < chunk {
        buf.resize(chunk, 0);
    }
    let mut left = part.end - part.start;
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            buf.resize((buf.len() * 2).max(64), 0);
        }
        let room = (buf.len() - filled).min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = match file.read(&mut buf[filled..filled + room]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Diagnostic::io(path, "cannot read input", &e)),
        };
        if n == 0 {
            linker.feed(&buf[..filled])?;
            break;
        }
        filled += n;
        left -= n as u64;
        if let Some(last_nl) = buf[..filled].iter().rposition(|&b| b == b'\n') {
            linker.feed(&buf[..=last_nl])?;
            buf.copy_within(last_nl + 1..filled, 0);
            filled -= last_nl + 1;
            sink(linker).map_err(|e| Diagnostic::new(format!("cannot write output: {e}")))?;
        }
    }
    if part.last {
        linker.end_file()?;
    }
    sink(linker).map_err(|e| Diagnostic::new(format!("cannot write output: {e}")))
}

/// Inputs at least this large (in all) have pass 2 split in two, the second part linked
/// by another thread.
const SPLIT: u64 = 4 << 20;

/// Sizes that only tests change: the read size (pass 1 checkpoints fall between reads)
/// and the smallest input whose pass 2 is split.
#[derive(Clone, Copy)]
struct Tuning {
    chunk: usize,
    split: u64,
}

const TUNING: Tuning = Tuning {
    chunk: CHUNK,
    split: SPLIT,
};

/// The sizes of the inputs of a run large enough to split.
struct Sizes {
    /// Each input's size, in order.
    each: Vec<u64>,
    /// Their sum.
    total: u64,
}

/// The inputs' sizes, if their total is at least `split` bytes and there is a second core
/// to run the other part on.
fn splittable_sizes(inputs: &[&OsStr], split: u64) -> Option<Sizes> {
    let sizes: Vec<u64> = inputs
        .iter()
        .map(|f| std::fs::metadata(f).map(|m| m.len()))
        .collect::<Result<_, _>>()
        .ok()?;
    let total: u64 = sizes.iter().sum();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (total >= split && cores > 1).then_some(Sizes { each: sizes, total })
}

/// Where to split pass 2: the checkpoint of pass 1 nearest the middle of the input;
/// `None` when the run is not split (`sized` is `None`).
fn split_point(
    inputs: &[&OsStr],
    marks: &[Checkpoint],
    sized: Option<&Sizes>,
) -> Option<Checkpoint> {
    let Sizes { each, total } = sized?;
    let before =
        |c: &Checkpoint| -> u64 { each[..c.file as usize].iter().sum::<u64>() + c.offset as u64 };
    marks
        .iter()
        .filter(|c| (c.file as usize) < inputs.len())
        .min_by_key(|c| before(c).abs_diff(total / 2))
        .copied()
}

/// Where to split pass 1: the first line start at or after the middle of the input, as
/// (file index, offset); `None` when the run is not split (`sized` is `None`).
fn pass1_split(inputs: &[&OsStr], sized: Option<&Sizes>) -> Option<(usize, u64)> {
    use std::io::{Seek, SeekFrom};
    let Sizes { each, total } = sized?;
    let mut mid = total / 2;
    let file = each.iter().position(|&n| {
        let inside = mid < n;
        if !inside {
            mid -= n;
        }
        inside
    })?;
    let mut f = File::open(inputs[file]).ok()?;
    f.seek(SeekFrom::Start(mid)).ok()?;
    let mut probe = vec![0u8; 1 << 16];
    let n = f.read(&mut probe).ok()?;
    let newline = probe[..n].iter().position(|&b| b == b'\n')?;
    let offset = mid + newline as u64 + 1;
    (offset < each[file]).then_some((file, offset))
}

/// Pass 1 of `inputs[file..]` from `offset` in `inputs[file]` on, by `fork`; `None` if
/// anything fails (the caller then reads that part itself, for the errors).
fn pass1_rest(
    mut fork: Linker,
    inputs: &[&OsStr],
    file: usize,
    offset: u64,
    chunk: usize,
) -> Option<Linker> {
    let mut buf = Vec::new();
    let mut none = |_: &mut Linker| Ok(());
    let first = Part {
        start: offset,
        first: false,
        ..WHOLE
    };
    feed_file(&mut fork, inputs[file], &mut buf, first, chunk, &mut none).ok()?;
    for f in &inputs[file + 1..] {
        feed_file(&mut fork, f, &mut buf, WHOLE, chunk, &mut none).ok()?;
    }
    Some(fork)
}

/// Pass 2 of `inputs[from.file..]` from `from` on, by `fork`: its output is written to
/// `to` at its offset as it is produced, or (without `to`) kept in `fork`. `None` if
/// anything fails (the caller then links that part itself, for the errors).
fn link_rest(
    mut fork: Linker,
    inputs: &[&OsStr],
    from: Checkpoint,
    to: Option<File>,
    chunk: usize,
) -> Option<Linker> {
    use std::os::unix::fs::FileExt;
    let mut buf = Vec::new();
    let mut offset = fork.offset_of(from);
    let mut keep = |l: &mut Linker| match &to {
        Some(file) => l.drain_bytes(|bytes| {
            let written = file.write_all_at(bytes, offset);
            offset += bytes.len() as u64;
            written
        }),
        None => Ok(()),
    };
    if to.is_none() {
        fork.reserve_rest(from);
    }
    let first = Part {
        start: from.offset as u64,
        first: false,
        ..WHOLE
    };
    let file = inputs[from.file as usize];
    feed_file(&mut fork, file, &mut buf, first, chunk, &mut keep).ok()?;
    for f in &inputs[from.file as usize + 1..] {
        feed_file(&mut fork, f, &mut buf, WHOLE, chunk, &mut keep).ok()?;
    }
    (!fork.has_failed()).then_some(fork)
}

/// Links `inputs` with `config`, handing output bytes to `sink` as they are produced.
///
/// Pass 2 of a large input is split at a checkpoint of pass 1 near the middle: a second
/// thread links the part after it (keeping its output) while this one links and writes
/// the part before; the second part's output is written at its offset in `positional`
/// (a second handle on the output file) as it comes, or, without one, after the first. If
/// either part meets an error or an undefined label, this thread links the second part
/// again itself, so errors are exactly those of the plain order.
fn link_files(
    inputs: &[&OsStr],
    config: Config,
    positional: Option<File>,
    tuning: Tuning,
    sink: &mut dyn FnMut(&mut Linker) -> std::io::Result<()>,
) -> Result<Linked, Diagnostic> {
    let chunk = tuning.chunk;
    let mut linker = Linker::new(config);
    let mut buf = Vec::new();
    let mut marks = Vec::new();
    let mut mark = |l: &mut Linker| {
        marks.extend(l.checkpoint());
        Ok(())
    };
    linker.begin_pass(Pass::One);
    // The inputs' sizes, read once for both passes' split points.
    let sized = splittable_sizes(inputs, tuning.split);
    let halves = if linker.can_fork_pass1() {
        pass1_split(inputs, sized.as_ref())
    } else {
        None
    };
    match halves {
        None => {
            for f in inputs {
                feed_file(&mut linker, f, &mut buf, WHOLE, chunk, &mut mark)?;
            }
        }
        Some((file, offset)) => {
            let names = inputs[..=file]
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            let fork = linker.fork_pass1(file as u32, offset as usize, names);
            let forked = std::thread::scope(|scope| -> Result<Option<Linker>, Diagnostic> {
                let other = std::thread::Builder::new()
                    .name("hex2-pass1".into())
                    // smaller reads: the helper's buffers are fresh pages (page faults)
                    .spawn_scoped(scope, || pass1_rest(fork, inputs, file, offset, chunk / 4))
                    .ok();
                for (i, f) in inputs[..=file].iter().enumerate() {
                    let part = if i == file {
                        Part {
                            end: offset,
                            last: false,
                            ..WHOLE
                        }
                    } else {
                        WHOLE
                    };
                    feed_file(&mut linker, f, &mut buf, part, chunk, &mut mark)?;
                }
                Ok(other.and_then(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))))
            })?;
            let joined = forked.is_some_and(|fork| linker.join_pass1(fork, file as u32));
            if !joined {
                for (i, f) in inputs[file..].iter().enumerate() {
                    let part = if i == 0 {
                        Part {
                            start: offset,
                            first: false,
                            ..WHOLE
                        }
                    } else {
                        WHOLE
                    };
                    feed_file(&mut linker, f, &mut buf, part, chunk, &mut mark)?;
                }
            }
        }
    }
    linker.begin_pass(Pass::Two);
    let split = if linker.can_fork() {
        split_point(inputs, &marks, sized.as_ref())
    } else {
        None
    };
    drop(marks);
    let mut none = |_: &mut Linker| Ok(());
    let Some(at) = split else {
        for f in inputs {
            let out: &mut dyn FnMut(&mut Linker) -> std::io::Result<()> =
                if linker.has_failed() { &mut none } else { sink };
            feed_file(&mut linker, f, &mut buf, WHOLE, chunk, out)?;
        }
        return finish(linker);
    };
    let at_file = at.file as usize;
    let expected = linker.offset_of(at);
    let forked = std::thread::scope(|scope| -> Result<Option<Linker>, Diagnostic> {
        let fork = linker.fork(at);
        let other = std::thread::Builder::new()
            .name("hex2-pass2".into())
            // smaller reads: the helper's buffers are fresh pages (page faults)
            .spawn_scoped(scope, || link_rest(fork, inputs, at, positional, chunk / 4))
            .ok();
        for (i, f) in inputs[..=at_file].iter().enumerate() {
            let part = if i == at_file {
                Part {
                    end: at.offset as u64,
                    last: false,
                    ..WHOLE
                }
            } else {
                WHOLE
            };
            let out: &mut dyn FnMut(&mut Linker) -> std::io::Result<()> =
                if linker.has_failed() { &mut none } else { sink };
            feed_file(&mut linker, f, &mut buf, part, chunk, out)?;
        }
        Ok(other.and_then(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))))
    })?;
    match forked {
        Some(mut fork) if !linker.has_failed() => {
            if linker.written() != expected {
                return Err(Diagnostic::new(format!(
                    "internal error: the first part of pass 2 wrote {} bytes, expected {expected}",
                    linker.written()
                )));
            }
            sink(&mut fork).map_err(|e| Diagnostic::new(format!("cannot write output: {e}")))?;
            linker.adopt(fork);
        }
        _ => {
            let rest = Part {
                start: at.offset as u64,
                first: false,
                ..WHOLE
            };
            for (i, f) in inputs[at_file..].iter().enumerate() {
                let part = if i == 0 { rest } else { WHOLE };
                let out: &mut dyn FnMut(&mut Linker) -> std::io::Result<()> =
                    if linker.has_failed() { &mut none } else { sink };
                feed_file(&mut linker, f, &mut buf, part, chunk, out)?;
            }
        }
    }
    finish(linker)
}

/// The end of [`link_files`]: the result without its bytes (already handed out).
fn finish(linker: Linker) -> Result<Linked, Diagnostic> {
    let mut linked = linker.finish()?;
    linked.bytes.clear();
    Ok(linked)
}

/// The flags of `hex2`.
#[derive(Clone, Copy)]
enum Flag {
    Big,
    Little,
    Octal,
    Binary,
    NonExec,
    Help,
    Version,
    SeedHex2,
}

/// The options of `hex2` that take a value.
#[derive(Clone, Copy)]
enum Value {
    File,
    Output,
    Arch,
    Base,
    Map,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-f", "--file"], Value::File, "FILE")
        .doc("link FILE (repeatable, in order; read twice: a regular file)"),
    Opt::value(&["-o", "--output"], Value::Output, "FILE")
        .doc("write the binary to FILE, mode 0750 (default: stdout)"),
    Opt::value(&["-A", "--architecture"], Value::Arch, "ARCH")
        .doc("the target (default knight-native); names below"),
    Opt::value(&["-B", "--base-address"], Value::Base, "N")
        .doc("the address of the first byte (default 0)"),
    Opt::flag(&["--big-endian"], Flag::Big).doc("write words most significant byte first"),
    Opt::flag(&["--little-endian"], Flag::Little)
        .doc("write words least significant byte first"),
    Opt::flag(&["-O", "--octal"], Flag::Octal).doc("read octal digit triples, not hex pairs"),
    Opt::flag(&["-b", "--binary"], Flag::Binary).doc("read binary digit octets"),
    Opt::flag(&["--non-executable"], Flag::NonExec)
        .doc("leave the output's mode at 0666 less the umask"),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help (on stderr) and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
    Opt::value(&["--map"], Value::Map, "FILE")
        .doc(
            "also write the link map: every label and pointer with its\naddress and source place (for 'crossverify explain')",
        )
        .hexroot(),
    Opt::flag(&["--seed-hex2-0"], Flag::SeedHex2)
        .doc(
            "act as the stage0-posix seed hex2-0:\n'hex2 --seed-hex2-0 [--architecture ARCH] INPUT OUTPUT'\n(see 'hex2 --seed-hex2-0 --help')",
        )
        .hexroot(),
];

/// The reference's usage text, `{argv0}` standing for the program name (vector `hex2/help`).
const REFERENCE_HELP: &str = "Usage: {argv0} --file FILENAME1 {-f FILENAME2} (--big-endian|--little-endian) [--base-address 0x12345] [--architecture name]\nArchitecture: knight-native, knight-posix, x86, amd64, armv7l, aarch64, riscv32 and riscv64\nTo leverage octal or binary input: --octal, --binary\n";

/// The reference's `--version` text (vector `hex2/version`).
const REFERENCE_VERSION: &str = "hex2 1.7.0\n";

/// The documented options of `hex2` (for the man page and the completion).
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `hex2 --help` prints: the reference's text, then hexroot's options.
pub fn help(argv0: &str) -> String {
    let notes = format!(
        "\nArchitectures (--architecture): {}.\nExit status: 0 success, 1 anything else (a bad command line too, as the reference).\n\nExample:\n  $ printf ':a 90 E9 %%a\\n' > loop.hex2 && hex2 -A x86 --little-endian -B 0x8048000 -f loop.hex2 -o loop.bin --map loop.map\n",
        toolbase::arch::names()
    );
    REFERENCE_HELP.replace("{argv0}", argv0) + &toolbase::help::hexroot_section(&options(), &notes)
}

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
        let (id, value) = match arg {
            Ok(Arg::Value(id, value)) => (id, value),
            Ok(Arg::Flag(flag)) => {
                match flag {
                    Flag::Big => config.endian = Endian::Big,
                    Flag::Little => config.endian = Endian::Little,
                    Flag::Octal => config.byte_mode = ByteMode::Octal,
                    Flag::Binary => config.byte_mode = ByteMode::Binary,
                    Flag::NonExec => executable = false,
                    Flag::Help => {
                        let argv0 = args.first().map_or("hex2".into(), |a| a.to_string_lossy());
                        let _ = io.stderr.write_all(help(&argv0).as_bytes());
                        return EXIT_SUCCESS;
                    }
                    Flag::Version => {
                        io.drop_in_version(REFERENCE_VERSION);
                        return EXIT_SUCCESS;
                    }
                    Flag::SeedHex2 => {}
                }
                continue;
            }
            Ok(Arg::Positional(p)) => {
                return error(
                    io,
                    &tool,
                    &format!(
                    "unexpected argument '{}'; expected an option (inputs are given with -f FILE)",
                    p.to_string_lossy()
                ),
                )
            }
            Err(e @ UsageError::UnknownOption(_)) => {
                return error(io, &tool, &format!("{e}; try '{tool} --help'"));
            }
            Err(e @ UsageError::MissingValue(_)) => return error(io, &tool, &e.to_string()),
        };
        match id {
            Value::File => inputs.push(value),
            Value::Output => match OutputFile::create(io.resolve(value), CREATE_MODE) {
                Ok(o) => outputs.push(o),
                Err(e) => {
                    io.error(&Diagnostic::io(value, "cannot open output", &e));
                    return EXIT_FAILURE;
                }
            },
            Value::Arch => match Arch::from_name(&value.to_string_lossy()) {
                Some(a) => config.arch = a,
                None => {
                    return error(
                        io,
                        &tool,
                        &format!(
                            "unknown architecture '{}'; expected one of {}",
                            value.to_string_lossy(),
                            toolbase::arch::names()
                        ),
                    )
                }
            },
            Value::Base => {
                config.base_address = strtoint(value.as_encoded_bytes()) as u32;
            }
            Value::Map => map_path = Some(value),
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
    let resolved: Vec<std::path::PathBuf> = inputs.iter().map(|i| io.resolve(i)).collect();
    let inputs: Vec<&OsStr> = resolved.iter().map(|p| p.as_os_str()).collect();
    let mut last = outputs.pop();
    let positional = last
        .as_ref()
        .and_then(|o| o.positional())
        .and_then(|f| f.ok());
    let mut to_stdout = Vec::new();
    let result = {
        let mut sink = |l: &mut Linker| -> std::io::Result<()> {
            l.drain_bytes(|bytes| match last.as_mut() {
                Some(o) => o.write_all(bytes),
                None => {
                    to_stdout.extend_from_slice(bytes);
                    Ok(())
                }
            })
        };
        link_files(&inputs, config, positional, TUNING, &mut sink)
    };
    let linked = match result {
        Ok(l) => l,
        Err(d) => {
            io.error(&d);
            return EXIT_FAILURE;
        }
    };
    if let Some(path) = map_path {
        let written = OutputFile::create(io.resolve(path), CREATE_MODE).and_then(|mut o| {
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

/// The flags of `hex1` and `hex2 --seed-hex2-0`.
#[derive(Clone, Copy)]
enum SeedFlag {
    Seed,
    Help,
    Version,
}

/// The options of `hex1` and `hex2 --seed-hex2-0` that take a value.
#[derive(Clone, Copy)]
enum SeedValue {
    Arch,
}

const SEED_OPTS: &[Opt<SeedFlag, SeedValue>] = &[
    Opt::value(&["-A", "--architecture"], SeedValue::Arch, "ARCH")
        .doc("x86 (default), amd64, aarch64, riscv32, riscv64"),
    Opt::flag(&["--seed-hex2-0"], SeedFlag::Seed),
    Opt::flag(&["-h", "--help"], SeedFlag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], SeedFlag::Version).doc("print the version and exit"),
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
{options}
Exit status: 0 success, 1 unreadable input, bad input (an undefined label is an error,
not address 0 as in the seed) or unwritable output, 2 bad command line.

Example:
  $ printf ':a 90 E9 %%a\\n' > loop.hex1 && hex1 --architecture x86 loop.hex1 loop.bin
";

const HEX2_0_HELP: &str = "\
Usage: hex2 --seed-hex2-0 [--architecture ARCH] INPUT OUTPUT

Links INPUT as the stage0-posix seed hex2-0 of ARCH does (base address 0x08048000 on x86,
0x00600000 otherwise, little-endian, no range checks, the seed's pointer forms per
architecture). OUTPUT is created with mode 0700 (less the umask) through a temporary file.
Arguments after OUTPUT are ignored, as by the seed.

Options:
{options}
Exit status: 0 success, 1 unreadable input, bad input or unwritable output, 2 bad command
line.

Example:
  $ printf ':a 90 E9 %%a\\n' > loop.hex2 && hex2 --seed-hex2-0 --architecture amd64 loop.hex2 loop.bin
";

/// The documented options of `hex1` and `hex2 --seed-hex2-0` (for the man page and the
/// completion).
pub fn seed_options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(SEED_OPTS)
}

/// A seed form's `--help`: `text` with `{options}` replaced by the list the option table
/// renders.
fn seed_help(text: &str) -> String {
    text.replace("{options}", &toolbase::help::option_list(&seed_options()))
}

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
            Ok(Arg::Value(SeedValue::Arch, v)) => match Arch::from_name(&v.to_string_lossy()) {
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
            Ok(Arg::Flag(SeedFlag::Seed)) => {}
            Ok(Arg::Flag(SeedFlag::Help)) => {
                let help = if dialect == Dialect::SeedHex1 {
                    HEX1_HELP
                } else {
                    HEX2_0_HELP
                };
                let _ = io.stdout.write_all(seed_help(help).as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(SeedFlag::Version)) => {
                io.version(default_name);
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
        _ => {
            io.usage_error(&tool, "expected INPUT and OUTPUT file names");
            return EXIT_USAGE;
        }
    };
    let mut out = match OutputFile::create(io.resolve(output), SEED_MODE) {
        Ok(o) => o,
        Err(e) => {
            io.error(&Diagnostic::io(output, "cannot open output", &e));
            return EXIT_FAILURE;
        }
    };
    let config = Config::seed(dialect, arch);
    let result = {
        let positional = out.positional().and_then(|f| f.ok());
        let mut sink = |l: &mut Linker| l.drain_bytes(|bytes| out.write_all(bytes));
        link_files(
            &[io.resolve(input).as_os_str()],
            config,
            positional,
            TUNING,
            &mut sink,
        )
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `texts` as files in a fresh directory; returns their paths.
    fn files(tag: &str, texts: &[String]) -> Vec<std::path::PathBuf> {
        let dir = std::env::temp_dir().join(format!("hex2-split-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let p = dir.join(format!("f{i}.hex2"));
                std::fs::write(&p, t).unwrap();
                p
            })
            .collect()
    }

    /// A program of `n` lines per file: labels, pointers back and forward, digits paired
    /// across separators and lines.
    fn program(files: usize, n: usize) -> Vec<String> {
        (0..files)
            .map(|f| {
                let mut t = String::new();
                for i in 0..n {
                    let l = f * n + i;
                    let target = (l * 7 + 3) % (files * n);
                    t.push_str(&format!(":L{l}\nB8 %L{target} 9{}\n", l % 10));
                    if l.is_multiple_of(5) {
                        // an odd digit whose byte is completed on the next line
                        t.push_str("A\nB # comment\n");
                    }
                    if l.is_multiple_of(3) {
                        t.push_str(&format!("&L{target} 0102 03\n"));
                    }
                }
                t
            })
            .collect()
    }

    fn run(
        paths: &[std::path::PathBuf],
        tuning: Tuning,
        positional: bool,
    ) -> Result<Vec<u8>, Diagnostic> {
        let mut config = Config::new(Arch::X86);
        config.endian = Endian::Little;
        config.base_address = 0x0804_8000;
        let inputs: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
        let out_path = paths[0].with_extension("out");
        let mut out = OutputFile::create(&out_path, CREATE_MODE).unwrap();
        let to = positional.then(|| out.positional().unwrap().unwrap());
        let mut sink = |l: &mut Linker| l.drain_bytes(|b| out.write_all(b));
        link_files(&inputs, config, to, tuning, &mut sink)?;
        out.commit().unwrap();
        Ok(std::fs::read(&out_path).unwrap())
    }

    #[test]
    fn split_pass_two_equals_the_plain_order() {
        let plain = Tuning {
            chunk: CHUNK,
            split: u64::MAX,
        };
        let variants: Vec<(&str, Vec<String>)> = {
            let ok = program(3, 60);
            let mut undefined_both = ok.clone();
            undefined_both[0].push_str("%nowhere\n");
            undefined_both[2].push_str("%nowhere &gone\n");
            let mut undefined_late = ok.clone();
            undefined_late[2].insert_str(40, "\n%missing\n");
            let mut range_late = ok.clone();
            range_late[2].push_str("!L0\n");
            let mut range_early = ok.clone();
            range_early[0].push_str("!L170\n");
            range_early[2].push_str("%nowhere\n");
            let mut range_note = ok.clone();
            // the note names the definition of a label from the middle of the input
            range_note[0].push_str("!L100\n");
            let mut redefined = ok.clone();
            redefined[1].insert_str(0, ":L150\n");
            redefined[2].push_str(":L20\n:L100\n");
            let mut long_late = program(6, 60);
            long_late[5].push_str(&format!(":{}\n", "x".repeat(4200)));
            let mut one_file = program(1, 200);
            one_file[0].push_str("%L199\n");
            vec![
                ("ok", ok),
                ("undefined-both", undefined_both),
                ("undefined-late", undefined_late),
                ("range-late", range_late),
                ("range-early", range_early),
                ("range-note", range_note),
                ("redefined", redefined),
                ("long-late", long_late),
                ("one-file", one_file),
            ]
        };
        for (tag, texts) in &variants {
            let paths = files(tag, texts);
            let expected = run(&paths, plain, false);
            let sources: Vec<crate::source::Source> = paths
                .iter()
                .zip(texts)
                .map(|(p, t)| crate::source::Source {
                    name: p.to_str().unwrap(),
                    text: t.as_bytes(),
                })
                .collect();
            let mut config = Config::new(Arch::X86);
            config.endian = Endian::Little;
            config.base_address = 0x0804_8000;
            let library = crate::link(&sources, &config).map(|l| l.bytes);
            assert_eq!(expected, library, "{tag}: tool and library");
            for chunk in [16, 33, 64, 100, 250, 1000] {
                for positional in [false, true] {
                    let split = Tuning { chunk, split: 0 };
                    assert_eq!(
                        run(&paths, split, positional),
                        expected,
                        "{tag}: chunk {chunk}, positional {positional}"
                    );
                }
            }
            let _ = std::fs::remove_dir_all(paths[0].parent().unwrap());
        }
    }
}
