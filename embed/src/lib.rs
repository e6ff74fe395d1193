//! The embed package: re-exports the component crate's JS API so that
//! wasm-bindgen emits it as a standalone ES module.

pub use upload_progress_robust::{
    mount_upload_progress, register_upload_progress_element, UploadProgressHandle,
};
