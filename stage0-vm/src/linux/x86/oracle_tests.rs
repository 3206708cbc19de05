//! The host processor as an oracle: random register-only instructions run natively (each
//! embedded as `.byte`s in a C function between popfq and pushfq, compiled with the host's
//! `gcc`) and in [`Amd64`], with registers and the six arithmetic flags compared (only the registers where the SDM leaves a flag undefined: multiplies, divides, shifts, rotates, bit scans, since processor models differ there). The
//! test is skipped (and says so) when the host is not x86-64 or has no `gcc`; CI needs
//! neither. This is where the machine's choices for the SDM's undefined flags were
//! measured.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use super::flags::ARITH;
use super::{Amd64, X86};
use crate::linux::cpu::{Cpu, Exit};
use crate::linux::memory::Memory;

/// The registers a case may use: rax, rcx, rdx, rbx, rsi, rdi.
const REGS: [usize; 6] = [0, 1, 2, 3, 6, 7];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn value(&mut self) -> u64 {
        match self.below(6) {
            0 => self.below(4),
            1 => 1u64 << self.below(64),
            2 => (1u64 << self.below(64)).wrapping_sub(1),
            3 => self.below(70),
            _ => self.next(),
        }
    }
}

/// A register-only ModRM byte over the allowed registers.
fn modrm(rng: &mut Rng, reg_field: Option<u8>) -> u8 {
    let pick = |rng: &mut Rng| [0u8, 1, 2, 3, 6, 7][rng.below(6) as usize];
    let reg = reg_field.unwrap_or_else(|| pick(rng));
    0xC0 | (reg << 3) | pick(rng)
}

/// One random instruction from the classes whose flags matter.
fn instruction(rng: &mut Rng) -> Vec<u8> {
    let mut code = Vec::new();
    let size = [1u8, 2, 4, 8][rng.below(4) as usize];
    match size {
        2 => code.push(0x66),
        8 => code.push(0x48),
        _ => {}
    }
    let w = u8::from(size != 1);
    match rng.below(14) {
        0 => {
            code.push((rng.below(8) as u8) * 8 + w);
            code.push(modrm(rng, None));
        }
        1 => {
            code.push(0xD2 + w);
            let f = rng.below(8) as u8;
            code.push(modrm(rng, Some(f)));
        }
        2 => {
            code.push(0xC0 + w);
            let f = rng.below(8) as u8;
            code.push(modrm(rng, Some(f)));
            code.push(rng.below(70) as u8);
        }
        3 => {
            code.push(0xF6 + w);
            let f = 2 + rng.below(6) as u8;
            code.push(modrm(rng, Some(f)));
        }
        4 => {
            code.push(0xFE + w);
            let f = rng.below(2) as u8;
            code.push(modrm(rng, Some(f)));
        }
        5 if size != 1 => {
            code.extend([0x0F, [0xA3, 0xAB, 0xB3, 0xBB][rng.below(4) as usize]]);
            code.push(modrm(rng, None));
        }
        6 if size != 1 => {
            code.extend([0x0F, 0xBC + rng.below(2) as u8]);
            code.push(modrm(rng, None));
        }
        7 if size != 1 => {
            code.extend([0x0F, 0xAF]);
            code.push(modrm(rng, None));
        }
        8 => {
            code.extend([0x0F, 0xC0 + w]);
            code.push(modrm(rng, None));
        }
        9 => {
            code.extend([0x0F, 0xB0 + w]);
            code.push(modrm(rng, None));
        }
        10 if size != 1 => {
            code.extend([0x0F, 0x40 + rng.below(16) as u8]);
            code.push(modrm(rng, None));
        }
        11 => {
            code.extend([0x0F, 0x90 + rng.below(16) as u8]);
            let f = 0;
            code.push(modrm(rng, Some(f)));
        }
        12 => code.push([0x98, 0x99, 0x9E, 0x9F, 0xF5][rng.below(5) as usize]),
        _ if size != 1 => {
            code.extend([0x0F, 0xBA]);
            let f = 4 + rng.below(4) as u8;
            code.push(modrm(rng, Some(f)));
            code.push(rng.below(256) as u8);
        }
        _ => {
            code.push(0x84 + w);
            code.push(modrm(rng, None));
        }
    }
    code
}

struct Case {
    code: Vec<u8>,
    regs: [u64; 6],
    flags: u64,
}

/// The emulator's result: registers and flags, or None if it faulted (a division error:
/// the case is skipped, the model tests cover it).
fn emulate(case: &Case) -> Option<([u64; 6], u32)> {
    let mut mem = Memory::new();
    mem.map(0x1000, 0x1000).ok()?;
    mem.slice_mut(0x1000, case.code.len() as u64)
        .ok()?
        .copy_from_slice(&case.code);
    let mut cpu: Amd64 = X86::new(0x1000, 0x2000);
    for (i, &r) in REGS.iter().enumerate() {
        cpu.regs[r] = case.regs[i];
    }
    cpu.flags.set_eager(case.flags as u32);
    match cpu.run(&mut mem, 1) {
        (1, Exit::Budget) => Some((REGS.map(|r| cpu.regs[r]), cpu.eflags() & ARITH)),
        _ => None,
    }
}

