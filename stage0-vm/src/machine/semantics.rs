//! What every Knight instruction does, written once: [`execute`] (testing the condition
//! families of `cond`), one instruction on the registers and memory with the reference's
//! quirks (sign-extended immediates except in CMPSKIPI.E/NE and CMPSKIPUI.*, ADD.CO's
//! signed carry, SUB.BO's borrow, MULH always 0, logical SAR, ROL/ROR swapped, the register
//! read/write orders of the reference).
//!
//! The plain step (`step`) runs every instruction through [`execute`]; the fast executor
//! (`exec`) runs its hot and fused forms itself and everything else through [`execute`].

use super::cond::{compare, flag_test, relation, skip_imm, Family, SIGNED};
use super::memory::{Mem, OutOfWorld};
use crate::fault::Fault;
use crate::isa::{Group, Instr, Op};

/// Where execution continues after an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// At the next instruction.
    Next,
    /// At this address.
    Goto(u32),
    /// HALT.
    Halt,
    /// A HALCODE service (the caller runs it) with this 24-bit code.
    Halcode(u32),
}

/// The outside-memory fault of a data access.
#[cold]
pub(crate) fn mem_fault(steps: u64, e: OutOfWorld, write: bool) -> Fault {
    Fault::Outside {
        steps,
        shown: e.shown,
        second: e.second,
        write,
    }
}

/// CMPSKIP: the address after skipping the instruction at `next` (6 bytes if it starts
/// with E0/E1, else 4).
#[inline(always)]
pub(crate) fn skip(mem: &Mem, next: u32, steps: u64) -> Result<u32, Fault> {
    match mem.bytes.get(next as usize) {
        Some(&b0) => Ok(next.wrapping_add(Group::len_of_prefix(b0))),
        None => Err(Fault::SkipOutside { steps, ip: next }),
    }
}

/// One instruction's operands and context for [`execute`].
struct Ctx<'a> {
    op: Op,
    a: usize,
    b: usize,
    c: usize,
    d: usize,
    /// The sign-extended 16-bit immediate.
    imm: u32,
    ip: u32,
    next: u32,
    steps: u64,
    r: &'a mut [u32; 16],
    mem: &'a mut Mem,
}

impl Ctx<'_> {
    fn load(&self, addr: u32, n: u32) -> Result<u32, Fault> {
        self.mem
            .load(addr, n)
            .map_err(|e| mem_fault(self.steps, e, false))
    }

    fn store(&mut self, addr: u32, n: u32, v: u32) -> Result<(), Fault> {
        let steps = self.steps;
        self.mem
            .store(addr, n, v)
            .map_err(|e| mem_fault(steps, e, true))
    }
}

/// Executes `instr` at `ip` (its bytes already fetched); `steps` counts it.
#[inline(never)]
pub(crate) fn execute(
    instr: &Instr,
    ip: u32,
    r: &mut [u32; 16],
    mem: &mut Mem,
    steps: u64,
) -> Result<Flow, Fault> {
    let [a, b, c, d] = instr.regs.map(|x| usize::from(x & 15));
    let next = ip.wrapping_add(instr.byte_len());
    let mut x = Ctx {
        op: instr.op,
        a,
        b,
        c,
        d,
        imm: instr.imm_signed(),
        ip,
        next,
        steps,
        r,
        mem,
    };
    if let Some((family, cond)) = compare(x.op) {
        let (va, vb) = (x.r[a], x.r[b]);
        return Ok(match family {
            Family::Skip if cond.holds(va, vb) => Flow::Goto(skip(x.mem, next, steps)?),
            Family::SkipImm if cond.holds(va, skip_imm(cond, instr.imm)) => {
                Flow::Goto(skip(x.mem, next, steps)?)
            }
            Family::JumpReg if cond.holds(va, vb) => Flow::Goto(x.r[c]),
            Family::JumpImm if cond.holds(va, vb) => Flow::Goto(next.wrapping_add(x.imm)),
            _ => Flow::Next,
        });
    }
    if let Some(test) = flag_test(x.op) {
        let hit = test.holds(x.r[a]);
        if matches!(x.op.group(), Some(Group::TwoOpI)) {
            // SET.cond a b imm: b = imm if the flags in a pass, else 0.
            x.r[b] = if hit { x.imm } else { 0 };
            return Ok(Flow::Next);
        }
        return Ok(if hit {
            Flow::Goto(next.wrapping_add(x.imm))
        } else {
            Flow::Next
        });
    }
    match x.op.group() {
        Some(Group::FourOp) => four_op(&mut x),
        Some(Group::ThreeOp) => three_op(&mut x),
        Some(Group::TwoOp) => two_op(&mut x),
        Some(Group::OneOp) => one_op(&mut x),
        Some(Group::TwoOpI) => two_op_imm(&mut x),
        Some(Group::OneOpI) => one_op_imm(&mut x),
        Some(Group::ZeroOpI) => Ok(Flow::Goto(next.wrapping_add(x.imm))), // JUMP
        Some(Group::Halcode) => Ok(Flow::Halcode(instr.imm)),
        Some(Group::Halt) => Ok(Flow::Halt),
        Some(Group::Nop) | None => Ok(Flow::Next),
    }
}

