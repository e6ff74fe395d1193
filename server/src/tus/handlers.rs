//! The tus endpoints: `OPTIONS`, `POST` (creation), `HEAD`, `PATCH`, `DELETE`
//! (termination), and the job that follows each upload.

use std::sync::Arc;
use upload_progress_core::protocol::WireErrorCode;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http_body_util::BodyExt;
use upload_progress_core::{JobState, ProcessId, Progress, StageStatus};

use super::headers::{self, *};
use super::storage::{CreateError, Missing, PatchError, Storage, WriteError};
use crate::clock::now_s;
use crate::error::ApiError;
use crate::state::Shared;
use crate::upload_hook::FinishedUpload;

/// Where uploads are created; an upload lives at `{BASE}/{id}`.
/// The clients' default endpoint (core's `DEFAULT_TUS_PATH`), so a page that
/// gives only the HTTP base finds it.
pub const BASE: &str = upload_progress_core::upload::DEFAULT_TUS_PATH;

fn error(status: StatusCode, code: WireErrorCode, message: impl Into<String>) -> Response {
    ApiError::new(status, code, message).into_response()
}

fn missing(why: Missing) -> Response {
    match why {
        Missing::Unknown => error(
            StatusCode::NOT_FOUND,
            WireErrorCode::UnknownUpload,
            "no such upload",
        ),
        Missing::Expired => error(
            StatusCode::GONE,
            WireErrorCode::UploadExpired,
            "the upload was abandoned and removed",
        ),
        Missing::Unavailable => error(
            StatusCode::SERVICE_UNAVAILABLE,
            WireErrorCode::Unavailable,
            "the upload's shared state cannot be reached; try again later",
        ),
    }
}

/// Changes the job of an upload. A shared upload's job may have been
/// created by another instance: this one takes it over first.
async fn update_job(state: &Shared, id: &ProcessId, change: impl FnOnce(&mut Progress)) {
    if state.take_over(id).await {
        let _ = state.store.update(id, change);
    }
}

fn too_large(max: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        WireErrorCode::PayloadTooLarge,
        format!("uploads are limited to {max} bytes"),
    )
}

fn number_value(n: u64) -> HeaderValue {
    HeaderValue::from(n)
}

/// Removes abandoned uploads and fails their jobs.
pub(crate) async fn sweep(state: &Shared, storage: &Storage) {
    for id in storage.sweep() {
        update_job(state, &id, |p| {
            p.state = JobState::Failed;
            p.error = Some("the upload was abandoned".to_owned());
            p.message = "Upload abandoned".to_owned();
            for stage in &mut p.stages {
                if stage.status == StageStatus::Active {
                    stage.status = StageStatus::Failed;
                }
            }
        })
        .await;
    }
}

/// The answer to `OPTIONS`: what this server speaks.
pub fn options_for(max_size: u64) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(TUS_VERSION, HeaderValue::from_static(VERSION));
    h.insert(TUS_EXTENSION, HeaderValue::from_static(EXTENSIONS));
    h.insert(TUS_MAX_SIZE, number_value(max_size));
    response
}

