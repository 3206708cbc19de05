//! The log's text formats: arbitrary input never panics (signed notes, checkpoints, proofs,
//! verifier keys, entry bundles, base64), what we write parses back to itself, and
//! errors are located. Known answers: the signed-note key ID rule.

use crossverify::tlog::base64;
use crossverify::tlog::checkpoint::Checkpoint;
use crossverify::tlog::cosignature::{self, Witness};
use crossverify::tlog::note::{self, Note, Signature, Verifier};
use crossverify::tlog::proof::{Consistency, Inclusion};
use crossverify::tlog::tiles;
use proptest::prelude::*;

fn note_with(text: &str) -> Note {
    Note {
        text: text.to_string(),
        signatures: vec![Signature {
            name: "example.org/log".into(),
            key_id: 0x0102_0304,
            signature: vec![7; 64],
        }],
    }
}

#[test]
fn key_id_is_the_signed_note_rule() {
    // SHA-256("example.org/log" || 0x0A || 0x01 || 32 zero bytes)[:4], computed by
    // `printf 'example.org/log\n\001' | cat - <(head -c 32 /dev/zero) | sha256sum`.
    let v = Verifier {
        name: "example.org/log".into(),
        public: [0; 32],
    };
    let mut input = b"example.org/log\n\x01".to_vec();
    input.extend_from_slice(&[0; 32]);
    let digest = crossverify::sha256_hex(&input);
    assert_eq!(format!("{:08x}", v.key_id()), digest[..8]);
    let vkey = v.vkey();
    assert!(
        vkey.starts_with(&format!("example.org/log+{}+AQAAAA", &digest[..8])),
        "{vkey}"
    );
    assert_eq!(Verifier::parse_vkey("k", vkey.as_bytes()).unwrap(), v);
    let wrong_id = vkey.replacen(&digest[..8], "00000000", 1);
    let e = Verifier::parse_vkey("k", wrong_id.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("key ID does not match"), "{e}");
}

/// Known answers from a real witness and the Go implementation's tests
/// (transparency-dev/formats): a type-0x04 vkey whose key ID is
/// `SHA-256(name || 0x0A || 0x04 || key)[:4]`, and a cosignature whose timestamp is
/// 1727964367.
#[test]
fn cosignature_known_answers() {
    let vkey = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    let w = Witness::parse_vkey("w", vkey.as_bytes()).unwrap();
    assert_eq!(w.name, "remora.n621.de");
    assert_eq!(w.key_id(), 0xda77ade7);
    assert_eq!(w.vkey(), vkey);
    // The same key as a log (type 0x01) key is refused, and a log vkey as a witness key.
    let e = Verifier::parse_vkey("k", vkey.as_bytes())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a key of type 0x01") && e.contains("type 0x04"),
        "{e}"
    );
    let log = Verifier {
        name: "example.org/log".into(),
        public: w.public,
    };
    let e = Witness::parse_vkey("k", log.vkey().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a key of type 0x04"), "{e}");
    let line = "\u{2014} w ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA==\n";
    let n = note::parse("n", format!("text\n\n{line}").as_bytes()).unwrap();
    assert_eq!(n.signatures[0].key_id, 0x646846b9);
    assert_eq!(
        cosignature::timestamp(&n.signatures[0]),
        Some(1_727_964_367)
    );
    // A plain Ed25519 note signature (64 bytes) is not a cosignature.
    let plain = Signature {
        name: "w".into(),
        key_id: 1,
        signature: vec![0; 64],
    };
    assert_eq!(cosignature::timestamp(&plain), None);
    let mut late = vec![0x80; 8];
    late.extend_from_slice(&[0; 64]);
    let late = Signature {
        signature: late,
        ..plain
    };
    assert_eq!(cosignature::timestamp(&late), None, "above 2^63-1");
    assert_eq!(
        cosignature::message(1_679_315_147, "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"),
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    );
}

