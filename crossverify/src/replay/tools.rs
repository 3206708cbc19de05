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

use toolbase::cli::{Streams, ToolMain, EXIT_FAILURE};

use super::paths::find_original;
use crate::kaem::shell::arch_of_path;
use toolbase::arch::Arch;

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
    /// The architecture directory in the program's path (`x86`, `AMD64`, ...).
    pub arch: Option<Arch>,
}

impl Tool {
    /// The fixed base address of the seed hex2-0 (and hex1) of this architecture.
    pub fn base_address(&self) -> Option<u32> {
        self.arch.map(Arch::seed_base_address)
    }

    /// `hex2-0 (x86, base 0x8048000)` and the like.
    pub fn describe(&self) -> String {
        match (self.arch, self.kind) {
            (Some(a), Kind::Hex2Seed | Kind::Hex1) => format!(
                "{} ({}, base {:#x})",
                self.kind.name(),
                a.name(),
                self.base_address().unwrap_or(0)
            ),
            (Some(a), _) if self.kind.needs_arch() || self.kind == Kind::Hex0 => {
                format!("{} ({})", self.kind.name(), a.name())
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
        Kind::Hex1 => Some(hex2::tool::hex1_main),
        Kind::Hex2Seed | Kind::Hex2 => Some(hex2::tool::main),
        Kind::M0 => Some(m1::tool::m0_main),
        Kind::M1 => Some(m1::tool::main),
        Kind::BloodElf => Some(m1::tool::blood_elf_main),
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
                out.extend(["--architecture".into(), a.name().into()]);
            }
            out.extend(rest.iter().cloned());
        }
        Kind::Hex1 | Kind::M0 | Kind::Hex2Seed => {
            let a = tool.arch.ok_or(Unavailable::NoArch(tool.kind))?;
            match tool.kind {
                // hex2's seed form: fixed base address of ARCH, positional files.
                Kind::Hex2Seed => out = vec!["hex2".into(), "--seed-hex2-0".into()],
                // The seed M0 passes unknown words through; so does ours when asked.
                Kind::M0 => out.push("--pass-unknown".into()),
                _ => {}
            }
            out.extend(["--architecture".into(), a.name().into()]);
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
/// to it, a [`SpawnedRun`] (`kind<TAB>status<TAB>ours_us<TAB>theirs_us<TAB>verdict<TAB>cwd<TAB>args`),
/// so the replay can account for the tool runs that a program it started made through
/// PATH.
pub const LOG_ENV: &str = "HEXROOT_REPLAY_LOG";

/// Environment variable set to `both` when [`multicall`] must run the original tool (the
/// next one of that name on PATH after [`SHIM_ENV`]'s directory) as well as ours, and
/// compare their outputs.
pub const MODE_ENV: &str = "HEXROOT_REPLAY_MODE";

/// Environment variable naming the replay's directory of links to our tools.
pub const SHIM_ENV: &str = "HEXROOT_REPLAY_SHIM";

/// One tool run made through PATH by a program the replay started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpawnedRun {
    /// The tool kind's name.
    pub kind: String,
    /// Exit status reported to the program.
    pub status: i32,
    /// Our run's wall time in microseconds.
    pub ours_us: u64,
    /// Their run's wall time in microseconds (0 when only ours ran).
    pub theirs_us: u64,
    /// `ours` (only ours ran), `agreed`, or `differed: ...`.
    pub verdict: String,
    /// The rest of the line: working directory and command line.
    pub command: String,
}

impl SpawnedRun {
    /// Parses one log line.
    pub fn parse(line: &str) -> Option<SpawnedRun> {
        let mut f = line.splitn(6, '\t');
        Some(SpawnedRun {
            kind: f.next()?.to_string(),
            status: f.next()?.parse().ok()?,
            ours_us: f.next()?.parse().ok()?,
            theirs_us: f.next()?.parse().ok()?,
            verdict: f.next()?.to_string(),
            command: f.next().unwrap_or("").replace('\t', " "),
        })
    }
}

/// Runs our tool named by `args[0]`'s file name (as a symlink `M1 -> crossverify` is run),
/// or returns `None` when that name is not one of our tools. With [`MODE_ENV`] `both`, runs
/// the original as well and fails (exit 1, with an explain-style message) when they differ.
pub fn multicall(args: &[OsString], io: &mut Streams) -> Option<i32> {
    let program = Path::new(args.first()?);
    let Some(tool) = recognise(program) else {
        // A link for a foreign program that a program under qemu-user starts.
        return super::foreign::passthrough(args);
    };
    let both = std::env::var_os(MODE_ENV).is_some_and(|m| m == "both");
    let log = std::env::var_os(LOG_ENV).map(std::path::PathBuf::from);
    let shim = std::env::var_os(SHIM_ENV).map(std::path::PathBuf::from);
    let path = std::env::var_os("PATH");
    let qemu = super::foreign::Qemu::from_env();
    let mut original = |args: &[OsString], _: &mut Streams| -> Result<i32, String> {
        let name = Path::new(&args[0]).file_name().unwrap_or_default();
        let original = find_original(name, shim.as_deref(), path.as_deref(), None)
            .ok_or_else(|| no_original(name))?;
        let (mut cmd, _) = super::foreign::command(&original, &args[0], &args[1..], &qemu)?;
        let theirs = cmd
            .env_remove(MODE_ENV)
            .env_remove(LOG_ENV)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", original.display()))?;
        Ok(theirs.code().unwrap_or(128))
    };
    Some(run_shim(
        tool,
        args,
        io,
        both,
        log.as_deref(),
        &mut original,
    ))
}

/// Runs the original tool with these arguments (its outputs are the real ones) and gives
/// its exit status: a host process for the native shim, an emulated run inside
/// `--exec emulated`.
pub type RunOriginal<'a> = dyn FnMut(&[OsString], &mut Streams) -> Result<i32, String> + 'a;

/// The message for a `both` run without an original to compare with.
pub fn no_original(name: &OsStr) -> String {
    format!(
        "no original '{}' on PATH after hexroot's directory, so nothing to compare with",
        name.to_string_lossy()
    )
}

/// What a PATH shim does for `tool` run as `args`: ours alone, or (`both`) the original
/// through `original` (its outputs are the real ones) and ours compared; the run is
/// appended to `log`, and a difference makes the status 1.
pub fn run_shim(
    tool: Tool,
    args: &[OsString],
    io: &mut Streams,
    both: bool,
    log: Option<&Path>,
    original: &mut RunOriginal,
) -> i32 {
    let program = Path::new(&args[0]);
    let run = if both {
        run_both(tool, args, io, original)
    } else {
        run_ours(tool, args, io).map(|(status, us)| (status, us, 0, "ours".to_string()))
    };
    match run {
        Ok((status, ours_us, theirs_us, verdict)) => {
            if let Some(log) = log {
                let times = (ours_us, theirs_us);
                log_run(log, tool.kind, status, times, &verdict, args, io.cwd);
            }
            if verdict.starts_with("differed") {
                let _ = writeln!(
                    io.stderr,
                    "{}: error: hexroot's {} and the original disagree: {verdict}",
                    program.display(),
                    tool.kind.name()
                );
                EXIT_FAILURE
            } else {
                status
            }
        }
        Err(why) => {
            let _ = writeln!(io.stderr, "{}: error: {why}", program.display());
            EXIT_FAILURE
        }
    }
}

fn run_ours(tool: Tool, args: &[OsString], io: &mut Streams) -> Result<(i32, u64), String> {
    let (main, argv) =
        our_command(tool, args).map_err(|why| format!("cannot run our implementation: {why}"))?;
    let start = Instant::now();
    let status = main(&argv, io);
    Ok((status, micros(start)))
}

fn micros(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// Runs the original (its outputs are the real ones) and ours (into temporary files),
/// then compares every output.
fn run_both(
    tool: Tool,
    args: &[OsString],
    io: &mut Streams,
    original: &mut RunOriginal,
) -> Result<(i32, u64, u64, String), String> {
    let start = Instant::now();
    let theirs_status = original(args, io)?;
    let theirs_us = micros(start);
    let positions = file_args(Some(tool.kind), args);
    let mut argv = args.to_vec();
    let mut pairs = Vec::new();
    for (k, (i, role)) in positions.iter().enumerate() {
        if *role == Role::Output {
            let mine = std::env::temp_dir()
                .join(format!("hexroot-replay-ours-{}-{k}", std::process::id()));
            let _ = std::fs::remove_file(&mine);
            pairs.push((Path::new(&args[*i]).to_path_buf(), mine.clone()));
            argv[*i] = mine.into_os_string();
        }
    }
    let mut sink_out = Vec::new();
    let mut sink_err = Vec::new();
    let (ours_status, ours_us) = {
        let mut quiet = Streams {
            stdout: &mut sink_out,
            stderr: &mut sink_err,
            stdout_is_terminal: false,
            cwd: io.cwd,
        };
        run_ours(tool, &argv, &mut quiet)?
    };
    let mut verdict = "agreed".to_string();
    if ours_status != theirs_status {
        verdict = format!("differed: exit status theirs {theirs_status}, ours {ours_status}");
        let _ = io.stderr.write_all(&sink_err);
    } else if theirs_status == 0 {
        for (real, mine) in &pairs {
            let a = std::fs::read(io.resolve(real)).unwrap_or_default();
            let b = std::fs::read(mine).unwrap_or_default();
            if let Some(why) = super::bytediff::explain_difference(&a, &b) {
                verdict = format!("differed: {}: {}", real.display(), why.replace('\n', " |"));
                break;
            }
        }
    }
    for (_, mine) in &pairs {
        let _ = std::fs::remove_file(mine);
    }
    Ok((theirs_status, ours_us, theirs_us, verdict))
}

fn log_run(
    log: &Path,
    kind: Kind,
    status: i32,
    (ours_us, theirs_us): (u64, u64),
    verdict: &str,
    args: &[OsString],
    cwd: Option<&Path>,
) {
    let cwd = cwd.map_or_else(
        || std::env::current_dir().unwrap_or_default(),
        Path::to_path_buf,
    );
    let mut line = format!(
        "{}\t{status}\t{ours_us}\t{theirs_us}\t{}\t{}: ",
        kind.name(),
        verdict.replace(['\t', '\n'], " "),
        cwd.display()
    )
    .into_bytes();
    let joined: Vec<&[u8]> = args.iter().map(|a| OsStr::as_bytes(a)).collect();
    line.extend(joined.join(&b' '));
    line.retain(|&b| b != b'\n');
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
        assert_eq!((t.kind, t.arch), (Kind::Hex0, Some(Arch::X86)));
        let t = recognise(Path::new("./AMD64/artifact/hex2-0")).unwrap();
        assert_eq!(
            (t.kind, t.arch, t.base_address()),
            (Kind::Hex2Seed, Some(Arch::Amd64), Some(0x600000))
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
