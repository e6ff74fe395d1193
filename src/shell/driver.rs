//! The driver: one `Session` plus the browser resources it asks for.
//!
//! The driver decides nothing. It feeds browser events to the session as
//! `Input`s, carries out the session's `Action`s; the pump (`pump.rs`,
//! shared with the page driver) stamps the inputs with `performance.now()`,
//! runs queued work to completion and keeps one timer armed at
//! `Session::poll_timeout()`.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use upload_progress_core::session::{
    Action, AttemptId, Input, RequestId, Session, SessionConfig, SessionEvent, Status, StatusError,
};
use upload_progress_core::Progress;

use crate::shell::clock;
use crate::shell::fetch::Poll;
use crate::shell::lifecycle::{self, PageEvents};
use crate::shell::poll::{self, PollRequest};
use crate::shell::pump::{self, Carrier, Pump};
use crate::shell::socket::{Socket, SocketEvent};
use crate::shell::token::TokenProvider;

/// Where the driver reports what the session wants shown.
pub(crate) struct Outputs {
    /// Newer progress.
    pub(crate) progress: Box<dyn Fn(Progress)>,
    /// A new status.
    pub(crate) status: Box<dyn Fn(Status)>,
    /// The job completed (once).
    pub(crate) completed: Box<dyn Fn(Progress)>,
    /// Following ended in an error, or the job failed.
    pub(crate) failed: Box<dyn Fn(StatusError)>,
    /// A decision of the session, for the app's logs.
    pub(crate) event: Box<dyn Fn(SessionEvent)>,
}

/// Owns a running session. Dropping it stops the session and releases the
/// socket, the in-flight polls, the timer and the page listeners.
pub(crate) struct Driver {
    inner: Rc<Inner>,
}

/// A weak handle for feeding inputs from UI code; does nothing once the
/// driver is gone.
#[derive(Clone)]
pub(crate) struct DriverHandle(Weak<Inner>);

impl DriverHandle {
    /// Feeds one input.
    pub(crate) fn send(&self, input: Input) {
        if let Some(inner) = self.0.upgrade() {
            pump::push(&inner, input);
        }
    }
}

struct Inner {
    pump: Pump<Session>,
    state: RefCell<State>,
    outputs: Outputs,
    token_provider: Option<TokenProvider>,
}

/// The browser resources the session holds.
struct State {
    socket: Option<(AttemptId, Socket)>,
    /// In-flight polls: one, or two while a bridge poll overlaps, so a
    /// list (no hash map code in the wasm).
    polls: Vec<(RequestId, Poll)>,
    page: Option<PageEvents>,
}

impl Driver {
    /// Creates the session and starts following the job.
    pub(crate) fn start(
        config: SessionConfig,
        outputs: Outputs,
        token_provider: Option<TokenProvider>,
    ) -> Self {
        let inner = Rc::new(Inner {
            pump: Pump::new(Session::new(config, clock::seed())),
            state: RefCell::new(State {
                socket: None,
                polls: Vec::new(),
                page: None,
            }),
            outputs,
            token_provider,
        });
        let weak = Rc::downgrade(&inner);
        let page = PageEvents::attach(move |input| {
            if let Some(inner) = weak.upgrade() {
                pump::push(&inner, input);
            }
        });
        inner.state.borrow_mut().page = Some(page);

        // Report the page as it is now; from here on the listeners report changes.
        let mut first = vec![Input::Start];
        if lifecycle::starts_offline() {
            first.push(Input::Offline);
        }
        if lifecycle::starts_hidden() {
            first.push(Input::Hidden);
        }
        for input in first {
            pump::push(&inner, input);
        }
        Self { inner }
    }

    /// A handle for feeding inputs later.
    pub(crate) fn handle(&self) -> DriverHandle {
        DriverHandle(Rc::downgrade(&self.inner))
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        pump::push(&self.inner, Input::Stop);
        // Whatever the session did with `Stop`, nothing may outlive the driver.
        self.inner.pump.stop();
        let released = {
            let mut state = self.inner.state.borrow_mut();
            (
                state.socket.take(),
                std::mem::take(&mut state.polls),
                state.page.take(),
            )
        };
        drop(released);
    }
}

