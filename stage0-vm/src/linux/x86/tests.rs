//! Tests of the x86 machine: per-instruction results and flags against an independent
//! model written from the SDM's pseudo-code (wide arithmetic and bit-by-bit loops, not the
//! executor's closed forms), known answers for the edge cases, hand-assembled programs
//! that make system calls, and properties: arbitrary code never panics, and the cached
//! run loop equals the plain decode-and-execute path.

use proptest::prelude::*;

use super::decode::{decode, mask, Op, Operand};
use super::flags::{AF, ARITH, CF, OF, PF, SF, ZF};
use super::{Amd64, Flow, I386, X86};
use crate::linux::cpu::{Cpu, Exit, FaultKind, Sys};
use crate::linux::memory::Memory;

const CODE: u64 = 0x1000;
const STACK_TOP: u64 = 0x20000;

fn memory(code: &[u8]) -> Memory {
    let mut mem = Memory::new();
    mem.map(CODE, 0x1000).unwrap();
    mem.map(STACK_TOP - 0x1000, 0x1000).unwrap();
    mem.slice_mut(CODE, code.len() as u64)
        .unwrap()
        .copy_from_slice(code);
    mem
}

/// Runs one instruction (the first in `code`) with the given registers and flags.
fn step<const L: bool>(
    code: &[u8],
    regs: &[(u8, u64)],
    flags: u32,
) -> (X86<L>, Result<Flow, FaultKind>) {
    let mut mem = memory(code);
    let mut cpu = X86::<L>::new(CODE, STACK_TOP);
    for &(r, v) in regs {
        cpu.regs[usize::from(r)] = v;
    }
    cpu.flags.set_eager(flags);
    let r = cpu.step_uncached(&mut mem);
    (cpu, r)
}

fn parity(v: u64) -> bool {
    (0..8).filter(|i| (v >> i) & 1 != 0).count() % 2 == 0
}

fn szp(r: u64, size: u8) -> u32 {
    let bits = 8 * u32::from(size);
    let mut f = 0;
    if parity(r) {
        f |= PF;
    }
    if r == 0 {
        f |= ZF;
    }
    if (r >> (bits - 1)) & 1 == 1 {
        f |= SF;
    }
    f
}

fn signed(v: u64, size: u8) -> i128 {
    let bits = 8 * u32::from(size);
    let v = i128::from(v & mask(size));
    if v >> (bits - 1) & 1 == 1 {
        v - (1i128 << bits)
    } else {
        v
    }
}

fn fits_signed(v: i128, size: u8) -> bool {
    let bits = 8 * u32::from(size);
    v >= -(1i128 << (bits - 1)) && v < (1i128 << (bits - 1))
}

/// The SDM's ADD/ADC/SUB/SBB/CMP/AND/OR/XOR on `size`-byte values, by wide arithmetic:
/// (result, the six flags).
fn model_alu(op: u8, size: u8, a: u64, b: u64, cf: bool) -> (u64, u32) {
    let m = mask(size);
    let (a, b) = (a & m, b & m);
    let c = u64::from(cf && (op == 2 || op == 3));
    let mut f = 0;
    let r = match op {
        0 | 2 => {
            let full = u128::from(a) + u128::from(b) + u128::from(c);
            if full > u128::from(m) {
                f |= CF;
            }
            if !fits_signed(signed(a, size) + signed(b, size) + i128::from(c), size) {
                f |= OF;
            }
            if (a & 15) + (b & 15) + c > 15 {
                f |= AF;
            }
            full as u64 & m
        }
        3 | 5 | 7 => {
            if u128::from(a) < u128::from(b) + u128::from(c) {
                f |= CF;
            }
            if !fits_signed(signed(a, size) - signed(b, size) - i128::from(c), size) {
                f |= OF;
            }
            if (a & 15) < (b & 15) + c {
                f |= AF;
            }
            a.wrapping_sub(b).wrapping_sub(c) & m
        }
        1 => a | b,
        4 => a & b,
        _ => a ^ b,
    };
    (r, f | szp(r, size))
}

/// The prefix bytes selecting operand size `size` for a full-size opcode.
fn size_prefix(size: u8) -> Vec<u8> {
    match size {
        2 => vec![0x66],
        8 => vec![0x48],
        _ => vec![],
    }
}

fn arb_size() -> impl Strategy<Value = u8> {
    prop_oneof![Just(1u8), Just(2u8), Just(4u8), Just(8u8)]
}

