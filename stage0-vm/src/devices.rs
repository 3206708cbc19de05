//! The native HALCODE devices: the two tapes (0x1100, 0x1101) and the TTY (0x0000), with
//! their storage abstracted so the same machine runs on host files (the binary) or on
//! in-memory buffers (the library call [`crate::run_with_tapes`]).
//!
//! This module owns tape state (closed / reading / writing), end-of-file, rewinding, and
//! when output reaches its storage (buffered, flushed at FCLOSE and at the end of the run,
//! even after a fault, as the reference's C runtime does). It does not decode HALCODEs nor
//! print the abort messages (see `machine`); it only reports which tape and which call.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

/// The size of a host tape's write buffer, as glibc's stdio gives a regular file.
const STDIO_BUFFER: usize = 4096;

/// Device id of the TTY.
pub const TTY: u32 = 0x0000;
/// Device id of tape 1.
pub const TAPE_01: u32 = 0x1100;
/// Device id of tape 2.
pub const TAPE_02: u32 = 0x1101;

/// Where the two tapes live.
pub enum TapeStore {
    /// Host files, by the names given on the command line (relative to the working
    /// directory). Nothing else on the host is touched.
    Host([PathBuf; 2]),
    /// In-memory files: `Some(bytes)` exists, `None` does not. Writing a tape replaces its
    /// file when the tape is closed or the run ends.
    Memory([Option<Vec<u8>>; 2]),
}

enum Sink {
    Host(BufWriter<File>),
    /// The bytes and the write position (REWIND moves it back to 0; later bytes
    /// overwrite, as on a host file).
    Memory(Vec<u8>, usize),
}

enum TapeState {
    Closed,
    /// Reading: the whole file, read at FOPEN_READ, and the position.
    Reading(Vec<u8>, usize),
    Writing(Sink),
}

/// A device call failing the way the reference aborts ("tape_0x not valid for CALL").
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeviceError {
    /// The tape is not open for the call (`tape_01` / `tape_02`, call name).
    NotValid(&'static str, &'static str),
    /// FOPEN_READ of a tape whose file does not exist.
    Missing(String),
    /// A host I/O error on a tape or TTY file.
    Io(String),
}

/// The devices of one run.
pub struct Devices {
    store: TapeStore,
    tapes: [TapeState; 2],
    /// Writers replaced by a second FOPEN_WRITE: flushed at the end, as the C runtime does.
    abandoned: Vec<Sink>,
    /// `--fuzzing`: FOPEN_WRITE opens nothing.
    pub fuzzing: bool,
    /// TTY input (`None`: the caller's stdin).
    pub tty_in: Option<Box<dyn Read>>,
    /// TTY output (`None`: the caller's stdout).
    pub tty_out: Option<Box<dyn Write>>,
}

fn tape_name(i: usize) -> &'static str {
    if i == 0 {
        "tape_01"
    } else {
        "tape_02"
    }
}

/// Index 0/1 of a tape device id.
pub fn tape_index(device: u32) -> Option<usize> {
    match device {
        TAPE_01 => Some(0),
        TAPE_02 => Some(1),
        _ => None,
    }
}

impl Devices {
    /// Devices over `store`, all tapes closed, TTY on the caller's streams.
    pub fn new(store: TapeStore) -> Devices {
        Devices {
            store,
            tapes: [TapeState::Closed, TapeState::Closed],
            abandoned: Vec::new(),
            fuzzing: false,
            tty_in: None,
            tty_out: None,
        }
    }

    /// FOPEN_READ: the tape's file must exist; it is read whole.
    pub fn open_read(&mut self, i: usize) -> Result<(), DeviceError> {
        let bytes = match &self.store {
            TapeStore::Host(paths) => {
                let path = &paths[i];
                if !path.exists() {
                    return Err(DeviceError::Missing(path.display().to_string()));
                }
                // An unreadable file (a directory, no permission) leaves the tape unusable
                // in the reference; here it reads as an empty tape (documented).
                std::fs::read(path).unwrap_or_default()
            }
            TapeStore::Memory(files) => match &files[i] {
                Some(b) => b.clone(),
                None => return Err(DeviceError::Missing(tape_name(i).to_string())),
            },
        };
        self.replace(i, TapeState::Reading(bytes, 0))
    }

