//! A chain-like Knight workload: a small table-driven macro expander written in Knight
//! code in the style of stage0's M0 assemblers, and a generator of its input.
//!
//! It owns the speed workload that behaves like the real Knight bootstrap chain, whose
//! time goes into M0-compact's small subroutines (register save/restore runs of
//! PUSHR/POPR, CALLI/RET, byte loads and compare-skip chains, linear table look-ups)
//! rather than into a tight FGETC/FPUTC loop. The program reads tape 1 token by token
//! (tokens end at a space, tab or newline; `#` starts a comment to the end of the line).
//! `DEFINE NAME VALUE` adds an entry to a linked list (newest first); any other token is
//! looked up in that list by string comparison and its value written to tape 2, or the
//! token itself when it is not defined, each followed by a newline. At end of input it
//! closes tape 2 and HALTs. [`expand`] is the same transformation in Rust, the known
//! answer the tests compare against.

use crate::asm::Builder;
use crate::isa::Op;

/// The memory the workload ROM needs (`--memory`).
pub const MEMORY: usize = 48 * 1024;

const TOKEN: i32 = 0x1000;
const STACK: i32 = 0x2000;
const TABLE: i32 = 0x3000;
/// Bytes per table entry: next pointer, name at +4, value at +32 (NUL-terminated).
const ENTRY: i32 = 64;

