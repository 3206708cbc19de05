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

/// Everything a run leaves (how it ended, registers, ip after a clean stop or at the step
/// limit, steps, a digest of memory), by the fast executor or by the plain step alone.
fn outcome(rom: &[u8], config: &Config, plain: bool) -> (String, [u32; 16], Option<u32>, u64, u64) {
    use std::hash::{Hash, Hasher};
    let mut m = crate::Machine::new(rom, config).unwrap();
    let mut dev = crate::Devices::new(crate::TapeStore::Memory([None, None]));
    let (mut i, mut o, mut e): (&[u8], Vec<u8>, Vec<u8>) = (&[], vec![], vec![]);
    let mut io = crate::Io {
        stdin: &mut i,
        stdout: &mut o,
        stderr: &mut e,
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
    let ip = match &end {
        Ok(_) | Err(Fault::MaxSteps { .. }) => Some(m.ip),
        Err(_) => None,
    };
    let shown = match end {
        Ok(stop) => format!("{stop:?}"),
        Err(e) => e.to_string(),
    };
    let mut digest = std::collections::hash_map::DefaultHasher::new();
    m.memory().hash(&mut digest);
    (shown, m.regs, ip, m.steps, digest.finish())
}

/// A string-compare routine as the chain's assemblers write it, with the given registers:
/// `save` pushed on `sp`, the strings moved from R0/R1 into `x`/`y`, index `i`, the loop
/// loading into `p`/`q`, the verdict into `t` (FALSE t; `verdict` u v; TRUE t), moved to
/// R0, `restore` popped, RET. `compare`: the hex2 linker's loop instead (CMP q p q;
/// CMPSKIPI.E p 0; JUMP.E q back), no verdict, the flags `q` moved to R0.
#[derive(Clone, Debug)]
struct Routine {
    compare: bool,
    sp: u8,
    save: Vec<u8>,
    x: u8,
    y: u8,
    i: u8,
    p: u8,
    q: u8,
    t: u8,
    u: u8,
    v: u8,
    verdict: crate::isa::Op,
    restore: Vec<u8>,
}

fn routine(b: &mut Builder, r: &Routine) {
    b.label("match");
    for &s in &r.save {
        b.op(Pushr, &[s, r.sp], 0);
    }
    b.op(Move, &[r.x, 0], 0)
        .op(Move, &[r.y, 1], 0)
        .op(Loadui, &[r.i], 0)
        .label("loop")
        .op(Loadxu8, &[r.p, r.x, r.i], 0)
        .op(Loadxu8, &[r.q, r.y, r.i], 0)
        .op(Addui, &[r.i, r.i], 1);
    if r.compare {
        b.op(Cmp, &[r.q, r.p, r.q], 0)
            .op(CmpskipiE, &[r.p], 0)
            .to(JumpE, &[r.q], "loop")
            .op(Move, &[0, r.q], 0);
    } else {
        b.op(CmpskipNe, &[r.q, r.p], 0)
            .to(JumpNz, &[r.q], "loop")
            .op(False, &[r.t], 0)
            .op(r.verdict, &[r.u, r.v], 0)
            .op(True, &[r.t], 0)
            .op(Move, &[0, r.t], 0);
    }
    for &s in &r.restore {
        b.op(Popr, &[s, r.sp], 0);
    }
    b.op(Ret, &[r.sp], 0);
}

mod string_match {
    use super::*;
    use proptest::prelude::*;

    /// Where the strings live (after the code, in the ROM).
    const DATA: u32 = 0x400;

    fn reg() -> impl Strategy<Value = u8> {
        prop_oneof![0u8..6, Just(15)]
    }

    fn routine_shape() -> impl Strategy<Value = Routine> {
        let verdicts = prop_oneof![Just(CmpskipNe), Just(CmpskipE), Just(CmpskipuL)];
        (
            prop_oneof![4 => Just(15u8), 1 => 0u8..16],
            prop::collection::vec(reg(), 1..7),
            [reg(), reg(), reg(), reg(), reg(), reg(), reg(), reg()],
            verdicts,
            prop::collection::vec(reg(), 1..7),
            any::<bool>(),
        )
            .prop_map(
                |(sp, save, [x, y, i, p, q, t, u, v], verdict, restore, compare)| Routine {
                    compare,
                    sp,
                    save,
                    x,
                    y,
                    i,
                    p,
                    q,
                    t,
                    u,
                    v,
                    verdict,
                    restore,
                },
            )
    }

    /// One call: the two strings (an index into the string table, 0: the last two bytes
    /// of memory) and maybe a store of `value` at `offset` into the routine after it.
    type Call = (u8, u8, Option<(u8, u16)>);

    /// The ROM: the calls, HALT, the routine (at `match_at` once known), then the
    /// strings at `DATA`, 16 bytes apart; and where the routine is.
    fn program(
        shape: &Routine,
        calls: &[Call],
        sp: u32,
        memory: u32,
        strings: &[Vec<u8>],
        match_at: u32,
    ) -> (Vec<u8>, u32) {
        let mut b = Builder::new();
        b.op(Loadui, &[shape.sp], sp as i32);
        for &(s0, s1, store) in calls {
            for (reg, s) in [(0u8, s0), (1u8, s1)] {
                // Also strings on the stack, over the return address and the saves.
                let at = match usize::from(s) % (strings.len() + 3) {
                    0 => memory - 2,
                    k if k == strings.len() + 1 => sp,
                    k if k == strings.len() + 2 => sp + 6,
                    k => DATA + 16 * (k as u32 - 1),
                };
                b.op(Loadui, &[reg], at as i32);
            }
            b.to(Calli, &[shape.sp], "match");
            if let Some((offset, value)) = store {
                let to = match_at + u32::from(offset % 96);
                b.op(Loadui, &[5], i32::from(value));
                let d = to as i32 - (b.here() as i32 + 6);
                b.op(Storer, &[5], d);
            }
        }
        b.op(Halt, &[], 0);
        let at = b.here();
        routine(&mut b, shape);
        while b.here() < DATA {
            b.bytes(&[0]);
        }
        for s in strings {
            let mut cell = [0u8; 16];
            for (c, &x) in cell.iter_mut().zip(s.iter().take(15)) {
                *c = x;
            }
            b.bytes(&cell);
        }
        (b.finish().unwrap(), at)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Programs calling a string-compare routine (fused into one slot and run
        /// natively) with any registers, strings, stack and step limit, and stores into
        /// the routine: the fast executor ends exactly as the plain step does.
        #[test]
        fn fused_string_match_equals_plain_step(
            shape in routine_shape(),
            calls in prop::collection::vec(
                (any::<u8>(), any::<u8>(), prop::option::weighted(0.15, (any::<u8>(), any::<u16>()))),
                1..8),
            strings in prop::collection::vec(prop::collection::vec(prop_oneof![Just(b'A'), Just(b'B'), Just(0u8)], 0..6), 1..6),
            sp in prop_oneof![Just(0x700u32), Just(0x7F8), Just(0x80), 0u32..0x800],
            limit in prop_oneof![1u64..400, Just(100_000)],
        ) {
            let memory = 0x800u32;
            let (_, at) = program(&shape, &calls, sp, memory, &strings, 0);
            let (rom, _) = program(&shape, &calls, sp, memory, &strings, at);
            let config = Config {
                memory_size: memory as usize,
                max_steps: Some(limit),
                ..Config::default()
            };
            let plain = outcome(&rom, &config, true);
            prop_assert_eq!(outcome(&rom, &config, false), plain.clone());
            if !plain.0.contains("max-steps") {
                let free = Config { max_steps: None, ..config };
                prop_assert_eq!(outcome(&rom, &free, false), plain);
            }
        }
    }

    /// How a look-up loop is written: M0's (JUMP.Z at the top, JUMP.NZ to `found`, JUMP
    /// back) or the hex2 linker's (no test at the top, set-up by ADD, `found` on `found_if`,
    /// JUMP.NZ back at the bottom).
    #[derive(Clone, Copy, Debug)]
    struct Walk {
        p: u8,
        key: u8,
        indirect: bool,
        bottom: bool,
        found_if: crate::isa::Op,
    }

    /// A table look-up: `lookups` walks of a linked list at `DATA` (entry k at DATA + 32k:
    /// next pointer, name at +4, a pointer to the name at +16) calling the routine per
    /// entry with the key in `key`, the list pointer in `p`, set-up by ADDUI (`indirect`
    /// false) or LOADR16 + LOADX + COPY (or, bottom-tested, ADD from R10 = 4); maybe a
    /// store into the walk or the routine before each look-up.
    fn walk_program(
        shape: &Routine,
        w: Walk,
        lookups: &[(u8, Option<(u8, u16)>)],
        names: &[Vec<u8>],
        sp: u32,
        walk_at: u32,
    ) -> (Vec<u8>, u32) {
        let (p, key, indirect) = (w.p, w.key, w.indirect);
        let mut b = Builder::new();
        b.op(Loadui, &[shape.sp], sp as i32);
        for (n, &(k, store)) in lookups.iter().enumerate() {
            if let Some((offset, value)) = store {
                let to = walk_at + u32::from(offset % 160);
                b.op(Loadui, &[5], i32::from(value));
                let d = to as i32 - (b.here() as i32 + 6);
                b.op(Storer, &[5], d);
            }
            let k = u32::from(k) % names.len() as u32;
            b.op(Loadui, &[key], (DATA + 32 * k + 4) as i32)
                .op(Loadui, &[p], DATA as i32)
                .to(Calli, &[shape.sp], "walk")
                .op(Addui, &[9], n as i32);
        }
        b.op(Halt, &[], 0);
        let at = b.here();
        b.label("walk");
        if w.bottom {
            b.op(Loadui, &[10], 4)
                .label("entry")
                .op(Add, &[0, p, 10], 0)
                .op(Copy, &[1, key], 0)
                .to(Calli, &[shape.sp], "match")
                .to(w.found_if, &[0], "found")
                .op(Load, &[p, p], 0)
                .to(JumpNz, &[p], "entry")
                .to(Jump, &[], "done");
        } else {
            b.to(JumpZ, &[p], "done");
        }
        if w.bottom {
        } else if indirect {
            b.to(Loadr16, &[1], "offset")
                .op(Loadx, &[0, p, 1], 0)
                .op(Copy, &[1, key], 0);
        } else {
            b.op(Addui, &[0, p], 4).op(Copy, &[1, key], 0);
        }
        if !w.bottom {
            b.to(Calli, &[shape.sp], "match")
                .to(w.found_if, &[0], "found")
                .op(Load, &[p, p], 0)
                .to(Jump, &[], "walk");
        }
        b.label("found")
            .op(Addui, &[8, 8], 1)
            .label("done")
            .op(Ret, &[shape.sp], 0)
            .label("offset")
            .bytes(&[0, 16, 0, 0]);
        routine(&mut b, shape);
        while b.here() < DATA {
            b.bytes(&[0]);
        }
        for (k, name) in names.iter().enumerate() {
            let next = if k + 1 < names.len() {
                DATA + 32 * (k as u32 + 1)
            } else {
                0
            };
            let mut cell = [0u8; 32];
            cell[..4].copy_from_slice(&next.to_be_bytes());
            for (c, &x) in cell[4..15].iter_mut().zip(name) {
                *c = x;
            }
            cell[16..20].copy_from_slice(&(DATA + 32 * k as u32 + 4).to_be_bytes());
            b.bytes(&cell);
        }
        (b.finish().unwrap(), at)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1500))]

        /// Programs walking a table with the look-up loop (fused and run natively, the
        /// routine it calls too) with any registers, names, stack and step limit, and
        /// stores into the code: the fast executor ends exactly as the plain step does.
        #[test]
        fn fused_list_walk_equals_plain_step(
            shape in prop_oneof![
                3 => Just(m0_routine()),
                3 => Just(Routine { compare: true, ..m0_routine() }),
                2 => routine_shape()],
            regs in prop_oneof![3 => Just((2u8, 12u8)), 1 => (reg(), reg())],
            indirect in any::<bool>(),
            bottom in any::<bool>(),
            found_if in prop_oneof![Just(JumpNz), Just(JumpE)],
            lookups in prop::collection::vec(
                (any::<u8>(), prop::option::weighted(0.1, (any::<u8>(), any::<u16>()))), 1..5),
            names in prop::collection::vec(prop::collection::vec(prop_oneof![Just(b'A'), Just(b'B'), Just(b'C')], 0..5), 1..12),
            sp in prop_oneof![4 => Just(0x7C0u32), 1 => 0u32..0x800],
            limit in prop_oneof![1u64..3000, Just(1_000_000)],
        ) {
            let memory = 0x800u32;
            let w = Walk { p: regs.0, key: regs.1, indirect, bottom, found_if };
            let (_, at) = walk_program(&shape, w, &lookups, &names, sp, 0);
            let (rom, _) = walk_program(&shape, w, &lookups, &names, sp, at);
            let config = Config {
                memory_size: memory as usize,
                max_steps: Some(limit),
                ..Config::default()
            };
            let plain = outcome(&rom, &config, true);
            prop_assert_eq!(outcome(&rom, &config, false), plain.clone());
            if !plain.0.contains("max-steps") {
                let free = Config { max_steps: None, ..config };
                prop_assert_eq!(outcome(&rom, &free, false), plain);
            }
        }
    }

    /// The registers of M0's string compare.
    fn m0_routine() -> Routine {
        Routine {
            compare: false,
            sp: 15,
            save: vec![1, 2, 3, 4],
            x: 2,
            y: 3,
            i: 4,
            p: 0,
            q: 1,
            t: 2,
            u: 0,
            v: 1,
            verdict: CmpskipNe,
            restore: vec![4, 3, 2, 1],
        }
    }

    #[test]
    fn the_routines_are_fused_and_count_every_instruction() {
        for compare in [false, true] {
            fused_and_exact(&Routine {
                compare,
                ..m0_routine()
            });
        }
    }

    fn fused_and_exact(shape: &Routine) {
        let shape = shape.clone();
        let strings = [b"ABBA".to_vec(), b"ABBA".to_vec(), b"AB".to_vec()];
        let calls = [(1, 2, None), (1, 3, None)];
        let (_, at) = program(&shape, &calls, 0x700, 0x800, &strings, 0);
        let (rom, _) = program(&shape, &calls, 0x700, 0x800, &strings, at);
        let mut m = crate::Machine::new(
            &rom,
            &Config {
                memory_size: 0x800,
                ..Config::default()
            },
        )
        .unwrap();
        let mut dev = crate::Devices::new(crate::TapeStore::Memory([None, None]));
        m.mem.fill(at, true);
        assert_eq!(
            m.mem.slots[at as usize].form,
            crate::machine::form::Form::StringMatch
        );
        let _ = &mut dev;
        let config = Config {
            memory_size: 0x800,
            ..Config::default()
        };
        assert_eq!(outcome(&rom, &config, false), outcome(&rom, &config, true));
        let names = [
            b"AB".to_vec(),
            b"ABC".to_vec(),
            b"B".to_vec(),
            b"ABD".to_vec(),
        ];
        for (indirect, bottom) in [(false, false), (true, false), (false, true)] {
            let lookups = [(3, None), (1, None), (2, None)];
            let found_if = if shape.compare { JumpE } else { JumpNz };
            let w = Walk {
                p: 2,
                key: 12,
                indirect,
                bottom,
                found_if,
            };
            let (_, at) = walk_program(&shape, w, &lookups, &names, 0x7C0, 0);
            let (rom, _) = walk_program(&shape, w, &lookups, &names, 0x7C0, at);
            let mut m = crate::Machine::new(&rom, &config).unwrap();
            let entry = if bottom { at + 6 } else { at };
            m.mem.fill(entry, true);
            assert_eq!(
                m.mem.slots[entry as usize].form,
                crate::machine::form::Form::ListWalk
            );
            let fast = outcome(&rom, &config, false);
            assert_eq!(fast.0, "Halt");
            assert_eq!(fast.1[8], 3, "every key found");
            assert_eq!(fast, outcome(&rom, &config, true));
        }
    }
}
