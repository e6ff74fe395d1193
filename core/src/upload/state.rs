//! Where an upload stands, and why it gave up.

use super::{Millis, RequestId};

/// Where an upload stands. Each state carries what the UI and the next
/// step need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// Not started.
    Idle,
    /// Waiting for a turn in the page's [`super::UploadQueue`]; nothing is
    /// in flight.
    Queued,
    /// The creation request is in flight.
    Creating {
        /// The request.
        request: RequestId,
    },
    /// A chunk is in flight.
    Sending {
        /// The request.
        request: RequestId,
        /// Its first byte (the server's offset).
        offset: u64,
        /// Its length.
        len: u64,
    },
    /// Asking the server for its offset (after a failure, a conflict, a
    /// resume, or to continue an upload created before a reload).
    Checking {
        /// The request.
        request: RequestId,
    },
    /// Backing off after a failure; the next request leaves at `retry_at`.
    Waiting {
        /// When the next request leaves.
        retry_at: Millis,
        /// Consecutive failures so far.
        failures: u32,
        /// The last failure.
        error: UploadError,
    },
    /// The browser is offline: nothing leaves until it is online again.
    Offline {
        /// Bytes the server is known to have.
        offset: u64,
    },
    /// Paused by the user.
    Paused {
        /// Bytes the server is known to have.
        offset: u64,
    },
    /// The deletion request is in flight.
    Cancelling {
        /// The request.
        request: RequestId,
    },
    /// Cancelled by the user. Final.
    Cancelled,
    /// Every byte is on the server. Final.
    Finished {
        /// The job started for the upload, if any.
        process_id: Option<String>,
        /// Its token, if any.
        token: Option<String>,
    },
    /// Gave up. `Resume` tries again when the error allows it.
    Failed(UploadError),
}

impl UploadState {
    /// True once nothing will ever happen again.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::Cancelled | Self::Finished { .. })
    }
}

/// Why a request failed, or why the upload gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadError {
    /// No answer from the server (retried).
    #[error("network error")]
    Network,
    /// The server answered 5xx, 408, 423 or 429 (retried).
    #[error("server error {0}")]
    Server(u16),
    /// No activity on a request for too long (retried).
    #[error("request stalled")]
    Stalled,
    /// The file is larger than the server accepts (413).
    #[error("the file is too large for the server")]
    TooLarge,
    /// The upload no longer exists on the server (404) or expired (410).
    #[error("the upload is gone from the server ({0})")]
    Gone(u16),
    /// The server's offset kept disagreeing with ours (409 twice in a row).
    #[error("the server's offset does not match")]
    Conflict,
    /// Any other refusal that retrying cannot fix (400, 401, 403, 412, 415...).
    #[error("refused by the server ({0})")]
    Refused(u16),
    /// The server answered without a header it must send, or an offset
    /// outside the file.
    #[error("invalid answer from the server: {0}")]
    Protocol(&'static str),
    /// Too many failures in a row (`UploadOptions::max_failures`).
    #[error("gave up after {0} failures")]
    TooManyFailures(u32),
}

impl UploadError {
    /// Whether waiting and asking again can fix it.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Network | Self::Server(_) | Self::Stalled)
    }

    /// Whether `Resume` may try again after this error. A refusal or a
    /// missing upload will not change by itself.
    pub fn allows_resume(&self) -> bool {
        self.is_transient() || matches!(self, Self::TooManyFailures(_) | Self::Conflict)
    }
}
