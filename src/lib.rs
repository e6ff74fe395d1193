//! UploadProgressRobust: live progress of a server-side job in the browser
//! that survives a misbehaving WebSocket.
//!
//! - [`UploadProgressRobust`]: the component (progress bar with stages,
//!   connection indicator, data age, Reconnect button).
//! - [`use_upload_progress`] / [`use_upload_progress_with_options`]: the hook
//!   under it, for a custom view.
//! - [`UploadProgressView`]: the view alone, fed by any progress and status.
//! - `mount_upload_progress` and the `<upload-progress-robust>` custom
//!   element (feature `embed`): embedding in pages that do not use Leptos.
//!
//! # Features
//! None is on by default.
//! - `csr`, `hydrate`, `ssr`: passed through to leptos; an app enables the
//!   one it is built with. With `ssr` the component renders its initial
//!   state (file name, pending bar, indicator) and touches no browser API;
//!   it connects once it runs in the browser.
//! - `embed`: the JS API for pages without Leptos (`wasm_bindgen` exports);
//!   turns on `upload`.
//! - `one-job-session`: a widget with `shared = false` follows over a
//!   one-job session on protocol v1's per-job socket and poll (servers that
//!   speak only v1; token refresh ahead of expiry, ping checks in
//!   `on_event`).
//!   Off, such a widget gets a page connection of its own, and the session
//!   is not linked (about 14 KB gzip less).
//! - `upload`: `UploadProgressRobust` takes a `file`, uploads it (tus) and
//!   then follows its job; `use_upload` for a custom view. The page's
//!   uploads take turns, at most 3 at once (`set_upload_limit`). Off, none
//!   of the upload code is linked.
//!
//! # Design
//! Every reconnect, fallback and liveness decision is made in core: by
//! [`upload_progress_core::page::PageConnection`] for the page-wide
//! connection, by [`upload_progress_core::session::Session`] for a one-job
//! session. This crate is their shell: it
//! reports browser events (socket, timer, fetch, page lifecycle) with the
//! time from `performance.now()` and carries out what they ask.
//! Every socket, timer, listener and in-flight request belongs to the
//! component that created it and is released when that component goes away.

mod component;
#[cfg(feature = "embed")]
mod embed;
mod shell;
#[cfg(feature = "upload")]
pub mod upload;
mod view;

pub use component::client::{provide_progress_client, use_progress_client, ProgressClient};
pub use component::hook::{
    use_upload_progress, use_upload_progress_with_options, CompleteCallback, ErrorCallback,
    UseUploadProgressOptions, UseUploadProgressReturn,
};
pub use component::progress_view::UploadProgressView;
pub use component::upload_file::UploadFile;
pub use component::upload_progress::UploadProgressRobust;
#[cfg(feature = "embed")]
pub use embed::element::register_upload_progress_element;
#[cfg(feature = "embed")]
pub use embed::mount::{mount_upload_progress, UploadProgressHandle};
pub use shell::page::{progress_connections, ProgressConnections};
pub use shell::token::{TokenFuture, TokenProvider};
#[cfg(feature = "upload")]
pub use upload::{set_upload_limit, upload_limit, use_upload, UseUploadOptions, UseUploadReturn};
pub use upload_progress_core::session::{
    Connection, ErrorKind, Millis, Mode, SessionOptions, Status, StatusError,
};
pub use upload_progress_core::{JobState, Progress, Stage, StageStatus};
pub use view::labels::Labels;
pub use view::lead::{Lead, LeadAction, LeadPanel, LeadText};
