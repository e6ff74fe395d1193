//! The URLs and headers the session asks the shell to use.

use super::SessionConfig;

/// `{ws_base}/ws/progress/{id}`, plus `?token=` when a token is known.
pub(super) fn socket_url(config: &SessionConfig, token: Option<&str>) -> String {
    let mut url = format!(
        "{}/ws/progress/{}",
        config.ws_base.trim_end_matches('/'),
        config.process_id
    );
    if let Some(token) = token {
        url.push_str("?token=");
        url.push_str(&encode_query_value(token));
    }
    url
}

/// `{http_base}/ws/progress/{id}`; the token travels in a header instead.
pub(super) fn poll_url(config: &SessionConfig) -> String {
    format!(
        "{}/ws/progress/{}",
        config.http_base.trim_end_matches('/'),
        config.process_id
    )
}

/// The `If-None-Match` value for the newest held `seq`.
pub(super) fn etag(seq: u64) -> String {
    crate::protocol::etag(seq)
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so a token
/// holding `+`, `/`, `=` or `&` survives the query string intact.
pub(crate) fn encode_query_value(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionOptions;
    use crate::ProcessId;

    fn config(ws: &str, http: &str) -> SessionConfig {
        SessionConfig {
            process_id: ProcessId::parse("job_1").unwrap(),
            ws_base: ws.into(),
            http_base: http.into(),
            token: None,
            token_expires_at: None,
            token_provider: false,
            options: SessionOptions::default(),
        }
    }

    #[test]
    fn socket_url_carries_the_id_and_an_encoded_token() {
        let c = config("ws://h:1/", "http://h:1");
        assert_eq!(socket_url(&c, None), "ws://h:1/ws/progress/job_1");
        assert_eq!(
            socket_url(&c, Some("a+b/c=")),
            "ws://h:1/ws/progress/job_1?token=a%2Bb%2Fc%3D"
        );
    }

    #[test]
    fn poll_url_and_etag_follow_the_protocol() {
        let c = config("ws://h:1", "http://h:1//");
        assert_eq!(poll_url(&c), "http://h:1/ws/progress/job_1");
        assert_eq!(etag(7), "\"7\"");
    }
}
