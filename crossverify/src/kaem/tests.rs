//! Tests of the kaem parser, expansion and interpreter, one per construct of
//! seed-tools.md §6-§7, with a recording host that runs nothing.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};

use toolbase::diag::Diagnostic;

use super::shell::{Finished, Frame, Host, Shell, Step};
use super::*;

fn words(src: &str, dialect: Dialect) -> Vec<Vec<String>> {
    parse(src.as_bytes(), dialect)
        .unwrap()
        .iter()
        .map(|c| {
            expand_words(&c.words, &Vars::new())
                .into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect()
        })
        .collect()
}

const MIN: Dialect = Dialect::Minimal { strings: true };
const MIN_RISCV: Dialect = Dialect::Minimal { strings: false };

#[test]
fn comments_blank_lines_and_continuations() {
    let src = "# a comment\n\n./a b\t c # trailing\n./d \\\n\te \\\n\tf\n";
    assert_eq!(
        words(src, Dialect::Full),
        vec![vec!["./a", "b", "c"], vec!["./d", "e", "f"]]
    );
    assert_eq!(words(src, MIN), words(src, Dialect::Full));
    // '#' inside a word is text
    assert_eq!(
        words("echo a#b\n", Dialect::Full),
        vec![vec!["echo", "a#b"]]
    );
}

#[test]
fn minimal_quoting_per_arch_and_backslash_drops_a_byte() {
    assert_eq!(words("./p \"b c\" d\n", MIN), vec![vec!["./p", "b c", "d"]]);
    assert_eq!(
        words("./p \"b c\" d\n", MIN_RISCV),
        vec![vec!["./p", "\"b", "c\"", "d"]]
    );
    assert_eq!(words("./p a\\bc\n", MIN), vec![vec!["./p", "ac"]]);
    // no variables in the minimal kaem
    assert_eq!(words("./p ${X}\n", MIN), vec![vec!["./p", "${X}"]]);
}

#[test]
fn full_quoting_and_escapes() {
    assert_eq!(
        words("echo \"a b\" \"q\\\"x\" a\\ b \"\" c\n", Dialect::Full),
        vec![vec!["echo", "a b", "q\"x", "a b", "", "c"]]
    );
    assert_eq!(
        words("echo \"two\nlines\"\n", Dialect::Full),
        vec![vec!["echo", "two\nlines"]]
    );
}

#[test]
fn parse_errors_are_located() {
    let e = parse(b"./a\n./b \"open\n", Dialect::Full).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnterminatedString);
    let d = e.to_diagnostic("s.kaem", b"./a\n./b \"open\n").to_string();
    assert!(
        d.starts_with("s.kaem:2:5: error: unterminated string"),
        "{d}"
    );
    let e = parse(b"echo ${X\n", Dialect::Full).unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (5, ParseErrorKind::UnterminatedVariable)
    );
    let e = parse(b"echo ${}\n", Dialect::Full).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::BadVariableName { found: None });
    let e = parse(b"echo ${A-B}\n", Dialect::Full).unwrap_err();
    assert_eq!(
        e.kind,
        ParseErrorKind::BadVariableName { found: Some(b'-') }
    );
    let e = parse(b"echo a\\", Dialect::Full).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::TrailingBackslash);
    let e = parse(b"./p \"x", MIN).unwrap_err();
    assert_eq!(e.kind, ParseErrorKind::UnterminatedString);
}

fn vars(pairs: &[(&str, &str)]) -> Vars {
    pairs
        .iter()
        .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
        .collect()
}

fn expand(src: &str, v: &Vars) -> Vec<String> {
    let c = parse(src.as_bytes(), Dialect::Full).unwrap();
    expand_words(&c[0].words, v)
        .into_iter()
        .map(|w| String::from_utf8(w).unwrap())
        .collect()
}

#[test]
fn variable_expansion() {
    let v = vars(&[
        ("BINDIR", "./x86/bin"),
        ("SPACE", " "),
        ("TWO", "a b"),
        ("EMPTY", ""),
    ]);
    assert_eq!(
        expand("${BINDIR}/M1 -f x${EXE_SUFFIX}.M1\n", &v),
        vec!["./x86/bin/M1", "-f", "x.M1"]
    );
    // a variable holding one space, or unset, or empty, gives no argument
    assert_eq!(
        expand("./p ${SPACE} ${UNSET} ${EMPTY} z\n", &v),
        vec!["./p", "z"]
    );
    // unquoted values split into words; quoted ones do not
    assert_eq!(
        expand("./p ${TWO} \"${TWO}\"\n", &v),
        vec!["./p", "a", "b", "a b"]
    );
    assert_eq!(expand("./p \"${UNSET}\"\n", &v), vec!["./p", ""]);
    // defaults
    assert_eq!(
        expand(
            "./p ${UNSET:-d1} ${EMPTY:-d2} ${TWO:-d3} ${UNSET:-${BINDIR}/x}\n",
            &v
        ),
        vec!["./p", "d1", "d2", "a", "b", "./x86/bin/x"]
    );
    assert_eq!(expand("./p ${UNSET:-\"a b\"}\n", &v), vec!["./p", "a b"]);
}