#[test]
fn witness_key_files_are_located() {
    let dir = std::env::temp_dir().join(format!(
        "crossverify-test-witness-files-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("witnesses");
    let good = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
    std::fs::write(
        &f,
        format!(
            "# trusted witnesses\n\n{good}\n{}\n",
            good.replace("da77", "0077")
        ),
    )
    .unwrap();
    let e = cosignature::load_witnesses(&f).unwrap_err().to_string();
    assert!(
        e.contains("witnesses:4:1: error: bad witness key: the key ID does not match"),
        "{e}"
    );
    std::fs::write(&f, format!("{good}\n{good}\n")).unwrap();
    let ws = cosignature::load_witnesses(&f).unwrap();
    let e = cosignature::Quorum::new(ws, None).unwrap_err().to_string();
    assert!(e.contains("one witness key is given twice"), "{e}");
    std::fs::write(&f, "# none\n").unwrap();
    let e = cosignature::load_witnesses(&f).unwrap_err().to_string();
    assert!(e.contains("no witness key"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn notes_and_checkpoints_are_strict_and_located() {
    let cp = Checkpoint {
        origin: "example.org/log".into(),
        size: 3,
        root: [9; 32],
        extensions: Vec::new(),
    };
    let n = note_with(&cp.body());
    let text = n.render();
    let back = note::parse("cp", text.as_bytes()).unwrap();
    assert_eq!(back, n);
    assert_eq!(Checkpoint::parse("cp", &back.text).unwrap(), cp);
    for (bad, what) in [
        (
            text.replace('\u{2014}', "-"),
            "cp:5:1: error: not a signature line",
        ),
        (text.replace("\n\n", "\n"), "no signatures"),
        (text.trim_end().to_string(), "does not end with a newline"),
        (text.replace("log\n3", "log\n\u{7}3"), "control character"),
        (text.replacen("log ", "log+x ", 1), "bad key name"),
    ] {
        let e = note::parse("cp", bad.as_bytes()).unwrap_err().to_string();
        assert!(e.contains(what), "{bad:?}: {e}");
    }
    for (body, what) in [
        (
            "example.org/log\n03\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n",
            "cp:2:1: error: bad tree size",
        ),
        ("example.org/log\n3\nCQkJ\n", "cp:3:1: error: bad root hash"),
        ("example.org/log\n3\n", "not a checkpoint"),
    ] {
        let e = Checkpoint::parse("cp", body).unwrap_err().to_string();
        assert!(e.contains(what), "{body:?}: {e}");
    }
}

#[test]
fn proofs_round_trip_and_are_located() {
    let checkpoint =
        note_with("example.org/log\n1\nCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQkJCQk=\n")
            .render()
            .into_bytes();
    let p = Inclusion {
        extra: Some(b"x".to_vec()),
        index: 5,
        hashes: vec![[1; 32], [2; 32]],
        checkpoint: checkpoint.clone(),
        checkpoint_line: 7,
    };
    let text = p.render();
    assert_eq!(Inclusion::parse("p", &text).unwrap(), p);
    let c = Consistency {
        old: 2,
        hashes: vec![[3; 32]],
        checkpoint,
        checkpoint_line: 4,
    };
    assert_eq!(Consistency::parse("c", &c.render()).unwrap(), c);
    let s = String::from_utf8(text).unwrap();
    for (bad, what) in [
        (
            s.replace("index 5", "index 05"),
            "p:3:1: error: bad 'index' line",
        ),
        (
            s.replace("tlog-proof@v1", "tlog-proof@v2"),
            "p:1:1: error: not a tlog proof",
        ),
        (s.replacen("AQEB", "AQE", 1), "p:4:1: error: bad proof hash"),
    ] {
        let e = Inclusion::parse("p", bad.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains(what), "{e}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_input_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = note::parse("x", &bytes);
        let _ = Inclusion::parse("x", &bytes);
        let _ = Consistency::parse("x", &bytes);
        let _ = Verifier::parse_vkey("x", &bytes);
        let _ = Witness::parse_vkey("x", &bytes);
        let _ = tiles::parse_bundle(&bytes);
        let _ = base64::decode(&bytes);
        if let Ok(s) = std::str::from_utf8(&bytes) {
            let _ = Checkpoint::parse("x", s);
        }
    }

    #[test]
    fn text_like_input_never_panics(s in "(c2sp.org/tlog-proof@v1\n|index [0-9]{1,3}\n|old [0-9]\n|[A-Za-z0-9+/=]{0,44}\n|\n|\u{2014} [a-z./]{1,8} [A-Za-z0-9+/=]{0,12}\n){0,12}") {
        let _ = note::parse("x", s.as_bytes());
        let _ = Inclusion::parse("x", s.as_bytes());
        let _ = Consistency::parse("x", s.as_bytes());
        let _ = Checkpoint::parse("x", &s);
    }

    #[test]
    fn base64_round_trips_and_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..100)) {
        let e = base64::encode(&bytes);
        prop_assert_eq!(base64::decode(e.as_bytes()), Some(bytes));
    }

    #[test]
    fn bundles_round_trip(entries in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..20)) {
        let mut b = Vec::new();
        for e in &entries {
            b.extend_from_slice(&(e.len() as u16).to_be_bytes());
            b.extend_from_slice(e);
        }
        prop_assert_eq!(tiles::parse_bundle(&b), Some(entries));
    }
}
