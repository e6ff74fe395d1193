//! The one status value a UI reads.

use serde::{Deserialize, Serialize};

use super::Millis;
use crate::JobState;

/// Which transport currently carries (or will carry) progress.
/// Its names (`websocket`, `http_polling`, `none`) are in `crate::names`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Progress arrives over the WebSocket.
    #[serde(rename = "websocket")]
    WebSocket,
    /// Progress arrives by HTTP polling.
    HttpPolling,
    /// Progress arrives over a server-sent event stream (the page-wide
    /// connection's middle rung, protocol 11.5).
    #[serde(rename = "sse")]
    EventStream,
    /// No transport: not started, stopped, offline or finished.
    None,
}

/// Broad class of an error, for choosing a message and a recovery hint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Credentials missing, invalid or expired.
    Auth,
    /// The network or the server could not be reached.
    Network,
    /// The server answered with an error.
    Server,
    /// The request broke a server rule (bad id, message too big, policy).
    Policy,
    /// The job does not exist.
    NotFound,
    /// The job itself failed or was cancelled; the connection was fine.
    Job,
}

/// An error shown to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// Class of the error.
    pub kind: ErrorKind,
    /// What happened, for people (English; a UI may replace it by `kind`).
    pub message: String,
    /// What the user can do about it.
    pub hint: String,
}

/// The state of the connection, as a UI should describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    /// Not started.
    Idle,
    /// Opening a socket.
    Connecting {
        /// 1-based attempt number since the last stable connection.
        attempt: u32,
    },
    /// The socket is open and delivering.
    Connected,
    /// The socket is open but updates stopped at their usual rhythm; an
    /// early ping is out to check it.
    Checking,
    /// Waiting before the next socket attempt.
    Reconnecting {
        /// 1-based number of the attempt that will be made.
        attempt: u32,
        /// Attempts allowed before falling back to polling.
        max_attempts: u32,
        /// When the next attempt starts.
        retry_at: Millis,
    },
    /// Following the job by HTTP polling; the socket is probed now and then.
    Polling {
        /// When the socket will be tried again, if it will.
        next_probe_at: Option<Millis>,
    },
    /// The browser is offline; nothing is retried until it is back.
    Offline,
    /// The job reached a terminal state; nothing more will happen.
    Finished(JobState),
    /// Following stopped: by request (`error` is `None`) or because of an error.
    Stopped {
        /// Why, when it was not a request.
        error: Option<StatusError>,
    },
}

/// Everything a UI needs to show the truth about the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Current transport.
    pub mode: Mode,
    /// Connection state.
    pub connection: Connection,
    /// Shell time when newer progress was last applied.
    pub last_update_at: Option<Millis>,
    /// Shell time when anything was last heard from the server (frame, pong or poll answer).
    pub last_heard_at: Option<Millis>,
    /// Round-trip time of the last answered heartbeat or poll, in milliseconds.
    pub latency_ms: Option<u64>,
    /// The last error seen, kept while the session recovers from it.
    pub last_error: Option<StatusError>,
}

impl Status {
    /// A status that is stopped by `error` before anything started (for
    /// example an invalid job id).
    pub fn stopped(error: StatusError) -> Self {
        Self {
            mode: Mode::None,
            connection: Connection::Stopped {
                error: Some(error.clone()),
            },
            last_update_at: None,
            last_heard_at: None,
            latency_ms: None,
            last_error: Some(error),
        }
    }

    /// Whether a UI should offer Reconnect: in every state that is not
    /// delivering, offline included (the browser's online flag can be
    /// wrong, so a person must always be able to say "try now"). Not once
    /// the job finished or following was stopped on request.
    pub fn offers_reconnect(&self) -> bool {
        !matches!(
            self.connection,
            Connection::Connected | Connection::Finished(_) | Connection::Stopped { error: None }
        )
    }
}
