//! The worked examples of `spec/examples.md`, run as tests: every ```` ```example ````
//! block is a command line, its input files and its expectations (the block format is
//! described at the top of that document). Each runs in-process through the tool's
//! library entry point (`hexroot::tool`), exactly as its binary would, in a scratch
//! directory; file names declared in the block are passed as paths into it.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

/// One example: where it is, its command line and its sections.
struct Example {
    line: usize,
    argv: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
    expects: Vec<(String, Vec<u8>)>,
    contains: Vec<(String, Vec<String>)>,
    stdout: Option<Vec<u8>>,
    exit: i32,
    stderr_contains: Vec<String>,
}

/// Hex byte pairs, blanks and newlines ignored.
fn unhex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    assert!(
        digits.len().is_multiple_of(2),
        "odd number of hex digits in {text:?}"
    );
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The content of a section from its lines and its header's suffixes.
fn content(lines: &[&str], header: &str) -> Vec<u8> {
    if header.ends_with("(hex)") {
        return unhex(&lines.join(" "));
    }
    let mut text = lines.join("\n");
    if !header.ends_with("(no newline)") {
        text.push('\n');
    }
    text.into_bytes()
}

/// The name in a section header such as `file in (hex)`.
fn section_name(rest: &str) -> String {
    rest.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn parse_example(start: usize, body: &[&str]) -> Example {
    let cmd = body[0]
        .strip_prefix("$ ")
        .expect("an example starts with '$ TOOL ARGS'");
    let mut ex = Example {
        line: start,
        argv: cmd.split_whitespace().map(str::to_string).collect(),
        files: Vec::new(),
        expects: Vec::new(),
        contains: Vec::new(),
        stdout: None,
        exit: 0,
        stderr_contains: Vec::new(),
    };
    let mut i = 1;
    while i < body.len() {
        let header = body[i]
            .strip_prefix("--- ")
            .expect("a section starts with '--- '");
        let mut j = i + 1;
        while j < body.len() && !body[j].starts_with("--- ") {
            j += 1;
        }
        let lines = &body[i + 1..j];
        if let Some(rest) = header.strip_prefix("file ") {
            ex.files.push((section_name(rest), content(lines, header)));
        } else if let Some(rest) = header.strip_prefix("expect ") {
            ex.expects
                .push((section_name(rest), content(lines, header)));
        } else if let Some(rest) = header.strip_prefix("contains ") {
            let wanted = lines.iter().map(|l| l.to_string()).collect();
            ex.contains.push((section_name(rest), wanted));
        } else if header.starts_with("stdout") {
            ex.stdout = Some(content(lines, header));
        } else if let Some(n) = header.strip_prefix("exit ") {
            ex.exit = n.trim().parse().expect("exit N");
        } else if header == "stderr contains" {
            ex.stderr_contains = lines.iter().map(|l| l.to_string()).collect();
        } else {
            panic!("examples.md:{}: unknown section '--- {header}'", start);
        }
        i = j;
    }
    ex
}

fn examples(doc: &str) -> Vec<Example> {
    let lines: Vec<&str> = doc.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == "```example" {
            let end = (i + 1..lines.len())
                .find(|&j| lines[j] == "```")
                .expect("closed block");
            out.push(parse_example(i + 2, &lines[i + 1..end]));
            i = end;
        }
        i += 1;
    }
    out
}

/// Runs one example; returns what did not match.
fn run(ex: &Example, dir: &Path) -> Vec<String> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir).unwrap();
    for (name, bytes) in &ex.files {
        fs::write(dir.join(name), bytes).unwrap();
    }
    let declared = |a: &str| {
        ex.files.iter().any(|(n, _)| n == a)
            || ex.expects.iter().any(|(n, _)| n == a)
            || ex.contains.iter().any(|(n, _)| n == a)
    };
    let args: Vec<OsString> = ex
        .argv
        .iter()
        .map(|a| {
            if declared(a) {
                dir.join(a).into_os_string()
            } else {
                OsString::from(a)
            }
        })
        .collect();
    let tool = hexroot::tool(&ex.argv[0]).unwrap_or_else(|| panic!("no tool {}", ex.argv[0]));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let status = {
        let mut io = toolbase::cli::Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
            cwd: None,
        };
        tool(&args, &mut io)
    };
    let err = String::from_utf8_lossy(&err).into_owned();
    let mut problems = Vec::new();
    if status != ex.exit {
        problems.push(format!(
            "exit status {status}, expected {} (stderr: {err})",
            ex.exit
        ));
    }
    for (name, want) in &ex.expects {
        match fs::read(dir.join(name)) {
            Ok(got) if &got == want => {}
            Ok(got) => problems.push(format!("{name}: got {got:02X?}, expected {want:02X?}")),
            Err(e) => problems.push(format!("{name}: not written ({e}); stderr: {err}")),
        }
    }
    for (name, wanted) in &ex.contains {
        let got = fs::read(dir.join(name)).unwrap_or_default();
        let got = String::from_utf8_lossy(&got);
        for w in wanted.iter().filter(|w| !got.contains(w.as_str())) {
            problems.push(format!("{name} lacks the line {w:?}"));
        }
    }
    if let Some(want) = &ex.stdout {
        if &out != want {
            problems.push(format!("stdout {:?}", String::from_utf8_lossy(&out)));
        }
    }
    for w in ex
        .stderr_contains
        .iter()
        .filter(|w| !err.contains(w.as_str()))
    {
        problems.push(format!("stderr {err:?} lacks {w:?}"));
    }
    problems
}

#[test]
fn every_worked_example_of_the_spec_holds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = fs::read_to_string(root.join("spec/examples.md")).unwrap();
    let all = examples(&doc);
    assert!(all.len() >= 30, "only {} examples found", all.len());
    let scratch: PathBuf =
        std::env::temp_dir().join(format!("hexroot-spec-examples-{}", std::process::id()));
    let mut failures = Vec::new();
    for (n, ex) in all.iter().enumerate() {
        for p in run(ex, &scratch.join(n.to_string())) {
            failures.push(format!(
                "spec/examples.md:{}: {}: {p}",
                ex.line,
                ex.argv.join(" ")
            ));
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
