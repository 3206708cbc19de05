//! End to end, with the real `ssh-keygen` and `openssl` (CI installs them): three machines
//! sign their reports, append them to one log of static files, prove inclusion, and
//! `compare --quorum 2 --require-log` agrees; forged, unsigned, unlogged or tampered
//! reports get no vote; the log's checkpoints prove consistency, survive witness
//! cosignatures, and a split view or altered tiles are caught.

mod common;
use common::{machine, run, s, scratch};

use std::path::{Path, PathBuf};
use std::process::Command;

use crossverify::{compare, sign, tlog};

const ORIGIN: &str = "example.org/hexroot-reports";

fn tool(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test (CI installs it): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A signer `name` with an Ed25519 OpenSSH key; appends its line to `allowed`.
fn signer(dir: &Path, name: &str, allowed: &Path) -> PathBuf {
    let key = dir.join(format!("{name}.key"));
    tool(
        "ssh-keygen",
        &["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", s(&key)],
    );
    let public = std::fs::read_to_string(dir.join(format!("{name}.key.pub"))).unwrap();
    let mut fields = public.split_whitespace();
    let line = format!(
        "{name}@example.org namespaces=\"hexroot-report\" {} {}\n",
        fields.next().unwrap(),
        fields.next().unwrap()
    );
    let mut text = std::fs::read_to_string(allowed).unwrap_or_default();
    text.push_str(&line);
    std::fs::write(allowed, text).unwrap();
    key
}

fn ok(f: hex0::cli::ToolMain, args: &[&str]) -> String {
    let (status, out, err) = run(f, args);
    assert_eq!(status, 0, "{args:?}\n{out}\n{err}");
    out
}

struct World {
    dir: PathBuf,
    allowed: PathBuf,
    log_key: PathBuf,
    vkey: PathBuf,
    log: PathBuf,
    reports: Vec<PathBuf>,
    keys: Vec<PathBuf>,
}

/// Three machines (two implementations, three host kinds), signed and logged.
fn world(tag: &str) -> World {
    let dir = scratch(tag);
    let allowed = dir.join("allowed_signers");
    let machines = [
        ("alice", "linux", "x86_64", "hexroot"),
        ("bob", "linux", "aarch64", "mescc-tools"),
        ("carol", "freebsd", "riscv64", "hexroot"),
    ];
    let mut reports = Vec::new();
    let mut keys = Vec::new();
    for (name, os, arch, imp) in machines {
        let r = machine(
            &dir,
            name,
            os,
            arch,
            &[("hex0", "X", imp), ("M1", "Y", imp)],
        );
        let key = signer(&dir, name, &allowed);
        ok(sign::cli::sign_main, &["sign", "--key", s(&key), s(&r)]);
        reports.push(r);
        keys.push(key);
    }
    let log_key = dir.join("log.pem");
    tool(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", s(&log_key)],
    );
    let vkey = dir.join("log.vkey");
    let printed = ok(
        tlog::cli::main,
        &["log", "key", "--key", s(&log_key), "--origin", ORIGIN],
    );
    std::fs::write(&vkey, &printed).unwrap();
    let log = dir.join("pub");
    let mut args = vec![
        "log",
        "append",
        "--key",
        s(&log_key),
        "--origin",
        ORIGIN,
        s(&log),
    ];
    args.extend(reports.iter().map(|r| s(r)));
    let out = ok(tlog::cli::main, &args);
    assert!(out.contains("tree size 3"), "{out}");
    let mut args = vec!["log", "prove", s(&log)];
    args.extend(reports.iter().map(|r| s(r)));
    ok(tlog::cli::main, &args);
    World {
        dir,
        allowed,
        log_key,
        vkey,
        log,
        reports,
        keys,
    }
}

fn compare_all(w: &World, reports: &[PathBuf], extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "compare",
        "--quorum",
        "2",
        "--allowed-signers",
        s(&w.allowed),
        "--log-key",
        s(&w.vkey),
        "--require-log",
    ];
    args.extend_from_slice(extra);
    args.extend(reports.iter().map(|r| s(r)));
    run(compare::main, &args)
}

/// Copies report `r` (with manifest, signature and proof) to `dir/name`, applying `edit`
/// to the report text.
fn copy_report(r: &Path, dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let base = r.file_name().unwrap();
    let manifest = r.with_extension("");
    std::fs::copy(&manifest, dir.join(manifest.file_name().unwrap())).unwrap();
    let to = dir.join(base);
    std::fs::write(&to, edit(std::fs::read_to_string(r).unwrap())).unwrap();
    for p in [sign::sig_path(r), tlog::proof_path(r)] {
        if p.exists() {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
        }
    }
    to
}

