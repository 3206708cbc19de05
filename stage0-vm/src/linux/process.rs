//! The process model: runs, forks, execs and waits for emulated Linux processes, all
//! inside the host process.
//!
//! This module owns the life of a guest process: loading a program ([`elf`]) into a fresh
//! image, the loop that runs its [`Cpu`] and hands each system call to [`syscall`](super::syscall), and
//! the calls that change processes. `fork` copies the process (processor, memory,
//! descriptor table sharing the open file descriptions) and runs the child to its end
//! before the parent continues (the kaem shells fork, exec and wait at once, so this is
//! the simplest model that is exact for them); the parent then sees the child's pid and
//! `wait` returns its recorded status. `execve` replaces the image in place, or, if an
//! [`ExecHook`] claims the program, the hook runs it and the process ends with the hook's
//! status. A fault ends the process as the kernel's signal would (reported on the run's
//! stderr, status 128 + signal). Instructions are counted across all processes against
//! one `--max-steps` budget.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::cpu::{Arch, Cpu, CpuFault, Exit, FaultKind};
use super::elf::{self, ElfError, Executable};
use super::fs::{errno, Description, FdTable, OpenFiles, Stream};
use super::memory::Memory;
use super::syscall::{handle, Call, Kernel, RunIo, Task};

/// What to run.
#[derive(Clone, Debug, Default)]
pub struct RunConfig {
    /// The program (a host path, relative to `cwd`, inside `sandbox` if there is one).
    pub program: PathBuf,
    /// Its arguments, `argv[0]` included.
    pub argv: Vec<Vec<u8>>,
    /// Its environment (`NAME=value` strings).
    pub envp: Vec<Vec<u8>>,
    /// Its working directory (host path); empty means the host process's.
    pub cwd: PathBuf,
    /// Stop with [`RunError::StepLimit`] after this many instructions (all processes).
    pub max_steps: Option<u64>,
    /// One line per instruction and system call on the run's stderr.
    pub trace: bool,
    /// Confine every guest path to this directory.
    pub sandbox: Option<PathBuf>,
    /// Require the program to be of this architecture.
    pub arch: Option<Arch>,
}

/// A program a guest asked to execute, offered to an [`ExecHook`] first.
#[derive(Clone, Debug)]
pub struct ExecRequest<'a> {
    /// The host path the guest's path resolved to.
    pub path: &'a Path,
    /// The path as the guest gave it.
    pub guest_path: &'a [u8],
    /// Its arguments.
    pub argv: &'a [Vec<u8>],
    /// Its environment.
    pub envp: &'a [Vec<u8>],
    /// The guest's working directory (host path).
    pub cwd: &'a Path,
}

/// The result of a program an [`ExecHook`] ran in a guest's place.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookOutcome {
    /// Its exit status as a shell sees it (0..255; 128 + signal for a killed program).
    pub status: i32,
    /// What it wrote to stdout and stderr (written to the guest's descriptors 1 and 2).
    pub stdout: Vec<u8>,
    /// See `stdout`.
    pub stderr: Vec<u8>,
    /// Guest instructions it executed, if it was emulated (added to the run's count).
    pub instructions: u64,
}

/// Runs programs in place of guests' `execve`.
pub trait ExecHook {
    /// `Some` runs the program here (the guest process ends with its status), `None`
    /// lets the guest's exec proceed.
    fn exec(&mut self, request: &ExecRequest) -> Option<HookOutcome>;
}

/// How a program run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Still running (only while the run is under way, or when it stopped early).
    Running,
    /// `exit(code)`.
    Exited(i32),
    /// A fault or an unknown system call, as the kernel's signal would.
    Killed {
        /// The signal number.
        signal: i32,
        /// What happened.
        why: String,
    },
    /// It executed another program (the next [`ProcessInfo`] of the same pid).
    Execed,
    /// An [`ExecHook`] ran it, with this status.
    Hooked(i32),
}

