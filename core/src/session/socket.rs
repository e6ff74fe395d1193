//! Socket events, and what a lost socket leads to.

use super::errors;
use super::session::CLOSE_UNRESPONSIVE;
use super::state::{Failure, Link, Phase, Probe, Resume, Rhythm};
use super::time::At;
use super::{AttemptId, Session, SessionEvent};
use crate::{CloseClass, JobState, ServerMessage};

impl Session {
    /// True when `attempt` is the socket held now; anything else is stale.
    pub(super) fn is_current(&self, attempt: AttemptId) -> bool {
        self.phase.socket().is_some_and(|s| s.attempt == attempt)
    }

    pub(super) fn on_socket_opened(&mut self, attempt: AttemptId, now: At) {
        if !self.is_current(attempt) {
            return;
        }
        let heartbeat = self.config.options.heartbeat_interval_ms.max(1);
        if let Some(slot) = self.phase.socket_mut() {
            if slot.link == Link::Opening {
                slot.link = Link::Open { opened_at: now };
                slot.next_ping_at = Some(now.after(heartbeat));
            }
        }
        self.note_heard(now);
    }

    /// Any frame proves the connection alive, not only a pong: a busy
    /// server's progress frames are as good as an answer.
    fn heard_on_socket(&mut self, now: At) {
        self.note_heard(now);
        if let Some(slot) = self.phase.socket_mut() {
            slot.silence = None;
        }
    }

    pub(super) fn on_socket_binary(&mut self, attempt: AttemptId, now: At) {
        if self.is_current(attempt) && self.proves_alive(None) {
            self.heard_on_socket(now);
        }
    }

    #[cfg(feature = "json")]
    pub(super) fn on_socket_message(&mut self, attempt: AttemptId, text: &str, now: At) {
        let message = serde_json::from_str::<ServerMessage>(text).ok();
        self.on_socket_frame(attempt, message, now);
    }

    pub(super) fn on_socket_frame(
        &mut self,
        attempt: AttemptId,
        message: Option<ServerMessage>,
        now: At,
    ) {
        if !self.is_current(attempt) {
            return;
        }
        // After a wake, frames that waited in the browser's queue are data,
        // not a sign of life (see `wake.rs`).
        if self.proves_alive(message.as_ref()) {
            self.heard_on_socket(now);
        }
        // Unreadable frames are ignored: one bad frame is no reason to drop
        // a working connection, and the heartbeat still judges liveness.
        let Some(message) = message else {
            return;
        };
        match message {
            ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => {
                self.on_socket_progress(progress, now)
            }
            ServerMessage::Pong { id, .. } => {
                // Only the pong of the ping out measures the round trip.
                let answered = self
                    .phase
                    .socket_mut()
                    .and_then(|slot| slot.ping.take_if(|p| p.id == id));
                if let Some(ping) = answered {
                    self.note_latency(now.since(ping.sent_at));
                }
            }
            ServerMessage::ServerShutdown { retry_after_ms } => {
                let o = &self.config.options;
                // Bound the server's hint so a bogus value cannot park the client forever.
                let hint = retry_after_ms.min(o.max_retry_ms.max(o.server_full_retry_ms));
                if let Some(slot) = self.phase.socket_mut() {
                    slot.restart_hint = Some(hint);
                }
                self.event(SessionEvent::DrainHint {
                    retry_after_ms: hint,
                });
            }
            ServerMessage::Error { code, message } => {
                self.note_error(errors::from_server_frame(&code, &message));
            }
        }
    }

    fn on_socket_progress(&mut self, progress: crate::Progress, now: At) {
        let was_running = self
            .progress
            .as_ref()
            .is_some_and(|p| p.state == JobState::Running);
        let heartbeat = self.config.options.heartbeat_interval_ms.max(1);
        let mut proven_now = None;
        if let Some(slot) = self.phase.socket_mut() {
            let opened_at = match slot.link {
                Link::Opening => {
                    // A frame before the open event: the socket is open anyway.
                    slot.next_ping_at = Some(now.after(heartbeat));
                    Some(now)
                }
                Link::Open { opened_at } => Some(opened_at),
                Link::Proven { .. } | Link::Stable { .. } => None,
            };
            if let Some(opened_at) = opened_at {
                slot.link = Link::Proven { opened_at };
                proven_now = Some(slot.attempt);
            }
            // The rhythm of updates while the job runs, for stall checks.
            // Frames let out of the browser's queue after a wake arrive in a
            // burst: they move the clock, not the usual gap.
            let burst = slot.silence.is_some_and(|s| s.proof_ping.is_some());
            slot.rhythm = Some(if burst {
                Rhythm::after_queued_frame(slot.rhythm, now)
            } else {
                Rhythm::after_frame(slot.rhythm, was_running, now)
            });
        }
        if let Some(attempt) = proven_now {
            self.event(SessionEvent::SocketLive { attempt });
            self.conditions.socket_delivered();
            if let Some(bridge) = self.phase.bridge_mut().and_then(Option::take) {
                self.drop_polls(bridge);
            }
            if let Phase::Polling { .. } = self.phase {
                // The probe delivered: back to WebSocket mode, polling stops.
                self.promote_probe();
                self.event(SessionEvent::BackOnSocket);
            }
        }
        // Data arrived with the current credentials: the socket works.
        self.clear_error();
        self.apply_progress(progress, now);
    }

