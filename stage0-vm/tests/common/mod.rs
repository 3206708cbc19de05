//! What the Linux-machine integration tests share: private scratch directories, installing
//! a program there, and running one through `stage0_vm::linux::run` with captured streams.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use stage0_vm::linux::{run, RunConfig, RunIo};

/// A fresh, empty, canonical directory for test `name` of suite `suite`.
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hexroot-{suite}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.canonicalize().unwrap()
}

/// Writes `bytes` to `dir/name` as an executable (mode 0755); its path.
pub fn install(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Runs `program` in `dir` with `argv`, `envp` and `stdin`, at most `max_steps` guest
/// instructions; its exit status, stdout and stderr (a run that cannot start panics).
pub fn run_in(
    dir: &Path,
    program: &Path,
    argv: Vec<Vec<u8>>,
    envp: Vec<Vec<u8>>,
    stdin: &[u8],
    max_steps: u64,
) -> (i32, Vec<u8>, Vec<u8>) {
    let config = RunConfig {
        program: program.to_path_buf(),
        argv,
        envp,
        cwd: dir.to_path_buf(),
        max_steps: Some(max_steps),
        ..RunConfig::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut input = stdin;
    let outcome = {
        let mut io = RunIo {
            stdin: &mut input,
            stdout: &mut out,
            stderr: &mut err,
        };
        run(&config, &mut io, None)
    };
    match outcome {
        Ok(o) => (o.status, out, err),
        Err(e) => panic!("run failed: {e}; stderr {}", String::from_utf8_lossy(&err)),
    }
}