/// One program run: a process from its start or exec to its exit or next exec.
#[derive(Clone, Debug)]
pub struct ProcessInfo {
    /// Process id.
    pub pid: u64,
    /// Parent's process id (0 for the first).
    pub ppid: u64,
    /// The program's host path.
    pub path: PathBuf,
    /// Its arguments.
    pub argv: Vec<Vec<u8>>,
    /// Its architecture (`None` when a hook ran it).
    pub arch: Option<Arch>,
    /// Instructions it executed.
    pub instructions: u64,
    /// How it ended.
    pub ended: Ended,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// The first process's exit status as a shell sees it (128 + signal if killed).
    pub status: i32,
    /// Instructions executed by all processes.
    pub instructions: u64,
    /// Every program run, in start order.
    pub processes: Vec<ProcessInfo>,
}

/// Why a program cannot be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// It does not exist (or the sandbox refuses its path).
    Missing,
    /// It is not a regular file with an execute bit.
    NotExecutable,
    /// Reading it failed.
    Read(String),
    /// It is not a static ELF executable of a supported machine.
    Elf(ElfError),
    /// It is one, but this build has no instruction set for its architecture.
    NoCpu(Arch),
    /// `--arch` asked for another architecture.
    WrongArch {
        /// Asked for.
        want: Arch,
        /// Found in the file.
        found: Arch,
    },
}

impl LoadError {
    /// The errno an `execve` of such a file fails with.
    pub fn errno(&self) -> i64 {
        match self {
            LoadError::Missing => errno::ENOENT,
            LoadError::NotExecutable => errno::EACCES,
            LoadError::Read(_) => errno::EIO,
            LoadError::Elf(_) | LoadError::NoCpu(_) | LoadError::WrongArch { .. } => errno::ENOEXEC,
        }
    }
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Missing => write!(f, "no such file"),
            LoadError::NotExecutable => write!(
                f,
                "not an executable file (expected a regular file with an execute permission bit)"
            ),
            LoadError::Read(e) => write!(f, "cannot read it: {e}"),
            LoadError::Elf(e) => write!(f, "not a static ELF executable: {e}"),
            LoadError::NoCpu(a) => write!(f, "this build has no {} instruction set yet", a.name()),
            LoadError::WrongArch { want, found } => write!(
                f,
                "it is a program for {}, but --arch {} was asked for",
                found.name(),
                want.name()
            ),
        }
    }
}

/// Why a run could not start or did not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The first program cannot be loaded.
    Load {
        /// Its path.
        path: PathBuf,
        /// Why.
        why: LoadError,
    },
    /// The working directory is not usable.
    Cwd {
        /// The directory.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// `max_steps` instructions ran and the run had not ended.
    StepLimit {
        /// The budget.
        max_steps: u64,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Load { path, why } => write!(f, "{}: cannot run: {why}", path.display()),
            RunError::Cwd { path, why } => write!(f, "{}: cannot use as the working directory: {why}", path.display()),
            RunError::StepLimit { max_steps } => write!(
                f,
                "the run executed its budget of {max_steps} instructions without ending (hint: raise --max-steps)"
            ),
        }
    }
}

/// Whether this build has an instruction set for `arch`.
pub fn supported(arch: Arch) -> bool {
    matches!(
        arch,
        Arch::I386 | Arch::Amd64 | Arch::Aarch64 | Arch::Riscv32 | Arch::Riscv64
    )
}

/// Whether the program at host path `path` can run in this machine: its architecture,
/// or why not (the errno an `execve` of it would fail with is [`LoadError::errno`]).
pub fn probe(path: &Path) -> Result<Arch, LoadError> {
    let (_, exe) = read_program(path)?;
    if supported(exe.arch) {
        Ok(exe.arch)
    } else {
        Err(LoadError::NoCpu(exe.arch))
    }
}

/// Runs `config.program` with the instruction set its ELF header names.
pub fn run(
    config: &RunConfig,
    io: &mut RunIo,
    hook: Option<&mut dyn ExecHook>,
) -> Result<RunOutcome, RunError> {
    let mut m = Machine::new(config, io, hook)?;
    let (host, bytes, exe) = m.first_program(config)?;
    let task = m.first_task(config);
    let status = m.start_any(
        exe,
        &bytes,
        host,
        config.argv.clone(),
        config.envp.clone(),
        task,
    )?;
    Ok(m.outcome(status))
}

