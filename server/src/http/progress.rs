//! Progress over HTTP and the socket upgrades that share its paths.

use axum::extract::rejection::QueryRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::protocol::{etag, parse_etag};
use upload_progress_core::{ProcessId, ProgressResponse};

use crate::auth::bearer;
use crate::clock::now_s;
use crate::error::ApiError;
use crate::state::{ClientIp, Shared};
use crate::stats::Counters;
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
            .await
            .unwrap_or_else(IntoResponse::into_response),
    }
}

async fn poll(
    state: &Shared,
    raw_id: &str,
    query_token: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let id = ProcessId::parse(raw_id).map_err(ApiError::invalid_id)?;
    state.stats.http_request(&id);
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
    let progress = match state.lookup(&id).await {
        Ok(found) => found.ok_or_else(ApiError::unknown_process)?,
        Err(unavailable) => return Ok(crate::error::backend_unavailable(unavailable)),
    };
    let etag = etag(progress.seq);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"0\""));
    if if_none_match(headers, progress.seq) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag_value)]).into_response());
    }
    Ok((
        [(header::ETAG, etag_value)],
        Json(ProgressResponse { progress }),
    )
        .into_response())
}

/// True when an `If-None-Match` entry names `seq` (weak or strong) or is `*`.
fn if_none_match(headers: &HeaderMap, seq: u64) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || parse_etag(tag) == Some(seq))
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
                WireErrorCode::TokenMissing,
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
            Json(json!({ "count": jobs.len(), "processes": jobs })).into_response()
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

pub(super) fn health_word(state: &Shared) -> &'static str {
    if state.is_shutting_down() {
        "shutting_down"
    } else {
        "healthy"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let mut h = HeaderMap::new();
        assert!(!if_none_match(&h, 3));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"2\", W/\"3\""),
        );
        assert!(if_none_match(&h, 3));
        assert!(!if_none_match(&h, 4));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&h, 9));
    }
}
