//! Which programs of a chain are hexroot tools, and how to run ours in their place.
//!
//! This module owns the recognition table (a program's file name gives its [`Kind`]; the
//! directory names on its path give the architecture a seed tool is built for, and so the
//! base address hex2-0 links at), the translation from a chain's command line to the
//! command line of our implementation, the positions of each step's inputs and outputs
//! in its arguments, and the multi-call entry ([`multicall`]) through which the
//! `crossverify` executable (or a test binary) acts as `M1`, `hex2`, ... when started under
//! those names. It runs nothing but our in-process entry points; processes are
//! `super::run`'s business.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Instant;

use hex0::cli::{Streams, ToolMain, EXIT_FAILURE};

use crate::kaem::shell::arch_of_path;

/// What a step's program is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// The hex0 seed, or hex0 built from it: `hex0 IN OUT`.
    Hex0,
    /// Seed hex1: `hex1 IN OUT`.
    Hex1,
    /// Seed hex2-0: `hex2-0 IN OUT` at the arch's fixed base address.
    Hex2Seed,
    /// catm (seed or mescc-tools): `catm OUT IN...`.
    Catm,
    /// Seed M0: `M0 IN OUT`.
    M0,
    /// mescc-tools M1 (`M1-0`, `bin/M1`).
    M1,
    /// mescc-tools hex2 (`hex2-1`, `bin/hex2`).
    Hex2,
    /// mescc-tools blood-elf (`blood-elf-0`, `bin/blood-elf`).
    BloodElf,
}

impl Kind {
    /// The tool's usual name (for reports).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Hex0 => "hex0",
            Kind::Hex1 => "hex1",
            Kind::Hex2Seed => "hex2-0",
            Kind::Catm => "catm",
            Kind::M0 => "M0",
            Kind::M1 => "M1",
            Kind::Hex2 => "hex2",
            Kind::BloodElf => "blood-elf",
        }
    }

    /// Whether the tool is a seed tool that needs its architecture from its path.
    pub fn needs_arch(self) -> bool {
        matches!(self, Kind::Hex1 | Kind::Hex2Seed | Kind::M0)
    }
}

/// Program file names the chains use, and the kind of each.
pub const NAMES: &[(&str, Kind)] = &[
    ("hex0-seed", Kind::Hex0),
    ("hex0", Kind::Hex0),
    ("hex1", Kind::Hex1),
    ("hex2-0", Kind::Hex2Seed),
    ("catm", Kind::Catm),
    ("M0", Kind::M0),
    ("M1", Kind::M1),
    ("M1-0", Kind::M1),
    ("hex2", Kind::Hex2),
    ("hex2-1", Kind::Hex2),
    ("blood-elf", Kind::BloodElf),
    ("blood-elf-0", Kind::BloodElf),
];

/// The tools our PATH directory offers to programs that spawn them (M2-Mesoplanet).
pub const PATH_TOOLS: &[&str] = &["M1", "hex2", "blood-elf", "catm"];

/// A recognised tool: its kind and, for seed tools, the architecture of its directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tool {
    /// What it is.
    pub kind: Kind,
    /// `x86`, `amd64`, `aarch64`, `riscv32` or `riscv64`, from the program's path.
    pub arch: Option<&'static str>,
}

impl Tool {
    /// The fixed base address of the seed hex2-0 (and hex1) of this architecture.
    pub fn base_address(&self) -> Option<u32> {
        self.arch
            .map(|a| if a == "x86" { 0x0804_8000 } else { 0x0060_0000 })
    }

    /// `hex2-0 (x86, base 0x8048000)` and the like.
    pub fn describe(&self) -> String {
        match (self.arch, self.kind) {
            (Some(a), Kind::Hex2Seed | Kind::Hex1) => format!(
                "{} ({a}, base {:#x})",
                self.kind.name(),
                self.base_address().unwrap_or(0)
            ),
            (Some(a), _) if self.kind.needs_arch() || self.kind == Kind::Hex0 => {
                format!("{} ({a})", self.kind.name())
            }
            _ => self.kind.name().to_string(),
        }
    }
}

