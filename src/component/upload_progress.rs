//! `UploadProgressRobust`: the hook and the view in one component; with a
//! file, the upload first, on the same bar.

// Without the `upload` feature the `file` prop can only be `None`, and the
// compiler calls it unused.
#![cfg_attr(not(feature = "upload"), allow(unused_variables))]

use std::rc::Rc;

use leptos::prelude::*;
use upload_progress_core::session::{SessionEvent, SessionOptions, Status, StatusError};
use upload_progress_core::Progress;

use crate::component::client::{use_progress_client, with_client_bases};
use crate::component::hook::{use_upload_progress_with_options, UseUploadProgressOptions};
use crate::component::progress_view::UploadProgressView;
use crate::component::upload_file::UploadFile;
use crate::shell::token::TokenProvider;
use crate::view::labels::Labels;
use crate::view::lead::Lead;

/// Shows the live progress of one server-side job and keeps showing it when
/// the WebSocket misbehaves: it reconnects with backoff, falls back to HTTP
/// polling, climbs back to the socket, and always says how fresh the data is.
///
/// Give it either the `process_id` of a running job, or a `file` (feature
/// `upload`): it then uploads the file over tus, showing bytes sent, speed,
/// time left and Pause / Resume / Cancel, and follows the job the server
/// starts for it on the same progress bar, with the process id and token
/// from the upload's answer.
///
/// # Usage
/// ```no_run
/// use leptos::prelude::*;
/// use upload_progress_robust::UploadProgressRobust;
///
/// #[component]
/// fn Page() -> impl IntoView {
///     view! {
///         <UploadProgressRobust
///             process_id="auto_proc_1234"
///             filename="report.pdf"
///             on_complete=|p: upload_progress_robust::Progress| leptos::logging::log!("done: {}", p.seq)
///         />
///     }
/// }
/// ```
///
/// With a file, e.g. from `<input type="file">` (feature `upload`):
/// ```ignore
/// use leptos::prelude::*;
/// use upload_progress_robust::UploadProgressRobust;
///
/// #[component]
/// fn Upload(file: web_sys::File) -> impl IntoView {
///     // Uploads to {http_base}/api/uploads/tus (here the page's origin),
///     // then shows the job's stages.
///     view! { <UploadProgressRobust file=file /> }
/// }
/// ```
///
/// To upload another file, render a new component (e.g. inside
/// `move || file.get().map(|f| view! { <UploadProgressRobust file=f /> })`).
#[component]
pub fn UploadProgressRobust(
    /// The job to follow (1..=128 of `[A-Za-z0-9_-]`). Reactive: a new id
    /// closes the old session and starts a new one. Required unless `file`
    /// is given (then it is ignored: the upload names the job).
    #[prop(optional, into)]
    process_id: MaybeProp<String>,
    /// A file to upload first (feature `upload`; a `web_sys::File` converts
    /// into it). The job the server starts for it is followed once the last
    /// byte arrived. Read once at mount. Default: none. Leptos props cannot
    /// be cfg'd, so the prop exists without the feature, but nothing
    /// converts into it then: passing a file does not compile.
    #[prop(optional, into)]
    file: Option<UploadFile>,
    /// The tus creation endpoint for `file`. Read once at mount.
    /// Default: `{http_base}/api/uploads/tus` (the page's origin without
    /// `http_base`).
    #[prop(optional, into)]
    upload_url: Option<String>,
    /// Chunk size and retry policy of the upload of `file`. Read once at
    /// mount. Default: `UploadOptions::default()` (5 MiB chunks, retries
    /// after 2, 4, 8, 16 s with jitter, never giving up while online).
    #[prop(optional)]
    upload_options: Option<upload_progress_core::upload::UploadOptions>,
    /// File name shown in the header. Reactive; changing it never reconnects.
    /// Default: the name of `file`; without one, empty (the `untitled`
    /// label is shown).
    #[prop(optional, into)]
    filename: Signal<String>,
    /// Classes added to the root's own (`upr upr--{connection}`), e.g. for
    /// layout. Reactive. Default: none. Attributes spread onto the
    /// component (`{..}`, `attr:`, `on:`) land on the same root.
    #[prop(optional, into)]
    class: Signal<String>,
    /// Called once when the job completes. Default: none.
    /// Read once at mount.
    #[prop(optional, into)]
    on_complete: Option<Callback<Progress>>,
    /// Called when following stops with an error, the job fails, or the
    /// upload of `file` gives up; again each time it happens. Read once at
    /// mount. Default: none.
    #[prop(optional, into)]
    on_error: Option<Callback<StatusError>>,
    /// Called with every decision of the session (attempts, closes, backoff
    /// delays, fallback, probes, token refreshes), for logs and counters.
    /// Read once at mount. Default: none.
    #[prop(optional, into)]
    on_event: Option<Callback<SessionEvent>>,
    /// Reconnect on its own after a transient failure; when `false` only the
    /// Reconnect button reconnects. Default: `true` (or `session_options`).
    /// Read once at mount.
    #[prop(optional, into)]
    auto_retry: Option<bool>,
    /// Failed socket attempts before falling back to HTTP polling.
    /// Default: 3 (or `session_options`).
    /// Read once at mount.
    #[prop(optional, into)]
    max_retries: Option<u32>,
    /// Base of the socket URL, e.g. `wss://api.example.com`. Reactive: a
    /// change restarts the session. Default: the provided
    /// [`ProgressClient`](crate::ProgressClient)'s, else the page's host,
    /// `wss:` on `https:` pages, `ws:` otherwise.
    #[prop(optional, into)]
    ws_base: MaybeProp<String>,
    /// Base of the HTTP polling URL, e.g. `https://api.example.com`.
    /// Reactive: a change restarts the session. Default: the provided
    /// [`ProgressClient`](crate::ProgressClient)'s, else the page's origin.
    #[prop(optional, into)]
    http_base: MaybeProp<String>,
    /// HTTP polling interval in milliseconds. Default: 3000 (or `session_options`).
    /// Read once at mount.
    #[prop(optional, into)]
    poll_interval_ms: Option<u64>,
    /// Token for the job (`?token=` on the socket, `Bearer` on HTTP).
    /// Reactive: a new value is used from the next connection on, with no
    /// teardown; a new job starts with the value current then. Default:
    /// none, or with a `file` the `Upload-Token` of the upload's answer.
    #[prop(optional, into)]
    token: MaybeProp<String>,
    /// Seconds until `token` expires (an upload answer's `expires_in_s`);
    /// with a `token_provider` it is refreshed ahead of expiry. Default: unknown.
    /// Read once at mount.
    #[prop(optional, into)]
    token_expires_in_s: Option<u64>,
    /// Async source of a fresh token when the server rejects the current one.
    /// Default: none (an expired token ends with an authentication error).
    /// Read once at mount.
    #[prop(optional)]
    token_provider: Option<TokenProvider>,
    /// Visible strings, for translation. Reactive: new labels (the language
    /// switched) rewrite every text at once. The upload of `file` words its
    /// progress with the labels current at mount. Default:
    /// `Labels::default()` (English).
    #[prop(optional, into)]
    labels: Signal<Labels>,
    /// Every reconnect, fallback and heartbeat knob; `auto_retry`,
    /// `max_retries` and `poll_interval_ms` override their fields.
    /// Default: the provided [`ProgressClient`](crate::ProgressClient)'s,
    /// else `SessionOptions::default()`.
    /// Read once at mount.
    #[prop(optional)]
    session_options: Option<SessionOptions>,
    /// Follow the job through the page's one connection (page socket,
    /// event stream or set poll), shared with every widget following a job
    /// on the same server with the same options. `false` gives this widget
    /// a connection of its own, for isolation: a page connection no other
    /// widget or tab joins, or with the `one-job-session` feature a one-job
    /// session on protocol v1's per-job socket and poll. Only that session
    /// refreshes a token ahead of its expiry and reports its ping checks to
    /// `on_event` (a page connection
    /// reports its socket's attempts, closes, backoff and fallback).
    /// Default: `true`. Read once at mount.
    #[prop(optional, into)]
    shared: Option<bool>,
) -> impl IntoView {
    let client = use_progress_client();
    let mut session = session_options
        .or_else(|| client.as_ref().map(|c| c.session.clone()))
        .unwrap_or_default();
    if let Some(v) = auto_retry {
        session.auto_retry = v;
    }
    if let Some(v) = max_retries {
        session.max_retries = v;
    }
    if let Some(v) = poll_interval_ms {
        session.poll_interval_ms = v;
    }
    let options = UseUploadProgressOptions {
        shared: shared.unwrap_or(true),
        ws_base,
        http_base,
        token,
        token_expires_in_s,
        token_provider,
        session,
        on_complete: on_complete.map(|cb| Rc::new(move |p| cb.run(p)) as Rc<dyn Fn(Progress)>),
        on_error: on_error.map(|cb| Rc::new(move |e| cb.run(e)) as Rc<dyn Fn(StatusError)>),
        on_event: on_event.map(|cb| Rc::new(move |e| cb.run(e)) as Rc<dyn Fn(SessionEvent)>),
    };
    // Without the `upload` feature `UploadFile` has no values, so the file
    // branch is dead and its code is not linked. Both branches feed one
    // view, so no type-erased view is needed either.
    let shown = match file {
        // The upload's endpoint is under `http_base`: the client's bases
        // apply before the story starts (the hook applies them for a job).
        Some(file) => file_story(
            file,
            upload_url,
            upload_options,
            with_client_bases(options, client.as_ref()),
            filename,
            &labels.get_untracked(),
        ),
        None => {
            let process_id = Signal::derive(move || process_id.get().unwrap_or_default());
            let job = use_upload_progress_with_options(process_id, options);
            let reconnect = job.reconnect;
            Shown {
                progress: job.progress,
                status: job.status,
                filename,
                reconnect: Callback::new(move |()| reconnect()),
                lead: None,
            }
        }
    };
    view! {
        <UploadProgressView
            progress=shown.progress
            status=shown.status
            filename=shown.filename
            class=class
            labels=labels
            on_reconnect=shown.reconnect
            lead=shown.lead
        />
    }
}

