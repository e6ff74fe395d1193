//! The driver: one `Session` plus the browser resources it asks for.
//!
//! The driver decides nothing. It feeds browser events to the session as
//! `Input`s stamped with `performance.now()`, carries out the session's
//! `Action`s, and keeps exactly one timer armed at `Session::poll_timeout()`.
//!
//! Work is queued and run to completion, so an input that arrives while an
//! action is being carried out (a UI callback that presses Reconnect, a
//! socket that fails to open) is handled after the current batch, in order,
//! and the session is never borrowed twice.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use upload_progress_core::session::{
    Action, AttemptId, Input, Millis, RequestId, Session, SessionConfig, SessionEvent, Status,
    StatusError,
};
use upload_progress_core::Progress;

use crate::shell::clock;
use crate::shell::fetch::{self, Poll, PollRequest};
use crate::shell::lifecycle::{self, PageEvents};
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
            Inner::push(&inner, Work::Input(input));
        }
    }
}

enum Work {
    Input(Input),
    Timeout,
}

struct Inner {
    state: RefCell<State>,
    queue: RefCell<VecDeque<Work>>,
    running: RefCell<bool>,
    outputs: Outputs,
    token_provider: Option<TokenProvider>,
}

struct State {
    session: Session,
    socket: Option<(AttemptId, Socket)>,
    /// In-flight polls: one, or two while a bridge poll overlaps, so a
    /// list (no hash map code in the wasm).
    polls: Vec<(RequestId, Poll)>,
    timer: Option<(Millis, Timeout)>,
    page: Option<PageEvents>,
    stopped: bool,
}

impl Driver {
    /// Creates the session and starts following the job.
    pub(crate) fn start(
        config: SessionConfig,
        outputs: Outputs,
        token_provider: Option<TokenProvider>,
    ) -> Self {
        let inner = Rc::new(Inner {
            state: RefCell::new(State {
                session: Session::new(config, clock::seed()),
                socket: None,
                polls: Vec::new(),
                timer: None,
                page: None,
                stopped: false,
            }),
            queue: RefCell::new(VecDeque::new()),
            running: RefCell::new(false),
            outputs,
            token_provider,
        });
        let weak = Rc::downgrade(&inner);
        let page = PageEvents::attach(move |input| {
            if let Some(inner) = weak.upgrade() {
                Inner::push(&inner, Work::Input(input));
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
            Inner::push(&inner, Work::Input(input));
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
        Inner::push(&self.inner, Work::Input(Input::Stop));
        // Whatever the session did with `Stop`, nothing may outlive the driver.
        let released = {
            let mut state = self.inner.state.borrow_mut();
            state.stopped = true;
            (
                state.socket.take(),
                std::mem::take(&mut state.polls),
                state.timer.take(),
                state.page.take(),
            )
        };
        drop(released);
        self.inner.queue.borrow_mut().clear();
    }
}

impl Inner {
    fn push(this: &Rc<Self>, work: Work) {
        if this.state.borrow().stopped {
            return;
        }
        this.queue.borrow_mut().push_back(work);
        if *this.running.borrow() {
            return;
        }
        *this.running.borrow_mut() = true;
        loop {
            let next = this.queue.borrow_mut().pop_front();
            let Some(work) = next else { break };
            let actions = {
                let mut state = this.state.borrow_mut();
                if state.stopped {
                    break;
                }
                let now = clock::now();
                match work {
                    Work::Input(input) => state.session.handle(input, now),
                    Work::Timeout => state.session.handle_timeout(now),
                }
                let mut actions = Vec::new();
                while let Some(action) = state.session.poll_action() {
                    actions.push(action);
                }
                actions
            };
            for action in actions {
                Self::execute(this, action);
            }
            Self::arm_timer(this);
        }
        *this.running.borrow_mut() = false;
    }

    fn execute(this: &Rc<Self>, action: Action) {
        // A UI callback may have dropped the driver in the middle of a batch;
        // nothing new may be opened after that.
        if this.state.borrow().stopped {
            return;
        }
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
                    Inner::push(&inner, Work::Input(input));
                };
                // One socket at a time: a socket still held here is replaced.
                let old = this.state.borrow_mut().socket.take();
                drop(old);
                match Socket::open(&url, sink) {
                    Ok(socket) => this.state.borrow_mut().socket = Some((attempt, socket)),
                    Err(reason) => this
                        .queue
                        .borrow_mut()
                        .push_back(Work::Input(Input::SocketOpenFailed { attempt, reason })),
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
                let poll = fetch::start(PollRequest { url, etag, token }, move |outcome| {
                    if let Some(inner) = weak.upgrade() {
                        let done = take_poll(&mut inner.state.borrow_mut().polls, request);
                        drop(done);
                        Inner::push(
                            &inner,
                            Work::Input(Input::PollFinished { request, outcome }),
                        );
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
                            Inner::push(&inner, Work::Input(Input::TokenReady { token }));
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

    /// Keeps one timer armed at the session's next deadline.
    fn arm_timer(this: &Rc<Self>) {
        let mut state = this.state.borrow_mut();
        if state.stopped {
            state.timer = None;
            return;
        }
        let deadline = state.session.poll_timeout();
        match (deadline, &state.timer) {
            (None, _) => state.timer = None,
            // Every frame pushes the stall deadline later. A timer armed for
            // an earlier moment stays: when it fires, the session finds
            // nothing due and this re-arms for the real deadline. That is
            // one spare wake-up per deadline instead of a new timer (and
            // closure) per message.
            (Some(d), Some((armed, _))) if *armed <= d => {}
            (Some(d), _) => {
                // setTimeout may fire a fraction early against performance.now();
                // one extra millisecond keeps the session from seeing "not yet".
                let delay = d.saturating_sub(clock::now()).saturating_add(1);
                let delay = u32::try_from(delay).unwrap_or(u32::MAX);
                let weak = Rc::downgrade(this);
                let timer = Timeout::new(delay, move || {
                    if let Some(inner) = weak.upgrade() {
                        inner.state.borrow_mut().timer = None;
                        Inner::push(&inner, Work::Timeout);
                    }
                });
                state.timer = Some((d, timer));
            }
        }
    }
}

/// Removes the poll `request` from the in-flight list.
fn take_poll(polls: &mut Vec<(RequestId, Poll)>, request: RequestId) -> Option<Poll> {
    let index = polls.iter().position(|(id, _)| *id == request)?;
    Some(polls.swap_remove(index).1)
}
