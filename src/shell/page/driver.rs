//! The page driver: one `PageConnection` plus the browser resources it
//! asks for, and the widgets following jobs through it.
//!
//! Like the one-job driver (`shell/driver.rs`) it decides nothing: it feeds
//! browser events to the connection as `PageInput`s and carries out its
//! `PageAction`s, on the same pump (`shell/pump.rs`: inputs stamped with
//! `performance.now()`, queued work run to completion, one timer armed at
//! `poll_timeout()`). What a widget shows for a page status or a job's end
//! comes from core (`page::shown`).
//!
//! Frames to the page socket wait in an outbox until the current task
//! ends, so the subscriptions of widgets mounted together (or unmounted
//! together) go out as one message: the server's rate limit counts messages.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use upload_progress_core::page::client::{self, refusal};
use upload_progress_core::page::shown;
use upload_progress_core::page::{
    ConnId, PageAction, PageConnection, PageInput, PageStatus, Rung, Subscription,
};
use upload_progress_core::session::{Millis, RequestId, SessionOptions, Status, StatusError};
use upload_progress_core::{JobState, ProcessId, Progress};

use crate::shell::clock;
use crate::shell::fetch::Poll;
use crate::shell::follow::{CompleteCallback, ErrorCallback, EventCallback};
use crate::shell::frame::FrameSink;
use crate::shell::lifecycle::{self, PageEvents};
use crate::shell::page::set_poll;
use crate::shell::page::sse::{EventStream, StreamEvent};
use crate::shell::pump::{self, Carrier, Pump};
use crate::shell::socket::{Socket, SocketEvent};
use crate::shell::token::TokenProvider;
use crate::shell::wire::{page_frame, PageFrame};

/// One widget following one job through the page connection.
pub(crate) struct Member {
    pub(crate) id: u64,
    pub(crate) job: ProcessId,
    pub(crate) sink: FrameSink,
    pub(crate) token_provider: Option<TokenProvider>,
    pub(crate) on_complete: Option<CompleteCallback>,
    pub(crate) on_error: Option<ErrorCallback>,
    /// The connection's decisions, as the widget's own session would tell them.
    pub(crate) on_event: Option<EventCallback>,
    /// When this job's progress was last shown.
    last_update: Cell<Option<Millis>>,
    /// The job ended (final state or refusal): nothing more is shown.
    ended: Cell<bool>,
}

impl Member {
    pub(crate) fn new(
        id: u64,
        job: ProcessId,
        sink: FrameSink,
        token_provider: Option<TokenProvider>,
        on_complete: Option<CompleteCallback>,
        on_error: Option<ErrorCallback>,
        on_event: Option<EventCallback>,
    ) -> Self {
        Self {
            id,
            job,
            sink,
            token_provider,
            on_complete,
            on_error,
            on_event,
            last_update: Cell::new(None),
            ended: Cell::new(false),
        }
    }
}

/// Owns a running page connection. Dropping it stops the connection and
/// releases every stream, poll, the timer and the page listeners.
pub(crate) struct PageDriver {
    inner: Rc<Inner>,
}

/// A weak handle; does nothing once the driver is gone.
#[derive(Clone)]
pub(crate) struct PageHandle(Weak<Inner>);

