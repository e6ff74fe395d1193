//! Deadlines, derived from the state rather than stored as a timer list, so
//! a cancelled activity can never leave a stray timer behind.

use super::errors;
use super::session::CLOSE_UNRESPONSIVE;
use super::state::{Failure, Link, PendingPing, Phase, Polls, Probe, Silence};
use super::time::At;
use super::{Action, Input, Session, SessionEvent};
use crate::{ClientMessage, JobState};

/// Every kind of deadline the session can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// The socket has not opened and delivered its snapshot in time.
    Connect,
    /// The socket delivered and stayed up long enough to reset the failure count.
    Stable,
    /// Time to send a heartbeat ping.
    Ping,
    /// Nothing arrived since a ping went out.
    Silent,
    /// Updates stopped at their usual rhythm: ping early.
    Stall,
    /// End of a backoff wait.
    Retry,
    /// Time for the next HTTP poll.
    Poll,
    /// Time to try the socket again while polling.
    Probe,
    /// Time for the next poll while a lost socket is replaced.
    BridgePoll,
    /// The HTTP poll in flight took too long.
    FetchTimeout,
    /// The token provider did not answer.
    Token,
}

/// Bound on timers handled in one call. Every handler moves its own
/// deadline past `now`, so this only guards against a zero interval.
const MAX_TIMERS_PER_CALL: usize = 64;

impl Session {
    /// The earliest deadline and its kind.
    pub(super) fn next_timer(&self) -> Option<(At, Timer)> {
        self.next_timer_except(&[])
    }

    fn next_timer_except(&self, skip: &[Timer]) -> Option<(At, Timer)> {
        self.deadlines()
            .into_iter()
            .filter(|(_, timer)| !skip.contains(timer))
            .filter_map(|(at, timer)| at.map(|at| (at, timer)))
            .min_by_key(|(at, _)| *at)
    }

    fn deadlines(&self) -> [(Option<At>, Timer); 11] {
        let o = &self.config.options;
        let socket = self.phase.socket();
        // Retries, polls and probes wait for the network to come back; the
        // liveness timers of a socket already open keep running.
        let paused = self.conditions.offline();
        let due = |polls: Option<&Polls>| match polls {
            Some(Polls::Due(at)) if !paused => Some(*at),
            _ => None,
        };
        let (retry, poll, probe, bridge, token) = match &self.phase {
            Phase::Live { bridge, .. } => (None, None, None, due(bridge.as_ref()), None),
            Phase::Backoff { retry_at, bridge } => (
                Some(*retry_at).filter(|_| !paused),
                None,
                None,
                due(bridge.as_ref()),
                None,
            ),
            Phase::Polling { polls, probe } => {
                let probe = match probe {
                    Probe::Next(at) if !paused => *at,
                    _ => None,
                };
                (None, due(Some(polls)), probe, None, None)
            }
            Phase::AwaitingToken { deadline, .. } => (None, None, None, None, Some(*deadline)),
            _ => (None, None, None, None, None),
        };
        [
            (
                socket
                    .filter(|s| !s.link.is_proven())
                    .map(|s| s.started_at.after(o.connect_timeout_ms)),
                Timer::Connect,
            ),
            (
                socket.and_then(|s| match s.link {
                    Link::Proven { opened_at } => Some(opened_at.after(o.stable_after_ms)),
                    _ => None,
                }),
                Timer::Stable,
            ),
            (socket.and_then(|s| s.next_ping_at), Timer::Ping),
            (
                socket.and_then(|s| s.silence).map(|s| s.dead_at),
                Timer::Silent,
            ),
            (self.stall_deadline(), Timer::Stall),
            (retry, Timer::Retry),
            (poll, Timer::Poll),
            (probe, Timer::Probe),
            (bridge, Timer::BridgePoll),
            (
                self.phase
                    .fetch()
                    .map(|f| f.sent_at.after(o.poll_timeout_ms)),
                Timer::FetchTimeout,
            ),
            (token, Timer::Token),
        ]
    }

    /// When silence on a delivering socket becomes suspicious: only while
    /// the job runs and updates have a rhythm, and not while a ping is out.
    fn stall_deadline(&self) -> Option<At> {
        let running = self
            .progress
            .as_ref()
            .is_some_and(|p| p.state == JobState::Running);
        let slot = self.phase.socket()?;
        if !running || !slot.link.is_proven() || slot.silence.is_some() {
            return None;
        }
        slot.rhythm?
            .stall_at(&self.config.options, self.last_heard_at())
    }

    /// Fires every due timer, earliest first, so a late call catches up in order.
    pub(super) fn run_due_timers(&mut self, now: At) {
        self.run_due_timers_except(now, &[]);
    }

