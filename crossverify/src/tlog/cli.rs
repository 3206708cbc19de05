//! The `crossverify log` subcommand: `key`, `append`, `checkpoint`, `prove` and `verify`,
//! thin over the [`crate::tlog`] modules.
//!
//! It owns the command line and the files' places (`DIR/checkpoint`, `REPORT.tlog-proof`);
//! every format and every check lives in the modules it calls.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use hex0::args::{Arg, Opt, Parser};
use hex0::cli::{Streams, EXIT_SUCCESS, EXIT_USAGE};
use hex0::diag::Diagnostic;
use hex0::output::write_atomic;

use super::checkpoint::{self, Checkpoint, Signed};
use super::ed25519::SigningKey;
use super::merkle;
use super::note::{self, Verifier};
use super::proof::{Consistency, Inclusion};
use super::tiles::{self, Tiles};
use crate::manifest::FILE_MODE;

#[derive(Clone, Copy)]
enum Id {
    Key,
    Origin,
    Vkey,
    From,
    Output,
    Help,
}

const OPTS: &[Opt<Id>] = &[
    Opt::value(&["-k", "--key"], Id::Key),
    Opt::value(&["--origin"], Id::Origin),
    Opt::value(&["--vkey"], Id::Vkey),
    Opt::value(&["--from"], Id::From),
    Opt::value(&["-o", "--output"], Id::Output),
    Opt::flag(&["-h", "--help"], Id::Help),
];

const HELP: &str = "\
Usage: crossverify log key --key LOG.pem --origin ORIGIN
       crossverify log append --key LOG.pem --origin ORIGIN DIR REPORT...
       crossverify log checkpoint --vkey VKEY DIR
       crossverify log prove DIR REPORT...
       crossverify log prove --from OLD-CHECKPOINT [-o FILE] DIR
       crossverify log verify --vkey VKEY REPORT...
       crossverify log verify --vkey VKEY --from OLD-CHECKPOINT PROOF

A transparency log of reports in DIR, as static files (C2SP tlog-tiles): DIR/checkpoint,
DIR/tile/<L>/<N>, DIR/tile/entries/<N>. Publish DIR with any static web server.

  key         print the log's verifier key (vkey) for ORIGIN and the Ed25519 key LOG.pem
              ('openssl genpkey -algorithm ed25519 -out LOG.pem'); give it to readers
  append      append each REPORT (checked against its manifest) as one entry, then sign
              a new DIR/checkpoint
  checkpoint  verify DIR/checkpoint with VKEY and every tile and entry against it; print
              origin, size and root
  prove       write REPORT.tlog-proof (C2SP tlog-proof: index, inclusion proof,
              checkpoint) for each REPORT; with --from, print the consistency proof from
              OLD-CHECKPOINT to DIR/checkpoint (a tlog-witness add-checkpoint body)
  verify      check each REPORT.tlog-proof against REPORT and VKEY; with --from, check
              that PROOF's checkpoint extends OLD-CHECKPOINT. Needs no tiles.

Options:
  -k, --key FILE      the log's Ed25519 private key (PEM)
      --origin NAME   the log's origin line and key name, e.g. example.org/hexroot-reports
      --vkey FILE     a file holding the log's verifier key, as 'log key' prints it
      --from FILE     an older checkpoint of the same log
  -o, --output FILE   where 'prove --from' writes (default: stdout)
  -h, --help          print this help and exit

Exit status: 0 done (every proof verifies), 1 a proof or signature does not verify or a
file cannot be read or written, 2 bad command line.

Example:
  crossverify log append --key log.pem --origin example.org/reports pub/ *.report
  crossverify log prove pub/ *.report && crossverify log verify --vkey log.vkey *.report
";

#[derive(Default)]
struct Options {
    key: Option<PathBuf>,
    origin: Option<String>,
    vkey: Option<PathBuf>,
    from: Option<PathBuf>,
    output: Option<PathBuf>,
    paths: Vec<PathBuf>,
}

