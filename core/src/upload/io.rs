//! What the upload is told (`Input`) and what it asks for (`Action`).

use super::{UploadError, UploadState};

/// Milliseconds on the shell's monotonic clock (`performance.now()` in a browser).
pub type Millis = u64;

/// Identifies one HTTP request, so a late answer to an aborted one is dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RequestId(pub u64);

/// How one HTTP request ended, as far as the upload needs to know.
///
/// The shell reads the headers: `Location`, `Upload-Process-Id` and
/// `Upload-Token` of a 201, `Upload-Offset` of a 2xx to `PATCH` or `HEAD`.
/// A 2xx that lacks the header the request needs is reported as
/// [`Answer::Status`] and treated as a broken server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 201 to the creation, with its headers.
    Created {
        /// `Location` (absolute, or a path on the creation URL's origin).
        location: String,
        /// `Upload-Process-Id`, when the server starts a job for the upload.
        process_id: Option<String>,
        /// `Upload-Token`, when the server requires tokens to follow the job.
        token: Option<String>,
    },
    /// A 2xx with `Upload-Offset` (the answer to `PATCH` or `HEAD`).
    Offset(u64),
    /// Any other HTTP status (the answer to `DELETE` is `Status(204)`).
    Status(u16),
    /// No HTTP answer at all: network down, connection cut, CORS refusal.
    Network,
}

/// Everything that can happen to an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Begin (create the upload, or check the offset of a resumed one).
    /// From [`UploadState::Queued`] it also ends a pause or a give-up, like
    /// `Resume`.
    Start,
    /// Wait for a turn in the page's [`super::UploadQueue`]: a new upload,
    /// or Resume of a paused (or resumably failed) one while every slot is
    /// taken. Nothing leaves until `Start`.
    Queue,
    /// A request finished.
    Answered {
        /// The request.
        request: RequestId,
        /// How it ended.
        answer: Answer,
    },
    /// The shell's upload progress event (`XMLHttpRequest.upload.onprogress`):
    /// `bytes` of the chunk of `request` have left so far.
    SendProgress {
        /// The `Send` request.
        request: RequestId,
        /// Bytes of that chunk sent so far.
        bytes: u64,
    },
    /// The user pressed Pause.
    Pause,
    /// The user pressed Resume (or Retry after a failure that allows it).
    Resume,
    /// The user pressed Cancel: stop and delete the upload on the server.
    Cancel,
    /// The browser went online.
    Online,
    /// The browser went offline.
    Offline,
    /// The page became visible.
    Visible,
    /// The page became hidden.
    Hidden,
}

/// Bytes, speed and time left, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    /// Bytes the server has, plus those of the chunk in flight that left.
    pub sent: u64,
    /// Size of the file.
    pub total: u64,
    /// Recent speed in bytes per second (over the last few seconds);
    /// `None` until measurable.
    pub bytes_per_s: Option<u64>,
    /// Time left at that speed, in milliseconds.
    pub eta_ms: Option<u64>,
}

/// Something the upload asks its shell to do, or to tell the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `POST url` with `Upload-Length: len`, `Upload-Metadata` from
    /// `metadata` (see [`super::encode_metadata`]) and `Tus-Resumable: 1.0.0`.
    Create {
        /// Tag for the answer.
        request: RequestId,
        /// The creation endpoint.
        url: String,
        /// `Upload-Length`.
        len: u64,
        /// Key/value pairs for `Upload-Metadata`.
        metadata: Vec<(String, String)>,
    },
    /// `PATCH url` with `Upload-Offset: offset`, `Content-Type:
    /// application/offset+octet-stream` and the file's bytes
    /// `[offset, offset + len)`, which the shell reads itself.
    Send {
        /// Tag for the answer and the progress events.
        request: RequestId,
        /// The upload's URL.
        url: String,
        /// First byte.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
    /// `HEAD url`: ask how many bytes the server has.
    Head {
        /// Tag for the answer.
        request: RequestId,
        /// The upload's URL.
        url: String,
    },
    /// `DELETE url`: the upload was cancelled.
    Delete {
        /// Tag for the answer.
        request: RequestId,
        /// The upload's URL.
        url: String,
    },
    /// Abort the request; its answer, if any, will be ignored.
    Abort {
        /// The request to abort.
        request: RequestId,
    },
    /// The server created the upload: keep `url` (e.g. in `localStorage`
    /// under the file's fingerprint) to resume after a reload, and follow
    /// the job of `process_id` from now on if there is one.
    Created {
        /// The upload's URL, resolved against the creation endpoint.
        url: String,
        /// `Upload-Process-Id`.
        process_id: Option<String>,
        /// `Upload-Token`.
        token: Option<String>,
    },
    /// Bytes, speed and time left changed.
    Progress(UploadProgress),
    /// The state changed.
    StateChanged(UploadState),
    /// Every byte is on the server; announced once.
    Finished {
        /// The job the server started for the upload, if any.
        process_id: Option<String>,
        /// Its token, if any.
        token: Option<String>,
    },
    /// The upload gave up; announced once per failure.
    Failed(UploadError),
    /// The upload was cancelled (and deleted on the server when it existed).
    Cancelled,
}