/// Runs `config.program` with instruction set `C` whatever its ELF header says (tests and
/// benchmarks of one instruction set); programs it executes of another architecture run
/// with theirs.
pub fn run_with_cpu<C: Cpu>(
    config: &RunConfig,
    io: &mut RunIo,
    hook: Option<&mut dyn ExecHook>,
) -> Result<RunOutcome, RunError> {
    let mut m = Machine::new(config, io, hook)?;
    let (host, bytes, exe) = m.first_program(config)?;
    let task = m.first_task(config);
    let image =
        elf::load(&exe, &bytes, &config.argv, &config.envp).map_err(|e| RunError::Load {
            path: host.clone(),
            why: LoadError::Elf(e),
        })?;
    let info = m.new_info(&task, host, config.argv.clone(), Some(C::ARCH));
    let status = m.start::<C>(image, task, info)?;
    Ok(m.outcome(status))
}

/// A wait status: exit code in bits 8..16, or the killing signal in the low 7 bits.
fn exited(code: i32) -> i32 {
    (code & 0xff) << 8
}

/// The shell's view of a wait status.
fn shell_status(wait: i32) -> i32 {
    if wait & 0x7f == 0 {
        (wait >> 8) & 0xff
    } else {
        128 + (wait & 0x7f)
    }
}

/// The signal the kernel would send for a fault.
fn signal_of(kind: &FaultKind) -> (i32, &'static str) {
    match kind {
        FaultKind::Memory(_) => (11, "SIGSEGV"),
        FaultKind::Unimplemented { .. } => (4, "SIGILL"),
        FaultKind::DivideError => (8, "SIGFPE"),
        FaultKind::Trap { mnemonic } if mnemonic.starts_with("ud") => (4, "SIGILL"),
        FaultKind::Trap { .. } => (5, "SIGTRAP"),
    }
}

const SIGSYS: i32 = 31;

/// One guest process.
#[derive(Clone, Debug)]
struct Process<C> {
    cpu: C,
    mem: Memory,
    task: Task,
    /// Its entry in `Machine::procs`.
    info: usize,
}

/// Whether an exec replaced the image, ended the process, or failed.
enum Execed {
    Replaced,
    Ended(i32),
    Failed(i64),
}

/// Run-wide state.
struct Machine<'a, 'io, 'h> {
    k: Kernel<'a, 'io>,
    hook: Option<&'h mut dyn ExecHook>,
    steps: u64,
    max_steps: Option<u64>,
    trace: bool,
    next_pid: u64,
    procs: Vec<ProcessInfo>,
    cwd: PathBuf,
}

/// The host's user and group ids, from `/proc/self/status` (for `access`).
fn host_ids() -> Option<(u32, u32)> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u32> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        line[name.len()..].split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("Uid:")?, field("Gid:")?))
}

/// Reads and parses the program at host path `p`.
fn read_program(p: &Path) -> Result<(Vec<u8>, Executable), LoadError> {
    let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => LoadError::Missing,
        _ => LoadError::Read(e.to_string()),
    })?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(LoadError::NotExecutable);
    }
    let bytes = std::fs::read(p).map_err(|e| LoadError::Read(e.to_string()))?;
    let exe = elf::parse(&bytes).map_err(LoadError::Elf)?;
    Ok((bytes, exe))
}

impl<'a, 'io, 'h> Machine<'a, 'io, 'h> {
    fn new(
        config: &RunConfig,
        io: &'a mut RunIo<'io>,
        hook: Option<&'h mut dyn ExecHook>,
    ) -> Result<Self, RunError> {
        let root = match &config.sandbox {
            Some(d) => Some(d.canonicalize().map_err(|e| RunError::Cwd {
                path: d.clone(),
                why: format!("sandbox: {e}"),
            })?),
            None => None,
        };
        let cwd = if config.cwd.as_os_str().is_empty() {
            std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"))
        } else {
            config.cwd.clone()
        };
        let mut cwd = cwd.canonicalize().map_err(|e| RunError::Cwd {
            path: cwd.clone(),
            why: e.to_string(),
        })?;
        if let Some(r) = &root {
            if !cwd.starts_with(r) {
                cwd = r.clone();
            }
        }
        Ok(Machine {
            k: Kernel {
                io,
                files: OpenFiles::default(),
                root,
                ids: host_ids(),
            },
            hook,
            steps: 0,
            max_steps: config.max_steps,
            trace: config.trace,
            next_pid: 1000,
            procs: Vec::new(),
            cwd,
        })
    }

