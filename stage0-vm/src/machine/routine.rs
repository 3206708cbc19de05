//! Fused subroutines: whole routines of the code recognised at their entry address and run
//! natively in one dispatch. It recognises and runs [`StringMatch`], the string-compare
//! routine the chain's assemblers call for every table entry they look at (a save prologue,
//! M0's or the hex2 linker's byte-compare loop, maybe FALSE/CMPSKIP/TRUE for the verdict, a
//! restore epilogue with RET), [`ListWalk`], the linked-list look-up loop that calls it per
//! entry (M0's top-tested one, the hex2 linker's bottom-tested one), both described as data
//! in `subroutine`, and owns the unchecked register save/restore runs the executor's prologue
//! and epilogue forms share with them. A routine runs its instructions in order on the real
//! registers and memory (a routine whose body never names its stack register keeps the
//! saves in registers until it returns or stops), so any register assignment behaves
//! exactly as the plain step; wherever it cannot go on cheaply (a load outside memory or of
//! the kept saves, a push, pop or CALLI that would touch memory holding code or leave
//! memory, a callee that is no longer a fused routine, the step limit) it stops at that
//! instruction boundary with the exact state, and the executor carries on from there
//! instruction by instruction. Every byte a routine depends on lies within `SLOT_SPAN` of
//! its entry, so the entry slot's invalidation covers it (a walk finds its callee through
//! the callee's own slot at every call).
use super::cond::{compare, flag_test, relation, Family, FlagTest, SIGNED};
use super::form::{Form, RegMove, Slot, MAX_RUN, SLOT_SPAN};
use super::memory::Mem;
use super::predecode::plain;
use super::subroutine::{Body, CompareLoop, ListWalk, StringMatch, Verdict};
use crate::isa::{Group, Instr, Op};

/// The most routines (and walks) one memory keeps; past it, code is fused instruction by
/// instruction.
const MAX_ROUTINES: usize = 256;

/// The bytes a [`CompareLoop`] takes.
const COMPARE_LOOP: u32 = 30;

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
        let (body, verdict_at) = self.byte_loop(body_at)?;
        let verdict = self.verdict(verdict_at);
        let restore_at = verdict_at + if verdict.is_some() { 12 } else { 0 };
        let restore = self.fused_at(restore_at)?;
        let keeps_sp = restore.moves[..usize::from(restore.nmoves)]
            .iter()
            .all(|m| m.a != restore.b && m.b != restore.b);
        let shaped = restore.form == Form::PopRunRet && keeps_sp;
        let mut routine = StringMatch {
            entry,
            save: *save,
            body_at,
            body,
            verdict_at,
            verdict,
            restore_at,
            restore,
            held: false,
        };
        routine.held = routine.may_hold();
        shaped.then_some(routine)
    }

    /// The byte-compare loop at `at` and the address after it.
    fn byte_loop(&self, at: u32) -> Option<(Body, u32)> {
        let body = self.fused_at(at)?;
        if body.form == Form::ByteCompare {
            let after = at.checked_add(24)?;
            let loops = body.tail == 6 && after.wrapping_add(body.disp) == at;
            return loops.then_some((Body::Skip(body), after));
        }
        let mut slots = [Slot::default(); 6];
        let mut next = at;
        for s in &mut slots {
            *s = plain(&self.instr_at(next)?);
            next = next.checked_add(u32::from(s.len))?;
        }
        let [l1, l2, add, cmp, skip, jump] = slots;
        let test = flag_test(jump.op);
        let shaped = (l1.form, l2.form, add.form, skip.form, jump.form)
            == (
                Form::Loadxu8,
                Form::Loadxu8,
                Form::AddImm,
                Form::CmpSkipImm,
                Form::JumpIf,
            )
            && matches!(cmp.op, Op::Cmp | Op::Cmpu)
            && jump.len == 6
            && next == at + COMPARE_LOOP
            && next.wrapping_add(jump.imm) == at;
        let test = test.filter(|_| shaped)?;
        let body = CompareLoop {
            regs: [
                l1.a, l1.b, l1.c, l2.a, l2.b, l2.c, add.a, add.b, cmp.a, cmp.b, cmp.c, skip.a,
                jump.a,
            ],
            imm: add.imm,
            bias: if cmp.op == Op::Cmp { SIGNED } else { 0 },
            skip: skip.cond(),
            k: skip.imm,
            test,
        };
        Some((Body::Compare(body), next))
    }

    /// FALSE t; CMPSKIP.cond u v; TRUE t at `at`, if it is there.
    fn verdict(&self, at: u32) -> Option<Verdict> {
        let (f, c, t) = (
            self.instr_at(at)?,
            self.instr_at(at.checked_add(4)?)?,
            self.instr_at(at.checked_add(8)?)?,
        );
        let (Some((Family::Skip, cond)), Op::False, Op::True) = (compare(c.op), f.op, t.op) else {
            return None;
        };
        let v = Verdict {
            t: f.regs[0] & 15,
            u: c.regs[0] & 15,
            v: c.regs[1] & 15,
            cond,
        };
        (t.regs[0] & 15 == v.t).then_some(v)
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
pub(super) struct Native<'a, const LIMITED: bool> {
    pub bytes: &'a mut [u8],
    pub code_end: u32,
    pub limit: u64,
}

