//! `PageConnection`: the API, input dispatch, subscriptions and per-job
//! refusals. Streams are in `streams.rs`, polls in `polls.rs`, deadlines
//! in `timers.rs`.

use std::collections::VecDeque;

use super::io::{ConnId, JobRefusal, PageAction, PageInput, PageStatus, Rung, Subscription};
use super::jobs::{Applied, Jobs};
use super::ladder::Ladder;
use super::state::{Phase, Probe};
use crate::session::backoff::Rng;
use crate::session::conditions::Network;
use crate::session::lifecycle::RETRY_NOW_MIN_GAP_MS;
use crate::session::state::Polls;
use crate::session::time::At;
use crate::session::{errors, Millis, SessionOptions, StatusError};
use crate::{ProcessId, Progress};

/// How long an SSE stream waits after its set changed before it reopens
/// with the new set, so a burst of subscriptions costs one reopen.
pub const SSE_RESYNC_DELAY_MS: u64 = 50;
/// A quiet event stream sends a keep-alive event at least this often
/// (PROTOCOL.md 11.5).
pub const SSE_KEEPALIVE_MS: u64 = 15_000;

/// One connection following many jobs for a page. See [the module](super).
#[derive(Debug, Clone)]
pub struct PageConnection {
    pub(super) options: SessionOptions,
    pub(super) token_provider: bool,
    pub(super) rng: Rng,
    pub(super) jobs: Jobs,
    pub(super) phase: Phase,
    pub(super) ladder: Ladder,
    pub(super) network: Network,
    pub(super) started: bool,
    /// No stream before this time: the server asked for it.
    pub(super) not_before: Option<At>,
    /// The set's ETag from the last poll answer; dropped when the set changes.
    pub(super) etag: Option<String>,
    /// Bumped whenever the set changes, so an answer to a poll of an older
    /// set cannot leave its ETag for the new one.
    pub(super) set_version: u64,
    /// The set version the poll in flight asked for.
    pub(super) polled_version: u64,
    /// An SSE stream (active or probe) reopens with the new set at this time.
    pub(super) resync_at: Option<At>,
    pub(super) last_heard: Option<At>,
    /// When a stream or a poll last started, so a burst of lifecycle
    /// events costs one attempt.
    pub(super) last_stream_start: Option<At>,
    pub(super) last_poll_sent: Option<At>,
    next_id: u64,
    actions: VecDeque<PageAction>,
    announced: PageStatus,
}

impl PageConnection {
    /// A connection with the one-job session's policy knobs; `token_provider`
    /// says whether the shell answers `RefreshToken`; `seed` feeds the jitter.
    pub fn new(options: SessionOptions, token_provider: bool, seed: u64) -> Self {
        Self {
            options,
            token_provider,
            rng: Rng::new(seed),
            jobs: Jobs::default(),
            phase: Phase::Idle,
            ladder: Ladder::default(),
            network: Network::Online,
            started: false,
            not_before: None,
            etag: None,
            set_version: 0,
            polled_version: 0,
            resync_at: None,
            last_heard: None,
            last_stream_start: None,
            last_poll_sent: None,
            next_id: 1,
            actions: VecDeque::new(),
            announced: PageStatus::Idle,
        }
    }

    /// Feeds an input that happened at `now`.
    pub fn handle(&mut self, input: PageInput, now: Millis) {
        let now = At::from_millis(now);
        self.settle_before(&input, now);
        self.on_input(input, now);
        self.publish_status();
    }

    /// Runs every deadline that passed by `now`.
    pub fn handle_timeout(&mut self, now: Millis) {
        self.run_due_timers(At::from_millis(now), &[]);
        self.publish_status();
    }

    /// The next deadline, if any.
    pub fn poll_timeout(&self) -> Option<Millis> {
        self.next_timer(&[]).map(|(at, _)| at.millis())
    }

    /// The next action for the shell.
    pub fn poll_action(&mut self) -> Option<PageAction> {
        self.actions.pop_front()
    }

    /// The connection's status.
    pub fn status(&self) -> PageStatus {
        self.compute_status()
    }

    /// The jobs followed, in a stable order.
    pub fn followed(&self) -> Vec<ProcessId> {
        self.jobs.ids()
    }

