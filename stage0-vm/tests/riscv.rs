//! The RV32/RV64 processors against the unprivileged ISA manual: every ALU operation
//! against an independent reference evaluator written from the manual's definitions
//! (128-bit arithmetic, masks by XLEN), known answers for the edge cases (shifts, compares,
//! division by zero and overflow, MULH*, W forms, LUI/AUIPC, JAL/JALR, load extension),
//! arbitrary words never panic, the cached run loop equals the decode-every-time one
//! (including self-modifying code), and small hand-assembled programs that loop and end in
//! an ecall. Instructions are assembled here by a tiny encoder of the manual's formats,
//! independent of the decoder under test.

use proptest::prelude::*;
use stage0_vm::linux::cpu::{Cpu, Exit, FaultKind, Sys};
use stage0_vm::linux::memory::Memory;
use stage0_vm::linux::riscv::decode::{decode, Op, UNSUPPORTED};
use stage0_vm::linux::riscv::{Riscv, Rv32, Rv64};

const CODE: u64 = 0x1_0000;
const DATA: u64 = 0x2_0000;
const STACK: u64 = 0x3_0000;

// ---- the encoder (manual, chapter "RV32I Base Integer Instruction Set", formats) ----

fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, opc: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc
}
fn i(imm: i32, rs1: u32, f3: u32, rd: u32, opc: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | opc
}
fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    ((imm >> 5) & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}
fn b(off: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let o = off as u32;
    ((o >> 12) & 1) << 31
        | ((o >> 5) & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | ((o >> 1) & 0xf) << 8
        | ((o >> 11) & 1) << 7
        | 0x63
}
fn u(imm20: u32, rd: u32, opc: u32) -> u32 {
    (imm20 & 0xfffff) << 12 | rd << 7 | opc
}
fn j(off: i32, rd: u32) -> u32 {
    let o = off as u32;
    ((o >> 20) & 1) << 31
        | ((o >> 1) & 0x3ff) << 21
        | ((o >> 11) & 1) << 20
        | ((o >> 12) & 0xff) << 12
        | rd << 7
        | 0x6f
}
const ECALL: u32 = 0x0000_0073;
const EBREAK: u32 = 0x0010_0073;
fn addi(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 0, rd, 0x13)
}

// ---- the reference evaluator (manual, "Integer Computational Instructions", "M") ----

/// The R-type operations: name, funct7, funct3, and whether it is an RV64 W form.
const R_OPS: &[(&str, u32, u32, bool)] = &[
    ("add", 0, 0, false),
    ("sub", 0x20, 0, false),
    ("sll", 0, 1, false),
    ("slt", 0, 2, false),
    ("sltu", 0, 3, false),
    ("xor", 0, 4, false),
    ("srl", 0, 5, false),
    ("sra", 0x20, 5, false),
    ("or", 0, 6, false),
    ("and", 0, 7, false),
    ("mul", 1, 0, false),
    ("mulh", 1, 1, false),
    ("mulhsu", 1, 2, false),
    ("mulhu", 1, 3, false),
    ("div", 1, 4, false),
    ("divu", 1, 5, false),
    ("rem", 1, 6, false),
    ("remu", 1, 7, false),
    ("add", 0, 0, true),
    ("sub", 0x20, 0, true),
    ("sll", 0, 1, true),
    ("srl", 0, 5, true),
    ("sra", 0x20, 5, true),
    ("mul", 1, 0, true),
    ("div", 1, 4, true),
    ("divu", 1, 5, true),
    ("rem", 1, 6, true),
    ("remu", 1, 7, true),
];

/// `op` on XLEN-bit values `a`, `b` (given zero-extended); the XLEN-bit result.
fn reference(op: &str, a: u64, b: u64, xlen: u32) -> u64 {
    let mask: u128 = (1u128 << xlen) - 1;
    let (ua, ub) = (a as u128 & mask, b as u128 & mask);
    let signed = |v: u128| -> i128 {
        if v >> (xlen - 1) & 1 == 1 {
            v as i128 - (1i128 << xlen)
        } else {
            v as i128
        }
    };
    let (sa, sb) = (signed(ua), signed(ub));
    let sh = (ub % xlen as u128) as u32;
    let min = -(1i128 << (xlen - 1));
    let v: i128 = match op {
        "add" => sa + sb,
        "sub" => sa - sb,
        "sll" => (ua << sh) as i128,
        "slt" => (sa < sb) as i128,
        "sltu" => (ua < ub) as i128,
        "xor" => (ua ^ ub) as i128,
        "or" => (ua | ub) as i128,
        "and" => (ua & ub) as i128,
        "srl" => (ua >> sh) as i128,
        "sra" => sa >> sh,
        "mul" => sa.wrapping_mul(sb),
        "mulh" => (sa * sb) >> xlen,
        "mulhsu" => (sa * ub as i128) >> xlen,
        "mulhu" => ((ua * ub) >> xlen) as i128,
        "div" if sb == 0 => -1,
        "div" if sa == min && sb == -1 => sa,
        "div" => sa / sb,
        "divu" if ub == 0 => -1,
        "divu" => (ua / ub) as i128,
        "rem" if sb == 0 => sa,
        "rem" if sa == min && sb == -1 => 0,
        "rem" => sa % sb,
        "remu" if ub == 0 => ua as i128,
        "remu" => (ua % ub) as i128,
        _ => unreachable!("{op}"),
    };
    (v as u128 & mask) as u64
}