    /// FOPEN_WRITE: create or truncate the tape's file. Returns `false` under `--fuzzing`
    /// (nothing opened; the machine then sets R0 = 0). A file that cannot be created
    /// leaves the tape closed, as the reference's unchecked `fopen` does: the run fails
    /// only if the program then uses the tape ("tape_02 not valid for fputc").
    pub fn open_write(&mut self, i: usize) -> Result<bool, DeviceError> {
        if self.fuzzing {
            return Ok(false);
        }
        let sink = match &self.store {
            TapeStore::Host(paths) => match File::create(&paths[i]) {
                // glibc's buffer for a file: st_blksize, 4 KiB on the usual file systems. The
                // same size writes the same blocks at the same moments, which shows when a
                // program reopens a tape without closing it.
                Ok(file) => Sink::Host(BufWriter::with_capacity(STDIO_BUFFER, file)),
                Err(_) => {
                    self.replace(i, TapeState::Closed)?;
                    return Ok(true);
                }
            },
            TapeStore::Memory(_) => Sink::Memory(Vec::new(), 0),
        };
        if let TapeStore::Memory(files) = &mut self.store {
            // Like a host file: created (empty) when opened for writing.
            files[i] = Some(Vec::new());
        }
        self.replace(i, TapeState::Writing(sink))?;
        Ok(true)
    }

    fn replace(&mut self, i: usize, new: TapeState) -> Result<(), DeviceError> {
        if let TapeState::Writing(old) = std::mem::replace(&mut self.tapes[i], new) {
            self.abandoned.push(old);
        }
        Ok(())
    }

    fn finish_sink(&mut self, i: usize, sink: Sink) -> Result<(), DeviceError> {
        match sink {
            Sink::Host(mut w) => w
                .flush()
                .map_err(|e| DeviceError::Io(format!("cannot write {}: {e}", tape_name(i)))),
            Sink::Memory(v, _) => {
                if let TapeStore::Memory(files) = &mut self.store {
                    files[i] = Some(v);
                }
                Ok(())
            }
        }
    }

    /// FCLOSE.
    pub fn close(&mut self, i: usize) -> Result<(), DeviceError> {
        match std::mem::replace(&mut self.tapes[i], TapeState::Closed) {
            TapeState::Closed => Err(DeviceError::NotValid(tape_name(i), "fclose")),
            TapeState::Reading(..) => Ok(()),
            TapeState::Writing(sink) => self.finish_sink(i, sink),
        }
    }

    /// REWIND.
    pub fn rewind(&mut self, i: usize) -> Result<(), DeviceError> {
        match &mut self.tapes[i] {
            TapeState::Closed => Err(DeviceError::NotValid(tape_name(i), "rewind")),
            TapeState::Reading(_, pos) => {
                *pos = 0;
                Ok(())
            }
            // Rewinding an output tape: later bytes overwrite from the start.
            TapeState::Writing(Sink::Host(w)) => {
                use std::io::Seek;
                w.seek(io::SeekFrom::Start(0))
                    .map(|_| ())
                    .map_err(|e| DeviceError::Io(format!("cannot rewind: {e}")))
            }
            TapeState::Writing(Sink::Memory(_, pos)) => {
                *pos = 0;
                Ok(())
            }
        }
    }

    /// The common FGETC: tape `i` open for reading gives its next byte (0xFFFFFFFF at end
    /// of file) as a slice index; `None` for every other state (the caller then takes
    /// [`Devices::getc`], which reports the errors).
    #[inline(always)]
    pub fn getc_fast(&mut self, i: usize) -> Option<u32> {
        match &mut self.tapes[i & 1] {
            TapeState::Reading(bytes, pos) => Some(match bytes.get(*pos) {
                Some(&b) => {
                    *pos += 1;
                    u32::from(b)
                }
                None => u32::MAX,
            }),
            _ => None,
        }
    }

