//! A second implementation for the chain's compiler steps: the same program built from
//! the same C sources by a C compiler of the host (`--host-cc`), run again on a private
//! copy of the step's inputs, every output compared byte for byte.
//!
//! This module owns that check. For a step that is not one of our tools it asks the
//! [`provenance`](super::provenance) graph how the chain built the program, derives a host
//! build from the C sources the provenance names ([`Checker::plan`]: headers are found through
//! `#include`, the chain's target-specific system layer and its replacements of standard
//! C library files give way to the host's libc, and a local header's sibling `.c` file is
//! added, as the upstream makefiles do for `M2libc/bootstrappable.c`), builds it once per
//! program and compiler (cached by the sources' contents), copies the replay root (without
//! `.git`) into a scratch directory, puts the host build where the program was (and, for a
//! program that runs another compiler through PATH, such as M2-Mesoplanet running
//! M2-Planet, that one's host build too), runs the step there with the same argv, working
//! directory and variables, and compares the exit status, standard output and every
//! output file. A difference is kept on disk (both sides) and reported with
//! [`super::textdiff`] for text and [`super::bytediff::explain_difference`] plus the ELF place
//! for binaries. Each check ends [`Outcome::Agreed`], [`Outcome::Differed`] or
//! [`Outcome::NotCheckable`] with the reason; nothing unchecked is counted as agreement.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::provenance::{Graph, Origin};
use crate::kaem::Vars;

/// Compilers looked for when `--host-cc` is not given.
pub const DEFAULT_COMPILERS: &[&str] = &["gcc", "clang", "tcc"];

/// Programs known to run another compiler of the chain through PATH, and its name.
pub const SPAWNS: &[(&str, &[&str])] = &[("M2-Mesoplanet", &["M2-Planet"])];

/// The flags of every host build: those of M2-Planet's and mescc-tools' makefiles
/// (`-D_GNU_SOURCE -std=c99 -O0`), no warnings, and `-fcommon` for headers that define
/// globals.
pub const CFLAGS: &[&str] = &["-D_GNU_SOURCE", "-std=c99", "-O0", "-w", "-fcommon"];

/// How long a rerun may take before it is stopped (a chain's steps take seconds).
const RERUN_LIMIT: Duration = Duration::from_secs(600);

/// How one independent check of a step ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every output, the exit status and standard output are identical.
    Agreed,
    /// They differ; the text says where, and where both sides were kept.
    Differed(String),
    /// No check was made; the text says why.
    NotCheckable(String),
}

/// The provenance and independent checks of one step that is not one of our tools.
#[derive(Clone, Debug)]
pub struct StepCheck {
    /// The step's number.
    pub step: usize,
    /// The program, relative to the root when inside it.
    pub program: String,
    /// The program's sha256 at the moment it ran.
    pub program_sha256: Option<String>,
    /// How the chain produced it.
    pub origin: Origin,
    /// One outcome per host compiler (empty when none is in use).
    pub results: Vec<(String, Outcome)>,
    /// Notes on the check (the host build's sources, a spawned program's build).
    pub notes: Vec<String>,
}

impl StepCheck {
    /// The step's overall outcome: differed if any compiler differed, agreed if at least
    /// one agreed and none differed, not checkable otherwise (reasons joined).
    pub fn outcome(&self) -> Outcome {
        if let Some((cc, Outcome::Differed(why))) = self
            .results
            .iter()
            .find(|(_, o)| matches!(o, Outcome::Differed(_)))
        {
            return Outcome::Differed(format!("{cc}: {why}"));
        }
        if self.results.iter().any(|(_, o)| *o == Outcome::Agreed) {
            return Outcome::Agreed;
        }
        if self.results.is_empty() {
            return Outcome::NotCheckable(
                "no host C compiler in use (--host-cc none, or none found)".into(),
            );
        }
        let why: Vec<String> = self
            .results
            .iter()
            .map(|(cc, o)| match o {
                Outcome::NotCheckable(w) => format!("{cc}: {w}"),
                _ => String::new(),
            })
            .collect();
        Outcome::NotCheckable(why.join("; "))
    }
}

/// A host C compiler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostCc {
    /// As named on the command line (`gcc`).
    pub name: String,
    /// Where it was found.
    pub path: PathBuf,
}

