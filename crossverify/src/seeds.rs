//! The main job: rebuild every seed by every independent path and check the results
//! against `seeds/SHA256SUMS` (the `seeds` subcommand).
//!
//! A seed is a hex0 assembler shipped as a binary (`knight/hex0.rom`, `x86/hex0-seed`,
//! `amd64/hex0-seed`) with its sources: `hex0.hex0` (the auditable root) and `hex0.M1` +
//! `defs.M1`. The paths, which share no code with each other:
//!
//! - `shipped`: the binary as shipped, hashed;
//! - `hex0`: hexroot's `hex0` library on `hex0.hex0`;
//! - `m1+hex2`: hexroot's M1 then hex2 on `defs.M1` + `hex0.M1` (x86: little-endian, base
//!   0x8048000; amd64: little-endian, base 0x600000; knight-native: big-endian, base 0);
//! - `seed-in-vm`: the Knight ROM running in hexroot's Knight VM (16 KiB of memory) with
//!   tape_01 = `hex0.hex0`; `seed-native`: the x86 or amd64 seed executed by this host on
//!   its own source (`seed IN OUT` in a private temporary directory). When the host cannot
//!   execute it, the path is "not available on this host", never agreement.
//!
//! The seed files are embedded in the binary at build time (`build.rs`), or read from a
//! directory of the same layout. This module owns the seed table, the paths and the
//! table they produce (the rows [`crate::export::seeds`] writes as JSON); the command line
//! is [`cli`]'s. It spawns a process only for the native seeds.

pub mod cli;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use toolbase::diag::Diagnostic;

use crate::external::Scratch;
use crate::sha256sum;

include!(concat!(env!("OUT_DIR"), "/bundled.rs"));

pub use toolbase::arch::Arch;

/// The address a Knight ROM is linked at: the machine starts at address 0.
const KNIGHT_ROM_BASE: u32 = 0;

/// One seed: where its files are and how to rebuild it. Its M1/hex2 architecture, byte
/// order and base address come from the architecture table (`toolbase::arch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seed {
    /// The machine it runs on: the Knight VM (ROM and tapes) or a Linux ELF.
    pub arch: Arch,
    /// Its directory under `seeds/`.
    pub dir: &'static str,
    /// The binary's file name in that directory.
    pub binary: &'static str,
}

impl Seed {
    /// The binary's path relative to `seeds/`, as listed in `SHA256SUMS`.
    pub fn name(&self) -> String {
        format!("{}/{}", self.dir, self.binary)
    }

    /// Whether M1 and hex2 run big-endian for it.
    pub fn big_endian(&self) -> bool {
        !self.arch.is_little_endian_cpu()
    }

    /// hex2's base address: the seed base of its architecture, or 0 for a Knight ROM.
    pub fn base_address(&self) -> u32 {
        if self.arch.is_knight() {
            KNIGHT_ROM_BASE
        } else {
            self.arch.seed_base_address()
        }
    }
}

/// Every bundled seed.
pub const SEEDS: [Seed; 3] = [
    Seed {
        arch: Arch::KnightNative,
        dir: "knight",
        binary: "hex0.rom",
    },
    Seed {
        arch: Arch::X86,
        dir: "x86",
        binary: "hex0-seed",
    },
    Seed {
        arch: Arch::Amd64,
        dir: "amd64",
        binary: "hex0-seed",
    },
];

/// Memory given to the Knight seed in the VM (the VM's default, per `seeds/README.md`).
pub const KNIGHT_MEMORY: usize = 16 * 1024;

/// How long a native seed may run before it is killed and reported as failed.
pub const NATIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// Where the seed files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SeedSource {
    /// The files embedded in this binary.
    Bundled,
    /// A directory with the layout of `seeds/`.
    Dir(PathBuf),
}

impl SeedSource {
    /// The path (relative to `seeds/`) of every file a complete seed directory holds, in the
    /// order the bundle lists them.
    pub fn files() -> impl Iterator<Item = &'static str> {
        BUNDLED.iter().map(|(path, _)| *path)
    }

    /// Reads the file at `rel` (relative to `seeds/`).
    pub fn read(&self, rel: &str) -> Result<Vec<u8>, Diagnostic> {
        match self {
            SeedSource::Bundled => match BUNDLED.iter().find(|(p, _)| *p == rel) {
                Some((_, Some(bytes))) => Ok(bytes.to_vec()),
                _ => Err(Diagnostic::new("seed file missing from this build")
                    .in_file(format!("seeds/{rel}"))
                    .hint("build from a complete checkout, or give the seeds directory: crossverify seeds DIR")),
            },
            SeedSource::Dir(d) => {
                let p = d.join(rel);
                std::fs::read(&p).map_err(|e| Diagnostic::io(&p, "cannot read seed file", &e))
            }
        }
    }
}

