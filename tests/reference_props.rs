//! The engines equal the reference semantics: property tests of `hex0::assemble` against
//! `hex0::reference`, of `hex2::link` (and the `hex2` tool's two-thread path on large
//! inputs) against `hex2::reference` in full hex2 and in the seed dialects hex2-0 and hex1,
//! and of M1 against `m1::reference`, on generated programs that cover every construct of
//! `spec/grammar.md` and `spec/seed-tools.md` §3.1, every architecture, every byte mode and
//! both endiannesses.

use std::ffi::OsString;

use hex2::{Arch, ByteMode, Config, Dialect, Endian, Source, ARCHES};
use proptest::prelude::*;

const HEX0_DIALECTS: [hex0::Dialect; 6] = [
    hex0::Dialect::Portable,
    hex0::Dialect::X86,
    hex0::Dialect::Amd64,
    hex0::Dialect::Aarch64,
    hex0::Dialect::Riscv32,
    hex0::Dialect::Riscv64,
];

/// Bytes biased towards what means something in hex0.
fn hex0_source() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        8 => prop::sample::select(b"0123456789abcdefABCDEF".to_vec()),
        2 => prop::sample::select(b" \n\r\t#;Gg".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(byte, 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn hex0_engine_equals_reference(src in hex0_source(), d in 0..HEX0_DIALECTS.len()) {
        let dialect = HEX0_DIALECTS[d];
        let engine = hex0::assemble(&src, dialect).ok();
        prop_assert_eq!(engine, hex0::reference::assemble(&src, dialect));
    }
}

/// One element of a generated hex2 program: every production of `grammar.md` §3.
fn hex2_element(digits: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let name = prop::sample::select(vec!["a", "b", "loop", "_end", "x1", ""]);
    let sigil = prop::sample::select(b"!@$~%&".to_vec());
    prop_oneof![
        6 => prop::collection::vec(prop::sample::select(digits.to_vec()), 1..9),
        3 => prop::sample::select(vec![b" ".to_vec(), b"\n".to_vec(), b"\t".to_vec()]),
        3 => name.clone().prop_map(|n| format!(":{n} ").into_bytes()),
        4 => (sigil, name.clone(), prop::option::of(name)).prop_map(|(s, t, b)| {
            let mut v = vec![s];
            v.extend_from_slice(t.as_bytes());
            if let Some(b) = b {
                v.push(b'>');
                v.extend_from_slice(b.as_bytes());
            }
            v.push(b' ');
            v
        }),
        1 => Just(b"<".to_vec()),
        1 => Just(b"^".to_vec()),
        1 => prop::collection::vec(prop::sample::select(digits.to_vec()), 0..10)
            .prop_map(|d| [b".".to_vec(), d].concat()),
        1 => Just(b"# a comment !x :y\n".to_vec()),
        1 => Just(b"; another\r".to_vec()),
        1 => (1u8..=255).prop_map(|b| vec![b]),
    ]
}

fn digits_of(mode: ByteMode) -> &'static [u8] {
    match mode {
        ByteMode::Hex => b"0123456789abcdefABCDEF",
        ByteMode::Octal => b"01234567",
        ByteMode::Binary => b"01",
    }
}

/// A configuration: every architecture, endianness and byte mode, a few base addresses.
fn hex2_config() -> impl Strategy<Value = Config> {
    (
        0..ARCHES.len(),
        any::<bool>(),
        prop::sample::select(vec![
            ByteMode::Hex,
            ByteMode::Hex,
            ByteMode::Octal,
            ByteMode::Binary,
        ]),
        prop::sample::select(vec![0u32, 0x0804_8000, 0x0060_0000, 0xFFFF_FFF0, 3]),
    )
        .prop_map(|(a, little, byte_mode, base_address)| {
            let mut c = Config::new(ARCHES[a]);
            c.endian = if little { Endian::Little } else { Endian::Big };
            c.byte_mode = byte_mode;
            c.base_address = base_address;
            c
        })
}

