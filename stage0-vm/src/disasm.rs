//! The disassembler: Knight instruction bytes to text, with the same decoder the machine
//! uses (`isa::decode`), so what it shows is what the VM executes.
//!
//! This module owns the text form only: one line per instruction, `ADDRESS  BYTES
//! MNEMONIC OPERANDS`, registers as `R0`..`R15`, immediates in decimal as the machine reads
//! them (signed, except the zero-extended CMPSKIPI.E/NE and CMPSKIPUI.* forms), HALCODEs
//! by service name. It does not follow control flow: a ROM is swept linearly, and bytes
//! that do not decode are shown as `.word`/`.byte` data.

use crate::isa::{decode, DecodeError, Group, Instr, Op, NATIVE_HALCODES, POSIX_HALCODES};

fn operands(instr: &Instr) -> String {
    let r = |k: usize| format!("R{}", instr.regs[k] & 15);
    let zero_extended = matches!(
        instr.op,
        Op::CmpskipiE
            | Op::CmpskipiNe
            | Op::CmpskipuiG
            | Op::CmpskipuiGe
            | Op::CmpskipuiLe
            | Op::CmpskipuiL
    );
    let imm = if zero_extended {
        instr.imm.to_string()
    } else {
        (instr.imm_signed() as i32).to_string()
    };
    match instr.op.group() {
        Some(Group::FourOp) => format!(" {} {} {} {}", r(0), r(1), r(2), r(3)),
        Some(Group::ThreeOp) => format!(" {} {} {}", r(0), r(1), r(2)),
        Some(Group::TwoOp) => format!(" {} {}", r(0), r(1)),
        Some(Group::OneOp) => format!(" {}", r(0)),
        Some(Group::ZeroOpI) => format!(" {imm}"),
        Some(Group::OneOpI) => format!(" {} {imm}", r(0)),
        Some(Group::TwoOpI) => format!(" {} {} {imm}", r(0), r(1)),
        _ => String::new(),
    }
}

/// The text of one decoded instruction (mnemonic and operands).
pub fn instr_text(instr: &Instr) -> String {
    if instr.op == Op::Halcode {
        return NATIVE_HALCODES
            .iter()
            .chain(POSIX_HALCODES)
            .find(|&&(c, _)| c == instr.imm)
            .map_or_else(
                || format!("HALCODE 0x{:06X}", instr.imm),
                |&(_, n)| n.to_string(),
            );
    }
    format!("{}{}", instr.op.name(), operands(instr))
}

/// The text of the instruction at the start of `bytes`, if it decodes.
pub fn render(bytes: &[u8]) -> Option<String> {
    decode(bytes).ok().map(|i| instr_text(&i))
}

/// The instruction at the start of `bytes`: its length in bytes and its text, or `None`
/// when the bytes are not a whole instruction.
pub fn instruction(bytes: &[u8]) -> Option<(usize, String)> {
    decode(bytes)
        .ok()
        .map(|i| (i.byte_len() as usize, instr_text(&i)))
}

/// Disassembles a whole ROM (loaded at address 0), one line per instruction.
pub fn disassemble(rom: &[u8]) -> String {
    let mut out = String::new();
    let mut pos = 0usize;
    while pos < rom.len() {
        let (len, text) = match decode(&rom[pos..]) {
            Ok(i) => (i.byte_len() as usize, instr_text(&i)),
            Err(DecodeError::Illegal) if rom.len() - pos >= 4 => {
                let w = &rom[pos..pos + 4];
                (
                    4,
                    format!(
                        ".word 0x{:08X}  ; not an instruction",
                        u32::from_be_bytes([w[0], w[1], w[2], w[3]])
                    ),
                )
            }
            Err(_) => {
                let rest: Vec<String> = rom[pos..].iter().map(|b| format!("0x{b:02X}")).collect();
                (
                    rom.len() - pos,
                    format!(".byte {}  ; truncated", rest.join(" ")),
                )
            }
        };
        let mut line = format!("{pos:08X}  ");
        for b in &rom[pos..pos + len] {
            line.push_str(&format!("{b:02X}"));
        }
        while line.len() < 26 {
            line.push(' ');
        }
        line.push_str(&text);
        out.push_str(&line);
        out.push('\n');
        pos += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_lines() {
        let rom = [
            0xE0, 0x00, 0x2D, 0x20, 0x11, 0x00, // LOADUI R0 0x1100
            0x42, 0x10, 0x00, 0x00, // FOPEN_READ
            0x05, 0x00, 0x21, 0x23, // SUB R1 R2 R3
            0xFF, 0x00, 0x00, 0x00, // HALT
            0x02, 0x00, 0x00, 0x00, // data
            0xE1, // truncated
        ];
        let text = disassemble(&rom);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "00000000  E0002D201100    LOADUI R0 4352");
        assert_eq!(lines[1], "00000006  42100000        FOPEN_READ");
        assert_eq!(lines[2], "0000000A  05002123        SUB R1 R2 R3");
        assert_eq!(lines[3], "0000000E  FF000000        HALT");
        assert!(lines[4].contains(".word 0x02000000"));
        assert!(lines[5].contains(".byte 0xE1"));
    }
}
