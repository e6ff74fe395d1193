//! One browser WebSocket whose handlers are owned and released with it.
//!
//! The four handler closures live in the [`Socket`] value. Dropping it clears
//! the handlers first and then closes the socket, so a replaced or abandoned
//! socket can never deliver another event and nothing leaks.

use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, Event, MessageEvent, WebSocket};

/// What a socket reports, in browser terms.
#[derive(Debug, Clone)]
pub(crate) enum SocketEvent {
    /// `open`.
    Open,
    /// A text frame: `MessageEvent.data`, a JS string, left in JS.
    Message(wasm_bindgen::JsValue),
    /// A binary frame (not used by protocol v1, but proof of life).
    Binary,
    /// `close`.
    // The page connection reads the code only.
    #[cfg_attr(not(feature = "one-job-session"), allow(dead_code))]
    Closed {
        /// `CloseEvent.code`.
        code: u16,
        /// `CloseEvent.reason`.
        reason: String,
        /// `CloseEvent.wasClean`.
        was_clean: bool,
    },
    /// `error` (a `close` always follows).
    Error,
}

/// An open or opening WebSocket plus the closures that serve it.
pub(crate) struct Socket {
    ws: WebSocket,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    closed: bool,
}

impl Socket {
    /// Starts opening a socket to `url`; every event goes to `sink`.
    ///
    /// Fails when the browser rejects the URL outright (bad scheme, bad port).
    pub(crate) fn open(
        url: &str,
        sink: impl Fn(SocketEvent) + Clone + 'static,
    ) -> Result<Self, String> {
        let ws = WebSocket::new(url).map_err(|e| {
            e.as_string()
                .or_else(|| {
                    e.dyn_ref::<js_sys::Error>()
                        .map(|err| String::from(err.message()))
                })
                .unwrap_or_else(|| format!("cannot open a WebSocket to {url}"))
        })?;

        let s = sink.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(SocketEvent::Open));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            // Protocol v1 is text only; a binary frame is still a sign of life.
            let data = e.data();
            if data.is_string() {
                s(SocketEvent::Message(data))
            } else {
                s(SocketEvent::Binary)
            }
        });
        let s = sink.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            s(SocketEvent::Closed {
                code: e.code(),
                reason: e.reason(),
                was_clean: e.was_clean(),
            })
        });
        let s = sink;
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(SocketEvent::Error));

        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));

        Ok(Self {
            ws,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
            closed: false,
        })
    }

    /// Sends a text frame. A failure is not reported: the `close` event that
    /// follows a broken socket carries the news.
    pub(crate) fn send(&self, text: &str) {
        if self.ws.ready_state() == WebSocket::OPEN {
            let _ = self.ws.send_with_str(text);
        }
    }

    /// Detaches every handler and closes the socket with `code` and `reason`.
    pub(crate) fn close(mut self, code: u16, reason: &str) {
        self.shut(code, reason);
    }

    fn shut(&mut self, code: u16, reason: &str) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let state = self.ws.ready_state();
        if state == WebSocket::CONNECTING || state == WebSocket::OPEN {
            // A code the browser refuses would throw: fall back to a plain
            // close rather than keep the socket.
            let sendable = upload_progress_core::code::browser_may_send(code);
            let closed = sendable && self.ws.close_with_code_and_reason(code, reason).is_ok();
            if !closed {
                let _ = self.ws.close();
            }
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.shut(1000, "client gone");
    }
}