/// Finds the compilers to use: `requested` (names or paths; `none` for none), or every
/// one of [`DEFAULT_COMPILERS`] on PATH. `Err` names a requested compiler not found.
pub fn find_compilers(requested: &[String]) -> Result<Vec<HostCc>, String> {
    if requested.iter().any(|r| r == "none") {
        return Ok(Vec::new());
    }
    if requested.is_empty() {
        return Ok(DEFAULT_COMPILERS
            .iter()
            .filter_map(|n| {
                which(n).map(|path| HostCc {
                    name: n.to_string(),
                    path,
                })
            })
            .collect());
    }
    requested
        .iter()
        .map(|r| {
            which(r)
                .map(|path| HostCc {
                    name: r.clone(),
                    path,
                })
                .ok_or_else(|| format!("--host-cc '{r}': no such compiler on PATH"))
        })
        .collect()
}

/// An executable named `name` (a path, or found on PATH).
fn which(name: &str) -> Option<PathBuf> {
    let is_exec = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = PathBuf::from(name);
        return is_exec(&p).then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_exec(p))
}

/// What a host build of a program compiles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildPlan {
    /// The `.c` files, in the chain's order (absolute).
    pub sources: Vec<PathBuf>,
    /// Directories for `#include "..."` (`-iquote`): the root, then each source's directory.
    pub include_dirs: Vec<PathBuf>,
    /// Files of the provenance left out, each with the reason.
    pub left_out: Vec<(String, &'static str)>,
    /// `.c` files added because a local header the sources include has them beside it.
    pub added: Vec<String>,
}

/// One step, as the check needs it.
pub struct StepRun<'a> {
    /// The step's number.
    pub number: usize,
    /// The replay root (absolute).
    pub root: &'a Path,
    /// The step's working directory (absolute).
    pub cwd: &'a Path,
    /// The program (absolute).
    pub program: &'a Path,
    /// The command line (`argv[0]` as written).
    pub argv: &'a [OsString],
    /// The step's variables (its environment).
    pub vars: &'a Vars,
    /// The step's outputs (relative to the root when inside it).
    pub outputs: &'a [String],
    /// What the chain's run wrote to standard output.
    pub stdout: &'a [u8],
}

/// The host-cc state of one replay: the compilers, the scratch directory, the cache.
pub struct Checker {
    compilers: Vec<HostCc>,
    dir: PathBuf,
    builds: BTreeMap<(String, String), Result<PathBuf, String>>,
    host_headers: BTreeMap<(String, String), bool>,
    serial: usize,
    /// A directory of links to our multi-call binary acting as `M1`, `hex2`, ... (see
    /// [`Checker::use_our_tools`]), first on a rerun's PATH.
    our_tools: Option<PathBuf>,
}

impl Checker {
    /// A checker using `compilers`, working in `dir` (created when first needed; what
    /// differed is kept there).
    pub fn new(compilers: Vec<HostCc>, dir: PathBuf) -> Checker {
        Checker {
            compilers,
            dir,
            builds: BTreeMap::new(),
            host_headers: BTreeMap::new(),
            serial: 0,
            our_tools: None,
        }
    }

    /// Puts our tools first on every rerun's PATH: a host build that starts `M1`, `hex2`
    /// or `blood-elf` (M2-Mesoplanet does) gets ours, verified against the chain's by the
    /// tool steps, instead of the chain's own binaries, which a host of another
    /// architecture cannot run. `exe` is our multi-call binary.
    pub fn use_our_tools(&mut self, exe: &Path) -> std::io::Result<()> {
        let dir = self.dir.join("our-tools");
        std::fs::create_dir_all(&dir)?;
        for t in super::tools::PATH_TOOLS {
            let link = dir.join(t);
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(exe, &link)?;
        }
        self.our_tools = Some(dir);
        Ok(())
    }

    /// The compilers in use.
    pub fn compilers(&self) -> &[HostCc] {
        &self.compilers
    }

    /// The scratch directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checks one step with every compiler.
    pub fn check(&mut self, graph: &Graph, run: &StepRun, check: &mut StepCheck) {
        for cc in self.compilers.clone() {
            let outcome = self.check_with(&cc, graph, run, check);
            check.results.push((cc.name.clone(), outcome));
        }
    }

