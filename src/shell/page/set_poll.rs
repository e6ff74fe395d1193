//! One set poll (`GET /ws/page/poll`, protocol 11.4) over `fetch`, read
//! into a [`SetPollOutcome`]: the entries, the set's `ETag` for the next
//! `If-None-Match`, a 304, or a failure. Abortable and owned like the
//! one-job poll ([`Poll`]). The body of an answer read comes along, for a
//! leading tab to share with the others.

use upload_progress_core::page::client::refusal;
use upload_progress_core::page::{JobPoll, SetPollOutcome};
use upload_progress_core::ProcessId;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortSignal, Headers, RequestInit, Response};

use crate::shell::fetch::{spawn_abortable, Poll};
use crate::shell::wire::set_poll_body;

/// Starts the poll of `url`; `done` gets its outcome (`None`: no HTTP
/// answer at all) and the body it was read from, unless the poll was
/// dropped first.
pub(crate) fn start(
    url: String,
    etag: Option<String>,
    done: impl FnOnce((Option<SetPollOutcome>, Option<String>)) + 'static,
) -> Poll {
    spawn_abortable(
        move |signal| async move { run(&url, etag.as_deref(), signal.as_ref()).await },
        done,
    )
}

async fn run(
    url: &str,
    etag: Option<&str>,
    signal: Option<&AbortSignal>,
) -> (Option<SetPollOutcome>, Option<String>) {
    let Some(response) = answer(url, etag, signal).await else {
        return (None, None);
    };
    let status = response.status();
    if status == 304 {
        return (Some(SetPollOutcome::NotModified), None);
    }
    let failed = Some(SetPollOutcome::Failed {
        status: Some(status),
    });
    if status != 200 {
        return (failed, None);
    }
    let etag = response.headers().get("ETag").ok().flatten();
    let body = match response.text() {
        Ok(text) => JsFuture::from(text).await.ok().and_then(|b| b.as_string()),
        Err(_) => None,
    };
    let Some(body) = body else {
        return (None, None);
    };
    let Some(jobs) = entries(&body) else {
        return (failed, None);
    };
    (Some(SetPollOutcome::Jobs { jobs, etag }), Some(body))
}

/// The HTTP answer, if any.
async fn answer(url: &str, etag: Option<&str>, signal: Option<&AbortSignal>) -> Option<Response> {
    let window = web_sys::window()?;
    let init = RequestInit::new();
    init.set_method("GET");
    if let (Some(etag), Ok(headers)) = (etag, Headers::new()) {
        let _ = headers.set("If-None-Match", etag);
        init.set_headers(&headers);
    }
    init.set_signal(signal);
    JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .ok()?
        .dyn_into()
        .ok()
}

/// The entries of a set-poll body; `None` when it is not one.
pub(crate) fn entries(body: &str) -> Option<Vec<(ProcessId, JobPoll)>> {
    let entries = set_poll_body(body)?;
    // An entry for an id this page could not have asked for, or with an
    // error that is no refusal, tells nothing: that job is asked again.
    let jobs = entries
        .into_iter()
        .filter_map(|(job, entry)| {
            let job = ProcessId::parse(&job).ok()?;
            let poll = match entry {
                Ok(progress) => JobPoll::Progress(progress),
                Err(code) => JobPoll::Refused(refusal(&code)?),
            };
            Some((job, poll))
        })
        .collect();
    Some(jobs)
}
