//! Property tests of the `m1` crate: no input makes M1, M0 or blood-elf panic; reordering
//! DEFINE lines changes nothing (DEFINE is whole-program and order-free for distinct
//! names); every M1 token maps to the right place in the output (`--map`); and programs
//! built from DEFINEs, labels, numbers and strings print exactly the expansion a plain
//! model computes; and the same programs, through our M1 and then our hex2, give exactly
//! the bytes written out by hand (x86 little endian and knight big endian).

use m1::{Arch, Config, DigitStyle, Endian, Source};
use proptest::prelude::*;

use toolbase::arch::ARCHES;

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
            let _ = m1::assemble_with_map(&sources, &config, &mut out, &mut map, "a.hex2");
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
        m1::assemble_with_map(&sources, &config, &mut out, &mut map, "m.hex2").unwrap();
        let out = String::from_utf8(out).unwrap();
        let map = String::from_utf8(map).unwrap();
        let mut lines = map.lines();
        prop_assert_eq!(lines.next(), Some("# hexroot M1 map 2 m.hex2"));
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
        // The owner's parser reads the same map back.
        let parsed = m1::map::M1Map::parse("m", map.as_bytes()).unwrap();
        prop_assert_eq!(parsed.output.as_deref(), Some("m.hex2"));
        prop_assert_eq!(parsed.entries.len(), words.len());
        for e in &parsed.entries {
            prop_assert_eq!(&e.file, "m.M1");
            prop_assert!(src_lines[e.line as usize - 1].as_bytes()[e.col as usize - 1..].starts_with(&e.token));
        }
    }
}

fn hex_le(v: u32, bytes: usize) -> String {
    v.to_le_bytes()[..bytes]
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}

/// One item of a random program for the pipeline property.
#[derive(Clone, Debug)]
enum Piece {
    /// A use of DEFINE number `i` (its value is a run of whole hex bytes).
    Define(usize),
    /// `:label_i` at this point.
    Label(usize),
    /// `&label_i` (absolute 4 bytes) or `%label_i` (relative to the field end, 4 bytes).
    Ref(usize, bool),
    /// `!N` (1 byte), `@N` (2 bytes) or `%N` (4 bytes).
    Number(u8, i32),
    /// A double-quoted string.
    Str(String),
}

fn piece() -> impl Strategy<Value = Piece> {
    prop_oneof![
        (0usize..6).prop_map(Piece::Define),
        (0usize..6).prop_map(Piece::Label),
        (0usize..6, any::<bool>()).prop_map(|(i, abs)| Piece::Ref(i, abs)),
        (0u8..3, any::<i32>()).prop_map(|(w, v)| Piece::Number(w, v)),
        "[a-zA-Z0-9 ]{0,7}".prop_map(Piece::Str),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn m1_then_hex2_gives_the_bytes_written_by_hand(
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..5), 6),
        pieces in proptest::collection::vec(piece(), 0..40),
        knight in any::<bool>(),
    ) {
        let base: u32 = 0x0804_8000;
        let little = !knight;
        let word = |v: u32, n: usize| -> Vec<u8> {
            let b = if little { v.to_le_bytes().to_vec() } else { v.to_be_bytes().to_vec() };
            if little { b[..n].to_vec() } else { b[4 - n..].to_vec() }
        };
        // Every label is defined once, at the end if the program does not define it.
        let mut src = String::new();
        for (i, v) in values.iter().enumerate() {
            let hex: String = v.iter().map(|b| format!("{b:02X}")).collect();
            src.push_str(&format!("DEFINE op_{i} {hex}\n"));
        }
        let mut defined = [false; 6];
        let mut all = pieces.clone();
        for p in &pieces {
            if let Piece::Label(i) = p {
                defined[*i] = true;
            }
        }
        for (i, d) in defined.iter().enumerate() {
            if !d {
                all.push(Piece::Label(i));
            }
        }
        let mut seen = [false; 6];
        all.retain(|p| match p {
            Piece::Label(i) => !std::mem::replace(&mut seen[*i], true),
            _ => true,
        });
        // Layout by hand: label addresses first, then the bytes.
        let mut labels = [0u32; 6];
        let mut at = base;
        let size = |p: &Piece| -> u32 {
            match p {
                Piece::Define(i) => values[*i].len() as u32,
                Piece::Label(_) => 0,
                Piece::Ref(..) => 4,
                Piece::Number(w, _) => [1, 2, 4][*w as usize],
                Piece::Str(s) => {
                    let n = s.len() as u32 + 1;
                    if knight { n.div_ceil(4) * 4 } else { n }
                }
            }
        };
        for p in &all {
            if let Piece::Label(i) = p {
                labels[*i] = at;
            }
            at += size(p);
        }
        let mut want = Vec::new();
        let mut at = base;
        for (k, p) in all.iter().enumerate() {
            src.push_str(if k % 5 == 4 { "\n" } else { " " });
            match p {
                Piece::Define(i) => {
                    src.push_str(&format!("op_{i}"));
                    want.extend_from_slice(&values[*i]);
                }
                Piece::Label(i) => src.push_str(&format!(":label_{i}")),
                Piece::Ref(i, true) => {
                    src.push_str(&format!("&label_{i}"));
                    want.extend(word(labels[*i], 4));
                }
                Piece::Ref(i, false) => {
                    src.push_str(&format!("%label_{i}"));
                    want.extend(word(labels[*i].wrapping_sub(at + 4), 4));
                }
                Piece::Number(w, v) => {
                    let (sigil, n, v) = match w {
                        0 => ('!', 1, v.rem_euclid(256)),
                        1 => ('@', 2, v.rem_euclid(65536) - 32768),
                        _ => ('%', 4, *v),
                    };
                    src.push_str(&format!("{sigil}{v}"));
                    want.extend(word(v as u32, n));
                }
                Piece::Str(s) => {
                    src.push_str(&format!("\"{s}\""));
                    want.extend_from_slice(s.as_bytes());
                    want.push(0);
                    while knight && !(want.len() as u32 + base - at).is_multiple_of(4) {
                        want.push(0);
                    }
                }
            }
            at += size(p);
        }
        src.push('\n');
        let (m1_arch, hex2_arch) = if knight {
            (Arch::KnightNative, hex2::Arch::KnightNative)
        } else {
            (Arch::X86, hex2::Arch::X86)
        };
        let config = Config {
            arch: m1_arch,
            endian: if little { Endian::Little } else { Endian::Big },
            digits: DigitStyle::Hex,
        };
        let text = m1::assemble(&[Source { name: "p.M1", text: src.as_bytes() }], &config)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut hconfig = hex2::Config::new(hex2_arch);
        hconfig.endian = if little { hex2::Endian::Little } else { hex2::Endian::Big };
        hconfig.base_address = base;
        let linked = hex2::link(&[hex2::Source { name: "p.hex2", text: &text }], &hconfig)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(linked.bytes, want, "M1 text:\n{}", String::from_utf8_lossy(&text));
    }
}
