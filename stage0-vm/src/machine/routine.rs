//! Fused subroutines: whole routines of the code recognised at their entry address and
//! run natively in one dispatch. It owns [`StringMatch`], the string-compare routine the
//! chain's macro assemblers call for every table entry they look at (a save prologue, the
//! byte-compare loop, FALSE/CMPSKIP/TRUE for the verdict, a restore epilogue with RET),
//! and the unchecked register save/restore runs the executor's prologue and epilogue
//! forms share with it. A routine runs its instructions in order on the real registers
//! and memory, so any register assignment behaves exactly as the plain step; wherever it
//! cannot go on cheaply (a load outside memory, pushes or pops that would touch memory
//! holding code or leave memory, the step limit) it stops at that instruction boundary
//! with the exact state, and the executor carries on from there instruction by
//! instruction. Every byte a routine depends on lies within `SLOT_SPAN` of its entry, so
//! the entry slot's invalidation covers it.

use super::memory::Mem;
use super::predecode::{plain, Form, MoveKind, RegMove, Slot, SLOT_SPAN};
use super::semantics::{compare, Cond, Family};
use crate::isa::Op;

/// The most routines one memory keeps; past it, code is fused instruction by instruction.
const MAX_ROUTINES: usize = 256;

/// A string-compare subroutine: `save` (a PUSHR run and register moves) at `entry`, the
/// byte-compare loop `body` at `body_at` jumping back to itself, the verdict at
/// `verdict_at` (FALSE t; CMPSKIP.cond u v; TRUE t), and `restore` (moves, POPR run, RET)
/// at `restore_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StringMatch {
    entry: u32,
    save: Slot,
    body_at: u32,
    body: Slot,
    verdict_at: u32,
    verdict: Verdict,
    restore_at: u32,
    restore: Slot,
}

/// FALSE t; CMPSKIP.cond u v; TRUE t.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Verdict {
    t: u8,
    u: u8,
    v: u8,
    cond: Cond,
}

impl Mem {
    /// `s` (the fused slot at `ip`) turned into a [`Form::StringMatch`] slot when a
    /// string-compare routine starts at `ip`.
    pub(super) fn fuse_routine(&mut self, ip: u32, s: Slot) -> Slot {
        if s.form != Form::PushRun {
            return s;
        }
        let Some(routine) = self.string_match(ip, &s) else {
            return s;
        };
        let span = routine.restore_at + routine.restore.bytes() - ip;
        if span > SLOT_SPAN {
            return s;
        }
        let index = match self.routines.iter().position(|r| r.entry == ip) {
            Some(k) => k,
            None if self.routines.len() < MAX_ROUTINES => {
                self.routines.push(routine);
                self.routines.len() - 1
            }
            None => return s,
        };
        self.routines[index] = routine;
        let mut slot = s;
        (slot.form, slot.routine, slot.disp) = (Form::StringMatch, index as u16, span);
        slot
    }

    /// The string-compare routine whose save prologue `save` is at `entry`, if the code
    /// after it has the shape.
    fn string_match(&self, entry: u32, save: &Slot) -> Option<StringMatch> {
        let body_at = entry.checked_add(save.disp)?;
        let body = self.fused_at(body_at)?;
        let verdict_at = body_at.checked_add(24)?;
        let loops = body.form == Form::ByteCompare
            && body.tail == 6
            && verdict_at.wrapping_add(body.disp) == body_at;
        let (f, c, t) = (
            self.instr_at(verdict_at)?,
            self.instr_at(verdict_at + 4)?,
            self.instr_at(verdict_at + 8)?,
        );
        let (Some((Family::Skip, cond)), Op::False, Op::True) = (compare(c.op), f.op, t.op) else {
            return None;
        };
        let verdict = Verdict {
            t: f.regs[0] & 15,
            u: c.regs[0] & 15,
            v: c.regs[1] & 15,
            cond,
        };
        let restore_at = verdict_at + 12;
        let restore = self.fused_at(restore_at)?;
        let keeps_sp = restore.moves[..usize::from(restore.nmoves)]
            .iter()
            .all(|m| m.a != restore.b && m.b != restore.b);
        let shaped = loops
            && t.regs[0] & 15 == verdict.t
            && restore.form == Form::PopRunRet
            && keeps_sp;
        shaped.then_some(StringMatch {
            entry,
            save: *save,
            body_at,
            body,
            verdict_at,
            verdict,
            restore_at,
            restore,
        })
    }

    /// The fused slot an instruction at `at` would get by itself (no routine).
    fn fused_at(&self, at: u32) -> Option<Slot> {
        let i = self.instr_at(at)?;
        Some(self.fuse(at, plain(&i), false))
    }
}

/// The state a routine runs on: registers, memory bytes, the code extent, ip, the
/// executed-instruction counter and the step limit. A routine leaves it at an
/// instruction boundary.
pub(super) struct Native<'a> {
    pub r: &'a mut [u32; 256],
    pub bytes: &'a mut [u8],
    pub code_end: u32,
    pub pc: u32,
    pub steps: u64,
    pub limit: u64,
}

impl Native<'_> {
    #[inline(always)]
    fn fits(&self, n: u8) -> bool {
        self.steps + u64::from(n) <= self.limit
    }

    /// The byte at `addr` under the reference's rule (`addr + 1 < size`).
    #[inline(always)]
    fn byte(&self, addr: u32) -> Option<u32> {
        let i = addr as usize;
        match self.bytes.get(i..=i.saturating_add(1)) {
            Some(&[b, _]) => Some(u32::from(b)),
            _ => None,
        }
    }
}

