//! How a program is started as a host process when its ELF is for another architecture
//! than the host's: through qemu-user (`qemu-aarch64`, `qemu-riscv32`, `qemu-riscv64`,
//! `qemu-i386`, `qemu-x86_64`), found on PATH or in the `--qemu DIR` directory.
//!
//! This module owns that one decision for every native start of a chain program (a step's
//! program in `--exec native|both`, an original tool the PATH shim runs in `--tools both`):
//! an ELF the host's kernel runs itself (an x86-64 host runs i386 and x86-64), a script or
//! anything that is not an ELF of the machine's five architectures starts directly, as the
//! kernel would start it; a foreign ELF starts as `qemu-ARCH -0 ARGV0 PROGRAM ARGS...`,
//! so no binfmt registration is needed. qemu-user passes its own environment and working
//! directory to the guest, and an execve the guest makes goes to the host kernel (M2-
//! Mesoplanet starting M1 through our PATH directory starts the host's multi-call
//! binary, as natively). `--qemu none` turns the translation off (foreign programs then
//! start directly, which works only where binfmt is registered).

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use stage0_vm::linux::{self, cpu::Arch};

/// The environment variable that passes `--qemu` to the PATH shim's processes.
pub const QEMU_ENV: &str = "HEXROOT_REPLAY_QEMU";

/// Where qemu-user comes from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Qemu {
    /// `qemu-ARCH` on the replay's PATH (the default).
    #[default]
    Path,
    /// `DIR/qemu-ARCH` (`--qemu DIR`).
    Dir(PathBuf),
    /// Never: foreign programs start directly (`--qemu none`).
    Never,
}

impl Qemu {
    /// The setting `--qemu VALUE` names (`none`, or a directory).
    pub fn parse(value: &OsStr) -> Qemu {
        if value == "none" {
            Qemu::Never
        } else {
            Qemu::Dir(super::paths::absolute(Path::new(value)))
        }
    }

    /// The setting the replay passed to this (shim) process, PATH search when none.
    pub fn from_env() -> Qemu {
        match std::env::var_os(QEMU_ENV) {
            Some(v) if !v.is_empty() => Qemu::parse(&v),
            _ => Qemu::Path,
        }
    }

    /// The value of [`QEMU_ENV`] that makes a shim process use this setting, if it is not
    /// the default.
    pub fn env_value(&self) -> Option<OsString> {
        match self {
            Qemu::Path => None,
            Qemu::Dir(d) => Some(d.clone().into_os_string()),
            Qemu::Never => Some("none".into()),
        }
    }
}

/// Whether the host's kernel runs programs of `arch` itself.
pub fn host_runs(arch: Arch) -> bool {
    match std::env::consts::ARCH {
        "x86_64" => matches!(arch, Arch::I386 | Arch::Amd64),
        "x86" => arch == Arch::I386,
        "aarch64" => arch == Arch::Aarch64,
        "riscv64" => arch == Arch::Riscv64,
        "riscv32" => arch == Arch::Riscv32,
        _ => false,
    }
}

/// The qemu-user program name for `arch`.
pub fn qemu_name(arch: Arch) -> &'static str {
    match arch {
        Arch::I386 => "qemu-i386",
        Arch::Amd64 => "qemu-x86_64",
        Arch::Aarch64 => "qemu-aarch64",
        Arch::Riscv32 => "qemu-riscv32",
        Arch::Riscv64 => "qemu-riscv64",
    }
}

fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The qemu-user program that runs `arch` under `qemu`, if there is one.
pub fn find_qemu(arch: Arch, qemu: &Qemu, path: Option<&OsStr>) -> Option<PathBuf> {
    let name = qemu_name(arch);
    match qemu {
        Qemu::Never => None,
        Qemu::Dir(d) => Some(d.join(name)).filter(|p| executable(p)),
        Qemu::Path => std::env::split_paths(path?)
            .map(|d| d.join(name))
            .find(|p| executable(p)),
    }
}

/// How `program` (started as `argv0`) would run: `Ok(None)` directly, `Ok(Some(qemu))`
/// through that qemu-user, `Err` with the reason when it is foreign and no qemu is found.
pub fn runner_for(program: &Path, qemu: &Qemu) -> Result<Option<PathBuf>, String> {
    let Ok(arch) = linux::probe(program) else {
        return Ok(None);
    };
    if host_runs(arch) || *qemu == Qemu::Never {
        return Ok(None);
    }
    let path = std::env::var_os("PATH");
    match find_qemu(arch, qemu, path.as_deref()) {
        Some(q) => Ok(Some(q)),
        None => Err(format!(
            "'{}' is a program for {}, which this host does not run, and there is no {} {}; \
             install qemu-user, pass --qemu DIR, or use --exec emulated",
            program.display(),
            arch.name(),
            qemu_name(arch),
            match qemu {
                Qemu::Dir(d) => format!("in {}", d.display()),
                _ => "on PATH".to_string(),
            }
        )),
    }
}

/// A command that starts `program` as `argv0` with `args`, through qemu-user when the
/// host does not run its architecture; also the qemu used, for the step's record.
pub fn command(
    program: &Path,
    argv0: &OsStr,
    args: &[OsString],
    qemu: &Qemu,
) -> Result<(Command, Option<PathBuf>), String> {
    let runner = runner_for(program, qemu)?;
    let cmd = match &runner {
        None => {
            let mut c = Command::new(program);
            c.arg0(argv0).args(args);
            c
        }
        Some(q) => {
            let mut c = Command::new(q);
            c.arg("-0").arg(argv0).arg(program).args(args);
            c
        }
    };
    Ok((cmd, runner))
}

/// The environment variable naming the pass-through directory (see [`link_foreign`]).
pub const PASS_ENV: &str = "HEXROOT_REPLAY_QEMU_PASS";

