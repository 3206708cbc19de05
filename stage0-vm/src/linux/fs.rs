//! Open files of the guest processes: file descriptors, open file descriptions with
//! their buffers, and the Linux errno values.
//!
//! This module owns what the kernel's file table would: a process's [`FdTable`] maps
//! descriptor numbers to shared [`Description`]s (fork copies the table and shares the
//! descriptions, so file offsets are shared as on Linux); a description is one of the
//! run's standard streams or a host file. Host files are buffered so that the chains'
//! one-byte reads and writes do not cost a host system call each: reads fill a 64 KiB
//! buffer, writes collect in one; [`OpenFiles::sync`] writes every pending buffer back
//! (the process layer calls it before anything another program or path-based call could
//! observe: open, exec, fork, exit, unlink, chmod, access, ...), and when a write reaches
//! a file, other descriptions' read-ahead of the same file is dropped. What is not
//! modelled: two descriptions of one file used for reading and writing at the same time
//! without any system call in between that syncs (the chains never do this).

use std::cell::RefCell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::rc::{Rc, Weak};

/// Linux errno values (the same on every architecture emulated here).
#[allow(missing_docs)]
pub mod errno {
    pub const EPERM: i64 = 1;
    pub const ENOENT: i64 = 2;
    pub const EIO: i64 = 5;
    pub const E2BIG: i64 = 7;
    pub const ENOEXEC: i64 = 8;
    pub const EBADF: i64 = 9;
    pub const ECHILD: i64 = 10;
    pub const ENOMEM: i64 = 12;
    pub const EACCES: i64 = 13;
    pub const EFAULT: i64 = 14;
    pub const EEXIST: i64 = 17;
    pub const ENOTDIR: i64 = 20;
    pub const EISDIR: i64 = 21;
    pub const EINVAL: i64 = 22;
    pub const EMFILE: i64 = 24;
    pub const ENOTTY: i64 = 25;
    pub const ESPIPE: i64 = 29;
    pub const ERANGE: i64 = 34;
    pub const ENAMETOOLONG: i64 = 36;
    pub const ENOSYS: i64 = 38;
}

/// The errno for a host I/O error (a Linux host's raw error is the guest's too).
pub fn host_errno(e: &std::io::Error) -> i64 {
    if let Some(n) = e.raw_os_error() {
        return i64::from(n);
    }
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => errno::ENOENT,
        K::PermissionDenied => errno::EACCES,
        K::AlreadyExists => errno::EEXIST,
        K::InvalidInput => errno::EINVAL,
        _ => errno::EIO,
    }
}

/// Buffer size for reads and writes of host files.
const BUFFER: usize = 64 * 1024;

/// One of the run's standard streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The run's stdin.
    Stdin,
    /// The run's stdout.
    Stdout,
    /// The run's stderr.
    Stderr,
}

/// A host file opened by a guest.
#[derive(Debug)]
pub struct HostFile {
    file: File,
    /// The host path it was opened by (for `fchdir`).
    pub path: PathBuf,
    /// Device and inode, to find other descriptions of the same file.
    id: (u64, u64),
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Opened for reading (`O_RDONLY` or `O_RDWR`).
    pub readable: bool,
    /// Opened for writing (`O_WRONLY` or `O_RDWR`).
    pub writable: bool,
    /// Read-ahead: `rbuf[rpos..]` is what the guest reads next.
    rbuf: Vec<u8>,
    rpos: usize,
    /// Writes not yet on the host.
    wbuf: Vec<u8>,
}

/// An open file description.
#[derive(Debug)]
pub enum Description {
    /// A standard stream of the run.
    Stream(Stream),
    /// A host file.
    File(HostFile),
}

impl HostFile {
    /// Wraps a freshly opened host file.
    pub fn new(file: File, path: PathBuf) -> HostFile {
        let meta = file.metadata().ok();
        HostFile {
            id: meta.as_ref().map_or((0, 0), |m| (m.dev(), m.ino())),
            is_dir: meta.as_ref().is_some_and(|m| m.is_dir()),
            file,
            path,
            readable: true,
            writable: true,
            rbuf: Vec::new(),
            rpos: 0,
            wbuf: Vec::new(),
        }
    }

