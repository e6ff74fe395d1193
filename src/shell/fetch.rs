//! One HTTP poll of the job's progress, abortable and owned; the set poll
//! of the page connection (`page/set_poll.rs`) runs on the same [`Poll`].

use std::cell::Cell;
use std::rc::Rc;

use upload_progress_core::session::PollOutcome;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, Headers, RequestInit, Response};

/// An in-flight poll. Dropping it aborts the request and silences its answer.
pub(crate) struct Poll {
    abort: Option<AbortController>,
    live: Rc<Cell<bool>>,
}

impl Drop for Poll {
    fn drop(&mut self) {
        self.live.set(false);
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }
}

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

/// Runs the request `task` builds around an abort signal; `done` gets its
/// result unless the returned [`Poll`] was dropped first.
pub(crate) fn spawn_abortable<T, F>(
    task: impl FnOnce(Option<AbortSignal>) -> F,
    done: impl FnOnce(T) + 'static,
) -> Poll
where
    F: std::future::Future<Output = T> + 'static,
{
    let live = Rc::new(Cell::new(true));
    let abort = AbortController::new().ok();
    let future = task(abort.as_ref().map(|a| a.signal()));
    let still_live = live.clone();
    spawn(Box::pin(async move {
        let outcome = future.await;
        if still_live.get() {
            done(outcome);
        }
    }));
    Poll { abort, live }
}

/// Spawns a boxed task: one copy of the executor's glue for every poll.
#[inline(never)]
fn spawn(task: std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>) {
    wasm_bindgen_futures::spawn_local(task);
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

/// A `GET` of `url` with an optional `If-None-Match` and bearer token; the
/// answer, or `None` when there is no HTTP answer at all. Both polls share
/// it, so the browser's wasm holds one copy.
pub(crate) async fn get(
    url: &str,
    etag: Option<&str>,
    token: Option<&str>,
    signal: Option<&AbortSignal>,
) -> Option<Response> {
    let window = web_sys::window()?;
    let init = RequestInit::new();
    init.set_method("GET");
    if etag.is_some() || token.is_some() {
        if let Ok(headers) = Headers::new() {
            if let Some(etag) = etag {
                let _ = headers.set("If-None-Match", etag);
            }
            if let Some(token) = token {
                let _ = headers.set("Authorization", &format!("Bearer {token}"));
            }
            init.set_headers(&headers);
        }
    }
    init.set_signal(signal);
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// The body of an answer as text, or `None` when it cannot be read.
pub(crate) async fn text(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}
