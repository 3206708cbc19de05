//! Property tests of the hex2 linker (issue 4): arbitrary input never panics; the link map
//! records the output's bytes and reads back as written; every
//! relative pointer resolves to the label's address minus the architecture's base; and
//! splitting the input into several files at token boundaries changes nothing.

use hex2::{link, Arch, ByteMode, Config, Dialect, Endian, Source, ARCHES};
use proptest::prelude::*;

fn arch() -> impl Strategy<Value = Arch> {
    (0..ARCHES.len()).prop_map(|i| ARCHES[i])
}

/// Bytes biased towards the ones hex2 gives meaning to.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let meaningful =
        prop::sample::select(b"0123456789abcdefABCDEF:!@$~%&<>^.#;\n\r\t xyzL_".to_vec());
    prop::collection::vec(prop_oneof![8 => meaningful, 1 => any::<u8>()], 0..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn arbitrary_input_never_panics(
        text in input(),
        second in input(),
        arch in arch(),
        dialect in prop::sample::select(vec![Dialect::Full, Dialect::SeedHex2, Dialect::SeedHex1]),
        mode in prop::sample::select(vec![ByteMode::Hex, ByteMode::Octal, ByteMode::Binary]),
        little in any::<bool>(),
        base in any::<u32>(),
        map in any::<bool>(),
    ) {
        let config = Config {
            arch,
            endian: if little { Endian::Little } else { Endian::Big },
            base_address: base,
            byte_mode: if dialect == Dialect::Full { mode } else { ByteMode::Hex },
            dialect,
            map,
        };
        let sources = [Source { name: "a.hex2", text: &text }, Source { name: "b.hex2", text: &second }];
        // the map switches the engine off its bulk digit path: both must agree
        let other = link(&sources, &Config { map: !map, ..config });
        if let (Ok(a), Ok(b)) = (link(&sources, &config), &other) {
            prop_assert_eq!(&a.bytes, &b.bytes);
        }
        prop_assert_eq!(link(&sources, &config).is_ok(), other.is_ok());
        if let Ok(linked) = link(&sources, &config) {
            if map {
                let mapped: u64 = linked.map.iter().map(|e| u64::from(e.len)).sum();
                prop_assert_eq!(mapped, linked.bytes.len() as u64);
                // Every entry records the bytes the output holds at its range, and the
                // written map reads back as the same entries.
                for e in &linked.map {
                    let at = e.offset as usize;
                    prop_assert_eq!(&linked.bytes[at..at + e.len as usize], &*e.bytes);
                }
                let mut text = Vec::new();
                hex2::map::write_map(&mut text, &linked.map, &linked.files).unwrap();
                let read = hex2::map::Map::parse("map", &text).unwrap();
                prop_assert_eq!(read.entries.len(), linked.map.len());
                for (r, e) in read.entries.iter().zip(&linked.map) {
                    prop_assert_eq!((r.offset, r.len, r.address), (e.offset, e.len, e.address));
                    prop_assert_eq!((&r.token, &r.bytes), (&e.token, &e.bytes));
                    prop_assert_eq!(read.describe(r.at), linked.describe(e.at));
                }
            }
        } else {
            // an error is fine; it must carry a message
            let e = link(&sources, &config).unwrap_err();
            prop_assert!(!e.message.is_empty());
        }
    }
}

/// The displacement hex2 writes for a `%` pointer whose field ends at `b` (spec 1.7, `^`
/// not set).
fn expected_rel(arch: Arch, t: u32, b: u32) -> u32 {
    match arch {
        Arch::Armv7l | Arch::Aarch64 => t.wrapping_sub(b).wrapping_sub(8).wrapping_add(b & 3),
        Arch::Ppc64le => t.wrapping_sub(b & !3),
        _ => t.wrapping_sub(b),
    }
}

#[derive(Clone, Debug)]
enum Item {
    Label(usize),
    Bytes(Vec<u8>),
    Rel(usize),
    Abs(usize),
}

