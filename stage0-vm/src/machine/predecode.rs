//! Pre-decode and fusion: filling the slot (`form`) the fast executor keeps per code
//! address. Each slot holds
//! the [`Form`] the dispatcher runs (a hot operation with its operands prepared, one of
//! the condition families with its condition as data, or a fused form covering several
//! instructions), the first instruction's operation and fields, and the operands of the
//! fused instructions in named fields.
//!
//! Fused forms (each covered instruction still counts one step; the executor takes a
//! fused form only when the step limit lets it run whole, and a store inside one that may
//! touch code ends it at that instruction):
//! CMPSKIP/CMPSKIPI + JUMP; CMP/CMPU/CMPI/CMPUI Ra + JUMP.cond Ra; LOADUI R1 tape + FGETC
//! (+ JUMP.NP R0) and + FPUTC; runs of PUSHR on one stack register; runs of POPR (+ RET);
//! the byte-compare loop body LOADXU8, LOADXU8, ADDUI, CMPSKIP.NE, JUMP(.cond).

use super::cond::{compare, flag_test, skip_imm, Cond, Family, FlagTest, SIGNED};
use super::form::{Form, RegMove, Slot, MAX_RUN};
use super::memory::Mem;
use crate::isa::{Group, Instr, Op};

/// The most bytes one fused instruction sequence depends on (prologues and epilogues are
/// cut to it; the byte-compare body takes 24).
const FUSE_SPAN: u32 = 40;

impl Mem {
    /// Decodes (and fuses) the slot at `ip` (known `< slot_limit`); `fuse_tapes`: the
    /// native tape idioms may be fused (not in POSIX mode).
    #[cold]
    pub(crate) fn fill(&mut self, ip: u32, fuse_tapes: bool) {
        let i = ip as usize;
        if i >= self.slots.len() {
            let len = (i + 1)
                .max(self.slots.len() * 2)
                .max(4096)
                .min(self.slot_limit);
            self.slots.resize(len, Slot::default());
        }
        let slot = match self.decode_at(ip) {
            Ok(Some(i)) => self.fuse_routine(ip, self.fuse(ip, plain(&i), fuse_tapes)),
            _ => Slot {
                form: Form::Plain,
                ..Slot::default()
            },
        };
        self.slots[ip as usize] = slot;
        self.code_end = self.code_end.max(ip.saturating_add(slot.bytes()));
    }

    /// The instruction at `at` if it is inside memory and decodes.
    pub(super) fn instr_at(&self, at: u32) -> Option<Instr> {
        if at < self.size() {
            self.decode_at(at).ok().flatten()
        } else {
            None
        }
    }

    /// The fused form starting with `s` at `ip`, or `s` itself.
    pub(super) fn fuse(&self, ip: u32, mut s: Slot, fuse_tapes: bool) -> Slot {
        let next = ip.wrapping_add(u32::from(s.len));
        let after = self.instr_at(next);
        let jump_disp = |j: &Instr| j.imm_signed();
        match (s.form, after) {
            (Form::CmpSkip | Form::CmpSkipImm, Some(j)) if j.op == Op::Jump => {
                s.form = if s.form == Form::CmpSkip {
                    Form::CmpSkipJump
                } else {
                    Form::CmpSkipImmJump
                };
                (s.n, s.disp) = (2, jump_disp(&j));
            }
            (Form::Other, Some(j)) if matches!(s.op, Op::Cmp | Op::Cmpu | Op::Cmpi | Op::Cmpui) => {
                if let Some(test) = flag_test(j.op).filter(|_| j.byte_len() == 6) {
                    if j.regs[0] == s.a && j.op.group() == Some(Group::OneOpI) {
                        // The compare writes 1, 2 or 4 into a: the outcomes that jump.
                        let accept = [1u32, 2, 4]
                            .iter()
                            .filter(|&&v| test.holds(v))
                            .fold(0u8, |m, &v| m | v as u8);
                        let signed = matches!(s.op, Op::Cmp | Op::Cmpi);
                        s.set_cond(Cond {
                            accept,
                            bias: if signed { SIGNED } else { 0 },
                        });
                        s.form = if matches!(s.op, Op::Cmp | Op::Cmpu) {
                            Form::CmpJumpIf
                        } else {
                            s.imm = s.imm as u16 as i16 as i32 as u32;
                            Form::CmpImmJumpIf
                        };
                        (s.n, s.disp) = (2, jump_disp(&j));
                    }
                }
            }
            (Form::LoadImm, Some(h))
                if fuse_tapes
                    && s.a == 1
                    && matches!(s.imm, 0x1100 | 0x1101)
                    && h.op == Op::Halcode =>
            {
                match h.imm {
                    0x100100 => {
                        (s.form, s.n) = (Form::TapeGetc, 2);
                        if let Some(j) = self.instr_at(next + 4) {
                            if j.op == Op::JumpNp && j.regs[0] == 0 {
                                (s.form, s.n, s.disp) = (Form::TapeGetcJumpNp, 3, jump_disp(&j));
                            }
                        }
                    }
                    0x100200 => (s.form, s.n) = (Form::TapePutc, 2),
                    _ => {}
                }
            }
            (Form::Pushr | Form::Popr, Some(_)) => self.fuse_run(ip, &mut s),
            (Form::Move | Form::Copy | Form::False | Form::LoadImm, Some(_)) => {
                self.fuse_epilogue(ip, &mut s)
            }
            (Form::Loadxu8, Some(_)) => self.fuse_byte_compare(ip, &mut s),
            _ => {}
        }
        s
    }

