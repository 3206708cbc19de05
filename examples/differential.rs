//! Differential testing of hexroot against the reference tools.
//!
//! For each tool it generates programs (random and hostile: every construct, every
//! architecture and byte order, NUL bytes, carriage returns, long names, comments,
//! boundary numbers, directories as inputs, `/dev/stdout` and `/dev/null` as outputs),
//! runs the reference and hexroot on each in two scratch folders, and compares the exit
//! status and every output byte. A difference is either one of the
//! known, documented differences of [`KNOWN`] (README "Compatibility", `DIFFERENCES` in
//! `tests/golden.rs`), recognised by what the reference did and by hexroot's message, or
//! it is unexplained: then the case is kept for inspection and the run fails.
//!
//! It needs the reference binaries, so it is not part of CI; `tests/differential/run.sh`
//! builds hexroot and runs it:
//!
//! ```sh
//! bash tests/differential/run.sh REFS [COUNT] [TOOL...]
//! ```
//!
//! REFS holds `mescc-tools/{hex2,M1,blood-elf,catm}` (mescc-tools 1.7.0),
//! `seed/x86/{hex0,hex1,hex2-0,M0,catm}` (the stage0-posix x86 seeds and the tools built
//! by the chain's first steps) and `stage0/vm` (stage0's C Knight VM); see
//! `tests/differential/README.md`. The generator is a fixed xorshift PRNG, so a seed and a
//! count name exactly the same programs on every machine.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use stage0_vm::asm::Builder;
use stage0_vm::isa::{Group, Op, OPCODES};

/// xorshift64*: small, deterministic, good enough to pick constructs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    fn bytes(&mut self, items: &[&'static [u8]]) -> &'static [u8] {
        items[self.below(items.len())]
    }
}

/// One generated program: the files to create, the command lines of both tools.
#[derive(Default)]
struct Case {
    /// Files created in the scratch folder before the run (name, bytes).
    files: Vec<(String, Vec<u8>)>,
    /// Folders created before the run.
    dirs: Vec<String>,
    /// The reference's arguments.
    theirs: Vec<String>,
    /// hexroot's arguments.
    ours: Vec<String>,
    /// Files whose bytes and mode are compared after the run.
    outputs: Vec<String>,
    /// Compare stderr exactly (the Knight VM's messages are pinned), not just its emptiness.
    exact_stderr: bool,
}

impl Case {
    fn file(&mut self, name: &str, bytes: Vec<u8>) {
        self.files.push((name.to_string(), bytes));
    }
    fn both(&mut self, args: &[&str]) {
        for a in args {
            self.theirs.push(a.to_string());
            self.ours.push(a.to_string());
        }
    }
    /// The text of all input files, for the classifiers.
    fn input(&self) -> Vec<u8> {
        self.files.iter().flat_map(|(_, b)| b.clone()).collect()
    }
}

/// What one run did.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// Exit status, or 128 + signal; `None` when it was killed for taking too long.
    status: Option<i32>,
    signal: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// Each compared output: its bytes and mode, `None` if absent.
    outputs: Vec<Option<(Vec<u8>, u32)>>,
}

/// How long a run may take before it counts as looping forever.
const TIMEOUT: Duration = Duration::from_secs(2);
/// When only one side hit [`TIMEOUT`], that side runs again with this much time: the
/// reference's shifts and rotates take one loop turn per bit, so a count in the billions
/// takes seconds, and a loaded machine makes any run slow. Only a side that also runs out
/// of this time is judged as looping.
const RETRY_TIMEOUT: Duration = Duration::from_secs(60);

fn run(
    program: &Path,
    case: &Case,
    args: &[String],
    dir: &Path,
    timeout: Duration,
) -> std::io::Result<Outcome> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    for d in &case.dirs {
        fs::create_dir_all(dir.join(d))?;
    }
    for (name, bytes) in &case.files {
        fs::write(dir.join(name), bytes)?;
    }
    let (so, se) = (dir.join(".stdout"), dir.join(".stderr"));
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&so)?)
        .stderr(fs::File::create(&se)?)
        .spawn()?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_micros(200));
    };
    let outputs = case
        .outputs
        .iter()
        .map(|o| {
            let p = dir.join(o);
            let bytes = fs::read(&p).ok()?;
            let mode = fs::metadata(&p).ok()?.permissions().mode() & 0o7777;
            Some((bytes, mode))
        })
        .collect();
    Ok(Outcome {
        signal: status.is_some_and(|s| s.signal().is_some()),
        status: status.map(|s| s.code().unwrap_or(128 + s.signal().unwrap_or(0))),
        stdout: fs::read(&so).unwrap_or_default(),
        stderr: fs::read(&se).unwrap_or_default(),
        outputs,
    })
}

