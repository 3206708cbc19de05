//! The replay's runner, the kaem host of [`super::replay`]: its state ([`Runner`]) and
//! the choices it is made with ([`Mode`]: who runs our tools' steps, [`Exec`]: where the
//! other programs run), and what one run of a program produced (`Ran`). It owns these
//! types only; the command's steps are run by `impl Runner` in [`super`] and the process
//! hook in [`super::exec`], which both build on this module.

use std::path::PathBuf;
use std::time::Duration;

use toolbase::cli::Streams;

use super::checks;
use super::foreign;
use super::mirror::Mirror;
use super::record::StepRecord;

/// Which implementation runs the steps that are our tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// hexroot's, in-process.
    Ours,
    /// The programs the script names.
    Theirs,
    /// Both, outputs compared; the chain continues with theirs.
    Both,
}

impl Mode {
    /// `ours`, `theirs` or `both`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Ours => "ours",
            Mode::Theirs => "theirs",
            Mode::Both => "both",
        }
    }
}

/// Where programs that are not our tools run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exec {
    /// As host processes (the default).
    Native,
    /// In hexroot's Linux user-mode machine, in-process.
    Emulated,
    /// Both, on private copies, outputs compared; the chain continues with the native run's.
    Both,
}

impl Exec {
    /// `native`, `emulated` or `both`.
    pub fn name(self) -> &'static str {
        match self {
            Exec::Native => "native",
            Exec::Emulated => "emulated",
            Exec::Both => "both",
        }
    }

    /// The mode named `s`.
    pub fn parse(s: &[u8]) -> Option<Exec> {
        match s {
            b"native" => Some(Exec::Native),
            b"emulated" => Some(Exec::Emulated),
            b"both" => Some(Exec::Both),
            _ => None,
        }
    }
}

/// The kaem host that runs a replay's steps.
pub struct Runner<'a, 'io> {
    pub(super) io: &'a mut Streams<'io>,
    pub(super) mode: Mode,
    pub(super) exec: Exec,
    pub(super) qemu: foreign::Qemu,
    /// The current step's execution paths, for its record (`exec: ...`).
    pub(super) exec_note: Option<String>,
    /// What `--exec both` found different in the current step.
    pub(super) exec_differed: Option<String>,
    /// Whether `--exec both` found the current step's native and emulated runs identical.
    pub(super) exec_agreed: bool,
    /// The qemu-user the last native start went through, if it was a foreign program.
    pub(super) native_runner: Option<PathBuf>,
    /// The executable that acts as our tools (and pass-through links) by its name.
    pub(super) multicall: Option<PathBuf>,
    pub(super) mirror: Mirror,
    pub(super) quiet: bool,
    pub(super) verbose: bool,
    pub(super) progress: toolbase::progress::Progress,
    pub(super) previous: Vec<(usize, Duration)>,
    /// The chain's output since the last recorded step (not `--verbose`).
    pub(super) pending: Vec<u8>,
    pub(super) root: PathBuf,
    /// The temporary directory: our PATH tools, scratch outputs, the spawn log.
    pub(super) scratch: Option<PathBuf>,
    pub(super) estimate: usize,
    /// Every step so far.
    pub steps: Vec<StepRecord>,
    /// Every output path written (absolute).
    pub(super) outputs: Vec<PathBuf>,
    pub(super) sink: std::io::Sink,
    /// Provenance and host-cc checks of the external steps.
    pub(super) independent: Option<checks::Session>,
}

/// What one run of a program produced.
pub(super) struct Ran {
    pub(super) status: i32,
    pub(super) time: Duration,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}
