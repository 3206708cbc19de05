//! One updating progress line on stderr, with elapsed time and an estimate of what is left.
//!
//! It owns the line's drawing: a background thread redraws `\r{line}\x1b[K` once a second
//! so a long step still shows its time going by, and the line is cleared when the work
//! ends. It decides nothing about *whether* progress is shown (the tool does: only when
//! standard output and standard error are terminals and `--quiet` was not given) and
//! nothing about what counts as done; the caller says how far it is and, when it knows
//! better than a proportional guess, when it expects to finish.

use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Where the work stands, as the caller last said.
#[derive(Clone, Debug, Default)]
struct State {
    done: usize,
    total: usize,
    current: String,
    current_since: Option<Instant>,
    finish: Option<Instant>,
}

enum Message {
    Update(State),
    Clear,
}

/// A progress line that redraws itself until [`Progress::finish`] or drop.
pub struct Progress {
    sender: Option<Sender<Message>>,
    thread: Option<JoinHandle<()>>,
    started: Instant,
}

impl Progress {
    /// Starts a progress line labelled `label` (`replay`); when `shown` is false every
    /// call is a no-op and nothing is drawn.
    pub fn start(label: &str, shown: bool) -> Progress {
        let started = Instant::now();
        if !shown {
            return Progress {
                sender: None,
                thread: None,
                started,
            };
        }
        let (sender, receiver) = mpsc::channel::<Message>();
        let label = label.to_string();
        let width = terminal_width();
        let thread = std::thread::spawn(move || {
            let mut state = State::default();
            let mut drawn = false;
            loop {
                match receiver.recv_timeout(Duration::from_secs(1)) {
                    Ok(Message::Update(s)) => state = s,
                    Ok(Message::Clear) | Err(RecvTimeoutError::Disconnected) => break,
                    Err(RecvTimeoutError::Timeout) => {}
                }
                let line = render(&label, &state, started, Instant::now(), width);
                let _ = write!(std::io::stderr(), "\r{line}\x1b[K");
                drawn = true;
            }
            if drawn {
                let _ = write!(std::io::stderr(), "\r\x1b[K");
            }
        });
        Progress {
            sender: Some(sender),
            thread: Some(thread),
            started,
        }
    }

    /// Whether the line is drawn at all.
    pub fn shown(&self) -> bool {
        self.sender.is_some()
    }

    /// When the work started.
    pub fn started(&self) -> Instant {
        self.started
    }

    /// `done` of about `total` units are finished and `current` is under way (since now);
    /// `finish`, when known, is when the whole work is expected to end.
    pub fn update(&self, done: usize, total: usize, current: &str, finish: Option<Instant>) {
        if let Some(s) = &self.sender {
            let _ = s.send(Message::Update(State {
                done,
                total: total.max(done),
                current: current.to_string(),
                current_since: Some(Instant::now()),
                finish,
            }));
        }
    }

    /// Clears the line and stops redrawing it.
    pub fn finish(&mut self) {
        if let Some(s) = self.sender.take() {
            let _ = s.send(Message::Clear);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The terminal's width from `COLUMNS`, else 100.
fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .filter(|&w: &usize| w >= 20)
        .unwrap_or(100)
}

/// `M:SS`, or `H:MM:SS` from an hour on.
pub fn clock(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

/// When work that started at `started` and has `done` of `total` units finished at `now`
/// will end, going on at the same average speed; `None` before the first unit.
pub fn estimate_finish(
    started: Instant,
    now: Instant,
    done: usize,
    total: usize,
) -> Option<Instant> {
    if done == 0 || total < done {
        return None;
    }
    let per_unit = now.duration_since(started).as_secs_f64() / done as f64;
    Some(now + Duration::from_secs_f64(per_unit * (total - done) as f64))
}

/// The line for `state` at `now` of work that began at `started`, cut to `width`
/// characters: `replay: 12/74 0:31, about 0:45 left | step 13: M2 [external] (0:05)`.
fn render(label: &str, state: &State, started: Instant, now: Instant, width: usize) -> String {
    let elapsed = now.duration_since(started);
    let mut line = format!("{label}: {}/{} {}", state.done, state.total, clock(elapsed));
    let finish = state
        .finish
        .or_else(|| estimate_finish(started, now, state.done, state.total));
    if let Some(f) = finish {
        let left = f.saturating_duration_since(now);
        line.push_str(&format!(", about {} left", clock(left)));
    }
    if !state.current.is_empty() {
        line.push_str(" | ");
        line.push_str(&state.current);
        if let Some(since) = state.current_since {
            line.push_str(&format!(" ({})", clock(now.duration_since(since))));
        }
    }
    if line.chars().count() > width.saturating_sub(1) {
        line = line.chars().take(width.saturating_sub(2)).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_reads_like_a_stopwatch() {
        assert_eq!(clock(Duration::from_secs(5)), "0:05");
        assert_eq!(clock(Duration::from_secs(125)), "2:05");
        assert_eq!(clock(Duration::from_secs(3725)), "1:02:05");
    }

    #[test]
    fn proportional_estimate() {
        let t0 = Instant::now();
        let now = t0 + Duration::from_secs(10);
        assert_eq!(estimate_finish(t0, now, 0, 10), None);
        let f = estimate_finish(t0, now, 5, 10).unwrap();
        assert_eq!(f.duration_since(now), Duration::from_secs(10));
        assert_eq!(estimate_finish(t0, now, 10, 10), Some(now));
    }

    #[test]
    fn line_has_counts_time_estimate_and_current_step() {
        let now = Instant::now() + Duration::from_secs(100);
        let state = State {
            done: 12,
            total: 74,
            current: "step 13: M2 [external]".into(),
            current_since: Some(now - Duration::from_secs(5)),
            finish: Some(now + Duration::from_secs(45)),
        };
        let started = now - Duration::from_secs(31);
        let line = render("replay", &state, started, now, 200);
        assert_eq!(
            line,
            "replay: 12/74 0:31, about 0:45 left | step 13: M2 [external] (0:05)"
        );
        let short = render("replay", &state, started, now, 30);
        assert_eq!(short.chars().count(), 29);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn hidden_progress_draws_nothing() {
        let mut p = Progress::start("x", false);
        assert!(!p.shown());
        p.update(1, 2, "y", None);
        p.finish();
    }
}