/// Why two outcomes differ, or `None` when they agree under the comparison rules of the
/// golden vectors: the same status; on success the same stdout and outputs (bytes and
/// mode) and stderr empty exactly when the reference's is; on failure only the status
/// (the reference leaves partial outputs, hexroot none).
fn compare(case: &Case, theirs: &Outcome, ours: &Outcome) -> Option<String> {
    if theirs.status != ours.status {
        return Some(format!(
            "status: reference {:?}, hexroot {:?}",
            theirs.status, ours.status
        ));
    }
    if case.exact_stderr && theirs.stderr != ours.stderr {
        return Some("stderr differs".into());
    }
    if theirs.status != Some(0) {
        return None;
    }
    if theirs.stdout != ours.stdout {
        return Some("stdout differs".into());
    }
    if theirs.stderr.is_empty() != ours.stderr.is_empty() {
        return Some("stderr empty in one only".into());
    }
    for (i, (a, b)) in theirs.outputs.iter().zip(&ours.outputs).enumerate() {
        match (a, b) {
            (Some((x, _)), Some((y, _))) if x != y => {
                return Some(format!("output {} differs", case.outputs[i]))
            }
            (Some((_, m)), Some((_, n))) if m != n => {
                return Some(format!("output {} mode {m:o} vs {n:o}", case.outputs[i]))
            }
            (Some(_), None) | (None, Some(_)) => {
                return Some(format!("output {} written by one only", case.outputs[i]))
            }
            _ => {}
        }
    }
    None
}

/// A known, documented difference: the tool, a name, and how to recognise it from the
/// case and the two outcomes. Each is listed in README's Compatibility section.
struct Known {
    tool: &'static str,
    name: &'static str,
    matches: fn(&Case, &Outcome, &Outcome) -> bool,
}

fn failed_with(o: &Outcome, marker: &str) -> bool {
    o.status.is_some_and(|s| s != 0) && String::from_utf8_lossy(&o.stderr).contains(marker)
}

fn ok(o: &Outcome) -> bool {
    o.status == Some(0)
}

/// Bytes outside `#`/`;` comments (to the end of the line) of hex0-like text.
fn outside_comments(text: &[u8], cr_ends: bool) -> Vec<u8> {
    let mut v = Vec::new();
    let mut in_comment = false;
    for &c in text {
        if in_comment {
            in_comment = !(c == b'\n' || (cr_ends && c == b'\r'));
        } else if c == b'#' || c == b';' {
            in_comment = true;
        } else {
            v.push(c);
        }
    }
    v
}

/// Whether `text` ends inside a `#`/`;` comment (no newline, or carriage return where
/// `cr_ends`, after it).
fn ends_in_comment(text: &[u8], cr_ends: bool) -> bool {
    let mut in_comment = false;
    for &c in text {
        if in_comment {
            in_comment = !(c == b'\n' || (cr_ends && c == b'\r'));
        } else if c == b'#' || c == b';' {
            in_comment = true;
        }
    }
    in_comment
}

