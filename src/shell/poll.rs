//! One HTTP poll of one job's progress (`GET /ws/progress/{id}`), for the
//! one-job session, on the abortable [`Poll`] of `fetch.rs`.

use upload_progress_core::session::PollOutcome;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response};

use crate::shell::fetch::{spawn_abortable, Poll};

/// What to ask for.
pub(crate) struct PollRequest {
    /// Full URL.
    pub(crate) url: String,
    /// `If-None-Match` value.
    pub(crate) etag: Option<String>,
    /// Bearer token.
    pub(crate) token: Option<String>,
}

/// Starts a `GET`; `done` gets the outcome unless the poll was dropped first.
pub(crate) fn start(request: PollRequest, done: impl FnOnce(PollOutcome) + 'static) -> Poll {
    spawn_abortable(
        move |signal| async move { run(&request, signal.as_ref()).await },
        done,
    )
}

async fn run(request: &PollRequest, signal: Option<&AbortSignal>) -> PollOutcome {
    let Some(window) = web_sys::window() else {
        return PollOutcome::Network;
    };
    let init = RequestInit::new();
    init.set_method("GET");
    if let Ok(headers) = Headers::new() {
        if let Some(etag) = &request.etag {
            let _ = headers.set("If-None-Match", etag);
        }
        if let Some(token) = &request.token {
            let _ = headers.set("Authorization", &format!("Bearer {token}"));
        }
        init.set_headers(&headers);
    }
    init.set_signal(signal);
    let response = match JsFuture::from(window.fetch_with_str_and_init(&request.url, &init)).await {
        Ok(value) => match value.dyn_into::<Response>() {
            Ok(response) => response,
            Err(_) => return PollOutcome::Network,
        },
        Err(_) => return PollOutcome::Network,
    };
    let status = response.status();
    if status == 304 {
        return PollOutcome::NotModified;
    }
    let body = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if status == 200 {
        return match crate::shell::wire::progress_body(&body) {
            Some(progress) => PollOutcome::Progress(progress),
            None => PollOutcome::InvalidBody { status },
        };
    }
    PollOutcome::Http {
        status,
        code: crate::shell::wire::error_code(&body),
    }
}