/// Runs `crossverify log` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify log";
    let action = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let Some(action) = action else {
        io.usage_error(
            tool,
            "missing ACTION: expected key, append, checkpoint, prove or verify",
        );
        return EXIT_USAGE;
    };
    if matches!(action.as_str(), "-h" | "--help" | "help") {
        let _ = io.stdout.write_all(HELP.as_bytes());
        return EXIT_SUCCESS;
    }
    let mut o = Options::default();
    for arg in Parser::new(&args[2..], OPTS) {
        match arg {
            Ok(Arg::Opt(Id::Key, Some(v))) => o.key = Some(v.into()),
            Ok(Arg::Opt(Id::Origin, Some(v))) => o.origin = Some(v.to_string_lossy().into_owned()),
            Ok(Arg::Opt(Id::Vkey, Some(v))) => o.vkey = Some(v.into()),
            Ok(Arg::Opt(Id::From, Some(v))) => o.from = Some(v.into()),
            Ok(Arg::Opt(Id::Output, Some(v))) => o.output = Some(v.into()),
            Ok(Arg::Opt(Id::Help, _)) => {
                let _ = io.stdout.write_all(HELP.as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Opt(_, None)) => unreachable!("the parser gives a value"),
            Ok(Arg::Positional(p)) => o.paths.push(p.into()),
            Err(e) => {
                io.usage_error(tool, &e.message);
                return EXIT_USAGE;
            }
        }
    }
    let usage = match (action.as_str(), &o) {
        (
            "key",
            Options {
                key: Some(_),
                origin: Some(_),
                ..
            },
        ) if o.paths.is_empty() => None,
        ("key", _) => Some("'log key' needs --key and --origin and no other argument"),
        (
            "append",
            Options {
                key: Some(_),
                origin: Some(_),
                ..
            },
        ) if o.paths.len() >= 2 => None,
        ("append", _) => Some("'log append' needs --key, --origin, DIR and at least one REPORT"),
        ("checkpoint", Options { vkey: Some(_), .. }) if o.paths.len() == 1 => None,
        ("checkpoint", _) => Some("'log checkpoint' needs --vkey and one DIR"),
        ("prove", Options { from: Some(_), .. }) if o.paths.len() == 1 => None,
        ("prove", Options { from: None, .. }) if o.paths.len() >= 2 => None,
        ("prove", _) => Some("'log prove' needs DIR and REPORTs, or --from and one DIR"),
        (
            "verify",
            Options {
                vkey: Some(_),
                from: Some(_),
                ..
            },
        ) if o.paths.len() == 1 => None,
        (
            "verify",
            Options {
                vkey: Some(_),
                from: None,
                ..
            },
        ) if !o.paths.is_empty() => None,
        ("verify", _) => {
            Some("'log verify' needs --vkey and REPORTs, or --vkey, --from and one PROOF")
        }
        _ => Some("unknown ACTION: expected key, append, checkpoint, prove or verify"),
    };
    if let Some(message) = usage {
        io.usage_error(tool, message);
        return EXIT_USAGE;
    }
    let result = match action.as_str() {
        "key" => key(&o, io),
        "append" => append(&o, io),
        "checkpoint" => show(&o, io),
        "prove" if o.from.is_some() => prove_consistency(&o, io),
        "prove" => prove(&o, io),
        "verify" if o.from.is_some() => verify_consistency(&o, io),
        _ => verify(&o, io),
    };
    io.finish(result)
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, Diagnostic> {
    std::fs::read(path).map_err(|e| Diagnostic::io(path, &format!("cannot read {what}"), &e))
}

/// The signing key and the verifier it implies for `origin`.
fn signer(o: &Options) -> Result<(SigningKey, Verifier), Diagnostic> {
    let origin = o.origin.clone().unwrap_or_default();
    if !note::is_key_name(&origin) {
        return Err(Diagnostic::new(format!("bad origin '{origin}'"))
            .expected("a name without spaces or '+', e.g. example.org/hexroot-reports"));
    }
    let key = SigningKey::load(o.key.as_deref().unwrap_or(Path::new("")))?;
    let verifier = Verifier {
        name: origin,
        public: key.public,
    };
    Ok((key, verifier))
}

fn vkey(o: &Options) -> Result<Verifier, Diagnostic> {
    let p = o.vkey.as_deref().unwrap_or(Path::new(""));
    Verifier::parse_vkey(&p.display().to_string(), &read(p, "verifier key")?)
}

fn key(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let (_, verifier) = signer(o)?;
    let _ = writeln!(io.stdout, "{}", verifier.vkey());
    Ok(())
}

/// The checkpoint of the log in `dir`, unverified (the reader verifies what we hand out).
fn current(dir: &Path) -> Result<(Checkpoint, Vec<u8>), Diagnostic> {
    let path = dir.join("checkpoint");
    let bytes = read(&path, "checkpoint")?;
    let file = path.display().to_string();
    let n = note::parse(&file, &bytes)?;
    Ok((Checkpoint::parse(&file, &n.text)?, bytes))
}

/// The root the tiles of `dir` give at `size`, which must be the checkpoint's.
fn check_root(dir: &Path, cp: &Checkpoint) -> Result<(), Diagnostic> {
    let root = merkle::root(&mut Tiles::new(dir, cp.size), cp.size)?;
    if root != cp.root {
        return Err(Diagnostic::new("the tiles do not match the checkpoint")
            .in_file(dir.join("checkpoint").display().to_string())
            .note(format!("tree size {}", cp.size))
            .hint("the tiles were altered, or the checkpoint is from another log"));
    }
    Ok(())
}

fn append(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let (key, verifier) = signer(o)?;
    let dir = &o.paths[0];
    let cp_path = dir.join("checkpoint");
    let size = if cp_path.exists() {
        let cp = checkpoint::open(
            &cp_path.display().to_string(),
            &read(&cp_path, "checkpoint")?,
            &verifier,
        )?;
        cp.checkpoint.size
    } else if dir.join("tile").exists() {
        return Err(Diagnostic::new("the log has tiles but no checkpoint")
            .in_file(dir.display().to_string())
            .hint("restore DIR/checkpoint; appending now could rewrite published tiles"));
    } else {
        0
    };
    let mut entries = Vec::new();
    for p in &o.paths[1..] {
        crate::report::load(p)?;
        let entry = read(p, "report")?;
        if entry.len() > tiles::MAX_ENTRY {
            return Err(Diagnostic::new("report too large for one log entry")
                .in_file(p.display().to_string())
                .expected(format!(
                    "at most {} bytes (an entry bundle's uint16 length)",
                    tiles::MAX_ENTRY
                ))
                .found(format!("{} bytes", entry.len())));
        }
        entries.push(entry);
    }
    let new_size = tiles::append(dir, size, &entries)?;
    let mut cp = Checkpoint {
        origin: verifier.name.clone(),
        size: new_size,
        root: merkle::empty_root(),
        extensions: Vec::new(),
    };
    cp.root = merkle::root(&mut Tiles::new(dir, new_size), new_size)?;
    let signed = cp.sign(&key)?;
    write_atomic(&cp_path, signed.render().as_bytes(), FILE_MODE)
        .map_err(|e| Diagnostic::io(&cp_path, "cannot write checkpoint", &e))?;
    for (i, p) in o.paths[1..].iter().enumerate() {
        let _ = writeln!(io.stdout, "{}: entry {}", p.display(), size + i as u64);
    }
    let _ = writeln!(
        io.stdout,
        "tree size {new_size}, checkpoint {}",
        cp_path.display()
    );
    Ok(())
}

fn show(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let log = vkey(o)?;
    let dir = &o.paths[0];
    let path = dir.join("checkpoint");
    let Signed { checkpoint: cp, .. } = checkpoint::open(
        &path.display().to_string(),
        &read(&path, "checkpoint")?,
        &log,
    )?;
    check_root(dir, &cp)?;
    let from_entries = tiles::audit(dir, cp.size)?;
    if from_entries != cp.root {
        return Err(
            Diagnostic::new("the entries do not hash to the checkpoint's root")
                .in_file(path.display().to_string()),
        );
    }
    let _ = writeln!(
        io.stdout,
        "origin {}\ntree size {}\nroot {}\nverified: the signature by {} ({:08x}), every entry and every tile",
        cp.origin,
        cp.size,
        super::base64::encode(&cp.root),
        log.name,
        log.key_id()
    );
    Ok(())
}

fn prove(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let dir = &o.paths[0];
    let (cp, note) = current(dir)?;
    check_root(dir, &cp)?;
    let mut tiles = Tiles::new(dir, cp.size);
    for report in &o.paths[1..] {
        let entry = read(report, "report")?;
        let index = tiles::find(dir, cp.size, &entry)?.ok_or_else(|| {
            Diagnostic::new("the report is not in the log")
                .in_file(report.display().to_string())
                .note(format!("searched {} entries of {}", cp.size, cp.origin))
                .hint("append it first: crossverify log append ...")
        })?;
        let proof = Inclusion {
            extra: None,
            index,
            hashes: merkle::inclusion_proof(&mut tiles, index, cp.size)?,
            checkpoint: note.clone(),
            checkpoint_line: 1,
        };
        let out = super::proof_path(report);
        write_atomic(&out, &proof.render(), FILE_MODE)
            .map_err(|e| Diagnostic::io(&out, "cannot write proof", &e))?;
        let _ = writeln!(io.stdout, "{}: entry {index} of {}", out.display(), cp.size);
    }
    Ok(())
}

fn prove_consistency(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let dir = &o.paths[0];
    let (cp, note) = current(dir)?;
    let from = o.from.as_deref().unwrap_or(Path::new(""));
    let old_file = from.display().to_string();
    let old = Checkpoint::parse(
        &old_file,
        &note::parse(&old_file, &read(from, "checkpoint")?)?.text,
    )?;
    if old.origin != cp.origin || old.size > cp.size {
        return Err(
            Diagnostic::new("the older checkpoint is not an earlier state of this log")
                .in_file(old_file)
                .note(format!(
                    "it says {} size {}; the log is {} size {}",
                    old.origin, old.size, cp.origin, cp.size
                )),
        );
    }
    let mut tiles = Tiles::new(dir, cp.size);
    if merkle::root(&mut tiles, old.size)? != old.root {
        return Err(Diagnostic::new("the log's tree at the older size has another root: a fork")
            .in_file(old_file)
            .hint("keep both checkpoints: two signed, inconsistent tree heads prove the log misbehaved"));
    }
    let proof = Consistency {
        old: old.size,
        hashes: merkle::consistency_proof(&mut tiles, old.size, cp.size)?,
        checkpoint: note,
        checkpoint_line: 1,
    };
    match &o.output {
        Some(out) => write_atomic(out, &proof.render(), FILE_MODE)
            .map_err(|e| Diagnostic::io(out, "cannot write proof", &e)),
        None => {
            let _ = io.stdout.write_all(&proof.render());
            Ok(())
        }
    }
}

fn verify(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let log = vkey(o)?;
    for p in &o.paths {
        let (report, proof_file) = if p.extension().is_some_and(|e| e == "tlog-proof") {
            (p.with_extension(""), p.clone())
        } else {
            (p.clone(), super::proof_path(p))
        };
        let file = proof_file.display().to_string();
        let proof = Inclusion::parse(&file, &read(&proof_file, "proof")?)?;
        let signed = proof.verify(&file, &read(&report, "report")?, &log)?;
        let _ = writeln!(
            io.stdout,
            "{}: entry {} of {} in {}: verified",
            report.display(),
            proof.index,
            signed.checkpoint.size,
            signed.checkpoint.origin
        );
    }
    Ok(())
}

fn verify_consistency(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let log = vkey(o)?;
    let from = o.from.as_deref().unwrap_or(Path::new(""));
    let older = checkpoint::open(
        &from.display().to_string(),
        &read(from, "checkpoint")?,
        &log,
    )?;
    let p = &o.paths[0];
    let file = p.display().to_string();
    let proof = Consistency::parse(&file, &read(p, "proof")?)?;
    let newer = proof.verify(&file, &older, &log)?;
    let _ = writeln!(
        io.stdout,
        "{}: tree size {} extends tree size {} of {}: verified",
        p.display(),
        newer.checkpoint.size,
        older.checkpoint.size,
        newer.checkpoint.origin
    );
    Ok(())
}