const KNOWN: &[Known] = &[
    Known {
        tool: "hex0",
        name: "x86 seed reads G/g as a digit of value 16",
        matches: |c, _, o| {
            outside_comments(&c.input(), false)
                .iter()
                .any(|b| b.eq_ignore_ascii_case(&b'g'))
                && (failed_with(o, "'G'") || failed_with(o, "'g'"))
        },
    },
    Known {
        tool: "hex1",
        name: "seed hex1 reads an undefined label as address 0",
        matches: |_, t, o| ok(t) && failed_with(o, "undefined"),
    },
    Known {
        tool: "hex2-0",
        name: "seed hex2-0 crashes on an undefined label when none is defined",
        matches: |_, t, o| t.signal && failed_with(o, "undefined"),
    },
    Known {
        tool: "M0",
        name: "seed M0 copies an unknown word unchanged (hexroot: error unless --pass-unknown)",
        matches: |c, t, o| {
            ok(t) && !c.ours.iter().any(|a| a == "--pass-unknown") && failed_with(o, "unknown")
        },
    },
    Known {
        tool: "M0",
        name: "the seed M0 crashes on an input that prints nothing or ends in a cut-off word",
        matches: |_, t, o| {
            t.signal && (failed_with(o, "nothing to assemble") || failed_with(o, "runs to the end of the file"))
        },
    },
    Known {
        tool: "M0",
        name: "the seed M0 hangs on a comment at the end of the file without a newline",
        // hexroot may report an earlier error of the same input first
        matches: |_, t, o| t.status.is_none() && failed_with(o, "error"),
    },
    Known {
        tool: "hex1",
        name: "the seed hangs on a comment running to the end of the file",
        // hexroot may report an earlier error of the same input first
        matches: |c, t, o| t.status.is_none() && ends_in_comment(&c.input(), true) && failed_with(o, "error"),
    },
    Known {
        tool: "hex2-0",
        name: "the seed hangs on a comment running to the end of the file",
        matches: |c, t, o| t.status.is_none() && ends_in_comment(&c.input(), true) && failed_with(o, "error"),
    },
    Known {
        tool: "hex1",
        name: "a NUL byte as a label name (the seed never defines label 0)",
        matches: |_, _, o| failed_with(o, "NUL byte in a"),
    },
    Known {
        tool: "hex2-0",
        name: "a NUL byte in a label or pointer name (the seed's C strings)",
        matches: |_, _, o| failed_with(o, "NUL byte in a"),
    },
    Known {
        tool: "hex2",
        name: "a RISC-V '.' word cut short by the end of a file: the reference loops forever",
        // hexroot may report an earlier error of the same input first
        matches: |c, t, o| t.status.is_none() && c.input().contains(&b'.') && failed_with(o, "error"),
    },
    Known {
        tool: "hex2",
        name: "a NUL byte in a label or pointer name (the reference's C strings)",
        matches: |_, _, o| failed_with(o, "NUL byte in a"),
    },
    Known {
        tool: "hex2",
        name: "a pointer sigil at the very end of a file",
        matches: |_, _, o| failed_with(o, "has no name"),
    },
    Known {
        tool: "M1",
        name: "a NUL byte in a token (the reference's C strings)",
        matches: |_, _, o| failed_with(o, "NUL byte in a token"),
    },
    Known {
        tool: "M1",
        name: "bytes >= 0x80 in a string: the reference writes a garbage high digit",
        matches: |c, t, o| {
            ok(t) && ok(o) && c.input().iter().any(|&b| b >= 0x80)
        },
    },
    Known {
        tool: "catm",
        name: "a directory as an input: the reference reads it as empty",
        matches: |c, t, o| ok(t) && !c.dirs.is_empty() && failed_with(o, "directory"),
    },
    Known {
        tool: "hex2",
        name: "a directory as an input: the reference reads it as empty",
        matches: |c, t, o| ok(t) && !c.dirs.is_empty() && failed_with(o, "directory"),
    },
    Known {
        tool: "blood-elf",
        name: "a directory as an input: the reference reads it as empty",
        matches: |c, t, o| ok(t) && !c.dirs.is_empty() && failed_with(o, "directory"),
    },
    Known {
        tool: "seed-catm",
        name: "the seed catm skips an unreadable input (hexroot: mescc-tools catm, an error)",
        matches: |_, t, o| ok(t) && o.status == Some(1),
    },
    Known {
        tool: "vm",
        name: "an instruction running past the end of memory (the reference reads outside its buffer)",
        matches: |_, _, o| failed_with(o, "runs past the end of memory"),
    },
    Known {
        tool: "vm",
        name: "INT_MIN / -1: the reference is killed by SIGFPE",
        matches: |_, t, o| t.signal && t.status == Some(136) && failed_with(o, "overflow exception"),
    },
    Known {
        tool: "vm",
        name: "TTY input with stdin not a terminal: the reference exits 1 silently (hexroot reads stdin)",
        matches: |_, t, _| t.status == Some(1) && t.stderr.is_empty(),
    },
    Known {
        tool: "vm",
        name: "a skip over the last instruction in memory (the reference reads the next instruction's length outside its buffer)",
        matches: |_, _, o| failed_with(o, "would skip an instruction outside of World"),
    },
    Known {
        tool: "vm",
        name: "a loop reopening a tape: the reference leaks a stream per FOPEN and aborts at the open-files limit (hexroot loops)",
        matches: |c, t, o| {
            let opens = |rom: &[u8]| {
                rom.windows(4)
                    .any(|w| w == [0x42, 0x10, 0x00, 0x00] || w == [0x42, 0x10, 0x00, 0x01])
            };
            o.status.is_none()
                && failed_with(t, "not valid for")
                && c.files.iter().any(|(n, b)| n == "rom" && opens(b))
        },
    },
    Known {
        tool: "vm",
        name: "both loop forever (killed after the timeout)",
        matches: |_, t, o| t.status.is_none() && o.status.is_none(),
    },
];

// ---------------------------------------------------------------------------------------
// Generators

const NAMES: &[&str] = &["a", "b", "main", "loop", "x_1", "L", "ELF_base", "end"];

fn name(r: &mut Rng) -> Vec<u8> {
    match r.below(40) {
        0 => {
            // NUL inside (class: C-string names)
            let mut n = r.pick(NAMES).as_bytes().to_vec();
            n.insert(r.below(n.len() + 1), 0);
            n
        }
        1 => vec![b'n'; *r.pick(&[4094, 4095, 4096, 4097])],
        2 => vec![0xC3, b'\r'],
        _ => r.pick(NAMES).as_bytes().to_vec(),
    }
}

fn sep(r: &mut Rng) -> &'static [u8] {
    r.bytes(&[&b" "[..], b" ", b"\t", b"\n", b"\n", b"\r\n", b"  "])
}

fn comment(r: &mut Rng, out: &mut Vec<u8>) {
    out.push(*r.pick(b"#;"));
    out.extend_from_slice(r.bytes(&[&b" text :x %y"[..], b"", b" \x00 nul", b" ' \" "]));
    out.extend_from_slice(r.bytes(&[&b"\n"[..], b"\r", b"\r\n", b"\n", b""]));
}

/// Digits of one byte in a hex2 byte mode (base 16, 8 or 2).
fn byte_digits(r: &mut Rng, base: u32, out: &mut Vec<u8>) {
    let v = r.below(256) as u32;
    match base {
        8 => {
            let v = if r.chance(5) { 256 + v } else { v };
            out.extend_from_slice(format!("{v:03o}").as_bytes());
        }
        2 => out.extend_from_slice(format!("{v:08b}").as_bytes()),
        _ => {
            let s = format!("{v:02X}");
            let s = if r.chance(30) { s.to_lowercase() } else { s };
            out.extend_from_slice(s.as_bytes());
        }
    }
}

