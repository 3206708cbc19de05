//! Tests of the process layer (loader, system calls, fork/exec/wait) with the toy
//! instruction set of [`super::mock`] and hand-made ELF files.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::cpu::{Sys, SyscallRequest};
use super::fs::{FdTable, OpenFiles};
use super::memory::Memory;
use super::mock::{Asm, Mock};
use super::process::{
    run_with_cpu, Ended, ExecHook, ExecRequest, HookOutcome, RunConfig, RunError,
};
use super::syscall::{handle, Kernel, RunIo, Task};

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hexroot-linux-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d.canonicalize().unwrap()
}

fn install(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

struct Ran {
    status: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    outcome: Option<super::RunOutcome>,
    error: Option<RunError>,
}

fn run_in(dir: &Path, prog: &Asm, hook: Option<&mut dyn ExecHook>, max_steps: Option<u64>) -> Ran {
    let p = install(dir, "prog", &prog.elf());
    let config = RunConfig {
        program: p,
        argv: vec![b"prog".to_vec()],
        envp: vec![b"K=V".to_vec()],
        cwd: dir.to_path_buf(),
        max_steps,
        ..RunConfig::default()
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut stdin: &[u8] = b"input";
    let r = {
        let mut io = RunIo {
            stdin: &mut stdin,
            stdout: &mut out,
            stderr: &mut err,
        };
        run_with_cpu::<Mock>(&config, &mut io, hook)
    };
    match r {
        Ok(o) => Ran {
            status: o.status,
            stdout: out,
            stderr: err,
            outcome: Some(o),
            error: None,
        },
        Err(e) => Ran {
            status: -1,
            stdout: out,
            stderr: err,
            outcome: None,
            error: Some(e),
        },
    }
}

const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;

#[test]
fn write_and_exit_status() {
    let d = scratch("hello");
    let mut a = Asm::default();
    let msg = a.data(b"hello\n");
    a.sys(1, &[1, msg, 6]).sys(60, &[3]);
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.status, 3);
    assert_eq!(r.stdout, b"hello\n");
    let o = r.outcome.unwrap();
    assert_eq!(o.processes.len(), 1);
    assert_eq!(o.processes[0].ended, Ended::Exited(3));
    assert!(o.instructions >= 2);
}

#[test]
fn errno_values_are_negative_results() {
    let d = scratch("errno");
    let cases: &[(&[u8], u64, i32)] = &[
        (b"missing", 0, 2),                // ENOENT
        (b".", O_WRONLY, 21),              // EISDIR
        (b"exists", O_CREAT | O_EXCL, 17), // EEXIST
        (b"exists/x", 0, 20),              // ENOTDIR
    ];
    std::fs::write(d.join("exists"), b"").unwrap();
    for (path, flags, want) in cases {
        let mut a = Asm::default();
        let p = a.data(&[path, &b"\0"[..]].concat());
        a.sys(2, &[p, *flags, 0o644]).op(&[7, 0]).exit_r0();
        assert_eq!(
            run_in(&d, &a, None, None).status,
            *want,
            "{:?}",
            String::from_utf8_lossy(path)
        );
    }
    // Bad descriptor, bad pointer, ioctl on a file, close of a closed fd.
    let mut a = Asm::default();
    a.sys(1, &[77, 0, 1]).op(&[7, 0]).exit_r0();
    assert_eq!(run_in(&d, &a, None, None).status, 9);
    let mut a = Asm::default();
    a.sys(1, &[1, 0x10, 4]).op(&[7, 0]).exit_r0();
    assert_eq!(run_in(&d, &a, None, None).status, 14);
    let mut a = Asm::default();
    a.sys(16, &[0, 0x5401, 0]).op(&[7, 0]).exit_r0();
    assert_eq!(run_in(&d, &a, None, None).status, 25);
    let mut a = Asm::default();
    a.sys(61, &[u64::MAX, 0, 0, 0]).op(&[7, 0]).exit_r0();
    assert_eq!(run_in(&d, &a, None, None).status, 10, "ECHILD");
}

#[test]
fn created_files_get_the_mode_the_host_umask_allows_and_lseek_works() {
    let d = scratch("create");
    let mut a = Asm::default();
    let name = a.data(b"out\0");
    let text = a.data(b"abcdef");
    let buf = a.data(&[0; 8]);
    a.sys(2, &[name, O_RDWR | O_CREAT | O_TRUNC, 0o750]);
    a.mov(6, 0); // fd in r6 survives: sys() loads only the arguments it is given
    a.li(1, 0).mov(1, 6).li(2, text).li(3, 6).li(0, 1).op(&[1]);
    a.mov(1, 6).li(2, 2).li(3, 0).li(0, 8).op(&[1]); // lseek(fd, 2, SEEK_SET)
    a.mov(1, 6).li(2, buf).li(3, 2).li(0, 0).op(&[1]); // read 2
    a.sys(1, &[1, buf, 2]);
    a.mov(1, 6).li(2, 0).li(3, 1).li(0, 8).op(&[1]); // lseek(fd, 0, SEEK_CUR) = 4
    a.exit_r0();
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.stdout, b"cd");
    assert_eq!(r.status, 4);
    assert_eq!(std::fs::read(d.join("out")).unwrap(), b"abcdef");
    // The host applies its umask exactly as to a file std creates with the same mode.
    let probe = d.join("probe");
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode_ext(0o750)
        .open(&probe)
        .unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&d.join("out")), mode(&probe));
}

