//! HALCODE services: the native devices (tapes, TTY, memory size) and the dispatch to
//! POSIX mode's system calls (`crate::posix`), which get the guest state they need.

use std::io::{Read, Write};

use super::memory::Mem;
use super::{Io, Machine};
use crate::devices::{tape_index, DeviceError, Devices, TTY};
use crate::fault::{Fault, Stop};
use crate::posix::Guest;

impl Machine {
    /// Runs HALCODE `code` at `ip` on registers `r` (the caller's copy of R0..R15);
    /// `Ok(Some(stop))` ends the run (POSIX exit).
    pub(super) fn halcode(
        &mut self,
        r: &mut [u32; 16],
        steps: u64,
        ip: u32,
        code: u32,
        dev: &mut Devices,
        io: &mut Io,
    ) -> Result<Option<Stop>, Fault> {
        if !self.config.posix {
            native(r, &self.mem, steps, ip, code, dev, io).map_err(|e| *e)?;
            return Ok(None);
        }
        if !crate::isa::POSIX_HALCODES.iter().any(|&(c, _)| c == code) {
            return Err(invalid_halcode(&self.mem, steps, ip));
        }
        let mut guest = Guest {
            regs: r,
            mem: &mut self.mem,
            posix: &mut self.posix,
            steps,
        };
        crate::posix::call(&mut guest, code, io)
    }
}

/// Executes native HALCODE `code` (devices); never ends the run normally. The error is
/// boxed so that the common path moves one word.
#[inline(never)]
fn native(
    r: &mut [u32; 16],
    mem: &Mem,
    steps: u64,
    ip: u32,
    code: u32,
    dev: &mut Devices,
    io: &mut Io,
) -> Result<(), Box<Fault>> {
    let dev_err = |e: DeviceError| {
        Box::new(match e {
            DeviceError::NotValid(t, c) => Fault::TapeNotValid(t, c),
            DeviceError::Missing(n) => Fault::TapeMissing(n),
            DeviceError::Io(m) => Fault::Io(m),
        })
    };
    match code {
        0x100000 => {
            if let Some(i) = tape_index(r[0]) {
                dev.open_read(i).map_err(dev_err)?;
            }
        }
        0x100001 => {
            if dev.fuzzing {
                r[0] = 0;
            } else if let Some(i) = tape_index(r[0]) {
                dev.open_write(i).map_err(dev_err)?;
            }
        }
        0x100002 => {
            if let Some(i) = tape_index(r[0]) {
                dev.close(i).map_err(dev_err)?;
            }
        }
        0x100003 => {
            if let Some(i) = tape_index(r[0]) {
                dev.rewind(i).map_err(dev_err)?;
            }
        }
        0x100100 => {
            r[0] = if let Some(i) = tape_index(r[1]) {
                dev.getc(i).map_err(dev_err)?.map_or(u32::MAX, u32::from)
            } else if r[1] == TTY {
                tty_getc(dev, io)
            } else {
                u32::MAX
            };
        }
        0x100200 => {
            let byte = r[0] as u8;
            if let Some(i) = tape_index(r[1]) {
                dev.putc(i, byte).map_err(dev_err)?;
            } else if r[1] == TTY {
                let out: &mut dyn Write = match &mut dev.tty_out {
                    Some(f) => f.as_mut(),
                    None => io.stdout,
                };
                out.write_all(&[byte])
                    .map_err(|e| Box::new(Fault::Io(format!("cannot write the TTY: {e}"))))?;
            }
        }
        0x110000 => r[0] = mem.size(),
        _ => return Err(Box::new(invalid_halcode(mem, steps, ip))),
    }
    Ok(())
}

#[cold]
fn invalid_halcode(mem: &Mem, steps: u64, ip: u32) -> Fault {
    Fault::InvalidHalcode {
        steps,
        ip,
        word: mem.word(ip),
    }
}

/// One byte from the TTY: the `--tty-in` file or stdin; 0xFFFFFFFF at end of input.
/// (The production variant's semantics; see the crate docs.)
fn tty_getc(dev: &mut Devices, io: &mut Io) -> u32 {
    if let Some(out) = &mut dev.tty_out {
        let _ = out.flush();
    }
    let _ = io.stdout.flush();
    let input: &mut dyn Read = match &mut dev.tty_in {
        Some(r) => r.as_mut(),
        None => io.stdin,
    };
    let mut b = [0u8; 1];
    loop {
        match input.read(&mut b) {
            Ok(0) => return u32::MAX,
            Ok(_) => return u32::from(b[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return u32::MAX,
        }
    }
}