const HEX2_ARCHES: &[&str] = &[
    "knight-native",
    "knight-posix",
    "x86",
    "amd64",
    "armv7l",
    "aarch64",
    "ppc64le",
    "riscv32",
    "riscv64",
];

fn gen_hex2_text(r: &mut Rng, base: u32, riscv: bool) -> Vec<u8> {
    let mut t = Vec::new();
    for _ in 0..r.below(40) {
        match r.below(24) {
            0..=7 => byte_digits(r, base, &mut t),
            8..=9 => {
                t.push(b':');
                t.extend(name(r));
            }
            10..=12 => {
                t.push(*r.pick(b"!@$~%&"));
                t.extend(name(r));
                if r.chance(15) {
                    t.push(b'>');
                    t.extend(name(r));
                }
            }
            13 => t.push(b'<'),
            14 => t.push(b'^'),
            15 if riscv => {
                // a `.` word, sometimes with sigils, labels or dots inside
                t.push(b'.');
                for _ in 0..4 {
                    byte_digits(r, base, &mut t);
                    if r.chance(20) {
                        t.extend_from_slice(r.bytes(&[
                            &b" "[..],
                            b":a ",
                            b"%b",
                            b".",
                            b"&x",
                            b"<",
                            b"\n",
                        ]));
                    }
                }
            }
            16 => comment(r, &mut t),
            17 => t.push(r.next() as u8),
            18 => t.push(0),
            _ => t.extend_from_slice(sep(r)),
        }
        if r.chance(60) {
            t.extend_from_slice(sep(r));
        }
    }
    // most labels defined somewhere
    if r.chance(70) {
        for n in NAMES {
            if r.chance(70) {
                t.extend_from_slice(format!("\n:{n}\n").as_bytes());
            }
        }
    }
    if r.chance(5) {
        t.push(*r.pick(b"!@$~%&:."));
    }
    t
}

fn gen_hex2(r: &mut Rng) -> Case {
    let mut c = Case::default();
    let arch = *r.pick(HEX2_ARCHES);
    let riscv = arch.starts_with("riscv");
    let base = match r.below(10) {
        0 => 8,
        1 => 2,
        _ => 16,
    };
    c.both(&["-A", arch]);
    if !r.chance(3) {
        c.both(&[*r.pick(&["--little-endian", "--big-endian"])]);
    }
    if r.chance(80) {
        let b = *r.pick(&[
            "0x8048000",
            "0x600000",
            "0",
            "0x10000",
            "4096",
            "0xFFFFFFF0",
            "-8",
        ]);
        c.both(&["-B", b]);
    }
    match base {
        8 => c.both(&["--octal"]),
        2 => c.both(&["--binary"]),
        _ => {}
    }
    for i in 0..1 + r.below(3) {
        let f = format!("in{i}.hex2");
        let text = gen_hex2_text(r, base, riscv);
        c.file(&f, text);
        c.both(&["-f", &f]);
    }
    if r.chance(2) {
        c.dirs.push("d".into());
        c.both(&["-f", "d"]);
    }
    output(r, &mut c, "-o");
    c
}

/// The output of a mescc-tools case (after `flag`, if any): mostly the regular file `out`;
/// sometimes an output that is not a regular file (issue 15 class 4), written directly:
/// `/dev/stdout` (compared as stdout) or `/dev/null`.
fn output(r: &mut Rng, c: &mut Case, flag: &str) {
    let path = match r.below(40) {
        0 => "/dev/stdout",
        1 => "/dev/null",
        _ => "out",
    };
    if !flag.is_empty() {
        c.both(&[flag]);
    }
    c.both(&[path]);
    if path == "out" {
        c.outputs.push("out".into());
    }
}

fn gen_m1_text(r: &mut Rng, riscv: bool) -> Vec<u8> {
    let mut t = Vec::new();
    let defs = ["NOP", "MOV", "ret", "x", "LI"];
    for d in defs {
        if r.chance(80) {
            let v = *r.pick(&[
                "90",
                "B8",
                "0F05",
                "'01 02'",
                "\"ab\"",
                "00000000",
                ".13000000",
            ]);
            t.extend_from_slice(format!("DEFINE {d} {v}\n").as_bytes());
        }
    }
    for _ in 0..r.below(30) {
        match r.below(26) {
            0..=6 => t.extend_from_slice(r.pick(&defs).as_bytes()),
            7..=9 => {
                let prefix = *r.pick(&["%", "!", "@", "$", "~", "&"]);
                let n = *r.pick(&[
                    "0",
                    "1",
                    "-1",
                    "127",
                    "128",
                    "-128",
                    "255",
                    "256",
                    "32767",
                    "-32768",
                    "65535",
                    "65536",
                    "0x7F",
                    "0xFF",
                    "0x10",
                    "-0x10",
                    "2147483647",
                    "-2147483648",
                    "4294967295",
                    "0b101",
                    "0777",
                    "12a",
                    "",
                ]);
                t.extend_from_slice(format!("{prefix}{n}").as_bytes());
            }
            10 => {
                t.push(b':');
                t.extend(name(r));
            }
            11 => {
                t.push(*r.pick(b"&%!@$~"));
                t.extend(name(r));
            }
            12 => t.extend_from_slice(r.bytes(&[
                &b"\"hello\""[..],
                b"'0F 05'",
                b"\"\"",
                b"\"a\nb\"",
                b"'ab",
                b"\"\x00\"",
                b"\"\xC3\xA9\"",
            ])),
            13 => comment(r, &mut t),
            14 => t.push(0),
            15 => t.extend_from_slice(b"DEFINE"),
            16 => t.extend_from_slice(r.bytes(&[&b"<4"[..], b"<", b"^", b".", b"0xFF"])),
            17 if riscv => {
                t.extend_from_slice(r.bytes(&[&b".13000000"[..], b"!x", b"@main", b"~a", b"$b"]))
            }
            18 => t.extend(vec![b'T'; *r.pick(&[4094, 4095, 4096])]),
            19 => t.push(r.next() as u8),
            _ => t.extend_from_slice(sep(r)),
        }
        t.extend_from_slice(sep(r));
    }
    t
}

