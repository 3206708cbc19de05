//! POSIX mode (`--POSIX-MODE`): the twelve system calls the reference maps HALCODEs to
//! (read, write, open, close, lseek, access, exit, uname, getcwd, chdir, fchdir, chmod).
//!
//! This module owns the guest's file-descriptor table (0, 1, 2 are the run's stdin,
//! stdout and stderr; files opened by the guest get 3, 4, ...), its working directory
//! (virtual: the host process never changes directory) and the `--sandbox DIR`
//! confinement. Without a sandbox the guest may open any host path it names, relative to
//! the working directory, exactly as the reference; with one, paths (absolute or relative)
//! resolve inside DIR and may not leave it (by `..` or through a symbolic link); a refused
//! path fails like a missing file (-1). Every buffer and path is bounds-checked against
//! memory: the reference reads or writes outside its buffer there, we fault instead.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;

use crate::fault::{Fault, Stop};
use crate::streams::Io;

/// The guest memory a POSIX call reads and writes (the machine's memory implements it,
/// so this module needs nothing of the machine's).
pub(crate) trait GuestMemory {
    /// Every byte of memory.
    fn bytes(&self) -> &[u8];
    /// Copies `data` to `addr` (known to be inside memory), invalidating decoded code.
    fn write_bytes(&mut self, addr: u32, data: &[u8]);
}

/// What a POSIX call sees of the machine: the registers, memory, the POSIX state and
/// the instruction count (for fault messages).
pub(crate) struct Guest<'a> {
    pub regs: &'a mut [u32; 16],
    pub mem: &'a mut dyn GuestMemory,
    pub posix: &'a mut Posix,
    pub steps: u64,
}

const ERR: u32 = u32::MAX;

struct Handle {
    file: File,
    path: PathBuf,
}

/// The POSIX-mode state of one machine.
pub(crate) struct Posix {
    fds: Vec<Option<Handle>>,
    /// Canonical sandbox root, if confined.
    root: Option<PathBuf>,
    /// Host path of the guest's working directory (inside `root` when confined).
    cwd: Option<PathBuf>,
}

impl Posix {
    pub fn new(sandbox: Option<PathBuf>) -> Posix {
        let root = sandbox.map(|d| d.canonicalize().unwrap_or(d));
        Posix {
            fds: Vec::new(),
            cwd: root.clone(),
            root,
        }
    }

    fn cwd(&mut self) -> PathBuf {
        if self.cwd.is_none() {
            self.cwd = Some(std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")));
        }
        self.cwd.clone().unwrap_or_default()
    }

    /// The host path for guest path `p`, or `None` when the sandbox refuses it.
    fn resolve(&mut self, p: &[u8]) -> Option<PathBuf> {
        let cwd = self.cwd();
        crate::sandbox::resolve(self.root.as_deref(), &cwd, p)
    }

    fn shown_cwd(&mut self) -> Vec<u8> {
        let cwd = self.cwd();
        crate::sandbox::shown(self.root.as_deref(), &cwd)
    }

    fn handle(&mut self, fd: u32) -> Option<&mut Handle> {
        let i = (fd as usize).checked_sub(3)?;
        self.fds.get_mut(i)?.as_mut()
    }

    fn add(&mut self, h: Handle) -> u32 {
        let i = match self.fds.iter().position(Option::is_none) {
            Some(i) => {
                self.fds[i] = Some(h);
                i
            }
            None => {
                self.fds.push(Some(h));
                self.fds.len() - 1
            }
        };
        i as u32 + 3
    }
}

fn outside(m: &Guest, call: &'static str, addr: u32) -> Fault {
    Fault::PosixOutside {
        steps: m.steps,
        call,
        addr,
    }
}

/// The memory range `[addr, addr + len)`, or a fault if it is not all inside memory.
fn span(m: &Guest, call: &'static str, addr: u32, len: u32) -> Result<usize, Fault> {
    if u64::from(addr) + u64::from(len) <= m.mem.bytes().len() as u64 {
        Ok(addr as usize)
    } else {
        Err(outside(m, call, addr))
    }
}

/// The NUL-terminated string at `addr`.
fn c_string(m: &Guest, call: &'static str, addr: u32) -> Result<Vec<u8>, Fault> {
    let bytes = m
        .mem
        .bytes()
        .get(addr as usize..)
        .ok_or_else(|| outside(m, call, addr))?;
    let end = bytes
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| outside(m, call, addr))?;
    Ok(bytes[..end].to_vec())
}