/// A streaming connection the page connection opened.
enum Stream {
    Socket(Socket),
    /// Held only: dropping it closes the stream.
    Events(#[allow(dead_code)] EventStream),
}

/// A frame waiting for the end of the current task.
enum Outgoing {
    Subscribe(Subscription),
    Unsubscribe(ProcessId),
}

struct Inner {
    pump: Pump<PageConnection>,
    state: RefCell<State>,
    members: RefCell<Vec<Rc<Member>>>,
    /// A job's final progress, between its `JobProgress` and `JobEnded`.
    last_final: RefCell<Option<Progress>>,
    ws_base: String,
    http_base: String,
    max_retries: u32,
}

/// The browser resources the connection holds, and what it last said.
struct State {
    /// Open streams: the transport and a probe at most, so a list. Each
    /// keeps the restart hint of a `server_shutdown` it carried.
    streams: Vec<(ConnId, Stream, Option<u64>)>,
    polls: Vec<(RequestId, Poll)>,
    page: Option<PageEvents>,
    outbox: Vec<(ConnId, Outgoing)>,
    flush_queued: bool,
    status: PageStatus,
}

impl PageDriver {
    /// A page connection to these bases with these knobs, nothing followed yet.
    pub(crate) fn start(ws_base: String, http_base: String, options: SessionOptions) -> Self {
        let max_retries = options.max_retries;
        // Tokens are refreshed per job by a widget following it; one without
        // a provider answers "none" (see `RefreshToken`).
        let conn = PageConnection::new(options, true, clock::seed());
        let inner = Rc::new(Inner {
            pump: Pump::new(conn),
            state: RefCell::new(State {
                streams: Vec::new(),
                polls: Vec::new(),
                page: None,
                outbox: Vec::new(),
                flush_queued: false,
                status: PageStatus::Idle,
            }),
            members: RefCell::new(Vec::new()),
            last_final: RefCell::new(None),
            ws_base,
            http_base,
            max_retries,
        });
        let weak = Rc::downgrade(&inner);
        let page = PageEvents::attach(move |event| {
            if let (Some(inner), Some(input)) = (weak.upgrade(), shown::lifecycle_input(&event)) {
                pump::push(&inner, input);
            }
        });
        inner.state.borrow_mut().page = Some(page);
        pump::push(&inner, PageInput::Start);
        if lifecycle::starts_offline() {
            pump::push(&inner, PageInput::Offline);
        }
        Self { inner }
    }

    pub(crate) fn handle(&self) -> PageHandle {
        PageHandle(Rc::downgrade(&self.inner))
    }
}

impl PageHandle {
    /// Adds a widget and follows its job with `token` (a job already
    /// followed keeps its state and takes the newer token).
    pub(crate) fn join(&self, member: Member, token: Option<String>) {
        let Some(inner) = self.0.upgrade() else {
            return;
        };
        let job = member.job.clone();
        let member = Rc::new(member);
        inner.members.borrow_mut().push(member.clone());
        // The widget starts from what the page already knows of its job.
        let status = inner.state.borrow().status;
        let progress = inner.pump.machine().shown(&job).cloned();
        if let Some(progress) = progress {
            member.last_update.set(Some(clock::now()));
            member.sink.progress(progress);
        }
        Inner::show_status(&inner, &member, status);
        pump::push(&inner, PageInput::Subscribe(Subscription { job, token }));
    }

    /// Removes the widget `id`; its job is unsubscribed when no other
    /// widget follows it. `stopped`: the widget asked to stop, and shows it.
    pub(crate) fn leave(&self, id: u64, stopped: bool) {
        let Some(inner) = self.0.upgrade() else {
            return;
        };
        let gone = {
            let mut members = inner.members.borrow_mut();
            members
                .iter()
                .position(|m| m.id == id)
                .map(|i| members.swap_remove(i))
        };
        let Some(member) = gone else {
            return;
        };
        let still_followed = inner
            .members
            .borrow()
            .iter()
            .any(|m| m.job == member.job && !m.ended.get());
        if stopped && !member.ended.get() {
            member.ended.set(true);
            member
                .sink
                .status(shown::job_status(PageStatus::Stopped, 1, 0));
            member.sink.flush();
        }
        if !still_followed {
            pump::push(
                &inner,
                PageInput::Unsubscribe {
                    job: member.job.clone(),
                },
            );
        }
    }

    /// Feeds one input (Reconnect, a widget's new token).
    pub(crate) fn send(&self, input: PageInput) {
        if let Some(inner) = self.0.upgrade() {
            pump::push(&inner, input);
        }
    }

