//! The system calls of a guest process, with Linux semantics and errno values.
//!
//! This module owns one system call at a time: [`handle`] takes the request the guest
//! made, the process's kernel-side state ([`Task`]: descriptors, working directory,
//! program break, finished children) and the run-wide state ([`Kernel`]: the standard
//! streams, the open-file registry, the sandbox), performs file, memory and information
//! calls itself, and hands the calls that change the process itself (exit, fork, execve)
//! back to the process model as a [`Call`]. Every guest pointer is bounds-checked
//! (`EFAULT`), every path resolves against the task's own working directory (the host
//! process never changes directory), and the program break grows a memory region
//! without any host system call.

use std::io::{Read, SeekFrom, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::cpu::{Arch, Sys, SyscallRequest};
use super::elf::PAGE;
use super::fs::{errno::*, host_errno, Description, FdTable, HostFile, OpenFiles, Stream};
use super::memory::{Memory, MAX_REGION};

/// The run's standard streams, which the guests' descriptors 0, 1 and 2 start as.
pub struct RunIo<'a> {
    /// Guest stdin.
    pub stdin: &'a mut dyn Read,
    /// Guest stdout.
    pub stdout: &'a mut dyn Write,
    /// Guest stderr; also where the machine reports faults.
    pub stderr: &'a mut dyn Write,
}

/// Run-wide kernel state.
pub struct Kernel<'a, 'io> {
    /// The standard streams.
    pub io: &'a mut RunIo<'io>,
    /// Every open file description.
    pub files: OpenFiles,
    /// The canonical sandbox root, if confined.
    pub root: Option<PathBuf>,
    /// The host user and group ids (for `access`), if known.
    pub ids: Option<(u32, u32)>,
}

/// The kernel-side state of one process.
#[derive(Clone, Debug)]
pub struct Task {
    /// Its process id.
    pub pid: u64,
    /// Its parent's.
    pub ppid: u64,
    /// Its architecture (the calling convention and flag values).
    pub arch: Arch,
    /// Its descriptors.
    pub fds: FdTable,
    /// Its working directory (host path, canonical).
    pub cwd: PathBuf,
    /// The heap region's base (the initial break).
    pub brk_base: u64,
    /// The current break.
    pub brk: u64,
    /// Finished children not yet waited for: pid and wait status.
    pub zombies: Vec<(u64, i32)>,
}

/// What a system call asks of the process model.
#[derive(Debug, PartialEq, Eq)]
pub enum Call {
    /// Done: write this into the result register.
    Return(i64),
    /// The process exits with this status (0..255).
    Exit(i32),
    /// Fork (the child returns 0, the parent the child's pid).
    Fork,
    /// Replace the program.
    Execve {
        /// The path as the guest gave it.
        path: Vec<u8>,
        /// Its argument strings.
        argv: Vec<Vec<u8>>,
        /// Its environment strings.
        envp: Vec<Vec<u8>>,
    },
    /// A call this machine does not implement: stops the guest.
    Unknown,
    /// A call used in a way this machine does not implement: stops the guest.
    Unsupported(String),
}

const AT_FDCWD: i32 = -100;
const AT_REMOVEDIR: u64 = 0x200;
const O_ACCMODE: u64 = 3;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
const O_CLOEXEC: u64 = 0o2000000;
const SIGCHLD: u64 = 17;
const PATH_MAX: usize = 4096;

fn o_directory(arch: Arch) -> u64 {
    if arch == Arch::Aarch64 {
        0o40000
    } else {
        0o200000
    }
}

/// Whether a call's result went through `Result<i64, errno>`.
fn ret(r: Result<i64, i64>) -> Call {
    Call::Return(r.unwrap_or_else(|e| -e))
}

/// A signed `int`/`off_t` argument of the guest's word width.
fn signed(arch: Arch, a: u64) -> i64 {
    if arch.word_bytes() == 4 {
        i64::from(a as u32 as i32)
    } else {
        a as i64
    }
}

/// A descriptor argument (`unsigned int` or `int` in the kernel: the low 32 bits).
fn fd_arg(a: u64) -> u64 {
    u64::from(a as u32)
}