fn gen_m1(r: &mut Rng) -> Case {
    let mut c = Case::default();
    let arch = *r.pick(HEX2_ARCHES);
    c.both(&["--architecture", arch]);
    if !r.chance(3) {
        c.both(&[*r.pick(&["--little-endian", "--big-endian"])]);
    }
    match r.below(10) {
        0 => c.both(&["--octal"]),
        1 => c.both(&["--binary"]),
        _ => {}
    }
    for i in 0..1 + r.below(3) {
        let f = format!("in{i}.M1");
        let text = gen_m1_text(r, arch.starts_with("riscv"));
        c.file(&f, text);
        c.both(&["-f", &f]);
    }
    output(r, &mut c, "-o");
    c
}

fn gen_blood_elf(r: &mut Rng) -> Case {
    let mut c = Case::default();
    if r.chance(50) {
        c.both(&["--64"]);
    }
    if !r.chance(5) {
        c.both(&[*r.pick(&["--little-endian", "--big-endian"])]);
    }
    match r.below(6) {
        0 => c.both(&["--octal"]),
        1 => c.both(&["--binary"]),
        2 => c.both(&["--hex"]),
        _ => {}
    }
    if r.chance(20) {
        c.both(&["--entry", *r.pick(&["_start", "main", "x"])]);
    }
    for i in 0..1 + r.below(2) {
        let mut t = Vec::new();
        for _ in 0..r.below(30) {
            match r.below(14) {
                0..=3 => {
                    t.push(b':');
                    if r.chance(10) {
                        t.push(*r.pick(b" \t\n\"#:>"));
                    }
                    t.extend(name(r));
                }
                4 => comment(r, &mut t),
                5 => t.extend_from_slice(r.bytes(&[&b"\"a :b\""[..], b"\"", b"'x :y'"])),
                6 => t.push(0),
                7 => t.push(r.next() as u8),
                8 => t.extend_from_slice(b"mov_eax, %1"),
                _ => t.extend_from_slice(sep(r)),
            }
            t.extend_from_slice(sep(r));
        }
        if r.chance(5) {
            t.push(b':');
        }
        let f = format!("in{i}.M1");
        c.file(&f, t);
        c.both(&["-f", &f]);
    }
    if r.chance(2) {
        c.dirs.push("d".into());
        c.both(&["-f", "d"]);
    }
    output(r, &mut c, "-o");
    c
}

fn random_bytes(r: &mut Rng, max: usize) -> Vec<u8> {
    (0..r.below(max + 1)).map(|_| r.next() as u8).collect()
}

fn gen_catm(r: &mut Rng) -> Case {
    let mut c = Case::default();
    if r.chance(3) {
        c.both(&["nodir/out"]);
        c.outputs.push("out".into());
    } else {
        output(r, &mut c, "");
    }
    for i in 0..r.below(5) {
        match r.below(20) {
            0 => c.both(&["missing"]),
            1 => {
                c.dirs.push("d".into());
                c.both(&["d"]);
            }
            _ => {
                let f = format!("in{i}");
                let size = if r.chance(5) { 70_000 } else { 300 };
                let b = random_bytes(r, size);
                c.file(&f, b);
                c.both(&[&f]);
            }
        }
    }
    c
}

fn gen_hex0_text(r: &mut Rng) -> Vec<u8> {
    let mut t = Vec::new();
    for _ in 0..r.below(60) {
        match r.below(12) {
            0..=5 => t.push(*r.pick(b"0123456789ABCDEFabcdef")),
            6 => comment(r, &mut t),
            7 => t.push(r.next() as u8),
            _ => t.extend_from_slice(sep(r)),
        }
    }
    t
}

/// A seed case: `TOOL INPUT OUTPUT` for the seed, hexroot's form with `ours_prefix`.
fn seed_case(text: Vec<u8>, ours_prefix: &[&str]) -> Case {
    let mut c = Case::default();
    c.file("in", text);
    c.theirs = vec!["in".into(), "out".into()];
    c.ours = ours_prefix.iter().map(|s| s.to_string()).collect();
    c.ours.extend(["in".to_string(), "out".to_string()]);
    c.outputs.push("out".into());
    c
}