    pub(super) fn on_socket_error(&mut self, attempt: AttemptId, now: At) {
        if !self.is_current(attempt) {
            return;
        }
        // Browsers follow an error with a close. Handling the error now and
        // releasing the socket makes that close stale, so the pair schedules
        // exactly one retry.
        self.close_socket(CLOSE_UNRESPONSIVE, "socket error", now);
        self.after_socket_failure(Failure::Transient(errors::socket_error()), now);
    }

    pub(super) fn on_socket_open_failed(&mut self, attempt: AttemptId, reason: &str, now: At) {
        if !self.is_current(attempt) {
            return;
        }
        // The shell holds nothing to close: the socket never existed.
        self.take_socket(now);
        self.event(SessionEvent::SocketClosed {
            attempt,
            code: crate::code::ABNORMAL,
            reason: reason.to_owned(),
        });
        self.after_socket_failure(Failure::Transient(errors::open_failed(reason)), now);
    }

    pub(super) fn on_socket_closed(
        &mut self,
        attempt: AttemptId,
        code: u16,
        reason: &str,
        now: At,
    ) {
        if !self.is_current(attempt) {
            return;
        }
        let Some(slot) = self.take_socket(now) else {
            return;
        };
        self.event(SessionEvent::SocketClosed {
            attempt,
            code,
            reason: reason.to_owned(),
        });
        match CloseClass::of(code) {
            CloseClass::JobFinished => self.on_finished_close(now),
            CloseClass::ServerRestart => {
                self.note_error(errors::server_restarting());
                self.after_socket_failure(Failure::Restart(slot.restart_hint), now);
            }
            CloseClass::Transient => {
                // A restart announced on this socket explains an abrupt close too.
                let failure = match slot.restart_hint {
                    Some(hint) => Failure::Restart(Some(hint)),
                    None => Failure::Transient(errors::connection_lost(code)),
                };
                self.after_socket_failure(failure, now);
            }
            CloseClass::ServerFull => self.after_socket_failure(Failure::Full, now),
            CloseClass::Policy => self.stop_with(errors::policy(code, reason)),
            CloseClass::UnknownProcess => self.stop_with(errors::not_found()),
            CloseClass::Unauthorized => self.socket_token_refused(now),
        }
    }

    /// Close 4401: the socket gets one token refresh per streak. While polling
    /// works, a socket that still refuses waits for the next probe instead
    /// of stopping (HTTP accepting a token says nothing about the socket).
    fn socket_token_refused(&mut self, now: At) {
        let polling = matches!(self.phase, Phase::Polling { .. });
        if self.config.token_provider && self.conditions.streak.auth.use_socket_refresh() {
            let resume = if polling {
                Resume::Polling {
                    probe_now: true,
                    next_probe_at: None,
                }
            } else {
                Resume::Socket
            };
            self.request_token(resume, now, false);
        } else if polling {
            self.note_error(errors::auth_failed());
            self.conditions.streak.count_failure();
            let next = self.probe_after(now, self.config.options.probe_interval_ms);
            self.schedule_probe(next);
        } else {
            self.stop_with(errors::auth_failed());
        }
    }

    /// 1000: the server closes normally only once the job is terminal. A
    /// terminal state already held has finished the session; otherwise the
    /// last frame was missed, so one poll fetches the final state.
    fn on_finished_close(&mut self, now: At) {
        if let Some(state) = self.progress.as_ref().map(|p| p.state) {
            if state.is_terminal() {
                self.finish(state);
                return;
            }
        }
        let probe = self.probe_after(now, self.config.options.probe_interval_ms);
        if let Phase::Polling { .. } = self.phase {
            self.schedule_probe(probe);
            self.start_poll(now);
        } else {
            self.enter_polling(now, probe);
        }
    }

    /// Polling mode whose probe delivered becomes WebSocket mode on that
    /// socket; the polls end.
    fn promote_probe(&mut self) {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Polling {
                polls,
                probe: Probe::Out(socket),
            } => {
                self.drop_polls(polls);
                self.phase = Phase::Live {
                    socket,
                    bridge: None,
                };
            }
            other => self.phase = other,
        }
    }

    /// Polling mode's next probe (nothing outside polling mode).
    pub(super) fn schedule_probe(&mut self, next: Option<At>) {
        // A probe that is out keeps its socket; it is not replaced by a time.
        if let Phase::Polling {
            probe: probe @ Probe::Next(_),
            ..
        } = &mut self.phase
        {
            *probe = Probe::Next(next);
        }
    }
}
