//! The golden-vector runner: every case of `tests/vectors/` run against hexroot's tools.
//!
//! Each case runs as a real process, in a scratch copy of its folder, under `umask 022`,
//! with stdin from `/dev/null` (or the case's `stdin` file) and an empty environment. The
//! process is this test binary itself, re-executed with `HEXROOT_GOLDEN_TOOL=NAME`, which
//! then calls the tool's library entry point exactly as the tool's one-line binary does
//! (`hexroot::TOOLS`); so the runner needs no separately built binaries.
//!
//! What is compared (see `tests/vectors/README.md`):
//! - success cases: exit status, stdout, every expected output file's bytes and mode, no
//!   output where the reference left none, and stderr empty exactly when the reference's
//!   was (its text may differ: ours is meant to be better);
//! - failure cases: a non-zero status, a non-empty message, no panic, and no output file
//!   created or changed;
//! - cases listed in [`DIFFERENCES`]: hexroot deliberately fails where the reference
//!   crashes, hangs or silently does something no real input relies on; the runner checks
//!   that we fail cleanly there (same checks as a failure case).
//!
//! - cases listed in [`VERSION_DIFFERENCES`]: `--version` prints the reference's text and then
//!   a line naming hexroot; the runner expects exactly that.
//!
//! Run one part with `cargo test --test golden -- FILTER` (substring of the case path).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Cases hexroot deliberately does not reproduce, with the reason. The runner checks that
/// the tool fails cleanly on each (non-zero status, a message, no panic, no output).
const DIFFERENCES: &[(&str, &str)] = &[
    // seed hex0
    ("seed/x86/hex0/g-digit", "the x86 seed reads G/g as a digit of value 16; other seeds skip it, so hexroot refuses the ambiguous byte"),
    ("seed/amd64/hex0/g-digit", "the amd64 seed reads G/g as a digit of value 16; other seeds skip it, so hexroot refuses the ambiguous byte"),
    ("seed/x86/hex0/all-byte-values", "the input has a G/g outside a comment, which the x86 seed reads as a digit of value 16 and other seeds skip; hexroot refuses the ambiguous byte"),
    ("seed/amd64/hex0/all-byte-values", "the input has a G/g outside a comment, which the amd64 seed reads as a digit of value 16 and other seeds skip; hexroot refuses the ambiguous byte"),
    ("seed/x86/hex0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/amd64/hex0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/aarch64/hex0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv32/hex0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv64/hex0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/x86/hex0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/aarch64/hex0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv32/hex0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv64/hex0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    // seed catm: hexroot's catm is mescc-tools catm, which reports what the seeds skip
    ("seed/x86/catm/no-arguments", "the seed catm exits 0 doing nothing; hexroot follows mescc-tools catm (error, exit 1)"),
    ("seed/amd64/catm/no-arguments", "the seed catm exits 0 doing nothing; hexroot follows mescc-tools catm (error, exit 1)"),
    ("seed/aarch64/catm/no-arguments", "the seed catm exits 0 doing nothing; hexroot follows mescc-tools catm (error, exit 1)"),
    ("seed/riscv32/catm/no-arguments", "the seed catm exits 0 doing nothing; hexroot follows mescc-tools catm (error, exit 1)"),
    ("seed/riscv64/catm/no-arguments", "the seed catm exits 0 doing nothing; hexroot follows mescc-tools catm (error, exit 1)"),
    ("seed/x86/catm/output-unopenable", "the seed catm exits 0 having written nothing; hexroot reports the unwritable output"),
    ("seed/amd64/catm/output-unopenable", "the seed catm exits 0 having written nothing; hexroot reports the unwritable output"),
    ("seed/aarch64/catm/output-unopenable", "the seed catm exits 0 having written nothing; hexroot reports the unwritable output"),
    ("seed/riscv32/catm/output-unopenable", "the seed catm exits 0 having written nothing; hexroot reports the unwritable output"),
    ("seed/riscv64/catm/output-unopenable", "the seed catm exits 0 having written nothing; hexroot reports the unwritable output"),
    ("seed/amd64/catm/missing-middle", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/aarch64/catm/missing-middle", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/riscv32/catm/missing-middle", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/riscv64/catm/missing-middle", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/amd64/catm/missing-only", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/aarch64/catm/missing-only", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/riscv32/catm/missing-only", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    ("seed/riscv64/catm/missing-only", "the seed catm silently skips an unreadable input; hexroot names it and fails (as mescc-tools catm)"),
    // knight VM
    ("knight/div_int_min_by_minus_one", "the reference VM is killed by SIGFPE (exit 136, no message); hexroot reports the divide overflow as a fault (exit 1)"),
    // hex2 (mescc-tools 1.7.0)
    ("hex2/unknown-architecture-continues", "the reference prints a warning without a newline and silently links for knight; hexroot reports the unknown architecture (exit 1)"),
    // NUL bytes in names (issue 15 class 2): the references' names are C strings
    ("hex2/nul-in-label-name", "the reference cuts the label name at the NUL byte and links; hexroot refuses a NUL byte in a name, naming its line and column"),
    ("m1/nul-in-define-name", "the reference cuts the DEFINE name at the NUL byte and prints the rest as a new token; hexroot refuses a NUL byte in a token"),
    ("m1/nul-in-token-after-define", "the reference matches the DEFINE named by the part before the NUL byte; hexroot refuses a NUL byte in a token"),
    ("m1/nul-in-label", "the reference prints the label cut at the NUL byte; hexroot refuses a NUL byte in a token"),
    // a directory as an input (issue 15 class 5): the reference reads it as empty
    ("hex2/directory-input", "the reference reads a directory as an empty input and succeeds; hexroot names it and fails (no real input is a directory; reading it as empty hides a wrong path)"),
    ("blood-elf/directory-input", "the reference reads a directory as an empty input and succeeds; hexroot names it and fails (no real input is a directory; reading it as empty hides a wrong path)"),
    ("catm/directory-input", "the reference reads a directory as an empty input and succeeds; hexroot names it and fails (no real input is a directory; reading it as empty hides a wrong path)"),
    // knight VM (issue 15 class 6)
    ("knight/illegal_instruction_past_end_of_memory", "the reference reads the instruction's missing bytes outside its buffer (they happen to be 00); hexroot prints the same message with the missing bytes as 00 and adds a note saying they are past the end of memory"),
    // seed hex1 and hex2-0
    ("seed/x86/hex1/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/x86/hex1/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/x86/hex2-0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/x86/hex2-0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/amd64/hex1/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/amd64/hex1/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/amd64/hex2-0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/amd64/hex2-0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/aarch64/hex1/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/aarch64/hex1/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/aarch64/hex2-0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/aarch64/hex2-0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv32/hex1/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv32/hex1/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv32/hex2-0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv32/hex2-0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv64/hex1/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv64/hex1/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/riscv64/hex2-0/no-output-arg", "the seed exits 0 having written nothing when OUTPUT is missing; hexroot reports the bad command line"),
    ("seed/riscv64/hex2-0/output-unopenable", "the seed exits 0 having written nothing when OUTPUT cannot be created; hexroot reports it"),
    ("seed/x86/hex1/pct-undefined-label", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/amd64/hex1/pct-undefined-label", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/aarch64/hex1/amp-abs32", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/aarch64/hex1/tilde-self-undefined", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/riscv32/hex1/undefined-label", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/riscv64/hex1/undefined-label", "the seed hex1 silently reads an undefined label as address 0; hexroot reports the undefined label"),
    ("seed/aarch64/hex2-0/missing-input", "the aarch64 seed hex2-0 exits 0 with an empty output when INPUT cannot be opened; hexroot reports it"),
    // seed M0: unknown words are errors in hexroot unless --pass-unknown
    ("seed/x86/M0/crlf-tokens", "the seed M0 prints the unknown word 'X\\r' unchanged; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/x86/M0/define-redefined-late", "the uses before the DEFINEs are unknown words there, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/x86/M0/extra-args-ignored", "the input is the unknown word X, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/x86/M0/numbers-bare-tail", "the word 0y is unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/x86/M0/output-unopenable", "the seed exits 0 when OUTPUT cannot be created (writing to stdout or nowhere); hexroot reports the unwritable output"),
    ("seed/x86/M0/passthrough", "the words Some, words, HERE, xyz are unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/x86/M0/whitespace", "the input is the unknown words X and Y, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/crlf-tokens", "the seed M0 prints the unknown word 'X\\r' unchanged; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/define-redefined-late", "the uses before the DEFINEs are unknown words there, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/extra-args-ignored", "the input is the unknown word X, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/numbers-bare-tail", "the word 0y is unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/output-unopenable", "the seed exits 0 when OUTPUT cannot be created (writing to stdout or nowhere); hexroot reports the unwritable output"),
    ("seed/amd64/M0/passthrough", "the words Some, words, HERE, xyz are unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/amd64/M0/whitespace", "the input is the unknown words X and Y, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/crlf-tokens", "the seed M0 prints the unknown word 'X\\r' unchanged; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/define-redefined-late", "the uses before the DEFINEs are unknown words there, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/extra-args-ignored", "the input is the unknown word X, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/numbers-bare-tail", "the word 0y is unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/output-unopenable", "the seed exits 0 when OUTPUT cannot be created (writing to stdout or nowhere); hexroot reports the unwritable output"),
    ("seed/aarch64/M0/passthrough", "the words Some, words, HERE, xyz are unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/aarch64/M0/whitespace", "the input is the unknown words X and Y, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv32/M0/crlf-tokens", "the seed M0 prints the unknown word 'X\\r' unchanged; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv32/M0/define-redefined-late", "the uses before the DEFINEs are unknown words there, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv32/M0/extra-args-ignored", "the input is the unknown word X, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv32/M0/output-unopenable", "the seed exits 0 when OUTPUT cannot be created (writing to stdout or nowhere); hexroot reports the unwritable output"),
    ("seed/riscv32/M0/passthrough", "the words Some, words, HERE, xyz are unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv32/M0/whitespace", "the input is the unknown words X and Y, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv64/M0/crlf-tokens", "the seed M0 prints the unknown word 'X\\r' unchanged; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv64/M0/define-redefined-late", "the uses before the DEFINEs are unknown words there, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv64/M0/extra-args-ignored", "the input is the unknown word X, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv64/M0/output-unopenable", "the seed exits 0 when OUTPUT cannot be created (writing to stdout or nowhere); hexroot reports the unwritable output"),
    ("seed/riscv64/M0/passthrough", "the words Some, words, HERE, xyz are unknown, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
    ("seed/riscv64/M0/whitespace", "the input is the unknown words X and Y, printed unchanged by the seed; hexroot's M0 rejects unknown words unless --pass-unknown"),
];

/// Cases whose standard output is deliberately the reference's plus one line: `--version`
/// of the drop-in tools prints the reference's text unchanged, then
/// `toolbase::cli::hexroot_line()`, so that anyone can tell which implementation is
/// installed. The runner checks exactly that.
const VERSION_DIFFERENCES: &[(&str, &str)] = &[
    ("hex2/version", "hexroot's hex2 adds a line naming hexroot and its version after 'hex2 1.7.0'"),
    ("m1/version", "hexroot's M1 adds a line naming hexroot and its version after 'M1 1.7.0'"),
    ("blood-elf/version", "hexroot's blood-elf adds a line naming hexroot and its version after the reference's two lines"),
];

/// How a suite's case folders are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// mescc-tools and seed cases: `cmd` one argument per line, output `out`, `expected`,
    /// `mode`, `stdout`, `stderr`, `exit`.
    Lines,
    /// Knight VM cases: `cmd` one whitespace-separated line, output `tape_02` vs
    /// `tape_02.expected` (absent: no `tape_02` may be created), stdout, stderr and exit
    /// compared exactly, also for failures (a fault leaves the tape written so far).
    Knight,
}

/// A folder of cases run with one tool.
struct Suite {
    /// Folder under `tests/vectors/`, e.g. `seed/x86/hex0`.
    dir: String,
    /// Tool name in `hexroot::TOOLS`.
    tool: &'static str,
    /// Arguments put before the case's own (e.g. the architecture of a seed suite).
    prefix: Vec<String>,
    layout: Layout,
}

const SEED_ARCHES: &[&str] = &["x86", "amd64", "aarch64", "riscv32", "riscv64"];

fn suites() -> Vec<Suite> {
    let mut s = vec![Suite {
        dir: "catm".into(),
        tool: "catm",
        prefix: vec![],
        layout: Layout::Lines,
    }];
    s.push(Suite {
        dir: "hex2".into(),
        tool: "hex2",
        prefix: vec![],
        layout: Layout::Lines,
    });
    s.push(Suite {
        dir: "m1".into(),
        tool: "M1",
        prefix: vec![],
        layout: Layout::Lines,
    });
    s.push(Suite {
        dir: "blood-elf".into(),
        tool: "blood-elf",
        prefix: vec![],
        layout: Layout::Lines,
    });
    for arch in SEED_ARCHES {
        s.push(Suite {
            dir: format!("seed/{arch}/M0"),
            tool: "M0",
            prefix: vec!["--architecture".into(), arch.to_string()],
            layout: Layout::Lines,
        });
        s.push(Suite {
            dir: format!("seed/{arch}/hex0"),
            tool: "hex0",
            prefix: vec!["--architecture".into(), arch.to_string()],
            layout: Layout::Lines,
        });
        s.push(Suite {
            dir: format!("seed/{arch}/hex1"),
            tool: "hex1",
            prefix: vec!["--architecture".into(), arch.to_string()],
            layout: Layout::Lines,
        });
        s.push(Suite {
            dir: format!("seed/{arch}/hex2-0"),
            tool: "hex2",
            prefix: vec![
                "--seed-hex2-0".into(),
                "--architecture".into(),
                arch.to_string(),
            ],
            layout: Layout::Lines,
        });
        s.push(Suite {
            dir: format!("seed/{arch}/catm"),
            tool: "catm",
            prefix: vec![],
            layout: Layout::Lines,
        });
    }
    s.push(Suite {
        dir: "knight".into(),
        tool: "stage0-vm",
        prefix: vec![],
        layout: Layout::Knight,
    });
    s
}

fn main() {
    if let Some(tool) = std::env::var_os("HEXROOT_GOLDEN_TOOL") {
        run_tool_in_child(&tool.to_string_lossy());
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors");
    let mut cases = Vec::new();
    for suite in suites() {
        let dir = root.join(&suite.dir);
        let mut names: Vec<_> = fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        for name in names {
            let id = format!("{}/{name}", suite.dir);
            if filters.is_empty() || filters.iter().any(|f| id.contains(f.as_str())) {
                cases.push((
                    id,
                    dir.join(&name),
                    suite.tool,
                    suite.prefix.clone(),
                    suite.layout,
                ));
            }
        }
    }
    for (listed, _) in DIFFERENCES.iter().chain(VERSION_DIFFERENCES) {
        assert!(
            root.join(listed).is_dir(),
            "DIFFERENCES names a case that does not exist: {listed}"
        );
    }

    let scratch_root = std::env::temp_dir().join(format!("hexroot-golden-{}", std::process::id()));
    fs::create_dir_all(&scratch_root).expect("scratch directory");
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(String, Result<Outcome, String>)>> = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get()) * 2;
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, dir, tool, prefix, layout)) = cases.get(i) else {
                    break;
                };
                let scratch = scratch_root.join(i.to_string());
                let r = run_case(id, dir, tool, prefix, *layout, &scratch);
                results.lock().unwrap().push((id.clone(), r));
            });
        }
    });
    let _ = fs::remove_dir_all(&scratch_root);

    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));
    let mut per_suite: BTreeMap<String, [usize; 3]> = BTreeMap::new();
    let mut failures = Vec::new();
    for (id, r) in &results {
        let suite = id
            .rsplit_once('/')
            .map_or(id.as_str(), |(s, _)| s)
            .to_string();
        let counts = per_suite.entry(suite).or_default();
        match r {
            Ok(Outcome::Passed) => counts[0] += 1,
            Ok(Outcome::DifferedCleanly) => counts[1] += 1,
            Err(why) => {
                counts[2] += 1;
                failures.push(format!("FAIL {id}\n    {}", why.replace('\n', "\n    ")));
            }
        }
    }
    let mut out = std::io::stdout().lock();
    for f in &failures {
        let _ = writeln!(out, "{f}");
    }
    let mut total = [0usize; 3];
    for (suite, c) in &per_suite {
        let _ = writeln!(
            out,
            "{suite:<24} {:>3} passed, {:>2} listed differences (failed cleanly), {:>2} failed",
            c[0], c[1], c[2]
        );
        for k in 0..3 {
            total[k] += c[k];
        }
    }
    let _ = writeln!(
        out,
        "golden vectors: {} cases, {} passed, {} listed differences, {} failed",
        results.len(),
        total[0],
        total[1],
        total[2]
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

/// In the re-executed child: run the named tool with our arguments and exit with its
/// status, as its binary would.
fn run_tool_in_child(name: &str) -> ! {
    let tool = hexroot::tool(name).unwrap_or_else(|| {
        eprintln!("golden: no tool named {name}");
        std::process::exit(101)
    });
    let mut args: Vec<OsString> = std::env::args_os().collect();
    args[0] = OsString::from(name);
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut err = std::io::stderr().lock();
    let mut streams = toolbase::cli::Streams {
        stdout: &mut out,
        stderr: &mut err,
        stdout_is_terminal: false,
        cwd: None,
    };
    let status = tool(&args, &mut streams);
    let _ = out.flush();
    std::process::exit(status)
}

enum Outcome {
    Passed,
    DifferedCleanly,
}

fn read_opt(p: &Path) -> Option<Vec<u8>> {
    fs::read(p).ok()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            fs::copy(e.path(), &target)?;
            // As the generator's files were: created under umask 022.
            fs::set_permissions(&target, fs::Permissions::from_mode(0o644))?;
        }
    }
    Ok(())
}

