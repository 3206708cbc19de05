//! Property tests of crossverify's JSON: whatever the writer writes, the reader reads back
//! to the same value (strings with any characters, control characters and non-ASCII
//! included; integers; finite floats; nesting), and no sequence of bytes makes the reader
//! panic.

use crossverify::json::{read::parse, Value};
use proptest::prelude::*;

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Float),
        any::<String>().prop_map(Value::Str),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((any::<String>(), inner), 0..6).prop_map(|fields| {
                // keys are unique in a document
                let mut unique: Vec<(String, Value)> = Vec::new();
                for (k, v) in fields {
                    if !unique.iter().any(|(u, _)| *u == k) {
                        unique.push((k, v));
                    }
                }
                Value::Object(unique)
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn what_is_written_reads_back(v in value()) {
        let text = v.render();
        let back = parse("doc", text.as_bytes());
        prop_assert_eq!(back.as_ref().ok(), Some(&v), "{}", text);
    }

    #[test]
    fn any_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse("doc", &bytes);
    }

    #[test]
    fn json_shaped_bytes_never_panic_the_reader(
        bytes in proptest::collection::vec(
            prop_oneof![
                Just(b'{'), Just(b'}'), Just(b'['), Just(b']'), Just(b'"'), Just(b'\\'),
                Just(b':'), Just(b','), Just(b'u'), Just(b'-'), Just(b'e'), Just(b'.'),
                Just(b'0'), Just(b'9'), Just(b'd'), Just(b' '), Just(0xffu8),
            ],
            0..300,
        )
    ) {
        let _ = parse("doc", &bytes);
    }
}
