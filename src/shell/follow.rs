//! Starting to follow one job: the target (job and bases), the token, the
//! options and the callbacks in, a [`Following`] out: a place in the
//! page-wide connection (`shell/page/`, the default). When `shared` is off
//! the widget gets a page connection of its own, or, with the
//! `one-job-session` feature, a one-job `Driver` on protocol v1. Shared by
//! the Leptos hook and the embed widget, which differ only in where the
//! newest progress and status go.

use std::rc::Rc;

#[cfg(feature = "one-job-session")]
use upload_progress_core::session::SessionConfig;
use upload_progress_core::session::{Input, SessionEvent, SessionOptions, Status, StatusError};
use upload_progress_core::{ProcessId, Progress};

#[cfg(feature = "one-job-session")]
use crate::shell::driver::{Driver, DriverHandle, Outputs};
use crate::shell::frame::FrameSink;
use crate::shell::page::driver::Member;
use crate::shell::page::registry::{self, Key};
use crate::shell::page::{Membership, MembershipHandle};
use crate::shell::token::TokenProvider;
use crate::shell::urls;

/// Called once when the job completes.
pub type CompleteCallback = Rc<dyn Fn(Progress)>;
/// Called when following stops with an error or the job fails.
pub type ErrorCallback = Rc<dyn Fn(StatusError)>;
/// Called with every decision the session makes (attempts, closes, backoff
/// delays, fallback, probes, token refreshes, heartbeat timeouts).
pub type EventCallback = Rc<dyn Fn(SessionEvent)>;

/// What one session follows: a change of any part starts a new session.
#[derive(Clone, PartialEq)]
pub(crate) struct Target {
    pub(crate) process_id: String,
    pub(crate) ws_base: Option<String>,
    pub(crate) http_base: Option<String>,
}

/// Everything else a session is started with, as plain values.
#[derive(Clone)]
pub(crate) struct JobOptions {
    /// Follow through the page-wide connection (true) or one of its own.
    pub(crate) shared: bool,
    /// Used by the one-job session only.
    #[cfg_attr(not(feature = "one-job-session"), allow(dead_code))]
    pub(crate) token_expires_in_s: Option<u64>,
    pub(crate) token_provider: Option<TokenProvider>,
    pub(crate) session: SessionOptions,
    pub(crate) on_complete: Option<CompleteCallback>,
    pub(crate) on_error: Option<ErrorCallback>,
    pub(crate) on_event: Option<EventCallback>,
}

impl Default for JobOptions {
    fn default() -> Self {
        Self {
            shared: true,
            token_expires_in_s: None,
            token_provider: None,
            session: SessionOptions::default(),
            on_complete: None,
            on_error: None,
            on_event: None,
        }
    }
}

/// A job being followed; dropping it stops following.
pub(crate) enum Following {
    /// Through a page connection: the page-wide one, or one of its own.
    Shared(Membership),
    /// Through a one-job session of its own.
    #[cfg(feature = "one-job-session")]
    Own(Driver),
}

/// A weak handle for the widget's buttons and token changes.
#[derive(Clone)]
pub(crate) enum FollowHandle {
    Shared(MembershipHandle),
    #[cfg(feature = "one-job-session")]
    Own(DriverHandle),
}

impl Following {
    pub(crate) fn handle(&self) -> FollowHandle {
        match self {
            Self::Shared(m) => FollowHandle::Shared(m.handle()),
            #[cfg(feature = "one-job-session")]
            Self::Own(d) => FollowHandle::Own(d.handle()),
        }
    }
}

impl FollowHandle {
    /// Feeds a widget's input (Reconnect, Stop, a new token).
    pub(crate) fn send(&self, input: Input) {
        match self {
            Self::Shared(m) => m.send(input),
            #[cfg(feature = "one-job-session")]
            Self::Own(d) => d.send(input),
        }
    }
}

/// Starts following `target` with `token`. `show` receives the newest
/// progress and status, each when it changed, at most once per animation
/// frame (bursts coalesce). An invalid process id starts nothing: the error
/// goes to `on_error` and comes back, to show as a stopped status.
pub(crate) fn follow(
    target: &Target,
    token: Option<String>,
    job: &JobOptions,
    show: impl Fn(Option<Progress>, Option<Status>) + 'static,
) -> Result<Following, StatusError> {
    let process_id = match ProcessId::parse(&target.process_id) {
        Ok(id) => id,
        Err(e) => {
            let error = StatusError::invalid_process_id(&e);
            if let Some(cb) = &job.on_error {
                cb(error.clone());
            }
            return Err(error);
        }
    };
    let (page_ws, page_http) = urls::page_bases().unwrap_or_default();
    let ws_base = urls::trim_base(target.ws_base.as_deref().unwrap_or(&page_ws));
    let http_base = urls::trim_base(target.http_base.as_deref().unwrap_or(&page_http));
    #[cfg(feature = "one-job-session")]
    if !job.shared {
        return Ok(own_session(
            process_id, ws_base, http_base, token, job, show,
        ));
    }
    let key = Key {
        ws_base,
        http_base,
        options: job.session.clone(),
    };
    let (provider, on_complete, on_error, on_event) = (
        job.token_provider.clone(),
        job.on_complete.clone(),
        job.on_error.clone(),
        job.on_event.clone(),
    );
    let job_id = process_id.clone();
    let member = move |id| {
        let sink = FrameSink::new(show);
        Member::new(
            id,
            process_id,
            sink,
            provider,
            on_complete,
            on_error,
            on_event,
        )
    };
    Ok(Following::Shared(registry::join(
        key, job.shared, job_id, token, member,
    )))
}

/// A one-job session of its own on protocol v1 (`shared` off).
#[cfg(feature = "one-job-session")]
fn own_session(
    process_id: ProcessId,
    ws_base: String,
    http_base: String,
    token: Option<String>,
    job: &JobOptions,
    show: impl Fn(Option<Progress>, Option<Status>) + 'static,
) -> Following {
    let config = SessionConfig {
        process_id,
        ws_base,
        http_base,
        token,
        token_expires_at: job
            .token_expires_in_s
            .map(|s| crate::shell::clock::now().saturating_add(s.saturating_mul(1_000))),
        token_provider: job.token_provider.is_some(),
        options: job.session.clone(),
    };
    // The session decides what counts as completion or failure; this only
    // forwards its announcements, after showing what led to them.
    let on_complete = job.on_complete.clone();
    let on_error = job.on_error.clone();
    let on_event = job.on_event.clone();
    let frame = Rc::new(FrameSink::new(show));
    let (for_progress, for_status, for_complete, for_error) =
        (frame.clone(), frame.clone(), frame.clone(), frame);
    let outputs = Outputs {
        progress: Box::new(move |p: Progress| for_progress.progress(p)),
        status: Box::new(move |s: Status| for_status.status(s)),
        completed: Box::new(move |p| {
            for_complete.flush();
            if let Some(cb) = &on_complete {
                cb(p);
            }
        }),
        failed: Box::new(move |e| {
            for_error.flush();
            if let Some(cb) = &on_error {
                cb(e);
            }
        }),
        event: Box::new(move |e| {
            if let Some(cb) = &on_event {
                cb(e);
            }
        }),
    };
    Following::Own(Driver::start(config, outputs, job.token_provider.clone()))
}