fn edge_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        any::<u64>(),
        Just(0u64),
        Just(1u64),
        Just(0x7F),
        Just(0x80),
        Just(0xFF),
        Just(0x7FFF),
        Just(0x8000),
        Just(0x7FFF_FFFF),
        Just(0x8000_0000),
        Just(0xFFFF_FFFF),
        Just(i64::MAX as u64),
        Just(i64::MIN as u64),
        Just(u64::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// The eight ALU operations, reg-reg, every size, in 64-bit mode (`op rax/al, rbx/bl`).
    #[test]
    fn alu_matches_the_model(op in 0u8..8, size in arb_size(), a in edge_value(), b in edge_value(), cf: bool) {
        let mut code = size_prefix(size);
        code.push(op * 8 + u8::from(size != 1));
        code.push(0xD8);
        let (cpu, r) = step::<true>(&code, &[(0, a), (3, b)], if cf { CF } else { 0 });
        prop_assert_eq!(r, Ok(Flow::Next));
        let (res, f) = model_alu(op, size, a, b, cf);
        let keep = if size == 4 { 0 } else { a & !mask(size) };
        let expect = if op == 7 { a } else { res | keep };
        prop_assert_eq!(cpu.regs[0], expect);
        prop_assert_eq!(cpu.eflags() & ARITH, f);
    }

    /// INC, DEC (CF kept), NEG, NOT in 32-bit mode on every size but 8.
    #[test]
    fn unary_matches_the_model(n in 0u8..4, size in prop_oneof![Just(1u8), Just(2u8), Just(4u8)], a in edge_value(), cf: bool) {
        let a = a & 0xFFFF_FFFF;
        let mut code = size_prefix(size);
        let (opcode, reg) = [(0xFE, 0), (0xFE, 1), (0xF6, 3), (0xF6, 2)][usize::from(n)];
        code.push(opcode + u8::from(size != 1));
        code.push(0xC0 | (reg << 3));
        let f_in = if cf { CF } else { 0 } | ZF;
        let (cpu, r) = step::<false>(&code, &[(0, a)], f_in);
        prop_assert_eq!(r, Ok(Flow::Next));
        let (res, f) = match n {
            0 => { let (r, f) = model_alu(0, size, a, 1, false); (r, (f & !CF) | (f_in & CF)) }
            1 => { let (r, f) = model_alu(5, size, a, 1, false); (r, (f & !CF) | (f_in & CF)) }
            2 => model_alu(5, size, 0, a, false),
            _ => (!a & mask(size), f_in),
        };
        prop_assert_eq!(cpu.regs[0] & mask(size), res);
        prop_assert_eq!(cpu.regs[0] & !mask(size), a & !mask(size));
        prop_assert_eq!(cpu.eflags() & ARITH, f);
    }

    /// The group-2 shifts and rotates by CL, against the SDM's bit-by-bit loops.
    #[test]
    fn shifts_match_the_model(n in 0u8..8, size in arb_size(), a in edge_value(), count in prop_oneof![0u64..70, any::<u64>()], f_in in 0u32..0x1000) {
        let f_in = f_in & ARITH;
        let mut code = size_prefix(size);
        code.push(0xD2 + u8::from(size != 1));
        code.push(0xC0 | (n << 3));
        let (cpu, r) = step::<true>(&code, &[(0, a), (1, count)], f_in);
        prop_assert_eq!(r, Ok(Flow::Next));
        let (res, f) = model_shift(n, size, a & mask(size), count as u8, f_in);
        prop_assert_eq!(cpu.regs[0] & mask(size), res);
        prop_assert_eq!(cpu.eflags() & ARITH, f);
    }

    /// MUL, IMUL (one, two and three operands), DIV, IDIV by rbx/bl, every size.
    #[test]
    fn mul_div_match_the_model(n in 4u8..8, size in arb_size(), a in edge_value(), d in edge_value(), b in edge_value(), f_in in 0u32..0x1000) {
        let f_in = f_in & ARITH;
        let mut code = size_prefix(size);
        code.push(0xF6 + u8::from(size != 1));
        code.push(0xC3 | (n << 3));
        let (cpu, r) = step::<true>(&code, &[(0, a), (2, d), (3, b)], f_in);
        let m = mask(size);
        let bits = 8 * u32::from(size);
        let (lo_in, hi_in) = if size == 1 { (a, (a >> 8) & 0xFF) } else { (a, d) };
        let b = b & m;
        let (lo_in, hi_in) = (lo_in & m, hi_in & m);
        match n {
            4 | 5 => {
                let (lo, hi, over) = if n == 4 {
                    let p = u128::from(lo_in) * u128::from(b);
                    (p as u64 & m, (p >> bits) as u64 & m, p >> bits != 0)
                } else {
                    let p = signed(lo_in, size) * signed(b, size);
                    (p as u64 & m, (p >> bits) as u64 & m, !fits_signed(p, size))
                };
                prop_assert_eq!(r, Ok(Flow::Next));
                let (got_lo, got_hi) = if size == 1 { (cpu.regs[0] & 0xFF, (cpu.regs[0] >> 8) & 0xFF) } else { (cpu.regs[0] & m, cpu.regs[2] & m) };
                prop_assert_eq!((got_lo, got_hi), (lo, hi));
                let cfof = if over { CF | OF } else { 0 };
                prop_assert_eq!(cpu.eflags() & ARITH, (f_in & !(CF | OF)) | cfof);
            }
            _ => {
                let dividend = (u128::from(hi_in) << bits) | u128::from(lo_in);
                let expect = if b == 0 { None } else if n == 6 {
                    let q = dividend / u128::from(b);
                    (q <= u128::from(m)).then(|| (q as u64, (dividend % u128::from(b)) as u64))
                } else {
                    let shift = 128 - 2 * bits;
                    let nd = ((dividend << shift) as i128) >> shift;
                    let dv = signed(b, size);
                    nd.checked_div(dv).filter(|&q| fits_signed(q, size)).map(|q| (q as u64 & m, (nd - q * dv) as u64 & m))
                };
                match expect {
                    None => prop_assert_eq!(r, Err(FaultKind::DivideError)),
                    Some((q, rem)) => {
                        prop_assert_eq!(r, Ok(Flow::Next));
                        let got = if size == 1 { (cpu.regs[0] & 0xFF, (cpu.regs[0] >> 8) & 0xFF) } else { (cpu.regs[0] & m, cpu.regs[2] & m) };
                        prop_assert_eq!(got, (q, rem));
                        prop_assert_eq!(cpu.eflags() & ARITH, (f_in & (CF | OF)) | AF);
                    }
                }
            }
        }
    }

    /// IMUL r, r/m (0F AF) and r, r/m, imm (69, 6B) against wide arithmetic.
    #[test]
    fn imul_two_three_operands(size in prop_oneof![Just(2u8), Just(4u8), Just(8u8)], a in edge_value(), b in edge_value(), imm in any::<i32>(), form in 0u8..3) {
        let mut code = size_prefix(size);
        let m = mask(size);
        let (x, y) = match form {
            0 => { code.extend([0x0F, 0xAF, 0xC3]); (a, b) }
            1 => { code.extend([0x6B, 0xC3, imm as u8]); (b, i64::from(imm as i8) as u64) }
            _ => {
                code.extend([0x69, 0xC3]);
                if size == 2 { code.extend((imm as u16).to_le_bytes()); (b, i64::from(imm as i16) as u64) }
                else { code.extend(imm.to_le_bytes()); (b, i64::from(imm) as u64) }
            }
        };
        let (cpu, r) = step::<true>(&code, &[(0, a), (3, b)], 0);
        prop_assert_eq!(r, Ok(Flow::Next));
        let p = signed(x, size) * signed(y, size);
        prop_assert_eq!(cpu.regs[0] & m, p as u64 & m);
        let over = !fits_signed(p, size);
        prop_assert_eq!(cpu.eflags() & (CF | OF), if over { CF | OF } else { 0 });
    }

    /// Jcc and SETcc agree with the condition definitions after a CMP.
    #[test]
    fn conditions_after_cmp(a in edge_value(), b in edge_value(), cc in 0u8..16) {
        let code = [0x48, 0x39, 0xD8, 0x0F, 0x90 | cc, 0xC1];
        let mut mem = memory(&code);
        let mut cpu = Amd64::new(CODE, STACK_TOP);
        cpu.regs[0] = a;
        cpu.regs[3] = b;
        cpu.regs[1] = 0xAAAA;
        let (n, _) = cpu.run(&mut mem, 2);
        prop_assert_eq!(n, 2);
        let (sa, sb) = (a as i64, b as i64);
        let t = match cc >> 1 {
            0 => sa.checked_sub(sb).is_none(),
            1 => a < b,
            2 => a == b,
            3 => a <= b,
            4 => (a.wrapping_sub(b) as i64) < 0,
            5 => parity(a.wrapping_sub(b)),
            6 => sa < sb,
            _ => sa <= sb,
        } != (cc & 1 == 1);
        prop_assert_eq!(cpu.regs[1], 0xAA00 | u64::from(t));
    }

    /// Arbitrary bytes decode and execute without panicking, in both modes.
    #[test]
    fn arbitrary_code_never_panics(code in proptest::collection::vec(any::<u8>(), 0..64), regs in proptest::array::uniform16(any::<u64>())) {
        for long in [false, true] {
            let mut mem = memory(&code);
            if long {
                let mut cpu = Amd64::new(CODE, STACK_TOP - 64);
                cpu.regs[..15].copy_from_slice(&regs[..15]);
                let _ = cpu.run(&mut mem, 200);
            } else {
                let mut cpu = I386::new(CODE, STACK_TOP - 64);
                for (r, v) in cpu.regs.iter_mut().zip(regs).take(8) { *r = v & 0xFFFF_FFFF; }
                let _ = cpu.run(&mut mem, 200);
            }
            let _ = decode(&code, CODE, long);
        }
    }

    /// The cached run loop and the plain decode-and-execute path reach the same state,
    /// on random code built from valid instructions (including stores into the code).
    #[test]
    fn cached_run_equals_plain_steps(prog in proptest::collection::vec(fragment(), 1..40), long: bool, seed in any::<u32>()) {
        let code: Vec<u8> = prog.concat();
        if long {
            same_both_ways::<true>(&code, seed)?;
        } else {
            same_both_ways::<false>(&code, seed)?;
        }
    }
}