    /// The number of widgets in the page connection.
    pub(crate) fn members(&self) -> usize {
        self.0.upgrade().map_or(0, |i| i.members.borrow().len())
    }
}

impl Drop for PageDriver {
    fn drop(&mut self) {
        pump::push(&self.inner, PageInput::Stop);
        self.inner.pump.stop();
        let released = {
            let mut state = self.inner.state.borrow_mut();
            state.outbox.clear();
            (
                std::mem::take(&mut state.streams),
                std::mem::take(&mut state.polls),
                state.page.take(),
            )
        };
        drop(released);
        let members = std::mem::take(&mut *self.inner.members.borrow_mut());
        drop(members);
    }
}

impl Carrier for Inner {
    type Machine = PageConnection;

    fn pump(&self) -> &Pump<PageConnection> {
        &self.pump
    }

    /// The frames asked for in this batch go out at the end of the task.
    fn idle(this: &Rc<Self>) {
        Self::queue_flush(this);
    }

    fn execute(this: &Rc<Self>, action: PageAction) {
        match action {
            PageAction::Open { conn, rung, jobs } => Self::open(this, conn, rung, &jobs),
            PageAction::Close { conn, reason } => {
                let stream = take_stream(&mut this.state.borrow_mut().streams, conn);
                if let Some(Stream::Socket(socket)) = stream {
                    socket.close(1000, reason);
                }
            }
            PageAction::Subscribe { conn, subscription } => this
                .state
                .borrow_mut()
                .outbox
                .push((conn, Outgoing::Subscribe(subscription))),
            PageAction::Unsubscribe { conn, job } => this
                .state
                .borrow_mut()
                .outbox
                .push((conn, Outgoing::Unsubscribe(job))),
            PageAction::Ping { conn, id } => {
                let state = this.state.borrow();
                if let Some((_, Stream::Socket(socket), _)) =
                    state.streams.iter().find(|(c, _, _)| *c == conn)
                {
                    socket.send(&client::ping_text(id));
                }
            }
            PageAction::Poll {
                request,
                jobs,
                etag,
            } => {
                let weak = Rc::downgrade(this);
                let url = client::poll_url(&this.http_base, &jobs);
                let poll = set_poll::start(url, etag, move |outcome| {
                    if let Some(inner) = weak.upgrade() {
                        let done = take_poll(&mut inner.state.borrow_mut().polls, request);
                        drop(done);
                        pump::push(&inner, PageInput::PollFinished { request, outcome });
                    }
                });
                this.state.borrow_mut().polls.push((request, poll));
            }
            PageAction::CancelPoll { request } => {
                let poll = take_poll(&mut this.state.borrow_mut().polls, request);
                drop(poll);
            }
            PageAction::RefreshToken { job } => {
                let provider = this
                    .members
                    .borrow()
                    .iter()
                    .find(|m| m.job == job && m.token_provider.is_some())
                    .and_then(|m| m.token_provider.clone());
                let weak = Rc::downgrade(this);
                let Some(provider) = provider else {
                    // No widget of this job can get a token: say so now.
                    pump::push(this, PageInput::TokenReady { job, token: None });
                    return;
                };
                let future = provider.fetch();
                wasm_bindgen_futures::spawn_local(async move {
                    let token = future.await;
                    if let Some(inner) = weak.upgrade() {
                        pump::push(&inner, PageInput::TokenReady { job, token });
                    }
                });
            }
            PageAction::JobProgress { job, progress } => {
                let now = clock::now();
                if progress.state.is_terminal() {
                    *this.last_final.borrow_mut() = Some(progress.clone());
                }
                let status = this.state.borrow().status;
                for member in Self::members_of(this, &job) {
                    member.last_update.set(Some(now));
                    member.sink.progress(progress.clone());
                    Self::show_status(this, &member, status);
                }
            }
            PageAction::JobEnded { job, state } => {
                // The connection announced the final progress just before.
                let last = this
                    .last_final
                    .borrow_mut()
                    .take()
                    .filter(|p| p.process_id == job);
                for member in Self::members_of(this, &job) {
                    member.ended.set(true);
                    let Some(progress) = last.clone() else {
                        continue;
                    };
                    member.sink.status(shown::with_times(
                        shown::ended_status(&progress),
                        member.last_update.get(),
                        None,
                    ));
                    // The page shows the end before the callback announces it.
                    member.sink.flush();
                    match (state, shown::ended_error(&progress)) {
                        (JobState::Completed, _) => {
                            if let Some(cb) = &member.on_complete {
                                cb(progress.clone());
                            }
                        }
                        (_, Some(error)) => report(&member, error),
                        _ => {}
                    }
                }
            }
            PageAction::JobFailed { job, error } => {
                for member in Self::members_of(this, &job) {
                    member.ended.set(true);
                    member.sink.status(shown::failed_status(error.clone()));
                    member.sink.flush();
                    report(&member, error.clone());
                }
            }
            PageAction::Event(event) => {
                let members = this.members.borrow().clone();
                for member in members.iter().filter(|m| !m.ended.get()) {
                    if let Some(cb) = &member.on_event {
                        cb(event.clone());
                    }
                }
            }
            PageAction::Status(status) => {
                this.state.borrow_mut().status = status;
                let members = this.members.borrow().clone();
                for member in members.iter().filter(|m| !m.ended.get()) {
                    Self::show_status(this, member, status);
                }
            }
        }
    }
}

impl Inner {
    /// Opens a page socket or an event stream tagged `conn`.
    fn open(this: &Rc<Self>, conn: ConnId, rung: Rung, jobs: &[Subscription]) {
        let weak = Rc::downgrade(this);
        let stream = match rung {
            Rung::WebSocket => {
                let sink = move |event: SocketEvent| {
                    if let Some(inner) = weak.upgrade() {
                        Inner::on_socket(&inner, conn, event);
                    }
                };
                Socket::open(&client::socket_url(&this.ws_base), sink)
                    .ok()
                    .map(Stream::Socket)
            }
            Rung::Sse => {
                let sink = move |event: StreamEvent| {
                    if let Some(inner) = weak.upgrade() {
                        Inner::on_stream(&inner, conn, event);
                    }
                };
                EventStream::open(&client::events_url(&this.http_base, jobs), sink)
                    .map(Stream::Events)
            }
            // Polling is never opened: it is `Poll` actions.
            Rung::Polling => None,
        };
        match stream {
            Some(stream) => this.state.borrow_mut().streams.push((conn, stream, None)),
            // The browser refused the URL: that attempt failed.
            None => pump::push(
                this,
                PageInput::Closed {
                    conn,
                    code: 1006,
                    retry_after_ms: None,
                },
            ),
        }
    }

