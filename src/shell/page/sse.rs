//! One `EventSource` for the page's event stream (protocol 11.5), its
//! handlers owned and released with it.
//!
//! `EventSource` reconnects by itself after an error; the page connection
//! decides reconnects, so the first error is reported and the stream is
//! closed at once (its owner drops it).

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Event, EventSource, MessageEvent};

/// What a stream reports.
pub(crate) enum StreamEvent {
    /// The answer's headers arrived: the stream is open.
    Open,
    /// One event's `data` (a page frame), left in JS.
    Message(JsValue),
    /// The stream failed or ended.
    Error,
}

/// An open or opening event stream plus the closures that serve it.
pub(crate) struct EventStream {
    source: EventSource,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

impl EventStream {
    /// Starts the stream at `url`; every event goes to `sink`. Fails when
    /// the browser refuses the URL outright.
    pub(crate) fn open(url: &str, sink: impl Fn(StreamEvent) + Clone + 'static) -> Option<Self> {
        let source = EventSource::new(url).ok()?;
        let s = sink.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| s(StreamEvent::Open));
        let s = sink.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            s(StreamEvent::Message(e.data()))
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| sink(StreamEvent::Error));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Some(Self {
            source,
            _on_open: on_open,
            _on_message: on_message,
            _on_error: on_error,
        })
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.source.set_onopen(None);
        self.source.set_onmessage(None);
        self.source.set_onerror(None);
        self.source.close();
    }
}