/// Instruction fragments valid in both modes, with register operands and memory operands
/// relative to ESI/RSI, which points into the code (so stores modify code).
fn fragment() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u8..8, 0u8..64).prop_map(|(op, m)| vec![op * 8 + 1, 0xC0 | m]),
        (0u8..8, 0u8..64, any::<u8>()).prop_map(|(op, m, i)| vec![
            0x83,
            0xC0 | (op << 3) | (m & 7),
            i
        ]),
        (0u8..8, any::<u8>()).prop_map(|(r, i)| vec![0xB0 | r, i]),
        (0u8..8, 0u8..8).prop_map(|(n, r)| vec![0xD1, 0xC0 | (n << 3) | r]),
        (0u8..8, 0u8..8).prop_map(|(n, r)| vec![0xD3, 0xC0 | (n << 3) | r]),
        (0u8..16).prop_map(|cc| vec![0x0F, 0x90 | cc, 0xC2]),
        (0u8..16, 0u8..4).prop_map(|(cc, d)| vec![0x70 | cc, d]),
        // mov byte [esi+d], imm8 / add [esi+d], al / inc dword [esi+d]
        (0u8..64, any::<u8>()).prop_map(|(d, i)| vec![0xC6, 0x46, d, i]),
        (0u8..64).prop_map(|d| vec![0x00, 0x46, d]),
        (0u8..64).prop_map(|d| vec![0xFF, 0x46, d]),
        Just(vec![0x9C, 0x58]),
        Just(vec![0x99]),
        Just(vec![0x50, 0x5B]),
        (1u8..8).prop_map(|r| vec![0x87, 0xC0 | r]),
        (0u8..8).prop_map(|r| vec![0x0F, 0xAF, 0xC0 | r]),
        // M2-Planet's shapes: lea eax, [esi+d]; mov eax, [eax] / mov [esi+d], eax (a dword
        // store into the code) / movzx eax, byte [esi+d] / push eax; pop ebx; test; je.
        (0u8..60).prop_map(|d| vec![0x8D, 0x46, d, 0x8B, 0x00]),
        (0u8..60).prop_map(|d| vec![0x89, 0x46, d]),
        (0u8..64).prop_map(|d| vec![0x0F, 0xB6, 0x46, d]),
        (0u8..4).prop_map(|d| vec![0x50, 0x5B, 0x85, 0xC0, 0x74, d]),
    ]
}

