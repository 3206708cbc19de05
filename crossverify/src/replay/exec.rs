//! `--exec native|emulated|both`: where the programs that are not our in-process tools
//! run (the seeds, cc_*, M2, M2-Mesoplanet, sha256sum, their tools in `theirs` mode...).
//!
//! This module owns that choice for the [`super::Runner`]: `native` starts a host process
//! (`Runner::run_native`), `emulated` runs the program in hexroot's Linux user-mode
//! machine ([`stage0_vm::linux`]) inside this process with the same arguments,
//! environment, working directory and an empty stdin, and `both` does both on private
//! copies of the tree and compares everything they wrote. Inside an emulated run, an exec
//! of a program in the replay's PATH directory of our tools goes to [`ShimHook`], which
//! does what the native shim does ([`super::tools::run_shim`]: our tool, or in `both`
//! tools mode the original - emulated too - and ours compared, logged the same way), so
//! tool runs spawned by M2-Mesoplanet are verified in every execution mode; an exec of a
//! program the machine cannot run (a host binary, a script) runs it as a host process
//! and is counted in the step's `exec:` note.
//!
//! `both` keeps a mirror of the replay root (made at the first such step, `.git`
//! directories left out, brought in line with the real tree before each step): the
//! emulated run goes in the mirror (the working directory mapped into it), the native run
//! in the real tree, then every file of the two trees is compared byte for byte (any
//! file, not only the ones named on the command line), and the mirror is brought back in
//! line with the real tree, whose outputs the chain continues with. Standard output and
//! exit statuses are compared too. A step program the machine cannot run (a script, a
//! host binary) runs natively only, and its record says so.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Instant;

use stage0_vm::linux::{self, ExecHook, ExecRequest, HookOutcome, LoadError, RunConfig, RunIo};
use toolbase::cli::Streams;
use toolbase::diag::Diagnostic;

use super::bytediff::explain_difference;
use super::foreign::{Qemu, QEMU_ENV};
use super::paths::find_original;
use super::runner::{Exec, Mode, Ran, Runner};
use super::tools::{no_original, recognise, run_shim, LOG_ENV, MODE_ENV};
use crate::kaem::shell::Step;

/// The exec hook of an emulated step: PATH shims to our tools, host programs as processes.
pub struct ShimHook {
    /// The replay's directory of tool links (canonical), when the step's PATH has it.
    shim: Option<PathBuf>,
    /// `both` tools mode: the original (emulated) and ours, compared.
    both: bool,
    /// The spawn log of the step.
    log: Option<PathBuf>,
    /// Programs the machine could not run, run as host processes instead.
    pub host_runs: usize,
    /// Instructions executed by emulated originals inside shim runs.
    nested: Cell<u64>,
}

fn lines_to_env(envp: &[Vec<u8>]) -> Vec<(OsString, OsString)> {
    envp.iter()
        .map(|e| {
            let at = e.iter().position(|&b| b == b'=').unwrap_or(e.len());
            (
                OsString::from_vec(e[..at].to_vec()),
                OsString::from_vec(e.get(at + 1..).unwrap_or_default().to_vec()),
            )
        })
        .collect()
}

fn os_args(argv: &[Vec<u8>]) -> Vec<OsString> {
    argv.iter().map(|a| OsString::from_vec(a.clone())).collect()
}

impl ShimHook {
    fn run_tool(&mut self, request: &ExecRequest, tool: super::tools::Tool) -> HookOutcome {
        let args = os_args(request.argv);
        let env = lines_to_env(request.envp);
        let path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone());
        let envp: Vec<Vec<u8>> = request
            .envp
            .iter()
            .filter(|e| !e.starts_with(MODE_ENV.as_bytes()) && !e.starts_with(LOG_ENV.as_bytes()))
            .cloned()
            .collect();
        let name = request.path.file_name().unwrap_or_default().to_os_string();
        let (shim, cwd, nested) = (self.shim.clone(), request.cwd.to_path_buf(), &self.nested);
        let mut original = |args: &[OsString], io: &mut Streams| -> Result<i32, String> {
            let program = find_original(&name, shim.as_deref(), path.as_deref(), Some(&cwd))
                .ok_or_else(|| no_original(&name))?;
            let config = RunConfig {
                program,
                argv: args.iter().map(|a| a.as_bytes().to_vec()).collect(),
                envp: envp.clone(),
                cwd: cwd.clone(),
                ..RunConfig::default()
            };
            let mut stdin: &[u8] = &[];
            let mut run_io = RunIo {
                stdin: &mut stdin,
                stdout: &mut *io.stdout,
                stderr: &mut *io.stderr,
            };
            let out = linux::run(&config, &mut run_io, None).map_err(|e| e.to_string())?;
            nested.set(nested.get() + out.instructions);
            Ok(out.status)
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let status = {
            let mut io = Streams {
                stdout: &mut stdout,
                stderr: &mut stderr,
                stdout_is_terminal: false,
                // Our tools resolve file names against the guest's directory, like the
                // originals; the process's stays where it is.
                cwd: Some(request.cwd),
            };
            run_shim(
                tool,
                &args,
                &mut io,
                self.both,
                self.log.as_deref(),
                &mut original,
            )
        };
        HookOutcome {
            status,
            stdout,
            stderr,
            instructions: self.nested.take(),
        }
    }

