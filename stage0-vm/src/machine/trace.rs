//! `--trace` lines: address, bytes, mnemonic and the registers the instruction wrote
//! with their new values.

use super::Machine;
use crate::isa::{Instr, Op};

impl Machine {
    /// The trace line of `instr`, executed at `ip` with registers `before` (the bytes are
    /// read from memory after it ran).
    #[cold]
    pub(super) fn trace_line(&self, ip: u32, instr: &Instr, before: &[u32; 16]) -> String {
        let n = instr.byte_len() as usize;
        let i = ip as usize;
        let bytes = self.mem.bytes.get(i..i + n).unwrap_or(&[]);
        let mut line = format!("{ip:08X}  ");
        for b in bytes {
            line.push_str(&format!("{b:02X}"));
        }
        while line.len() < 26 {
            line.push(' ');
        }
        line.push_str(&crate::disasm::render(bytes).unwrap_or_else(|| instr.op.name().to_string()));
        // The registers the instruction writes (in write order), with their new values;
        // for HALCODE, whose writes depend on the service, the registers it changed.
        let regs = &self.regs;
        let mut wrote = Vec::new();
        if instr.op == Op::Halcode {
            for (k, (old, new)) in before.iter().zip(regs.iter()).enumerate() {
                if old != new {
                    wrote.push(format!("R{k}={new:08X}"));
                }
            }
        } else {
            for &f in instr.op.writes() {
                let k = usize::from(instr.regs[f] & 15);
                let entry = format!("R{k}={:08X}", regs[k]);
                if !wrote.contains(&entry) {
                    wrote.push(entry);
                }
            }
        }
        if !wrote.is_empty() {
            line.push_str("  ; ");
            line.push_str(&wrote.join(" "));
        }
        line
    }
}