    fn check_with(
        &mut self,
        cc: &HostCc,
        graph: &Graph,
        run: &StepRun,
        check: &mut StepCheck,
    ) -> Outcome {
        let built = match self.build(cc, run.root, &check.origin, &check.program) {
            Ok((b, plan)) => {
                check
                    .notes
                    .push(format!("{} build: {}", cc.name, describe(run.root, &plan)));
                b
            }
            Err(why) => return Outcome::NotCheckable(why),
        };
        self.serial += 1;
        let copy = self.dir.join(format!(
            "run-step{}-{}-{}",
            run.number, cc.name, self.serial
        ));
        let _ = std::fs::remove_dir_all(&copy);
        if let Err(e) = copy_tree(run.root, &copy, &self.dir) {
            return Outcome::NotCheckable(format!("cannot copy the root for the rerun: {e}"));
        }
        for o in run.outputs {
            let _ = std::fs::remove_file(copy.join(o));
        }
        // The host build runs from beside the copy, not from the program's place: the
        // step may read its own program (sha256sum -c checking bin/sha256sum).
        let program = copy.join(".hexroot-host-build");
        if let Err(e) = install(&built, &program) {
            return Outcome::NotCheckable(format!("cannot install the host build: {e}"));
        }
        self.install_spawned(cc, graph, run, &copy, check);
        let outcome = rerun_and_compare(run, &copy, &program, self, &cc.name);
        if !matches!(outcome, Outcome::Differed(_)) {
            let _ = std::fs::remove_dir_all(&copy);
        }
        outcome
    }

    /// For a program that runs another compiler of the chain through PATH, that one's
    /// host build goes into the copy as well.
    fn install_spawned(
        &mut self,
        cc: &HostCc,
        graph: &Graph,
        run: &StepRun,
        copy: &Path,
        check: &mut StepCheck,
    ) {
        let name = run
            .program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let Some((_, spawned)) = SPAWNS.iter().find(|(p, _)| *p == name) else {
            return;
        };
        let path = run
            .vars
            .get(b"PATH".as_slice())
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .unwrap_or_default();
        for s in *spawned {
            let found = path.split(':').map(|d| {
                crate::kaem::shell::normalize(
                    &run.cwd.join(if d.is_empty() { "." } else { d }).join(s),
                )
            });
            let Some(real) = found.into_iter().find(|p| p.is_file()) else {
                check.notes.push(format!(
                    "the {s} it runs through PATH: not checkable: no {s} on the step's PATH"
                ));
                continue;
            };
            let rel = relative(run.root, &real);
            let origin = graph.origin(&rel, run.number);
            match self.build(cc, run.root, &origin, &rel) {
                Ok((b, _)) => match install(&b, &copy.join(&rel)) {
                    Ok(()) => check.notes.push(format!(
                        "the {s} it runs through PATH ({rel}) was built by {} too: {}",
                        cc.name,
                        origin.summary()
                    )),
                    Err(e) => check
                        .notes
                        .push(format!("the {s} it runs: cannot install: {e}")),
                },
                Err(why) => check.notes.push(format!(
                    "the {s} it runs through PATH ({rel}): not checkable ({why}); the chain's ran"
                )),
            }
        }
    }

