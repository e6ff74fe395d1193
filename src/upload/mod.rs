//! `use_upload`: upload a file over tus 1.0.0 from a Leptos component, with
//! byte progress, pause, resume and cancel, surviving network failures and
//! reloads.
//!
//! Every decision is made by [`upload_progress_core::upload::Upload`]; this
//! is its browser shell. Chunks leave with `XMLHttpRequest`, whose upload
//! progress events give bytes, speed and time left while a chunk is in
//! flight. The upload's URL is kept in `localStorage` under a fingerprint
//! of the file (name, size, last modified, endpoint), so choosing the same
//! file after a reload continues where the server stopped.

mod hook;
mod resume;
mod shell;

pub use hook::{use_upload, UseUploadOptions, UseUploadReturn};
pub use upload_progress_core::upload::{UploadError, UploadOptions, UploadProgress, UploadState};
