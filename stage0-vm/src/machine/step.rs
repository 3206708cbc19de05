//! The plain step: one instruction fetched and decoded with `isa::decode` and executed by
//! `semantics::execute`, with no slot, no fusion and no cache. It is the reference the
//! fast executor is checked against (property tests compare the two on generated
//! programs), what `--trace` runs, and what the fast executor falls back to for code it
//! cannot hold in a slot.

use super::semantics::{self, Flow};
use super::{Io, Machine};
use crate::devices::Devices;
use crate::fault::{Fault, Stop};
use crate::isa::Instr;

impl Machine {
    /// Runs the instruction at `ip`; `Ok(Some(stop))` ends the run (HALT, POSIX exit).
    pub fn step(&mut self, dev: &mut Devices, io: &mut Io) -> Result<Option<Stop>, Fault> {
        let ip = self.ip;
        let instr = self.fetch(ip)?;
        self.steps += 1;
        let next = ip.wrapping_add(instr.byte_len());
        self.ip = next;
        match semantics::execute(&instr, ip, &mut self.regs, &mut self.mem, self.steps)? {
            Flow::Next => {}
            Flow::Goto(to) => self.ip = to,
            Flow::Halt => return Ok(Some(Stop::Halt)),
            Flow::Halcode(code) => {
                let mut regs = self.regs;
                let done = self.halcode(&mut regs, self.steps, ip, code, dev, io);
                self.regs = regs;
                return done;
            }
        }
        Ok(None)
    }

    /// The instruction at `ip`, or the fetch fault (an illegal word counts as executed).
    fn fetch(&mut self, ip: u32) -> Result<Instr, Fault> {
        let steps = self.steps;
        if ip >= self.mem.size() {
            return Err(Fault::FetchOutside { steps, ip });
        }
        match self.mem.decode_at(ip) {
            Ok(Some(instr)) => Ok(instr),
            Ok(None) => {
                self.steps += 1;
                self.ip = ip.wrapping_add(4);
                let past_end = self.mem.size() - ip < 4;
                Err(Fault::illegal(steps + 1, ip, self.mem.word(ip), past_end))
            }
            Err(_) => Err(Fault::FetchTruncated {
                steps: steps + 1,
                ip,
            }),
        }
    }

    /// `--trace`: the plain step with one line per executed instruction on stderr.
    pub(super) fn exec_traced(&mut self, dev: &mut Devices, io: &mut Io) -> Result<Stop, Fault> {
        let limit = self.config.max_steps.unwrap_or(u64::MAX);
        loop {
            if self.steps >= limit {
                return Err(Fault::MaxSteps {
                    steps: self.steps,
                    ip: self.ip,
                });
            }
            let (ip, before) = (self.ip, self.regs);
            let instr = self
                .mem
                .decode_at(ip.min(self.mem.size().saturating_sub(1)));
            let done = self.step(dev, io)?;
            if let Ok(Some(instr)) = instr {
                let line = self.trace_line(ip, &instr, &before);
                let _ = writeln!(io.stderr, "{line}");
            }
            if let Some(stop) = done {
                return Ok(stop);
            }
        }
    }
}
