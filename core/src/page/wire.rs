//! Protocol v1.1 on the wire: one connection for many jobs.
//!
//! The page socket (`/ws/page`), the set poll (`GET /ws/page/poll`) and the
//! event stream (`GET /ws/page/events`) carry the v1 frames of many jobs at
//! once. `snapshot` and `progress` frames are exactly v1's (their
//! `progress.process_id` names the job); an `error` frame about one job
//! carries that job's `process_id`, one about the connection carries none.
//! Ids inside these messages are plain strings, not [`crate::ProcessId`]:
//! a bad id is one job's error, not an unreadable frame.

use super::fnv::Fnv1a;
use serde::{Deserialize, Serialize};

use crate::{ErrorBody, Progress};

/// Default (and suggested) cap on the jobs one connection follows at once.
pub const MAX_SUBSCRIPTIONS: usize = 100;

/// Separator of the `ids` and `tokens` lists in set-poll and event-stream URLs.
pub const LIST_SEPARATOR: char = ',';

/// One job a client asks to follow, with its token where tokens are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRef {
    /// The job's id (checked by the server, per job).
    pub process_id: String,
    /// The job's token; omitted when the server does not require tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// A frame from client to server on the page socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageClientMessage {
    /// Start following these jobs; each gets its own snapshot first. A job
    /// already followed is followed afresh (new token, new snapshot).
    Subscribe {
        /// The jobs, in any number up to the server's cap.
        jobs: Vec<JobRef>,
    },
    /// Stop following these jobs; ids not followed are ignored.
    Unsubscribe {
        /// The ids.
        process_ids: Vec<String>,
    },
    /// Application-level heartbeat, as in v1.
    Ping {
        /// Echoed back in the `pong`.
        id: u64,
    },
}

/// A frame from server to client on the page socket (and, as the `data` of
/// each event, on the event stream).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PageServerMessage {
    /// A job's full state; the first frame of each subscription.
    Snapshot {
        /// The job's state; `progress.process_id` names the job.
        progress: Progress,
    },
    /// A newer state of a followed job.
    Progress {
        /// The job's state; `progress.process_id` names the job.
        progress: Progress,
    },
    /// Answer to a client `ping`.
    Pong {
        /// The id of the ping being answered.
        id: u64,
        /// Server time when answering, in milliseconds since the Unix epoch.
        server_ts_ms: u64,
    },
    /// A sign of life on a quiet event stream (PROTOCOL.md 11.5): proxies
    /// keep the stream open, and a client tells a quiet stream from a dead
    /// one (`EventSource` hides comment lines).
    Keepalive,
    /// The server is about to close the connection and restart.
    ServerShutdown {
        /// How long the client should wait before reconnecting.
        retry_after_ms: u64,
    },
    /// A problem with one job (`process_id` set; that job is no longer
    /// followed, the others go on) or with the connection (`process_id`
    /// absent).
    Error {
        /// The job this error ends, if it is about one job.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        process_id: Option<String>,
        /// Stable machine code, e.g. `unknown_process`.
        code: String,
        /// Human explanation.
        message: String,
    },
}

/// One job's entry in a set-poll answer: its state, or why there is none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetEntry {
    /// The id as the client asked for it.
    pub process_id: String,
    /// The job's state, when it could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    /// Why it could not be read (`unknown_process`, `invalid_process_id`,
    /// `token_*`), otherwise absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

/// The body of `GET /ws/page/poll`: one entry per asked id, in the asked order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetPollResponse {
    /// The entries.
    pub jobs: Vec<SetEntry>,
}

/// The `ETag` of a set-poll answer: a quoted 64-bit FNV-1a hash over every
/// entry's id and `seq` (or error code), in order. It changes whenever any
/// job of the set changes, and differs between sets.
pub fn set_etag(entries: &[SetEntry]) -> String {
    let mut fnv = Fnv1a::new();
    let mut eat = |bytes: &[u8]| fnv.eat(bytes);
    for entry in entries {
        eat(entry.process_id.as_bytes());
        match (&entry.progress, &entry.error) {
            (Some(progress), _) => {
                eat(b"=");
                eat(&progress.seq.to_le_bytes());
            }
            (None, Some(error)) => {
                eat(b"!");
                eat(error.code.as_bytes());
            }
            (None, None) => eat(b"?"),
        }
        // Ids never hold a NUL, so entries cannot run into each other.
        eat(&[0]);
    }
    format!("\"s{:016x}\"", fnv.finish())
}

/// Splits an `ids` or `tokens` query value; empty items are kept (an empty
/// token stands for "none").
pub fn split_list(value: &str) -> Vec<&str> {
    if value.is_empty() {
        return Vec::new();
    }
    value.split(LIST_SEPARATOR).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProcessId;

    fn entry(id: &str, seq: Option<u64>, error: Option<&str>) -> SetEntry {
        SetEntry {
            process_id: id.to_owned(),
            progress: seq.map(|seq| {
                let mut p = Progress::unknown(ProcessId::parse(id).unwrap(), 1);
                p.seq = seq;
                p
            }),
            error: error.map(|code| ErrorBody {
                code: code.to_owned(),
                message: "m".to_owned(),
            }),
        }
    }

    #[test]
    fn the_set_etag_follows_every_member_and_the_order() {
        let base = [entry("a", Some(1), None), entry("b", None, Some("x"))];
        let tag = set_etag(&base);
        assert!(tag.starts_with("\"s") && tag.ends_with('"') && tag.len() == 19);
        assert_eq!(tag, set_etag(&base.clone()));
        let newer = [entry("a", Some(2), None), entry("b", None, Some("x"))];
        assert_ne!(tag, set_etag(&newer));
        let other_error = [entry("a", Some(1), None), entry("b", None, Some("y"))];
        assert_ne!(tag, set_etag(&other_error));
        let swapped = [entry("b", None, Some("x")), entry("a", Some(1), None)];
        assert_ne!(tag, set_etag(&swapped));
        let split = [entry("ab", Some(1), None)];
        assert_ne!(set_etag(&split), set_etag(&[entry("a", Some(1), None)]));
    }

    #[test]
    fn lists_split_on_commas_and_keep_empty_items() {
        assert!(split_list("").is_empty());
        assert_eq!(split_list("a"), ["a"]);
        assert_eq!(split_list("a,,b"), ["a", "", "b"]);
    }
}