/// Recognises `program` by its file name.
pub fn recognise(program: &Path) -> Option<Tool> {
    let name = program.file_name()?.to_str()?;
    let kind = NAMES.iter().find(|(n, _)| *n == name)?.1;
    Some(Tool {
        kind,
        arch: arch_of_path(program),
    })
}

/// Our implementation of `kind`, if this build has it.
pub fn entry(kind: Kind) -> Option<ToolMain> {
    match kind {
        Kind::Hex0 => Some(hex0::tool::main),
        Kind::Catm => Some(hex0::catm::main),
        _ => None,
    }
}

/// Why our implementation cannot run a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unavailable {
    /// This build has no implementation of the kind.
    NotBuilt(Kind),
    /// A seed tool whose path names no architecture directory.
    NoArch(Kind),
}

impl std::fmt::Display for Unavailable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unavailable::NotBuilt(k) => write!(f, "this build of hexroot has no {}", k.name()),
            Unavailable::NoArch(k) => write!(
                f,
                "cannot tell which architecture this {} is for: no x86, AMD64, AArch64, riscv32 or riscv64 directory in its path",
                k.name()
            ),
        }
    }
}

/// Our entry point and command line for running `argv` (as the chain wrote it) with
/// the tool `tool`.
pub fn our_command(
    tool: Tool,
    argv: &[OsString],
) -> Result<(ToolMain, Vec<OsString>), Unavailable> {
    let main = entry(tool.kind).ok_or(Unavailable::NotBuilt(tool.kind))?;
    let rest = argv.get(1..).unwrap_or(&[]);
    let mut out: Vec<OsString> = vec![tool.kind.name().into()];
    match tool.kind {
        Kind::Hex0 => {
            if let Some(a) = tool.arch {
                out.extend(["--architecture".into(), a.into()]);
            }
            out.extend(rest.iter().cloned());
        }
        Kind::Hex1 | Kind::M0 | Kind::Hex2Seed => {
            let a = tool.arch.ok_or(Unavailable::NoArch(tool.kind))?;
            out.extend(["--architecture".into(), a.into()]);
            out.extend(rest.iter().cloned());
        }
        Kind::Catm | Kind::M1 | Kind::Hex2 | Kind::BloodElf => out.extend(rest.iter().cloned()),
    }
    Ok((main, out))
}

/// Whether an argument is read or written by the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read.
    Input,
    /// Written.
    Output,
}

/// The argument positions (in the chain's `argv`) of the files `kind` reads and writes.
pub fn file_args(kind: Option<Kind>, argv: &[OsString]) -> Vec<(usize, Role)> {
    let mut out = Vec::new();
    match kind {
        Some(Kind::Hex0 | Kind::Hex1 | Kind::Hex2Seed | Kind::M0) => {
            if argv.len() > 1 {
                out.push((1, Role::Input));
            }
            if argv.len() > 2 {
                out.push((2, Role::Output));
            }
        }
        Some(Kind::Catm) => {
            for i in 1..argv.len() {
                out.push((i, if i == 1 { Role::Output } else { Role::Input }));
            }
        }
        Some(Kind::M1 | Kind::Hex2 | Kind::BloodElf) | None => {
            let mut i = 1;
            while i < argv.len() {
                let a = argv[i].as_bytes();
                let role = match a {
                    b"-f" | b"--file" => Some(Role::Input),
                    b"-o" | b"--output" => Some(Role::Output),
                    _ => None,
                };
                if let Some(role) = role {
                    if i + 1 < argv.len() {
                        out.push((i + 1, role));
                    }
                    i += 2;
                } else {
                    i += 1;
                }
            }
        }
    }
    out
}

/// Environment variable naming a log file: each tool run by [`multicall`] appends one line
/// to it (`kind<TAB>status<TAB>microseconds<TAB>cwd<TAB>args`), so the replay can count the
/// tool runs that a program it started made through PATH.
pub const LOG_ENV: &str = "HEXROOT_REPLAY_LOG";

