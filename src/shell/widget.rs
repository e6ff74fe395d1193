//! The widget controller: everything a widget does with its job, written
//! once for the Leptos component (`component/hook.rs`) and the embed widget
//! (`embed/widget.rs`), which only adapt their inputs (Leptos signals, DOM
//! attributes and JS options) to its calls and paint what it holds.
//!
//! It carries out core's decisions about the widget's job
//! (`upload_progress_core::widget::WidgetJob`: when to start or restart,
//! which token goes to the running session, when an upload's job starts,
//! which upload failure is reported): it starts following (a page
//! membership or a one-job session, see `follow.rs`), and keeps the newest
//! progress and status, telling the front end when they changed.
//!
//! It never calls out while its state is borrowed mutably: sessions may
//! report synchronously while they start or stop.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use upload_progress_core::session::{Input, Status};
#[cfg(feature = "upload")]
use upload_progress_core::upload::UploadState;
use upload_progress_core::widget::{FollowStart, WidgetJob};
use upload_progress_core::Progress;

use crate::shell::follow::{follow, Following, JobOptions, Target};
use crate::view::describe::idle_status;

/// Told when the progress or the status changed, with both.
pub(crate) type OnChange = Box<dyn Fn(Option<&Progress>, &Status)>;

/// One widget's job. Dropping it stops following.
pub(crate) struct Controller {
    inner: Rc<Inner>,
}

struct Inner {
    state: RefCell<State>,
    on_change: OnChange,
}

struct State {
    /// What the widget follows, and core's decisions about it.
    decide: WidgetJob,
    job: JobOptions,
    following: Option<Following>,
    progress: Option<Progress>,
    status: Status,
}

impl Controller {
    /// Follows nothing yet; `token` is the page's (or the element's).
    pub(crate) fn new(
        job: JobOptions,
        token: Option<String>,
        on_change: impl Fn(Option<&Progress>, &Status) + 'static,
    ) -> Self {
        Self {
            inner: Rc::new(Inner {
                state: RefCell::new(State {
                    decide: WidgetJob::new(token),
                    job,
                    following: None,
                    progress: None,
                    status: idle_status(),
                }),
                on_change: Box::new(on_change),
            }),
        }
    }

    /// The job and the bases: a change of either restarts the session
    /// (the old one first, so there is never more than one socket). Without
    /// a job (a file still uploading) only the bases are noted.
    pub(crate) fn set_target(
        &self,
        process_id: Option<String>,
        ws_base: Option<String>,
        http_base: Option<String>,
    ) {
        let start = self
            .inner
            .state
            .borrow_mut()
            .decide
            .target(process_id, ws_base, http_base);
        Inner::start(&self.inner, start);
    }

    /// The HTTP base given, for the upload's default endpoint.
    #[cfg(feature = "embed")]
    pub(crate) fn http_base(&self) -> Option<String> {
        self.inner
            .state
            .borrow()
            .decide
            .http_base()
            .map(str::to_owned)
    }

    /// A new token: the running session uses it from its next connection
    /// on, with nothing torn down; a job started later starts with it.
    pub(crate) fn set_token(&self, token: Option<String>) {
        let send = {
            let mut s = self.inner.state.borrow_mut();
            let fresh = s.decide.token(token);
            fresh.zip(s.following.as_ref().map(Following::handle))
        };
        if let Some((fresh, handle)) = send {
            handle.send(Input::TokenReady { token: Some(fresh) });
        }
    }

    /// The upload's state: a failure is reported to `on_error` once per
    /// failure, like a job's.
    #[cfg(feature = "upload")]
    pub(crate) fn upload_state(&self, state: &UploadState) {
        let (failed, on_error) = {
            let mut s = self.inner.state.borrow_mut();
            (s.decide.upload_state(state), s.job.on_error.clone())
        };
        if let (Some(error), Some(cb)) = (failed, on_error) {
            cb(error);
        }
    }

    /// An answer of the upload (`finished`: its last byte is on the
    /// server): the job starts once, by core's handoff rule, with the
    /// token given to the widget, else the upload's.
    #[cfg(feature = "upload")]
    pub(crate) fn upload_answered(
        &self,
        process_id: Option<String>,
        token: Option<String>,
        finished: bool,
    ) {
        let start = self
            .inner
            .state
            .borrow_mut()
            .decide
            .upload_answered(process_id, token, finished);
        Inner::start(&self.inner, start);
    }

    /// Feeds a widget's input (Reconnect, Stop) to the running session.
    pub(crate) fn send(&self, input: Input) {
        let handle = self
            .inner
            .state
            .borrow()
            .following
            .as_ref()
            .map(Following::handle);
        if let Some(handle) = handle {
            handle.send(input);
        }
    }

    /// The newest progress and status (the Leptos adapter gets them as
    /// signals from `on_change`).
    #[cfg(feature = "embed")]
    pub(crate) fn with_view(&self, f: &mut dyn FnMut(Option<&Progress>, &Status)) {
        let s = self.inner.state.borrow();
        f(s.progress.as_ref(), &s.status)
    }

    /// Stops following (the widget goes); the session is dropped with the
    /// controller released.
    pub(crate) fn stop(&self) {
        let following = self.inner.state.borrow_mut().following.take();
        drop(following);
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Inner {
    /// Starts the session core asked for, the old one dropped first.
    fn start(this: &Rc<Self>, start: Option<FollowStart>) {
        let Some(FollowStart {
            process_id,
            ws_base,
            http_base,
            token,
        }) = start
        else {
            return;
        };
        let (job, old) = {
            let mut s = this.state.borrow_mut();
            s.progress = None;
            (s.job.clone(), s.following.take())
        };
        drop(old);
        let target = Target {
            process_id,
            ws_base,
            http_base,
        };
        let weak = Rc::downgrade(this);
        let show = move |p: Option<Progress>, s: Option<Status>| Inner::show(&weak, p, s);
        let started = follow(&target, token, &job, show);
        {
            let mut s = this.state.borrow_mut();
            match started {
                Ok(following) => s.following = Some(following),
                Err(error) => s.status = Status::stopped(error),
            }
        }
        // The old job's progress is gone, or the id was refused.
        Inner::changed(this);
    }

    fn show(weak: &Weak<Self>, progress: Option<Progress>, status: Option<Status>) {
        let Some(this) = weak.upgrade() else {
            return;
        };
        {
            let mut s = this.state.borrow_mut();
            if let Some(p) = progress {
                s.progress = Some(p);
            }
            if let Some(status) = status {
                s.status = status;
            }
        }
        Inner::changed(&this);
    }

    fn changed(this: &Rc<Self>) {
        let s = this.state.borrow();
        (this.on_change)(s.progress.as_ref(), &s.status);
    }
}
