//! `use_upload_progress`: follow one job from a Leptos component.

use std::fmt;

use leptos::prelude::*;
use upload_progress_core::session::{Input, SessionOptions, Status};
use upload_progress_core::Progress;

use crate::shell::follow::{follow, Following, JobOptions, Target};
pub use crate::shell::follow::{CompleteCallback, ErrorCallback, EventCallback};
use crate::shell::token::TokenProvider;
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
    /// options; `false` gives this widget a one-job session of its own
    /// (ahead-of-expiry token refresh, `auto_retry` and the ping checks
    /// in `on_event` apply only there). Default: `true`.
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
    let process_id = process_id.into();
    let (progress, set_progress) = signal(None::<Progress>);
    let (status, set_status) = signal(idle_status());
    let options = StoredValue::new_local(options);
    let driver: StoredValue<Option<Following>, LocalStorage> = StoredValue::new_local(None);
    let (ws_base, http_base, token) = options
        .try_with_value(|o| (o.ws_base, o.http_base, o.token))
        .unwrap_or_default();

    let start = move |target: Target| {
        // The old session goes first, so there is never more than one socket.
        let old = driver.try_update_value(|d| d.take()).flatten();
        drop(old);
        set_progress.try_set(None);
        let Some(job) = options.try_with_value(UseUploadProgressOptions::job) else {
            return;
        };
        // The token current now: a new job never inherits a token that a
        // provider fetched for the previous one.
        let show = move |p: Option<Progress>, s: Option<Status>| {
            if let Some(p) = p {
                set_progress.try_set(Some(p));
            }
            if let Some(s) = s {
                set_status.try_set(s);
            }
        };
        match follow(&target, token.get_untracked(), &job, show) {
            Ok(new) => {
                driver.try_set_value(Some(new));
            }
            Err(error) => {
                set_status.try_set(Status::stopped(error));
            }
        }
    };

    // One effect follows the target and the token. A new target (job or
    // bases) restarts the session; a new token alone goes to the running
    // session, which keeps it for its next connection. The first run starts.
    Effect::new(move |previous: Option<(Target, Option<String>)>| {
        let target = Target {
            process_id: process_id.get(),
            ws_base: ws_base.get(),
            http_base: http_base.get(),
        };
        let current = token.get();
        match &previous {
            Some((followed, last_token)) if *followed == target => {
                if let Some(fresh) = current.as_ref().filter(|t| Some(*t) != last_token.as_ref()) {
                    let handle = driver
                        .try_with_value(|d| d.as_ref().map(Following::handle))
                        .flatten();
                    if let Some(handle) = handle {
                        handle.send(Input::TokenReady {
                            token: Some(fresh.clone()),
                        });
                    }
                }
            }
            _ => start(target.clone()),
        }
        (target, current)
    });

    on_cleanup(move || {
        let old = driver.try_update_value(|d| d.take()).flatten();
        drop(old);
    });

    let send = move |input: Input| {
        let handle = driver
            .try_with_value(|d| d.as_ref().map(Following::handle))
            .flatten();
        if let Some(handle) = handle {
            handle.send(input);
        }
    };
    UseUploadProgressReturn {
        progress: progress.into(),
        status: status.into(),
        reconnect: move || send(Input::Reconnect),
        stop: move || send(Input::Stop),
    }
}
