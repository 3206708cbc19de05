//! `crossverify ddc`: Wheeler's diverse double-compiling of a compiler the chain builds.
//!
//! This module owns the subcommand. It reads the chain's own kaem scripts without running
//! anything (a dry run of the [`crate::kaem`] interpreter that records every command), finds
//! the steps that built the compiler's binary cA (`x86/bin/M2-Planet`): the compile step
//! (the chain's compiler cT, e.g. `x86/artifact/M2`, turning the C sources sA into M1) and
//! the steps after it (blood-elf, M1, hex2), and the source sT of cT (from cT's provenance:
//! for `x86/artifact/M2` the files `catm` joined into `M2-0.c`). Then:
//!
//! - stage 1 = the trusted host compiler CC building sT (as `--host-cc` builds do);
//! - stage 2 = stage 1 running the chain's compile command line on sA, then hexroot's own
//!   blood-elf, M1 and hex2 (in-process) running the chain's command lines for the rest;
//! - the DDC comparison: stage 2 against cA, byte for byte (and each intermediate against
//!   the chain's);
//! - when sT and sA are the same C files (a self-hosting compiler, M2-Planet), stage 3 =
//!   cA itself running the same command lines, compared with stage 2: a compiler that
//!   regenerates from its source what an independent compiler's build of that source
//!   generates carries no self-propagating change.
//!
//! Every stage's artifacts stay in the output directory; the report (`ddc-report.txt`
//! there) renders like the replay report. The chain must have run in the checkout already
//! (cA and the chain's intermediates are read from it); the checkout is not written.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{program_name, Streams, EXIT_FAILURE, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;

use crate::kaem::shell::{normalize, Frame, Host, Shell, Step};
use crate::kaem::{Dialect, Vars};
use crate::replay::hostcc::{explain_output, find_compilers, Checker, HostCc};
use crate::replay::provenance::{is_c_source, Graph, Link};
use crate::replay::tools::{file_args, our_command, recognise, Role};

/// One command of the chain, as the dry run saw it.
#[derive(Clone, Debug)]
pub struct ChainStep {
    /// 1-based number.
    pub number: usize,
    /// `SCRIPT:LINE:COL`.
    pub location: String,
    /// The program (absolute).
    pub program: PathBuf,
    /// The working directory (absolute).
    pub cwd: PathBuf,
    /// The command line.
    pub argv: Vec<OsString>,
    /// The variables.
    pub vars: Vars,
}

impl ChainStep {
    /// The argument positions of its inputs and outputs. Our tools as the replay reads
    /// them; other programs by `-f`/`-o`, and otherwise (`cc_x86 IN OUT`) their last
    /// plain argument as the output and the others as inputs.
    pub fn files(&self) -> Vec<(usize, Role)> {
        let kind = recognise(&self.program).map(|t| t.kind);
        let mut p = file_args(kind, &self.argv);
        if kind.is_none() && !p.iter().any(|(_, r)| *r == Role::Output) {
            let plain: Vec<usize> = (1..self.argv.len())
                .filter(|i| !p.iter().any(|(j, _)| j == i))
                .filter(|&i| !self.argv[i].as_bytes().starts_with(b"-"))
                .filter(|&i| i < 2 || !self.argv[i - 1].as_bytes().starts_with(b"-"))
                .collect();
            if plain.len() >= 2 {
                let last = *plain.last().unwrap_or(&0);
                p.extend(
                    plain
                        .iter()
                        .map(|&i| (i, if i == last { Role::Output } else { Role::Input })),
                );
            } else {
                p.extend(plain.iter().map(|&i| (i, Role::Input)));
            }
        }
        p.sort();
        p
    }

    fn path_of(&self, i: usize) -> PathBuf {
        normalize(&self.cwd.join(&self.argv[i]))
    }
}

