//! Outputs that are never half-written.
//!
//! Every tool writes its result through an [`OutputFile`]: the bytes go to a temporary file
//! in the destination's directory, and only [`OutputFile::commit`] renames it into place.
//! A run that fails, panics or is killed therefore leaves any earlier output untouched.
//! The module also reproduces what the reference tools' `open(O_CREAT|O_TRUNC, mode)`
//! would have left behind: a new file gets `mode & !umask`, a file that already existed keeps
//! its permission bits, and a caller may ask for an exact mode afterwards (hex2's `chmod
//! 0750`). Destinations that are not regular files (`/dev/null`, a FIFO, a terminal) are
//! written directly, since renaming over them would be wrong. It owns nothing about what the
//! bytes are.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static SERIAL: AtomicU64 = AtomicU64::new(0);

/// A destination being written; see the module documentation.
pub struct OutputFile {
    destination: PathBuf,
    /// The temporary file, or `None` when writing directly to a non-regular destination.
    temporary: Option<PathBuf>,
    writer: Option<BufWriter<File>>,
    /// Permission bits to give the file at commit: the old file's, or an exact mode.
    final_mode: Option<u32>,
}

impl OutputFile {
    /// Starts writing `destination`. A new file will be created with `create_mode` (the
    /// process umask applies, as with `open(2)`); an existing regular file keeps its mode.
    /// Fails now if the destination's directory does not exist or is not writable, which is
    /// when the reference tools report an unopenable output.
    pub fn create(destination: impl AsRef<Path>, create_mode: u32) -> io::Result<OutputFile> {
        let given = destination.as_ref();
        match fs::metadata(given) {
            Ok(m) if m.is_dir() => Err(io::Error::other("is a directory")),
            Ok(m) if !m.is_file() => {
                // A character device, FIFO or socket (`/dev/null`, `/dev/stdout` on a pipe):
                // opened by the name given, since such a link (`/proc/self/fd/1` ->
                // `pipe:[...]`) may not resolve to a path at all.
                let file = OpenOptions::new().write(true).truncate(true).open(given)?;
                let destination = given.to_path_buf();
                Ok(OutputFile {
                    destination,
                    temporary: None,
                    writer: Some(BufWriter::with_capacity(1 << 16, file)),
                    final_mode: None,
                })
            }
            // Write through symbolic links, as open(2) would.
            Ok(m) => Self::start_temporary(
                resolve_link(given)?,
                create_mode,
                Some(m.permissions().mode()),
            ),
            Err(_) => Self::start_temporary(resolve_link(given)?, create_mode, None),
        }
    }

    fn start_temporary(
        destination: PathBuf,
        create_mode: u32,
        old_mode: Option<u32>,
    ) -> io::Result<OutputFile> {
        let dir = match destination.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = destination
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        let name = name.unwrap_or_else(|| "output".to_string());
        loop {
            let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
            let temporary = dir.join(format!(".{name}.{}.{serial}.tmp", std::process::id()));
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(create_mode)
                .open(&temporary)
            {
                Ok(file) => {
                    return Ok(OutputFile {
                        destination,
                        temporary: Some(temporary),
                        writer: Some(BufWriter::with_capacity(1 << 16, file)),
                        final_mode: old_mode,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The path the output will have once committed.
    pub fn destination(&self) -> &Path {
        &self.destination
    }

    /// Gives the committed file exactly these permission bits (no umask), as a `chmod`
    /// after writing would.
    pub fn set_exact_mode(&mut self, mode: u32) {
        self.final_mode = Some(mode);
    }

    /// A second handle on the temporary file, to write a later part of the output at its
    /// offset (`std::os::unix::fs::FileExt::write_all_at`) while the earlier part is still
    /// being written in order through this `OutputFile`. `None` when the destination is
    /// written directly (it is not a regular file, so it may not be seekable).
    pub fn positional(&self) -> Option<io::Result<File>> {
        self.temporary.as_ref()?;
        self.writer.as_ref().map(|w| w.get_ref().try_clone())
    }

    /// Flushes, applies the final mode and renames the temporary file into place.
    pub fn commit(mut self) -> io::Result<()> {
        let writer = self.writer.take().expect("an OutputFile is committed once");
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        // a destination written directly (a device, a FIFO) keeps its own mode
        if let (Some(mode), Some(_)) = (self.final_mode, &self.temporary) {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        drop(file);
        if let Some(temporary) = self.temporary.take() {
            if let Err(e) = fs::rename(&temporary, &self.destination) {
                let _ = fs::remove_file(&temporary);
                return Err(e);
            }
        }
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.writer.as_mut().map_or(Ok(0), |w| w.write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self.writer.as_mut() {
            Some(w) => w.write_all(buf),
            None => Ok(()),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.as_mut().map_or(Ok(()), |w| w.flush())
    }
}

impl Drop for OutputFile {
    /// An output dropped without [`OutputFile::commit`] disappears: the temporary file is
    /// removed and the destination is left as it was.
    fn drop(&mut self) {
        if let Some(temporary) = self.temporary.take() {
            drop(self.writer.take());
            let _ = fs::remove_file(temporary);
        }
    }
}

/// The path a symbolic link `given` points to (the file the output replaces), or `given`
/// itself when it is not a link.
fn resolve_link(given: &Path) -> io::Result<PathBuf> {
    match fs::symlink_metadata(given) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(given),
        _ => Ok(given.to_path_buf()),
    }
}

/// Writes `bytes` to `destination` in one step through an [`OutputFile`].
pub fn write_atomic(
    destination: impl AsRef<Path>,
    bytes: &[u8],
    create_mode: u32,
) -> io::Result<()> {
    let mut out = OutputFile::create(destination, create_mode)?;
    out.write_all(bytes)?;
    out.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hexroot-output-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn uncommitted_output_leaves_the_old_file() {
        let dir = scratch("uncommitted");
        let path = dir.join("out");
        fs::write(&path, b"old").unwrap();
        {
            let mut out = OutputFile::create(&path, 0o600).unwrap();
            out.write_all(b"new").unwrap();
        }
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn existing_file_keeps_its_mode_and_exact_mode_wins() {
        let dir = scratch("mode");
        let path = dir.join("out");
        fs::write(&path, b"old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&path, b"new", 0o700).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
        let mut out = OutputFile::create(&path, 0o600).unwrap();
        out.set_exact_mode(0o750);
        out.commit().unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o750
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn missing_directory_fails_at_create() {
        let dir = scratch("missing");
        assert!(OutputFile::create(dir.join("no/such/out"), 0o600).is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