/// Performs `req` for the process `task` with memory `mem`.
pub fn handle(k: &mut Kernel, t: &mut Task, mem: &mut Memory, req: &SyscallRequest) -> Call {
    let a = req.args;
    let Some(sys) = req.sys else {
        return Call::Unknown;
    };
    let arch = t.arch;
    match sys {
        Sys::Read => ret(read(k, t, mem, a[0], a[1], a[2])),
        Sys::Write => ret(write(k, t, mem, a[0], a[1], a[2])),
        Sys::Open => ret(open(k, t, mem, AT_FDCWD as u64, a[0], a[1], a[2])),
        Sys::OpenAt => ret(open(k, t, mem, a[0], a[1], a[2], a[3])),
        Sys::Close => ret(t.fds.close(fd_arg(a[0])).map(|()| 0)),
        Sys::Lseek => ret(lseek(t, fd_arg(a[0]), signed(arch, a[1]), a[2])),
        Sys::Llseek => {
            let off = ((a[1] & 0xffff_ffff) << 32 | (a[2] & 0xffff_ffff)) as i64;
            ret(lseek(t, fd_arg(a[0]), off, a[4]).and_then(|pos| {
                mem.write_u64(a[3], pos as u64).map_err(|_| EFAULT)?;
                Ok(0)
            }))
        }
        Sys::Brk => Call::Return(brk(t, mem, a[0]) as i64),
        Sys::Exit | Sys::ExitGroup => Call::Exit((a[0] & 0xff) as i32),
        Sys::Fork => Call::Fork,
        Sys::Clone => {
            if a[0] & !0xff == 0 && a[0] & 0xff == SIGCHLD {
                Call::Fork
            } else {
                Call::Unsupported(format!(
                    "clone with flags {:#x}: only fork-style clone (SIGCHLD) is implemented",
                    a[0]
                ))
            }
        }
        Sys::Execve => match exec_args(arch, mem, a[0], a[1], a[2]) {
            Ok(call) => call,
            Err(e) => Call::Return(-e),
        },
        Sys::Waitpid | Sys::Wait4 => ret(wait(t, mem, signed(arch, a[0]), a[1], a[3], sys)),
        Sys::Waitid => ret(waitid(t, mem, a[0], a[1], a[2])),
        Sys::Chdir => ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| chdir(t, &p))),
        Sys::Fchdir => ret(fchdir(t, fd_arg(a[0]))),
        Sys::Chmod => ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| chmod(&p, a[1]))),
        Sys::FchmodAt => ret(path(k, t, mem, a[0], a[1]).and_then(|p| chmod(&p, a[2]))),
        Sys::Fchmod => ret(fchmod(t, fd_arg(a[0]), a[1])),
        Sys::Access => {
            ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| access(k, &p, a[1])))
        }
        Sys::FaccessAt => ret(path(k, t, mem, a[0], a[1]).and_then(|p| access(k, &p, a[2]))),
        Sys::Unlink => ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| unlink(&p, false))),
        Sys::UnlinkAt => {
            ret(path(k, t, mem, a[0], a[1]).and_then(|p| unlink(&p, a[2] & AT_REMOVEDIR != 0)))
        }
        Sys::Mkdir => ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| mkdir(&p, a[1]))),
        Sys::MkdirAt => ret(path(k, t, mem, a[0], a[1]).and_then(|p| mkdir(&p, a[2]))),
        Sys::Rmdir => ret(path(k, t, mem, AT_FDCWD as u64, a[0]).and_then(|p| unlink(&p, true))),
        Sys::Getcwd => ret(getcwd(k, t, mem, a[0], a[1])),
        Sys::Uname => ret(uname(arch, mem, a[0])),
        Sys::Getpid => Call::Return(t.pid as i64),
        Sys::Ioctl => Call::Return(if t.fds.get(fd_arg(a[0])).is_some() {
            -ENOTTY
        } else {
            -EBADF
        }),
    }
}

fn read(
    k: &mut Kernel,
    t: &mut Task,
    mem: &mut Memory,
    fd: u64,
    buf: u64,
    count: u64,
) -> Result<i64, i64> {
    let desc = t.fds.get(fd_arg(fd)).ok_or(EBADF)?.clone();
    let refill = match &*desc.borrow() {
        Description::File(f) => {
            if !f.readable {
                return Err(EBADF);
            }
            f.needs_refill()
        }
        Description::Stream(Stream::Stdin) => false,
        Description::Stream(_) => return Err(EBADF),
    };
    if count == 0 {
        return Ok(0);
    }
    if refill {
        // Another description may hold writes to this file.
        k.files.sync()?;
    }
    let dst = mem
        .slice_upto_mut(buf, count.min(0x7fff_f000))
        .map_err(|_| EFAULT)?;
    let n = match &mut *desc.borrow_mut() {
        Description::File(f) => f.read(dst)?,
        Description::Stream(_) => k.io.stdin.read(dst).map_err(|e| host_errno(&e))?,
    };
    Ok(n as i64)
}

