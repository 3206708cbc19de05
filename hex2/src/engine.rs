//! The two-pass linking engine shared by hex2, hex2-0 and hex1.
//!
//! It owns the byte-level scanner (a resumable state machine fed chunk by chunk, each chunk
//! ending at a line boundary, so whole files never need to be in memory), nibble pairing,
//! label definition, pointer evaluation and the RISC-V XOR register. It does not read files,
//! parse the command line or decide exit statuses (see [`crate::tool`]).

use std::sync::Arc;

use toolbase::diag::{Diagnostic, Position};

use crate::labels::{LabelDef, LabelTable};
use crate::map::MapEntry;
use crate::{Arch, ByteMode, Config, Dialect, Endian, Linked, Loc};

/// Which pass the engine is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pass {
    /// Assign addresses to labels; write nothing.
    One,
    /// Write bytes, resolving pointers.
    Two,
}

/// What a byte means where a token may start: a digit's value (0..=15) or one of these.
mod class {
    pub const IGNORE: u8 = 16;
    pub const NEWLINE: u8 = 17;
    pub const COMMENT: u8 = 18;
    pub const COLON: u8 = 19;
    pub const SIGIL: u8 = 20;
    pub const PAD: u8 = 21;
    pub const CARET: u8 = 22;
    pub const DOT: u8 = 23;
}

/// How a pointer's value is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// A displacement (architecture rule or `a>b`).
    Rel,
    /// The label's address.
    Abs,
    /// A RISC-V immediate XORed into the next word.
    Imm(Format),
}

/// RISC-V immediate formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    I,
    B,
    J,
    U,
}

#[derive(Clone, Copy, Debug)]
struct Spec {
    size: u32,
    how: How,
}

/// The longest name full hex2 accepts (a 4096th byte is an error).
const MAX_NAME: usize = 4095;
/// How many use sites of an undefined label are listed.
const MAX_USES: usize = 64;

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

/// A pass 2 pointer whose field (zeros for now) is already in the output, resolved at the
/// end of its chunk together with its neighbours so that their label lookups' cache
/// misses overlap. Only used where resolving cannot change how later bytes are scanned
/// (no `^` rule, no RISC-V XOR register, no map).
#[derive(Clone, Copy, Debug)]
struct Pending {
    sigil: u8,
    hash: u32,
    name: (u32, u32),
    base: Option<(u32, u32)>,
    start: u32,
    at: Loc,
    out_pos: usize,
}

/// Pending pointers resolved per group: the group's index slots and records are read
/// first, all together, then each pointer is resolved from the cache.
const GROUP: usize = 64;