trait ModeExt {
    fn mode_ext(&mut self, m: u32) -> &mut Self;
}
impl ModeExt for std::fs::OpenOptions {
    fn mode_ext(&mut self, m: u32) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::mode(self, m)
    }
}

#[test]
fn brk_grows_the_heap_without_host_calls() {
    let d = scratch("brk");
    let mut a = Asm::default();
    a.sys(12, &[0]).mov(5, 0); // r5 = base
                               // brk(base + 100000): the mock has no add, so the test computes it from the image.
    let base = {
        let img =
            super::elf::load(&super::elf::parse(&a.elf()).unwrap(), &a.elf(), &[], &[]).unwrap();
        img.brk_base
    };
    a.sys(12, &[base + 100_000]);
    a.li(1, base + 99_999).li(2, 0x5a).op(&[8, 1, 2]); // store inside the new heap
    a.sys(12, &[base - 1]); // refused: returns the current break
    a.li(1, base + 100_000).op(&[7, 1]); // r1 = -(expected)
    a.exit_r0();
    let r = run_in(&d, &a, None, None);
    // exit status is (result) & 0xff, the break unchanged at base + 100000.
    assert_eq!(r.status, ((base + 100_000) & 0xff) as i32);
    // A store past the break faults (SIGSEGV: 128 + 11).
    let mut a = Asm::default();
    a.li(1, base + 5000).li(2, 1).op(&[8, 1, 2]).sys(60, &[0]);
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.status, 139, "{}", String::from_utf8_lossy(&r.stderr));
    assert!(String::from_utf8_lossy(&r.stderr).contains("SIGSEGV"));
}

/// A parent that forks; the child execs `child_path`; the parent waits and exits with
/// the child's exit code.
fn fork_exec_wait(child_path: &[u8]) -> Asm {
    let mut a = Asm::default();
    let path = a.data(&[child_path, &b"\0"[..]].concat());
    let argv = a.strings(&[b"child", b"arg"]);
    let envp = a.strings(&[b"A=B"]);
    let status = a.data(&[0; 8]);
    a.sys(57, &[]);
    let to_child = a.jz();
    a.sys(61, &[u64::MAX, status, 0, 0]);
    a.op(&[6, 0])
        .op(&status.to_le_bytes())
        .op(&[9, 0, 8])
        .exit_r0();
    a.here(to_child);
    a.sys(59, &[path, argv, envp])
        .op(&[7, 0])
        .li(1, 0)
        .mov(1, 0)
        .li(0, 60)
        .op(&[1]);
    a
}

