//! Uploads: one state machine that sends a file over tus 1.0.0
//! (core protocol, creation and termination) and owns every retry decision.
//!
//! API (sans-IO, like [`crate::session`]):
//! - `Upload::new(config, seed)`: `seed` feeds the jitter generator;
//! - `handle(input, now)`: feed an event (an answer, a progress event, a
//!   button, the network);
//! - `handle_timeout(now)`: call when `poll_timeout()`'s deadline passes;
//! - `poll_timeout()`: the next deadline, if any;
//! - `poll_action()`: drain the requests to make and what to show.
//!
//! The shell makes the HTTP requests (`Create` → `POST`, `Send` → `PATCH`
//! with the bytes it reads from the file, `Head`, `Delete`), answers each
//! with [`Input::Answered`], and reports upload progress events with
//! [`Input::SendProgress`].
//!
//! # Policy
//!
//! - **Chunks.** The file leaves in `PATCH`es of `chunk_size` bytes, each
//!   from the server's offset. The server's `Upload-Offset` in the answer is
//!   the truth: any byte it accepted ends a failure streak.
//! - **Transient failures** (no answer, 5xx, 408, 423, 429, or a request
//!   silent for `stall_timeout_ms`) wait like [`crate::Session`]'s
//!   retries: `initial_retry_ms` (2 s) ×2 up to `max_retry_ms` (16 s), each
//!   drawn uniformly from `[0, delay]` with jitter on. Then the upload asks
//!   for the server's offset (`HEAD`) and continues from there, so a
//!   failure costs at most the one chunk that was in flight. A failed
//!   creation is created again.
//! - **Network and page.** Offline pauses (a failure while offline does
//!   not count, and no retry is scheduled); online and visible retry a
//!   waiting upload at once, at most once a second so a burst of them costs
//!   one request. Hidden changes nothing.
//! - **Refusals** that retrying cannot fix stop with [`UploadError`]: 413
//!   (too large), 404 and 410 (gone), any other 4xx. A 409 on a `PATCH`
//!   (offset mismatch) asks for the offset once; a second 409 before any
//!   progress gives up.
//! - **Pause** aborts the request in flight; **Resume** asks for the offset
//!   and continues (it also retries after a transient give-up). **Cancel**
//!   aborts and deletes the upload on the server; cancelled and finished
//!   are final.

mod io;
mod machine;
mod metadata;
mod options;
mod speed;
mod state;

pub use io::{Action, Answer, Input, Millis, RequestId, UploadProgress};
pub use machine::Upload;
pub use metadata::encode_metadata;
pub use options::{ResumeFrom, UploadConfig, UploadOptions};
pub use state::{UploadError, UploadState};