    fn on_socket(this: &Rc<Self>, conn: ConnId, event: SocketEvent) {
        let input = match event {
            SocketEvent::Open => PageInput::Opened { conn },
            SocketEvent::Message(data) => Self::frame_input(this, conn, &data),
            SocketEvent::Binary => PageInput::Heard { conn },
            SocketEvent::Closed { code, .. } => {
                let hint = Self::lost(this, conn);
                PageInput::Closed {
                    conn,
                    code,
                    retry_after_ms: hint,
                }
            }
            // A close event always follows.
            SocketEvent::Error => return,
        };
        pump::push(this, input);
    }

    fn on_stream(this: &Rc<Self>, conn: ConnId, event: StreamEvent) {
        let input = match event {
            StreamEvent::Open => PageInput::Opened { conn },
            StreamEvent::Message(data) => Self::frame_input(this, conn, &data),
            StreamEvent::Error => {
                // An ended stream after `server_shutdown` is the server's
                // restart, as 1012 is on a socket.
                let hint = Self::lost(this, conn);
                PageInput::Closed {
                    conn,
                    code: if hint.is_some() { 1012 } else { 1006 },
                    retry_after_ms: hint,
                }
            }
        };
        pump::push(this, input);
    }

    /// The stream `conn` is gone: drops it and returns its restart hint.
    fn lost(this: &Rc<Self>, conn: ConnId) -> Option<u64> {
        let mut state = this.state.borrow_mut();
        let index = state.streams.iter().position(|(c, _, _)| *c == conn)?;
        let (_, stream, hint) = state.streams.swap_remove(index);
        drop(state);
        drop(stream);
        hint
    }

