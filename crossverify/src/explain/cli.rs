//! The `crossverify explain` command line: options, reading the files and maps (with
//! their owners' parsers, [`hex2::map::Map::parse`] and [`m1::map::M1Map::parse`]), the
//! text or JSON output and the exit status. The diagnosis is [`super::analyse`]'s.

use std::ffi::OsString;
use std::path::Path;

use hex2::map::Map;
use m1::map::M1Map;
use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

use super::{analyse, Inputs, Isa};

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    BigEndian,
    LittleEndian,
    Help,
    Version,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Map,
    M1Map,
    Arch,
    Json,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-m", "--map"], Value::Map, "A.map B.map")
        .doc(
            "hex2 map files of A and B (give --map twice, or its two values)",
        ),
    Opt::value(&["--m1-map"], Value::M1Map, "FILE")
        .doc(
            "an M1 map ('M1 --map'; repeatable): also name the M1 source\ntoken behind the hex2 token, from the map whose output file is\nthat token's hex2 file",
        ),
    Opt::value(&["--arch"], Value::Arch, "ARCH")
        .doc(
            "disassemble as x86, amd64 or knight (default: the ELF header's\nmachine, knight for raw files)",
        ),
    Opt::flag(&["--big-endian"], Flag::BigEndian)
        .doc(
            "read resolved values big-endian (default: the ELF header's\nendianness, little-endian for raw files)",
        ),
    Opt::flag(&["--little-endian"], Flag::LittleEndian).doc("read resolved values little-endian"),
    Opt::value(&["--json"], Value::Json, "FILE")
        .doc(
            "also write the explanation as JSON (schema\nhexroot.crossverify.explain/2); '-': to stdout, in place of it",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
    Opt::flag(&["-V", "--version"], Flag::Version).doc("print the version and exit"),
];

/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify explain [--map A.map B.map [--m1-map M1MAP]...] [--arch ARCH]
                           [--big-endian|--little-endian] [--json FILE|-] A B

Shows where the files A and B differ: the first differing byte (offset, both values), how
many bytes differ, and, for ELF files, the program header segment and virtual address of
that byte, its section and the nearest symbol when the file has them, the instruction
covering that byte disassembled on each side (x86 and amd64 ELF files, Knight ROMs, or as
--arch says), then a hex context of both sides. With --map (the files 'hex2 --map' wrote while linking A
and B), it also names the source token that emitted the byte and says for each side
whether its bytes are the ones that token emits, e.g.
  source: M0.hex2:412:9 %label_foo resolved to 0x8049a10 here, 0x8049a14 there
  side B: bytes 8b 45 are NOT what token `8B45` at f.hex2:3:1 emits (8b 46)

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 identical, 1 different, 2 bad command line or an unreadable file.

Example:
  $ crossverify explain --map mine.map theirs.map hex2-mine hex2-theirs   # needs: two differing builds and their 'hex2 --map' maps
";

/// The documented options, from the table that parses them: what `--help` lists, and the
/// man page's and the completion's options.
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `--help` prints: the text around the option list, which `OPTS` renders.
fn help() -> String {
    HELP_HEAD.to_string() + &toolbase::help::option_list(&options()) + HELP_TAIL
}

fn read(path: &Path, what: &str, io: &mut Streams) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) => {
            io.error(&Diagnostic::io(path, what, &e));
            None
        }
    }
}

/// Reads and parses every map in `paths`; on the first failure, reports it and gives `None`.
fn read_maps<T>(
    paths: &[OsString],
    what: &str,
    parse: fn(&str, &[u8]) -> Result<T, Diagnostic>,
    io: &mut Streams,
) -> Option<Vec<(String, T)>> {
    let mut parsed = Vec::with_capacity(paths.len());
    for path in paths {
        let text = read(Path::new(path), what, io)?;
        let name = path.to_string_lossy().into_owned();
        match parse(&name, &text) {
            Ok(map) => parsed.push((name, map)),
            Err(d) => {
                io.error(&d);
                return None;
            }
        }
    }
    Some(parsed)
}

