//! The messages of protocol v1 as PROTOCOL.md defines them.
//!
//! The kit reads the wire with its own types rather than the reference
//! implementation's, so a mistake shared by a server and the reference code
//! cannot hide from it. Unknown fields are allowed (PROTOCOL.md 1: a v1
//! reader ignores fields it does not know).

use serde::Deserialize;

/// `state` of a job (PROTOCOL.md 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Known or expected, not started.
    Pending,
    /// Working.
    Running,
    /// Finished well.
    Completed,
    /// Finished with an error.
    Failed,
    /// Stopped on request.
    Cancelled,
}

impl JobState {
    /// True for `completed`, `failed` and `cancelled`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// `status` of one stage (PROTOCOL.md 3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// Not reached.
    Pending,
    /// In progress.
    Active,
    /// Finished.
    Done,
    /// Failed.
    Failed,
    /// Not run.
    Skipped,
}

/// One entry of `stages`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Stage {
    /// Machine name.
    pub name: String,
    /// Human label.
    pub label: String,
    /// Where it stands.
    pub status: StageStatus,
}

/// The `Progress` object (PROTOCOL.md 3.1). Every field is required;
/// `stage` and `error` may be `null`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Progress {
    /// The job.
    pub process_id: String,
    /// Version of this state.
    pub seq: u64,
    /// Lifecycle state.
    pub state: JobState,
    /// Current stage's name.
    #[serde(deserialize_with = "nullable")]
    pub stage: Option<String>,
    /// Index of the current stage.
    pub stage_index: u32,
    /// Number of stages.
    pub stage_count: u32,
    /// Every stage.
    pub stages: Vec<Stage>,
    /// 0..=100.
    pub percent: f64,
    /// Human message.
    pub message: String,
    /// Error text of a failed job.
    #[serde(deserialize_with = "nullable")]
    pub error: Option<String>,
    /// Server time of the state, ms since the Unix epoch.
    pub updated_at_ms: u64,
}

/// A required field whose value may be `null` (a missing one is an error).
fn nullable<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<String>::deserialize(d)
}

/// A server-to-client frame (PROTOCOL.md 4).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The whole current state; the first frame of every socket.
    Snapshot {
        /// The state.
        progress: Progress,
    },
    /// A newer state.
    Progress {
        /// The state.
        progress: Progress,
    },
    /// Answer to a `ping`.
    Pong {
        /// The ping's id.
        id: u64,
        /// Server time, ms since the Unix epoch.
        server_ts_ms: u64,
    },
    /// A sign of life on a quiet event stream (PROTOCOL.md 11.5).
    Keepalive,
    /// The server is restarting.
    ServerShutdown {
        /// Wait this long before reconnecting.
        retry_after_ms: u64,
    },
    /// Something went wrong.
    Error {
        /// The job it is about, on a page connection (PROTOCOL.md 11);
        /// absent when it is about the connection.
        #[serde(default)]
        process_id: Option<String>,
        /// Machine code.
        code: String,
        /// Human text.
        message: String,
    },
}

/// Body of a successful poll (PROTOCOL.md 6.1).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ProgressResponse {
    /// The state.
    pub progress: Progress,
}

/// Body of every HTTP error (PROTOCOL.md 6.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub error: ErrorBody,
}

/// Inner part of [`ErrorResponse`].
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ErrorBody {
    /// Machine code.
    pub code: String,
    /// Human text.
    pub message: String,
}

/// True when `id` is a valid process id: 1..=128 of `[A-Za-z0-9_-]` (PROTOCOL.md 2).
pub fn valid_process_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_progress_frame_and_rejects_missing_fields() {
        let text = r#"{"type":"progress","progress":{"process_id":"a","seq":2,"state":"running",
            "stage":null,"stage_index":0,"stage_count":0,"stages":[],"percent":5.5,
            "message":"","error":null,"updated_at_ms":1,"extra":true}}"#;
        let msg: ServerMessage = serde_json::from_str(text).expect("parses");
        assert!(matches!(msg, ServerMessage::Progress { ref progress } if progress.seq == 2));
        let missing = text.replace(r#""error":null,"#, "");
        assert!(serde_json::from_str::<ServerMessage>(&missing).is_err());
    }

    #[test]
    fn process_ids() {
        assert!(valid_process_id("auto_proc_1-2"));
        assert!(!valid_process_id(""));
        assert!(!valid_process_id("a.b"));
        assert!(!valid_process_id(&"a".repeat(129)));
        assert!(valid_process_id(&"a".repeat(128)));
    }
}