#[test]
fn fork_exec_and_wait_run_the_child_first() {
    let d = scratch("fork");
    let mut child = Asm::default();
    let m = child.data(b"child\n");
    child.sys(1, &[1, m, 6]).sys(60, &[7]);
    install(&d, "child", &child.elf());
    let r = run_in(&d, &fork_exec_wait(b"./child"), None, None);
    assert_eq!(r.stdout, b"child\n");
    assert_eq!(r.status, 7);
    let o = r.outcome.unwrap();
    assert_eq!(o.processes.len(), 3, "{:?}", o.processes);
    assert_eq!(o.processes[1].ended, Ended::Execed);
    assert_eq!(
        o.processes[2].argv,
        vec![b"child".to_vec(), b"arg".to_vec()]
    );
    assert_eq!(o.processes[2].ended, Ended::Exited(7));
    assert_eq!(o.processes[2].ppid, o.processes[0].pid);
}

#[test]
fn exec_failures_have_the_kernels_errno() {
    let d = scratch("execfail");
    install(&d, "script", b"#!/bin/sh\necho hi\n");
    std::fs::write(d.join("noexec"), Asm::default().elf()).unwrap();
    for (path, want) in [
        (&b"./missing"[..], 2),
        (b"./script", 8),
        (b"./noexec", 13),
        (b".", 13),
    ] {
        let r = run_in(&d, &fork_exec_wait(path), None, None);
        assert_eq!(r.status, want, "{}", String::from_utf8_lossy(path));
    }
}

struct Hook(Vec<String>);

impl ExecHook for Hook {
    fn exec(&mut self, request: &ExecRequest) -> Option<HookOutcome> {
        if !request.guest_path.ends_with(b"hooked") {
            return None;
        }
        self.0
            .push(format!("{} {:?}", request.path.display(), request.argv));
        Some(HookOutcome {
            status: 5,
            stdout: b"from the hook\n".to_vec(),
            stderr: Vec::new(),
            instructions: 10,
        })
    }
}

#[test]
fn an_exec_hook_runs_the_program_in_the_guests_place() {
    let d = scratch("hook");
    let mut hook = Hook(Vec::new());
    let r = run_in(&d, &fork_exec_wait(b"./hooked"), Some(&mut hook), None);
    assert_eq!(r.stdout, b"from the hook\n");
    assert_eq!(r.status, 5);
    assert_eq!(hook.0.len(), 1);
    assert!(hook.0[0].ends_with("hooked [[99, 104, 105, 108, 100], [97, 114, 103]]"));
    let o = r.outcome.unwrap();
    assert_eq!(o.processes[2].ended, Ended::Hooked(5));
}

#[test]
fn faults_unknown_calls_and_the_step_budget_stop_the_guest() {
    let d = scratch("faults");
    let mut a = Asm::default();
    a.op(&[0xee]);
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.status, 132, "SIGILL");
    assert!(String::from_utf8_lossy(&r.stderr).contains("unknown instruction encoding"));
    let mut a = Asm::default();
    a.sys(999, &[]);
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.status, 159);
    let e = String::from_utf8_lossy(&r.stderr);
    assert!(e.contains("unknown system call 999 on amd64"), "{e}");
    let mut a = Asm::default();
    a.sys(56, &[0x100, 0]); // clone(CLONE_VM)
    assert_eq!(run_in(&d, &a, None, None).status, 159);
    let mut a = Asm::default();
    a.li(0, 0);
    a.op(&[4]).op(&(-5i32).to_le_bytes());
    let r = run_in(&d, &a, None, Some(1000));
    assert_eq!(r.error, Some(RunError::StepLimit { max_steps: 1000 }));
}