/// `POST`: creates an upload and its `pending` job.
pub async fn create(
    State(state): State<Shared>,
    Extension(storage): Extension<Arc<Storage>>,
    request_headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_resumable(&request_headers) {
        return *refused;
    }
    sweep(&state, &storage).await;
    if request_headers.contains_key(&UPLOAD_DEFER_LENGTH) {
        return headers::bad_request("Upload-Defer-Length is not supported");
    }
    let len = match number(&request_headers, &UPLOAD_LENGTH) {
        Ok(Some(len)) => len,
        Ok(None) => return headers::bad_request("Upload-Length is required"),
        Err(refused) => return *refused,
    };
    if len > storage.max_size() {
        return too_large(storage.max_size());
    }
    let raw_metadata = match request_headers.get(&UPLOAD_METADATA) {
        Some(value) => match value.to_str() {
            Ok(text) => Some(text.to_owned()),
            Err(_) => return headers::bad_request("Upload-Metadata must be ASCII"),
        },
        None => None,
    };
    if let Err(reason) = headers::metadata(raw_metadata.as_deref().unwrap_or("")) {
        return headers::bad_request(reason);
    }
    let process_id = crate::http::new_process_id();
    let id = match storage.create(len, raw_metadata, process_id.clone()).await {
        Ok(id) => id,
        Err(CreateError::TooLarge) => return too_large(storage.max_size()),
        Err(CreateError::Full) => {
            return error(
                StatusCode::INSUFFICIENT_STORAGE,
                WireErrorCode::StorageFull,
                "too many bytes in unfinished uploads; try again later",
            )
        }
        Err(CreateError::Io) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                WireErrorCode::StorageError,
                "cannot store the upload",
            )
        }
    };
    let pending = crate::upload_hook::pending_progress(&state, process_id.clone(), len);
    if state.store.create(pending).is_err() {
        let _ = storage.delete(&id).await;
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            WireErrorCode::StoreFull,
            "too many jobs in progress; try again later",
        );
    }
    let mut response = StatusCode::CREATED.into_response();
    let h = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&format!("{BASE}/{id}")) {
        h.insert(header::LOCATION, location);
    }
    if let Ok(value) = HeaderValue::from_str(process_id.as_str()) {
        h.insert(UPLOAD_PROCESS_ID, value);
    }
    if state.config.require_token {
        let token = state
            .tokens
            .issue(&process_id, now_s(), state.config.token_ttl.as_secs());
        if let Ok(value) = HeaderValue::from_str(&token) {
            h.insert(UPLOAD_TOKEN, value);
        }
    }
    if len == 0 {
        start_processing(&state, &storage, &id, process_id).await;
    }
    response
}

/// `HEAD`: the server's offset.
pub async fn head(
    State(state): State<Shared>,
    Extension(storage): Extension<Arc<Storage>>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_resumable(&request_headers) {
        return *refused;
    }
    sweep(&state, &storage).await;
    match storage.info(&id).await {
        Ok(info) => {
            let mut response = StatusCode::OK.into_response();
            let h = response.headers_mut();
            h.insert(UPLOAD_OFFSET, number_value(info.offset));
            h.insert(UPLOAD_LENGTH, number_value(info.len));
            if let Some(raw) = info
                .raw_metadata
                .and_then(|m| HeaderValue::from_str(&m).ok())
            {
                h.insert(UPLOAD_METADATA, raw);
            }
            if let Ok(value) = HeaderValue::from_str(info.process_id.as_str()) {
                h.insert(UPLOAD_PROCESS_ID, value);
            }
            response
        }
        // HEAD answers carry no body; the status says it all.
        Err(why) => missing(why).status().into_response(),
    }
}