/// The files of one seed.
#[derive(Clone, Debug)]
pub struct SeedFiles {
    /// `hex0.hex0`.
    pub hex0: Vec<u8>,
    /// `hex0.M1`.
    pub m1: Vec<u8>,
    /// `defs.M1`.
    pub defs: Vec<u8>,
    /// The shipped binary.
    pub binary: Vec<u8>,
}

impl SeedFiles {
    /// Reads `seed`'s files from `source`.
    pub fn load(source: &SeedSource, seed: &Seed) -> Result<SeedFiles, Diagnostic> {
        let f = |name: &str| source.read(&format!("{}/{name}", seed.dir));
        Ok(SeedFiles {
            hex0: f("hex0.hex0")?,
            m1: f("hex0.M1")?,
            defs: f("defs.M1")?,
            binary: f(seed.binary)?,
        })
    }
}

/// One way of obtaining a seed's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildPath {
    /// The binary as shipped.
    Shipped,
    /// hexroot's hex0 library on `hex0.hex0`.
    Hex0,
    /// hexroot's M1 and hex2 on `defs.M1` + `hex0.M1`.
    M1Hex2,
    /// The Knight seed in hexroot's VM on its own source.
    SeedInVm,
    /// The native seed, executed by this host, on its own source.
    SeedNative,
}

/// The paths in table order.
pub const PATHS: [BuildPath; 5] = [
    BuildPath::Shipped,
    BuildPath::Hex0,
    BuildPath::M1Hex2,
    BuildPath::SeedInVm,
    BuildPath::SeedNative,
];

impl BuildPath {
    /// The path's name in the table and the manifest.
    pub fn name(self) -> &'static str {
        match self {
            BuildPath::Shipped => "shipped",
            BuildPath::Hex0 => "hex0",
            BuildPath::M1Hex2 => "m1+hex2",
            BuildPath::SeedInVm => "seed-in-vm",
            BuildPath::SeedNative => "seed-native",
        }
    }

    /// The implementation recorded in the report for artifacts of this path.
    pub fn implementation(self) -> &'static str {
        match self {
            BuildPath::Shipped => "shipped",
            BuildPath::Hex0 => "hexroot-hex0",
            BuildPath::M1Hex2 => "hexroot-m1-hex2",
            BuildPath::SeedInVm => "seed-on-hexroot-vm",
            BuildPath::SeedNative => "seed-native",
        }
    }

    /// Whether the path applies to `seed`.
    pub fn applies_to(self, seed: &Seed) -> bool {
        match self {
            BuildPath::SeedInVm => seed.arch.is_knight(),
            BuildPath::SeedNative => !seed.arch.is_knight(),
            _ => true,
        }
    }
}

/// What a path produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The bytes it built.
    Built(Vec<u8>),
    /// The path cannot run here (why); never counts as agreement.
    NotAvailable(String),
    /// The path ran and failed (why); counts as disagreement.
    Failed(String),
}

/// Runs `path` for `seed`.
pub fn rebuild(seed: &Seed, files: &SeedFiles, path: BuildPath) -> Outcome {
    match path {
        BuildPath::Shipped => Outcome::Built(files.binary.clone()),
        BuildPath::Hex0 => {
            let dialect = hex0::Dialect::for_arch(seed.arch).unwrap_or_default();
            match hex0::assemble(&files.hex0, dialect) {
                Ok(b) => Outcome::Built(b),
                Err(e) => Outcome::Failed(
                    e.to_diagnostic(&format!("{}/hex0.hex0", seed.dir), &files.hex0)
                        .to_string(),
                ),
            }
        }
        BuildPath::M1Hex2 => m1_hex2(seed, files),
        BuildPath::SeedInVm => seed_in_vm(files),
        BuildPath::SeedNative => seed_native(seed, files),
    }
}