#[test]
fn three_signed_logged_reports_agree_and_a_forgery_gets_no_vote() {
    let w = world("signed-log");
    let out = ok(
        sign::cli::verify_main,
        &[
            "verify",
            "--allowed-signers",
            s(&w.allowed),
            s(&w.reports[0]),
        ],
    );
    assert!(out.contains("good signature by alice@example.org"), "{out}");
    let (status, out, err) = compare_all(&w, &w.reports, &["--diverse"]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(
        out.contains("signed by alice@example.org; log entry 0 of 3 (example.org/hexroot-reports)"),
        "{out}"
    );
    assert!(
        out.contains("2 of 2 artifacts agree (quorum 2 of 3 voting signers, diverse, logged)"),
        "{out}"
    );
    assert!(!out.contains("unsigned claims"), "{out}");

    // Mallory copies alice's report, signature and proof under another host name.
    let forged = copy_report(&w.reports[0], &w.dir.join("mallory"), |t| {
        t.replace("host alice", "host mallory")
    });
    let (status, out, _) = compare_all(&w, &[forged.clone(), w.reports[1].clone()], &[]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("host mallory") && out.contains("NO VOTE: bad signature"),
        "{out}"
    );
    assert!(
        out.contains("not shown in the log"),
        "the proof is for alice's bytes: {out}"
    );
    // With the honest three it changes nothing: three voters, not four.
    let mut four = w.reports.clone();
    four.push(forged);
    let (status, out, _) = compare_all(&w, &four, &[]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("quorum 2 of 3 voting signers"), "{out}");

    // Alice signing a second report under another host name still votes once.
    let again = machine(
        &w.dir.join("alice2"),
        "alice2",
        "linux",
        "x86_64",
        &[("hex0", "X", "hexroot"), ("M1", "Y", "hexroot")],
    );
    ok(
        sign::cli::sign_main,
        &["sign", "--key", s(&w.keys[0]), s(&again)],
    );
    let (status, out, _) = run(
        compare::main,
        &[
            "compare",
            "--allowed-signers",
            s(&w.allowed),
            s(&w.reports[0]),
            s(&again),
        ],
    );
    assert_eq!(status, 1, "one signer is one machine: {out}");
    assert!(out.contains("LONE"), "{out}");

    // A signed report that is not in the log gets no vote under --require-log.
    let dave_allowed = w.dir.join("allowed_signers");
    let dave = machine(
        &w.dir.join("dave"),
        "dave",
        "linux",
        "x86_64",
        &[("hex0", "X", "hexroot")],
    );
    let key = signer(&w.dir, "dave", &dave_allowed);
    ok(sign::cli::sign_main, &["sign", "--key", s(&key), s(&dave)]);
    let (status, out, _) = compare_all(&w, &[dave.clone(), w.reports[1].clone()], &[]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("NO VOTE: not in the log (no REPORT.tlog-proof)"),
        "{out}"
    );

    // An unsigned report gets no vote once signatures are checked.
    std::fs::remove_file(sign::sig_path(&dave)).unwrap();
    let (_, out, _) = compare_all(&w, &[dave, w.reports[1].clone()], &[]);
    assert!(out.contains("NO VOTE: unsigned (no REPORT.sig)"), "{out}");

    // A proof altered by one byte does not verify.
    let proof = tlog::proof_path(&w.reports[2]);
    let text = std::fs::read_to_string(&proof).unwrap();
    std::fs::write(&proof, text.replacen("index 2", "index 1", 1)).unwrap();
    let (status, out, _) = compare_all(&w, &w.reports, &["--quorum", "3"]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("[3]") && out.contains("the inclusion proof does not verify"),
        "{out}"
    );
    let (status, _, err) = run(
        tlog::cli::main,
        &["log", "verify", "--vkey", s(&w.vkey), s(&w.reports[2])],
    );
    assert_eq!(status, 1);
    assert!(
        err.contains("tlog-proof: error: the inclusion proof does not verify"),
        "{err}"
    );
}

#[test]
fn checkpoints_are_consistent_cosignable_and_audited() {
    let w = world("log-consistency");
    let old = w.dir.join("old-checkpoint");
    std::fs::copy(w.log.join("checkpoint"), &old).unwrap();
    let more = machine(
        &w.dir.join("erin"),
        "erin",
        "linux",
        "x86_64",
        &[("hex0", "X", "hexroot")],
    );
    ok(
        tlog::cli::main,
        &[
            "log",
            "append",
            "--key",
            s(&w.log_key),
            "--origin",
            ORIGIN,
            s(&w.log),
            s(&more),
        ],
    );
    let proof = w.dir.join("consistency");
    ok(
        tlog::cli::main,
        &[
            "log",
            "prove",
            "--from",
            s(&old),
            "-o",
            s(&proof),
            s(&w.log),
        ],
    );
    let text = std::fs::read_to_string(&proof).unwrap();
    assert!(
        text.starts_with("old 3\n"),
        "an add-checkpoint body: {text}"
    );
    let out = ok(
        tlog::cli::main,
        &[
            "log",
            "verify",
            "--vkey",
            s(&w.vkey),
            "--from",
            s(&old),
            s(&proof),
        ],
    );
    assert!(out.contains("tree size 4 extends tree size 3"), "{out}");
    // A changed hash in the proof fails.
    let lines: Vec<&str> = text.lines().collect();
    let swapped = if lines[1].starts_with('A') { "B" } else { "A" };
    let forged = text.replacen(lines[1], &format!("{swapped}{}", &lines[1][1..]), 1);
    std::fs::write(&proof, forged).unwrap();
    let (status, _, err) = run(
        tlog::cli::main,
        &[
            "log",
            "verify",
            "--vkey",
            s(&w.vkey),
            "--from",
            s(&old),
            s(&proof),
        ],
    );
    assert_eq!(status, 1, "{err}");
    assert!(
        err.contains("the consistency proof does not verify"),
        "{err}"
    );

    // A witness cosignature is one more signature line: readers ignore keys they do not
    // know, so proofs still verify.
    let cp = w.log.join("checkpoint");
    let mut note = std::fs::read_to_string(&cp).unwrap();
    note.push_str("\u{2014} witness.example/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n");
    std::fs::write(&cp, note).unwrap();
    ok(tlog::cli::main, &["log", "prove", s(&w.log), s(&more)]);
    let out = ok(
        tlog::cli::main,
        &["log", "verify", "--vkey", s(&w.vkey), s(&more)],
    );
    assert!(out.contains("entry 3 of 4"), "{out}");
    let out = ok(
        tlog::cli::main,
        &["log", "checkpoint", "--vkey", s(&w.vkey), s(&w.log)],
    );
    assert!(
        out.contains("tree size 4") && out.contains("every entry and every tile"),
        "{out}"
    );

    // An altered entry bundle is caught by the audit.
    let bundle = w.log.join("tile/entries/000.p/4");
    let mut b = std::fs::read(&bundle).unwrap();
    let at = b.len() - 3;
    b[at] ^= 0x20;
    std::fs::write(&bundle, b).unwrap();
    let (status, _, err) = run(
        tlog::cli::main,
        &["log", "checkpoint", "--vkey", s(&w.vkey), s(&w.log)],
    );
    assert_eq!(status, 1);
    assert!(err.contains("does not match the entries"), "{err}");

    // Another key's vkey does not verify the checkpoint.
    let other = w.dir.join("other.pem");
    tool(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", s(&other)],
    );
    let vk = ok(
        tlog::cli::main,
        &["log", "key", "--key", s(&other), "--origin", ORIGIN],
    );
    std::fs::write(w.dir.join("other.vkey"), vk).unwrap();
    let (status, _, err) = run(
        tlog::cli::main,
        &[
            "log",
            "verify",
            "--vkey",
            s(&w.dir.join("other.vkey")),
            s(&more),
        ],
    );
    assert_eq!(status, 1);
    assert!(err.contains("no signature by the trusted key"), "{err}");
}

#[test]
fn a_split_view_stops_compare() {
    let w = world("log-split");
    // The same log key signs a second, different tree of size 3 for carol.
    let fork = w.dir.join("fork");
    let decoy = machine(
        &w.dir.join("decoy"),
        "decoy",
        "linux",
        "x86_64",
        &[("hex0", "Z", "hexroot")],
    );
    let carol = &w.reports[2];
    ok(
        tlog::cli::main,
        &[
            "log",
            "append",
            "--key",
            s(&w.log_key),
            "--origin",
            ORIGIN,
            s(&fork),
            s(&decoy),
            s(&w.reports[1]),
            s(carol),
        ],
    );
    let elsewhere = copy_report(carol, &w.dir.join("carol-forked"), |t| t);
    ok(tlog::cli::main, &["log", "prove", s(&fork), s(&elsewhere)]);
    let (status, out, err) = compare_all(&w, &[w.reports[0].clone(), elsewhere], &[]);
    assert_eq!(status, 2, "{out}");
    assert!(out.is_empty());
    assert!(
        err.contains("the log signed two different trees of the same size: a split view"),
        "{err}"
    );
}
