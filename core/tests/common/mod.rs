//! A simulated shell for driving a `Session` on a fake clock.
//!
//! It carries out actions the way a browser shell would (sockets keyed by
//! attempt, fetches keyed by request), records everything for assertions,
//! and checks the invariants that must hold after every step.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::BTreeMap;

use upload_progress_core::session::{
    Action, AttemptId, Connection, Input, Millis, Mode, PollOutcome, RequestId, SessionConfig,
    SessionEvent, SessionOptions, Status, StatusError,
};
use upload_progress_core::{
    JobState, ProcessId, Progress, ServerMessage, Session, Stage, StageStatus,
};

pub const JOB: &str = "auto_proc_test_1";

/// Options with jitter off, so delays are exact.
pub fn exact() -> SessionOptions {
    SessionOptions {
        jitter: false,
        ..SessionOptions::default()
    }
}

pub fn config(options: SessionOptions) -> SessionConfig {
    SessionConfig {
        process_id: ProcessId::parse(JOB).unwrap(),
        ws_base: "ws://server".into(),
        http_base: "http://server".into(),
        token: None,
        token_expires_at: None,
        token_provider: true,
        options,
    }
}

pub fn progress(seq: u64, percent: f64, state: JobState) -> Progress {
    Progress {
        process_id: ProcessId::parse(JOB).unwrap(),
        seq,
        state,
        stage: Some("upload".into()),
        stage_index: 0,
        stage_count: 1,
        stages: vec![Stage {
            name: "upload".into(),
            label: "Upload received".into(),
            status: StageStatus::Active,
        }],
        percent,
        message: String::new(),
        error: None,
        updated_at_ms: 1_700_000_000_000 + seq,
    }
}

pub fn running(seq: u64, percent: f64) -> Progress {
    progress(seq, percent, JobState::Running)
}

pub fn snapshot_frame(p: Progress) -> String {
    serde_json::to_string(&ServerMessage::Snapshot { progress: p }).unwrap()
}

pub fn progress_frame(p: Progress) -> String {
    serde_json::to_string(&ServerMessage::Progress { progress: p }).unwrap()
}

/// State of a socket as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sock {
    Opening,
    Open,
}

/// The fake shell.
pub struct Shell {
    pub session: Session,
    pub now: Millis,
    /// Sockets the shell holds (not yet closed by either side).
    pub sockets: BTreeMap<AttemptId, Sock>,
    /// Every `OpenSocket`, with the time it was asked for.
    pub opened: Vec<(Millis, AttemptId, String)>,
    /// Every `CloseSocket`.
    pub closed: Vec<(AttemptId, u16, String)>,
    /// Every `Send`.
    pub sent: Vec<(Millis, AttemptId, String)>,
    /// Fetches in flight.
    pub fetches: BTreeMap<RequestId, Millis>,
    /// Every `FetchProgress`, with the time it was asked for.
    pub fetched: Vec<(Millis, RequestId, Option<String>, Option<String>)>,
    pub cancelled: Vec<RequestId>,
    pub refreshes: usize,
    /// Every progress shown, in order.
    pub shown: Vec<Progress>,
    /// Every status announced, in order.
    pub statuses: Vec<Status>,
    /// Every action, in order.
    pub log: Vec<(Millis, Action)>,
    /// Every decision the session reported.
    pub events: Vec<(Millis, SessionEvent)>,
    /// Every `JobCompleted`.
    pub completed: Vec<Progress>,
    /// Every `Failed`.
    pub failed: Vec<StatusError>,
    /// Attempts the session has ever released (closed by it, or reported closed).
    pub dead: Vec<AttemptId>,
}

impl Shell {
    pub fn new(options: SessionOptions) -> Self {
        Self::with_config(config(options), 1)
    }

    pub fn with_config(config: SessionConfig, seed: u64) -> Self {
        Self {
            session: Session::new(config, seed),
            now: 0,
            sockets: BTreeMap::new(),
            opened: Vec::new(),
            closed: Vec::new(),
            sent: Vec::new(),
            fetches: BTreeMap::new(),
            fetched: Vec::new(),
            cancelled: Vec::new(),
            refreshes: 0,
            shown: Vec::new(),
            statuses: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            completed: Vec::new(),
            failed: Vec::new(),
            dead: Vec::new(),
        }
    }

    /// A started shell (socket attempt 1 opening).
    pub fn started(options: SessionOptions) -> Self {
        let mut shell = Self::new(options);
        shell.input(Input::Start);
        shell
    }

    /// A started shell whose socket is open and has delivered `p`.
    pub fn live(options: SessionOptions, p: Progress) -> Self {
        let mut shell = Self::started(options);
        shell.open();
        shell.frame(snapshot_frame(p));
        shell
    }

    pub fn input(&mut self, input: Input) {
        self.session.handle(input, self.now);
        self.drain();
    }

    /// Moves the clock to `t`, firing every deadline on the way at its own time.
    pub fn advance_to(&mut self, t: Millis) {
        while let Some(at) = self.session.poll_timeout() {
            if at > t {
                break;
            }
            self.now = self.now.max(at);
            self.session.handle_timeout(self.now);
            self.drain();
        }
        self.now = self.now.max(t);
    }

    pub fn advance(&mut self, dt: Millis) {
        self.advance_to(self.now + dt);
    }

    /// Moves the clock to `t` without firing anything (a throttled tab), then
    /// calls `handle_timeout` once, late.
    pub fn jump_to(&mut self, t: Millis) {
        self.now = t;
        self.session.handle_timeout(t);
        self.drain();
    }

