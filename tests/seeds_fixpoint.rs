//! hexroot's own seeds (`seeds/`): each `hex0.hex0` assembles to the committed binary,
//! `seeds/SHA256SUMS` matches the binaries, every seed stays under 512 bytes, and, where
//! this host can run them, the native x86 and amd64 seeds reproduce themselves from their
//! own source and agree with `hex0::assemble` on the golden-vector inputs, on edge cases and
//! on random sources.
//!
//! The only processes spawned are the x86/amd64 seeds themselves. The Knight ROM (run in
//! `stage0-vm`) and the M1 + hex2 rebuild paths are checked by crossverify's tests.

use std::fs;
use std::io::ErrorKind;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hex0::{assemble, Dialect};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// Each seed: its directory under `seeds/` and its binary's file name.
const SEEDS: [(&str, &str); 3] = [
    ("knight", "hex0.rom"),
    ("x86", "hex0-seed"),
    ("amd64", "hex0-seed"),
];

/// The seeds that are Linux ELF programs.
const NATIVE: [&str; 2] = ["x86", "amd64"];

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

fn read(path: &Path) -> Vec<u8> {
    fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn hex0_sources_assemble_to_the_committed_seeds() {
    for (arch, binary) in SEEDS {
        let dir = seeds_dir().join(arch);
        let source = read(&dir.join("hex0.hex0"));
        let assembled = assemble(&source, Dialect::Portable)
            .unwrap_or_else(|e| panic!("seeds/{arch}/hex0.hex0: {e:?}"));
        let committed = read(&dir.join(binary));
        assert!(
            assembled == committed,
            "seeds/{arch}/hex0.hex0 assembles to {} bytes that differ from seeds/{arch}/{binary} ({} bytes)",
            assembled.len(),
            committed.len()
        );
    }
}

#[test]
fn seeds_are_under_512_bytes() {
    for (arch, binary) in SEEDS {
        let len = read(&seeds_dir().join(arch).join(binary)).len();
        assert!(len < 512, "seeds/{arch}/{binary} is {len} bytes");
    }
}

#[test]
fn sha256sums_lists_every_seed_and_matches() {
    let manifest = String::from_utf8(read(&seeds_dir().join("SHA256SUMS"))).unwrap();
    let mut listed = Vec::new();
    for (n, line) in manifest.lines().enumerate() {
        // GNU format: 64 lower-case hex digits, two spaces (text mode), the path.
        let (digest, path) = line
            .split_once("  ")
            .unwrap_or_else(|| panic!("SHA256SUMS:{}: not `DIGEST  PATH`", n + 1));
        assert!(
            digest.len() == 64
                && digest
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
            "SHA256SUMS:{}: bad digest {digest:?}",
            n + 1
        );
        let actual = hex(&Sha256::digest(read(&seeds_dir().join(path))));
        assert_eq!(digest, actual, "SHA256SUMS:{}: {path}", n + 1);
        listed.push(path.to_string());
    }
    assert!(
        manifest.ends_with('\n'),
        "SHA256SUMS must end with a newline"
    );
    let expected: Vec<String> = SEEDS.iter().map(|(a, b)| format!("{a}/{b}")).collect();
    assert_eq!(
        listed, expected,
        "SHA256SUMS must list exactly the three seeds, in this order"
    );
}

#[test]
fn readme_quotes_the_current_sizes_and_digests() {
    let readme = String::from_utf8(read(&seeds_dir().join("README.md"))).unwrap();
    for (arch, binary) in SEEDS {
        let bytes = read(&seeds_dir().join(arch).join(binary));
        let row = format!("| {} | `{}` |", bytes.len(), hex(&Sha256::digest(&bytes)));
        assert!(
            readme.contains(&row),
            "seeds/README.md does not quote seeds/{arch}/{binary} as `{row}`"
        );
    }
}

/// A scratch directory under Cargo's per-target temp dir, fresh for each call.
fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("seeds-{}-{name}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A native seed, copied (executable) into a scratch directory.
struct Native {
    arch: &'static str,
    program: PathBuf,
}

impl Native {
    /// The seed for `arch`, or `Err(reason)` if this host cannot run it.
    fn get(arch: &'static str) -> Result<Native, String> {
        if !cfg!(target_os = "linux") {
            return Err("not a Linux host".into());
        }
        if !matches!(std::env::consts::ARCH, "x86_64" | "x86") {
            return Err(format!(
                "host is {}, not x86/x86_64",
                std::env::consts::ARCH
            ));
        }
        if arch == "amd64" && std::env::consts::ARCH != "x86_64" {
            return Err("host is 32-bit x86".into());
        }
        let dir = scratch(&format!("bin-{arch}"));
        let program = dir.join("hex0-seed");
        fs::copy(seeds_dir().join(arch).join("hex0-seed"), &program).unwrap();
        fs::set_permissions(&program, fs::Permissions::from_mode(0o755)).unwrap();
        let native = Native { arch, program };
        // A trial run with no arguments: the seed must refuse (a NULL input path).
        match native.spawn(&[]) {
            Ok(status) => {
                assert!(!status.success(), "{arch} seed without arguments exited 0");
                Ok(native)
            }
            // ENOEXEC: e.g. a kernel without 32-bit (IA32) emulation.
            Err(e) if e.raw_os_error() == Some(8) || e.kind() == ErrorKind::PermissionDenied => {
                Err(format!("this host cannot execute it: {e}"))
            }
            Err(e) => panic!("cannot run the {arch} seed: {e}"),
        }
    }

    /// Runs the seed with `args`; fails the test if it runs for more than 20 seconds.
    fn spawn(&self, args: &[&Path]) -> std::io::Result<ExitStatus> {
        let mut child = Command::new(&self.program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if start.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the {} seed hangs on {args:?}", self.arch);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Assembles `source` with the seed: its exit status and output file.
    fn run(&self, source: &[u8]) -> (ExitStatus, Vec<u8>) {
        let dir = scratch(self.arch);
        let (input, output) = (dir.join("in.hex0"), dir.join("out"));
        fs::write(&input, source).unwrap();
        let status = self.spawn(&[&input, &output]).unwrap();
        let bytes = fs::read(&output).unwrap_or_default();
        let _ = fs::remove_dir_all(&dir);
        (status, bytes)
    }
}

/// The native seeds this host can run; prints why the others are skipped.
///
/// The seeds are copied and probed once per test process, under a lock: copying an
/// executable while another test thread forks can leave the copy's write descriptor open
/// in the child for a moment, and executing the copy then fails with "text file busy".
fn runnable(test: &str) -> &'static [Native] {
    static SEEDS: std::sync::OnceLock<Vec<Native>> = std::sync::OnceLock::new();
    let seeds = SEEDS.get_or_init(|| {
        NATIVE
            .iter()
            .filter_map(|&arch| match Native::get(arch) {
                Ok(n) => Some(n),
                Err(reason) => {
                    eprintln!("skipping the {arch} seed: {reason}");
                    None
                }
            })
            .collect()
    });
    if seeds.len() < NATIVE.len() {
        eprintln!(
            "{test}: runs {} of the {} native seeds",
            seeds.len(),
            NATIVE.len()
        );
    }
    seeds
}

#[test]
fn native_seeds_reproduce_themselves() {
    for seed in runnable("native_seeds_reproduce_themselves") {
        let dir = scratch(&format!("self-{}", seed.arch));
        let source = seeds_dir().join(seed.arch).join("hex0.hex0");
        let output = dir.join("out");
        let status = seed.spawn(&[&source, &output]).unwrap();
        assert!(
            status.success(),
            "{} seed on its own source: {status}",
            seed.arch
        );
        assert!(
            read(&output) == read(&seed.program),
            "the {} seed does not reproduce itself",
            seed.arch
        );
        // Created with open(..., 0700): owner bits set (unless the umask clears them),
        // nothing for group and others.
        let mode = fs::metadata(&output).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & 0o077, 0, "{} seed output mode {mode:o}", seed.arch);
        let _ = fs::remove_dir_all(&dir);
    }
}

#[test]
fn native_seeds_fail_on_unopenable_files() {
    for seed in runnable("native_seeds_fail_on_unopenable_files") {
        let dir = scratch(&format!("fail-{}", seed.arch));
        let input = dir.join("in.hex0");
        fs::write(&input, "00").unwrap();
        let missing = dir.join("missing.hex0");
        let bad_output = dir.join("no-such-dir").join("out");
        let out = dir.join("out");
        let status = seed.spawn(&[&missing, &out]).unwrap();
        assert!(!status.success(), "{}: missing input exited 0", seed.arch);
        assert!(
            !out.exists(),
            "{}: missing input still created the output",
            seed.arch
        );
        let status = seed.spawn(&[&input, &bad_output]).unwrap();
        assert!(
            !status.success(),
            "{}: uncreatable output exited 0",
            seed.arch
        );
        let status = seed.spawn(&[&input]).unwrap();
        assert!(
            !status.success(),
            "{}: missing OUTPUT argument exited 0",
            seed.arch
        );
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Fixed sources that pin the edges of the language.
const EDGE_CASES: &[&[u8]] = &[
    b"",
    b"0",
    b"012",
    b"1 2",
    b"1#x\n2",
    b"1;x\n2",
    b"#no newline at the end 12",
    b"AB # comment\r12\n34",
    b"\r\nab\r\nCD\r\n",
    b"0123456789abcdefABCDEF",
    b"/:@`GgZz[]{}xX\x00\xff\x7f 12",
    b"## only comments\n; here\n",
];

#[test]
fn native_seeds_agree_with_the_library_on_edge_cases_and_vector_inputs() {
    let seeds = runnable("native_seeds_agree_with_the_library_on_edge_cases_and_vector_inputs");
    if seeds.is_empty() {
        return;
    }
    let mut sources: Vec<(String, Vec<u8>)> = EDGE_CASES
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("edge case {i}"), s.to_vec()))
        .collect();
    // Every hex0 input of the seed golden vectors (all architectures).
    let vectors = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/seed");
    for arch in fs::read_dir(&vectors).unwrap() {
        let hex0_cases = arch.unwrap().path().join("hex0");
        let Ok(cases) = fs::read_dir(&hex0_cases) else {
            continue;
        };
        for case in cases {
            let case = case.unwrap().path();
            for file in fs::read_dir(&case).unwrap() {
                let file = file.unwrap().path();
                if file.extension().is_some_and(|e| e == "hex0") {
                    sources.push((file.display().to_string(), read(&file)));
                }
            }
        }
    }
    assert!(
        sources.len() > EDGE_CASES.len(),
        "no seed/*/hex0 vectors found"
    );
    for seed in seeds {
        let mut compared = 0;
        for (name, source) in &sources {
            // The seeds skip G/g, which the portable dialect refuses.
            let Ok(expected) = assemble(source, Dialect::Portable) else {
                continue;
            };
            let (status, output) = seed.run(source);
            assert!(status.success(), "{} seed on {name}: {status}", seed.arch);
            assert!(
                output == expected,
                "{} seed on {name}: output differs",
                seed.arch
            );
            compared += 1;
        }
        eprintln!(
            "{} seed: {compared} sources agree with hex0::assemble",
            seed.arch
        );
    }
}

/// Bytes a random hex0 source is drawn from: digits, comment starters, line ends, a
/// few skipped bytes (never G/g, which the portable dialect refuses).
fn source_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => prop::sample::select(b"0123456789abcdefABCDEF".to_vec()),
        1 => prop::sample::select(b"#;".to_vec()),
        2 => prop::sample::select(b"\n\r \t".to_vec()),
        1 => any::<u8>().prop_filter("G/g", |b| !matches!(b, b'G' | b'g')),
    ]
}

proptest! {
    // No failure persistence: a root `tests/` file has no `src/` beside it to anchor it.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::with_cases(48) })]

    #[test]
    fn native_seeds_agree_with_the_library(source in prop::collection::vec(source_byte(), 0..200)) {
        let expected = assemble(&source, Dialect::Portable).unwrap();
        for seed in runnable("native_seeds_agree_with_the_library") {
            let (status, output) = seed.run(&source);
            prop_assert!(status.success(), "{} seed: {}", seed.arch, status);
            prop_assert_eq!(&output, &expected, "{} seed", seed.arch);
        }
    }
}
