//! Protocol constants both sides must agree on, in one place: the grace for
//! jobs not registered yet, the ETag format, and the machine codes of error
//! answers and error frames.

use std::fmt;

/// How long an id with no job is tolerated: the server keeps a socket for
/// such an id open this long before closing with 4404, and a client treats
/// `404 unknown_process` as "not yet" for this long after it began following.
pub const UNKNOWN_JOB_GRACE_MS: u64 = 10_000;

/// The `ETag` of a job's progress at `seq`: the seq as a quoted string.
pub fn etag(seq: u64) -> String {
    format!("\"{seq}\"")
}

/// The seq an `ETag` or `If-None-Match` value names, if it is one of ours
/// (a weak `W/` prefix is accepted, since proxies may add it).
pub fn parse_etag(value: &str) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("W/").unwrap_or(value);
    value.strip_prefix('"')?.strip_suffix('"')?.parse().ok()
}

/// The machine codes of `{"error":{"code"}}` answers and `error` frames.
///
/// Unknown codes from other servers are kept as [`WireErrorCode::Other`] so
/// a client can still show them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WireErrorCode {
    /// The process id is malformed (HTTP 400, close 4400).
    InvalidProcessId,
    /// No such job (HTTP 404, close 4404).
    UnknownProcess,
    /// No token was presented where one is required.
    TokenMissing,
    /// The token is not valid for this job.
    TokenInvalid,
    /// The token has expired.
    TokenExpired,
    /// The credential is valid but does not grant this (HTTP 403).
    TokenForbidden,
    /// Generic authentication failure.
    Unauthorized,
    /// Too many messages or requests.
    RateLimited,
    /// A frame over the size limit.
    MessageTooBig,
    /// A frame that is not a valid client message.
    BadMessage,
    /// A binary frame, which protocol v1 does not use.
    UnsupportedFrame,
    /// The server is at its connection limit.
    ServerFull,
    /// Too many connections from one address.
    TooManyConnections,
    /// The server is shutting down.
    ShuttingDown,
    /// The upgrade was refused (fault injection or policy).
    UpgradeRefused,
    /// The `Origin` is not allowed.
    OriginNotAllowed,
    /// A query string the endpoint cannot use.
    BadQuery,
    /// An unusable upload.
    BadUpload,
    /// No such resource.
    NotFound,
    /// Admin endpoints are off on this server.
    AdminDisabled,
    /// A tus PATCH without `application/offset+octet-stream`.
    BadContentType,
    /// An unusable fault-injection request.
    BadFault,
    /// A tus request with missing or malformed headers.
    BadTusRequest,
    /// A request body that ended early.
    BodyCut,
    /// Fault injection is off on this server.
    FaultsDisabled,
    /// The `Host` is not one this server answers for.
    HostNotAllowed,
    /// A multipart upload without its file.
    MissingFile,
    /// A tus PATCH whose `Upload-Offset` is not the upload's offset (409).
    OffsetMismatch,
    /// Bytes beyond the declared `Upload-Length`.
    PastUploadLength,
    /// A body over the size limit (413).
    PayloadTooLarge,
    /// A job with this id already exists.
    ProcessExists,
    /// The server could not store the bytes.
    StorageError,
    /// The server's upload storage is full (507).
    StorageFull,
    /// The server holds as many jobs as it may.
    StoreFull,
    /// A `Tus-Resumable` version the server does not speak (412).
    TusVersion,
    /// No such tus upload (404).
    UnknownUpload,
    /// Another PATCH of this upload is in progress (423).
    UploadBusy,
    /// An abandoned upload that expired (410).
    UploadExpired,
    /// The server cannot take the request now (503).
    Unavailable,
    /// A page connection already follows as many jobs as it may (v1.1).
    TooManySubscriptions,
    /// The path exists but does not take this method (405).
    MethodNotAllowed,
    /// Any other code.
    Other(String),
}