impl<const LIMITED: bool> Native<'_, LIMITED> {
    /// Whether running up to step `n` would pass the step limit (never, unless
    /// `LIMITED`: without `--max-steps` the checks compile out).
    #[inline(always)]
    fn past(&self, n: u64) -> bool {
        LIMITED && n > self.limit
    }

    /// Whether the step limit has been reached (see [`Native::past`]).
    #[inline(always)]
    fn at_limit(&self, steps: u64) -> bool {
        LIMITED && steps >= self.limit
    }

    /// Whether `words` words from `addr` lie in memory under the reference's rule and
    /// above all decoded code.
    #[inline(always)]
    fn clear(&self, addr: u32, words: u8) -> bool {
        let end = u64::from(addr) + 4 * u64::from(words);
        addr >= self.code_end && end < self.bytes.len() as u64
    }

    /// [`Native::load`], `None` also when the bytes overlap `guard`.
    #[inline(always)]
    fn load_outside<const N: usize>(&self, addr: u32, (low, len): Guard) -> Option<[u8; N]> {
        let clear = addr.wrapping_add(N as u32).wrapping_sub(low) >= len.wrapping_add(N as u32);
        self.load(addr).filter(|_| clear)
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
    /// Whether the saved registers may stay in registers: the restore pops, on the save's
    /// stack register, the registers the save pushed (any order), neither run names the
    /// stack register, and no move, loop or verdict instruction names it.
    fn may_hold(&self) -> bool {
        let (save, rs) = (&self.save, &self.restore);
        let sp = save.b;
        let count = usize::from(save.count);
        let mut named: Vec<u8> = save.moves[..usize::from(save.nmoves)]
            .iter()
            .chain(&rs.moves[..usize::from(rs.nmoves)])
            .flat_map(|m| [m.a, m.b])
            .collect();
        match &self.body {
            Body::Skip(b) => named.extend([b.a, b.b, b.c].iter().chain(&b.run)),
            Body::Compare(c) => named.extend(c.regs),
        }
        if let Some(v) = &self.verdict {
            named.extend([v.t, v.u, v.v]);
        }
        rs.b == sp
            && rs.count == save.count
            && count <= MAX_RUN
            && !save.run[..count].contains(&sp)
            && !rs.run[..count].contains(&sp)
            && !named.contains(&sp)
    }

    /// Runs the routine from its entry, `steps` executed so far.
    #[inline(always)]
    pub(super) fn run<const L: bool>(
        &self,
        r: &mut [u32; 256],
        x: &mut Native<L>,
        steps: u64,
    ) -> Ran {
        let save = &self.save;
        let top = r[usize::from(save.b)];
        if x.past(steps + u64::from(save.n)) || !x.clear(top, save.count) {
            return Ran::NotRun;
        }
        if self.held && top >= 4 && x.clear(top - 4, save.count + 1) {
            return self.run_held(r, x, steps);
        }
        push_run(save, r, x.bytes);
        let stop = |pc, steps| Ran::Stopped(Pos { pc, steps });
        let steps = steps + u64::from(save.n);
        let looped = match &self.body {
            Body::Skip(b) => skip_loop(b, self.body_at, r, x, steps, NO_GUARD),
            Body::Compare(b) => b.run(self.body_at, r, x, steps, NO_GUARD),
        };
        let mut steps = match looped {
            Ok(steps) => steps,
            Err(at) => return Ran::Stopped(at),
        };
        if let Some(v) = &self.verdict {
            if x.past(steps + 3) {
                return stop(self.verdict_at, steps);
            }
            steps += v.run(r);
        }
        // The restore epilogue (its moves leave the stack register alone) and RET.
        let rs = &self.restore;
        let sp = usize::from(rs.b);
        let top = r[sp];
        let low = top.wrapping_sub(4 * u32::from(rs.count + 1));
        if x.past(steps + u64::from(rs.n)) || low > top || !x.clear(low, rs.count + 1) {
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

impl StringMatch {
    /// [`StringMatch::run`] keeping the saved registers in registers: the pushes are
    /// written only if the routine stops before its RET (or a load would read them);
    /// otherwise the restore takes them back from registers and zeroes the stack words
    /// the pops and RET would have zeroed. The caller has checked that the saves and
    /// the return address below them lie in memory clear of code.
    #[inline(always)]
    fn run_held<const L: bool>(&self, r: &mut [u32; 256], x: &mut Native<L>, steps: u64) -> Ran {
        let (save, rs) = (&self.save, &self.restore);
        let (sp, count) = (usize::from(save.b), usize::from(save.count).min(MAX_RUN));
        let top = r[sp];
        // All MAX_RUN slots unconditionally (the ones past `count` are never used).
        let kept: [u32; MAX_RUN] = std::array::from_fn(|k| r[usize::from(save.run[k])]);
        for &m in &save.moves[..usize::from(save.nmoves).min(3)] {
            apply(m, r, save.imm);
        }
        let guard = (top, 4 * count as u32);
        // (A macro, not a closure: the closure's captures were built on the stack at
        // every call.)
        macro_rules! stopped {
            ($at:expr) => {{
                write_saves(&kept[..count], top, r, sp, x.bytes);
                return Ran::Stopped($at);
            }};
        }
        let steps = steps + u64::from(save.n);
        let looped = match &self.body {
            Body::Skip(b) => skip_loop(b, self.body_at, r, x, steps, guard),
            Body::Compare(b) => b.run(self.body_at, r, x, steps, guard),
        };
        let mut steps = match looped {
            Ok(steps) => steps,
            Err(at) => stopped!(at),
        };
        if let Some(v) = &self.verdict {
            if x.past(steps + 3) {
                let at = Pos {
                    pc: self.verdict_at,
                    steps,
                };
                stopped!(at);
            }
            steps += v.run(r);
        }
        if x.past(steps + u64::from(rs.n)) {
            let at = Pos {
                pc: self.restore_at,
                steps,
            };
            stopped!(at);
        }
        for &m in &rs.moves[..usize::from(rs.nmoves).min(3)] {
            apply(m, r, rs.imm);
        }
        let at = top as usize - 4;
        let pc = pop_word(x.bytes, at);
        // Each pop takes its register back from `kept` and zeroes its stack word (one
        // loop for both: zeroing the words alone compiles to a memset call).
        if let Some(words) = x.bytes.get_mut(at + 4..at + 4 + 4 * count) {
            for ((k, &reg), w) in rs.run[..count]
                .iter()
                .enumerate()
                .zip(words.chunks_exact_mut(4))
            {
                r[usize::from(reg)] = kept[count - 1 - k];
                w.copy_from_slice(&[0; 4]);
            }
        }
        r[sp] = at as u32;
        Ran::Returned(Pos {
            pc,
            steps: steps + u64::from(rs.n),
        })
    }
}

/// The pushes of a save prologue kept in registers, written to the stack at `top` as the
/// PUSHR run leaves them.
fn write_saves(kept: &[u32], top: u32, r: &mut [u32; 256], sp: usize, bytes: &mut [u8]) {
    let i = top as usize;
    if let Some(words) = bytes.get_mut(i..i + 4 * kept.len()) {
        for (w, v) in words.chunks_exact_mut(4).zip(kept) {
            w.copy_from_slice(&v.to_be_bytes());
        }
    }
    r[sp] = top.wrapping_add(4 * kept.len() as u32);
}

/// A stack range `(low, length)` the byte-compare loops may not read (saves kept in
/// registers): a load there stops the loop at that instruction.
type Guard = (u32, u32);

/// No range guarded.
const NO_GUARD: Guard = (0, 0);

impl Verdict {
    /// FALSE t; CMPSKIP.cond u v; TRUE t: the steps it takes.
    #[inline(always)]
    fn run(&self, r: &mut [u32; 256]) -> u64 {
        let t = usize::from(self.t);
        r[t] = 0;
        if self
            .cond
            .holds(r[usize::from(self.u)], r[usize::from(self.v)])
        {
            2 // TRUE skipped
        } else {
            r[t] = u32::MAX;
            3
        }
    }
}

/// M0's byte-compare loop (the fused slot `b` at `at`) until it falls out: the steps
/// executed so far, or where it stopped. Most compares end in their first round (the
/// first bytes differ), so that round runs alone first: hoisting the slot's register
/// fields into locals for the loop (and spilling them) would cost more than the round.
#[inline(always)]
fn skip_loop<const L: bool>(
    b: &Slot,
    at: u32,
    r: &mut [u32; 256],
    x: &Native<L>,
    steps: u64,
    guard: Guard,
) -> Result<u64, Pos> {
    let mut steps = match skip_round(b, at, r, x, steps, guard) {
        Again(steps) => steps,
        Out(out) => return out,
    };
    loop {
        steps = match skip_round(b, at, r, x, steps, guard) {
            Again(steps) => steps,
            Out(out) => return out,
        };
    }
}

/// What one round of a byte-compare loop did.
enum Round {
    /// Go round again, after this many steps.
    Again(u64),
    /// Fell out (the steps) or stopped.
    Out(Result<u64, Pos>),
}
use Round::{Again, Out};

/// One round of M0's byte-compare loop (see [`skip_loop`]).
#[inline(always)]
fn skip_round<const L: bool>(
    b: &Slot,
    at: u32,
    r: &mut [u32; 256],
    x: &Native<L>,
    steps: u64,
    guard: Guard,
) -> Round {
    let reg = |k: usize| usize::from(b.run[k]);
    let stop = |pc, steps| Out(Err(Pos { pc, steps }));
    if x.past(steps + 5) {
        return stop(at, steps);
    }
    let Some([v]) =
        x.load_outside::<1>(r[usize::from(b.b)].wrapping_add(r[usize::from(b.c)]), guard)
    else {
        return stop(at, steps);
    };
    r[usize::from(b.a)] = u32::from(v);
    let Some([v]) = x.load_outside::<1>(r[reg(1)].wrapping_add(r[reg(2)]), guard) else {
        return stop(at + 4, steps + 1);
    };
    r[reg(0)] = u32::from(v);
    r[reg(3)] = r[reg(4)].wrapping_add(b.imm);
    if r[reg(5)] != r[reg(6)] {
        // CMPSKIP.NE skips the JUMP.cond.
        return Out(Ok(steps + 4));
    }
    if !b.test().holds(r[reg(7)]) {
        return Out(Ok(steps + 5));
    }
    Again(steps + 5)
}

impl CompareLoop {
    /// The loop at `at` until it falls out: the steps executed so far, or where it
    /// stopped (its first round alone first, as in [`skip_loop`]).
    #[inline(always)]
    fn run<const L: bool>(
        &self,
        at: u32,
        r: &mut [u32; 256],
        x: &Native<L>,
        steps: u64,
        guard: Guard,
    ) -> Result<u64, Pos> {
        let mut steps = match self.round(at, r, x, steps, guard) {
            Again(steps) => steps,
            Out(out) => return out,
        };
        loop {
            steps = match self.round(at, r, x, steps, guard) {
                Again(steps) => steps,
                Out(out) => return out,
            };
        }
    }

    /// One round of the loop.
    #[inline(always)]
    fn round<const L: bool>(
        &self,
        at: u32,
        r: &mut [u32; 256],
        x: &Native<L>,
        steps: u64,
        guard: Guard,
    ) -> Round {
        let reg = |k: usize| usize::from(self.regs[k]);
        let stop = |pc, steps| Out(Err(Pos { pc, steps }));
        if x.past(steps + 6) {
            return stop(at, steps);
        }
        let Some([b]) = x.load_outside::<1>(r[reg(1)].wrapping_add(r[reg(2)]), guard) else {
            return stop(at, steps);
        };
        r[reg(0)] = u32::from(b);
        let Some([b]) = x.load_outside::<1>(r[reg(4)].wrapping_add(r[reg(5)]), guard) else {
            return stop(at + 4, steps + 1);
        };
        r[reg(3)] = u32::from(b);
        r[reg(6)] = r[reg(7)].wrapping_add(self.imm);
        r[reg(8)] = relation(r[reg(9)] ^ self.bias, r[reg(10)] ^ self.bias);
        if self.skip.holds(r[reg(11)], self.k) {
            // CMPSKIPI skips the JUMP.cond.
            return Out(Ok(steps + 5));
        }
        if !self.test.holds(r[reg(12)]) {
            return Out(Ok(steps + 6));
        }
        Again(steps + 6)
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

/// One register move of a fused prologue or epilogue (no match on a kind: see [`RegMove`]).
#[inline(always)]
pub(super) fn apply(m: RegMove, r: &mut [u32; 256], imm: u32) {
    let pick = u32::from(m.from_imm).wrapping_neg();
    r[usize::from(m.a)] = (r[usize::from(m.b)] & !pick) | (imm & pick);
    r[usize::from(m.clear)] = 0;
}

/// The register and test of a 6-byte JUMP.cond.
fn jump_if(i: &Instr) -> Option<(u8, FlagTest)> {
    let one = i.byte_len() == 6 && i.op.group() == Some(Group::OneOpI);
    flag_test(i.op).filter(|_| one).map(|t| (i.regs[0] & 15, t))
}

impl Mem {
    /// The list walk starting with the slot `s` at `entry`, if the code has the shape.
    pub(super) fn list_walk(&self, entry: u32, s: &Slot) -> Option<ListWalk> {
        let guarded = s.form == Form::JumpIf && s.op == Op::JumpZ;
        let mut at = if guarded { entry + 6 } else { entry };
        let (mut setup, mut nsetup) = ([Slot::default(); 3], 0);
        let call = loop {
            let one = plain(&self.instr_at(at)?);
            match one.form {
                Form::Calli => break one,
                Form::Loadr16
                | Form::Loadx
                | Form::Load
                | Form::Copy
                | Form::Move
                | Form::AddImm
                | Form::Add
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
        let (f, found_if) = jump_if(&j)?;
        let next = plain(&next);
        let (back, done, shaped) = if guarded {
            let to = (ret_to + 16).wrapping_add(back.imm_signed());
            let done = entry.wrapping_add(6).wrapping_add(s.imm);
            (None, done, back.op == Op::Jump && to == entry)
        } else {
            let to = (ret_to + 18).wrapping_add(back.imm_signed());
            let test = jump_if(&back);
            (test, ret_to + 18, test.is_some() && to == entry)
        };
        (shaped && next.form == Form::Load).then_some(ListWalk {
            entry,
            guard: guarded.then_some(s.a),
            done,
            setup,
            nsetup,
            call_at,
            sp: call.a,
            callee: ret_to.wrapping_add(call.imm),
            f,
            found_if,
            found: (ret_to + 6).wrapping_add(j.imm_signed()),
            next,
            back,
        })
    }
}

impl ListWalk {
    /// The bytes the walk depends on (its own code; the callee has its own slot).
    pub(super) fn span(&self) -> u32 {
        let back = if self.back.is_some() { 6 } else { 4 };
        self.call_at + 6 + 12 + back - self.entry
    }

    /// Runs the walk from its entry (the slot table and routines give the callee),
    /// `steps` executed so far; it ends at `done`, at `found`, or wherever it stops.
    #[inline(always)]
    pub(super) fn run<const L: bool>(
        &self,
        r: &mut [u32; 256],
        x: &mut Native<L>,
        slots: &[Slot],
        routines: &[StringMatch],
        steps: u64,
    ) -> Pos {
        let mut steps = steps;
        let ret_to = self.call_at + 6;
        let stop = |pc, steps| Pos { pc, steps };
        loop {
            let mut pc = self.entry;
            if let Some(p) = self.guard {
                // JUMP.Z p (the executor, or the end of the last round, has checked that
                // one step fits).
                steps += 1;
                if r[usize::from(p)] == 0 {
                    return stop(self.done, steps);
                }
                pc += 6;
            }
            for s in &self.setup[..usize::from(self.nsetup)] {
                if x.at_limit(steps) || !setup(s, pc, r, x) {
                    return stop(pc, steps);
                }
                (steps, pc) = (steps + 1, pc + u32::from(s.len));
            }
            steps = match self.call(r, x, slots, routines, steps) {
                Ok(steps) => steps,
                Err(at) => return at,
            };
            // JUMP.cond f @found; LOAD p q k; the jump back.
            if x.past(steps + 3) {
                return stop(ret_to, steps);
            }
            steps += 1;
            if self.found_if.holds(r[usize::from(self.f)]) {
                return stop(self.found, steps);
            }
            let n = &self.next;
            let Some(w) = x.load::<4>(r[usize::from(n.b)].wrapping_add(n.imm)) else {
                return stop(ret_to + 6, steps);
            };
            r[usize::from(n.a)] = u32::from_be_bytes(w);
            steps += 2;
            if let Some((q, test)) = self.back {
                if !test.holds(r[usize::from(q)]) {
                    return stop(self.done, steps);
                }
            }
            if x.at_limit(steps) {
                return stop(self.entry, steps);
            }
        }
    }

    /// CALLI sp @callee and the callee, back at the instruction after the CALLI: the
    /// steps, or where it stopped.
    #[inline(always)]
    fn call<const L: bool>(
        &self,
        r: &mut [u32; 256],
        x: &mut Native<L>,
        slots: &[Slot],
        routines: &[StringMatch],
        steps: u64,
    ) -> Result<u64, Pos> {
        let ret_to = self.call_at + 6;
        let sp = usize::from(self.sp);
        let top = r[sp];
        if x.at_limit(steps) || !x.clear(top, 1) {
            return Err(Pos {
                pc: self.call_at,
                steps,
            });
        }
        let i = top as usize;
        if let Some(w) = x.bytes.get_mut(i..i + 4) {
            w.copy_from_slice(&ret_to.to_be_bytes());
        }
        r[sp] = top.wrapping_add(4);
        let steps = steps + 1;
        let routine = match slots.get(self.callee as usize) {
            Some(s) if s.form == Form::StringMatch => routines.get(usize::from(s.routine)),
            _ => None,
        };
        let stopped = Pos {
            pc: self.callee,
            steps,
        };
        match routine.map(|routine| routine.run(r, x, steps)) {
            Some(Ran::Returned(at)) if at.pc == ret_to => Ok(at.steps),
            Some(Ran::Returned(at) | Ran::Stopped(at)) => Err(at),
            Some(Ran::NotRun) | None => Err(stopped),
        }
    }
}

/// One set-up instruction of a list walk at `pc` (a load, move or add); `false` if it
/// would fault (nothing done).
#[inline(always)]
fn setup<const L: bool>(s: &Slot, pc: u32, r: &mut [u32; 256], x: &Native<L>) -> bool {
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
        Form::Add => r[b].wrapping_add(r[c]),
        Form::LoadImm => s.imm,
        _ => 0, // FALSE
    };
    true
}