/// The RV64 W form: the 32-bit operation, sign-extended.
fn reference_w(op: &str, a: u64, b: u64) -> u64 {
    reference(op, a & 0xffff_ffff, b & 0xffff_ffff, 32) as u32 as i32 as i64 as u64
}

// ---- running ----

fn memory(words: &[u32]) -> Memory {
    let mut mem = Memory::new();
    mem.map(CODE, 0x1000).unwrap();
    mem.map(DATA, 0x1000).unwrap();
    mem.map(STACK - 0x1000, 0x1000).unwrap();
    for (k, w) in words.iter().enumerate() {
        mem.write_u32(CODE + 4 * k as u64, *w).unwrap();
    }
    mem
}

fn machine<const RV64: bool>(regs: &[(usize, u64)]) -> Riscv<RV64> {
    let mut cpu = Riscv::<RV64>::new(CODE, STACK);
    for &(r, v) in regs {
        cpu.set_reg(r, v);
    }
    cpu
}

/// Runs `words` from CODE with `regs` set, at most `budget` instructions, both through the
/// cache and decoding every instruction; asserts both agree and returns the cached run.
fn run<const RV64: bool>(
    words: &[u32],
    regs: &[(usize, u64)],
    budget: u64,
) -> (Riscv<RV64>, Memory, u64, Exit) {
    let (mut fast, mut slow) = (machine::<RV64>(regs), machine::<RV64>(regs));
    let (mut mf, mut ms) = (memory(words), memory(words));
    let (nf, ef) = fast.run(&mut mf, budget);
    let (ns, es) = slow.run_uncached(&mut ms, budget);
    assert_eq!((nf, &ef), (ns, &es), "cached and plain runs stop alike");
    assert_eq!(
        fast.hart(),
        slow.hart(),
        "cached and plain runs agree on registers"
    );
    assert_eq!(
        mf.slice(DATA, 0x1000).unwrap(),
        ms.slice(DATA, 0x1000).unwrap()
    );
    assert_eq!(
        mf.slice(CODE, 0x1000).unwrap(),
        ms.slice(CODE, 0x1000).unwrap()
    );
    (fast, mf, nf, ef)
}

fn xlen_mask(rv64: bool) -> u64 {
    if rv64 {
        u64::MAX
    } else {
        0xffff_ffff
    }
}

fn check_r<const RV64: bool>(k: usize, a: u64, b: u64) -> Result<(), TestCaseError> {
    let (name, f7, f3, wform) = R_OPS[k];
    if wform && !RV64 {
        return Ok(());
    }
    let opc = if wform { 0x3b } else { 0x33 };
    let (cpu, _, n, exit) = run::<RV64>(&[r(f7, 6, 5, f3, 7, opc)], &[(5, a), (6, b)], 1);
    prop_assert_eq!((n, exit), (1, Exit::Budget));
    let m = xlen_mask(RV64);
    let want = if wform {
        reference_w(name, a, b)
    } else {
        reference(name, a & m, b & m, if RV64 { 64 } else { 32 })
    };
    prop_assert_eq!(
        cpu.reg(7),
        want,
        "{}{} {:#x} {:#x}",
        name,
        if wform { "w" } else { "" },
        a,
        b
    );
    Ok(())
}