    pub fn drain(&mut self) {
        while let Some(action) = self.session.poll_action() {
            self.log.push((self.now, action.clone()));
            match action {
                Action::OpenSocket { attempt, url } => {
                    assert!(
                        self.sockets.is_empty(),
                        "opened {attempt:?} while {:?} still held",
                        self.sockets
                    );
                    assert!(!self.dead.contains(&attempt), "attempt id reused");
                    self.sockets.insert(attempt, Sock::Opening);
                    self.opened.push((self.now, attempt, url));
                }
                Action::CloseSocket {
                    attempt,
                    code,
                    reason,
                } => {
                    assert!(
                        self.sockets.remove(&attempt).is_some(),
                        "closed a socket not held: {attempt:?}"
                    );
                    self.dead.push(attempt);
                    self.closed.push((attempt, code, reason));
                }
                Action::Send { attempt, text } => {
                    assert_eq!(
                        self.sockets.get(&attempt),
                        Some(&Sock::Open),
                        "sent on a socket that is not open"
                    );
                    self.sent.push((self.now, attempt, text));
                }
                Action::FetchProgress {
                    request,
                    etag,
                    token,
                    ..
                } => {
                    assert!(self.fetches.is_empty(), "two fetches in flight");
                    self.fetches.insert(request, self.now);
                    self.fetched.push((self.now, request, etag, token));
                }
                Action::CancelFetch { request } => {
                    assert!(
                        self.fetches.remove(&request).is_some(),
                        "cancelled a fetch not in flight"
                    );
                    self.cancelled.push(request);
                }
                Action::RefreshToken => self.refreshes += 1,
                Action::ProgressChanged(p) => self.shown.push(p),
                Action::StatusChanged(s) => {
                    assert_ne!(self.statuses.last(), Some(&s), "duplicate status");
                    assert_eq!(&s, self.session.status());
                    self.statuses.push(s);
                }
                Action::JobCompleted(p) => {
                    assert!(self.completed.is_empty(), "completion announced twice");
                    self.completed.push(p);
                }
                Action::Failed(e) => self.failed.push(e),
                Action::Event(e) => self.events.push((self.now, e)),
            }
        }
    }

    // ---- the server side of the current socket ----

    pub fn socket(&self) -> Option<AttemptId> {
        self.sockets.keys().next().copied()
    }

    pub fn attempt(&self) -> AttemptId {
        self.socket().expect("no socket held")
    }

    pub fn open(&mut self) {
        let attempt = self.attempt();
        self.sockets.insert(attempt, Sock::Open);
        self.input(Input::SocketOpened { attempt });
    }

    pub fn frame(&mut self, text: String) {
        let attempt = self.attempt();
        self.input(Input::SocketMessage { attempt, text });
    }

    pub fn server_close(&mut self, code: u16) {
        let attempt = self.attempt();
        self.sockets.remove(&attempt);
        self.dead.push(attempt);
        self.input(Input::SocketClosed {
            attempt,
            code,
            reason: String::new(),
            was_clean: code != 1006,
        });
    }

    /// The browser threw when asked to create the socket.
    pub fn open_failed(&mut self, reason: &str) {
        let attempt = self.attempt();
        self.sockets.remove(&attempt);
        self.dead.push(attempt);
        self.input(Input::SocketOpenFailed {
            attempt,
            reason: reason.into(),
        });
    }

    /// Browser-style failure: an error event, then a 1006 close.
    pub fn fail(&mut self) {
        let attempt = self.attempt();
        self.input(Input::SocketError { attempt });
        self.sockets.remove(&attempt);
        self.input(Input::SocketClosed {
            attempt,
            code: 1006,
            reason: String::new(),
            was_clean: false,
        });
    }

    // ---- the server side of the current fetch ----

    pub fn request(&self) -> RequestId {
        *self.fetches.keys().next().expect("no fetch in flight")
    }

    pub fn reply(&mut self, outcome: PollOutcome) {
        let request = self.request();
        self.fetches.remove(&request);
        self.input(Input::PollFinished { request, outcome });
    }

    // ---- reading the result ----

    pub fn status(&self) -> &Status {
        self.session.status()
    }

    pub fn connection(&self) -> Connection {
        self.session.status().connection.clone()
    }

    pub fn mode(&self) -> Mode {
        self.session.status().mode
    }

    pub fn opens(&self) -> usize {
        self.opened.len()
    }

    /// Times at which sockets were asked for.
    pub fn open_times(&self) -> Vec<Millis> {
        self.opened.iter().map(|(t, _, _)| *t).collect()
    }

    pub fn is_finished(&self, state: JobState) -> bool {
        self.connection() == Connection::Finished(state)
    }
}

/// Asserts that `shell` is waiting to retry, and that the retry will be
/// attempt `attempt` of the current failure streak.
#[track_caller]
pub fn assert_retrying(shell: &Shell, attempt: u32) {
    match shell.connection() {
        Connection::Reconnecting { attempt: a, .. } if a == attempt => {}
        other => panic!("expected a retry as attempt {attempt}, got {other:?}"),
    }
}

/// Drives `shell` through failing socket attempts until it polls; returns
/// the gaps between attempts.
pub fn fail_until_polling(shell: &mut Shell) -> Vec<Millis> {
    let mut gaps = Vec::new();
    for _ in 0..32 {
        shell.fail();
        if shell.mode() == Mode::HttpPolling {
            return gaps;
        }
        let before = shell.now;
        let retry_at = match shell.connection() {
            Connection::Reconnecting { retry_at, .. } => retry_at,
            // A jittered wait of 0 is already over by the close that
            // follows the error: the retry is under way.
            Connection::Connecting { .. } if shell.socket().is_some() => shell.now,
            other => panic!("expected a backoff, got {other:?}"),
        };
        shell.advance_to(retry_at);
        assert!(shell.socket().is_some(), "no retry at {retry_at}");
        gaps.push(shell.now - before);
    }
    panic!("never fell back to polling");
}
