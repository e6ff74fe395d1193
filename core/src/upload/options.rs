//! The knobs of an upload, with their defaults.

use crate::session::SessionOptions;

/// Where the tus creation endpoint is when a page gives only the HTTP base:
/// `{http_base}` followed by this path (the route of the reference server).
pub const DEFAULT_TUS_PATH: &str = "/api/uploads/tus";

/// What to upload and where.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadConfig {
    /// The creation endpoint, e.g. `http://127.0.0.1:8080/api/uploads/tus`.
    pub endpoint: String,
    /// Size of the file in bytes.
    pub len: u64,
    /// `Upload-Metadata` pairs, e.g. `("filename", "report.pdf")`.
    pub metadata: Vec<(String, String)>,
    /// An upload created earlier (e.g. before a reload): continue it
    /// instead of creating one.
    pub resume: Option<ResumeFrom>,
    /// Policy knobs.
    pub options: UploadOptions,
}

/// An upload created earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeFrom {
    /// Its URL (from `Action::Created`).
    pub url: String,
    /// Its job, if the server started one.
    pub process_id: Option<String>,
    /// The job's token, if any.
    pub token: Option<String>,
}

/// Chunking and retry policy. Times are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadOptions {
    /// Bytes per `PATCH`. Default 5 MiB. A failure costs at most one chunk.
    pub chunk_size: u64,
    /// Delay before the first retry. Default 2 000, as for job progress.
    pub initial_retry_ms: u64,
    /// Largest retry delay. Default 16 000.
    pub max_retry_ms: u64,
    /// Growth factor between retries. Default 2.0.
    pub backoff_factor: f64,
    /// Full jitter (uniform in `[0, delay]`). Default `true`.
    pub jitter: bool,
    /// A request with no answer and no progress event for this long is
    /// aborted and counts as a failure. Default 30 000.
    pub stall_timeout_ms: u64,
    /// Give up after this many failures in a row (any byte accepted by the
    /// server ends a streak). Default `None`: keep trying while online.
    pub max_failures: Option<u32>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        let progress = SessionOptions::default();
        Self {
            chunk_size: 5 * 1024 * 1024,
            initial_retry_ms: progress.initial_retry_ms,
            max_retry_ms: progress.max_retry_ms,
            backoff_factor: progress.backoff_factor,
            jitter: progress.jitter,
            stall_timeout_ms: 30_000,
            max_failures: None,
        }
    }
}

impl UploadOptions {
    /// The retry part, in the form the shared backoff policy reads.
    pub(super) fn backoff(&self) -> SessionOptions {
        SessionOptions {
            initial_retry_ms: self.initial_retry_ms,
            max_retry_ms: self.max_retry_ms,
            backoff_factor: self.backoff_factor,
            jitter: self.jitter,
            ..SessionOptions::default()
        }
    }
}
