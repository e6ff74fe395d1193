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

/// How far a socket has come. Only a socket that delivered its snapshot
/// counts as a success: one that opens and stays silent (a proxy in front of
/// a hung backend) is a failed attempt once the connect timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Link {
    /// Asked for; not open yet.
    Opening,
    /// Open, no snapshot yet.
    Open { opened_at: Millis },
    /// Open and its snapshot arrived. `stable` once it has also been up
    /// `stable_after_ms`, which resets the failure count (once per socket).
    Proven { opened_at: Millis, stable: bool },
}

impl Link {
    pub(super) fn opened_at(self) -> Option<Millis> {
        match self {
            Self::Opening => None,
            Self::Open { opened_at } | Self::Proven { opened_at, .. } => Some(opened_at),
        }
    }

    pub(super) fn is_proven(self) -> bool {
        matches!(self, Self::Proven { .. })
    }
}

/// The one socket the session may have opening or open.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SocketSlot {
    pub(super) attempt: AttemptId,
    pub(super) started_at: Millis,
    pub(super) link: Link,
    pub(super) next_ping_at: Option<Millis>,
    /// The newest ping not yet answered by its pong, for the latency.
    pub(super) ping: Option<PendingPing>,
    /// Nothing at all arrived since a ping went out; the socket is dead at
    /// this time unless a frame arrives first.
    pub(super) silent_deadline: Option<Millis>,
    /// The ping out is an early one, sent because updates stopped flowing.
    pub(super) checking: bool,
    /// While set, only the pong of this ping (or of a later one) proves
    /// the socket alive: after the page slept, frames that arrive may have
    /// waited in the browser's queue since before, and say nothing about
    /// the socket now (see `wake.rs`).
    pub(super) proof_ping: Option<u64>,
    /// When the last progress frame arrived, and the smoothed gap between
    /// progress frames while the job runs: the rhythm a stall is judged by.
    pub(super) rhythm: Option<Rhythm>,
    /// `retry_after_ms` from a `server_shutdown` frame, for the close that follows.
    pub(super) restart_hint: Option<u64>,
}

/// The rhythm of progress frames on one socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rhythm {
    pub(super) last_at: Millis,
    /// Smoothed gap between frames; `None` after the first frame.
    pub(super) gap_ms: Option<u64>,
}

impl SocketSlot {
    pub(super) fn new(attempt: AttemptId, now: Millis) -> Self {
        Self {
            attempt,
            started_at: now,
            link: Link::Opening,
            next_ping_at: None,
            ping: None,
            silent_deadline: None,
            checking: false,
            proof_ping: None,
            rhythm: None,
            restart_hint: None,
        }
    }
}

/// A heartbeat ping waiting for its pong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PendingPing {
    pub(super) id: u64,
    pub(super) sent_at: Millis,
}

/// HTTP polls that bridge the gap while a lost socket is being replaced, so
/// what is on screen never gets older than the poll interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bridge {
    pub(super) next_poll_at: Option<Millis>,
}

/// The one token refresh allowed per failure streak, per transport: a
/// token the HTTP endpoint accepts says nothing about the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct AuthRetries {
    pub(super) socket: bool,
    pub(super) http: bool,
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