    fn run_host(&mut self, request: &ExecRequest) -> Option<HookOutcome> {
        let argv = os_args(request.argv);
        let mut cmd = std::process::Command::new(request.path);
        if let Some(a0) = argv.first() {
            cmd.arg0(a0);
        }
        let out = cmd
            .args(argv.iter().skip(1))
            .current_dir(request.cwd)
            .env_clear()
            .envs(lines_to_env(request.envp))
            .stdin(Stdio::null())
            .output()
            .ok()?;
        self.host_runs += 1;
        Some(HookOutcome {
            status: out
                .status
                .code()
                .unwrap_or_else(|| 128 + out.status.signal().unwrap_or(0)),
            stdout: out.stdout,
            stderr: out.stderr,
            instructions: 0,
        })
    }
}

impl ExecHook for ShimHook {
    fn exec(&mut self, request: &ExecRequest) -> Option<HookOutcome> {
        let dir = request.path.parent().and_then(|d| d.canonicalize().ok());
        if dir.is_some() && dir == self.shim {
            if let Some(tool) = recognise(request.path) {
                return Some(self.run_tool(request, tool));
            }
        }
        match linux::probe(request.path) {
            Err(LoadError::Elf(_) | LoadError::NoCpu(_)) => self.run_host(request),
            _ => None,
        }
    }
}

/// The environment a step's program gets (the same for every execution path): the
/// script's variables, and with our PATH directory, PATH prefixed and the shim's settings.
pub(super) fn environment(
    step: &Step,
    mode: Mode,
    path_prefix: Option<&Path>,
    log: Option<&Path>,
    qemu: &Qemu,
) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = step
        .vars
        .iter()
        .map(|(k, v)| (OsString::from_vec(k.clone()), OsString::from_vec(v.clone())))
        .collect();
    if let Some(prefix) = path_prefix {
        let mut path = prefix.as_os_str().as_bytes().to_vec();
        if let Some(old) = step.vars.get(b"PATH".as_slice()) {
            path.push(b':');
            path.extend_from_slice(old);
        }
        env.insert("PATH".into(), OsString::from_vec(path));
        env.insert(super::tools::SHIM_ENV.into(), prefix.into());
        env.insert(MODE_ENV.into(), mode.name().into());
    }
    if let Some(log) = log {
        env.insert(LOG_ENV.into(), log.into());
    }
    if let (Some(_), Some(q)) = (path_prefix, qemu.env_value()) {
        env.insert(QEMU_ENV.into(), q);
    }
    env
}