/// Runs our tool named by `args[0]`'s file name (as a symlink `M1 -> crossverify` is run),
/// or returns `None` when that name is not one of our tools.
pub fn multicall(args: &[OsString], io: &mut Streams) -> Option<i32> {
    let program = Path::new(args.first()?);
    let tool = recognise(program)?;
    let status = match our_command(tool, args) {
        Ok((main, argv)) => {
            let start = Instant::now();
            let status = main(&argv, io);
            if let Some(log) = std::env::var_os(LOG_ENV) {
                log_run(Path::new(&log), tool.kind, status, start, args);
            }
            status
        }
        Err(why) => {
            let _ = writeln!(
                io.stderr,
                "{}: error: cannot run our implementation: {why}",
                program.display()
            );
            EXIT_FAILURE
        }
    };
    Some(status)
}

fn log_run(log: &Path, kind: Kind, status: i32, start: Instant, args: &[OsString]) {
    let micros = start.elapsed().as_micros();
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut line = format!("{}\t{status}\t{micros}\t{}\t", kind.name(), cwd.display()).into_bytes();
    let joined: Vec<&[u8]> = args.iter().map(|a| OsStr::as_bytes(a)).collect();
    line.extend(joined.join(&b' '));
    line.push(b'\n');
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(log)
    {
        let _ = f.write_all(&line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_paths_give_kind_arch_and_base() {
        let t = recognise(Path::new("./bootstrap-seeds/POSIX/x86/hex0-seed")).unwrap();
        assert_eq!((t.kind, t.arch), (Kind::Hex0, Some("x86")));
        let t = recognise(Path::new("./AMD64/artifact/hex2-0")).unwrap();
        assert_eq!(
            (t.kind, t.arch, t.base_address()),
            (Kind::Hex2Seed, Some("amd64"), Some(0x600000))
        );
        let t = recognise(Path::new("/r/x86/artifact/hex1")).unwrap();
        assert_eq!(t.base_address(), Some(0x8048000));
        assert_eq!(recognise(Path::new("./x86/bin/M1")).unwrap().kind, Kind::M1);
        assert_eq!(
            recognise(Path::new("./x86/artifact/M1-0")).unwrap().kind,
            Kind::M1
        );
        assert_eq!(recognise(Path::new("hex2-1")).unwrap().kind, Kind::Hex2);
        assert_eq!(
            recognise(Path::new("./x86/artifact/blood-elf-0"))
                .unwrap()
                .kind,
            Kind::BloodElf
        );
        assert!(recognise(Path::new("./x86/bin/M2-Planet")).is_none());
        assert!(recognise(Path::new("/usr/bin/sha256sum")).is_none());
    }

    #[test]
    fn file_arguments_by_kind() {
        let a = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert_eq!(
            file_args(Some(Kind::M0), &a(&["M0", "in", "out"])),
            vec![(1, Role::Input), (2, Role::Output)]
        );
        assert_eq!(
            file_args(Some(Kind::Catm), &a(&["catm", "o", "a", "b"])),
            vec![(1, Role::Output), (2, Role::Input), (3, Role::Input)]
        );
        assert_eq!(
            file_args(
                Some(Kind::M1),
                &a(&[
                    "M1",
                    "--architecture",
                    "x86",
                    "-f",
                    "a",
                    "--file",
                    "b",
                    "-o",
                    "c"
                ])
            ),
            vec![(4, Role::Input), (6, Role::Input), (8, Role::Output)]
        );
    }

    #[test]
    fn seed_tools_without_an_arch_directory_are_refused() {
        let t = recognise(Path::new("./bin/hex2-0")).unwrap();
        assert!(matches!(
            our_command(t, &[OsString::from("hex2-0")]),
            Err(Unavailable::NoArch(_)) | Err(Unavailable::NotBuilt(_))
        ));
    }
}
