//! Fused subroutines: whole routines of the code recognised at their entry address and
//! run natively in one dispatch. It owns [`StringMatch`], the string-compare routine the
//! chain's macro assemblers call for every table entry they look at (a save prologue, the
//! byte-compare loop, FALSE/CMPSKIP/TRUE for the verdict, a restore epilogue with RET),
//! [`ListWalk`], the linked-list look-up loop that calls it per entry, and the unchecked
//! register save/restore runs the executor's prologue and epilogue forms share with them.
//! A routine runs its instructions in order on the real registers and memory, so any
//! register assignment behaves exactly as the plain step; wherever it cannot go on
//! cheaply (a load outside memory, a push, pop or CALLI that would touch memory holding
//! code or leave memory, a callee that is no longer a fused routine, the step limit) it
//! stops at that instruction boundary with the exact state, and the executor carries on
//! from there instruction by instruction. Every byte a routine depends on lies within
//! `SLOT_SPAN` of its entry, so the entry slot's invalidation covers it (a walk finds its
//! callee through the callee's own slot at every call).

use super::memory::Mem;
use super::predecode::{plain, Form, MoveKind, RegMove, Slot, SLOT_SPAN};
use super::semantics::{compare, Cond, Family};
use crate::isa::Op;

/// The most routines (and walks) one memory keeps; past it, code is fused instruction by
/// instruction.
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
        let (form, span, index) = if let Some(routine) = self.string_match(ip, &s) {
            let span = routine.restore_at + routine.restore.bytes() - ip;
            let index = keep(&mut self.routines, routine, |r| r.entry == ip);
            (Form::StringMatch, span, index)
        } else if let Some(walk) = self.list_walk(ip, &s) {
            let index = keep(&mut self.walks, walk, |w| w.entry == ip);
            (Form::ListWalk, walk.span(), index)
        } else {
            return s;
        };
        match index {
            Some(k) if span <= SLOT_SPAN => {
                let mut slot = s;
                (slot.form, slot.routine, slot.disp) = (form, k, span);
                slot
            }
            _ => s,
        }
    }

    /// The string-compare routine whose save prologue `save` is at `entry`, if the code
    /// after it has the shape.
    fn string_match(&self, entry: u32, save: &Slot) -> Option<StringMatch> {
        if save.form != Form::PushRun {
            return None;
        }
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
        let shaped =
            loops && t.regs[0] & 15 == verdict.t && restore.form == Form::PopRunRet && keeps_sp;
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

/// `item` stored in `table` (in place of the one `same` finds): its index, or `None` when
/// the table is full.
fn keep<T>(table: &mut Vec<T>, item: T, same: impl Fn(&T) -> bool) -> Option<u16> {
    let k = match table.iter().position(same) {
        Some(k) => k,
        None if table.len() < MAX_ROUTINES => {
            table.push(item);
            return Some(table.len() as u16 - 1);
        }
        None => return None,
    };
    table[k] = item;
    Some(k as u16)
}

/// Where a routine left the machine: the next instruction and the counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pos {
    pub pc: u32,
    pub steps: u64,
}

/// How far a routine ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ran {
    /// Not even its first instruction: that one goes through the plain step.
    NotRun,
    /// Up to an instruction it left to the executor (or out of the routine).
    Stopped(Pos),
    /// Through its RET.
    Returned(Pos),
}

/// What a routine runs on besides the registers: memory, the code extent (stores below
/// it may touch decoded code) and the step limit.
pub(super) struct Native<'a> {
    pub bytes: &'a mut [u8],
    pub code_end: u32,
    pub limit: u64,
}

