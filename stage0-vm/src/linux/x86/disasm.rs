//! The x86 text form: a decoded [`Insn`] as one line of Intel-syntax assembly, in the
//! style of `objdump -d -M intel` (lower-case mnemonics, `DWORD PTR [ebx+ecx*4+0x8]`,
//! immediates and branch targets in hex).
//!
//! This module owns rendering only; the bytes are decoded by [`decode`](mod@super::decode),
//! the one x86 decoder of the workspace, so what it shows is what the machine executes.
//! Bytes that do not decode (including the encodings the machine lacks) are `(bad)`.

use super::decode::{decode, Alu, BitOp, Insn, Mem, Op, Operand, Shift, Str, Trap, BASE_RIP, NONE};

const REGS64: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];
const REGS32: [&str; 16] = [
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi", "r8d", "r9d", "r10d", "r11d", "r12d",
    "r13d", "r14d", "r15d",
];
const REGS16: [&str; 16] = [
    "ax", "cx", "dx", "bx", "sp", "bp", "si", "di", "r8w", "r9w", "r10w", "r11w", "r12w", "r13w",
    "r14w", "r15w",
];
const REGS8: [&str; 16] = [
    "al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r9b", "r10b", "r11b", "r12b",
    "r13b", "r14b", "r15b",
];
const REGS8_HI: [&str; 4] = ["ah", "ch", "dh", "bh"];
const CONDITIONS: [&str; 16] = [
    "o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g",
];

/// The name of general register `n` at `size` bytes.
fn reg(n: u8, size: u8) -> &'static str {
    let table = match size {
        1 => &REGS8,
        2 => &REGS16,
        4 => &REGS32,
        _ => &REGS64,
    };
    table[usize::from(n & 15)]
}

fn hex_signed(v: i64) -> String {
    if v < 0 {
        format!("-{:#x}", v.unsigned_abs())
    } else {
        format!("{v:#x}")
    }
}

fn mem(m: &Mem, size: u8) -> String {
    let ptr = match size {
        1 => "BYTE PTR ",
        2 => "WORD PTR ",
        4 => "DWORD PTR ",
        8 => "QWORD PTR ",
        _ => "",
    };
    let mut inner = String::new();
    match m.base {
        NONE => {}
        BASE_RIP => inner.push_str("rip"),
        b => inner.push_str(reg(b, m.addr_size)),
    }
    if m.index != NONE {
        if !inner.is_empty() {
            inner.push('+');
        }
        inner.push_str(reg(m.index, m.addr_size));
        inner.push_str(&format!("*{}", 1u8 << (m.scale & 3)));
    }
    let disp = i64::from(m.disp);
    if inner.is_empty() {
        inner = format!("{:#x}", m.disp as u32);
    } else if disp != 0 {
        let d = hex_signed(disp);
        if !d.starts_with('-') {
            inner.push('+');
        }
        inner.push_str(&d);
    }
    format!("{ptr}[{inner}]")
}

fn operand(o: &Operand, size: u8) -> Option<String> {
    Some(match o {
        Operand::None => return None,
        Operand::Reg(n) => reg(*n, size).to_string(),
        Operand::RegHi(n) => REGS8_HI[usize::from(n & 3)].to_string(),
        Operand::Mem(m) => mem(m, size),
        Operand::Imm(v) => format!("{v:#x}"),
    })
}

fn alu(a: Alu) -> &'static str {
    match a {
        Alu::Add => "add",
        Alu::Or => "or",
        Alu::Adc => "adc",
        Alu::Sbb => "sbb",
        Alu::And => "and",
        Alu::Sub => "sub",
        Alu::Xor => "xor",
        Alu::Cmp => "cmp",
    }
}

