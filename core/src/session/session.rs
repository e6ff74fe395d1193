//! The `Session` type: its public API and the small steps every policy uses.

use std::collections::VecDeque;

use super::backoff::Rng;
use super::conditions::Conditions;
use super::errors;
use super::state::{Credentials, Fetch, Ids, Marks, Phase, Polls, Probe, SocketSlot};
use super::time::{self, At};
use super::{urls, Action, Input, Millis, SessionConfig, Status};
use super::{Connection, Mode, SessionEvent, StatusError};
use crate::{JobState, Progress};

/// Close code the session sends for deliberate closes (stop, finish, page hidden).
///
/// Browsers only let scripts send 1000 or 3000-4999, so 1001 ("going away")
/// is not available; the reason string tells the cases apart.
pub(super) const CLOSE_NORMAL: u16 = 1000;
/// Close code the session sends when it gives up on a silent or stuck socket.
pub(super) const CLOSE_UNRESPONSIVE: u16 = 4000;

/// Follows one job over a WebSocket, with HTTP polling as the fallback.
///
/// A pure state machine: feed it inputs with [`Session::handle`], call
/// [`Session::handle_timeout`] once [`Session::poll_timeout`]'s deadline has
/// passed, and carry out what [`Session::poll_action`] returns. See the crate
/// documentation for a complete driving loop, and the module docs of
/// [`crate::session`] for the policy.
pub struct Session {
    pub(super) config: SessionConfig,
    pub(super) rng: Rng,
    /// What it is doing, with the socket, polls and deadlines of that.
    pub(super) phase: Phase,
    pub(super) conditions: Conditions,
    pub(super) credentials: Credentials,
    pub(super) ids: Ids,
    pub(super) marks: Marks,
    pub(super) progress: Option<Progress>,
    /// What the UI is told, stored once: the four facts (last update, last
    /// heard, latency, last error) are written here as they happen, and
    /// the mode and connection when the status is published.
    pub(super) status: Status,
    pub(super) actions: VecDeque<Action>,
}