    fn first_program(
        &self,
        config: &RunConfig,
    ) -> Result<(PathBuf, Vec<u8>, Executable), RunError> {
        let fail = |why| RunError::Load {
            path: config.program.clone(),
            why,
        };
        let host = crate::sandbox::resolve(
            self.k.root.as_deref(),
            &self.cwd,
            config.program.as_os_str().as_bytes(),
        )
        .ok_or(fail(LoadError::Missing))?;
        let (bytes, exe) = read_program(&host).map_err(fail)?;
        if let Some(want) = config.arch {
            if want != exe.arch {
                return Err(fail(LoadError::WrongArch {
                    want,
                    found: exe.arch,
                }));
            }
        }
        Ok((host, bytes, exe))
    }

    fn first_task(&mut self, config: &RunConfig) -> Task {
        let pid = self.next_pid;
        self.next_pid += 1;
        Task {
            pid,
            ppid: 0,
            arch: config.arch.unwrap_or(Arch::I386),
            fds: FdTable::standard(&mut self.k.files),
            cwd: self.cwd.clone(),
            brk_base: 0,
            brk: 0,
            zombies: Vec::new(),
        }
    }

    fn new_info(
        &mut self,
        task: &Task,
        path: PathBuf,
        argv: Vec<Vec<u8>>,
        arch: Option<Arch>,
    ) -> usize {
        self.procs.push(ProcessInfo {
            pid: task.pid,
            ppid: task.ppid,
            path,
            argv,
            arch,
            instructions: 0,
            ended: Ended::Running,
        });
        self.procs.len() - 1
    }

    fn outcome(self, wait: i32) -> RunOutcome {
        RunOutcome {
            status: shell_status(wait),
            instructions: self.steps,
            processes: self.procs,
        }
    }

    /// Loads `exe` and runs it with its architecture's instruction set.
    fn start_any(
        &mut self,
        exe: Executable,
        bytes: &[u8],
        path: PathBuf,
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
        task: Task,
    ) -> Result<i32, RunError> {
        let fail = |why| RunError::Load {
            path: path.clone(),
            why,
        };
        if !supported(exe.arch) {
            return Err(fail(LoadError::NoCpu(exe.arch)));
        }
        let image = elf::load(&exe, bytes, &argv, &envp).map_err(|e| fail(LoadError::Elf(e)))?;
        let info = self.new_info(&task, path.clone(), argv, Some(exe.arch));
        match exe.arch {
            // One arm per instruction set of this build (and `supported` says the same).
            Arch::I386 => self.start::<super::x86::I386>(image, task, info),
            Arch::Amd64 => self.start::<super::x86::Amd64>(image, task, info),
            Arch::Riscv32 => self.start::<super::riscv::Rv32>(image, task, info),
            Arch::Riscv64 => self.start::<super::riscv::Rv64>(image, task, info),
            Arch::Aarch64 => self.start::<super::aarch64::Aarch64>(image, task, info),
        }
    }

    /// Runs a fresh image with instruction set `C`; returns its wait status.
    fn start<C: Cpu>(
        &mut self,
        image: elf::Image,
        mut task: Task,
        info: usize,
    ) -> Result<i32, RunError> {
        task.arch = C::ARCH;
        task.brk_base = image.brk_base;
        task.brk = image.brk_base;
        let p = Process {
            cpu: C::new(image.entry, image.sp),
            mem: image.mem,
            task,
            info,
        };
        self.run_process(p)
    }

