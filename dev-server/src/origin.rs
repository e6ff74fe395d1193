//! `Origin` allowlist and the CORS layer built from it.
//!
//! Browsers send cookies with a WebSocket upgrade from any page, so a socket
//! endpoint without an origin check can be driven by a foreign site
//! (cross-site WebSocket hijacking). The check runs before any upgrade.

use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Which origins may call the API.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    exact: Vec<String>,
    loopback: bool,
}

impl OriginPolicy {
    /// A policy allowing `exact` origins (trailing `/` ignored) and optionally any loopback origin.
    pub fn new(exact: &[String], loopback: bool) -> Self {
        Self {
            exact: exact
                .iter()
                .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
                .collect(),
            loopback,
        }
    }

    /// True when `origin` is on the list (or loopback and loopback is allowed).
    pub fn allows(&self, origin: &str) -> bool {
        let origin = origin.trim().to_ascii_lowercase();
        if self.exact.contains(&origin) {
            return true;
        }
        self.loopback && is_loopback_origin(&origin)
    }

    /// Checks a request's `Origin` header.
    ///
    /// No header means a non-browser client, which cannot be hijacked through
    /// a user's cookies, so it is allowed. A page served by this server itself
    /// (origin equal to `http://<Host>`) is same-origin and allowed too.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let Ok(origin) = origin.to_str() else {
            return Err("<non-ascii>".to_owned());
        };
        if self.allows(origin) || is_same_origin(origin, headers) {
            Ok(())
        } else {
            Err(origin.to_owned())
        }
    }

    /// CORS for allowed origins: GET/POST with the headers the client uses, `ETag` readable.
    pub fn cors_layer(self: &Arc<Self>) -> CorsLayer {
        let policy = Arc::clone(self);
        CorsLayer::new()
            .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin.to_str().is_ok_and(|o| policy.allows(o))
            }))
            .allow_methods([Method::GET, Method::POST])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                header::IF_NONE_MATCH,
            ])
            .expose_headers([header::ETAG])
    }
}

fn is_same_origin(origin: &str, headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let origin = origin.to_ascii_lowercase();
    let host = host.to_ascii_lowercase();
    origin == format!("http://{host}") || origin == format!("https://{host}")
}

fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("http://") else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        match v6.split_once(']') {
            Some((h, tail)) if valid_port_tail(tail) => h,
            _ => return false,
        }
    } else {
        match rest.split_once(':') {
            Some((h, port)) if valid_port_tail(&format!(":{port}")) => h,
            Some(_) => return false,
            None => rest,
        }
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1")
}

/// Empty, or `:` followed by a port number.
fn valid_port_tail(tail: &str) -> bool {
    match tail.strip_prefix(':') {
        None => tail.is_empty(),
        Some(port) => port.parse::<u16>().is_ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_and_exact() {
        let p = OriginPolicy::new(&["https://app.example.com/".to_owned()], true);
        assert!(p.allows("https://app.example.com"));
        assert!(p.allows("http://127.0.0.1:5173"));
        assert!(p.allows("http://localhost:8080"));
        assert!(p.allows("http://[::1]:80"));
        assert!(!p.allows("http://127.0.0.1.evil.com"));
        assert!(!p.allows("http://localhost:80/x"));
        assert!(!p.allows("https://evil.example"));
        let strict = OriginPolicy::new(&[], false);
        assert!(!strict.allows("http://127.0.0.1:5173"));
    }

    #[test]
    fn missing_origin_and_same_origin_pass() {
        let p = OriginPolicy::new(&[], false);
        let mut h = HeaderMap::new();
        assert!(p.check(&h).is_ok());
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9000"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:9000"),
        );
        assert!(p.check(&h).is_ok());
        h.insert(header::ORIGIN, HeaderValue::from_static("http://evil"));
        assert!(p.check(&h).is_err());
    }
}
