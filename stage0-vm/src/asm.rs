//! A tiny builder of Knight machine code with labels, for tests, benches and tools that
//! need a small ROM without going through M0 and hex2.
//!
//! It owns only the layout: instructions are appended in order, relative references
//! (jumps, CALLI, LOADR/STORER, CMPJUMPI) are resolved to `label - next instruction`, and
//! the bytes come from `isa::encode`. It is not an assembler for source text.

use std::collections::HashMap;

use crate::isa::{encode, Instr, Op};

enum Item {
    Fixed(Instr),
    Relative(Instr, String),
    Raw(Vec<u8>),
}

/// A ROM under construction.
#[derive(Default)]
pub struct Builder {
    items: Vec<(u32, Item)>,
    labels: HashMap<String, u32>,
    here: u32,
}

fn instr(op: Op, regs: &[u8], imm: u32) -> Instr {
    let mut r = [0u8; 4];
    for (slot, &v) in r.iter_mut().zip(regs) {
        *slot = v & 15;
    }
    Instr {
        op,
        regs: r,
        imm,
        ignored: 0,
    }
}

impl Builder {
    /// An empty ROM starting at address 0.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// The address of the next instruction.
    pub fn here(&self) -> u32 {
        self.here
    }

    /// Defines `name` at the current address.
    pub fn label(&mut self, name: &str) -> &mut Builder {
        self.labels.insert(name.to_string(), self.here);
        self
    }

    fn push(&mut self, item: Item, len: u32) -> &mut Builder {
        self.items.push((self.here, item));
        self.here += len;
        self
    }

    /// Appends `op` with registers `regs` (in encoding order) and 16-bit immediate `imm`
    /// (only its low 16 bits are encoded; HALCODE takes its 24-bit code here).
    pub fn op(&mut self, op: Op, regs: &[u8], imm: i32) -> &mut Builder {
        let mask = if op == Op::Halcode { 0xFF_FFFF } else { 0xFFFF };
        let i = instr(op, regs, imm as u32 & mask);
        let len = i.byte_len();
        self.push(Item::Fixed(i), len)
    }

    /// Appends `op` whose immediate is the distance from the next instruction to `label`.
    pub fn to(&mut self, op: Op, regs: &[u8], label: &str) -> &mut Builder {
        let i = instr(op, regs, 0);
        let len = i.byte_len();
        self.push(Item::Relative(i, label.to_string()), len)
    }

    /// Appends raw data bytes.
    pub fn bytes(&mut self, data: &[u8]) -> &mut Builder {
        self.push(Item::Raw(data.to_vec()), data.len() as u32)
    }

    /// The bytes of the ROM; an unknown label or a distance beyond ±32 KiB is an error.
    pub fn finish(&self) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(self.here as usize);
        for (at, item) in &self.items {
            let bytes = match item {
                Item::Raw(data) => data.clone(),
                Item::Fixed(i) => encode(i),
                Item::Relative(i, label) => {
                    let target = *self
                        .labels
                        .get(label)
                        .ok_or_else(|| format!("unknown label '{label}'"))?;
                    let next = at + i.byte_len();
                    let dist = i64::from(target) - i64::from(next);
                    if !(-32768..=32767).contains(&dist) {
                        return Err(format!("label '{label}' is {dist} bytes away: too far"));
                    }
                    let mut i = *i;
                    i.imm = dist as u32 & 0xFFFF;
                    encode(&i)
                }
            };
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }
}

/// A hex0 decoder in Knight code, built with [`Builder`]: reads hex text from tape 1
/// (pairs of hex digits of either case become bytes; `#` and `;` start a comment to the end
/// of the line; every other byte is skipped), writes the bytes to tape 2, then HALTs. It
/// is the workload of the `stage0_vm` bench and a known-answer test of the machine.
pub fn hex0_decoder() -> Vec<u8> {
    use Op::*;
    const R0: u8 = 0;
    const R1: u8 = 1;
    const R10: u8 = 10;
    const R11: u8 = 11;
    let mut b = Builder::new();
    b.op(Loadui, &[R0], 0x1100)
        .op(Halcode, &[], 0x100000) // FOPEN_READ tape 1
        .op(Loadui, &[R0], 0x1101)
        .op(Halcode, &[], 0x100001) // FOPEN_WRITE tape 2
        .op(False, &[R10], 0)
        .label("loop")
        .op(Loadui, &[R1], 0x1100)
        .op(Halcode, &[], 0x100100) // FGETC
        .to(JumpNp, &[R0], "done")
        .op(CmpskipiNe, &[R0], 0x23)
        .to(Jump, &[], "comment")
        .op(CmpskipiNe, &[R0], 0x3B)
        .to(Jump, &[], "comment")
        .op(CmpskipiGe, &[R0], 0x30)
        .to(Jump, &[], "loop")
        .op(CmpskipiG, &[R0], 0x39)
        .to(Jump, &[], "digit")
        .op(Andi, &[R0, R0], 0xDF)
        .op(CmpskipiGe, &[R0], 0x41)
        .to(Jump, &[], "loop")
        .op(CmpskipiLe, &[R0], 0x46)
        .to(Jump, &[], "loop")
        .op(Subi, &[R0, R0], 0x37)
        .to(Jump, &[], "have")
        .label("digit")
        .op(Subi, &[R0, R0], 0x30)
        .label("have")
        .to(JumpNz, &[R10], "second")
        .op(Copy, &[R11, R0], 0)
        .op(Loadui, &[R10], 1)
        .to(Jump, &[], "loop")
        .label("second")
        .op(Sali, &[R11], 4)
        .op(Or, &[R0, R11, R0], 0)
        .op(Loadui, &[R1], 0x1101)
        .op(Halcode, &[], 0x100200) // FPUTC
        .op(False, &[R10], 0)
        .to(Jump, &[], "loop")
        .label("comment")
        .op(Loadui, &[R1], 0x1100)
        .op(Halcode, &[], 0x100100)
        .to(JumpNp, &[R0], "done")
        .op(CmpskipiE, &[R0], 0x0A)
        .to(Jump, &[], "comment")
        .to(Jump, &[], "loop")
        .label("done")
        .op(Loadui, &[R0], 0x1101)
        .op(Halcode, &[], 0x100002) // FCLOSE
        .op(Halt, &[], 0);
    b.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run_with_tapes, Config};

    #[test]
    fn hex0_decoder_decodes() {
        let rom = hex0_decoder();
        let src = b"# a comment 12\nB8 2a 00 ; more 34\n00 00\nc3\n";
        let run = run_with_tapes(&rom, src, &Config::default()).unwrap();
        assert_eq!(run.tape_02, [0xB8, 0x2A, 0, 0, 0, 0xC3]);
        assert!(run.steps > 100);
    }

    #[test]
    fn unknown_label_is_an_error() {
        let mut b = Builder::new();
        b.to(Op::Jump, &[], "nowhere");
        assert!(b.finish().unwrap_err().contains("nowhere"));
    }
}