fn shift(s: Shift) -> &'static str {
    match s {
        Shift::Rol => "rol",
        Shift::Ror => "ror",
        Shift::Rcl => "rcl",
        Shift::Rcr => "rcr",
        Shift::Shl => "shl",
        Shift::Shr => "shr",
        Shift::Sal => "sal",
        Shift::Sar => "sar",
    }
}

fn string_op(s: Str, size: u8, rep: u64) -> String {
    let (name, compares) = match s {
        Str::Movs => ("movs", false),
        Str::Cmps => ("cmps", true),
        Str::Stos => ("stos", false),
        Str::Lods => ("lods", false),
        Str::Scas => ("scas", true),
    };
    let suffix = match size {
        1 => 'b',
        2 => 'w',
        4 => 'd',
        _ => 'q',
    };
    let prefix = match (rep, compares) {
        (1, false) => "rep ",
        (1, true) => "repz ",
        (2, _) => "repnz ",
        _ => "",
    };
    format!("{prefix}{name}{suffix}")
}

/// The mnemonic of `i` when it takes its operands the plain way (`dst`, `src` at the
/// operation size); `None` for the ones [`text`] spells out itself.
fn plain_mnemonic(i: &Insn) -> Option<String> {
    Some(match i.op {
        Op::Alu(a) => alu(a).into(),
        Op::Test => "test".into(),
        Op::Mov => "mov".into(),
        Op::Lea => "lea".into(),
        Op::Xchg => "xchg".into(),
        Op::Inc => "inc".into(),
        Op::Dec => "dec".into(),
        Op::Neg => "neg".into(),
        Op::Not => "not".into(),
        Op::Mul => "mul".into(),
        Op::Imul1 | Op::Imul2 => "imul".into(),
        Op::Div => "div".into(),
        Op::Idiv => "idiv".into(),
        Op::Bit(BitOp::Bt) => "bt".into(),
        Op::Bit(BitOp::Bts) => "bts".into(),
        Op::Bit(BitOp::Btr) => "btr".into(),
        Op::Bit(BitOp::Btc) => "btc".into(),
        Op::Bsf => "bsf".into(),
        Op::Bsr => "bsr".into(),
        Op::Bswap => "bswap".into(),
        Op::Xadd => "xadd".into(),
        Op::Cmpxchg => "cmpxchg".into(),
        Op::Push => "push".into(),
        Op::Pop => "pop".into(),
        Op::CallInd => "call".into(),
        Op::JmpInd => "jmp".into(),
        Op::Setcc(cc) => format!("set{}", CONDITIONS[usize::from(cc & 15)]),
        Op::Cmovcc(cc) => format!("cmov{}", CONDITIONS[usize::from(cc & 15)]),
        Op::Int => "int".into(),
        _ => return None,
    })
}

fn bare(i: &Insn) -> String {
    let by_size = |names: [&'static str; 3]| match i.size {
        2 => names[0],
        8 => names[2],
        _ => names[1],
    };
    match i.op {
        Op::Pushf => by_size(["pushfw", "pushf", "pushf"]).into(),
        Op::Popf => by_size(["popfw", "popf", "popf"]).into(),
        Op::Leave => "leave".into(),
        Op::Cbw => by_size(["cbw", "cwde", "cdqe"]).into(),
        Op::Cwd => by_size(["cwd", "cdq", "cqo"]).into(),
        Op::Xlat => "xlat BYTE PTR ds:[ebx]".into(),
        Op::Lahf => "lahf".into(),
        Op::Sahf => "sahf".into(),
        Op::Clc => "clc".into(),
        Op::Stc => "stc".into(),
        Op::Cmc => "cmc".into(),
        Op::Cld => "cld".into(),
        Op::Std => "std".into(),
        Op::Nop => "nop".into(),
        Op::Syscall => "syscall".into(),
        Op::Trap(t) => Trap::mnemonic(t).into(),
        _ => "(bad)".into(),
    }
}

