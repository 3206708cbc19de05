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

fn ok(f: toolbase::cli::ToolMain, args: &[&str]) -> String {
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
    run(compare::cli::main, &args)
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
        compare::cli::main,
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

/// A witness `name` with an Ed25519 key made by openssl; returns (key, vkey file).
fn witness(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let short = name.rsplit('/').next().unwrap();
    let key = dir.join(format!("{short}.pem"));
    tool(
        "openssl",
        &["genpkey", "-algorithm", "ed25519", "-out", s(&key)],
    );
    let vkey = dir.join(format!("{short}.vkey"));
    let printed = ok(
        tlog::cli::main,
        &["log", "key", "--key", s(&key), "--cosigner", name],
    );
    assert!(printed.starts_with(&format!("{name}+")), "{printed}");
    std::fs::write(&vkey, printed).unwrap();
    (key, vkey)
}

/// `log cosign` by witness `name` (key `key`, state `state`) on `request`.
fn cosign(
    w: &World,
    name: &str,
    key: &Path,
    state: &Path,
    request: &Path,
) -> (i32, String, String) {
    run(
        tlog::cli::main,
        &[
            "log",
            "cosign",
            "--key",
            s(key),
            "--cosigner",
            name,
            "--vkey",
            s(&w.vkey),
            "--state",
            s(state),
            s(request),
        ],
    )
}

/// Appends the cosignature lines `lines` to the log's checkpoint, as an operator appends
/// a witness's response.
fn add_cosignatures(w: &World, lines: &str) {
    let cp = w.log.join("checkpoint");
    let mut note = std::fs::read_to_string(&cp).unwrap();
    note.push_str(lines);
    std::fs::write(&cp, note).unwrap();
}

#[test]
fn witnesses_cosign_and_compare_counts_their_cosignatures() {
    let w = world("witnessed");
    let (k1, v1) = witness(&w.dir, "witness.example/w1");
    let (k2, v2) = witness(&w.dir, "witness.example/w2");
    let (_, v3) = witness(&w.dir, "witness.example/w3");
    let trusted = w.dir.join("witnesses");
    let text: String = [&v1, &v2, &v3]
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect();
    std::fs::write(&trusted, format!("# the witnesses we trust\n{text}")).unwrap();
    let (s1, s2) = (w.dir.join("w1.state"), w.dir.join("w2.state"));

    // The first request to a witness starts from the empty tree.
    let request = w.dir.join("request");
    let mut body = b"old 0\n\n".to_vec();
    body.extend(std::fs::read(w.log.join("checkpoint")).unwrap());
    std::fs::write(&request, &body).unwrap();
    let (status, line1, err) = cosign(&w, "witness.example/w1", &k1, &s1, &request);
    assert_eq!(status, 0, "{err}");
    assert!(line1.starts_with("\u{2014} witness.example/w1 "), "{line1}");
    assert!(err.contains("cosigned tree size 3"), "{err}");
    let (status, line2, err) = cosign(&w, "witness.example/w2", &k2, &s2, &request);
    assert_eq!(status, 0, "{err}");
    add_cosignatures(&w, &format!("{line1}{line2}"));
    let mut args = vec!["log", "prove", s(&w.log)];
    args.extend(w.reports.iter().map(|r| s(r)));
    ok(tlog::cli::main, &args);

    // Two of the three trusted witnesses cosigned: a quorum of 2 votes, of 3 does not.
    let (status, out, err) = compare_all(
        &w,
        &w.reports,
        &["--witness", s(&trusted), "--witness-quorum", "2"],
    );
    assert_eq!(status, 0, "{out}{err}");
    assert!(
        out.contains("cosigned by witness.example/w1, witness.example/w2"),
        "{out}"
    );
    assert!(out.contains("voting signers, logged, witnessed)"), "{out}");
    let (status, out, _) = compare_all(&w, &w.reports, &["--witness", s(&trusted)]);
    assert_eq!(status, 1, "{out}");
    assert!(
        out.contains("NO VOTE: not witnessed: the checkpoint is cosigned by 2 of the 3 trusted witnesses, 3 needed"),
        "{out}"
    );
    let out = ok(
        tlog::cli::main,
        &[
            "log",
            "verify",
            "--vkey",
            s(&w.vkey),
            "--witness",
            s(&v1),
            "--witness",
            s(&v2),
            s(&w.reports[0]),
        ],
    );
    assert!(out.contains("cosigned by 2 of 2 witnesses"), "{out}");

    // A report whose proof carries a broken cosignature gets no vote.
    let proof = tlog::proof_path(&w.reports[1]);
    let good = std::fs::read_to_string(&proof).unwrap();
    let p = tlog::proof::Inclusion::parse("p", good.as_bytes()).unwrap();
    let mut n = tlog::note::parse("cp", &p.checkpoint).unwrap();
    n.signatures[2].signature[20] ^= 1;
    let broken = tlog::proof::Inclusion {
        checkpoint: n.render().into_bytes(),
        ..p
    };
    std::fs::write(&proof, broken.render()).unwrap();
    let (status, out, _) = compare_all(
        &w,
        &w.reports,
        &["--witness", s(&trusted), "--witness-quorum", "2"],
    );
    assert_eq!(status, 0, "two voters remain: {out}");
    assert!(
        out.contains("NO VOTE: not witnessed: bad cosignature by witness witness.example/w2: it does not verify"),
        "{out}"
    );
    assert!(out.contains("quorum 2 of 2 voting signers"), "{out}");
    std::fs::write(&proof, &good).unwrap();

    // The witness holds size 3: a request from another size is refused, state unchanged.
    // Asked again at the size it holds (same root), it cosigns again.
    ok(
        tlog::cli::main,
        &[
            "log",
            "prove",
            "--from",
            s(&s1),
            "-o",
            s(&request),
            s(&w.log),
        ],
    );
    assert!(std::fs::read_to_string(&request)
        .unwrap()
        .starts_with("old 3\n\n"));
    let (status, _, err) = cosign(&w, "witness.example/w1", &k1, &s1, &request);
    assert_eq!(status, 0, "same size, same root: cosigned again: {err}");
    let held = std::fs::read(&s1).unwrap();
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
    let mut body = b"old 0\n\n".to_vec();
    body.extend(std::fs::read(w.log.join("checkpoint")).unwrap());
    std::fs::write(&request, &body).unwrap();
    let (status, _, err) = cosign(&w, "witness.example/w1", &k1, &s1, &request);
    assert_eq!(status, 1);
    assert!(
        err.contains("the request starts from another tree size than the witness holds")
            && err.contains("expected: old 3"),
        "{err}"
    );
    assert_eq!(std::fs::read(&s1).unwrap(), held);
    // The operator proves from the witness's size; the witness moves on to size 4.
    ok(
        tlog::cli::main,
        &[
            "log",
            "prove",
            "--from",
            s(&s1),
            "-o",
            s(&request),
            s(&w.log),
        ],
    );
    let (status, _, err) = cosign(&w, "witness.example/w1", &k1, &s1, &request);
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("cosigned tree size 4"), "{err}");

    // A fork signed by the same log key: the witness at size 4 never cosigns it.
    let fork = w.dir.join("fork");
    let decoy = machine(
        &w.dir.join("decoy"),
        "decoy",
        "linux",
        "x86_64",
        &[("hex0", "Z", "hexroot")],
    );
    let mut args = vec![
        "log",
        "append",
        "--key",
        s(&w.log_key),
        "--origin",
        ORIGIN,
        s(&fork),
        s(&decoy),
    ];
    args.extend(w.reports.iter().map(|r| s(r)));
    args.push(s(&more));
    ok(tlog::cli::main, &args);
    // The honest proof from 4 to 5 leads elsewhere; with the fork's checkpoint it fails.
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
            s(&decoy),
        ],
    );
    ok(
        tlog::cli::main,
        &[
            "log",
            "prove",
            "--from",
            s(&s1),
            "-o",
            s(&request),
            s(&w.log),
        ],
    );
    let honest = std::fs::read_to_string(&request).unwrap();
    let (head, _) = honest.split_once("\n\n").unwrap();
    let forged = format!(
        "{head}\n\n{}",
        std::fs::read_to_string(fork.join("checkpoint")).unwrap()
    );
    std::fs::write(&request, forged).unwrap();
    let held = std::fs::read(&s1).unwrap();
    let (status, _, err) = cosign(&w, "witness.example/w1", &k1, &s1, &request);
    assert_eq!(status, 1);
    assert!(
        err.contains("the consistency proof does not verify"),
        "{err}"
    );
    assert_eq!(std::fs::read(&s1).unwrap(), held);
}