    /// The common FPUTC: appending to tape `i` open for writing in memory, or into the
    /// host writer's buffer. `false` when it did nothing (the caller then takes
    /// [`Devices::putc`]).
    #[inline(always)]
    pub fn putc_fast(&mut self, i: usize, byte: u8) -> bool {
        match &mut self.tapes[i & 1] {
            TapeState::Writing(Sink::Memory(v, pos)) if *pos == v.len() => {
                v.push(byte);
                *pos += 1;
                true
            }
            TapeState::Writing(Sink::Host(w)) if w.capacity() > w.buffer().len() => {
                w.write_all(&[byte]).is_ok()
            }
            _ => false,
        }
    }

    /// FGETC from a tape: the next byte, or `None` at end of file.
    #[inline]
    pub fn getc(&mut self, i: usize) -> Result<Option<u8>, DeviceError> {
        match &mut self.tapes[i] {
            TapeState::Reading(bytes, pos) => {
                let b = bytes.get(*pos).copied();
                if b.is_some() {
                    *pos += 1;
                }
                Ok(b)
            }
            // Reading from a write-only stream fails: EOF, as C's fgetc returns. glibc
            // first switches the stream to reading, which writes out its pending bytes:
            // they reach the file now (a later FOPEN_WRITE of the same tape truncates them
            // away, where otherwise the abandoned stream would write them at exit).
            TapeState::Writing(Sink::Host(w)) => {
                let _ = w.flush();
                Ok(None)
            }
            TapeState::Writing(Sink::Memory(..)) => Ok(None),
            TapeState::Closed => Err(DeviceError::NotValid(tape_name(i), "fgetc")),
        }
    }

    /// FPUTC to a tape.
    #[inline]
    pub fn putc(&mut self, i: usize, byte: u8) -> Result<(), DeviceError> {
        match &mut self.tapes[i] {
            TapeState::Writing(Sink::Memory(v, pos)) => {
                match v.get_mut(*pos) {
                    Some(slot) => *slot = byte,
                    None => v.push(byte),
                }
                *pos += 1;
                Ok(())
            }
            TapeState::Writing(Sink::Host(w)) => w
                .write_all(&[byte])
                .map_err(|e| DeviceError::Io(format!("cannot write {}: {e}", tape_name(i)))),
            // Writing to a read-only stream fails silently in C.
            TapeState::Reading(..) => Ok(()),
            TapeState::Closed => Err(DeviceError::NotValid(tape_name(i), "fputc")),
        }
    }

    /// Flushes every tape still open for writing (and abandoned writers): the end of a
    /// run, whether it halted or faulted. Tapes stay usable.
    pub fn finish(&mut self) -> Result<(), DeviceError> {
        let mut result = Ok(());
        // glibc flushes its open streams at exit newest first: the tapes open now, then
        // the abandoned writers from the latest back (where a reopened tape's old stream
        // and its new one overlap in the file, the old stream's bytes land last).
        for i in 0..2 {
            if let TapeState::Writing(_) = self.tapes[i] {
                if let TapeState::Writing(sink) =
                    std::mem::replace(&mut self.tapes[i], TapeState::Closed)
                {
                    if let Err(e) = self.finish_sink(i, sink) {
                        result = Err(e);
                    }
                }
            }
        }
        for sink in std::mem::take(&mut self.abandoned).into_iter().rev() {
            if let Sink::Host(mut w) = sink {
                if let Err(e) = w.flush() {
                    result = Err(DeviceError::Io(format!("cannot write a tape: {e}")));
                }
            }
        }
        if let Some(out) = &mut self.tty_out {
            let _ = out.flush();
        }
        result
    }

    /// The in-memory file of tape `i` (for [`TapeStore::Memory`]).
    pub fn memory_file(&self, i: usize) -> Option<&[u8]> {
        match &self.store {
            TapeStore::Memory(files) => files[i].as_deref(),
            TapeStore::Host(_) => None,
        }
    }
}