/// hexroot's M1 on `defs.M1` + `hex0.M1`, then hexroot's hex2 on the result.
fn m1_hex2(seed: &Seed, files: &SeedFiles) -> Outcome {
    let defs = format!("{}/defs.M1", seed.dir);
    let src = format!("{}/hex0.M1", seed.dir);
    let m1_config = m1::Config {
        arch: seed.arch,
        endian: if seed.big_endian() {
            m1::Endian::Big
        } else {
            m1::Endian::Little
        },
        ..m1::Config::default()
    };
    let text = match m1::assemble(
        &[
            m1::Source {
                name: &defs,
                text: &files.defs,
            },
            m1::Source {
                name: &src,
                text: &files.m1,
            },
        ],
        &m1_config,
    ) {
        Ok(t) => t,
        Err(d) => return Outcome::Failed(format!("M1: {d}")),
    };
    let mut hex2_config = hex2::Config::new(seed.arch);
    hex2_config.endian = if seed.big_endian() {
        hex2::Endian::Big
    } else {
        hex2::Endian::Little
    };
    hex2_config.base_address = seed.base_address();
    let name = format!("{}/hex0.hex2", seed.dir);
    match hex2::link(
        &[hex2::Source {
            name: &name,
            text: &text,
        }],
        &hex2_config,
    ) {
        Ok(linked) => Outcome::Built(linked.bytes),
        Err(d) => Outcome::Failed(format!("hex2: {d}")),
    }
}

/// The most instructions the Knight seed may execute: its sources are a few KiB and it
/// runs a bounded number of steps per input byte, so this is only a guard against a broken
/// ROM looping forever.
pub const KNIGHT_MAX_STEPS: u64 = 50_000_000;

/// Runs the Knight ROM in hexroot's VM with tape_01 = its own hex0 source.
fn seed_in_vm(files: &SeedFiles) -> Outcome {
    let config = stage0_vm::Config {
        memory_size: KNIGHT_MEMORY,
        max_steps: Some(KNIGHT_MAX_STEPS),
        ..stage0_vm::Config::default()
    };
    match stage0_vm::run_with_tapes(&files.binary, &files.hex0, &config) {
        Ok(run) if run.stop == stage0_vm::Stop::Halt => Outcome::Built(run.tape_02),
        Ok(run) => Outcome::Failed(format!(
            "the ROM stopped with {:?} after {} steps instead of HALT",
            run.stop, run.steps
        )),
        Err(fault) => Outcome::Failed(format!("the VM faulted: {fault}")),
    }
}

fn write_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Runs a native seed on its own source in a scratch directory.
fn seed_native(seed: &Seed, files: &SeedFiles) -> Outcome {
    if std::env::consts::OS != "linux" {
        return Outcome::NotAvailable(format!(
            "not available on this host: a {} host cannot run Linux ELF files",
            std::env::consts::OS
        ));
    }
    let scratch = match Scratch::new(seed.dir) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("cannot create a scratch directory: {e}")),
    };
    let exe = scratch.0.join("seed");
    if let Err(e) = write_file(&exe, &files.binary, 0o700)
        .and_then(|()| write_file(&scratch.0.join("hex0.hex0"), &files.hex0, 0o600))
    {
        return Outcome::Failed(format!("cannot write to {}: {e}", scratch.0.display()));
    }
    // Another thread forking while we wrote the executable can briefly hold it open for
    // writing (ETXTBSY); retry a few times.
    let mut tries = 0;
    let mut child = loop {
        let spawned = Command::new(&exe)
            .arg("hex0.hex0")
            .arg("out")
            .current_dir(&scratch.0)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(c) => break c,
            Err(e) if e.raw_os_error() == Some(26) && tries < 50 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) if e.raw_os_error() == Some(8) => {
                return Outcome::NotAvailable(format!(
                    "not available on this host: this {} kernel cannot execute {} ELF files (exec format error)",
                    std::env::consts::ARCH,
                    seed.dir
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                return Outcome::NotAvailable(format!(
                    "not available on this host: cannot execute files in {} (mounted noexec?); set TMPDIR to a directory that allows execution",
                    scratch.0.parent().unwrap_or(Path::new("/")).display()
                ))
            }
            Err(e) => return Outcome::Failed(format!("cannot execute the seed: {e}")),
        }
    };
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > NATIVE_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Outcome::Failed(format!(
                    "the seed did not finish within {} s",
                    NATIVE_TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(e) => return Outcome::Failed(format!("cannot wait for the seed: {e}")),
        }
    };
    if !status.success() {
        use std::os::unix::process::ExitStatusExt;
        return Outcome::Failed(match (status.code(), status.signal()) {
            (Some(c), _) => format!("the seed exited with status {c}"),
            (_, Some(s)) => format!("the seed was killed by signal {s}"),
            _ => "the seed failed".into(),
        });
    }
    match std::fs::read(scratch.0.join("out")) {
        Ok(b) => Outcome::Built(b),
        Err(e) => Outcome::Failed(format!(
            "the seed exited 0 but its output is unreadable: {e}"
        )),
    }
}

