//! The page driver: one `PageConnection` plus the browser resources it
//! asks for, and the widgets following jobs through it.
//!
//! Like the one-job driver (`shell/driver.rs`) it decides nothing: it feeds
//! browser events to the connection as `PageInput`s stamped with
//! `performance.now()`, carries out its `PageAction`s, keeps one timer
//! armed at `poll_timeout()`, and runs queued work to completion so the
//! connection is never borrowed twice. What a widget shows for a page
//! status or a job's end comes from core (`page::shown`).
//!
//! Frames to the page socket wait in an outbox until the current task
//! ends, so the subscriptions of widgets mounted together (or unmounted
//! together) go out as one message: the server's rate limit counts messages.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use upload_progress_core::page::client::{self, refusal};
use upload_progress_core::page::shown;
use upload_progress_core::page::{
    channel_name, ConnId, PageAction, PageConnection, PageInput, PageStatus, Rung, Subscription,
    Tabs, TokenSource,
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
use crate::shell::page::tabs::{TabEvent, TabLink};
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

enum Work {
    Input(PageInput),
    Timeout,
    Tab(TabEvent),
}

mod relay;

/// A streaming connection the page connection opened.
enum Stream {
    Socket(Socket),
    /// Held only: dropping it closes the stream.
    Events(#[allow(dead_code)] EventStream),
    /// A follower's transport: the leader tab, over the broadcast channel.
    Relay,
}

/// A frame waiting for the end of the current task.
enum Outgoing {
    Subscribe(Subscription),
    Unsubscribe(ProcessId),
}

struct Inner {
    state: RefCell<State>,
    members: RefCell<Vec<Rc<Member>>>,
    queue: RefCell<VecDeque<Work>>,
    running: Cell<bool>,
    /// A job's final progress, between its `JobProgress` and `JobEnded`.
    last_final: RefCell<Option<Progress>>,
    ws_base: String,
    http_base: String,
    max_retries: u32,
}

struct State {
    conn: PageConnection,
    /// Open streams: the transport and a probe at most, so a list. Each
    /// keeps the restart hint of a `server_shutdown` it carried.
    streams: Vec<(ConnId, Stream, Option<u64>)>,
    polls: Vec<(RequestId, Poll)>,
    timer: Option<(Millis, Timeout)>,
    page: Option<PageEvents>,
    outbox: Vec<(ConnId, Outgoing)>,
    flush_queued: bool,
    status: PageStatus,
    stopped: bool,
    /// This tab's part in the election of the tab that connects.
    tabs: Tabs,
    /// The lock and channel shared with the other tabs; `None`: solo.
    link: Option<TabLink>,
}

impl PageDriver {
    /// A page connection to these bases with these knobs, nothing followed
    /// yet; `across_tabs` enters it in the election of the tab that
    /// connects for the origin (off: this tab connects on its own).
    pub(crate) fn start(
        ws_base: String,
        http_base: String,
        options: SessionOptions,
        across_tabs: bool,
    ) -> Self {
        let max_retries = options.max_retries;
        // Tokens are refreshed per job by a widget following it; core's
        // `Tabs::token_source` says who answers (see `RefreshToken`).
        let name = channel_name(&ws_base, &http_base, &options);
        let conn = PageConnection::new(options, true, clock::seed());
        let inner = Rc::new(Inner {
            state: RefCell::new(State {
                conn,
                streams: Vec::new(),
                polls: Vec::new(),
                timer: None,
                page: None,
                outbox: Vec::new(),
                flush_queued: false,
                status: PageStatus::Idle,
                stopped: false,
                tabs: Tabs::new(clock::seed(), false, 0),
                link: None,
            }),
            members: RefCell::new(Vec::new()),
            queue: RefCell::new(VecDeque::new()),
            running: Cell::new(false),
            last_final: RefCell::new(None),
            ws_base,
            http_base,
            max_retries,
        });
        let weak = Rc::downgrade(&inner);
        let page = PageEvents::attach(move |event| {
            if let (Some(inner), Some(input)) = (weak.upgrade(), shown::lifecycle_input(&event)) {
                Inner::push(&inner, Work::Input(input));
            }
        });
        inner.state.borrow_mut().page = Some(page);
        if across_tabs {
            relay::join_tabs(&inner, name);
        }
        Inner::push(&inner, Work::Input(PageInput::Start));
        if lifecycle::starts_offline() {
            Inner::push(&inner, Work::Input(PageInput::Offline));
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
        let (status, progress) = {
            let state = inner.state.borrow();
            (state.status, state.conn.shown(&job).cloned())
        };
        if let Some(progress) = progress {
            member.last_update.set(Some(clock::now()));
            member.sink.progress(progress);
        }
        Inner::show_status(&inner, &member, status);
        Inner::push(
            &inner,
            Work::Input(PageInput::Subscribe(Subscription { job, token })),
        );
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
        if !still_followed && !relay::followed_elsewhere(&inner, &member.job) {
            inner.state.borrow_mut().tabs.forget(&member.job);
            Inner::push(
                &inner,
                Work::Input(PageInput::Unsubscribe {
                    job: member.job.clone(),
                }),
            );
        }
    }

    /// Feeds one input (Reconnect, a widget's new token).
    pub(crate) fn send(&self, input: PageInput) {
        if let Some(inner) = self.0.upgrade() {
            Inner::push(&inner, Work::Input(input));
        }
    }

    /// The number of widgets in the page connection.
    pub(crate) fn members(&self) -> usize {
        self.0.upgrade().map_or(0, |i| i.members.borrow().len())
    }
}

impl Drop for PageDriver {
    fn drop(&mut self) {
        relay::leave_tabs(&self.inner);
        Inner::push(&self.inner, Work::Input(PageInput::Stop));
        let released = {
            let mut state = self.inner.state.borrow_mut();
            state.stopped = true;
            state.outbox.clear();
            (
                std::mem::take(&mut state.streams),
                std::mem::take(&mut state.polls),
                state.timer.take(),
                state.page.take(),
            )
        };
        drop(released);
        self.inner.queue.borrow_mut().clear();
        let members = std::mem::take(&mut *self.inner.members.borrow_mut());
        drop(members);
    }
}

impl Inner {
    fn push(this: &Rc<Self>, work: Work) {
        if this.state.borrow().stopped {
            return;
        }
        this.queue.borrow_mut().push_back(work);
        if this.running.get() {
            return;
        }
        this.running.set(true);
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
                    Work::Input(input) => state.conn.handle(input, now),
                    Work::Timeout => {
                        state.conn.handle_timeout(now);
                        state.tabs.handle_timeout(now);
                    }
                    Work::Tab(event) => relay::handle(&mut state.tabs, event, now),
                }
                let mut actions = Vec::new();
                while let Some(action) = state.conn.poll_action() {
                    actions.push(action);
                }
                actions
            };
            for action in actions {
                Self::execute(this, action);
            }
            relay::carry_out(this);
            Self::arm_timer(this);
        }
        this.running.set(false);
        Self::queue_flush(this);
    }

    fn execute(this: &Rc<Self>, action: PageAction) {
        if this.state.borrow().stopped {
            return;
        }
        match action {
            PageAction::Open { conn, rung, jobs } => Self::open(this, conn, rung, &jobs),
            PageAction::Close { conn, reason } => {
                let stream = take_stream(&mut this.state.borrow_mut().streams, conn);
                match stream {
                    Some(Stream::Socket(socket)) => socket.close(1000, reason),
                    Some(Stream::Relay) => this.state.borrow_mut().tabs.relay_closed(),
                    _ => {}
                }
            }
            PageAction::Subscribe { conn, subscription } => {
                let mut state = this.state.borrow_mut();
                if relay::is_relay(&state, conn) {
                    state.tabs.relay_subscribe(subscription);
                } else {
                    state.outbox.push((conn, Outgoing::Subscribe(subscription)));
                }
            }
            PageAction::Unsubscribe { conn, job } => {
                let mut state = this.state.borrow_mut();
                if relay::is_relay(&state, conn) {
                    state.tabs.relay_unsubscribe(job);
                } else {
                    state.outbox.push((conn, Outgoing::Unsubscribe(job)));
                }
            }
            PageAction::Ping { conn, id } => {
                let state = this.state.borrow();
                if let Some((_, Stream::Socket(socket), _)) =
                    state.streams.iter().find(|(c, _, _)| *c == conn)
                {
                    socket.send(&client::ping_text(id));
                }
            }
            // A follower never polls the server: the leader does.
            PageAction::Poll { .. } if !relay::leading(this) => {}
            PageAction::Poll {
                request,
                jobs,
                etag,
            } => {
                let weak = Rc::downgrade(this);
                let url = client::poll_url(&this.http_base, &jobs);
                let poll = set_poll::start(url, etag, move |(outcome, body)| {
                    if let Some(inner) = weak.upgrade() {
                        let done = take_poll(&mut inner.state.borrow_mut().polls, request);
                        drop(done);
                        relay::share_poll(&inner, body);
                        Inner::push(
                            &inner,
                            Work::Input(PageInput::PollFinished { request, outcome }),
                        );
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
                let source = this
                    .state
                    .borrow()
                    .tabs
                    .token_source(&job, provider.is_some());
                let provider = match (source, provider) {
                    (TokenSource::Provider, Some(provider)) => provider,
                    (TokenSource::OtherTab, _) => return,
                    _ => {
                        this.queue
                            .borrow_mut()
                            .push_back(Work::Input(PageInput::NoTokenSource { job }));
                        return;
                    }
                };
                let future = provider.fetch();
                let weak = Rc::downgrade(this);
                wasm_bindgen_futures::spawn_local(async move {
                    let token = future.await;
                    if let Some(inner) = weak.upgrade() {
                        Inner::push(&inner, Work::Input(PageInput::TokenReady { job, token }));
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
                {
                    let mut state = this.state.borrow_mut();
                    state.status = status;
                    state.tabs.set_status(status, clock::now());
                }
                let members = this.members.borrow().clone();
                for member in members.iter().filter(|m| !m.ended.get()) {
                    Self::show_status(this, member, status);
                }
            }
        }
    }

    /// Opens a page socket or an event stream tagged `conn`.
    fn open(this: &Rc<Self>, conn: ConnId, rung: Rung, jobs: &[Subscription]) {
        let weak = Rc::downgrade(this);
        let stream = match rung {
            // A follower's transport is the leader, whatever the rung.
            _ if !relay::leading(this) => Some(Stream::Relay),
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
            Some(Stream::Relay) => {
                this.state
                    .borrow_mut()
                    .streams
                    .push((conn, Stream::Relay, None));
                this.queue
                    .borrow_mut()
                    .push_back(Work::Input(PageInput::Opened { conn }));
            }
            Some(stream) => this.state.borrow_mut().streams.push((conn, stream, None)),
            // The browser refused the URL: that attempt failed.
            None => this
                .queue
                .borrow_mut()
                .push_back(Work::Input(PageInput::Closed {
                    conn,
                    code: 1006,
                    retry_after_ms: None,
                })),
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
        Self::push(this, Work::Input(input));
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
        Self::push(this, Work::Input(input));
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
        let frame = page_frame(data);
        relay::share_frame(this, conn, &frame, data);
        match frame {
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
            let state = this.state.borrow();
            (state.conn.attempt(), state.conn.last_heard())
        };
        let page = this.state.borrow().tabs.shown(page);
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
            if state.outbox.is_empty() || state.flush_queued || state.stopped {
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

    /// Keeps one timer armed at the connection's next deadline (see the
    /// one-job driver for why an earlier timer is kept).
    fn arm_timer(this: &Rc<Self>) {
        let mut state = this.state.borrow_mut();
        if state.stopped {
            state.timer = None;
            return;
        }
        let deadline = match (state.conn.poll_timeout(), state.tabs.poll_timeout()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match (deadline, &state.timer) {
            (None, _) => state.timer = None,
            (Some(d), Some((armed, _))) if *armed <= d => {}
            (Some(d), _) => {
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
