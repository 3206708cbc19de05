//! The agreement policy, case by case: agree, differ, missing, tie, malformed, quorum and
//! diversity, through `judge` and through the subcommand's exit statuses.

mod common;
use common::{machine, run, s, scratch};

use std::path::PathBuf;

use crossverify::compare::{self, Ballot, Policy, Verdict};
use crossverify::report;

fn verdicts(paths: &[PathBuf], quorum: usize, diverse: bool) -> Vec<(String, Verdict)> {
    let loaded: Vec<_> = paths.iter().map(|p| report::load(p).unwrap()).collect();
    compare::judge(&Ballot::unsigned(&loaded), Policy { quorum, diverse })
        .into_iter()
        .map(|j| (String::from_utf8(j.name).unwrap(), j.verdict))
        .collect()
}

fn cli(paths: &[PathBuf], extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["compare"];
    args.extend_from_slice(extra);
    args.extend(paths.iter().map(|p| s(p)));
    run(compare::cli::main, &args)
}

#[test]
fn agree_differ_missing_tie() {
    let d = scratch("compare-basic");
    let a = machine(
        &d,
        "a",
        "linux",
        "x86_64",
        &[
            ("hex0", "X", "hexroot"),
            ("hex2", "Y", "hexroot"),
            ("M1", "Z", "hexroot"),
        ],
    );
    let b = machine(
        &d,
        "b",
        "linux",
        "x86_64",
        &[("hex0", "X", "hexroot"), ("hex2", "Y2", "hexroot")],
    );
    let v = verdicts(&[a.clone(), b.clone()], 2, false);
    assert_eq!(
        v,
        [
            ("M1".into(), Verdict::Missing),
            ("hex0".into(), Verdict::Agree),
            ("hex2".into(), Verdict::Differ),
        ]
    );
    // With a quorum of one, a one-one split is a tie, never agreement.
    assert_eq!(
        verdicts(&[a.clone(), b.clone()], 1, false)[2],
        ("hex2".into(), Verdict::Tie)
    );
    let (status, out, _) = cli(&[a.clone(), b.clone()], &[]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("1 of 3 artifacts agree"), "{out}");
    let c = machine(
        &d,
        "c",
        "linux",
        "x86_64",
        &[
            ("hex0", "X", "hexroot"),
            ("hex2", "Y", "hexroot"),
            ("M1", "Z", "hexroot"),
        ],
    );
    // Three reports, unanimity: hex2 has 2 vs 1 -> differ; M1 missing from b.
    let v = verdicts(&[a.clone(), b.clone(), c.clone()], 3, false);
    assert_eq!(v[0], ("M1".into(), Verdict::Missing));
    assert_eq!(v[2], ("hex2".into(), Verdict::Differ));
    // Two identical machines agree entirely: exit 0. The manifest path works as well.
    let (status, out, _) = cli(&[a.clone(), d.join("c.sha256")], &[]);
    assert_eq!(status, 0, "{out}");
    assert!(out.contains("3 of 3 artifacts agree"), "{out}");
}

#[test]
fn quorum() {
    let d = scratch("compare-quorum");
    let r: Vec<PathBuf> = [("a", "X"), ("b", "X"), ("c", "X"), ("d", "W")]
        .iter()
        .map(|(n, c)| machine(&d, n, "linux", "x86_64", &[("hex0", c, "hexroot")]))
        .collect();
    assert_eq!(verdicts(&r, 4, false)[0].1, Verdict::Differ);
    assert_eq!(verdicts(&r, 3, false)[0].1, Verdict::AgreeOverDissent);
    assert_eq!(cli(&r, &["--quorum", "3"]).0, 0);
    assert_eq!(cli(&r, &["--quorum", "4"]).0, 1);
    assert_eq!(cli(&r, &[]).0, 1);
    // A 2-2 split is a tie even when the quorum is 2.
    let t: Vec<PathBuf> = [("e", "X"), ("f", "X"), ("g", "W"), ("h", "W")]
        .iter()
        .map(|(n, c)| machine(&d, n, "linux", "x86_64", &[("hex0", c, "hexroot")]))
        .collect();
    assert_eq!(verdicts(&t, 2, false)[0].1, Verdict::Tie);
    // A quorum larger than the reports, or one lone report, is a usage error.
    assert_eq!(cli(&r, &["--quorum", "5"]).0, 2);
    assert_eq!(cli(&r, &["--quorum", "0"]).0, 2);
    assert_eq!(cli(&r[..1], &[]).0, 2);
    // Issue 15: one report is not agreement of independent machines, even at quorum 1.
    let (status, out, _) = cli(&r[..1], &["--quorum", "1"]);
    assert_eq!(status, 1, "{out}");
    assert!(out.contains("LONE"), "{out}");
    assert!(
        out.contains("one report is not agreement of independent machines"),
        "{out}"
    );
    assert_eq!(verdicts(&r[..1], 1, false)[0].1, Verdict::Lone);
}

