//! The page's upload queue: one [`UploadQueue`] per page (per thread), shared
//! by every upload shell, whether a component's or an embed widget's.
//!
//! The core decides who runs; this only keeps, per ticket, how to start its
//! upload, and starts the tickets the queue hands out. A shell that goes
//! away leaves the queue, so an unmounted widget never holds a slot.

use std::cell::RefCell;
use std::rc::Rc;

use upload_progress_core::upload::{Ticket, UploadQueue, UploadState};
#[cfg(feature = "embed")]
use wasm_bindgen::prelude::wasm_bindgen;

/// Starts one upload (feeds it `Input::Start`); false when its shell is gone.
pub(crate) type Starter = Rc<dyn Fn() -> bool>;

thread_local! {
    static QUEUE: RefCell<UploadQueue> = RefCell::new(UploadQueue::default());
    /// How to start each ticket's upload (a list: a page holds few).
    static STARTERS: RefCell<Vec<(Ticket, Starter)>> = const { RefCell::new(Vec::new()) };
}

/// Sets how many uploads of this page send at once (default 3, the core's
/// `DEFAULT_UPLOAD_LIMIT`; 0 counts as 1).
/// A higher limit starts waiting uploads at once; a lower one stops no
/// running upload, it only starts no new one until fewer run.
///
/// Every upload of the page takes turns through the same queue: components
/// given a `file`, `use_upload`, and embed widgets mounted with `file`.
#[cfg_attr(feature = "embed", wasm_bindgen)]
pub fn set_upload_limit(limit: usize) {
    QUEUE.with(|q| q.borrow_mut().set_limit(limit));
    start_due();
}

/// How many uploads of this page may send at once (default 3).
#[cfg_attr(feature = "embed", wasm_bindgen)]
pub fn upload_limit() -> usize {
    QUEUE.with(|q| q.borrow().limit())
}

/// A ticket for a new upload, started by `start` when its turn comes.
pub(crate) fn join(start: Starter) -> Ticket {
    let ticket = QUEUE.with(|q| q.borrow_mut().ticket());
    STARTERS.with(|s| s.borrow_mut().push((ticket, start)));
    ticket
}

/// The upload of `ticket` is now in `state`; [`start_due`] then starts
/// whoever's turn came (with no shell borrowed: a start feeds a shell).
pub(crate) fn follow(ticket: Ticket, state: &UploadState) {
    QUEUE.with(|q| q.borrow_mut().follow(ticket, state));
}

/// The upload of `ticket` is gone. The next one starts from a fresh task:
/// this runs while a shell is dropped, maybe inside a component's cleanup.
pub(crate) fn leave(ticket: Ticket) {
    STARTERS.with(|s| s.borrow_mut().retain(|(t, _)| *t != ticket));
    QUEUE.with(|q| q.borrow_mut().forget(ticket));
    wasm_bindgen_futures::spawn_local(async { start_due() });
}

/// Starts every ticket the queue hands out, each with nothing borrowed.
pub(crate) fn start_due() {
    while let Some(ticket) = QUEUE.with(|q| q.borrow_mut().poll_start()) {
        let starter = STARTERS.with(|s| {
            s.borrow()
                .iter()
                .find(|(t, _)| *t == ticket)
                .map(|(_, start)| Rc::clone(start))
        });
        let started = starter.is_some_and(|start| start());
        if !started {
            // Its shell is gone without leaving: free the slot.
            QUEUE.with(|q| q.borrow_mut().forget(ticket));
        }
    }
}