/// Operand values that hit the edge cases more often than uniform sampling would.
fn operand() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(1u64),
        Just(u64::MAX),
        Just(1u64 << 63),
        Just((1u64 << 63) - 1),
        Just(0x8000_0000u64),
        Just(0xffff_ffff_8000_0000u64),
        Just(0x7fff_ffffu64),
        Just(0xffff_ffffu64),
        (0u64..70),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn r_type_ops_match_the_reference(k in 0..R_OPS.len(), a in operand(), b in operand()) {
        check_r::<true>(k, a, b)?;
        check_r::<false>(k, a, b)?;
    }

    #[test]
    fn i_type_ops_match_the_reference(f3 in 0u32..8, a in operand(), imm in -2048i32..2048) {
        let name = ["add", "sll", "slt", "sltu", "xor", "srl", "or", "and"][f3 as usize];
        for rv64 in [true, false] {
            let xlen = if rv64 { 64 } else { 32 };
            let mut imm = imm;
            if f3 == 1 || f3 == 5 {
                imm &= xlen - 1;
            }
            let word = i(imm, 5, f3, 7, 0x13);
            let m = xlen_mask(rv64);
            let bv = imm as i64 as u64 & m;
            let got = if rv64 {
                run::<true>(&[word], &[(5, a)], 1).0.reg(7)
            } else {
                run::<false>(&[word], &[(5, a)], 1).0.reg(7)
            };
            prop_assert_eq!(got, reference(name, a & m, bv, xlen as u32));
            if f3 == 5 {
                let sra = word | 0x4000_0000;
                let got = if rv64 {
                    run::<true>(&[sra], &[(5, a)], 1).0.reg(7)
                } else {
                    run::<false>(&[sra], &[(5, a)], 1).0.reg(7)
                };
                prop_assert_eq!(got, reference("sra", a & m, bv, xlen as u32));
            }
        }
    }

    #[test]
    fn rv64_w_immediates_match_the_reference(a in operand(), imm in -2048i32..2048, sh in 0i32..32) {
        let cpu = run::<true>(&[i(imm, 5, 0, 7, 0x1b)], &[(5, a)], 1).0;
        prop_assert_eq!(cpu.reg(7), reference_w("add", a, imm as i64 as u64));
        let cpu = run::<true>(&[i(sh, 5, 1, 7, 0x1b)], &[(5, a)], 1).0;
        prop_assert_eq!(cpu.reg(7), reference_w("sll", a, sh as u64));
        let cpu = run::<true>(&[i(sh, 5, 5, 7, 0x1b)], &[(5, a)], 1).0;
        prop_assert_eq!(cpu.reg(7), reference_w("srl", a, sh as u64));
        let cpu = run::<true>(&[i(sh | 0x400, 5, 5, 7, 0x1b)], &[(5, a)], 1).0;
        prop_assert_eq!(cpu.reg(7), reference_w("sra", a, sh as u64));
    }

    #[test]
    fn branches_follow_their_conditions(f3 in prop::sample::select(vec![0u32, 1, 4, 5, 6, 7]), a in operand(), bv in operand()) {
        for rv64 in [true, false] {
            let m = xlen_mask(rv64);
            let xlen = if rv64 { 64 } else { 32 };
            let lt = reference("slt", a & m, bv & m, xlen) == 1;
            let ltu = reference("sltu", a & m, bv & m, xlen) == 1;
            let eq = a & m == bv & m;
            let taken = [eq, !eq, false, false, lt, !lt, ltu, !ltu][f3 as usize];
            let word = b(-16, 6, 5, f3);
            let pc = if rv64 {
                run::<true>(&[word], &[(5, a), (6, bv)], 1).0.pc()
            } else {
                run::<false>(&[word], &[(5, a), (6, bv)], 1).0.pc()
            };
            prop_assert_eq!(pc, if taken { CODE - 16 } else { CODE + 4 });
        }
    }

    #[test]
    fn arbitrary_words_never_panic(words in prop::collection::vec(any::<u32>(), 1..8), regs in prop::collection::vec((0usize..32, operand()), 0..8)) {
        let mut regs = regs;
        regs.push((5, DATA + 0x800));
        run::<true>(&words, &regs, 8);
        run::<false>(&words, &regs, 8);
        for &w in &words {
            decode(w, true);
            decode(w, false);
        }
    }

    #[test]
    fn cached_runs_equal_plain_runs_on_random_programs(prog in prop::collection::vec(program_word(), 1..64), budget in 1u64..400) {
        let regs = [(8, DATA + 0x100), (9, CODE), (10, 3), (11, 0x1234_5678)];
        run::<true>(&prog, &regs, budget);
        run::<false>(&prog, &regs, budget);
    }
}

/// Instructions a random program is made of: ALU ops on x5..x15, loads and stores through
/// s0 (data) and s1 (the code itself), short branches and jumps in either direction.
fn program_word() -> impl Strategy<Value = u32> {
    let reg = 5u32..16;
    prop_oneof![
        (0..R_OPS.len(), reg.clone(), reg.clone(), reg.clone()).prop_map(|(k, a, b2, d)| {
            let (_, f7, f3, w) = R_OPS[k];
            r(f7, b2, a, f3, d, if w { 0x3b } else { 0x33 })
        }),
        (0u32..8, reg.clone(), reg.clone(), -64i32..64).prop_map(|(f3, a, d, imm)| i(
            if f3 == 1 || f3 == 5 { imm & 31 } else { imm },
            a,
            f3,
            d,
            0x13
        )),
        (0u32..7, reg.clone(), 0i32..32).prop_map(|(f3, d, k)| i(8 * k, 8, f3, d, 0x03)),
        (0u32..4, reg.clone(), 0i32..32).prop_map(|(f3, v, k)| s(8 * k, v, 8, f3)),
        (reg.clone(), 0i32..64).prop_map(|(v, k)| s(4 * k, v, 9, 2)),
        (
            prop::sample::select(vec![0u32, 1, 4, 5, 6, 7]),
            reg.clone(),
            reg.clone(),
            -8i32..8
        )
            .prop_map(|(f3, a, b2, k)| b(4 * k, b2, a, f3)),
        (-8i32..8, reg.clone()).prop_map(|(k, d)| j(4 * k, d)),
        (reg.clone(), 0u32..0x100000).prop_map(|(d, imm)| u(imm, d, 0x37)),
        (reg.clone(), 0u32..0x100000).prop_map(|(d, imm)| u(imm, d, 0x17)),
        Just(ECALL),
    ]
}

// ---- known answers ----

