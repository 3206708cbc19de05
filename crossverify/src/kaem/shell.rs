//! The kaem interpreter proper: runs parsed commands with kaem's builtins and state.
//!
//! This module owns the state of a kaem run (a [`Frame`]: variables, aliases, working
//! directory, `--verbose`/`--strict`) and the meaning of each command: assignments
//! (`NAME=value`), the builtins `cd`, `set`, `alias`, `pwd`, `echo`, `unset` and `exec`,
//! alias expansion, PATH lookup for a command without a `/`, and nested kaem
//! invocations (`kaem --verbose --strict --file SCRIPT`, `kaem-0 SCRIPT`,
//! `kaem-optional-seed SCRIPT`), which it interprets in-process with a copy of the
//! caller's variables, as the child process would have. Every other command becomes a
//! [`Step`] for the [`Host`]. It never changes the process's working directory or
//! environment: both live in the frame, and the host applies them to what it runs.
//!
//! Semantics kept from kaem: variables are all exported; a failing command stops a
//! `--strict` run (kaem-0 is always strict and always echoes ` +> ` and the command);
//! with `--non-strict` (or `set +e`) the run goes on after a warning, and a nested kaem
//! without either is taken as strict, the safe reading for a verification; `exec CMD` runs CMD and ends the
//! script with its status; `set -e`/`+e` toggles strict, `set -x`/`+x` verbose, `-a` is
//! always on; `alias NAME="text"` makes `NAME args` run `text args`.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use toolbase::arch::Arch;
use toolbase::diag::{line_col, Diagnostic};

use super::expand::{expand_joined, expand_words, Vars};
use super::syntax::{is_name_byte, parse, Command, Dialect, Part};

/// The state a kaem script runs in.
#[derive(Clone, Debug)]
pub struct Frame {
    /// The script's path as named (for messages).
    pub script: PathBuf,
    /// The dialect the script is read in.
    pub dialect: Dialect,
    /// The working directory (absolute).
    pub cwd: PathBuf,
    /// Every variable (all exported).
    pub vars: Vars,
    /// Aliases: name to replacement words.
    pub aliases: BTreeMap<Vec<u8>, Vec<Vec<u8>>>,
    /// Echo each command (` +> ...`) before running it.
    pub verbose: bool,
    /// Stop at the first failing command.
    pub strict: bool,
    /// Nesting depth (0 for the top-level script).
    pub depth: usize,
}

impl Frame {
    /// A top-level frame for `script` in `cwd` with the variables `vars`. The minimal
    /// dialect is always verbose and strict; the full one starts with neither.
    pub fn new(script: PathBuf, dialect: Dialect, cwd: PathBuf, vars: Vars) -> Frame {
        let minimal = matches!(dialect, Dialect::Minimal { .. });
        Frame {
            script,
            dialect,
            cwd,
            vars,
            aliases: BTreeMap::new(),
            verbose: minimal,
            strict: minimal,
            depth: 0,
        }
    }
}

/// One program the script starts, for the host to run.
pub struct Step<'a> {
    /// The script and the 1-based line and column of the command.
    pub script: &'a Path,
    /// Line of the command.
    pub line: u32,
    /// Column of the command.
    pub col: u32,
    /// Working directory to run it in.
    pub cwd: &'a Path,
    /// The environment to give it (every kaem variable).
    pub vars: &'a Vars,
    /// The program, resolved (absolute, or as found on PATH).
    pub program: PathBuf,
    /// The arguments, `argv[0]` as the script wrote it (after expansion).
    pub argv: Vec<OsString>,
}

impl Step<'_> {
    /// `SCRIPT:LINE:COL`.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.script.display(), self.line, self.col)
    }

    /// The command line as one string (arguments joined by spaces).
    pub fn command_line(&self) -> String {
        let words: Vec<String> = self
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        words.join(" ")
    }
}

/// What runs the programs a script starts.
pub trait Host {
    /// Runs one program and returns its exit status. `Err` stops the whole run (the
    /// program could not be started, or two implementations disagreed).
    fn run(&mut self, step: &Step) -> Result<i32, Diagnostic>;