fn write(
    k: &mut Kernel,
    t: &mut Task,
    mem: &Memory,
    fd: u64,
    buf: u64,
    count: u64,
) -> Result<i64, i64> {
    let desc = t.fds.get(fd_arg(fd)).ok_or(EBADF)?;
    if count == 0 {
        return Ok(0);
    }
    let src = mem.slice(buf, count).map_err(|_| EFAULT)?;
    let mut d = desc.borrow_mut();
    let n = match &mut *d {
        Description::File(f) if f.writable => f.write(src)?,
        Description::File(_) | Description::Stream(Stream::Stdin) => return Err(EBADF),
        Description::Stream(Stream::Stdout) => {
            k.io.stdout.write_all(src).map_err(|e| host_errno(&e))?;
            src.len()
        }
        Description::Stream(Stream::Stderr) => {
            k.io.stderr.write_all(src).map_err(|e| host_errno(&e))?;
            src.len()
        }
    };
    Ok(n as i64)
}

/// The directory a `*at` call's relative path starts from.
fn base_dir(t: &Task, dirfd: u64) -> Result<PathBuf, i64> {
    let d = dirfd as u32 as i32;
    if d == AT_FDCWD {
        return Ok(t.cwd.clone());
    }
    let desc = t.fds.get(u64::from(d as u32)).ok_or(EBADF)?;
    match &*desc.borrow() {
        Description::File(f) if f.is_dir => Ok(f.path.clone()),
        _ => Err(ENOTDIR),
    }
}

/// The host path for the guest path at `ptr`, relative to `dirfd`.
fn path(k: &Kernel, t: &Task, mem: &Memory, dirfd: u64, ptr: u64) -> Result<PathBuf, i64> {
    let bytes = mem.slice_upto(ptr, PATH_MAX as u64).map_err(|_| EFAULT)?;
    let Some(n) = bytes.iter().position(|&b| b == 0) else {
        return Err(if bytes.len() >= PATH_MAX {
            ENAMETOOLONG
        } else {
            EFAULT
        });
    };
    let guest = &bytes[..n];
    if guest.is_empty() {
        return Err(ENOENT);
    }
    let base = if guest[0] == b'/' {
        t.cwd.clone()
    } else {
        base_dir(t, dirfd)?
    };
    crate::sandbox::resolve(k.root.as_deref(), &base, guest).ok_or(ENOENT)
}

#[allow(clippy::too_many_arguments)]
fn open(
    k: &mut Kernel,
    t: &mut Task,
    mem: &Memory,
    dirfd: u64,
    ptr: u64,
    flags: u64,
    mode: u64,
) -> Result<i64, i64> {
    let p = path(k, t, mem, dirfd, ptr)?;
    k.files.sync()?;
    let mut o = std::fs::OpenOptions::new();
    let (readable, writable) = match flags & O_ACCMODE {
        0 => (true, false),
        1 => (false, true),
        2 => (true, true),
        _ => return Err(EINVAL),
    };
    o.read(readable).write(writable);
    // These four have the same values on every Linux host and guest here; passing them
    // through avoids std's stricter checks (Linux allows O_RDONLY | O_CREAT).
    o.custom_flags((flags & (O_CREAT | O_EXCL | O_TRUNC | O_APPEND)) as i32);
    o.mode((mode & 0o7777) as u32);
    let file = o.open(&p).map_err(|e| host_errno(&e))?;
    let mut f = HostFile::new(file, p);
    f.readable = readable;
    f.writable = writable;
    if flags & o_directory(t.arch) != 0 && !f.is_dir {
        return Err(ENOTDIR);
    }
    if f.is_dir && writable {
        return Err(EISDIR);
    }
    let desc = k.files.add(Description::File(f));
    t.fds.add(desc, flags & O_CLOEXEC != 0).map(|fd| fd as i64)
}

