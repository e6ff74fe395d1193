//! What the `refuse_uploads` and `cut_uploads` faults answer, the body that
//! cuts a `PATCH` mid-way, and the per-upload counters tests read at
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
    let h = response.headers_mut();
    h.insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    // Answered in front of the tus routes, so it says its version itself.
    h.insert(
        crate::tus::headers::TUS_RESUMABLE,
        HeaderValue::from_static(crate::tus::headers::VERSION),
    );
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

/// A `PATCH` body that ends in an error after `left` bytes, as a cut
/// connection would; `hit` records that it did.
pub(crate) struct CutAfter {
    pub(crate) inner: Body,
    pub(crate) left: u64,
    pub(crate) hit: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl axum::body::HttpBody for CutAfter {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            self.hit.store(true, std::sync::atomic::Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new(std::io::Error::other(
                "upload cut by the cut_uploads fault",
            )))));
        }
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match polled {
            Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                Ok(mut data) => {
                    let keep = usize::try_from(self.left)
                        .unwrap_or(usize::MAX)
                        .min(data.len());
                    data.truncate(keep);
                    self.left -= keep as u64;
                    Poll::Ready(Some(Ok(Frame::data(data))))
                }
                Err(frame) => Poll::Ready(Some(Ok(frame))),
            },
            other => other,
        }
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
    if let Err(err) = super::admin::require_admin(&state, &headers) {
        return err.into_response();
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
