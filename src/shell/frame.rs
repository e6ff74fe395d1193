//! Carries the session's view updates to the page on animation frames, as
//! [`PendingView`] decides (at most one per `FRAME_MIN_INTERVAL_MS`).
//!
//! A flush is woken by `requestAnimationFrame` or, when no frame comes (a
//! hidden tab runs none), by a timer after `FRAME_FALLBACK_MS`; whichever
//! fires first cancels the other. An update that comes too soon after the
//! last flush first waits on a timer, then asks for its frame. Dropping the
//! sink cancels all of them, and the update still pending is never shown:
//! it belonged to a session that is gone.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use upload_progress_core::session::{Flush, PendingView, Status, FRAME_FALLBACK_MS};
use upload_progress_core::Progress;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;

use crate::shell::clock;

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

/// What one scheduled flush waits on; dropping it cancels the wait.
enum Wake {
    /// The minimum interval since the last flush, before asking for a frame.
    Interval { _timer: Timeout },
    /// The frame request and its fallback timer.
    Frame { _request: FrameRequest },
}

struct FrameRequest {
    frame: Option<(i32, Closure<dyn FnMut()>)>,
    _fallback: Timeout,
}

impl Drop for FrameRequest {
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
        let flush = self
            .inner
            .pending
            .borrow_mut()
            .offer_progress(progress, clock::now());
        Inner::after(&self.inner, flush);
    }

    pub(crate) fn status(&self, status: Status) {
        let flush = self
            .inner
            .pending
            .borrow_mut()
            .offer_status(status, clock::now());
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
            Flush::NextFrame => Self::request_frame(this),
            Flush::After(delay) => {
                let weak = Rc::downgrade(this);
                let delay = u32::try_from(delay).unwrap_or(u32::MAX);
                let timer = Timeout::new(delay, move || {
                    if let Some(inner) = weak.upgrade() {
                        Inner::request_frame(&inner);
                    }
                });
                *this.wake.borrow_mut() = Some(Wake::Interval { _timer: timer });
            }
            Flush::Now => Self::flush(this),
        }
    }

    fn flush(this: &Rc<Self>) {
        let wake = this.wake.borrow_mut().take();
        drop(wake);
        let (progress, status) = this.pending.borrow_mut().take(clock::now());
        if progress.is_some() || status.is_some() {
            (this.show)(progress, status);
        }
    }

    fn request_frame(this: &Rc<Self>) {
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
        let request = Wake::Frame {
            _request: FrameRequest {
                frame,
                _fallback: fallback,
            },
        };
        // Replacing the interval timer from inside its own callback is
        // fine: wasm-bindgen frees a running closure once it returns.
        let waited = this.wake.borrow_mut().replace(request);
        drop(waited);
    }
}

fn wake_up(weak: &Weak<Inner>) {
    if let Some(inner) = weak.upgrade() {
        Inner::flush(&inner);
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use gloo_timers::future::TimeoutFuture;
    use upload_progress_core::session::FRAME_FALLBACK_MS;
    use upload_progress_core::{JobState, ProcessId, Progress};
    use wasm_bindgen_test::*;

    use super::FrameSink;

    wasm_bindgen_test_configure!(run_in_browser);

    fn progress(seq: u64, state: JobState) -> Progress {
        Progress {
            seq,
            state,
            ..Progress::unknown(ProcessId::parse("job_1").unwrap(), 0)
        }
    }

    /// A sink that records the seq of every progress it shows.
    fn recording() -> (FrameSink, Rc<RefCell<Vec<u64>>>) {
        let shown = Rc::new(RefCell::new(Vec::new()));
        let log = shown.clone();
        let sink = FrameSink::new(move |p, _| {
            if let Some(p) = p {
                log.borrow_mut().push(p.seq);
            }
        });
        (sink, shown)
    }

    #[wasm_bindgen_test]
    async fn a_burst_is_shown_once_with_its_newest_update() {
        let (sink, shown) = recording();
        for seq in 1..=50 {
            sink.progress(progress(seq, JobState::Running));
        }
        assert!(shown.borrow().is_empty(), "nothing is drawn before a frame");
        TimeoutFuture::new(FRAME_FALLBACK_MS + 100).await;
        assert_eq!(*shown.borrow(), [50]);
    }

    #[wasm_bindgen_test]
    async fn a_final_state_is_shown_at_once_and_cancels_the_pending_frame() {
        let (sink, shown) = recording();
        sink.progress(progress(1, JobState::Running));
        sink.progress(progress(2, JobState::Completed));
        assert_eq!(*shown.borrow(), [2], "shown synchronously");
        TimeoutFuture::new(FRAME_FALLBACK_MS + 100).await;
        assert_eq!(*shown.borrow(), [2], "the cancelled frame shows nothing");
    }

    #[wasm_bindgen_test]
    async fn a_dropped_sink_shows_nothing() {
        let (sink, shown) = recording();
        sink.progress(progress(1, JobState::Running));
        drop(sink);
        TimeoutFuture::new(FRAME_FALLBACK_MS + 100).await;
        assert!(shown.borrow().is_empty());
    }
}
