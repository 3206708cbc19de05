//! The two-pass linking engine shared by hex2, hex2-0 and hex1: the linker's state and
//! its driving sequence.
//!
//! It owns [`Linker`], the state one linking run carries between chunks, and the order in
//! which a caller drives it (passes, files, chunks, [`Linker::finish`]). The work is split
//! by concept into its submodules, each an `impl Linker` block: `scan` (byte classes and the
//! resumable scanner, fed chunk by chunk, each chunk ending at a line boundary, so whole
//! files never need to be in memory: nibble pairing, labels, pointer tokens, `<` padding,
//! the RISC-V `.` words and XOR register), `link` (label definitions entered, pointers
//! placed, looked up and evaluated through [`crate::pointer`], undefined labels collected),
//! `output` (the bytes and map entries written, and their streaming), `fork` (the
//! checkpoints and second linkers of the two-thread split) and `diagnose` (every error,
//! located). It does not read files, parse the command line, run threads or decide exit
//! statuses (see [`crate::tool`]).

use std::sync::Arc;

use toolbase::diag::Diagnostic;

use crate::config::{reference_warnings, ByteMode, Config, Dialect};
use crate::labels::LabelTable;
use crate::linked::Linked;
use crate::map::MapEntry;
use crate::source::Loc;
use toolbase::arch::Arch;

mod diagnose;
mod fork;
mod link;
mod output;
mod scan;

use diagnose::ErrorKind;
pub use fork::Checkpoint;
use link::Pending;
use scan::{byte_classes, class};

/// The longest name full hex2 accepts (a 4096th byte is an error).
const MAX_NAME: usize = 4095;

/// Which pass the engine is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Assign addresses to labels; write nothing.
    One,
    /// Write bytes, resolving pointers.
    Two,
}

/// The linker state; see the module documentation. Drive it with [`Linker::begin_pass`],
/// then per file [`Linker::begin_file`], [`Linker::feed`] (chunks that end with `\n`, except
/// the last chunk of a file), [`Linker::end_file`]; for both passes; then
/// [`Linker::finish`].
pub struct Linker {
    config: Config,
    class: [u8; 256],
    // per byte for pass 1's bulk counting: 1 digit, 2 newline, 0 separator, 0x80 other
    count_class: [u8; 256],
    digit_bits: u32,
    digits_per_byte: u8,
    comment_ends_at_cr: bool,
    label_after_half_byte: bool,
    fast_hex: bool,
    caret_rule: bool,
    // shared (read only) with a fork in pass 2; see `Linker::fork`
    labels: Arc<LabelTable>,
    files: Vec<String>,
    pass: Pass,
    ip: u32,
    // where pass 1 ended (the address after the last byte)
    end_ip: u32,
    // nibble accumulator
    acc: u32,
    ndig: u8,
    digit_text: [u8; 8],
    nib_at: Loc,
    // `^` flag, RISC-V register and `.` words
    aligned: bool,
    xor: u32,
    dot_left: u8,
    dot_value: u32,
    dot_at: Loc,
    // output
    out: Vec<u8>,
    drained: u64,
    map: Vec<MapEntry>,
    // position in the current file
    file: u32,
    line: u32,
    line_start: usize,
    file_offset: usize,
    // undefined labels met in pass 2: name, use sites
    undefined: Vec<(Box<[u8]>, Vec<Loc>)>,
    // pass 2 pointers of the current chunk not resolved yet (see `Pending`)
    defer: bool,
    pending: Vec<Pending>,
    // pass 1 label definitions of the current chunk not entered yet: name, address, site
    pending_defs: Vec<Def>,
    // a pass 1 fork's label definitions, kept rather than entered: names, definitions
    collected: Option<(Vec<u8>, Vec<Def>)>,
}

/// A label definition waiting to be entered: the name (a byte range of the chunk, or of a
/// pass 1 fork's collected names), the address and the site.
type Def = ((u32, u32), u32, Loc);

