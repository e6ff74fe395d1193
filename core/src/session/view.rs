//! Derives the UI's status from the private state.

use super::state::{Phase, Probe, Resume};
use super::time::{self, At};
use super::{Connection, Mode, Session, StatusError};

/// The status facts, written where they happen into the one `Status`
/// (announced when the step ends, see `Session::publish_status`).
impl Session {
    pub(super) fn note_update(&mut self, now: At) {
        self.status.last_update_at = Some(now.millis());
    }

    /// Anything at all arrived from the server.
    pub(super) fn note_heard(&mut self, now: At) {
        self.status.last_heard_at = Some(now.millis());
    }

    pub(super) fn last_heard_at(&self) -> Option<At> {
        time::at(self.status.last_heard_at)
    }

    pub(super) fn note_latency(&mut self, round_trip_ms: u64) {
        self.status.latency_ms = Some(round_trip_ms);
    }

    pub(super) fn note_error(&mut self, error: StatusError) {
        self.status.last_error = Some(error);
    }

    /// Data arrived with the current credentials: the last error is over.
    pub(super) fn clear_error(&mut self) {
        self.status.last_error = None;
    }
    /// The mode and connection the phase stands for.
    pub(super) fn mode_and_connection(&self) -> (Mode, Connection) {
        let attempt = self.conditions.streak.attempt_number();
        let socket = self.phase.socket();
        let socket_open = socket.is_some_and(|s| s.link.opened_at().is_some());
        // Connected means delivering: an open socket that has not sent its
        // snapshot is still an attempt in progress.
        let delivering = socket.is_some_and(|s| s.link.is_proven());
        let checking = socket.is_some_and(|s| s.silence.is_some_and(|s| s.checking));
        // Offline only matters while nothing is connected: an open socket
        // keeps working until it closes, whatever the browser believes.
        let offline = self.conditions.offline() && !socket_open;
        match &self.phase {
            Phase::Idle | Phase::Paused { .. } => (Mode::None, Connection::Idle),
            Phase::Live { .. } if delivering && checking => (Mode::WebSocket, Connection::Checking),
            Phase::Live { .. } if delivering => (Mode::WebSocket, Connection::Connected),
            _ if offline && self.is_waiting() => (Mode::None, Connection::Offline),
            Phase::Live { .. } => (Mode::WebSocket, Connection::Connecting { attempt }),
            Phase::Backoff { retry_at, .. } => (
                Mode::WebSocket,
                Connection::Reconnecting {
                    attempt,
                    max_attempts: self.config.options.max_retries,
                    retry_at: retry_at.millis(),
                },
            ),
            Phase::Polling { probe, .. } => (
                Mode::HttpPolling,
                Connection::Polling {
                    next_probe_at: match probe {
                        Probe::Next(at) => time::millis(*at),
                        Probe::Out(_) => None,
                    },
                },
            ),
            Phase::AwaitingToken { resume, .. } => match resume {
                Resume::Socket => (Mode::WebSocket, Connection::Connecting { attempt }),
                Resume::Polling { .. } => (
                    Mode::HttpPolling,
                    Connection::Polling {
                        next_probe_at: None,
                    },
                ),
            },
            Phase::Finished(state) => (Mode::None, Connection::Finished(*state)),
            Phase::Stopped { error, .. } => (
                Mode::None,
                Connection::Stopped {
                    error: error.clone(),
                },
            ),
        }
    }

    /// Phases that are waiting on the network and so read as "offline" when it is gone.
    fn is_waiting(&self) -> bool {
        matches!(
            self.phase,
            Phase::Live { .. } | Phase::Backoff { .. } | Phase::Polling { .. }
        )
    }
}
