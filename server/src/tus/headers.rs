//! tus 1.0.0 request headers: version check, numbers, `Upload-Metadata`.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use upload_progress_core::protocol::WireErrorCode;

use crate::error::ApiError;

/// The only protocol version served.
pub const VERSION: &str = "1.0.0";
/// Extensions served.
pub const EXTENSIONS: &str = "creation,termination";
/// Media type of `PATCH` bodies.
pub const OFFSET_STREAM: &str = "application/offset+octet-stream";

/// `Tus-Resumable`.
pub const TUS_RESUMABLE: HeaderName = HeaderName::from_static("tus-resumable");
/// `Tus-Version`.
pub const TUS_VERSION: HeaderName = HeaderName::from_static("tus-version");
/// `Tus-Extension`.
pub const TUS_EXTENSION: HeaderName = HeaderName::from_static("tus-extension");
/// `Tus-Max-Size`.
pub const TUS_MAX_SIZE: HeaderName = HeaderName::from_static("tus-max-size");
/// `Upload-Length`.
pub const UPLOAD_LENGTH: HeaderName = HeaderName::from_static("upload-length");
/// `Upload-Offset`.
pub const UPLOAD_OFFSET: HeaderName = HeaderName::from_static("upload-offset");
/// `Upload-Metadata`.
pub const UPLOAD_METADATA: HeaderName = HeaderName::from_static("upload-metadata");
/// `Upload-Defer-Length` (not supported).
pub const UPLOAD_DEFER_LENGTH: HeaderName = HeaderName::from_static("upload-defer-length");
/// `Upload-Process-Id`: the job started for the upload.
pub const UPLOAD_PROCESS_ID: HeaderName = HeaderName::from_static("upload-process-id");
/// `Upload-Token`: the job's token, when tokens are required.
pub const UPLOAD_TOKEN: HeaderName = HeaderName::from_static("upload-token");

/// Every request but `OPTIONS` must speak our version; 412 otherwise.
/// Refusals are boxed: a `Response` is large and the happy path is common.
pub fn check_resumable(headers: &HeaderMap) -> Result<(), Box<Response>> {
    match headers.get(&TUS_RESUMABLE).map(HeaderValue::as_bytes) {
        Some(v) if v == VERSION.as_bytes() => Ok(()),
        _ => {
            let mut response = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                WireErrorCode::TusVersion,
                format!("Tus-Resumable must be {VERSION}"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(TUS_VERSION, HeaderValue::from_static(VERSION));
            Err(Box::new(response))
        }
    }
}

/// A non-negative decimal header; `None` when absent, `Err` when malformed.
pub fn number(headers: &HeaderMap, name: &HeaderName) -> Result<Option<u64>, Box<Response>> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or("");
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        let message = format!("{name} must be a non-negative integer");
        return Err(Box::new(bad_request(message)));
    }
    text.parse::<u64>()
        .map(Some)
        .map_err(|_| Box::new(bad_request(format!("{name} is out of range"))))
}

/// A 400 answer.
pub fn bad_request(message: impl Into<String>) -> Response {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        WireErrorCode::BadTusRequest,
        message,
    )
    .into_response()
}

/// Decoded `Upload-Metadata`: `key` or `key base64value` pairs, comma-separated.
pub fn metadata(raw: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for item in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (key, value) = match item.split_once(' ') {
            Some((key, value)) => (key, value.trim()),
            None => (item, ""),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(format!("bad metadata key {key:?}"));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(value)
            .map_err(|_| format!("metadata value of {key:?} is not base64"))?;
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(format!("metadata key {key:?} given twice"));
        }
        pairs.push((key.to_owned(), String::from_utf8_lossy(&bytes).into_owned()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_pairs_decode_and_bad_ones_are_refused() {
        let pairs =
            metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential").unwrap();
        assert_eq!(
            pairs,
            [
                (
                    "filename".to_owned(),
                    "world_domination_plan.pdf".to_owned()
                ),
                ("is_confidential".to_owned(), String::new())
            ]
        );
        assert!(metadata("filename not*base64").is_err());
        assert!(metadata("a YQ==,a YQ==").is_err());
        assert_eq!(metadata("").unwrap(), []);
    }

    #[test]
    fn numbers_are_plain_decimals() {
        let mut headers = HeaderMap::new();
        assert_eq!(number(&headers, &UPLOAD_LENGTH).unwrap(), None);
        headers.insert(UPLOAD_LENGTH, HeaderValue::from_static("42"));
        assert_eq!(number(&headers, &UPLOAD_LENGTH).unwrap(), Some(42));
        for bad in ["-1", "+1", "1e3", "", "99999999999999999999999"] {
            headers.insert(UPLOAD_LENGTH, HeaderValue::from_str(bad).unwrap());
            assert!(number(&headers, &UPLOAD_LENGTH).is_err(), "{bad}");
        }
    }
}