/// How a path's result compares with `SHA256SUMS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same digest.
    Agrees,
    /// Another digest.
    Differs,
    /// The path failed.
    Failed,
    /// The path cannot run here.
    NotAvailable,
}

/// One row of the table.
#[derive(Clone, Debug)]
pub struct Row {
    /// The seed.
    pub seed: Seed,
    /// The path.
    pub path: BuildPath,
    /// What it produced.
    pub outcome: Outcome,
    /// The digest of what it built.
    pub sha256: Option<String>,
    /// The digest `SHA256SUMS` lists.
    pub expected: String,
    /// The verdict.
    pub verdict: Verdict,
}

/// Rebuilds every seed from `source` by every path, calling `progress` before each step.
/// Fails (no verdict) when a seed file or its `SHA256SUMS` line is missing or malformed.
pub fn run(source: &SeedSource, progress: &mut dyn FnMut(&str)) -> Result<Vec<Row>, Diagnostic> {
    let sums_text = source.read("SHA256SUMS")?;
    let sums = sha256sum::parse("seeds/SHA256SUMS", &sums_text)?;
    let mut rows = Vec::new();
    for seed in &SEEDS {
        let name = seed.name();
        let expected = sums
            .iter()
            .find(|e| e.name == name.as_bytes())
            .ok_or_else(|| {
                Diagnostic::new("SHA256SUMS does not list a seed")
                    .in_file("seeds/SHA256SUMS")
                    .expected(format!("a line for '{name}'"))
            })?
            .sha256
            .clone();
        let files = SeedFiles::load(source, seed)?;
        for path in PATHS.into_iter().filter(|p| p.applies_to(seed)) {
            progress(&format!("{name}: {}", path.name()));
            let outcome = rebuild(seed, &files, path);
            let sha256 = match &outcome {
                Outcome::Built(b) => Some(crate::sha256_hex(b)),
                _ => None,
            };
            let verdict = match (&outcome, &sha256) {
                (Outcome::Built(_), Some(d)) if *d == expected => Verdict::Agrees,
                (Outcome::Built(_), _) => Verdict::Differs,
                (Outcome::Failed(_), _) => Verdict::Failed,
                (Outcome::NotAvailable(_), _) => Verdict::NotAvailable,
            };
            rows.push(Row {
                seed: *seed,
                path,
                outcome,
                sha256,
                expected: expected.clone(),
                verdict,
            });
        }
    }
    Ok(rows)
}

/// The table printed by `crossverify seeds`.
pub fn table(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<16} {:<12} {:<17} {}\n",
        "seed", "path", "sha256", "verdict"
    );
    let mut last = String::new();
    for r in rows {
        let name = r.seed.name();
        if name != last {
            out.push_str(&format!(
                "{:<16} {:<12} {:<17} {}\n",
                name,
                "SHA256SUMS",
                &r.expected[..16],
                "(expected)"
            ));
            last = name.clone();
        }
        let (digest, verdict) = match (&r.outcome, r.verdict) {
            (_, Verdict::Agrees) => (r.sha256.clone().unwrap_or_default(), "agrees".to_string()),
            (_, Verdict::Differs) => (r.sha256.clone().unwrap_or_default(), "DIFFERS".to_string()),
            (Outcome::Failed(why), _) => ("-".into(), format!("FAILED: {why}")),
            (Outcome::NotAvailable(why), _) => ("-".into(), why.clone()),
            _ => ("-".into(), String::new()),
        };
        out.push_str(&format!(
            "{:<16} {:<12} {:<17} {}\n",
            name,
            r.path.name(),
            &digest[..digest.len().min(16)],
            verdict
        ));
    }
    out
}
