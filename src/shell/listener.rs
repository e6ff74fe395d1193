//! An event listener that removes itself when dropped.
//!
//! The callback takes the event by value: a closure over `&Event` makes
//! wasm-bindgen emit `table.fill`, which the wasm-opt of Debian 12 cannot
//! parse, so the release build would fail.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget};

/// A registered listener; dropping it unregisters the callback.
pub(crate) struct Listener {
    target: EventTarget,
    kind: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

impl Listener {
    /// Calls `callback` for every `kind` event on `target`.
    pub(crate) fn new(
        target: &EventTarget,
        kind: &'static str,
        callback: impl FnMut(Event) + 'static,
    ) -> Self {
        Self::register(target, kind, Box::new(callback))
    }

    /// The registration, once for every kind of callback: inlined into each
    /// caller, it was a copy per listener in the browser's wasm.
    #[inline(never)]
    fn register(target: &EventTarget, kind: &'static str, callback: Box<dyn FnMut(Event)>) -> Self {
        let callback = Closure::wrap(callback);
        // Registration only fails for a detached or foreign target; the
        // listener then simply never fires.
        let _ = target.add_event_listener_with_callback(kind, callback.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            kind,
            callback,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(self.kind, self.callback.as_ref().unchecked_ref());
    }
}
