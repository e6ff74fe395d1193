//! Starting jobs from uploads, and fresh tokens for a job.

use upload_progress_core::protocol::WireErrorCode;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use upload_progress_core::{ProcessId, UploadAccepted};

use crate::auth::{bearer, secrets_equal, Inspected};
use crate::clock::now_s;
use crate::error::ApiError;
use crate::reporter::ReportError;
use crate::state::Shared;
use crate::stats::Counters;
use crate::upload_hook::FinishedUpload;

/// A fresh job id: `auto_proc_<16 hex>_<unix seconds>`.
pub(crate) fn new_process_id() -> ProcessId {
    // The format only uses [a-z0-9_], so the first parse always succeeds;
    // looping instead of unwrapping keeps this path free of panics.
    loop {
        let raw = format!("auto_proc_{:016x}_{}", rand::random::<u64>(), now_s());
        if let Ok(id) = ProcessId::parse(&raw) {
            return id;
        }
    }
}

/// 409 for an id a job already holds.
pub(crate) fn process_exists() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        WireErrorCode::ProcessExists,
        "a job with this process_id already exists",
    )
}

/// The answer to an accepted job: its id, a token and the refresh cookie.
pub(crate) fn accepted(state: &Shared, id: ProcessId, status: StatusCode) -> Response {
    let ttl = state.config.token_ttl.as_secs();
    let now = now_s();
    let token = state.tokens.issue(&id, now, ttl);
    (
        status,
        [(header::SET_COOKIE, refresh_cookie(state, &id, now))],
        Json(UploadAccepted {
            process_id: id,
            token,
            expires_in_s: ttl,
        }),
    )
        .into_response()
}

/// Most text fields a multipart upload may carry besides `file`.
const MAX_FORM_FIELDS: usize = 64;

/// `POST /api/uploads`: multipart field `file` (other text fields are its
/// metadata); hands it to the upload handler as a new job.
pub async fn upload(
    State(state): State<Shared>,
    headers: HeaderMap,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let limit = state.config.max_upload_bytes;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            WireErrorCode::PayloadTooLarge,
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
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                WireErrorCode::BadUpload,
                rej.body_text(),
            )
            .into_response()
        }
    };
    // Text fields are the upload's metadata; the field `file` its bytes.
    let mut metadata = Vec::new();
    let mut file = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
            Err(err) => return bad_upload(err.body_text()),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name != "file" {
            match field.text().await {
                Ok(text) if metadata.len() < MAX_FORM_FIELDS => metadata.push((name, text)),
                Ok(_) => return bad_upload("too many form fields".to_owned()),
                Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
                Err(err) => return bad_upload(err.body_text()),
            }
            continue;
        }
        if file.is_some() {
            return bad_upload("the form has more than one field named \"file\"".to_owned());
        }
        if let Some(file_name) = field.file_name() {
            metadata.push(("filename".to_owned(), file_name.to_owned()));
        }
        file = match field.bytes().await {
            Ok(data) if data.len() > limit => return too_big(),
            Ok(data) => Some(data),
            Err(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_big(),
            Err(err) => return bad_upload(err.body_text()),
        };
    }
    let Some(data) = file else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::MissingFile,
            "the multipart body needs a field named \"file\"",
        )
        .into_response();
    };
    let id = new_process_id();
    let upload = FinishedUpload::from_memory(data, metadata);
    match crate::upload_hook::run(&state, id.clone(), upload, false) {
        Ok(()) => accepted(&state, id, StatusCode::ACCEPTED),
        Err(ReportError::Exists) => process_exists().into_response(),
        Err(_) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            WireErrorCode::StoreFull,
            "too many jobs in progress; try again later",
        )
        .into_response(),
    }
}

fn bad_upload(message: String) -> Response {
    ApiError::new(StatusCode::BAD_REQUEST, WireErrorCode::BadUpload, message).into_response()
}

/// Request body cap for uploads: the file limit plus room for multipart headers.
pub fn body_limit(max_upload_bytes: usize) -> usize {
    max_upload_bytes.saturating_add(64 * 1024)
}

/// Query of `POST /api/uploads/{id}/token`.
#[derive(Debug, Deserialize)]
pub struct TokenTtlQuery {
    ttl_s: Option<u64>,
}

/// Name of the cookie holding the refresh credential of job `id`.
pub fn refresh_cookie_name(id: &ProcessId) -> String {
    format!("upr_refresh_{}", id.as_str())
}

/// `Set-Cookie` value carrying a refresh credential for `id`: readable by no
/// script (`HttpOnly`), sent only to this job's token endpoint (`Path`) and
/// never on cross-site requests (`SameSite=Strict`).
fn refresh_cookie(state: &Shared, id: &ProcessId, now: u64) -> String {
    let ttl = state.config.refresh_ttl.as_secs();
    let value = state.tokens.issue_refresh(id, now, ttl);
    format!(
        "{}={value}; Path=/api/uploads/{}/token; Max-Age={ttl}; HttpOnly; SameSite=Strict",
        refresh_cookie_name(id),
        id.as_str()
    )
}