/// A host that records the steps instead of running them.
#[derive(Default)]
struct Recorder {
    steps: Vec<(String, PathBuf, PathBuf, Vec<String>)>,
    fail: Vec<String>,
    out: Vec<u8>,
    err: Vec<u8>,
    entered: Vec<(PathBuf, usize)>,
    env_seen: Vec<Option<String>>,
}

impl Host for Recorder {
    fn run(&mut self, step: &Step) -> Result<i32, Diagnostic> {
        let argv: Vec<String> = step
            .argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        self.env_seen.push(
            step.vars
                .get(b"CC".as_slice())
                .map(|v| String::from_utf8_lossy(v).into_owned()),
        );
        let failing = self.fail.contains(&argv[0]);
        self.steps.push((
            step.location(),
            step.cwd.to_path_buf(),
            step.program.clone(),
            argv,
        ));
        Ok(if failing { 3 } else { 0 })
    }
    fn enter_script(&mut self, script: &Path, depth: usize) {
        self.entered.push((script.to_path_buf(), depth));
    }
    fn stdout(&mut self) -> &mut dyn Write {
        &mut self.out
    }
    fn stderr(&mut self) -> &mut dyn Write {
        &mut self.err
    }
}

/// A scratch directory removed when the test ends.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let d = std::env::temp_dir().join(format!("hexroot-kaem-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    Scratch(d)
}

fn run(
    dir: &Path,
    script: &str,
    dialect: Dialect,
    host: &mut Recorder,
) -> Result<Finished, Diagnostic> {
    let mut frame = Frame::new(
        PathBuf::from("test.kaem"),
        dialect,
        dir.to_path_buf(),
        vars(&[("PATH", "/usr/bin")]),
    );
    Shell { host }.run_source(&mut frame, script.as_bytes())
}

#[test]
fn assignments_cd_set_echo_pwd_unset() {
    let dir = scratch("builtins");
    std::fs::create_dir_all(dir.join("x86/sub")).unwrap();
    let mut h = Recorder::default();
    let script = "ARCH=x86\nBINDIR=\"./${ARCH}/bin\"\ncd ${ARCH}\npwd\n${BINDIR}/M1 a\ncd sub\ncd ..\necho \"hello  world\" two\nunset ARCH\necho [${ARCH}]\nset -ex\n./after\n";
    let done = run(&dir, script, Dialect::Full, &mut h).unwrap();
    assert_eq!(done.status, 0);
    let out = String::from_utf8(h.out.clone()).unwrap();
    assert!(
        out.starts_with(&format!("{}\n", dir.join("x86").display())),
        "{out}"
    );
    assert!(out.contains("hello  world two\n[]\n"), "{out}");
    // set -x turns on the trace for what follows
    assert!(out.ends_with(" +> ./after\n"), "{out}");
    assert_eq!(h.steps[0].0, "test.kaem:5:1");
    assert_eq!(h.steps[0].1, dir.join("x86"));
    assert_eq!(h.steps[0].2, dir.join("x86/x86/bin/M1"));
    assert_eq!(h.steps[0].3, vec!["./x86/bin/M1", "a"]);
    assert_eq!(h.steps[1].1, dir.join("x86"));
}

#[test]
fn strict_stops_and_non_strict_goes_on() {
    let dir = scratch("strict");
    let mut h = Recorder {
        fail: vec!["./bad".into()],
        ..Recorder::default()
    };
    let d = run(&dir, "./ok\n./bad x\n./never\n", Dialect::Full, &mut h).unwrap();
    assert_eq!(d.status, 0);
    assert_eq!(h.steps.len(), 3);
    assert!(String::from_utf8_lossy(&h.err).contains("warning: './bad' failed with exit status 3"));
    let mut h = Recorder {
        fail: vec!["./bad".into()],
        ..Recorder::default()
    };
    let e = run(
        &dir,
        "set -e\n./ok\n./bad x\n./never\n",
        Dialect::Full,
        &mut h,
    )
    .unwrap_err();
    assert_eq!(h.steps.len(), 2);
    let e = e.to_string();
    assert!(
        e.starts_with("test.kaem:3:1: error: './bad' failed with exit status 3"),
        "{e}"
    );
    // the minimal kaem is always strict and always traces
    let mut h = Recorder {
        fail: vec!["./bad".into()],
        ..Recorder::default()
    };
    assert!(run(&dir, "./ok\n./bad\n./never\n", MIN, &mut h).is_err());
    assert_eq!(String::from_utf8_lossy(&h.out), " +> ./ok\n +> ./bad\n");
}

