//! Scale of the report log (issue 17): append N report-sized entries to a tile directory,
//! then prove entries from the tiles alone; prints times and the disk footprint.
//!
//! ```sh
//! cargo run --release -p crossverify --example tlog_scale -- 1000000 /tmp/tlog-scale 1000
//! ```
//!
//! Arguments: entry count (default 1,000,000), an empty or missing directory (default a
//! fresh one under the temporary directory), the batch size of the appends (default: all
//! at once), and optionally an Ed25519 PEM key to sign a checkpoint with (origin
//! `example.org/hexroot-scale`), after which `crossverify log` works on the directory. Not a test: timings are reported, never asserted.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};
use std::time::Instant;

use crossverify::report::Report;
use crossverify::tlog::checkpoint::Checkpoint;
use crossverify::tlog::ed25519::SigningKey;
use crossverify::tlog::merkle::{self, leaf_hash};
use crossverify::tlog::tiles::{self, Tiles};

/// The origin of the checkpoint signed when a key is given.
const ORIGIN: &str = "example.org/hexroot-scale";

/// A realistic entry: a report of three artifacts from machine `i`.
fn entry(i: u64) -> Vec<u8> {
    Report {
        manifest: b"crossverify.sha256".to_vec(),
        manifest_sha256: crossverify::sha256_hex(&i.to_be_bytes()),
        host: format!("machine-{i}"),
        os: "linux".into(),
        arch: "x86_64".into(),
        date: "2026-12-02T08:00:00Z".into(),
        tools: vec![("crossverify".into(), "0.1.0".into())],
        built_by: ["hex0", "hex2", "M1"]
            .iter()
            .map(|n| ("hexroot".to_string(), format!("bin/{n}").into_bytes()))
            .collect(),
    }
    .render()
}

/// CPU seconds (user + system) this process has used, from `/proc/self/stat` (0 where
/// that does not exist). The machine may be shared, so wall time alone says little.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the ')'.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

fn disk(dir: &Path) -> (u64, u64, u64) {
    let (mut files, mut bytes, mut blocks) = (0, 0, 0);
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let m = e.metadata().expect("metadata");
            if m.is_dir() {
                stack.push(e.path());
            } else {
                use std::os::unix::fs::MetadataExt;
                files += 1;
                bytes += m.len();
                blocks += m.blocks() * 512;
            }
        }
    }
    (files, bytes, blocks)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .map_or(1_000_000, |a| a.parse().expect("entry count"));
    let dir = args.get(2).map_or_else(
        || std::env::temp_dir().join(format!("tlog-scale-{}", std::process::id())),
        PathBuf::from,
    );
    let batch: u64 = args.get(3).map_or(n, |a| a.parse().expect("batch size"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create dir");

    let mut size = 0;
    let mut appends = 0;
    let (mut append_time, mut append_cpu) = (std::time::Duration::ZERO, 0.0);
    while size < n {
        let entries: Vec<Vec<u8>> = (size..(size + batch).min(n)).map(entry).collect();
        let (t, c) = (Instant::now(), cpu_seconds());
        size = tiles::append(&dir, size, &entries).expect("append");
        append_time += t.elapsed();
        append_cpu += cpu_seconds() - c;
        appends += 1;
    }
    let t = Instant::now();
    let root = merkle::root(&mut Tiles::new(&dir, size), size).expect("root");
    let root_time = t.elapsed();
    let t = Instant::now();
    let one = tiles::append(&dir, size, &[entry(size)]).expect("append one");
    let one_time = t.elapsed();
    let (files, bytes, blocks) = disk(&dir);
    let entry_bytes: u64 = (0..n)
        .step_by((n / 1000).max(1) as usize)
        .map(|i| entry(i).len() as u64)
        .sum::<u64>()
        / n.div_ceil((n / 1000).max(1));

    // Proofs from cold tiles (a fresh reader each time), spread over the log.
    let picks: Vec<u64> = (0..100).map(|k| (k * 7_919 * 104_729) % n).collect();
    let t = Instant::now();
    let mut hashes_read = 0;
    for &i in &picks {
        let mut tiles = Tiles::new(&dir, size);
        let proof = merkle::inclusion_proof(&mut tiles, i, size).expect("proof");
        assert!(merkle::verify_inclusion(
            &leaf_hash(&entry(i)),
            i,
            size,
            &proof,
            &root
        ));
        hashes_read += proof.len();
    }
    let prove_time = t.elapsed() / picks.len() as u32;
    let t = Instant::now();
    for &i in &picks {
        let old = i.max(1);
        let mut tiles = Tiles::new(&dir, one);
        let proof = merkle::consistency_proof(&mut tiles, old, one).expect("consistency");
        let old_root = merkle::root(&mut tiles, old).expect("old root");
        let new_root = merkle::root(&mut tiles, one).expect("new root");
        assert!(merkle::verify_consistency(
            old, one, &old_root, &new_root, &proof
        ));
    }
    let consistency_time = t.elapsed() / picks.len() as u32;
    let t = Instant::now();
    let found = tiles::find(&dir, size, &entry(n - 1)).expect("find");
    let find_time = t.elapsed();
    assert_eq!(found, Some(n - 1));

    println!("entries                {n} (about {entry_bytes} bytes each), in {appends} append(s) of up to {batch}");
    println!(
        "append                 {append_time:.2?} wall, {append_cpu:.2} s CPU ({:.2} us per entry; load average {})",
        append_cpu * 1e6 / n as f64,
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().split(' ').next().unwrap_or("?")
    );
    println!("append one more        {one_time:.2?} (reads only the right edge)");
    println!("root from the tiles    {root_time:.2?}");
    println!("inclusion proof        {prove_time:.2?} per proof from cold tiles, {} hashes each, verified", hashes_read / picks.len());
    println!("consistency proof      {consistency_time:.2?} per proof with both roots, from cold tiles, verified");
    println!("find an entry          {find_time:.2?} (scan of the level-0 tiles, worst case: the last entry)");
    println!(
        "disk                   {files} files, {:.1} MiB of content, {:.1} MiB allocated",
        bytes as f64 / 1048576.0,
        blocks as f64 / 1048576.0
    );
    println!("directory              {}", dir.display());
    // With a key, sign a checkpoint so the `crossverify log` commands work on the result.
    if let Some(key) = args.get(4) {
        let key = SigningKey::load(Path::new(key)).expect("log key");
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: one,
            root: merkle::root(&mut Tiles::new(&dir, one), one).expect("root"),
            extensions: Vec::new(),
        };
        let t = Instant::now();
        let note = cp.sign(&key).expect("sign");
        println!("sign the checkpoint    {:.2?} (openssl)", t.elapsed());
        std::fs::write(dir.join("checkpoint"), note.render()).expect("write checkpoint");
        println!("checkpoint             {} size {one}, signed", ORIGIN);
    }
}