    /// Told when a nested kaem script starts (`depth` ≥ 1); the default does nothing.
    fn enter_script(&mut self, _script: &Path, _depth: usize) {}

    /// Where `echo` and `pwd` write.
    fn stdout(&mut self) -> &mut dyn Write;

    /// Where the verbose ` +> ` lines go; by default the same as [`Host::stdout`].
    fn trace(&mut self) -> &mut dyn Write {
        self.stdout()
    }

    /// Where warnings go (a failing command in a run without `--strict`).
    fn stderr(&mut self) -> &mut dyn Write;
}

/// The interpreter over a host that runs programs and receives its output.
pub struct Shell<'a> {
    /// Runs the programs.
    pub host: &'a mut dyn Host,
}

/// How deep kaem scripts may nest before we call it a loop.
const MAX_DEPTH: usize = 64;

fn os(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The kind of kaem a program is, by its file name: `Some(minimal)` for the seeds' kaem
/// (`kaem-optional-seed`, `kaem-0`), `Some(full)` for `kaem`.
pub fn kaem_kind(program: &Path) -> Option<bool> {
    match program.file_name()?.as_bytes() {
        b"kaem-optional-seed" | b"kaem-0" => Some(true),
        b"kaem" => Some(false),
        _ => None,
    }
}

/// The architecture directory named in `path` (the last component that is an
/// architecture's name or alias in `toolbase::arch`: `x86`, `AMD64`, `AArch64`, `riscv32`,
/// `riscv64`, ...).
pub fn arch_of_path(path: &Path) -> Option<Arch> {
    path.components()
        .rev()
        .find_map(|c| Arch::from_name_or_alias(c.as_os_str().to_str()?))
}

/// The dialect of the minimal kaem for `arch`: riscv's has no strings.
pub fn minimal_dialect(arch: Option<Arch>) -> Dialect {
    Dialect::Minimal {
        strings: !arch.is_some_and(Arch::is_riscv),
    }
}

/// How a script ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    /// The status kaem would exit with.
    pub status: i32,
}

