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
//! - **Queue.** Many uploads on one page take turns through an
//!   [`UploadQueue`] (at most [`DEFAULT_UPLOAD_LIMIT`] at once by default):
//!   `Queue` makes an upload wait (`Queued`) and `Start` gives it its turn.
//!
//! # Driving an [`Upload`]
//!
//! ```
//! use upload_progress_core::upload::{
//!     Action, Answer, Input, Upload, UploadConfig, UploadOptions, UploadState,
//! };
//!
//! let file = vec![7u8; 25];
//! let config = UploadConfig {
//!     endpoint: "http://127.0.0.1:8080/api/uploads/tus".into(),
//!     len: file.len() as u64,
//!     metadata: vec![("filename".into(), "notes.txt".into())],
//!     resume: None,
//!     options: UploadOptions { chunk_size: 10, ..UploadOptions::default() },
//! };
//! let mut upload = Upload::new(config, 42); // the seed drives the retry jitter
//! let mut server: Vec<u8> = Vec::new(); // what a tus server would store
//! upload.handle(Input::Start, 0);
//! let mut now = 0;
//! while let Some(action) = upload.poll_action() {
//!     now += 5;
//!     let answer = match action {
//!         // POST with Upload-Length and Upload-Metadata.
//!         Action::Create { request, .. } => Some((request, Answer::Created {
//!             location: "/api/uploads/tus/abc".into(), // resolved against the endpoint
//!             process_id: Some("auto_proc_abc".into()),
//!             token: None,
//!         })),
//!         // PATCH with Upload-Offset: the shell reads the bytes itself.
//!         Action::Send { request, url, offset, len } => {
//!             assert_eq!(url, "http://127.0.0.1:8080/api/uploads/tus/abc");
//!             assert_eq!(offset, server.len() as u64);
//!             server.extend_from_slice(&file[offset as usize..(offset + len) as usize]);
//!             Some((request, Answer::Offset(server.len() as u64)))
//!         }
//!         Action::Head { request, .. } => Some((request, Answer::Offset(server.len() as u64))),
//!         Action::Progress(p) => { println!("{} of {} bytes", p.sent, p.total); None }
//!         _ => None, // Created, StateChanged, Finished: for the UI
//!     };
//!     if let Some((request, answer)) = answer {
//!         upload.handle(Input::Answered { request, answer }, now);
//!     }
//! }
//! assert_eq!(server, file);
//! assert_eq!(
//!     *upload.state(),
//!     UploadState::Finished { process_id: Some("auto_proc_abc".into()), token: None }
//! );
//! // A failed request would instead leave the upload `Waiting` until
//! // `poll_timeout()`, when `handle_timeout(now)` sends a HEAD.
//! assert_eq!(upload.poll_timeout(), None);
//! ```

mod describe;
mod handoff;
mod io;
mod machine;
mod metadata;
mod options;
mod queue;
mod scaled;
mod speed;
mod state;

pub use describe::{
    byte_amounts, bytes, notice, rate, seconds_until, time_left, upload_percent,
    upload_status_error, ByteAmounts, TimeLeft, UploadControls, UploadNotice, UploadPhase,
};
pub use handoff::{Handoff, JobStart};
pub use io::{Action, Answer, Input, Millis, RequestId, UploadProgress};
pub use machine::Upload;
pub use metadata::encode_metadata;
pub use options::{ResumeFrom, UploadConfig, UploadOptions, DEFAULT_TUS_PATH};
pub use queue::{Ticket, UploadQueue, DEFAULT_UPLOAD_LIMIT};
pub use state::{UploadError, UploadState};