fn lseek(t: &mut Task, fd: u64, off: i64, whence: u64) -> Result<i64, i64> {
    let desc = t.fds.get(fd).ok_or(EBADF)?;
    let to = match whence {
        0 => SeekFrom::Start(u64::try_from(off).map_err(|_| EINVAL)?),
        1 => SeekFrom::Current(off),
        2 => SeekFrom::End(off),
        _ => return Err(EINVAL),
    };
    match &mut *desc.borrow_mut() {
        Description::File(f) => f.seek(to).map(|p| p as i64),
        Description::Stream(_) => Err(ESPIPE),
    }
}

/// `brk`: the new break, or the current one when the request is refused (as Linux).
fn brk(t: &mut Task, mem: &mut Memory, want: u64) -> u64 {
    if want < t.brk_base || want - t.brk_base > MAX_REGION {
        return t.brk;
    }
    let pages = |b: u64| (b - t.brk_base).div_ceil(PAGE) * PAGE;
    if pages(want) != pages(t.brk) && mem.resize(t.brk_base, pages(want)).is_err() {
        return t.brk;
    }
    t.brk = want;
    want
}

/// Reads a NULL-terminated array of string pointers.
fn string_array(arch: Arch, mem: &Memory, mut at: u64) -> Result<Vec<Vec<u8>>, i64> {
    let mut out = Vec::new();
    if at == 0 {
        return Ok(out);
    }
    let w = arch.word_bytes();
    loop {
        let p = if w == 4 {
            u64::from(mem.read_u32(at).map_err(|_| EFAULT)?)
        } else {
            mem.read_u64(at).map_err(|_| EFAULT)?
        };
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= 0x10000 {
            return Err(E2BIG);
        }
        out.push(mem.c_string(p, 128 * 1024).map_err(|_| EFAULT)?.to_vec());
        at += w;
    }
}

fn exec_args(arch: Arch, mem: &Memory, path: u64, argv: u64, envp: u64) -> Result<Call, i64> {
    let path = mem.c_string(path, PATH_MAX).map_err(|_| EFAULT)?.to_vec();
    Ok(Call::Execve {
        path,
        argv: string_array(arch, mem, argv)?,
        envp: string_array(arch, mem, envp)?,
    })
}

fn wait(
    t: &mut Task,
    mem: &mut Memory,
    pid: i64,
    status: u64,
    rusage: u64,
    sys: Sys,
) -> Result<i64, i64> {
    let i = t
        .zombies
        .iter()
        .position(|(p, _)| pid <= 0 || *p as i64 == pid)
        .ok_or(ECHILD)?;
    let (child, code) = t.zombies[i];
    if status != 0 {
        mem.write_u32(status, code as u32).map_err(|_| EFAULT)?;
    }
    if sys == Sys::Wait4 && rusage != 0 {
        let len = 18 * t.arch.word_bytes();
        if let Ok(r) = mem.slice_mut(rusage, len) {
            r.fill(0);
        }
    }
    t.zombies.remove(i);
    Ok(child as i64)
}

/// waitid(idtype, id, info, options) for P_ALL (0) and P_PID (1): fills the siginfo_t
/// (si_signo SIGCHLD, si_code CLD_EXITED or CLD_KILLED, si_pid, si_status, at the
/// kernel's offsets for the task's word size) and returns 0.
fn waitid(t: &mut Task, mem: &mut Memory, idtype: u64, id: u64, info: u64) -> Result<i64, i64> {
    let pid = match idtype {
        0 => -1,
        1 => id as i64,
        _ => return Err(EINVAL),
    };
    let i = t
        .zombies
        .iter()
        .position(|(p, _)| pid <= 0 || *p as i64 == pid)
        .ok_or(ECHILD)?;
    let (child, wait) = t.zombies[i];
    if info != 0 {
        let (code, status) = if wait & 0x7f == 0 {
            (1, (wait >> 8) & 0xff)
        } else {
            (2, wait & 0x7f)
        };
        // si_signo, si_errno, si_code, then the union (which holds pointers, so it is at
        // 16 on 64-bit and at 12 on 32-bit): _pid, _uid, _status.
        let union = if t.arch.word_bytes() == 8 { 16 } else { 12 };
        let siginfo = mem.slice_mut(info, 128).map_err(|_| EFAULT)?;
        siginfo.fill(0);
        let mut put = |at: usize, v: u32| siginfo[at..at + 4].copy_from_slice(&v.to_le_bytes());
        put(0, SIGCHLD as u32);
        put(8, code as u32);
        put(union, child as u32);
        put(union + 8, status as u32);
    }
    t.zombies.remove(i);
    Ok(0)
}