#[test]
fn alias_and_exec() {
    let dir = scratch("alias");
    let mut h = Recorder::default();
    let script = "ARCH=x86\nalias CC=\"./M2-Mesoplanet --architecture ${ARCH} -f\"\nCC hello.c -o hello\nexec ./last a\n./never\n";
    let done = run(&dir, script, Dialect::Full, &mut h).unwrap();
    assert_eq!(done.status, 0);
    assert_eq!(
        h.steps[0].3,
        vec![
            "./M2-Mesoplanet",
            "--architecture",
            "x86",
            "-f",
            "hello.c",
            "-o",
            "hello"
        ]
    );
    assert_eq!(h.steps[1].3, vec!["./last", "a"]);
    assert_eq!(h.steps.len(), 2);
    // a failing exec ends the script with an error
    let mut h = Recorder {
        fail: vec!["./last".into()],
        ..Recorder::default()
    };
    assert!(run(&dir, "exec ./last\n", Dialect::Full, &mut h).is_err());
}

#[test]
fn path_lookup_and_command_not_found() {
    let dir = scratch("path");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    let tool = dir.join("bin/M1");
    std::fs::write(&tool, b"").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut h = Recorder::default();
    let script = format!("PATH={}:/nonexistent\nM1 -f a\n", dir.join("bin").display());
    run(&dir, &script, Dialect::Full, &mut h).unwrap();
    assert_eq!(h.steps[0].2, tool);
    assert_eq!(h.steps[0].3[0], "M1");
    let mut h = Recorder::default();
    let e = run(&dir, "\n  nosuchtool x\n", Dialect::Full, &mut h)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("test.kaem:2:3: error: command not found: 'nosuchtool'"),
        "{e}"
    );
    // the minimal kaem does no PATH search
    let mut h = Recorder::default();
    run(&dir, "M1 x\n", MIN, &mut h).unwrap();
    assert_eq!(h.steps[0].2, dir.join("M1"));
}

#[test]
fn variables_reach_children_as_environment() {
    let dir = scratch("env");
    let mut h = Recorder::default();
    run(&dir, "CC=cc0\n./a\nCC=cc1\n./b\n", Dialect::Full, &mut h).unwrap();
    assert_eq!(h.env_seen, vec![Some("cc0".into()), Some("cc1".into())]);
}

#[test]
fn nested_kaem_runs_in_process() {
    let dir = scratch("nested");
    std::fs::create_dir_all(dir.join("x86/artifact")).unwrap();
    std::fs::create_dir_all(dir.join("x86/bin")).unwrap();
    std::fs::write(
        dir.join("x86/mini.kaem"),
        "# minimal\n./x86/artifact/hex1 a b\n./x86/bin/kaem --verbose --strict --file ./x86/run.kaem\n./x86/artifact/M0 c d\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("x86/run.kaem"),
        "LEVEL=inner\ncd x86\n./inner ${LEVEL} ${OUTER}\n",
    )
    .unwrap();
    let mut h = Recorder::default();
    let script = "OUTER=outer\n./x86/artifact/kaem-0 ./x86/mini.kaem\n./after ${LEVEL}\n";
    run(&dir, script, Dialect::Full, &mut h).unwrap();
    let argv: Vec<Vec<String>> = h.steps.iter().map(|s| s.3.clone()).collect();
    assert_eq!(
        argv,
        vec![
            vec!["./x86/artifact/hex1", "a", "b"],
            vec!["./inner", "inner", "outer"],
            vec!["./x86/artifact/M0", "c", "d"],
            vec!["./after"],
        ]
    );
    // the nested cd stays in the nested script
    assert_eq!(h.steps[1].1, dir.join("x86"));
    assert_eq!(h.steps[2].1, dir.to_path_buf());
    assert_eq!(h.steps[1].0, "./x86/run.kaem:3:1");
    assert_eq!(
        h.entered,
        vec![
            (PathBuf::from("./x86/mini.kaem"), 1),
            (PathBuf::from("./x86/run.kaem"), 2)
        ]
    );
    // an error in a nested script names the nested script and where it was started
    std::fs::write(dir.join("x86/broken.kaem"), "./x \"unterminated\n").unwrap();
    let mut h = Recorder::default();
    let e = run(
        &dir,
        "./x86/bin/kaem --file x86/broken.kaem\n",
        Dialect::Full,
        &mut h,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("x86/broken.kaem:1:5: error: unterminated string"),
        "{e}"
    );
    assert!(e.contains("run from test.kaem"), "{e}");
    let mut h = Recorder::default();
    let e = run(
        &dir,
        "./x86/bin/kaem --file x86/missing.kaem\n",
        Dialect::Full,
        &mut h,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("x86/missing.kaem: error: cannot read kaem script"),
        "{e}"
    );
}

#[test]
fn unsupported_and_malformed_commands_are_errors() {
    let dir = scratch("bad");
    for (script, want) in [
        ("if ./x\n", "'if' is not supported"),
        ("X=a b\n", "unexpected words after an assignment"),
        ("set -q\n", "set: unknown flag '-q'"),
        ("cd nowhere\n", "cd: cannot enter 'nowhere'"),
        ("alias X\n", "alias needs NAME=TEXT"),
        ("./kaem --frob\n", "nested kaem option '--frob'"),
    ] {
        let mut h = Recorder::default();
        let e = run(&dir, script, Dialect::Full, &mut h)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("test.kaem:1:1: error: ") && e.contains(want),
            "{script}: {e}"
        );
    }
    let _ = OsString::new();
}
