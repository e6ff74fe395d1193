//! The `Session` type: its public API and the small steps every policy uses.

use std::collections::VecDeque;

use super::backoff::Rng;
use super::errors;
use super::state::{AuthRetries, Bridge, Fetch, Phase, SocketSlot};
use super::{urls, Action, AttemptId, Input, Millis, RequestId, SessionConfig, Status};
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
    pub(super) phase: Phase,
    pub(super) socket: Option<SocketSlot>,
    pub(super) fetch: Option<Fetch>,
    /// The browser reported offline: retry, poll and probe timers are paused.
    pub(super) offline: bool,
    /// Consecutive failed socket attempts since the last stable socket.
    pub(super) failures: u32,
    /// The token refreshes used in the current failure streak.
    pub(super) auth: AuthRetries,
    pub(super) token: Option<String>,
    /// When `token` expires, when known.
    pub(super) token_expires_at: Option<Millis>,
    /// Polls that keep the data fresh while a lost socket is replaced.
    pub(super) bridge: Option<Bridge>,
    /// No socket before this time: the server asked for it (`retry_after_ms`).
    pub(super) not_before: Option<Millis>,
    pub(super) next_attempt: u64,
    pub(super) next_request: u64,
    pub(super) next_ping: u64,
    /// When following began (Start or Reconnect); measures the unknown-job grace.
    pub(super) following_since: Option<Millis>,
    pub(super) last_socket_start: Option<Millis>,
    pub(super) last_poll_sent: Option<Millis>,
    pub(super) progress: Option<Progress>,
    pub(super) last_update_at: Option<Millis>,
    pub(super) last_heard_at: Option<Millis>,
    pub(super) latency_ms: Option<u64>,
    pub(super) last_error: Option<StatusError>,
    /// The status last announced with `Action::StatusChanged`.
    pub(super) status: Status,
    pub(super) actions: VecDeque<Action>,
}

/// Written by hand so that a logged session never shows its token.
impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("process_id", &self.config.process_id)
            .field("phase", &self.phase)
            .field("socket", &self.socket)
            .field("fetch", &self.fetch)
            .field("offline", &self.offline)
            .field("failures", &self.failures)
            .field("has_token", &self.token.is_some())
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
        let token = config.token.clone();
        let token_expires_at = config.token_expires_at;
        Self {
            config,
            rng: Rng::new(seed),
            phase: Phase::Idle,
            socket: None,
            fetch: None,
            offline: false,
            failures: 0,
            auth: AuthRetries::default(),
            token,
            token_expires_at,
            bridge: None,
            not_before: None,
            next_attempt: 1,
            next_request: 1,
            next_ping: 1,
            following_since: None,
            last_socket_start: None,
            last_poll_sent: None,
            progress: None,
            last_update_at: None,
            last_heard_at: None,
            latency_ms: None,
            last_error: None,
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
        self.publish_status();
    }

    /// Runs every timer that is due at `now` (none when called early).
    pub fn handle_timeout(&mut self, now: Millis) {
        self.notice_sleep(None, now);
        self.run_due_timers(now);
        self.publish_status();
    }

    /// The earliest deadline at which `handle_timeout` has work, if any.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.next_timer().map(|(at, _)| at)
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

    /// Opens a new socket; any socket still held is closed first, so there is
    /// never more than one opening or open.
    pub(super) fn open_socket(&mut self, now: Millis) {
        self.close_socket(CLOSE_NORMAL, "replaced");
        let attempt = AttemptId(self.next_attempt);
        self.next_attempt += 1;
        let url = urls::socket_url(&self.config, self.token.as_deref());
        self.push(Action::OpenSocket { attempt, url });
        let probe = matches!(self.phase, Phase::Polling { .. });
        self.event(SessionEvent::AttemptOpened {
            attempt,
            number: self.failures.saturating_add(1),
            probe,
        });
        self.socket = Some(SocketSlot::new(attempt, now));
        self.last_socket_start = Some(now);
    }

    /// Closes the held socket, if any, and hands back its slot. Its later
    /// events become stale.
    pub(super) fn close_socket(&mut self, code: u16, reason: &str) -> Option<SocketSlot> {
        let slot = self.socket.take()?;
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
        Some(slot)
    }

    pub(super) fn event(&mut self, event: SessionEvent) {
        self.push(Action::Event(event));
    }

    /// Starts an HTTP poll unless one is in flight.
    pub(super) fn start_poll(&mut self, now: Millis) {
        if self.fetch.is_some() {
            return;
        }
        let request = RequestId(self.next_request);
        self.next_request += 1;
        let etag = self.progress.as_ref().map(|p| urls::etag(p.seq));
        self.push(Action::FetchProgress {
            request,
            url: urls::poll_url(&self.config),
            etag,
            token: self.token.clone(),
        });
        self.fetch = Some(Fetch {
            request,
            sent_at: now,
        });
        self.last_poll_sent = Some(now);
        if let Phase::Polling { next_poll_at, .. } = &mut self.phase {
            *next_poll_at = None;
        }
        if let Some(bridge) = &mut self.bridge {
            bridge.next_poll_at = None;
        }
    }

    /// Cancels the fetch in flight, if any. Its answer becomes stale.
    pub(super) fn cancel_fetch(&mut self) {
        if let Some(fetch) = self.fetch.take() {
            self.push(Action::CancelFetch {
                request: fetch.request,
            });
        }
    }

    /// Closes the socket (1000, `reason`), cancels the poll in flight and
    /// forgets the bridge. Every path that stops, pauses or ends the
    /// session goes through here, so no part of the transport outlives it
    /// (a bridge left behind would poll again when the browser comes back
    /// online).
    pub(super) fn release_transport(&mut self, reason: &str) {
        self.close_socket(CLOSE_NORMAL, reason);
        self.cancel_fetch();
        self.bridge = None;
    }

    /// Ends everything: nothing is open, nothing is scheduled, nothing restarts.
    ///
    /// Announces the outcome once: `JobCompleted`, or `Failed` for a job
    /// that failed or was cancelled.
    pub(super) fn finish(&mut self, state: JobState) {
        self.release_transport("job finished");
        self.phase = Phase::Finished(state);
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
        self.release_transport("stopped");
        self.last_error = Some(error.clone());
        self.phase = Phase::Stopped {
            error: Some(error.clone()),
            requested: false,
        };
        self.push(Action::Failed(error));
    }

    /// Applies `progress` when it is newer than what is held; returns whether it was.
    ///
    /// Ordering by `seq` makes duplicates, reordering and replays harmless,
    /// and a terminal state ends the session at once.
    pub(super) fn apply_progress(&mut self, mut progress: Progress, now: Millis) -> bool {
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
        self.last_update_at = Some(now);
        self.push(Action::ProgressChanged(progress));
        if state.is_terminal() {
            self.finish(state);
        }
        true
    }

    /// Recomputes the status and announces it when it differs from the last one.
    fn publish_status(&mut self) {
        let status = self.current_status();
        if status != self.status {
            self.status = status.clone();
            self.push(Action::StatusChanged(status));
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