fn four_op(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let (a, b, c, d) = (x.a, x.b, x.c, x.d);
    let r = &mut *x.r;
    let (vb, vc, vd) = (r[b], r[c], r[d]);
    match x.op {
        AddCi | AdduCi => r[a] = vb.wrapping_add(vc).wrapping_add(u32::from(vd & 0x20 != 0)),
        AddCo | AddCio | AdduCo | AdduCio => {
            let carry = match x.op {
                AddCo | AddCio => i64::from(vb as i32) + i64::from(vc as i32) >= 1 << 31,
                _ => vb.checked_add(vc).is_none(),
            };
            let cin = u32::from(matches!(x.op, AddCio | AdduCio) && vd & 0x20 != 0);
            r[d] = if carry { vd | 0x20 } else { vd & !0x20 };
            r[a] = vb.wrapping_add(vc).wrapping_add(cin);
        }
        SubBi | SubuBi => r[a] = vb.wrapping_sub(vc).wrapping_sub(u32::from(vd & 0x10 != 0)),
        SubBo | SubBio | SubuBo | SubuBio => {
            let borrow = match x.op {
                SubBo | SubBio => vb & 0x8000_0000 != 0,
                _ => vb < vc,
            };
            let bin = u32::from(matches!(x.op, SubBio | SubuBio) && vd & 0x10 != 0);
            r[d] = if borrow { vd | 0x10 } else { vd & !0x10 };
            r[a] = vb.wrapping_sub(vc).wrapping_sub(bin);
        }
        Multiply => {
            let p = i64::from(vc as i32) * i64::from(vd as i32);
            r[a] = p as u32;
            r[b] = (p / (1i64 << 32)) as u32;
        }
        Multiplyu => {
            let p = u64::from(vc) * u64::from(vd);
            r[a] = p as u32;
            r[b] = (p >> 32) as u32;
        }
        Divide => {
            let (vc, vd) = (vc as i32, vd as i32);
            if vd == 0 {
                return Err(Fault::DivideByZero("DIVIDE"));
            }
            if vc == i32::MIN && vd == -1 {
                return Err(div_overflow(x.steps, "DIVIDE", x.ip));
            }
            r[a] = (vc / vd) as u32;
            r[b] = (vc % vd) as u32;
        }
        Divideu => {
            if vd == 0 {
                return Err(Fault::DivideByZero("DIVIDEU"));
            }
            r[a] = vc / vd;
            r[b] = vc % vd;
        }
        Mux => r[a] = (vc & !vb) | (vd & vb),
        Nmux => r[a] = (vc & vb) | (vd & !vb),
        Sort | Sortu => {
            let greater = if x.op == Sort {
                (vc as i32) > (vd as i32)
            } else {
                vc > vd
            };
            if greater {
                r[a] = vc;
                r[b] = vd;
            } else {
                r[b] = vc;
                r[a] = vd;
            }
        }
        _ => {}
    }
    Ok(Flow::Next)
}

