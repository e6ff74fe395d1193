//! The demo's admin endpoints, behind the admin bearer token: cleanup,
//! detailed statistics and fault injection.

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use upload_progress_core::protocol::WireErrorCode;

use super::faults::FaultRequest;
use crate::auth::{check_admin, AdminCheck};
use crate::error::ApiError;
use crate::state::Shared;

pub(crate) fn require_admin(state: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    match check_admin(state.config.admin_token.as_deref(), headers) {
        AdminCheck::Allowed => Ok(()),
        AdminCheck::Disabled => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            WireErrorCode::AdminDisabled,
            "admin endpoints are off (start the server with --admin-token)",
        )),
        AdminCheck::Unauthorized => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            WireErrorCode::Unauthorized,
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
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                WireErrorCode::BadFault,
                rej.body_text(),
            )
            .into_response()
        }
    };
    if let Err(msg) = request.validate() {
        return ApiError::new(StatusCode::BAD_REQUEST, WireErrorCode::BadFault, msg)
            .into_response();
    }
    let affected = match request {
        FaultRequest::DropSockets => state.conns.abort_all(),
        FaultRequest::Restart { retry_after_ms } => state.restart_sockets(retry_after_ms, 0),
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
            WireErrorCode::FaultsDisabled,
            "fault injection is off (start the server with --faults)",
        ));
    }
    require_admin(state, headers)
}

/// `GET /ws/stats/detailed` (admin): counters plus per-job and per-IP activity.
///
/// Job ids and client addresses are an operator's view: a job id is half of
/// what it takes to read a job, so this needs the admin token.
pub async fn stats_detailed(State(state): State<Shared>, headers: HeaderMap) -> Response {
    if let Err(err) = require_admin(&state, &headers) {
        return err.into_response();
    }
    let mut body = crate::http::stats_body(&state);
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
