//! The browser side of the tab election (core `page::tabs`): the Web Lock,
//! the broadcast channel and the page events that matter to it. It reports
//! what happens as [`TabEvent`]s and carries out what core asks; dropping
//! it releases the lock, closes the channel and removes the listeners.

use std::cell::RefCell;
use std::rc::Rc;

use upload_progress_core::page::{Lifecycle, TabMessage};
use wasm_bindgen::JsCast;
use web_sys::PageTransitionEvent;

use super::channel::TabChannel;
use super::lock::{lock_manager, LockEvent, LockManager, LockRequest};
use crate::shell::listener::Listener;

/// Something that happened, for core.
pub(crate) enum TabEvent {
    Lock(LockEvent),
    Message(TabMessage),
    Lifecycle(Lifecycle),
}

/// The lock, the channel and the listeners of one page connection.
pub(crate) struct TabLink {
    name: String,
    locks: LockManager,
    lock: RefCell<Option<LockRequest>>,
    sink: Rc<dyn Fn(TabEvent)>,
    /// Dropped last: the lock is released, the goodbye posted, then the
    /// channel closes.
    channel: TabChannel,
    _listeners: Vec<Listener>,
}

impl TabLink {
    /// The link for the channel and lock `name`; `None` (the tab is solo)
    /// where the browser lacks Web Locks or broadcast channels.
    pub(crate) fn open(name: String, sink: impl Fn(TabEvent) + 'static) -> Option<Self> {
        let locks = lock_manager()?;
        let sink: Rc<dyn Fn(TabEvent)> = Rc::new(sink);
        let s = sink.clone();
        let channel = TabChannel::open(&name, move |text| {
            if let Some(message) = TabMessage::decode(&text) {
                s(TabEvent::Message(message));
            }
        })?;
        let window = web_sys::window()?;
        let mut listeners = Vec::new();
        let on = |kind| {
            let s = sink.clone();
            move |event: web_sys::Event| {
                let persisted = event
                    .dyn_ref::<PageTransitionEvent>()
                    .is_some_and(PageTransitionEvent::persisted);
                let event = match kind {
                    "freeze" => Lifecycle::Frozen,
                    "pagehide" => Lifecycle::Hidden { persisted },
                    "pageshow" if !persisted => return,
                    _ => Lifecycle::Resumed,
                };
                s(TabEvent::Lifecycle(event));
            }
        };
        if let Some(document) = window.document() {
            for kind in ["freeze", "resume"] {
                listeners.push(Listener::new(&document, kind, on(kind)));
            }
        }
        for kind in ["pagehide", "pageshow"] {
            listeners.push(Listener::new(&window, kind, on(kind)));
        }
        Some(Self {
            name,
            locks,
            lock: RefCell::new(None),
            sink,
            channel,
            _listeners: listeners,
        })
    }

    /// Asks for the lock (in line, or stealing it), instead of any request
    /// before.
    pub(crate) fn request(&self, steal: bool) {
        self.release();
        let sink = self.sink.clone();
        let request = LockRequest::new(&self.locks, &self.name, steal, move |event| {
            sink(TabEvent::Lock(event));
        });
        *self.lock.borrow_mut() = Some(request);
    }

    /// Lets the lock go, or leaves the line.
    pub(crate) fn release(&self) {
        let old = self.lock.borrow_mut().take();
        drop(old);
    }

    pub(crate) fn post(&self, message: &TabMessage) {
        self.channel.post(&message.encode());
    }
}
