//! Plain HTTP endpoints: progress polling, status and stats, uploads, demo jobs, admin.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use upload_progress_core::{ProcessId, ProgressResponse, UploadAccepted};

use crate::auth::{bearer, check_admin, AdminCheck};
use crate::clock::now_s;
use crate::error::ApiError;
use crate::faults::FaultRequest;
use crate::pipeline::{self, Plan};
use crate::state::{ClientIp, Shared};
use crate::stats::{read, Counters};
use crate::store::StoreError;
use crate::ws::{self, Target};

/// Upgrade attempt or its absence: the same path serves sockets and polling.
type MaybeUpgrade =
    Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>;

/// `?token=` on socket URLs (and accepted on polling as a fallback to `Authorization`).
#[derive(Debug, Default, Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /ws/progress/{id}`: a socket when upgrading, else one poll.
pub async fn progress_by_id(
    State(state): State<Shared>,
    Path(raw_id): Path<String>,
    ip: ClientIp,
    query: Result<Query<TokenQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: MaybeUpgrade,
) -> Response {
    let token = query.ok().and_then(|Query(q)| q.token);
    match upgrade {
        Ok(ws) => match ws::admit(&state, ip).await {
            Ok(guard) => ws::upgrade(ws, state.clone(), guard, Target::Job { raw_id, token }),
            Err(resp) => resp,
        },
        Err(_) => poll(&state, &raw_id, token.as_deref(), &headers)
            .unwrap_or_else(IntoResponse::into_response),
    }
}

fn poll(
    state: &Shared,
    raw_id: &str,
    query_token: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = ProcessId::parse(raw_id).map_err(ApiError::invalid_id)?;
    state.stats.http_request(&id);
    if state.faults.poll_error() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "polling is failing for now (fault injection)",
        ));
    }
    if state.config.require_token {
        let token = bearer(headers).or(query_token);
        if let Err(err) = state.tokens.verify(token, &id, now_s()) {
            Counters::bump(&state.stats.counters.unauthorized);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                err.code(),
                err.to_string(),
            ));
        }
    }
    let progress = state.store.get(&id).ok_or_else(ApiError::unknown_process)?;
    let etag = format!("\"{}\"", progress.seq);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if if_none_match(headers, &etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), no_store],
        )
            .into_response());
    }
    Ok((
        [(header::ETAG, etag_value), no_store],
        Json(ProgressResponse { progress }),
    )
        .into_response())
}

/// True when an `If-None-Match` entry equals `etag` (weak or strong) or is `*`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// `GET /ws/progress`: all active jobs, as a socket or one answer.
pub async fn progress_all(
    State(state): State<Shared>,
    ip: ClientIp,
    query: Result<Query<TokenQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: MaybeUpgrade,
) -> Response {
    // Every job at once is an operator's view: with tokens on, it needs the admin token.
    if state.config.require_token {
        let presented = bearer(&headers).or(query.as_ref().ok().and_then(|q| q.token.as_deref()));
        let ok = matches!(
            (state.config.admin_token.as_deref(), presented),
            (Some(want), Some(got)) if crate::auth::secrets_equal(want, got)
        );
        if !ok {
            Counters::bump(&state.stats.counters.unauthorized);
            return ApiError::new(
                StatusCode::UNAUTHORIZED,
                "token_missing",
                "the all-jobs view needs the admin token when tokens are required",
            )
            .into_response();
        }
    }
    match upgrade {
        Ok(ws) => match ws::admit(&state, ip).await {
            Ok(guard) => ws::upgrade(ws, state.clone(), guard, Target::All),
            Err(resp) => resp,
        },
        Err(_) => {
            let jobs = state.store.active();
            (
                [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
                Json(json!({ "count": jobs.len(), "processes": jobs })),
            )
                .into_response()
        }
    }
}

/// `GET /ws/health`: a heartbeat-only socket, or a one-line health answer.
pub async fn health(State(state): State<Shared>, ip: ClientIp, upgrade: MaybeUpgrade) -> Response {
    match upgrade {
        Ok(ws) => match ws::admit(&state, ip).await {
            Ok(guard) => ws::upgrade(ws, state.clone(), guard, Target::Health),
            Err(resp) => resp,
        },
        Err(_) => Json(json!({ "status": health_word(&state) })).into_response(),
    }
}

fn health_word(state: &Shared) -> &'static str {
    if state.is_shutting_down() {
        "shutting_down"
    } else {
        "healthy"
    }
}

/// `GET /ws/status`: health, connection statistics and active faults.
pub async fn status(State(state): State<Shared>) -> Response {
    Json(json!({
        "status": health_word(&state),
        "websocket_enabled": true,
        "statistics": {
            "total_connections": state.conns.total(),
            "active_connections": state.conns.active(),
            "connection_limit": state.conns.max_total(),
            "per_ip_limit": state.conns.max_per_ip(),
            "cached_processes": state.store.len(),
        },
        "faults": state.faults.snapshot(),
    }))
    .into_response()
}