impl Shell<'_> {
    /// Reads and runs the script `frame.script` (resolved against `frame.cwd`).
    pub fn run_file(&mut self, frame: &mut Frame) -> Result<Finished, Diagnostic> {
        let path = frame.cwd.join(&frame.script);
        let source = std::fs::read(&path).map_err(|e| {
            Diagnostic::io(&frame.script, "cannot read kaem script", &e)
                .hint("check the script name and the directory it is run from")
        })?;
        self.run_source(frame, &source)
    }

    /// Runs the script text `source` in `frame`.
    pub fn run_source(&mut self, frame: &mut Frame, source: &[u8]) -> Result<Finished, Diagnostic> {
        let name = frame.script.display().to_string();
        let commands = parse(source, frame.dialect).map_err(|e| e.to_diagnostic(&name, source))?;
        for cmd in &commands {
            let (line, col) = line_col(source, cmd.offset);
            let here = |d: Diagnostic| {
                d.in_file(name.clone())
                    .at(toolbase::diag::Position::LineCol { line, col })
            };
            match self
                .command(frame, cmd, line, col)
                .map_err(|e| e.locate(here))?
            {
                Flow::Next => {}
                Flow::Exit(status) => return Ok(Finished { status }),
            }
        }
        Ok(Finished { status: 0 })
    }

    fn echo_verbose(&mut self, frame: &Frame, args: &[Vec<u8>]) {
        if frame.verbose {
            let mut line = b" +> ".to_vec();
            line.extend(args.join(&b' '));
            line.push(b'\n');
            let _ = self.host.trace().write_all(&line);
        }
    }

    fn command(
        &mut self,
        frame: &mut Frame,
        cmd: &Command,
        line: u32,
        col: u32,
    ) -> Result<Flow, Fail> {
        let full = frame.dialect == Dialect::Full;
        if full {
            if let Some((name, value)) = assignment(cmd) {
                if cmd.words.len() > 1 {
                    return Err(Fail::Here(
                        Diagnostic::new("unexpected words after an assignment")
                            .expected("NAME=value alone on its line")
                            .found(format!("{} more word(s)", cmd.words.len() - 1))
                            .hint("quote the value: NAME=\"a b\""),
                    ));
                }
                let value = expand_joined(&value, &frame.vars);
                let mut shown = name.clone();
                shown.push(b'=');
                shown.extend_from_slice(&value);
                self.echo_verbose(frame, &[shown]);
                frame.vars.insert(name, value);
                return Ok(Flow::Next);
            }
        }
        let mut args = if full {
            expand_words(&cmd.words, &frame.vars)
        } else {
            expand_words(&cmd.words, &Vars::new())
        };
        if args.is_empty() {
            return Ok(Flow::Next);
        }
        if full {
            if let Some(replacement) = frame.aliases.get(&args[0]) {
                let mut new = replacement.clone();
                new.extend(args.drain(1..));
                args = new;
                if args.is_empty() {
                    return Ok(Flow::Next);
                }
            }
        }
        self.echo_verbose(frame, &args);
        if full {
            if let Some(flow) = self.builtin(frame, &args, line, col)? {
                return Ok(flow);
            }
        }
        let status = self.external(frame, &args, line, col)?;
        self.check_status(frame, &args, status)
    }

    fn check_status(&mut self, frame: &Frame, args: &[Vec<u8>], status: i32) -> Result<Flow, Fail> {
        if status == 0 {
            return Ok(Flow::Next);
        }
        if frame.strict {
            return Err(Fail::Here(
                Diagnostic::new(format!(
                    "'{}' failed with exit status {status}; kaem stops here",
                    show(&args[0])
                ))
                .note(format!("command: {}", show(&args.join(&b' '))))
                .hint(if frame.dialect == Dialect::Full {
                    "the script runs with --strict (or set -e): the first failing command ends the run"
                } else {
                    "the minimal kaem stops at the first failing command"
                }),
            ));
        }
        let _ = writeln!(
            self.host.stderr(),
            "{}: warning: '{}' failed with exit status {status}; continuing (not --strict)",
            frame.script.display(),
            show(&args[0])
        );
        Ok(Flow::Next)
    }

    /// Runs a builtin, or returns `None` when `args[0]` is not one.
    fn builtin(
        &mut self,
        frame: &mut Frame,
        args: &[Vec<u8>],
        line: u32,
        col: u32,
    ) -> Result<Option<Flow>, Fail> {
        match args[0].as_slice() {
            b"cd" => {
                let Some(dir) = args.get(1) else {
                    return Err(Fail::Here(
                        Diagnostic::new("cd needs a directory")
                            .expected("cd DIR")
                            .found("no argument"),
                    ));
                };
                let target = frame.cwd.join(OsStr::from_bytes(dir));
                match std::fs::metadata(&target) {
                    Ok(m) if m.is_dir() => {
                        frame.cwd = normalize(&target);
                        Ok(Some(Flow::Next))
                    }
                    Ok(_) => Err(Fail::Here(
                        Diagnostic::new(format!("cd: '{}' is not a directory", show(dir)))
                            .note(format!("from {}", frame.cwd.display())),
                    )),
                    Err(e) => Err(Fail::Here(
                        Diagnostic::new(format!(
                            "cd: cannot enter '{}': {}",
                            show(dir),
                            toolbase::diag::describe_io_error(&e)
                        ))
                        .note(format!("from {}", frame.cwd.display())),
                    )),
                }
            }
            b"set" => {
                for a in &args[1..] {
                    let (on, flags) = match a.split_first() {
                        Some((b'-', f)) => (true, f),
                        Some((b'+', f)) => (false, f),
                        _ => return Err(Fail::Here(bad_set(a))),
                    };
                    for f in flags {
                        match f {
                            b'e' => frame.strict = on,
                            b'x' => frame.verbose = on,
                            b'a' => {}
                            _ => return Err(Fail::Here(bad_set(a))),
                        }
                    }
                }
                Ok(Some(Flow::Next))
            }
            b"alias" => {
                if args.len() == 1 {
                    for (k, v) in &frame.aliases {
                        let _ =
                            writeln!(self.host.stdout(), "{}='{}'", show(k), show(&v.join(&b' ')));
                    }
                    return Ok(Some(Flow::Next));
                }
                for a in &args[1..] {
                    let Some(eq) = a.iter().position(|&b| b == b'=') else {
                        return Err(Fail::Here(
                            Diagnostic::new("alias needs NAME=TEXT")
                                .expected("alias NAME=\"text\"")
                                .found(format!("'{}'", show(a))),
                        ));
                    };
                    let words = a[eq + 1..]
                        .split(|&b| b == b' ' || b == b'\t' || b == b'\n')
                        .filter(|w| !w.is_empty())
                        .map(<[u8]>::to_vec)
                        .collect();
                    frame.aliases.insert(a[..eq].to_vec(), words);
                }
                Ok(Some(Flow::Next))
            }
            b"pwd" => {
                let mut l = frame.cwd.as_os_str().as_bytes().to_vec();
                l.push(b'\n');
                let _ = self.host.stdout().write_all(&l);
                Ok(Some(Flow::Next))
            }
            b"echo" => {
                let mut l = args[1..].join(&b' ');
                l.push(b'\n');
                let _ = self.host.stdout().write_all(&l);
                Ok(Some(Flow::Next))
            }
            b"unset" => {
                for a in &args[1..] {
                    frame.vars.remove(a);
                }
                Ok(Some(Flow::Next))
            }
            b"exec" => {
                if args.len() == 1 {
                    return Ok(Some(Flow::Exit(0)));
                }
                let status = self.external(frame, &args[1..], line, col)?;
                if status != 0 {
                    self.check_status(
                        &Frame {
                            strict: true,
                            ..frame.clone()
                        },
                        &args[1..],
                        status,
                    )?;
                }
                Ok(Some(Flow::Exit(status)))
            }
            b"if" | b"then" | b"else" | b"fi" => Err(Fail::Here(
                Diagnostic::new(format!(
                    "'{}' is not supported by crossverify's kaem",
                    show(&args[0])
                ))
                .hint("no bootstrap chain uses if/then/else/fi; split the script instead"),
            )),
            _ => Ok(None),
        }
    }

    /// Runs a program: a nested kaem here, anything else through the host.
    fn external(
        &mut self,
        frame: &mut Frame,
        args: &[Vec<u8>],
        line: u32,
        col: u32,
    ) -> Result<i32, Fail> {
        let program = self.resolve(frame, &args[0])?;
        if let Some(minimal) = kaem_kind(&program) {
            return self.nested(frame, &program, args, minimal);
        }
        let step = Step {
            script: &frame.script,
            line,
            col,
            cwd: &frame.cwd,
            vars: &frame.vars,
            program,
            argv: args.iter().map(|a| os(a)).collect(),
        };
        self.host.run(&step).map_err(Fail::Outer)
    }

    fn resolve(&self, frame: &Frame, word: &[u8]) -> Result<PathBuf, Fail> {
        let name = OsStr::from_bytes(word);
        if word.contains(&b'/') || matches!(frame.dialect, Dialect::Minimal { .. }) {
            return Ok(normalize(&frame.cwd.join(name)));
        }
        let path = frame
            .vars
            .get(b"PATH".as_slice())
            .cloned()
            .unwrap_or_default();
        for dir in path.split(|&b| b == b':') {
            let dir = if dir.is_empty() {
                frame.cwd.clone()
            } else {
                frame.cwd.join(OsStr::from_bytes(dir))
            };
            let candidate = dir.join(name);
            if is_executable(&candidate) {
                return Ok(candidate);
            }
        }
        Err(Fail::Here(
            Diagnostic::new(format!("command not found: '{}'", show(word)))
                .expected("a builtin or an executable file in a PATH directory")
                .found(format!("PATH={}", show(&path)))
                .hint("give the program's path (with a '/'), or set PATH=... before it"),
        ))
    }

    fn nested(
        &mut self,
        frame: &Frame,
        program: &Path,
        args: &[Vec<u8>],
        minimal: bool,
    ) -> Result<i32, Fail> {
        if frame.depth + 1 >= MAX_DEPTH {
            return Err(Fail::Here(Diagnostic::new(format!(
                "kaem scripts nest deeper than {MAX_DEPTH} levels; is a script running itself?"
            ))));
        }
        let mut child = if minimal {
            let arch = arch_of_path(program);
            let script = match args.get(1) {
                Some(s) => PathBuf::from(os(s)),
                None => PathBuf::from(format!("kaem.{}", arch.map_or("run", Arch::name))),
            };
            Frame {
                script,
                dialect: minimal_dialect(arch),
                cwd: frame.cwd.clone(),
                vars: frame.vars.clone(),
                aliases: BTreeMap::new(),
                verbose: true,
                strict: true,
                depth: frame.depth + 1,
            }
        } else {
            let mut child = Frame {
                script: PathBuf::from("kaem.run"),
                dialect: Dialect::Full,
                cwd: frame.cwd.clone(),
                vars: frame.vars.clone(),
                aliases: BTreeMap::new(),
                verbose: false,
                // A replay is a verification: a nested kaem stops at the first failure
                // unless the script says --non-strict.
                strict: true,
                depth: frame.depth + 1,
            };
            parse_kaem_args(&args[1..], &mut child).map_err(Fail::Here)?;
            child
        };
        self.host.enter_script(&child.script, child.depth);
        let done = self.run_file(&mut child).map_err(|d| {
            Fail::Outer(d.note(format!(
                "in the kaem script run from {}",
                frame.script.display()
            )))
        })?;
        Ok(done.status)
    }
}