fn same_both_ways<const L: bool>(code: &[u8], seed: u32) -> Result<(), TestCaseError> {
    let mut m1 = memory(code);
    let mut m2 = memory(code);
    let mut a = X86::<L>::new(CODE, STACK_TOP - 64);
    for (i, r) in a.regs.iter_mut().enumerate().take(8) {
        *r = u64::from(seed.rotate_left(i as u32 * 5)) & 0xFF;
    }
    a.regs[6] = CODE;
    let mut b = a.clone();
    let mut left = 300u64;
    // The cached loop runs in chunks of a few instructions (exercising re-entry).
    let mut ended_a = None;
    while left > 0 {
        let (n, exit) = a.run(&mut m1, 7.min(left));
        left -= n.min(left);
        if exit != Exit::Budget {
            ended_a = Some(exit);
            break;
        }
    }
    let mut steps = 0u64;
    let mut ended_b = None;
    while steps < 300 {
        let pc = b.rip;
        match b.step_uncached(&mut m2) {
            Ok(Flow::Next) => steps += 1,
            Ok(Flow::Syscall) => {
                ended_b = Some(Exit::Syscall);
                break;
            }
            Err(kind) => {
                ended_b = Some(Exit::Fault(crate::linux::cpu::CpuFault {
                    pc,
                    bytes: crate::linux::cpu::fault_bytes(&m2, pc),
                    kind,
                }));
                break;
            }
        }
    }
    prop_assert_eq!(ended_a, ended_b);
    prop_assert_eq!(a.regs, b.regs);
    prop_assert_eq!(a.rip, b.rip);
    prop_assert_eq!(a.eflags(), b.eflags());
    prop_assert_eq!(
        m1.slice(CODE, 0x1000).unwrap(),
        m2.slice(CODE, 0x1000).unwrap()
    );
    Ok(())
}

