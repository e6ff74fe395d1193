//! `use_upload_progress`: follow one job from a Leptos component.

use std::fmt;

use leptos::prelude::*;
use upload_progress_core::session::{Input, SessionOptions, Status};
use upload_progress_core::Progress;

use crate::component::client::{use_progress_client, with_client_bases};
use crate::shell::follow::JobOptions;
pub use crate::shell::follow::{CompleteCallback, ErrorCallback, EventCallback};
use crate::shell::token::TokenProvider;
use crate::shell::widget::Controller;
use crate::view::describe::idle_status;

/// Options of [`use_upload_progress_with_options`].
///
/// `ws_base`, `http_base` and `token` are reactive (pass a signal): a new
/// base restarts the session, like a new `process_id`; a new token is used
/// from the next connection on, with nothing torn down. Everything else is
/// read once, when a session starts.
#[derive(Clone)]
pub struct UseUploadProgressOptions {
    /// Follow the job through the page's one connection, shared with every
    /// widget following a job on the same server with the same `session`
    /// options; `false` gives this widget a page connection of its own, or
    /// with the `one-job-session` feature a one-job session on protocol v1
    /// (ahead-of-expiry token refresh and the ping checks in `on_event`
    /// apply only there). Default: `true`.
    pub shared: bool,
    /// Base of the socket URL, e.g. `wss://api.example.com`. Reactive: a
    /// change restarts the session.
    /// Default: the page's own host, `wss:` on `https:` pages and `ws:` otherwise.
    pub ws_base: MaybeProp<String>,
    /// Base of the HTTP polling URL, e.g. `https://api.example.com`.
    /// Reactive: a change restarts the session. Default: the page's own origin.
    pub http_base: MaybeProp<String>,
    /// Token for the job (`?token=` on the socket, `Authorization: Bearer` on HTTP).
    /// Reactive: a new value is used from the next connection or poll on;
    /// a new job starts with the value current at that moment. Default: none.
    pub token: MaybeProp<String>,
    /// Seconds until `token` expires, when known (an upload answer's
    /// `expires_in_s`). With a `token_provider`, the token is refreshed
    /// before a connection once it is about to expire. Default: unknown.
    pub token_expires_in_s: Option<u64>,
    /// Asked for a fresh token when the server rejects the current one.
    /// Default: none (an expired token stops the session with an auth error).
    pub token_provider: Option<TokenProvider>,
    /// Reconnect, fallback and liveness policy.
    /// Default: [`SessionOptions::default()`] (retries after 2, 4, 8 s with
    /// jitter, HTTP polling every 3 s after 3 failed attempts, heartbeat every 30 s).
    pub session: SessionOptions,
    /// Called once when the job completes. Default: none.
    pub on_complete: Option<CompleteCallback>,
    /// Called when following stops with an error, or the job fails; again
    /// each time it happens. Default: none.
    pub on_error: Option<ErrorCallback>,
    /// Called with every decision of the session, for logs and counters.
    /// Default: none.
    pub on_event: Option<EventCallback>,
}

impl Default for UseUploadProgressOptions {
    fn default() -> Self {
        Self {
            shared: true,
            ws_base: MaybeProp::default(),
            http_base: MaybeProp::default(),
            token: MaybeProp::default(),
            token_expires_in_s: None,
            token_provider: None,
            session: SessionOptions::default(),
            on_complete: None,
            on_error: None,
            on_event: None,
        }
    }
}

impl UseUploadProgressOptions {
    /// The options that are not signals, for starting a session.
    pub(crate) fn job(&self) -> JobOptions {
        JobOptions {
            shared: self.shared,
            token_expires_in_s: self.token_expires_in_s,
            token_provider: self.token_provider.clone(),
            session: self.session.clone(),
            on_complete: self.on_complete.clone(),
            on_error: self.on_error.clone(),
            on_event: self.on_event.clone(),
        }
    }
}

impl fmt::Debug for UseUploadProgressOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UseUploadProgressOptions")
            .field("shared", &self.shared)
            .field("ws_base", &self.ws_base)
            .field("http_base", &self.http_base)
            .field(
                "token",
                &self.token.get_untracked().as_ref().map(|_| "<redacted>"),
            )
            .field("token_provider", &self.token_provider)
            .field("session", &self.session)
            .field("on_complete", &self.on_complete.is_some())
            .field("on_error", &self.on_error.is_some())
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}

