//! WebSocket frames of protocol v1: JSON text, tagged by `type`.

use serde::{Deserialize, Serialize};

use crate::Progress;

/// A frame from server to client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The full current state; always the first frame on a socket.
    Snapshot {
        /// The job's state.
        progress: Progress,
    },
    /// A newer state of the job.
    Progress {
        /// The job's state.
        progress: Progress,
    },
    /// Answer to a client `ping`.
    Pong {
        /// The id of the ping being answered.
        id: u64,
        /// Server time when answering, in milliseconds since the Unix epoch.
        server_ts_ms: u64,
    },
    /// The server is about to close every socket and restart.
    ServerShutdown {
        /// How long the client should wait before reconnecting.
        retry_after_ms: u64,
    },
    /// A problem the client caused or should know about; often followed by a close.
    Error {
        /// Stable machine code, e.g. `rate_limited`.
        code: String,
        /// Human explanation.
        message: String,
    },
}

/// A frame from client to server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Application-level heartbeat; the browser cannot see protocol pings.
    Ping {
        /// Echoed back in the `pong`.
        id: u64,
    },
}

impl ClientMessage {
    /// The frame's JSON text, the same as serde_json gives, written without
    /// a serializer so a browser build carries none.
    pub fn to_json(&self) -> String {
        match self {
            ClientMessage::Ping { id } => format!(r#"{{"type":"ping","id":{id}}}"#),
        }
    }
}

/// A successful `POST /api/uploads` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadAccepted {
    /// The job started for the upload.
    pub process_id: crate::ProcessId,
    /// Token for the job's progress endpoints.
    pub token: String,
    /// Lifetime of `token`, in seconds.
    pub expires_in_s: u64,
}

/// The body of `GET /ws/progress/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressResponse {
    /// The job's state.
    pub progress: Progress,
}

/// The body of every HTTP error: `{"error":{"code","message"}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

/// Inner part of [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Stable machine code, e.g. `invalid_process_id`.
    pub code: String,
    /// Human explanation.
    pub message: String,
}

impl ErrorResponse {
    /// Builds an error body.
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            error: ErrorBody {
                code: code.into(),
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ClientMessage;

    #[test]
    fn ping_text_is_what_serde_json_writes() {
        for id in [0, 1, 42, u64::MAX] {
            let ping = ClientMessage::Ping { id };
            assert_eq!(ping.to_json(), serde_json::to_string(&ping).unwrap());
        }
    }
}
