//! The `crossverify log` subcommand: `key`, `append`, `checkpoint`, `prove` and `verify`,
//! thin over the [`crate::tlog`] modules.
//!
//! It owns the command line and the files' places (`DIR/checkpoint`, `REPORT.tlog-proof`);
//! every format and every check lives in the modules it calls.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use toolbase::args::{Arg, Opt, Parser};
use toolbase::cli::{Streams, EXIT_SUCCESS, EXIT_USAGE};
use toolbase::diag::Diagnostic;
use toolbase::output::write_atomic;

use super::checkpoint::{self, Checkpoint, Signed};
use super::cosignature::{self, Quorum, Witness};
use super::ed25519::SigningKey;
use super::merkle;
use super::note::{self, Verifier};
use super::proof::{Consistency, Inclusion};
use super::tiles::{self, Tiles};
use crate::FILE_MODE;

/// The flags.
#[derive(Clone, Copy)]
enum Flag {
    Help,
}

/// The options that take a value.
#[derive(Clone, Copy)]
enum Value {
    Key,
    Origin,
    Vkey,
    From,
    Output,
    Cosigner,
    State,
    Witness,
    WitnessQuorum,
}

const OPTS: &[Opt<Flag, Value>] = &[
    Opt::value(&["-k", "--key"], Value::Key, "FILE").doc("the log's Ed25519 private key (PEM)"),
    Opt::value(&["--origin"], Value::Origin, "NAME")
        .doc(
            "the log's origin line and key name, e.g. example.org/hexroot-reports",
        ),
    Opt::value(&["--vkey"], Value::Vkey, "FILE")
        .doc(
            "a file holding the log's verifier key, as 'log key' prints it",
        ),
    Opt::value(&["--from"], Value::From, "FILE").doc("an older checkpoint of the same log"),
    Opt::value(&["-o", "--output"], Value::Output, "FILE")
        .doc(
            "where 'prove --from' and 'cosign' write (default: stdout)",
        ),
    Opt::value(&["--cosigner"], Value::Cosigner, "NAME")
        .doc(
            "the witness's key name, e.g. witness.example.org/alice",
        ),
    Opt::value(&["--state"], Value::State, "FILE")
        .doc(
            "the witness's record of the last checkpoint it cosigned",
        ),
    Opt::value(&["--witness"], Value::Witness, "FILE")
        .doc(
            "trusted witness vkeys (type 0x04), one a line; repeatable. The\ncheckpoint must carry their valid cosignatures (C2SP\ntlog-cosignature, cosignature/v1)",
        ),
    Opt::value(&["--witness-quorum"], Value::WitnessQuorum, "N")
        .doc(
            "how many distinct witnesses must cosign (default: all)",
        ),
    Opt::flag(&["-h", "--help"], Flag::Help).doc("print this help and exit"),
];

/// The text of `help()` before its option list.
const HELP_HEAD: &str = "\
Usage: crossverify log key --key LOG.pem --origin ORIGIN
       crossverify log key --key WITNESS.pem --cosigner NAME
       crossverify log append --key LOG.pem --origin ORIGIN DIR REPORT...
       crossverify log checkpoint --vkey VKEY [WITNESSES] DIR
       crossverify log prove DIR REPORT...
       crossverify log prove --from OLD-CHECKPOINT [-o FILE] DIR
       crossverify log verify --vkey VKEY [WITNESSES] REPORT...
       crossverify log verify --vkey VKEY [WITNESSES] --from OLD-CHECKPOINT PROOF
       crossverify log cosign --key WITNESS.pem --cosigner NAME --vkey VKEY
                              --state STATE [-o FILE] REQUEST
  WITNESSES: --witness FILE... [--witness-quorum N]

A transparency log of reports in DIR, as static files (C2SP tlog-tiles): DIR/checkpoint,
DIR/tile/<L>/<N>, DIR/tile/entries/<N>. Publish DIR with any static web server.

  key         print the log's verifier key (vkey) for ORIGIN and the Ed25519 key LOG.pem
              ('openssl genpkey -algorithm ed25519 -out LOG.pem'); give it to readers.
              With --cosigner, print the witness vkey (type 0x04) of WITNESS.pem
  append      append each REPORT (checked against its manifest) as one entry, then sign
              a new DIR/checkpoint
  checkpoint  verify DIR/checkpoint with VKEY and every tile and entry against it; print
              origin, size and root
  prove       write REPORT.tlog-proof (C2SP tlog-proof: index, inclusion proof,
              checkpoint) for each REPORT; with --from, print the consistency proof from
              OLD-CHECKPOINT to DIR/checkpoint (a tlog-witness add-checkpoint body)
  verify      check each REPORT.tlog-proof against REPORT and VKEY; with --from, check
              that PROOF's checkpoint extends OLD-CHECKPOINT. Needs no tiles.
  cosign      act as a C2SP tlog-witness, offline: check the add-checkpoint REQUEST
              ('log prove --from' writes it) against the checkpoint this witness last
              cosigned (STATE; none at first) and the log's VKEY, record the new one in
              STATE and print its cosignature line (append it to DIR/checkpoint)