#[test]
fn shifts_mask_the_amount_by_xlen_and_sra_keeps_the_sign() {
    let sll = r(0, 6, 5, 1, 7, 0x33);
    let sra = r(0x20, 6, 5, 5, 7, 0x33);
    assert_eq!(run::<true>(&[sll], &[(5, 1), (6, 65)], 1).0.reg(7), 2);
    assert_eq!(run::<false>(&[sll], &[(5, 1), (6, 33)], 1).0.reg(7), 2);
    assert_eq!(
        run::<true>(&[sra], &[(5, 1 << 63), (6, 63)], 1).0.reg(7),
        u64::MAX
    );
    assert_eq!(
        run::<false>(&[sra], &[(5, 0x8000_0000), (6, 4)], 1)
            .0
            .reg(7),
        0xf800_0000
    );
    let srai = i(0x400 | 4, 5, 5, 7, 0x13);
    assert_eq!(
        run::<false>(&[srai], &[(5, 0x8000_0000)], 1).0.reg(7),
        0xf800_0000
    );
    // RV32 SLLI with shamt[5] set is reserved.
    let bad = i(32, 5, 1, 7, 0x13);
    assert_eq!(decode(bad, false).op, Op::Unknown);
    assert_eq!(decode(bad, true).op, Op::Slli);
}

#[test]
fn division_by_zero_and_overflow_give_the_manual_results() {
    let div = r(1, 6, 5, 4, 7, 0x33);
    let rem = r(1, 6, 5, 6, 7, 0x33);
    let divu = r(1, 6, 5, 5, 7, 0x33);
    let remu = r(1, 6, 5, 7, 7, 0x33);
    let min64 = 1u64 << 63;
    assert_eq!(run::<true>(&[div], &[(5, 7), (6, 0)], 1).0.reg(7), u64::MAX);
    assert_eq!(
        run::<true>(&[divu], &[(5, 7), (6, 0)], 1).0.reg(7),
        u64::MAX
    );
    assert_eq!(run::<true>(&[rem], &[(5, 7), (6, 0)], 1).0.reg(7), 7);
    assert_eq!(run::<true>(&[remu], &[(5, 7), (6, 0)], 1).0.reg(7), 7);
    let ovf = [(5, min64), (6, u64::MAX)];
    assert_eq!(run::<true>(&[div], &ovf, 1).0.reg(7), min64);
    assert_eq!(run::<true>(&[rem], &ovf, 1).0.reg(7), 0);
    let ovf32 = [(5, 0x8000_0000), (6, 0xffff_ffff)];
    assert_eq!(run::<false>(&[div], &ovf32, 1).0.reg(7), 0x8000_0000);
    assert_eq!(run::<false>(&[rem], &ovf32, 1).0.reg(7), 0);
    assert_eq!(
        run::<false>(&[div], &[(5, 1), (6, 0)], 1).0.reg(7),
        0xffff_ffff
    );
    // -7 / 2 = -3, -7 % 2 = -1 (rounding toward zero).
    let m7 = (-7i64) as u64;
    assert_eq!(
        run::<true>(&[div], &[(5, m7), (6, 2)], 1).0.reg(7),
        -3i64 as u64
    );
    assert_eq!(
        run::<true>(&[rem], &[(5, m7), (6, 2)], 1).0.reg(7),
        -1i64 as u64
    );
    // DIVW overflow and DIVUW by zero, sign-extended.
    let divw = r(1, 6, 5, 4, 7, 0x3b);
    let divuw = r(1, 6, 5, 5, 7, 0x3b);
    let remuw = r(1, 6, 5, 7, 7, 0x3b);
    assert_eq!(
        run::<true>(&[divw], &ovf32, 1).0.reg(7),
        0xffff_ffff_8000_0000
    );
    assert_eq!(
        run::<true>(&[divuw], &[(5, 9), (6, 0)], 1).0.reg(7),
        u64::MAX
    );
    assert_eq!(
        run::<true>(&[remuw], &[(5, 0x8000_0001), (6, 0)], 1)
            .0
            .reg(7),
        0xffff_ffff_8000_0001
    );
}

#[test]
fn mulh_variants_on_extremes() {
    let mulh = r(1, 6, 5, 1, 7, 0x33);
    let mulhsu = r(1, 6, 5, 2, 7, 0x33);
    let mulhu = r(1, 6, 5, 3, 7, 0x33);
    let m = u64::MAX;
    assert_eq!(run::<true>(&[mulh], &[(5, m), (6, m)], 1).0.reg(7), 0);
    assert_eq!(run::<true>(&[mulhu], &[(5, m), (6, m)], 1).0.reg(7), m - 1);
    assert_eq!(run::<true>(&[mulhsu], &[(5, m), (6, m)], 1).0.reg(7), m);
    let min = 1u64 << 63;
    assert_eq!(
        run::<true>(&[mulh], &[(5, min), (6, min)], 1).0.reg(7),
        1 << 62
    );
    let m32 = 0xffff_ffff;
    assert_eq!(
        run::<false>(&[mulhu], &[(5, m32), (6, m32)], 1).0.reg(7),
        0xffff_fffe
    );
    assert_eq!(
        run::<false>(&[mulhsu], &[(5, m32), (6, m32)], 1).0.reg(7),
        0xffff_ffff
    );
    assert_eq!(run::<false>(&[mulh], &[(5, m32), (6, m32)], 1).0.reg(7), 0);
}

