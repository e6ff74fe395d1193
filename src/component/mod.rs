//! The Leptos adapter: the `UploadProgressRobust` component, the
//! `use_upload_progress` hook under it, and `UploadProgressView`, the view
//! alone.
//!
//! The hook starts a session through the shell (`shell::follow`) and keeps
//! it across re-renders; the views render the values of `view/` as one
//! element (`root_view.rs`), which hydration keeps, and hand it to the
//! patcher. `upload_file.rs` is the type of the component's `file` prop;
//! `client.rs` the page-wide settings as a context (`provide_progress_client`).

pub(crate) mod client;
pub(crate) mod hook;
pub(crate) mod progress_view;
pub(crate) mod root_view;
pub(crate) mod upload_file;
pub(crate) mod upload_progress;