impl StringMatch {
    /// Runs the routine from its entry (`x.pc`). `false`: nothing ran (the entry
    /// instruction must go through the plain step); `true`: `x` is at the instruction
    /// the routine stopped before, or at the return address after its RET.
    pub(super) fn run(&self, x: &mut Native) -> bool {
        let save = &self.save;
        if !x.fits(save.n) || !clear_of_code(x, x.r[usize::from(save.b)], save.count) {
            return false;
        }
        push_run(save, x.r, x.bytes);
        (x.pc, x.steps) = (self.body_at, x.steps + u64::from(save.n));
        if self.compare_loop(x) {
            self.finish(x);
        }
        true
    }

    /// The byte-compare loop until it falls through (`true`, at `verdict_at`) or stops.
    #[inline(always)]
    fn compare_loop(&self, x: &mut Native) -> bool {
        let b = &self.body;
        let [a, s1, s2] = [b.a, b.b, b.c].map(usize::from);
        let [c, t1, t2, ad, as_, p, q, f] = b.run.map(usize::from);
        let test = b.test();
        loop {
            if !x.fits(5) {
                return false;
            }
            let Some(v) = x.byte(x.r[s1].wrapping_add(x.r[s2])) else {
                return false;
            };
            x.r[a] = v;
            let Some(v) = x.byte(x.r[t1].wrapping_add(x.r[t2])) else {
                (x.pc, x.steps) = (self.body_at + 4, x.steps + 1);
                return false;
            };
            x.r[c] = v;
            x.r[ad] = x.r[as_].wrapping_add(b.imm);
            if x.r[p] != x.r[q] {
                // CMPSKIP.NE skips the JUMP.cond.
                (x.pc, x.steps) = (self.verdict_at, x.steps + 4);
                return true;
            }
            x.steps += 5;
            if !test.holds(x.r[f]) {
                x.pc = self.verdict_at;
                return true;
            }
        }
    }

    /// The verdict and the restore epilogue with its RET, from `verdict_at`.
    #[inline(always)]
    fn finish(&self, x: &mut Native) {
        let (v, rs) = (&self.verdict, &self.restore);
        if !x.fits(3) {
            return;
        }
        let t = usize::from(v.t);
        x.r[t] = 0;
        if v.cond.holds(x.r[usize::from(v.u)], x.r[usize::from(v.v)]) {
            x.steps += 2; // TRUE skipped
        } else {
            x.r[t] = u32::MAX;
            x.steps += 3;
        }
        x.pc = self.restore_at;
        let words = rs.count + 1;
        let top = x.r[usize::from(rs.b)];
        let low = top.wrapping_sub(4 * u32::from(words));
        if !x.fits(rs.n) || low > top || !clear_of_code(x, low, words) {
            return;
        }
        for &m in &rs.moves[..usize::from(rs.nmoves)] {
            apply(m, x.r, rs.imm);
        }
        let at = pop_run(rs, x.r, x.bytes, top) - 4;
        x.pc = pop_word(x.bytes, at);
        x.r[usize::from(rs.b)] = at as u32;
        x.steps += u64::from(rs.n);
    }
}

/// Whether `words` words from `addr` lie in memory under the reference's rule and above
/// all decoded code.
#[inline(always)]
fn clear_of_code(x: &Native, addr: u32, words: u8) -> bool {
    let end = u64::from(addr) + 4 * u64::from(words);
    addr >= x.code_end && end < x.bytes.len() as u64
}

/// The PUSHR run and moves of a save prologue `s`, unchecked (the caller has checked
/// that the pushes stay in memory and clear of code).
#[inline(always)]
pub(super) fn push_run(s: &Slot, r: &mut [u32; 256], bytes: &mut [u8]) {
    let sp = usize::from(s.b);
    let at = r[sp];
    for (k, &reg) in s.run.iter().enumerate().take(usize::from(s.count)) {
        let v = r[usize::from(reg)];
        let i = at as usize + 4 * k;
        if let Some(w) = bytes.get_mut(i..i + 4) {
            w.copy_from_slice(&v.to_be_bytes());
        }
        r[sp] = at.wrapping_add(4 * (k as u32 + 1));
    }
    for &m in s.moves.iter().take(usize::from(s.nmoves)) {
        apply(m, r, s.imm);
    }
}

/// The POPR run of a restore epilogue `s` from the stack top `top`, unchecked; the new
/// stack top.
#[inline(always)]
pub(super) fn pop_run(s: &Slot, r: &mut [u32; 256], bytes: &mut [u8], top: u32) -> usize {
    let sp = usize::from(s.b);
    let mut at = top as usize;
    for &reg in s.run.iter().take(usize::from(s.count)) {
        at -= 4;
        r[usize::from(reg)] = pop_word(bytes, at);
        r[sp] = at as u32;
    }
    at
}

/// The word at `at` (known inside memory), zeroed as POPR leaves it.
#[inline(always)]
pub(super) fn pop_word(bytes: &mut [u8], at: usize) -> u32 {
    match bytes.get_mut(at..at + 4) {
        Some(w) => {
            let v = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
            w.fill(0);
            v
        }
        None => 0,
    }
}

/// One register move of a fused prologue or epilogue.
#[inline(always)]
pub(super) fn apply(m: RegMove, r: &mut [u32; 256], imm: u32) {
    let (a, b) = (usize::from(m.a), usize::from(m.b));
    match m.kind {
        MoveKind::Move => {
            r[a] = r[b];
            r[b] = 0;
        }
        MoveKind::Copy => r[a] = r[b],
        MoveKind::False => r[a] = 0,
        MoveKind::LoadImm => r[a] = imm,
    }
}
