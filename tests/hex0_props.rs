//! Property tests of the hex0 language (`hex0::lang`): no input makes it panic, any byte
//! string rendered as hex0 (with random comments and whitespace) assembles back to itself,
//! and the table-driven assembler agrees with a one-line-per-rule model of the grammar.

use hex0::{assemble, Dialect};
use proptest::prelude::*;

const DIALECTS: [Dialect; 6] = [
    Dialect::Portable,
    Dialect::X86,
    Dialect::Amd64,
    Dialect::Aarch64,
    Dialect::Riscv32,
    Dialect::Riscv64,
];

/// The grammar of `hex0::lang`, written as plainly as possible.
fn model(src: &[u8], dialect: Dialect) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut high = None;
    let mut in_comment = false;
    for &b in src {
        if in_comment {
            in_comment = !(b == b'\n' || (b == b'\r' && dialect.cr_ends_comment()));
            continue;
        }
        let nibble = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            b'#' | b';' => {
                in_comment = true;
                continue;
            }
            b'G' | b'g' if dialect.refuses_g() => return None,
            _ => continue,
        };
        match high.take() {
            Some(h) => out.push((h << 4) | nibble),
            None => high = Some(nibble),
        }
    }
    Some(out)
}

/// Filler that may sit between nibbles: whitespace, comments, skipped punctuation.
fn filler() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just(" ".to_string()),
        Just("\n".to_string()),
        Just("\t".to_string()),
        "[ -/:<-@\\[-`{-~]{0,3}".prop_map(|s| s.replace(['#', ';'], "")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(|s| format!("# {s}\n")),
        "[a-zA-Z0-9 ]{0,12}".prop_map(|s| format!("; {s}\n")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(src in proptest::collection::vec(any::<u8>(), 0..512)) {
        for d in DIALECTS {
            let _ = assemble(&src, d);
        }
    }

    #[test]
    fn assembler_agrees_with_the_grammar_model(
        src in proptest::collection::vec(prop_oneof![
            4 => proptest::sample::select(b"0123456789abcdefABCDEFgG#;\r\n \t".to_vec()),
            1 => any::<u8>(),
        ], 0..400)
    ) {
        for d in DIALECTS {
            prop_assert_eq!(assemble(&src, d).ok(), model(&src, d));
        }
    }

    #[test]
    fn rendered_bytes_assemble_back(
        bytes in proptest::collection::vec(any::<u8>(), 0..256),
        fill in proptest::collection::vec(filler(), 513),
        upper in any::<bool>(),
    ) {
        let mut src = String::new();
        for (i, b) in bytes.iter().enumerate() {
            let pair = if upper { format!("{b:02X}") } else { format!("{b:02x}") };
            src.push_str(&fill[2 * i]);
            src.push_str(&pair[..1]);
            src.push_str(&fill[2 * i + 1]);
            src.push_str(&pair[1..]);
        }
        src.push_str(&fill[512]);
        for d in DIALECTS {
            prop_assert_eq!(&assemble(src.as_bytes(), d).unwrap(), &bytes);
        }
        prop_assert_eq!(&assemble(hex0::lang::render(&bytes).as_bytes(), Dialect::Portable).unwrap(), &bytes);
    }
}
