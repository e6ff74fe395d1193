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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorResponse::new(self.code.as_str(), self.message)),
        )
            .into_response()
    }
}