impl Carrier for Inner {
    type Machine = Session;

    fn pump(&self) -> &Pump<Session> {
        &self.pump
    }

    fn execute(this: &Rc<Self>, action: Action) {
        match action {
            Action::OpenSocket { attempt, url } => {
                let weak = Rc::downgrade(this);
                let sink = move |event: SocketEvent| {
                    let Some(inner) = weak.upgrade() else { return };
                    let input = match event {
                        SocketEvent::Open => Input::SocketOpened { attempt },
                        SocketEvent::Message(text) => Input::SocketFrame {
                            attempt,
                            message: crate::shell::wire::server_message(&text),
                        },
                        SocketEvent::Binary => Input::SocketBinary { attempt },
                        SocketEvent::Closed {
                            code,
                            reason,
                            was_clean,
                        } => Input::SocketClosed {
                            attempt,
                            code,
                            reason,
                            was_clean,
                        },
                        SocketEvent::Error => Input::SocketError { attempt },
                    };
                    pump::push(&inner, input);
                };
                // One socket at a time: a socket still held here is replaced.
                let old = this.state.borrow_mut().socket.take();
                drop(old);
                match Socket::open(&url, sink) {
                    Ok(socket) => this.state.borrow_mut().socket = Some((attempt, socket)),
                    // Handled after this batch: the pump is running.
                    Err(reason) => pump::push(this, Input::SocketOpenFailed { attempt, reason }),
                }
            }
            Action::CloseSocket {
                attempt,
                code,
                reason,
            } => {
                let socket = {
                    let mut state = this.state.borrow_mut();
                    match &state.socket {
                        Some((current, _)) if *current == attempt => state.socket.take(),
                        _ => None,
                    }
                };
                if let Some((_, socket)) = socket {
                    socket.close(code, &reason);
                }
            }
            Action::Send { attempt, text } => {
                let state = this.state.borrow();
                if let Some((current, socket)) = &state.socket {
                    if *current == attempt {
                        socket.send(&text);
                    }
                }
            }
            Action::FetchProgress {
                request,
                url,
                etag,
                token,
            } => {
                let weak = Rc::downgrade(this);
                let poll = poll::start(PollRequest { url, etag, token }, move |outcome| {
                    if let Some(inner) = weak.upgrade() {
                        let done = take_poll(&mut inner.state.borrow_mut().polls, request);
                        drop(done);
                        pump::push(&inner, Input::PollFinished { request, outcome });
                    }
                });
                this.state.borrow_mut().polls.push((request, poll));
            }
            Action::CancelFetch { request } => {
                let poll = take_poll(&mut this.state.borrow_mut().polls, request);
                drop(poll);
            }
            // The session only asks when it was told a provider exists.
            Action::RefreshToken => {
                if let Some(provider) = &this.token_provider {
                    let future = provider.fetch();
                    let weak = Rc::downgrade(this);
                    wasm_bindgen_futures::spawn_local(async move {
                        let token = future.await;
                        if let Some(inner) = weak.upgrade() {
                            pump::push(&inner, Input::TokenReady { token });
                        }
                    });
                }
            }
            Action::ProgressChanged(progress) => (this.outputs.progress)(progress),
            Action::StatusChanged(status) => (this.outputs.status)(status),
            Action::JobCompleted(progress) => (this.outputs.completed)(progress),
            Action::Failed(error) => (this.outputs.failed)(error),
            Action::Event(event) => (this.outputs.event)(event),
        }
    }
}

/// Removes the poll `request` from the in-flight list.
fn take_poll(polls: &mut Vec<(RequestId, Poll)>, request: RequestId) -> Option<Poll> {
    let index = polls.iter().position(|(id, _)| *id == request)?;
    Some(polls.swap_remove(index).1)
}