/// qemu-user hands a guest's `execve` to the host kernel, which cannot start a foreign
/// ELF without binfmt: so before a program starts through qemu, `dir` (first on its PATH)
/// gets a link to the multi-call `exe` under the name of every foreign program in the
/// `path` directories (except names in `skip`, our PATH tools), and [`passthrough`] runs
/// the real one through qemu. M2-Mesoplanet starting `M2-Planet` by PATH lookup then works
/// as on native hardware. Relative `path` entries are relative to `cwd`, the program's
/// working directory (the chains' scripts set `PATH=../ARCH/bin`).
pub fn link_foreign(dir: &Path, path: &OsStr, cwd: &Path, exe: &Path, skip: Option<&Path>) {
    let here = std::fs::canonicalize(dir).ok();
    for d in std::env::split_paths(path) {
        let d = cwd.join(d);
        let canonical = std::fs::canonicalize(&d).ok();
        if canonical.is_none() || canonical == here {
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let link = dir.join(&name);
            if std::fs::symlink_metadata(&link).is_ok()
                || skip.is_some_and(|s| s.join(&name).exists())
                || !executable(&e.path())
            {
                continue;
            }
            if linux::probe(&e.path()).is_ok_and(|a| !host_runs(a)) {
                let _ = std::os::unix::fs::symlink(exe, &link);
            }
        }
    }
}

/// Run as a link of [`link_foreign`]'s directory (named in [`PASS_ENV`]): the next
/// program of that name on PATH, through qemu-user, with the same arguments; its exit
/// status. `None` when this process was not started that way.
pub fn passthrough(args: &[OsString]) -> Option<i32> {
    let dir = PathBuf::from(std::env::var_os(PASS_ENV)?);
    let name = Path::new(args.first()?).file_name()?.to_os_string();
    std::fs::symlink_metadata(dir.join(&name)).ok()?;
    let path = std::env::var_os("PATH");
    let Some(original) = super::paths::find_original(&name, Some(&dir), path.as_deref(), None)
    else {
        eprintln!(
            "{}: error: no '{}' on PATH after {}",
            name.to_string_lossy(),
            name.to_string_lossy(),
            dir.display()
        );
        return Some(127);
    };
    let run = command(&original, &args[0], &args[1..], &Qemu::from_env())
        .and_then(|(mut c, _)| c.status().map_err(|e| e.to_string()));
    Some(match run {
        Ok(s) => {
            use std::os::unix::process::ExitStatusExt;
            s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
        }
        Err(why) => {
            eprintln!("{}: error: {why}", name.to_string_lossy());
            126
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_host() {
        assert_eq!(qemu_name(Arch::Riscv32), "qemu-riscv32");
        assert_eq!(qemu_name(Arch::Aarch64), "qemu-aarch64");
        if std::env::consts::ARCH == "x86_64" {
            assert!(host_runs(Arch::I386) && host_runs(Arch::Amd64));
            assert!(!host_runs(Arch::Riscv64) && !host_runs(Arch::Aarch64));
        }
        assert_eq!(Qemu::parse(OsStr::new("none")), Qemu::Never);
        assert_eq!(Qemu::Path.env_value(), None);
        assert_eq!(Qemu::Never.env_value(), Some("none".into()));
    }

    #[test]
    fn a_missing_qemu_is_named() {
        let dir = std::env::temp_dir().join(format!("hexroot-foreign-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(
            find_qemu(Arch::Riscv64, &Qemu::Dir(dir.clone()), None),
            None
        );
        assert_eq!(find_qemu(Arch::Riscv64, &Qemu::Never, None), None);
        // A script is not an ELF: it starts directly whatever the setting.
        let script = dir.join("s.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        assert_eq!(runner_for(&script, &Qemu::Dir(dir.clone())), Ok(None));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A static RV64 ELF: one PT_LOAD of the headers and 4 bytes of code.
    fn rv64_elf() -> Vec<u8> {
        let base = 0x10000u64;
        let mut v = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&243u16.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for q in [base + 120, 64, 0] {
            v.extend_from_slice(&q.to_le_bytes());
        }
        v.extend_from_slice(&0u32.to_le_bytes());
        for h in [64u16, 56, 1, 64, 0, 0] {
            v.extend_from_slice(&h.to_le_bytes());
        }
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&5u32.to_le_bytes());
        for q in [0, base, base, 124, 124, 0x1000] {
            v.extend_from_slice(&q.to_le_bytes());
        }
        v.extend_from_slice(&0x0000_006fu32.to_le_bytes());
        v
    }

    #[test]
    fn relative_path_entries_are_the_programs_own() {
        if std::env::consts::ARCH != "x86_64" {
            return;
        }
        use std::os::unix::fs::PermissionsExt;
        let root = std::env::temp_dir().join(format!("hexroot-pass-{}", std::process::id()));
        let (bin, work, pass) = (root.join("bin"), root.join("work"), root.join("pass"));
        for d in [&bin, &work, &pass] {
            std::fs::create_dir_all(d).unwrap();
        }
        let prog = bin.join("M2-Planet");
        std::fs::write(&prog, rv64_elf()).unwrap();
        std::fs::set_permissions(&prog, std::fs::Permissions::from_mode(0o755)).unwrap();
        // The chains' scripts say PATH=../riscv64/bin, relative to the step's directory.
        link_foreign(
            &pass,
            OsStr::new("../bin"),
            &work,
            Path::new("/bin/true"),
            None,
        );
        let linked = std::fs::symlink_metadata(pass.join("M2-Planet")).is_ok();
        let _ = std::fs::remove_dir_all(&root);
        assert!(
            linked,
            "no pass-through link for a program on a relative PATH entry"
        );
    }
}
