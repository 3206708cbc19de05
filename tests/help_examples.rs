//! Every example in every binary's `--help` (and its subcommands') and in the READMEs runs
//! as written, and every man page and bash completion names every option its help lists.
//!
//! Examples are the lines `toolbase::help::examples` finds (`$ COMMAND`, remarks
//! `   # exit: N` and `   # needs: WHAT`, the lines after it what it prints). The examples
//! of one help text or one README block run in turn with `sh -c` in one fresh directory
//! holding a copy of `seeds/`, with `PATH` starting at a directory of links named after
//! every tool, all pointing at this test binary, which acts as the tool it is started as
//! (so no separately built binaries are needed). An example that needs what the
//! repository does not bundle is skipped and listed as such (never counted as passed),
//! unless what it needs is about the host and this host has it (an x86-64 Linux host, a
//! kernel that runs i386 ELFs: see `host_provides`); a
//! help text or README without a single example fails. Each completion must also pass
//! `bash -n`.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use toolbase::help::{bash_completion, examples, listed_options, man_page, Example};

/// The READMEs whose examples run.
const READMES: &[&str] = &[
    "README.md",
    "hex2/README.md",
    "m1/README.md",
    "stage0-vm/README.md",
    "crossverify/README.md",
    "seeds/README.md",
];

fn main() {
    let argv0 = std::env::args_os().next().unwrap_or_default();
    let name = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(tool) = hexroot::tool(&name) {
        toolbase::cli::run_main(tool);
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scratch = std::env::temp_dir().join(format!("hexroot-examples-{}", std::process::id()));
    let _ = fs::remove_dir_all(&scratch);
    let bin = scratch.join("bin");
    fs::create_dir_all(&bin).expect("scratch directory");
    let me = std::env::current_exe().expect("own path");
    for (tool, _) in hexroot::TOOLS {
        std::os::unix::fs::symlink(&me, bin.join(tool)).expect("tool link");
    }

    let mut texts: Vec<(String, String)> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for page in hexroot::pages::pages() {
        check_page(&page, &scratch, &mut failures);
        texts.push((format!("{} --help", page.name), page.help.clone()));
        for sub in &page.subcommands {
            texts.push((
                format!("{} {} --help", page.name, sub.name),
                sub.help.clone(),
            ));
        }
    }
    for readme in READMES {
        let text = fs::read_to_string(root.join(readme)).expect("README");
        texts.push((readme.to_string(), text));
    }

    let (mut ran, mut skipped) = (0, 0);
    for (source, text) in &texts {
        let found = examples(text);
        if found.is_empty() {
            failures.push(format!("{source}: no example"));
        }
        let mut blocks: Vec<usize> = found.iter().map(|e| e.block).collect();
        blocks.dedup();
        for block in blocks {
            let dir = scratch.join(format!("work-{ran}-{skipped}-{block}"));
            copy_dir(&root.join("seeds"), &dir.join("seeds")).expect("copy seeds");
            for e in found.iter().filter(|e| e.block == block) {
                if let Some(needs) = e.needs.as_ref().filter(|n| !host_provides(n, &dir)) {
                    println!("SKIP {source}: {}\n     needs {needs}", e.command);
                    skipped += 1;
                    continue;
                }
                match run(e, &dir, &bin) {
                    Ok(()) => {
                        println!("ok   {source}: {}", e.command);
                        ran += 1;
                    }
                    Err(why) => failures.push(format!(
                        "{source}: {}\n    {}",
                        e.command,
                        why.replace('\n', "\n    ")
                    )),
                }
            }
        }
        if !found.is_empty() && found.iter().all(|e| e.needs.is_some()) {
            println!("note {source}: every example needs something not bundled");
        }
    }
    let _ = fs::remove_dir_all(&scratch);
    for f in &failures {
        println!("FAIL {f}");
    }
    println!(
        "help examples: {ran} ran, {skipped} skipped (need what the repository does not bundle), {} failed",
        failures.len()
    );
    if !failures.is_empty() {
        std::process::exit(1);
    }
}

/// Whether this host has what an example `needs` that is about the host, not about
/// files the repository lacks: an x86-64 Linux host, or a kernel that runs i386 ELFs
/// (found out by running the bundled i386 seed on an empty input in `dir`).
fn host_provides(needs: &str, dir: &Path) -> bool {
    let x86_64_linux = cfg!(all(target_arch = "x86_64", target_os = "linux"));
    match needs {
        "an x86-64 Linux host" => x86_64_linux,
        "a kernel that runs i386 ELFs" => {
            x86_64_linux
                && Command::new(dir.join("seeds/x86/hex0-seed"))
                    .args(["/dev/null", "i386-probe.out"])
                    .current_dir(dir)
                    .status()
                    .is_ok_and(|s| s.success())
        }
        _ => false,
    }
}

/// Whether `bash -n` accepts `script` (a missing bash is reported, not passed).
fn bash_accepts(script: &str, dir: &Path) -> Result<(), String> {
    let path = dir.join("completion.bash");
    fs::write(&path, script).map_err(|e| e.to_string())?;
    let out = Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .map_err(|e| format!("cannot run bash -n: {e}"))?;
    let _ = fs::remove_file(&path);
    match out.status.success() {
        true => Ok(()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

/// The man page and the completion of `page` (and its subcommands') name every option
/// its help lists.
fn check_page(page: &toolbase::help::Page, dir: &Path, failures: &mut Vec<String>) {
    let man = man_page(page, "0").replace("\\-", "-");
    let completion = bash_completion(page);
    if let Err(why) = bash_accepts(&completion, dir) {
        failures.push(format!("{}.bash is not valid bash: {why}", page.name));
    }
    let helps = std::iter::once(page).chain(&page.subcommands);
    for p in helps {
        let listed = listed_options(&p.help);
        if listed.is_empty() {
            failures.push(format!(
                "{} {}: its help lists no option",
                page.name, p.name
            ));
        }
        for option in listed {
            if !man.contains(&option) {
                failures.push(format!("{}.1 lacks {option} ({})", page.name, p.name));
            }
            if !completion.contains(&format!(" {option} "))
                && !completion.contains(&format!("\"{option} "))
                && !completion.contains(&format!(" {option}\""))
            {
                failures.push(format!("{}.bash lacks {option} ({})", page.name, p.name));
            }
        }
    }
}

/// Runs one example in `dir`: its status and the lines it shows must be what it says.
fn run(e: &Example, dir: &Path, bin: &Path) -> Result<(), String> {
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let (out_path, err_path) = (dir.join(".stdout"), dir.join(".stderr"));
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(&e.command)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).map_err(|e| e.to_string())?)
        .stderr(fs::File::create(&err_path).map_err(|e| e.to_string())?)
        .spawn()
        .map_err(|e| format!("cannot start sh: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if start.elapsed() > Duration::from_secs(300) {
            let _ = child.kill();
            let _ = child.wait();
            return Err("hung (killed after 300 s)".into());
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let shown = fs::read_to_string(&out_path).unwrap_or_default()
        + &fs::read_to_string(&err_path).unwrap_or_default();
    let _ = fs::remove_file(&out_path);
    let _ = fs::remove_file(&err_path);
    if status.code() != Some(e.status) {
        return Err(format!(
            "exit status {:?}, the example says {}; it printed:\n{shown}",
            status.code(),
            e.status
        ));
    }
    let lines: Vec<&str> = shown.lines().map(str::trim).collect();
    for want in &e.output {
        if !lines.contains(&want.as_str()) {
            return Err(format!("it did not print '{want}'; it printed:\n{shown}"));
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target: PathBuf = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_name() != OsStr::new(".gitignore") {
            fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