/// The workload ROM (hexroot's own Knight code, built with [`Builder`]).
pub fn rom() -> Vec<u8> {
    use Op::*;
    const R0: u8 = 0;
    const R1: u8 = 1;
    const R2: u8 = 2;
    const R3: u8 = 3;
    const R4: u8 = 4;
    const R12: u8 = 12;
    const R13: u8 = 13;
    const SP: u8 = 15;
    let mut b = Builder::new();
    // R15 stack, R12 list head (0: empty), R13 next free entry.
    b.op(Loadui, &[SP], STACK)
        .op(Loadui, &[R0], 0x1100)
        .op(Halcode, &[], 0x100000) // FOPEN_READ
        .op(Loadui, &[R0], 0x1101)
        .op(Halcode, &[], 0x100001) // FOPEN_WRITE
        .op(False, &[R12], 0)
        .op(Loadui, &[R13], TABLE)
        .label("main")
        .to(Calli, &[SP], "read_token")
        .to(JumpZ, &[R0], "done")
        .op(Loadui, &[R0], TOKEN)
        .to(Calli, &[SP], "is_define")
        .to(JumpNz, &[R0], "define")
        .op(Loadui, &[R0], TOKEN)
        .to(Calli, &[SP], "lookup")
        .to(JumpZ, &[R0], "undefined")
        .op(Addui, &[R0, R0], 32)
        .to(Calli, &[SP], "emit_line")
        .to(Jump, &[], "main")
        .label("undefined")
        .op(Loadui, &[R0], TOKEN)
        .to(Calli, &[SP], "emit_line")
        .to(Jump, &[], "main")
        // DEFINE NAME VALUE: a new entry at R13, pushed on the list.
        .label("define")
        .to(Calli, &[SP], "read_token")
        .op(Addui, &[R0, R13], 4)
        .op(Loadui, &[R1], TOKEN)
        .to(Calli, &[SP], "copy_string")
        .to(Calli, &[SP], "read_token")
        .op(Addui, &[R0, R13], 32)
        .op(Loadui, &[R1], TOKEN)
        .to(Calli, &[SP], "copy_string")
        .op(Store, &[R12, R13], 0)
        .op(Copy, &[R12, R13], 0)
        .op(Addui, &[R13, R13], ENTRY)
        .to(Jump, &[], "main")
        .label("done")
        .op(Loadui, &[R0], 0x1101)
        .op(Halcode, &[], 0x100002) // FCLOSE
        .op(Halt, &[], 0);

    // getc: R0 = next byte of tape 1, or -1 at its end.
    b.label("getc")
        .op(Pushr, &[R1, SP], 0)
        .op(Loadui, &[R1], 0x1100)
        .op(Halcode, &[], 0x100100) // FGETC
        .op(Popr, &[R1, SP], 0)
        .op(Ret, &[SP], 0);

    // is_space: R1 = 1 if R0 is a space, tab or newline, else 0.
    b.label("is_space")
        .op(Loadui, &[R1], 1)
        .op(CmpskipiNe, &[R0], 0x20)
        .op(Ret, &[SP], 0)
        .op(CmpskipiNe, &[R0], 0x0A)
        .op(Ret, &[SP], 0)
        .op(CmpskipiNe, &[R0], 0x09)
        .op(Ret, &[SP], 0)
        .op(False, &[R1], 0)
        .op(Ret, &[SP], 0);

    // read_token: the next token into TOKEN (NUL-terminated); R0 = its length, 0 at end.
    b.label("read_token")
        .op(Pushr, &[R1, SP], 0)
        .op(Pushr, &[R2, SP], 0)
        .op(Pushr, &[R3, SP], 0)
        .op(Loadui, &[R2], TOKEN)
        .op(False, &[R3], 0)
        .label("rt_skip")
        .to(Calli, &[SP], "getc")
        .to(JumpNp, &[R0], "rt_end")
        .op(CmpskipiNe, &[R0], 0x23)
        .to(Jump, &[], "rt_comment")
        .to(Calli, &[SP], "is_space")
        .to(JumpNz, &[R1], "rt_skip")
        .label("rt_char")
        .op(Storex8, &[R0, R2, R3], 0)
        .op(Addui, &[R3, R3], 1)
        .to(Calli, &[SP], "getc")
        .to(JumpNp, &[R0], "rt_end")
        .to(Calli, &[SP], "is_space")
        .to(JumpZ, &[R1], "rt_char")
        .label("rt_end")
        .op(False, &[R0], 0)
        .op(Storex8, &[R0, R2, R3], 0)
        .op(Move, &[R0, R3], 0)
        .op(Popr, &[R3, SP], 0)
        .op(Popr, &[R2, SP], 0)
        .op(Popr, &[R1, SP], 0)
        .op(Ret, &[SP], 0)
        .label("rt_comment")
        .to(Calli, &[SP], "getc")
        .to(JumpNp, &[R0], "rt_end")
        .op(CmpskipiE, &[R0], 0x0A)
        .to(Jump, &[], "rt_comment")
        .to(Jump, &[], "rt_skip");

    // match: R0 = -1 if the strings at R0 and R1 are equal, else 0 (the save, byte-compare
    // loop, verdict and restore shape of the chain's string compare).
    b.label("match")
        .op(Pushr, &[R1, SP], 0)
        .op(Pushr, &[R2, SP], 0)
        .op(Pushr, &[R3, SP], 0)
        .op(Pushr, &[R4, SP], 0)
        .op(Move, &[R3, R0], 0)
        .op(Copy, &[R4, R1], 0)
        .op(False, &[R2], 0)
        .label("m_loop")
        .op(Loadxu8, &[R0, R3, R2], 0)
        .op(Loadxu8, &[R1, R4, R2], 0)
        .op(Addui, &[R2, R2], 1)
        .op(CmpskipNe, &[R0, R1], 0)
        .to(JumpNz, &[R0], "m_loop")
        .op(False, &[R3], 0)
        .op(CmpskipNe, &[R1, R0], 0)
        .op(True, &[R3], 0)
        .op(Move, &[R0, R3], 0)
        .op(Popr, &[R4, SP], 0)
        .op(Popr, &[R3, SP], 0)
        .op(Popr, &[R2, SP], 0)
        .op(Popr, &[R1, SP], 0)
        .op(Ret, &[SP], 0);

    // is_define: R0 = 1 if the string at R0 is "DEFINE".
    b.label("is_define")
        .op(Pushr, &[R1, SP], 0)
        .to(Calli, &[SP], "define_word")
        .bytes(b"DEFINE\0\0")
        .label("define_word")
        // CALLI pushed the address of the string: pop it into R1.
        .op(Popr, &[R1, SP], 0)
        .to(Calli, &[SP], "match")
        .op(Popr, &[R1, SP], 0)
        .op(Ret, &[SP], 0);

    // lookup: R0 = the entry whose name is the string at R0, or 0.
    b.label("lookup")
        .op(Pushr, &[R1, SP], 0)
        .op(Pushr, &[R2, SP], 0)
        .op(Move, &[R1, R0], 0)
        .op(Copy, &[R2, R12], 0)
        .label("l_loop")
        .to(JumpZ, &[R2], "l_done")
        .op(Addui, &[R0, R2], 4)
        .to(Calli, &[SP], "match")
        .to(JumpNz, &[R0], "l_done")
        .op(Load, &[R2, R2], 0)
        .to(Jump, &[], "l_loop")
        .label("l_done")
        .op(Move, &[R0, R2], 0)
        .op(Popr, &[R2, SP], 0)
        .op(Popr, &[R1, SP], 0)
        .op(Ret, &[SP], 0);

    // copy_string: copies the string at R1 to R0.
    b.label("copy_string")
        .op(Pushr, &[R0, SP], 0)
        .op(Pushr, &[R1, SP], 0)
        .op(Pushr, &[R2, SP], 0)
        .label("c_loop")
        .op(Loadu8, &[R2, R1], 0)
        .op(Store8, &[R2, R0], 0)
        .op(Addui, &[R0, R0], 1)
        .op(Addui, &[R1, R1], 1)
        .to(JumpNz, &[R2], "c_loop")
        .op(Popr, &[R2, SP], 0)
        .op(Popr, &[R1, SP], 0)
        .op(Popr, &[R0, SP], 0)
        .op(Ret, &[SP], 0);

    // emit_line: writes the string at R0 and a newline to tape 2.
    b.label("emit_line")
        .op(Pushr, &[R0, SP], 0)
        .op(Pushr, &[R1, SP], 0)
        .op(Pushr, &[R2, SP], 0)
        .op(Move, &[R2, R0], 0)
        .label("e_loop")
        .op(Loadu8, &[R0, R2], 0)
        .to(JumpZ, &[R0], "e_end")
        .op(Loadui, &[R1], 0x1101)
        .op(Halcode, &[], 0x100200) // FPUTC
        .op(Addui, &[R2, R2], 1)
        .to(Jump, &[], "e_loop")
        .label("e_end")
        .op(Loadui, &[R0], 0x0A)
        .op(Loadui, &[R1], 0x1101)
        .op(Halcode, &[], 0x100200)
        .op(Popr, &[R2, SP], 0)
        .op(Popr, &[R1, SP], 0)
        .op(Popr, &[R0, SP], 0)
        .op(Ret, &[SP], 0);
    b.finish().unwrap_or_default()
}

