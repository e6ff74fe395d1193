//! Starting jobs: uploads, scripted demo jobs, and fresh tokens for a job.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use upload_progress_core::{ProcessId, UploadAccepted};

use crate::clock::now_s;
use crate::error::ApiError;
use crate::pipeline::{self, Plan};
use crate::state::Shared;
use crate::store::StoreError;

/// A fresh job id: `auto_proc_<16 hex>_<unix seconds>`.
fn new_process_id() -> ProcessId {
    // The format only uses [a-z0-9_], so the first parse always succeeds;
    // looping instead of unwrapping keeps this path free of panics.
    loop {
        let raw = format!("auto_proc_{:016x}_{}", rand::random::<u64>(), now_s());
        if let Ok(id) = ProcessId::parse(&raw) {
            return id;
        }
    }
}

fn start_job(state: &Shared, id: ProcessId, plan: Plan, status: StatusCode) -> Response {
    match state.store.create(pipeline::initial_progress(id.clone())) {
        Ok(_) => {}
        Err(StoreError::Exists) => {
            return ApiError::new(
                StatusCode::CONFLICT,
                "process_exists",
                "a job with this process_id already exists",
            )
            .into_response()
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_full",
                "too many jobs in progress; try again later",
            )
            .into_response()
        }
    }
    tokio::spawn(pipeline::run(Arc::clone(&state.store), id.clone(), plan));
    let ttl = state.config.token_ttl.as_secs();
    let token = state.tokens.issue(&id, now_s(), ttl);
    (
        status,
        Json(UploadAccepted {
            process_id: id,
            token,
            expires_in_s: ttl,
        }),
    )
        .into_response()
}

/// `POST /api/uploads`: multipart field `file`; starts the pipeline on its bytes.
pub async fn upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let limit = state.config.max_upload_bytes;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("uploads are limited to {limit} bytes"),
        )
        .into_response()
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > body_limit(limit) as u64) {
        return too_big();
    }
    let mut multipart = match multipart {
        Ok(m) => m,
        Err(rej) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_upload", rej.body_text())
                .into_response()
        }
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
            Err(err) => {
                return ApiError::new(StatusCode::BAD_REQUEST, "bad_upload", err.body_text())
                    .into_response()
            }
        };
        if field.name() != Some("file") {
            continue;
        }
        let file_name = field.file_name().map(str::to_owned);
        let data = match field.bytes().await {
            Ok(data) if data.len() > limit => return too_big(),
            Ok(data) => data,
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
            Err(err) => {
                return ApiError::new(StatusCode::BAD_REQUEST, "bad_upload", err.body_text())
                    .into_response()
            }
        };
        let plan = Plan {
            step: Duration::from_millis(state.config.stage_ms),
            steps_per_stage: state.config.steps_per_stage,
            fail_at_stage: None,
            data: Some(Arc::from(data.as_ref())),
            file_name,
        };
        return start_job(&state, new_process_id(), plan, StatusCode::ACCEPTED);
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "missing_file",
        "the multipart body needs a field named \"file\"",
    )
    .into_response()
}

/// Request body cap for uploads: the file limit plus room for multipart headers.
pub fn body_limit(max_upload_bytes: usize) -> usize {
    max_upload_bytes.saturating_add(64 * 1024)
}

/// Query of `POST /ws/test/{id}`.
#[derive(Debug, Deserialize)]
pub struct TestJobQuery {
    step_ms: Option<u64>,
    steps_per_stage: Option<u32>,
    fail_at_stage: Option<u32>,
}

/// `POST /ws/test/{id}`: a scripted four-stage job under a caller-chosen id.
pub async fn test_job(
    State(state): State<Shared>,
    Path(raw_id): Path<String>,
    query: Result<Query<TestJobQuery>, QueryRejection>,
) -> Response {
    let id = match ProcessId::parse(&raw_id) {
        Ok(id) => id,
        Err(err) => return ApiError::invalid_id(err).into_response(),
    };
    let q = match query {
        Ok(Query(q)) => q,
        Err(rej) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_query", rej.body_text())
                .into_response()
        }
    };
    let step_ms = q.step_ms.unwrap_or(state.config.stage_ms);
    let steps = q.steps_per_stage.unwrap_or(state.config.steps_per_stage);
    if step_ms > 60_000 || !(1..=1000).contains(&steps) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "step_ms must be at most 60000 and steps_per_stage within 1..=1000",
        )
        .into_response();
    }
    if q.fail_at_stage
        .is_some_and(|s| s as usize >= pipeline::STAGES.len())
    {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            format!("fail_at_stage must be below {}", pipeline::STAGES.len()),
        )
        .into_response();
    }
    let plan = Plan {
        step: Duration::from_millis(step_ms),
        steps_per_stage: steps,
        fail_at_stage: q.fail_at_stage,
        data: None,
        file_name: None,
    };
    start_job(&state, id, plan, StatusCode::ACCEPTED)
}

/// Query of `POST /api/uploads/{id}/token`.
#[derive(Debug, Deserialize)]
pub struct TokenTtlQuery {
    ttl_s: Option<u64>,
}

/// `POST /api/uploads/{id}/token`: a fresh token for an existing job.
///
/// This stands in for the application's own sign-in: in production the app
/// decides who may watch a job; here any allowed origin may.
pub async fn refresh_token(
    State(state): State<Shared>,
    Path(raw_id): Path<String>,
    query: Result<Query<TokenTtlQuery>, QueryRejection>,
) -> Response {
    let id = match ProcessId::parse(&raw_id) {
        Ok(id) => id,
        Err(err) => return ApiError::invalid_id(err).into_response(),
    };
    let ttl = match query {
        Ok(Query(q)) => q.ttl_s.unwrap_or(state.config.token_ttl.as_secs()),
        Err(rej) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_query", rej.body_text())
                .into_response()
        }
    };
    if !(1..=86_400).contains(&ttl) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_query",
            "ttl_s must be within 1..=86400",
        )
        .into_response();
    }
    if !state.store.contains(&id) {
        return ApiError::unknown_process().into_response();
    }
    let token = state.tokens.issue(&id, now_s(), ttl);
    Json(json!({ "token": token, "expires_in_s": ttl })).into_response()
}
