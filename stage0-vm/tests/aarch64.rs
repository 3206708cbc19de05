//! Tests of the AArch64 processor of the Linux user-mode machine against an independent
//! reference written here from the Arm Architecture Reference Manual's pseudo-code
//! (AddWithCarry on unbounded integers, DecodeBitMasks bit by bit, the bitfield move's
//! wmask/tmask merge, ShiftReg, ExtendReg, ConditionHolds). Every program runs on both the
//! cached and the plain fetch-and-decode path, which must agree on registers, flags,
//! memory and the exit.

use proptest::prelude::*;
use stage0_vm::linux::aarch64::decode::decode_bit_masks;
use stage0_vm::linux::aarch64::Aarch64;
use stage0_vm::linux::cpu::{Cpu, Exit, FaultKind, Sys};
use stage0_vm::linux::memory::Memory;

mod enc {
    //! Encoders straight from the manual's field layouts.
    pub fn add_imm(sf: u32, op: u32, s: u32, sh: u32, imm12: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | op << 30 | s << 29 | 0b100010 << 23 | sh << 22 | imm12 << 10 | rn << 5 | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn add_shift(
        sf: u32,
        op: u32,
        s: u32,
        shift: u32,
        rm: u32,
        imm6: u32,
        rn: u32,
        rd: u32,
    ) -> u32 {
        sf << 31
            | op << 30
            | s << 29
            | 0b01011 << 24
            | shift << 22
            | rm << 16
            | imm6 << 10
            | rn << 5
            | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn add_ext(
        sf: u32,
        op: u32,
        s: u32,
        rm: u32,
        option: u32,
        imm3: u32,
        rn: u32,
        rd: u32,
    ) -> u32 {
        sf << 31
            | op << 30
            | s << 29
            | 0b01011 << 24
            | 1 << 21
            | rm << 16
            | option << 13
            | imm3 << 10
            | rn << 5
            | rd
    }
    pub fn adc(sf: u32, op: u32, s: u32, rm: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | op << 30 | s << 29 | 0b11010000 << 21 | rm << 16 | rn << 5 | rd
    }
    pub fn logic_imm(sf: u32, opc: u32, n: u32, immr: u32, imms: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | opc << 29 | 0b100100 << 23 | n << 22 | immr << 16 | imms << 10 | rn << 5 | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn logic_shift(
        sf: u32,
        opc: u32,
        shift: u32,
        n: u32,
        rm: u32,
        imm6: u32,
        rn: u32,
        rd: u32,
    ) -> u32 {
        sf << 31
            | opc << 29
            | 0b01010 << 24
            | shift << 22
            | n << 21
            | rm << 16
            | imm6 << 10
            | rn << 5
            | rd
    }
    pub fn movw(sf: u32, opc: u32, hw: u32, imm16: u32, rd: u32) -> u32 {
        sf << 31 | opc << 29 | 0b100101 << 23 | hw << 21 | imm16 << 5 | rd
    }
    pub fn bitfield(sf: u32, opc: u32, immr: u32, imms: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | opc << 29 | 0b100110 << 23 | sf << 22 | immr << 16 | imms << 10 | rn << 5 | rd
    }
    pub fn extr(sf: u32, rm: u32, imms: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | 0b00100111 << 23 | sf << 22 | rm << 16 | imms << 10 | rn << 5 | rd
    }
    pub fn dp2(sf: u32, rm: u32, opcode: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | 0b11010110 << 21 | rm << 16 | opcode << 10 | rn << 5 | rd
    }
    pub fn dp1(sf: u32, opcode: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | 1 << 30 | 0b11010110 << 21 | opcode << 10 | rn << 5 | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn dp3(sf: u32, op31: u32, rm: u32, o0: u32, ra: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | 0b11011 << 24 | op31 << 21 | rm << 16 | o0 << 15 | ra << 10 | rn << 5 | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn csel(sf: u32, op: u32, rm: u32, cond: u32, op2: u32, rn: u32, rd: u32) -> u32 {
        sf << 31 | op << 30 | 0b11010100 << 21 | rm << 16 | cond << 12 | op2 << 10 | rn << 5 | rd
    }
    #[allow(clippy::too_many_arguments)]
    pub fn ccmp(sf: u32, op: u32, rm: u32, cond: u32, imm: u32, rn: u32, nzcv: u32) -> u32 {
        sf << 31
            | op << 30
            | 1 << 29
            | 0b11010010 << 21
            | rm << 16
            | cond << 12
            | imm << 11
            | rn << 5
            | nzcv
    }
    pub fn ldst_uimm(size: u32, opc: u32, imm12: u32, rn: u32, rt: u32) -> u32 {
        size << 30 | 0b111001 << 24 | opc << 22 | imm12 << 10 | rn << 5 | rt
    }
    pub fn ldst_imm9(size: u32, opc: u32, imm9: i32, op4: u32, rn: u32, rt: u32) -> u32 {
        size << 30
            | 0b111000 << 24
            | opc << 22
            | (imm9 as u32 & 0x1ff) << 12
            | op4 << 10
            | rn << 5
            | rt
    }
    #[allow(clippy::too_many_arguments)]
    pub fn ldst_reg(size: u32, opc: u32, rm: u32, option: u32, s: u32, rn: u32, rt: u32) -> u32 {
        size << 30
            | 0b111000 << 24
            | opc << 22
            | 1 << 21
            | rm << 16
            | option << 13
            | s << 12
            | 0b10 << 10
            | rn << 5
            | rt
    }
    pub fn ldr_lit(opc: u32, imm19: i32, rt: u32) -> u32 {
        opc << 30 | 0b011000 << 24 | (imm19 as u32 & 0x7ffff) << 5 | rt
    }
    #[allow(clippy::too_many_arguments)]
    pub fn pair(opc: u32, mode: u32, l: u32, imm7: i32, rt2: u32, rn: u32, rt: u32) -> u32 {
        opc << 30
            | 0b101 << 27
            | mode << 23
            | l << 22
            | (imm7 as u32 & 0x7f) << 15
            | rt2 << 10
            | rn << 5
            | rt
    }
    pub fn b(imm26: i32) -> u32 {
        0b000101 << 26 | (imm26 as u32 & 0x3ff_ffff)
    }
    pub fn bl(imm26: i32) -> u32 {
        0b100101 << 26 | (imm26 as u32 & 0x3ff_ffff)
    }
    pub fn bcond(imm19: i32, cond: u32) -> u32 {
        0b01010100 << 24 | (imm19 as u32 & 0x7ffff) << 5 | cond
    }
    pub fn cbz(sf: u32, op: u32, imm19: i32, rt: u32) -> u32 {
        sf << 31 | 0b011010 << 25 | op << 24 | (imm19 as u32 & 0x7ffff) << 5 | rt
    }
    pub fn tbz(bit: u32, op: u32, imm14: i32, rt: u32) -> u32 {
        (bit >> 5) << 31
            | 0b011011 << 25
            | op << 24
            | (bit & 31) << 19
            | (imm14 as u32 & 0x3fff) << 5
            | rt
    }
    pub fn br(rn: u32) -> u32 {
        0xd61f_0000 | rn << 5
    }
    pub fn blr(rn: u32) -> u32 {
        0xd63f_0000 | rn << 5
    }
    pub fn ret(rn: u32) -> u32 {
        0xd65f_0000 | rn << 5
    }
    pub fn adr(page: u32, imm21: i32, rd: u32) -> u32 {
        let imm = imm21 as u32;
        page << 31 | (imm & 3) << 29 | 0b10000 << 24 | ((imm >> 2) & 0x7ffff) << 5 | rd
    }
    pub const SVC0: u32 = 0xd400_0001;
    pub const BRK0: u32 = 0xd420_0000;
    pub const NOP: u32 = 0xd503_201f;
}

mod reference {
    //! The manual's pseudo-code, on unbounded integers and explicit bit loops.

    pub fn mask(n: u32) -> u128 {
        (1u128 << n) - 1
    }

    /// AddWithCarry(x, y, carry) at `n` bits: (result, NZCV).
    pub fn add_with_carry(n: u32, x: u64, y: u64, carry: bool) -> (u64, u8) {
        let m = mask(n);
        let (x, y) = (u128::from(x) & m, u128::from(y) & m);
        let sint = |v: u128| -> i128 {
            if v >> (n - 1) & 1 == 1 {
                v as i128 - (1i128 << n)
            } else {
                v as i128
            }
        };
        let unsigned_sum = x + y + u128::from(carry);
        let signed_sum = sint(x) + sint(y) + i128::from(carry);
        let result = unsigned_sum & m;
        let nf = result >> (n - 1) & 1 == 1;
        let zf = result == 0;
        let cf = result != unsigned_sum;
        let vf = sint(result) != signed_sum;
        (
            result as u64,
            u8::from(nf) << 3 | u8::from(zf) << 2 | u8::from(cf) << 1 | u8::from(vf),
        )
    }

    fn ror(x: u128, r: u32, esize: u32) -> u128 {
        let mut out = 0;
        for i in 0..esize {
            if x >> i & 1 == 1 {
                out |= 1 << ((i + esize - r % esize) % esize);
            }
        }
        out
    }

    fn replicate(x: u128, esize: u32, total: u32) -> u128 {
        let mut out = 0;
        for i in 0..total {
            if x >> (i % esize) & 1 == 1 {
                out |= 1 << i;
            }
        }
        out
    }

    /// DecodeBitMasks(immN, imms, immr, immediate, M).
    pub fn decode_bit_masks(
        n: u32,
        imms: u32,
        immr: u32,
        immediate: bool,
        m: u32,
    ) -> Option<(u64, u64)> {
        let combined = n << 6 | (!imms & 0x3f);
        let len = (0..7).rev().find(|&i| combined >> i & 1 == 1)?;
        if len < 1 || m < (1 << len) {
            return None;
        }
        let levels = (1u32 << len) - 1;
        if immediate && imms & levels == levels {
            return None;
        }
        let s = imms & levels;
        let r = immr & levels;
        let diff = s.wrapping_sub(r);
        let esize = 1u32 << len;
        let d = diff & levels;
        let welem = mask(s + 1);
        let telem = mask(d + 1);
        let wmask = replicate(ror(welem, r, esize), esize, m);
        let tmask = replicate(telem, esize, m);
        Some((wmask as u64, tmask as u64))
    }

    /// The SBFM/BFM/UBFM operation: opc 0 SBFM, 1 BFM, 2 UBFM.
    pub fn bitfield(opc: u32, m: u32, immr: u32, imms: u32, dst: u64, src: u64) -> u64 {
        let (wmask, tmask) = decode_bit_masks(u32::from(m == 64), imms, immr, false, m).unwrap();
        let (wmask, tmask) = (u128::from(wmask), u128::from(tmask));
        let dm = mask(m);
        let (inzero, extend) = match opc {
            0 => (true, true),
            1 => (false, false),
            _ => (true, false),
        };
        let dst = if inzero { 0 } else { u128::from(dst) & dm };
        let src = u128::from(src) & dm;
        let bot = (dst & !wmask) | (ror(src, immr, m) & wmask);
        let top = if extend {
            if src >> imms & 1 == 1 {
                dm
            } else {
                0
            }
        } else {
            dst
        };
        (((top & !tmask) | (bot & tmask)) & dm) as u64
    }

    /// ConditionHolds(cond) for NZCV.
    pub fn condition_holds(cond: u32, nzcv: u8) -> bool {
        let n = nzcv & 8 != 0;
        let z = nzcv & 4 != 0;
        let c = nzcv & 2 != 0;
        let v = nzcv & 1 != 0;
        let result = match cond >> 1 {
            0b000 => z,
            0b001 => c,
            0b010 => n,
            0b011 => v,
            0b100 => c && !z,
            0b101 => n == v,
            0b110 => n == v && !z,
            _ => true,
        };
        if cond & 1 == 1 && cond != 0b1111 {
            !result
        } else {
            result
        }
    }

    /// ShiftReg at `m` bits: type 0 LSL, 1 LSR, 2 ASR, 3 ROR.
    pub fn shift_reg(m: u32, value: u64, kind: u32, amount: u32) -> u64 {
        let dm = mask(m);
        let v = u128::from(value) & dm;
        let r = match kind {
            0 => v << amount,
            1 => v >> amount,
            2 => {
                let neg = v >> (m - 1) & 1 == 1;
                let shifted = v >> amount;
                if neg {
                    shifted | (dm & !(dm >> amount))
                } else {
                    shifted
                }
            }
            _ => ror(v, amount, m),
        };
        (r & dm) as u64
    }

    /// ExtendReg(reg, type, shift) at `m` bits.
    pub fn extend_reg(m: u32, value: u64, option: u32, shift: u32) -> u64 {
        let len = 8 << (option & 3);
        let field = u128::from(value) & mask(len);
        let signed = option & 4 != 0 && field >> (len - 1) & 1 == 1;
        let extended = if signed {
            field | (mask(128 - len) << len)
        } else {
            field
        };
        ((extended << shift) & mask(m)) as u64
    }
}

const CODE: u64 = 0x40_0000;
const DATA: u64 = 0x50_0000;
const STACK_TOP: u64 = 0x7f_0000;

fn memory(words: &[u32]) -> Memory {
    let mut mem = Memory::new();
    mem.map(CODE, 0x1_0000).unwrap();
    mem.map(DATA, 0x1000).unwrap();
    mem.map(STACK_TOP - 0x1_0000, 0x1_0000).unwrap();
    for (i, w) in words.iter().enumerate() {
        mem.write_u32(CODE + 4 * i as u64, *w).unwrap();
    }
    mem
}

/// The observable state: registers as text (pc, sp, flags included) and data memory.
fn observe(cpu: &Aarch64, mem: &Memory) -> (String, Vec<u8>, Vec<u8>) {
    (
        cpu.registers(),
        mem.slice(DATA, 0x1000).unwrap().to_vec(),
        mem.slice(CODE, 0x100).unwrap().to_vec(),
    )
}

/// Runs `words` from CODE on both paths (after `setup`), at most `budget` instructions
/// per run, up to the first exit other than a system call number 0xffff (which continues).
fn run_program(
    words: &[u32],
    budget: u64,
    setup: &dyn Fn(&mut Aarch64),
) -> (Aarch64, Memory, Exit) {
    let mut results = Vec::new();
    for cached in [true, false] {
        let mut mem = memory(words);
        let mut cpu = Aarch64::new(CODE, STACK_TOP - 0x100);
        cpu.set_cached(cached);
        setup(&mut cpu);
        let (n, exit) = cpu.run(&mut mem, budget);
        assert!(n <= budget);
        results.push((cpu, mem, exit));
    }
    let (b_cpu, b_mem, b_exit) = results.pop().unwrap();
    let (a_cpu, a_mem, a_exit) = results.pop().unwrap();
    assert_eq!(a_exit, b_exit, "cached and plain exits differ");
    assert_eq!(
        observe(&a_cpu, &a_mem),
        observe(&b_cpu, &b_mem),
        "cached and plain states differ"
    );
    (a_cpu, a_mem, a_exit)
}

/// Runs one instruction (then `svc #0`) with registers set by `setup`.
fn one(word: u32, setup: &dyn Fn(&mut Aarch64)) -> Aarch64 {
    let (cpu, _, exit) = run_program(&[word, enc::SVC0], 2, setup);
    assert_eq!(exit, Exit::Syscall, "word {word:#010x}");
    cpu
}

fn with(regs: &[(usize, u64)]) -> impl Fn(&mut Aarch64) + '_ {
    move |cpu: &mut Aarch64| {
        for &(r, v) in regs {
            cpu.set_x(r, v);
        }
    }
}

fn faults_unimplemented(word: u32) -> bool {
    let (_, _, exit) = run_program(&[word, enc::SVC0], 2, &|_| {});
    matches!(exit, Exit::Fault(ref f) if matches!(f.kind, FaultKind::Unimplemented { .. }))
}

fn wmask32(sf: bool, v: u64) -> u64 {
    if sf {
        v
    } else {
        v & 0xffff_ffff
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn add_sub_immediate_matches_add_with_carry(sf in 0u32..2, op in 0u32..2, s in 0u32..2, sh in 0u32..2,
                                               imm12 in 0u32..4096, x in any::<u64>(), flags in 0u8..16) {
        let m = if sf == 1 { 64 } else { 32 };
        let cpu = one(enc::add_imm(sf, op, s, sh, imm12, 1, 2), &|c| { c.set_x(1, x); c.set_nzcv(flags) });
        let imm = u64::from(imm12) << (12 * sh);
        let (r, f) = if op == 0 {
            reference::add_with_carry(m, x, imm, false)
        } else {
            reference::add_with_carry(m, x, !imm, true)
        };
        prop_assert_eq!(cpu.x(2), r);
        prop_assert_eq!(cpu.nzcv(), if s == 1 { f } else { flags });
    }

    #[test]
    fn add_sub_shifted_register(sf in 0u32..2, op in 0u32..2, shift in 0u32..3, amount in 0u32..64,
                                x in any::<u64>(), y in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let amount = amount % m;
        let cpu = one(enc::add_shift(sf, op, 1, shift, 3, amount, 1, 2), &with(&[(1, x), (3, y)]));
        let y2 = reference::shift_reg(m, y, shift, amount);
        let (r, f) = if op == 0 {
            reference::add_with_carry(m, x, y2, false)
        } else {
            reference::add_with_carry(m, x, !y2, true)
        };
        prop_assert_eq!((cpu.x(2), cpu.nzcv()), (r, f));
    }

    #[test]
    fn add_sub_extended_register(sf in 0u32..2, op in 0u32..2, s in 0u32..2, option in 0u32..8, imm3 in 0u32..5,
                                 x in any::<u64>(), y in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        // Rn = SP, Rd = SP unless flags are set (then ZR): the extended form's register 31.
        let cpu = one(enc::add_ext(sf, op, s, 3, option, imm3, 31, if s == 1 { 31 } else { 2 }),
                      &with(&[(31, x), (3, y)]));
        let y2 = reference::extend_reg(m, y, option, imm3);
        let (r, f) = if op == 0 {
            reference::add_with_carry(m, x, y2, false)
        } else {
            reference::add_with_carry(m, x, !y2, true)
        };
        if s == 1 {
            prop_assert_eq!(cpu.nzcv(), f);
            prop_assert_eq!(cpu.x(31), x, "ADDS to register 31 discards the result");
        } else {
            prop_assert_eq!(cpu.x(2), r);
        }
    }

    #[test]
    fn adc_sbc_use_the_carry(sf in 0u32..2, op in 0u32..2, x in any::<u64>(), y in any::<u64>(), flags in 0u8..16) {
        let m = if sf == 1 { 64 } else { 32 };
        let cpu = one(enc::adc(sf, op, 1, 3, 1, 2), &|c| { c.set_x(1, x); c.set_x(3, y); c.set_nzcv(flags) });
        let carry = flags & 2 != 0;
        let (r, f) = reference::add_with_carry(m, x, if op == 1 { !y } else { y }, carry);
        prop_assert_eq!((cpu.x(2), cpu.nzcv()), (r, f));
    }

    #[test]
    fn logical_immediate_uses_decode_bit_masks(sf in 0u32..2, opc in 0u32..4, n in 0u32..2, immr in 0u32..64,
                                              imms in 0u32..64, x in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let word = enc::logic_imm(sf, opc, n, immr, imms, 1, 2);
        let valid = (sf == 1 || n == 0).then(|| reference::decode_bit_masks(n, imms, immr, true, m)).flatten();
        prop_assert_eq!(decode_bit_masks(n == 1, imms, immr, true, m), valid.filter(|_| sf == 1 || n == 0));
        match valid {
            None => prop_assert!(faults_unimplemented(word)),
            Some((imm, _)) => {
                let cpu = one(word, &with(&[(1, x)]));
                let xm = wmask32(sf == 1, x);
                let r = match opc { 0 | 3 => xm & imm, 1 => xm | imm, _ => xm ^ imm };
                prop_assert_eq!(cpu.x(2), r);
                if opc == 3 {
                    let neg = r >> (m - 1) & 1 == 1;
                    prop_assert_eq!(cpu.nzcv(), u8::from(neg) << 3 | u8::from(r == 0) << 2);
                }
            }
        }
    }

    #[test]
    fn logical_shifted_register(sf in 0u32..2, opc in 0u32..4, shift in 0u32..4, inv in 0u32..2, amount in 0u32..64,
                                x in any::<u64>(), y in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let amount = amount % m;
        let cpu = one(enc::logic_shift(sf, opc, shift, inv, 3, amount, 1, 2), &with(&[(1, x), (3, y)]));
        let mut y2 = reference::shift_reg(m, y, shift, amount);
        if inv == 1 {
            y2 = wmask32(sf == 1, !y2);
        }
        let xm = wmask32(sf == 1, x);
        let r = match opc { 0 | 3 => xm & y2, 1 => xm | y2, _ => xm ^ y2 };
        prop_assert_eq!(cpu.x(2), r);
    }

    #[test]
    fn bitfield_moves_match_the_wmask_tmask_merge(sf in 0u32..2, opc in 0u32..3, immr in 0u32..64, imms in 0u32..64,
                                                  dst in any::<u64>(), src in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let (immr, imms) = (immr % m, imms % m);
        let cpu = one(enc::bitfield(sf, opc, immr, imms, 1, 2), &with(&[(1, src), (2, dst)]));
        prop_assert_eq!(cpu.x(2), reference::bitfield(opc, m, immr, imms, dst, src));
    }

    #[test]
    fn extr_concatenates(sf in 0u32..2, lsb in 0u32..64, x in any::<u64>(), y in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let lsb = lsb % m;
        let cpu = one(enc::extr(sf, 3, lsb, 1, 2), &with(&[(1, x), (3, y)]));
        let both = (u128::from(x) & reference::mask(m)) << m | (u128::from(y) & reference::mask(m));
        prop_assert_eq!(u128::from(cpu.x(2)), (both >> lsb) & reference::mask(m));
    }

    #[test]
    fn variable_shifts_take_the_amount_modulo_the_width(sf in 0u32..2, kind in 0u32..4, x in any::<u64>(), y in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let cpu = one(enc::dp2(sf, 3, 0b001000 | kind, 1, 2), &with(&[(1, x), (3, y)]));
        prop_assert_eq!(cpu.x(2), reference::shift_reg(m, x, kind, (y % u64::from(m)) as u32));
    }

    #[test]
    fn division(sf in 0u32..2, signed in 0u32..2, x in any::<u64>(), y in prop_oneof![Just(0u64), Just(u64::MAX), any::<u64>()]) {
        let cpu = one(enc::dp2(sf, 3, 0b000010 | signed, 1, 2), &with(&[(1, x), (3, y)]));
        let expected = if sf == 1 {
            match (signed, y) {
                (_, 0) => 0,
                (0, _) => x / y,
                _ => (x as i64).wrapping_div(y as i64) as u64,
            }
        } else {
            let (a, b) = (x as u32, y as u32);
            u64::from(match (signed, b) {
                (_, 0) => 0,
                (0, _) => a / b,
                _ => (a as i32).wrapping_div(b as i32) as u32,
            })
        };
        prop_assert_eq!(cpu.x(2), expected);
    }

    #[test]
    fn multiplies(sf in 0u32..2, sel in 0usize..8, x in any::<u64>(), y in any::<u64>(), a in any::<u64>()) {
        // (op31, o0) for MADD MSUB SMADDL SMSUBL UMADDL UMSUBL SMULH UMULH.
        let forms = [(0, 0), (0, 1), (1, 0), (1, 1), (5, 0), (5, 1), (2, 0), (6, 0)];
        let (op31, o0) = forms[sel];
        let word = enc::dp3(sf, op31, 3, o0, 4, 1, 2);
        if sf == 0 && op31 != 0 {
            prop_assert!(faults_unimplemented(word));
            return Ok(());
        }
        let cpu = one(word, &with(&[(1, x), (3, y), (4, a)]));
        let (xi, yi, ai) = (i128::from(x as i64), i128::from(y as i64), i128::from(a as i64));
        let (xs, ys) = (i128::from(x as i32), i128::from(y as i32));
        let (xu, yu) = (i128::from(x as u32), i128::from(y as u32));
        let r: i128 = match sel {
            0 => ai + xi * yi,
            1 => ai - xi * yi,
            2 => ai + xs * ys,
            3 => ai - xs * ys,
            4 => ai + xu * yu,
            5 => ai - xu * yu,
            6 => (xi * yi) >> 64,
            _ => ((u128::from(x) * u128::from(y)) >> 64) as i128,
        };
        prop_assert_eq!(cpu.x(2), wmask32(sf == 1, r as u64));
    }

    #[test]
    fn conditional_select_and_compare(sf in 0u32..2, op in 0u32..2, op2 in 0u32..2, cond in 0u32..16, flags in 0u8..16,
                                      x in any::<u64>(), y in any::<u64>(), nzcv in 0u32..16, imm in 0u32..2) {
        let m = if sf == 1 { 64 } else { 32 };
        let holds = reference::condition_holds(cond, flags);
        let cpu = one(enc::csel(sf, op, 3, cond, op2, 1, 2), &|c| { c.set_x(1, x); c.set_x(3, y); c.set_nzcv(flags) });
        let r = if holds { x } else {
            match (op, op2) { (0, 0) => y, (0, _) => y.wrapping_add(1), (_, 0) => !y, _ => y.wrapping_neg() }
        };
        prop_assert_eq!(cpu.x(2), wmask32(sf == 1, r));
        let cpu = one(enc::ccmp(sf, op, 3, cond, imm, 1, nzcv), &|c| { c.set_x(1, x); c.set_x(3, y); c.set_nzcv(flags) });
        let operand = if imm == 1 { 3 } else { y };
        let f = if holds {
            if op == 1 { reference::add_with_carry(m, x, !operand, true).1 } else { reference::add_with_carry(m, x, operand, false).1 }
        } else {
            nzcv as u8
        };
        prop_assert_eq!(cpu.nzcv(), f);
    }

    #[test]
    fn move_wide(sf in 0u32..2, opc in prop_oneof![Just(0u32), Just(2), Just(3)], hw in 0u32..4, imm16 in 0u32..0x10000, old in any::<u64>()) {
        let word = enc::movw(sf, opc, hw, imm16, 2);
        if sf == 0 && hw >= 2 {
            prop_assert!(faults_unimplemented(word));
            return Ok(());
        }
        let cpu = one(word, &with(&[(2, old)]));
        let imm = u64::from(imm16) << (16 * hw);
        let r = match opc { 0 => !imm, 2 => imm, _ => (old & !(0xffff << (16 * hw))) | imm };
        prop_assert_eq!(cpu.x(2), wmask32(sf == 1, r));
    }

    #[test]
    fn register_offset_loads_extend_the_index(size in 0u32..4, option in prop_oneof![Just(2u32), Just(3), Just(6), Just(7)],
                                              s in 0u32..2, index in -16i64..16) {
        let scaled = index << (s * size);
        let base = DATA + 0x800;
        let addr = base.wrapping_add(scaled as u64);
        let word = enc::ldst_reg(size, 1, 3, option, s, 1, 2);
        let (cpu, _, exit) = run_program(&[word, enc::SVC0], 2, &|c| {
            c.set_x(1, base);
            c.set_x(3, if option & 3 == 2 { (index as u64) & 0xffff_ffff } else { index as u64 });
            c.set_x(2, 0);
        });
        let extended = reference::extend_reg(64, if option & 3 == 2 { (index as u64) & 0xffff_ffff } else { index as u64 }, option, s * size);
        if option == 2 && index < 0 {
            // UXTW of a negative index lands far above the data: a fault.
            prop_assert!(matches!(exit, Exit::Fault(_)));
        } else {
            prop_assert_eq!(base.wrapping_add(extended), addr);
            prop_assert_eq!(exit, Exit::Syscall);
            prop_assert_eq!(cpu.x(2), 0);
        }
    }

    #[test]
    fn one_source_bit_and_byte_operations(sf in 0u32..2, x in any::<u64>()) {
        let m = if sf == 1 { 64 } else { 32 };
        let v = wmask32(sf == 1, x);
        let bit = |i: u32| v >> i & 1;
        let rbit = (0..m).fold(0, |acc, i| acc | bit(i) << (m - 1 - i));
        let clz = (0..m).rev().take_while(|&i| bit(i) == 0).count() as u64;
        let cls = (0..m - 1).rev().take_while(|&i| bit(i) == bit(m - 1)).count() as u64;
        let byte = |i: u32| v >> (8 * i) & 0xff;
        let rev_in = |chunk: u32| (0..m / 8).fold(0, |acc, i| {
            let within = i % chunk;
            acc | byte(i) << (8 * (i - within + chunk - 1 - within))
        });
        prop_assert_eq!(one(enc::dp1(sf, 0, 1, 2), &with(&[(1, x)])).x(2), rbit);
        prop_assert_eq!(one(enc::dp1(sf, 4, 1, 2), &with(&[(1, x)])).x(2), clz);
        prop_assert_eq!(one(enc::dp1(sf, 5, 1, 2), &with(&[(1, x)])).x(2), cls);
        prop_assert_eq!(one(enc::dp1(sf, 1, 1, 2), &with(&[(1, x)])).x(2), rev_in(2));
        prop_assert_eq!(one(enc::dp1(sf, 2, 1, 2), &with(&[(1, x)])).x(2), rev_in(4));
        if sf == 1 {
            prop_assert_eq!(one(enc::dp1(sf, 3, 1, 2), &with(&[(1, x)])).x(2), rev_in(8));
        }
    }

    /// Arbitrary words never panic, and both paths agree on what they do.
    #[test]
    fn arbitrary_words_never_panic(words in prop::collection::vec(any::<u32>(), 1..24), regs in prop::collection::vec(any::<u64>(), 31)) {
        run_program(&words, 64, &|c| {
            for (i, v) in regs.iter().enumerate() {
                // Half the registers point into data memory so that loads and stores land.
                c.set_x(i, if i % 2 == 0 { DATA + (v & 0x7f8) } else { *v });
            }
        });
    }

    /// Words from the integer classes the machine implements, including stores into the
    /// code and branches anywhere: both paths agree at every budget.
    #[test]
    fn cached_path_equals_plain_path(words in prop::collection::vec(implemented_word(), 1..32), budget in 1u64..200) {
        run_program(&words, budget, &|c| {
            for i in 0..31 {
                c.set_x(i, if i % 3 == 0 { CODE + 8 * i as u64 } else if i % 3 == 1 { DATA + 16 * i as u64 } else { i as u64 });
            }
        });
    }
}

/// Words biased towards the implemented classes: arithmetic, branches within the
/// program, loads and stores through registers that point at code or data.
fn implemented_word() -> impl Strategy<Value = u32> {
    let r = || 0u32..31;
    prop_oneof![
        (0u32..2, 0u32..2, 0u32..2, 0u32..4096, r(), r())
            .prop_map(|(sf, op, s, imm, n, d)| enc::add_imm(sf, op, s, 0, imm, n, d)),
        (0u32..2, 0u32..4, 0u32..64, r(), r(), r())
            .prop_map(|(sf, opc, a, m, n, d)| enc::logic_shift(sf, opc, 0, 0, m, a % 32, n, d)),
        (-8i32..8, 0u32..16).prop_map(|(o, c)| enc::bcond(o, c)),
        (-8i32..8).prop_map(enc::b),
        (0u32..2, -8i32..8, r()).prop_map(|(op, o, t)| enc::cbz(1, op, o, t)),
        (0u32..4, 0u32..2, 0u32..8, r(), r())
            .prop_map(|(size, l, imm, n, t)| enc::ldst_uimm(size, l, imm, n, t)),
        (0u32..4, 0u32..2, -16i32..16, 0u32..4, r(), r())
            .prop_map(|(size, l, imm, op4, n, t)| enc::ldst_imm9(size, l, imm, op4, n, t)),
        (0u32..2, 1u32..4, 0u32..2, -4i32..4, r(), r(), r())
            .prop_map(|(opc, mode, l, imm, t2, n, t)| enc::pair(opc * 2, mode, l, imm, t2, n, t)),
        (0u32..2, 0u32..3, 0u32..32, 0u32..32, r(), r())
            .prop_map(|(sf, opc, a, b, n, d)| enc::bitfield(sf, opc, a, b, n, d)),
        (0u32..2, 0u32..0x10000, r()).prop_map(|(opc, imm, d)| enc::movw(
            1,
            opc * 2 + 1,
            0,
            imm,
            d
        )),
        Just(enc::SVC0),
        any::<u32>(),
    ]
}

#[test]
fn compare_edge_cases() {
    // CMP x1, x2 is SUBS xzr, x1, x2.
    let cmp = |sf: u32, a: u64, b: u64| {
        one(
            enc::add_shift(sf, 1, 1, 0, 2, 0, 1, 31),
            &with(&[(1, a), (2, b)]),
        )
        .nzcv()
    };
    const NF: u8 = 8;
    const ZF: u8 = 4;
    const CF: u8 = 2;
    const VF: u8 = 1;
    assert_eq!(cmp(1, 0, 0), ZF | CF);
    assert_eq!(cmp(1, i64::MIN as u64, 1), CF | VF, "MIN - 1 overflows");
    assert_eq!(cmp(1, 1, i64::MIN as u64), NF | VF, "1 - MIN overflows");
    assert_eq!(cmp(1, i64::MIN as u64, i64::MIN as u64), ZF | CF);
    assert_eq!(cmp(1, 0, 1), NF);
    assert_eq!(cmp(0, 0x8000_0000, 1), CF | VF);
    assert_eq!(
        cmp(0, 0xffff_ffff_0000_0000, 0),
        ZF | CF,
        "W compare ignores the upper half"
    );
    // ADDS overflow and carry.
    let adds = |sf: u32, a: u64, b: u64| {
        one(
            enc::add_shift(sf, 0, 1, 0, 2, 0, 1, 3),
            &with(&[(1, a), (2, b)]),
        )
    };
    let c = adds(1, u64::MAX, 1);
    assert_eq!((c.x(3), c.nzcv()), (0, ZF | CF));
    let c = adds(1, i64::MAX as u64, 1);
    assert_eq!((c.x(3), c.nzcv()), (1 << 63, NF | VF));
    let c = adds(0, 0x7fff_ffff, 1);
    assert_eq!((c.x(3), c.nzcv()), (0x8000_0000, NF | VF));
    let c = adds(0, 0xffff_ffff, 1);
    assert_eq!((c.x(3), c.nzcv()), (0, ZF | CF));
    // SDIV MIN / -1 and division by zero.
    let div = |sf: u32, a: u64, b: u64| {
        one(enc::dp2(sf, 2, 0b000011, 1, 3), &with(&[(1, a), (2, b)])).x(3)
    };
    assert_eq!(div(1, i64::MIN as u64, u64::MAX), i64::MIN as u64);
    assert_eq!(div(0, 0x8000_0000, 0xffff_ffff), 0x8000_0000);
    assert_eq!(div(1, 7, 0), 0);
    assert_eq!(div(1, (-7i64) as u64, 2), (-3i64) as u64);
}

#[test]
fn bitfield_aliases() {
    let bf = |word: u32, x: u64| one(word, &with(&[(1, x), (2, 0x5555_5555_5555_5555)])).x(2);
    // LSL x2, x1, #4 = UBFM x2, x1, #60, #59.
    assert_eq!(bf(enc::bitfield(1, 2, 60, 59, 1, 2), 0x1234), 0x12340);
    // LSR w2, w1, #4 = UBFM w2, w1, #4, #31.
    assert_eq!(
        bf(enc::bitfield(0, 2, 4, 31, 1, 2), 0xffff_ffff_8000_0000),
        0x0800_0000
    );
    // ASR x2, x1, #8 = SBFM x2, x1, #8, #63.
    assert_eq!(
        bf(enc::bitfield(1, 0, 8, 63, 1, 2), 0x8000_0000_0000_0000),
        0xff80_0000_0000_0000
    );
    // SXTB x2, w1 = SBFM x2, x1, #0, #7; SXTH; SXTW; UXTB w2, w1 = UBFM w2, w1, #0, #7.
    assert_eq!(
        bf(enc::bitfield(1, 0, 0, 7, 1, 2), 0x80),
        0xffff_ffff_ffff_ff80
    );
    assert_eq!(
        bf(enc::bitfield(1, 0, 0, 15, 1, 2), 0x1_8001),
        0xffff_ffff_ffff_8001
    );
    assert_eq!(
        bf(enc::bitfield(1, 0, 0, 31, 1, 2), 0x8000_0000),
        0xffff_ffff_8000_0000
    );
    assert_eq!(bf(enc::bitfield(0, 2, 0, 7, 1, 2), 0x1ff), 0xff);
    // SXTB w2, w1 only fills the W register.
    assert_eq!(bf(enc::bitfield(0, 0, 0, 7, 1, 2), 0x80), 0xffff_ff80);
    // UBFX x2, x1, #8, #8 = UBFM x2, x1, #8, #15; SBFIZ x2, x1, #4, #4 = SBFM #60, #3.
    assert_eq!(bf(enc::bitfield(1, 2, 8, 15, 1, 2), 0xab12), 0xab);
    assert_eq!(
        bf(enc::bitfield(1, 0, 60, 3, 1, 2), 0x8),
        0xffff_ffff_ffff_ff80
    );
    // BFI x2, x1, #8, #4 = BFM x2, x1, #56, #3 keeps the other bits of x2.
    assert_eq!(
        bf(enc::bitfield(1, 1, 56, 3, 1, 2), 0xa),
        0x5555_5555_5555_5a55
    );
    // BFXIL w2, w1, #4, #4 = BFM w2, w1, #4, #7; the upper word becomes zero.
    assert_eq!(bf(enc::bitfield(0, 1, 4, 7, 1, 2), 0xf0), 0x5555_555f);
}

#[test]
fn decode_bit_masks_known_answers() {
    // (N, immr, imms) -> the 64-bit immediate of AND/ORR/EOR.
    let cases: [(bool, u32, u32, u64); 6] = [
        (true, 0, 0b000111, 0xff),
        (false, 0, 0b111100, 0x5555_5555_5555_5555),
        (false, 1, 0b111100, 0xaaaa_aaaa_aaaa_aaaa),
        (true, 0, 0b111110, 0x7fff_ffff_ffff_ffff),
        (true, 1, 0, 0x8000_0000_0000_0000),
        (false, 0, 0b110011, 0x0f0f_0f0f_0f0f_0f0f),
    ];
    for (n, immr, imms, value) in cases {
        assert_eq!(
            decode_bit_masks(n, imms, immr, true, 64).map(|m| m.0),
            Some(value),
            "{n} {immr} {imms}"
        );
    }
    // All ones is not encodable, nor N=1 at 32 bits.
    assert_eq!(decode_bit_masks(true, 0b111111, 0, true, 64), None);
    assert_eq!(decode_bit_masks(false, 0b011111, 0, true, 32), None);
    assert_eq!(decode_bit_masks(true, 0, 0, true, 32), None);
}

#[test]
fn register_31_is_sp_or_zr_by_class() {
    // ADD x0, sp, #16 (MOV from SP form) reads SP.
    let cpu = one(enc::add_imm(1, 0, 0, 0, 16, 31, 0), &|_| {});
    assert_eq!(cpu.x(0), STACK_TOP - 0x100 + 16);
    // ADD sp, sp, #32 writes SP.
    let cpu = one(enc::add_imm(1, 0, 0, 0, 32, 31, 31), &|_| {});
    assert_eq!(cpu.x(31), STACK_TOP - 0x100 + 32);
    // ADDS xzr, sp, #1 (CMN): flags only, SP unchanged.
    let cpu = one(enc::add_imm(1, 0, 1, 0, 1, 31, 31), &|_| {});
    assert_eq!(cpu.x(31), STACK_TOP - 0x100);
    // ORR x0, xzr, x1 (MOV) reads ZR, not SP.
    let cpu = one(enc::logic_shift(1, 1, 0, 0, 1, 0, 31, 0), &with(&[(1, 7)]));
    assert_eq!(cpu.x(0), 7);
    // ADD x0, x31, x1 (shifted register form): register 31 is ZR.
    let cpu = one(enc::add_shift(1, 0, 0, 0, 1, 0, 31, 0), &with(&[(1, 5)]));
    assert_eq!(cpu.x(0), 5);
    // ADD x0, sp, x1 (extended register form, UXTX): register 31 is SP.
    let cpu = one(enc::add_ext(1, 0, 0, 1, 3, 0, 31, 0), &with(&[(1, 5)]));
    assert_eq!(cpu.x(0), STACK_TOP - 0x100 + 5);
    // ORR sp, xzr, #0xff0 (logical immediate writes SP).
    let cpu = one(enc::logic_imm(1, 1, 1, 60, 7, 31, 31), &|_| {});
    assert_eq!(cpu.x(31), 0xff0);
    // STR xzr, [sp] stores zero; LDR x1, [sp] loads it back.
    let (cpu, _, _) = run_program(
        &[
            enc::ldst_uimm(3, 0, 0, 31, 31),
            enc::ldst_uimm(3, 1, 0, 31, 1),
            enc::SVC0,
        ],
        3,
        &with(&[(1, 99), (31, DATA)]),
    );
    assert_eq!(cpu.x(1), 0);
    // MOVZ xzr, #5 is discarded: x31 reads back as SP.
    let cpu = one(enc::movw(1, 2, 0, 5, 31), &|_| {});
    assert_eq!(cpu.x(31), STACK_TOP - 0x100);
}

#[test]
fn loads_stores_and_writeback() {
    let data = DATA + 0x100;
    // STP x1, x2, [x0, #-16]!; LDP x3, x4, [x0], #16; then x0 is back.
    let (cpu, mem, _) = run_program(
        &[
            enc::pair(2, 3, 0, -2, 2, 0, 1),
            enc::pair(2, 1, 1, 2, 4, 0, 3),
            enc::SVC0,
        ],
        3,
        &with(&[(0, data), (1, 0x1111), (2, 0x2222)]),
    );
    assert_eq!((cpu.x(0), cpu.x(3), cpu.x(4)), (data, 0x1111, 0x2222));
    assert_eq!(mem.read_u64(data - 16).unwrap(), 0x1111);
    assert_eq!(mem.read_u64(data - 8).unwrap(), 0x2222);
    // STR w1, [x0, #4]! then LDRSW x2, [x0], #-4; LDRSB x3, [x0, #4]; LDRB w5, [x0, #7].
    let (cpu, _, _) = run_program(
        &[
            enc::ldst_imm9(2, 0, 4, 3, 0, 1),
            enc::ldst_imm9(2, 2, -4, 1, 0, 2),
            enc::ldst_uimm(0, 2, 4, 0, 3),
            enc::ldst_uimm(0, 1, 7, 0, 5),
            enc::SVC0,
        ],
        5,
        &with(&[(0, data), (1, 0x80ff_ff80)]),
    );
    assert_eq!(cpu.x(0), data);
    assert_eq!(cpu.x(2), 0xffff_ffff_80ff_ff80);
    assert_eq!(cpu.x(3), 0xffff_ffff_ffff_ff80);
    assert_eq!(cpu.x(5), 0x80);
    // LDPSW sign-extends both; LDR (literal) reads relative to the PC; LDUR at -1.
    let (cpu, _, _) = run_program(
        &[
            enc::pair(1, 2, 1, 0, 2, 0, 1),
            enc::ldr_lit(1, 3, 6),
            enc::ldst_imm9(0, 1, -1, 0, 7, 8),
            enc::SVC0,
            0xdead_beef,
            0x0123_4567,
        ],
        4,
        &|c| {
            c.set_x(0, CODE + 16);
            c.set_x(7, CODE + 17);
        },
    );
    assert_eq!((cpu.x(1), cpu.x(2)), (0xffff_ffff_dead_beef, 0x0123_4567));
    assert_eq!(cpu.x(6), 0x0123_4567_dead_beef);
    assert_eq!(cpu.x(8), 0xef);
    // A faulting load changes nothing, writeback included.
    let (cpu, _, exit) = run_program(
        &[enc::ldst_imm9(3, 1, 8, 1, 0, 1), enc::SVC0],
        2,
        &with(&[(0, 8), (1, 3)]),
    );
    assert!(
        matches!(exit, Exit::Fault(ref f) if matches!(f.kind, FaultKind::Memory(_)) && f.pc == CODE)
    );
    assert_eq!((cpu.x(0), cpu.x(1), cpu.pc()), (8, 3, CODE));
}

#[test]
fn branches_and_pc_relative() {
    // ADR x0, #8; ADRP x1, #1; BL +2 (skipping a BRK); the callee returns with RET.
    let (cpu, _, exit) = run_program(
        &[
            enc::adr(0, 8, 0),
            enc::adr(1, 1, 1),
            enc::bl(3),
            enc::SVC0,
            enc::BRK0,
            enc::ret(30),
        ],
        10,
        &|_| {},
    );
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(
        (cpu.x(0), cpu.x(1), cpu.x(30), cpu.pc()),
        (CODE + 8, CODE + 0x1000, CODE + 12, CODE + 16)
    );
    // TBNZ on bit 40, CBZ on a W register whose upper half is set, BR and BLR.
    let (cpu, _, exit) = run_program(
        &[
            enc::tbz(40, 1, 2, 1),
            enc::BRK0,
            enc::cbz(0, 0, 2, 2),
            enc::BRK0,
            enc::blr(3),
            enc::BRK0,
            enc::SVC0,
        ],
        10,
        &with(&[(1, 1 << 40), (2, 0xffff_ffff_0000_0000), (3, CODE + 24)]),
    );
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(cpu.x(30), CODE + 20);
    // BRK traps at its own address; NOP does nothing; an FP instruction names itself.
    let (cpu, _, exit) = run_program(&[enc::NOP, enc::BRK0], 4, &|_| {});
    assert!(matches!(exit, Exit::Fault(ref f) if f.kind == FaultKind::Trap { mnemonic: "brk" }));
    assert_eq!(cpu.pc(), CODE + 4);
    let (_, _, exit) = run_program(&[0x1e20_2000], 1, &|_| {}); // fcmp s0, s0
    assert!(
        matches!(exit, Exit::Fault(ref f) if matches!(f.kind, FaultKind::Unimplemented { mnemonic: Some(_) }))
    );
    let (_, _, exit) = run_program(&[enc::br(1)], 4, &with(&[(1, CODE + 2)]));
    assert!(matches!(exit, Exit::Fault(ref f) if f.pc == CODE + 2));
}

#[test]
fn loop_program_sums_and_exits() {
    // x0 = sum 1..=100 via a countdown loop, then exit(x0) via svc.
    let program = [
        enc::movw(1, 2, 0, 100, 1),             // movz x1, #100
        enc::movw(1, 2, 0, 0, 0),               // movz x0, #0
        enc::add_shift(1, 0, 0, 0, 1, 0, 0, 0), // loop: add x0, x0, x1
        enc::add_imm(1, 1, 1, 0, 1, 1, 1),      // subs x1, x1, #1
        enc::bcond(-2, 1),                      // b.ne loop
        enc::movw(1, 2, 0, 93, 8),              // movz x8, #93 (exit)
        enc::SVC0,
    ];
    let (cpu, _, exit) = run_program(&program, 1000, &|_| {});
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(cpu.x(0), 5050);
    let req = cpu.syscall();
    assert_eq!(
        (req.number, req.sys, req.args[0]),
        (93, Some(Sys::Exit), 5050)
    );
    // The budget stops it mid-loop on both paths alike.
    let (_, _, exit) = run_program(&program, 37, &|_| {});
    assert_eq!(exit, Exit::Budget);
}

#[test]
fn strlen_program_with_byte_loads() {
    let text = b"hello, aarch64\0";
    let program = [
        enc::add_imm(1, 0, 0, 0, 0, 0, 1),      // mov x1, x0
        enc::ldst_imm9(0, 1, 1, 1, 1, 2),       // loop: ldrb w2, [x1], #1
        enc::cbz(0, 1, -1, 2),                  // cbnz w2, loop
        enc::add_shift(1, 1, 0, 0, 0, 0, 1, 0), // sub x0, x1, x0
        enc::add_imm(1, 1, 0, 0, 1, 0, 0),      // sub x0, x0, #1
        enc::SVC0,
    ];
    let mut words = program.to_vec();
    words.resize(16, enc::NOP);
    let mut mem = memory(&words);
    mem.slice_mut(DATA, text.len() as u64)
        .unwrap()
        .copy_from_slice(text);
    let mut cpu = Aarch64::new(CODE, STACK_TOP - 0x100);
    cpu.set_x(0, DATA);
    assert_eq!(cpu.run(&mut mem, 1000).1, Exit::Syscall);
    assert_eq!(cpu.x(0), text.len() as u64 - 1);
}

#[test]
fn stores_into_decoded_code_take_effect() {
    // The loop body's first instruction is rewritten on the first pass: the cached path
    // must run the new word on the second pass, as the plain one does.
    let new_word = enc::add_imm(1, 0, 0, 0, 100, 0, 0); // add x0, x0, #100
    let program = [
        enc::movw(1, 2, 0, 2, 1),          // movz x1, #2
        enc::add_imm(1, 0, 0, 0, 1, 0, 0), // loop: add x0, x0, #1 (rewritten)
        enc::ldst_uimm(2, 0, 1, 3, 4),     // str w4, [x3, #4]
        enc::add_imm(1, 1, 1, 0, 1, 1, 1), // subs x1, x1, #1
        enc::bcond(-3, 1),                 // b.ne loop
        enc::SVC0,
    ];
    let (cpu, _, exit) = run_program(&program, 100, &with(&[(3, CODE), (4, u64::from(new_word))]));
    assert_eq!(exit, Exit::Syscall);
    assert_eq!(cpu.x(0), 101);
}

#[test]
fn code_written_by_a_read_system_call_is_decoded_afresh() {
    let program = [
        enc::movw(1, 2, 0, 63, 8), // 0: movz x8, #63 (read)
        enc::SVC0,                 // 4: read(x0, CODE + 8, 4)
        enc::movw(1, 2, 0, 1, 0),  // 8: movz x0, #1, replaced by the second read
        enc::cbz(1, 1, 3, 5),      // 12: cbnz x5, 24
        enc::movw(1, 2, 0, 1, 5),  // 16: movz x5, #1
        enc::b(-5),                // 20: b 0
        enc::SVC0,                 // 24
    ];
    for cached in [true, false] {
        let mut mem = memory(&program);
        let mut cpu = Aarch64::new(CODE, STACK_TOP);
        cpu.set_cached(cached);
        cpu.set_x(1, CODE + 8);
        cpu.set_x(2, 4);
        assert_eq!(cpu.run(&mut mem, 100).1, Exit::Syscall);
        cpu.set_syscall_result(4);
        assert_eq!(cpu.run(&mut mem, 100).1, Exit::Syscall);
        assert_eq!(cpu.x(0), 1);
        let req = cpu.syscall();
        assert_eq!(
            (req.sys, req.args[1], req.args[2]),
            (Some(Sys::Read), CODE + 8, 4)
        );
        // The process layer performs the read: new code lands in the buffer.
        mem.write_u32(CODE + 8, enc::movw(1, 2, 0, 7, 0)).unwrap();
        cpu.set_syscall_result(4);
        assert_eq!(cpu.run(&mut mem, 100).1, Exit::Syscall);
        assert_eq!((cpu.x(0), cpu.pc()), (7, CODE + 28), "cached: {cached}");
    }
}

#[test]
fn system_call_numbers_follow_the_generic_table() {
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
        (62, Sys::Lseek),
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
    for (number, sys) in table {
        let cpu = one(enc::NOP, &with(&[(8, number), (0, 1), (5, 6)]));
        let req = cpu.syscall();
        assert_eq!(
            (req.number, req.sys, req.args[0], req.args[5]),
            (number, Some(sys), 1, 6)
        );
    }
    assert_eq!(one(enc::NOP, &with(&[(8, 1000)])).syscall().sys, None);
    let mut cpu = one(enc::NOP, &|_| {});
    cpu.set_syscall_result(-2);
    assert_eq!(cpu.x(0), (-2i64) as u64);
}
