//! The application's own processing of a finished upload.
//!
//! An application registers one handler ([`crate::ProgressServerBuilder::on_upload`])
//! with the stages it reports. Once the last byte of an upload is stored
//! (tus) or the whole body arrived (`POST /api/uploads`), the handler gets
//! the upload ([`FinishedUpload`]) and the job's writer ([`JobHandle`]),
//! already `running` in the first stage; the client that uploaded follows
//! that job on the same bar as its upload.
//!
//! The handler runs in its own task, watched by the library:
//! - returning `Ok(())` completes the job if the handler did not end it;
//! - returning `Err(e)` fails the job with `e` as its error;
//! - a panic fails the job ("the upload handler panicked: ...");
//!
//! and in every case the server and the other jobs carry on. The stored
//! file is removed once the handler is done: move it (`tokio::fs::rename`)
//! to keep it.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use upload_progress_core::{JobState, ProcessId, Progress, Stage, StageStatus};

use crate::reporter::{JobHandle, Settle};
use crate::state::Shared;

/// A boxed handler future, as the library stores it.
type HandlerFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
/// A type-erased handler.
type Handler = dyn Fn(FinishedUpload, JobHandle) -> HandlerFuture + Send + Sync;

/// The stage a job gets when the application names none.
const DEFAULT_STAGE: (&str, &str) = ("processing", "Processing");

/// The registered handler and the stages its jobs report.
#[derive(Clone)]
pub struct UploadHook {
    stages: Arc<[(String, String)]>,
    handler: Arc<Handler>,
}

impl std::fmt::Debug for UploadHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadHook")
            .field("stages", &self.stages)
            .finish_non_exhaustive()
    }
}

impl UploadHook {
    /// `handler` for every finished upload; its jobs have `stages`
    /// (`(name, label)` pairs, in order; none given: one `processing` stage).
    pub fn new<F, Fut, E>(stages: &[(&str, &str)], handler: F) -> Self
    where
        F: Fn(FinishedUpload, JobHandle) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        let stages: Vec<(String, String)> = if stages.is_empty() {
            vec![(DEFAULT_STAGE.0.to_owned(), DEFAULT_STAGE.1.to_owned())]
        } else {
            stages
                .iter()
                .map(|(n, l)| ((*n).to_owned(), (*l).to_owned()))
                .collect()
        };
        let handler = move |upload: FinishedUpload, job: JobHandle| -> HandlerFuture {
            let run = handler(upload, job);
            Box::pin(async move { run.await.map_err(|e| e.to_string()) })
        };
        Self {
            stages: stages.into(),
            handler: Arc::new(handler),
        }
    }

    /// The stages of every upload's job.
    pub fn stages(&self) -> Vec<(&str, &str)> {
        self.stages
            .iter()
            .map(|(n, l)| (n.as_str(), l.as_str()))
            .collect()
    }
}

/// Where a finished upload's bytes are.
#[derive(Debug, Clone)]
enum Source {
    /// A file the library removes once the handler is done.
    File(PathBuf),
    /// In memory (`POST /api/uploads`, bounded by its size limit).
    Memory(Bytes),
    /// Parts in an S3-compatible store, removed once the handler is done.
    #[cfg(feature = "s3")]
    S3 {
        store: crate::tus::s3::S3Data,
        id: String,
    },
}

/// A checksum the client sent with the upload, as sent: `Upload-Metadata`
/// key `checksum` (tus) or the form field `checksum` (multipart), written
/// `<algorithm> <value>` (e.g. `sha256 3a7bd3...`). The library does not
/// verify it; the handler may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// E.g. `sha256`, lower-cased.
    pub algorithm: String,
    /// The digest as the client wrote it (hex or base64).
    pub value: String,
}

impl Checksum {
    /// Parses `<algorithm> <value>`; `None` when either part is missing.
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split_whitespace();
        let (algorithm, value) = (parts.next()?, parts.next()?);
        parts.next().is_none().then(|| Self {
            algorithm: algorithm.to_ascii_lowercase(),
            value: value.to_owned(),
        })
    }
}