/// `PATCH`: appends the body at `Upload-Offset`.
pub async fn patch(
    State(state): State<Shared>,
    Extension(storage): Extension<Arc<Storage>>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(refused) = check_resumable(&request_headers) {
        return *refused;
    }
    let content_type = request_headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some(OFFSET_STREAM) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WireErrorCode::BadContentType,
            format!("PATCH bodies must be {OFFSET_STREAM}"),
        );
    }
    let offset = match number(&request_headers, &UPLOAD_OFFSET) {
        Ok(Some(offset)) => offset,
        Ok(None) => return headers::bad_request("Upload-Offset is required"),
        Err(refused) => return *refused,
    };
    sweep(&state, &storage).await;
    let mut writer = match storage.begin(&id, offset).await {
        Ok(writer) => writer,
        Err(PatchError::Missing(why)) => return missing(why),
        Err(PatchError::Conflict(actual)) => {
            let mut response = error(
                StatusCode::CONFLICT,
                WireErrorCode::OffsetMismatch,
                format!("the upload is at offset {actual}, not {offset}"),
            );
            response
                .headers_mut()
                .insert(UPLOAD_OFFSET, number_value(actual));
            return response;
        }
        Err(PatchError::Busy) => {
            return error(
                StatusCode::LOCKED,
                WireErrorCode::UploadBusy,
                "another PATCH of this upload is still running",
            )
        }
    };
    let declared = number(&request_headers, &header::CONTENT_LENGTH)
        .ok()
        .flatten();
    if declared.is_some_and(|n| offset.saturating_add(n) > writer.upload_len()) {
        return past_length(writer.upload_len());
    }
    let mut body = body;
    let mut cut = false;
    loop {
        let frame = match tokio::time::timeout(storage.body_idle_timeout(), body.frame()).await {
            Ok(Some(frame)) => frame,
            Ok(None) => break,
            Err(_) => {
                // A silent client must not hold the upload forever.
                cut = true;
                break;
            }
        };
        let Ok(frame) = frame else {
            // The connection broke: what arrived stays, the client asks HEAD.
            cut = true;
            break;
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        match writer.write(&data).await {
            Ok(()) => {}
            Err(WriteError::PastLength) => {
                writer.roll_back().await;
                return past_length(writer.upload_len());
            }
            Err(WriteError::Io(err)) => {
                tracing::warn!(%err, "cannot write upload bytes");
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    WireErrorCode::StorageError,
                    "cannot store the bytes",
                );
            }
        }
    }
    if let Err(err) = writer.flush().await {
        tracing::warn!(?err, "cannot store upload bytes");
        writer.finish().await;
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            WireErrorCode::StorageError,
            "cannot store the bytes",
        );
    }
    let (start, now_at, len) = (writer.start(), writer.offset(), writer.upload_len());
    writer.finish().await;
    let info = storage.info(&id).await.ok();
    if now_at > start {
        if let Some(info) = &info {
            if now_at == len {
                start_processing(&state, &storage, &id, info.process_id.clone()).await;
            } else {
                update_job(&state, &info.process_id, |p| {
                    p.message = format!("Uploading ({now_at} of {len} bytes)");
                })
                .await;
            }
        }
    }
    let mut response = if cut {
        error(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BodyCut,
            "the body ended early",
        )
    } else {
        let mut response = StatusCode::NO_CONTENT.into_response();
        response
            .headers_mut()
            .insert(UPLOAD_OFFSET, number_value(now_at));
        response
    };
    if let Some(info) = info {
        // What this PATCH did, for layers that watch uploads (the demo's
        // fault injection counts it).
        response.extensions_mut().insert(PatchReport {
            process_id: info.process_id,
            start,
            end: now_at,
        });
    }
    response
}

/// What one `PATCH` that reached its upload did, in its answer's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchReport {
    /// The job fed by the upload.
    pub process_id: ProcessId,
    /// `Upload-Offset` of the `PATCH`.
    pub start: u64,
    /// The offset after it.
    pub end: u64,
}

fn past_length(len: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        WireErrorCode::PastUploadLength,
        format!("the body goes past Upload-Length {len}; nothing was written"),
    )
}

/// `DELETE`: removes the upload and cancels its job.
pub async fn delete(
    State(state): State<Shared>,
    Extension(storage): Extension<Arc<Storage>>,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_resumable(&request_headers) {
        return *refused;
    }
    match storage.delete(&id).await {
        Ok(info) => {
            if info.offset < info.len {
                update_job(&state, &info.process_id, |p| {
                    p.state = JobState::Cancelled;
                    p.message = "Upload cancelled".to_owned();
                })
                .await;
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(why) => missing(why),
    }
}

/// The last byte arrived: the job leaves `pending` and the application's
/// handler gets the upload.
async fn start_processing(state: &Shared, storage: &Storage, id: &str, process_id: ProcessId) {
    let Ok(info) = storage.info(id).await else {
        return;
    };
    if !state.take_over(&process_id).await {
        tracing::warn!(process_id = %process_id, "the upload's job cannot be written here");
        return;
    }
    let metadata = info
        .raw_metadata
        .and_then(|raw| headers::metadata(&raw).ok())
        .unwrap_or_default();
    #[cfg(feature = "s3")]
    let upload = match storage.s3() {
        Some(s3) => FinishedUpload::from_s3(s3.clone(), id, info.len, metadata),
        None => FinishedUpload::from_file(storage.file_path(id), info.len, metadata),
    };
    #[cfg(not(feature = "s3"))]
    let upload = FinishedUpload::from_file(storage.file_path(id), info.len, metadata);
    if let Err(err) = crate::upload_hook::run(state, process_id.clone(), upload, true) {
        tracing::warn!(%err, process_id = %process_id, "cannot start processing an upload");
    }
}