    /// The host build of the program `origin` describes, from the cache or built now.
    pub fn build(
        &mut self,
        cc: &HostCc,
        root: &Path,
        origin: &Origin,
        program: &str,
    ) -> Result<(PathBuf, BuildPlan), String> {
        if !origin.built_by_chain {
            return Err("the chain did not build this program (it came from outside the replay), so there is no source to build it from".into());
        }
        if origin.compile_steps.is_empty() {
            return Err(format!(
                "the program's only source is assembly: no step that led to it read C (its sources: {})",
                origin.leaves.join(", ")
            ));
        }
        if origin.sources.is_empty() {
            return Err("source files could not be determined".into());
        }
        let plan = self.plan(cc, root, &origin.sources)?;
        let mut key_bytes = Vec::new();
        for s in &plan.sources {
            key_bytes.extend_from_slice(s.as_os_str().as_bytes());
            key_bytes.push(0);
            key_bytes.extend(std::fs::read(s).unwrap_or_default());
        }
        let key = crate::sha256_hex(&key_bytes);
        let cache_key = (cc.name.clone(), key.clone());
        if let Some(r) = self.builds.get(&cache_key) {
            return r.clone().map(|p| (p, plan));
        }
        let name = Path::new(program)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "program".into());
        let out_dir = self.dir.join(format!("build-{}-{}", cc.name, &key[..16]));
        let result = compile(cc, root, &plan, &out_dir.join(&name));
        self.builds.insert(cache_key, result.clone());
        result.map(|p| (p, plan))
    }

    /// Which files of `sources` a host build compiles, and with which `-I` directories.
    pub fn plan(
        &mut self,
        cc: &HostCc,
        root: &Path,
        sources: &[String],
    ) -> Result<BuildPlan, String> {
        let mut plan = BuildPlan {
            include_dirs: vec![root.to_path_buf()],
            ..BuildPlan::default()
        };
        let mut queue: Vec<PathBuf> = Vec::new();
        for s in sources {
            let p = root.join(s);
            if s.ends_with(".h") {
                plan.left_out
                    .push((s.clone(), "a header: found through #include"));
                continue;
            }
            match self.leave_out(cc, root, &p) {
                Some(why) => plan.left_out.push((s.clone(), why)),
                None => queue.push(p),
            }
        }
        // Sources first, in order; then the .c beside each local header they include.
        let mut scanned: Vec<PathBuf> = Vec::new();
        let mut i = 0;
        let mut files = queue.clone();
        while i < files.len() {
            let f = files[i].clone();
            i += 1;
            if scanned.contains(&f) {
                continue;
            }
            scanned.push(f.clone());
            for inc in local_includes(&f) {
                let dir = f.parent().unwrap_or(root);
                let Some(h) = [dir, root]
                    .iter()
                    .map(|d| d.join(&inc))
                    .find(|p| p.is_file())
                else {
                    continue;
                };
                files.push(h.clone());
                let c = h.with_extension("c");
                if h.extension().is_some_and(|e| e == "h")
                    && c.is_file()
                    && !queue.iter().any(|q| same_file(q, &c))
                    && self.leave_out(cc, root, &c).is_none()
                {
                    plan.added.push(relative(root, &c));
                    queue.push(c.clone());
                    files.push(c);
                }
            }
        }
        if queue.is_empty() {
            return Err("source files could not be determined: every C file the provenance names is a header or part of the chain's libc".into());
        }
        for q in &queue {
            let d = q.parent().unwrap_or(root).to_path_buf();
            if !plan.include_dirs.contains(&d) {
                plan.include_dirs.push(d);
            }
        }
        plan.sources = queue;
        Ok(plan)
    }

    /// Why a `.c` file of the chain is not compiled for the host, if it is not.
    fn leave_out(&mut self, cc: &HostCc, root: &Path, file: &Path) -> Option<&'static str> {
        // Only the path inside the root says where a file sits: a checkout in a
        // folder named `aarch64` is not an architecture directory.
        let inside = file.strip_prefix(root).unwrap_or(file);
        if crate::kaem::shell::arch_of_path(inside).is_some() {
            return Some("the chain's system layer for its target (the host's libc replaces it)");
        }
        let stem = file.file_stem()?.to_string_lossy().into_owned();
        let parent = file
            .parent()
            .and_then(|p| p.file_name())
            .map(|p| p.to_string_lossy().into_owned());
        let header = match parent.as_deref() {
            Some("sys") => format!("sys/{stem}.h"),
            _ => format!("{stem}.h"),
        };
        self.is_host_header(cc, &header).then_some(
            "the chain's copy of a standard C library file (the host's libc replaces it)",
        )
    }

    /// Whether `<header>` is one of the host compiler's system headers.
    fn is_host_header(&mut self, cc: &HostCc, header: &str) -> bool {
        let key = (cc.name.clone(), header.to_string());
        if let Some(&b) = self.host_headers.get(&key) {
            return b;
        }
        let found = Command::new(&cc.path)
            .args(["-E", "-x", "c", "-", "-o", "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .and_then(|mut child| {
                if let Some(mut input) = child.stdin.take() {
                    let _ = writeln!(input, "#include <{header}>");
                }
                child.wait()
            })
            .is_ok_and(|s| s.success());
        self.host_headers.insert(key, found);
        found
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b || std::fs::canonicalize(a).ok() == std::fs::canonicalize(b).ok()
}

/// The `#include "..."` names of a C file.
fn local_includes(file: &Path) -> Vec<String> {
    let text = std::fs::read(file).unwrap_or_default();
    String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| {
            let l = l.trim_start().strip_prefix('#')?.trim_start();
            let rest = l.strip_prefix("include")?.trim_start();
            let rest = rest.strip_prefix('"')?;
            Some(rest[..rest.find('"')?].to_string())
        })
        .collect()
}

