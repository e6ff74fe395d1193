//! Socket events, and what a lost socket leads to.

use super::errors;
use super::session::CLOSE_UNRESPONSIVE;
use super::state::{Failure, Link, Phase, Resume, Rhythm};
use super::{AttemptId, Millis, Session, SessionEvent};
use crate::{CloseClass, JobState, ServerMessage};

impl Session {
    /// True when `attempt` is the socket held now; anything else is stale.
    pub(super) fn is_current(&self, attempt: AttemptId) -> bool {
        self.socket.as_ref().is_some_and(|s| s.attempt == attempt)
    }

    pub(super) fn on_socket_opened(&mut self, attempt: AttemptId, now: Millis) {
        if !self.is_current(attempt) {
            return;
        }
        let heartbeat = self.config.options.heartbeat_interval_ms.max(1);
        if let Some(slot) = &mut self.socket {
            if slot.link == Link::Opening {
                slot.link = Link::Open { opened_at: now };
                slot.next_ping_at = Some(now.saturating_add(heartbeat));
            }
        }
        self.last_heard_at = Some(now);
    }

    /// Any frame proves the connection alive, not only a pong: a busy
    /// server's progress frames are as good as an answer.
    fn heard_on_socket(&mut self, now: Millis) {
        self.last_heard_at = Some(now);
        if let Some(slot) = &mut self.socket {
            slot.silent_deadline = None;
            slot.checking = false;
            slot.proof_ping = None;
        }
    }

    pub(super) fn on_socket_binary(&mut self, attempt: AttemptId, now: Millis) {
        if self.is_current(attempt) && self.proves_alive(None) {
            self.heard_on_socket(now);
        }
    }

    #[cfg(feature = "json")]
    pub(super) fn on_socket_message(&mut self, attempt: AttemptId, text: &str, now: Millis) {
        let message = serde_json::from_str::<ServerMessage>(text).ok();
        self.on_socket_frame(attempt, message, now);
    }

    pub(super) fn on_socket_frame(
        &mut self,
        attempt: AttemptId,
        message: Option<ServerMessage>,
        now: Millis,
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
                    .socket
                    .as_mut()
                    .and_then(|slot| slot.ping.take_if(|p| p.id == id));
                if let Some(ping) = answered {
                    self.latency_ms = Some(now.saturating_sub(ping.sent_at));
                }
            }
            ServerMessage::ServerShutdown { retry_after_ms } => {
                let o = &self.config.options;
                // Bound the server's hint so a bogus value cannot park the client forever.
                let hint = retry_after_ms.min(o.max_retry_ms.max(o.server_full_retry_ms));
                if let Some(slot) = &mut self.socket {
                    slot.restart_hint = Some(hint);
                }
                self.event(SessionEvent::DrainHint {
                    retry_after_ms: hint,
                });
            }
            ServerMessage::Error { code, message } => {
                self.last_error = Some(errors::from_server_frame(&code, &message));
            }
        }
    }

    fn on_socket_progress(&mut self, progress: crate::Progress, now: Millis) {
        let was_running = self
            .progress
            .as_ref()
            .is_some_and(|p| p.state == JobState::Running);
        let heartbeat = self.config.options.heartbeat_interval_ms.max(1);
        let mut proven_now = None;
        if let Some(slot) = &mut self.socket {
            let opened_at = match slot.link {
                Link::Opening => {
                    // A frame before the open event: the socket is open anyway.
                    slot.next_ping_at = Some(now.saturating_add(heartbeat));
                    Some(now)
                }
                Link::Open { opened_at } => Some(opened_at),
                Link::Proven { .. } => None,
            };
            if let Some(opened_at) = opened_at {
                slot.link = Link::Proven {
                    opened_at,
                    stable: false,
                };
                proven_now = Some(slot.attempt);
            }
            // The rhythm of updates while the job runs, for stall checks.
            // Frames let out of the browser's queue after a wake arrive in a
            // burst: they move the clock, not the usual gap.
            let burst = slot.proof_ping.is_some();
            slot.rhythm = Some(match slot.rhythm {
                Some(r) if burst => Rhythm {
                    last_at: now,
                    gap_ms: r.gap_ms,
                },
                Some(r) if was_running => {
                    let gap = now.saturating_sub(r.last_at);
                    Rhythm {
                        last_at: now,
                        gap_ms: Some(r.gap_ms.map_or(gap, |g| (3 * g + gap) / 4)),
                    }
                }
                _ => Rhythm {
                    last_at: now,
                    gap_ms: None,
                },
            });
        }
        if let Some(attempt) = proven_now {
            self.event(SessionEvent::SocketLive { attempt });
            self.auth.socket = false;
            self.not_before = None;
            if self.bridge.take().is_some() {
                self.cancel_fetch();
            }
            if matches!(self.phase, Phase::Polling { .. }) {
                // The probe delivered: back to WebSocket mode, polling stops.
                self.cancel_fetch();
                self.phase = Phase::Live;
                self.event(SessionEvent::BackOnSocket);
            }
        }
        // Data arrived with the current credentials: the socket works.
        self.last_error = None;
        self.apply_progress(progress, now);
    }

    pub(super) fn on_socket_error(&mut self, attempt: AttemptId, now: Millis) {
        if !self.is_current(attempt) {
            return;
        }
        // Browsers follow an error with a close. Handling the error now and
        // releasing the socket makes that close stale, so the pair schedules
        // exactly one retry.
        self.close_socket(CLOSE_UNRESPONSIVE, "socket error");
        self.after_socket_failure(Failure::Transient(errors::socket_error()), now);
    }

    pub(super) fn on_socket_open_failed(&mut self, attempt: AttemptId, reason: &str, now: Millis) {
        if !self.is_current(attempt) {
            return;
        }
        // The shell holds nothing to close: the socket never existed.
        self.socket = None;
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
        now: Millis,
    ) {
        if !self.is_current(attempt) {
            return;
        }
        let Some(slot) = self.socket.take() else {
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
                self.last_error = Some(errors::server_restarting());
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
    fn socket_token_refused(&mut self, now: Millis) {
        let polling = matches!(self.phase, Phase::Polling { .. });
        if !self.auth.socket && self.config.token_provider {
            self.auth.socket = true;
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
            self.last_error = Some(errors::auth_failed());
            self.failures = self.failures.saturating_add(1);
            let next = self.probe_after(now, self.config.options.probe_interval_ms);
            if let Phase::Polling { next_probe_at, .. } = &mut self.phase {
                *next_probe_at = next;
            }
        } else {
            self.stop_with(errors::auth_failed());
        }
    }

    /// 1000: the server closes normally only once the job is terminal. A
    /// terminal state already held has finished the session; otherwise the
    /// last frame was missed, so one poll fetches the final state.
    fn on_finished_close(&mut self, now: Millis) {
        if let Some(state) = self.progress.as_ref().map(|p| p.state) {
            if state.is_terminal() {
                self.finish(state);
                return;
            }
        }
        let probe = self.probe_after(now, self.config.options.probe_interval_ms);
        match &mut self.phase {
            Phase::Polling { next_probe_at, .. } => {
                *next_probe_at = probe;
                self.start_poll(now);
            }
            _ => self.enter_polling(now, probe),
        }
    }
}
