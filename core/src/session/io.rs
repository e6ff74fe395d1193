//! What the session is told (`Input`) and what it asks for (`Action`).

use crate::Progress;

/// Milliseconds on the shell's monotonic clock (`performance.now()` in a browser).
pub type Millis = u64;

/// Identifies one socket attempt. Every socket event carries the id of the
/// attempt that opened it, so events of a replaced socket are recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AttemptId(pub u64);

/// Identifies one HTTP poll, so a late answer to a cancelled poll is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// How one HTTP poll ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PollOutcome {
    /// 200 with a body.
    Progress(Progress),
    /// 304: nothing newer than the `etag` that was sent.
    NotModified,
    /// Any other HTTP status, with the server's error code when the body had one.
    Http {
        /// HTTP status code.
        status: u16,
        /// `error.code` from the JSON body, if any.
        code: Option<String>,
    },
    /// The server answered with `status` but the body is not a progress
    /// answer (a proxy's HTML page, a truncated body).
    InvalidBody {
        /// HTTP status code.
        status: u16,
    },
    /// No HTTP answer at all (network down, CORS, aborted by the browser).
    Network,
}

/// Everything that can happen to a session.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// Begin following the job.
    Start,
    /// The socket of `attempt` is open.
    SocketOpened {
        /// The attempt that opened it.
        attempt: AttemptId,
    },
    /// A text frame arrived on the socket of `attempt` (parsed by the
    /// session; needs the `json` feature, on by default).
    #[cfg(feature = "json")]
    SocketMessage {
        /// The attempt that opened the socket.
        attempt: AttemptId,
        /// The raw frame.
        text: String,
    },
    /// A text frame arrived on the socket of `attempt`, already parsed by
    /// the shell (a browser shell can use the browser's JSON parser):
    /// `None` when it is not a protocol v1 server message. Handled exactly
    /// like [`Input::SocketMessage`] with the same frame.
    SocketFrame {
        /// The attempt that opened the socket.
        attempt: AttemptId,
        /// The message, or `None` for an unreadable frame.
        message: Option<crate::ServerMessage>,
    },
    /// A binary frame arrived on the socket of `attempt`. Protocol v1 sends
    /// none, but it still proves the connection alive.
    SocketBinary {
        /// The attempt that opened the socket.
        attempt: AttemptId,
    },
    /// The socket of `attempt` could not even be created (the browser threw:
    /// a malformed URL, a blocked port, a mixed-content rule).
    SocketOpenFailed {
        /// The attempt that asked for the socket.
        attempt: AttemptId,
        /// What the browser said.
        reason: String,
    },
    /// The socket of `attempt` closed.
    SocketClosed {
        /// The attempt that opened the socket.
        attempt: AttemptId,
        /// The close code (1006 when the browser saw no close frame).
        code: u16,
        /// The close reason.
        reason: String,
        /// `CloseEvent.wasClean`.
        was_clean: bool,
    },
    /// The socket of `attempt` reported an error (a close always follows in browsers).
    SocketError {
        /// The attempt that opened the socket.
        attempt: AttemptId,
    },
    /// An HTTP poll finished.
    PollFinished {
        /// The request that finished.
        request: RequestId,
        /// How it ended.
        outcome: PollOutcome,
    },
    /// The token provider answered a `RefreshToken` action.
    TokenReady {
        /// The fresh token; `None` when the provider has none to give.
        token: Option<String>,
    },
    /// The browser went online.
    Online,
    /// The browser went offline.
    Offline,
    /// The page became visible.
    Visible,
    /// The page became hidden.
    Hidden,
    /// The page runs again after the browser froze it (the document's
    /// `resume` event): whatever the socket delivers next may have waited
    /// in the browser's queue, so the socket is checked at once.
    Resumed,
    /// The browser reports a different network (`navigator.connection`'s
    /// `change` event): an open socket may be bound to the old one.
    NetworkChanged,
    /// `pagehide`: the page may enter the back/forward cache.
    PageHide,
    /// `pageshow`.
    PageShow {
        /// True when the page came back from the back/forward cache.
        persisted: bool,
    },
    /// The user pressed Reconnect.
    Reconnect,
    /// Stop following the job (unmount, or the user asked).
    Stop,
}

/// Something the session asks its shell to do, or to tell the UI.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Open a WebSocket to `url`; report its events tagged with `attempt`.
    OpenSocket {
        /// Tag for every event of this socket.
        attempt: AttemptId,
        /// Full URL, token included.
        url: String,
    },
    /// Close the socket of `attempt` and stop listening to it.
    CloseSocket {
        /// The socket to close.
        attempt: AttemptId,
        /// Close code to send.
        code: u16,
        /// Close reason to send.
        reason: String,
    },
    /// Send a text frame on the socket of `attempt`.
    Send {
        /// The socket to send on.
        attempt: AttemptId,
        /// The frame.
        text: String,
    },
    /// Fetch the job's progress over HTTP.
    FetchProgress {
        /// Tag for the answer.
        request: RequestId,
        /// Full URL.
        url: String,
        /// Value for `If-None-Match`, if any.
        etag: Option<String>,
        /// Value for `Authorization: Bearer`, if any.
        token: Option<String>,
    },
    /// Abort the fetch `request`; its answer will be ignored anyway.
    CancelFetch {
        /// The fetch to abort.
        request: RequestId,
    },
    /// Ask the token provider for a fresh token and answer with `Input::TokenReady`.
    RefreshToken,
    /// Newer progress to show.
    ProgressChanged(Progress),
    /// The status changed (see [`crate::session::Status`]).
    StatusChanged(crate::session::Status),
    /// The job completed; announced once.
    JobCompleted(Progress),
    /// Following ended in an error, or the job failed or was cancelled.
    /// Announced each time it happens (a Reconnect that ends in the same
    /// error announces it again).
    Failed(crate::session::StatusError),
    /// What the session decided and why, for logs and counters.
    Event(crate::session::SessionEvent),
}
