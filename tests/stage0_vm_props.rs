//! Property tests of the Knight VM (`stage0-vm`): arbitrary ROMs never panic or hang under
//! a step limit; ROMs made of the idioms the executor fuses run exactly as unfused
//! (`--trace`) runs do at any step limit, self-modifying stores included; decoding then
//! re-encoding an instruction gives back its bytes; the disassembler names every opcode
//! of the spec.

use proptest::prelude::*;
use stage0_vm::asm::Builder;
use stage0_vm::isa::{decode, encode, Instr, Op, NATIVE_HALCODES, OPCODES, POSIX_HALCODES};
use stage0_vm::{disassemble, run_with_tapes, Config, Fault};

/// ROM bytes biased towards valid instructions: random words whose first byte is often
/// one of the group prefixes.
fn rom() -> impl Strategy<Value = Vec<u8>> {
    let prefix = prop_oneof![
        Just(0x00u8),
        Just(0x01),
        Just(0x05),
        Just(0x09),
        Just(0x0D),
        Just(0x3C),
        Just(0x42),
        Just(0xE0),
        Just(0xE1),
        any::<u8>(),
    ];
    prop::collection::vec((prefix, any::<[u8; 5]>()), 0..48).prop_map(|words| {
        let mut out = Vec::new();
        for (p, rest) in words {
            out.push(p);
            let n = if p == 0xE0 || p == 0xE1 { 5 } else { 3 };
            out.extend_from_slice(&rest[..n]);
        }
        out
    })
}

/// One piece of an idiom ROM: the instruction sequences the executor fuses into one slot
/// (with random operands and displacements that may land anywhere, even mid-instruction),
/// stores into the code, and random words.
fn piece() -> impl Strategy<Value = (u8, u8, i32, i32, [u8; 6])> {
    (
        0u8..9,
        any::<u8>(),
        -48i32..48,
        any::<i32>(),
        any::<[u8; 6]>(),
    )
}

fn idiom_rom(pieces: &[(u8, u8, i32, i32, [u8; 6])]) -> Vec<u8> {
    // Built twice: the first pass records where each piece starts (lengths do not depend
    // on displacements), the second aims jumps and stores at those addresses.
    let mut starts = Vec::new();
    idiom_pass(pieces, &[], &mut starts);
    let known = starts.clone();
    idiom_pass(pieces, &known, &mut starts)
}

fn idiom_pass(
    pieces: &[(u8, u8, i32, i32, [u8; 6])],
    at: &[u32],
    starts: &mut Vec<u32>,
) -> Vec<u8> {
    use Op::*;
    const CMPSKIPI: [Op; 10] = [
        CmpskipiG,
        CmpskipiGe,
        CmpskipiE,
        CmpskipiNe,
        CmpskipiLe,
        CmpskipiL,
        CmpskipuiG,
        CmpskipuiGe,
        CmpskipuiLe,
        CmpskipuiL,
    ];
    const JUMP_COND: [Op; 13] = [
        JumpC, JumpB, JumpO, JumpG, JumpGe, JumpE, JumpNe, JumpLe, JumpL, JumpZ, JumpNz, JumpP,
        JumpNp,
    ];
    starts.clear();
    let mut b = Builder::new();
    b.op(Loadui, &[0], 0x1100)
        .op(Halcode, &[], 0x100000)
        .op(Loadui, &[0], 0x1101)
        .op(Halcode, &[], 0x100001);
    // The displacement from the end of an instruction of `len` bytes to piece `disp`
    // (mod the count, the last being the final HALT) plus `off` bytes.
    let aim = |b: &Builder, len: u32, disp: i32, off: u32| -> i32 {
        match at.get(disp.rem_euclid(at.len().max(1) as i32) as usize) {
            Some(&t) => (t + off) as i32 - (b.here() + len) as i32,
            None => 0,
        }
    };
    for &(kind, pick, disp, k, raw) in pieces {
        starts.push(b.here());
        let small = k & 0x7F;
        // Jumps go to piece starts; odd `disp`s are raw displacements (anywhere).
        let jd = |b: &Builder| {
            if disp & 1 != 0 {
                disp
            } else {
                aim(b, 6, disp, 0)
            }
        };
        // Raw words one time in 16.
        match if kind == 15 { 8 } else { kind % 8 } {
            0 => {
                b.op(Loadui, &[1], 0x1100).op(Halcode, &[], 0x100100);
                let d = jd(&b);
                b.op(JumpNp, &[0], d);
            }
            1 => {
                b.op(Loadui, &[1], 0x1101).op(Halcode, &[], 0x100200);
            }
            2 => {
                b.op(CMPSKIPI[usize::from(pick) % 10], &[0], small);
                let d = if disp & 1 != 0 {
                    disp
                } else {
                    aim(&b, 4, disp, 0)
                };
                b.op(Jump, &[], d);
            }
            3 => {
                b.op(if pick & 1 == 0 { Cmpi } else { Cmpui }, &[2, 0], small);
                let d = jd(&b);
                b.op(JUMP_COND[usize::from(pick >> 1) % 13], &[2], d);
            }
            4 => {
                b.op(if pick & 1 == 0 { Cmp } else { Cmpu }, &[2, 0, 3], 0);
                let d = jd(&b);
                b.op(JUMP_COND[usize::from(pick >> 1) % 13], &[2], d);
            }
            // A store of the byte read (or of R3) over the code: 0..15 bytes into a piece.
            5 => {
                let op = [Storer8, Storer16, Storer][usize::from(pick) % 3];
                let d = aim(&b, 6, disp, (k as u32 >> 8) & 15);
                b.op(op, &[if pick & 4 == 0 { 0 } else { 3 }], d);
            }
            6 => {
                b.op(Addi, &[3, 3], k);
            }
            7 => {
                b.op(Loadui, &[4], small);
            }
            _ => {
                b.bytes(&raw[..if raw[0] & 1 == 0 { 4 } else { 6 }]);
            }
        }
    }
    starts.push(b.here());
    b.op(Halt, &[], 0);
    b.finish().unwrap_or_default()
}

