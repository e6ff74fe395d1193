//! Default endpoint bases derived from where the page was loaded.

/// The socket and HTTP bases for a page served from `protocol` + `host`
/// (as in `location.protocol` / `location.host`).
///
/// A page loaded over `https:` must use `wss:`: browsers block mixed content,
/// so a plain `ws:` socket from a secure page would never open.
pub(crate) fn bases_for(protocol: &str, host: &str) -> (String, String) {
    let secure = protocol.eq_ignore_ascii_case("https:");
    let ws = if secure { "wss" } else { "ws" };
    let http = if secure { "https" } else { "http" };
    (format!("{ws}://{host}"), format!("{http}://{host}"))
}

/// The bases for the current page, or `None` outside a browser page.
pub(crate) fn page_bases() -> Option<(String, String)> {
    let location = web_sys::window()?.location();
    let protocol = location.protocol().ok()?;
    let host = location.host().ok()?;
    Some(bases_for(&protocol, &host))
}

/// Removes trailing slashes so `{base}/ws/...` never holds `//`.
pub(crate) fn trim_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_pages_get_secure_sockets() {
        assert_eq!(
            bases_for("https:", "example.com:8443"),
            (
                "wss://example.com:8443".to_owned(),
                "https://example.com:8443".to_owned()
            )
        );
    }

    #[test]
    fn http_pages_get_plain_sockets() {
        assert_eq!(
            bases_for("http:", "127.0.0.1:8080"),
            (
                "ws://127.0.0.1:8080".to_owned(),
                "http://127.0.0.1:8080".to_owned()
            )
        );
    }

    #[test]
    fn trailing_slashes_are_removed() {
        assert_eq!(trim_base("http://h:1/ "), "http://h:1");
        assert_eq!(trim_base("ws://h//"), "ws://h");
    }
}
