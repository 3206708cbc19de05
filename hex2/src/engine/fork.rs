//! The two-thread split: checkpoints and second linkers.
//!
//! It owns where a run may be split ([`Checkpoint`]: a line start of pass 1 with nothing
//! carried over) and the second linkers that take a part of it: a pass 1 fork that counts
//! from zero and is joined back ([`Linker::fork_pass1`], [`Linker::join_pass1`]), and a pass
//! 2 fork that shares the label table and produces the bytes from a checkpoint on
//! ([`Linker::fork`], [`Linker::adopt`]). The threads themselves and the order of the
//! outputs are the caller's ([`crate::tool`]).

use std::sync::Arc;

use super::link::define_all;
use super::scan::class;
use super::{Linker, Pass};
use crate::config::Dialect;

/// A place between two chunks of pass 1 where pass 2 can be started by a second linker;
/// see [`Linker::checkpoint`] and [`Linker::fork`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// Index of the file.
    pub file: u32,
    /// Byte offset in the file (the start of a line).
    pub offset: usize,
    line: u32,
    ip: u32,
}

impl Linker {
    /// In pass 1, between chunks: where a second linker could start pass 2 on its own
    /// (see [`Linker::fork`]), if nothing carries over from the bytes before (no half
    /// byte, `.` word, `^` flag or XOR register pending).
    pub fn checkpoint(&self) -> Option<Checkpoint> {
        let clean = self.pass == Pass::One
            && self.ndig == 0
            && self.dot_left == 0
            && !self.aligned
            && self.xor == 0
            && self.line_start == self.file_offset;
        clean.then_some(Checkpoint {
            file: self.file,
            offset: self.file_offset,
            line: self.line,
            ip: self.ip,
        })
    }

    /// Whether pass 1 may be split with [`Linker::fork_pass1`]: nothing in it depends on
    /// absolute addresses (no `<` alignment) and pass 2 will be splittable too.
    pub fn can_fork_pass1(&self) -> bool {
        self.pass == Pass::One
            && self.config.dialect == Dialect::Full
            && !self.config.arch.is_riscv()
            && !self.caret_rule
            && !self.config.map
            && self.class[b'<' as usize] != class::PAD
    }

    /// A second linker for pass 1 from the line starting at `offset` in file `file` (whose
    /// names, with those before it, are `files`): it counts addresses from 0 and lines
    /// from 1, and [`Linker::join_pass1`] later moves its labels into place.
    pub fn fork_pass1(&self, file: u32, offset: usize, files: Vec<String>) -> Linker {
        let mut fork = Linker::new(self.config);
        fork.begin_pass(Pass::One);
        fork.ip = 0;
        fork.files = files;
        fork.file = file;
        fork.line = 1;
        fork.file_offset = offset;
        fork.line_start = offset;
        fork.collected = Some((Vec::new(), Vec::new()));
        fork
    }

    /// Takes in the labels and end position of a pass 1 `fork` started where this linker
    /// stopped (a line start of file `file`): their addresses are moved by this linker's
    /// address, the lines of `file` by its line, and they are defined after this linker's
    /// own (so later definitions still win). `false` (nothing done) if the fork's
    /// assumptions do not hold here: a half byte is pending, or this is not a line start.
    pub fn join_pass1(&mut self, fork: Linker, file: u32) -> bool {
        if self.pass != Pass::One
            || self.ndig != 0
            || self.file != file
            || self.line_start != self.file_offset
        {
            return false;
        }
        let base = self.ip;
        let lines = self.line - 1;
        let labels = Arc::make_mut(&mut self.labels);
        if let Some((names, defs)) = &fork.collected {
            define_all(labels, names, defs, base, file, lines);
        }
        self.ip = fork.ip.wrapping_add(base);
        self.ndig = fork.ndig;
        self.line = if fork.file == file {
            fork.line + lines
        } else {
            fork.line
        };
        self.file = fork.file;
        self.file_offset = fork.file_offset;
        self.line_start = fork.line_start;
        self.files = fork.files;
        true
    }

    /// The output offset of the first byte after `at`.
    pub fn offset_of(&self, at: Checkpoint) -> u64 {
        u64::from(at.ip.wrapping_sub(self.config.base_address))
    }

    /// Reserves room for everything pass 2 will write after `at`, exactly (for a fork
    /// whose output is kept in memory until the end).
    pub fn reserve_rest(&mut self, at: Checkpoint) {
        let size = self.end_ip.wrapping_sub(at.ip) as usize;
        self.out.reserve_exact(size.min(1 << 30));
    }

    /// Whether pass 2 may be split with [`Linker::fork`]: pointers are resolved per chunk
    /// (nothing they resolve to changes how later bytes are scanned) and no label is
    /// undefined so far.
    pub fn can_fork(&self) -> bool {
        self.pass == Pass::Two && self.defer && self.undefined.is_empty()
    }

    /// A second linker for pass 2 from `at` on (a checkpoint of pass 1), sharing the label
    /// table: fed the rest of the input from `at` (without `begin_file` for `at`'s file), it
    /// produces the bytes this linker would produce from there. Its output and errors are
    /// only meaningful if this linker reaches `at` without an undefined label; the caller
    /// then writes its output after this linker's and calls [`Linker::adopt`].
    pub fn fork(&self, at: Checkpoint) -> Linker {
        let mut fork = Linker::new(self.config);
        fork.labels = Arc::clone(&self.labels);
        fork.files = self.files.clone();
        fork.begin_pass(Pass::Two);
        fork.ip = at.ip;
        fork.file = at.file;
        fork.line = at.line;
        fork.file_offset = at.offset;
        fork.line_start = at.offset;
        fork.end_ip = self.end_ip;
        fork
    }

    /// Takes over the position of a finished `fork` (whose output the caller has taken).
    pub fn adopt(&mut self, fork: Linker) {
        self.ip = fork.ip;
        self.file = fork.file;
        self.line = fork.line;
        self.line_start = fork.line_start;
        self.file_offset = fork.file_offset;
        self.drained += fork.drained + fork.out.len() as u64;
    }
}