impl Runner<'_, '_> {
    /// Runs a program that is not one of our in-process tools, the way `--exec` says.
    pub(super) fn run_process(
        &mut self,
        step: &Step,
        path_prefix: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<Ran, Diagnostic> {
        if self.exec != Exec::Native {
            if let Err(why @ (LoadError::Elf(_) | LoadError::NoCpu(_))) =
                linux::probe(&step.program)
            {
                // A script or a host program: the kernel would run it natively, so do we,
                // and the record says that it was not emulated.
                let ran = self.run_native(step, path_prefix, log)?;
                self.exec_note = Some(format!("native only (cannot emulate: {why})"));
                return Ok(ran);
            }
        }
        match self.exec {
            Exec::Native => {
                let ran = self.run_native(step, path_prefix, log)?;
                self.exec_note = Some(format!("native{}", self.runner_note()));
                Ok(ran)
            }
            Exec::Emulated => {
                let (ran, note) = self.run_emulated(step, step.cwd, path_prefix, log)?;
                self.exec_note = Some(format!("emulated{note}"));
                Ok(ran)
            }
            Exec::Both => self.run_both_ways(step, path_prefix, log),
        }
    }

    /// Runs `step` in the machine with working directory `cwd`; the note says what the
    /// run did besides emulating (host processes it started).
    fn run_emulated(
        &mut self,
        step: &Step,
        cwd: &Path,
        path_prefix: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<(Ran, String), Diagnostic> {
        let where_ = || format!("step at {}: {}", step.location(), step.command_line());
        let env = environment(step, self.mode, path_prefix, log, &self.qemu);
        let config = RunConfig {
            program: step.program.clone(),
            argv: step.argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
            envp: env
                .iter()
                .map(|(k, v)| [k.as_bytes(), b"=", v.as_bytes()].concat())
                .collect(),
            cwd: cwd.to_path_buf(),
            ..RunConfig::default()
        };
        let mut hook = ShimHook {
            shim: path_prefix.and_then(|p| p.canonicalize().ok()),
            both: self.mode == Mode::Both,
            log: log.map(Path::to_path_buf),
            host_runs: 0,
            nested: Cell::new(0),
        };
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let start = Instant::now();
        let result = {
            let mut stdin: &[u8] = &[];
            let mut io = RunIo {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            };
            linux::run(&config, &mut io, Some(&mut hook))
        };
        let time = start.elapsed();
        let out = result.map_err(|e| {
            Diagnostic::new(format!(
                "the emulated run of '{}' failed: {e}",
                step.program.display()
            ))
            .note(where_())
        })?;
        let note = match hook.host_runs {
            0 => format!(" ({} instructions)", out.instructions),
            n => format!(
                " ({} instructions; {n} program(s) it executed ran as host processes)",
                out.instructions
            ),
        };
        Ok((
            Ran {
                status: out.status,
                time,
                stdout,
                stderr,
            },
            note,
        ))
    }

    /// `both`: emulated in the mirror, native in the real tree, everything compared.
    fn run_both_ways(
        &mut self,
        step: &Step,
        path_prefix: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<Ran, Diagnostic> {
        let scratch = self.scratch.clone().unwrap_or_else(std::env::temp_dir);
        let mirror = self.mirror.ensure(&self.root, &scratch)?;
        // Steps since the last comparison (our in-process tools) wrote only the real tree.
        self.mirror.compare_and_resync(&self.root)?;
        let cwd = match step.cwd.strip_prefix(&self.root) {
            Ok(rel) => mirror.join(rel),
            Err(_) => {
                return Err(Diagnostic::new(
                    "--exec both needs the step's directory inside the replay root",
                )
                .in_file(step.location())
                .note(format!("directory: {}", step.cwd.display())))
            }
        };
        // The emulated run's spawn log is its own: only the native one counts for the report.
        let emu_log = log.map(|l| l.with_extension("emulated.log"));
        let (emulated, note) = self.run_emulated(step, &cwd, path_prefix, emu_log.as_deref())?;
        let native = self.run_native(step, path_prefix, log)?;
        let mut differences = self.mirror.compare_and_resync(&self.root)?;
        if emulated.status != native.status {
            differences.insert(
                0,
                format!(
                    "exit status: native {}, emulated {}",
                    native.status, emulated.status
                ),
            );
        }
        if let Some(why) = explain_difference(&native.stdout, &emulated.stdout) {
            differences.push(format!("standard output: {why}"));
        }
        let runner = self.runner_note();
        self.exec_agreed = differences.is_empty();
        if differences.is_empty() {
            self.exec_note = Some(format!(
                "native{runner}+emulated agreed{note}, emulated {:.3} ms, native {:.3} ms",
                emulated.time.as_secs_f64() * 1e3,
                native.time.as_secs_f64() * 1e3
            ));
        } else {
            let _ = std::io::Write::write_all(self.io.stderr, &emulated.stderr);
            self.exec_note = Some(format!("native{runner}+emulated DIFFERED{note}"));
            self.exec_differed = Some(differences.join("\n  "));
        }
        Ok(native)
    }

    /// ` (through qemu-riscv64)` when the last native start went through qemu-user.
    fn runner_note(&self) -> String {
        match &self.native_runner {
            Some(q) => format!(
                " (through {})",
                q.file_name().unwrap_or_default().to_string_lossy()
            ),
            None => String::new(),
        }
    }

    /// After a step: the diagnostic that stops the replay when `--exec both` differed.
    pub(super) fn exec_verdict(&mut self, n: usize) -> Option<Diagnostic> {
        let text = self.exec_differed.take()?;
        Some(
            Diagnostic::new(format!(
                "step {n}: the native and the emulated run of the program disagree"
            ))
            .note(text)
            .hint("crossverify explain THEIRS OURS shows a difference in detail; rerun with --exec native to continue past it"),
        )
    }
}