/// Written by hand so that a logged session never shows its token.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("process_id", &self.config.process_id)
            .field("phase", &self.phase)
            .field("conditions", &self.conditions)
            .field("has_token", &self.credentials.token.is_some())
            .field("status", &self.status)
            .field("pending_actions", &self.actions.len())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Creates an idle session; nothing happens until `Input::Start`.
    ///
    /// `seed` drives the retry jitter; give each page load a different one.
    pub fn new(config: SessionConfig, seed: u64) -> Self {
        let credentials = Credentials {
            token: config.token.clone(),
            expires_at: time::at(config.token_expires_at),
        };
        Self {
            config,
            rng: Rng::new(seed),
            phase: Phase::Idle,
            conditions: Conditions::default(),
            credentials,
            ids: Ids::default(),
            marks: Marks::default(),
            progress: None,
            status: Status {
                mode: Mode::None,
                connection: Connection::Idle,
                last_update_at: None,
                last_heard_at: None,
                latency_ms: None,
                last_error: None,
            },
            actions: VecDeque::new(),
        }
    }

    /// Feeds one event that happened at shell time `now`.
    ///
    /// Deadlines that passed before `now` are settled first, in order, so a
    /// shell whose timers ran late (a throttled tab) gets the same decisions
    /// as one whose timers ran on time.
    pub fn handle(&mut self, input: Input, now: Millis) {
        let announced = self.status.clone();
        let now = At::from_millis(now);
        self.notice_sleep(Some(&input), now);
        self.settle_before(&input, now);
        match input {
            Input::Start => self.on_start(now),
            Input::SocketOpened { attempt } => self.on_socket_opened(attempt, now),
            #[cfg(feature = "json")]
            Input::SocketMessage { attempt, text } => self.on_socket_message(attempt, &text, now),
            Input::SocketFrame { attempt, message } => self.on_socket_frame(attempt, message, now),
            Input::SocketBinary { attempt } => self.on_socket_binary(attempt, now),
            Input::SocketOpenFailed { attempt, reason } => {
                self.on_socket_open_failed(attempt, &reason, now)
            }
            Input::SocketClosed {
                attempt,
                code,
                reason,
                was_clean: _,
            } => self.on_socket_closed(attempt, code, &reason, now),
            Input::SocketError { attempt } => self.on_socket_error(attempt, now),
            Input::PollFinished { request, outcome } => {
                self.on_poll_finished(request, outcome, now)
            }
            Input::TokenReady { token } => self.on_token_ready(token, now),
            Input::Online => self.on_online(now),
            Input::Offline => self.on_offline(now),
            Input::Visible => self.on_visible(now),
            // A hidden tab changes nothing (see "Hidden tabs" in the module
            // docs): throttled timers are caught by the late-deadline rule
            // of `wake.rs`, never taken for a silent socket.
            Input::Hidden => {}
            Input::Resumed => self.on_resumed(now),
            Input::NetworkChanged => self.on_network_changed(now),
            Input::PageHide => self.on_page_hide(),
            Input::PageShow { persisted } => self.on_page_show(persisted, now),
            Input::Reconnect => self.on_reconnect(now),
            Input::Stop => self.on_stop(),
        }
        self.publish_status(announced);
    }

    /// Runs every timer that is due at `now` (none when called early).
    pub fn handle_timeout(&mut self, now: Millis) {
        let announced = self.status.clone();
        let now = At::from_millis(now);
        self.notice_sleep(None, now);
        self.run_due_timers(now);
        self.publish_status(announced);
    }

    /// The earliest deadline at which `handle_timeout` has work, if any.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.next_timer().map(|(at, _)| at.millis())
    }

    /// The next action for the shell, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// What the UI shows about the connection.
    pub fn status(&self) -> &Status {
        &self.status
    }

    /// The newest progress held, if any.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }

    // ---- small steps shared by the policies ----

    pub(super) fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// Asks the shell for a new socket and returns its slot, for the caller
    /// to place in the phase (the live socket, or a probe while polling).
    pub(super) fn new_socket(&mut self, now: At, probe: bool) -> SocketSlot {
        let attempt = self.ids.attempt();
        let url = urls::socket_url(&self.config, self.credentials.token.as_deref());
        self.push(Action::OpenSocket { attempt, url });
        self.event(SessionEvent::AttemptOpened {
            attempt,
            number: self.conditions.streak.failures.saturating_add(1),
            probe,
        });
        self.marks.last_socket_start = Some(now);
        SocketSlot::new(attempt, now)
    }

    /// Takes the held socket out of the phase without telling the shell
    /// (for a socket that is already gone). A live socket leaves the phase
    /// as [`Phase::lost`], for the caller to decide what follows.
    pub(super) fn take_socket(&mut self, now: At) -> Option<SocketSlot> {
        match &mut self.phase {
            Phase::Polling { probe, .. } => match std::mem::replace(probe, Probe::Next(None)) {
                Probe::Out(slot) => Some(slot),
                next => {
                    *probe = next;
                    None
                }
            },
            Phase::Live { bridge, .. } => {
                let lost = Phase::lost(now, bridge.take());
                match std::mem::replace(&mut self.phase, lost) {
                    Phase::Live { socket, .. } => Some(socket),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// Closes the held socket, if any, and hands back its slot. Its later
    /// events become stale.
    pub(super) fn close_socket(&mut self, code: u16, reason: &str, now: At) -> Option<SocketSlot> {
        let slot = self.take_socket(now)?;
        self.close_slot(&slot, code, reason);
        Some(slot)
    }

    /// Tells the shell to close `slot`'s socket.
    pub(super) fn close_slot(&mut self, slot: &SocketSlot, code: u16, reason: &str) {
        self.push(Action::CloseSocket {
            attempt: slot.attempt,
            code,
            reason: reason.to_owned(),
        });
        self.event(SessionEvent::SocketClosed {
            attempt: slot.attempt,
            code,
            reason: reason.to_owned(),
        });
    }

    pub(super) fn event(&mut self, event: SessionEvent) {
        self.push(Action::Event(event));
    }

    /// Sends the next poll of the running polls, unless one is in flight.
    pub(super) fn start_poll(&mut self, now: At) {
        if matches!(self.phase.polls(), Some(Polls::Due(_))) {
            let fetch = self.send_fetch(now);
            if let Some(polls) = self.phase.polls_mut() {
                *polls = Polls::InFlight(fetch);
            }
        }
    }

    /// Asks the shell for one HTTP poll; the caller places it in its polls.
    pub(super) fn send_fetch(&mut self, now: At) -> Fetch {
        let request = self.ids.request();
        let etag = self.progress.as_ref().map(|p| urls::etag(p.seq));
        self.push(Action::FetchProgress {
            request,
            url: urls::poll_url(&self.config),
            etag,
            token: self.credentials.token.clone(),
        });
        self.marks.last_poll_sent = Some(now);
        Fetch {
            request,
            sent_at: now,
        }
    }

    /// Ends a polls loop the session no longer needs; its answer becomes stale.
    pub(super) fn drop_polls(&mut self, polls: Polls) {
        if let Polls::InFlight(fetch) = polls {
            self.push(Action::CancelFetch {
                request: fetch.request,
            });
        }
    }

    /// Gives up on the poll in flight (its answer becomes stale); the polls
    /// go on, with the next one decided by the caller.
    pub(super) fn abandon_fetch(&mut self, now: At) {
        let abandoned = self.phase.polls_mut().map(|polls| {
            let was = *polls;
            *polls = Polls::Due(now);
            was
        });
        if let Some(polls) = abandoned {
            self.drop_polls(polls);
        }
    }

    /// Empties the phase for a change of mode (the caller sets the next
    /// phase at once): a socket held is closed as replaced, and the polls
    /// that run on are handed back: the bridge always, polling mode's own
    /// polls when `keep_polling`, cancelled otherwise.
    pub(super) fn clear_phase(&mut self, keep_polling: bool) -> Option<Polls> {
        match std::mem::replace(&mut self.phase, Phase::Idle) {
            Phase::Live { socket, bridge } => {
                self.close_slot(&socket, CLOSE_NORMAL, "replaced");
                bridge
            }
            Phase::Backoff { bridge, .. } => bridge,
            Phase::Polling { polls, probe } => {
                let kept = if keep_polling {
                    Some(polls)
                } else {
                    self.drop_polls(polls);
                    None
                };
                if let Probe::Out(socket) = probe {
                    self.close_slot(&socket, CLOSE_NORMAL, "replaced");
                }
                kept
            }
            _ => None,
        }
    }

    /// Moves to `next`, closing the socket (1000, `reason`) and cancelling
    /// the poll the old phase held. Every path that stops, pauses or ends
    /// the session goes through here, so no part of the transport outlives
    /// it (a bridge left behind would poll again when the browser comes
    /// back online).
    pub(super) fn replace_phase(&mut self, next: Phase, reason: &str) {
        match std::mem::replace(&mut self.phase, next) {
            Phase::Live { socket, bridge } => {
                self.close_slot(&socket, CLOSE_NORMAL, reason);
                if let Some(bridge) = bridge {
                    self.drop_polls(bridge);
                }
            }
            Phase::Backoff {
                bridge: Some(bridge),
                ..
            } => self.drop_polls(bridge),
            Phase::Polling { polls, probe } => {
                if let Probe::Out(socket) = probe {
                    self.close_slot(&socket, CLOSE_NORMAL, reason);
                }
                self.drop_polls(polls);
            }
            _ => {}
        }
    }

    /// Ends everything: nothing is open, nothing is scheduled, nothing restarts.
    ///
    /// Announces the outcome once: `JobCompleted`, or `Failed` for a job
    /// that failed or was cancelled.
    pub(super) fn finish(&mut self, state: JobState) {
        self.replace_phase(Phase::Finished(state), "job finished");
        let Some(progress) = self.progress.clone() else {
            return;
        };
        match state {
            JobState::Completed => self.push(Action::JobCompleted(progress)),
            _ => self.push(Action::Failed(errors::job_ended(&progress))),
        }
    }

    /// Stops because of `error`; `Input::Reconnect` may start again.
    pub(super) fn stop_with(&mut self, error: StatusError) {
        let stopped = Phase::Stopped {
            error: Some(error.clone()),
            requested: false,
        };
        self.replace_phase(stopped, "stopped");
        self.note_error(error.clone());
        self.push(Action::Failed(error));
    }

    /// Applies `progress` when it is newer than what is held; returns whether it was.
    ///
    /// Ordering by `seq` makes duplicates, reordering and replays harmless,
    /// and a terminal state ends the session at once.
    pub(super) fn apply_progress(&mut self, mut progress: Progress, now: At) -> bool {
        if progress.process_id != self.config.process_id {
            return false;
        }
        let floor = match &self.progress {
            Some(held) if progress.seq <= held.seq => return false,
            Some(held) => held.percent,
            None => 0.0,
        };
        // The protocol promises a non-decreasing percent; a server bug must
        // still not make the bar jump backwards (or show NaN).
        if progress.percent.is_nan() || progress.percent < floor {
            progress.percent = floor;
        }
        let state = progress.state;
        self.progress = Some(progress.clone());
        self.note_update(now);
        self.push(Action::ProgressChanged(progress));
        if state.is_terminal() {
            self.finish(state);
        }
        true
    }

    /// Brings the mode and connection up to date and announces the status
    /// when it differs from `announced`, the one last announced.
    fn publish_status(&mut self, announced: Status) {
        let (mode, connection) = self.mode_and_connection();
        self.status.mode = mode;
        self.status.connection = connection;
        if self.status != announced {
            self.push(Action::StatusChanged(self.status.clone()));
        }
    }

    /// True once nothing can ever happen again.
    pub(super) fn is_final(&self) -> bool {
        matches!(
            self.phase,
            Phase::Finished(_)
                | Phase::Stopped {
                    requested: true,
                    ..
                }
        )
    }
}
