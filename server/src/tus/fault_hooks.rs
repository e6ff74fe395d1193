//! Where fault injection reaches the tus endpoints: `refuse_uploads`
//! answers a `PATCH` with 503, `cut_uploads` closes its connection mid-body
//! (after storing what arrived), and the per-upload counters tests read at
//! `GET /ws/admin/uploads/{process_id}` (admin, `--faults`).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hyper::body::Frame;
use upload_progress_core::protocol::WireErrorCode;

use crate::auth::{check_admin, AdminCheck};
use crate::error::ApiError;
use crate::state::Shared;

fn refusal(status: StatusCode, code: WireErrorCode, message: &str) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// The 503 of a refused `PATCH`; `Retry-After` is the fault's time left.
pub(crate) fn refused(left: Duration) -> Response {
    let mut response = refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        WireErrorCode::Unavailable,
        "uploads are paused for a while; try again later",
    );
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

/// A body that fails at once: the server gives up on the answer and closes
/// the connection, so the client sees the request fail as on a network cut.
struct Severed;

impl axum::body::HttpBody for Severed {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "upload cut by the cut_uploads fault",
        ))))
    }
}

/// The "answer" of a cut `PATCH`: the connection closes without one.
pub(crate) fn cut_connection() -> Response {
    let mut response = Response::new(Body::new(Severed));
    *response.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
    response
}

/// `GET /ws/admin/uploads/{process_id}`: what the tus endpoints saw of the
/// upload feeding that job (`bytes_received`, `patches`, `offsets`, `cut`,
/// `refused`); 404 when none was seen.
pub async fn counters(
    State(state): State<Shared>,
    Path(process_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !state.faults.enabled() {
        return refusal(
            StatusCode::FORBIDDEN,
            WireErrorCode::FaultsDisabled,
            "fault injection is off (start the server with --faults)",
        );
    }
    match check_admin(state.config.admin_token.as_deref(), &headers) {
        AdminCheck::Allowed => {}
        AdminCheck::Disabled => {
            return refusal(
                StatusCode::FORBIDDEN,
                WireErrorCode::AdminDisabled,
                "admin endpoints are off (start the server with --admin-token)",
            )
        }
        AdminCheck::Unauthorized => {
            return refusal(
                StatusCode::UNAUTHORIZED,
                WireErrorCode::Unauthorized,
                "admin endpoints need Authorization: Bearer <admin token>",
            )
        }
    }
    match state.faults.upload_counters(&process_id) {
        Some(counters) => Json(counters).into_response(),
        None => refusal(
            StatusCode::NOT_FOUND,
            WireErrorCode::UnknownUpload,
            "no upload of this job was seen",
        ),
    }
}