    /// Writes pending output to the host; true if there was some.
    pub fn flush(&mut self) -> Result<bool, i64> {
        if self.wbuf.is_empty() {
            return Ok(false);
        }
        let r = self.file.write_all(&self.wbuf);
        self.wbuf.clear();
        r.map(|()| true).map_err(|e| host_errno(&e))
    }

    /// Gives back read-ahead: the host offset becomes the guest's offset again.
    fn drop_read_ahead(&mut self) -> Result<(), i64> {
        let ahead = (self.rbuf.len() - self.rpos) as i64;
        self.rbuf.clear();
        self.rpos = 0;
        if ahead > 0 {
            self.file
                .seek(SeekFrom::Current(-ahead))
                .map_err(|e| host_errno(&e))?;
        }
        Ok(())
    }

    /// Reads into `dst` (refilling the buffer with one host read when it is empty).
    pub fn read(&mut self, dst: &mut [u8]) -> Result<usize, i64> {
        if self.is_dir {
            return Err(errno::EISDIR);
        }
        self.flush()?;
        if self.rpos == self.rbuf.len() {
            self.rbuf.clear();
            self.rpos = 0;
            if dst.len() >= BUFFER {
                return self.file.read(dst).map_err(|e| host_errno(&e));
            }
            self.rbuf.resize(BUFFER, 0);
            let n = self.file.read(&mut self.rbuf);
            let n = n.map_err(|e| {
                self.rbuf.clear();
                host_errno(&e)
            })?;
            self.rbuf.truncate(n);
        }
        let n = dst.len().min(self.rbuf.len() - self.rpos);
        dst[..n].copy_from_slice(&self.rbuf[self.rpos..self.rpos + n]);
        self.rpos += n;
        Ok(n)
    }

    /// Whether the next read needs a host read (so pending writes elsewhere must land).
    pub fn needs_refill(&self) -> bool {
        self.rpos == self.rbuf.len()
    }

    /// Buffers `src` for writing.
    pub fn write(&mut self, src: &[u8]) -> Result<usize, i64> {
        if self.is_dir {
            return Err(errno::EBADF);
        }
        self.drop_read_ahead()?;
        self.wbuf.extend_from_slice(src);
        if self.wbuf.len() >= BUFFER {
            self.flush()?;
        }
        Ok(src.len())
    }

    /// `lseek`.
    pub fn seek(&mut self, to: SeekFrom) -> Result<u64, i64> {
        self.flush()?;
        self.drop_read_ahead()?;
        self.file.seek(to).map_err(|e| host_errno(&e))
    }