/// One upload whose last byte arrived.
#[derive(Debug, Clone)]
pub struct FinishedUpload {
    source: Source,
    size: u64,
    metadata: Vec<(String, String)>,
    checksum: Option<Checksum>,
}

impl FinishedUpload {
    pub(crate) fn from_file(path: PathBuf, size: u64, metadata: Vec<(String, String)>) -> Self {
        Self::new(Source::File(path), size, metadata)
    }

    #[cfg(feature = "s3")]
    pub(crate) fn from_s3(
        store: crate::tus::s3::S3Data,
        id: &str,
        size: u64,
        metadata: Vec<(String, String)>,
    ) -> Self {
        let id = id.to_owned();
        Self::new(Source::S3 { store, id }, size, metadata)
    }

    pub(crate) fn from_memory(bytes: Bytes, metadata: Vec<(String, String)>) -> Self {
        let size = bytes.len() as u64;
        Self::new(Source::Memory(bytes), size, metadata)
    }

    fn new(source: Source, size: u64, metadata: Vec<(String, String)>) -> Self {
        let checksum = metadata
            .iter()
            .find(|(k, _)| k == "checksum")
            .and_then(|(_, v)| Checksum::parse(v));
        Self {
            source,
            size,
            metadata,
            checksum,
        }
    }

    /// Its length in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The file on disk, when it is one (tus uploads are); removed once the
    /// handler is done, so move it to keep it.
    pub fn path(&self) -> Option<&Path> {
        match &self.source {
            Source::File(path) => Some(path),
            _ => None,
        }
    }

    /// Every byte, read into memory.
    pub async fn bytes(&self) -> std::io::Result<Bytes> {
        match &self.source {
            Source::File(path) => tokio::fs::read(path).await.map(Bytes::from),
            Source::Memory(bytes) => Ok(bytes.clone()),
            #[cfg(feature = "s3")]
            Source::S3 { store, id } => store.read(id, self.size).await,
        }
    }

    /// A reader over the bytes, for uploads too big to hold in memory (a
    /// file is streamed; S3 parts are read into memory first, for now).
    pub async fn reader(&self) -> std::io::Result<Box<dyn tokio::io::AsyncRead + Send + Unpin>> {
        match &self.source {
            Source::File(path) => Ok(Box::new(tokio::fs::File::open(path).await?)),
            _ => Ok(Box::new(std::io::Cursor::new(self.bytes().await?))),
        }
    }

    /// The metadata sent with it, in order: tus `Upload-Metadata` pairs, or
    /// the text fields of the multipart form (and `filename`, the file
    /// field's file name).
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// One metadata value.
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The client's file name (`filename` or `name` in the metadata).
    pub fn file_name(&self) -> Option<&str> {
        self.meta("filename").or_else(|| self.meta("name"))
    }

    /// The checksum the client sent, if any.
    pub fn checksum(&self) -> Option<&Checksum> {
        self.checksum.as_ref()
    }

    /// What to remove once the handler is done.
    fn stored(&self) -> Source {
        self.source.clone()
    }
}

/// The stages of upload jobs on this server: the handler's, or one
/// `upload` stage without a handler.
fn stages_of(state: &Shared) -> Vec<(&str, &str)> {
    match &state.upload_hook {
        Some(hook) => hook.stages(),
        None => vec![NO_HANDLER_STAGE],
    }
}

/// The one stage of upload jobs when no handler is registered.
const NO_HANDLER_STAGE: (&str, &str) = ("upload", "Upload");