Options:
";

/// The text of `help()` after its option list.
const HELP_TAIL: &str = "
Exit status: 0 done (every proof verifies), 1 a proof or signature does not verify or a
file cannot be read or written, 2 bad command line.

Example:
  $ crossverify log append --key log.pem --origin example.org/reports pub/ *.report   # needs: a log key and reports
  $ crossverify log prove pub/ *.report && crossverify log verify --vkey log.vkey *.report   # needs: a log and its reports
";

/// The documented options, from the table that parses them: what `--help` lists, and the
/// man page's and the completion's options.
pub fn options() -> Vec<toolbase::help::OptionHelp> {
    toolbase::help::documented(OPTS)
}

/// What `--help` prints: the text around the option list, which `OPTS` renders.
fn help() -> String {
    HELP_HEAD.to_string() + &toolbase::help::option_list(&options()) + HELP_TAIL
}

#[derive(Default)]
struct Options {
    key: Option<PathBuf>,
    origin: Option<String>,
    vkey: Option<PathBuf>,
    from: Option<PathBuf>,
    output: Option<PathBuf>,
    cosigner: Option<String>,
    state: Option<PathBuf>,
    witnesses: Vec<PathBuf>,
    witness_quorum: Option<usize>,
    paths: Vec<PathBuf>,
}