impl WireErrorCode {
    const KNOWN: [(Self, &'static str); 41] = [
        (Self::InvalidProcessId, "invalid_process_id"),
        (Self::UnknownProcess, "unknown_process"),
        (Self::TokenMissing, "token_missing"),
        (Self::TokenInvalid, "token_invalid"),
        (Self::TokenExpired, "token_expired"),
        (Self::TokenForbidden, "token_forbidden"),
        (Self::Unauthorized, "unauthorized"),
        (Self::RateLimited, "rate_limited"),
        (Self::MessageTooBig, "message_too_big"),
        (Self::BadMessage, "bad_message"),
        (Self::UnsupportedFrame, "unsupported_frame"),
        (Self::ServerFull, "server_full"),
        (Self::TooManyConnections, "too_many_connections"),
        (Self::ShuttingDown, "shutting_down"),
        (Self::UpgradeRefused, "upgrade_refused"),
        (Self::OriginNotAllowed, "origin_not_allowed"),
        (Self::BadQuery, "bad_query"),
        (Self::BadUpload, "bad_upload"),
        (Self::NotFound, "not_found"),
        (Self::AdminDisabled, "admin_disabled"),
        (Self::BadContentType, "bad_content_type"),
        (Self::BadFault, "bad_fault"),
        (Self::BadTusRequest, "bad_tus_request"),
        (Self::BodyCut, "body_cut"),
        (Self::FaultsDisabled, "faults_disabled"),
        (Self::HostNotAllowed, "host_not_allowed"),
        (Self::MissingFile, "missing_file"),
        (Self::OffsetMismatch, "offset_mismatch"),
        (Self::PastUploadLength, "past_upload_length"),
        (Self::PayloadTooLarge, "payload_too_large"),
        (Self::ProcessExists, "process_exists"),
        (Self::StorageError, "storage_error"),
        (Self::StorageFull, "storage_full"),
        (Self::StoreFull, "store_full"),
        (Self::TusVersion, "tus_version"),
        (Self::UnknownUpload, "unknown_upload"),
        (Self::UploadBusy, "upload_busy"),
        (Self::UploadExpired, "upload_expired"),
        (Self::Unavailable, "unavailable"),
        (Self::TooManySubscriptions, "too_many_subscriptions"),
        (Self::MethodNotAllowed, "method_not_allowed"),
    ];

    /// The code as it travels.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Other(code) => code,
            known => Self::KNOWN
                .iter()
                .find(|(code, _)| code == known)
                .map_or("", |(_, text)| text),
        }
    }

    /// Reads a code off the wire; never fails.
    pub fn parse(text: &str) -> Self {
        // Moved out of a copy of the table rather than cloned: the clone of
        // this enum is one branch per variant in the browser's wasm.
        Self::KNOWN
            .into_iter()
            .find(|(_, known)| *known == text)
            .map_or_else(|| Self::Other(text.to_owned()), |(code, _)| code)
    }

    /// Codes that mean the credentials were refused.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Self::TokenMissing
                | Self::TokenInvalid
                | Self::TokenExpired
                | Self::TokenForbidden
                | Self::Unauthorized
        )
    }

    /// Codes that mean the client broke a rule it cannot fix by retrying.
    pub fn is_policy(&self) -> bool {
        matches!(
            self,
            Self::InvalidProcessId
                | Self::MessageTooBig
                | Self::RateLimited
                | Self::BadMessage
                | Self::UnsupportedFrame
                | Self::OriginNotAllowed
                | Self::BadQuery
        )
    }
}

impl fmt::Display for WireErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_round_trip_and_accept_the_weak_form() {
        assert_eq!(etag(7), "\"7\"");
        assert_eq!(parse_etag(&etag(7)), Some(7));
        assert_eq!(parse_etag("W/\"12\""), Some(12));
        assert_eq!(parse_etag("12"), None);
        assert_eq!(parse_etag("\"x\""), None);
    }

    #[test]
    fn every_known_code_round_trips_and_unknown_codes_are_kept() {
        for (code, text) in WireErrorCode::KNOWN {
            assert_eq!(code.as_str(), text);
            assert_eq!(WireErrorCode::parse(text), code);
        }
        assert_eq!(
            WireErrorCode::parse("teapot"),
            WireErrorCode::Other("teapot".into())
        );
        assert_eq!(WireErrorCode::parse("teapot").as_str(), "teapot");
    }
}