fn chdir(t: &mut Task, p: &Path) -> Result<i64, i64> {
    let real = p.canonicalize().map_err(|e| host_errno(&e))?;
    if !real.is_dir() {
        return Err(ENOTDIR);
    }
    t.cwd = real;
    Ok(0)
}

fn fchdir(t: &mut Task, fd: u64) -> Result<i64, i64> {
    let dir = match &*t.fds.get(fd).ok_or(EBADF)?.borrow() {
        Description::File(f) if f.is_dir => f.path.clone(),
        _ => return Err(ENOTDIR),
    };
    chdir(t, &dir)
}

fn chmod(p: &Path, mode: u64) -> Result<i64, i64> {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode((mode & 0o7777) as u32))
        .map(|()| 0)
        .map_err(|e| host_errno(&e))
}

fn fchmod(t: &mut Task, fd: u64, mode: u64) -> Result<i64, i64> {
    match &mut *t.fds.get(fd).ok_or(EBADF)?.borrow_mut() {
        Description::File(f) => f.set_mode((mode & 0o7777) as u32).map(|()| 0),
        Description::Stream(_) => Err(EPERM),
    }
}

/// `access`: existence, then the permission bits for the host user (root may read and
/// write anything, and execute what has any execute bit).
fn access(k: &mut Kernel, p: &Path, mode: u64) -> Result<i64, i64> {
    k.files.sync()?;
    let meta = std::fs::metadata(p).map_err(|e| host_errno(&e))?;
    let want = (mode & 7) as u32;
    if want == 0 {
        return Ok(0);
    }
    let bits = meta.permissions().mode();
    let granted = match k.ids {
        Some((0, _)) => {
            6 | if bits & 0o111 != 0 || meta.is_dir() {
                1
            } else {
                0
            }
        }
        Some((uid, gid)) => {
            if meta.uid() == uid {
                (bits >> 6) & 7
            } else if meta.gid() == gid {
                (bits >> 3) & 7
            } else {
                bits & 7
            }
        }
        None => (bits >> 6) & 7,
    };
    if granted & want == want {
        Ok(0)
    } else {
        Err(EACCES)
    }
}

fn unlink(p: &Path, dir: bool) -> Result<i64, i64> {
    let r = if dir {
        std::fs::remove_dir(p)
    } else {
        std::fs::remove_file(p)
    };
    r.map(|()| 0).map_err(|e| host_errno(&e))
}

fn mkdir(p: &Path, mode: u64) -> Result<i64, i64> {
    std::fs::DirBuilder::new()
        .mode((mode & 0o7777) as u32)
        .create(p)
        .map(|()| 0)
        .map_err(|e| host_errno(&e))
}

fn getcwd(k: &Kernel, t: &Task, mem: &mut Memory, buf: u64, size: u64) -> Result<i64, i64> {
    let mut s = crate::sandbox::shown(k.root.as_deref(), &t.cwd);
    s.push(0);
    if (s.len() as u64) > size {
        return Err(ERANGE);
    }
    mem.slice_mut(buf, s.len() as u64)
        .map_err(|_| EFAULT)?
        .copy_from_slice(&s);
    Ok(s.len() as i64)
}

/// `uname`: a fixed, reproducible answer naming the guest's machine.
fn uname(arch: Arch, mem: &mut Memory, buf: u64) -> Result<i64, i64> {
    let machine: &[u8] = match arch {
        Arch::I386 => b"i686",
        Arch::Amd64 => b"x86_64",
        Arch::Aarch64 => b"aarch64",
        Arch::Riscv32 => b"riscv32",
        Arch::Riscv64 => b"riscv64",
    };
    let fields: [&[u8]; 6] = [
        b"Linux",
        b"hexroot",
        b"6.1.0-hexroot",
        b"#1 hexroot",
        machine,
        b"(none)",
    ];
    let out = mem.slice_mut(buf, 6 * 65).map_err(|_| EFAULT)?;
    out.fill(0);
    for (i, f) in fields.iter().enumerate() {
        out[i * 65..i * 65 + f.len()].copy_from_slice(f);
    }
    Ok(0)
}