fn three_op(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let (a, b, c) = (x.a, x.b, x.c);
    let (vb, vc) = (x.r[b], x.r[c]);
    let (sb, sc) = (vb as i32, vc as i32);
    let value = match x.op {
        Add | Addu => vb.wrapping_add(vc),
        Sub | Subu => vb.wrapping_sub(vc),
        Cmp => relation(vb ^ SIGNED, vc ^ SIGNED),
        Cmpu => relation(vb, vc),
        Mul | Mulu => vb.wrapping_mul(vc),
        Mulh => 0,
        Muluh => ((u64::from(vb) * u64::from(vc)) >> 32) as u32,
        Div | Mod => {
            let name = if x.op == Div { "DIV" } else { "MOD" };
            if sc == 0 {
                return Err(Fault::DivideByZero(name));
            }
            if sb == i32::MIN && sc == -1 {
                return Err(div_overflow(x.steps, name, x.ip));
            }
            (if x.op == Div { sb / sc } else { sb % sc }) as u32
        }
        Divu | Modu => {
            if vc == 0 {
                return Err(Fault::DivideByZero(if x.op == Divu {
                    "DIVU"
                } else {
                    "MODU"
                }));
            }
            if x.op == Divu {
                vb / vc
            } else {
                vb % vc
            }
        }
        Max => sb.max(sc) as u32,
        Maxu => vb.max(vc),
        Min => sb.min(sc) as u32,
        Minu => vb.min(vc),
        And => vb & vc,
        Or => vb | vc,
        Xor => vb ^ vc,
        Nand => !(vb & vc),
        Nor => !(vb | vc),
        Xnor => !(vb ^ vc),
        Mpq => !vb & vc,
        Lpq => vb & !vc,
        Cpq => !vb | vc,
        Bpq => vb | !vc,
        Sal => vb << (vc & 31),
        Sar => vb >> (vc & 31),
        Sl0 => sl0(vb, vc),
        Sr0 => sr0(vb, vc),
        Sl1 => sl1(vb, vc),
        Sr1 => sr1(vb, vc),
        Rol => vb.rotate_right(vc & 31),
        Ror => vb.rotate_left(vc & 31),
        Loadx | Loadx32 | Loadxu32 => x.load(vb.wrapping_add(vc), 4)?,
        Loadx8 => x.load(vb.wrapping_add(vc), 1)? as u8 as i8 as i32 as u32,
        Loadxu8 => x.load(vb.wrapping_add(vc), 1)?,
        Loadx16 => x.load(vb.wrapping_add(vc), 2)? as u16 as i16 as i32 as u32,
        Loadxu16 => x.load(vb.wrapping_add(vc), 2)?,
        Storex | Storex32 | Storex8 | Storex16 => {
            let n = store_width(x.op);
            let v = x.r[a];
            x.store(vb.wrapping_add(vc), n, v)?;
            return Ok(Flow::Next);
        }
        _ => return Ok(Flow::Next),
    };
    x.r[a] = value;
    Ok(Flow::Next)
}

fn two_op(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let (a, b) = (x.a, x.b);
    let (va, vb) = (x.r[a], x.r[b]);
    match x.op {
        Neg => x.r[a] = vb.wrapping_neg(),
        Abs => {
            x.r[a] = if (vb as i32) >= 0 {
                vb
            } else {
                vb.wrapping_neg()
            }
        }
        Nabs => {
            x.r[a] = if (vb as i32) < 0 {
                vb
            } else {
                vb.wrapping_neg()
            }
        }
        Swap => {
            x.r[b] = va;
            x.r[a] = vb;
        }
        Copy => x.r[a] = vb,
        Move => {
            x.r[a] = vb;
            x.r[b] = 0;
        }
        Not => x.r[a] = !vb,
        Branch => {
            x.store(vb, 4, x.next)?;
            return Ok(Flow::Goto(va));
        }
        Call => {
            x.store(vb, 4, x.next)?;
            x.r[b] = vb.wrapping_add(4);
            return Ok(Flow::Goto(x.r[a]));
        }
        Pushr | Push32 | Push8 | Push16 => {
            let n = match x.op {
                Push8 => 1,
                Push16 => 2,
                _ => 4,
            };
            x.store(vb, n, va)?;
            x.r[b] = vb.wrapping_add(n);
        }
        Popr | Pop8 | Popu8 | Pop16 | Popu16 | Pop32 | Popu32 => {
            let n = match x.op {
                Pop8 | Popu8 => 1,
                Pop16 | Popu16 => 2,
                _ => 4,
            };
            let at = vb.wrapping_sub(n);
            x.r[b] = at;
            let raw = x.load(at, n)?;
            x.store(at, n, 0)?;
            x.r[a] = match x.op {
                Pop8 => raw as u8 as i8 as i32 as u32,
                Pop16 => raw as u16 as i16 as i32 as u32,
                _ => raw,
            };
        }
        _ => {}
    }
    Ok(Flow::Next)
}