    /// The newest progress shown for `job`, while it is followed.
    pub fn shown(&self, job: &ProcessId) -> Option<&Progress> {
        self.jobs.get(job)?.shown.as_ref()
    }

    /// True while `job` waits for its snapshot from the current connection.
    pub fn awaiting_snapshot(&self, job: &ProcessId) -> bool {
        self.jobs.get(job).is_some_and(|j| j.awaiting_snapshot)
    }

    /// The rung delivering or being opened, if any.
    pub fn rung(&self) -> Option<Rung> {
        self.phase.rung()
    }

    /// The streams open or opening: the transport's and a probe's.
    pub fn streams(&self) -> Vec<(ConnId, Rung)> {
        [self.phase.stream(), self.phase.probe()]
            .into_iter()
            .flatten()
            .map(|s| (s.conn, s.rung))
            .collect()
    }

    /// The attempt on the current rung, 1-based (failures since the last
    /// stable connection, plus one).
    pub fn attempt(&self) -> u32 {
        self.ladder.failures.saturating_add(1)
    }

    /// When anything was last heard (a frame, a keep-alive, a poll answer).
    pub fn last_heard(&self) -> Option<Millis> {
        self.last_heard.map(At::millis)
    }

    /// True while a set poll is in flight.
    pub fn poll_in_flight(&self) -> bool {
        matches!(self.phase.polls(), Some(Polls::InFlight(_)))
    }

    pub(super) fn push(&mut self, action: PageAction) {
        self.actions.push_back(action);
    }

    pub(super) fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    pub(super) fn offline(&self) -> bool {
        self.network == Network::Offline
    }

    fn on_input(&mut self, input: PageInput, now: At) {
        if matches!(self.phase, Phase::Stopped) {
            return;
        }
        match input {
            PageInput::Start => {
                self.started = true;
                if matches!(self.phase, Phase::Idle) {
                    self.connect(now);
                }
            }
            PageInput::Subscribe(sub) => self.subscribe(sub, now),
            PageInput::Unsubscribe { job } => self.unsubscribe(&job, now),
            PageInput::Opened { conn } => self.on_opened(conn, now),
            PageInput::Frame {
                conn,
                job,
                progress,
            } => self.on_frame(conn, &job, progress, now),
            PageInput::JobError { conn, job, refusal } => {
                if self.phase.stream_mut(conn).is_some() {
                    self.heard(conn, now);
                    self.refuse(&job, refusal, now);
                }
            }
            PageInput::Heard { conn } => self.heard(conn, now),
            PageInput::Closed {
                conn,
                code,
                retry_after_ms,
            } => self.on_closed(conn, code, retry_after_ms, now),
            PageInput::PollFinished { request, outcome } => {
                self.on_poll_finished(request, outcome, now);
            }
            PageInput::TokenReady { job, token } => self.on_token(&job, token, now),
            PageInput::NoTokenSource { job } => {
                if self.jobs.get(&job).is_some_and(|j| j.token_due.is_some()) {
                    self.fail_job(&job, errors::auth_failed(), now);
                }
            }
            PageInput::Online => self.on_online(now),
            PageInput::Offline => self.network = Network::Offline,
            PageInput::PageHide => {
                self.close_all("page hidden");
                self.phase = Phase::Paused;
            }
            PageInput::PageShow => {
                if matches!(self.phase, Phase::Paused) {
                    self.phase = Phase::Idle;
                    self.connect(now);
                } else {
                    self.retry_now(now);
                }
            }
            PageInput::Reconnect => {
                self.ladder.reset();
                self.not_before = None;
                self.close_all("reconnect");
                self.phase = Phase::Idle;
                self.connect(now);
            }
            PageInput::Stop => {
                self.close_all("stopped");
                self.phase = Phase::Stopped;
            }
        }
    }

    fn subscribe(&mut self, sub: Subscription, now: At) {
        let job = sub.job.clone();
        if !self.jobs.subscribe(sub, now) {
            return;
        }
        self.set_changed();
        if matches!(self.phase, Phase::Idle) {
            self.connect(now);
            return;
        }
        self.send_subscription(&job, now);
    }

