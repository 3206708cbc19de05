//! `--json` and `--html` of `compare`, `manifest`, `explain` and `seeds`: every document
//! validates against its committed schema (`crossverify/schemas/`), says what the text
//! says, and the compare page of two differing manifests loads in headless Chromium with
//! the summary and one row per artifact coloured by verdict (see `html/browser.rs`).
//! The replay's documents are tested on the test chain in `tests/replay_chain.rs`.

#[path = "html/browser.rs"]
mod browser;

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use crossverify::json::{self, Value};

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_crossverify"))
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("crossverify-export-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads the document at `path` (or the text `stdout`) and checks it against `command`'s
/// schema.
fn valid(command: &str, text: &[u8]) -> Value {
    let doc = json::read::parse(command, text)
        .unwrap_or_else(|d| panic!("{d}\n{}", String::from_utf8_lossy(text)));
    let schema = crossverify::export::schema_of(command).unwrap();
    if let Err(errors) = json::schema::check(&schema, &doc) {
        panic!(
            "{command}: {}\n{}",
            errors.join("\n"),
            String::from_utf8_lossy(text)
        );
    }
    assert_eq!(
        doc.get("schema").and_then(Value::as_str),
        Some(crossverify::export::schema_id(command).as_str())
    );
    doc
}

fn run(dir: &Path, args: &[&OsStr]) -> (i32, String, String) {
    let out = Command::new(exe())
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// Two machines' manifests that differ: bin/M1 and bin/hex0 agree, bin/hex2 differs,
/// bin/catm only alice lists.
fn two_manifests(dir: &Path) {
    for who in ["alice", "bob"] {
        let bin = dir.join(who).join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::write(bin.join("hex0"), "hex0").unwrap();
        std::fs::write(bin.join("M1"), "M1").unwrap();
        std::fs::write(bin.join("hex2"), format!("hex2 by {who}")).unwrap();
        let mut args = vec!["manifest", "-i", who, "-o"];
        let out = format!("../{who}.sha256");
        args.push(&out);
        args.extend(["bin/hex0", "bin/hex2", "bin/M1"]);
        if who == "alice" {
            std::fs::write(bin.join("catm"), "catm").unwrap();
            args.push("bin/catm");
        }
        let args: Vec<&OsStr> = args.iter().map(|a| os(a)).collect();
        let (status, _, err) = run(&dir.join(who), &args);
        assert_eq!(status, 0, "{err}");
    }
}

#[test]
fn compare_of_differing_manifests_as_json_and_in_a_browser() {
    let dir = scratch("compare");
    two_manifests(&dir);
    let (json_path, html_path) = (dir.join("compare.json"), dir.join("compare.html"));
    let (status, text, err) = run(
        &dir,
        &[
            os("compare"),
            os("--json"),
            json_path.as_os_str(),
            os("--html"),
            html_path.as_os_str(),
            os("alice.sha256.report"),
            os("bob.sha256.report"),
        ],
    );
    assert_eq!(status, 1, "{text}{err}");
    assert!(
        text.contains("2 of 4 artifacts agree (quorum 2 of 2 voting reports)"),
        "{text}"
    );
    let doc = valid("compare", &std::fs::read(&json_path).unwrap());
    let summary = doc.get("summary").unwrap();
    assert_eq!(
        summary.get("line").and_then(Value::as_str),
        Some("2 of 4 artifacts agree (quorum 2 of 2 voting reports)")
    );
    let verdicts: Vec<(&str, &str)> = doc
        .get("artifacts")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|a| {
            (
                a.get("name").and_then(Value::as_str).unwrap(),
                a.get("verdict").and_then(Value::as_str).unwrap(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            ("bin/M1", "agree"),
            ("bin/catm", "MISSING"),
            ("bin/hex0", "agree"),
            ("bin/hex2", "DIFFER")
        ]
    );
    let hex2 = &doc.get("artifacts").and_then(Value::as_array).unwrap()[3];
    assert_eq!(
        hex2.get("groups")
            .and_then(Value::as_array)
            .map(<[Value]>::len),
        Some(2)
    );
    // the page: no external asset, both sides of the difference in full
    let page = std::fs::read_to_string(&html_path).unwrap();
    for needle in [
        "src=", "<link", "@import", "url(", "<script", "http:", "https:",
    ] {
        assert!(!page.contains(needle), "the page has '{needle}'");
    }
    let digests: Vec<&str> = hex2
        .get("groups")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|g| g.get("sha256").and_then(Value::as_str).unwrap())
        .collect();
    for d in &digests {
        assert!(page.contains(&format!("sha256 {d}")), "{d} not expanded");
    }
    browser::check_page(
        &html_path,
        "2 of 4 artifacts agree",
        &[
            ("agreed", 2),
            ("missing", 1),
            ("differed", 1),
            ("dissent", 0),
        ],
        &[("count-differed", "differed 1")],
    )
    .unwrap();
    // --json - replaces the table on stdout
    let (status, text, _) = run(
        &dir,
        &[
            os("compare"),
            os("--json"),
            os("-"),
            os("alice.sha256.report"),
            os("bob.sha256.report"),
        ],
    );
    assert_eq!(status, 1);
    let doc = valid("compare", text.as_bytes());
    assert_eq!(
        doc.get("summary").and_then(|s| s.get("agreed")),
        Some(&Value::Int(2))
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn manifest_json_lists_names_that_are_not_utf8_exactly() {
    let dir = scratch("manifest");
    let odd = OsStr::from_bytes(b"odd\xffname");
    std::fs::write(dir.join(odd), "x").unwrap();
    std::fs::write(dir.join("plain"), "y").unwrap();
    let (status, text, err) = run(
        &dir,
        &[
            os("manifest"),
            os("-i"),
            os("hexroot"),
            os("--json"),
            os("-"),
            odd,
            os("plain"),
        ],
    );
    assert_eq!(status, 0, "{err}");
    let doc = valid("manifest", text.as_bytes());
    let entries = doc.get("entries").and_then(Value::as_array).unwrap();
    assert_eq!(
        entries[0].get("name_hex").and_then(Value::as_str),
        Some("6f6464ff6e616d65")
    );
    assert_eq!(
        entries[0].get("name").and_then(Value::as_str),
        Some("odd\u{fffd}name")
    );
    assert!(entries[1].get("name_hex").is_none());
    assert_eq!(
        entries[1].get("implementation").and_then(Value::as_str),
        Some("hexroot")
    );
    assert!(dir.join("crossverify.sha256.report").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn explain_json_for_differing_and_identical_files() {
    let dir = scratch("explain");
    std::fs::write(dir.join("a"), b"abcdefghijklmnopqrstuvwxyz").unwrap();
    std::fs::write(dir.join("b"), b"abcdefghijKlmnopqrstuvwxy").unwrap();
    let (status, text, _) = run(
        &dir,
        &[os("explain"), os("--json"), os("-"), os("a"), os("b")],
    );
    assert_eq!(status, 1);
    let doc = valid("explain", text.as_bytes());
    let d = doc.get("difference").unwrap();
    assert_eq!(d.get("first_offset"), Some(&Value::Int(10)));
    assert_eq!(d.get("count"), Some(&Value::Int(2)));
    assert_eq!(d.get("a_byte"), Some(&Value::Int(i64::from(b'k'))));
    let (_, plain, _) = run(&dir, &[os("explain"), os("a"), os("b")]);
    assert!(
        plain.contains("first difference at offset 0xa (10)"),
        "{plain}"
    );
    let (status, text, _) = run(
        &dir,
        &[os("explain"), os("--json"), os("-"), os("a"), os("a")],
    );
    assert_eq!(status, 0);
    let doc = valid("explain", text.as_bytes());
    assert_eq!(doc.get("identical"), Some(&Value::Bool(true)));
    assert_eq!(doc.get("difference"), Some(&Value::Null));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn seeds_json_has_a_row_per_path() {
    let dir = scratch("seeds");
    let (status, text, err) = run(&dir, &[os("seeds"), os("--quiet"), os("--json"), os("-")]);
    assert!(status == 0 || status == 1, "{err}");
    let doc = valid("seeds", text.as_bytes());
    let rows = doc.get("rows").and_then(Value::as_array).unwrap();
    // knight: shipped, hex0, m1+hex2, seed-in-vm; x86 and amd64: shipped, hex0, m1+hex2,
    // seed-native
    assert_eq!(rows.len(), 12);
    let vm = rows
        .iter()
        .find(|r| r.get("path").and_then(Value::as_str) == Some("seed-in-vm"))
        .unwrap();
    assert_eq!(vm.get("verdict").and_then(Value::as_str), Some("agrees"));
    assert!(dir.join("crossverify-seeds.sha256").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_destinations_are_usage_errors() {
    let dir = scratch("bad");
    let (status, _, err) = run(
        &dir,
        &[
            os("replay"),
            os("kaem.x86"),
            os("--root"),
            os("."),
            os("--json"),
            os("-"),
        ],
    );
    assert_eq!(status, 2);
    assert!(err.contains("--json and --html need a FILE here"), "{err}");
    let (status, _, err) = run(
        &dir,
        &[
            os("compare"),
            os("--json"),
            os("-"),
            os("--html"),
            os("-"),
            os("a"),
            os("b"),
        ],
    );
    assert_eq!(status, 2);
    assert!(err.contains("cannot both go to standard output"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
