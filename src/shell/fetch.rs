//! An HTTP request in flight, abortable and owned: the set poll of the
//! page connection (`page/set_poll.rs`) and the one-job poll (`poll.rs`)
//! run on it.

use std::cell::Cell;
use std::rc::Rc;

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
