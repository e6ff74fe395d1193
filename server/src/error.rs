//! JSON error answers: `{"error":{"code","message"}}` with a fitting status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ErrorResponse;

/// An HTTP error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine code.
    pub code: WireErrorCode,
    /// Human explanation.
    pub message: String,
}

impl ApiError {
    /// Builds an error.
    pub fn new(status: StatusCode, code: WireErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 for an id outside `[A-Za-z0-9_-]{1,128}`.
    pub fn invalid_id(reason: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            WireErrorCode::InvalidProcessId,
            reason.to_string(),
        )
    }

    /// 404 for a valid id the store does not hold.
    pub fn unknown_process() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            WireErrorCode::UnknownProcess,
            "no job with this process_id",
        )
    }
}

/// 503 for a job the shared backend cannot look up now: it may exist, so
/// not 404. The body is the usual JSON error plus `retry_after_ms`, and
/// `Retry-After` says the same in whole seconds.
pub fn backend_unavailable(unavailable: crate::backend::Unavailable) -> Response {
    let ms = unavailable.retry_after_ms;
    let body = serde_json::json!({
        "error": {
            "code": WireErrorCode::Unavailable.as_str(),
            "message": "the job store is not reachable yet; try again shortly",
            "retry_after_ms": ms,
        }
    });
    let seconds = ms.div_ceil(1000).max(1).to_string();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, seconds)],
        Json(body),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorResponse::new(self.code.as_str(), self.message)),
        )
            .into_response()
    }
}
