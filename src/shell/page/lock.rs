//! One Web Lock request (`navigator.locks.request`), held until released.
//!
//! web-sys has `LockManager` only behind `web_sys_unstable_apis`, so the
//! two calls needed are declared here. The lock is held by the promise the
//! grant callback returns: it resolves when this request is released or
//! dropped. A request still waiting in line is aborted when dropped. The
//! request's own promise rejects when the lock is stolen (or the request
//! aborted); a held lock that ends that way is reported as lost.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::AbortController;

#[wasm_bindgen]
extern "C" {
    /// `navigator.locks`.
    pub(crate) type LockManager;

    #[wasm_bindgen(method)]
    fn request(this: &LockManager, name: &str, options: &Object, callback: &Function) -> Promise;
}

/// What became of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockEvent {
    /// This tab holds the lock.
    Granted,
    /// The lock this tab held was taken (stolen) or could not be kept.
    Lost,
}

/// `navigator.locks`, where the browser has it (Web Locks need a secure
/// context: `https` or `localhost`).
pub(crate) fn lock_manager() -> Option<LockManager> {
    let navigator = web_sys::window()?.navigator();
    let locks = Reflect::get(&navigator, &JsValue::from_str("locks")).ok()?;
    if locks.is_undefined() || locks.is_null() {
        return None;
    }
    Some(locks.unchecked_into())
}

/// A request for the lock; dropping it releases the lock or leaves the line.
pub(crate) struct LockRequest {
    /// Resolves the promise that holds the lock, once granted.
    release: Rc<RefCell<Option<Function>>>,
    /// Aborts the request while it waits (a steal never waits).
    abort: Option<AbortController>,
    /// The grant callback, kept while the browser may call it.
    _granted: Option<Closure<dyn FnMut(JsValue) -> Promise>>,
}

impl LockRequest {
    /// Asks for `name`; `steal` takes it from its holder at once.
    pub(crate) fn new(
        locks: &LockManager,
        name: &str,
        steal: bool,
        sink: impl Fn(LockEvent) + 'static,
    ) -> Self {
        let sink = Rc::new(sink);
        let release = Rc::new(RefCell::new(None::<Function>));
        let held = Rc::new(Cell::new(false));
        let on_grant = {
            let (release, held, sink) = (release.clone(), held.clone(), sink.clone());
            move |_lock: JsValue| {
                let hold = Promise::new(&mut |resolve, _reject| {
                    *release.borrow_mut() = Some(resolve);
                });
                held.set(true);
                sink(LockEvent::Granted);
                hold
            }
        };
        let options = Object::new();
        let (abort, granted, callback): (_, _, Function) = if steal {
            // Granted at once, so the callback is always called: it frees itself.
            let _ = Reflect::set(&options, &"steal".into(), &JsValue::TRUE);
            let callback = Closure::once_into_js(on_grant);
            (None, None, callback.unchecked_into())
        } else {
            let abort = AbortController::new().ok();
            if let Some(abort) = &abort {
                let _ = Reflect::set(&options, &"signal".into(), &abort.signal());
            }
            let closure = Closure::<dyn FnMut(JsValue) -> Promise>::new(on_grant);
            let callback = closure.as_ref().unchecked_ref::<Function>().clone();
            (abort, Some(closure), callback)
        };
        let done = locks.request(name, &options, &callback);
        wasm_bindgen_futures::spawn_local(async move {
            if JsFuture::from(done).await.is_err() && held.get() {
                sink(LockEvent::Lost);
            }
        });
        Self {
            release,
            abort,
            _granted: granted,
        }
    }
}

impl Drop for LockRequest {
    fn drop(&mut self) {
        match self.release.borrow_mut().take() {
            Some(resolve) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
            None => {
                if let Some(abort) = &self.abort {
                    abort.abort();
                }
            }
        }
    }
}
