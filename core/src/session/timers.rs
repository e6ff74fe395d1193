//! Deadlines, derived from the state rather than stored as a timer list, so
//! a cancelled activity can never leave a stray timer behind.

use super::errors;
use super::session::CLOSE_UNRESPONSIVE;
use super::state::{Failure, PendingPing, Phase};
use super::{Action, Millis, Session};
use crate::ClientMessage;

/// Every kind of deadline the session can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Timer {
    /// The socket has not opened and delivered its snapshot in time.
    Connect,
    /// The socket stayed up long enough to reset the failure count.
    Stable,
    /// Time to send a heartbeat ping.
    Ping,
    /// The last ping went unanswered (and nothing else arrived).
    Pong,
    /// End of a backoff wait.
    Retry,
    /// Time for the next HTTP poll.
    Poll,
    /// Time to try the socket again while polling.
    Probe,
    /// The HTTP poll in flight took too long.
    FetchTimeout,
    /// The token provider did not answer.
    Token,
}

/// Bound on timers handled in one `handle_timeout` call. Every handler moves
/// its own deadline past `now`, so this only guards against a zero interval.
const MAX_TIMERS_PER_CALL: usize = 64;

impl Session {
    /// The earliest deadline and its kind.
    pub(super) fn next_timer(&self) -> Option<(Millis, Timer)> {
        self.deadlines()
            .into_iter()
            .filter_map(|(at, timer)| at.map(|at| (at, timer)))
            .min_by_key(|(at, _)| *at)
    }

    fn deadlines(&self) -> [(Option<Millis>, Timer); 9] {
        let o = &self.config.options;
        let socket = self.socket.as_ref();
        // Retries, polls and probes wait for the network to come back; the
        // liveness timers of a socket already open keep running.
        let paused = self.offline;
        let (retry, poll, probe, token) = match &self.phase {
            Phase::Backoff { retry_at } if !paused => (Some(*retry_at), None, None, None),
            Phase::Polling {
                next_poll_at,
                next_probe_at,
            } if !paused => (
                None,
                next_poll_at.filter(|_| self.fetch.is_none()),
                next_probe_at.filter(|_| socket.is_none()),
                None,
            ),
            Phase::AwaitingToken { deadline, .. } => (None, None, None, Some(*deadline)),
            _ => (None, None, None, None),
        };
        [
            (
                socket
                    .filter(|s| !s.snapshot_seen)
                    .map(|s| s.started_at.saturating_add(o.connect_timeout_ms)),
                Timer::Connect,
            ),
            (
                socket
                    .filter(|s| !s.stable)
                    .and_then(|s| s.opened_at)
                    .map(|t| t.saturating_add(o.stable_after_ms)),
                Timer::Stable,
            ),
            (socket.and_then(|s| s.next_ping_at), Timer::Ping),
            (socket.and_then(|s| s.ping).map(|p| p.deadline), Timer::Pong),
            (retry, Timer::Retry),
            (poll, Timer::Poll),
            (probe, Timer::Probe),
            (
                self.fetch
                    .map(|f| f.sent_at.saturating_add(o.poll_timeout_ms)),
                Timer::FetchTimeout,
            ),
            (token, Timer::Token),
        ]
    }

    /// Fires every due timer, earliest first, so a late call catches up in order.
    pub(super) fn run_due_timers(&mut self, now: Millis) {
        for _ in 0..MAX_TIMERS_PER_CALL {
            match self.next_timer() {
                Some((at, timer)) if at <= now => self.fire(timer, now),
                _ => return,
            }
        }
    }

    fn fire(&mut self, timer: Timer, now: Millis) {
        match timer {
            Timer::Connect => {
                self.close_socket(CLOSE_UNRESPONSIVE, "connect timeout");
                self.after_socket_failure(Failure::Transient(errors::connect_timeout()), now);
            }
            Timer::Stable => {
                if let Some(slot) = &mut self.socket {
                    slot.stable = true;
                }
                self.failures = 0;
            }
            Timer::Ping => self.send_ping(now),
            Timer::Pong => {
                self.close_socket(CLOSE_UNRESPONSIVE, "heartbeat timeout");
                self.after_socket_failure(Failure::Transient(errors::heartbeat_timeout()), now);
            }
            Timer::Retry => self.enter_live(now),
            Timer::Poll => self.start_poll(now),
            Timer::Probe => self.start_probe(now),
            Timer::FetchTimeout => {
                self.cancel_fetch();
                self.after_poll_failure(errors::network(), now);
            }
            Timer::Token => self.stop_with(errors::token_unavailable()),
        }
    }

    fn send_ping(&mut self, now: Millis) {
        let interval = self.config.options.heartbeat_interval_ms.max(1);
        let pong_timeout = self.config.options.pong_timeout_ms;
        let id = self.next_ping;
        let Some(slot) = &mut self.socket else {
            return;
        };
        self.next_ping += 1;
        slot.next_ping_at = Some(now.saturating_add(interval));
        // An earlier unanswered ping keeps its deadline: a socket must not
        // stay "alive" just because pings keep being sent.
        let deadline = slot
            .ping
            .map_or(now.saturating_add(pong_timeout), |p| p.deadline);
        slot.ping = Some(PendingPing {
            id,
            sent_at: now,
            deadline,
        });
        let attempt = slot.attempt;
        // Serialising a one-field enum cannot fail; skipping the send would
        // still let the pong deadline catch a dead socket.
        if let Ok(text) = serde_json::to_string(&ClientMessage::Ping { id }) {
            self.push(Action::Send { attempt, text });
        }
    }
}
