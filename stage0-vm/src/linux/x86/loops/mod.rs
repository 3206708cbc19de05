//! The x86 side of loop fast-forward ([`crate::linux::loops`]): reading a loop's path
//! from memory (straight-line code and unconditional jumps from the head back to it, one
//! conditional exit) and the symbolic semantics of the x86 subset the chains' loops are
//! made of (moves, add/sub/cmp/test and constant logic, lea, inc/dec, constant shifts,
//! push/pop, setcc, jumps), over the shared [`Executor`]. Flag-writing instructions are
//! comparison sources with x86's own condition numbering.

use super::decode::{Alu, Insn, Mem, Op, Operand, Shift, BASE_RIP, NONE, RSP};
use super::{decode_at, X86};
use crate::linux::loops::symbolic::{lin, logic, sum, truncate, Bitwise, FlagSrc, Lin, Sym};
use crate::linux::loops::{self, Executor, Fail, LoopCpu, Path, MAX_PATH};
use crate::linux::memory::Memory;

/// The loop heads of an x86 processor.
pub(super) type Loops = loops::Loops<Insn>;

impl<const LONG: bool> LoopCpu for X86<LONG> {
    type Insn = Insn;
    const REG_BYTES: u8 = if LONG { 8 } else { 4 };

    fn reg(&self, n: u8) -> u64 {
        self.regs[usize::from(n & 15)]
    }

    fn set_reg(&mut self, n: u8, bytes: u8, value: u64) {
        X86::set_reg(self, n, bytes, value);
    }

    fn store(&mut self, mem: &mut Memory, addr: u64, size: u8, value: u64) -> Result<(), ()> {
        X86::store(self, mem, addr, size, value).map_err(|_| ())
    }

    fn in_code(&self, addr: u64, len: u64) -> bool {
        addr.wrapping_add(len) > self.code.0 && addr < self.code.1
    }

    fn wrote(&mut self, _addr: u64, _len: u64) {
        // `in_code` kept every fill out of decoded code.
    }

    fn step(ex: &mut Executor<'_, Self>, pc: u64, insn: &Insn) -> Result<(), Fail> {
        ex.step_x86(pc, insn)
    }

    fn path(mem: &Memory, head: u64) -> Option<Path<Insn>> {
        path::<LONG>(mem, head)
    }
}

/// Builds the path of the loop whose head is `head`, if it has the shape handled here.
fn path<const LONG: bool>(mem: &Memory, head: u64) -> Option<Path<Insn>> {
    let mut insns = Vec::new();
    let mut exit = None;
    let mut pc = head;
    loop {
        if insns.len() >= MAX_PATH {
            return None;
        }
        let insn = decode_at::<LONG>(mem, pc).ok()?;
        if !handled(&insn) {
            return None;
        }
        let next = pc.wrapping_add(u64::from(insn.len)) & X86::<LONG>::ADDR_MASK;
        insns.push((pc, insn));
        pc = match insn.op {
            Op::JmpRel => insn.imm,
            Op::Jcc(_) if exit.is_some() => return None,
            Op::Jcc(_) if insn.imm == head => {
                exit = Some(false);
                head
            }
            Op::Jcc(_) => {
                exit = Some(true);
                next
            }
            _ => next,
        };
        if pc == head {
            break;
        }
    }
    Path::new(mem, insns, exit?, |i| u64::from(i.len))
}

/// Whether the symbolic executor knows `i`.
fn handled(i: &Insn) -> bool {
    let simple = |o: Operand| matches!(o, Operand::Reg(_) | Operand::Mem(_) | Operand::Imm(_));
    match i.op {
        Op::Mov => simple(i.dst) && simple(i.src),
        Op::Alu(a) => !matches!(a, Alu::Adc | Alu::Sbb) && simple(i.dst) && simple(i.src),
        Op::Test => simple(i.dst) && simple(i.src),
        Op::Lea => matches!((i.dst, i.src), (Operand::Reg(_), Operand::Mem(_))),
        Op::Movzx | Op::Movsx => matches!(i.dst, Operand::Reg(_)) && simple(i.src),
        Op::Inc | Op::Dec => simple(i.dst),
        Op::Shift(Shift::Shl | Shift::Sal) => simple(i.dst) && matches!(i.src, Operand::Imm(_)),
        Op::Push => matches!(i.src, Operand::Reg(_) | Operand::Imm(_)),
        Op::Pop => matches!(i.dst, Operand::Reg(_)),
        Op::Setcc(_) => simple(i.dst),
        Op::JmpRel | Op::Jcc(_) | Op::Nop => true,
        _ => false,
    }
}

