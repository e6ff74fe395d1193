//! Fault injection as one layer in front of the protocol's routes: the
//! handlers know nothing of it. It refuses or delays socket upgrades,
//! refuses event streams, fails polls, refuses tus `PATCH`es or cuts their
//! bodies mid-way, and counts what each upload's `PATCH`es did (from the
//! [`PatchReport`] the tus handler leaves in its answer).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ProcessId;

use super::faults::UploadEvent;
use super::tus_faults::{cut_connection, refused, CutAfter};
use crate::error::ApiError;
use crate::state::Shared;
use crate::stats::Counters;
use crate::tus::handlers::{PatchReport, BASE};

/// The page event stream's path (`refuse_streams`).
const EVENTS: &str = "/ws/page/events";

/// The layer's function (`axum::middleware::from_fn_with_state`).
pub(crate) async fn inject(State(state): State<Shared>, request: Request, next: Next) -> Response {
    if !state.faults.enabled() {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path.starts_with("/ws/") && is_upgrade(request.headers()) {
        if state.faults.refuse_upgrade() {
            Counters::bump(&state.stats.counters.refused_fault);
            return crate::ws::unavailable(
                WireErrorCode::UpgradeRefused,
                "upgrades are refused for now (fault injection)",
            );
        }
        if let Some(delay) = state.faults.handshake_delay() {
            tokio::time::sleep(delay).await;
        }
        return next.run(request).await;
    }
    if request.method() == Method::GET && path == EVENTS && state.faults.refuse_stream() {
        // The 503 a full server gives a stream (PROTOCOL.md 11.5), with the
        // code that says the server cannot serve it now.
        Counters::bump(&state.stats.counters.refused_fault);
        return crate::ws::unavailable(
            WireErrorCode::Unavailable,
            "event streams are refused for now (fault injection)",
        );
    }
    if request.method() == Method::GET
        && path.starts_with("/ws/progress/")
        && state.faults.poll_error()
    {
        // A failed poll is still a poll the job's client made: counted as
        // the handler would have, so the statistics show the client kept
        // polling through the failures.
        let raw_id = path.trim_start_matches("/ws/progress/");
        if let Ok(id) = ProcessId::parse(raw_id) {
            state.stats.http_request(&id);
        }
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            WireErrorCode::Unavailable,
            "polling is failing for now (fault injection)",
        )
        .into_response();
    }
    let tus_item = path
        .strip_prefix(BASE)
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .map(str::to_owned);
    match tus_item {
        Some(upload) if request.method() == Method::PATCH => {
            patch(&state, &upload, request, next).await
        }
        _ => next.run(request).await,
    }
}

fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// A tus `PATCH` under the upload faults.
async fn patch(state: &Shared, upload: &str, request: Request, next: Next) -> Response {
    if let Some(left) = state.faults.refuse_upload() {
        let process_id = match state.tus_storage.get() {
            Some(storage) => storage.info(upload).await.ok().map(|info| info.process_id),
            None => None,
        };
        if let Some(process_id) = process_id {
            state
                .faults
                .count_upload(process_id.as_str(), UploadEvent::Refused);
        }
        return refused(left);
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let cut = state.faults.take_upload_cut(declared);
    let hit = Arc::new(AtomicBool::new(false));
    let request = match cut {
        Some(after) => {
            let (parts, body) = request.into_parts();
            let body = Body::new(CutAfter {
                inner: body,
                left: after,
                hit: Arc::clone(&hit),
            });
            Request::from_parts(parts, body)
        }
        None => request,
    };
    let response = next.run(request).await;
    let report = response.extensions().get::<PatchReport>().cloned();
    if let Some(report) = &report {
        let id = report.process_id.as_str();
        state
            .faults
            .count_upload(id, UploadEvent::Patch(report.start));
        state
            .faults
            .count_upload(id, UploadEvent::Bytes(report.end - report.start));
    }
    match (cut, report) {
        (Some(_), Some(report)) if hit.load(Ordering::Relaxed) => {
            state
                .faults
                .count_upload(report.process_id.as_str(), UploadEvent::Cut);
            cut_connection()
        }
        // The PATCH never reached its body: the cut is for the next one.
        (Some(after), None) => {
            state.faults.give_back_upload_cut(after);
            response
        }
        _ => response,
    }
}