fn stats_body(state: &Shared) -> serde_json::Value {
    let c = &state.stats.counters;
    json!({
        "uptime_s": state.started.elapsed().as_secs(),
        "connections": {
            "active": state.conns.active(),
            "total": state.conns.total(),
            "limit": state.conns.max_total(),
            "per_ip_limit": state.conns.max_per_ip(),
        },
        "jobs": {
            "cached": state.store.len(),
            "active": state.store.active_len(),
        },
        "frames": {
            "sent": read(&c.frames_sent),
            "received": read(&c.frames_received),
        },
        "refused": {
            "server_full": read(&c.refused_server_full),
            "per_ip": read(&c.refused_per_ip),
            "origin": read(&c.refused_origin),
            "fault": read(&c.refused_fault),
        },
        "closed": {
            "rate_limited": read(&c.rate_limited),
            "oversized": read(&c.oversized),
            "stale": read(&c.stale_dropped),
            "unauthorized": read(&c.unauthorized),
        },
        "malformed_frames": read(&c.malformed),
    })
}

/// `GET /ws/stats`: counters.
pub async fn stats(State(state): State<Shared>) -> Response {
    Json(stats_body(&state)).into_response()
}

/// `GET /ws/stats/detailed`: counters plus per-job and per-IP activity.
pub async fn stats_detailed(State(state): State<Shared>) -> Response {
    let mut body = stats_body(&state);
    let per_ip: serde_json::Map<String, serde_json::Value> = state
        .conns
        .per_ip()
        .into_iter()
        .map(|(ip, n)| (ip.to_string(), json!(n)))
        .collect();
    body["processes"] = json!(state.stats.per_process());
    body["connections"]["per_ip"] = serde_json::Value::Object(per_ip);
    Json(body).into_response()
}

/// `GET /ws/stats/rate-limit`: the message rate limit and how often it bit.
pub async fn stats_rate_limit(State(state): State<Shared>) -> Response {
    let c = &state.stats.counters;
    Json(json!({
        "limit": state.config.rate_limit,
        "window_s": state.config.rate_window.as_secs_f64(),
        "max_message_bytes": state.config.max_message_bytes,
        "rate_limited_closes": read(&c.rate_limited),
        "oversized_closes": read(&c.oversized),
    }))
    .into_response()
}

fn require_admin(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match check_admin(state.config.admin_token.as_deref(), headers) {
        AdminCheck::Allowed => Ok(()),
        AdminCheck::Disabled => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "admin_disabled",
            "admin endpoints are off (start the server with --admin-token)",
        )),
        AdminCheck::Unauthorized => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "admin endpoints need Authorization: Bearer <admin token>",
        )),
    }
}

/// `POST /ws/cleanup` (admin): drops expired finished jobs and stale stats now.
pub async fn cleanup(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(err) = require_admin(&state, &headers) {
        return err.into_response();
    }
    let (jobs, stats) = state.cleanup();
    Json(json!({
        "removed_jobs": jobs,
        "removed_stats": stats,
        "cached_processes": state.store.len(),
        "active_connections": state.conns.active(),
    }))
    .into_response()
}

/// `POST /ws/admin/faults` (admin, `--faults`): start or clear a fault.
pub async fn faults_post(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<FaultRequest>, JsonRejection>,
) -> Response {
    if let Err(err) = faults_allowed(&state, &headers) {
        return err.into_response();
    }
    let request = match body {
        Ok(Json(r)) => r,
        Err(rej) => {
            return ApiError::new(StatusCode::BAD_REQUEST, "bad_fault", rej.body_text())
                .into_response()
        }
    };
    if let Err(msg) = request.validate() {
        return ApiError::new(StatusCode::BAD_REQUEST, "bad_fault", msg).into_response();
    }
    let affected = match request {
        FaultRequest::DropSockets => state.conns.abort_all(),
        FaultRequest::Restart { retry_after_ms } => state.restart_sockets(retry_after_ms),
        _ => 0,
    };
    state.faults.apply(&request);
    tracing::info!(?request, affected, "fault injected");
    Json(json!({ "faults": state.faults.snapshot(), "affected": affected })).into_response()
}

/// `GET /ws/admin/faults` (admin, `--faults`): the active faults.
pub async fn faults_get(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(err) = faults_allowed(&state, &headers) {
        return err.into_response();
    }
    Json(json!({ "faults": state.faults.snapshot() })).into_response()
}

fn faults_allowed(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    if !state.faults.enabled() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "faults_disabled",
            "fault injection is off (start the server with --faults)",
        ));
    }
    require_admin(state, headers)
}

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
/// This stands in for the application's own session: in production the app
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let mut h = HeaderMap::new();
        assert!(!if_none_match(&h, "\"3\""));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"2\", W/\"3\""),
        );
        assert!(if_none_match(&h, "\"3\""));
        assert!(!if_none_match(&h, "\"4\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&h, "\"9\""));
    }
}