fn one_op(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let a = x.a;
    match x.op {
        Readpc => x.r[a] = x.next,
        Readscid => x.r[a] = 2,
        False => x.r[a] = 0,
        True => x.r[a] = u32::MAX,
        JsrCoroutine => return Ok(Flow::Goto(x.r[a])),
        Ret | Poppc => {
            let at = x.r[a].wrapping_sub(4);
            x.r[a] = at;
            let target = x.load(at, 4)?;
            x.store(at, 4, 0)?;
            return Ok(Flow::Goto(target));
        }
        Pushpc => {
            let at = x.r[a];
            x.store(at, 4, x.next)?;
            x.r[a] = at.wrapping_add(4);
        }
        _ => {}
    }
    Ok(Flow::Next)
}

fn two_op_imm(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let (a, b, imm) = (x.a, x.b, x.imm);
    let vb = x.r[b];
    let value = match x.op {
        Addi | Addui => vb.wrapping_add(imm),
        Subi | Subui => vb.wrapping_sub(imm),
        Cmpi => relation(vb ^ SIGNED, imm ^ SIGNED),
        Cmpui => relation(vb, imm),
        Load | Load32 | Loadu32 => x.load(vb.wrapping_add(imm), 4)?,
        Load8 => x.load(vb.wrapping_add(imm), 1)? as u8 as i8 as i32 as u32,
        Loadu8 => x.load(vb.wrapping_add(imm), 1)?,
        Load16 => x.load(vb.wrapping_add(imm), 2)? as u16 as i16 as i32 as u32,
        Loadu16 => x.load(vb.wrapping_add(imm), 2)?,
        Store | Store32 | Store8 | Store16 => {
            let n = store_width(x.op);
            let v = x.r[a];
            x.store(vb.wrapping_add(imm), n, v)?;
            return Ok(Flow::Next);
        }
        Andi => vb & imm,
        Ori => vb | imm,
        Xori => vb ^ imm,
        Nandi => !(vb & imm),
        Nori => !(vb | imm),
        Xnori => !(vb ^ imm),
        _ => return Ok(Flow::Next),
    };
    x.r[a] = value;
    Ok(Flow::Next)
}

fn one_op_imm(x: &mut Ctx) -> Result<Flow, Fault> {
    use Op::*;
    let (a, imm, next) = (x.a, x.imm, x.next);
    let va = x.r[a];
    let value = match x.op {
        Calli => {
            x.store(va, 4, next)?;
            x.r[a] = va.wrapping_add(4);
            return Ok(Flow::Goto(next.wrapping_add(imm)));
        }
        Loadi | Loadui => imm,
        Sali => va << (imm & 31),
        Sari => va >> (imm & 31),
        Sl0i => sl0(va, imm),
        Sr0i => sr0(va, imm),
        Sl1i => sl1(va, imm),
        Sr1i => sr1(va, imm),
        Loadr | Loadr32 | Loadru32 => x.load(next.wrapping_add(imm), 4)?,
        Loadr8 => x.load(next.wrapping_add(imm), 1)? as u8 as i8 as i32 as u32,
        Loadru8 => x.load(next.wrapping_add(imm), 1)?,
        Loadr16 => x.load(next.wrapping_add(imm), 2)? as u16 as i16 as i32 as u32,
        Loadru16 => x.load(next.wrapping_add(imm), 2)?,
        Storer | Storer32 | Storer8 | Storer16 => {
            x.store(next.wrapping_add(imm), store_width(x.op), va)?;
            return Ok(Flow::Next);
        }
        _ => return Ok(Flow::Next),
    };
    x.r[a] = value;
    Ok(Flow::Next)
}

/// Bytes a STORE* writes.
fn store_width(op: Op) -> u32 {
    use Op::*;
    match op {
        Storex8 | Store8 | Storer8 => 1,
        Storex16 | Store16 | Storer16 => 2,
        _ => 4,
    }
}

#[cold]
fn div_overflow(steps: u64, name: &'static str, ip: u32) -> Fault {
    Fault::DivideOverflow { name, steps, ip }
}

fn sl0(v: u32, n: u32) -> u32 {
    if n >= 32 {
        0
    } else {
        v << n
    }
}

fn sr0(v: u32, n: u32) -> u32 {
    if n >= 32 {
        0
    } else {
        v >> n
    }
}

fn sl1(v: u32, n: u32) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        ((u64::from(v) << n) | ((1u64 << n) - 1)) as u32
    }
}

fn sr1(v: u32, n: u32) -> u32 {
    if n >= 32 {
        u32::MAX
    } else {
        (v >> n) | !(u32::MAX >> n)
    }
}
