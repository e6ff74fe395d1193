//! Deadlines, derived from the state (as in the one-job session), so a
//! closed stream or a job that left can never leave a stray timer behind.

use super::io::{ConnId, PageInput};
use super::state::{Phase, Probe, Stream};
use super::streams::Loss;
use super::PageConnection;
use crate::session::errors;
use crate::session::state::{Link, Polls};
use crate::session::time::At;
use crate::ProcessId;

/// Every kind of deadline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Timer {
    /// A stream not open and delivering in time (`probe`: it is the probe).
    Connect { conn: ConnId, probe: bool },
    /// The transport stayed up long enough to reset the rung's count.
    Stable,
    /// A heartbeat is due on a stream.
    Ping { conn: ConnId },
    /// Nothing arrived since the heartbeat point.
    Silent { conn: ConnId, probe: bool },
    /// Frames stopped at their usual rhythm: check early.
    Stall { conn: ConnId },
    /// End of a backoff wait.
    Retry,
    /// The next set poll.
    Poll,
    /// The set poll in flight took too long.
    PollTimeout,
    /// Probe the rung above.
    Probe,
    /// Reopen an SSE stream with the changed set.
    Resync,
    /// Subscribe again to a job the server did not know yet.
    Resubscribe(ProcessId),
    /// A job's token provider did not answer.
    Token(ProcessId),
}

/// Which deadlines an input answers by itself (they are not settled first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Skip {
    /// Liveness deadlines of one stream: its own event decides.
    Stream(ConnId),
    /// The poll timeout: its answer arrived.
    PollTimeout,
    /// A job's token deadline: its answer arrived.
    Token,
}

/// Bound on timers handled in one call; every handler moves its own
/// deadline past `now`, so this only guards against a zero interval.
const MAX_TIMERS_PER_CALL: usize = 256;

impl Timer {
    fn skipped(&self, skip: &[Skip]) -> bool {
        skip.iter().any(|s| match (s, self) {
            (
                Skip::Stream(c),
                Self::Connect { conn, .. }
                | Self::Silent { conn, .. }
                | Self::Stall { conn }
                | Self::Ping { conn },
            ) => c == conn,
            (Skip::PollTimeout, Self::PollTimeout) => true,
            (Skip::Token, Self::Token(_)) => true,
            _ => false,
        })
    }
}

impl PageConnection {
    pub(super) fn next_timer(&self, skip: &[Skip]) -> Option<(At, Timer)> {
        self.deadlines()
            .into_iter()
            .filter(|(_, t)| !t.skipped(skip))
            .min_by_key(|(at, _)| *at)
    }

    fn deadlines(&self) -> Vec<(At, Timer)> {
        let o = &self.options;
        let paused = self.offline();
        let mut out = Vec::new();
        if let Some(s) = self.phase.stream() {
            self.stream_deadlines(s, false, &mut out);
            if let Link::Proven { opened_at } = s.link {
                out.push((opened_at.after(o.stable_after_ms), Timer::Stable));
            }
        }
        if let Some(p) = self.phase.probe() {
            self.stream_deadlines(p, true, &mut out);
        }
        if !paused {
            match &self.phase {
                Phase::Backoff { retry_at, .. } => {
                    let at = self.not_before.map_or(*retry_at, |nb| nb.max(*retry_at));
                    out.push((at, Timer::Retry));
                }
                Phase::Streaming {
                    probe: Probe::Next(Some(at)),
                    ..
                }
                | Phase::Polling {
                    probe: Probe::Next(Some(at)),
                    ..
                } => out.push((*at, Timer::Probe)),
                _ => {}
            }
            if let Some(Polls::Due(at)) = self.phase.polls() {
                out.push((*at, Timer::Poll));
            }
        }
        if let Some(Polls::InFlight(f)) = self.phase.polls() {
            out.push((f.sent_at.after(o.poll_timeout_ms), Timer::PollTimeout));
        }
        if let Some(at) = self.resync_at {
            out.push((at, Timer::Resync));
        }
        let live = !matches!(
            self.phase,
            Phase::Idle | Phase::Paused | Phase::Halted | Phase::Stopped
        );
        for (id, job) in self.jobs.iter() {
            if let Some(at) = job.token_due {
                out.push((at, Timer::Token(id.clone())));
            }
            if let Some(at) = job.resubscribe_at.filter(|_| live) {
                out.push((at, Timer::Resubscribe(id.clone())));
            }
        }
        out
    }

