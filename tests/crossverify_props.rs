//! Property tests of crossverify's formats: any sha256sum file (names with any bytes but
//! NUL, backslashes, newlines and carriage returns included) round-trips through render
//! and the strict reader; a report round-trips; no input makes the manifest, report or
//! map readers (hex2's and M1's own parsers) panic, nor explain with maps that do not fit
//! the files; and
//! `explain::difference` counts exactly the differing bytes; the replay's text diff reports
//! exactly the differing pairs, and its provenance walk ends on any step graph.

use crossverify::explain;
use crossverify::report::{self, Report};
use crossverify::sha256sum::{self, Entry};
use proptest::prelude::*;

fn entry() -> impl Strategy<Value = Entry> {
    (
        proptest::collection::vec(1u8..=255, 1..24),
        proptest::collection::vec(any::<u8>(), 0..16),
    )
        .prop_map(|(name, bytes)| Entry::of(name, &bytes))
}

/// Names made mostly of the bytes sha256sum escapes, and any other non-NUL byte.
fn escape_prone_name() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(
        prop_oneof![
            Just(b'\\'),
            Just(b'\n'),
            Just(b'\r'),
            Just(b'n'),
            Just(b'r'),
            1u8..=255
        ],
        1..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn manifests_round_trip(entries in proptest::collection::vec(entry(), 1..8)) {
        let mut unique: Vec<Entry> = Vec::new();
        for e in entries {
            if !unique.iter().any(|u| u.name == e.name) {
                unique.push(e);
            }
        }
        let text = sha256sum::render(&unique);
        prop_assert_eq!(sha256sum::parse("m", &text).unwrap(), unique);
    }

    #[test]
    fn escaped_names_round_trip(names in proptest::collection::vec(escape_prone_name(), 1..8)) {
        let mut unique: Vec<Entry> = Vec::new();
        for n in names {
            if !unique.iter().any(|u| u.name == n) {
                unique.push(Entry::of(n, b""));
            }
        }
        let text = sha256sum::render(&unique);
        prop_assert_eq!(sha256sum::parse("m", &text).unwrap(), unique.clone());
        for e in &unique {
            let line = sha256sum::line(&e.sha256, &e.name);
            // Only the final newline is raw; escaped names start their line with '\'.
            prop_assert_eq!(line.iter().filter(|&&b| b == b'\n' || b == b'\r').count(), 1);
            prop_assert_eq!(line[0] == b'\\', sha256sum::needs_escape(&e.name));
        }
    }

    #[test]
    fn reports_round_trip(names in proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..16), 1..6)) {
        let mut r = Report::for_this_host(b"m.sha256", b"text");
        for (i, n) in names.into_iter().enumerate() {
            if !r.built_by.iter().any(|(_, m)| *m == n) {
                r.built_by.push((format!("impl{i}"), n));
            }
        }
        prop_assert_eq!(report::parse("r", &r.render()).unwrap(), r);
    }

    #[test]
    fn readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = sha256sum::parse("m", &bytes);
        let _ = report::parse("r", &bytes);
        let _ = hex2::map::Map::parse("map", &bytes);
        let _ = m1::map::M1Map::parse("m1map", &bytes);
        for header in ["# hexroot hex2 map 1\n", "# hexroot hex2 map 2\n"] {
            let mut map = header.as_bytes().to_vec();
            map.extend_from_slice(&bytes);
            let _ = hex2::map::Map::parse("map", &map);
        }
        for header in ["# hexroot M1 map 1\n", "# hexroot M1 map 2 out.hex2\n"] {
            let mut m1 = header.as_bytes().to_vec();
            m1.extend_from_slice(&bytes);
            let _ = m1::map::M1Map::parse("m1map", &m1);
        }
        let mut with_magic = b"# hexroot crossverify report 1\n".to_vec();
        with_magic.extend_from_slice(&bytes);
        let _ = report::parse("r", &with_magic);
        let _ = explain::elf_place(&bytes, bytes.len() / 2);
        for class in [1u8, 2] {
            let mut elf = vec![0x7f, b'E', b'L', b'F', class, 1, 1];
            elf.extend_from_slice(&bytes);
            let _ = explain::elf_place(&elf, elf.len() / 2);
            let _ = explain::explain(("a", "b"), &elf, &bytes, None, None);
        }
    }

    /// Maps that parse but do not belong to the files, any bytes and every instruction
    /// set: explain never panics.
    #[test]
    fn explain_with_any_maps_never_panics(
        a in proptest::collection::vec(any::<u8>(), 0..96),
        b in proptest::collection::vec(any::<u8>(), 0..96),
        rows in proptest::collection::vec((prop_oneof![0u64..120, (u64::MAX - 8)..=u64::MAX], 1u32..9, any::<u32>(), 1u32..5, 1u32..40), 0..12),
        isa in 0usize..4,
    ) {
        let mut text = String::from("# hexroot hex2 map 2\n");
        for (offset, len, address, line, col) in &rows {
            let bytes: String = (0..*len).map(|i| format!("{:02x}", i * 17)).collect();
            text.push_str(&format!("{offset} {len} 0x{address:08x} {bytes} f.hex2:{line}:{col} T\n"));
        }
        let map = hex2::map::Map::parse("map", text.as_bytes()).unwrap();
        let m1_text = format!("# hexroot M1 map 2 f.hex2\n1:1 a.M1:1:1 x\n{}:3 b.M1:2:2 y\n", rows.len());
        let m1_maps = vec![("m".to_string(), m1::map::M1Map::parse("m", m1_text.as_bytes()).unwrap())];
        let isas = [None, Some(explain::Isa::X86), Some(explain::Isa::Amd64), Some(explain::Isa::Knight)];
        let inputs = explain::Inputs { maps: Some((&map, &map)), map_paths: ["a.map", "b.map"], m1_maps: &m1_maps, big_endian: None, isa: isas[isa] };
        if let Some(e) = explain::analyse(("a", "b"), &a, &b, &inputs) {
            let _ = e.render();
        }
    }

    #[test]
    fn difference_counts_differing_bytes(a in proptest::collection::vec(any::<u8>(), 0..64), b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let count = a.iter().zip(&b).filter(|(x, y)| x != y).count() + a.len().abs_diff(b.len());
        match explain::difference(&a, &b) {
            None => prop_assert_eq!(&a, &b),
            Some(d) => {
                prop_assert_eq!(d.count, count);
                prop_assert!(a.get(d.first) != b.get(d.first));
                prop_assert_eq!(&a[..d.first], &b[..d.first]);
                prop_assert!(explain::explain(("a", "b"), &a, &b, None, None).is_some());
            }
        }
    }
}