#[test]
fn compares_and_w_forms_sign_extend() {
    let slt = r(0, 6, 5, 2, 7, 0x33);
    let sltu = r(0, 6, 5, 3, 7, 0x33);
    assert_eq!(run::<true>(&[slt], &[(5, u64::MAX), (6, 0)], 1).0.reg(7), 1);
    assert_eq!(
        run::<true>(&[sltu], &[(5, u64::MAX), (6, 0)], 1).0.reg(7),
        0
    );
    assert_eq!(
        run::<false>(&[slt], &[(5, 0xffff_ffff), (6, 0)], 1)
            .0
            .reg(7),
        1
    );
    assert_eq!(
        run::<false>(&[sltu], &[(5, 0xffff_ffff), (6, 0)], 1)
            .0
            .reg(7),
        0
    );
    // SLTIU x7, x5, -1: everything but all-ones is below it.
    let sltiu = i(-1, 5, 3, 7, 0x13);
    assert_eq!(run::<true>(&[sltiu], &[(5, 12)], 1).0.reg(7), 1);
    assert_eq!(run::<false>(&[sltiu], &[(5, 0xffff_ffff)], 1).0.reg(7), 0);
    let addw = r(0, 6, 5, 0, 7, 0x3b);
    assert_eq!(
        run::<true>(&[addw], &[(5, 0x7fff_ffff), (6, 1)], 1)
            .0
            .reg(7),
        0xffff_ffff_8000_0000
    );
    let addiw = i(0, 5, 0, 7, 0x1b); // sext.w
    assert_eq!(
        run::<true>(&[addiw], &[(5, 0x1_8000_0000)], 1).0.reg(7),
        0xffff_ffff_8000_0000
    );
    // RV64 has no W forms on RV32.
    assert_eq!(decode(addw, false).op, Op::Unknown);
}

#[test]
fn lui_auipc_jal_jalr() {
    let lui = u(0x80000, 7, 0x37);
    assert_eq!(run::<true>(&[lui], &[], 1).0.reg(7), 0xffff_ffff_8000_0000);
    assert_eq!(run::<false>(&[lui], &[], 1).0.reg(7), 0x8000_0000);
    let auipc = u(0x1, 7, 0x17);
    assert_eq!(run::<true>(&[auipc], &[], 1).0.reg(7), CODE + 0x1000);
    let auipc_neg = u(0xfffff, 7, 0x17);
    assert_eq!(run::<false>(&[auipc_neg], &[], 1).0.reg(7), CODE - 0x1000);
    // JAL ra, +8 links pc+4 and lands at pc+8.
    let (cpu, ..) = run::<true>(&[j(8, 1)], &[], 1);
    assert_eq!((cpu.reg(1), cpu.pc()), (CODE + 4, CODE + 8));
    // JALR t2, 5(t0) with t0 = CODE + 11: target CODE + 16 (low bit cleared).
    let jalr = i(5, 5, 0, 7, 0x67);
    let (cpu, ..) = run::<false>(&[jalr], &[(5, CODE + 11)], 1);
    assert_eq!((cpu.reg(7), cpu.pc()), (CODE + 4, CODE + 16));
    // JALR with rd = rs1 reads the register before writing it.
    let jalr_same = i(0, 5, 0, 5, 0x67);
    let (cpu, ..) = run::<true>(&[jalr_same], &[(5, CODE + 32)], 1);
    assert_eq!((cpu.reg(5), cpu.pc()), (CODE + 4, CODE + 32));
    // A target that is 2- but not 4-aligned faults at the jump (no C extension).
    let (cpu, _, n, exit) = run::<true>(&[jalr], &[(5, CODE + 13)], 1);
    assert_eq!((n, cpu.pc()), (0, CODE));
    assert!(
        matches!(exit, Exit::Fault(f) if matches!(f.kind, FaultKind::Unimplemented { mnemonic: Some(_) }))
    );
}