/// Applies full kaem's command-line options to a nested frame.
fn parse_kaem_args(args: &[Vec<u8>], child: &mut Frame) -> Result<(), Diagnostic> {
    let mut i = 0;
    while i < args.len() {
        match args[i].as_slice() {
            b"-f" | b"--file" => {
                let Some(f) = args.get(i + 1) else {
                    return Err(Diagnostic::new("kaem: option '--file' needs a value")
                        .expected("kaem --file SCRIPT"));
                };
                child.script = PathBuf::from(os(f));
                i += 1;
            }
            b"-v" | b"--verbose" => child.verbose = true,
            b"--strict" => child.strict = true,
            b"--non-strict" => child.strict = false,
            b"--warn" | b"--show-exit-codes" => {}
            other => {
                return Err(Diagnostic::new(format!(
                    "nested kaem option '{}' is not supported by the replay",
                    show(other)
                ))
                .expected(
                    "--file SCRIPT, --verbose, --strict, --non-strict, --warn, --show-exit-codes",
                )
                .hint("run the script with crossverify replay directly"))
            }
        }
        i += 1;
    }
    Ok(())
}

fn bad_set(a: &[u8]) -> Diagnostic {
    Diagnostic::new(format!("set: unknown flag '{}'", show(a)))
        .expected("-e, -x, -a (or +e, +x to turn off), e.g. set -ex")
}