/// The SDM's SAL/SHL, SHR, SAR, ROL, ROR, RCL, RCR operation loops on a `size`-byte
/// value, with the host's (AMD) choices for the undefined flags: (result, flags).
fn model_shift(n: u8, size: u8, a: u64, count: u8, f_in: u32) -> (u64, u32) {
    let bits = 8 * u32::from(size);
    let m = mask(size);
    let top = |v: u64| (v >> (bits - 1)) & 1 == 1;
    let masked = u32::from(count) & if size == 8 { 63 } else { 31 };
    if masked == 0 {
        return (a, f_in);
    }
    let mut v = a;
    let mut cf = f_in & CF != 0;
    let mut before_last = v;
    let temp = match n {
        0 | 1 => masked % bits,
        2 | 3 => masked % (bits + 1),
        _ => masked,
    };
    for _ in 0..temp {
        before_last = v;
        match n {
            0 => v = ((v << 1) | u64::from(top(v))) & m,
            1 => v = (v >> 1) | ((v & 1) << (bits - 1)),
            2 => {
                let t = top(v);
                v = ((v << 1) | u64::from(cf)) & m;
                cf = t;
            }
            3 => {
                let t = v & 1 == 1;
                v = (v >> 1) | (u64::from(cf) << (bits - 1));
                cf = t;
            }
            4 | 6 => {
                cf = top(v);
                v = (v << 1) & m;
            }
            5 => {
                cf = v & 1 == 1;
                v >>= 1;
            }
            _ => {
                cf = v & 1 == 1;
                v = (v >> 1) | (u64::from(top(v)) << (bits - 1));
            }
        }
    }
    let second = (v >> (bits - 2)) & 1 == 1;
    let (cf, of) = match n {
        0 => (v & 1 == 1, top(v) != (v & 1 == 1)),
        1 => (top(v), top(v) != second),
        2 => (cf, top(v) != cf),
        3 => (cf, top(v) != second),
        4 | 6 => (cf, top(v) != cf),
        5 => (cf, top(before_last)),
        _ => (cf, false),
    };
    let f = if cf { CF } else { 0 } | if of { OF } else { 0 };
    if n < 4 {
        (v, (f_in & !(CF | OF)) | f)
    } else {
        (v, f | szp(v, size) | AF)
    }
}

#[test]
fn known_answers_from_the_sdm() {
    // add eax, ebx: 0x7FFFFFFF + 1 overflows into the sign, no carry.
    let (c, _) = step::<false>(&[0x01, 0xD8], &[(0, 0x7FFF_FFFF), (3, 1)], 0);
    assert_eq!(c.regs[0], 0x8000_0000);
    assert_eq!(c.eflags() & ARITH, OF | SF | AF | PF);
    // sub eax, ebx: 0x80000000 - 1 overflows, no borrow.
    let (c, _) = step::<false>(&[0x29, 0xD8], &[(0, 0x8000_0000), (3, 1)], 0);
    assert_eq!(c.regs[0], 0x7FFF_FFFF);
    assert_eq!(c.eflags() & ARITH, OF | AF | PF);
    // shl eax, cl by 0 keeps every flag; by 1, 31, 32 (= 0).
    let (c, _) = step::<false>(&[0xD3, 0xE0], &[(0, 1), (1, 0)], CF | ZF);
    assert_eq!((c.regs[0], c.eflags() & ARITH), (1, CF | ZF));
    let (c, _) = step::<false>(&[0xD3, 0xE0], &[(0, 0x8000_0001), (1, 1)], 0);
    assert_eq!((c.regs[0], c.eflags() & ARITH), (2, CF | OF | AF));
    let (c, _) = step::<false>(&[0xD3, 0xE0], &[(0, 3), (1, 31)], 0);
    assert_eq!(
        (c.regs[0], c.eflags() & ARITH),
        (0x8000_0000, CF | SF | PF | AF)
    );
    let (c, _) = step::<false>(&[0xD3, 0xE0], &[(0, 3), (1, 32)], PF);
    assert_eq!((c.regs[0], c.eflags() & ARITH), (3, PF));
    // imul eax, ebx overflow: 0x10000 * 0x10000.
    let (c, _) = step::<false>(&[0x0F, 0xAF, 0xC3], &[(0, 0x10000), (3, 0x10000)], 0);
    assert_eq!((c.regs[0], c.eflags() & (CF | OF)), (0, CF | OF));
    // div ebx by zero; idiv of INT_MIN by -1.
    let (_, r) = step::<false>(&[0xF7, 0xF3], &[(0, 5), (3, 0)], 0);
    assert_eq!(r, Err(FaultKind::DivideError));
    let (_, r) = step::<false>(
        &[0xF7, 0xFB],
        &[(0, 0x8000_0000), (2, 0xFFFF_FFFF), (3, 0xFFFF_FFFF)],
        0,
    );
    assert_eq!(r, Err(FaultKind::DivideError));
    // inc eax keeps CF.
    let (c, _) = step::<false>(&[0x40], &[(0, 0xFFFF_FFFF)], CF);
    assert_eq!((c.regs[0], c.eflags() & ARITH), (0, CF | ZF | PF | AF));
    // neg of 0: CF clear; neg of INT_MIN: OF set, unchanged.
    let (c, _) = step::<false>(&[0xF7, 0xD8], &[(0, 0)], CF);
    assert_eq!((c.regs[0], c.eflags() & ARITH), (0, ZF | PF));
    let (c, _) = step::<false>(&[0xF7, 0xD8], &[(0, 0x8000_0000)], 0);
    assert_eq!(
        (c.regs[0], c.eflags() & ARITH),
        (0x8000_0000, CF | OF | SF | PF)
    );
    // cdq; cqo; cbw; cwde; cdqe.
    let (c, _) = step::<false>(&[0x99], &[(0, 0x8000_0000)], 0);
    assert_eq!(c.regs[2], 0xFFFF_FFFF);
    let (c, _) = step::<true>(&[0x48, 0x99], &[(0, 1 << 63), (2, 5)], 0);
    assert_eq!(c.regs[2], u64::MAX);
    let (c, _) = step::<true>(&[0x66, 0x98], &[(0, 0x1234_5680)], 0);
    assert_eq!(c.regs[0], 0x1234_FF80);
    let (c, _) = step::<true>(&[0x98], &[(0, 0xFFFF_8000)], 0);
    assert_eq!(c.regs[0], 0xFFFF_8000);
    let (c, _) = step::<true>(&[0x48, 0x98], &[(0, 0x8000_0000)], 0);
    assert_eq!(c.regs[0], 0xFFFF_FFFF_8000_0000);
}