    /// Runs `p` to its end; returns its wait status.
    fn run_process<C: Cpu>(&mut self, mut p: Process<C>) -> Result<i32, RunError> {
        loop {
            let left = match self.max_steps {
                Some(max) if self.steps >= max => {
                    return Err(RunError::StepLimit { max_steps: max })
                }
                Some(max) => max - self.steps,
                None => u64::MAX,
            };
            let budget = if self.trace { 1 } else { left.min(1 << 24) };
            if self.trace {
                self.trace_instruction(&p);
            }
            let (n, exit) = p.cpu.run(&mut p.mem, budget);
            self.steps += n;
            self.procs[p.info].instructions += n;
            match exit {
                Exit::Budget => {}
                Exit::Fault(f) => return Ok(self.kill(&mut p, &f)),
                Exit::Syscall => {
                    let req = p.cpu.syscall();
                    let call = handle(&mut self.k, &mut p.task, &mut p.mem, &req);
                    if self.trace {
                        let _ = writeln!(
                            self.k.io.stderr,
                            "[{}] syscall {} {:?} {:x?} -> {:?}",
                            p.task.pid, req.number, req.sys, req.args, call
                        );
                    }
                    match call {
                        Call::Return(v) => p.cpu.set_syscall_result(v),
                        Call::Exit(code) => {
                            return Ok(self.end(&mut p, exited(code), Ended::Exited(code)))
                        }
                        Call::Fork => {
                            let pid = self.fork(&mut p)?;
                            p.cpu.set_syscall_result(pid as i64);
                        }
                        Call::Execve { path, argv, envp } => {
                            match self.exec(&mut p, &path, argv, envp)? {
                                Execed::Replaced => {}
                                Execed::Ended(wait) => return Ok(wait),
                                Execed::Failed(e) => p.cpu.set_syscall_result(-e),
                            }
                        }
                        Call::Unknown | Call::Unsupported(_) => {
                            let why = match (&call, req.sys) {
                                (Call::Unsupported(why), _) => why.clone(),
                                (_, Some(sys)) => format!("system call {} ({sys:?}) on {} is not implemented by this machine", req.number, C::ARCH.name()),
                                _ => format!("unknown system call {} on {}", req.number, C::ARCH.name()),
                            };
                            let _ = writeln!(
                                self.k.io.stderr,
                                "stage0-vm: process {} ({}) stopped at {:#x}: {why}\n{}",
                                p.task.pid,
                                self.procs[p.info].path.display(),
                                p.cpu.pc(),
                                p.cpu.registers()
                            );
                            return Ok(self.end(
                                &mut p,
                                SIGSYS,
                                Ended::Killed {
                                    signal: SIGSYS,
                                    why,
                                },
                            ));
                        }
                    }
                }
            }
        }
    }

    fn trace_instruction<C: Cpu>(&mut self, p: &Process<C>) {
        let pc = p.cpu.pc();
        let bytes = p.mem.slice_upto(pc, 8).unwrap_or(&[]);
        let mut line = format!("[{}] {pc:#x}:", p.task.pid);
        for b in bytes {
            line.push_str(&format!(" {b:02x}"));
        }
        let _ = writeln!(self.k.io.stderr, "{line}");
    }

    /// Ends `p` with wait status `wait`: its files are flushed and closed.
    fn end<C>(&mut self, p: &mut Process<C>, wait: i32, ended: Ended) -> i32 {
        let _ = self.k.files.sync();
        p.task.fds.close_all();
        self.procs[p.info].ended = ended;
        wait
    }

    fn kill<C: Cpu>(&mut self, p: &mut Process<C>, f: &CpuFault) -> i32 {
        let (signal, name) = signal_of(&f.kind);
        let why = format!("{name}: {f}");
        let _ = writeln!(
            self.k.io.stderr,
            "stage0-vm: process {} ({}, {}) killed by {why}\n{}",
            p.task.pid,
            self.procs[p.info].path.display(),
            C::ARCH.name(),
            p.cpu.registers()
        );
        self.end(p, signal, Ended::Killed { signal, why })
    }