fn c_program(cases: &[Case]) -> String {
    let mut s = String::from("#include <stdio.h>\n#include <stdint.h>\n");
    for (n, c) in cases.iter().enumerate() {
        let bytes: Vec<String> = c.code.iter().map(|b| format!("{b:#04x}")).collect();
        let _ = writeln!(
            s,
            "static void c{n}(uint64_t *s) {{ __asm__ volatile(\
             \"mov %0, %%r15\\n push 48(%%r15)\\n popfq\\n\
             mov 0(%%r15), %%rax\\n mov 8(%%r15), %%rcx\\n mov 16(%%r15), %%rdx\\n\
             mov 24(%%r15), %%rbx\\n mov 32(%%r15), %%rsi\\n mov 40(%%r15), %%rdi\\n\
             .byte {}\\n pushfq\\n pop 48(%%r15)\\n\
             mov %%rax, 0(%%r15)\\n mov %%rcx, 8(%%r15)\\n mov %%rdx, 16(%%r15)\\n\
             mov %%rbx, 24(%%r15)\\n mov %%rsi, 32(%%r15)\\n mov %%rdi, 40(%%r15)\\n\" \
             : : \"r\"(s) : \"rax\", \"rcx\", \"rdx\", \"rbx\", \"rsi\", \"rdi\", \"r15\", \
             \"memory\", \"cc\"); }}",
            bytes.join(",")
        );
    }
    s.push_str("int main(void) { uint64_t s[7];\n");
    for (n, c) in cases.iter().enumerate() {
        let r = c.regs;
        let _ = writeln!(
            s,
            "s[0]={}ULL;s[1]={}ULL;s[2]={}ULL;s[3]={}ULL;s[4]={}ULL;s[5]={}ULL;s[6]={}ULL;c{n}(s);\
             printf(\"%llx %llx %llx %llx %llx %llx %llx\\n\",(unsigned long long)s[0],\
             (unsigned long long)s[1],(unsigned long long)s[2],(unsigned long long)s[3],\
             (unsigned long long)s[4],(unsigned long long)s[5],(unsigned long long)s[6]);",
            r[0], r[1], r[2], r[3], r[4], r[5], c.flags
        );
    }
    s.push_str("return 0; }\n");
    s
}

fn native(dir: &Path, cases: &[Case]) -> Option<Vec<([u64; 6], u32)>> {
    let src = dir.join("oracle.c");
    let exe = dir.join("oracle");
    std::fs::write(&src, c_program(cases)).ok()?;
    let ok = Command::new("gcc")
        .args(["-O0", "-mno-red-zone", "-o"])
        .arg(&exe)
        .arg(&src)
        .status()
        .ok()?
        .success();
    if !ok {
        return None;
    }
    let out = Command::new(&exe).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut results = Vec::new();
    for line in text.lines() {
        let v: Vec<u64> = line
            .split(' ')
            .filter_map(|w| u64::from_str_radix(w, 16).ok())
            .collect();
        let regs: [u64; 6] = v.get(..6)?.try_into().ok()?;
        results.push((regs, *v.get(6)? as u32 & ARITH));
    }
    Some(results)
}

#[test]
fn random_instructions_match_the_host_cpu() {
    if !cfg!(all(target_arch = "x86_64", target_os = "linux")) {
        eprintln!("skipped: the host is not x86-64 Linux");
        return;
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases = Vec::new();
    while cases.len() < 3000 {
        let case = Case {
            code: instruction(&mut rng),
            regs: [(); 6].map(|_| rng.value()),
            flags: rng.next() & u64::from(ARITH) | 0x202,
        };
        if emulate(&case).is_some() {
            cases.push(case);
        }
    }
    let dir = std::env::temp_dir().join(format!("hexroot-x86-oracle-{}", std::process::id()));
    if std::fs::create_dir_all(&dir).is_err() {
        eprintln!("skipped: no temporary directory");
        return;
    }
    let results = native(&dir, &cases);
    let _ = std::fs::remove_dir_all(&dir);
    let Some(results) = results else {
        eprintln!("skipped: no working gcc on this host");
        return;
    };
    assert_eq!(results.len(), cases.len());
    let mut bad = Vec::new();
    for (case, host) in cases.iter().zip(&results) {
        let ours = emulate(case);
        let same = match ours {
            Some((regs, _)) if !flags_all_defined(&case.code) => regs == host.0,
            Some(o) => o == *host,
            None => false,
        };
        if !same {
            bad.push(format!(
                "bytes {:02x?} regs {:x?} flags {:#x}: host {:x?} {:#x}, emulator {:x?}",
                case.code, case.regs, case.flags, host.0, host.1, ours
            ));
        }
    }
    assert!(
        bad.is_empty(),
        "{} of {} differ:\n{}",
        bad.len(),
        cases.len(),
        bad.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}

/// Whether the SDM defines every arithmetic flag `code` writes. Multiplies, divides,
/// shifts, rotates and bit scans leave some undefined, and what a CPU leaves there
/// differs between processor models: for those only the registers are compared.
fn flags_all_defined(code: &[u8]) -> bool {
    let mut i = 0;
    while i < code.len() && (code[i] == 0x66 || (0x40..=0x4F).contains(&code[i])) {
        i += 1;
    }
    let (Some(&op), modrm) = (code.get(i), code.get(i + 1).copied().unwrap_or(0)) else {
        return true;
    };
    let reg = (modrm >> 3) & 7;
    match op {
        0xF6 | 0xF7 => reg < 4,
        0x69 | 0x6B | 0xC0 | 0xC1 | 0xD0..=0xD3 => false,
        0x0F => !matches!(modrm, 0xAF | 0xBC | 0xBD | 0xA4 | 0xA5 | 0xAC | 0xAD),
        _ => true,
    }
}
