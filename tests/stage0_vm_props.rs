//! Property tests of the Knight VM (`stage0-vm`): arbitrary ROMs never panic or hang under
//! a step limit; decoding then re-encoding an instruction gives back its bytes; the
//! disassembler names every opcode of the spec.

use proptest::prelude::*;
use stage0_vm::isa::{decode, encode, Instr, NATIVE_HALCODES, OPCODES, POSIX_HALCODES};
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
