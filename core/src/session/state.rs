//! The session's private state: what it is doing and what it holds open.

use super::{AttemptId, Millis, RequestId, StatusError};
use crate::JobState;

/// What the session is doing. Sockets and fetches live beside it (see
/// `Session::socket` / `Session::fetch`): a socket only exists in `Live` and
/// (as a probe) in `Polling`; a fetch only in `Polling`.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Phase {
    /// Not started.
    Idle,
    /// WebSocket mode with a socket opening or open.
    Live,
    /// WebSocket mode, waiting before the next socket attempt.
    Backoff { retry_at: Millis },
    /// HTTP polling mode; the socket is probed at `next_probe_at`.
    Polling {
        next_poll_at: Option<Millis>,
        next_probe_at: Option<Millis>,
    },
    /// A `RefreshToken` action is out; nothing else runs until it is answered.
    AwaitingToken { resume: Resume, deadline: Millis },
    /// The page was hidden (`pagehide`); everything is closed until it comes back.
    Paused { resume: Resume },
    /// The job reached a terminal state. Final.
    Finished(JobState),
    /// Stopped by request (final) or by an error (Reconnect may revive it).
    Stopped {
        error: Option<StatusError>,
        requested: bool,
    },
}

/// Where to pick up after a pause or a token refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resume {
    /// Open a socket in WebSocket mode.
    Socket,
    /// Go back to polling: poll at once, and probe at once when `probe_now`.
    Polling {
        probe_now: bool,
        next_probe_at: Option<Millis>,
    },
}

/// The one socket the session may have opening or open.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SocketSlot {
    pub(super) attempt: AttemptId,
    pub(super) started_at: Millis,
    pub(super) opened_at: Option<Millis>,
    /// The first snapshot arrived: the socket is proven useful.
    pub(super) snapshot_seen: bool,
    /// Up long enough to reset the failure count (done once per socket).
    pub(super) stable: bool,
    pub(super) next_ping_at: Option<Millis>,
    pub(super) ping: Option<PendingPing>,
    /// `retry_after_ms` from a `server_shutdown` frame, for the close that follows.
    pub(super) restart_hint: Option<u64>,
}

impl SocketSlot {
    pub(super) fn new(attempt: AttemptId, now: Millis) -> Self {
        Self {
            attempt,
            started_at: now,
            opened_at: None,
            snapshot_seen: false,
            stable: false,
            next_ping_at: None,
            ping: None,
            restart_hint: None,
        }
    }
}

/// A heartbeat ping waiting for its pong (or any frame).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PendingPing {
    pub(super) id: u64,
    pub(super) sent_at: Millis,
    pub(super) deadline: Millis,
}

/// The one HTTP poll the session may have in flight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Fetch {
    pub(super) request: RequestId,
    pub(super) sent_at: Millis,
}

/// Why a socket stopped being useful, for deciding what comes next.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Failure {
    /// Back off (counts toward `max_retries`).
    Transient(StatusError),
    /// The server restarts: come back after its hint, without counting.
    Restart(Option<u64>),
    /// The server is full: long wait, poll meanwhile.
    Full,
}
