//! Page lifecycle events turned into session inputs.
//!
//! Hidden tabs throttle timers and the back/forward cache freezes pages, so
//! the session must hear about visibility, connectivity and page show/hide.
//! Every listener is a [`Listener`], removed when dropped.

use upload_progress_core::session::Input;
use wasm_bindgen::JsCast;
use web_sys::{PageTransitionEvent, VisibilityState};

use crate::shell::listener::Listener;

/// The listeners of one session; dropping this removes them all.
pub(crate) struct PageEvents {
    _listeners: Vec<Listener>,
}

impl PageEvents {
    /// Listens to the page and reports to `sink`.
    pub(crate) fn attach(sink: impl Fn(Input) + Clone + 'static) -> Self {
        let mut listeners = Vec::new();
        let Some(window) = web_sys::window() else {
            return Self {
                _listeners: listeners,
            };
        };
        if let Some(document) = window.document() {
            let s = sink.clone();
            let doc = document.clone();
            listeners.push(Listener::new(&document, "visibilitychange", move |_| {
                if doc.visibility_state() == VisibilityState::Visible {
                    s(Input::Visible);
                } else {
                    s(Input::Hidden);
                }
            }));
        }
        let s = sink.clone();
        listeners.push(Listener::new(&window, "online", move |_| s(Input::Online)));
        let s = sink.clone();
        listeners.push(Listener::new(&window, "offline", move |_| {
            s(Input::Offline)
        }));
        let s = sink.clone();
        listeners.push(Listener::new(&window, "pagehide", move |_| {
            s(Input::PageHide)
        }));
        let s = sink;
        listeners.push(Listener::new(&window, "pageshow", move |e| {
            let persisted = e
                .dyn_ref::<PageTransitionEvent>()
                .map(|e| e.persisted())
                .unwrap_or(false);
            s(Input::PageShow { persisted });
        }));
        Self {
            _listeners: listeners,
        }
    }
}

/// True when the browser says it is offline right now (`navigator.onLine`
/// is only trustworthy when it says `false`).
pub(crate) fn starts_offline() -> bool {
    web_sys::window()
        .map(|w| !w.navigator().on_line())
        .unwrap_or(false)
}

/// True when the page is hidden right now.
pub(crate) fn starts_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == VisibilityState::Hidden)
        .unwrap_or(false)
}
