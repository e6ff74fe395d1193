//! `GET /ws/page/poll?ids=a,b&tokens=ta,tb`: one poll for a set of jobs
//! (protocol v1.1), with one `ETag` for the whole set.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use upload_progress_core::page::{set_etag, SetEntry, SetPollResponse};
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ErrorBody;

use super::job_set::JobSetQuery;
use crate::error::ApiError;
use crate::state::Shared;
use crate::stats::Counters;
use crate::ws::follow::check_access;

/// One answer for every asked job: its state or its own error, in the asked
/// order. The request fails as a whole only when the set itself is unusable.
pub async fn set_poll(
    State(state): State<Shared>,
    query: Result<Query<JobSetQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    Counters::bump(&state.stats.counters.page_polls);
    answer(&state, query, &headers)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn answer(
    state: &Shared,
    query: Result<Query<JobSetQuery>, QueryRejection>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|rej| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::BadQuery,
            rej.body_text(),
        )
    })?;
    let jobs = query.jobs(state.config.max_subscriptions)?;
    // Fault injection is a demo surface: an application built without the
    // `demo` feature has no faults to inject.
    #[cfg(feature = "demo")]
    if state.faults.poll_error() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            WireErrorCode::Unavailable,
            "polling is failing for now (fault injection)",
        ));
    }
    let mut entries = Vec::with_capacity(jobs.len());
    for job in jobs {
        let read = match check_access(state, &job.process_id, job.token.as_deref()) {
            Ok((id, _)) => {
                state.stats.http_request(&id);
                match state.lookup(&id).await {
                    Ok(Some(progress)) => Ok(progress),
                    Ok(None) => Err(ErrorBody {
                        code: WireErrorCode::UnknownProcess.to_string(),
                        message: "no job with this process_id".to_owned(),
                    }),
                    // The job may exist: the shared job store cannot be
                    // asked now. That job's entry says so; the others are
                    // answered as usual, and the next poll asks again.
                    Err(unavailable) => Err(ErrorBody {
                        code: WireErrorCode::Unavailable.to_string(),
                        message: format!(
                            "the job store is not reachable yet; poll again in {} ms",
                            unavailable.retry_after_ms
                        ),
                    }),
                }
            }
            Err(denied) => Err(ErrorBody {
                code: denied.code.to_string(),
                message: denied.message,
            }),
        };
        let (progress, error) = match read {
            Ok(progress) => (Some(progress), None),
            Err(error) => (None, Some(error)),
        };
        entries.push(SetEntry {
            process_id: job.process_id,
            progress,
            error,
        });
    }
    let etag = set_etag(&entries);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"s\""));
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if matches_tag(headers, &etag) {
        return Ok((
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_value), no_store],
        )
            .into_response());
    }
    Ok((
        [(header::ETAG, etag_value), no_store],
        Json(SetPollResponse { jobs: entries }),
    )
        .into_response())
}

/// True when an `If-None-Match` entry is `etag` (weak or strong) or `*`.
fn matches_tag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_takes_the_strong_weak_and_star_forms() {
        let mut h = HeaderMap::new();
        assert!(!matches_tag(&h, "\"s1\""));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"s0\", W/\"s1\""),
        );
        assert!(matches_tag(&h, "\"s1\""));
        assert!(!matches_tag(&h, "\"s2\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(matches_tag(&h, "\"s2\""));
    }
}