/// The job of an upload still arriving: `pending`, every stage ahead.
pub(crate) fn pending_progress(state: &Shared, id: ProcessId, len: u64) -> Progress {
    let mut p = Progress::unknown(id, crate::clock::now_ms());
    p.state = JobState::Pending;
    let stages = stages_of(state);
    p.stage_count = u32::try_from(stages.len()).unwrap_or(u32::MAX);
    p.stages = stages
        .into_iter()
        .map(|(name, label)| Stage {
            name: name.to_owned(),
            label: label.to_owned(),
            status: StageStatus::Pending,
        })
        .collect();
    p.message = format!("Waiting for the upload (0 of {len} bytes)");
    p
}

/// Hands `upload` to the application's handler as job `id` (which exists,
/// `pending`, when `pending` is true; otherwise it is created) and watches
/// it to the end. Without a handler the job completes at once.
pub(crate) fn run(
    state: &Shared,
    id: ProcessId,
    upload: FinishedUpload,
    pending: bool,
) -> Result<(), crate::reporter::ReportError> {
    let Some(hook) = state.upload_hook.clone() else {
        let job = JobHandle::for_upload(state, id, &[NO_HANDLER_STAGE], pending)?;
        let _ = job.complete(&format!("Upload complete ({} bytes)", upload.size));
        let stored = upload.stored();
        tokio::spawn(remove_stored(stored));
        return Ok(());
    };
    let job = JobHandle::for_upload(state, id.clone(), &hook.stages(), pending)?;
    let stored = upload.stored();
    let work = (hook.handler)(upload, job);
    let state = Arc::clone(state);
    tokio::spawn(async move {
        // Its own task: a panic ends that task only, and is seen here.
        let outcome = match tokio::spawn(work).await {
            Ok(Ok(())) => Settle::Completed,
            Ok(Err(error)) => Settle::Failed(format!("processing failed: {error}")),
            Err(join) if join.is_panic() => Settle::Failed(format!(
                "processing failed: the upload handler panicked: {}",
                panic_text(join.into_panic())
            )),
            Err(_) => Settle::Failed("processing failed: the upload handler was cancelled".into()),
        };
        if let Settle::Failed(reason) = &outcome {
            tracing::warn!(process_id = %id, %reason, "upload handler failed");
        }
        crate::reporter::settle(&state, &id, outcome);
        remove_stored(stored).await;
    });
    Ok(())
}

/// The text a panic carried, when it was one.
fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(text) => *text,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(text) => (*text).to_owned(),
            Err(_) => "(no message)".to_owned(),
        },
    }
}

async fn remove_stored(stored: Source) {
    match stored {
        // Gone already when the handler moved it.
        Source::File(path) => {
            let _ = tokio::fs::remove_file(path).await;
        }
        Source::Memory(_) => {}
        #[cfg(feature = "s3")]
        Source::S3 { store, id } => {
            if let Err(err) = store.remove_from(&id, 0).await {
                tracing::warn!(%err, "cannot remove a finished upload's parts");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksums_parse_as_algorithm_and_value() {
        assert_eq!(
            Checksum::parse("SHA256 abc="),
            Some(Checksum {
                algorithm: "sha256".into(),
                value: "abc=".into()
            })
        );
        assert_eq!(Checksum::parse("sha256"), None);
        assert_eq!(Checksum::parse("a b c"), None);
    }

    #[tokio::test]
    async fn metadata_name_and_bytes() {
        let upload = FinishedUpload::from_memory(
            Bytes::from_static(b"abc"),
            vec![
                ("name".into(), "a.txt".into()),
                ("checksum".into(), "md5 x".into()),
            ],
        );
        assert_eq!(upload.file_name(), Some("a.txt"));
        assert_eq!(upload.checksum().map(|c| c.algorithm.as_str()), Some("md5"));
        assert_eq!(upload.size(), 3);
        assert_eq!(upload.path(), None);
        assert_eq!(&upload.bytes().await.expect("bytes")[..], b"abc");
        let mut text = String::new();
        tokio::io::AsyncReadExt::read_to_string(
            &mut upload.reader().await.expect("reader"),
            &mut text,
        )
        .await
        .expect("read");
        assert_eq!(text, "abc");
    }
}
