//! `crossverify replay` on hexroot's own test chain (`seeds/chain/`), in `ours`, `theirs`
//! and `both` modes, and every kind of failure.
//!
//! The chain starts from our amd64 hex0 seed (run natively in `theirs` and `both` mode on
//! an x86-64 Linux host) and builds hex0 three more ways plus a hex1 program. The "their"
//! binaries the script names (`AMD64/artifact/hex1`, `AMD64/bin/M1`, ...) are symbolic
//! links to this test executable, which acts as the tool its name says (argv[0] dispatch
//! through `crossverify::replay::tools::multicall`, as the `crossverify` binary does), so
//! the test needs no separately built binaries. Until the hex2 and m1 crates are part of
//! the build, the chain is cut at its marker line and checked against `answers.seed`.
//!
//! harness = false: the cases run one after another in `main`, each checking that the
//! replay left the process's working directory where it was (it never changes it), and
//! `cargo test --test replay_chain` prints each mode's summary line and our tools' time
//! per step.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use crossverify::json::{self, Value};
use crossverify::replay::tools::{entry, recognise, Kind};

#[path = "../crossverify/tests/html/browser.rs"]
mod browser;

/// One test case: its name and its body.
type Case = (&'static str, fn() -> Result<(), String>);

const MARKER: &str = "# --- everything below needs";

fn main() {
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.first().is_some_and(|a| {
        recognise(Path::new(a)).is_some()
            || std::env::var_os(crossverify::replay::foreign::PASS_ENV).is_some()
    }) {
        toolbase::cli::run_main(|a, io| crossverify::replay::tools::multicall(a, io).unwrap_or(2));
    }
    let filter = args
        .iter()
        .skip(1)
        .find(|a| !a.to_string_lossy().starts_with('-'));
    let cases: &[Case] = &[
        ("chain_replays_in_ours_mode", || chain("ours", "native")),
        ("chain_replays_in_theirs_mode", || chain("theirs", "native")),
        ("chain_replays_in_both_mode", || chain("both", "native")),
        ("chain_replays_emulated", || chain("ours", "emulated")),
        ("chain_as_json_and_html", chain_exports),
        ("chain_replays_native_and_emulated", || {
            chain("ours", "both")
        }),
        ("chain_replays_emulated_in_both_mode", || {
            chain("both", "emulated")
        }),
        ("x86_chain_replays_in_ours_mode", || {
            x86_chain("ours", "native")
        }),
        ("x86_chain_replays_in_theirs_mode", || {
            x86_chain("theirs", "native")
        }),
        ("x86_chain_replays_in_both_mode", || {
            x86_chain("both", "native")
        }),
        ("x86_chain_replays_emulated", || {
            x86_chain("theirs", "emulated")
        }),
        ("x86_chain_replays_native_and_emulated", || {
            x86_chain("theirs", "both")
        }),
        ("riscv64_chain_replays_emulated", || {
            riscv_chain("riscv64", "emulated")
        }),
        ("riscv32_chain_replays_emulated", || {
            riscv_chain("riscv32", "emulated")
        }),
        (
            "riscv64_chain_replays_native_through_qemu_and_emulated",
            || riscv_chain("riscv64", "both"),
        ),
        (
            "riscv32_chain_replays_native_through_qemu_and_emulated",
            || riscv_chain("riscv32", "both"),
        ),
        (
            "a_foreign_program_without_qemu_is_named",
            foreign_without_qemu,
        ),
        ("native_and_emulated_differ", native_and_emulated_differ),
        ("missing_input_file", missing_input_file),
        ("failing_tool", failing_tool),
        ("differing_output_in_both_mode", differing_output),
        ("spawned_tool_differs_in_both_mode", spawned_differs),
        ("chain_output_goes_to_the_report", chain_output_in_report),
        ("malformed_script", malformed_script),
        ("answers_mismatch", answers_mismatch),
        ("bad_command_lines", bad_command_lines),
        ("host_cc_agrees_on_the_chain_built_compiler", host_cc_agrees),
        ("host_cc_finds_a_trojan_compiler", host_cc_finds_trojan),
        ("host_cc_none_verifies_nothing", host_cc_none),
        ("ddc_agrees_on_the_chain_built_compiler", || ddc_case(false)),
        ("ddc_finds_a_trojan_compiler", || ddc_case(true)),
    ];
    let mut failed = 0;
    let mut ran = 0;
    for (name, case) in cases {
        if let Some(f) = filter {
            if !name.contains(&*f.to_string_lossy()) {
                continue;
            }
        }
        ran += 1;
        match case() {
            Ok(()) => println!("test {name} ... ok"),
            Err(e) => {
                failed += 1;
                println!("test {name} ... FAILED\n{e}");
            }
        }
    }
    println!(
        "\ntest result: {}. {} passed; {failed} failed",
        if failed == 0 { "ok" } else { "FAILED" },
        ran - failed
    );
    std::process::exit(if failed == 0 { 0 } else { 1 });
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether this build has every tool the whole chain needs.
fn complete_build() -> bool {
    [
        Kind::Hex1,
        Kind::Hex2Seed,
        Kind::M0,
        Kind::M1,
        Kind::Hex2,
        Kind::BloodElf,
    ]
    .iter()
    .all(|k| entry(*k).is_some())
}

fn native_seed_runs() -> bool {
    cfg!(all(target_arch = "x86_64", target_os = "linux"))
}

/// Lays out a replay root for the test chain; `None` when the seeds are not in the tree.
fn make_root(name: &str) -> Option<PathBuf> {
    let seeds = repo().join("seeds/amd64");
    if !seeds.join("hex0-seed").exists() {
        return None;
    }
    let root = std::env::temp_dir().join(format!(
        "hexroot-replay-chain-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&root);
    let chain = repo().join("seeds/chain");
    for d in ["AMD64/artifact", "AMD64/bin", "bootstrap-seeds/POSIX/AMD64"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in [
        "kaem.amd64",
        "AMD64/chain.kaem",
        "AMD64/hello.hex1",
        "AMD64/driver.sh",
        "AMD64/answers",
        "AMD64/answers.seed",
    ] {
        fs::copy(chain.join(f), root.join(f)).unwrap();
    }
    for f in ["hex0.hex0", "hex0.M1", "defs.M1"] {
        fs::copy(seeds.join(f), root.join("AMD64").join(f)).unwrap();
    }
    let seed = root.join("bootstrap-seeds/POSIX/AMD64/hex0-seed");
    fs::copy(seeds.join("hex0-seed"), &seed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&seed, fs::Permissions::from_mode(0o755)).unwrap();
    let exe = std::env::current_exe().unwrap();
    for t in [
        "AMD64/artifact/catm",
        "AMD64/artifact/hex1",
        "AMD64/artifact/hex2-0",
        "AMD64/artifact/M0",
        "AMD64/bin/M1",
        "AMD64/bin/hex2",
        "AMD64/bin/blood-elf",
    ] {
        std::os::unix::fs::symlink(&exe, root.join(t)).unwrap();
    }
    if !complete_build() {
        let kaem = fs::read_to_string(root.join("AMD64/chain.kaem")).unwrap();
        let cut = kaem.find(MARKER).unwrap();
        fs::write(root.join("AMD64/chain.kaem"), &kaem[..cut]).unwrap();
        fs::copy(root.join("AMD64/answers.seed"), root.join("AMD64/answers")).unwrap();
    }
    Some(root)
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
    report: Option<String>,
}

fn replay(root: &Path, extra: &[&str]) -> Run {
    replay_script(root, "kaem.amd64", extra)
}

/// Replays `script` under `root` in-process with `extra` options, `--verbose` (the trace
/// and the chain's output on stdout and stderr, which most cases look at) and a report;
/// the report file is read and removed.
fn replay_script(root: &Path, script: &str, extra: &[&str]) -> Run {
    let mut with_verbose = vec!["--verbose"];
    with_verbose.extend_from_slice(extra);
    replay_plain(root, script, &with_verbose)
}

/// As [`replay_script`], without adding `--verbose`.
fn replay_plain(root: &Path, script: &str, extra: &[&str]) -> Run {
    let report = root.with_extension("report.txt");
    let _ = fs::remove_file(&report);
    let mut args: Vec<OsString> =
        vec!["replay".into(), script.into(), "--root".into(), root.into()];
    args.extend(extra.iter().map(OsString::from));
    args.extend(["--report".into(), report.clone().into()]);
    let mut out = Vec::new();
    let mut err = Vec::new();
    let before = std::env::current_dir().ok();
    let status = {
        let mut io = toolbase::cli::Streams {
            stdout: &mut out,
            stderr: &mut err,
            stdout_is_terminal: false,
            cwd: None,
        };
        crossverify::replay::main(&args, &mut io)
    };
    // Issue 19: our tools receive each step's directory; the process's never moves.
    assert_eq!(
        std::env::current_dir().ok(),
        before,
        "the replay changed directory"
    );
    Run {
        status,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
        report: fs::read_to_string(&report).ok().inspect(|_| {
            let _ = fs::remove_file(&report);
        }),
    }
}

fn check(cond: bool, what: &str, run: &Run) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(format!(
            "{what}\n--- status {}\n--- stdout\n{}\n--- stderr\n{}\n--- report\n{}",
            run.status,
            run.stdout,
            run.stderr,
            run.report.as_deref().unwrap_or("(none)")
        ))
    }
}

/// Replays `script` like [`replay_script`], with `--json` and `--html` as well: the
/// document, checked against the committed schema, and the page's path (removed by the
/// caller with the root).
fn replay_exports(root: &Path, script: &str, extra: &[&str]) -> (Run, Value, PathBuf) {
    let json_path = root.with_extension("replay.json");
    let html_path = root.with_extension("replay.html");
    let (j, h) = (
        json_path.to_string_lossy().into_owned(),
        html_path.to_string_lossy().into_owned(),
    );
    let mut options = extra.to_vec();
    options.extend(["--json", &j, "--html", &h]);
    let run = replay_script(root, script, &options);
    let text = fs::read(&json_path).unwrap_or_default();
    let _ = fs::remove_file(&json_path);
    let doc = json::read::parse(&j, &text).unwrap_or_else(|d| panic!("{d}"));
    let schema = crossverify::export::schema_of("replay").unwrap();
    if let Err(errors) = json::schema::check(&schema, &doc) {
        panic!("{j} does not match its schema:\n{}", errors.join("\n"));
    }
    let page = fs::read_to_string(&html_path).unwrap_or_default();
    let glance = run
        .report
        .as_deref()
        .and_then(|r| r.lines().find_map(|l| l.strip_prefix("at a glance: ")))
        .unwrap_or("(no line at a glance in the report)");
    assert!(
        page.contains(&format!(
            "<strong id=\"at-a-glance\">{}</strong>",
            crossverify::html::escape(glance)
        )),
        "the page's summary starts with the report's line at a glance: {glance}"
    );
    (run, doc, html_path)
}

/// The per-result step counts of a replay document (`summary.results`).
fn results(doc: &Value) -> Vec<(String, i64)> {
    match doc.get("summary").and_then(|s| s.get("results")) {
        Some(Value::Object(fields)) => fields
            .iter()
            .map(|(k, v)| (k.clone(), v.as_i64().unwrap_or(-1)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Loads the page in the browser: the headline has `headline`, and the DOM has as many
/// rows of each result class as the document counts.
fn browse(page: &Path, headline: &str, doc: &Value) -> Result<(), String> {
    let counts = results(doc);
    let want: Vec<(&str, usize)> = counts
        .iter()
        .map(|(k, n)| (k.as_str(), usize::try_from(*n).unwrap_or(0)))
        .collect();
    let shown = browser::check_page(page, headline, &want, &[])?;
    let _ = fs::remove_file(page);
    if shown {
        println!("  page: {headline}; rows {want:?}");
    }
    Ok(())
}

fn skip(why: &str) -> Result<(), String> {
    println!("  skipped: {why}");
    Ok(())
}

fn chain(mode: &str, exec: &str) -> Result<(), String> {
    if (mode != "ours" || exec == "both") && !native_seed_runs() {
        return skip("the amd64 seed runs natively only on x86-64 Linux");
    }
    let Some(root) = make_root(&format!("{mode}-{exec}")) else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    let manifest = root.with_extension("sha256");
    let manifest_arg = manifest.to_string_lossy().into_owned();
    let run = replay(
        &root,
        &[
            "--tools",
            mode,
            "--exec",
            exec,
            "--answers",
            "AMD64/answers",
            "--manifest",
            &manifest_arg,
        ],
    );
    let manifest_text = fs::read_to_string(&manifest).unwrap_or_default();
    let _ = fs::remove_file(&manifest);
    let report_path = PathBuf::from(format!("{}.report", manifest.display()));
    let manifest_report = fs::read_to_string(&report_path).unwrap_or_default();
    let _ = fs::remove_file(&report_path);
    check(
        manifest_report.contains(&format!(
            "built-by hexroot-replay-{mode} AMD64/artifact/hex0\n"
        )),
        "the --manifest file has its report beside it, for compare",
        &run,
    )?;
    check(
        manifest_text.contains("  AMD64/artifact/hex0\n") && !manifest_text.contains('#'),
        "the --manifest file must list the artifacts in sha256sum format",
        &run,
    )?;
    if let Ok(out) = std::process::Command::new("sha256sum")
        .args(["--strict", "-c", "-"])
        .current_dir(&root)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin
                .take()
                .unwrap()
                .write_all(manifest_text.as_bytes())?;
            c.wait()
        })
    {
        check(
            out.success(),
            "sha256sum -c of the --manifest file failed",
            &run,
        )?;
    }
    check(run.status == 0, "the replay failed", &run)?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.starts_with("crossverify replay report\nstatus: complete\n"),
        "report not complete",
        &run,
    )?;
    check(
        run.stdout.contains(
            " +> ./bootstrap-seeds/POSIX/AMD64/hex0-seed ./AMD64/hex0.hex0 ./AMD64/artifact/hex0\n",
        ),
        "no kaem trace",
        &run,
    )?;
    check(
        run.stderr.contains("replay: step 1 of about "),
        "no progress",
        &run,
    )?;
    check(
        report.contains("answers: ") && report.contains(" did not") && !report.contains("MISMATCH"),
        "answers not checked",
        &run,
    )?;
    let seed = fs::read(root.join("bootstrap-seeds/POSIX/AMD64/hex0-seed")).unwrap();
    let mut same = vec!["hex0", "hex0-self"];
    if complete_build() {
        same.extend(["hex0-m0", "hex0-m1", "hex0-rebuilt"]);
        check(
            run.stdout.contains("hello from hex1\n"),
            "the hex1 program did not run",
            &run,
        )?;
        check(
            run.stdout
                .contains("test chain done for amd64 (no surprises)\n"),
            "echo missing",
            &run,
        )?;
    }
    for a in same {
        let got = fs::read(root.join("AMD64/artifact").join(a)).unwrap_or_default();
        check(
            got == seed,
            &format!("AMD64/artifact/{a} is not the seed"),
            &run,
        )?;
    }
    if complete_build() {
        for a in [
            "hex0-driver",
            "hex0-rebuilt",
            "hex0-m0.hex2",
            "hex0-footer.M1",
        ] {
            check(
                report.contains(&format!("  AMD64/artifact/{a}\n")),
                &format!("the manifest must list AMD64/artifact/{a}"),
                &run,
            )?;
        }
        // the answers file is exactly GNU sha256sum's format
        if let Ok(out) = std::process::Command::new("sha256sum")
            .args(["--strict", "-c", "AMD64/answers"])
            .current_dir(&root)
            .output()
        {
            check(
                out.status.success(),
                "sha256sum -c AMD64/answers failed",
                &run,
            )?;
        }
    }
    if mode != "theirs" && complete_build() {
        check(
            report.contains("spawned through PATH: hex2 x1"),
            "driver.sh must have found our hex2 first on PATH",
            &run,
        )?;
        let agreed = if mode == "both" { 1 } else { 0 };
        check(
            report.contains(&format!("spawned tool runs 1 (agreed {agreed})")),
            "the spawned run must be counted (and compared in both mode)",
            &run,
        )?;
    }
    if mode == "both" {
        check(
            report.contains("differed 0") && !report.contains("); agreed 0,"),
            "nothing agreed",
            &run,
        )?;
    }
    check_exec(exec, &report, &run)?;
    if exec != "native" && complete_build() {
        check(
            report.contains("  exec: native only (cannot emulate: not a static ELF executable"),
            "the shell script driver.sh runs natively, and the record says so",
            &run,
        )?;
    }
    let summary = run
        .stderr
        .lines()
        .find(|l| l.starts_with("replay: ok: "))
        .unwrap_or("");
    // With --exec both the external programs that are static ELFs (hello, hex0-m1) ran
    // natively and emulated: checked by two machines; driver.sh (a shell script) only natively.
    let verified = match (mode, exec) {
        ("both", "both") => {
            " verified (9 by two implementations, 2 by two machines), 1 not independently verified; answers 11 of 11 matched"
        }
        (_, "both") => {
            " 2 verified by two machines, 9 run by hexroot's tools only (--tools both compares them), 1 not independently verified; answers 11 of 11 matched"
        }
        ("both", _) => {
            " verified by two implementations, 3 not independently verified; answers 11 of 11 matched"
        }
        _ => {
            " tools only (--tools both compares them), 3 not independently verified; answers 11 of 11 matched"
        }
    };
    check(
        summary.contains(verified),
        "the final line counts the verified and unverified steps and the answers",
        &run,
    )?;
    println!("  {mode}: {summary}");
    for l in report
        .lines()
        .filter(|l| l.starts_with("step ") || l.starts_with("  wall time"))
    {
        println!("    {l}");
    }
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// The report's `exec:` lines of the seed step say how it ran.
/// The test chain as JSON and HTML: the document validates, counts what the text report
/// says, and the page shows one row per step coloured by result.
fn chain_exports() -> Result<(), String> {
    let mode = if native_seed_runs() { "both" } else { "ours" };
    let Some(root) = make_root("exports") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    let (run, doc, page) = replay_exports(
        &root,
        "kaem.amd64",
        &["--tools", mode, "--answers", "AMD64/answers", "--quiet"],
    );
    check(run.status == 0, "the replay failed", &run)?;
    let report = run.report.clone().unwrap_or_default();
    let steps = doc
        .get("steps")
        .and_then(Value::as_array)
        .unwrap_or_default();
    check(
        steps.len() == report.matches("\n  at: ").count() && !steps.is_empty(),
        "one JSON step per report step",
        &run,
    )?;
    let glance = report
        .lines()
        .find_map(|l| l.strip_prefix("at a glance: "))
        .unwrap_or("(none)");
    check(
        doc.get("summary")
            .and_then(|s| s.get("at_a_glance"))
            .and_then(Value::as_str)
            == Some(glance)
            && steps
                .iter()
                .all(|s| s.get("ended_us").and_then(Value::as_i64).is_some()),
        "the document has the report's line at a glance and every step's end time",
        &run,
    )?;
    let count = |k: &str| {
        results(&doc)
            .iter()
            .find(|(c, _)| c == k)
            .map_or(-1, |(_, n)| *n)
    };
    let agreed_text = report.matches("  result: agreed").count();
    let unverified_text = report
        .split("## Not independently verified (")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse::<i64>().ok())
        .unwrap_or(-1);
    check(
        count("agreed") == i64::try_from(agreed_text).unwrap_or(-2)
            && count("unverified") == unverified_text
            && count("differed") == 0
            && count("failed") == 0,
        &format!(
            "the JSON's results {:?} must match the text report",
            results(&doc)
        ),
        &run,
    )?;
    if complete_build() && mode == "both" {
        check(
            steps.len() == 12 && count("agreed") == 9 && count("unverified") == 3,
            "the whole chain: 12 steps, 9 agreed, 3 not independently verified",
            &run,
        )?;
    }
    check(
        doc.get("passed") == Some(&Value::Bool(true))
            && doc.get("status").and_then(Value::as_str) == Some("complete")
            && doc
                .get("answers")
                .and_then(|a| a.get("mismatched"))
                .and_then(Value::as_array)
                .is_some_and(|m| m.is_empty()),
        "the document must say the run passed and every answer matched",
        &run,
    )?;
    browse(&page, "complete", &doc)?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn check_exec(exec: &str, report: &str, run: &Run) -> Result<(), String> {
    let want = match exec {
        "native" => return Ok(()),
        "emulated" => "  exec: emulated (",
        // `native (through qemu-ARCH)+emulated agreed` when the program is foreign.
        _ => "+emulated agreed",
    };
    check(
        report.contains(want) && !report.contains("DIFFERED"),
        &format!("the seed step must be recorded as '{}'", want.trim()),
        run,
    )
}

/// Lays out a replay root for the RISC-V test chain of `arch` (`seeds/chain/kaem.ARCH`):
/// the seed is `ARCH/hex0.hex0` assembled by hexroot's hex0 library.
fn make_riscv_root(arch: &str, name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "hexroot-replay-chain-{arch}-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&root);
    let seeds = format!("bootstrap-seeds/POSIX/{arch}");
    for d in [format!("{arch}/artifact"), seeds.clone()] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    let chain = repo().join("seeds/chain");
    let script = format!("kaem.{arch}");
    fs::copy(chain.join(&script), root.join(&script)).unwrap();
    for f in ["hex0.hex0", "hello.hex0", "answers"] {
        fs::copy(chain.join(arch).join(f), root.join(arch).join(f)).unwrap();
    }
    let text = fs::read(chain.join(arch).join("hex0.hex0")).unwrap();
    let seed = hex0::assemble(&text, hex0::Dialect::Portable).unwrap();
    let path = root.join(seeds).join("hex0-seed");
    fs::write(&path, seed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    root
}

/// Whether `qemu-NAME` is on PATH.
fn have_qemu(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|p| {
        std::env::split_paths(&p).any(|d| d.join(format!("qemu-{name}")).is_file())
    })
}

/// The RISC-V test chain with the seed and hex0 steps run by the program (emulated, or
/// in `both` also natively through qemu-user) and by ours, compared, and hello run.
fn riscv_chain(arch: &str, exec: &str) -> Result<(), String> {
    if exec == "both" && !have_qemu(arch) {
        return skip(&format!("no qemu-{arch} on PATH"));
    }
    let root = make_riscv_root(arch, exec);
    let answers = format!("{arch}/answers");
    let run = replay_script(
        &root,
        &format!("kaem.{arch}"),
        &["--tools", "both", "--exec", exec, "--answers", &answers],
    );
    check(run.status == 0, &format!("the {arch} replay failed"), &run)?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.contains("3 matched, 0 did not") && report.contains("agreed 3, differed 0"),
        "every answer and every tool step must agree",
        &run,
    )?;
    check(
        run.stdout.contains(&format!("{arch} test chain done\n")),
        "hello must run",
        &run,
    )?;
    check_exec(exec, &report, &run)?;
    if exec == "both" {
        check(
            report.contains(&format!("(through qemu-{arch})+emulated agreed")),
            "the native half must go through qemu",
            &run,
        )?;
    }
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// A foreign program with `--qemu DIR` naming a directory without qemu: a clear error.
fn foreign_without_qemu() -> Result<(), String> {
    if !native_seed_runs() {
        return skip("needs an x86-64 host, for which RV64 is foreign");
    }
    let root = make_riscv_root("riscv64", "noqemu");
    let empty = root.join("no-qemu-here");
    fs::create_dir_all(&empty).unwrap();
    let run = replay_script(
        &root,
        "kaem.riscv64",
        &[
            "--tools",
            "theirs",
            "--qemu",
            empty.to_str().unwrap(),
            "--answers",
            "riscv64/answers",
        ],
    );
    check(
        run.status == 1
            && run.stderr.contains("is a program for riscv64")
            && run.stderr.contains("qemu-riscv64"),
        "the missing qemu must be named",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// Lays out a replay root for the stage0-posix-shaped x86 chain (`kaem.x86` → kaem-0
/// `x86/mini.kaem` → `kaem --file x86/kaem.run` → `exec kaem --file x86/after.kaem`).
fn make_x86_root(name: &str) -> PathBuf {
    let root = std::env::temp_dir().join(format!(
        "hexroot-replay-chain-x86-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&root);
    for d in ["x86/artifact", "x86/bin", "bootstrap-seeds/POSIX/x86"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    let chain = repo().join("seeds/chain");
    fs::copy(chain.join("kaem.x86"), root.join("kaem.x86")).unwrap();
    for f in ["mini.kaem", "kaem.run", "after.kaem", "answers"] {
        fs::copy(chain.join("x86").join(f), root.join("x86").join(f)).unwrap();
    }
    let seeds = repo().join("seeds/x86");
    for f in ["hex0.hex0", "hex0.M1", "defs.M1"] {
        fs::copy(seeds.join(f), root.join("x86").join(f)).unwrap();
    }
    let seed = root.join("bootstrap-seeds/POSIX/x86/hex0-seed");
    fs::copy(seeds.join("hex0-seed"), &seed).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&seed, fs::Permissions::from_mode(0o755)).unwrap();
    let exe = std::env::current_exe().unwrap();
    for t in ["catm", "M0", "hex2-0", "M1-0", "blood-elf-0", "hex2-1"] {
        std::os::unix::fs::symlink(&exe, root.join("x86/artifact").join(t)).unwrap();
    }
    root
}

/// Whether the i386 seed runs here (an x86-64 Linux kernel with 32-bit support).
fn x86_seed_runs() -> bool {
    let root = make_x86_root("probe");
    let ok = std::process::Command::new(root.join("bootstrap-seeds/POSIX/x86/hex0-seed"))
        .args(["x86/hex0.hex0", "probe.bin"])
        .current_dir(&root)
        .output()
        .is_ok_and(|o| o.status.success());
    let _ = fs::remove_dir_all(&root);
    ok
}

fn x86_chain(mode: &str, exec: &str) -> Result<(), String> {
    if !complete_build() {
        return skip("needs the hex2 and m1 crates");
    }
    // In `theirs` mode the i386 seed is a program step, so it is the one emulated.
    if ((mode != "ours" && exec == "native") || exec == "both") && !x86_seed_runs() {
        return skip("the i386 seed does not run natively here");
    }
    let root = make_x86_root(&format!("{mode}-{exec}"));
    let run = replay_script(
        &root,
        "kaem.x86",
        &["--tools", mode, "--exec", exec, "--answers", "x86/answers"],
    );
    check(run.status == 0, "the x86 replay failed", &run)?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.starts_with("crossverify replay report\nstatus: complete\n"),
        "report not complete",
        &run,
    )?;
    check(
        run.stderr.contains("hex2-0 (x86, base 0x8048000)")
            && run
                .stderr
                .contains("entering kaem script ./x86/mini.kaem (depth 1)")
            && run
                .stderr
                .contains("entering kaem script ./x86/after.kaem (depth 3)"),
        "the x86 seed tools and the nested scripts must be recognised",
        &run,
    )?;
    check(
        run.stdout.ends_with("x86 test chain done\n"),
        "exec into after.kaem expected",
        &run,
    )?;
    check(
        report.contains("answers: ") && report.contains("8 matched, 0 did not"),
        "answers",
        &run,
    )?;
    if mode == "both" {
        check(
            report.contains("agreed 8, differed 0"),
            "every step must agree",
            &run,
        )?;
    }
    check_exec(exec, &report, &run)?;
    let summary = run
        .stderr
        .lines()
        .find(|l| l.starts_with("replay: ok: "))
        .unwrap_or("");
    println!("  x86 {mode}: {summary}");
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn incomplete(run: &Run) -> Result<(), String> {
    check(run.status == 1, "expected exit status 1", run)?;
    check(
        run.report
            .as_deref()
            .is_some_and(|r| r.starts_with("crossverify replay report\nstatus: incomplete")),
        "the report must say 'status: incomplete'",
        run,
    )
}

/// A static i386 program that writes `uname`'s machine field (8 bytes) to stdout and
/// exits 0: the kernel says `x86_64` to a 32-bit program, the machine says `i686`.
fn uname_program() -> Vec<u8> {
    const BASE: u32 = 0x0804_8000;
    let buf = BASE + 0x1000;
    let mut code = vec![0xb8, 122, 0, 0, 0, 0xbb]; // mov eax, 122 (uname); mov ebx, buf
    code.extend_from_slice(&buf.to_le_bytes());
    code.extend_from_slice(&[0xcd, 0x80, 0xb8, 4, 0, 0, 0, 0xbb, 1, 0, 0, 0, 0xb9]);
    code.extend_from_slice(&(buf + 4 * 65).to_le_bytes()); // write(1, machine, 8)
    code.extend_from_slice(&[0xba, 8, 0, 0, 0, 0xcd, 0x80]);
    code.extend_from_slice(&[0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80]); // exit(0)
    let size = 52 + 32 + code.len() as u32;
    let mut f = b"\x7fELF\x01\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    for v in [2u16, 3] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for v in [1, BASE + 84, 52, 0, 0] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for v in [52u16, 32, 1, 40, 0, 0] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    for v in [1, 0, BASE, BASE, size, 0x2000, 7, 0x1000] {
        f.extend_from_slice(&v.to_le_bytes());
    }
    f.extend_from_slice(&code);
    f
}

fn native_and_emulated_differ() -> Result<(), String> {
    if !x86_seed_runs() {
        return skip("the i386 program does not run natively here");
    }
    let root = make_x86_root("differ");
    let prog = root.join("x86/uname");
    fs::write(&prog, uname_program()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&prog, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(root.join("kaem.x86"), "./x86/uname\n").unwrap();
    let run = replay_script(&root, "kaem.x86", &["--exec", "both", "--quiet"]);
    incomplete(&run)?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.contains("  exec: native+emulated DIFFERED")
            && report.contains("result: DIFFERED: native and emulated runs: standard output")
            && run
                .stderr
                .contains("the native and the emulated run of the program disagree"),
        "the difference must be the step's verdict and stop the replay",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn missing_input_file() -> Result<(), String> {
    let Some(root) = make_root("missing") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    fs::remove_file(root.join("AMD64/defs.M1")).unwrap();
    let manifest = root.with_extension("sha256");
    let _ = fs::remove_file(&manifest);
    let m = manifest.to_string_lossy().into_owned();
    let run = replay(&root, &["--tools", "ours", "--quiet", "--manifest", &m]);
    incomplete(&run)?;
    check(
        !manifest.exists(),
        "no manifest may be written for an incomplete replay",
        &run,
    )?;
    check(
        run.stderr.contains("AMD64/defs.M1") && run.stderr.contains("./AMD64/chain.kaem:"),
        "message must name the file and the step",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn failing_tool() -> Result<(), String> {
    let Some(root) = make_root("failing") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    // our hex0 refuses a G outside a comment (the seeds skip it)
    let path = root.join("AMD64/hex0.hex0");
    let mut src = fs::read(&path).unwrap();
    src.extend_from_slice(b"G\n");
    fs::write(&path, src).unwrap();
    let run = replay(&root, &["--tools", "ours", "--quiet"]);
    incomplete(&run)?;
    check(run.stderr.contains("AMD64/hex0.hex0:") && run.stderr.contains("kaem.amd64:12:1: error: './bootstrap-seeds/POSIX/AMD64/hex0-seed' failed with exit status 1"), "message must say which tool failed where", &run)?;
    check(
        !root.join("AMD64/artifact/hex0").exists(),
        "a failed step must leave no output",
        &run,
    )?;
    // Without --verbose the tool's message went to the report; its tail is printed.
    let run = replay_plain(&root, "kaem.amd64", &["--tools", "ours"]);
    incomplete(&run)?;
    check(
        run.stderr
            .contains("replay: the last lines step 1 (kaem.amd64:12:1) wrote:\n  | ")
            && run.stderr.contains("AMD64/hex0.hex0:")
            && run.stderr.contains("replay: FAILED: 1 step in ")
            && run.stderr.contains("1 FAILED; answers not checked"),
        "the failing step's output and the final line",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn differing_output() -> Result<(), String> {
    if !native_seed_runs() {
        return skip("the amd64 seed runs natively only on x86-64 Linux");
    }
    let Some(root) = make_root("differ") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    // "their" catm drops the last byte of its output
    let catm = root.join("AMD64/artifact/catm");
    fs::remove_file(&catm).unwrap();
    fs::write(
        &catm,
        "#!/bin/sh\nout=$1; shift; cat \"$@\" | head -c -1 > \"$out\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&catm, fs::Permissions::from_mode(0o755)).unwrap();
    let (run, doc, page) = replay_exports(&root, "kaem.amd64", &["--tools", "both", "--quiet"]);
    incomplete(&run)?;
    let differed: Vec<&Value> = doc
        .get("steps")
        .and_then(Value::as_array)
        .unwrap_or_default()
        .iter()
        .filter(|s| s.get("result").and_then(Value::as_str) == Some("differed"))
        .collect();
    check(
        doc.get("status").and_then(Value::as_str) == Some("incomplete")
            && doc.get("passed") == Some(&Value::Bool(false))
            && differed.len() == 1
            && differed[0]
                .get("detail")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("first difference at offset")),
        "the document must show the one differing step",
        &run,
    )?;
    let html = fs::read_to_string(&page).unwrap_or_default();
    check(
        html.contains("<div class=\"side\"><div><b>theirs</b>"),
        "the page must show both sides of the difference",
        &run,
    )?;
    browse(&page, "incomplete", &doc)?;
    check(
        run.stderr.contains("our catm and theirs disagree")
            && run.stderr.contains("first difference at offset")
            && run.stderr.contains("[end]"),
        "explain-style message expected",
        &run,
    )?;
    check(
        run.report.as_deref().unwrap_or("").contains("DIFFERED"),
        "the report must show the differing step",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn spawned_differs() -> Result<(), String> {
    if !native_seed_runs() {
        return skip("the amd64 seed runs natively only on x86-64 Linux");
    }
    if !complete_build() {
        return skip("needs the hex2 and m1 crates");
    }
    let Some(root) = make_root("spawned") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    // "their" hex2 is right, except when the driver script links hex0-driver
    let real = root.join("AMD64/real");
    fs::create_dir_all(&real).unwrap();
    std::os::unix::fs::symlink(std::env::current_exe().unwrap(), real.join("hex2")).unwrap();
    let hex2 = root.join("AMD64/bin/hex2");
    fs::remove_file(&hex2).unwrap();
    fs::write(
        &hex2,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n*hex0-driver*) printf x > ./AMD64/artifact/hex0-driver ;;\n*) exec {} \"$@\" ;;\nesac\n",
            real.join("hex2").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&hex2, fs::Permissions::from_mode(0o755)).unwrap();
    let run = replay(&root, &["--tools", "both", "--quiet"]);
    incomplete(&run)?;
    check(
        run.stderr.contains(
            "a hex2 run started by 'driver.sh' through PATH: our hex2 and the original disagree",
        ) && run.stderr.contains("first difference at offset 0x0"),
        "the spawned disagreement must be reported",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn malformed_script() -> Result<(), String> {
    let Some(root) = make_root("malformed") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    let path = root.join("AMD64/chain.kaem");
    let mut s = fs::read_to_string(&path).unwrap();
    s.push_str("echo \"unterminated\n");
    fs::write(&path, &s).unwrap();
    let line = s.lines().count();
    let run = replay(&root, &["--tools", "ours", "--quiet"]);
    incomplete(&run)?;
    check(
        run.stderr.contains(&format!(
            "./AMD64/chain.kaem:{line}:6: error: unterminated string"
        )),
        "located parse error expected",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// Without `--verbose` the terminal gets the final line only: no trace, no chain output
/// (which the report keeps under each step), and the final line counts what was verified
/// and gives the answers result.
fn chain_output_in_report() -> Result<(), String> {
    let Some(root) = make_root("plain") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    let run = replay_plain(
        &root,
        "kaem.amd64",
        &["--tools", "ours", "--answers", "AMD64/answers"],
    );
    check(run.status == 0, "the replay failed", &run)?;
    check(
        run.stdout.is_empty(),
        "nothing on stdout without --verbose",
        &run,
    )?;
    let last = run.stderr.lines().last().unwrap_or("");
    check(
        run.stderr.lines().count() == 1
            && last.starts_with("replay: ok: ")
            && last.contains(" run by hexroot's tools only (--tools both compares them)")
            && last.contains("; answers ")
            && last.contains(" matched (AMD64/answers)")
            && last.contains("; report: "),
        "one final line with the verified counts and the answers",
        &run,
    )?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.contains("\nat a glance: "),
        "the report has the line at a glance",
        &run,
    )?;
    check(
        report.contains("  ended: ") && report.contains(" s after the start\n"),
        "every step records when it ended",
        &run,
    )?;
    if complete_build() {
        check(
            report.contains("  | hello from hex1\n")
                && report.contains("  | test chain done for amd64 (no surprises)\n"),
            "the chain's output and kaem's echo are in the report",
            &run,
        )?;
    }
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn answers_mismatch() -> Result<(), String> {
    let Some(root) = make_root("answers") else {
        return skip("seeds/amd64 is not in this tree yet");
    };
    let path = root.join("AMD64/answers");
    let a = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        a.replacen(&a[..1], if &a[..1] == "0" { "1" } else { "0" }, 1),
    )
    .unwrap();
    let run = replay(
        &root,
        &["--tools", "ours", "--quiet", "--answers", "AMD64/answers"],
    );
    check(run.status == 1, "expected exit status 1", &run)?;
    let report = run.report.clone().unwrap_or_default();
    check(
        report.contains("status: complete, but FAILED") && report.contains("MISMATCH"),
        "the report must show the mismatch",
        &run,
    )?;
    check(
        run.stderr.contains("the answers file does not match"),
        "message expected",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn bad_command_lines() -> Result<(), String> {
    let root =
        std::env::temp_dir().join(format!("hexroot-replay-chain-cli-{}", std::process::id()));
    fs::create_dir_all(&root).unwrap();
    let run = replay(&root, &["--tools", "mine"]);
    check(
        run.status == 2 && run.report.is_none(),
        "bad --tools is a usage error",
        &run,
    )?;
    let run = replay(&root, &["--exec", "qemu"]);
    check(
        run.status == 2 && run.stderr.contains("expected native, emulated or both"),
        "bad --exec is a usage error",
        &run,
    )?;
    let run = replay(&root.join("nonexistent"), &[]);
    incomplete(&run)?;
    let run = replay(&root, &[]);
    incomplete(&run)?;
    check(
        run.stderr
            .contains("kaem.amd64: error: cannot read kaem script"),
        "missing script named",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// Lays out the compiler test chain (`seeds/chain/cc`): `cc.kaem` joins `src/tiny.c` with
/// catm, compiles it with `bin/cc` (the host's gcc; `trojan` puts `bin/cc-trojan`, which
/// adds a change, in its place) and runs the `tiny` it built.
fn make_cc_root(name: &str, trojan: bool) -> PathBuf {
    let root =
        std::env::temp_dir().join(format!("hexroot-replay-cc-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&root);
    let chain = repo().join("seeds/chain/cc");
    for d in ["src", "bin", "artifact"] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    for f in [
        "cc.kaem",
        "ddc.kaem",
        "src/tiny.c",
        "src/prog.t",
        "src/login.c",
        "src/amd64.M1",
        "src/elf-amd64.M1",
        "src/end.M1",
        "bin/cc",
        "bin/cc-trojan",
    ] {
        fs::copy(chain.join(f), root.join(f)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    for f in ["bin/cc", "bin/cc-trojan"] {
        fs::set_permissions(root.join(f), fs::Permissions::from_mode(0o755)).unwrap();
    }
    if trojan {
        fs::copy(root.join("bin/cc-trojan"), root.join("bin/cc")).unwrap();
    }
    for tool in ["catm", "M1", "hex2"] {
        std::os::unix::fs::symlink(
            std::env::current_exe().unwrap(),
            root.join("bin").join(tool),
        )
        .unwrap();
    }
    root
}

fn replay_cc(root: &Path, extra: &[&str]) -> Run {
    let mut options = vec!["--tools", "ours", "--quiet"];
    options.extend_from_slice(extra);
    replay_script(root, "cc.kaem", &options)
}

fn have_gcc() -> bool {
    std::process::Command::new("gcc")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn host_cc_agrees() -> Result<(), String> {
    if !have_gcc() {
        return skip("no gcc on this host (.ci/run installs it)");
    }
    let root = make_cc_root("agree", false);
    let run = replay_cc(&root, &["--host-cc", "gcc"]);
    let report = run.report.clone().unwrap_or_default();
    check(run.status == 0, "the replay must succeed", &run)?;
    check(
        report.contains("provenance: artifact/tiny <- cc(artifact/tiny-all.c) <- catm(src/tiny.c)"),
        "the report must show how the chain built tiny",
        &run,
    )?;
    check(
        report.contains("host cc gcc: agreed"),
        "gcc's build of tiny must agree with the chain's",
        &run,
    )?;
    check(
        report.contains(
            "external steps checked by host cc gcc: agreed 1, differed 0, not checkable 1",
        ),
        "the summary must count the checks",
        &run,
    )?;
    check(
        report.contains("## Not independently verified (1 step(s)")
            && report.contains("step 2: bin/cc: gcc: the chain did not build this program"),
        "the chain's own compiler, which came from outside, must be listed as not verified",
        &run,
    )?;
    println!("  host cc: {}", report.lines().nth(5).unwrap_or(""));
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

fn host_cc_finds_trojan() -> Result<(), String> {
    if !have_gcc() {
        return skip("no gcc on this host (.ci/run installs it)");
    }
    let root = make_cc_root("trojan", true);
    let keep = root.with_extension("hostcc");
    let _ = fs::remove_dir_all(&keep);
    let k = keep.to_string_lossy().into_owned();
    let (run, doc, page) = replay_exports(
        &root,
        "cc.kaem",
        &[
            "--tools",
            "ours",
            "--quiet",
            "--host-cc",
            "gcc",
            "--host-cc-dir",
            &k,
        ],
    );
    let report = run.report.clone().unwrap_or_default();
    check(
        run.status == 1,
        "a differing step must fail the replay",
        &run,
    )?;
    let found = doc
        .get("host_cc_differences")
        .and_then(Value::as_array)
        .unwrap_or_default();
    check(
        doc.get("passed") == Some(&Value::Bool(false))
            && found.len() == 1
            && found[0].get("step") == Some(&Value::Int(3))
            && doc
                .get("unverified")
                .and_then(Value::as_array)
                .map(<[Value]>::len)
                == Some(1),
        "the document must show the host compiler's finding and the unverified step",
        &run,
    )?;
    browse(&page, "complete, but FAILED", &doc)?;
    check(
        report.starts_with("crossverify replay report\nstatus: complete\n"),
        "the replay itself ran to its end",
        &run,
    )?;
    check(
        report.contains("artifact/prog.M1: first difference at line 7: theirs 'backdoor', ours 'mov_eax,[esp]'; in function login; 1 of 3 functions differ"),
        "the difference must name the line and the function",
        &run,
    )?;
    check(
        keep.join("differed-step3-gcc/artifact_prog.M1.chain")
            .is_file()
            && keep
                .join("differed-step3-gcc/artifact_prog.M1.gcc")
                .is_file(),
        "both outputs must be kept",
        &run,
    )?;
    check(
        run.stderr
            .contains("1 external step(s) gave different outputs"),
        "the error must say a step differed",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    let _ = fs::remove_dir_all(&keep);
    Ok(())
}

fn host_cc_none() -> Result<(), String> {
    let root = make_cc_root("none", false);
    if !have_gcc() {
        return skip("no gcc on this host: the chain's own bin/cc needs it");
    }
    let run = replay_cc(&root, &["--host-cc", "none"]);
    let report = run.report.clone().unwrap_or_default();
    check(run.status == 0, "the replay must succeed", &run)?;
    check(
        report.contains("agreed 0, differed 0, not checkable 2")
            && report.contains("## Not independently verified (2 step(s)"),
        "with no host compiler nothing is verified, and the report says so",
        &run,
    )?;
    let _ = fs::remove_dir_all(&root);
    Ok(())
}

/// `crossverify ddc` on the compiler test chain (`seeds/chain/cc/ddc.kaem`): the chain builds
/// `tiny` with its own `bin/cc`, compiles `login.c` with it and links `login` with M1 and
/// hex2; ddc builds tiny with gcc (stage 1), repeats the chain's commands with it (stage 2)
/// and compares with the chain's `login`. With the trojan compiler the chain's tiny adds a
/// backdoor to `login`, and ddc must say so and exit 1.
fn ddc_case(trojan: bool) -> Result<(), String> {
    if !have_gcc() {
        return skip("no gcc on this host (.ci/run installs it)");
    }
    let name = if trojan { "ddc-trojan" } else { "ddc" };
    let root = make_cc_root(name, trojan);
    let chain = replay_script(
        &root,
        "ddc.kaem",
        &["--tools", "ours", "--quiet", "--host-cc", "none"],
    );
    check(chain.status == 0, "the ddc test chain must run", &chain)?;
    let out = root.with_extension("ddc-out");
    let _ = fs::remove_dir_all(&out);
    let args: Vec<OsString> = [
        "ddc",
        "--root",
        &root.to_string_lossy(),
        "--script",
        "ddc.kaem",
        "--arch",
        "amd64",
        "--compiler",
        "login",
        "--host-cc",
        "gcc",
        "--out",
        &out.to_string_lossy(),
    ]
    .iter()
    .map(OsString::from)
    .collect();
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let status = {
        let mut io = toolbase::cli::Streams {
            stdout: &mut stdout,
            stderr: &mut stderr,
            stdout_is_terminal: false,
            cwd: None,
        };
        crossverify::ddc::main(&args, &mut io)
    };
    let run = Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        report: fs::read_to_string(out.join("ddc-report.txt")).ok(),
    };
    let report = run.report.clone().unwrap_or_default();
    check(
        report.contains("cT (the chain's compiler that built it) = artifact/tiny at ddc.kaem:8:1")
            && report.contains("sA = src/login.c")
            && report.contains("sT (cT's C sources, by its provenance) = src/tiny.c"),
        "the report must name cA's compiler and both sources",
        &run,
    )?;
    check(
        out.join("stage2/login").is_file() && out.join("stage2/login.M1").is_file(),
        "every stage's artifacts must be kept",
        &run,
    )?;
    if trojan {
        check(run.status == 1, "a differing DDC stage must exit 1", &run)?;
        check(
            report.contains("status: complete, but DIFFERED")
                && report.contains("first difference at line 2: theirs 'backdoor', ours 'xor_edi,edi'; in function login")
                && report.contains("DDC stage 2 (stage 1's build of sA) against cA: DIFFERS"),
            "the report must show the backdoor line and the DDC verdict",
            &run,
        )?;
    } else {
        check(run.status == 0, "ddc must verify the clean chain", &run)?;
        check(
            report.contains("status: complete: the last DDC stage is identical to cA")
                && report.contains("DDC stage 2 (stage 1's build of sA) against cA: identical"),
            "the report must give the DDC verdict",
            &run,
        )?;
    }
    let _ = fs::remove_dir_all(&root);
    let _ = fs::remove_dir_all(&out);
    Ok(())
}
