//! Unit tests of the machine: fused forms against the plain step at every step limit,
//! self-modifying code, faults, quirks, POSIX mode.

use crate::asm::Builder;
use crate::isa::Op::*;
use crate::{run_with_tapes, Config, Fault, Stop};

fn run(b: &Builder, config: &Config) -> Result<crate::TapeRun, Fault> {
    run_with_tapes(&b.finish().unwrap(), b"", config)
}

#[test]
fn max_steps_stops_a_runaway_loop() {
    let mut b = Builder::new();
    b.label("l").to(Jump, &[], "l");
    let config = Config {
        max_steps: Some(1000),
        ..Config::default()
    };
    let f = run(&b, &config).unwrap_err();
    assert_eq!(f, Fault::MaxSteps { steps: 1000, ip: 0 });
    assert!(f.to_string().contains("--max-steps"));
}

#[test]
fn fused_cmpskipi_jump_counts_two_steps_and_honours_max_steps() {
    // CMPSKIPI.E R0 1 fails (R0 = 0), so the JUMP runs: two steps per iteration.
    let mut b = Builder::new();
    b.label("l").op(CmpskipiE, &[0], 1).to(Jump, &[], "l");
    for (limit, ip) in [(1000, 0), (1001, 6)] {
        let config = Config {
            max_steps: Some(limit),
            ..Config::default()
        };
        let f = run(&b, &config).unwrap_err();
        assert_eq!(f, Fault::MaxSteps { steps: limit, ip });
    }
    // The condition holds: the JUMP is skipped (one step) and HALT follows.
    let mut b = Builder::new();
    b.op(CmpskipiE, &[0], 0)
        .to(Jump, &[], "away")
        .op(Halt, &[], 0)
        .label("away")
        .op(Halt, &[], 0);
    let run = run(&b, &Config::default()).unwrap();
    assert_eq!((run.stop, run.steps), (Stop::Halt, 2));
}

#[test]
fn fused_cmpi_jump_cond_takes_the_same_paths() {
    // R0 = 5; CMPI R2 R0 k; JUMP.cond R2 "yes"; HALT (2 bytes of steps apart).
    for (cond, k, taken) in [
        (JumpE, 5, true),
        (JumpE, 6, false),
        (JumpNe, 6, true),
        (JumpL, 6, true),
        (JumpG, 6, false),
        (JumpGe, 5, true),
        (JumpLe, 4, false),
        (JumpNz, 0, true),
        (JumpZ, 0, false),
        (JumpP, 9, true),
        (JumpNp, 9, false),
    ] {
        for op in [Cmpi, Cmpui, Cmp, Cmpu] {
            let mut b = Builder::new();
            b.op(Loadui, &[0], 5).op(Loadui, &[1], k);
            if matches!(op, Cmp | Cmpu) {
                b.op(op, &[2, 0, 1], 0);
            } else {
                b.op(op, &[2, 0], k);
            }
            b.to(cond, &[2], "yes")
                .op(Halt, &[], 0)
                .label("yes")
                .op(Nop, &[], 0)
                .op(Halt, &[], 0);
            let run = run(&b, &Config::default()).unwrap();
            assert_eq!(run.steps, if taken { 6 } else { 5 }, "{op:?} {cond:?} {k}");
            for limit in [3, 4] {
                let config = Config {
                    max_steps: Some(limit),
                    ..Config::default()
                };
                match run_with_tapes(&b.finish().unwrap(), b"", &config) {
                    Err(Fault::MaxSteps { steps, .. }) => assert_eq!(steps, limit),
                    other => panic!("{other:?}"),
                }
            }
        }
    }
}

/// Runs `rom` on `tape` fused (fast) and unfused (`--trace`) with every step limit up
/// to the full run and one beyond: the results (fault with steps and ip, or the tape,
/// steps and stop) must be the same.
fn same_fused_and_traced_at_every_limit(rom: &[u8], tape: &[u8], up_to: u64) {
    for limit in 1..=up_to {
        let fused = Config {
            max_steps: Some(limit),
            ..Config::default()
        };
        let traced = Config {
            trace: true,
            ..fused.clone()
        };
        assert_eq!(
            run_with_tapes(rom, tape, &fused),
            run_with_tapes(rom, tape, &traced),
            "limit {limit}"
        );
    }
}

#[test]
fn fused_runs_match_traced_runs_at_every_step_limit() {
    let tape = b"# c 12\n4a 3B ; x 9\nfF 00\n01 7e\n";
    let seed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../seeds/knight/hex0.rom"
    ))
    .unwrap();
    for rom in [crate::asm::hex0_decoder(), seed] {
        let full = run_with_tapes(&rom, tape, &Config::default()).unwrap();
        assert_eq!(full.tape_02, [0x4A, 0x3B, 0xFF, 0, 1, 0x7E]);
        same_fused_and_traced_at_every_limit(&rom, tape, full.steps + 1);
    }
}

#[test]
fn overwriting_a_fused_fgetc_invalidates_the_loadui() {
    // LOADUI R1 tape_01; FGETC; JUMP.NP R0 done; then the FGETC is overwritten with a
    // NOP: from the second pass on the loop never reads (and never ends).
    let mut b = Builder::new();
    b.op(Loadui, &[0], 0x1100)
        .op(Halcode, &[], 0x100000)
        .label("top")
        .op(Loadui, &[1], 0x1100)
        .label("getc")
        .op(Halcode, &[], 0x100100)
        .to(JumpNp, &[0], "done")
        .to(Loadr, &[2], "nop")
        .to(Storer, &[2], "getc")
        .to(Jump, &[], "top")
        .label("done")
        .op(Halt, &[], 0)
        .label("nop")
        .op(Nop, &[], 0);
    let rom = b.finish().unwrap();
    same_fused_and_traced_at_every_limit(&rom, b"abc", 60);
    let config = Config {
        max_steps: Some(1000),
        ..Config::default()
    };
    let f = run_with_tapes(&rom, b"abc", &config).unwrap_err();
    assert!(matches!(f, Fault::MaxSteps { steps: 1000, .. }), "{f:?}");
}

