//! `crossverify replay`: runs a bootstrap chain's kaem scripts, executing every hex0, hex1,
//! hex2-0, M0, catm, M1, hex2 and blood-elf step with hexroot's implementation, the
//! chain's own program, or both with their outputs compared byte for byte.
//!
//! This module owns the run: the [`crate::kaem`] interpreter walks the scripts and hands
//! each program to the [`Runner`] (the kaem host), which recognises our tools
//! ([`tools`]), runs them in-process or as processes, hashes inputs and outputs, stops at
//! the first disagreement, and keeps the records ([`record`]) from which the report,
//! manifest and answers check are made. Everything that is not one of our tools (C
//! compilers, `sha256sum`, the programs the chain builds) runs as a process; programs that
//! start tools through PATH (M2-Mesoplanet) find ours first in `ours` mode, through a
//! temporary directory of symbolic links to the running executable, which acts as the
//! tool its name says ([`tools::multicall`]).
//!
//! The replay is sequential and never changes the process's working directory: one of
//! our tools run in-process gets the step's directory as its [`Streams::cwd`] and
//! resolves its file names against it, as the originals do against theirs.

// A `Diagnostic` is built only on the cold error path; boxing it would cost an allocation
// per reported error for no measurable gain (as in the hex0 crate).
#![allow(clippy::result_large_err)]

pub mod bytediff;
pub mod checks;
pub mod exec;
pub mod findings;
pub mod foreign;
pub mod glance;
pub mod hostcc;
pub mod mirror;
pub mod paths;
pub mod provenance;
pub mod record;
pub mod runner;
pub mod text;
pub mod textdiff;
pub mod tools;

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::{IsTerminal, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

use crate::kaem::shell::{minimal_dialect, Finished, Frame, Host, Shell, Step};
use crate::kaem::{Dialect, Vars};
use bytediff::explain_difference;
use paths::absolute;
use record::{hash_file, AnswersCheck, FileHash, Implementation, Report, StepRecord, Verdict};
use runner::Ran;
pub use runner::{Exec, Mode, Runner};
use tools::{file_args, our_command, recognise, Role, SpawnedRun, Tool, PATH_TOOLS};

/// What to replay and how.
#[derive(Clone, Debug)]
pub struct Config {
    /// The kaem script (absolute, or relative to `root`).
    pub script: PathBuf,
    /// The directory the script runs from.
    pub root: PathBuf,
    /// Who runs our tools' steps.
    pub mode: Mode,
    /// Where the other programs run (`--exec`).
    pub exec: Exec,
    /// How a foreign program starts natively (`--qemu`).
    pub qemu: foreign::Qemu,
    /// A `sha256sum` file to check at the end (absolute, or relative to `root`).
    pub answers: Option<PathBuf>,
    /// No progress at all (`--quiet`).
    pub quiet: bool,
    /// `--verbose`: the ` +> ` trace, the chain's own output and a line per step on the
    /// terminal, as kaem shows them; otherwise the chain's output goes to the report.
    pub verbose: bool,
    /// Draw one updating progress line on stderr (the tool decides: both streams are
    /// terminals, neither `--quiet` nor `--verbose`).
    pub progress_line: bool,
    /// When each step of an earlier run ended ([`glance::step_ends`] of its report), for
    /// the progress line's estimate.
    pub previous: Vec<(usize, Duration)>,
    /// The dialect of the top-level script; `None` picks the minimal kaem for a script
    /// named `kaem.ARCH` (what `kaem-optional-seed` reads) and full kaem otherwise.
    pub dialect: Option<Dialect>,
    /// An executable that acts as our tools when started under their names (normally the
    /// running `crossverify`); used for the PATH directory in `ours` mode.
    pub multicall: Option<PathBuf>,
    /// The variables the script starts with (kaem inherits its environment).
    pub vars: Vars,
    /// `--host-cc`: the host C compilers that check the external steps (empty: every one
    /// of [`hostcc::DEFAULT_COMPILERS`] found; `none`: no check).
    pub host_cc: Vec<String>,
    /// `--host-cc-dir`: where host builds and differing outputs go (default: a temporary
    /// directory, kept only when something differed).
    pub host_cc_dir: Option<PathBuf>,
}

impl Config {
    /// A configuration with the process environment as the starting variables and the
    /// running executable as the multi-call tool.
    pub fn new(script: PathBuf, root: PathBuf, mode: Mode) -> Config {
        Config {
            script,
            root,
            mode,
            exec: Exec::Native,
            qemu: foreign::Qemu::Path,
            answers: None,
            quiet: false,
            verbose: false,
            progress_line: false,
            previous: Vec::new(),
            dialect: None,
            multicall: std::env::current_exe().ok(),
            vars: std::env::vars_os()
                .map(|(k, v)| (k.into_vec(), v.into_vec()))
                .collect(),
            host_cc: Vec::new(),
            host_cc_dir: None,
        }
    }
}

/// The dialect `kaem-optional-seed` would read `script` in, if it is named `kaem.ARCH`.
pub fn default_dialect(script: &Path) -> Dialect {
    let name = script.file_name().map(|n| n.as_bytes()).unwrap_or_default();
    let arch = name
        .strip_prefix(b"kaem.")
        .and_then(|a| std::str::from_utf8(a).ok())
        .and_then(toolbase::arch::Arch::from_name_or_alias);
    match arch {
        Some(a) => minimal_dialect(Some(a)),
        None => Dialect::Full,
    }
}

/// `Ok` when `dir` is a directory a step can run in (what `chdir` would have said
/// otherwise).
pub(crate) fn check_dir(dir: &Path) -> std::io::Result<()> {
    if std::fs::metadata(dir)?.is_dir() {
        Ok(())
    } else {
        Err(std::io::ErrorKind::NotADirectory.into())
    }
}

/// `crossverify (hexroot) VERSION, executable PATH sha256 HASH` for the report.
fn hexroot_identity(exe: Option<&Path>) -> String {
    let mut s = format!("crossverify (hexroot) {}", env!("CARGO_PKG_VERSION"));
    if let Some(exe) = exe {
        let hash = hash_file(exe);
        s.push_str(&format!(
            ", executable {} sha256 {}",
            exe.display(),
            hash.as_deref().unwrap_or("unreadable")
        ));
    }
    s
}

fn under_root(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        return p.to_path_buf();
    }
    let in_root = root.join(p);
    if in_root.exists() || !p.exists() {
        in_root
    } else {
        absolute(p)
    }
}