/// The value of cookie `name` in the request, if any.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find_map(|(k, v)| (k == name).then_some(v))
}

/// Who earned a fresh token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// The admin token: any job, any lifetime up to a day.
    Admin,
    /// A holder of this job's token or refresh credential.
    JobHolder,
}

fn refused(status: StatusCode, code: WireErrorCode, message: &str) -> ApiError {
    ApiError::new(status, code, message)
}

/// Checks one presented credential for job `id` at `now`.
fn judge(inspected: Inspected, now: u64, grace_s: u64) -> Option<Result<Caller, ApiError>> {
    match inspected {
        Inspected::Missing => None,
        Inspected::Malformed => Some(Err(refused(
            StatusCode::UNAUTHORIZED,
            WireErrorCode::TokenInvalid,
            "the presented credential is not a token",
        ))),
        Inspected::NotForThisJob => Some(Err(refused(
            StatusCode::FORBIDDEN,
            WireErrorCode::TokenForbidden,
            "the presented credential does not grant access to this job",
        ))),
        Inspected::Signed { expiry_s } if expiry_s.saturating_add(grace_s) <= now => {
            Some(Err(refused(
                StatusCode::UNAUTHORIZED,
                WireErrorCode::TokenExpired,
                "the presented credential expired too long ago to be renewed",
            )))
        }
        Inspected::Signed { .. } => Some(Ok(Caller::JobHolder)),
    }
}

/// Who may have a fresh token for `id`: the admin token, or this job's
/// current token (or one expired less than the refresh grace ago) as
/// `Authorization: Bearer`, or this job's refresh cookie.
fn authorize_refresh(
    state: &Shared,
    id: &ProcessId,
    headers: &HeaderMap,
    now: u64,
) -> Result<Caller, ApiError> {
    let presented = bearer(headers).filter(|t| !t.is_empty());
    if let (Some(admin), Some(got)) = (state.config.admin_token.as_deref(), presented) {
        if secrets_equal(admin, got) {
            return Ok(Caller::Admin);
        }
    }
    let grace = state.config.token_refresh_grace.as_secs();
    let by_bearer = judge(state.tokens.inspect(presented, id), now, grace);
    if let Some(Ok(caller)) = by_bearer {
        return Ok(caller);
    }
    let jar = cookie(headers, &refresh_cookie_name(id));
    // The refresh credential has its own lifetime and no grace.
    let by_cookie = judge(state.tokens.inspect_refresh(jar, id), now, 0);
    if let Some(Ok(caller)) = by_cookie {
        return Ok(caller);
    }
    // Report what the caller deliberately presented first.
    match by_bearer.or(by_cookie) {
        Some(Err(err)) => Err(err),
        _ => Err(refused(
            StatusCode::UNAUTHORIZED,
            WireErrorCode::TokenMissing,
            "a fresh token needs this job's current token (Authorization: Bearer), \
             its refresh cookie, or the admin token",
        )),
    }
}

/// `POST /api/uploads/{id}/token`: a fresh token for an existing job.
///
/// A fresh token has to be earned: see [`authorize_refresh`]. A job holder
/// gets at most the configured token lifetime; the admin may ask for up to a
/// day. Credentials are checked before the job's existence, so an anonymous
/// caller learns nothing about which jobs exist.
pub async fn refresh_token(
    State(state): State<Shared>,
    Path(raw_id): Path<String>,
    headers: HeaderMap,
    query: Result<Query<TokenTtlQuery>, QueryRejection>,
) -> Response {
    let id = match ProcessId::parse(&raw_id) {
        Ok(id) => id,
        Err(err) => return ApiError::invalid_id(err).into_response(),
    };
    let now = now_s();
    let caller = match authorize_refresh(&state, &id, &headers, now) {
        Ok(caller) => caller,
        Err(err) => {
            Counters::bump(&state.stats.counters.unauthorized);
            tracing::info!(process_id = %id.as_str(), code = err.code.as_str(), "token refresh refused");
            return err.into_response();
        }
    };
    let ttl = match query {
        Ok(Query(q)) => q.ttl_s.unwrap_or(state.config.token_ttl.as_secs()),
        Err(rej) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                WireErrorCode::BadQuery,
                rej.body_text(),
            )
            .into_response()
        }
    };
    if !(1..=86_400).contains(&ttl) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BadQuery,
            "ttl_s must be within 1..=86400",
        )
        .into_response();
    }
    match state.lookup(&id).await {
        Ok(Some(_)) => {}
        Ok(None) => return ApiError::unknown_process().into_response(),
        Err(unavailable) => return crate::error::backend_unavailable(unavailable),
    }
    let ttl = match caller {
        Caller::Admin => ttl,
        Caller::JobHolder => ttl.min(state.config.token_ttl.as_secs().max(1)),
    };
    let token = state.tokens.issue(&id, now, ttl);
    Json(json!({ "token": token, "expires_in_s": ttl })).into_response()
}
