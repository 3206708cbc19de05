//! The main job end to end: every seed rebuilt by every path available here agrees with
//! `seeds/SHA256SUMS`; a tampered source is caught; a missing file is an error, not a
//! verdict.

mod common;
use common::{run, s, scratch};

use crossverify::seeds::{self, BuildPath, Outcome, SeedSource, Verdict, SEEDS};

/// Copies the bundled seeds into `dir` (so tests can tamper with them).
fn copy_bundled(dir: &std::path::Path) {
    for rel in SeedSource::files() {
        let bytes = SeedSource::Bundled.read(rel).unwrap();
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

#[test]
fn every_available_path_agrees() {
    let rows = seeds::run(&SeedSource::Bundled, &mut |_| {}).unwrap();
    println!("{}", seeds::table(&rows));
    for seed in &SEEDS {
        for path in [BuildPath::Shipped, BuildPath::Hex0, BuildPath::M1Hex2] {
            let row = rows
                .iter()
                .find(|r| r.seed == *seed && r.path == path)
                .unwrap();
            assert_eq!(
                row.verdict,
                Verdict::Agrees,
                "{} by {}",
                seed.name(),
                path.name()
            );
        }
    }
    for r in &rows {
        match &r.outcome {
            Outcome::NotAvailable(why) => {
                println!("skipped: {} by {}: {why}", r.seed.name(), r.path.name())
            }
            _ => assert_eq!(
                r.verdict,
                Verdict::Agrees,
                "{} by {}: {:?}",
                r.seed.name(),
                r.path.name(),
                r.outcome
            ),
        }
    }
    // The Knight seed always runs (the VM is ours): it is never skipped.
    let vm = rows.iter().find(|r| r.path == BuildPath::SeedInVm).unwrap();
    assert_eq!(vm.verdict, Verdict::Agrees, "{:?}", vm.outcome);
}

#[test]
fn subcommand_writes_a_manifest_sha256sum_accepts() {
    let dir = scratch("seeds-cli");
    let manifest = dir.join("m.sha256");
    let (status, out, err) = run(
        crossverify::seeds::cli::main,
        &["seeds", "--manifest", s(&manifest)],
    );
    assert_eq!(status, 0, "{out}{err}");
    assert!(
        out.contains("hex0/x86/hex0-seed") || out.contains("x86/hex0-seed"),
        "{out}"
    );
    let loaded = crossverify::report::load(&crossverify::report::path_for(&manifest)).unwrap();
    assert!(loaded
        .entries
        .iter()
        .any(|e| e.name == b"hex0/knight/hex0.rom"));
    assert_eq!(
        loaded.report.implementation_of(b"hex0/knight/hex0.rom"),
        Some("hexroot-hex0")
    );
}

#[test]
fn tampered_source_differs_and_exits_1() {
    let dir = scratch("seeds-tampered");
    copy_bundled(&dir);
    let src = dir.join("amd64/hex0.hex0");
    let mut text = std::fs::read(&src).unwrap();
    text.extend_from_slice(b"\n90 # one more byte\n");
    std::fs::write(&src, text).unwrap();
    let (status, out, _) = run(
        crossverify::seeds::cli::main,
        &["seeds", "-m", s(&dir.join("m.sha256")), s(&dir)],
    );
    assert_eq!(status, 1, "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("amd64/hex0-seed  hex0") && l.contains("DIFFERS")),
        "{out}"
    );
}

#[test]
fn missing_seed_file_is_an_error() {
    let dir = scratch("seeds-missing");
    copy_bundled(&dir);
    std::fs::remove_file(dir.join("x86/defs.M1")).unwrap();
    let (status, _, err) = run(
        crossverify::seeds::cli::main,
        &["seeds", "-m", s(&dir.join("m.sha256")), s(&dir)],
    );
    assert_eq!(status, 2);
    assert!(err.contains("x86/defs.M1"), "{err}");
    assert!(!dir.join("m.sha256").exists(), "no manifest after an error");
}

#[test]
fn sums_without_a_seed_is_an_error() {
    let dir = scratch("seeds-sums");
    copy_bundled(&dir);
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let kept: String = sums
        .lines()
        .filter(|l| !l.contains("knight"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(dir.join("SHA256SUMS"), kept).unwrap();
    let (status, _, err) = run(
        crossverify::seeds::cli::main,
        &["seeds", "-m", s(&dir.join("m.sha256")), s(&dir)],
    );
    assert_eq!(status, 2);
    assert!(err.contains("knight/hex0.rom"), "{err}");
}

#[test]
fn dispatch() {
    let (status, out, _) = run(crossverify::tool::main, &["crossverify", "--help"]);
    assert_eq!(status, 0);
    for sub in ["seeds", "manifest", "compare", "explain"] {
        assert!(out.contains(sub), "{out}");
        let (status, out, _) = run(crossverify::tool::main, &["crossverify", sub, "--help"]);
        assert_eq!(status, 0);
        assert!(out.starts_with("Usage: crossverify "), "{out}");
    }
    let (status, _, err) = run(crossverify::tool::main, &["crossverify", "frobnicate"]);
    assert_eq!(status, 2);
    assert!(err.contains("unknown subcommand 'frobnicate'"), "{err}");
}

#[test]
fn out_dir_holds_what_the_manifest_lists() {
    let dir = scratch("seeds-out");
    let (status, out, err) = run(
        crossverify::seeds::cli::main,
        &["seeds", "--quiet", "--out", s(&dir)],
    );
    assert_eq!(status, 0, "{out}{err}");
    let manifest = dir.join("crossverify-seeds.sha256");
    let loaded = crossverify::report::load(&crossverify::report::path_for(&manifest)).unwrap();
    for e in &loaded.entries {
        let bytes = std::fs::read(dir.join(e.display_name())).unwrap();
        assert_eq!(crossverify::sha256_hex(&bytes), e.sha256);
    }
    match std::process::Command::new("sha256sum")
        .args(["-c", "--strict", "crossverify-seeds.sha256"])
        .current_dir(&dir)
        .output()
    {
        Ok(o) => assert!(
            o.status.success() && o.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("skipped: sha256sum not runnable here: {e}"),
    }
}

#[test]
fn a_binary_the_host_cannot_execute_is_not_available_never_agreement() {
    let dir = scratch("seeds-noexec");
    copy_bundled(&dir);
    // Not an executable format for any kernel: execve fails with ENOEXEC.
    std::fs::write(dir.join("x86/hex0-seed"), [0u8; 64]).unwrap();
    let rows = seeds::run(&SeedSource::Dir(dir.clone()), &mut |_| {}).unwrap();
    let native = rows
        .iter()
        .find(|r| r.seed.dir == "x86" && r.path == BuildPath::SeedNative)
        .unwrap();
    assert_eq!(
        native.verdict,
        Verdict::NotAvailable,
        "{:?}",
        native.outcome
    );
    match &native.outcome {
        Outcome::NotAvailable(why) => assert!(why.contains("not available on this host"), "{why}"),
        other => panic!("{other:?}"),
    }
    let shipped = rows
        .iter()
        .find(|r| r.seed.dir == "x86" && r.path == BuildPath::Shipped)
        .unwrap();
    assert_eq!(shipped.verdict, Verdict::Differs);
}

#[test]
fn progress_goes_to_stderr_only_on_a_terminal_and_not_with_quiet() {
    let dir = scratch("seeds-progress");
    let m = dir.join("m.sha256");
    for (quiet, terminal, expect) in [
        (false, true, true),
        (true, true, false),
        (false, false, false),
    ] {
        let mut args: Vec<std::ffi::OsString> = vec!["seeds".into(), "-m".into(), m.clone().into()];
        if quiet {
            args.push("--quiet".into());
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let status = crossverify::seeds::cli::main(
            &args,
            &mut toolbase::cli::Streams {
                stdout: &mut out,
                stderr: &mut err,
                stdout_is_terminal: terminal,
                cwd: None,
            },
        );
        assert_eq!(status, 0);
        let err = String::from_utf8_lossy(&err);
        assert_eq!(
            err.contains("rebuilding knight/hex0.rom: seed-in-vm"),
            expect,
            "{err}"
        );
        assert!(
            String::from_utf8_lossy(&out).starts_with("seed "),
            "the table is on stdout"
        );
    }
}
