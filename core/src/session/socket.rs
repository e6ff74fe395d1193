//! Socket events, and what a lost socket leads to.

use super::errors;
use super::session::CLOSE_UNRESPONSIVE;
use super::state::{Failure, Phase, Resume};
use super::{AttemptId, Millis, Session};
use crate::{CloseClass, ServerMessage};

impl Session {
    /// True when `attempt` is the socket held now; anything else is stale.
    fn is_current(&self, attempt: AttemptId) -> bool {
        self.socket.as_ref().is_some_and(|s| s.attempt == attempt)
    }

    pub(super) fn on_socket_opened(&mut self, attempt: AttemptId, now: Millis) {
        if !self.is_current(attempt) {
            return;
        }
        let heartbeat = self.config.options.heartbeat_interval_ms.max(1);
        if let Some(slot) = &mut self.socket {
            if slot.opened_at.is_none() {
                slot.opened_at = Some(now);
                slot.next_ping_at = Some(now.saturating_add(heartbeat));
            }
        }
        self.last_heard_at = Some(now);
    }

    pub(super) fn on_socket_message(&mut self, attempt: AttemptId, text: &str, now: Millis) {
        if !self.is_current(attempt) {
            return;
        }
        self.last_heard_at = Some(now);
        let mut answered = None;
        if let Some(slot) = &mut self.socket {
            // Any frame proves the connection alive, not only a pong: a busy
            // server's progress frames are as good as an answer.
            answered = slot.ping.take();
        }
        // Unreadable frames are ignored: one bad frame is no reason to drop
        // a working connection, and the heartbeat still judges liveness.
        let Ok(message) = serde_json::from_str::<ServerMessage>(text) else {
            return;
        };
        match message {
            ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => {
                self.on_socket_progress(progress, now)
            }
            ServerMessage::Pong { id, .. } => {
                if let Some(ping) = answered.filter(|p| p.id == id) {
                    self.latency_ms = Some(now.saturating_sub(ping.sent_at));
                }
            }
            ServerMessage::ServerShutdown { retry_after_ms } => {
                let o = &self.config.options;
                // Bound the server's hint so a bogus value cannot park the client forever.
                let cap = o.max_retry_ms.max(o.server_full_retry_ms);
                if let Some(slot) = &mut self.socket {
                    slot.restart_hint = Some(retry_after_ms.min(cap));
                }
            }
            ServerMessage::Error { code, message } => {
                self.last_error = Some(errors::from_server_frame(&code, &message));
            }
        }
    }

    fn on_socket_progress(&mut self, progress: crate::Progress, now: Millis) {
        if let Some(slot) = &mut self.socket {
            slot.snapshot_seen = true;
        }
        // Data arrived with the current credentials: the socket works.
        self.last_error = None;
        self.auth_retry_used = false;
        self.apply_progress(progress, now);
        if matches!(self.phase, Phase::Polling { .. }) && self.socket.is_some() {
            // The probe delivered: back to WebSocket mode, polling stops.
            self.cancel_fetch();
            self.phase = Phase::Live;
        }
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
            CloseClass::Unauthorized => {
                let resume = match self.phase {
                    Phase::Polling { .. } => Resume::Polling {
                        probe_now: true,
                        next_probe_at: None,
                    },
                    _ => Resume::Socket,
                };
                self.auth_failed(resume, now);
            }
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
