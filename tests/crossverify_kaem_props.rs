//! Property tests of crossverify's kaem parser and expansion (`crossverify::kaem`): no
//! script makes them panic, plain words survive any mix of separators, comments and
//! continuations, quoting any word keeps it whole, and expansion splits an unquoted value
//! exactly where a model of kaem's rule does.

use crossverify::kaem::{expand_words, parse, Dialect, Vars};
use proptest::prelude::*;

const DIALECTS: [Dialect; 3] = [
    Dialect::Full,
    Dialect::Minimal { strings: true },
    Dialect::Minimal { strings: false },
];

fn plain_word() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_./+=-][A-Za-z0-9_./+=:#-]{0,8}"
}

fn separator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just(" "), Just("\t"), Just("  \t "), Just(" \\\n\t")]
}

fn args_of(src: &[u8], dialect: Dialect, vars: &Vars) -> Vec<Vec<String>> {
    parse(src, dialect)
        .unwrap()
        .iter()
        .map(|c| {
            expand_words(&c.words, vars)
                .into_iter()
                .map(|w| String::from_utf8(w).unwrap())
                .collect()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_script_panics(src in proptest::collection::vec(any::<u8>(), 0..200), v in "[ a-z]{0,6}") {
        let mut vars = Vars::new();
        vars.insert(b"A".to_vec(), v.into_bytes());
        for d in DIALECTS {
            if let Ok(cmds) = parse(&src, d) {
                for c in &cmds {
                    prop_assert!(!c.words.is_empty());
                    let _ = expand_words(&c.words, &vars);
                }
            }
        }
    }

    #[test]
    fn plain_words_survive_separators_comments_and_continuations(
        lines in proptest::collection::vec(
            (proptest::collection::vec((plain_word(), separator()), 1..6), any::<bool>()),
            1..6,
        )
    ) {
        let mut src = String::new();
        let mut want = Vec::new();
        for (words, comment) in &lines {
            let mut line = Vec::new();
            for (w, sep) in words {
                src.push_str(w);
                src.push_str(sep);
                line.push(w.clone());
            }
            if *comment {
                src.push_str("# a comment \"with quotes ${X}\n");
            } else {
                src.push('\n');
            }
            want.push(line);
        }
        for d in DIALECTS {
            prop_assert_eq!(&args_of(src.as_bytes(), d, &Vars::new()), &want);
        }
    }

    #[test]
    fn a_quoted_word_stays_one_argument(w in "[ a-zA-Z0-9_./\t-]{0,12}") {
        let src = format!("./prog \"{w}\" tail\n");
        for d in [Dialect::Full, Dialect::Minimal { strings: true }] {
            prop_assert_eq!(
                args_of(src.as_bytes(), d, &Vars::new()),
                vec![vec!["./prog".to_string(), w.clone(), "tail".to_string()]]
            );
        }
    }

    #[test]
    fn unquoted_values_split_like_the_model(value in "[ a-c\t]{0,10}", prefix in "[a-c]{0,2}") {
        let mut vars = Vars::new();
        vars.insert(b"V".to_vec(), value.clone().into_bytes());
        let src = format!("./p {prefix}${{V}}\n");
        // model: the word's text with the value in place, split at blanks
        let text = format!("{prefix}{value}");
        let mut want = vec!["./p".to_string()];
        want.extend(text.split([' ', '\t']).filter(|s| !s.is_empty()).map(str::to_string));
        prop_assert_eq!(args_of(src.as_bytes(), Dialect::Full, &vars), vec![want]);
        // quoted, the value is never split and always gives one argument
        let src = format!("./p \"{prefix}${{V}}\"\n");
        prop_assert_eq!(
            args_of(src.as_bytes(), Dialect::Full, &vars),
            vec![vec!["./p".to_string(), text]]
        );
    }
}