    fn frame_input(this: &Rc<Self>, conn: ConnId, data: &wasm_bindgen::JsValue) -> PageInput {
        match page_frame(data) {
            PageFrame::Progress(progress) => PageInput::Frame {
                conn,
                job: progress.process_id.clone(),
                progress,
            },
            PageFrame::JobError { job, code } => {
                match (ProcessId::parse(&job).ok(), refusal(&code)) {
                    (Some(job), Some(refusal)) => PageInput::JobError { conn, job, refusal },
                    _ => PageInput::Heard { conn },
                }
            }
            PageFrame::Shutdown { retry_after_ms } => {
                let mut state = this.state.borrow_mut();
                if let Some(entry) = state.streams.iter_mut().find(|(c, _, _)| *c == conn) {
                    entry.2 = Some(retry_after_ms);
                }
                PageInput::Heard { conn }
            }
            PageFrame::Other => PageInput::Heard { conn },
        }
    }

    /// The widgets following `job` that have not seen it end.
    fn members_of(this: &Rc<Self>, job: &ProcessId) -> Vec<Rc<Member>> {
        this.members
            .borrow()
            .iter()
            .filter(|m| m.job == *job && !m.ended.get())
            .cloned()
            .collect()
    }

    fn show_status(this: &Rc<Self>, member: &Member, page: PageStatus) {
        let (attempt, heard) = {
            let conn = this.pump.machine();
            (conn.attempt(), conn.last_heard())
        };
        let status: Status = shown::with_times(
            shown::job_status(page, attempt, this.max_retries),
            member.last_update.get(),
            heard,
        );
        member.sink.status(status);
    }

    /// Sends the outbox at the end of the current task.
    fn queue_flush(this: &Rc<Self>) {
        {
            let mut state = this.state.borrow_mut();
            if state.outbox.is_empty() || state.flush_queued || this.pump.is_stopped() {
                return;
            }
            state.flush_queued = true;
        }
        let weak = Rc::downgrade(this);
        wasm_bindgen_futures::spawn_local(async move {
            if let Some(inner) = weak.upgrade() {
                Inner::flush(&inner);
            }
        });
    }

    /// One `subscribe` and one `unsubscribe` per socket, in the order asked.
    fn flush(this: &Rc<Self>) {
        let mut state = this.state.borrow_mut();
        state.flush_queued = false;
        let outbox = std::mem::take(&mut state.outbox);
        for (conn, stream, _) in &state.streams {
            let Stream::Socket(socket) = stream else {
                continue;
            };
            let mut subscribe = Vec::new();
            let mut unsubscribe = Vec::new();
            for (c, out) in &outbox {
                match out {
                    _ if c != conn => {}
                    Outgoing::Subscribe(sub) => {
                        unsubscribe.retain(|j| *j != sub.job);
                        subscribe.push(sub.clone());
                    }
                    Outgoing::Unsubscribe(job) => {
                        subscribe.retain(|s: &Subscription| s.job != *job);
                        unsubscribe.push(job.clone());
                    }
                }
            }
            if !unsubscribe.is_empty() {
                socket.send(&client::unsubscribe_text(&unsubscribe));
            }
            if !subscribe.is_empty() {
                socket.send(&client::subscribe_text(&subscribe));
            }
        }
    }
}

fn report(member: &Member, error: StatusError) {
    if let Some(cb) = &member.on_error {
        cb(error);
    }
}

fn take_stream(streams: &mut Vec<(ConnId, Stream, Option<u64>)>, conn: ConnId) -> Option<Stream> {
    let index = streams.iter().position(|(c, _, _)| *c == conn)?;
    Some(streams.swap_remove(index).1)
}

fn take_poll(polls: &mut Vec<(RequestId, Poll)>, request: RequestId) -> Option<Poll> {
    let index = polls.iter().position(|(id, _)| *id == request)?;
    Some(polls.swap_remove(index).1)
}