impl Native<'_> {
    /// Whether `words` words from `addr` lie in memory under the reference's rule and
    /// above all decoded code.
    #[inline(always)]
    fn clear(&self, addr: u32, words: u8) -> bool {
        let end = u64::from(addr) + 4 * u64::from(words);
        addr >= self.code_end && end < self.bytes.len() as u64
    }

    /// The `N` bytes at `addr` under the reference's rule (`addr + N < size`).
    #[inline(always)]
    fn load<const N: usize>(&self, addr: u32) -> Option<[u8; N]> {
        let i = addr as usize;
        self.bytes
            .get(i..=i.saturating_add(N))
            .and_then(|s| s.first_chunk::<N>())
            .copied()
    }
}
impl StringMatch {
    /// Runs the routine from its entry, `steps` executed so far.
    #[inline(always)]
    pub(super) fn run(&self, r: &mut [u32; 256], x: &mut Native, steps: u64) -> Ran {
        let save = &self.save;
        if steps + u64::from(save.n) > x.limit || !x.clear(r[usize::from(save.b)], save.count) {
            return Ran::NotRun;
        }
        push_run(save, r, x.bytes);
        let stop = |pc, steps| Ran::Stopped(Pos { pc, steps });
        let mut steps = steps + u64::from(save.n);
        // The byte-compare loop.
        let b = &self.body;
        let (a, s1, s2) = (usize::from(b.a), usize::from(b.b), usize::from(b.c));
        let [c, t1, t2, ad, as_, p, q, f] = b.run.map(usize::from);
        let (imm, test) = (b.imm, b.test());
        loop {
            if steps + 5 > x.limit {
                return stop(self.body_at, steps);
            }
            let Some([v]) = x.load::<1>(r[s1].wrapping_add(r[s2])) else {
                return stop(self.body_at, steps);
            };
            r[a] = u32::from(v);
            let Some([v]) = x.load::<1>(r[t1].wrapping_add(r[t2])) else {
                return stop(self.body_at + 4, steps + 1);
            };
            r[c] = u32::from(v);
            r[ad] = r[as_].wrapping_add(imm);
            if r[p] != r[q] {
                // CMPSKIP.NE skips the JUMP.cond.
                steps += 4;
                break;
            }
            steps += 5;
            if !test.holds(r[f]) {
                break;
            }
        }
        // The verdict.
        let v = &self.verdict;
        if steps + 3 > x.limit {
            return stop(self.verdict_at, steps);
        }
        let t = usize::from(v.t);
        r[t] = 0;
        if v.cond.holds(r[usize::from(v.u)], r[usize::from(v.v)]) {
            steps += 2; // TRUE skipped
        } else {
            r[t] = u32::MAX;
            steps += 3;
        }
        // The restore epilogue (its moves leave the stack register alone) and RET.
        let rs = &self.restore;
        let sp = usize::from(rs.b);
        let top = r[sp];
        let low = top.wrapping_sub(4 * u32::from(rs.count + 1));
        if steps + u64::from(rs.n) > x.limit || low > top || !x.clear(low, rs.count + 1) {
            return stop(self.restore_at, steps);
        }
        for &m in &rs.moves[..usize::from(rs.nmoves)] {
            apply(m, r, rs.imm);
        }
        let at = pop_run(rs, r, x.bytes, top) - 4;
        let pc = pop_word(x.bytes, at);
        r[sp] = at as u32;
        Ran::Returned(Pos {
            pc,
            steps: steps + u64::from(rs.n),
        })
    }
}

/// The PUSHR run and moves of a save prologue `s`, unchecked (the caller has checked
/// that the pushes stay in memory and clear of code).
#[inline(always)]
pub(super) fn push_run(s: &Slot, r: &mut [u32; 256], bytes: &mut [u8]) {
    let sp = usize::from(s.b);
    let (at, count) = (r[sp], usize::from(s.count));
    let i = at as usize;
    if let Some(words) = bytes.get_mut(i..i + 4 * count) {
        for ((k, w), &reg) in words.chunks_exact_mut(4).enumerate().zip(&s.run) {
            w.copy_from_slice(&r[usize::from(reg)].to_be_bytes());
            r[sp] = at.wrapping_add(4 * (k as u32 + 1));
        }
    }
    for &m in &s.moves[..usize::from(s.nmoves).min(3)] {
        apply(m, r, s.imm);
    }
}

/// The POPR run of a restore epilogue `s` from the stack top `top` (known to leave
/// memory), unchecked; the new stack top.
#[inline(always)]
pub(super) fn pop_run(s: &Slot, r: &mut [u32; 256], bytes: &mut [u8], top: u32) -> usize {
    let sp = usize::from(s.b);
    let count = usize::from(s.count).min(8);
    let low = (top as usize).wrapping_sub(4 * count);
    if let Some(words) = bytes.get_mut(low..top as usize) {
        let mut at = top;
        for (w, &reg) in words.chunks_exact_mut(4).rev().zip(&s.run[..count]) {
            at = at.wrapping_sub(4);
            r[sp] = at;
            let v = u32::from_be_bytes([w[0], w[1], w[2], w[3]]);
            w.fill(0);
            r[usize::from(reg)] = v;
        }
    }
    low
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

/// A table look-up loop over a linked list, calling a [`StringMatch`] per entry:
/// JUMP.Z p @done at `entry`; up to three set-up instructions (`setup`: loads, moves,
/// adds); CALLI sp @callee; JUMP.NZ f @found; LOAD p q k (`next`); JUMP back to `entry`.
/// The callee is looked up in the slot table at each call, so it is whatever the code
/// there is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListWalk {
    entry: u32,
    p: u8,
    done: u32,
    setup: [Slot; 3],
    nsetup: u8,
    call_at: u32,
    sp: u8,
    callee: u32,
    f: u8,
    found: u32,
    next: Slot,
}