/// The name and value parts of an assignment command `NAME=value`, if it is one.
fn assignment(cmd: &Command) -> Option<(Vec<u8>, Vec<Part>)> {
    let first = cmd.words.first()?;
    let Some(Part::Text {
        bytes,
        quoted: false,
    }) = first.parts.first()
    else {
        return None;
    };
    let eq = bytes.iter().position(|&b| b == b'=')?;
    let name = &bytes[..eq];
    if name.is_empty() || !name.iter().all(|&b| is_name_byte(b)) || name[0].is_ascii_digit() {
        return None;
    }
    let mut value = vec![Part::Text {
        bytes: bytes[eq + 1..].to_vec(),
        quoted: false,
    }];
    value.extend(first.parts[1..].iter().cloned());
    Some((name.to_vec(), value))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `a/./b/../c` as `a/c`, without touching the filesystem.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// What to do after a command.
enum Flow {
    Next,
    Exit(i32),
}

/// A failure, located at the current command (`Here`) or already located further in.
enum Fail {
    Here(Diagnostic),
    Outer(Diagnostic),
}

impl Fail {
    fn locate(self, here: impl FnOnce(Diagnostic) -> Diagnostic) -> Diagnostic {
        match self {
            Fail::Here(d) => here(d),
            Fail::Outer(d) => d,
        }
    }
}