/// Reads the chain's scripts from `root` (starting at `script`) without running anything.
pub fn dry_run(root: &Path, script: &Path, dialect: Dialect) -> Result<Vec<ChainStep>, Diagnostic> {
    struct Recorder(Vec<ChainStep>, std::io::Sink);
    impl Host for Recorder {
        fn run(&mut self, step: &Step) -> Result<i32, Diagnostic> {
            self.0.push(ChainStep {
                number: self.0.len() + 1,
                location: step.location(),
                program: normalize(&step.cwd.join(&step.program)),
                cwd: step.cwd.to_path_buf(),
                argv: step.argv.clone(),
                vars: step.vars.clone(),
            });
            Ok(0)
        }
        fn stdout(&mut self) -> &mut dyn std::io::Write {
            &mut self.1
        }
        fn stderr(&mut self) -> &mut dyn std::io::Write {
            &mut self.1
        }
    }
    let vars: Vars = std::env::vars_os()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect();
    let mut frame = Frame::new(script.to_path_buf(), dialect, root.to_path_buf(), vars);
    if dialect == Dialect::Full {
        frame.verbose = true;
        frame.strict = true;
    }
    let mut rec = Recorder(Vec::new(), std::io::sink());
    Shell { host: &mut rec }.run_file(&mut frame)?;
    Ok(rec.0)
}

/// The provenance graph of a dry run (paths relative to `root`).
pub fn graph(root: &Path, steps: &[ChainStep]) -> Graph {
    Graph::new(
        steps
            .iter()
            .map(|s| {
                let tool = recognise(&s.program);
                let files = s.files();
                let of = |role| {
                    files
                        .iter()
                        .filter(|(_, r)| *r == role)
                        .map(|(i, _)| rel(root, &s.path_of(*i)))
                        .collect()
                };
                Link {
                    number: s.number,
                    program: rel(root, &s.program),
                    name: match tool {
                        Some(t) => t.kind.name().to_string(),
                        None => s
                            .program
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_default(),
                    },
                    ours: tool.is_some(),
                    inputs: of(Role::Input),
                    outputs: of(Role::Output),
                }
            })
            .collect(),
    )
}

fn rel(root: &Path, p: &Path) -> String {
    match p.strip_prefix(root) {
        Ok(r) => r.display().to_string(),
        Err(_) => p.display().to_string(),
    }
}

/// How the chain builds a compiler, found from its scripts.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// cA, the chain's binary (relative to the root).
    pub binary: String,
    /// The compile step (cT turning sA into M1).
    pub compile: usize,
    /// The steps after it, in order (our tools).
    pub rest: Vec<usize>,
    /// cT, the program of the compile step (relative to the root).
    pub compiler: String,
    /// sA: the C files the compile step reads.
    pub source: Vec<String>,
    /// sT: the C sources of cT, by its provenance.
    pub compiler_source: Vec<String>,
}

/// Finds how `steps` build the program named `name` (the last step writing a file of that
/// name).
pub fn recipe(root: &Path, steps: &[ChainStep], name: &str) -> Result<Recipe, String> {
    let g = graph(root, steps);
    let last = g
        .links()
        .iter()
        .rev()
        .find_map(|l| {
            l.outputs
                .iter()
                .find(|o| Path::new(o).file_name().is_some_and(|f| f == name))
                .map(|o| (l.number, o.clone()))
        })
        .ok_or_else(|| format!("no step of the chain writes a file named '{name}'"))?;
    let (at, binary) = last;
    let origin = g.origin(&binary, at + 1);
    let compile = *origin
        .compile_steps
        .first()
        .ok_or_else(|| format!("{binary} is not built from C by the chain"))?;
    // The steps between the compile step and the binary: every producer on the way.
    let mut rest = Vec::new();
    let mut todo = vec![(binary.clone(), at + 1)];
    while let Some((file, before)) = todo.pop() {
        let Some(p) = g.producer(&file, before) else {
            continue;
        };
        if p.number == compile || rest.contains(&p.number) {
            continue;
        }
        if !p.ours {
            return Err(format!(
                "step {} ({}) between the compile step and {binary} is not one of hexroot's tools; not yet supported",
                p.number, p.name
            ));
        }
        rest.push(p.number);
        for i in &p.inputs {
            todo.push((i.clone(), p.number));
        }
    }
    rest.sort();
    let c = g.link(compile).ok_or("the compile step vanished")?;
    let source: Vec<String> = c
        .inputs
        .iter()
        .filter(|i| is_c_source(i))
        .cloned()
        .collect();
    let compiler = c.program.clone();
    let t = g.origin(&compiler, compile);
    Ok(Recipe {
        binary,
        compile,
        rest,
        compiler,
        source,
        compiler_source: t.sources,
    })
}

