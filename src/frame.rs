//! Carries the session's view updates to the page at most once per
//! animation frame, as [`PendingView`] decides.
//!
//! A flush is woken by `requestAnimationFrame` or, when no frame comes (a
//! hidden tab runs none), by a timer after `FRAME_FALLBACK_MS`; whichever
//! fires first cancels the other. Dropping the sink cancels both, and the
//! update still pending is never shown: it belonged to a session that is gone.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use upload_progress_core::session::{Flush, PendingView, Status, FRAME_FALLBACK_MS};
use upload_progress_core::Progress;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

/// Where flushed updates go: the newest progress and status, each only
/// when it changed since the last flush.
type Show = Box<dyn Fn(Option<Progress>, Option<Status>)>;

/// Holds the updates not shown yet and the wake-up that will show them.
pub(crate) struct FrameSink {
    inner: Rc<Inner>,
}

struct Inner {
    pending: RefCell<PendingView>,
    wake: RefCell<Option<Wake>>,
    show: Show,
}

/// The frame request and the fallback timer of one scheduled flush;
/// dropping it cancels both.
struct Wake {
    frame: Option<(i32, Closure<dyn FnMut()>)>,
    _fallback: Timeout,
}

impl Drop for Wake {
    fn drop(&mut self) {
        if let (Some((id, _)), Some(window)) = (&self.frame, web_sys::window()) {
            let _ = window.cancel_animation_frame(*id);
        }
    }
}

impl FrameSink {
    pub(crate) fn new(show: impl Fn(Option<Progress>, Option<Status>) + 'static) -> Self {
        Self {
            inner: Rc::new(Inner {
                pending: RefCell::new(PendingView::new()),
                wake: RefCell::new(None),
                show: Box::new(show),
            }),
        }
    }

    pub(crate) fn progress(&self, progress: Progress) {
        let flush = self.inner.pending.borrow_mut().offer_progress(progress);
        Inner::after(&self.inner, flush);
    }

    pub(crate) fn status(&self, status: Status) {
        let flush = self.inner.pending.borrow_mut().offer_status(status);
        Inner::after(&self.inner, flush);
    }

    /// Shows whatever is pending now, so an outcome callback never runs
    /// before the page shows the state it announces.
    pub(crate) fn flush(&self) {
        Inner::flush(&self.inner);
    }
}

impl Inner {
    fn after(this: &Rc<Self>, flush: Flush) {
        match flush {
            Flush::Scheduled => {}
            Flush::NextFrame => Self::schedule(this),
            Flush::Now => Self::flush(this),
        }
    }

    fn flush(this: &Rc<Self>) {
        let wake = this.wake.borrow_mut().take();
        drop(wake);
        let (progress, status) = this.pending.borrow_mut().take();
        if progress.is_some() || status.is_some() {
            (this.show)(progress, status);
        }
    }

    fn schedule(this: &Rc<Self>) {
        let weak = Rc::downgrade(this);
        let fallback = Timeout::new(FRAME_FALLBACK_MS, move || wake_up(&weak));
        let weak = Rc::downgrade(this);
        let callback = Closure::<dyn FnMut()>::new(move || wake_up(&weak));
        let frame = web_sys::window()
            .and_then(|w| {
                w.request_animation_frame(callback.as_ref().unchecked_ref())
                    .ok()
            })
            .map(|id| (id, callback));
        *this.wake.borrow_mut() = Some(Wake {
            frame,
            _fallback: fallback,
        });
    }
}

fn wake_up(weak: &Weak<Inner>) {
    if let Some(inner) = weak.upgrade() {
        Inner::flush(&inner);
    }
}
