//! The agreement policy: given reports from several machines, decide artifact by artifact
//! whether they agree; the `compare` subcommand that prints the verdicts is [`cli`].
//!
//! Every artifact named by any voting report is judged. A report votes through a
//! [`Ballot`] that names its voter: the allowed principal whose OpenSSH signature it
//! carries, or, when signatures are not checked, the report itself (an unsigned claim:
//! anyone can copy a report under another host name). Votes are counted per voter, so
//! one signer casts one vote however many reports it signs, and a signer whose reports
//! list two digests for one artifact (equivocation) casts none on it. A report that does
//! not list the artifact casts no vote for any digest. The verdict fails closed:
//!
//! - **agree**: the largest group of voters listing one digest has at least K members (K
//!   is `--quorum`, by default every voter) and at least two (one machine is not
//!   agreement), no other group is as large, and with `--diverse` that group spans two
//!   implementations (`unspecified` does not count) and two host kinds (`os/arch`);
//! - **agree, DISSENT**: as agree, but some voter lists another digest: flagged;
//! - **LONE**: one voter alone lists the digest, which is never agreement (even at
//!   `--quorum 1`);
//! - **SHORT**: every voter agrees, but there are fewer than K of them (some reports were
//!   refused a vote);
//! - **missing**: fewer than K agree and some report does not list the artifact;
//! - **differ**: fewer than K agree because digests differ;
//! - **tie**: K voters agree, but another digest has as many (never agreement);
//! - **not diverse**: the quorum agrees but lacks implementations, host kinds or both.
//!
//! A malformed report, a manifest that does not match its report, or the same report given
//! twice is an error: no verdict at all. This module owns the policy; the formats are
//! [`crate::manifest`]'s and [`crate::report`]'s, signatures [`crate::sign`]'s and the log
//! [`crate::tlog`]'s.

pub mod cli;
pub mod result;

use std::collections::{BTreeMap, BTreeSet};

use crate::report::{Loaded, UNSPECIFIED};

/// What agreement requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// How many voters must list the same digest (agreement always needs two).
    pub quorum: usize,
    /// Whether the agreeing voters must span two implementations and two host kinds.
    pub diverse: bool,
}

/// One report's vote: the report, its number in the command line, and who casts it.
#[derive(Clone, Debug)]
pub struct Ballot<'a> {
    /// 0-based position among the reports given.
    pub index: usize,
    /// The report.
    pub report: &'a Loaded,
    /// The voter: a verified signer, or a name for the unsigned report itself.
    pub voter: String,
}

impl<'a> Ballot<'a> {
    /// Ballots for unsigned reports: each report is its own voter.
    pub fn unsigned(reports: &'a [Loaded]) -> Vec<Ballot<'a>> {
        reports
            .iter()
            .enumerate()
            .map(|(index, report)| Ballot {
                index,
                report,
                voter: format!("unsigned report [{}]", index + 1),
            })
            .collect()
    }
}

/// The verdict on one artifact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Enough voters agree, and none dissents.
    Agree,
    /// Enough voters agree, but some voter lists another digest.
    AgreeOverDissent,
    /// Only one voter lists the winning digest: one machine is not agreement.
    Lone,
    /// Every voter agrees, but there are fewer voters than the quorum.
    Short,
    /// Not enough agree, and some report does not list the artifact.
    Missing,
    /// Not enough agree: the digests differ.
    Differ,
    /// Two groups of digests are equally large.
    Tie,
    /// The quorum agrees but is not diverse enough; says which dimension is lacking.
    NotDiverse {
        /// Fewer than two implementations (other than `unspecified`).
        implementations: bool,
        /// Fewer than two host kinds (`os/arch`).
        hosts: bool,
    },
}

impl Verdict {
    /// The word printed in the table.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::AgreeOverDissent => "agree,DISSENT",
            Verdict::Lone => "LONE",
            Verdict::Short => "SHORT",
            Verdict::Missing => "MISSING",
            Verdict::Differ => "DIFFER",
            Verdict::Tie => "TIE",
            Verdict::NotDiverse { .. } => "NOT-DIVERSE",
        }
    }

    /// Whether the artifact counts as agreed (exit status 0).
    pub fn agrees(self) -> bool {
        matches!(self, Verdict::Agree | Verdict::AgreeOverDissent)
    }
}

/// The judgement of one artifact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The artifact's name.
    pub name: Vec<u8>,
    /// The verdict.
    pub verdict: Verdict,
    /// Digests with the report indices listing them, most voters first.
    pub groups: Vec<(String, Vec<usize>)>,
    /// Distinct voters (equivocators excluded) behind the first group.
    pub agreeing: usize,
    /// Distinct voters on this artifact (equivocators excluded).
    pub voters: usize,
    /// Indices of the reports that do not list the artifact.
    pub missing: Vec<usize>,
    /// What a reader must be told about the verdict (a dissent, a lacking dimension, an
    /// equivocating signer), one sentence each.
    pub notes: Vec<String>,
}