/// Whether the portable C files of `inner` (those outside an architecture directory) all
/// occur, by content, among `outer`'s.
fn contains_source(root: &Path, outer: &[String], inner: &[String]) -> bool {
    let portable = |v: &[String]| -> Vec<Vec<u8>> {
        v.iter()
            .filter(|s| crate::kaem::shell::arch_of_path(Path::new(s)).is_none())
            .map(|s| std::fs::read(root.join(s)).unwrap_or_default())
            .collect()
    };
    let a = portable(outer);
    let t = portable(inner);
    !t.is_empty() && t.iter().all(|x| a.contains(x))
}

/// Another program the chain builds from cT's source (its full build, e.g. M2-Planet for
/// the bootstrap M2), if there is one.
fn twin_recipe(root: &Path, steps: &[ChainStep], r: &Recipe) -> Option<Recipe> {
    let g = graph(root, steps);
    let mut names: Vec<String> = g
        .links()
        .iter()
        .filter(|l| l.ours && l.name == "hex2")
        .flat_map(|l| l.outputs.iter())
        .filter_map(|o| {
            Path::new(o)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .collect();
    names.dedup();
    names.into_iter().find_map(|n| {
        let t = recipe(root, steps, &n).ok()?;
        (t.binary != r.binary
            && t.compile != r.compile
            && contains_source(root, &t.source, &r.compiler_source))
        .then_some(t)
    })
}

/// A compiler one stage runs: the trusted compiler's build (a host program, always run
/// natively) or a binary of the chain's architecture (stage 2 and 3 compilers, cA), which
/// runs in hexroot's Linux user-mode machine when `--exec emulated` asks for it or when
/// this host's CPU cannot run it (an aarch64 or riscv chain on an x86-64 host).
struct Compiler {
    path: PathBuf,
    emulate: bool,
}

impl Compiler {
    fn host(path: &Path) -> Compiler {
        Compiler {
            path: path.to_path_buf(),
            emulate: false,
        }
    }

    fn chain(path: &Path, emulated: bool) -> Compiler {
        let foreign = match stage0_vm::linux::probe(path) {
            Ok(arch) => !runs_on_host(arch),
            Err(_) => false,
        };
        Compiler {
            path: path.to_path_buf(),
            emulate: emulated || foreign,
        }
    }

    /// Runs the compiler with `argv` (argv[0] as the chain gave it) in `cwd` with the
    /// chain's variables: who ran it, the exit status and its standard error.
    fn run(
        &self,
        argv: &[OsString],
        cwd: &Path,
        vars: &Vars,
    ) -> Result<(String, i32, Vec<u8>), String> {
        if self.emulate {
            let config = stage0_vm::linux::RunConfig {
                program: self.path.clone(),
                argv: argv.iter().map(|a| a.as_bytes().to_vec()).collect(),
                envp: vars
                    .iter()
                    .map(|(k, v)| [k.as_slice(), b"=", v.as_slice()].concat())
                    .collect(),
                cwd: cwd.to_path_buf(),
                ..Default::default()
            };
            let (mut stdin, mut stdout, mut stderr) = (std::io::empty(), Vec::new(), Vec::new());
            let mut io = stage0_vm::linux::RunIo {
                stdin: &mut stdin,
                stdout: &mut stdout,
                stderr: &mut stderr,
            };
            let out = stage0_vm::linux::run(&config, &mut io, None).map_err(|e| e.to_string())?;
            let who = format!(
                "{} (emulated by hexroot's Linux machine, {} instructions)",
                self.path.display(),
                out.instructions
            );
            return Ok((who, out.status, stderr));
        }
        let mut cmd = std::process::Command::new(&self.path);
        cmd.arg0(&argv[0])
            .args(&argv[1..])
            .current_dir(cwd)
            .env_clear();
        for (k, v) in vars {
            cmd.env(
                std::ffi::OsStr::from_bytes(k),
                std::ffi::OsStr::from_bytes(v),
            );
        }
        let o = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", self.path.display()))?;
        Ok((
            self.path.display().to_string(),
            o.status.code().unwrap_or(128),
            o.stderr,
        ))
    }
}

/// Whether this host's CPU runs programs of `arch` itself.
fn runs_on_host(arch: stage0_vm::linux::cpu::Arch) -> bool {
    use stage0_vm::linux::cpu::Arch;
    match std::env::consts::ARCH {
        "x86_64" => matches!(arch, Arch::Amd64 | Arch::I386),
        "x86" => arch == Arch::I386,
        "aarch64" => arch == Arch::Aarch64,
        "riscv64" => arch == Arch::Riscv64,
        "riscv32" => arch == Arch::Riscv32,
        _ => false,
    }
}

/// One run of a stage.
struct StageRun {
    location: String,
    command: String,
    who: String,
    outputs: Vec<(String, PathBuf)>,
    status: i32,
    ms: f64,
    message: String,
}

/// Runs the recipe's steps with `compiler` (a binary) for the compile step and our tools
/// for the rest, every output going to `dir`.
fn run_stage(
    root: &Path,
    steps: &[ChainStep],
    r: &Recipe,
    compiler: &Compiler,
    dir: &Path,
) -> Result<(Vec<StageRun>, BTreeMap<PathBuf, PathBuf>), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut moved: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    let mut runs = Vec::new();
    for n in std::iter::once(r.compile).chain(r.rest.iter().copied()) {
        let s = &steps[n - 1];
        let mut argv = s.argv.clone();
        let mut outputs = Vec::new();
        for (i, role) in s.files() {
            let real = s.path_of(i);
            match role {
                Role::Input => {
                    if let Some(m) = moved.get(&real) {
                        argv[i] = m.clone().into_os_string();
                    }
                }
                Role::Output => {
                    let name = real
                        .file_name()
                        .map(|f| f.to_os_string())
                        .unwrap_or_default();
                    let mine = dir.join(name);
                    let _ = std::fs::remove_file(&mine);
                    argv[i] = mine.clone().into_os_string();
                    outputs.push((rel(root, &real), mine.clone()));
                    moved.insert(real, mine);
                }
            }
        }
        let start = Instant::now();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let (who, status) = match recognise(&s.program) {
            Some(tool) => {
                let (main, args) = our_command(tool, &argv).map_err(|e| e.to_string())?;
                crate::replay::check_dir(&s.cwd)
                    .map_err(|e| format!("cannot enter {}: {e}", s.cwd.display()))?;
                let mut io = Streams {
                    stdout: &mut out,
                    stderr: &mut err,
                    stdout_is_terminal: false,
                    cwd: Some(&s.cwd),
                };
                (
                    format!("hexroot {}", tool.kind.name()),
                    main(&args, &mut io),
                )
            }
            None => {
                let (who, status, e) = compiler.run(&argv, &s.cwd, &s.vars)?;
                err = e;
                (who, status)
            }
        };
        let message = String::from_utf8_lossy(&err)
            .lines()
            .next()
            .unwrap_or("")
            .to_string();
        runs.push(StageRun {
            location: s.location.clone(),
            command: argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            who,
            outputs,
            status,
            ms: start.elapsed().as_secs_f64() * 1000.0,
            message,
        });
        if status != 0 {
            break;
        }
    }
    Ok((runs, moved))
}

/// What `crossverify ddc` found.
struct Outcome {
    lines: String,
    differed: usize,
    failed: bool,
    /// Whether the last DDC stage is identical to cA.
    verified: bool,
    /// cA differs from its own build of sA, and stage 3 equals that build.
    not_fixed_point: bool,
}

#[derive(Default)]
struct Findings {
    differed: usize,
    failed: bool,
}

/// Runs one stage with `compiler`, reporting each run; the stage's final artifact.
#[allow(clippy::too_many_arguments)]
fn stage(
    o: &mut String,
    f: &mut Findings,
    root: &Path,
    steps: &[ChainStep],
    r: &Recipe,
    title: &str,
    compiler: &Compiler,
    dir: &Path,
) -> Result<Option<PathBuf>, String> {
    let _ = writeln!(o, "\n{title}, with the chain's command lines:");
    let (runs, _) = run_stage(root, steps, r, compiler, dir)?;
    for run in &runs {
        let _ = writeln!(
            o,
            "step: {}\n  at: {}\n  implementation: {}\n  wall time: {:.3} ms",
            run.command, run.location, run.who, run.ms
        );
        if run.status != 0 {
            f.failed = true;
            let _ = writeln!(
                o,
                "  result: failed with exit status {}: {}",
                run.status, run.message
            );
            return Ok(None);
        }
        let _ = writeln!(o, "  result: ok");
        for (chain, mine) in &run.outputs {
            let a = std::fs::read(root.join(chain)).unwrap_or_default();
            let b = std::fs::read(mine).unwrap_or_default();
            let h = crate::sha256_hex(&b);
            match explain_output(&a, &b) {
                None => {
                    let _ = writeln!(
                        o,
                        "  out {h}  {} (identical to the chain's {chain})",
                        mine.display()
                    );
                }
                Some(why) => {
                    let _ = writeln!(
                        o,
                        "  out {h}  {} differs from the chain's {chain}: {why}",
                        mine.display()
                    );
                }
            }
        }
    }
    Ok(runs
        .last()
        .and_then(|r| r.outputs.last())
        .map(|(_, p)| p.clone()))
}

/// What one `crossverify ddc` run is asked to do.
struct Job<'a> {
    root: &'a Path,
    /// The chain's first script, relative to the root (`kaem.ARCH`).
    script: PathBuf,
    /// The compiler's file name.
    name: &'a str,
    cc: &'a HostCc,
    out: &'a Path,
    /// Run every chain binary in hexroot's machine, not only foreign ones.
    emulated: bool,
}