/// Input of about `size` bytes: 64 DEFINEs whose names share prefixes (as Knight
/// mnemonics do), then lines of tokens, mostly defined names, some undefined numbers,
/// and a comment every 16 lines. Deterministic.
pub fn input(size: usize) -> Vec<u8> {
    const STEMS: [&str; 4] = ["LOAD", "STORE", "CMPSKIP", "JUMP"];
    const TAILS: [&str; 16] = [
        "", "I", "UI", "8", "U8", "16", "U16", "X", "XU8", "R", "R16", ".E", ".NE", ".G", ".L",
        ".Z",
    ];
    let mut names = Vec::new();
    let mut out = Vec::with_capacity(size + 64);
    for stem in STEMS {
        for tail in TAILS {
            let name = format!("{stem}{tail}");
            let value = format!("{:08X}", names.len() * 0x0101_0101 + 0x0900_0000);
            out.extend_from_slice(format!("DEFINE {name} {value}\n").as_bytes());
            names.push(name);
        }
    }
    let mut x: u32 = 0x2545_F491;
    let mut line = 0u32;
    while out.len() < size {
        for _ in 0..6 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let pick = (x >> 16) as usize;
            if pick.is_multiple_of(8) {
                out.extend_from_slice(format!("{:04x}", pick & 0xFFFF).as_bytes());
            } else {
                out.extend_from_slice(names[pick % names.len()].as_bytes());
            }
            out.push(if pick.is_multiple_of(3) { b'\t' } else { b' ' });
        }
        line += 1;
        if line.is_multiple_of(16) {
            out.extend_from_slice(b"# a comment line\n");
        } else {
            out.push(b'\n');
        }
    }
    out
}

/// What the workload ROM writes for `input` (the reference answer, in Rust).
pub fn expand(input: &[u8]) -> Vec<u8> {
    let mut table: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut out = Vec::new();
    let mut tokens = Tokens { input, at: 0 };
    while let Some(token) = tokens.next() {
        if token == b"DEFINE" {
            let name = tokens.next().unwrap_or_default();
            let value = tokens.next().unwrap_or_default();
            table.push((name, value));
            continue;
        }
        match table.iter().rev().find(|(name, _)| *name == token) {
            Some((_, value)) => out.extend_from_slice(value),
            None => out.extend_from_slice(&token),
        }
        out.push(b'\n');
    }
    out
}

/// The workload's tokenizer (for [`expand`]): a token is up to the next space, tab or
/// newline, `#` before a token skips to the end of the line.
struct Tokens<'a> {
    input: &'a [u8],
    at: usize,
}

impl Tokens<'_> {
    fn next(&mut self) -> Option<Vec<u8>> {
        let space = |c: u8| matches!(c, b' ' | b'\n' | b'\t');
        loop {
            let &c = self.input.get(self.at)?;
            self.at += 1;
            if c == b'#' {
                while let Some(&c) = self.input.get(self.at) {
                    self.at += 1;
                    if c == b'\n' {
                        break;
                    }
                }
            } else if !space(c) {
                let start = self.at - 1;
                while self.input.get(self.at).is_some_and(|&c| !space(c)) {
                    self.at += 1;
                }
                let token = self.input[start..self.at].to_vec();
                self.at += 1;
                return Some(token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run_with_tapes, Config};

    #[test]
    fn the_rom_expands_as_the_rust_reference_does() {
        let src = input(20_000);
        let config = Config {
            memory_size: MEMORY,
            ..Config::default()
        };
        let run = run_with_tapes(&rom(), &src, &config).unwrap();
        let want = expand(&src);
        assert!(want.len() > 10_000);
        assert_eq!(run.tape_02, want);
    }

    #[test]
    fn small_cases() {
        let config = Config {
            memory_size: MEMORY,
            ..Config::default()
        };
        for src in [
            &b""[..],
            b"a",
            b"DEFINE A 1\nA B # A\nA",
            b"DEFINE A 1 DEFINE A 2 A\tA\n#x\n",
            b"DEFINE",
        ] {
            let run = run_with_tapes(&rom(), src, &config).unwrap();
            assert_eq!(
                run.tape_02,
                expand(src),
                "{:?}",
                String::from_utf8_lossy(src)
            );
        }
    }
}
