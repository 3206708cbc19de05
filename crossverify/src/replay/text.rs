//! The replay report's text, as `--report` writes it: status, script, root, tools, the
//! summary and at-a-glance lines ([`super::glance`]; the page shows the same
//! [`Report::at_a_glance`]), one paragraph per step, the independent checks' sections
//! ([`super::findings`]), the manifest and the answers. This module owns that layout; the
//! data is [`super::record`]'s.

use std::fmt::Write as _;

use super::glance::final_line;
use super::record::{ms, sha256sum_line, Implementation, Report, Status, Verdict};

impl Report {
    /// The final line's text ([`super::glance::final_line`]) with the time the last step
    /// ended, as the report and the page show it.
    pub fn at_a_glance(&self) -> String {
        let elapsed = self.steps.iter().filter_map(|r| r.ended).max();
        final_line(self, elapsed.unwrap_or_default())
    }

    /// The report's full text.
    pub fn render(&self) -> String {
        let mut o = String::new();
        o.push_str("crossverify replay report\n");
        match self.status() {
            Status::Complete => o.push_str("status: complete\n"),
            Status::Failed(why) => {
                let _ = writeln!(o, "status: complete, but FAILED: {why}");
            }
            Status::Incomplete(why) => {
                let _ = writeln!(
                    o,
                    "status: incomplete - the replay stopped before the end; nothing below is a verdict on the whole chain"
                );
                for l in why.lines() {
                    let _ = writeln!(o, "stopped: {l}");
                }
            }
        }
        let _ = writeln!(o, "script: {}", self.script);
        let _ = writeln!(o, "root: {}", self.root.display());
        let _ = writeln!(o, "tools: {}", self.mode);
        if !self.hexroot.is_empty() {
            let _ = writeln!(o, "hexroot: {}", self.hexroot);
        }
        let _ = writeln!(o, "summary: {}", self.summary_line());
        let _ = writeln!(o, "at a glance: {}", self.at_a_glance());
        o.push('\n');
        for r in &self.steps {
            let _ = writeln!(o, "step {}: {}", r.number, r.command);
            let _ = writeln!(o, "  at: {}", r.location);
            let _ = writeln!(
                o,
                "  tool: {}; implementation: {}",
                r.tool.as_deref().unwrap_or("external program"),
                r.implementation.name()
            );
            let mut times = Vec::new();
            if let Some(t) = r.ours_time {
                times.push(format!("ours {:.3} ms", ms(t)));
            }
            if let Some(t) = r.theirs_time {
                times.push(format!(
                    "{} {:.3} ms",
                    if r.implementation == Implementation::External {
                        "process"
                    } else {
                        "theirs"
                    },
                    ms(t)
                ));
            }
            if let Some(p) = &r.program {
                let _ = writeln!(
                    o,
                    "  program: {} (sha256 {} when it ran)",
                    p.path,
                    p.sha256.as_deref().unwrap_or("unreadable")
                );
            }
            if let Some(e) = &r.exec {
                let _ = writeln!(o, "  exec: {e}");
            }
            let _ = writeln!(o, "  wall time: {}", times.join(", "));
            let verdict = match &r.verdict {
                Verdict::Ran => "ok".to_string(),
                Verdict::Agreed => "agreed (every output identical)".to_string(),
                Verdict::Differed(why) => format!("DIFFERED: {why}"),
                Verdict::Failed(s) => format!("failed with exit status {s}"),
            };
            let _ = writeln!(o, "  result: {verdict}");
            if let Some(t) = r.ended {
                let _ = writeln!(o, "  ended: {:.3} s after the start", t.as_secs_f64());
            }
            self.independent
                .render_step(r.number, r.machines_agreed(), &mut o);
            for (label, files) in [("in ", &r.inputs), ("out", &r.outputs)] {
                for f in files {
                    let _ = writeln!(
                        o,
                        "  {label} {}  {}",
                        f.sha256.as_deref().unwrap_or("(missing)"),
                        f.path
                    );
                }
            }
            for (k, (n, t)) in &r.spawned {
                let _ = writeln!(o, "  spawned through PATH: {k} x{n}, ours {:.3} ms", ms(*t));
            }
            if !r.output.is_empty() {
                let _ = writeln!(o, "  output ({} lines):", r.output.lines().count());
                for l in r.output.lines() {
                    let _ = writeln!(o, "  | {l}");
                }
            }
        }
        self.independent
            .render_sections(&mut o, &|n| self.machines_agreed(n));
        o.push_str("\nmanifest (sha256sum format, paths relative to the root):\n");
        for (path, hash) in &self.manifest {
            match hash {
                Some(h) => o.push_str(&sha256sum_line(h, path)),
                None => {
                    let _ = writeln!(o, "# {path}: no longer exists");
                }
            }
        }
        if let Some(a) = &self.answers {
            let _ = writeln!(
                o,
                "\nanswers: {}: {} matched, {} did not",
                a.file,
                a.matched,
                a.mismatched.len()
            );
            for (p, want, got) in &a.mismatched {
                let _ = writeln!(
                    o,
                    "  MISMATCH {p}: expected {want}, found {}",
                    got.as_deref().unwrap_or("no such file")
                );
            }
        }
        o
    }
}