impl Mem {
    /// The list walk starting with the JUMP.Z slot `s` at `entry`, if the code has the
    /// shape.
    pub(super) fn list_walk(&self, entry: u32, s: &Slot) -> Option<ListWalk> {
        if s.form != Form::JumpIf || s.op != Op::JumpZ {
            return None;
        }
        let done = entry.wrapping_add(6).wrapping_add(s.imm);
        let (mut setup, mut nsetup, mut at) = ([Slot::default(); 3], 0, entry + 6);
        let call = loop {
            let i = self.instr_at(at)?;
            let one = plain(&i);
            match one.form {
                Form::Calli => break one,
                Form::Loadr16
                | Form::Loadx
                | Form::Load
                | Form::Copy
                | Form::Move
                | Form::AddImm
                | Form::LoadImm
                | Form::False
                    if nsetup < 3 =>
                {
                    setup[usize::from(nsetup)] = one;
                    nsetup += 1;
                    at += u32::from(one.len);
                }
                _ => return None,
            }
        };
        let call_at = at;
        let ret_to = call_at + 6;
        let (j, next, back) = (
            self.instr_at(ret_to)?,
            self.instr_at(ret_to + 6)?,
            self.instr_at(ret_to + 12)?,
        );
        let back_to = (ret_to + 16).wrapping_add(back.imm_signed());
        let next = plain(&next);
        let shaped = j.op == Op::JumpNz
            && j.byte_len() == 6
            && next.form == Form::Load
            && back.op == Op::Jump
            && back_to == entry;
        shaped.then_some(ListWalk {
            entry,
            p: s.a,
            done,
            setup,
            nsetup,
            call_at,
            sp: call.a,
            callee: ret_to.wrapping_add(call.imm),
            f: j.regs[0] & 15,
            found: (ret_to + 6).wrapping_add(j.imm_signed()),
            next,
        })
    }
}

impl ListWalk {
    /// The bytes the walk depends on (its own code; the callee has its own slot).
    pub(super) fn span(&self) -> u32 {
        self.call_at + 6 + 16 - self.entry
    }

    /// Runs the walk from its entry (the slot table and routines give the callee),
    /// `steps` executed so far; it ends at `done`, at `found`, or wherever it stops.
    #[inline(always)]
    pub(super) fn run(
        &self,
        r: &mut [u32; 256],
        x: &mut Native,
        slots: &[Slot],
        routines: &[StringMatch],
        steps: u64,
    ) -> Pos {
        let mut steps = steps;
        let ret_to = self.call_at + 6;
        let stop = |pc, steps| Pos { pc, steps };
        loop {
            // JUMP.Z p (the executor has checked that one step fits).
            steps += 1;
            if r[usize::from(self.p)] == 0 {
                return stop(self.done, steps);
            }
            let mut pc = self.entry + 6;
            for s in &self.setup[..usize::from(self.nsetup)] {
                if steps >= x.limit || !setup(s, pc, r, x) {
                    return stop(pc, steps);
                }
                (steps, pc) = (steps + 1, pc + u32::from(s.len));
            }
            // CALLI sp @callee.
            let sp = usize::from(self.sp);
            let top = r[sp];
            if steps >= x.limit || !x.clear(top, 1) {
                return stop(self.call_at, steps);
            }
            let i = top as usize;
            if let Some(w) = x.bytes.get_mut(i..i + 4) {
                w.copy_from_slice(&ret_to.to_be_bytes());
            }
            r[sp] = top.wrapping_add(4);
            steps += 1;
            let routine = match slots.get(self.callee as usize) {
                Some(s) if s.form == Form::StringMatch => routines.get(usize::from(s.routine)),
                _ => None,
            };
            let Some(routine) = routine else {
                return stop(self.callee, steps);
            };
            match routine.run(r, x, steps) {
                Ran::Returned(at) if at.pc == ret_to => steps = at.steps,
                Ran::Returned(at) | Ran::Stopped(at) => return at,
                Ran::NotRun => return stop(self.callee, steps),
            }
            // JUMP.NZ f @found; LOAD p q k; JUMP @entry.
            if steps + 3 > x.limit {
                return stop(ret_to, steps);
            }
            steps += 1;
            if r[usize::from(self.f)] != 0 {
                return stop(self.found, steps);
            }
            let n = &self.next;
            let Some(w) = x.load::<4>(r[usize::from(n.b)].wrapping_add(n.imm)) else {
                return stop(ret_to + 6, steps);
            };
            r[usize::from(n.a)] = u32::from_be_bytes(w);
            steps += 2;
            if steps >= x.limit {
                return stop(self.entry, steps);
            }
        }
    }
}

/// One set-up instruction of a list walk at `pc` (a load, move or add); `false` if it
/// would fault (nothing done).
#[inline(always)]
fn setup(s: &Slot, pc: u32, r: &mut [u32; 256], x: &Native) -> bool {
    let (a, b, c) = (usize::from(s.a), usize::from(s.b), usize::from(s.c));
    let word = |at: u32| x.load::<4>(at).map(u32::from_be_bytes);
    r[a] = match s.form {
        Form::Loadr16 => {
            let at = pc.wrapping_add(6).wrapping_add(s.imm);
            match x.load::<2>(at) {
                Some(h) => u32::from(u16::from_be_bytes(h)) as u16 as i16 as i32 as u32,
                None => return false,
            }
        }
        Form::Loadx => match word(r[b].wrapping_add(r[c])) {
            Some(v) => v,
            None => return false,
        },
        Form::Load => match word(r[b].wrapping_add(s.imm)) {
            Some(v) => v,
            None => return false,
        },
        Form::Copy => r[b],
        Form::Move => {
            r[a] = r[b];
            r[b] = 0;
            return true;
        }
        Form::AddImm => r[b].wrapping_add(s.imm),
        Form::LoadImm => s.imm,
        _ => 0, // FALSE
    };
    true
}