/// What the view is given, from a job or from a file's story.
struct Shown {
    progress: Signal<Option<Progress>>,
    status: Signal<Status>,
    filename: Signal<String>,
    reconnect: Callback<()>,
    lead: Option<Lead>,
}

/// A file's story: its upload, then its job.
#[cfg(feature = "upload")]
fn file_story(
    file: UploadFile,
    endpoint: Option<String>,
    upload_options: Option<upload_progress_core::upload::UploadOptions>,
    options: UseUploadProgressOptions,
    filename: Signal<String>,
    labels: &Labels,
) -> Shown {
    let upload = crate::upload::FileUpload {
        file: file.0,
        endpoint,
        options: upload_options.unwrap_or_default(),
    };
    let story = crate::upload::follow_file(
        upload,
        options,
        std::sync::Arc::new(labels.clone()),
        filename,
    );
    Shown {
        progress: story.progress,
        status: story.status,
        filename: story.title,
        reconnect: story.reconnect,
        lead: Some(story.lead),
    }
}

/// Without the `upload` feature there is no file to upload.
#[cfg(not(feature = "upload"))]
fn file_story(
    file: UploadFile,
    _: Option<String>,
    _: Option<upload_progress_core::upload::UploadOptions>,
    _: UseUploadProgressOptions,
    _: Signal<String>,
    _: &Labels,
) -> Shown {
    match file {}
}
