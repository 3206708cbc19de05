//! What a finished `compare` run found, below its printers: each report's [`Standing`]
//! (signer, log entry, why it may not vote) and the [`Comparison`] the table, the JSON
//! document and the HTML page are all made from ([`crate::export::compare`] writes the
//! last two). This module owns those data types and the report numbering they show; the
//! command line that builds them is [`super::cli`]'s.

use super::Judgement;
use crate::report::Loaded;
use crate::tlog::checkpoint::Checkpoint;

/// What the checks found about one report: its signer, its log entry, and why it may not
/// vote.
#[derive(Clone, Debug, Default)]
pub struct Standing {
    /// The allowed principal whose signature it carries.
    pub signer: Option<String>,
    /// Its log entry's index and the verified checkpoint of its proof.
    pub logged: Option<(u64, Checkpoint)>,
    /// The trusted witnesses that cosigned that checkpoint.
    pub cosigned: Vec<String>,
    /// Why it may not vote (empty: it votes).
    pub refusals: Vec<String>,
}

impl Standing {
    /// What the reports list says after the report: `signed by ...; NO VOTE: ...`.
    pub fn facts(&self) -> Vec<String> {
        let mut facts = Vec::new();
        if let Some(who) = &self.signer {
            facts.push(format!("signed by {who}"));
        }
        if let Some((index, cp)) = &self.logged {
            facts.push(format!("log entry {index} of {} ({})", cp.size, cp.origin));
        }
        if !self.cosigned.is_empty() {
            facts.push(format!("cosigned by {}", self.cosigned.join(", ")));
        }
        if !self.refusals.is_empty() {
            facts.push(format!("NO VOTE: {}", self.refusals.join("; ")));
        }
        facts
    }
}

/// A finished comparison: everything the table, the JSON document and the page show.
pub struct Comparison<'a> {
    /// The reports, in command-line order.
    pub reports: &'a [Loaded],
    /// What the checks found about each report, in the same order.
    pub standings: &'a [Standing],
    /// The verdict on every artifact, in name order.
    pub judgements: &'a [Judgement],
    /// The quorum in force.
    pub quorum: usize,
    /// How many distinct voters there were.
    pub voters: usize,
    /// `--diverse`.
    pub diverse: bool,
    /// Whether signatures were checked (`--allowed-signers`): voters are signers.
    pub signed: bool,
    /// `--require-log`.
    pub logged: bool,
    /// Whether witness cosignatures were required.
    pub witnessed: bool,
}

impl Comparison<'_> {
    /// How many artifacts agree.
    pub fn agreed(&self) -> usize {
        self.judgements
            .iter()
            .filter(|j| j.verdict.agrees())
            .count()
    }

    /// Whether the run passes: some artifact, and every one agrees.
    pub fn passes(&self) -> bool {
        !self.judgements.is_empty() && self.agreed() == self.judgements.len()
    }

    /// The closing sentence: `2 of 3 artifacts agree (quorum 2 of 3 voting reports)`.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} artifacts agree (quorum {} of {} voting {}{}{}{})",
            self.agreed(),
            self.judgements.len(),
            self.quorum,
            self.voters,
            if self.signed { "signers" } else { "reports" },
            if self.diverse { ", diverse" } else { "" },
            if self.logged { ", logged" } else { "" },
            if self.witnessed { ", witnessed" } else { "" },
        )
    }
}

/// 0-based report indices as the 1-based list the table shows: `1,2`.
pub fn numbers(indices: &[usize]) -> String {
    let m: Vec<String> = indices.iter().map(|i| (i + 1).to_string()).collect();
    m.join(",")
}