    /// Runs a copy of `p` as its child to the child's end; returns the child's pid.
    fn fork<C: Cpu>(&mut self, p: &mut Process<C>) -> Result<u64, RunError> {
        let _ = self.k.files.sync();
        let pid = self.next_pid;
        self.next_pid += 1;
        let mut child = p.clone();
        child.task.pid = pid;
        child.task.ppid = p.task.pid;
        child.task.zombies.clear();
        let parent = &self.procs[p.info];
        let (path, argv, arch) = (parent.path.clone(), parent.argv.clone(), parent.arch);
        child.info = self.new_info(&child.task, path, argv, arch);
        child.cpu.set_syscall_result(0);
        let wait = self.run_process(child)?;
        p.task.zombies.push((pid, wait));
        Ok(pid)
    }

    /// `execve` in `p`: the hook's program, a new image, or an errno.
    fn exec<C: Cpu>(
        &mut self,
        p: &mut Process<C>,
        guest: &[u8],
        argv: Vec<Vec<u8>>,
        envp: Vec<Vec<u8>>,
    ) -> Result<Execed, RunError> {
        let _ = self.k.files.sync();
        if guest.is_empty() {
            return Ok(Execed::Failed(errno::ENOENT));
        }
        let Some(host) = crate::sandbox::resolve(self.k.root.as_deref(), &p.task.cwd, guest) else {
            return Ok(Execed::Failed(errno::ENOENT));
        };
        if let Some(hook) = self.hook.as_deref_mut() {
            let request = ExecRequest {
                path: &host,
                guest_path: guest,
                argv: &argv,
                envp: &envp,
                cwd: &p.task.cwd,
            };
            if let Some(out) = hook.exec(&request) {
                self.steps += out.instructions;
                self.procs[p.info].ended = Ended::Execed;
                let info = self.new_info(&p.task, host, argv, None);
                self.procs[info].instructions = out.instructions;
                p.info = info;
                self.write_fd(&p.task, 1, &out.stdout);
                self.write_fd(&p.task, 2, &out.stderr);
                let wait = if out.status >= 128 {
                    out.status - 128
                } else {
                    exited(out.status)
                };
                return Ok(Execed::Ended(self.end(p, wait, Ended::Hooked(out.status))));
            }
        }
        let (bytes, exe) = match read_program(&host) {
            Ok(x) => x,
            Err(e) => return Ok(Execed::Failed(e.errno())),
        };
        if exe.arch != C::ARCH && !supported(exe.arch) {
            return Ok(Execed::Failed(errno::ENOEXEC));
        }
        let image = match elf::load(&exe, &bytes, &argv, &envp) {
            Ok(i) => i,
            Err(_) => return Ok(Execed::Failed(errno::ENOEXEC)),
        };
        // The point of no return: the old image is gone.
        p.task.fds.close_on_exec();
        self.procs[p.info].ended = Ended::Execed;
        if exe.arch != C::ARCH {
            let task = p.task.clone();
            p.task.fds = FdTable::default();
            return self
                .start_any(exe, &bytes, host, argv, envp, task)
                .map(Execed::Ended);
        }
        p.info = self.new_info(&p.task, host, argv, Some(C::ARCH));
        p.cpu = C::new(image.entry, image.sp);
        p.mem = image.mem;
        p.task.brk_base = image.brk_base;
        p.task.brk = image.brk_base;
        Ok(Execed::Replaced)
    }

    /// Writes a hooked program's output to the guest's descriptor `fd`.
    fn write_fd(&mut self, task: &Task, fd: u64, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let Some(desc) = task.fds.get(fd) else { return };
        match &mut *desc.borrow_mut() {
            Description::File(f) => {
                let _ = f.write(bytes);
            }
            Description::Stream(Stream::Stdout) => {
                let _ = self.k.io.stdout.write_all(bytes);
            }
            Description::Stream(Stream::Stderr) => {
                let _ = self.k.io.stderr.write_all(bytes);
            }
            Description::Stream(Stream::Stdin) => {}
        }
    }
}

/// The guest path bytes of a host path (for messages).
#[allow(dead_code)]
fn shown(p: &Path) -> &[u8] {
    OsStr::as_bytes(p.as_os_str())
}
