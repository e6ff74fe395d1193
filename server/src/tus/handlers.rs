//! The tus endpoints: `OPTIONS`, `POST` (creation), `HEAD`, `PATCH`, `DELETE`
//! (termination), and the job that follows each upload.

use std::sync::Arc;
use std::time::Duration;
use upload_progress_core::protocol::WireErrorCode;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use http_body_util::BodyExt;
use upload_progress_core::{JobState, ProcessId, StageStatus};

use super::fault_hooks;
use super::headers::{self, *};
use super::storage::{CreateError, Missing, PatchError, Storage, WriteError};
use crate::clock::now_s;
use crate::error::ApiError;
use crate::faults::UploadEvent;
use crate::pipeline::{self, Plan};
use crate::state::Shared;

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
pub(crate) fn sweep(state: &Shared, storage: &Storage) {
    for id in storage.sweep() {
        let _ = state.store.update(&id, |p| {
            p.state = JobState::Failed;
            p.error = Some("the upload was abandoned".to_owned());
            p.message = "Upload abandoned".to_owned();
            for stage in &mut p.stages {
                if stage.status == StageStatus::Active {
                    stage.status = StageStatus::Failed;
                }
            }
        });
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
    sweep(&state, &storage);
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
    let id = match storage.create(len, raw_metadata, process_id.clone()) {
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
    let mut pending = pipeline::initial_progress(process_id.clone());
    pending.state = JobState::Pending;
    pending.message = format!("Waiting for the upload (0 of {len} bytes)");
    if state.store.create(pending).is_err() {
        let _ = storage.delete(&id);
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
    sweep(&state, &storage);
    match storage.info(&id) {
        Ok(info) => {
            let mut response = StatusCode::OK.into_response();
            let h = response.headers_mut();
            h.insert(UPLOAD_OFFSET, number_value(info.offset));
            h.insert(UPLOAD_LENGTH, number_value(info.len));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
        Err(why) => {
            let status = missing(why).status();
            let mut response = status.into_response();
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
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
    // Only with fault injection on: the job whose upload's counters move.
    let counted = state
        .faults
        .enabled()
        .then(|| storage.info(&id).ok())
        .flatten()
        .map(|info| info.process_id);
    let count = |event: UploadEvent| {
        if let Some(process_id) = &counted {
            state.faults.count_upload(process_id.as_str(), event);
        }
    };
    if let Some(left) = state.faults.refuse_upload() {
        count(UploadEvent::Refused);
        return fault_hooks::refused(left);
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
    sweep(&state, &storage);
    let mut writer = match storage.begin(&id, offset) {
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
    count(UploadEvent::Patch(offset));
    // `cut_uploads`: bytes this body may still bring before the connection closes.
    let mut cut_budget = state.faults.take_upload_cut(declared);
    let mut severed = false;
    let mut body = body;
    let mut cut = false;
    loop {
        if cut_budget == Some(0) {
            severed = true;
            break;
        }
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
        let Ok(mut data) = frame.into_data() else {
            continue; // trailers
        };
        if let Some(left) = cut_budget.as_mut() {
            let keep = usize::try_from(*left).unwrap_or(usize::MAX).min(data.len());
            data.truncate(keep);
            *left -= keep as u64;
        }
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
    let (start, now_at, len) = (writer.start(), writer.offset(), writer.upload_len());
    drop(writer);
    count(UploadEvent::Bytes(now_at - start));
    if now_at > start {
        if let Ok(info) = storage.info(&id) {
            if now_at == len {
                start_processing(&state, &storage, &id, info.process_id).await;
            } else {
                let _ = state.store.update(&info.process_id, |p| {
                    p.message = format!("Uploading ({now_at} of {len} bytes)");
                });
            }
        }
    }
    if severed {
        count(UploadEvent::Cut);
        return fault_hooks::cut_connection();
    }
    if cut {
        return error(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BodyCut,
            "the body ended early",
        );
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response
        .headers_mut()
        .insert(UPLOAD_OFFSET, number_value(now_at));
    response
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
    match storage.delete(&id) {
        Ok(info) => {
            if info.offset < info.len {
                let _ = state.store.update(&info.process_id, |p| {
                    p.state = JobState::Cancelled;
                    p.message = "Upload cancelled".to_owned();
                });
            }
            StatusCode::NO_CONTENT.into_response()
        }
        Err(why) => missing(why),
    }
}

/// The last byte arrived: the job leaves `pending` and its stages run.
async fn start_processing(state: &Shared, storage: &Storage, id: &str, process_id: ProcessId) {
    let bytes = match storage.take_bytes(id).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(%err, "cannot read a finished upload");
            let _ = state.store.update(&process_id, |p| {
                p.state = JobState::Failed;
                p.error = Some("the uploaded bytes could not be read".to_owned());
            });
            return;
        }
    };
    let file_name = storage
        .info(id)
        .ok()
        .and_then(|info| info.raw_metadata)
        .and_then(|raw| headers::metadata(&raw).ok())
        .and_then(|pairs| {
            pairs
                .into_iter()
                .find(|(k, _)| k == "filename" || k == "name")
                .map(|(_, v)| v)
        });
    let running = pipeline::initial_progress(process_id.clone());
    let _ = state.store.update(&process_id, |p| {
        p.state = JobState::Running;
        p.stages = running.stages;
        p.message = running.message;
    });
    let plan = Plan {
        step: Duration::from_millis(state.config.stage_ms),
        steps_per_stage: state.config.steps_per_stage,
        fail_at_stage: None,
        data: Some(Arc::from(bytes)),
        file_name,
    };
    tokio::spawn(pipeline::run(Arc::clone(&state.store), process_id, plan));
}