fn ddc(job: &Job) -> Result<Outcome, String> {
    let Job {
        root,
        name,
        cc,
        out,
        emulated,
        ..
    } = *job;
    let script = job.script.clone();
    let steps = dry_run(root, &script, crate::replay::default_dialect(&script))
        .map_err(|d| d.to_string())?;
    let r = recipe(root, &steps, name)?;
    let mut o = String::new();
    let _ = writeln!(
        o,
        "compiler: {name}; cA = {} (sha256 {})",
        r.binary,
        crate::replay::record::hash_file(&root.join(&r.binary))
            .unwrap_or_else(|| "missing: run the chain first".into())
    );
    let _ = writeln!(
        o,
        "cT (the chain's compiler that built it) = {} at {}",
        r.compiler,
        steps[r.compile - 1].location
    );
    let _ = writeln!(o, "sA = {}", r.source.join(" "));
    let _ = writeln!(
        o,
        "sT (cT's C sources, by its provenance) = {}",
        r.compiler_source.join(" ")
    );
    let self_hosting = contains_source(root, &r.source, &r.compiler_source);
    let _ = writeln!(
        o,
        "self-hosting (every portable file of sT is in sA): {}",
        if self_hosting { "yes" } else { "no" }
    );
    if !root.join(&r.binary).is_file() {
        return Err(format!(
            "{} does not exist: run the chain in {} first",
            r.binary,
            root.display()
        ));
    }
    // Stage 1.
    let mut checker = Checker::new(vec![cc.clone()], out.join("stage1"));
    let t_origin = graph(root, &steps).origin(&r.compiler, r.compile);
    let stage1 = match checker.build(cc, root, &t_origin, &r.compiler) {
        Ok((p, plan)) => {
            let _ = writeln!(
                o,
                "\nstage 1: {} built {} from: {}",
                cc.name,
                p.display(),
                plan.sources
                    .iter()
                    .map(|s| rel(root, s))
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            p
        }
        Err(why) => {
            let _ = writeln!(o, "\nstage 1: not built: {why}");
            return Ok(Outcome {
                lines: o,
                differed: 0,
                failed: true,
                verified: false,
                not_fixed_point: false,
            });
        }
    };
    let mut f = Findings::default();
    let s2 = stage(
        &mut o,
        &mut f,
        root,
        &steps,
        &r,
        "stage 2 (stage 1 compiling sA)",
        &Compiler::host(&stage1),
        &out.join("stage2"),
    )?;
    let ca_path = root.join(&r.binary);
    let mut comparisons: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    if let Some(s2) = &s2 {
        comparisons.push((
            "DDC stage 2 (stage 1's build of sA) against cA".into(),
            ca_path.clone(),
            s2.clone(),
        ));
    }
    if self_hosting {
        let mut s3_out = None;
        if let Some(s2) = &s2 {
            if let Some(s3) = stage(
                &mut o,
                &mut f,
                root,
                &steps,
                &r,
                "stage 3 (stage 2 compiling sA)",
                &Compiler::chain(s2, emulated),
                &out.join("stage3"),
            )? {
                comparisons.push((
                    "DDC stage 3 (stage 2's build of sA) against cA".into(),
                    ca_path.clone(),
                    s3.clone(),
                ));
                s3_out = Some(s3);
            }
        }
        if let Some(fixed) = stage(
            &mut o,
            &mut f,
            root,
            &steps,
            &r,
            "fixed point (cA compiling sA)",
            &Compiler::chain(&root.join(&r.binary), emulated),
            &out.join("cA-of-sA"),
        )? {
            comparisons.push((
                "fixed point: cA's own build of sA against cA".into(),
                ca_path.clone(),
                fixed.clone(),
            ));
            if let Some(s3) = s3_out {
                // When cA is not a fixed point, what the trusted path can still show
                // is that stage 2 compiles sA exactly as cA does.
                comparisons.push((STAGE3_VS_FIXED.into(), fixed, s3));
            }
        }
    } else if let Some(twin) = twin_recipe(root, &steps, &r) {
        // cT's source is a compiler the chain also builds the full way (M2-Planet for
        // the M2 that built M2-Mesoplanet): stage 1 builds that one first, so that the
        // compiler compiling sA has the chain language's semantics, not the host's.
        let _ = writeln!(
            o,
            "\ncT's source sT is also the source of {} (built at {}); stage 2 builds it with stage 1, stage 3 builds cA with that",
            twin.binary,
            steps[twin.compile - 1].location
        );
        let t2 = stage(
            &mut o,
            &mut f,
            root,
            &steps,
            &twin,
            "stage 2 (stage 1 compiling sT the full way)",
            &Compiler::host(&stage1),
            &out.join("stage2-compiler"),
        )?;
        if let Some(t2) = t2 {
            comparisons.push((
                format!(
                    "stage 2 (stage 1's build of sT) against the chain's {}",
                    twin.binary
                ),
                root.join(&twin.binary),
                t2.clone(),
            ));
            if let Some(s3) = stage(
                &mut o,
                &mut f,
                root,
                &steps,
                &r,
                "stage 3 (stage 2 compiling sA)",
                &Compiler::chain(&t2, emulated),
                &out.join("stage3"),
            )? {
                comparisons.push((
                    "DDC stage 3 (stage 2's build of sA) against cA".into(),
                    ca_path.clone(),
                    s3,
                ));
            }
        }
    }
    let _ = writeln!(o, "\n## Comparisons");
    let mut last_agreed = false;
    let mut like_ca = false;
    for (what, reference, file) in &comparisons {
        let a = std::fs::read(reference).unwrap_or_default();
        let b = std::fs::read(file).unwrap_or_default();
        match explain_output(&a, &b) {
            None => {
                if what.starts_with("DDC") {
                    last_agreed = true;
                }
                like_ca |= what == STAGE3_VS_FIXED;
                let _ = writeln!(
                    o,
                    "{what}: identical (sha256 {}): agreed",
                    crate::sha256_hex(&b)
                );
            }
            Some(why) => {
                if what.starts_with("DDC") {
                    last_agreed = false;
                }
                f.differed += 1;
                let _ = writeln!(o, "{what}: DIFFERS: {why}");
            }
        }
    }
    let not_fixed_point = like_ca && !last_agreed;
    if not_fixed_point {
        let _ = writeln!(
            o,
            "note: cA is not a fixed point (cA compiling sA does not give cA back), but stage 3 equals cA's own build of sA: the trusted-path compiler and cA compile sA alike; cA itself was not reproduced, so this is not a DDC agreement"
        );
    }
    if comparisons.is_empty() {
        f.failed = true;
        let _ = writeln!(o, "no comparison was made (a stage failed): NOT VERIFIED");
    }
    Ok(Outcome {
        lines: o,
        differed: f.differed,
        failed: f.failed,
        verified: last_agreed,
        not_fixed_point,
    })
}

/// The extra comparison made when cA is not a fixed point.
const STAGE3_VS_FIXED: &str = "stage 3 against cA's own build of sA";

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Help,
}

