//! Manifests and reports: round trips (odd names included), `sha256sum -c` acceptance,
//! and the strictness of the report binding.

mod common;
use common::{run, run_in, s, scratch};

use crossverify::manifest;
use crossverify::report;
use crossverify::sha256sum::{self, Entry};

#[test]
fn manifest_subcommand_round_trips_and_sha256sum_accepts_it() {
    let dir = scratch("manifest-rt");
    let names: [&str; 5] = [
        "plain.bin",
        "with space",
        "back\\slash",
        "new\nline",
        "carriage\rreturn",
    ];
    for (i, n) in names.iter().enumerate() {
        std::fs::write(dir.join(n), vec![i as u8; 100 + i]).unwrap();
    }
    let out = dir.join("out.sha256");
    // Names are listed as given: run in the directory (its Streams::cwd), as users do.
    let mut args = vec![
        "manifest",
        "-o",
        s(&out),
        "--tool",
        "M1=1.7.0",
        "-i",
        "hexroot",
        names[0],
        names[1],
        "-i",
        "mescc-tools",
    ];
    args.extend_from_slice(&names[2..]);
    let (status, so, se) = run_in(Some(&dir), manifest::main, &args);
    assert_eq!(status, 0, "{so}{se}");
    let loaded = report::load(&report::path_for(&out)).unwrap();
    assert_eq!(loaded.entries.len(), 5);
    for (i, n) in names.iter().enumerate() {
        let e = &loaded.entries[i];
        assert_eq!(e.name, n.as_bytes());
        assert_eq!(*e, Entry::of(*n, &vec![i as u8; 100 + i]));
        let imp = if i < 2 { "hexroot" } else { "mescc-tools" };
        assert_eq!(loaded.report.implementation_of(n.as_bytes()), Some(imp));
    }
    assert!(loaded.report.tools.contains(&("M1".into(), "1.7.0".into())));
    assert_eq!(loaded.report.os, std::env::consts::OS);
    assert_eq!(loaded.report.arch, std::env::consts::ARCH);
    // `sha256sum -c` accepts it without a warning, when the command exists.
    match std::process::Command::new("sha256sum")
        .arg("-c")
        .arg("--strict")
        .arg(&out)
        .current_dir(&dir)
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(
                o.stderr.is_empty(),
                "warnings: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).matches(": OK").count(),
                5
            );
        }
        Err(e) => println!("skipped: sha256sum not runnable here: {e}"),
    }
    // And it reads back what sha256sum itself writes.
    if let Ok(o) = std::process::Command::new("sha256sum")
        .args(names)
        .current_dir(&dir)
        .output()
    {
        let theirs = sha256sum::parse("sha256sum output", &o.stdout).unwrap();
        assert_eq!(theirs, loaded.entries);
        assert_eq!(sha256sum::render(&theirs), o.stdout);
    }
}

#[test]
fn a_directory_is_listed_under_the_tools_directory_with_names_as_given() {
    let dir = scratch("manifest-cwd-dir");
    std::fs::create_dir_all(dir.join("sub/deeper")).unwrap();
    std::fs::write(dir.join("sub/b"), b"b").unwrap();
    std::fs::write(dir.join("sub/deeper/a"), b"a").unwrap();
    let args = ["manifest", "-o", "out.sha256", "sub"];
    let (status, so, se) = run_in(Some(&dir), manifest::main, &args);
    assert_eq!(status, 0, "{so}{se}");
    let loaded = report::load(&report::path_for(&dir.join("out.sha256"))).unwrap();
    let names: Vec<&[u8]> = loaded.entries.iter().map(|e| e.name.as_slice()).collect();
    assert_eq!(names, [&b"sub/b"[..], b"sub/deeper/a"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unreadable_file_writes_nothing() {
    let dir = scratch("manifest-unreadable");
    let out = dir.join("m.sha256");
    let (status, _, err) = run(
        manifest::main,
        &["manifest", "-o", s(&out), s(&dir.join("nope"))],
    );
    assert_eq!(status, 1);
    assert!(err.contains("nope"), "{err}");
    assert!(!out.exists() && !report::path_for(&out).exists());
    let (status, _, _) = run(manifest::main, &["manifest", "-o", s(&out)]);
    assert_eq!(status, 2);
}

fn write_pair(dir: &std::path::Path) -> std::path::PathBuf {
    std::fs::write(dir.join("a"), b"alpha").unwrap();
    let out = dir.join("m.sha256");
    let entries = vec![Entry::of(s(&dir.join("a")), b"alpha")];
    manifest::write_with_report(&out, &entries, &["hexroot".into()], &[])
        .unwrap()
        .0
}

#[test]
fn report_binding_and_strictness() {
    let dir = scratch("report-strict");
    let rp = write_pair(&dir);
    assert!(report::load(&rp).is_ok());
    let text = std::fs::read_to_string(&rp).unwrap();

    // A manifest changed after its report was written.
    let m = dir.join("m.sha256");
    let good = std::fs::read(&m).unwrap();
    let mut bad = good.clone();
    bad[0] = if bad[0] == b'0' { b'1' } else { b'0' };
    std::fs::write(&m, &bad).unwrap();
    let e = report::load(&rp).unwrap_err().to_string();
    assert!(
        e.contains(":3:1: error: the manifest does not match the report"),
        "{e}"
    );
    std::fs::write(&m, &good).unwrap();

    for (edit, expect) in [
        (
            text.replace("host ", "hostname "),
            ":4:1: error: unexpected key 'hostname'",
        ),
        (
            text.replace("built-by hexroot", "built-by hex root"),
            "does not say who built",
        ),
        (
            format!("{text}colour blue\n"),
            ":9:1: error: unknown or repeated key 'colour'",
        ),
        (
            text.replace("# hexroot crossverify report 1", "# something else"),
            ":1:1: error: not a crossverify report",
        ),
        (
            text.lines()
                .filter(|l| !l.starts_with("built-by"))
                .map(|l| format!("{l}\n"))
                .collect(),
            "missing 'built-by'",
        ),
        (text.replace("\nos ", "\nos  "), "bad OS name"),
    ] {
        std::fs::write(&rp, &edit).unwrap();
        let e = report::load(&rp).unwrap_err().to_string();
        assert!(e.contains(expect), "{edit}\n=> {e}");
        assert!(e.starts_with(s(&rp)), "{e}");
    }
}