/// Judges every artifact named by any of `ballots` under `policy`, in name order.
pub fn judge(ballots: &[Ballot], policy: Policy) -> Vec<Judgement> {
    let names: BTreeSet<&[u8]> = ballots
        .iter()
        .flat_map(|b| b.report.entries.iter().map(|e| e.name.as_slice()))
        .collect();
    names
        .into_iter()
        .map(|name| judge_one(ballots, policy, name))
        .collect()
}

fn judge_one(ballots: &[Ballot], policy: Policy, name: &[u8]) -> Judgement {
    let mut by_digest: BTreeMap<&str, Vec<&Ballot>> = BTreeMap::new();
    let mut missing = Vec::new();
    for b in ballots {
        match b.report.entries.iter().find(|e| e.name == name) {
            Some(e) => by_digest.entry(&e.sha256).or_default().push(b),
            None => missing.push(b.index),
        }
    }
    // A voter behind two digests equivocates: its votes on this artifact are void.
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (d, bs) in &by_digest {
        for b in bs {
            seen.entry(b.voter.as_str()).or_default().insert(d);
        }
    }
    let equivocators: BTreeSet<&str> = seen
        .iter()
        .filter(|(_, ds)| ds.len() > 1)
        .map(|(v, _)| *v)
        .collect();
    let voters_of = |bs: &[&Ballot]| -> BTreeSet<String> {
        bs.iter()
            .filter(|b| !equivocators.contains(b.voter.as_str()))
            .map(|b| b.voter.clone())
            .collect()
    };
    let mut groups: Vec<(String, Vec<&Ballot>, usize)> = by_digest
        .into_iter()
        .map(|(d, bs)| {
            let n = voters_of(&bs).len();
            (d.to_string(), bs, n)
        })
        .collect();
    groups.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
    let top = groups.first().map_or(0, |g| g.2);
    let tie = groups.get(1).is_some_and(|g| g.2 == top);
    let mut notes: Vec<String> = equivocators
        .iter()
        .map(|v| format!("{v} lists two digests: its votes on this artifact are void"))
        .collect();
    let lone = "one voter lists this digest: one report is not agreement of independent machines";
    let verdict = if top < policy.quorum.max(1) {
        if !missing.is_empty() {
            Verdict::Missing
        } else if groups.len() > 1 {
            Verdict::Differ
        } else if top < 2 {
            notes.push(lone.into());
            Verdict::Lone
        } else {
            notes.push(format!(
                "only {top} voters, all agreeing: the quorum of {} is not met",
                policy.quorum
            ));
            Verdict::Short
        }
    } else if tie {
        Verdict::Tie
    } else if top < 2 {
        notes.push(lone.into());
        Verdict::Lone
    } else if let Some(v) = diversity(name, &groups[0].1, &equivocators, policy, &mut notes) {
        v
    } else if groups[1..].iter().any(|g| g.2 > 0) {
        let dissent: Vec<String> = groups[1..]
            .iter()
            .flat_map(|g| g.1.iter().map(|b| format!("[{}]", b.index + 1)))
            .collect();
        notes.push(format!(
            "the quorum is met, but report(s) {} list another digest",
            dissent.join(",")
        ));
        Verdict::AgreeOverDissent
    } else {
        Verdict::Agree
    };
    Judgement {
        name: name.to_vec(),
        verdict,
        agreeing: top,
        voters: groups.iter().map(|g| g.2).sum(),
        groups: groups
            .into_iter()
            .map(|(d, bs, _)| (d, bs.iter().map(|b| b.index).collect()))
            .collect(),
        missing,
        notes,
    }
}

/// `Some(NotDiverse)` when `policy` asks for diversity and the agreeing ballots `members`
/// lack it for artifact `name`, with a note saying what they have.
fn diversity(
    name: &[u8],
    members: &[&Ballot],
    equivocators: &BTreeSet<&str>,
    policy: Policy,
    notes: &mut Vec<String>,
) -> Option<Verdict> {
    if !policy.diverse {
        return None;
    }
    let counted = || {
        members
            .iter()
            .filter(|b| !equivocators.contains(b.voter.as_str()))
    };
    let implementations: BTreeSet<&str> = counted()
        .filter_map(|b| b.report.report.implementation_of(name))
        .filter(|i| *i != UNSPECIFIED)
        .collect();
    let hosts: BTreeSet<String> = counted().map(|b| b.report.report.host_kind()).collect();
    let lacks_implementations = implementations.len() < 2;
    let lacks_hosts = hosts.len() < 2;
    if !lacks_implementations && !lacks_hosts {
        return None;
    }
    let list = |set: Vec<String>| {
        if set.is_empty() {
            "none".to_string()
        } else {
            set.join(", ")
        }
    };
    if lacks_implementations {
        notes.push(format!(
            "not diverse: the agreeing reports name {} implementation(s) ({}; '{UNSPECIFIED}' does not count), two are needed",
            implementations.len(),
            list(implementations.iter().map(|s| s.to_string()).collect())
        ));
    }
    if lacks_hosts {
        notes.push(format!(
            "not diverse: the agreeing reports come from {} host kind(s) ({}), two are needed",
            hosts.len(),
            list(hosts.into_iter().collect())
        ));
    }
    Some(Verdict::NotDiverse {
        implementations: lacks_implementations,
        hosts: lacks_hosts,
    })
}
