//! What the instruction sets' fast-forward tests share (`x86::loops_tests`,
//! `riscv::loops_tests`, `aarch64::loops_tests`): the test machine's memory layout, the
//! grid's steps and bounds, the comparison of two runs' memory, and the tally that checks a
//! grid fast-forwarded a good share of its cases (so that equality with the plain path
//! does test the lever).

use proptest::prelude::*;

use crate::linux::memory::Memory;

/// Where a test loop's code, data (its global buffer pointer first) and stack are.
pub(crate) const CODE: u64 = 0x1000;
pub(crate) const DATA: u64 = 0x3000;
pub(crate) const STACK_TOP: u64 = 0x20000;
/// The loop's frame: its counter is the machine word below it.
pub(crate) const FRAME: u64 = STACK_TOP - 0x100;
/// The mapped regions: code, data, stack.
pub(crate) const REGIONS: [(u64, u64); 3] =
    [(CODE, 0x1000), (DATA, 0x2000), (STACK_TOP - 0x1000, 0x1000)];

/// The counter steps and (first value, bound) pairs every grid tries.
pub(crate) const STEPS: [i32; 5] = [1, -1, 2, -3, 0];
pub(crate) const STARTS_AND_BOUNDS: [(i32, i32); 4] = [(300, -5), (-5, 200), (250, 250), (300, 0)];
/// Buffers: inside the data, ending 40 bytes before the data's end (the stores fault),
/// over the frame (they overwrite the counter), over the code.
pub(crate) const BUFFERS: [u64; 4] = [DATA + 0x800, DATA + 0x2000 - 40, FRAME - 300, CODE + 0x40];

/// The test memory: the regions mapped, `code` at [`CODE`], the counter's first value at
/// `FRAME - 8` and the buffer pointer at [`DATA`], each `word` bytes.
pub(crate) fn memory(code: &[u8], start: i64, buffer: u64, word: u64) -> Memory {
    let mut mem = Memory::new();
    for (base, len) in REGIONS {
        mem.map(base, len).unwrap();
    }
    mem.slice_mut(CODE, code.len() as u64)
        .unwrap()
        .copy_from_slice(code);
    let word = word as usize;
    mem.slice_mut(FRAME - 8, word as u64)
        .unwrap()
        .copy_from_slice(&(start as u64).to_le_bytes()[..word]);
    mem.slice_mut(DATA, word as u64)
        .unwrap()
        .copy_from_slice(&buffer.to_le_bytes()[..word]);
    mem
}

/// Every mapped byte of the two runs' memories is the same.
pub(crate) fn same_memory(a: &Memory, b: &Memory) -> Result<(), TestCaseError> {
    for (base, len) in REGIONS {
        prop_assert!(
            a.slice(base, len).unwrap() == b.slice(base, len).unwrap(),
            "memory at {base:#x} differs"
        );
    }
    Ok(())
}

/// A grid's cases and how many of them fast-forwarded.
#[derive(Default)]
pub(crate) struct Tally {
    cases: u64,
    fast_forwarded: u64,
    skipped: u64,
}

impl Tally {
    /// Counts one case: `result` is its comparison with the plain path and the
    /// instructions it fast-forwarded; a difference fails the test naming `case`.
    pub(crate) fn add(&mut self, case: &dyn std::fmt::Debug, result: Result<u64, TestCaseError>) {
        let n = result.unwrap_or_else(|e| panic!("{case:?}: {e}"));
        self.cases += 1;
        self.skipped += n;
        self.fast_forwarded += u64::from(n > 0);
    }

    /// More than a tenth of the cases were fast-forwarded.
    pub(crate) fn check(&self) {
        assert!(
            self.fast_forwarded * 10 > self.cases,
            "{} of {} cases fast-forwarded",
            self.fast_forwarded,
            self.cases
        );
        eprintln!(
            "{} of {} cases fast-forwarded, {} instructions",
            self.fast_forwarded, self.cases, self.skipped
        );
    }
}
