//! The broadcast channel between the tabs of an origin: text messages out,
//! text messages in. Closed when dropped.

use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

use crate::shell::listener::Listener;

/// An open channel and its listener.
pub(crate) struct TabChannel {
    channel: BroadcastChannel,
    _listener: Listener,
}

impl TabChannel {
    /// Joins the channel `name`; `None` where the browser has none.
    pub(crate) fn open(name: &str, sink: impl Fn(String) + 'static) -> Option<Self> {
        let channel = BroadcastChannel::new(name).ok()?;
        let listener = Listener::new(&channel, "message", move |event| {
            if let Some(text) = event
                .dyn_ref::<MessageEvent>()
                .and_then(|e| e.data().as_string())
            {
                sink(text);
            }
        });
        Some(Self {
            channel,
            _listener: listener,
        })
    }

    /// Sends `text` to every other tab on the channel.
    pub(crate) fn post(&self, text: &str) {
        let _ = self.channel.post_message(&text.into());
    }
}

impl Drop for TabChannel {
    fn drop(&mut self) {
        self.channel.close();
    }
}