#[test]
fn overwriting_a_fused_jump_invalidates_the_cmpskipi() {
    // First pass: CMPSKIPI.NE fails, its fused JUMP goes to "a", which overwrites the
    // JUMP (at 4) with a NOP; second pass: CMPSKIPI.NE, NOP, HALT.
    let mut b = Builder::new();
    b.label("top").op(CmpskipiNe, &[0], 0);
    let jump_at = b.here() as i32;
    b.to(Jump, &[], "a")
        .op(Halt, &[], 0)
        .label("a")
        .op(Addi, &[1, 1], 1)
        .op(False, &[2], 0);
    let store_at = b.here() as i32;
    let store_len = 6;
    b.op(Storer, &[2], jump_at - (store_at + store_len))
        .to(Jump, &[], "top");
    assert_eq!(b.here() as i32 - store_at, store_len + 4);
    let config = Config {
        max_steps: Some(100),
        ..Config::default()
    };
    let run = run(&b, &config).unwrap();
    assert_eq!((run.stop, run.steps), (Stop::Halt, 9));
}

#[test]
fn int_min_divided_by_minus_one_is_a_clean_fault() {
    for op in [Div, Mod] {
        let mut b = Builder::new();
        b.op(Loadui, &[1], 0x7FFF) // R1 = 0x7FFF, then build 0x80000000
            .op(Loadui, &[1], 1)
            .op(Sali, &[1], 31)
            .op(Loadi, &[2], -1)
            .op(op, &[3, 1, 2], 0)
            .op(Halt, &[], 0);
        let f = run(&b, &Config::default()).unwrap_err();
        assert!(
            matches!(
                f,
                Fault::DivideOverflow {
                    steps: 5,
                    ip: 24,
                    ..
                }
            ),
            "{f:?}"
        );
    }
}

#[test]
fn self_modifying_store_invalidates_the_decoded_instruction() {
    // The loop body's ADDI R1 R1 1 is executed once, then overwritten with HALT.
    let mut b = Builder::new();
    b.label("body")
        .op(Addi, &[1, 1], 1)
        .op(Loadr, &[2], 10) // R2 = the HALT word below
        .op(Storer, &[2], -18) // over "body"
        .to(Jump, &[], "body")
        .op(Halt, &[], 0);
    let run = run(&b, &Config::default()).unwrap();
    assert_eq!(run.stop, Stop::Halt);
    assert_eq!(run.steps, 5);
}

#[test]
fn posix_exit_status_and_write() {
    // write(1, "hi", 2); exit(7)
    let mut b = Builder::new();
    b.op(Loadui, &[0], 1)
        .op(Loadui, &[1], 0x40)
        .op(Loadui, &[2], 2)
        .op(Halcode, &[], 0x000001)
        .op(Loadui, &[0], 0x107)
        .op(Halcode, &[], 0x00003C);
    while b.here() < 0x40 {
        b.op(Nop, &[], 0);
    }
    b.bytes(b"hi");
    let config = Config {
        posix: true,
        ..Config::default()
    };
    let run = run(&b, &config).unwrap();
    assert_eq!(run.stop, Stop::Exit(7));
    assert_eq!(run.tty_out, b"hi");
}

#[test]
fn sandbox_refuses_escapes() {
    let dir = std::env::temp_dir().join(format!("hexroot-vm-sandbox-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut p = crate::posix::Posix::new(Some(dir.clone()));
    assert!(p.resolve_for_test(b"../x").is_none());
    assert!(p.resolve_for_test(b"a/../../x").is_none());
    let inside = p.resolve_for_test(b"/etc/passwd").unwrap();
    assert!(inside.starts_with(dir.canonicalize().unwrap()));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn quirks_mulh_sar_rol() {
    let mut b = Builder::new();
    b.op(Loadi, &[1], -2)
        .op(Loadi, &[2], 3)
        .op(Mulh, &[3, 1, 2], 0)
        .op(Sar, &[4, 1, 2], 0)
        .op(Loadi, &[5], 1)
        .op(Rol, &[6, 5, 5], 0)
        .op(Multiply, &[7, 8, 1, 2], 0)
        .op(Halt, &[], 0);
    let rom = b.finish().unwrap();
    let mut m = crate::Machine::new(&rom, &Config::default()).unwrap();
    let mut dev = crate::Devices::new(crate::TapeStore::Memory([None, None]));
    let (mut i, mut o, mut e): (&[u8], Vec<u8>, Vec<u8>) = (&[], vec![], vec![]);
    let mut io = crate::Io {
        stdin: &mut i,
        stdout: &mut o,
        stderr: &mut e,
    };
    assert_eq!(m.run(&mut dev, &mut io), Ok(Stop::Halt));
    assert_eq!(m.regs[3], 0, "MULH is always 0");
    assert_eq!(m.regs[4], 0xFFFF_FFFE >> 3, "SAR is logical");
    assert_eq!(m.regs[6], 0x8000_0000, "ROL rotates right");
    assert_eq!(
        (m.regs[7], m.regs[8]),
        (0xFFFF_FFFA, 0),
        "MULTIPLY high truncates"
    );
}