fn gen_seed_hex0(r: &mut Rng) -> Case {
    seed_case(gen_hex0_text(r), &["--architecture", "x86"])
}

fn gen_seed_hex1(r: &mut Rng) -> Case {
    let mut t = Vec::new();
    let labels: &[u8] = if r.chance(10) {
        b"abcxyz\x00"
    } else {
        b"abcxyz"
    };
    for _ in 0..r.below(50) {
        match r.below(14) {
            0..=5 => t.push(*r.pick(b"0123456789ABCDEFabcdef")),
            6 => {
                t.push(b':');
                t.push(*r.pick(labels));
            }
            7 | 8 => {
                t.push(b'%');
                t.push(*r.pick(labels));
            }
            9 => comment(r, &mut t),
            10 => t.push(r.next() as u8),
            _ => t.extend_from_slice(sep(r)),
        }
    }
    for &l in b"abcxyz" {
        if r.chance(60) {
            t.extend_from_slice(&[b'\n', b':', l, b'\n']);
        }
    }
    seed_case(t, &["--architecture", "x86"])
}

fn gen_seed_hex2_0(r: &mut Rng) -> Case {
    let mut t = Vec::new();
    for _ in 0..r.below(50) {
        match r.below(16) {
            0..=5 => byte_digits(r, 16, &mut t),
            6 | 7 => {
                t.push(b':');
                t.extend(name(r));
            }
            8..=10 => {
                t.push(*r.pick(b"!@$%&"));
                t.extend(name(r));
                if r.chance(15) {
                    t.push(b'>');
                    t.extend(name(r));
                }
            }
            11 => comment(r, &mut t),
            12 => t.push(r.next() as u8),
            _ => t.extend_from_slice(sep(r)),
        }
        t.extend_from_slice(sep(r));
    }
    for n in NAMES {
        if r.chance(70) {
            t.extend_from_slice(format!("\n:{n}\n").as_bytes());
        }
    }
    seed_case(t, &["--seed-hex2-0", "--architecture", "x86"])
}

fn gen_seed_m0(r: &mut Rng) -> Case {
    let mut t = Vec::new();
    let defs = ["NOP", "MOV", "ret", "x"];
    for d in defs {
        if r.chance(80) {
            let v = *r.pick(&["90", "B8", "0F05", "00000000"]);
            t.extend_from_slice(format!("DEFINE {d} {v}\n").as_bytes());
        }
    }
    for _ in 0..r.below(30) {
        match r.below(16) {
            0..=6 => t.extend_from_slice(r.pick(&defs).as_bytes()),
            7..=8 => {
                let p = *r.pick(&["%", "!", "@"]);
                let n = *r.pick(&["0", "1", "-1", "127", "255", "0x10", "65535", "-2147483648"]);
                t.extend_from_slice(format!("{p}{n}").as_bytes());
            }
            9 => t.extend_from_slice(r.bytes(&[&b":lab"[..], b"%lab", b"&lab"])),
            10 => t.extend_from_slice(r.bytes(&[&b"\"hi\""[..], b"'0F 05'"])),
            11 => comment(r, &mut t),
            12 => t.extend_from_slice(b"unknown_word"),
            _ => {}
        }
        t.extend_from_slice(r.bytes(&[&b"\n"[..], b"\n", b" ", b"\t"]));
    }
    let pass = r.chance(50);
    let mut prefix = vec!["--architecture", "x86"];
    if pass {
        prefix.push("--pass-unknown");
    }
    seed_case(t, &prefix)
}

fn gen_seed_catm(r: &mut Rng) -> Case {
    let mut c = Case::default();
    c.both(&["out"]);
    c.outputs.push("out".into());
    for i in 0..1 + r.below(4) {
        let f = format!("in{i}");
        let b = random_bytes(r, 300);
        c.file(&f, b);
        c.both(&[&f]);
    }
    c
}