/// Any one changed byte of an inclusion proof (hashes, index, checkpoint, the log's
/// signature, a witness's cosignature) or of a consistency proof makes it fail.
#[test]
fn any_changed_byte_of_a_proof_fails() {
    let w = world("changed-bytes");
    let (k1, v1) = witness(&w.dir, "witness.example/w1");
    let request = w.dir.join("request");
    let mut body = b"old 0\n\n".to_vec();
    body.extend(std::fs::read(w.log.join("checkpoint")).unwrap());
    std::fs::write(&request, &body).unwrap();
    let state = w.dir.join("w1.state");
    let (status, line, err) = cosign(&w, "witness.example/w1", &k1, &state, &request);
    assert_eq!(status, 0, "{err}");
    add_cosignatures(&w, &line);
    ok(
        tlog::cli::main,
        &["log", "prove", s(&w.log), s(&w.reports[1])],
    );
    let log = tlog::note::Verifier::parse_vkey("v", &std::fs::read(&w.vkey).unwrap()).unwrap();
    let quorum =
        tlog::cosignature::Quorum::new(tlog::cosignature::load_witnesses(&v1).unwrap(), None)
            .unwrap();
    let entry = std::fs::read(&w.reports[1]).unwrap();
    let check = |text: &[u8]| -> bool {
        let Ok(p) = tlog::proof::Inclusion::parse("p", text) else {
            return false;
        };
        let Ok(signed) = p.verify("p", &entry, &log) else {
            return false;
        };
        quorum.check("p", &signed.note).is_ok()
    };
    let proof = std::fs::read(tlog::proof_path(&w.reports[1])).unwrap();
    assert!(check(&proof));
    for i in 0..proof.len() {
        let mut p = proof.clone();
        p[i] ^= 0x01;
        assert!(
            !check(&p),
            "byte {i} changed: {}",
            String::from_utf8_lossy(&p)
        );
    }

    let old = w.dir.join("old");
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
    let consistency = w.dir.join("consistency");
    ok(
        tlog::cli::main,
        &[
            "log",
            "prove",
            "--from",
            s(&old),
            "-o",
            s(&consistency),
            s(&w.log),
        ],
    );
    let older = tlog::checkpoint::open("old", &std::fs::read(&old).unwrap(), &log).unwrap();
    let check = |text: &[u8]| -> bool {
        let Ok(c) = tlog::proof::Consistency::parse("c", text) else {
            return false;
        };
        c.verify("c", &older, &log).is_ok()
    };
    let proof = std::fs::read(&consistency).unwrap();
    assert!(check(&proof));
    for i in 0..proof.len() {
        let mut p = proof.clone();
        p[i] ^= 0x01;
        assert!(
            !check(&p),
            "byte {i} changed: {}",
            String::from_utf8_lossy(&p)
        );
    }
}