/// Runs a replay. The report is returned in both cases; on failure, with its `failure`
/// set and the diagnostic that stopped the run.
/// The process's working directory is never changed: our tools get each step's directory
/// in their [`Streams::cwd`].
pub fn replay(config: &Config, io: &mut Streams) -> Result<Report, (Report, Diagnostic)> {
    let mut report = Report {
        hexroot: hexroot_identity(config.multicall.as_deref()),
        script: config.script.display().to_string(),
        root: config.root.clone(),
        mode: config.mode.name().to_string(),
        ..Report::default()
    };
    let fail = |mut report: Report, d: Diagnostic| {
        report.failure = Some(d.to_string());
        Err((report, d))
    };
    let root = match std::fs::canonicalize(&config.root) {
        Ok(r) if r.is_dir() => r,
        Ok(_) => {
            return fail(
                report,
                Diagnostic::new("the replay root is not a directory")
                    .in_file(config.root.display().to_string()),
            )
        }
        Err(e) => {
            return fail(
                report,
                Diagnostic::io(&config.root, "cannot use the replay root", &e)
                    .hint("--root names the checkout the script runs from"),
            )
        }
    };
    report.root = root.clone();
    let answers = config.answers.as_ref().map(|a| under_root(&root, a));
    // Every named input is checked before the first step, not after the whole chain.
    if let Some(a) = &answers {
        if let Err(e) = std::fs::File::open(a) {
            return fail(
                report,
                Diagnostic::io(a, "cannot read the answers file", &e),
            );
        }
    }
    let script_path = under_root(&root, &config.script);
    let script_name = if config.script.is_absolute() || !root.join(&config.script).exists() {
        script_path.clone()
    } else {
        config.script.clone()
    };
    let dialect = config
        .dialect
        .unwrap_or_else(|| default_dialect(&script_path));
    let mut frame = Frame::new(
        script_name.clone(),
        dialect,
        root.clone(),
        config.vars.clone(),
    );
    if dialect == Dialect::Full {
        // Like `kaem --verbose --strict`: a replay stops at the first failure.
        frame.verbose = true;
        frame.strict = true;
    }
    let estimate = estimate_steps(&frame);
    let scratch = make_scratch(config).map_err(|d| (report.clone(), d));
    let scratch = match scratch {
        Ok(s) => s,
        Err((r, d)) => return fail(r, d),
    };
    let compilers = match hostcc::find_compilers(&config.host_cc) {
        Ok(c) => c,
        Err(why) => return fail(report, Diagnostic::new(why)),
    };
    let any_compiler = !compilers.is_empty();
    let mut session = checks::Session::new(compilers, config.host_cc_dir.clone());
    if let Some(exe) = config.multicall.as_ref().filter(|_| any_compiler) {
        if let Err(e) = session.use_our_tools(exe) {
            return fail(
                report,
                Diagnostic::new(format!("cannot link our tools for the host-cc reruns: {e}")),
            );
        }
    }
    let mut runner = Runner {
        independent: Some(session),
        io,
        mode: config.mode,
        exec: config.exec,
        qemu: config.qemu.clone(),
        exec_note: None,
        exec_differed: None,
        exec_agreed: false,
        native_runner: None,
        multicall: config.multicall.clone(),
        mirror: mirror::Mirror::default(),
        quiet: config.quiet,
        verbose: config.verbose,
        progress: toolbase::progress::Progress::start("replay", config.progress_line),
        previous: config.previous.clone(),
        pending: Vec::new(),
        root: root.clone(),
        scratch: scratch.clone(),
        estimate,
        steps: Vec::new(),
        outputs: Vec::new(),
        sink: std::io::sink(),
    };
    let result = {
        let mut shell = Shell { host: &mut runner };
        shell.run_file(&mut frame)
    };
    runner.progress.finish();
    let outputs = std::mem::take(&mut runner.outputs);
    report.steps = std::mem::take(&mut runner.steps);
    if let Some(last) = report.steps.last_mut() {
        // kaem's own output after the last step (an `echo` at the end of the script).
        last.output.push_str(&glance::kept_output(&runner.pending));
    }
    if let Some(session) = runner.independent.take() {
        report.independent = session.finish();
    }
    drop(runner);
    if let Some(s) = &scratch {
        let _ = std::fs::remove_dir_all(s);
    }
    for o in outputs {
        let rel = relative(&root, &o);
        report.manifest.insert(rel, hash_file(&o));
    }
    match result {
        Err(d) => return fail(report, d),
        Ok(Finished { status }) if status != 0 => {
            return fail(
                report,
                Diagnostic::new(format!("the script ended with exit status {status}"))
                    .in_file(script_name.display().to_string()),
            )
        }
        Ok(_) => {}
    }
    // A step that failed or differed fails the replay even when the script went on
    // (`set +e`); the report says which.
    let failed = |s: &&StepRecord| matches!(s.verdict, Verdict::Failed(_) | Verdict::Differed(_));
    if let Some(bad) = report.steps.iter().find(failed) {
        let how = match &bad.verdict {
            Verdict::Failed(status) => format!("it exited with status {status}"),
            Verdict::Differed(why) => format!("the implementations differ: {why}"),
            _ => String::new(),
        };
        let d = Diagnostic::new(format!(
            "step {} failed, and the script went on: {how}",
            bad.number
        ))
        .in_file(bad.location.clone())
        .hint("every step must succeed (and agree) for a replay to pass");
        return Err((report, d));
    }
    if let Some(answers) = answers {
        match check_answers(&root, &answers) {
            Ok(check) => {
                let more = check.mismatched.len().saturating_sub(1);
                let first = check.mismatched.first().cloned();
                report.answers = Some(check);
                if let Some((p, want, got)) = first {
                    let mut d = Diagnostic::new(format!(
                        "the answers file does not match: {p} has {}",
                        got.as_deref().unwrap_or("no file")
                    ))
                    .in_file(answers.display().to_string())
                    .expected(want);
                    if more > 0 {
                        d = d.note(format!(
                            "{more} more answer(s) do not match; the report lists them"
                        ));
                    }
                    // The replay itself ran to its end; the report is complete and says
                    // which answers failed.
                    return Err((report, d));
                }
            }
            Err(d) => return fail(report, d),
        }
    }
    // The replay ran to its end; a step whose host build disagreed fails it.
    if let Some(d) = report.independent.verdict() {
        return Err((report, d));
    }
    Ok(report)
}