/// The options that take a value.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Value {
    Root,
    Arch,
    Compiler,
    HostCc,
    Out,
    Script,
    Exec,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-C", "--root"], Value::Root, "DIR")
        .doc(
            "the stage0-posix checkout (after the chain ran)",
        ),
    Opt::value(&["--arch"], Value::Arch, "ARCH")
        .doc(
            "x86, amd64, aarch64, riscv32 or riscv64 (reads kaem.ARCH)",
        ),
    Opt::value(&["--compiler"], Value::Compiler, "NAME")
        .doc(
            "M2-Planet or M2-Mesoplanet (a file name the chain writes)",
        ),
    Opt::value(&["--host-cc"], Value::HostCc, "CC").doc("the trusted C compiler (default gcc)"),
    Opt::value(&["-o", "--out"], Value::Out, "OUT")
        .doc(
            "where every stage's artifacts and ddc-report.txt go",
        ),
    Opt::value(&["--script"], Value::Script, "FILE")
        .doc(
            "the chain's first script, relative to DIR (default kaem.ARCH)",
        ),
    Opt::value(&["--exec"], Value::Exec, "MODE")
        .doc(
            "where the chain-architecture compilers of stages 2 and 3 and cA\nrun: native (default; a binary this CPU cannot run is emulated\nanyway) or emulated (always hexroot's Linux user-mode machine)",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
];

