//! Every answer of the protocol's endpoints is about state that changes
//! (a job, an upload's offset, counters): none may be stored by a browser
//! or a proxy. One layer says so for all of them, unless a handler chose
//! its own `Cache-Control`.

use axum::http::{header, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// `Cache-Control: no-store` on every answer that has no `Cache-Control`.
pub(crate) fn no_store() -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    )
}