    /// PUSHR/POPR runs on one stack register: a PUSHR run with the register moves after
    /// it (a call's save prologue), a POPR run maybe ending with RET on it.
    fn fuse_run(&self, ip: u32, s: &mut Slot) {
        let (count, ret) = self.scan_run(ip, s);
        if s.op == Op::Pushr {
            let end = ip + 4 * u32::from(count);
            let moved = self.scan_moves(end, s, 3, FUSE_SPAN - 4 * u32::from(count));
            if count + s.nmoves > 1 {
                (s.form, s.count) = (Form::PushRun, count);
                s.n = count + s.nmoves;
                s.disp = 4 * u32::from(count) + moved;
            }
        } else if count > 1 || ret {
            s.form = if ret { Form::PopRunRet } else { Form::PopRun };
            (s.count, s.n) = (count, count + u8::from(ret));
            s.disp = 4 * u32::from(count);
        }
    }

    /// Register moves, then a POPR run and RET (a call's restore epilogue), from `ip`.
    fn fuse_epilogue(&self, ip: u32, s: &mut Slot) {
        let mut e = *s;
        e.nmoves = 0;
        let moved = self.scan_moves(ip, &mut e, 2, 12);
        let Some(first) = self.instr_at(ip + moved) else {
            return;
        };
        if first.op != Op::Popr {
            return;
        }
        (e.op, e.b) = (Op::Popr, first.regs[1] & 15);
        let (count, ret) = self.scan_run(ip + moved, &mut e);
        if ret {
            (e.form, e.count, e.tail) = (Form::PopRunRet, count, moved as u8);
            e.n = e.nmoves + count + 1;
            *s = e;
        }
    }

    /// The PUSHR or POPR run (`s.op`, stack register `s.b`) starting at `at` into
    /// `s.run`: its length, and whether a RET on the stack register follows a POPR run.
    fn scan_run(&self, mut at: u32, s: &mut Slot) -> (u8, bool) {
        let mut k = 0;
        while k < MAX_RUN {
            match self.instr_at(at) {
                // (A POPR into the stack register itself ends the run.)
                Some(i)
                    if i.op == s.op
                        && i.regs[1] & 15 == s.b
                        && (s.op == Op::Pushr || i.regs[0] & 15 != s.b) =>
                {
                    s.run[k] = i.regs[0] & 15
                }
                Some(i)
                    if s.op == Op::Popr && k > 0 && i.op == Op::Ret && i.regs[0] & 15 == s.b =>
                {
                    return (k as u8, true);
                }
                _ => break,
            }
            k += 1;
            at += 4;
        }
        (k as u8, false)
    }

    /// Up to `max` register moves (MOVE, COPY, FALSE, at most one LOADUI) from `at`,
    /// within `room` bytes, into `s.moves`; the bytes they take.
    fn scan_moves(&self, mut at: u32, s: &mut Slot, max: usize, room: u32) -> u32 {
        let (start, mut loaded) = (at, false);
        while usize::from(s.nmoves) < max {
            let Some(i) = self.instr_at(at) else { break };
            let [a, b, ..] = i.regs.map(|x| x & 15);
            let Some(m) = RegMove::of(i.op, a, b).filter(|m| !(m.from_imm && loaded)) else {
                break;
            };
            if at + i.byte_len() - start > room {
                break;
            }
            if m.from_imm {
                (loaded, s.imm) = (true, i.imm_signed());
            }
            s.moves[usize::from(s.nmoves)] = m;
            s.nmoves += 1;
            at += i.byte_len();
        }
        at - start
    }