/// One decoded instruction as Intel-syntax text (mnemonic and operands).
pub fn text(i: &Insn) -> String {
    let join = |m: &str, ops: &[Option<String>]| {
        let ops: Vec<&str> = ops.iter().flatten().map(String::as_str).collect();
        if ops.is_empty() {
            m.to_string()
        } else {
            format!("{m} {}", ops.join(", "))
        }
    };
    let dst = operand(&i.dst, i.size);
    let src = operand(&i.src, i.size);
    let src_sized = |size: u64| operand(&i.src, size as u8);
    match i.op {
        Op::Movzx => join("movzx", &[dst, src_sized(i.imm)]),
        Op::Movsx if i.imm == 4 => join("movsxd", &[dst, src_sized(4)]),
        Op::Movsx => join("movsx", &[dst, src_sized(i.imm)]),
        Op::Imul3 => join("imul", &[dst, src, Some(format!("{:#x}", i.imm))]),
        Op::Shift(s) => {
            let count = match i.src {
                Operand::Reg(_) => Some("cl".to_string()),
                other => operand(&other, 1),
            };
            join(shift(s), &[dst, count])
        }
        Op::CallRel => format!("call {:#x}", i.imm),
        Op::JmpRel => format!("jmp {:#x}", i.imm),
        Op::Jcc(cc) => format!("j{} {:#x}", CONDITIONS[usize::from(cc & 15)], i.imm),
        Op::Loop(n) => {
            let name = match (n & 3, i.src) {
                (0, _) => "loopne",
                (1, _) => "loope",
                (2, _) => "loop",
                (_, Operand::Imm(8)) => "jrcxz",
                _ => "jecxz",
            };
            format!("{name} {:#x}", i.imm)
        }
        Op::Ret if i.imm != 0 => format!("ret {:#x}", i.imm),
        Op::Ret => "ret".into(),
        Op::Enter => format!("enter {:#x}, {:#x}", i.imm & 0xFFFF, (i.imm >> 16) & 0xFF),
        Op::Str(s) => string_op(s, i.size, i.imm),
        _ => match plain_mnemonic(i) {
            Some(m) => join(&m, &[dst, src]),
            None => bare(i),
        },
    }
}

/// The instruction at the start of `bytes`, located at `addr` (64-bit mode when `long`):
/// its length and text, or `None` when the bytes do not decode.
pub fn instruction(bytes: &[u8], addr: u64, long: bool) -> Option<(usize, String)> {
    decode(bytes, addr, long)
        .ok()
        .map(|i| (usize::from(i.len).max(1), text(&i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(bytes: &[u8], long: bool) -> String {
        instruction(bytes, 0x0804_8000, long).unwrap().1
    }

    #[test]
    fn known_lines() {
        assert_eq!(line(&[0xe9, 0x10, 0, 0, 0], false), "jmp 0x8048015");
        assert_eq!(
            line(&[0x8b, 0x45, 0xfc], false),
            "mov eax, DWORD PTR [ebp-0x4]"
        );
        assert_eq!(line(&[0xb8, 1, 0, 0, 0], false), "mov eax, 0x1");
        assert_eq!(line(&[0xcd, 0x80], false), "int 0x80");
        assert_eq!(line(&[0x48, 0x89, 0xe5], true), "mov rbp, rsp");
        assert_eq!(line(&[0x0f, 0x05], true), "syscall");
        assert_eq!(line(&[0x88, 0xe0], false), "mov al, ah");
        assert_eq!(
            line(&[0x8b, 0x04, 0x8b], false),
            "mov eax, DWORD PTR [ebx+ecx*4]"
        );
        assert_eq!(line(&[0xd3, 0xe0], false), "shl eax, cl");
        assert_eq!(line(&[0xf3, 0xa4], false), "rep movsb");
        assert_eq!(line(&[0xc3], true), "ret");
        assert!(instruction(&[0xd8, 0], 0, false).is_none());
        assert!(instruction(&[], 0, false).is_none());
    }
}