#[test]
fn loads_extend_and_stores_truncate() {
    let prog = [
        s(0, 6, 8, 3),     // sd t1, 0(s0)
        i(0, 8, 0, 10, 3), // lb a0
        i(0, 8, 4, 11, 3), // lbu a1
        i(0, 8, 1, 12, 3), // lh a2
        i(0, 8, 5, 13, 3), // lhu a3
        i(0, 8, 2, 14, 3), // lw a4
        i(0, 8, 6, 15, 3), // lwu a5
        i(0, 8, 3, 16, 3), // ld a6
        s(9, 6, 8, 0),     // sb t1, 9(s0)
        i(8, 8, 3, 17, 3), // ld a7, 8(s0)
    ];
    let v = 0x8182_8384_8586_8788u64;
    let (cpu, ..) = run::<true>(&prog, &[(8, DATA), (6, v)], 10);
    assert_eq!(cpu.reg(10), 0xffff_ffff_ffff_ff88);
    assert_eq!(cpu.reg(11), 0x88);
    assert_eq!(cpu.reg(12), 0xffff_ffff_ffff_8788);
    assert_eq!(cpu.reg(13), 0x8788);
    assert_eq!(cpu.reg(14), 0xffff_ffff_8586_8788);
    assert_eq!(cpu.reg(15), 0x8586_8788);
    assert_eq!(cpu.reg(16), v);
    assert_eq!(cpu.reg(17), 0x8800);
    // RV32: no ld/lwu/sd; lw sign-extends into the 32-bit register.
    assert_eq!(decode(prog[0], false).op, Op::Unknown);
    assert_eq!(decode(prog[6], false).op, Op::Unknown);
    let prog32 = [s(0, 6, 8, 2), i(0, 8, 0, 10, 3), i(0, 8, 2, 14, 3)];
    let (cpu, ..) = run::<false>(&prog32, &[(8, DATA), (6, 0x8586_8788)], 3);
    assert_eq!(cpu.reg(10), 0xffff_ff88);
    assert_eq!(cpu.reg(14), 0x8586_8788);
    // An access outside memory faults and leaves the pc on the load.
    let (cpu, _, n, exit) = run::<true>(&[i(0, 8, 3, 10, 3)], &[(8, 0x9000_0000)], 1);
    assert_eq!((n, cpu.pc()), (0, CODE));
    assert!(matches!(exit, Exit::Fault(f) if matches!(f.kind, FaultKind::Memory(_))));
}

#[test]
fn x0_stays_zero() {
    let prog = [addi(0, 0, 5), r(0, 0, 0, 0, 5, 0x33), u(0x12345, 0, 0x37)];
    let (cpu, ..) = run::<true>(&prog, &[], 3);
    assert_eq!((cpu.reg(0), cpu.reg(5)), (0, 0));
}