fn describe(root: &Path, plan: &BuildPlan) -> String {
    let srcs: Vec<String> = plan.sources.iter().map(|s| relative(root, s)).collect();
    let mut s = srcs.join(" ");
    if !plan.added.is_empty() {
        s.push_str(&format!(
            " (added beside an included header: {})",
            plan.added.join(", ")
        ));
    }
    let dropped: Vec<String> = plan
        .left_out
        .iter()
        .filter(|(f, _)| !f.ends_with(".h"))
        .map(|(f, _)| f.clone())
        .collect();
    if !dropped.is_empty() {
        s.push_str(&format!(
            "; left to the host's libc: {}",
            dropped.join(", ")
        ));
    }
    s
}

/// Compiles `plan` with `cc` into `out`.
fn compile(cc: &HostCc, root: &Path, plan: &BuildPlan, out: &Path) -> Result<PathBuf, String> {
    if let Some(d) = out.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
    }
    let mut cmd = Command::new(&cc.path);
    cmd.args(CFLAGS).current_dir(root);
    // Quoted includes only: `<stdio.h>` must be the host's, not a chain libc directory
    // that holds a source file (tcc has no -iquote).
    let quote = if cc.name.contains("tcc") {
        "-I"
    } else {
        "-iquote"
    };
    for d in &plan.include_dirs {
        cmd.arg(quote).arg(d);
    }
    cmd.args(&plan.sources).arg("-o").arg(out);
    let output = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{} failed to start: {e}", cc.name))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stderr);
        let line = text
            .lines()
            .find(|l| l.contains("error"))
            .or_else(|| text.lines().next())
            .unwrap_or("no message");
        return Err(format!("{} failed to build it: {line}", cc.name));
    }
    Ok(out.to_path_buf())
}

/// Copies `built` over `to` (executable).
fn install(built: &Path, to: &Path) -> std::io::Result<()> {
    if let Some(d) = to.parent() {
        std::fs::create_dir_all(d)?;
    }
    let _ = std::fs::remove_file(to);
    std::fs::copy(built, to)?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))
}

/// Copies the tree `from` to `to`, without `.git` and without `skip` (our own scratch).
pub fn copy_tree(from: &Path, to: &Path, skip: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if name == ".git" {
            continue;
        }
        let src = entry.path();
        if same_file(&src, skip) {
            continue;
        }
        let dst = to.join(&name);
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_tree(&src, &dst, skip)?;
        } else if ty.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src)?, &dst)?;
        } else if ty.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

fn relative(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

/// Runs the step in the copy and compares what it did with what the chain's run did.
fn rerun_and_compare(
    run: &StepRun,
    copy: &Path,
    program: &Path,
    checker: &Checker,
    cc: &str,
) -> Outcome {
    let keep = checker.dir.as_path();
    let rel_cwd = run.cwd.strip_prefix(run.root).unwrap_or(Path::new(""));
    let cwd = copy.join(rel_cwd);
    let root_bytes = run.root.as_os_str().as_bytes();
    let copy_bytes = copy.as_os_str().as_bytes();
    let mut cmd = Command::new(program);
    cmd.arg0(&run.argv[0])
        .args(&run.argv[1..])
        .current_dir(&cwd)
        .env_clear()
        .stdin(Stdio::null());
    for (k, v) in run.vars {
        let mut v = replace_bytes(v, root_bytes, copy_bytes);
        if let (b"PATH", Some(ours)) = (k.as_slice(), &checker.our_tools) {
            let mut p = ours.as_os_str().as_bytes().to_vec();
            p.push(b':');
            p.extend_from_slice(&v);
            v = p;
        }
        cmd.env(
            std::ffi::OsStr::from_bytes(k),
            std::ffi::OsStr::from_bytes(&v),
        );
    }
    let out_file = copy.join(".hexroot-rerun-stdout");
    let (status, stdout, stderr) = match run_limited(cmd, &out_file) {
        Ok(r) => r,
        Err(why) => return Outcome::NotCheckable(format!("the rerun could not be made: {why}")),
    };
    let mut differences = Vec::new();
    if status != 0 {
        let first = String::from_utf8_lossy(&stderr);
        differences.push(format!(
            "exit status: the chain's program 0, {cc}'s build {status} ({})",
            first.lines().next().unwrap_or("no message")
        ));
    }
    let kept = keep.join(format!("differed-step{}-{cc}", run.number));
    let keep_pair = |name: &str, theirs: &[u8], ours: &[u8]| -> String {
        let _ = std::fs::create_dir_all(&kept);
        let flat = name.replace('/', "_");
        let a = kept.join(format!("{flat}.chain"));
        let b = kept.join(format!("{flat}.{cc}"));
        let _ = std::fs::write(&a, theirs);
        let _ = std::fs::write(&b, ours);
        format!("kept: {} and {}", a.display(), b.display())
    };
    for o in run.outputs {
        let theirs = std::fs::read(run.root.join(o)).unwrap_or_default();
        let Ok(ours) = std::fs::read(copy.join(o)) else {
            differences.push(format!("{o}: {cc}'s build did not write it"));
            continue;
        };
        if let Some(why) = explain_output(&theirs, &ours) {
            let k = keep_pair(o, &theirs, &ours);
            differences.push(format!("{o}: {why}; {k}"));
        }
    }
    if run.stdout != stdout.as_slice() {
        let why = explain_output(run.stdout, &stdout).unwrap_or_default();
        let k = keep_pair("stdout", run.stdout, &stdout);
        differences.push(format!("standard output: {why}; {k}"));
    }
    if differences.is_empty() {
        Outcome::Agreed
    } else {
        Outcome::Differed(differences.join("\n    "))
    }
}

/// A text or binary account of a difference, `None` when equal.
pub fn explain_output(theirs: &[u8], ours: &[u8]) -> Option<String> {
    if super::textdiff::is_text(theirs) && super::textdiff::is_text(ours) {
        return super::textdiff::explain_text(theirs, ours);
    }
    let mut why = super::bytediff::explain_difference(theirs, ours)?;
    if let Some(d) = crate::explain::difference(theirs, ours) {
        if let Ok(Some(place)) = crate::explain::elf_place(theirs, d.first) {
            let mut at = vec![place.kind];
            at.extend(place.segment);
            at.extend(place.vaddr.map(|v| format!("vaddr {v:#x}")));
            at.extend(place.symbol);
            why.push_str(&format!("; in the chain's file: {}", at.join(", ")));
        }
    }
    Some(why.replace('\n', "\n    "))
}

fn replace_bytes(v: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    if from.is_empty() {
        return v.to_vec();
    }
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(v[i]);
            i += 1;
        }
    }
    out
}

