//! The `Session` state machine (placeholder body; the full policy follows).

use std::collections::VecDeque;

use super::{Action, Connection, Input, Millis, Mode, SessionConfig, Status};
use crate::Progress;

/// Follows one job over a WebSocket with HTTP fallback. See the module docs.
#[derive(Debug)]
pub struct Session {
    config: SessionConfig,
    seed: u64,
    status: Status,
    progress: Option<Progress>,
    actions: VecDeque<Action>,
}

impl Session {
    /// Creates an idle session; nothing happens until `Input::Start`.
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        Self {
            config,
            seed,
            status: Status {
                mode: Mode::None,
                connection: Connection::Idle,
                last_update_at: None,
                last_heard_at: None,
                latency_ms: None,
                last_error: None,
            },
            progress: None,
            actions: VecDeque::new(),
        }
    }

    /// Feeds one event at shell time `now`.
    pub fn handle(&mut self, input: Input, now: Millis) {
        let _ = (input, now, &self.config, self.seed);
    }

    /// Runs whatever timers are due at `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        let _ = now;
    }

    /// The next deadline at which `handle_timeout` must be called, if any.
    pub fn poll_timeout(&self) -> Option<Millis> {
        None
    }

    /// The next action for the shell, if any.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// What the UI shows about the connection.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The newest progress held, if any.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }
}