    /// The byte-compare loop body of M0's string match.
    fn fuse_byte_compare(&self, ip: u32, s: &mut Slot) {
        let (Some(l2), Some(add), Some(cmp)) = (
            self.instr_at(ip + 4),
            self.instr_at(ip + 8),
            self.instr_at(ip + 14),
        ) else {
            return;
        };
        if l2.op != Op::Loadxu8 || add.op != Op::Addui || cmp.op != Op::CmpskipNe {
            return;
        }
        let (tail, test, reg) = match self.instr_at(ip + 18) {
            Some(j) if j.op == Op::Jump => (
                4,
                FlagTest {
                    mask: 0,
                    invert: true,
                },
                0,
            ),
            Some(j) if j.op.group() == Some(Group::OneOpI) => match flag_test(j.op) {
                Some(test) => (6, test, j.regs[0]),
                None => return,
            },
            _ => return,
        };
        let Some(j) = self.instr_at(ip + 18) else {
            return;
        };
        s.run = [
            l2.regs[0],
            l2.regs[1],
            l2.regs[2],
            add.regs[0],
            add.regs[1],
            cmp.regs[0],
            cmp.regs[1],
            reg,
        ];
        (s.form, s.n, s.tail) = (Form::ByteCompare, 5, tail);
        s.set_test(test);
        s.imm = add.imm_signed();
        s.disp = j.imm_signed();
    }
}

/// The slot of one instruction by itself.
pub(super) fn plain(i: &Instr) -> Slot {
    let [a, b, c, d] = i.regs.map(|x| x & 15);
    let imm = i.imm_signed();
    let mut s = Slot {
        form: Form::Other,
        op: i.op,
        a,
        b,
        c,
        d,
        len: i.byte_len() as u8,
        imm: i.imm,
        ..Slot::default()
    };
    use Op::*;
    let (form, imm) = match i.op {
        Halt => (Form::Halt, i.imm),
        Halcode => (Form::Halcode, i.imm),
        Move => (Form::Move, 0),
        Copy => (Form::Copy, 0),
        False => (Form::False, 0),
        True => (Form::True, 0),
        Push8 => (Form::Push8, 0),
        Pop8 => (Form::Pop8, 0),
        Popu8 => (Form::Popu8, 0),
        Addi | Addui => (Form::AddImm, imm),
        Subi | Subui => (Form::AddImm, imm.wrapping_neg()),
        Loadi | Loadui => (Form::LoadImm, imm),
        Andi => (Form::AndImm, imm),
        Sali => (Form::ShiftLeftImm, imm & 31),
        Add | Addu => (Form::Add, 0),
        Sub | Subu => (Form::Sub, 0),
        Or => (Form::Or, 0),
        Loadxu8 => (Form::Loadxu8, 0),
        Loadx | Loadx32 | Loadxu32 => (Form::Loadx, 0),
        Load | Load32 | Loadu32 => (Form::Load, imm),
        Loadu8 => (Form::Loadu8, imm),
        Loadr16 => (Form::Loadr16, imm),
        Store | Store32 => (Form::Store, imm),
        Pushr => (Form::Pushr, 0),
        Popr => (Form::Popr, 0),
        Calli => (Form::Calli, imm),
        Ret | Poppc => (Form::Ret, 0),
        Jump => (Form::Jump, imm),
        op => {
            if let Some(test) =
                flag_test(op).filter(|_| i.byte_len() == 6 && op.group() == Some(Group::OneOpI))
            {
                s.set_test(test);
                (Form::JumpIf, imm)
            } else if let Some((family, cond)) = compare(op) {
                s.set_cond(cond);
                match family {
                    Family::Skip => (Form::CmpSkip, 0),
                    Family::SkipImm => (Form::CmpSkipImm, skip_imm(cond, i.imm)),
                    Family::JumpImm => (Form::CmpJumpImm, imm),
                    Family::JumpReg => (Form::Other, i.imm),
                }
            } else {
                (Form::Other, i.imm)
            }
        }
    };
    (s.form, s.imm) = (form, imm);
    s
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_slot_is_64_bytes() {
        assert_eq!(std::mem::size_of::<super::Slot>(), 64);
    }
}