    /// `fchmod`.
    pub fn set_mode(&mut self, mode: u32) -> Result<(), i64> {
        use std::os::unix::fs::PermissionsExt;
        self.file
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .map_err(|e| host_errno(&e))
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// A shared open file description.
pub type Shared = Rc<RefCell<Description>>;

/// Every open file description of the run, for [`OpenFiles::sync`].
#[derive(Debug, Default)]
pub struct OpenFiles {
    all: Vec<Weak<RefCell<Description>>>,
}

impl OpenFiles {
    /// Registers a new description.
    pub fn add(&mut self, d: Description) -> Shared {
        if self.all.len() > 64 {
            self.all.retain(|w| w.strong_count() > 0);
        }
        let rc = Rc::new(RefCell::new(d));
        self.all.push(Rc::downgrade(&rc));
        rc
    }

    /// Writes every pending buffer to the host, and drops other descriptions' read-ahead
    /// of the files written. The first error is returned (the buffers are emptied anyway).
    pub fn sync(&mut self) -> Result<(), i64> {
        let mut written = Vec::new();
        let mut first = Ok(());
        for w in &self.all {
            let Some(rc) = w.upgrade() else { continue };
            let Ok(mut d) = rc.try_borrow_mut() else {
                continue;
            };
            if let Description::File(f) = &mut *d {
                match f.flush() {
                    Ok(true) => written.push(f.id),
                    Ok(false) => {}
                    Err(e) => {
                        written.push(f.id);
                        if first.is_ok() {
                            first = Err(e);
                        }
                    }
                }
            }
        }
        if !written.is_empty() {
            for w in &self.all {
                let Some(rc) = w.upgrade() else { continue };
                let Ok(mut d) = rc.try_borrow_mut() else {
                    continue;
                };
                if let Description::File(f) = &mut *d {
                    if written.contains(&f.id) {
                        let _ = f.drop_read_ahead();
                    }
                }
            }
        }
        first
    }
}

/// One descriptor: its description and its close-on-exec flag.
#[derive(Clone, Debug)]
struct Slot {
    desc: Shared,
    cloexec: bool,
}

/// A process's file descriptors.
#[derive(Clone, Debug, Default)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}

/// The most descriptors a process may have open (`ulimit -n`).
pub const MAX_FDS: usize = 1024;

impl FdTable {
    /// A table with 0, 1, 2 bound to the run's standard streams.
    pub fn standard(files: &mut OpenFiles) -> FdTable {
        let mut t = FdTable::default();
        for s in [Stream::Stdin, Stream::Stdout, Stream::Stderr] {
            let d = files.add(Description::Stream(s));
            t.slots.push(Some(Slot {
                desc: d,
                cloexec: false,
            }));
        }
        t
    }

    /// The description behind `fd`.
    pub fn get(&self, fd: u64) -> Option<&Shared> {
        let i = usize::try_from(fd).ok()?;
        self.slots.get(i)?.as_ref().map(|s| &s.desc)
    }

    /// Installs `desc` at the lowest free descriptor.
    pub fn add(&mut self, desc: Shared, cloexec: bool) -> Result<u64, i64> {
        let slot = Some(Slot { desc, cloexec });
        match self.slots.iter().position(Option::is_none) {
            Some(i) => {
                self.slots[i] = slot;
                Ok(i as u64)
            }
            None if self.slots.len() < MAX_FDS => {
                self.slots.push(slot);
                Ok(self.slots.len() as u64 - 1)
            }
            None => Err(errno::EMFILE),
        }
    }

    /// Closes `fd`; when it was the description's last descriptor, flushes it (and reports
    /// a write error as `close` does).
    pub fn close(&mut self, fd: u64) -> Result<(), i64> {
        let i = usize::try_from(fd).map_err(|_| errno::EBADF)?;
        let slot = self
            .slots
            .get_mut(i)
            .and_then(Option::take)
            .ok_or(errno::EBADF)?;
        if Rc::strong_count(&slot.desc) == 1 {
            if let Description::File(f) = &mut *slot.desc.borrow_mut() {
                f.flush()?;
            }
        }
        Ok(())
    }

    /// Closes every close-on-exec descriptor (at execve).
    pub fn close_on_exec(&mut self) {
        for s in &mut self.slots {
            if s.as_ref().is_some_and(|s| s.cloexec) {
                *s = None;
            }
        }
    }

    /// Closes everything (at exit).
    pub fn close_all(&mut self) {
        self.slots.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffered_reads_and_writes_keep_linux_offsets() {
        let dir = std::env::temp_dir().join(format!("hexroot-fs-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let p = dir.join("f");
        std::fs::write(&p, b"hello world").unwrap();
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&p)
            .unwrap();
        let mut f = HostFile::new(file, p.clone());
        let mut b = [0u8; 5];
        assert_eq!(f.read(&mut b).unwrap(), 5);
        assert_eq!(&b, b"hello");
        // A write after a buffered read lands at the guest's offset (5), not the host's.
        f.write(b"_").unwrap();
        assert_eq!(f.seek(SeekFrom::Current(0)).unwrap(), 6);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello_world");
        assert_eq!(f.read(&mut b).unwrap(), 5);
        assert_eq!(&b, b"world");
        assert_eq!(f.read(&mut b).unwrap(), 0);
        f.write(b"!").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"hello_world!");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