#[test]
fn diversity() {
    let d = scratch("compare-diverse");
    let same_impl_two_hosts = [
        machine(&d, "a", "linux", "x86_64", &[("hex0", "X", "hexroot")]),
        machine(&d, "b", "linux", "aarch64", &[("hex0", "X", "hexroot")]),
    ];
    assert_eq!(
        verdicts(&same_impl_two_hosts, 2, true)[0].1,
        Verdict::NotDiverse {
            implementations: true,
            hosts: false
        }
    );
    assert_eq!(
        verdicts(&same_impl_two_hosts, 2, false)[0].1,
        Verdict::Agree
    );
    let two_impls_one_host = [
        machine(&d, "c", "linux", "x86_64", &[("hex0", "X", "hexroot")]),
        machine(&d, "e", "linux", "x86_64", &[("hex0", "X", "mescc-tools")]),
    ];
    assert_eq!(
        verdicts(&two_impls_one_host, 2, true)[0].1,
        Verdict::NotDiverse {
            implementations: false,
            hosts: true
        }
    );
    let unspecified = [
        machine(&d, "f", "linux", "x86_64", &[("hex0", "X", "unspecified")]),
        machine(&d, "g", "freebsd", "x86_64", &[("hex0", "X", "hexroot")]),
    ];
    assert_eq!(
        verdicts(&unspecified, 2, true)[0].1,
        Verdict::NotDiverse {
            implementations: true,
            hosts: false
        }
    );
    let diverse = [
        machine(&d, "h", "linux", "x86_64", &[("hex0", "X", "hexroot")]),
        machine(&d, "i", "linux", "riscv64", &[("hex0", "X", "mescc-tools")]),
    ];
    assert_eq!(verdicts(&diverse, 2, true)[0].1, Verdict::Agree);
    assert_eq!(cli(&diverse, &["--diverse"]).0, 0);
    // Issue 15: NOT-DIVERSE says which dimension is lacking.
    let (status, out, _) = cli(&same_impl_two_hosts, &["--diverse"]);
    assert_eq!(status, 1);
    assert!(
        out.contains("not diverse: the agreeing reports name 1 implementation(s) (hexroot;"),
        "{out}"
    );
    assert!(!out.contains("host kind(s)"), "{out}");
    let (_, out, _) = cli(&two_impls_one_host, &["--diverse"]);
    assert!(
        out.contains("not diverse: the agreeing reports come from 1 host kind(s) (linux/x86_64)"),
        "{out}"
    );
    // Diversity counts only the agreeing reports: a dissenter on another host does not help.
    let mut dissent = two_impls_one_host.to_vec();
    dissent.push(machine(
        &d,
        "j",
        "linux",
        "aarch64",
        &[("hex0", "W", "other")],
    ));
    assert_eq!(
        verdicts(&dissent, 2, true)[0].1,
        Verdict::NotDiverse {
            implementations: false,
            hosts: true
        }
    );
}

#[test]
fn malformed_or_duplicated_reports_are_errors() {
    let d = scratch("compare-malformed");
    let a = machine(&d, "a", "linux", "x86_64", &[("hex0", "X", "hexroot")]);
    let b = machine(&d, "b", "linux", "x86_64", &[("hex0", "X", "hexroot")]);
    let text = std::fs::read_to_string(&b).unwrap();
    std::fs::write(&b, text.replace("date ", "when ")).unwrap();
    let (status, out, err) = cli(&[a.clone(), b.clone()], &[]);
    assert_eq!(status, 2);
    assert!(out.is_empty(), "no verdict on a malformed report: {out}");
    assert!(
        err.contains("b.sha256.report:7:1: error: unexpected key 'when'"),
        "{err}"
    );
    // Same report given twice votes once: an error, not agreement.
    let copy = d.join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(&a, copy.join("a.sha256.report")).unwrap();
    std::fs::copy(d.join("a.sha256"), copy.join("a.sha256")).unwrap();
    let (status, _, err) = cli(&[a.clone(), copy.join("a.sha256.report")], &[]);
    assert_eq!(status, 2);
    assert!(err.contains("same report is given twice"), "{err}");
    // A report whose manifest is missing.
    std::fs::remove_file(d.join("a.sha256")).unwrap();
    let (status, _, err) = cli(&[a, copy.join("a.sha256.report")], &[]);
    assert_eq!(status, 2);
    assert!(err.contains("cannot read manifest"), "{err}");
}