    /// Tells the current transport about one job's (new) subscription. A
    /// stream not open yet sends every job's when it opens.
    pub(super) fn send_subscription(&mut self, job: &ProcessId, now: At) {
        let Some(sub) = self
            .jobs
            .get(job)
            .filter(|j| j.token_due.is_none())
            .map(|j| super::jobs::subscription(job, j))
        else {
            return;
        };
        let mut sends = Vec::new();
        let mut sse = false;
        for stream in [self.phase.stream(), self.phase.probe()]
            .into_iter()
            .flatten()
        {
            match stream.rung {
                Rung::WebSocket if stream.is_open() => sends.push(stream.conn),
                Rung::Sse => sse = true,
                _ => {}
            }
        }
        for conn in sends {
            let subscription = sub.clone();
            self.push(PageAction::Subscribe { conn, subscription });
        }
        if sse {
            self.schedule_resync(now);
        }
        // A new job is polled soon rather than a whole interval later.
        if let Phase::Polling {
            polls: Polls::Due(at),
            ..
        } = &mut self.phase
        {
            *at = (*at).min(now);
        }
    }

    fn unsubscribe(&mut self, job: &ProcessId, now: At) {
        if self.jobs.remove(job).is_none() {
            return;
        }
        self.job_left(job, now);
    }

    /// A job left the set: tell the transport, and close everything when
    /// it was the last.
    fn job_left(&mut self, job: &ProcessId, now: At) {
        self.set_changed();
        if self.jobs.is_empty() {
            self.close_all("no jobs left");
            self.phase = Phase::Idle;
            return;
        }
        let mut sends = Vec::new();
        let mut sse = false;
        for stream in [self.phase.stream(), self.phase.probe()]
            .into_iter()
            .flatten()
        {
            match stream.rung {
                Rung::WebSocket if stream.is_open() => sends.push(stream.conn),
                Rung::Sse => sse = true,
                _ => {}
            }
        }
        for conn in sends {
            let job = job.clone();
            self.push(PageAction::Unsubscribe { conn, job });
        }
        if sse {
            self.schedule_resync(now);
        }
    }

    /// The set of jobs (or a job's token) changed: the ETag no longer applies.
    pub(super) fn set_changed(&mut self) {
        self.etag = None;
        self.set_version += 1;
    }

    fn schedule_resync(&mut self, now: At) {
        if self.resync_at.is_none() {
            self.resync_at = Some(now.after(SSE_RESYNC_DELAY_MS));
        }
    }

    /// Shows progress for one job; a final state ends that job only.
    pub(super) fn apply(&mut self, job: &ProcessId, progress: Progress, now: At) {
        match self.jobs.apply(job, progress) {
            Applied::Ignored => {}
            Applied::Shown(progress) => self.push(PageAction::JobProgress {
                job: job.clone(),
                progress,
            }),
            Applied::Final(progress) => {
                let state = progress.state;
                self.push(PageAction::JobProgress {
                    job: job.clone(),
                    progress,
                });
                self.push(PageAction::JobEnded {
                    job: job.clone(),
                    state,
                });
                self.job_left(job, now);
            }
        }
    }

    /// A per-job refusal: retried while it may still change, else that job ends.
    pub(super) fn refuse(&mut self, job: &ProcessId, refusal: JobRefusal, now: At) {
        if self.jobs.get(job).is_none() {
            return;
        }
        match refusal {
            JobRefusal::Unavailable => {
                let again = now.after(self.options.poll_interval_ms.max(1));
                if let Some(j) = self.jobs.get_mut(job) {
                    j.resubscribe_at = Some(again);
                }
            }
            JobRefusal::UnknownJob if !self.jobs.unknown_is_final(job, now) => {
                let again = now.after(self.options.poll_interval_ms.max(1));
                if let Some(j) = self.jobs.get_mut(job) {
                    j.resubscribe_at = Some(again);
                }
            }
            JobRefusal::UnknownJob => self.fail_job(job, errors::not_found(), now),
            JobRefusal::BadId => self.fail_job(job, errors::bad_request(), now),
            JobRefusal::BadToken => {
                let deadline = now.after(self.options.connect_timeout_ms);
                let provider = self.token_provider;
                let Some(j) = self.jobs.get_mut(job) else {
                    return;
                };
                if j.token_due.is_some() {
                    return;
                }
                if !provider || j.refresh_spent {
                    self.fail_job(job, errors::auth_failed(), now);
                    return;
                }
                j.refresh_spent = true;
                j.token_due = Some(deadline);
                j.resubscribe_at = None;
                self.push(PageAction::RefreshToken { job: job.clone() });
            }
        }
    }