impl Linker {
    /// A linker for `config`, before pass 1.
    pub fn new(config: Config) -> Linker {
        let arch = config.arch;
        let (digit_bits, digits_per_byte) = match config.byte_mode {
            ByteMode::Hex => (4, 2),
            ByteMode::Octal => (3, 3),
            ByteMode::Binary => (1, 8),
        };
        let (class, caret_rule) = byte_classes(&config);
        let comment_ends_at_cr = !(config.dialect == Dialect::SeedHex1 && arch == Arch::Aarch64);
        // The x86, amd64 and aarch64 seeds count a byte at its first nibble in pass 1, so
        // a label between the two nibbles of a byte gets the address after that byte.
        let label_after_half_byte = config.dialect != Dialect::Full
            && matches!(arch, Arch::X86 | Arch::Amd64 | Arch::Aarch64);
        let count_class = class.map(|c| match c {
            0..=15 => 1,
            class::NEWLINE => 2,
            class::IGNORE => 0,
            _ => 0x80,
        });
        Linker {
            count_class,
            fast_hex: config.byte_mode == ByteMode::Hex && !config.map,
            config,
            class,
            digit_bits,
            digits_per_byte,
            comment_ends_at_cr,
            label_after_half_byte,

            caret_rule,
            labels: Arc::default(),
            files: Vec::new(),
            pass: Pass::One,
            ip: config.base_address,
            end_ip: config.base_address,
            acc: 0,
            ndig: 0,
            digit_text: [0; 8],
            nib_at: Loc::default(),
            aligned: false,
            xor: 0,
            dot_left: 0,
            dot_value: 0,
            dot_at: Loc::default(),
            out: Vec::new(),
            drained: 0,
            map: Vec::new(),
            file: 0,
            line: 1,
            line_start: 0,
            file_offset: 0,
            undefined: Vec::new(),
            defer: false,
            pending: Vec::new(),
            pending_defs: Vec::new(),
            collected: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Starts a pass: `ip` back at the base address, the `^` flag and XOR register cleared.
    pub fn begin_pass(&mut self, pass: Pass) {
        if self.pass == Pass::One {
            self.end_ip = self.ip;
        }
        self.pass = pass;
        self.ip = self.config.base_address;
        self.aligned = false;
        self.xor = 0;
        self.dot_left = 0;
        self.dot_value = 0;
        self.file = 0;
        if pass == Pass::Two {
            self.out.reserve(1 << 16);
        }
        self.defer = pass == Pass::Two
            && self.config.dialect == Dialect::Full
            && !self.config.arch.is_riscv()
            && !self.caret_rule
            && !self.config.map;
    }

    /// Starts the next file (in pass 1 this also records its name).
    pub fn begin_file(&mut self, name: &str) {
        if self.pass == Pass::One {
            self.files.push(name.to_string());
            self.file = (self.files.len() - 1) as u32;
        }
        self.line = 1;
        self.line_start = 0;
        self.file_offset = 0;
        self.acc = 0;
        self.ndig = 0;
    }

    /// Ends the current file: a pending half byte is dropped; an unfinished `.` word is an
    /// error in full hex2 (the reference loops forever there) and dropped by the seed.
    pub fn end_file(&mut self) -> Result<(), Diagnostic> {
        self.acc = 0;
        self.ndig = 0;
        if self.dot_left > 0 {
            if self.config.dialect == Dialect::Full {
                let missing = self.dot_left;
                return Err(self.error(self.dot_at, ErrorKind::DotWordCutShort { missing }));
            }
            self.dot_left = 0;
            self.dot_value = 0;
        }
        if self.pass == Pass::Two {
            self.file += 1;
        }
        Ok(())
    }

    /// Feeds the next piece of the current file. Every chunk but the file's last must end
    /// with `\n` (tokens never span chunks).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), Diagnostic> {
        let scanned = self.scan(chunk);
        self.define_pending(chunk);
        // pointers before a scanning error come first, as if resolved on the spot
        let resolved = self.resolve_pending(chunk);
        resolved.and(scanned)
    }

    /// Whether an undefined label has been met in pass 2 (the link will fail at
    /// [`Linker::finish`]; the rest of pass 2 only collects its other uses).
    pub fn has_failed(&self) -> bool {
        !self.undefined.is_empty()
    }

    /// Ends pass 2: reports undefined labels, or returns the result.
    pub fn finish(self) -> Result<Linked, Diagnostic> {
        if !self.undefined.is_empty() {
            return Err(self.undefined_error());
        }
        let warnings = match self.config.dialect {
            Dialect::Full => reference_warnings(&self.config),
            _ => String::new(),
        };
        Ok(Linked {
            warnings,
            bytes: self.out,
            labels: Arc::try_unwrap(self.labels).unwrap_or_else(|shared| (*shared).clone()),
            map: self.map,
            files: self.files,
        })
    }
}