/// What [`use_upload_progress_with_options`] returns: signals to read,
/// closures to act.
pub struct UseUploadProgressReturn<R, S>
where
    R: Fn() + Clone + Send + Sync + 'static,
    S: Fn() + Clone + Send + Sync + 'static,
{
    /// The newest progress, `None` until the first snapshot arrives.
    pub progress: Signal<Option<Progress>>,
    /// The connection status.
    pub status: Signal<Status>,
    /// Reconnect now, resetting the backoff.
    pub reconnect: R,
    /// Stop following the job (closes the socket, stops polling).
    pub stop: S,
}

/// Follows the job `process_id` with default options.
///
/// See [`use_upload_progress_with_options`].
pub fn use_upload_progress(
    process_id: impl Into<Signal<String>> + 'static,
) -> UseUploadProgressReturn<impl Fn() + Clone + Send + Sync, impl Fn() + Clone + Send + Sync> {
    use_upload_progress_with_options(process_id, UseUploadProgressOptions::default())
}

/// Follows the job `process_id` (a reactive signal) and exposes its
/// progress and connection status.
///
/// The socket, timers and listeners belong to the calling component: they
/// live in stored values, so re-rendering never reconnects, and they are all
/// released when the component is cleaned up. A new `process_id` closes the
/// old session and starts a new one.
///
/// # Usage
/// ```no_run
/// use leptos::prelude::*;
/// use upload_progress_robust::use_upload_progress;
///
/// #[component]
/// fn Job() -> impl IntoView {
///     let job = use_upload_progress("auto_proc_1234");
///     view! {
///         <p>{move || job.progress.get().map(|p| p.percent).unwrap_or(0.0)} "%"</p>
///         <button on:click=move |_| (job.reconnect)()>"Reconnect"</button>
///     }
/// }
/// ```
pub fn use_upload_progress_with_options(
    process_id: impl Into<Signal<String>> + 'static,
    options: UseUploadProgressOptions,
) -> UseUploadProgressReturn<impl Fn() + Clone + Send + Sync, impl Fn() + Clone + Send + Sync> {
    let options = with_client_bases(options, use_progress_client().as_ref());
    let job = use_controller(Some(process_id.into()), options);
    let controller = job.controller;
    let send = move |input: Input| {
        controller.try_with_value(|c| c.send(input));
    };
    UseUploadProgressReturn {
        progress: job.progress,
        status: job.status,
        reconnect: move || send(Input::Reconnect),
        stop: move || send(Input::Stop),
    }
}

/// A widget controller owned by the calling component, and its view as
/// signals.
pub(crate) struct ControlledJob {
    pub(crate) controller: StoredValue<Controller, LocalStorage>,
    pub(crate) progress: Signal<Option<Progress>>,
    pub(crate) status: Signal<Status>,
}

/// The Leptos adapter of the widget controller (`shell/widget.rs`): the
/// options' signals become its calls. `process_id`: the job's signal, or
/// `None` when the job comes from an upload (`Controller::upload_answered`).
/// The options' bases are final: a provided client's are applied by the
/// caller.
pub(crate) fn use_controller(
    process_id: Option<Signal<String>>,
    options: UseUploadProgressOptions,
) -> ControlledJob {
    let (progress, set_progress) = signal(None::<Progress>);
    let (status, set_status) = signal(idle_status());
    let (ws_base, http_base, token) = (options.ws_base, options.http_base, options.token);
    let controller = Controller::new(options.job(), token.get_untracked(), move |p, s| {
        set_progress.try_set(p.cloned());
        set_status.try_set(s.clone());
    });
    let controller = StoredValue::new_local(controller);

    // One effect follows the target and the token: the controller restarts
    // on a new job or base, and hands a new token to the running session.
    Effect::new(move |previous: Option<Option<String>>| {
        let id = process_id.map(|id| id.get());
        let (ws, http) = (ws_base.get(), http_base.get());
        let current = token.get();
        controller.try_with_value(|c| {
            if previous.is_some_and(|last| last != current) {
                c.set_token(current.clone());
            }
            c.set_target(id, ws, http);
        });
        current
    });

    on_cleanup(move || {
        controller.try_with_value(Controller::stop);
    });
    ControlledJob {
        controller,
        progress: progress.into(),
        status: status.into(),
    }
}
