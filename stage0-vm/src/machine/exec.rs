//! The fast executor: one `match` over the pre-decoded slot's [`Form`], registers, ip and
//! counter in locals, each arm advancing ip by its operation's constant length (so the
//! next fetch does not wait for the slot). Hot operations and the fused forms are written
//! here; every other operation runs through `semantics::execute`, and whatever a slot
//! cannot hold (code above the slot table, an illegal word, a fused form the step limit
//! would cut) through the plain step. It allocates nothing per instruction.

use super::cond::relation;
use super::form::Form;
use super::routine::{apply, pop_run, pop_word, push_run, Native, Ran};
use super::semantics::{self, mem_fault, skip, Flow};
use super::{lo16, lo16_mut, Io, Machine};
use crate::devices::{Devices, TAPE_01};
use crate::fault::{Fault, Stop};

impl Machine {
    /// Runs until HALT, exit or a fault; `LIMITED`: `--max-steps` is set (without it the
    /// limit checks are compiled out: the counter cannot reach 2^64).
    pub(super) fn exec<const LIMITED: bool>(
        &mut self,
        dev: &mut Devices,
        io: &mut Io,
    ) -> Result<Stop, Fault> {
        let limit = self.config.max_steps.unwrap_or(u64::MAX);
        let native = !self.config.posix;
        // 256 registers so that a u8 field indexes them without a mask or a bounds check;
        // only R0..R15 exist (the pre-decoder masks every register field to 4 bits).
        let mut r = [0u32; 256];
        r[..16].copy_from_slice(&self.regs);
        let mut pc = self.ip;
        let mut steps = self.steps;
        macro_rules! rd {
            ($l:lifetime, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break $l Err(mem_fault(steps, e, false)),
                }
            };
        }
        macro_rules! wr {
            ($l:lifetime, $e:expr) => {
                match $e {
                    Ok(v) => v,
                    Err(e) => break $l Err(mem_fault(steps, e, true)),
                }
            };
        }
        // One instruction through the plain step (the state goes through `self`).
        macro_rules! plain {
            ($l:lifetime) => {{
                self.regs = *lo16(&r);
                (self.ip, self.steps) = (pc, steps);
                let done = self.step(dev, io);
                r[..16].copy_from_slice(&self.regs);
                (pc, steps) = (self.ip, self.steps);
                match done {
                    Ok(None) => continue $l,
                    Ok(Some(stop)) => break $l Ok(stop),
                    Err(e) => break $l Err(e),
                }
            }};
        }
        let result = 'run: loop {
            if LIMITED && steps >= limit {
                break 'run Err(Fault::MaxSteps { steps, ip: pc });
            }
            let ip = pc;
            // `d` borrows the slot: each arm loads only the fields it uses, before any
            // store (which may rewrite the slot table).
            let Some(d) = self.mem.slots.get(ip as usize) else {
                if (ip as usize) < self.mem.slot_limit {
                    self.mem.fill(ip, native);
                    continue;
                }
                plain!('run)
            };
            if LIMITED && steps + u64::from(d.n) > limit {
                plain!('run)
            }
            steps += 1;
            // The register fields, loaded where an arm uses them.
            macro_rules! A {
                () => {
                    usize::from(d.a)
                };
            }
            macro_rules! B {
                () => {
                    usize::from(d.b)
                };
            }
            macro_rules! C {
                () => {
                    usize::from(d.c)
                };
            }
            match d.form {
                Form::Empty => {
                    steps -= 1;
                    self.mem.fill(ip, native);
                }
                Form::Plain => {
                    steps -= 1;
                    plain!('run)
                }
                Form::Other => {
                    let (instr, len) = (d.instr(), d.len);
                    pc = ip.wrapping_add(u32::from(len));
                    let r16 = lo16_mut(&mut r);
                    match semantics::execute(&instr, ip, r16, &mut self.mem, steps) {
                        Ok(Flow::Next) => {}
                        Ok(Flow::Goto(to)) => pc = to,
                        Ok(Flow::Halt | Flow::Halcode(_)) => {
                            // Never: both have their own forms.
                            (pc, steps) = (ip, steps - 1);
                            plain!('run)
                        }
                        Err(e) => break 'run Err(e),
                    }
                }
                Form::Halt => {
                    pc = ip.wrapping_add(4);
                    break 'run Ok(Stop::Halt);
                }
                Form::Halcode => {
                    pc = ip.wrapping_add(4);
                    let code = d.imm;
                    if native && r[1].wrapping_sub(TAPE_01) < 2 {
                        // FGETC/FPUTC on an open tape: a slice index, no call.
                        let tape = r[1] as usize & 1;
                        if code == 0x100100 {
                            if let Some(v) = dev.getc_fast(tape) {
                                r[0] = v;
                                continue;
                            }
                        } else if code == 0x100200 && dev.putc_fast(tape, r[0] as u8) {
                            continue;
                        }
                    }
                    match self.halcode(lo16_mut(&mut r), steps, ip, code, dev, io) {
                        Ok(None) => {}
                        Ok(Some(stop)) => break 'run Ok(stop),
                        Err(e) => break 'run Err(e),
                    }
                }
                Form::Move => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = r[B!()];
                    r[B!()] = 0;
                }
                Form::Copy => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = r[B!()];
                }
                Form::False => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = 0;
                }
                Form::True => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = u32::MAX;
                }
                Form::AddImm => {
                    pc = ip.wrapping_add(6);
                    r[A!()] = r[B!()].wrapping_add(d.imm);
                }
                Form::LoadImm => {
                    pc = ip.wrapping_add(6);
                    r[A!()] = d.imm;
                }
                Form::AndImm => {
                    pc = ip.wrapping_add(6);
                    r[A!()] = r[B!()] & d.imm;
                }
                Form::ShiftLeftImm => {
                    pc = ip.wrapping_add(6);
                    r[A!()] <<= d.imm;
                }
                Form::Add => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = r[B!()].wrapping_add(r[C!()]);
                }
                Form::Sub => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = r[B!()].wrapping_sub(r[C!()]);
                }
                Form::Or => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = r[B!()] | r[C!()];
                }
                Form::Loadxu8 => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = rd!('run, self.mem.load(r[B!()].wrapping_add(r[C!()]), 1));
                }
                Form::Loadx => {
                    pc = ip.wrapping_add(4);
                    r[A!()] = rd!('run, self.mem.load(r[B!()].wrapping_add(r[C!()]), 4));
                }
                Form::Load => {
                    pc = ip.wrapping_add(6);
                    r[A!()] = rd!('run, self.mem.load(r[B!()].wrapping_add(d.imm), 4));
                }
                Form::Loadu8 => {
                    pc = ip.wrapping_add(6);
                    r[A!()] = rd!('run, self.mem.load(r[B!()].wrapping_add(d.imm), 1));
                }
                Form::Loadr16 => {
                    pc = ip.wrapping_add(6);
                    let v = rd!('run, self.mem.load(pc.wrapping_add(d.imm), 2));
                    r[A!()] = v as u16 as i16 as i32 as u32;
                }
                Form::Store => {
                    pc = ip.wrapping_add(6);
                    let (v, at) = (r[A!()], r[B!()].wrapping_add(d.imm));
                    wr!('run, self.mem.store(at, 4, v));
                }
                Form::Pushr => {
                    pc = ip.wrapping_add(4);
                    let ib = B!();
                    let (v, at) = (r[A!()], r[ib]);
                    wr!('run, self.mem.store(at, 4, v));
                    r[ib] = at.wrapping_add(4);
                }
                Form::Push8 => {
                    pc = ip.wrapping_add(4);
                    let ib = B!();
                    let (v, at) = (r[A!()], r[ib]);
                    wr!('run, self.mem.store(at, 1, v));
                    r[ib] = at.wrapping_add(1);
                }
                Form::Pop8 | Form::Popu8 => {
                    pc = ip.wrapping_add(4);
                    let (ia, ib, signed) = (A!(), B!(), d.form == Form::Pop8);
                    let at = r[ib].wrapping_sub(1);
                    r[ib] = at;
                    let v = rd!('run, self.mem.load(at, 1));
                    wr!('run, self.mem.store(at, 1, 0));
                    r[ia] = if signed {
                        v as u8 as i8 as i32 as u32
                    } else {
                        v
                    };
                }
                Form::Popr => {
                    pc = ip.wrapping_add(4);
                    let (ia, ib) = (A!(), B!());
                    let at = r[ib].wrapping_sub(4);
                    r[ib] = at;
                    let v = rd!('run, self.mem.load(at, 4));
                    wr!('run, self.mem.store(at, 4, 0));
                    r[ia] = v;
                }
                Form::Calli => {
                    let next = ip.wrapping_add(6);
                    pc = next.wrapping_add(d.imm);
                    let ia = A!();
                    let at = r[ia];
                    wr!('run, self.mem.store(at, 4, next));
                    r[ia] = at.wrapping_add(4);
                }
                Form::Ret => {
                    pc = ip.wrapping_add(4);
                    let at = r[A!()].wrapping_sub(4);
                    r[A!()] = at;
                    let to = rd!('run, self.mem.load(at, 4));
                    wr!('run, self.mem.store(at, 4, 0));
                    pc = to;
                }
                Form::Jump => pc = ip.wrapping_add(4).wrapping_add(d.imm),
                Form::JumpIf => {
                    let next = ip.wrapping_add(6);
                    pc = if d.test().holds(r[A!()]) {
                        next.wrapping_add(d.imm)
                    } else {
                        next
                    };
                }
                Form::CmpSkip => {
                    pc = ip.wrapping_add(4);
                    if d.cond().holds(r[A!()], r[B!()]) {
                        pc = match skip(&self.mem, pc, steps) {
                            Ok(to) => to,
                            Err(e) => break 'run Err(e),
                        };
                    }
                }
                Form::CmpSkipImm => {
                    pc = ip.wrapping_add(6);
                    if d.cond().holds(r[A!()], d.imm) {
                        pc = match skip(&self.mem, pc, steps) {
                            Ok(to) => to,
                            Err(e) => break 'run Err(e),
                        };
                    }
                }
                Form::CmpJumpImm => {
                    pc = ip.wrapping_add(6);
                    if d.cond().holds(r[A!()], r[B!()]) {
                        pc = pc.wrapping_add(d.imm);
                    }
                }
                // Compare-and-skip over a JUMP (always 4 bytes): skip it, or run it now.
                Form::CmpSkipJump => {
                    pc = ip.wrapping_add(8);
                    if !d.cond().holds(r[A!()], r[B!()]) {
                        steps += 1;
                        pc = pc.wrapping_add(d.disp);
                    }
                }
                Form::CmpSkipImmJump => {
                    pc = ip.wrapping_add(10);
                    if !d.cond().holds(r[A!()], d.imm) {
                        steps += 1;
                        pc = pc.wrapping_add(d.disp);
                    }
                }
                // CMP* into a, then the JUMP.cond on a (6 bytes).
                Form::CmpJumpIf => {
                    let rel = relation(r[B!()] ^ d.cond().bias, r[C!()] ^ d.cond().bias);
                    r[A!()] = rel;
                    steps += 1;
                    pc = ip.wrapping_add(10);
                    if rel & u32::from(d.cond().accept) != 0 {
                        pc = pc.wrapping_add(d.disp);
                    }
                }
                Form::CmpImmJumpIf => {
                    let rel = relation(r[B!()] ^ d.cond().bias, d.imm ^ d.cond().bias);
                    r[A!()] = rel;
                    steps += 1;
                    pc = ip.wrapping_add(12);
                    if rel & u32::from(d.cond().accept) != 0 {
                        pc = pc.wrapping_add(d.disp);
                    }
                }
                // LOADUI R1 tape, then FGETC/FPUTC on it when the fast path applies.
                Form::TapeGetc | Form::TapeGetcJumpNp => {
                    r[1] = d.imm;
                    pc = ip.wrapping_add(6);
                    if let Some(v) = dev.getc_fast(d.imm as usize & 1) {
                        r[0] = v;
                        steps += 1;
                        pc = ip.wrapping_add(10);
                        if d.form == Form::TapeGetcJumpNp {
                            steps += 1;
                            pc = ip.wrapping_add(16);
                            if (v as i32) < 0 {
                                pc = pc.wrapping_add(d.disp);
                            }
                        }
                    }
                }
                Form::TapePutc => {
                    r[1] = d.imm;
                    pc = ip.wrapping_add(6);
                    if dev.putc_fast(d.imm as usize & 1, r[0] as u8) {
                        steps += 1;
                        pc = ip.wrapping_add(10);
                    }
                }
                // A save prologue: when every push is inside memory and clear of code
                // (checked once), the pushes and moves run unchecked; else one PUSHR.
                Form::PushRun => {
                    let (sp, count) = (B!(), u32::from(d.count));
                    let at = r[sp];
                    if !self.mem.clear_of_code(at, 4 * count) {
                        let v = r[A!()];
                        wr!('run, self.mem.store(at, 4, v));
                        r[sp] = at.wrapping_add(4);
                        pc = ip.wrapping_add(4);
                        continue;
                    }
                    push_run(d, &mut r, &mut self.mem.bytes);
                    steps += u64::from(d.n) - 1;
                    pc = ip.wrapping_add(d.disp);
                }
                // A restore epilogue: the moves, then (when every pop and the RET are
                // inside memory and clear of code, checked once) the pops and RET
                // unchecked; else the run goes on at its first POPR.
                Form::PopRun | Form::PopRunRet => {
                    let (sp, count, ret) = (B!(), u32::from(d.count), d.form == Form::PopRunRet);
                    for &m in d.moves.iter().take(usize::from(d.nmoves)) {
                        apply(m, &mut r, d.imm);
                    }
                    let words = count + u32::from(ret);
                    let top = r[sp];
                    let low = top.wrapping_sub(4 * words);
                    if low > top || !self.mem.clear_of_code(low, 4 * words) {
                        steps += u64::from(d.nmoves);
                        pc = ip.wrapping_add(u32::from(d.tail));
                        if d.nmoves == 0 {
                            // One POPR, checked.
                            let ia = usize::from(d.run[0]);
                            let at = top.wrapping_sub(4);
                            r[sp] = at;
                            let v = rd!('run, self.mem.load(at, 4));
                            wr!('run, self.mem.store(at, 4, 0));
                            r[ia] = v;
                            pc = ip.wrapping_add(4);
                        } else {
                            steps -= 1;
                        }
                        continue;
                    }
                    let bytes = &mut self.mem.bytes;
                    let mut at = pop_run(d, &mut r, bytes, top);
                    steps += u64::from(d.n) - 1;
                    pc = ip.wrapping_add(u32::from(d.tail) + 4 * count);
                    if ret {
                        at -= 4;
                        pc = pop_word(bytes, at);
                        r[sp] = at as u32;
                    }
                }
                // A whole string-compare routine, as far as it can run natively.
                Form::StringMatch => {
                    steps -= 1;
                    let mut x = Native::<LIMITED> {
                        bytes: &mut self.mem.bytes,
                        code_end: self.mem.code_end,
                        limit,
                    };
                    let ran = match self.mem.routines.get(usize::from(d.routine)) {
                        Some(routine) => routine.run(&mut r, &mut x, steps),
                        None => Ran::NotRun,
                    };
                    match ran {
                        Ran::NotRun => plain!('run),
                        Ran::Stopped(at) | Ran::Returned(at) => (pc, steps) = (at.pc, at.steps),
                    }
                }
                // A table look-up loop, as far as it can run natively.
                Form::ListWalk => {
                    steps -= 1;
                    let Some(walk) = self.mem.walks.get(usize::from(d.routine)) else {
                        plain!('run)
                    };
                    let mut x = Native::<LIMITED> {
                        bytes: &mut self.mem.bytes,
                        code_end: self.mem.code_end,
                        limit,
                    };
                    let (slots, routines) = (&self.mem.slots, &self.mem.routines);
                    let at = walk.run(&mut r, &mut x, slots, routines, steps);
                    (pc, steps) = (at.pc, at.steps);
                }
                Form::ByteCompare => {
                    let (run, imm, test, disp) = (d.run, d.imm, d.test(), d.disp);
                    let after = ip.wrapping_add(18 + u32::from(d.tail));
                    let [c2, b2, i2, t, s, x, y, f] = run.map(usize::from);
                    pc = ip.wrapping_add(4);
                    r[A!()] = rd!('run, self.mem.load(r[B!()].wrapping_add(r[C!()]), 1));
                    steps += 1;
                    pc = ip.wrapping_add(8);
                    r[c2] = rd!('run, self.mem.load(r[b2].wrapping_add(r[i2]), 1));
                    steps += 2; // ADDUI, CMPSKIP.NE
                    r[t] = r[s].wrapping_add(imm);
                    pc = after;
                    if r[x] == r[y] {
                        steps += 1;
                        if test.holds(r[f]) {
                            pc = after.wrapping_add(disp);
                        }
                    }
                }
            }
        };
        self.regs = *lo16(&r);
        self.ip = pc;
        self.steps = steps;
        result
    }
}
