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
//!
//! Uploads take turns: every upload of the page (components and embed
//! widgets alike) waits in one queue, and at most [`upload_limit`] (3 by
//! default, see [`set_upload_limit`]) send at once; the others show
//! "Waiting to upload" and can be paused or cancelled before they start.
//! The policy is core's [`upload_progress_core::upload::UploadQueue`].
//!
//! Behind the `upload` feature (on with `embed` and `demo`). To upload and
//! then follow the job in one widget, give `UploadProgressRobust` a `file`;
//! `use_upload` is the hook under it, for a custom view.

mod hook;
mod queue;
mod resume;
mod shell;
mod story;
mod view;

pub use hook::{use_upload, UseUploadOptions, UseUploadReturn};
pub use queue::{set_upload_limit, upload_limit};
pub(crate) use story::{follow_file, FileUpload};
pub use upload_progress_core::upload::{UploadError, UploadOptions, UploadProgress, UploadState};
// The embed widget tells the same story without Leptos, from these.
#[cfg(feature = "embed")]
pub(crate) use {
    hook::upload_config,
    shell::{Output, UploadShell},
    story::default_endpoint,
    view::{lead_panel, lead_text, news},
};