#[test]
fn byte_registers_with_and_without_rex() {
    // 88 E0: mov al, ah; 40 88 E0: mov al, spl; 88 C4 in 64-bit mode: mov ah, al.
    let (c, _) = step::<true>(&[0x88, 0xE0], &[(0, 0x1234)], 0);
    assert_eq!(c.regs[0], 0x1212);
    let (c, _) = step::<true>(&[0x40, 0x88, 0xE0], &[(0, 0x1234), (4, 0x77)], 0);
    assert_eq!(c.regs[0], 0x1277);
    // 41 B0 05: mov r8b, 5.
    let (c, _) = step::<true>(&[0x41, 0xB0, 0x05], &[(8, 0xFFFF)], 0);
    assert_eq!(c.regs[8], 0xFF05);
    // 32-bit writes zero the upper half, 16-bit ones keep it.
    let (c, _) = step::<true>(&[0x89, 0xD8], &[(0, u64::MAX), (3, 7)], 0);
    assert_eq!(c.regs[0], 7);
    let (c, _) = step::<true>(&[0x66, 0x89, 0xD8], &[(0, u64::MAX), (3, 7)], 0);
    assert_eq!(c.regs[0], 0xFFFF_FFFF_FFFF_0007);
    // 48 B8 imm64.
    let (c, _) = step::<true>(&[0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8], &[], 0);
    assert_eq!(c.regs[0], 0x0807_0605_0403_0201);
}

#[test]
fn addressing_forms() {
    // 48 8B 05 disp32: mov rax, [rip + 0x10] (rip = after the 7 bytes).
    let mut code = vec![0x48, 0x8B, 0x05, 0x10, 0, 0, 0];
    code.resize(0x17, 0);
    code.extend(0xDEAD_BEEF_u64.to_le_bytes());
    let (c, r) = step::<true>(&code, &[], 0);
    assert_eq!((r, c.regs[0]), (Ok(Flow::Next), 0xDEAD_BEEF));
    // 8B 44 8B 04: mov eax, [ebx + ecx*4 + 4] (i386).
    let mut code = vec![0x8B, 0x44, 0x8B, 0x04];
    code.resize(0x40, 0);
    code.extend(0x1122_3344_u32.to_le_bytes());
    let (c, _) = step::<false>(&code, &[(3, CODE + 0x30), (1, 3)], 0);
    assert_eq!(c.regs[0], 0x1122_3344);
    // A1 moffs32: mov eax, [0x1040]; 8D 04 25 disp32: lea eax, [0x1234] (no base).
    let (c, _) = step::<false>(&code_with(&[0xA1, 0x40, 0x10, 0, 0], 0x40, 0x55), &[], 0);
    assert_eq!(c.regs[0], 0x55);
    let (c, _) = step::<true>(&[0x8D, 0x04, 0x25, 0x34, 0x12, 0, 0], &[], 0);
    assert_eq!(c.regs[0], 0x1234);
    // 42 8B 04 0B: mov eax, [rbx + r9] (REX.X).
    let (c, _) = step::<true>(
        &code_with(&[0x42, 0x8B, 0x04, 0x0B], 0x40, 0x66),
        &[(3, CODE + 0x20), (9, 0x20)],
        0,
    );
    assert_eq!(c.regs[0], 0x66);
}

