//! What the session decided and why, as typed events an app can log or count.

use serde::Serialize;

use super::{AttemptId, Millis};

/// One decision of the session. Emitted as `Action::Event`.
///
/// Serialises as `{"type": "backoff_chosen", "delay_ms": 3200, ...}` for
/// logs and the JavaScript API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SessionEvent {
    /// A socket attempt started.
    AttemptOpened {
        /// Its id.
        attempt: AttemptId,
        /// 1-based attempt number in the current failure streak.
        number: u32,
        /// True when it probes the socket while polling.
        probe: bool,
    },
    /// A socket delivered its snapshot: the attempt succeeded.
    SocketLive {
        /// Its id.
        attempt: AttemptId,
    },
    /// A socket closed, or was given up on.
    SocketClosed {
        /// Its id.
        attempt: AttemptId,
        /// The close code (4000 when the session gave up on it).
        code: u16,
        /// The close reason.
        reason: String,
    },
    /// The next socket attempt waits this long.
    BackoffChosen {
        /// The wait, jitter included.
        delay_ms: Millis,
        /// The number of the attempt that will be made.
        attempt: u32,
        /// Attempts allowed before falling back to polling.
        max_attempts: u32,
    },
    /// The socket kept failing (or the server is full): following by HTTP polling.
    FellBackToPolling,
    /// A probe delivered while polling: back on the socket, polling stopped.
    BackOnSocket,
    /// HTTP polls started to keep the data fresh while the socket is replaced.
    BridgePolling,
    /// A fresh token was asked for.
    TokenRefresh {
        /// True when asked ahead of a known expiry, false after a refusal.
        ahead_of_expiry: bool,
    },
    /// Updates stopped arriving at their usual rhythm: an early ping went out.
    StallSuspected {
        /// How long nothing had arrived.
        silent_ms: Millis,
    },
    /// The browser went offline while a socket was delivering: an early ping
    /// asks whether it still works (browsers may keep a dead socket open
    /// for many seconds), and the UI shows "checking" meanwhile.
    OfflineCheck,
    /// The page had not run for a while (frozen, asleep, or its timers
    /// throttled far past their deadlines): frames that arrive now may have
    /// waited in the browser, so only the pong of an early ping proves the
    /// socket alive, and the UI shows "checking" meanwhile.
    WokeUp {
        /// How late the most overdue deadline was (0 for a `resume` event).
        late_ms: Millis,
    },
    /// The network changed (back online, or another connection) while a
    /// socket was delivering: an early ping checks it at once.
    NetworkCheck,
    /// A ping went unanswered: the socket is treated as dead.
    HeartbeatTimeout,
    /// A socket did not open and deliver its snapshot in time.
    ConnectTimeout,
    /// The server announced a restart and asked to wait this long.
    DrainHint {
        /// The server's `retry_after_ms` (after the session's bound).
        retry_after_ms: Millis,
    },
}
