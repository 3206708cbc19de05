//! The fast path of the run loop: the instructions that dominate the chains' programs
//! (M2-Planet's output is mostly mov, lea, push, pop, add/sub/cmp, test, movzx, setcc and
//! branches) executed with their operand shapes ([`Form`]) known from decoding, so that
//! one dispatch replaces the plain executor's per-operand matching. Every other
//! instruction goes to [`X86::exec`]. The two paths are equal by construction (the same
//! helpers, the same order of loads, stores and register writes) and by test: the
//! property test `cached_run_equals_plain_steps` runs random programs both ways.

use super::decode::{mask, Alu, Form, Insn, Mem, Op, Operand, RSP};
use super::exec::sext;
use super::{Flow, X86};
use crate::linux::cpu::FaultKind;
use crate::linux::memory::Memory;

type R<T> = Result<T, FaultKind>;

impl<const LONG: bool> X86<LONG> {
    /// Executes `i` as [`X86::exec`] does, directly when its form is a hot one.
    #[inline(always)]
    pub fn exec_fast(&mut self, mem: &mut Memory, i: &Insn) -> R<Flow> {
        let size = i.size;
        match i.form {
            Form::MovRR => {
                let (Operand::Reg(d), Operand::Reg(s)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                let v = self.regs[usize::from(s & 15)] & mask(size);
                self.set_reg(d, size, v);
            }
            Form::MovRM => {
                let (Operand::Reg(d), Operand::Mem(m)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                let v = self.load_at(mem, &m, size)?;
                self.set_reg(d, size, v);
            }
            Form::MovMR => {
                let (Operand::Mem(m), Operand::Reg(s)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                let v = self.regs[usize::from(s & 15)] & mask(size);
                let a = self.addr(&m);
                self.store(mem, a, size, v)?;
            }
            Form::MovRI => {
                let (Operand::Reg(d), Operand::Imm(v)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                self.set_reg(d, size, v);
            }
            Form::Lea => {
                let (Operand::Reg(d), Operand::Mem(m)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                let a = self.addr(&m);
                self.set_reg(d, size, a);
            }
            Form::AluRR | Form::AluRI | Form::AluRM => {
                let Operand::Reg(d) = i.dst else {
                    return self.exec(mem, i);
                };
                let src = i.src;
                let b = match src {
                    Operand::Reg(s) => self.regs[usize::from(s & 15)] & mask(size),
                    Operand::Imm(v) => v,
                    Operand::Mem(m) => self.load_at(mem, &m, size)?,
                    _ => return self.exec(mem, i),
                };
                let Op::Alu(alu) = i.op else {
                    return self.exec(mem, i);
                };
                let a = self.regs[usize::from(d & 15)] & mask(size);
                let r = self.alu_value(alu, size, a, b);
                if alu != Alu::Cmp {
                    self.set_reg(d, size, r);
                }
            }
            Form::TestRR => {
                let (Operand::Reg(d), Operand::Reg(s)) = (i.dst, i.src) else {
                    return self.exec(mem, i);
                };
                let r = self.regs[usize::from(d & 15)] & self.regs[usize::from(s & 15)];
                self.flags.set_logic(size, r & mask(size));
            }
            Form::PushR => {
                let Operand::Reg(s) = i.src else {
                    return self.exec(mem, i);
                };
                let v = self.regs[usize::from(s & 15)] & mask(size);
                self.push_value(mem, size, v)?;
            }
            Form::PushI => {
                let Operand::Imm(v) = i.src else {
                    return self.exec(mem, i);
                };
                self.push_value(mem, size, v & mask(size))?;
            }
            Form::PopR => {
                let Operand::Reg(d) = i.dst else {
                    return self.exec(mem, i);
                };
                let sp = self.regs[usize::from(RSP)];
                let v = load(mem, sp, size)?;
                self.regs[usize::from(RSP)] = sp.wrapping_add(u64::from(size)) & Self::ADDR_MASK;
                self.set_reg(d, size, v);
            }
            Form::Extend => {
                let Operand::Reg(d) = i.dst else {
                    return self.exec(mem, i);
                };
                let src = i.src;
                let from = i.imm as u8;
                let mut v = match src {
                    Operand::Reg(s) => self.regs[usize::from(s & 15)] & mask(from),
                    Operand::Mem(m) => self.load_at(mem, &m, from)?,
                    _ => return self.exec(mem, i),
                };
                if i.op == Op::Movsx {
                    v = sext(v, from) as u64 & mask(size);
                }
                self.set_reg(d, size, v);
            }
            Form::IncDecR => {
                let Operand::Reg(d) = i.dst else {
                    return self.exec(mem, i);
                };
                let a = self.regs[usize::from(d & 15)] & mask(size);
                let up = i.op == Op::Inc;
                let r = if up {
                    a.wrapping_add(1)
                } else {
                    a.wrapping_sub(1)
                } & mask(size);
                self.set_reg(d, size, r);
                self.flags.set_incdec(up, size, a, r);
            }
            Form::Jcc => {
                if let Op::Jcc(cc) = i.op {
                    if self.flags.cond(cc) {
                        self.rip = i.imm;
                    }
                }
            }
            Form::Jmp => self.rip = i.imm,
            Form::Call => {
                self.push_value(mem, size, self.rip & mask(size))?;
                self.rip = i.imm;
            }
            Form::Ret => {
                let sp = self.regs[usize::from(RSP)];
                let t = load(mem, sp, size)?;
                self.regs[usize::from(RSP)] =
                    sp.wrapping_add(u64::from(size)).wrapping_add(i.imm) & Self::ADDR_MASK;
                self.rip = t & Self::ADDR_MASK;
            }
            Form::SetccR => {
                let Operand::Reg(d) = i.dst else {
                    return self.exec(mem, i);
                };
                if let Op::Setcc(cc) = i.op {
                    let v = u64::from(self.flags.cond(cc));
                    self.set_reg(d, 1, v);
                }
            }
            Form::Other => return self.exec(mem, i),
        }
        Ok(Flow::Next)
    }

    /// The effective address of `m` (as the plain executor computes it).
    #[inline(always)]
    fn addr(&self, m: &Mem) -> u64 {
        self.effective_address(m)
    }

    #[inline(always)]
    fn load_at(&self, mem: &Memory, m: &Mem, size: u8) -> R<u64> {
        load(mem, self.addr(m), size)
    }

    #[inline(always)]
    fn push_value(&mut self, mem: &mut Memory, size: u8, v: u64) -> R<()> {
        let sp = self.regs[usize::from(RSP)].wrapping_sub(u64::from(size)) & Self::ADDR_MASK;
        self.store(mem, sp, size, v)?;
        self.regs[usize::from(RSP)] = sp;
        Ok(())
    }
}

#[inline(always)]
fn load(mem: &Memory, addr: u64, size: u8) -> R<u64> {
    super::exec::load(mem, addr, size)
}