fn items(labels: usize) -> impl Strategy<Value = Vec<Item>> {
    let item = prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 1..6).prop_map(Item::Bytes),
        2 => (0..labels).prop_map(Item::Rel),
        1 => (0..labels).prop_map(Item::Abs),
    ];
    prop::collection::vec(item, 0..40).prop_flat_map(move |body| {
        // every label defined exactly once, at a random place
        let n = body.len() + labels;
        prop::collection::vec(0..=n, labels).prop_map(move |places| {
            let mut out = body.clone();
            for (k, p) in places.into_iter().enumerate() {
                let p = p.min(out.len());
                out.insert(p, Item::Label(k));
            }
            out
        })
    })
}

fn render(items: &[Item]) -> Vec<String> {
    items
        .iter()
        .map(|it| match it {
            Item::Label(k) => format!(":L{k}"),
            Item::Bytes(b) => b
                .iter()
                .map(|x| format!("{x:02X}"))
                .collect::<Vec<_>>()
                .join(" "),
            Item::Rel(k) => format!("%L{k}"),
            Item::Abs(k) => format!("&L{k}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn relative_pointers_resolve_to_label_minus_base(
        items in items(6),
        arch in arch(),
        little in any::<bool>(),
        base in any::<u32>(),
    ) {
        let text = render(&items).join("\n") + "\n";
        let mut config = Config::new(arch);
        config.endian = if little { Endian::Little } else { Endian::Big };
        config.base_address = base;
        config.map = true;
        let linked = link(&[Source { name: "p.hex2", text: text.as_bytes() }], &config).unwrap();
        let ptrs: Vec<&Item> = items.iter().filter(|i| matches!(i, Item::Rel(_) | Item::Abs(_))).collect();
        let entries: Vec<_> = linked.map.iter().filter(|e| e.token[0] == b'%' || e.token[0] == b'&').collect();
        prop_assert_eq!(ptrs.len(), entries.len());
        for (item, e) in ptrs.iter().zip(entries) {
            let raw: [u8; 4] = linked.bytes[e.offset as usize..e.offset as usize + 4].try_into().unwrap();
            let got = if little { u32::from_le_bytes(raw) } else { u32::from_be_bytes(raw) };
            let (k, rel) = match item { Item::Rel(k) => (*k, true), Item::Abs(k) => (*k, false), _ => unreachable!() };
            let t = linked.labels.get(format!("L{k}").as_bytes()).unwrap().address;
            let want = if rel { expected_rel(arch, t, e.address.wrapping_add(4)) } else { t };
            prop_assert_eq!(got, want, "{:?} at {:#x}", item, e.address);
            prop_assert_eq!(e.address, base.wrapping_add(e.offset as u32));
        }
    }

    #[test]
    fn splitting_into_files_at_token_boundaries_changes_nothing(
        items in items(5),
        arch in arch(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        seps in prop::collection::vec(prop::sample::select(vec![" ", "\n", "\t", " # note\n", " ;c\n"]), 64),
    ) {
        let tokens = render(&items);
        let mut config = Config::new(arch);
        config.endian = Endian::Little;
        config.base_address = 0x1000;
        let join = |toks: &[String]| -> Vec<u8> {
            let mut s = String::new();
            for (i, t) in toks.iter().enumerate() {
                s.push_str(t);
                s.push_str(seps[i % seps.len()]);
            }
            s.into_bytes()
        };
        let whole = join(&tokens);
        let one = link(&[Source { name: "all.hex2", text: &whole }], &config).unwrap();
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(tokens.len() + 1)).collect();
        at.sort_unstable();
        let mut pieces = Vec::new();
        let mut prev = 0;
        for c in at.into_iter().chain(std::iter::once(tokens.len())) {
            pieces.push(join(&tokens[prev..c]));
            prev = c;
        }
        let names: Vec<String> = (0..pieces.len()).map(|i| format!("part{i}.hex2")).collect();
        let sources: Vec<Source> = pieces.iter().zip(&names).map(|(p, n)| Source { name: n, text: p }).collect();
        let many = link(&sources, &config).unwrap();
        prop_assert_eq!(one.bytes, many.bytes);
    }
}
