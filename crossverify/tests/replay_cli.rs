//! The `crossverify` binary as the replay uses it: `crossverify replay` through the
//! subcommand dispatch, and the binary acting as a tool when started under a tool's name
//! (the links of the replay's PATH directory).

use std::path::PathBuf;
use std::process::Command;

fn exe() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_crossverify"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "crossverify-replay-cli-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn replay_subcommand_help_and_usage_errors() {
    let out = Command::new(exe())
        .args(["replay", "--help"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.starts_with("Usage: crossverify replay SCRIPT --root DIR"),
        "{help}"
    );
    assert!(
        help.contains("Exit status:") && help.contains("Examples:"),
        "{help}"
    );
    let out = Command::new(exe())
        .args(["replay", "kaem.x86"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing --root DIR"));
    let out = Command::new(exe()).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("replay"));
}

#[test]
fn started_under_a_tool_name_it_is_that_tool() {
    let dir = scratch("multicall");
    let x86 = dir.join("x86");
    std::fs::create_dir_all(&x86).unwrap();
    for name in ["M1", "hex2-0", "catm"] {
        std::os::unix::fs::symlink(exe(), x86.join(name)).unwrap();
    }
    // M1 answers --version as M1, not as crossverify
    let out = Command::new(x86.join("M1"))
        .arg("--version")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("crossverify"), "{text}");
    // hex2-0 in an x86 directory links at the x86 seed's base address 0x08048000
    std::fs::write(dir.join("in.hex2"), ":a 90 &a\n").unwrap();
    let out = Command::new(x86.join("hex2-0"))
        .args(["in.hex2", "out"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dir.join("out")).unwrap(),
        [0x90, 0x00, 0x80, 0x04, 0x08]
    );
    // catm, output first
    std::fs::write(dir.join("a"), "A").unwrap();
    std::fs::write(dir.join("b"), "B").unwrap();
    let out = Command::new(x86.join("catm"))
        .args(["ab", "a", "b"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(std::fs::read(dir.join("ab")).unwrap(), b"AB");
    // a seed tool outside any architecture directory is refused with a reason
    std::os::unix::fs::symlink(exe(), dir.join("hex1")).unwrap();
    let out = Command::new(dir.join("hex1"))
        .args(["in.hex2", "out1"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot tell which architecture"));
    let _ = std::fs::remove_dir_all(&dir);
}