/// A configuration and one or two source files for it.
fn hex2_case() -> impl Strategy<Value = (Config, Vec<Vec<u8>>)> {
    hex2_config().prop_flat_map(|config| {
        let file = prop::collection::vec(hex2_element(digits_of(config.byte_mode)), 0..40)
            .prop_map(|parts| parts.concat());
        // Most programs define every name at their end, so that most links succeed.
        let tail = prop::sample::select(vec![
            "",
            "\n:a :b :loop :_end :x1 : \n",
            "\n:a :b :loop :_end :x1 : \n",
        ]);
        (Just(config), prop::collection::vec(file, 1..3), tail).prop_map(|(c, mut files, tail)| {
            files.last_mut().unwrap().extend_from_slice(tail.as_bytes());
            (c, files)
        })
    })
}

fn sources(files: &[Vec<u8>]) -> Vec<Source<'_>> {
    files
        .iter()
        .map(|text| Source {
            name: "in.hex2",
            text,
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn hex2_engine_equals_reference((config, files) in hex2_case()) {
        let srcs = sources(&files);
        let engine = hex2::link(&srcs, &config).map(|l| l.bytes);
        let reference = hex2::reference::link(&srcs, &config);
        match (&engine, &reference) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(
                false,
                "engine {:?} vs reference {:?} on {:?}",
                engine.map_err(|d| d.to_string()),
                reference,
                files.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>()
            ),
        }
    }
}

/// The architectures with stage0-posix seeds.
const SEED_ARCHES: [Arch; 5] = [
    Arch::X86,
    Arch::Amd64,
    Arch::Aarch64,
    Arch::Riscv32,
    Arch::Riscv64,
];

/// One element of a seed program: the hex2 elements, plus the hex1 forms (`:` or a sigil
/// followed by any one byte, `^~name`) and comments ended by a carriage return.
fn seed_element() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        10 => hex2_element(digits_of(ByteMode::Hex)),
        3 => (prop::sample::select(b":!@$~%&^<.".to_vec()), any::<u8>()).prop_map(|(s, c)| vec![s, c]),
        1 => Just(b"^~a ".to_vec()),
        1 => Just(b"^%b>a ".to_vec()),
        1 => Just(b"# c\r:a %a".to_vec()),
    ]
}

/// A seed configuration (`hex2-0` or `hex1` of a seed architecture, its fixed base address,
/// sometimes big-endian or another base) and one or two source files for it.
fn seed_case() -> impl Strategy<Value = (Config, Vec<Vec<u8>>)> {
    let config = (
        any::<bool>(),
        0..SEED_ARCHES.len(),
        prop::sample::select(vec![None, None, None, Some(0u32), Some(0xFFFF_FFF0)]),
        prop::sample::select(vec![Endian::Little, Endian::Little, Endian::Big]),
    )
        .prop_map(|(hex1, a, base, endian)| {
            let dialect = if hex1 {
                Dialect::SeedHex1
            } else {
                Dialect::SeedHex2
            };
            let mut c = Config::seed(dialect, SEED_ARCHES[a]);
            c.base_address = base.unwrap_or(c.base_address);
            c.endian = endian;
            c
        });
    let file = prop::collection::vec(seed_element(), 0..40).prop_map(|parts| parts.concat());
    // Most programs define the usual names (and, for hex1, their first bytes) at the end.
    let tail = prop::sample::select(vec![
        "",
        "\n:a :b :loop :_end :x1 : \n",
        "\n:a :b :loop :_end :x1 : :> \n",
    ]);
    (config, prop::collection::vec(file, 1..3), tail).prop_map(|(c, mut files, tail)| {
        files.last_mut().unwrap().extend_from_slice(tail.as_bytes());
        (c, files)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn seed_dialects_engine_equals_reference((config, files) in seed_case()) {
        let srcs = sources(&files);
        let engine = hex2::link(&srcs, &config).map(|l| l.bytes);
        let reference = hex2::reference::link(&srcs, &config);
        match (&engine, &reference) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(_), Err(_)) => {}
            _ => prop_assert!(
                false,
                "{:?}: engine {:?} vs reference {:?} on {:?}",
                config,
                engine.map_err(|d| d.to_string()),
                reference,
                files.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>()
            ),
        }
    }
}