/// Executes POSIX call `code` (known to be in the table).
pub(crate) fn call(m: &mut Guest, code: u32, io: &mut Io) -> Result<Option<Stop>, Fault> {
    let [r0, r1, r2] = [m.regs[0], m.regs[1], m.regs[2]];
    match code {
        0x00 => {
            if r2 as usize >= m.mem.bytes().len() {
                return Err(Fault::PosixReadTooLarge);
            }
            let at = span(m, "read", r1, r2)?;
            let mut buf = vec![0u8; r2 as usize];
            let got = match r0 {
                0 => io.stdin.read(&mut buf).ok(),
                1 | 2 => None,
                fd => m.posix.handle(fd).and_then(|h| h.file.read(&mut buf).ok()),
            };
            m.regs[0] = match got {
                Some(n) => {
                    m.mem.write_bytes(at as u32, &buf[..n]);
                    n as u32
                }
                None => ERR,
            };
        }
        0x01 => {
            let at = span(m, "write", r1, r2)?;
            let data = m.mem.bytes()[at..at + r2 as usize].to_vec();
            let ok = match r0 {
                0 => false,
                1 => io.stdout.write_all(&data).is_ok(),
                2 => io.stderr.write_all(&data).is_ok(),
                fd => m
                    .posix
                    .handle(fd)
                    .is_some_and(|h| h.file.write_all(&data).is_ok()),
            };
            m.regs[0] = if ok { r2 } else { ERR };
        }
        0x02 => {
            let path = c_string(m, "open", r0)?;
            m.regs[0] = match m.posix.resolve(&path) {
                None => ERR,
                Some(host) => {
                    let mut o = OpenOptions::new();
                    match r1 & 3 {
                        0 => o.read(true),
                        1 => o.write(true),
                        _ => o.read(true).write(true),
                    };
                    if r1 & 0o100 != 0 {
                        if r1 & 0o200 != 0 {
                            o.create_new(true);
                        } else {
                            o.create(true);
                        }
                    }
                    if r1 & 0o1000 != 0 {
                        o.truncate(true);
                    }
                    if r1 & 0o2000 != 0 {
                        o.append(true);
                    }
                    o.mode(r2 & 0o7777);
                    match o.open(&host) {
                        Ok(file) => m.posix.add(Handle { file, path: host }),
                        Err(_) => ERR,
                    }
                }
            };
        }
        0x03 => {
            if let Some(i) = (r0 as usize).checked_sub(3) {
                if let Some(slot) = m.posix.fds.get_mut(i) {
                    *slot = None;
                }
            }
        }
        0x08 => {
            let whence = match r2 {
                0 => Some(SeekFrom::Start(u64::from(r1))),
                1 => Some(SeekFrom::Current(i64::from(r1))),
                2 => Some(SeekFrom::End(i64::from(r1))),
                _ => None,
            };
            m.regs[0] = match (m.posix.handle(r0), whence) {
                (Some(h), Some(w)) => h.file.seek(w).map_or(ERR, |p| p as u32),
                _ => ERR,
            };
        }
        0x15 => {
            let path = c_string(m, "access", r0)?;
            m.regs[0] = match m.posix.resolve(&path).map(std::fs::metadata) {
                Some(Ok(meta)) => {
                    let mode = meta.permissions().mode();
                    let want = r1 & 7;
                    if want == 0 || (mode >> 6) & want == want {
                        0
                    } else {
                        ERR
                    }
                }
                _ => ERR,
            };
        }
        0x3C => return Ok(Some(Stop::Exit(r0 as u8))),
        0x3F => {
            let fields: [&[u8]; 5] = [
                b"sysname",
                b"nodename",
                b"release",
                b"version",
                b"knight32-base",
            ];
            span(m, "uname", r0, 260 + 13)?;
            for (k, s) in fields.iter().enumerate() {
                m.mem.write_bytes(r0 + 65 * k as u32, s);
            }
        }
        0x4F => {
            let cwd = m.posix.shown_cwd();
            if cwd.len() + 1 > r1 as usize {
                m.regs[0] = 0;
            } else {
                span(m, "getcwd", r0, cwd.len() as u32)?;
                m.mem.write_bytes(r0, &cwd);
            }
        }
        0x50 => {
            let path = c_string(m, "chdir", r0)?;
            m.regs[0] = match m.posix.resolve(&path) {
                Some(p) if p.is_dir() => {
                    m.posix.cwd = Some(p);
                    0
                }
                _ => ERR,
            };
        }
        0x51 => {
            let target = m.posix.handle(r0).map(|h| h.path.clone());
            m.regs[0] = match target {
                Some(p) if p.is_dir() => {
                    m.posix.cwd = Some(p);
                    0
                }
                _ => ERR,
            };
        }
        0x5A => {
            let path = c_string(m, "chmod", r0)?;
            if let Some(p) = m.posix.resolve(&path) {
                let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(r1 & 0o7777));
            }
        }
        _ => {}
    }
    Ok(None)
}

#[cfg(test)]
impl Posix {
    pub fn resolve_for_test(&mut self, p: &[u8]) -> Option<PathBuf> {
        self.resolve(p)
    }
}