/// Issue 15: a dissenting report under a met quorum is flagged, and unsigned votes say so.
#[test]
fn dissent_under_a_met_quorum_is_flagged() {
    let d = scratch("compare-dissent");
    let r: Vec<PathBuf> = [("a", "X"), ("b", "X"), ("c", "W")]
        .iter()
        .map(|(n, c)| machine(&d, n, "linux", "x86_64", &[("hex0", c, "hexroot")]))
        .collect();
    assert_eq!(verdicts(&r, 2, false)[0].1, Verdict::AgreeOverDissent);
    let (status, out, _) = cli(&r, &["--quorum", "2"]);
    assert_eq!(status, 0, "the quorum is met: {out}");
    assert!(out.contains("agree,DISSENT"), "{out}");
    assert!(
        out.contains("the quorum is met, but report(s) [3] list another digest"),
        "{out}"
    );
    assert!(out.contains("note: votes are unsigned claims"), "{out}");
    // Without dissent, no flag.
    let (status, out, _) = cli(&r[..2], &[]);
    assert_eq!(status, 0);
    assert!(!out.contains("DISSENT"), "{out}");
}

/// Issue 15: a report whose date does not exist is refused where it stands, no verdict.
#[test]
fn impossible_dates_are_refused() {
    let d = scratch("compare-dates");
    let a = machine(&d, "a", "linux", "x86_64", &[("hex0", "X", "hexroot")]);
    let b = machine(&d, "b", "linux", "x86_64", &[("hex0", "X", "hexroot")]);
    let text = std::fs::read_to_string(&b).unwrap();
    for (date, why) in [
        ("9999-99-99T99:99:99Z", "there is no month 99"),
        ("2026-02-31T08:00:00Z", "2026-02 has no day 31"),
    ] {
        std::fs::write(&b, text.replace("2026-11-23T08:00:00Z", date)).unwrap();
        let (status, out, err) = cli(&[a.clone(), b.clone()], &[]);
        assert_eq!(status, 2, "{out}");
        assert!(out.is_empty(), "no verdict: {out}");
        assert!(
            err.contains(&format!("b.sha256.report:7:6: error: bad date: {why}")),
            "{err}"
        );
    }
}

/// Issue 19: a manifest written by GNU `sha256sum` for a name holding a carriage return
/// (coreutils 9 writes it `\r` on a line starting with `\`) is read, and compared.
#[test]
fn gnu_written_manifest_with_carriage_return_is_compared() {
    let d = scratch("compare-gnu-cr");
    let name = "a\rb";
    std::fs::write(d.join(name), "x").unwrap();
    // What coreutils 9.1's `sha256sum 'a<CR>b'` printed for that file.
    let x = "2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881";
    let gnu = format!("\\{x}  a\\rb\n");
    if let Ok(o) = std::process::Command::new("sha256sum")
        .arg(name)
        .current_dir(&d)
        .output()
    {
        if o.status.success() && !o.stdout.starts_with(b"sha256sum") {
            assert_eq!(String::from_utf8_lossy(&o.stdout), gnu);
        }
    }
    let mut reports = Vec::new();
    for host in ["a", "b"] {
        let manifest = d.join(format!("{host}.sha256"));
        std::fs::write(&manifest, &gnu).unwrap();
        let r = report::Report {
            manifest: format!("{host}.sha256").into_bytes(),
            manifest_sha256: crossverify::sha256_hex(gnu.as_bytes()),
            host: host.into(),
            os: "linux".into(),
            arch: "x86_64".into(),
            date: "2026-11-23T08:00:00Z".into(),
            tools: vec![("sha256sum".into(), "9.1".into())],
            built_by: vec![("hexroot".into(), name.as_bytes().to_vec())],
        };
        let path = report::path_for(&manifest);
        std::fs::write(&path, r.render()).unwrap();
        reports.push(path);
    }
    let (status, out, err) = cli(&reports, &[]);
    assert_eq!(status, 0, "{out}{err}");
    assert!(out.contains("agree"), "{out}");
}