    fn stream_deadlines(&self, s: &Stream, probe: bool, out: &mut Vec<(At, Timer)>) {
        let o = &self.options;
        let conn = s.conn;
        if !s.link.is_proven() {
            out.push((
                s.started_at.after(o.connect_timeout_ms),
                Timer::Connect { conn, probe },
            ));
        }
        if let Some(at) = s.next_ping_at {
            out.push((at, Timer::Ping { conn }));
        }
        if let Some(silence) = s.silence {
            out.push((silence.dead_at, Timer::Silent { conn, probe }));
        }
        // Stall checks: only while a job runs, frames have a rhythm, and
        // no heartbeat is out.
        if !probe && s.link.is_proven() && s.silence.is_none() && self.jobs.any_running() {
            if let Some(at) = s.rhythm.and_then(|r| r.stall_at(o, self.last_heard)) {
                out.push((at, Timer::Stall { conn }));
            }
        }
    }

    /// Settles the deadlines that passed before `input`, except those the
    /// input itself answers.
    pub(super) fn settle_before(&mut self, input: &PageInput, now: At) {
        let skip = match input {
            PageInput::Opened { conn }
            | PageInput::Frame { conn, .. }
            | PageInput::JobError { conn, .. }
            | PageInput::Heard { conn }
            | PageInput::Closed { conn, .. } => vec![Skip::Stream(*conn)],
            PageInput::PollFinished { .. } => vec![Skip::PollTimeout],
            PageInput::TokenReady { .. } | PageInput::NoTokenSource { .. } => vec![Skip::Token],
            PageInput::Stop | PageInput::PageHide => return,
            _ => Vec::new(),
        };
        self.run_due_timers(now, &skip);
    }

    pub(super) fn run_due_timers(&mut self, now: At, skip: &[Skip]) {
        for _ in 0..MAX_TIMERS_PER_CALL {
            match self.next_timer(skip) {
                Some((at, timer)) if at <= now => self.fire(timer, now),
                _ => return,
            }
        }
    }

    fn fire(&mut self, timer: Timer, now: At) {
        match timer {
            Timer::Connect { conn, probe } | Timer::Silent { conn, probe } => {
                let reason = if matches!(timer, Timer::Connect { .. }) {
                    "connect timeout"
                } else {
                    "heartbeat timeout"
                };
                self.push(super::io::PageAction::Close { conn, reason });
                if probe {
                    self.probe_lost(Loss::Failure, now);
                } else {
                    self.stream_lost(Loss::Failure, now);
                }
            }
            Timer::Stable => {
                if let Phase::Streaming { stream, .. } = &mut self.phase {
                    if let Link::Proven { opened_at } = stream.link {
                        stream.link = Link::Stable { opened_at };
                    }
                }
                self.ladder.failures = 0;
            }
            Timer::Ping { conn } => self.heartbeat(conn, now, false),
            Timer::Stall { conn } => self.heartbeat(conn, now, true),
            Timer::Retry => self.retry(now),
            Timer::Poll => self.start_poll(now),
            Timer::PollTimeout => self.poll_timed_out(now),
            Timer::Probe => self.start_probe(now),
            Timer::Resync => self.resync(now),
            Timer::Resubscribe(job) => {
                if let Some(j) = self.jobs.get_mut(&job) {
                    j.resubscribe_at = None;
                }
                self.send_subscription(&job, now);
            }
            Timer::Token(job) => self.fail_job(&job, errors::token_unavailable(), now),
        }
    }
}