/// Runs `crossverify explain` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify explain";
    let mut maps: Vec<OsString> = Vec::new();
    let mut files: Vec<OsString> = Vec::new();
    let mut big = None;
    let mut m1_maps: Vec<OsString> = Vec::new();
    let mut json = None;
    let mut isa = None;
    // Positionals seen when the first --map came: with `--map A.map B.map`, the next
    // positional is B's map.
    let mut map_at = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Value(Value::Map, v)) => {
                maps.push(v.to_os_string());
                map_at.get_or_insert(files.len());
            }
            Ok(Arg::Value(Value::M1Map, v)) => m1_maps.push(v.to_os_string()),
            Ok(Arg::Flag(Flag::BigEndian)) => big = Some(true),
            Ok(Arg::Value(Value::Json, v)) => json = Some(crate::export::Destination::parse(v)),
            Ok(Arg::Flag(Flag::LittleEndian)) => big = Some(false),
            Ok(Arg::Value(Value::Arch, v)) => match Isa::from_name(&v.to_string_lossy()) {
                Some(i) => isa = Some(i),
                None => {
                    io.usage_error(
                        tool,
                        &format!(
                            "unknown architecture '{}'; expected x86, amd64 or knight",
                            v.to_string_lossy()
                        ),
                    );
                    return EXIT_USAGE;
                }
            },
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(Flag::Version)) => {
                io.version("crossverify");
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => files.push(p.to_os_string()),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    if let (1, 3, Some(at)) = (maps.len(), files.len(), map_at) {
        maps.push(files.remove(at));
    }
    if files.len() != 2 {
        io.usage_error(
            tool,
            &format!("expected two files A and B, found {}", files.len()),
        );
        return EXIT_USAGE;
    }
    if !maps.is_empty() && maps.len() != 2 {
        io.usage_error(
            tool,
            &format!("expected two map files (A's and B's), found {}", maps.len()),
        );
        return EXIT_USAGE;
    }
    if !m1_maps.is_empty() && maps.len() != 2 {
        io.usage_error(
            tool,
            "--m1-map needs the two hex2 maps (--map) to find the hex2 token first",
        );
        return EXIT_USAGE;
    }
    let (Some(a), Some(b)) = (
        read(Path::new(&files[0]), "cannot read A", io),
        read(Path::new(&files[1]), "cannot read B", io),
    ) else {
        return EXIT_USAGE;
    };
    let Some(parsed) = read_maps(&maps, "cannot read map", Map::parse, io) else {
        return EXIT_USAGE;
    };
    let Some(parsed_m1) = read_maps(&m1_maps, "cannot read M1 map", M1Map::parse, io) else {
        return EXIT_USAGE;
    };
    let inputs = Inputs {
        maps: match parsed.as_slice() {
            [(_, ma), (_, mb)] => Some((ma, mb)),
            _ => None,
        },
        map_paths: match parsed.as_slice() {
            [(pa, _), (pb, _)] => [pa.as_str(), pb.as_str()],
            _ => ["", ""],
        },
        m1_maps: &parsed_m1,
        big_endian: big,
        isa,
    };
    let names = (files[0].to_string_lossy(), files[1].to_string_lossy());
    let Some(e) = analyse((&names.0, &names.1), &a, &b, &inputs) else {
        if let Some(dest) = &json {
            let doc = crate::export::explain::identical(
                (&names.0, &names.1),
                a.len(),
                &crate::sha256_hex(&a),
            );
            return if crate::export::write_all(Some((dest, &doc)), None, io) {
                EXIT_SUCCESS
            } else {
                EXIT_USAGE
            };
        }
        let _ = writeln!(
            io.stdout,
            "{} and {} are identical ({} bytes, sha256 {})",
            names.0,
            names.1,
            a.len(),
            crate::sha256_hex(&a)
        );
        return EXIT_SUCCESS;
    };
    match &json {
        Some(dest) => {
            let doc = crate::export::explain::json(&e, (&a, &b));
            if !crate::export::write_all(Some((dest, &doc)), None, io) {
                return EXIT_USAGE;
            }
            if !dest.is_stdout() {
                let _ = io.stdout.write_all(e.render().as_bytes());
            }
        }
        None => {
            let _ = io.stdout.write_all(e.render().as_bytes());
        }
    }
    EXIT_FAILURE
}