proptest! {
    // Cheap cases (short ROMs, at most 400 steps), and the slips they look for are rare.
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn fused_runs_equal_traced_runs(pieces in prop::collection::vec(piece(), 1..24),
                                    tape in prop::collection::vec(any::<u8>(), 0..24),
                                    limit in 1u64..400) {
        let rom = idiom_rom(&pieces);
        let fused = Config { memory_size: 1024, max_steps: Some(limit), ..Config::default() };
        let traced = Config { trace: true, ..fused.clone() };
        prop_assert_eq!(run_with_tapes(&rom, &tape, &fused), run_with_tapes(&rom, &tape, &traced));
        // Without a limit the executor runs without limit checks: same result whenever
        // the limited run ended by itself.
        let free = Config { max_steps: None, ..fused.clone() };
        if let Ok(done) = run_with_tapes(&rom, &tape, &fused) {
            prop_assert_eq!(run_with_tapes(&rom, &tape, &free), Ok(done));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_roms_stop_cleanly(rom in rom(), tape in prop::collection::vec(any::<u8>(), 0..64),
                                   memory in 0usize..2048) {
        let config = Config {
            memory_size: memory.max(rom.len()),
            max_steps: Some(20_000),
            ..Config::default()
        };
        // Ok or a fault; either way no panic, no hang, and the fault has a message.
        if let Err(f) = run_with_tapes(&rom, &tape, &config) {
            prop_assert!(!f.to_string().is_empty());
            if let Fault::MaxSteps { steps, .. } = f {
                prop_assert_eq!(steps, 20_000);
            }
        }
    }

    #[test]
    fn arbitrary_roms_in_posix_mode_stay_in_the_sandbox(rom in rom()) {
        let dir = std::env::temp_dir().join(format!("hexroot-vm-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let config = Config {
            memory_size: 4096,
            max_steps: Some(5_000),
            posix: true,
            sandbox: Some(dir.clone()),
            ..Config::default()
        };
        let _ = run_with_tapes(&rom, b"", &config);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn decode_then_encode_gives_the_same_bytes(bytes in any::<[u8; 6]>()) {
        if let Ok(instr) = decode(&bytes) {
            let n = instr.byte_len() as usize;
            prop_assert_eq!(encode(&instr), bytes[..n].to_vec());
        }
    }

    #[test]
    fn disassembler_names_every_opcode(regs in any::<[u8; 4]>(), imm in any::<u16>()) {
        for info in OPCODES {
            let codes: Vec<(u32, &str)> = if info.name == "HALCODE" {
                NATIVE_HALCODES.iter().chain(POSIX_HALCODES).copied().collect()
            } else {
                vec![(u32::from(imm), info.name)]
            };
            for (imm, name) in codes {
                let instr = Instr { op: info.op, regs: regs.map(|r| r & 15), imm, ignored: 0 };
                let text = disassemble(&encode(&instr));
                let mnemonic = text.split_whitespace().nth(2).unwrap_or("");
                prop_assert_eq!(mnemonic, name, "{}", text);
            }
        }
    }
}

#[test]
fn opcode_table_has_every_spec_opcode() {
    // 198 operations outside HALCODE, plus NOP, HALT and the HALCODE entry; 7 + 12 services.
    assert_eq!(OPCODES.len(), 201);
    assert_eq!(NATIVE_HALCODES.len(), 7);
    assert_eq!(POSIX_HALCODES.len(), 12);
}

#[test]
fn knight_hex0_seed_is_a_fixpoint_on_the_vm() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/knight");
    let rom = std::fs::read(dir.join("hex0.rom")).expect("seeds/knight/hex0.rom");
    let src = std::fs::read(dir.join("hex0.hex0")).expect("seeds/knight/hex0.hex0");
    let run = run_with_tapes(&rom, &src, &Config::default()).expect("the seed halts");
    assert_eq!(run.stop, stage0_vm::Stop::Halt);
    assert_eq!(run.tape_02, rom, "the seed rebuilds itself");
    // Cross-check with the library hex0 assembler on the same text.
    assert_eq!(
        hex0::lang::assemble(&src, hex0::lang::Dialect::Portable).ok(),
        Some(rom)
    );
}