fn code_with(prefix: &[u8], at: usize, byte: u8) -> Vec<u8> {
    let mut code = prefix.to_vec();
    code.resize(at, 0);
    code.push(byte);
    code
}

#[test]
fn decoder_names_what_it_lacks() {
    let un = |b: &[u8], long| match decode(b, 0, long) {
        Err(super::decode::DecodeError::Unimplemented(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(un(&[0xD9, 0xC0], false), Some("x87 floating point"));
    assert_eq!(
        un(&[0x64, 0x8B, 0x00], true),
        Some("fs/gs segment override")
    );
    assert_eq!(un(&[0x0F, 0xFF], true), Some("SSE/MMX"));
    assert_eq!(un(&[0x06], true), None);
    assert_eq!(
        decode(&[0x0F], 0, true),
        Err(super::decode::DecodeError::Truncated)
    );
    let i = decode(&[0xEB, 0xFE], 0x100, false).unwrap();
    assert_eq!((i.op, i.imm), (Op::JmpRel, 0x100));
    let i = decode(&[0x0F, 0x85, 0xFA, 0xFF, 0xFF, 0xFF], 0x100, true).unwrap();
    assert_eq!((i.op, i.imm, i.len), (Op::Jcc(5), 0x100, 6));
    let i = decode(&[0x8D, 0x04, 0x24], 0, true).unwrap();
    assert!(matches!(i.src, Operand::Mem(_)));
    assert_eq!(
        decode(&[0x8D, 0xC0], 0, true),
        Err(super::decode::DecodeError::Unimplemented(None))
    );
}

#[test]
fn traps_and_faults() {
    for (code, kind) in [
        (&[0xCC][..], FaultKind::Trap { mnemonic: "int3" }),
        (&[0x0F, 0x0B], FaultKind::Trap { mnemonic: "ud2" }),
        (&[0xF4], FaultKind::Trap { mnemonic: "hlt" }),
    ] {
        let mut mem = memory(code);
        let mut cpu = I386::new(CODE, STACK_TOP);
        let (n, exit) = cpu.run(&mut mem, 10);
        assert_eq!(n, 0);
        match exit {
            Exit::Fault(f) => {
                assert_eq!((f.pc, f.kind), (CODE, kind));
            }
            e => panic!("{e:?}"),
        }
        assert_eq!(cpu.pc(), CODE);
    }
    // A load from unmapped memory names the address.
    let mut mem = memory(&[0x8B, 0x03]);
    let mut cpu = I386::new(CODE, STACK_TOP);
    cpu.regs[3] = 0x9999_0000;
    match cpu.run(&mut mem, 10) {
        (0, Exit::Fault(f)) => {
            assert!(matches!(f.kind, FaultKind::Memory(m) if m.addr == 0x9999_0000))
        }
        e => panic!("{e:?}"),
    }
}

/// `write(1, msg, 3); exit(7)` by `int 0x80`.
#[test]
fn i386_system_calls() {
    let mut code = vec![
        0xB8, 4, 0, 0, 0, // mov eax, 4
        0xBB, 1, 0, 0, 0, // mov ebx, 1
        0xB9, 0x40, 0x10, 0, 0, // mov ecx, 0x1040
        0xBA, 3, 0, 0, 0, // mov edx, 3
        0xCD, 0x80, // int 0x80
        0x89, 0xC3, // mov ebx, eax
        0x31, 0xC0, // xor eax, eax
        0x40, // inc eax
        0xCD, 0x80, // int 0x80
    ];
    code.resize(0x40, 0);
    code.extend(b"hi\n");
    let mut mem = memory(&code);
    let mut cpu = I386::new(CODE, STACK_TOP);
    assert_eq!(cpu.run(&mut mem, 100), (5, Exit::Syscall));
    let req = cpu.syscall();
    assert_eq!(
        (req.number, req.sys, req.args),
        (4, Some(Sys::Write), [1, 0x1040, 3, 0, 0, 0])
    );
    cpu.set_syscall_result(7);
    assert_eq!(cpu.run(&mut mem, 100), (4, Exit::Syscall));
    let req = cpu.syscall();
    assert_eq!((req.sys, req.args[0]), (Some(Sys::Exit), 7));
    cpu.set_syscall_result(-2);
    assert_eq!(cpu.regs[0], 0xFFFF_FFFE);
    assert!(cpu.registers().contains("eax 0xfffffffe"));
}

/// A loop calling a function, then `exit_group(sum)` by `syscall`; rcx and r11 as the
/// CPU leaves them.
#[test]
fn amd64_call_loop_and_syscall() {
    let code = vec![
        0x31, 0xFF, // xor edi, edi
        0xB9, 10, 0, 0, 0, // mov ecx, 10
        0xE8, 0x0E, 0, 0, 0, // call f (at 0x1A)
        0xE2, 0xF9, // loop -7 (to the call)
        0xB8, 0xE7, 0, 0, 0, // mov eax, 231
        0x0F, 0x05, // syscall
        0x90, 0x90, 0x90, 0x90, 0x90, // padding
        0x48, 0x01, 0xCF, // f: add rdi, rcx
        0xC3, // ret
    ];
    let mut mem = memory(&code);
    let mut cpu = Amd64::new(CODE, STACK_TOP);
    let (n, exit) = cpu.run(&mut mem, 1000);
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(n, 2 + 10 * 4 + 2);
    let req = cpu.syscall();
    assert_eq!(
        (req.number, req.sys, req.args[0]),
        (231, Some(Sys::ExitGroup), 55)
    );
    assert_eq!(cpu.regs[1], CODE + 0x15);
    assert_eq!(cpu.regs[11], u64::from(cpu.eflags()));
    assert_eq!(cpu.regs[4], STACK_TOP);
}

/// A store into already executed (and cached) code takes effect, as on hardware: the loop
/// rewrites the ModRM byte of its own `inc eax` (FF C0) into `inc ecx` (FF C1).
#[test]
fn self_modifying_code_is_seen() {
    let code = vec![
        0xB2, 2, // mov dl, 2
        0xFF, 0xC0, // again: inc eax (ModRM at 0x1003)
        0xC6, 0x05, 0x03, 0x10, 0, 0, 0xC1, // mov byte [0x1003], 0xC1 (i386 absolute)
        0xFE, 0xCA, // dec dl
        0x75, 0xF3, // jnz again
        0xF4, // hlt
    ];
    let mut mem = memory(&code);
    let mut cpu = I386::new(CODE, STACK_TOP);
    let (_, exit) = cpu.run(&mut mem, 100);
    assert!(matches!(exit, Exit::Fault(f) if f.kind == FaultKind::Trap { mnemonic: "hlt" }));
    assert_eq!((cpu.regs[0], cpu.regs[1]), (1, 1));
}

#[test]
fn string_instructions() {
    // rep movsb copies 5 bytes; repne scasb finds a byte.
    let mut code = vec![
        0xBE, 0x40, 0x10, 0, 0, // mov esi, 0x1040
        0xBF, 0x80, 0x10, 0, 0, // mov edi, 0x1080
        0xB9, 5, 0, 0, 0, // mov ecx, 5
        0xF3, 0xA4, // rep movsb
        0xBF, 0x40, 0x10, 0, 0, // mov edi, 0x1040
        0xB0, b'l', // mov al, 'l'
        0xB9, 5, 0, 0, 0, // mov ecx, 5
        0xF2, 0xAE, // repne scasb
        0xF4,
    ];
    code.resize(0x40, 0);
    code.extend(b"hello");
    let mut mem = memory(&code);
    let mut cpu = I386::new(CODE, STACK_TOP);
    let _ = cpu.run(&mut mem, 100);
    assert_eq!(mem.slice(0x1080, 5).unwrap(), b"hello");
    assert_eq!((cpu.regs[7], cpu.regs[1]), (0x1043, 2));
}

#[test]
fn push_pop_flags_and_stack() {
    // pushfd; pop eax; push 0x8D5 | 0x400; popfd; pushfd; pop ebx
    let code = [0x9C, 0x58, 0x68, 0xD5, 0x0C, 0, 0, 0x9D, 0x9C, 0x5B];
    let mut mem = memory(&code);
    let mut cpu = I386::new(CODE, STACK_TOP);
    assert_eq!(cpu.run(&mut mem, 6).0, 6);
    assert_eq!(cpu.regs[0], 0x202);
    assert_eq!(cpu.regs[3], 0xED7);
    assert!(cpu.df);
    assert_eq!(cpu.regs[4], STACK_TOP);
    // leave / enter 16, 0.
    let code = [0xC8, 0x10, 0, 0, 0xC9];
    let mut mem = memory(&code);
    let mut cpu = Amd64::new(CODE, STACK_TOP);
    cpu.regs[5] = 0x1234;
    cpu.run(&mut mem, 1);
    assert_eq!((cpu.regs[5], cpu.regs[4]), (STACK_TOP - 8, STACK_TOP - 24));
    cpu.run(&mut mem, 1);
    assert_eq!((cpu.regs[5], cpu.regs[4]), (0x1234, STACK_TOP));
}