/// A Knight ROM of valid instructions (mostly), HALCODE tape calls and a few raw bytes.
fn gen_vm(r: &mut Rng) -> Case {
    let mut c = Case {
        exact_stderr: true,
        ..Case::default()
    };
    let mut b = Builder::new();
    let ops: Vec<Op> = OPCODES
        .iter()
        .filter(|o| !matches!(o.group, Group::Halcode | Group::Halt))
        .map(|o| o.op)
        .collect();
    let reg = |r: &mut Rng| {
        if r.chance(70) {
            r.below(4) as u8
        } else {
            r.below(16) as u8
        }
    };
    // open tape_02 for writing, tape_01 for reading, sometimes
    if r.chance(60) {
        b.op(Op::Loadui, &[0], 0x1101)
            .op(Op::Halcode, &[], 0x100001);
    }
    if r.chance(40) {
        b.op(Op::Loadui, &[0], 0x1100)
            .op(Op::Halcode, &[], 0x100000);
    }
    for _ in 0..r.below(24) {
        match r.below(20) {
            0..=11 => {
                let op = *r.pick(&ops);
                let is_jump = op.name().contains("JUMP")
                    || op.name().contains("BRANCH")
                    || op.name().contains("CALL")
                    || op.name().contains("RET")
                    || op.name().contains("POPPC")
                    || op.name().contains("JSR");
                if is_jump && !r.chance(10) {
                    continue;
                }
                let mut imm = *r.pick(&[0, 1, 2, 4, -1, -4, 0x7FFF, -0x8000, 6, 12]);
                let regs = [reg(r), reg(r), reg(r), reg(r)];
                if op.name().starts_with("SL") || op.name().starts_with("SR") {
                    // the reference shifts one bit per loop turn: keep counts small
                    imm = r.below(40) as i32;
                    b.op(Op::Loadui, &[regs[1]], r.below(40) as i32);
                    b.op(Op::Loadui, &[regs[2]], r.below(40) as i32);
                }
                b.op(op, &regs, imm);
            }
            12 => {
                b.op(Op::Loadui, &[0], *r.pick(&[0x41, 0x0A, 0xFF]));
                b.op(Op::Loadui, &[1], *r.pick(&[0x1101, 0x1100, 0]));
                b.op(Op::Halcode, &[], 0x100200);
            }
            13 => {
                b.op(Op::Loadui, &[1], *r.pick(&[0x1100, 0x1101]));
                b.op(Op::Halcode, &[], 0x100100);
            }
            14 => {
                b.op(Op::Loadui, &[0], *r.pick(&[0x1100, 0x1101]));
                let code = *r.pick(&[0x100002, 0x100003, 0x100001, 0x100000, 0x110000]);
                b.op(Op::Halcode, &[], code);
            }
            15 => {
                let raw = random_bytes(r, 6);
                b.bytes(&raw);
            }
            _ => {
                b.op(Op::Loadui, &[reg(r)], r.below(0x10000) as i32);
            }
        }
    }
    if r.chance(90) {
        b.op(Op::Halt, &[], 0);
    }
    let rom = b.finish().unwrap_or_default();
    let memory = match r.below(6) {
        0 => rom.len().max(1),
        1 => rom.len() + 1 + r.below(3),
        _ => *r.pick(&[256, 1024, 4096]),
    };
    c.file("rom", rom);
    c.both(&["--rom", "rom", "--memory", &memory.to_string()]);
    if r.chance(80) {
        c.file("tape_01", random_bytes(r, 40));
    }
    c.both(&["--tape_01", "tape_01"]);
    let t2 = if r.chance(5) {
        "nodir/tape_02"
    } else {
        "tape_02"
    };
    c.both(&["--tape_02", t2]);
    c.outputs.push("tape_02".into());
    c
}

// ---------------------------------------------------------------------------------------
// The driver

struct Tool {
    name: &'static str,
    /// The reference, relative to REFS.
    reference: &'static str,
    /// hexroot's binary, in the folder of built binaries.
    ours: &'static str,
    generate: fn(&mut Rng) -> Case,
}

const TOOLS: &[Tool] = &[
    Tool {
        name: "hex2",
        reference: "mescc-tools/hex2",
        ours: "hex2",
        generate: gen_hex2,
    },
    Tool {
        name: "M1",
        reference: "mescc-tools/M1",
        ours: "M1",
        generate: gen_m1,
    },
    Tool {
        name: "blood-elf",
        reference: "mescc-tools/blood-elf",
        ours: "blood-elf",
        generate: gen_blood_elf,
    },
    Tool {
        name: "catm",
        reference: "mescc-tools/catm",
        ours: "catm",
        generate: gen_catm,
    },
    Tool {
        name: "hex0",
        reference: "seed/x86/hex0",
        ours: "hex0",
        generate: gen_seed_hex0,
    },
    Tool {
        name: "hex1",
        reference: "seed/x86/hex1",
        ours: "hex1",
        generate: gen_seed_hex1,
    },
    Tool {
        name: "hex2-0",
        reference: "seed/x86/hex2-0",
        ours: "hex2",
        generate: gen_seed_hex2_0,
    },
    Tool {
        name: "M0",
        reference: "seed/x86/M0",
        ours: "M0",
        generate: gen_seed_m0,
    },
    Tool {
        name: "seed-catm",
        reference: "seed/x86/catm",
        ours: "catm",
        generate: gen_seed_catm,
    },
    Tool {
        name: "vm",
        reference: "stage0/vm",
        ours: "stage0-vm",
        generate: gen_vm,
    },
];