/// Runs `crossverify log` with `args` (subcommand name first).
pub fn main(args: &[OsString], io: &mut Streams) -> i32 {
    let tool = "crossverify log";
    let action = args.get(1).map(|a| a.to_string_lossy().into_owned());
    let Some(action) = action else {
        io.usage_error(
            tool,
            "missing ACTION: expected key, append, checkpoint, prove, verify or cosign",
        );
        return EXIT_USAGE;
    };
    if matches!(action.as_str(), "-h" | "--help" | "help") {
        let _ = io.stdout.write_all(help().as_bytes());
        return EXIT_SUCCESS;
    }
    let mut o = Options::default();
    for arg in Parser::new(&args[2..], OPTS) {
        match arg {
            Ok(Arg::Value(Value::Key, v)) => o.key = Some(v.into()),
            Ok(Arg::Value(Value::Origin, v)) => o.origin = Some(v.to_string_lossy().into_owned()),
            Ok(Arg::Value(Value::Vkey, v)) => o.vkey = Some(v.into()),
            Ok(Arg::Value(Value::From, v)) => o.from = Some(v.into()),
            Ok(Arg::Value(Value::Output, v)) => o.output = Some(v.into()),
            Ok(Arg::Value(Value::Cosigner, v)) => {
                o.cosigner = Some(v.to_string_lossy().into_owned())
            }
            Ok(Arg::Value(Value::State, v)) => o.state = Some(v.into()),
            Ok(Arg::Value(Value::Witness, v)) => o.witnesses.push(v.into()),
            Ok(Arg::Value(Value::WitnessQuorum, v)) => match v.to_string_lossy().parse::<usize>() {
                Ok(n) if n >= 1 => o.witness_quorum = Some(n),
                _ => {
                    io.usage_error(
                            tool,
                            &format!(
                                "bad --witness-quorum '{}': expected a whole number of witnesses, at least 1",
                                v.to_string_lossy()
                            ),
                        );
                    return EXIT_USAGE;
                }
            },
            Ok(Arg::Flag(Flag::Help)) => {
                let _ = io.stdout.write_all(help().as_bytes());
                return EXIT_SUCCESS;
            }
            Ok(Arg::Positional(p)) => o.paths.push(p.into()),
            Err(e) => {
                io.usage_error(tool, &e.to_string());
                return EXIT_USAGE;
            }
        }
    }
    let witnessed = !o.witnesses.is_empty() || o.witness_quorum.is_some();
    let usage = match (action.as_str(), &o) {
        _ if o.witness_quorum.is_some() && o.witnesses.is_empty() => {
            Some("--witness-quorum needs --witness FILE, the witnesses' keys")
        }
        (_, _) if witnessed && !matches!(action.as_str(), "checkpoint" | "verify") => {
            Some("--witness is for 'log checkpoint' and 'log verify'")
        }
        ("key", Options { key: Some(_), .. })
            if o.paths.is_empty() && (o.origin.is_some() != o.cosigner.is_some()) =>
        {
            None
        }
        ("key", _) => {
            Some("'log key' needs --key and either --origin or --cosigner, and no other argument")
        }
        (
            "cosign",
            Options {
                key: Some(_),
                cosigner: Some(_),
                vkey: Some(_),
                state: Some(_),
                ..
            },
        ) if o.paths.len() == 1 => None,
        ("cosign", _) => {
            Some("'log cosign' needs --key, --cosigner, --vkey, --state and one REQUEST")
        }
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
        _ => Some("unknown ACTION: expected key, append, checkpoint, prove, verify or cosign"),
    };
    if let Some(message) = usage {
        io.usage_error(tool, message);
        return EXIT_USAGE;
    }
    let result = match action.as_str() {
        "key" if o.cosigner.is_some() => witness_key(&o, io),
        "key" => key(&o, io),
        "cosign" => cosign(&o, io),
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

/// The witness policy the `--witness` and `--witness-quorum` options give (empty without
/// them).
fn witness_policy(o: &Options) -> Result<Quorum, Diagnostic> {
    let mut witnesses = Vec::new();
    for p in &o.witnesses {
        witnesses.extend(cosignature::load_witnesses(p)?);
    }
    Quorum::new(witnesses, o.witness_quorum)
}

/// Checks `signed` (read from `file`) against `policy`; the words to print after it.
fn witnessed(policy: &Quorum, file: &str, signed: &Signed) -> Result<String, Diagnostic> {
    if policy.is_empty() {
        return Ok(String::new());
    }
    let by: Vec<String> = policy
        .check(file, &signed.note)?
        .iter()
        .map(|c| format!("{} (time {})", c.name, c.timestamp))
        .collect();
    Ok(format!(
        ", cosigned by {} of {} witnesses: {}",
        by.len(),
        policy.witnesses.len(),
        by.join(", ")
    ))
}

/// The witness `--cosigner` with the private key `--key`.
fn witness_signer(o: &Options) -> Result<(SigningKey, Witness), Diagnostic> {
    let name = o.cosigner.clone().unwrap_or_default();
    if !note::is_key_name(&name) {
        return Err(Diagnostic::new(format!("bad cosigner name '{name}'"))
            .expected("a name without spaces or '+', e.g. witness.example.org/alice"));
    }
    let key = SigningKey::load(o.key.as_deref().unwrap_or(Path::new("")))?;
    let witness = Witness {
        name,
        public: key.public,
    };
    Ok((key, witness))
}

fn witness_key(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let (_, witness) = witness_signer(o)?;
    let _ = writeln!(io.stdout, "{}", witness.vkey());
    Ok(())
}

fn cosign(o: &Options, io: &mut Streams) -> Result<(), Diagnostic> {
    let log = vkey(o)?;
    let (key, witness) = witness_signer(o)?;
    let request = &o.paths[0];
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (newer, cosignature) = super::witness::add_checkpoint(
        &request.display().to_string(),
        &read(request, "request")?,
        &log,
        o.state.as_deref().unwrap_or(Path::new("")),
        &witness,
        &key,
        now,
    )?;
    let line = cosignature.line();
    match &o.output {
        Some(out) => write_atomic(out, line.as_bytes(), FILE_MODE)
            .map_err(|e| Diagnostic::io(out, "cannot write cosignature", &e))?,
        None => {
            let _ = io.stdout.write_all(line.as_bytes());
        }
    }
    let _ = writeln!(
        io.stderr,
        "crossverify log: {} cosigned tree size {} of {}",
        witness.name, newer.checkpoint.size, newer.checkpoint.origin
    );
    Ok(())
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
    let policy = witness_policy(o)?;
    let dir = &o.paths[0];
    let path = dir.join("checkpoint");
    let file = path.display().to_string();
    let signed = checkpoint::open(&file, &read(&path, "checkpoint")?, &log)?;
    let cosigned = witnessed(&policy, &file, &signed)?;
    let cp = signed.checkpoint;
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
        "origin {}\ntree size {}\nroot {}\nverified: the signature by {} ({:08x}){cosigned}, every entry and every tile",
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
    let policy = witness_policy(o)?;
    for p in &o.paths {
        let (report, proof_file) = if p.extension().is_some_and(|e| e == "tlog-proof") {
            (p.with_extension(""), p.clone())
        } else {
            (p.clone(), super::proof_path(p))
        };
        let file = proof_file.display().to_string();
        let proof = Inclusion::parse(&file, &read(&proof_file, "proof")?)?;
        let signed = proof.verify(&file, &read(&report, "report")?, &log)?;
        let cosigned = witnessed(&policy, &file, &signed)?;
        let _ = writeln!(
            io.stdout,
            "{}: entry {} of {} in {}: verified{cosigned}",
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
    let policy = witness_policy(o)?;
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
    let cosigned = witnessed(&policy, &file, &newer)?;
    let _ = writeln!(
        io.stdout,
        "{}: tree size {} extends tree size {} of {}: verified{cosigned}",
        p.display(),
        newer.checkpoint.size,
        older.checkpoint.size,
        newer.checkpoint.origin
    );
    Ok(())
}
