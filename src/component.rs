//! `UploadProgressRobust`: the hook and the view in one component.

use std::rc::Rc;

use leptos::prelude::*;
use upload_progress_core::session::{SessionEvent, SessionOptions, StatusError};
use upload_progress_core::Progress;

use crate::hook::{use_upload_progress_with_options, UseUploadProgressOptions};
use crate::labels::Labels;
use crate::token::TokenProvider;
use crate::view::UploadProgressView;

/// Shows the live progress of one server-side job and keeps showing it when
/// the WebSocket misbehaves: it reconnects with backoff, falls back to HTTP
/// polling, climbs back to the socket, and always says how fresh the data is.
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
#[component]
pub fn UploadProgressRobust(
    /// The job to follow (1..=128 of `[A-Za-z0-9_-]`). Reactive: a new id
    /// closes the old session and starts a new one. Required.
    #[prop(into)]
    process_id: Signal<String>,
    /// File name shown in the header. Reactive; changing it never reconnects.
    /// Default: empty (the `untitled` label is shown).
    #[prop(optional, into)]
    filename: Signal<String>,
    /// Called once when the job completes. Default: none.
    /// Read once at mount.
    #[prop(optional, into)]
    on_complete: Option<Callback<Progress>>,
    /// Called when following stops with an error, or the job fails; again
    /// each time it happens. Read once at mount. Default: none.
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
    /// change restarts the session. Default: the page's host, `wss:` on
    /// `https:` pages, `ws:` otherwise.
    #[prop(optional, into)]
    ws_base: MaybeProp<String>,
    /// Base of the HTTP polling URL, e.g. `https://api.example.com`.
    /// Reactive: a change restarts the session. Default: the page's origin.
    #[prop(optional, into)]
    http_base: MaybeProp<String>,
    /// HTTP polling interval in milliseconds. Default: 3000 (or `session_options`).
    /// Read once at mount.
    #[prop(optional, into)]
    poll_interval_ms: Option<u64>,
    /// Token for the job (`?token=` on the socket, `Bearer` on HTTP).
    /// Reactive: a new value is used from the next connection on, with no
    /// teardown; a new job starts with the value current then. Default: none.
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
    /// Visible strings, for translation. Default: `Labels::default()` (English).
    /// Read once at mount.
    #[prop(optional)]
    labels: Option<Labels>,
    /// Every reconnect, fallback and heartbeat knob; `auto_retry`,
    /// `max_retries` and `poll_interval_ms` override their fields.
    /// Default: `SessionOptions::default()`.
    /// Read once at mount.
    #[prop(optional)]
    session_options: Option<SessionOptions>,
) -> impl IntoView {
    let mut session = session_options.unwrap_or_default();
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
    let job = use_upload_progress_with_options(process_id, options);
    let reconnect = job.reconnect;
    view! {
        <UploadProgressView
            progress=job.progress
            status=job.status
            filename=filename
            labels=labels.unwrap_or_default()
            on_reconnect=Callback::new(move |()| reconnect())
        />
    }
}