fn make_scratch(config: &Config) -> Result<Option<PathBuf>, Diagnostic> {
    static SERIAL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("hexroot-replay-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("bin"))
        .and_then(|()| std::fs::create_dir_all(dir.join("out")))
        .map_err(|e| Diagnostic::io(&dir, "cannot create the replay's temporary directory", &e))?;
    if config.mode != Mode::Theirs {
        if let Some(exe) = &config.multicall {
            for t in PATH_TOOLS {
                std::os::unix::fs::symlink(exe, dir.join("bin").join(t)).map_err(|e| {
                    Diagnostic::io(dir.join("bin").join(t), "cannot link our tool", &e)
                })?;
            }
        }
    }
    Ok(Some(dir))
}

/// Counts the steps a script will run, by a dry run that starts nothing (nested scripts
/// are followed when they exist already; the count is a progress estimate only).
fn estimate_steps(frame: &Frame) -> usize {
    struct Dry(usize, std::io::Sink);
    impl Host for Dry {
        fn run(&mut self, _step: &Step) -> Result<i32, Diagnostic> {
            self.0 += 1;
            Ok(0)
        }
        fn stdout(&mut self) -> &mut dyn Write {
            &mut self.1
        }
        fn stderr(&mut self) -> &mut dyn Write {
            &mut self.1
        }
    }
    let mut dry = Dry(0, std::io::sink());
    let mut f = frame.clone();
    let _ = Shell { host: &mut dry }.run_file(&mut f);
    dry.0
}

fn relative(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

fn check_answers(root: &Path, answers: &Path) -> Result<AnswersCheck, Diagnostic> {
    let (_, entries) = crate::sha256sum::load(answers, "the answers file")?;
    let mut check = AnswersCheck {
        file: answers.display().to_string(),
        ..AnswersCheck::default()
    };
    for a in entries {
        let path = std::ffi::OsStr::from_bytes(&a.name);
        let got = hash_file(&root.join(path));
        if got.as_deref() == Some(a.sha256.as_str()) {
            check.matched += 1;
        } else {
            check.mismatched.push((a.display_name(), a.sha256, got));
        }
    }
    Ok(check)
}

impl Runner<'_, '_> {
    /// Step `n` starts: a line per step with `--verbose`, else the progress line.
    fn progress(&mut self, n: usize, what: &str, output: Option<&str>) {
        if self.quiet {
            return;
        }
        let about = self.estimate.max(n);
        let output = output.map(|o| format!(" -> {o}")).unwrap_or_default();
        if self.verbose {
            let _ = writeln!(
                self.io.stderr,
                "replay: step {n} of about {about}: {what}{output}"
            );
            return;
        }
        let elapsed = self.progress.started().elapsed();
        let finish = glance::remaining_from_previous(&self.previous, n - 1, elapsed)
            .map(|left| Instant::now() + left);
        self.progress
            .update(n - 1, about, &format!("step {n}: {what}{output}"), finish);
    }

    /// The program's own output: to the terminal with `--verbose`, else to the report.
    fn forward(&mut self, ran: &Ran) {
        if self.verbose {
            let _ = self.io.stdout.write_all(&ran.stdout);
            let _ = self.io.stderr.write_all(&ran.stderr);
        } else {
            self.pending.extend_from_slice(&ran.stdout);
            self.pending.extend_from_slice(&ran.stderr);
        }
    }

    fn hashes(
        &self,
        cwd: &Path,
        argv: &[OsString],
        positions: &[(usize, Role)],
        role: Role,
    ) -> Vec<FileHash> {
        positions
            .iter()
            .filter(|(_, r)| *r == role)
            .map(|(i, _)| {
                let p = kaem_path(cwd, &argv[*i]);
                FileHash {
                    path: relative(&self.root, &p),
                    sha256: hash_file(&p),
                }
            })
            .collect()
    }

    fn run_ours(&mut self, tool: Tool, step: &Step, argv: &[OsString]) -> Result<Ran, Diagnostic> {
        let (main, args) = our_command(tool, argv).map_err(|why| {
            Diagnostic::new(format!(
                "cannot run our implementation of '{}': {why}",
                step.command_line()
            ))
            .in_file(step.location())
            .hint("run this chain with --tools theirs, or use a hexroot build with every tool")
        })?;
        check_dir(step.cwd).map_err(|e| {
            Diagnostic::io(step.cwd, "cannot enter the step's directory", &e).note(step.location())
        })?;
        let mut out = Vec::new();
        let mut err = Vec::new();
        let start = Instant::now();
        let status = {
            let mut streams = Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: false,
                cwd: Some(step.cwd),
            };
            main(&args, &mut streams)
        };
        Ok(Ran {
            status,
            time: start.elapsed(),
            stdout: out,
            stderr: err,
        })
    }

    fn run_native(
        &mut self,
        step: &Step,
        path_prefix: Option<&Path>,
        log: Option<&Path>,
    ) -> Result<Ran, Diagnostic> {
        let where_ = || format!("step at {}: {}", step.location(), step.command_line());
        let (mut cmd, qemu) =
            foreign::command(&step.program, &step.argv[0], &step.argv[1..], &self.qemu)
                .map_err(|why| Diagnostic::new(why).note(where_()))?;
        let mut env = exec::environment(step, self.mode, path_prefix, log, &self.qemu);
        if let Some(q) = &qemu {
            self.pass_foreign(&mut env, path_prefix, step.cwd);
            // The programs it starts see the step's PATH, which need not have qemu on it.
            if let (Some(dir), false) =
                (q.parent(), env.contains_key(OsStr::new(foreign::QEMU_ENV)))
            {
                env.insert(foreign::QEMU_ENV.into(), dir.into());
            }
        }
        self.native_runner = qemu;
        cmd.current_dir(step.cwd)
            .env_clear()
            .envs(env)
            .stdin(Stdio::null());
        let start = Instant::now();
        let output = cmd.output().map_err(|e| {
            Diagnostic::io(&step.program, "cannot run the program", &e).note(where_())
        })?;
        let status = match output.status.code() {
            Some(c) => c,
            None => 128 + output.status.signal().unwrap_or(0),
        };
        Ok(Ran {
            status,
            time: start.elapsed(),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    /// A program about to start through qemu-user: the pass-through directory (links for
    /// the foreign programs on its PATH, see [`foreign::link_foreign`]) goes first on PATH.
    fn pass_foreign(
        &self,
        env: &mut BTreeMap<OsString, OsString>,
        shim: Option<&Path>,
        cwd: &Path,
    ) {
        let (Some(scratch), Some(exe)) = (&self.scratch, &self.multicall) else {
            return;
        };
        let dir = scratch.join("qemu-pass");
        if std::fs::create_dir_all(&dir).is_err() {
            return;
        }
        let path = env
            .get(std::ffi::OsStr::new("PATH"))
            .cloned()
            .unwrap_or_default();
        foreign::link_foreign(&dir, &path, cwd, exe, shim);
        let mut joined = dir.clone().into_os_string();
        if !path.is_empty() {
            joined.push(":");
            joined.push(&path);
        }
        env.insert("PATH".into(), joined);
        env.insert(foreign::PASS_ENV.into(), dir.into_os_string());
    }

    fn record(
        &mut self,
        rec: StepRecord,
        cwd: &Path,
        argv: &[OsString],
        positions: &[(usize, Role)],
    ) {
        let mut rec = rec;
        rec.exec = self.exec_note.take();
        rec.output = glance::kept_output(&std::mem::take(&mut self.pending));
        rec.ended = Some(self.progress.started().elapsed());
        let machines_agreed = std::mem::take(&mut self.exec_agreed);
        if let Some(why) = &self.exec_differed {
            rec.verdict = Verdict::Differed(format!("native and emulated runs: {why}"));
        } else if machines_agreed && rec.verdict == Verdict::Ran {
            // Two machines ran the program and every output is identical.
            rec.verdict = Verdict::Agreed;
        }
        for (i, r) in positions {
            if *r == Role::Output {
                let p = kaem_path(cwd, &argv[*i]);
                if !self.outputs.contains(&p) {
                    self.outputs.push(p);
                }
            }
        }
        self.steps.push(rec);
    }

    fn run_tool(&mut self, n: usize, tool: Tool, step: &Step) -> Result<i32, Diagnostic> {
        let positions = file_args(Some(tool.kind), &step.argv);
        let output_name = positions
            .iter()
            .find(|(_, r)| *r == Role::Output)
            .map(|(i, _)| step.argv[*i].to_string_lossy().into_owned());
        let implementation = match self.mode {
            Mode::Ours => Implementation::Ours,
            Mode::Theirs => Implementation::Theirs,
            Mode::Both => Implementation::Both,
        };
        self.progress(
            n,
            &format!("{} [{}]", tool.describe(), implementation.name()),
            output_name.as_deref(),
        );
        let inputs = self.hashes(step.cwd, &step.argv, &positions, Role::Input);
        // The executable that runs as "theirs", hashed as it was when it ran.
        let program = (self.mode != Mode::Ours).then(|| FileHash {
            path: relative(&self.root, &step.program),
            sha256: hash_file(&step.program),
        });
        let mut rec = StepRecord {
            number: n,
            location: step.location(),
            command: step.command_line(),
            tool: Some(tool.describe()),
            kind: Some(tool.kind.name()),
            implementation,
            inputs,
            outputs: Vec::new(),
            ours_time: None,
            theirs_time: None,
            verdict: Verdict::Ran,
            spawned: BTreeMap::new(),
            spawned_agreed: 0,
            exec: None,
            output: String::new(),
            ended: None,
            program,
        };
        let status = match self.mode {
            Mode::Ours => {
                let ran = self.run_ours(tool, step, &step.argv)?;
                self.forward(&ran);
                rec.ours_time = Some(ran.time);
                ran.status
            }
            Mode::Theirs => {
                let ran = self.run_process(step, None, None)?;
                self.forward(&ran);
                rec.theirs_time = Some(ran.time);
                ran.status
            }
            Mode::Both => {
                let theirs = self.run_process(step, None, None)?;
                self.forward(&theirs);
                rec.theirs_time = Some(theirs.time);
                // Ours writes every output into the scratch directory instead.
                let scratch = self.scratch.clone().unwrap_or_default().join("out");
                let mut argv = step.argv.clone();
                let mut pairs = Vec::new();
                for (k, (i, r)) in positions.iter().enumerate() {
                    if *r == Role::Output {
                        let real = kaem_path(step.cwd, &argv[*i]);
                        let mine = scratch.join(format!("step{n}-{k}"));
                        let _ = std::fs::remove_file(&mine);
                        argv[*i] = mine.clone().into_os_string();
                        pairs.push((real, mine));
                    }
                }
                let ours = self.run_ours(tool, step, &argv)?;
                rec.ours_time = Some(ours.time);
                let mut differences = Vec::new();
                if ours.status != theirs.status {
                    differences.push(format!(
                        "exit status: theirs {}, ours {}",
                        theirs.status, ours.status
                    ));
                    let _ = self.io.stderr.write_all(&ours.stderr);
                } else if theirs.status == 0 {
                    for (real, mine) in &pairs {
                        let a = std::fs::read(real).unwrap_or_default();
                        let b = std::fs::read(mine).unwrap_or_default();
                        if let Some(why) = explain_difference(&a, &b) {
                            differences.push(format!("{}: {why}", relative(&self.root, real)));
                        }
                    }
                    // A tool without -o writes its result to standard output.
                    if let Some(why) = explain_difference(&theirs.stdout, &ours.stdout) {
                        differences.push(format!("standard output: {why}"));
                    }
                }
                for (_, mine) in &pairs {
                    let _ = std::fs::remove_file(mine);
                }
                if !differences.is_empty() {
                    let text = differences.join("\n  ");
                    rec.verdict = Verdict::Differed(text.clone());
                    rec.outputs = self.hashes(step.cwd, &step.argv, &positions, Role::Output);
                    self.record(rec, step.cwd, &step.argv, &positions);
                    return Err(Diagnostic::new(format!(
                        "step {n}: our {} and theirs disagree",
                        tool.kind.name()
                    ))
                    .in_file(step.location())
                    .note(format!("command: {}", step.command_line()))
                    .note(text)
                    .hint("crossverify explain THEIRS OURS shows the difference in detail; rerun with --tools theirs to continue past it"));
                }
                if theirs.status == 0 {
                    rec.verdict = Verdict::Agreed;
                }
                theirs.status
            }
        };
        rec.outputs = self.hashes(step.cwd, &step.argv, &positions, Role::Output);
        if status != 0 {
            rec.verdict = Verdict::Failed(status);
        }
        self.record(rec, step.cwd, &step.argv, &positions);
        match self.exec_verdict(n) {
            Some(d) => Err(d.in_file(step.location())),
            None => Ok(status),
        }
    }

    fn run_external(&mut self, n: usize, step: &Step) -> Result<i32, Diagnostic> {
        // Files named by `-o`/`--output` are outputs; any other argument naming a file
        // is an input, unless the program creates or changes it (found out afterwards).
        let mut positions = file_args(None, &step.argv);
        let mut before = Vec::new();
        for (i, a) in step.argv.iter().enumerate().skip(1) {
            if positions.iter().any(|(j, _)| *j == i) || a.as_bytes().starts_with(b"-") {
                continue;
            }
            let p = kaem_path(step.cwd, a);
            if p.is_file() {
                positions.push((i, Role::Input));
            }
            before.push((i, p.exists().then(|| hash_file(&p)).flatten()));
        }
        positions.sort();
        let output_name = positions
            .iter()
            .find(|(_, r)| *r == Role::Output)
            .map(|(i, _)| step.argv[*i].to_string_lossy().into_owned());
        let name = step
            .program
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.progress(n, &format!("{name} [external]"), output_name.as_deref());
        let inputs: Vec<(usize, FileHash)> = positions
            .iter()
            .filter(|(_, r)| *r == Role::Input)
            .map(|(i, _)| {
                let p = kaem_path(step.cwd, &step.argv[*i]);
                (
                    *i,
                    FileHash {
                        path: relative(&self.root, &p),
                        sha256: hash_file(&p),
                    },
                )
            })
            .collect();
        let scratch = self.scratch.clone();
        let (prefix, log) = match (&scratch, self.mode) {
            (Some(s), Mode::Ours | Mode::Both) if s.join("bin").join("M1").exists() => {
                (Some(s.join("bin")), Some(s.join(format!("spawn-{n}.log"))))
            }
            _ => (None, None),
        };
        let ran = self.run_process(step, prefix.as_deref(), log.as_deref())?;
        self.forward(&ran);
        if let Some(s) = &mut self.independent {
            s.last_stdout.clone_from(&ran.stdout);
        }
        for (i, old) in before {
            let now = hash_file(&kaem_path(step.cwd, &step.argv[i]));
            if now.is_some() && now != old {
                positions.retain(|(j, _)| *j != i);
                positions.push((i, Role::Output));
            }
        }
        positions.sort();
        // An argument the program changed was not (only) an input.
        let input_positions: Vec<usize> = positions
            .iter()
            .filter(|(_, r)| *r == Role::Input)
            .map(|(i, _)| *i)
            .collect();
        let inputs: Vec<FileHash> = inputs
            .into_iter()
            .filter(|(i, _)| input_positions.contains(i))
            .map(|(_, f)| f)
            .collect();
        let mut spawned: BTreeMap<String, (usize, Duration)> = BTreeMap::new();
        let mut spawned_agreed = 0;
        let mut disagreement = None;
        if let Some(log) = &log {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            for run in text.lines().filter_map(SpawnedRun::parse) {
                let e = spawned.entry(run.kind.clone()).or_default();
                e.0 += 1;
                e.1 += Duration::from_micros(run.ours_us);
                if run.verdict == "agreed" {
                    spawned_agreed += 1;
                } else if run.verdict.starts_with("differed") && disagreement.is_none() {
                    disagreement = Some(run);
                }
            }
        }
        let rec = StepRecord {
            number: n,
            location: step.location(),
            command: step.command_line(),
            tool: None,
            kind: None,
            implementation: Implementation::External,
            inputs,
            outputs: self.hashes(step.cwd, &step.argv, &positions, Role::Output),
            ours_time: None,
            theirs_time: Some(ran.time),
            verdict: match &disagreement {
                Some(d) => Verdict::Differed(format!("spawned {}: {}", d.kind, d.verdict)),
                None if ran.status == 0 => Verdict::Ran,
                None => Verdict::Failed(ran.status),
            },
            spawned,
            spawned_agreed,
            exec: None,
            output: String::new(),
            ended: None,
            program: None,
        };
        self.record(rec, step.cwd, &step.argv, &positions);
        if let Some(d) = self.exec_verdict(n) {
            return Err(d.in_file(step.location()));
        }
        if let Some(d) = disagreement {
            return Err(Diagnostic::new(format!(
                "step {n}: a {} run started by '{name}' through PATH: our {} and the original disagree",
                d.kind, d.kind
            ))
            .in_file(step.location())
            .note(format!("run: {}", d.command))
            .note(d.verdict)
            .hint("crossverify explain THEIRS OURS shows the difference in detail"));
        }
        Ok(ran.status)
    }
}

/// A file argument of a step, resolved against its directory.
fn kaem_path(cwd: &Path, arg: &OsString) -> PathBuf {
    crate::kaem::shell::normalize(&cwd.join(arg))
}

impl Host for Runner<'_, '_> {
    fn run(&mut self, step: &Step) -> Result<i32, Diagnostic> {
        let n = self.steps.len() + 1;
        if let Some(s) = &mut self.independent {
            s.before(n, &self.root, step);
        }
        let result = match recognise(&step.program) {
            Some(tool) => self.run_tool(n, tool, step),
            None => self.run_external(n, step),
        };
        if let Some(s) = &mut self.independent {
            s.after(n, &self.root, step, &self.steps, matches!(result, Ok(0)));
        }
        result
    }

    fn enter_script(&mut self, script: &Path, depth: usize) {
        if self.verbose && !self.quiet {
            let _ = writeln!(
                self.io.stderr,
                "replay: entering kaem script {} (depth {depth})",
                script.display()
            );
        }
    }

    fn stdout(&mut self) -> &mut dyn Write {
        if self.verbose {
            &mut *self.io.stdout
        } else {
            &mut self.pending
        }
    }

    fn trace(&mut self) -> &mut dyn Write {
        if self.quiet || !self.verbose {
            return &mut self.sink;
        }
        &mut *self.io.stdout
    }

    fn stderr(&mut self) -> &mut dyn Write {
        &mut *self.io.stderr
    }
}

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Quiet,
    Verbose,
    Help,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Root,
    Tools,
    Exec,
    Answers,
    Report,
    Manifest,
    Dialect,
    HostCc,
    HostCcDir,
    Qemu,
    Json,
    Html,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-C", "--root"], Value::Root, "DIR")
        .doc(
            "the directory the script runs from (required)",
        ),
    Opt::value(&["-t", "--tools"], Value::Tools, "MODE").doc("ours, theirs or both (default both)"),
    Opt::value(&["--exec"], Value::Exec, "WHERE")
        .doc(
            "where every program that is not one of our in-process tools\nruns (seeds, C compilers, sha256sum, theirs in --tools theirs):\nnative (host processes, the default), emulated (hexroot's\nLinux user-mode machine, in-process; tools it spawns through\nPATH still go to ours), or both (native and emulated on copies\nof the tree, every file written compared, stop at a difference)",
        ),
    Opt::value(&["-a", "--answers"], Value::Answers, "FILE")
        .doc(
            "a sha256sum file checked at the end (relative to DIR if it\nexists there)",
        ),
    Opt::value(&["-r", "--report"], Value::Report, "OUT")
        .doc(
            "write the report: every step's command line, implementation,\nsha256 of inputs and outputs and wall time, a summary, the\nmanifest of artifacts and the answers check. Written when the\nrun ends; a run that stopped early writes 'status: incomplete'",
        ),
    Opt::value(&["-m", "--manifest"], Value::Manifest, "OUT")
        .doc(
            "write the final sha256 of every artifact the steps wrote, in GNU\nsha256sum format relative to DIR (only when the run reached\nits end), for 'cd DIR && sha256sum -c OUT', and beside it\nOUT.report (host, date, implementation 'hexroot-replay-MODE'),\nthe pair 'crossverify compare' reads from every machine",
        ),
    Opt::flag(&["-q", "--quiet"], Flag::Quiet)
        .doc(
            "no progress on stderr, only the errors and nothing else",
        ),
    Opt::flag(&["-v", "--verbose"], Flag::Verbose)
        .doc(
            "show the chain as kaem would: the ' +> ' command trace and the\nprograms' own output, and a line per step on stderr (without\nit, the programs' output goes to the report, and when both\nstandard output and error are terminals one updating line shows\nthe steps done, the current step, the time and an estimate of\nwhat is left, from the script's step count or from the times\nof the earlier report at --report OUT)",
        ),
    Opt::value(&["--dialect"], Value::Dialect, "D")
        .doc(
            "read SCRIPT as the seeds' minimal kaem or as full kaem\n(default: minimal for kaem.ARCH, full otherwise)",
        ),
    Opt::value(&["--host-cc"], Value::HostCc, "CC")
        .doc(
            "check every external step whose program the chain built from\nC: CC builds it from the same sources (found from the steps'\nprovenance), the step reruns with it on a private copy, every\noutput is compared. Repeatable; default every one of gcc, clang,\ntcc found; 'none' for no check. A differing step fails the run",
        ),
    Opt::value(&["--host-cc-dir"], Value::HostCcDir, "DIR")
        .doc(
            "keep host builds and differing outputs in DIR (default: a\ntemporary directory, kept only when something differed)",
        ),
    Opt::value(&["--qemu"], Value::Qemu, "DIR|none")
        .doc(
            "a program for another architecture than the host's (aarch64\nor riscv on x86-64) started natively (--exec native or both,\noriginals in --tools both) runs as 'qemu-ARCH -0 ARGV0 PROGRAM\nARGS...' (qemu-user, no binfmt needed), qemu-ARCH taken from\nDIR; default: from PATH; 'none': start it directly (needs\nbinfmt)",
        ),
    Opt::value(&["--json"], Value::Json, "FILE")
        .doc(
            "write the report as JSON (schema hexroot.crossverify.replay/2)",
        ),
    Opt::value(&["--html"], Value::Html, "FILE")
        .doc(
            "write the report as one self-contained HTML page",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
];

/// Help text of `crossverify replay`.
/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify replay SCRIPT --root DIR [--tools ours|theirs|both] [--answers FILE]
                          [--report OUT] [--manifest OUT] [--quiet | --verbose]
                          [--dialect minimal|full]
                          [--host-cc CC]... [--host-cc-dir DIR]
                          [--exec native|emulated|both] [--qemu DIR|none]
                          [--json FILE] [--html FILE]

Runs the kaem script SCRIPT of a bootstrap chain from DIR, as kaem would, and runs every
hex0, hex1, hex2-0, M0, catm, M1, hex2 and blood-elf step (recognised by program name:
hex0-seed, hex0, hex1, hex2-0, catm, M0, M1, M1-0, hex2, hex2-1, blood-elf, blood-elf-0;
a seed tool's architecture and base address come from the x86/AMD64/AArch64/riscv32/
riscv64 directory it sits in) with:
  ours    hexroot's implementation, in-process (programs the chain starts that run tools
          through PATH, such as M2-Mesoplanet, find ours first);
  theirs  the program the script names;
  both    both, comparing every output byte for byte and stopping at the first
          difference with the offset, the count of differing bytes and hex context.
Nested kaem scripts (kaem --file S, kaem-0 S, kaem-optional-seed S) are interpreted in
the same run; every other program (C compilers, sha256sum, ...) runs as a process.

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 every step ran (and agreed) and every answer matched; 1 a step failed,
implementations disagreed, a file was missing, the script is malformed or an answer did
not match; 2 bad command line.

Examples:
  $ cd stage0-posix && crossverify replay kaem.x86 --root . --tools both \\
      --answers x86.answers --report x86-replay.txt   # needs: a stage0-posix checkout
  $ crossverify replay kaem.amd64 --root stage0-posix --tools ours --quiet   # needs: a stage0-posix checkout
";

/// The documented options, from the table that parses them: what `--help` lists, and the
/// man page's and the completion's options.
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `--help` prints: the text around the option list, which `OPTS` renders.
pub fn help() -> String {
    HELP_HEAD.to_string() + &toolbase::help::option_list(&options()) + HELP_TAIL
}

/// Runs `crossverify replay` with `args` (`args[0]` is the subcommand's name).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = format!("crossverify {}", program_name(args, "replay"));
    let mut script = None;
    let mut root = None;
    let mut mode = Mode::Both;
    let mut exec = Exec::Native;
    let mut answers = None;
    let mut report = None;
    let mut manifest = None;
    let mut quiet = false;
    let mut verbose = false;
    let mut dialect = None;
    let mut host_cc = Vec::new();
    let mut host_cc_dir = None;
    let mut qemu = foreign::Qemu::Path;
    let mut json = None;
    let mut html = None;
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Flag(Flag::Quiet)) => quiet = true,
            Ok(Arg::Flag(Flag::Verbose)) => verbose = true,
            Ok(Arg::Value(id, v)) => match id {
                Value::Root => root = Some(PathBuf::from(v)),
                Value::Answers => answers = Some(PathBuf::from(v)),
                Value::Report => report = Some(PathBuf::from(v)),
                Value::Manifest => manifest = Some(PathBuf::from(v)),
                Value::HostCc => host_cc.push(v.to_string_lossy().into_owned()),
                Value::HostCcDir => host_cc_dir = Some(absolute(Path::new(&v))),
                Value::Qemu => qemu = foreign::Qemu::parse(v),
                Value::Json | Value::Html if v == "-" => {
                    io.usage_error(
                        &tool,
                        "--json and --html need a FILE here: the replay's standard output is the terminal's (--verbose shows the chain there)",
                    );
                    return EXIT_USAGE;
                }
                Value::Json => {
                    json = Some(crate::export::Destination::File(absolute(Path::new(&v))))
                }
                Value::Html => {
                    html = Some(crate::export::Destination::File(absolute(Path::new(&v))))
                }
                Value::Tools => {
                    mode = match v.as_bytes() {
                        b"ours" => Mode::Ours,
                        b"theirs" => Mode::Theirs,
                        b"both" => Mode::Both,
                        _ => {
                            io.usage_error(
                                &tool,
                                &format!(
                                    "unknown --tools '{}'; expected ours, theirs or both",
                                    v.to_string_lossy()
                                ),
                            );
                            return EXIT_USAGE;
                        }
                    }
                }
                Value::Dialect => {
                    dialect = match v.as_bytes() {
                        b"minimal" => Some(minimal_dialect(None)),
                        b"full" => Some(Dialect::Full),
                        _ => {
                            io.usage_error(
                                &tool,
                                &format!(
                                    "unknown --dialect '{}'; expected minimal or full",
                                    v.to_string_lossy()
                                ),
                            );
                            return EXIT_USAGE;
                        }
                    }
                }
                Value::Exec => match Exec::parse(v.as_bytes()) {
                    Some(e) => exec = e,
                    None => {
                        io.usage_error(
                            &tool,
                            &format!(
                                "unknown --exec '{}'; expected native, emulated or both",
                                v.to_string_lossy()
                            ),
                        );
                        return EXIT_USAGE;
                    }
                },
            },
            Ok(Arg::Positional(p)) => {
                if script.is_some() {
                    io.usage_error(
                        &tool,
                        &format!(
                            "unexpected argument '{}': only one SCRIPT is replayed",
                            p.to_string_lossy()
                        ),
                    );
                    return EXIT_USAGE;
                }
                script = Some(PathBuf::from(p));
            }
            Err(e) => {
                io.usage_error(&tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let Some(script) = script else {
        io.usage_error(
            &tool,
            "missing SCRIPT: expected 'crossverify replay SCRIPT --root DIR'",
        );
        return EXIT_USAGE;
    };
    let Some(root) = root else {
        io.usage_error(
            &tool,
            "missing --root DIR: the directory the script runs from (e.g. --root .)",
        );
        return EXIT_USAGE;
    };
    // Resolve the report path now: the replay changes directory.
    let report_path = report.map(|r| absolute(&r));
    let manifest_path = manifest.map(|m| absolute(&m));
    let mut config = Config::new(script, root, mode);
    config.answers = answers;
    config.exec = exec;
    config.quiet = quiet;
    config.verbose = verbose;
    config.progress_line =
        !quiet && !verbose && io.stdout_is_terminal && std::io::stderr().is_terminal();
    if let Some(text) = report_path
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    {
        config.previous = glance::step_ends(&text);
    }
    config.dialect = dialect;
    config.host_cc = host_cc;
    config.host_cc_dir = host_cc_dir;
    config.qemu = qemu;
    let (report, error) = match replay(&config, io) {
        Ok(r) => (r, None),
        Err((r, d)) => (r, Some(d)),
    };
    if let Some(path) = &report_path {
        if let Err(e) = toolbase::output::write_atomic(path, report.render().as_bytes(), 0o644) {
            io.error(&Diagnostic::io(path, "cannot write the report", &e));
            return EXIT_FAILURE;
        }
    }
    let message = error.as_ref().map(|d| d.message.as_str());
    let doc = json
        .as_ref()
        .map(|_| crate::export::replay::json(&report, message));
    let page = html
        .as_ref()
        .map(|_| crate::export::replay::html(&report, message));
    if !crate::export::write_all(
        json.as_ref().zip(doc.as_ref()),
        html.as_ref().zip(page.as_deref()),
        io,
    ) {
        return EXIT_FAILURE;
    }
    // The manifest is written only for a replay that reached its end.
    if let (Some(path), None) = (&manifest_path, &report.failure) {
        let entries = report.manifest_entries();
        let built_by = vec![format!("hexroot-replay-{}", report.mode); entries.len()];
        let tools = [crate::manifest::this_tool()];
        if let Err(d) = crate::manifest::write_with_report(path, &entries, &built_by, &tools) {
            io.error(&d);
            return EXIT_FAILURE;
        }
    }
    if let (Some(_), false) = (&error, verbose) {
        print_failing_output(&report, io);
    }
    if !quiet || error.is_some() {
        let _ = writeln!(
            io.stderr,
            "replay: {}: {}{}",
            if error.is_some() { "FAILED" } else { "ok" },
            report.at_a_glance(),
            report_path
                .as_ref()
                .map(|p| format!("; report: {}", p.display()))
                .unwrap_or_default()
        );
    }
    match error {
        Some(d) => {
            io.error(&d);
            if report.failure.is_some() && report_path.is_some() {
                let _ = writeln!(
                    io.stderr,
                    "replay: the report is marked 'status: incomplete'"
                );
            }
            EXIT_FAILURE
        }
        None => EXIT_SUCCESS,
    }
}

/// The last lines of the output of the step that failed (or of the last step, when the
/// run stopped early for another reason), which without `--verbose` went only to the
/// report. A run that failed after its end (answers, host-cc) prints none.
fn print_failing_output(report: &Report, io: &mut Streams) {
    let bad = report
        .steps
        .iter()
        .find(|s| matches!(s.verdict, Verdict::Failed(_) | Verdict::Differed(_)))
        .or(report.steps.last().filter(|_| report.failure.is_some()));
    let Some(step) = bad.filter(|s| !s.output.trim().is_empty()) else {
        return;
    };
    let _ = writeln!(
        io.stderr,
        "replay: the last lines step {} ({}) wrote:",
        step.number, step.location
    );
    for l in glance::tail(&step.output, 20).lines() {
        let _ = writeln!(io.stderr, "  | {l}");
    }
}
