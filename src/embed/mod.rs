//! The embed: the component for pages without Leptos (feature `embed`).
//!
//! `mount.rs` is `mount_upload_progress` and its handle; `element.rs` the
//! `<upload-progress-robust>` custom element; `widget.rs` the widget both
//! mount, driven straight from the shell's driver and the upload shell
//! through the same values, markup and patcher as the component (no
//! reactive graph is loaded). `js_object.rs` builds the plain objects the
//! callbacks receive, `upload.rs` reads the upload options, `types.rs`
//! holds the TypeScript declarations.

pub(crate) mod element;
pub(crate) mod js_object;
pub(crate) mod mount;
pub(crate) mod types;
pub(crate) mod upload;
pub(crate) mod widget;
