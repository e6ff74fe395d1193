//! `POST /ws/test/{id}`: the scripted demo job, run by the demo pipeline
//! through a [`crate::Reporter`] like any application job.

use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ProcessId;

use super::pipeline::{self, Plan, STAGES};
use crate::error::ApiError;
use crate::http::{accepted, process_exists};
use crate::reporter::{ReportError, Reporter};
use crate::state::Shared;

fn start_job(state: &Shared, id: ProcessId, plan: Plan, status: StatusCode) -> Response {
    if let Err(refused) = launch(state, id.clone(), plan) {
        return refused.into_response();
    }
    accepted(state, id, status)
}

/// Creates the job and starts its pipeline.
fn launch(state: &Shared, id: ProcessId, plan: Plan) -> Result<(), ApiError> {
    let job = match Reporter::new(state.clone()).start(id, &STAGES) {
        Ok(job) => job,
        Err(ReportError::Exists) => return Err(process_exists()),
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                WireErrorCode::StoreFull,
                "too many jobs in progress; try again later",
            ))
        }
    };
    tokio::spawn(async move {
        if let Err(err) = pipeline::run(job, plan).await {
            tracing::debug!(%err, "scripted job stopped");
        }
    });
    Ok(())
}

/// Query of `POST /ws/test/{id}`.
#[derive(Debug, Deserialize)]
pub struct TestJobQuery {
    step_ms: Option<u64>,
    steps_per_stage: Option<u32>,
    fail_at_stage: Option<u32>,
    start_in_ms: Option<u64>,
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
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                WireErrorCode::BadQuery,
                rej.body_text(),
            )
            .into_response()
        }
    };
    let step_ms = q.step_ms.unwrap_or(state.config.stage_ms);
    let steps = q.steps_per_stage.unwrap_or(state.config.steps_per_stage);
    if step_ms > 60_000 || !(1..=1000).contains(&steps) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BadQuery,
            "step_ms must be at most 60000 and steps_per_stage within 1..=1000",
        )
        .into_response();
    }
    if q.fail_at_stage.is_some_and(|s| s as usize >= STAGES.len()) {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BadQuery,
            format!("fail_at_stage must be below {}", STAGES.len()),
        )
        .into_response();
    }
    let start_in_ms = q.start_in_ms.unwrap_or(0);
    if start_in_ms > 60_000 {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BadQuery,
            "start_in_ms must be at most 60000",
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
    if start_in_ms == 0 {
        return start_job(&state, id, plan, StatusCode::ACCEPTED);
    }
    // A start the server times itself: a load generator asks for all its
    // jobs at once, and their starts do not depend on how promptly its own
    // requests leave. An id taken now is refused now; one taken meanwhile
    // is only logged when the start comes.
    if state.store.contains(&id) {
        return process_exists().into_response();
    }
    let later = state.clone();
    let job = id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(start_in_ms)).await;
        if let Err(err) = launch(&later, job.clone(), plan) {
            tracing::warn!(process_id = %job, reason = %err.message, "delayed job start refused");
        }
    });
    accepted(&state, id, StatusCode::ACCEPTED)
}
