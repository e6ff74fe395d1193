//! The page driver's side of the tab election: it feeds core's [`Tabs`]
//! what the lock, the channel and the page say, and carries out its
//! actions on the page connection. A leader's connection is the real
//! one and shares every job frame; a follower's connection has one
//! transport, [`Stream::Relay`], fed by the leader's frames and heartbeats.

use std::rc::Rc;

use upload_progress_core::page::{
    ConnId, JobPoll, PageInput, RoleKind, Subscription, TabAction, Tabs,
};
use upload_progress_core::session::Millis;
use upload_progress_core::ProcessId;
use wasm_bindgen::JsValue;

use super::{Inner, PageFrame, State, Stream, Work};
use crate::shell::clock;
use crate::shell::page::lock::LockEvent;
use crate::shell::page::set_poll;
use crate::shell::page::tabs::{TabEvent, TabLink};

/// Opens the lock and channel named `name` and enters the election; a
/// browser without them leaves the tab solo.
pub(super) fn join_tabs(inner: &Rc<Inner>, name: String) {
    let weak = Rc::downgrade(inner);
    let link = TabLink::open(name, move |event| {
        if let Some(inner) = weak.upgrade() {
            Inner::push(&inner, Work::Tab(event));
        }
    });
    {
        let mut state = inner.state.borrow_mut();
        state.tabs = Tabs::new(clock::seed(), link.is_some(), clock::now());
        state.link = link;
    }
    carry_out(inner);
}

/// Leaves the election at once (the driver is being dropped): the leader
/// resigns, a follower says goodbye, the lock goes.
pub(super) fn leave_tabs(inner: &Rc<Inner>) {
    let mut state = inner.state.borrow_mut();
    state.tabs.stop();
    let link = state.link.take();
    while let Some(action) = state.tabs.poll_action() {
        if let (TabAction::Post(message), Some(link)) = (&action, &link) {
            link.post(message);
        }
    }
    drop(state);
    drop(link);
}

/// Feeds one event to core.
pub(super) fn handle(tabs: &mut Tabs, event: TabEvent, now: Millis) {
    match event {
        TabEvent::Lock(LockEvent::Granted) => tabs.handle_lock_granted(now),
        TabEvent::Lock(LockEvent::Lost) => tabs.handle_lock_lost(now),
        TabEvent::Message(message) => tabs.handle_message(message, now),
        TabEvent::Lifecycle(event) => tabs.handle_lifecycle(event, now),
    }
}

/// True when this tab's connection reaches the server itself.
pub(super) fn leading(inner: &Rc<Inner>) -> bool {
    matches!(
        inner.state.borrow().tabs.kind(),
        RoleKind::Leader | RoleKind::Solo
    )
}

pub(super) fn is_relay(state: &State, conn: ConnId) -> bool {
    state
        .streams
        .iter()
        .any(|(c, s, _)| *c == conn && matches!(s, Stream::Relay))
}

/// True while this tab leads and another tab follows `job`.
pub(super) fn followed_elsewhere(inner: &Rc<Inner>, job: &ProcessId) -> bool {
    inner.state.borrow().tabs.followed_elsewhere(job)
}

/// A leader shares a frame about one job from its real connection.
pub(super) fn share_frame(inner: &Rc<Inner>, conn: ConnId, frame: &PageFrame, data: &JsValue) {
    let (job, keep) = match frame {
        PageFrame::Progress(progress) => (progress.process_id.clone(), true),
        PageFrame::JobError { job, .. } => match ProcessId::parse(job) {
            Ok(job) => (job, false),
            Err(_) => return,
        },
        _ => return,
    };
    let mut state = inner.state.borrow_mut();
    if state.tabs.kind() != RoleKind::Leader || is_relay(&state, conn) {
        return;
    }
    if let Some(text) = data.as_string() {
        state.tabs.relay_frame(&job, text, keep);
    }
}

/// A leader shares a set-poll body from its real connection.
pub(super) fn share_poll(inner: &Rc<Inner>, body: Option<String>) {
    let mut state = inner.state.borrow_mut();
    if let (Some(body), RoleKind::Leader) = (body, state.tabs.kind()) {
        state.tabs.relay_poll(body);
    }
}

/// The inputs a relayed text gives a follower's relay `conn`: a set-poll
/// body's entries as frames and refusals, or one page frame.
fn relayed_inputs(inner: &Rc<Inner>, conn: ConnId, text: String) -> Vec<PageInput> {
    if text.starts_with(POLL_BODY) {
        if let Some(entries) = set_poll::entries(&text) {
            return entries
                .into_iter()
                .map(|(job, entry)| match entry {
                    JobPoll::Progress(progress) => PageInput::Frame {
                        conn,
                        job,
                        progress,
                    },
                    JobPoll::Refused(refusal) => PageInput::JobError { conn, job, refusal },
                })
                .collect();
        }
    }
    vec![Inner::frame_input(inner, conn, &JsValue::from(text))]
}

/// How a set-poll body begins (`{"jobs":[...]}`); a page frame begins
/// with its `type`.
const POLL_BODY: &str = "{\"jobs\"";

/// Carries out core's actions until none is left.
pub(super) fn carry_out(inner: &Rc<Inner>) {
    loop {
        let action = inner.state.borrow_mut().tabs.poll_action();
        let Some(action) = action else { return };
        let queue = |input| inner.queue.borrow_mut().push_back(Work::Input(input));
        let relay = || {
            let state = inner.state.borrow();
            state
                .streams
                .iter()
                .find(|(_, s, _)| matches!(s, Stream::Relay))
                .map(|(c, _, _)| *c)
        };
        match action {
            TabAction::RequestLock | TabAction::StealLock | TabAction::ReleaseLock => {
                let state = inner.state.borrow();
                if let Some(link) = &state.link {
                    match action {
                        TabAction::ReleaseLock => link.release(),
                        steal => link.request(steal == TabAction::StealLock),
                    }
                }
            }
            TabAction::Post(message) => {
                if let Some(link) = &inner.state.borrow().link {
                    link.post(&message);
                }
            }
            TabAction::Became(RoleKind::Leader | RoleKind::Follower) => {
                queue(PageInput::Reconnect);
            }
            TabAction::Became(RoleKind::Parked) => queue(PageInput::PageHide),
            TabAction::Became(RoleKind::Solo) => {}
            TabAction::Subscribe(Subscription { job, token }) => {
                queue(PageInput::Subscribe(Subscription {
                    job: job.clone(),
                    token: token.clone(),
                }));
                // Answers a refresh this tab asked for the job, if any.
                if token.is_some() {
                    queue(PageInput::TokenReady { job, token });
                }
            }
            TabAction::Unsubscribe(job) => {
                let mine = inner
                    .members
                    .borrow()
                    .iter()
                    .any(|m| m.job == job && !m.ended.get());
                if !mine {
                    inner.state.borrow_mut().tabs.forget(&job);
                    queue(PageInput::Unsubscribe { job });
                }
            }
            TabAction::Deliver(text) => {
                if let Some(conn) = relay() {
                    for input in relayed_inputs(inner, conn, text) {
                        queue(input);
                    }
                }
            }
            TabAction::LeaderHeard => {
                if let Some(conn) = relay() {
                    queue(PageInput::Heard { conn });
                }
            }
            TabAction::StatusChanged => {
                let status = inner.state.borrow().status;
                let members = inner.members.borrow().clone();
                for member in members.iter().filter(|m| !m.ended.get()) {
                    Inner::show_status(inner, member, status);
                }
            }
        }
    }
}
