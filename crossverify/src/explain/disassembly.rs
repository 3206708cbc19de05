//! The instruction covering the first differing byte, on each side: which instruction
//! set, where decoding starts, and one objdump-style line (address, bytes, text).
//!
//! The instruction set is the user's (`--arch`), else the ELF header's (machine 3: x86,
//! 62: amd64; other machines get no disassembly), else Knight for a raw file (a ROM). A
//! linear sweep finds the instruction: it starts at the first byte of the source line of
//! the hex2 token (when maps are given), else at the ELF entry point when it lies before
//! the byte in its segment, else at that segment's start, else at offset 0; undecodable
//! bytes are `(bad)` and one byte long. The decoders are stage0-vm's (the machines'); this
//! module owns none.

/// An instruction set explain can disassemble.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Isa {
    /// i386.
    X86,
    /// x86-64.
    Amd64,
    /// The Knight processor.
    Knight,
}

impl Isa {
    /// The name used by `--arch` and in the output.
    pub fn name(self) -> &'static str {
        match self {
            Isa::X86 => "x86",
            Isa::Amd64 => "amd64",
            Isa::Knight => "knight",
        }
    }

    /// The instruction set called `name` (`--arch`).
    pub fn from_name(name: &str) -> Option<Isa> {
        match name {
            "x86" | "i386" => Some(Isa::X86),
            "amd64" | "x86_64" => Some(Isa::Amd64),
            "knight" | "knight-native" | "knight-posix" => Some(Isa::Knight),
            _ => None,
        }
    }

    /// The length and text of the instruction at the start of `bytes`, at `address`.
    fn decode(self, bytes: &[u8], address: u64) -> (usize, String) {
        let decoded = match self {
            Isa::X86 => stage0_vm::linux::x86::disasm::instruction(bytes, address, false),
            Isa::Amd64 => stage0_vm::linux::x86::disasm::instruction(bytes, address, true),
            Isa::Knight => stage0_vm::disasm::instruction(bytes),
        };
        decoded.unwrap_or_else(|| (1, "(bad)".to_string()))
    }
}

/// One disassembled instruction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Its address (virtual address for ELF files, file offset for raw ones).
    pub address: u64,
    /// Its bytes (fewer than the instruction needs when the file ends inside it).
    pub bytes: Vec<u8>,
    /// Mnemonic and operands, or `(bad)`.
    pub text: String,
}

impl Line {
    /// `ADDRESS: BYTES  TEXT`, as objdump prints it.
    pub fn render(&self) -> String {
        let hex: Vec<String> = self.bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{:8x}: {:<21} {}", self.address, hex.join(" "), self.text)
    }
}

/// Where a sweep starts: a file offset and the address of that offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// File offset of the first byte decoded.
    pub offset: u64,
    /// Its address.
    pub address: u64,
}

/// The instruction set of `bytes`: `forced` if given, else from the ELF header, else
/// Knight; `Err` names an ELF machine with no disassembler.
pub fn isa_of(bytes: &[u8], forced: Option<Isa>) -> Result<Isa, String> {
    if let Some(isa) = forced {
        return Ok(isa);
    }
    if !bytes.starts_with(b"\x7fELF") {
        return Ok(Isa::Knight);
    }
    let header = goblin::elf::Elf::parse_header(bytes).map_err(|e| e.to_string())?;
    match header.e_machine {
        goblin::elf::header::EM_386 => Ok(Isa::X86),
        goblin::elf::header::EM_X86_64 => Ok(Isa::Amd64),
        m => Err(format!(
            "no disassembler for ELF machine {}",
            goblin::elf::header::machine_to_str(m)
        )),
    }
}

/// Where to sweep from to reach file offset `target` of `bytes` without a map.
pub fn default_start(bytes: &[u8], target: u64) -> Start {
    let origin = Start {
        offset: 0,
        address: 0,
    };
    let Ok(elf) = goblin::elf::Elf::parse(bytes) else {
        return origin;
    };
    let segment = elf.program_headers.iter().find(|ph| {
        ph.p_type == goblin::elf::program_header::PT_LOAD
            && ph.p_offset <= target
            && target < ph.p_offset.saturating_add(ph.p_filesz)
    });
    let Some(ph) = segment else {
        return origin;
    };
    let entry = elf.entry.wrapping_sub(ph.p_vaddr);
    if elf.entry >= ph.p_vaddr && entry < ph.p_filesz && ph.p_offset + entry <= target {
        Start {
            offset: ph.p_offset + entry,
            address: elf.entry,
        }
    } else {
        Start {
            offset: ph.p_offset,
            address: ph.p_vaddr,
        }
    }
}

/// The instruction of `bytes` covering file offset `target`, sweeping from `start`;
/// `None` when `target` is past the end of `bytes` or before `start`.
pub fn covering(bytes: &[u8], isa: Isa, start: Start, target: u64) -> Option<Line> {
    let target = usize::try_from(target).ok()?;
    let mut pos = usize::try_from(start.offset).ok()?;
    if target >= bytes.len() || pos > target {
        return None;
    }
    loop {
        let address = start
            .address
            .wrapping_add((pos as u64).wrapping_sub(start.offset));
        let (len, text) = isa.decode(&bytes[pos..], address);
        let end = pos.saturating_add(len);
        if end > target {
            return Some(Line {
                address,
                bytes: bytes[pos..end.min(bytes.len())].to_vec(),
                text,
            });
        }
        pos = end;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweeps_to_the_covering_instruction() {
        let code = [0x90, 0xb8, 1, 0, 0, 0, 0xc3];
        let start = Start {
            offset: 0,
            address: 0x1000,
        };
        let line = covering(&code, Isa::X86, start, 3).unwrap();
        assert_eq!(line.address, 0x1001);
        assert_eq!(line.text, "mov eax, 0x1");
        assert!(
            line.render().contains("b8 01 00 00 00"),
            "{}",
            line.render()
        );
        assert!(covering(&code, Isa::X86, start, 7).is_none());
        let bad = covering(&[0xd8, 0xd8], Isa::X86, start, 1).unwrap();
        assert_eq!(bad.text, "(bad)");
        let knight = covering(&[0xff, 0, 0, 0], Isa::Knight, start, 2).unwrap();
        assert_eq!(knight.text, "HALT");
        assert_eq!(isa_of(b"raw", None), Ok(Isa::Knight));
    }
}
