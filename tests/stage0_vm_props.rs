//! Property tests of the Knight VM (`stage0-vm`): arbitrary ROMs never panic or hang under
//! a step limit; ROMs made of the idioms the executor fuses run exactly as unfused
//! (`--trace`) runs do at any step limit, self-modifying stores included; decoding then
//! re-encoding an instruction gives back its bytes; the disassembler names every opcode
//! of the spec; the fast executor equals the plain step (registers, memory, steps, faults)
//! on ROMs made of the real chain's call, save, restore and compare idioms.

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

/// One piece of a frame ROM: the call/save/restore/compare idioms of the real chain
/// (PUSHR runs and register moves, POPR runs and RET, CALLI, the byte-compare loop body,
/// CMPSKIP + JUMP, set-if-equal), with random registers, stores into the code, faults
/// (division by zero, loads outside memory, illegal words, bad HALCODEs) and raw words.
type Frame = (u8, u8, u8, i32, [u8; 6]);

fn frame_piece() -> impl Strategy<Value = Frame> {
    (
        0u8..16,
        any::<u8>(),
        any::<u8>(),
        -64i32..64,
        any::<[u8; 6]>(),
    )
}

/// Registers a piece may name: mostly R0..R5, sometimes the stack register R15.
fn reg(x: u8) -> u8 {
    if x % 16 == 15 {
        15
    } else {
        x % 6
    }
}

fn frame_rom(pieces: &[Frame]) -> Vec<u8> {
    let mut starts = Vec::new();
    frame_pass(pieces, &[], &mut starts);
    let known = starts.clone();
    frame_pass(pieces, &known, &mut starts)
}