/// The arguments of the `hex2` tool for a configuration.
fn tool_args(
    config: &Config,
    inputs: &[std::path::PathBuf],
    out: &std::path::Path,
) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["hex2".into(), "-A".into(), config.arch.name().into()];
    a.push(
        if config.endian == Endian::Little {
            "--little-endian"
        } else {
            "--big-endian"
        }
        .into(),
    );
    a.push("-B".into());
    a.push(config.base_address.to_string().into());
    match config.byte_mode {
        ByteMode::Octal => a.push("-O".into()),
        ByteMode::Binary => a.push("-b".into()),
        ByteMode::Hex => {}
    }
    for i in inputs {
        a.push("-f".into());
        a.push(i.clone().into());
    }
    a.push("-o".into());
    a.push(out.into());
    a
}

proptest! {
    // Large inputs take the two-thread path of the tool (4 MB or more); few cases.
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn hex2_two_thread_path_equals_reference((config, files) in hex2_case()) {
        let arch_ok = !matches!(config.arch, Arch::Riscv32 | Arch::Riscv64 | Arch::Armv7l | Arch::Aarch64 | Arch::Ppc64le);
        prop_assume!(arch_ok && !files[0].is_empty());
        // Labels defined once up front so that most references resolve; then the chunk
        // repeated to 4.5 MB, a newline between repeats (the split happens at a line start).
        let mut big = b":a :b :loop :_end :x1 : \n".to_vec();
        while big.len() < 4_500_000 {
            big.extend_from_slice(&files[0]);
            big.push(b'\n');
        }
        let dir = std::env::temp_dir().join(format!("hexroot-refprop-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = dir.join("big.hex2");
        let out = dir.join("big.bin");
        std::fs::write(&input, &big).unwrap();
        let _ = std::fs::remove_file(&out);
        let (mut so, mut se) = (Vec::new(), Vec::new());
        let status = {
            let mut io = toolbase::cli::Streams { stdout: &mut so, stderr: &mut se, stdout_is_terminal: false, cwd: None };
            hex2::tool::main(&tool_args(&config, &[input], &out), &mut io)
        };
        let reference = hex2::reference::link(&[Source { name: "big.hex2", text: &big }], &config);
        match reference {
            Ok(bytes) => {
                prop_assert_eq!(status, 0, "{}", String::from_utf8_lossy(&se));
                prop_assert!(std::fs::read(&out).unwrap() == bytes);
            }
            Err(_) => prop_assert_ne!(status, 0),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

use toolbase::arch::ARCHES as M1_ARCHES;

/// One element of a generated M1 program: every production of `grammar.md` §4, numbers at
/// their range edges, strings, padding, DEFINEs (also of numbers and strings) and junk.
fn m1_element() -> impl Strategy<Value = String> {
    let name = prop::sample::select(vec!["NOP", "mov", "R0", "x", "DEFINE"]);
    let value = prop::sample::select(vec!["90", "!5", "'C3 00'", "\"Hi there\"", "0F84", "%x"]);
    let number_text = prop::sample::select(vec![
        "0",
        "1",
        "-1",
        "16",
        "256",
        "-129",
        "32767",
        "32768",
        "65536",
        "1",
        "2",
        "-5",
        "7",
        "0x10",
        "0x-10",
        "-0x10",
        "010",
        "09",
        "0b101",
        "1_6",
        "0abc",
        "12zz",
        "",
        "4294967295",
        "4294967296",
        "8388608",
        "0x800",
        "0x7FF",
        "0x12800",
        "-130",
        "300",
        "65537",
    ]);
    let sigil = prop::sample::select(vec!["!", "@", "$", "~", "%", "&", "<"]);
    prop_oneof![
        4 => name.clone().prop_map(String::from),
        2 => (name, value).prop_map(|(n, v)| format!("DEFINE {n} {v}\n")),
        6 => (sigil, number_text).prop_map(|(s, n)| format!("{s}{n}")),
        2 => prop::sample::select(vec![":a", "&a", "%a>b", "^~a", ":b", "$a", "!a", "@a", "~a"])
            .prop_map(String::from),
        2 => prop::sample::select(vec!["\"ab\"", "\"\"", "\"a\"", "\"abc\"", "'raw text'", "\"q\"z", "\"multi\nline\""])
            .prop_map(String::from),
        4 => prop::sample::select(vec![" ", " ", "\t", "\n", "\n\n"]).prop_map(String::from),
        1 => prop::sample::select(vec!["# comment\n", "; comment\r", "#c\r\n", "# c\n", "; c\n", "\r"])
            .prop_map(String::from),
        1 => prop::sample::select(vec!["a#b", "mystery", "-", "16", "0x10", "-1", "00", "65536"])
            .prop_map(String::from),
    ]
}

/// A configuration and one or two M1 files, every architecture, endianness and digit style.
fn m1_case() -> impl Strategy<Value = (m1::Config, Vec<Vec<u8>>)> {
    // Most files define the names the elements use, so that most programs assemble.
    let header = prop::sample::select(vec![
        "",
        "DEFINE NOP 90\nDEFINE mov 89\nDEFINE R0 0\nDEFINE x 'FF'\n",
        "DEFINE NOP 90\nDEFINE mov 89\nDEFINE R0 0\nDEFINE x 'FF'\n",
        "DEFINE NOP 90\nDEFINE mov 89\nDEFINE R0 0\nDEFINE x 'FF'\n",
    ]);
    let file = (header, prop::collection::vec(m1_element(), 0..30))
        .prop_map(|(h, p)| format!("{h}{}", p.join(" ")).into_bytes());
    (
        0..M1_ARCHES.len(),
        any::<bool>(),
        prop::sample::select(vec![
            m1::DigitStyle::Hex,
            m1::DigitStyle::Hex,
            m1::DigitStyle::Octal,
            m1::DigitStyle::Binary,
        ]),
        prop::collection::vec(file, 1..3),
    )
        .prop_map(|(a, little, digits, files)| {
            let endian = if little {
                m1::Endian::Little
            } else {
                m1::Endian::Big
            };
            (
                m1::Config {
                    arch: M1_ARCHES[a],
                    endian,
                    digits,
                },
                files,
            )
        })
}

fn m1_compare(config: &m1::Config, files: &[Vec<u8>]) -> Result<(), TestCaseError> {
    let srcs: Vec<m1::Source<'_>> = files
        .iter()
        .map(|text| m1::Source {
            name: "in.M1",
            text,
        })
        .collect();
    let engine = m1::assemble(&srcs, config);
    let reference = m1::reference::assemble(&srcs, config);
    match (&engine, &reference) {
        (Ok(a), Ok(b)) => prop_assert!(
            a == b,
            "engine {:?}\nreference {:?}",
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        ),
        (Err(_), Err(_)) => {}
        _ => prop_assert!(
            false,
            "engine {:?} vs reference {:?} on {:?}",
            engine
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|d| d.to_string()),
            reference.map(|b| String::from_utf8_lossy(&b).into_owned()),
            files
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect::<Vec<_>>()
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn m1_engine_equals_reference((config, files) in m1_case()) {
        m1_compare(&config, &files)?;
    }
}

proptest! {
    // Inputs of a megabyte or more are printed by two threads; few cases.
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn m1_two_thread_path_equals_reference((config, files) in m1_case()) {
        prop_assume!(!files[0].is_empty());
        let mut big = Vec::new();
        while big.len() < 1_200_000 {
            big.extend_from_slice(&files[0]);
            big.push(b'\n');
        }
        m1_compare(&config, &[big])?;
    }
}
