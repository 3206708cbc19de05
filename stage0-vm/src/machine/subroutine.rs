//! The fused subroutines as data: [`StringMatch`] (a save prologue, a byte-compare loop,
//! maybe a verdict, a restore epilogue) and [`ListWalk`] (the linked-list look-up loop that
//! calls one per entry), the descriptions `memory` keeps for the slots that name them and
//! `routine` recognises and runs.

use super::cond::{Cond, FlagTest};
use super::form::Slot;

/// A string-compare subroutine: `save` (a PUSHR run and register moves) at `entry`, the
/// byte-compare loop `body` at `body_at` jumping back to itself, maybe a verdict at
/// `verdict_at` (FALSE t; CMPSKIP.cond u v; TRUE t), and `restore` (moves, POPR run, RET)
/// at `restore_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StringMatch {
    pub(super) entry: u32,
    pub(super) save: Slot,
    pub(super) body_at: u32,
    pub(super) body: Body,
    pub(super) verdict_at: u32,
    pub(super) verdict: Option<Verdict>,
    pub(super) restore_at: u32,
    pub(super) restore: Slot,
    /// The saved registers may stay in registers (see [`StringMatch::run_held`]): the
    /// restore pops what the save pushed on the same stack register, and nothing between
    /// them names that register.
    pub(super) held: bool,
}

/// The two byte-compare loops the chain's assemblers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Body {
    /// M0's: the fused [`Form::ByteCompare`](super::form::Form::ByteCompare) slot
    /// (LOADXU8, LOADXU8, ADDUI, CMPSKIP.NE, JUMP.cond back).
    Skip(Slot),
    /// The hex2 linker's: [`CompareLoop`].
    Compare(CompareLoop),
}

/// LOADXU8 a s t; LOADXU8 c u v; ADDUI d e imm; CMP f x y (CMPU: `bias` 0);
/// CMPSKIPI.cond z k; JUMP.cond g back to the loop (30 bytes); `regs` = a s t c u v d e
/// f x y z g.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CompareLoop {
    pub(super) regs: [u8; 13],
    pub(super) imm: u32,
    pub(super) bias: u32,
    pub(super) skip: Cond,
    pub(super) k: u32,
    pub(super) test: FlagTest,
}

/// FALSE t; CMPSKIP.cond u v; TRUE t.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Verdict {
    pub(super) t: u8,
    pub(super) u: u8,
    pub(super) v: u8,
    pub(super) cond: Cond,
}

/// A table look-up loop over a linked list, calling a [`StringMatch`] per entry:
/// maybe JUMP.Z p @done at `entry` (`guard`); up to three set-up instructions (`setup`:
/// loads, moves, adds); CALLI sp @callee; JUMP.cond f @found; LOAD p q k (`next`); then
/// JUMP back to `entry` (with a guard) or JUMP.cond back to `entry` falling out to `done`
/// (`back`, without one). The callee is looked up in the slot table at each call, so it
/// is whatever the code there is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListWalk {
    pub(super) entry: u32,
    pub(super) guard: Option<u8>,
    pub(super) done: u32,
    pub(super) setup: [Slot; 3],
    pub(super) nsetup: u8,
    pub(super) call_at: u32,
    pub(super) sp: u8,
    pub(super) callee: u32,
    pub(super) f: u8,
    pub(super) found_if: FlagTest,
    pub(super) found: u32,
    pub(super) next: Slot,
    pub(super) back: Option<(u8, FlagTest)>,
}
