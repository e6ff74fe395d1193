//! An HTTP request in flight, abortable and owned: the set poll of the
//! page connection (`page/set_poll.rs`) and the one-job poll (`poll.rs`)
//! run on it.

use std::cell::Cell;
use std::rc::Rc;

use web_sys::{AbortController, AbortSignal};

/// An in-flight poll. Dropping it aborts the request and silences its answer.
pub(crate) struct Poll {
    abort: Option<AbortController>,
    live: Rc<Cell<bool>>,
}

impl Drop for Poll {
    fn drop(&mut self) {
        self.live.set(false);
        if let Some(abort) = &self.abort {
            abort.abort();
        }
    }
}

/// Runs the request `task` builds around an abort signal; `done` gets its
/// result unless the returned [`Poll`] was dropped first.
pub(crate) fn spawn_abortable<T, F>(
    task: impl FnOnce(Option<AbortSignal>) -> F,
    done: impl FnOnce(T) + 'static,
) -> Poll
where
    F: std::future::Future<Output = T> + 'static,
{
    let live = Rc::new(Cell::new(true));
    let abort = AbortController::new().ok();
    let future = task(abort.as_ref().map(|a| a.signal()));
    let still_live = live.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let outcome = future.await;
        if still_live.get() {
            done(outcome);
        }
    });
    Poll { abort, live }
}
