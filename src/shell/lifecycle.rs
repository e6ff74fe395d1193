//! Page lifecycle events turned into session inputs.
//!
//! Hidden tabs throttle timers and the back/forward cache freezes pages, so
//! the session must hear about visibility, connectivity and page show/hide.
//! Every listener is a [`Listener`], removed when dropped. What each event
//! means for the connection is decided in core (`session/wake.rs`,
//! `session/lifecycle.rs`); this file only reports.

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
            // Chromium's page lifecycle: `resume` after the page was frozen.
            // Other engines never fire it; core also finds a freeze from
            // its overdue deadlines.
            let s = sink.clone();
            listeners.push(Listener::new(&document, "resume", move |_| {
                s(Input::Resumed)
            }));
        }
        // `navigator.connection` (Chromium only, and not in web-sys's stable
        // API): read by name so other engines simply skip it.
        if let Some(connection) = network_information(&window) {
            let s = sink.clone();
            listeners.push(Listener::new(&connection, "change", move |_| {
                s(Input::NetworkChanged)
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

/// `navigator.connection` as an event target, where the engine has one.
fn network_information(window: &web_sys::Window) -> Option<web_sys::EventTarget> {
    let navigator = window.navigator();
    js_sys::Reflect::get(&navigator, &wasm_bindgen::JsValue::from_str("connection"))
        .ok()
        .filter(|value| value.is_object())
        .and_then(|value| value.dyn_into::<web_sys::EventTarget>().ok())
}

/// True when the browser says it is offline right now (`navigator.onLine`
/// is only trustworthy when it says `false`).
pub(crate) fn starts_offline() -> bool {
    web_sys::window()
        .map(|w| !w.navigator().on_line())
        .unwrap_or(false)
}

/// True when the page is hidden right now.
#[cfg(feature = "one-job-session")]
pub(crate) fn starts_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .map(|d| d.visibility_state() == VisibilityState::Hidden)
        .unwrap_or(false)
}