    fn run_due_timers_except(&mut self, now: At, skip: &[Timer]) {
        for _ in 0..MAX_TIMERS_PER_CALL {
            match self.next_timer_except(skip) {
                Some((at, timer)) if at <= now => self.fire(timer, now),
                _ => return,
            }
        }
    }

    /// Settles the deadlines that passed before `input` arrived. A deadline
    /// the input itself answers is left alone: a frame of the current socket
    /// that was queued in a throttled tab proves the socket alive, its close
    /// or error decides its fate on its own, and a late poll answer or
    /// token is still an answer.
    pub(super) fn settle_before(&mut self, input: &Input, now: At) {
        let skip: &[Timer] = match input {
            Input::SocketOpened { attempt }
            | Input::SocketFrame { attempt, .. }
            | Input::SocketBinary { attempt }
                if self.is_current(*attempt) =>
            {
                &[Timer::Connect, Timer::Silent, Timer::Stall]
            }
            #[cfg(feature = "json")]
            Input::SocketMessage { attempt, .. } if self.is_current(*attempt) => {
                &[Timer::Connect, Timer::Silent, Timer::Stall]
            }
            // The socket is already gone: nothing may be sent on it.
            Input::SocketOpenFailed { attempt, .. }
            | Input::SocketClosed { attempt, .. }
            | Input::SocketError { attempt }
                if self.is_current(*attempt) =>
            {
                &[Timer::Connect, Timer::Silent, Timer::Stall, Timer::Ping]
            }
            Input::PollFinished { request, .. }
                if self.phase.fetch().is_some_and(|f| f.request == *request) =>
            {
                &[Timer::FetchTimeout]
            }
            Input::TokenReady { .. } => &[Timer::Token],
            // Everything is about to close: opening anything first would be waste.
            Input::Stop | Input::PageHide => return,
            _ => &[],
        };
        self.run_due_timers_except(now, skip);
    }

    fn fire(&mut self, timer: Timer, now: At) {
        match timer {
            Timer::Connect => {
                self.close_socket(CLOSE_UNRESPONSIVE, "connect timeout", now);
                self.event(SessionEvent::ConnectTimeout);
                self.after_socket_failure(Failure::Transient(errors::connect_timeout()), now);
            }
            Timer::Stable => {
                if let Some(slot) = self.phase.socket_mut() {
                    if let Link::Proven { opened_at } = slot.link {
                        slot.link = Link::Stable { opened_at };
                    }
                }
                self.conditions.streak.failures = 0;
            }
            Timer::Ping => self.send_ping(now, false),
            Timer::Silent => {
                self.close_socket(CLOSE_UNRESPONSIVE, "heartbeat timeout", now);
                self.event(SessionEvent::HeartbeatTimeout);
                self.after_socket_failure(Failure::Transient(errors::heartbeat_timeout()), now);
            }
            Timer::Stall => {
                let heard = self.last_heard_at().unwrap_or(now);
                let silent_ms = now.since(heard);
                self.event(SessionEvent::StallSuspected { silent_ms });
                self.send_ping(now, true);
            }
            Timer::Retry => self.enter_live(now),
            Timer::Poll | Timer::BridgePoll => self.start_poll(now),
            Timer::Probe => self.start_probe(now),
            Timer::FetchTimeout => {
                self.abandon_fetch(now);
                self.after_poll_failure(errors::network(), now);
            }
            Timer::Token => self.stop_with(errors::token_unavailable()),
        }
    }

    /// Sends a ping. A heartbeat ping waits `pong_timeout_ms` for any frame;
    /// an early one (a suspected stall) waits `stall_pong_timeout_ms` and
    /// shows "checking connection" meanwhile.
    pub(super) fn send_ping(&mut self, now: At, early: bool) {
        let o = &self.config.options;
        let interval = o.heartbeat_interval_ms.max(1);
        let timeout = if early {
            o.stall_pong_timeout_ms
        } else {
            o.pong_timeout_ms
        };
        let Some(slot) = self.phase.socket_mut() else {
            return;
        };
        let id = self.ids.ping();
        if !early {
            slot.next_ping_at = Some(now.after(interval));
        }
        // An earlier unanswered ping keeps its (earlier) deadline: a socket
        // must not stay "alive" just because pings keep being sent.
        let deadline = now.after(timeout);
        slot.silence = Some(match slot.silence {
            Some(s) => Silence {
                dead_at: s.dead_at.min(deadline),
                checking: s.checking || early,
                proof_ping: s.proof_ping,
            },
            None => Silence {
                dead_at: deadline,
                checking: early,
                proof_ping: None,
            },
        });
        slot.ping = Some(PendingPing { id, sent_at: now });
        let attempt = slot.attempt;
        let text = ClientMessage::Ping { id }.to_json();
        self.push(Action::Send { attempt, text });
    }
}
