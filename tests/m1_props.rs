//! Property tests of the `m1` crate: no input makes M1, M0 or blood-elf panic; reordering
//! DEFINE lines changes nothing (DEFINE is whole-program and order-free for distinct
//! names); every M1 token maps to the right place in the output (`--map`); and programs
//! built from DEFINEs, labels, numbers and strings print exactly the expansion a plain
//! model computes.
//!
//! (The M1 -> hex2 byte pipeline property needs the `hex2` crate, which is not on main yet.)

use m1::{Arch, Config, DigitStyle, Endian, Source};
use proptest::prelude::*;

const ARCHES: [Arch; 8] = [
    Arch::Knight,
    Arch::X86,
    Arch::Amd64,
    Arch::Armv7l,
    Arch::Aarch64,
    Arch::Ppc64le,
    Arch::Riscv32,
    Arch::Riscv64,
];

fn config() -> impl Strategy<Value = Config> {
    (
        0..ARCHES.len(),
        prop_oneof![Just(Endian::Big), Just(Endian::Little)],
        prop_oneof![
            Just(DigitStyle::Hex),
            Just(DigitStyle::Octal),
            Just(DigitStyle::Binary)
        ],
    )
        .prop_map(|(a, endian, digits)| Config {
            arch: ARCHES[a],
            endian,
            digits,
        })
}

/// Token soup close to M1: words, numbers, strings, comments, DEFINEs, odd bytes.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"DEFINE ".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" ".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"# c\n".to_vec()),
        Just(b";".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"<".to_vec()),
        "[!@$~%&:^<]-?[0-9a-fx_]{0,6}".prop_map(String::into_bytes),
        "[A-Za-z_][A-Za-z0-9_,]{0,5}".prop_map(String::into_bytes),
        "\"[ -~]{0,6}\"".prop_map(String::into_bytes),
        "'[ -~]{0,6}'".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..4),
    ];
    proptest::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn m1_never_panics(src in soup(), raw in proptest::collection::vec(any::<u8>(), 0..200), config in config()) {
        for text in [&src[..], &raw[..]] {
            let sources = [Source { name: "a.M1", text }];
            let _ = m1::assemble(&sources, &config);
            let mut out = Vec::new();
            let mut map = Vec::new();
            let _ = m1::assemble_with_map(&sources, &config, &mut out, &mut map);
        }
    }

    #[test]
    fn m0_and_blood_elf_never_panic(src in soup(), a in 0..ARCHES.len(), pass in any::<bool>()) {
        let source = Source { name: "a.M0", text: &src };
        let _ = m1::m0::assemble_with(&source, &m1::m0::Options { arch: ARCHES[a], pass_unknown: pass });
        let options = m1::blood_elf::Options { elf64: pass, endian: Endian::Little, digits: DigitStyle::Hex };
        let _ = m1::blood_elf::footer(&[source], &[b"_start"], &options);
    }

    #[test]
    fn define_order_does_not_matter(
        values in proptest::collection::vec("[0-9A-F]{2}|%[0-9]{1,4}|'[A-F0-9 ]{0,4}'", 1..12),
        uses in proptest::collection::vec((0usize..12, 0usize..4), 0..30),
        seed in any::<u64>(),
        config in config(),
    ) {
        let n = values.len();
        let defines: Vec<String> = values.iter().enumerate().map(|(i, v)| format!("DEFINE name{i} {v}\n")).collect();
        let mut body = String::new();
        for (u, sep) in &uses {
            body.push_str(&format!("name{}", u % n));
            body.push_str([" ", "\n", "\t", " ; c\n"][*sep]);
        }
        let mut shuffled = defines.clone();
        // A deterministic shuffle from the seed (Fisher-Yates with xorshift).
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let a = format!("{}{body}", defines.concat());
        let b = format!("{}{body}", shuffled.concat());
        let ra = m1::assemble(&[Source { name: "a", text: a.as_bytes() }], &config);
        let rb = m1::assemble(&[Source { name: "a", text: b.as_bytes() }], &config);
        prop_assert_eq!(ra.map_err(|e| e.message), rb.map_err(|e| e.message));
    }

    #[test]
    fn expansion_matches_a_plain_model(
        items in proptest::collection::vec((0u8..5, any::<u16>(), "[a-z]{1,6}"), 1..40),
    ) {
        // x86, little endian: DEFINEd names, labels, %N numbers, !N bytes, strings.
        let mut src = String::from("DEFINE nop 90\nDEFINE mov_eax, B8\n");
        let mut want = String::from("\n");
        let mut first = true;
        for (kind, n, word) in &items {
            if !first {
                src.push(' ');
                want.push(' ');
            }
            first = false;
            match kind {
                0 => { src.push_str("nop"); want.push_str("90"); }
                1 => { src.push_str(&format!(":{word}")); want.push_str(&format!(":{word}")); }
                2 => { src.push_str(&format!("%{n}")); want.push_str(&hex_le(u32::from(*n), 4)); }
                3 => { src.push_str(&format!("!{}", n % 256)); want.push_str(&hex_le(u32::from(n % 256), 1)); }
                _ => {
                    src.push_str(&format!("\"{word}\""));
                    for b in word.bytes() { want.push_str(&format!("{b:02X} ")); }
                    want.push_str("00 ");
                }
            }
        }
        src.push('\n');
        want.push('\n');
        let config = Config { arch: Arch::X86, endian: Endian::Little, digits: DigitStyle::Hex };
        let got = m1::assemble(&[Source { name: "a", text: src.as_bytes() }], &config).unwrap();
        prop_assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    #[test]
    fn map_points_at_each_token(words in proptest::collection::vec("[a-z]{1,5}", 1..20), breaks in proptest::collection::vec(any::<bool>(), 20)) {
        let mut src = String::new();
        for (i, w) in words.iter().enumerate() {
            src.push(':');
            src.push_str(w);
            src.push(if breaks[i] { '\n' } else { ' ' });
        }
        let sources = [Source { name: "m.M1", text: src.as_bytes() }];
        let config = Config { arch: Arch::X86, ..Config::default() };
        let mut out = Vec::new();
        let mut map = Vec::new();
        m1::assemble_with_map(&sources, &config, &mut out, &mut map).unwrap();
        let out = String::from_utf8(out).unwrap();
        let map = String::from_utf8(map).unwrap();
        let mut lines = map.lines();
        prop_assert_eq!(lines.next(), Some("# hexroot M1 map 1"));
        let out_lines: Vec<&str> = out.split('\n').collect();
        let src_lines: Vec<&str> = src.split('\n').collect();
        let mut count = 0;
        for l in lines {
            let mut f = l.splitn(3, ' ');
            let (o, s, tok) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            let (ol, oc) = o.split_once(':').unwrap();
            let (ol, oc): (usize, usize) = (ol.parse().unwrap(), oc.parse().unwrap());
            let mut sp = s.rsplitn(3, ':');
            let sc: usize = sp.next().unwrap().parse().unwrap();
            let sl: usize = sp.next().unwrap().parse().unwrap();
            prop_assert_eq!(sp.next(), Some("m.M1"));
            prop_assert!(out_lines[ol - 1][oc - 1..].starts_with(tok));
            prop_assert!(src_lines[sl - 1][sc - 1..].starts_with(tok));
            count += 1;
        }
        prop_assert_eq!(count, words.len());
    }
}

fn hex_le(v: u32, bytes: usize) -> String {
    v.to_le_bytes()[..bytes]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}