/// The x86 semantics of the path's instructions.
impl<const LONG: bool> Executor<'_, X86<LONG>> {
    const ADDR_BYTES: u8 = if LONG { 8 } else { 4 };

    /// Register `n` read as a `size`-byte operand.
    fn read_reg(&mut self, n: u8, size: u8) -> Result<Sym, Fail> {
        Ok(truncate(self.reg(n & 15)?, size))
    }

    fn write_reg(&mut self, n: u8, size: u8, v: Sym) -> Result<(), Fail> {
        let n = n & 15;
        let new = match size {
            // 32-bit writes zero-extend; in 32-bit mode the register is 32 bits.
            4 | 8 => v,
            1 => match v {
                Sym::Cond { cc, flags } => Sym::LowCond { cc, flags },
                _ => Sym::Unknown,
            },
            _ => Sym::Unknown,
        };
        self.set_reg(n, new)
    }

    fn address(&mut self, m: &Mem, next_pc: u64) -> Result<Lin, Fail> {
        let bytes = if LONG { m.addr_size } else { 4 };
        let mut a = Lin::constant(i64::from(m.disp) as u64, bytes);
        if m.base < 16 {
            a = a
                .add(lin(self.read_reg(m.base, bytes)?)?, 1, bytes)
                .ok_or(())?;
        } else if m.base == BASE_RIP {
            a = a.add(Lin::constant(next_pc, bytes), 1, bytes).ok_or(())?;
        }
        if m.index != NONE {
            let i = lin(self.read_reg(m.index, bytes)?)?;
            a = a.add(i, 1 << (m.scale & 3), bytes).ok_or(())?;
        }
        Ok(a)
    }

    fn read(&mut self, o: Operand, size: u8, next_pc: u64) -> Result<Sym, Fail> {
        match o {
            Operand::Reg(n) => self.read_reg(n, size),
            Operand::Imm(v) => Ok(Sym::Lin(Lin::constant(v, size))),
            Operand::Mem(m) => {
                let a = self.address(&m, next_pc)?;
                self.load(a, size)
            }
            _ => Err(()),
        }
    }

    fn write(&mut self, o: Operand, size: u8, v: Sym, next_pc: u64) -> Result<(), Fail> {
        match o {
            Operand::Reg(n) => self.write_reg(n, size, v),
            Operand::Mem(m) => {
                let a = self.address(&m, next_pc)?;
                self.store(a, size, v)
            }
            _ => Err(()),
        }
    }

    /// Executes one instruction of the path symbolically.
    fn step_x86(&mut self, pc: u64, i: &Insn) -> Result<(), Fail> {
        let size = i.size;
        let next = pc.wrapping_add(u64::from(i.len)) & X86::<LONG>::ADDR_MASK;
        match i.op {
            Op::Mov => {
                let v = self.read(i.src, size, next)?;
                self.write(i.dst, size, v, next)?;
            }
            Op::Lea => {
                let Operand::Mem(m) = i.src else {
                    return Err(());
                };
                let a = self.address(&m, next)?;
                self.write(i.dst, size, truncate(Sym::Lin(a), size), next)?;
            }
            Op::Alu(alu @ (Alu::Xor | Alu::Sub))
                if i.dst == i.src && matches!(i.dst, Operand::Reg(_)) =>
            {
                // Zeroing idioms: the result and flags do not depend on the register, which
                // is therefore not an input.
                let zero = Sym::Lin(Lin::constant(0, size));
                self.set_flags(match alu {
                    Alu::Xor => FlagSrc::Logic {
                        size,
                        a: zero,
                        b: zero,
                    },
                    _ => FlagSrc::Sub {
                        size,
                        a: zero,
                        b: zero,
                    },
                })?;
                self.write(i.dst, size, zero, next)?;
            }
            Op::Alu(alu) => {
                let b = self.read(i.src, size, next)?;
                let a = self.read(i.dst, size, next)?;
                let (r, f) = match alu {
                    Alu::Add => (sum(a, b, 1, size), FlagSrc::Add { size, a, b }),
                    Alu::Sub | Alu::Cmp => (sum(a, b, u64::MAX, size), FlagSrc::Sub { size, a, b }),
                    _ => {
                        let op = match alu {
                            Alu::And => Bitwise::And,
                            Alu::Or => Bitwise::Or,
                            _ => Bitwise::Xor,
                        };
                        let r = logic(op, a, b, size);
                        (r, FlagSrc::Logic { size, a: r, b: r })
                    }
                };
                self.set_flags(f)?;
                if alu != Alu::Cmp {
                    self.write(i.dst, size, r, next)?;
                }
            }
            Op::Test => {
                let b = self.read(i.src, size, next)?;
                let a = self.read(i.dst, size, next)?;
                self.set_flags(FlagSrc::Logic { size, a, b })?;
            }
            Op::Movzx | Op::Movsx => {
                let from = i.imm as u8;
                let v = self.read(i.src, from, next)?;
                let v = match v {
                    Sym::Cond { .. } => v,
                    Sym::Lin(l) if l.n == 0 => {
                        let c = if i.op == Op::Movsx {
                            super::exec::sext(l.off, from) as u64
                        } else {
                            l.off
                        };
                        Sym::Lin(Lin::constant(c, size))
                    }
                    _ => Sym::Unknown,
                };
                self.write(i.dst, size, v, next)?;
            }
            Op::Inc | Op::Dec => {
                let a = self.read(i.dst, size, next)?;
                let k = if i.op == Op::Inc { 1 } else { u64::MAX };
                let r = sum(a, Sym::Lin(Lin::constant(1, size)), k, size);
                self.set_flags(FlagSrc::Opaque)?;
                self.write(i.dst, size, r, next)?;
            }
            Op::Shift(_) => {
                let Operand::Imm(count) = i.src else {
                    return Err(());
                };
                let count = count & if size == 8 { 63 } else { 31 };
                let a = self.read(i.dst, size, next)?;
                if count != 0 {
                    let r = match a {
                        Sym::Lin(l) => Sym::Lin(l.scaled(1 << count)),
                        _ => Sym::Unknown,
                    };
                    self.set_flags(FlagSrc::Opaque)?;
                    self.write(i.dst, size, r, next)?;
                }
            }
            Op::Push => {
                let v = self.read(i.src, size, next)?;
                let sp = lin(self.reg(RSP)?)?;
                let sp = sp
                    .add(
                        Lin::constant(u64::from(size), Self::ADDR_BYTES),
                        u64::MAX,
                        Self::ADDR_BYTES,
                    )
                    .ok_or(())?;
                self.store(sp, size, v)?;
                self.set_reg(RSP, Sym::Lin(sp))?;
            }
            Op::Pop => {
                let sp = lin(self.reg(RSP)?)?;
                let v = self.load(sp, size)?;
                let up = sp
                    .add(
                        Lin::constant(u64::from(size), Self::ADDR_BYTES),
                        1,
                        Self::ADDR_BYTES,
                    )
                    .ok_or(())?;
                self.set_reg(RSP, Sym::Lin(up))?;
                self.write(i.dst, size, v, next)?;
            }
            Op::Setcc(cc) => {
                let flags = self.flags()?;
                self.write(i.dst, 1, Sym::Cond { cc, flags }, next)?;
            }
            Op::Jcc(cc) => {
                // The path's one conditional branch is its exit.
                self.it.exit = Some((self.flags()?, cc));
            }
            Op::JmpRel | Op::Nop => {}
            _ => return Err(()),
        }
        Ok(())
    }
}
