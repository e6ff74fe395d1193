//! One set poll (`GET /ws/page/poll`, protocol 11.4) over `fetch`, read
//! into a [`SetPollOutcome`]: the entries, the set's `ETag` for the next
//! `If-None-Match`, a 304, or a failure. Abortable and owned like the
//! one-job poll ([`Poll`]). The body of an answer read comes along, for a
//! leading tab to share with the others.

use upload_progress_core::page::client::refusal;
use upload_progress_core::page::{JobPoll, SetPollOutcome};
use upload_progress_core::ProcessId;
use web_sys::AbortSignal;

use crate::shell::fetch::{get, spawn_abortable, text, Poll};
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
    let Some(response) = get(url, etag, None, signal).await else {
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
    let Some(body) = text(&response).await else {
        return (None, None);
    };
    let Some(jobs) = entries(&body) else {
        return (failed, None);
    };
    (Some(SetPollOutcome::Jobs { jobs, etag }), Some(body))
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