#[test]
fn ecall_ebreak_fence_and_other_extensions() {
    // a7 = 64 (write), a0..a2 set: the request says so and the pc is past the ecall.
    let prog = [addi(17, 0, 64), addi(10, 0, 1), addi(11, 0, -1), ECALL];
    let (cpu, _, n, exit) = run::<false>(&prog, &[], 100);
    assert_eq!((n, exit), (4, Exit::Syscall));
    let req = cpu.syscall();
    assert_eq!((req.number, req.sys), (64, Some(Sys::Write)));
    assert_eq!(
        req.args[..3],
        [1, 0xffff_ffff, 0],
        "RV32 arguments zero-extended"
    );
    assert_eq!(cpu.pc(), CODE + 16);
    let (_, _, n, exit) = run::<true>(&[0x0ff0_000f, EBREAK], &[], 5);
    assert_eq!(n, 1);
    assert!(
        matches!(exit, Exit::Fault(f) if f.kind == FaultKind::Trap { mnemonic: "ebreak" } && f.pc == CODE + 4)
    );
    // amoadd.w, flw, csrrs, a compressed nop: named, not executed.
    for (w, name) in [
        (0x00b5_202f, "amoadd.w"),
        (0x0005_2007, "flw"),
        (0xc000_2573, "csrrs"),
        (0x0000_0001, "compressed instruction (C extension)"),
    ] {
        let (_, _, n, exit) = run::<true>(&[w], &[], 5);
        assert_eq!(n, 0);
        match exit {
            Exit::Fault(f) => {
                assert_eq!(
                    f.kind,
                    FaultKind::Unimplemented {
                        mnemonic: Some(name)
                    }
                );
                assert_eq!(f.bytes[..4], w.to_le_bytes());
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(UNSUPPORTED.iter().all(|m| !m.is_empty()));
}

#[test]
fn syscall_numbers_follow_the_generic_table() {
    use stage0_vm::linux::riscv::sys_of;
    let table = [
        (17, Sys::Getcwd),
        (29, Sys::Ioctl),
        (34, Sys::MkdirAt),
        (35, Sys::UnlinkAt),
        (48, Sys::FaccessAt),
        (49, Sys::Chdir),
        (50, Sys::Fchdir),
        (52, Sys::Fchmod),
        (53, Sys::FchmodAt),
        (56, Sys::OpenAt),
        (57, Sys::Close),
        (63, Sys::Read),
        (64, Sys::Write),
        (93, Sys::Exit),
        (94, Sys::ExitGroup),
        (160, Sys::Uname),
        (172, Sys::Getpid),
        (214, Sys::Brk),
        (220, Sys::Clone),
        (221, Sys::Execve),
        (260, Sys::Wait4),
    ];
    for (n, sys) in table {
        assert_eq!(sys_of(n, true), Some(sys));
        assert_eq!(sys_of(n, false), Some(sys));
    }
    assert_eq!(sys_of(62, true), Some(Sys::Lseek));
    assert_eq!(sys_of(62, false), Some(Sys::Llseek));
    assert_eq!(sys_of(5, true), None);
    let mut cpu = Rv32::new(CODE, STACK);
    cpu.set_syscall_result(-2);
    assert_eq!(cpu.reg(10), 0xffff_fffe);
    let mut cpu = Rv64::new(CODE, STACK);
    cpu.set_syscall_result(-2);
    assert_eq!(cpu.reg(10), -2i64 as u64);
    assert_eq!(cpu.reg(2), STACK);
}

// ---- programs ----

/// sum = 1 + 2 + ... + 100 in a loop, then exit(sum) by ecall.
fn sum_loop() -> Vec<u32> {
    vec![
        addi(5, 0, 100),          // t0 = 100
        addi(10, 0, 0),           // a0 = 0
        r(0, 5, 10, 0, 10, 0x33), // loop: a0 += t0
        addi(5, 5, -1),           // t0 -= 1
        b(-8, 0, 5, 1),           // bnez t0, loop
        addi(17, 0, 93),          // a7 = exit
        ECALL,
    ]
}

#[test]
fn a_loop_ends_in_an_exit_call() {
    for budget in [1000, 3] {
        let (cpu, _, n, exit) = run::<true>(&sum_loop(), &[], budget);
        if budget == 3 {
            assert_eq!((n, exit), (3, Exit::Budget));
            continue;
        }
        assert_eq!((n, exit), (2 + 300 + 2, Exit::Syscall));
        assert_eq!(cpu.syscall().sys, Some(Sys::Exit));
        assert_eq!(cpu.syscall().args[0], 5050);
    }
    let (cpu, _, _, exit) = run::<false>(&sum_loop(), &[], 1000);
    assert_eq!((exit, cpu.syscall().args[0]), (Exit::Syscall, 5050));
}

#[test]
fn a_run_resumes_after_a_budget_stop_and_a_syscall() {
    let mut mem = memory(&sum_loop());
    let mut cpu = Rv64::new(CODE, STACK);
    let mut total = 0;
    loop {
        let (n, exit) = cpu.run(&mut mem, 7);
        total += n;
        if exit == Exit::Syscall {
            break;
        }
        assert_eq!(exit, Exit::Budget);
    }
    assert_eq!((total, cpu.reg(10)), (304, 5050));
}

/// Self-modifying code: the loop body rewrites its own `addi a0, a0, 1` into
/// `addi a0, a0, 100` after the first pass; the cached run must see the new instruction.
#[test]
fn stores_into_decoded_code_take_effect() {
    let target = CODE + 4 * 3;
    let prog = vec![
        addi(5, 0, 3),   // t0 = 3 (passes)
        addi(10, 0, 0),  // a0 = 0
        addi(0, 0, 0),   // nop
        addi(10, 10, 1), // loop: a0 += 1   <- rewritten
        sw_abs(target),  // sw t1, (target - s1)(s1)
        addi(5, 5, -1),  // t0 -= 1
        b(-12, 0, 5, 1), // bnez t0, loop
        addi(17, 0, 93),
        ECALL,
    ];
    let new_word = addi(10, 10, 100);
    let regs = [(6, new_word as u64), (9, CODE)];
    let (cpu, ..) = run::<true>(&prog, &regs, 100);
    assert_eq!(cpu.reg(10), 201);
    let (cpu, ..) = run::<false>(&prog, &regs, 100);
    assert_eq!(cpu.reg(10), 201);
}

fn sw_abs(addr: u64) -> u32 {
    s((addr - CODE) as i32, 6, 9, 2)
}

#[test]
fn entry_misaligned_or_unmapped_faults() {
    let mut mem = memory(&[]);
    let mut cpu = Rv64::new(CODE + 2, STACK);
    assert!(matches!(cpu.run(&mut mem, 5), (0, Exit::Fault(_))));
    let mut cpu = Rv32::new(0x5000_0000, STACK);
    let (n, exit) = cpu.run(&mut mem, 5);
    assert_eq!(n, 0);
    assert!(
        matches!(exit, Exit::Fault(f) if f.bytes.is_empty() && matches!(f.kind, FaultKind::Memory(_)))
    );
    assert!(cpu.registers().lines().count() == 32);
}

// ---- fused pairs (the cached loop runs pushes, pops and local loads as one step) ----

fn sd(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 3)
}
fn sw(rs2: u32, rs1: u32, imm: i32) -> u32 {
    s(imm, rs2, rs1, 2)
}
fn ld(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 3, rd, 0x03)
}
fn lw(rd: u32, rs1: u32, imm: i32) -> u32 {
    i(imm, rs1, 2, rd, 0x03)
}

/// Pair-shaped chunks: pushes, pops and local loads through base registers sp, s0, t0 (t0
/// sits at the edge of the data region, so its pairs fault part-way), near misses (the
/// same register on both sides, a non-zero offset, x0), and stores into the code (s1).
fn pair_chunk() -> impl Strategy<Value = Vec<u32>> {
    let base = prop::sample::select(vec![2u32, 8, 5]);
    let reg = prop::sample::select(vec![0u32, 2, 5, 8, 10, 11]);
    let step = prop::sample::select(vec![-8i32, -4, 4, 8, 16, 0]);
    let wide = any::<bool>();
    prop_oneof![
        (base.clone(), reg.clone(), step.clone(), wide, 0i32..2).prop_map(
            |(b, r, k, w, off)| vec![
                addi(b, b, k),
                if w {
                    sd(r, b, 8 * off)
                } else {
                    sw(r, b, 4 * off)
                }
            ]
        ),
        (base.clone(), reg.clone(), step.clone(), wide, 0i32..2).prop_map(
            |(b, r, k, w, off)| vec![
                if w {
                    ld(r, b, 8 * off)
                } else {
                    lw(r, b, 4 * off)
                },
                addi(b, b, k)
            ]
        ),
        (base.clone(), reg.clone(), step.clone(), wide, 0i32..2).prop_map(
            |(b, r, k, w, off)| vec![
                addi(r, b, k),
                if w {
                    ld(r, r, 8 * off)
                } else {
                    lw(r, r, 4 * off)
                }
            ]
        ),
        (reg.clone(), 0i32..48).prop_map(|(v, k)| vec![s(4 * k, v, 9, 2)]),
        program_word().prop_map(|w| vec![w]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn fused_pairs_equal_plain_runs(chunks in prop::collection::vec(pair_chunk(), 1..24), budget in 1u64..120, edge in 0u64..24) {
        let prog: Vec<u32> = chunks.concat();
        let regs = [(8, DATA + 0x100), (9, CODE), (5, DATA + 0x1000 - edge), (10, 0x1122_3344_5566_7788), (11, 7)];
        run::<true>(&prog, &regs, budget);
        run::<false>(&prog, &regs, budget);
    }
}

#[test]
fn a_push_and_a_pop_move_the_stack_by_hand() {
    // addi sp,sp,-8; sd a0,0(sp); ld a1,0(sp); addi sp,sp,8; addi a2,sp,-8; ld a2,0(a2)
    let prog = [
        addi(2, 2, -8),
        sd(10, 2, 0),
        ld(11, 2, 0),
        addi(2, 2, 8),
        addi(12, 2, -8),
        ld(12, 12, 0),
    ];
    let regs = [(10, 0xdead_beef_0bad_f00d)];
    let (cpu, mem, n, exit) = run::<true>(&prog, &regs, 6);
    assert_eq!((n, exit), (6, Exit::Budget));
    assert_eq!(cpu.reg(2), STACK);
    assert_eq!(cpu.reg(11), 0xdead_beef_0bad_f00d);
    assert_eq!(cpu.reg(12), 0xdead_beef_0bad_f00d);
    assert_eq!(mem.read_u64(STACK - 8).unwrap(), 0xdead_beef_0bad_f00d);
    // RV32: the same with sw/lw, values sign-extended in the register file.
    let prog32 = [addi(2, 2, -4), sw(10, 2, 0), lw(11, 2, 0), addi(2, 2, 4)];
    let (cpu, mem, n, _) = run::<false>(&prog32, &[(10, 0x8000_0001)], 4);
    assert_eq!(n, 4);
    assert_eq!((cpu.reg(2), cpu.reg(11)), (STACK, 0x8000_0001));
    assert_eq!(mem.read_u32(STACK - 4).unwrap(), 0x8000_0001);
    // A budget of one instruction stops inside a pair, after its first instruction.
    let (cpu, _, n, _) = run::<true>(&prog, &regs, 1);
    assert_eq!((n, cpu.reg(2), cpu.pc()), (1, STACK - 8, CODE + 4));
}

#[test]
fn a_pair_whose_access_faults_stops_at_the_faulting_instruction() {
    // sp at the bottom of the stack region: the push's addi runs, its sd faults.
    let prog = [addi(2, 2, -8), sd(10, 2, 0)];
    let (cpu, _, n, exit) = run::<true>(&prog, &[(2, STACK - 0x1000)], 10);
    assert_eq!((n, cpu.pc(), cpu.reg(2)), (1, CODE + 4, STACK - 0x1008));
    assert!(matches!(exit, Exit::Fault(f) if f.pc == CODE + 4));
    // A local load through an unmapped address: addi done, ld faults.
    let prog = [addi(12, 0, 8), ld(12, 12, 0)];
    let (cpu, _, n, exit) = run::<true>(&prog, &[], 10);
    assert_eq!((n, cpu.pc(), cpu.reg(12)), (1, CODE + 4, 8));
    assert!(matches!(exit, Exit::Fault(_)));
}

#[test]
fn rewriting_the_second_word_of_a_pair_takes_effect() {
    // Loop twice over a push pair whose sd is rewritten into `addi a0,a0,1` on the
    // first pass; the second pass must run the new word.
    let target = CODE + 4 * 2;
    let prog = vec![
        addi(5, 0, 2),  // t0 = 2 passes
        addi(2, 2, -8), // loop: addi sp,sp,-8
        sd(10, 2, 0),   //       sd a0,0(sp)   <- rewritten
        sw_abs(target), //       rewrite it
        addi(5, 5, -1),
        b(-16, 0, 5, 1), // bnez t0, loop
        addi(17, 0, 93),
        ECALL,
    ];
    let regs = [(6, addi(10, 10, 1) as u64), (9, CODE), (10, 40)];
    let (cpu, ..) = run::<true>(&prog, &regs, 100);
    assert_eq!((cpu.reg(10), cpu.reg(2)), (41, STACK - 16));
}