fn run_case(
    id: &str,
    case: &Path,
    tool: &str,
    prefix: &[String],
    layout: Layout,
    scratch: &Path,
) -> Result<Outcome, String> {
    if layout == Layout::Knight {
        return run_knight_case(id, case, tool, scratch);
    }
    let work = scratch.join("case");
    copy_dir(case, &work).map_err(|e| format!("cannot copy case: {e}"))?;
    let cmd = fs::read_to_string(case.join("cmd")).map_err(|e| format!("no cmd: {e}"))?;
    let args: Vec<&str> = cmd.lines().collect();
    let want_exit: i32 = fs::read_to_string(case.join("exit"))
        .map_err(|e| format!("no exit: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("bad exit file: {e}"))?;
    let mut want_stdout = read_opt(&case.join("stdout")).unwrap_or_default();
    if VERSION_DIFFERENCES.iter().any(|(c, _)| *c == id) {
        want_stdout.extend_from_slice(format!("{}\n", toolbase::cli::hexroot_line()).as_bytes());
    }
    let want_stderr = read_opt(&case.join("stderr")).unwrap_or_default();
    let want_out = read_opt(&case.join("expected"));
    let want_mode = read_opt(&case.join("mode"))
        .map(|m| {
            u32::from_str_radix(String::from_utf8_lossy(&m).trim(), 8).map_err(|e| e.to_string())
        })
        .transpose()?;
    let out_path = work.join("out");
    let out_before = read_opt(&out_path);

    let stdout_path = scratch.join("stdout");
    let stderr_path = scratch.join("stderr");
    let stdin = match case.join("stdin").is_file() {
        true => Stdio::from(fs::File::open(case.join("stdin")).map_err(|e| e.to_string())?),
        false => Stdio::null(),
    };
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg("umask 022; exec \"$@\"")
        .arg("sh")
        .arg(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(prefix)
        .args(&args)
        .current_dir(&work)
        .env_clear()
        .env("HEXROOT_GOLDEN_TOOL", tool)
        .stdin(stdin)
        .stdout(fs::File::create(&stdout_path).map_err(|e| e.to_string())?)
        .stderr(fs::File::create(&stderr_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start the tool: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the tool hung (killed after 120 s)".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let got_stdout = fs::read(&stdout_path).unwrap_or_default();
    let got_stderr = fs::read(&stderr_path).unwrap_or_default();
    let shown_stderr = String::from_utf8_lossy(&got_stderr).into_owned();
    if let Some(sig) = status.signal() {
        return Err(format!("killed by signal {sig}; stderr:\n{shown_stderr}"));
    }
    let got_exit = status.code().unwrap_or(-1);
    if got_exit == 101 || shown_stderr.contains("panicked at") {
        return Err(format!("the tool panicked:\n{shown_stderr}"));
    }
    let out_after = read_opt(&out_path);
    let listed = DIFFERENCES.iter().any(|(c, _)| *c == id);

    if want_exit != 0 || listed {
        // A failure, ours or deliberately ours: fail cleanly and leave no output behind.
        if got_exit == 0 {
            return Err(format!(
                "expected failure{} but exited 0",
                if listed { " (listed difference)" } else { "" }
            ));
        }
        if !listed && got_exit != want_exit {
            return Err(format!(
                "exit status {got_exit}, reference {want_exit}; stderr:\n{shown_stderr}"
            ));
        }
        if got_stderr.iter().all(u8::is_ascii_whitespace) {
            return Err("failed without a message on stderr".into());
        }
        if out_after != out_before {
            return Err("a failed run created or changed the output file".into());
        }
        let leftovers: Vec<_> = fs::read_dir(&work)
            .map_err(|e| e.to_string())?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        if !leftovers.is_empty() {
            return Err(format!("temporary files left behind: {leftovers:?}"));
        }
        return Ok(if listed {
            Outcome::DifferedCleanly
        } else {
            Outcome::Passed
        });
    }

    if got_exit != 0 {
        return Err(format!(
            "exit status {got_exit}, reference 0; stderr:\n{shown_stderr}"
        ));
    }
    if got_stdout != want_stdout {
        return Err(format!(
            "stdout differs:\n--- reference\n{}\n--- hexroot\n{}",
            String::from_utf8_lossy(&want_stdout),
            String::from_utf8_lossy(&got_stdout)
        ));
    }
    if want_stderr.is_empty() != got_stderr.is_empty() {
        return Err(format!(
            "stderr should be {}; reference:\n{}\nhexroot:\n{shown_stderr}",
            if want_stderr.is_empty() {
                "empty"
            } else {
                "non-empty"
            },
            String::from_utf8_lossy(&want_stderr)
        ));
    }
    match (&want_out, &out_after) {
        (Some(want), Some(got)) if want != got => {
            let at = want
                .iter()
                .zip(got)
                .position(|(a, b)| a != b)
                .unwrap_or(want.len().min(got.len()));
            return Err(format!(
                "output differs: {} bytes expected, {} written, first difference at offset {at}",
                want.len(),
                got.len()
            ));
        }
        (Some(_), None) => return Err("no output file written".into()),
        (None, Some(got)) if out_before.as_ref() != Some(got) => {
            return Err("an output file was written where the reference wrote none".into())
        }
        _ => {}
    }
    if let (Some(mode), true) = (want_mode, want_out.is_some()) {
        let got = fs::metadata(&out_path)
            .map_err(|e| e.to_string())?
            .permissions()
            .mode()
            & 0o7777;
        if got != mode {
            return Err(format!("output mode {got:o}, reference {mode:o}"));
        }
    }
    let _ = fs::remove_dir_all(scratch);
    Ok(Outcome::Passed)
}

/// Runs one Knight VM case (see [`Layout::Knight`]).
fn run_knight_case(id: &str, case: &Path, tool: &str, scratch: &Path) -> Result<Outcome, String> {
    let work = scratch.join("case");
    copy_dir(case, &work).map_err(|e| format!("cannot copy case: {e}"))?;
    let cmd = fs::read_to_string(case.join("cmd")).map_err(|e| format!("no cmd: {e}"))?;
    let want_exit: i32 = fs::read_to_string(case.join("exit"))
        .map_err(|e| format!("no exit: {e}"))?
        .trim()
        .parse()
        .map_err(|e| format!("bad exit file: {e}"))?;
    let want_stdout = read_opt(&case.join("stdout")).unwrap_or_default();
    let want_stderr = read_opt(&case.join("stderr")).unwrap_or_default();
    let want_tape = read_opt(&case.join("tape_02.expected"));
    let stdin = match case.join("stdin").is_file() {
        true => Stdio::from(fs::File::open(case.join("stdin")).map_err(|e| e.to_string())?),
        false => Stdio::null(),
    };
    let (stdout_path, stderr_path) = (scratch.join("stdout"), scratch.join("stderr"));
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args(cmd.split_whitespace())
        .current_dir(&work)
        .env_clear()
        .env("HEXROOT_GOLDEN_TOOL", tool)
        .stdin(stdin)
        .stdout(fs::File::create(&stdout_path).map_err(|e| e.to_string())?)
        .stderr(fs::File::create(&stderr_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start the tool: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("the tool hung (killed after 120 s)".into());
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let out = std::process::Output {
        status,
        stdout: fs::read(&stdout_path).unwrap_or_default(),
        stderr: fs::read(&stderr_path).unwrap_or_default(),
    };
    let got_stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if let Some(sig) = out.status.signal() {
        return Err(format!("killed by signal {sig}; stderr:\n{got_stderr}"));
    }
    let got_exit = out.status.code().unwrap_or(-1);
    if got_exit == 101 || got_stderr.contains("panicked at") {
        return Err(format!("the tool panicked:\n{got_stderr}"));
    }
    let got_tape = read_opt(&work.join("tape_02"));
    if DIFFERENCES.iter().any(|(c, _)| *c == id) {
        if got_exit != 1 || got_stderr.trim().is_empty() || got_tape.is_some() {
            return Err(format!(
                "listed difference: expected a clean fault (exit 1, a message, no tape_02); got exit {got_exit}, stderr:\n{got_stderr}"
            ));
        }
        return Ok(Outcome::DifferedCleanly);
    }
    let mut why = Vec::new();
    if got_exit != want_exit {
        why.push(format!("exit status {got_exit}, reference {want_exit}"));
    }
    if out.stdout != want_stdout {
        why.push(format!(
            "stdout differs: reference {:?}, hexroot {:?}",
            String::from_utf8_lossy(&want_stdout),
            String::from_utf8_lossy(&out.stdout)
        ));
    }
    if out.stderr != want_stderr {
        why.push(format!(
            "stderr differs:\n--- reference\n{}--- hexroot\n{got_stderr}",
            String::from_utf8_lossy(&want_stderr)
        ));
    }
    match (&want_tape, &got_tape) {
        (Some(w), Some(g)) if w != g => why.push(format!(
            "tape_02 differs: reference {w:02X?}, hexroot {g:02X?}"
        )),
        (Some(_), None) => why.push("tape_02 was not created".into()),
        (None, Some(_)) => why.push("tape_02 was created where the reference created none".into()),
        _ => {}
    }
    if !why.is_empty() {
        return Err(why.join("\n"));
    }
    let _ = fs::remove_dir_all(scratch);
    Ok(Outcome::Passed)
}