fn frame_pass(pieces: &[Frame], at: &[u32], starts: &mut Vec<u32>) -> Vec<u8> {
    use Op::*;
    starts.clear();
    let mut b = Builder::new();
    b.op(Loadui, &[0], 0x1100)
        .op(Halcode, &[], 0x100000)
        .op(Loadui, &[0], 0x1101)
        .op(Halcode, &[], 0x100001);
    let aim = |b: &Builder, len: u32, to: i32| -> i32 {
        match at.get(to.rem_euclid(at.len().max(1) as i32) as usize) {
            Some(&t) => t as i32 - (b.here() + len) as i32,
            None => 0,
        }
    };
    for &(kind, x, y, k, raw) in pieces {
        starts.push(b.here());
        let (ra, rb) = (reg(x), reg(y));
        match kind {
            0 | 1 => {
                // PUSHR run, then maybe moves.
                for i in 0..(x % 7) {
                    b.op(Pushr, &[reg(y.wrapping_add(i)), 15], 0);
                }
                if kind == 1 {
                    b.op(Move, &[ra, rb], 0)
                        .op(Loadui, &[rb], k)
                        .op(Copy, &[rb, ra], 0);
                }
            }
            2 | 3 => {
                // Moves, POPR run, maybe RET.
                if kind == 3 {
                    b.op(Move, &[ra, rb], 0).op(False, &[rb], 0);
                }
                for i in 0..(x % 7) {
                    b.op(Popr, &[reg(y.wrapping_add(i)), 15], 0);
                }
                if y & 1 == 0 {
                    b.op(Ret, &[15], 0);
                }
            }
            4 => {
                let d = aim(&b, 6, k);
                b.op(Calli, &[15], d);
            }
            5 => {
                // The byte-compare loop body.
                b.op(Loadxu8, &[0, 2, 4], 0)
                    .op(Loadxu8, &[1, 3, 4], 0)
                    .op(Addui, &[4, 4], 1)
                    .op(CmpskipNe, &[ra, rb], 0);
                let jump = if x & 1 == 0 { JumpNz } else { Jump };
                let d = aim(&b, if jump == Jump { 4 } else { 6 }, k);
                b.op(jump, &[1], d);
            }
            6 => {
                b.op(CmpskipNe, &[ra, rb], 0);
                let d = aim(&b, 4, k);
                b.op(Jump, &[], d);
            }
            7 => {
                b.op(False, &[2], 0)
                    .op(CmpskipNe, &[ra, rb], 0)
                    .op(True, &[2], 0);
            }
            8 => {
                // A store over the code (0..15 bytes into a piece).
                let op = [Storer8, Storer16, Storer][usize::from(x) % 3];
                let d = aim(&b, 6, k) + i32::from(y & 15);
                b.op(op, &[ra], d);
            }
            9 => {
                b.op(Addi, &[ra, rb], k);
            }
            10 => {
                b.op(Loadui, &[ra], k & 0x3FF);
            }
            11 => {
                // Faults: division by R-something, a load anywhere, PUSH8/POP8.
                match x % 4 {
                    0 => b.op(Div, &[ra, rb, reg(y >> 3)], 0),
                    1 => b.op(Loadx, &[ra, rb, reg(y >> 3)], 0),
                    2 => b.op(Push8, &[ra, 15], 0),
                    _ => b.op(Pop8, &[ra, 15], 0),
                };
            }
            12 => {
                // LOADUI R1 tape + FGETC / FPUTC, a JUMP.NP.
                b.op(Loadui, &[1], 0x1100 + i32::from(x & 1));
                b.op(Halcode, &[], if x & 1 == 0 { 0x100100 } else { 0x100200 });
                let d = aim(&b, 6, k);
                b.op(JumpNp, &[0], d);
            }
            13 => {
                b.op(Halcode, &[], if x & 1 == 0 { 0x110000 } else { 0x12_3456 });
            }
            14 => {
                let d = aim(&b, 6, k);
                b.op(CmpjumpiE, &[ra, rb], d);
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

/// Everything a run leaves: how it ended (the exact message of a fault), registers, ip
/// after a clean stop or at the step limit, steps, memory and tape 2.
fn run_machine(
    rom: &[u8],
    tape: &[u8],
    config: &Config,
    sp: u32,
    plain: bool,
) -> (String, [u32; 16], Option<u32>, u64, Vec<u8>, Vec<u8>) {
    use stage0_vm::{Devices, Io, Machine, TapeStore};
    let mut m = Machine::new(rom, config).expect("fits");
    m.regs[15] = sp;
    let mut dev = Devices::new(TapeStore::Memory([Some(tape.to_vec()), None]));
    let (mut stdin, mut stdout, mut stderr): (&[u8], Vec<u8>, Vec<u8>) = (&[], vec![], vec![]);
    let mut io = Io {
        stdin: &mut stdin,
        stdout: &mut stdout,
        stderr: &mut stderr,
    };
    let limit = config.max_steps.unwrap_or(u64::MAX);
    let end = if plain {
        loop {
            if m.steps >= limit {
                break Err(Fault::MaxSteps {
                    steps: m.steps,
                    ip: m.ip,
                });
            }
            match m.step(&mut dev, &mut io) {
                Ok(None) => {}
                Ok(Some(stop)) => break Ok(stop),
                Err(e) => break Err(e),
            }
        }
    } else {
        m.run(&mut dev, &mut io)
    };
    let _ = dev.finish();
    let ip = match &end {
        Ok(_) | Err(Fault::MaxSteps { .. }) => Some(m.ip),
        Err(_) => None,
    };
    let shown = match &end {
        Ok(stop) => format!("{stop:?}"),
        Err(e) => e.to_string(),
    };
    let tape_02 = dev.memory_file(1).unwrap_or_default().to_vec();
    (shown, m.regs, ip, m.steps, m.memory().to_vec(), tape_02)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// The fast executor (pre-decoded slots, fused forms) against the plain step
    /// (`isa::decode` + the instruction semantics, no cache, no fusion): same end, same
    /// registers, steps, memory and tape, at any step limit and without one.
    #[test]
    fn fast_executor_equals_plain_step(pieces in prop::collection::vec(frame_piece(), 1..32),
                                       tape in prop::collection::vec(any::<u8>(), 0..24),
                                       limit in 1u64..600,
                                       sp in prop_oneof![Just(0x300u32), Just(0x80), Just(0x3F0), 0u32..0x400]) {
        let rom = frame_rom(&pieces);
        let memory_size = 0x400.max(rom.len() + 16);
        let limited = Config { memory_size, max_steps: Some(limit), ..Config::default() };
        prop_assert_eq!(run_machine(&rom, &tape, &limited, sp, false),
                        run_machine(&rom, &tape, &limited, sp, true));
        let free = Config { max_steps: None, ..limited.clone() };
        let plain = run_machine(&rom, &tape, &limited, sp, true);
        if !plain.0.contains("max-steps") {
            prop_assert_eq!(run_machine(&rom, &tape, &free, sp, false), plain);
        }
    }
}