/// Runs `cmd` with standard output into `out_file` and a time limit; returns the exit
/// status (128 + signal for a killed one), standard output and standard error.
fn run_limited(mut cmd: Command, out_file: &Path) -> Result<(i32, Vec<u8>, Vec<u8>), String> {
    use std::os::unix::process::ExitStatusExt;
    let err_file = out_file.with_extension("stderr");
    let out = std::fs::File::create(out_file).map_err(|e| e.to_string())?;
    let err = std::fs::File::create(&err_file).map_err(|e| e.to_string())?;
    let mut child = cmd
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| format!("cannot start it: {e}"))?;
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if start.elapsed() > RERUN_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("it ran longer than {} s", RERUN_LIMIT.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(e.to_string()),
        }
    };
    let code = status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    let stdout = std::fs::read(out_file).unwrap_or_default();
    let stderr = std::fs::read(&err_file).unwrap_or_default();
    let _ = std::fs::remove_file(out_file);
    let _ = std::fs::remove_file(&err_file);
    Ok((code, stdout, stderr))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkout whose own path names an architecture (`/tmp/x/aarch64/`) is not the
    /// chain's system layer: only the path inside the root counts.
    #[test]
    fn an_architecture_in_the_root_path_does_not_leave_sources_out() {
        let base = std::env::temp_dir().join(format!("hexroot-hostcc-{}", std::process::id()));
        let root = base.join("aarch64");
        std::fs::create_dir_all(root.join("src")).unwrap();
        std::fs::create_dir_all(root.join("M2libc/aarch64/linux")).unwrap();
        std::fs::write(root.join("src/prog.c"), "int main(void) { return 0; }\n").unwrap();
        std::fs::write(root.join("M2libc/aarch64/linux/bootstrap.c"), "\n").unwrap();
        let cc = HostCc {
            name: "gcc".into(),
            path: PathBuf::from("gcc"),
        };
        let mut checker = Checker::new(vec![cc.clone()], base.join("builds"));
        let plan = checker
            .plan(
                &cc,
                &root,
                &[
                    "M2libc/aarch64/linux/bootstrap.c".into(),
                    "src/prog.c".into(),
                ],
            )
            .expect("prog.c is a source");
        assert_eq!(plan.sources, vec![root.join("src/prog.c")]);
        assert_eq!(plan.left_out.len(), 1);
        let _ = std::fs::remove_dir_all(&base);
    }
}
