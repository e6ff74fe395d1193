//! `Origin` and `Host` allowlists, and the CORS layer built from them.
//!
//! Browsers send cookies with a WebSocket upgrade from any page, so a socket
//! endpoint without an origin check can be driven by a foreign site
//! (cross-site WebSocket hijacking). The check runs before any upgrade.
//!
//! Comparing `Origin` with `Host` is not enough: after DNS rebinding, a page
//! at `http://evil.example:8080` whose name now resolves to this server sends
//! `Origin: http://evil.example:8080` and `Host: evil.example:8080`, which
//! match. So nothing is same-origin by itself; only configured origins pass,
//! and a request must address this server by an IP literal, `localhost`, a
//! configured host, or the host of an allowed origin (a rebound name is none
//! of those; same-origin `GET`s carry no `Origin`, but they do carry `Host`).

use std::net::IpAddr;
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// `Origin` is not on the list.
    Origin(String),
    /// `Host` names this server by a name it was not told about.
    Host(String),
}

/// Which origins may call the API, and by which host names it may be addressed.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    exact: Vec<String>,
    loopback: bool,
    hosts: Vec<String>,
}

impl OriginPolicy {
    /// A policy allowing `exact` origins (trailing `/` ignored) and optionally any loopback origin.
    pub fn new(exact: &[String], loopback: bool) -> Self {
        Self::with_hosts(exact, loopback, &[])
    }

    /// Like [`OriginPolicy::new`], also accepting requests addressed to `hosts`
    /// (`name` for any port, or `name:port`).
    pub fn with_hosts(exact: &[String], loopback: bool, hosts: &[String]) -> Self {
        let exact: Vec<String> = exact
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
            .collect();
        // The host of an allowed origin is a name the operator chose.
        let mut all_hosts: Vec<String> = exact
            .iter()
            .filter_map(|o| o.split_once("://").map(|(_, rest)| rest.to_owned()))
            .collect();
        all_hosts.extend(hosts.iter().map(|h| h.trim().to_ascii_lowercase()));
        Self {
            exact,
            loopback,
            hosts: all_hosts,
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

    /// True when a request with `Host: host` may be served.
    pub fn allows_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let name = host_name(&host);
        if name == "localhost" || is_ip_literal(name) {
            return true;
        }
        self.hosts
            .iter()
            .any(|allowed| *allowed == host || allowed == name)
    }

    /// Checks a request's `Host` and `Origin` headers.
    ///
    /// No `Origin` means a non-browser client (or a same-origin `GET`, which
    /// the `Host` check covers), which cannot be hijacked through a user's
    /// cookies, so it is allowed.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refused> {
        if let Some(host) = headers.get(header::HOST) {
            match host.to_str() {
                Ok(h) if self.allows_host(h) => {}
                Ok(h) => return Err(Refused::Host(h.to_owned())),
                Err(_) => return Err(Refused::Host("<non-ascii>".to_owned())),
            }
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let Ok(origin) = origin.to_str() else {
            return Err(Refused::Origin("<non-ascii>".to_owned()));
        };
        if self.allows(origin) {
            Ok(())
        } else {
            Err(Refused::Origin(origin.to_owned()))
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

/// `host` without its port (`[::1]:80` -> `[::1]`, `a.b:80` -> `a.b`).
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.split_once(':').map_or(host, |(h, _)| h)
}

/// An IPv4 literal or a bracketed IPv6 literal: no DNS name, so nothing to rebind.
fn is_ip_literal(name: &str) -> bool {
    let bare = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .unwrap_or(name);
    bare.parse::<IpAddr>().is_ok()
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
    fn missing_origin_passes_and_same_origin_is_not_enough() {
        let p = OriginPolicy::new(&[], false);
        let mut h = HeaderMap::new();
        assert!(p.check(&h).is_ok());
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:9000"));
        assert!(p.check(&h).is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:9000"),
        );
        assert!(p.check(&h).is_err(), "same-origin needs configuration");
        let own = OriginPolicy::new(&["http://127.0.0.1:9000".to_owned()], false);
        assert!(own.check(&h).is_ok());
    }

    #[test]
    fn rebound_host_names_are_refused() {
        let p = OriginPolicy::with_hosts(
            &["https://app.example.com".to_owned()],
            true,
            &[
                "internal.example:8080".to_owned(),
                "plain.example".to_owned(),
            ],
        );
        for ok in [
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "localhost:8080",
            "LOCALHOST",
            "app.example.com",
            "internal.example:8080",
            "plain.example:1234",
        ] {
            assert!(p.allows_host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8080",
            "internal.example:9090",
            "localhost.evil.example",
            "127.0.0.1.nip.io:8080",
        ] {
            assert!(!p.allows_host(bad), "{bad}");
        }
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("evil.example:8080"));
        assert_eq!(
            p.check(&h),
            Err(Refused::Host("evil.example:8080".to_owned()))
        );
    }
}