impl Linker {
    /// A linker for `config`, before pass 1.
    pub fn new(config: Config) -> Linker {
        let arch = config.arch;
        let riscv = arch.is_riscv();
        let (digit_bits, digits_per_byte) = match config.byte_mode {
            ByteMode::Hex => (4, 2),
            ByteMode::Octal => (3, 3),
            ByteMode::Binary => (1, 8),
        };
        let mut class = [class::IGNORE; 256];
        for b in 0..=255u8 {
            let d = match config.byte_mode {
                ByteMode::Hex => (b as char).to_digit(16),
                ByteMode::Octal => (b as char).to_digit(8),
                ByteMode::Binary => (b as char).to_digit(2),
            };
            if let Some(d) = d {
                class[b as usize] = d as u8;
            }
        }
        class[b'\n' as usize] = class::NEWLINE;
        class[b'#' as usize] = class::COMMENT;
        class[b';' as usize] = class::COMMENT;
        class[b':' as usize] = class::COLON;
        let sigils: &[u8] = match config.dialect {
            Dialect::Full => b"!@$~%&",
            Dialect::SeedHex2 => match arch {
                a if a.is_riscv() => b"!@$~%&",
                Arch::Aarch64 => b"!@$~%&",
                _ => b"!@$%&",
            },
            Dialect::SeedHex1 => match arch {
                a if a.is_riscv() => b"!@$~",
                Arch::Aarch64 => b"$~&",
                _ => b"%",
            },
        };
        for &s in sigils {
            class[s as usize] = class::SIGIL;
        }
        let (pads, caret, caret_rule, dot) = match config.dialect {
            Dialect::Full => {
                let pads = matches!(arch, Arch::Armv7l | Arch::Aarch64) || riscv;
                let caret = matches!(arch, Arch::Armv7l | Arch::Aarch64 | Arch::Ppc64le);
                (pads, caret, caret, riscv)
            }
            Dialect::SeedHex2 => (riscv, arch == Arch::Aarch64, arch == Arch::Aarch64, riscv),
            Dialect::SeedHex1 => (false, false, false, false),
        };
        if pads {
            class[b'<' as usize] = class::PAD;
        }
        if caret {
            class[b'^' as usize] = class::CARET;
        }
        if dot {
            class[b'.' as usize] = class::DOT;
        }
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
                let at = self.dot_at;
                let left = self.dot_left;
                return Err(self
                    .diag_at(at, "'.' word cut short by the end of the file")
                    .expected("four bytes' worth of digits after '.'")
                    .found(format!("{} byte(s) missing", left))
                    .hint("complete the word, e.g. '.00000000'"));
            }
            self.dot_left = 0;
            self.dot_value = 0;
        }
        if self.pass == Pass::Two {
            self.file += 1;
        }
        Ok(())
    }

    /// Bytes written so far and not yet taken; lets a caller stream the output.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        self.drained += self.out.len() as u64;
        std::mem::take(&mut self.out)
    }

    /// Hands the bytes written so far and not yet taken to `f`, then forgets them (the
    /// buffer is kept, so streaming the output allocates nothing after the first chunk).
    pub fn drain_bytes<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        let r = f(&self.out);
        self.drained += self.out.len() as u64;
        self.out.clear();
        r
    }

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

    /// How many output bytes pass 2 has produced so far (taken or not).
    pub fn written(&self) -> u64 {
        self.drained + self.out.len() as u64
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

    /// Whether an undefined label has been met in pass 2 (the link will fail at
    /// [`Linker::finish`]; the rest of pass 2 only collects its other uses).
    pub fn has_failed(&self) -> bool {
        !self.undefined.is_empty()
    }

    /// Ends pass 2: reports undefined labels, or returns the result.
    pub fn finish(self) -> Result<Linked, Diagnostic> {
        if let Some((name, uses)) = self.undefined.first() {
            let mut d = Diagnostic::new(format!("undefined label '{}'", crate::map::escape(name)));
            if let Some(first) = uses.first() {
                d = self.locate(d, *first);
            }
            d = d
                .expected("a label defined with ':NAME' in some input file")
                .found(format!("{} use(s) and no definition", uses.len()));
            for u in uses.iter().skip(1) {
                d = d.note(format!("also used at {}", self.describe(*u)));
            }
            if self.undefined.len() > 1 {
                let others: Vec<String> = self.undefined[1..]
                    .iter()
                    .take(10)
                    .map(|(n, u)| format!("'{}' ({} use(s))", crate::map::escape(n), u.len()))
                    .collect();
                d = d.note(format!(
                    "{} other undefined label(s): {}",
                    self.undefined.len() - 1,
                    others.join(", ")
                ));
            }
            return Err(d.hint("check the spelling, or add the file that defines it with -f"));
        }
        let warnings = match self.config.dialect {
            Dialect::Full => crate::reference_warnings(&self.config),
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

    fn describe(&self, at: Loc) -> String {
        let file = self.files.get(at.file as usize).map_or("?", |s| s.as_str());
        format!("{file}:{}:{}", at.line, at.col)
    }

    #[cold]
    fn locate(&self, d: Diagnostic, at: Loc) -> Diagnostic {
        let file = self
            .files
            .get(at.file as usize)
            .cloned()
            .unwrap_or_default();
        d.in_file(file).at(Position::LineCol {
            line: at.line,
            col: at.col,
        })
    }

    #[cold]
    fn diag_at(&self, at: Loc, message: impl Into<String>) -> Diagnostic {
        self.locate(Diagnostic::new(message), at)
    }

    #[inline]
    fn loc(&self, chunk_pos: usize) -> Loc {
        let abs = self.file_offset + chunk_pos;
        Loc {
            file: self.file,
            line: self.line,
            col: (abs - self.line_start + 1) as u32,
        }
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

    /// Enters the pending label definitions of `chunk`, in order (pass 1 never looks
    /// labels up, so entering them per chunk rather than on the spot changes nothing but
    /// lets the index slots of a group be read together first).
    fn define_pending(&mut self, chunk: &[u8]) {
        if self.pending_defs.is_empty() {
            return;
        }
        if let Some((names, defs)) = &mut self.collected {
            // a pass 1 fork: keep them for `join_pass1`
            for d in &self.pending_defs {
                let start = names.len() as u32;
                names.extend_from_slice(&chunk[d.0 .0 as usize..d.0 .1 as usize]);
                defs.push(((start, names.len() as u32), d.1, d.2));
            }
            self.pending_defs.clear();
            return;
        }
        let defs = std::mem::take(&mut self.pending_defs);
        let labels = Arc::make_mut(&mut self.labels);
        define_all(labels, chunk, &defs, 0, u32::MAX, 0);
        self.pending_defs = defs;
        self.pending_defs.clear();
    }

    /// Resolves the pending pointers of `chunk`, in order, stopping at the first error.
    fn resolve_pending(&mut self, chunk: &[u8]) -> Result<(), Diagnostic> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut pending = std::mem::take(&mut self.pending);
        let mut result = Ok(());
        let mut hashes = [0u32; GROUP];
        'groups: for group in pending.chunks_mut(GROUP) {
            for (p, h) in group.iter_mut().zip(hashes.iter_mut()) {
                p.hash = LabelTable::hash(&chunk[p.name.0 as usize..p.name.1 as usize]);
                *h = p.hash;
            }
            self.labels.touch(&hashes[..group.len()], true);
            for p in group.iter() {
                let name = &chunk[p.name.0 as usize..p.name.1 as usize];
                let base = p.base.map(|(a, b)| &chunk[a as usize..b as usize]);
                let spec = self.spec(p.sigil);
                if let Err(e) = self.resolve(
                    name,
                    Some(p.hash),
                    base,
                    spec,
                    p.start,
                    p.at,
                    Some(p.out_pos),
                    &[],
                ) {
                    result = Err(e);
                    break 'groups;
                }
            }
        }
        pending.clear();
        self.pending = pending;
        result
    }

    /// The scanner proper: [`Linker::feed`] without the resolution of pending pointers.
    fn scan(&mut self, chunk: &[u8]) -> Result<(), Diagnostic> {
        let len = chunk.len();
        // A local copy: the compiler then knows output writes cannot change it.
        let table = self.class;
        let mut i = 0;
        while i < len {
            let b = chunk[i];
            let c = table[b as usize];
            // The common bytes first: separators and digits (most of any real input).
            if c == class::IGNORE {
                i += 1;
                continue;
            }
            if c < 16 {
                let d = c;
                if self.fast_hex && self.xor == 0 && self.dot_left == 0 {
                    i = self.plain_run(chunk, i, &table);
                } else {
                    self.digit(d, b, i);
                    i += 1;
                }
                continue;
            }
            match c {
                class::NEWLINE => {
                    i += 1;
                    self.line += 1;
                    self.line_start = self.file_offset + i;
                }
                class::COMMENT => {
                    let start = i;
                    i += 1;
                    let stop_cr = self.comment_ends_at_cr;
                    match chunk[i..]
                        .iter()
                        .position(|&c| c == b'\n' || (c == b'\r' && stop_cr))
                    {
                        Some(p) => {
                            i += p;
                            if chunk[i] == b'\r' {
                                i += 1;
                            }
                        }
                        // Only a file's last chunk may lack a newline: the comment runs to
                        // the end of the file, where every seed hex1 and hex2-0 hangs.
                        None if self.config.dialect != Dialect::Full => {
                            return Err(self.comment_at_eof(self.loc(start)));
                        }
                        None => i = len,
                    }
                    // a terminating '\n' is left to the Newline arm
                }
                // Inside a `.` word every byte goes to the digit reader only: a sigil, `:`,
                // `<`, `^` or `.` there is an ignored non-digit (spec 1.8).
                _ if self.dot_left > 0 => i += 1,
                class::COLON => i = self.label(chunk, i)?,
                class::SIGIL => i = self.pointer(chunk, i)?,
                class::PAD => {
                    self.pad(chunk, i);
                    i += 1;
                }
                class::CARET => {
                    self.aligned = true;
                    i += 1;
                }
                class::DOT => {
                    self.dot_at = self.loc(i);
                    self.dot_left = 4;
                    self.dot_value = 0;
                    i += 1;
                }
                _ => i += 1,
            }
        }
        self.file_offset += len;
        Ok(())
    }

    /// The end (exclusive) of a name starting at `start` (spec 1.5 terminators).
    #[inline]
    fn name_end(chunk: &[u8], start: usize) -> usize {
        let mut j = start;
        // eight bytes at a time: the lowest flagged byte of `zero(w ^ splat(t))` is the
        // first byte of `w` equal to `t` (flags above it may be false, never below)
        const LOW: u64 = 0x0101_0101_0101_0101;
        let zero = |v: u64| v.wrapping_sub(LOW) & !v & (LOW << 7);
        while j + 8 <= chunk.len() {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&chunk[j..j + 8]);
            let w = u64::from_le_bytes(bytes);
            let hit = zero(w ^ (LOW * u64::from(b' ')))
                | zero(w ^ (LOW * u64::from(b'\t')))
                | zero(w ^ (LOW * u64::from(b'\n')))
                | zero(w ^ (LOW * u64::from(b'>')));
            if hit != 0 {
                return j + (hit.trailing_zeros() / 8) as usize;
            }
            j += 8;
        }
        while j < chunk.len() {
            match chunk[j] {
                b' ' | b'\t' | b'\n' | b'>' => break,
                _ => j += 1,
            }
        }
        j
    }

    /// The limits of a name: no NUL byte (the references keep names as C strings, or, in
    /// the seed hex1, never define label 0, so a NUL makes them find or miss labels by
    /// accident; spec 1.5) and, for mescc-tools hex2, at most [`MAX_NAME`] bytes.
    #[inline]
    fn check_name(&self, at: Loc, name: &[u8], what: &str) -> Result<(), Diagnostic> {
        if self.config.dialect == Dialect::Full && name.len() > MAX_NAME {
            return Err(self.name_too_long(at, name.len(), what));
        }
        match name.iter().position(|&c| c == 0) {
            None => Ok(()),
            Some(n) => Err(self.nul_in_name(at, n, what)),
        }
    }

    #[cold]
    fn nul_in_name(&self, at: Loc, n: usize, what: &str) -> Diagnostic {
        self.diag_at(at, format!("NUL byte in a {what} name"))
            .expected("a name of non-NUL bytes")
            .found(format!("a NUL byte at byte {} of the name", n + 1))
            .hint("the reference tools cut names at a NUL byte and then match the wrong label; remove the NUL")
    }

    #[cold]
    fn name_too_long(&self, at: Loc, len: usize, what: &str) -> Diagnostic {
        self.diag_at(at, format!("{what} name too long"))
            .expected(format!("at most {MAX_NAME} bytes"))
            .found(format!("{len} bytes"))
            .hint("hex2 limits names to 4095 bytes; shorten the name")
    }

    fn label(&mut self, chunk: &[u8], i: usize) -> Result<usize, Diagnostic> {
        let at = self.loc(i);
        let (name, next) = if self.config.dialect == Dialect::SeedHex1 {
            if i + 1 >= chunk.len() {
                return Ok(i + 1);
            }
            let c = chunk[i + 1];
            if c == b'\n' {
                // the name byte is the newline itself; it still ends the line
                self.line += 1;
                self.line_start = self.file_offset + i + 2;
            }
            if c == 0 {
                return Err(self.nul_in_name(at, 0, "label"));
            }
            (&chunk[i + 1..i + 2], i + 2)
        } else {
            let end = Self::name_end(chunk, i + 1);
            self.check_name(at, &chunk[i + 1..end], "label")?;
            let next = if end < chunk.len() && chunk[end] == b'>' {
                end + 1
            } else {
                end
            };
            (&chunk[i + 1..end], next)
        };
        if self.pass == Pass::One {
            let a = name.as_ptr() as usize - chunk.as_ptr() as usize;
            let half = u32::from(self.label_after_half_byte && self.ndig != 0);
            self.pending_defs.push((
                (a as u32, (a + name.len()) as u32),
                self.ip.wrapping_add(half),
                at,
            ));
        }
        Ok(next)
    }

    /// Size and kind of the pointer `sigil` (RISC-V word mode turns `! @ $ ~` into
    /// immediates in every dialect; which sigils exist at all is the class table's job).
    fn spec(&self, sigil: u8) -> Spec {
        let word = self.config.arch.is_riscv();
        let size_rel = |s| Spec {
            size: s,
            how: How::Rel,
        };
        let abs = |s| Spec {
            size: s,
            how: How::Abs,
        };
        let imm = |f| Spec {
            size: 0,
            how: How::Imm(f),
        };
        match sigil {
            b'!' if word => imm(Format::I),
            b'@' if word => imm(Format::B),
            b'$' if word => imm(Format::J),
            b'~' if word => imm(Format::U),
            b'!' => size_rel(1),
            b'@' => size_rel(2),
            b'$' => abs(2),
            b'~' => size_rel(3),
            b'%' => size_rel(4),
            _ => abs(4),
        }
    }

    fn pointer(&mut self, chunk: &[u8], i: usize) -> Result<usize, Diagnostic> {
        let at = self.loc(i);
        let sigil = chunk[i];
        let spec = self.spec(sigil);
        let dialect = self.config.dialect;
        let (name, base, next, tok_end) = if dialect == Dialect::SeedHex1 {
            if i + 1 >= chunk.len() {
                return Err(self.pointer_at_eof(at, sigil));
            }
            if chunk[i + 1] == b'\n' {
                self.line += 1;
                self.line_start = self.file_offset + i + 2;
            }
            if chunk[i + 1] == 0 {
                return Err(self.nul_in_name(at, 0, "pointer"));
            }
            (&chunk[i + 1..i + 2], None, i + 2, i + 2)
        } else {
            let end = Self::name_end(chunk, i + 1);
            if end == chunk.len() && end == i + 1 {
                return Err(self.pointer_at_eof(at, sigil));
            }
            self.check_name(at, &chunk[i + 1..end], "pointer")?;
            let name = &chunk[i + 1..end];
            let base_form =
                end < chunk.len() && chunk[end] == b'>' && !matches!(spec.how, How::Imm(_));
            if base_form {
                let bend = Self::name_end(chunk, end + 1);
                self.check_name(at, &chunk[end + 1..bend], "base label")?;
                let next = if bend < chunk.len() && chunk[bend] == b'>' {
                    bend + 1
                } else {
                    bend
                };
                (name, Some(&chunk[end + 1..bend]), next, bend)
            } else {
                (name, None, end, end)
            }
        };
        if self.pass == Pass::One {
            self.ip = self.ip.wrapping_add(spec.size);
            return Ok(next);
        }
        let start = self.ip;
        if self.defer {
            self.ip = self.ip.wrapping_add(spec.size);
            let out_pos = self.out.len();
            if spec.size == 4 {
                self.out.extend_from_slice(&[0; 4]);
            } else {
                self.out.resize(out_pos + spec.size as usize, 0);
            }
            let range = |s: &[u8]| {
                let a = s.as_ptr() as usize - chunk.as_ptr() as usize;
                (a as u32, (a + s.len()) as u32)
            };
            self.pending.push(Pending {
                sigil,
                hash: 0,
                name: range(name),
                base: base.map(range),
                start,
                at,
                out_pos,
            });
            return Ok(next);
        }
        self.resolve(name, None, base, spec, start, at, None, &chunk[i..tok_end])?;
        Ok(next)
    }

    /// Computes and writes the pointer `name` (optionally `name>base`) whose field starts
    /// at address `start`: appended to the output, or written at `out_pos` if its place
    /// was reserved. In pass 2 after an undefined label, only collects undefined uses.
    #[allow(clippy::too_many_arguments)]
    fn resolve(
        &mut self,
        name: &[u8],
        hash: Option<u32>,
        base: Option<&[u8]>,
        spec: Spec,
        start: u32,
        at: Loc,
        out_pos: Option<usize>,
        token: &[u8],
    ) -> Result<(), Diagnostic> {
        let dialect = self.config.dialect;
        if !self.undefined.is_empty() {
            // The link has failed: only collect further uses of undefined labels.
            for n in std::iter::once(name).chain(base) {
                if self.labels.get(n).is_none() {
                    self.note_undefined(n, at);
                }
            }
            if out_pos.is_none() {
                self.ip = self.ip.wrapping_add(spec.size);
            }
            return Ok(());
        }
        if out_pos.is_none() {
            self.ip = self.ip.wrapping_add(spec.size);
        }
        let field_end = start.wrapping_add(spec.size);
        let found = match hash {
            Some(h) => self.labels.get_hashed(name, h),
            None => self.labels.get(name),
        };
        let Some(target) = found else {
            self.note_undefined(name, at);
            if let Some(b) = base {
                if self.labels.get(b).is_none() {
                    self.note_undefined(b, at);
                }
            }
            return Ok(());
        };
        let t = target.address;
        let base_addr = match base {
            Some(b) => match self.labels.get(b) {
                Some(d) => Some(d.address),
                None => {
                    self.note_undefined(b, at);
                    return Ok(());
                }
            },
            None => None,
        };
        let value: u32 = match dialect {
            Dialect::Full => self.full_value(spec, t, base_addr, field_end, at, name, target)?,
            Dialect::SeedHex2 | Dialect::SeedHex1 => {
                self.seed_value(spec, t, base_addr, start, field_end)
            }
        };
        if let How::Imm(_) = spec.how {
            self.xor ^= value;
            return Ok(());
        }
        let size = spec.size as usize;
        let bytes = match self.config.endian {
            Endian::Little => {
                let b = value.to_le_bytes();
                [b[0], b[1], b[2], b[3]]
            }
            Endian::Big => {
                let b = value.to_be_bytes();
                let mut r = [0u8; 4];
                r[..size].copy_from_slice(&b[4 - size..]);
                r
            }
        };
        if let Some(pos) = out_pos {
            self.out[pos..pos + size].copy_from_slice(&bytes[..size]);
            return Ok(());
        }
        let offset = self.drained + self.out.len() as u64;
        self.out.extend_from_slice(&bytes[..size]);
        if self.config.map {
            self.map.push(MapEntry {
                offset,
                len: size as u32,
                address: start,
                at,
                token: token.into(),
                bytes: bytes[..size].into(),
            });
        }
        Ok(())
    }

    #[cold]
    fn comment_at_eof(&self, at: Loc) -> Diagnostic {
        let ends = if self.comment_ends_at_cr {
            "a newline or carriage return"
        } else {
            "a newline"
        };
        self.diag_at(at, "comment at the end of the file without a newline")
            .expected(format!("{ends} ending the comment"))
            .found("the end of the file")
            .hint("the seed hex1 and hex2-0 read a comment to its end and hang when the file ends first; end the file with a newline")
    }

    #[cold]
    fn pointer_at_eof(&self, at: Loc, sigil: u8) -> Diagnostic {
        self.diag_at(
            at,
            format!("pointer '{}' at the end of the file", sigil as char),
        )
        .expected("a label name after the sigil")
        .found("end of file")
        .hint("remove the stray sigil or name the label")
    }

    #[cold]
    fn note_undefined(&mut self, name: &[u8], at: Loc) {
        if let Some((_, uses)) = self.undefined.iter_mut().find(|(n, _)| &n[..] == name) {
            if uses.len() < MAX_USES {
                uses.push(at);
            }
        } else if self.undefined.len() < 1000 {
            self.undefined.push((name.into(), vec![at]));
        }
    }

    /// The architectural displacement (spec 1.7); may consume the `^` flag.
    fn arch_displacement(
        &mut self,
        t: u32,
        b: u32,
        at: Loc,
        name: &[u8],
    ) -> Result<u32, Diagnostic> {
        let arch = self.config.arch;
        if !self.caret_rule {
            return Ok(t.wrapping_sub(b));
        }
        let aligned = std::mem::replace(&mut self.aligned, false);
        let ti = t as i32;
        let bi = b as i32;
        let b3 = (b & 3) as i32;
        Ok(match (arch, aligned) {
            (Arch::Armv7l | Arch::Aarch64, false) => {
                ti.wrapping_sub(bi).wrapping_sub(8).wrapping_add(b3) as u32
            }
            (Arch::Armv7l, true) => {
                if t & 3 != 0 {
                    return Err(self
                        .diag_at(
                            at,
                            format!("unaligned branch target '{}'", crate::map::escape(name)),
                        )
                        .expected("a target address that is a multiple of 4 after '^'")
                        .found(format!("{t:#010x}"))
                        .note(self.definition_note(name))
                        .hint("align the label with '<' or fix the target"));
                }
                ((ti.wrapping_sub(bi).wrapping_add(b3) >> 2).wrapping_sub(2)) as u32
            }
            (Arch::Aarch64, true) => (ti.wrapping_sub((b & !3) as i32) >> 2) as u32,
            (_, false) => t.wrapping_sub(b & !3),
            (_, true) => t.wrapping_sub(b & !3) | 1,
        })
    }

    fn definition_note(&self, name: &[u8]) -> String {
        match self.labels.get(name) {
            Some(d) => format!(
                "'{}' is defined at {} (address {:#010x})",
                crate::map::escape(name),
                self.describe(d.at),
                d.address
            ),
            None => format!("'{}' is not defined", crate::map::escape(name)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn full_value(
        &mut self,
        spec: Spec,
        t: u32,
        base: Option<u32>,
        field_end: u32,
        at: Loc,
        name: &[u8],
        target: LabelDef,
    ) -> Result<u32, Diagnostic> {
        if let How::Imm(f) = spec.how {
            // ip did not move: it is the address of the next instruction
            let d = t.wrapping_sub(field_end) as i32;
            return self.riscv_imm(f, d, at, name, true);
        }
        let disp = match base {
            Some(b) => t.wrapping_sub(b),
            None => self.arch_displacement(t, field_end, at, name)?,
        };
        let value = if spec.how == How::Abs { t } else { disp };
        let v = value as i32;
        let (lo, hi, kind) = match (spec.size, spec.how) {
            (1, _) => (-128, 127, "relative"),
            (2, How::Rel) => (-32768, 32767, "relative"),
            (2, _) => (0, 65535, "absolute"),
            (3, _) => (-8_388_608, 8_388_607, "relative"),
            _ => return Ok(value),
        };
        if v < lo || v > hi {
            let bytes = if spec.size == 1 { "byte" } else { "bytes" };
            return Err(self
                .diag_at(
                    at,
                    format!(
                        "{kind} {} of {v} does not fit in {} {bytes}",
                        if spec.how == How::Abs {
                            "address"
                        } else {
                            "displacement"
                        },
                        spec.size
                    ),
                )
                .expected(format!("a value in {lo} ..= {hi}"))
                .found(format!(
                    "{v} (field ends at {field_end:#010x}, target {t:#010x})"
                ))
                .note(format!(
                    "'{}' is defined at {} (address {:#010x})",
                    crate::map::escape(name),
                    self.describe(target.at),
                    target.address
                ))
                .hint("use a wider pointer sigil (e.g. '%' or '&'), or move the label closer"));
        }
        Ok(value)
    }

    /// Encodes a RISC-V immediate (spec 1.8) for displacement `d`.
    fn riscv_imm(
        &self,
        f: Format,
        d: i32,
        at: Loc,
        name: &[u8],
        check: bool,
    ) -> Result<u32, Diagnostic> {
        let v = d as u32;
        let bit = |n: u32| (v >> n) & 1;
        Ok(match f {
            Format::I => (v.wrapping_add(4) & 0xFFF) << 20,
            Format::U => v.wrapping_add(0x800) & 0xFFFF_F000,
            Format::B => {
                if check && (!(-4096..=4095).contains(&d) || d & 1 != 0) {
                    return Err(self.riscv_range(at, name, d, 'B', -4096, 4095));
                }
                bit(12) << 31 | ((v >> 5) & 0x3F) << 25 | ((v >> 1) & 0xF) << 8 | bit(11) << 7
            }
            Format::J => {
                if check && (!(-1_048_576..=1_048_575).contains(&d) || d & 1 != 0) {
                    return Err(self.riscv_range(at, name, d, 'J', -1_048_576, 1_048_575));
                }
                bit(20) << 31 | ((v >> 1) & 0x3FF) << 21 | bit(11) << 20 | ((v >> 12) & 0xFF) << 12
            }
        })
    }

    #[cold]
    fn riscv_range(&self, at: Loc, name: &[u8], d: i32, f: char, lo: i32, hi: i32) -> Diagnostic {
        self.diag_at(at, format!("value {d} out of range for field type {f}"))
            .expected(format!("an even displacement in {lo} ..= {hi}"))
            .found(format!("{d}"))
            .note(self.definition_note(name))
            .hint("use an auipc/jalr pair ('~label' then '!label') for far targets")
    }

    fn seed_value(
        &mut self,
        spec: Spec,
        t: u32,
        base: Option<u32>,
        start: u32,
        field_end: u32,
    ) -> u32 {
        let arch = self.config.arch;
        match spec.how {
            How::Imm(f) => {
                let d = t.wrapping_sub(field_end) as i32;
                self.riscv_imm(f, d, Loc::default(), b"", false)
                    .unwrap_or(0)
            }
            How::Abs => match base {
                Some(b) if arch.is_riscv() => t.wrapping_sub(b),
                _ => t,
            },
            How::Rel if arch == Arch::Aarch64 => {
                let raw = match base {
                    Some(b) => t.wrapping_sub(b),
                    None => t.wrapping_sub(start),
                };
                let words = self.config.dialect == Dialect::SeedHex1
                    || std::mem::replace(&mut self.aligned, false);
                if words {
                    ((raw as i32) >> 2) as u32
                } else {
                    raw
                }
            }
            How::Rel => match base {
                Some(b) => t.wrapping_sub(b),
                None => t.wrapping_sub(field_end),
            },
        }
    }

    fn pad(&mut self, chunk: &[u8], i: usize) {
        let mut n = 0u32;
        if self.ip & 1 != 0 {
            n += 1;
        }
        if self.ip.wrapping_add(n) & 2 != 0 {
            n += 2;
        }
        if n == 0 {
            return;
        }
        if self.pass == Pass::Two {
            let offset = self.drained + self.out.len() as u64;
            if self.config.map {
                self.map.push(MapEntry {
                    offset,
                    len: n,
                    address: self.ip,
                    at: self.loc(i),
                    token: chunk[i..i + 1].into(),
                    bytes: vec![0; n as usize].into(),
                });
            }
            self.out.resize(self.out.len() + n as usize, 0);
        }
        self.ip = self.ip.wrapping_add(n);
    }

    /// Plain hex digits, separators and newlines from `i` on, in bulk (hex mode, no map,
    /// no pending XOR or `.` word: the common case). Returns where the run ends, at the
    /// first byte of any other class.
    #[inline(always)]
    fn plain_run(&mut self, chunk: &[u8], i: usize, table: &[u8; 256]) -> usize {
        let mut j = i;
        let len = chunk.len();
        if self.pass == Pass::One {
            // nibbles pair across separators, so only the number of digits matters
            let mut digits = 0u32;
            // eight bytes at a time: their `count_class` bytes side by side in one word
            const LOW: u64 = 0x0101_0101_0101_0101;
            let counts = &self.count_class;
            while j + 8 <= len {
                let mut w = 0u64;
                for (k, &b) in chunk[j..j + 8].iter().enumerate() {
                    w |= u64::from(counts[b as usize]) << (8 * k);
                }
                if w & (LOW << 7) != 0 {
                    break;
                }
                digits += byte_flags(w & LOW);
                let nl = w & (LOW << 1);
                if nl != 0 {
                    self.line += byte_flags(nl >> 1);
                    let last = (63 - nl.leading_zeros()) as usize / 8;
                    self.line_start = self.file_offset + j + last + 1;
                }
                j += 8;
            }
            while j < len {
                let c = table[chunk[j] as usize];
                if c < 16 {
                    digits += 1;
                } else if c == class::NEWLINE {
                    self.line += 1;
                    self.line_start = self.file_offset + j + 1;
                } else if c != class::IGNORE {
                    break;
                }
                j += 1;
            }
            let total = u32::from(self.ndig) + digits;
            self.ip = self.ip.wrapping_add(total / 2);
            self.ndig = (total % 2) as u8;
            // the value of a pending nibble does not matter in pass 1
            return j;
        }
        let mut acc = self.acc as u8;
        let mut pending = self.ndig == 1;
        let start_len = self.out.len();
        while j < len {
            let c = table[chunk[j] as usize];
            if c < 16 {
                if pending {
                    self.out.push((acc << 4) | c);
                } else {
                    acc = c;
                }
                pending = !pending;
            } else if c == class::NEWLINE {
                self.line += 1;
                self.line_start = self.file_offset + j + 1;
            } else if c != class::IGNORE {
                break;
            }
            j += 1;
        }
        self.ip = self.ip.wrapping_add((self.out.len() - start_len) as u32);
        self.acc = u32::from(acc);
        self.ndig = u8::from(pending);
        j
    }

    #[inline(always)]
    fn digit(&mut self, d: u8, c: u8, i: usize) {
        if self.ndig == 0 && self.config.map && self.pass == Pass::Two {
            self.nib_at = self.loc(i);
        }
        if self.config.map {
            self.digit_text[self.ndig as usize] = c;
        }
        self.acc = (self.acc << self.digit_bits) | u32::from(d);
        self.ndig += 1;
        if self.ndig < self.digits_per_byte {
            return;
        }
        let v = self.acc;
        self.acc = 0;
        self.ndig = 0;
        if self.dot_left > 0 {
            // an octal value of 0o400 or more carries its ninth bit into the byte before
            self.dot_value = (self.dot_value << 8) ^ v;
            self.dot_left -= 1;
            if self.dot_left == 0 && self.pass == Pass::Two {
                let w = self.dot_value;
                self.xor ^= match self.config.endian {
                    Endian::Little => w.swap_bytes(),
                    Endian::Big => w,
                };
            }
            return;
        }
        if self.pass == Pass::One {
            self.ip = self.ip.wrapping_add(1);
            return;
        }
        let mut byte = v as u8;
        if self.xor != 0 {
            let r = self.xor & 0xFF;
            self.xor >>= 8;
            byte = if self.config.dialect == Dialect::Full {
                byte ^ r as u8
            } else {
                // the seeds add the high nibble back after XORing the low one
                ((v & 0xF0) + ((v & 0x0F) ^ r)) as u8
            };
        }
        if self.config.map {
            self.map_digit_byte(byte);
        }
        self.out.push(byte);
        self.ip = self.ip.wrapping_add(1);
    }

    /// Maps one digit byte: it extends the previous entry when that is digits written
    /// right before it (one word without separators, as M1 prints one token), else it
    /// starts an entry.
    fn map_digit_byte(&mut self, byte: u8) {
        let text = &self.digit_text[..self.digits_per_byte as usize];
        let at = self.nib_at;
        let offset = self.drained + self.out.len() as u64;
        if let Some(last) = self.map.last_mut() {
            let adjacent = last.at.file == at.file
                && last.at.line == at.line
                && last.at.col as usize + last.token.len() == at.col as usize
                && last.offset + u64::from(last.len) == offset
                && last.token.iter().all(u8::is_ascii_hexdigit);
            if adjacent {
                last.len += 1;
                let mut t = std::mem::take(&mut last.token).into_vec();
                t.extend_from_slice(text);
                last.token = t.into_boxed_slice();
                let mut b = std::mem::take(&mut last.bytes).into_vec();
                b.push(byte);
                last.bytes = b.into_boxed_slice();
                return;
            }
        }
        self.map.push(MapEntry {
            offset,
            len: 1,
            address: self.ip,
            at,
            token: text.into(),
            bytes: Box::new([byte]),
        });
    }
}

/// Enters label definitions in order: each is a name (a range of `text`), an address
/// (moved by `base`) and a site (its line moved by `lines` if in `file`). The index slots
/// of a group are read together first, so that their cache misses overlap.
fn define_all(
    labels: &mut LabelTable,
    text: &[u8],
    defs: &[Def],
    base: u32,
    file: u32,
    lines: u32,
) {
    let mut hashes = [0u32; GROUP];
    for group in defs.chunks(GROUP) {
        for (d, h) in group.iter().zip(hashes.iter_mut()) {
            *h = LabelTable::hash(&text[d.0 .0 as usize..d.0 .1 as usize]);
        }
        labels.touch(&hashes[..group.len()], false);
        for (d, &h) in group.iter().zip(hashes.iter()) {
            let name = &text[d.0 .0 as usize..d.0 .1 as usize];
            let mut at = d.2;
            if at.file == file {
                at.line += lines;
            }
            let address = d.1.wrapping_add(base);
            labels.define_hashed(name, h, LabelDef { address, at });
        }
    }
}

/// How many bytes of `x` are 1, when each byte of `x` is 0 or 1 (one multiply; the
/// default x86-64 target has no popcount instruction and `count_ones` is a long sequence).
#[inline(always)]
fn byte_flags(x: u64) -> u32 {
    (x.wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bulk_name_end_equals_byte_by_byte() {
        // every byte value, at every offset of the eight-byte words, before each terminator
        let naive = |c: &[u8], s: usize| {
            s + c[s..]
                .iter()
                .position(|b| b" \t\n>".contains(b))
                .unwrap_or(c.len() - s)
        };
        for t in [b' ', b'\t', b'\n', b'>'] {
            for fill in 0..=255u8 {
                for at in 0..20 {
                    let mut c = vec![fill; 24];
                    c[at] = t;
                    for s in 0..c.len() {
                        assert_eq!(Linker::name_end(&c, s), naive(&c, s), "{t} {fill} {at} {s}");
                    }
                }
            }
        }
    }
}
