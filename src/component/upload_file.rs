//! `UploadFile`: the type of `UploadProgressRobust`'s `file` prop.
//!
//! Leptos 0.8's `#[component]` keeps a prop whatever `#[cfg]` it carries, so
//! the prop exists in every build. Its type decides what it accepts: with
//! the `upload` feature a `web_sys::File` converts into it; without, it has
//! no values at all, so passing a file fails to compile (instead of being
//! ignored at run time) and the compiler drops the upload branch, keeping
//! the upload code out of apps that never upload.

/// A file for [`crate::UploadProgressRobust`] to upload before following
/// its job (feature `upload`). Made from a `web_sys::File`, e.g. the one an
/// `<input type="file">` gives: `file=input.files().unwrap().get(0).unwrap()`.
#[cfg(feature = "upload")]
#[derive(Debug, Clone)]
pub struct UploadFile(pub web_sys::File);

#[cfg(feature = "upload")]
impl From<web_sys::File> for UploadFile {
    fn from(file: web_sys::File) -> Self {
        Self(file)
    }
}

/// A file for [`crate::UploadProgressRobust`] to upload before following
/// its job. This build has no `upload` feature, so there is no such value:
/// enable the feature to pass a `file`.
#[cfg(not(feature = "upload"))]
#[derive(Debug, Clone)]
pub enum UploadFile {}
