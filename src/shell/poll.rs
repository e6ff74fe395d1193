//! One HTTP poll of one job's progress (`GET /ws/progress/{id}`), for the
//! one-job session, on the abortable [`Poll`] of `fetch.rs`.

use upload_progress_core::session::PollOutcome;
use web_sys::AbortSignal;

use crate::shell::fetch::{get, spawn_abortable, text, Poll};

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
    let Some(response) = get(
        &request.url,
        request.etag.as_deref(),
        request.token.as_deref(),
        signal,
    )
    .await
    else {
        return PollOutcome::Network;
    };
    let status = response.status();
    if status == 304 {
        return PollOutcome::NotModified;
    }
    let body = text(&response).await.unwrap_or_default();
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