#[test]
fn stdin_and_files_read_through_buffers() {
    let d = scratch("read");
    std::fs::write(d.join("in"), b"xyz").unwrap();
    let mut a = Asm::default();
    let name = a.data(b"in\0");
    let buf = a.data(&[0; 8]);
    a.sys(0, &[0, buf, 5]).sys(1, &[1, buf, 5]); // stdin "input"
    a.sys(2, &[name, 0, 0]).mov(6, 0);
    for _ in 0..4 {
        a.mov(1, 6).li(2, buf).li(3, 1).li(0, 0).op(&[1]); // one byte at a time
        a.mov(3, 0).li(1, 1).li(2, buf).li(0, 1).op(&[1]);
    }
    a.sys(60, &[0]);
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.stdout, b"inputxyz");
}

#[test]
fn directories_cwd_and_uname() {
    let d = scratch("dirs");
    let mut a = Asm::default();
    let sub = a.data(b"sub\0");
    let buf = a.data(&[0; 512]);
    a.sys(83, &[sub, 0o755])
        .sys(80, &[sub])
        .sys(79, &[buf, 512]);
    a.li(3, 0).mov(3, 0).li(1, 1).li(2, buf).li(0, 1).op(&[1]); // write cwd incl. NUL
    a.sys(63, &[buf]).sys(1, &[1, buf + 65 * 4, 6]);
    a.sys(39, &[]).op(&[9, 0, 60]).exit_r0(); // getpid >> 60 == 0
    let r = run_in(&d, &a, None, None);
    assert_eq!(r.status, 0, "{}", String::from_utf8_lossy(&r.stderr));
    let mut want = d.join("sub").into_os_string().into_encoded_bytes();
    want.push(0);
    want.extend_from_slice(b"x86_64");
    assert_eq!(r.stdout, want);
    assert!(d.join("sub").is_dir());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]
    #[test]
    fn arbitrary_system_calls_never_panic(
        n in 0usize..32,
        args in proptest::collection::vec(proptest::prelude::any::<u64>(), 6),
        pick in proptest::collection::vec(0u64..0x40, 6),
        junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 64),
    ) {
        let calls = [
            Sys::Read, Sys::Write, Sys::Open, Sys::OpenAt, Sys::Close, Sys::Lseek, Sys::Llseek,
            Sys::Brk, Sys::Exit, Sys::ExitGroup, Sys::Fork, Sys::Clone, Sys::Execve,
            Sys::Waitpid, Sys::Wait4, Sys::Chdir, Sys::Fchdir, Sys::Chmod, Sys::Fchmod,
            Sys::FchmodAt, Sys::Access, Sys::FaccessAt, Sys::Unlink, Sys::UnlinkAt, Sys::Mkdir,
            Sys::MkdirAt, Sys::Rmdir, Sys::Getcwd, Sys::Uname, Sys::Getpid, Sys::Ioctl,
            Sys::Waitid,
        ];
        let d = std::env::temp_dir().join(format!("hexroot-linux-prop-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let d = d.canonicalize().unwrap();
        let mut mem = Memory::new();
        mem.map(0x1000, 0x100).unwrap();
        mem.slice_mut(0x1000, 64).unwrap().copy_from_slice(&junk);
        mem.map(0x10000, 0).unwrap();
        // Arguments are either arbitrary or small pointers into the mapped page.
        let mut a = [0u64; 6];
        for i in 0..6 {
            a[i] = if pick[i] < 0x20 { 0x1000 + pick[i] } else { args[i] };
        }
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let mut stdin: &[u8] = b"abc";
        let mut io = RunIo { stdin: &mut stdin, stdout: &mut out, stderr: &mut err };
        let mut files = OpenFiles::default();
        let fds = FdTable::standard(&mut files);
        let mut k = Kernel { io: &mut io, files, root: Some(d.clone()), ids: None };
        let mut t = Task {
            pid: 1, ppid: 0, arch: super::cpu::Arch::I386, fds, cwd: d.clone(),
            brk_base: 0x10000, brk: 0x10000, zombies: vec![(5, 0)],
        };
        let req = SyscallRequest { number: n as u64, sys: Some(calls[n]), args: a };
        let _ = handle(&mut k, &mut t, &mut mem, &req);
    }
}