/// Help text of `crossverify ddc`.
/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify ddc --root DIR --arch ARCH --compiler NAME --host-cc CC --out OUT
                      [--script FILE] [--exec native|emulated]

Diverse double-compiling (Wheeler) of a compiler a stage0-posix chain builds. Reads the
chain's kaem scripts (kaem.ARCH and the scripts it runs) without running them, finds the
steps that build the compiler's binary cA (the last file named NAME), the chain's
compiler cT that compiled it and cT's C sources sT, then: stage 1 = CC builds sT;
stage 2 = stage 1 runs the chain's compile command on cA's sources sA and hexroot's own
blood-elf, M1 and hex2 finish it; stage 2 is compared with cA byte for byte. For a
self-hosting compiler (sT is sA: M2-Planet) stage 3 = cA runs the same commands, compared
with stage 2. The chain must have run in DIR already; DIR is not written.

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 every comparison agreed; 1 a comparison differed or a stage failed (the
report says which); 2 bad command line.

Example:
  $ crossverify ddc --root stage0-posix --arch x86 --compiler M2-Planet --host-cc gcc --out ddc-x86   # needs: a stage0-posix checkout
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

/// Runs `crossverify ddc`.
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = format!("crossverify {}", program_name(args, "ddc"));
    let mut opts: BTreeMap<Value, String> = BTreeMap::new();
    for arg in Parser::new(args.get(1..).unwrap_or(&[]), OPTS) {
        match arg {
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Value(id, v)) => {
                opts.insert(id, v.to_string_lossy().into_owned());
            }
            Ok(Arg::Positional(p)) => {
                io.usage_error(
                    &tool,
                    &format!("unexpected argument '{}'", p.to_string_lossy()),
                );
                return EXIT_USAGE;
            }
            Err(e) => {
                io.usage_error(&tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let need = |id: Value, what: &str| opts.get(&id).cloned().ok_or(what.to_string());
    let parsed = (|| {
        Ok::<_, String>((
            need(Value::Root, "missing --root DIR")?,
            need(Value::Arch, "missing --arch ARCH")?,
            need(
                Value::Compiler,
                "missing --compiler NAME (M2-Planet or M2-Mesoplanet)",
            )?,
            need(Value::Out, "missing --out OUT")?,
        ))
    })();
    let (root, arch, compiler, out) = match parsed {
        Ok(p) => p,
        Err(m) => {
            io.usage_error(&tool, &m);
            return EXIT_USAGE;
        }
    };
    if !["x86", "amd64", "aarch64", "riscv32", "riscv64"].contains(&arch.as_str()) {
        io.usage_error(
            &tool,
            &format!("unknown --arch '{arch}'; expected x86, amd64, aarch64, riscv32 or riscv64"),
        );
        return EXIT_USAGE;
    }
    let cc_name = opts
        .get(&Value::HostCc)
        .cloned()
        .unwrap_or_else(|| "gcc".into());
    let cc = match find_compilers(std::slice::from_ref(&cc_name)) {
        Ok(c) if !c.is_empty() => c[0].clone(),
        Ok(_) => {
            io.usage_error(&tool, "--host-cc none: ddc needs a trusted compiler");
            return EXIT_USAGE;
        }
        Err(m) => {
            io.error(&Diagnostic::new(m));
            return EXIT_FAILURE;
        }
    };
    let root = match std::fs::canonicalize(&root) {
        Ok(r) => r,
        Err(e) => {
            io.error(&Diagnostic::io(&root, "cannot use the root", &e));
            return EXIT_FAILURE;
        }
    };
    let out = if Path::new(&out).is_absolute() {
        PathBuf::from(&out)
    } else {
        std::env::current_dir().unwrap_or_default().join(&out)
    };
    let emulated = match opts.get(&Value::Exec).map(String::as_str) {
        None | Some("native") => false,
        Some("emulated") => true,
        Some(other) => {
            io.usage_error(
                &tool,
                &format!("unknown --exec '{other}'; expected native or emulated"),
            );
            return EXIT_USAGE;
        }
    };
    let script = opts
        .get(&Value::Script)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(format!("kaem.{arch}")));
    let start = Instant::now();
    let result = ddc(&Job {
        root: &root,
        script,
        name: &compiler,
        cc: &cc,
        out: &out,
        emulated,
    });
    let (text, status) = match result {
        Ok(o) => {
            let status = if o.failed {
                "incomplete - a stage failed; nothing below is a DDC verdict"
            } else if o.verified {
                "complete: the last DDC stage is identical to cA"
            } else if o.not_fixed_point {
                "complete, but DIFFERED: no DDC stage is identical to cA (cA is not a fixed point; stage 3 equals cA's own build of sA)"
            } else {
                "complete, but DIFFERED: no DDC stage is identical to cA"
            };
            let head = format!(
                "crossverify ddc report\nstatus: {status}\nroot: {}\narch: {arch}\nhost cc: {} ({})\nsummary: {} comparison(s) differed; {:.1} s\n\n",
                root.display(),
                cc.name,
                cc.path.display(),
                o.differed,
                start.elapsed().as_secs_f64()
            );
            let ok = !o.failed && o.verified;
            (
                head + &o.lines,
                if ok { EXIT_SUCCESS } else { EXIT_FAILURE },
            )
        }
        Err(why) => {
            io.error(&Diagnostic::new(why));
            return EXIT_FAILURE;
        }
    };
    let report = out.join("ddc-report.txt");
    if let Err(e) = std::fs::create_dir_all(&out)
        .and_then(|()| toolbase::output::write_atomic(&report, text.as_bytes(), 0o644))
    {
        io.error(&Diagnostic::io(&report, "cannot write the report", &e));
        return EXIT_FAILURE;
    }
    let _ = io.stdout.write_all(text.as_bytes());
    status
}