    pub(super) fn fail_job(&mut self, job: &ProcessId, error: StatusError, now: At) {
        if self.jobs.remove(job).is_none() {
            return;
        }
        self.push(PageAction::JobFailed {
            job: job.clone(),
            error,
        });
        self.job_left(job, now);
    }

    fn on_token(&mut self, job: &ProcessId, token: Option<String>, now: At) {
        let Some(j) = self.jobs.get_mut(job).filter(|j| j.token_due.is_some()) else {
            return;
        };
        let Some(token) = token else {
            self.fail_job(job, errors::token_unavailable(), now);
            return;
        };
        j.token = Some(token);
        j.token_due = None;
        j.awaiting_snapshot = true;
        self.set_changed();
        self.send_subscription(job, now);
    }

    fn on_online(&mut self, now: At) {
        self.network = Network::Online;
        self.retry_now(now);
    }

    /// Skips the wait, as the one-job session does: a backoff retries now,
    /// polling polls now. Not while offline, not before the server's wait,
    /// and not twice within `RETRY_NOW_MIN_GAP_MS`, so a burst of
    /// lifecycle events costs one attempt.
    fn retry_now(&mut self, now: At) {
        if self.offline() || self.not_before.is_some_and(|at| now < at) {
            return;
        }
        let recent = |at: Option<At>| at.is_some_and(|t| now.since(t) < RETRY_NOW_MIN_GAP_MS);
        match &mut self.phase {
            Phase::Backoff { retry_at, .. } if !recent(self.last_stream_start) => {
                *retry_at = now;
            }
            Phase::Polling {
                polls: Polls::Due(at),
                ..
            } if !recent(self.last_poll_sent) => *at = now,
            _ => {}
        }
        self.run_due_timers(now, &[]);
    }

    /// Closes the transport, the probe, the bridge and any poll in flight.
    pub(super) fn close_all(&mut self, reason: &'static str) {
        let phase = std::mem::replace(&mut self.phase, Phase::Idle);
        self.resync_at = None;
        self.release(phase, reason);
    }

    /// Hands back everything a phase held.
    pub(super) fn release(&mut self, phase: Phase, reason: &'static str) {
        let (stream, polls, probe) = match phase {
            Phase::Streaming {
                stream,
                bridge,
                probe,
            } => (Some(stream), bridge, Some(probe)),
            Phase::Backoff { bridge, .. } => (None, bridge, None),
            Phase::Polling { polls, probe } => (None, Some(polls), Some(probe)),
            Phase::Idle | Phase::Paused | Phase::Halted | Phase::Stopped => (None, None, None),
        };
        if let Some(Probe::Out(p)) = probe {
            self.push(PageAction::Close {
                conn: p.conn,
                reason,
            });
        }
        if let Some(s) = stream {
            self.push(PageAction::Close {
                conn: s.conn,
                reason,
            });
        }
        if let Some(Polls::InFlight(f)) = polls {
            self.push(PageAction::CancelPoll { request: f.request });
        }
    }

    fn compute_status(&self) -> PageStatus {
        let proven = self.phase.stream().is_some_and(|s| s.link.is_proven());
        match &self.phase {
            Phase::Idle => PageStatus::Idle,
            Phase::Stopped => PageStatus::Stopped,
            Phase::Paused => PageStatus::Paused,
            Phase::Halted => PageStatus::Halted,
            _ if self.offline() && !proven => PageStatus::Offline,
            Phase::Streaming { stream, .. } if !proven => {
                PageStatus::Connecting { rung: stream.rung }
            }
            Phase::Streaming { stream, .. } if stream.silence.is_some_and(|s| s.checking) => {
                PageStatus::Checking { rung: stream.rung }
            }
            Phase::Streaming { stream, .. } => PageStatus::Live { rung: stream.rung },
            Phase::Backoff { rung, retry_at, .. } => PageStatus::Reconnecting {
                rung: *rung,
                retry_at: retry_at.millis(),
            },
            Phase::Polling { .. } => PageStatus::Live {
                rung: Rung::Polling,
            },
        }
    }

    fn publish_status(&mut self) {
        let status = self.compute_status();
        if status != self.announced {
            self.announced = status;
            self.push(PageAction::Status(status));
        }
    }
}