struct Tally {
    cases: usize,
    agreed: usize,
    known: BTreeMap<&'static str, usize>,
    unexplained: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: differential REFS OURS_BIN_DIR COUNT SEED KEEP_DIR [TOOL...]";
    let [refs, ours_dir, count, seed, keep, only @ ..] = &args[..] else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let (Ok(count), Ok(seed)) = (count.parse::<usize>(), seed.parse::<u64>()) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let scratch = std::env::temp_dir().join(format!("hexroot-differential-{}", std::process::id()));
    let keep = PathBuf::from(keep);
    let mut failed = false;
    for tool in TOOLS {
        if !only.is_empty() && !only.iter().any(|o| o == tool.name) {
            continue;
        }
        let theirs = fs::canonicalize(Path::new(refs).join(tool.reference));
        let ours = fs::canonicalize(Path::new(ours_dir).join(tool.ours));
        let (Ok(theirs), Ok(ours)) = (theirs, ours) else {
            eprintln!(
                "{}: skipped (missing {} or {})",
                tool.name, tool.reference, tool.ours
            );
            failed = true;
            continue;
        };
        let tally = run_tool(tool, &theirs, &ours, count, seed, &scratch, &keep);
        println!(
            "{:<10} {:>6} programs: {:>6} agree, {:>5} known differences, {} unexplained",
            tool.name,
            tally.cases,
            tally.agreed,
            tally.known.values().sum::<usize>(),
            tally.unexplained
        );
        for (k, n) in &tally.known {
            println!("           {n:>6} x {k}");
        }
        failed |= tally.unexplained > 0;
    }
    let _ = fs::remove_dir_all(&scratch);
    std::process::exit(i32::from(failed));
}

fn run_tool(
    tool: &Tool,
    theirs: &Path,
    ours: &Path,
    count: usize,
    seed: u64,
    scratch: &Path,
    keep: &Path,
) -> Tally {
    let mut tally = Tally {
        cases: 0,
        agreed: 0,
        known: BTreeMap::new(),
        unexplained: 0,
    };
    let mut rng = Rng::new(
        seed ^ tool
            .name
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(31) + u64::from(b)),
    );
    // generated in order (the same programs on every machine), run by several workers
    let cases: Vec<Case> = (0..count).map(|_| (tool.generate)(&mut rng)).collect();
    let next = AtomicUsize::new(0);
    let verdicts = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for w in 0..WORKERS {
            let (next, verdicts, cases) = (&next, &verdicts, &cases);
            scope.spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(case) = cases.get(n) else { break };
                let (dt, dour) = (
                    scratch.join(format!("theirs{w}")),
                    scratch.join(format!("ours{w}")),
                );
                let v = judge(tool, n, case, theirs, ours, &dt, &dour, keep);
                verdicts.lock().unwrap_or_else(|e| e.into_inner()).push(v);
            });
        }
    });
    for v in verdicts.into_inner().unwrap_or_else(|e| e.into_inner()) {
        tally.cases += 1;
        match v {
            Verdict::Agreed => tally.agreed += 1,
            Verdict::Known(k) => *tally.known.entry(k).or_default() += 1,
            Verdict::Unexplained => tally.unexplained += 1,
        }
    }
    tally
}

/// Workers running cases side by side (most of a case's time is process start-up).
const WORKERS: usize = 4;

enum Verdict {
    Agreed,
    Known(&'static str),
    Unexplained,
}

/// Runs one case with both tools and judges the outcomes; an unexplained difference is
/// kept under `keep` with a `why` file.
#[allow(clippy::too_many_arguments)]
fn judge(
    tool: &Tool,
    n: usize,
    case: &Case,
    theirs: &Path,
    ours: &Path,
    dt: &Path,
    dour: &Path,
    keep: &Path,
) -> Verdict {
    let outcomes = (|| {
        let mut t = run(theirs, case, &case.theirs, dt, TIMEOUT)?;
        let mut o = run(ours, case, &case.ours, dour, TIMEOUT)?;
        if t.status.is_none() != o.status.is_none() {
            if t.status.is_none() {
                t = run(theirs, case, &case.theirs, dt, RETRY_TIMEOUT)?;
            } else {
                o = run(ours, case, &case.ours, dour, RETRY_TIMEOUT)?;
            }
        }
        std::io::Result::Ok((t, o))
    })();
    let (t, o) = match outcomes {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{} case {n}: cannot run: {e}", tool.name);
            return Verdict::Unexplained;
        }
    };
    let Some(why) = compare(case, &t, &o) else {
        return Verdict::Agreed;
    };
    if let Some(k) = KNOWN
        .iter()
        .find(|k| k.tool == tool.name && (k.matches)(case, &t, &o))
    {
        return Verdict::Known(k.name);
    }
    let dir = keep.join(format!("{}-{n}", tool.name));
    let _ = fs::remove_dir_all(&dir);
    let _ = copy_case(dt, &dir.join("theirs")).and(copy_case(dour, &dir.join("ours")));
    let _ = fs::write(
        dir.join("why"),
        format!(
            "{why}\nreference: {:?}\nhexroot:   {:?}\ntheirs: {:?}\nours: {:?}\nreference stderr:\n{}\nhexroot stderr:\n{}\n",
            t.status,
            o.status,
            case.theirs,
            case.ours,
            String::from_utf8_lossy(&t.stderr),
            String::from_utf8_lossy(&o.stderr)
        ),
    );
    eprintln!(
        "{} case {n}: UNEXPLAINED: {why} (kept in {})",
        tool.name,
        dir.display()
    );
    Verdict::Unexplained
}

fn copy_case(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        if e.file_type()?.is_file() {
            fs::copy(e.path(), to.join(e.file_name()))?;
        }
    }
    Ok(())
}