fn file_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a.c".to_string()),
        Just("b.h".to_string()),
        Just("c.M1".to_string()),
        Just("d".to_string()),
        Just("e.hex2".to_string()),
    ]
}

fn link() -> impl Strategy<Value = crossverify::replay::provenance::Link> {
    (
        0usize..12,
        prop_oneof![Just("catm"), Just("M2"), Just("hex2"), Just("cc_x86")],
        any::<bool>(),
        proptest::collection::vec(file_name(), 0..4),
        proptest::collection::vec(file_name(), 0..3),
    )
        .prop_map(|(number, name, ours, inputs, outputs)| {
            crossverify::replay::provenance::Link {
                number,
                program: name.to_string(),
                name: name.to_string(),
                ours,
                inputs,
                outputs,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any text pair: no panic, and a difference is reported exactly when they differ.
    #[test]
    fn text_differences_are_reported_exactly(a in "(:FUNCTION_[ab]\n|x\n|y\n){0,12}", b in "(:FUNCTION_[ab]\n|x\n|y\n){0,12}") {
        let d = crossverify::replay::textdiff::explain_text(a.as_bytes(), b.as_bytes());
        prop_assert_eq!(d.is_none(), a == b);
    }

    /// Any step graph, cycles through reused names included: origin ends, and every
    /// source it names is a C file.
    #[test]
    fn provenance_never_loops_or_panics(links in proptest::collection::vec(link(), 0..16), at in 0usize..14) {
        let g = crossverify::replay::provenance::Graph::new(links);
        for f in ["a.c", "c.M1", "d", "e.hex2"] {
            let o = g.origin(f, at);
            prop_assert!(o.sources.iter().all(|s| crossverify::replay::provenance::is_c_source(s)));
        }
    }
}
