//! Properties over random event sequences, checked on the simulated shell.
//!
//! The shell itself rejects any action that refers to a socket or fetch it
//! does not hold, a second socket or fetch, a reused attempt id and a
//! duplicate status; the properties below add what only a whole run shows.

mod common;

use common::*;
use proptest::prelude::*;
use upload_progress_core::session::{
    Action, AttemptId, Connection, Input, Mode, PollOutcome, RequestId, SessionOptions,
};
use upload_progress_core::{JobState, ServerMessage};

/// Something the world does to the session.
#[derive(Debug, Clone)]
enum Op {
    /// Time passes and every timer fires on time.
    Advance(u64),
    /// Time passes in a throttled tab: one late `handle_timeout`.
    Jump(u64),
    /// Time passes and no timer runs at all; the next input arrives late.
    Sleep(u64),
    /// A binary frame on the open socket.
    Binary,
    /// The browser refused to create the socket.
    OpenFailed,
    Open,
    /// `step` moves the server's seq (negative: an old frame replayed).
    Frame {
        step: i64,
        percent: f64,
        state: JobState,
        snapshot: bool,
    },
    Pong,
    Shutdown(u64),
    ErrorFrame,
    Garbage,
    Close(u16),
    Error,
    Stale(usize),
    Reply(Reply),
    StaleReply(u64),
    Token(bool),
    Life(Input),
}

#[derive(Debug, Clone)]
enum Reply {
    Progress {
        step: i64,
        percent: f64,
        state: JobState,
    },
    NotModified,
    Http(u16, Option<&'static str>),
    Network,
}

/// Picks from `table` by weight, using `roll`.
fn weighted<T: Clone>(roll: u64, table: &[(u64, T)]) -> T {
    let total: u64 = table.iter().map(|(w, _)| w).sum();
    let mut roll = roll % total;
    for (weight, value) in table {
        if roll < *weight {
            return value.clone();
        }
        roll -= weight;
    }
    table[table.len() - 1].1.clone()
}

fn state(roll: u64) -> JobState {
    weighted(
        roll,
        &[
            (40, JobState::Running),
            (4, JobState::Pending),
            (1, JobState::Completed),
            (1, JobState::Failed),
            (1, JobState::Cancelled),
        ],
    )
}

fn close_code(roll: u64) -> u16 {
    weighted(
        roll,
        &[
            (24, 1006),
            (8, 1000),
            (8, 1001),
            (8, 1012),
            (8, 1011),
            (4, 1014),
            (6, 1013),
            (1, 1008),
            (1, 1009),
            (1, 4400),
            (6, 4401),
            (1, 4404),
            (4, 4000),
            (1, 4999),
        ],
    )
}

fn reply(roll: u64) -> Reply {
    let (kind, rest) = (roll % 58, roll / 58);
    let http = |status, code| Reply::Http(status, code);
    weighted(
        kind,
        &[
            (16, None),
            (12, Some(Reply::NotModified)),
            (12, Some(Reply::Network)),
            (8, Some(http(503, None))),
            (4, Some(http(500, None))),
            (3, Some(http(401, Some("unauthorized")))),
            (2, Some(http(404, Some("unknown_process")))),
            (1, Some(http(400, Some("invalid_process_id")))),
        ],
    )
    .unwrap_or_else(|| Reply::Progress {
        step: (rest % 6) as i64 - 2,
        percent: percent(rest / 6),
        state: state(rest / 6 / 10_001),
    })
}

fn life(roll: u64) -> Input {
    weighted(
        roll,
        &[
            (4, Input::Online),
            (4, Input::Offline),
            (4, Input::Visible),
            (2, Input::Hidden),
            (3, Input::PageHide),
            (2, Input::PageShow { persisted: true }),
            (2, Input::PageShow { persisted: false }),
            (4, Input::Reconnect),
            (1, Input::Stop),
            (1, Input::Start),
        ],
    )
}

fn percent(roll: u64) -> f64 {
    (roll % 10_001) as f64 / 100.0
}

/// Turns one random number into one event. Generating plain numbers and
/// decoding them is far cheaper than composing strategies, which keeps
/// thousands of cases fast; a number shrinking towards 0 shrinks the event
/// towards "nothing happens".
fn op(raw: u64) -> Op {
    let (kind, a) = (raw % 100, raw / 100);
    match kind {
        0..10 => Op::Advance(a % 3_000),
        10..16 => Op::Advance(a % 40_000),
        16..18 => Op::Jump(a % 120_000),
        18..20 => Op::Sleep(a % 90_000),
        20..21 => Op::Binary,
        21..22 => Op::OpenFailed,
        22..30 => Op::Open,
        30..45 => Op::Frame {
            step: (a % 6) as i64 - 2,
            snapshot: (a / 6) % 2 == 0,
            percent: percent(a / 12),
            state: state(a / 12 / 10_001),
        },
        45..48 => Op::Pong,
        48..50 => Op::Shutdown(a % 10_000),
        50..51 => Op::ErrorFrame,
        51..52 => Op::Garbage,
        52..58 => Op::Close(close_code(a)),
        58..62 => Op::Error,
        62..65 => Op::Stale(a as usize),
        65..90 => Op::Reply(reply(a)),
        90..92 => Op::StaleReply(a % 8),
        92..94 => Op::Token(a % 2 == 0),
        _ => Op::Life(life(a)),
    }
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(any::<u64>(), 1..48).prop_map(|raw| raw.into_iter().map(op).collect())
}

fn options() -> impl Strategy<Value = SessionOptions> {
    (any::<bool>(), prop::bool::weighted(0.85), 0u32..5).prop_map(
        |(jitter, auto_retry, max_retries)| SessionOptions {
            jitter,
            auto_retry,
            max_retries,
            ..SessionOptions::default()
        },
    )
}

/// Runs `ops` and checks every property after each step.
struct Run {
    shell: Shell,
    /// Set once the session was stopped by request or finished.
    ended_at_opens: Option<usize>,
    paused: bool,
    started: bool,
    answered: Vec<RequestId>,
    cap: u64,
    /// How much of the action log and the shown list is already checked.
    checked_log: usize,
    checked_shown: usize,
    /// The newest seq the simulated server has produced.
    server_seq: u64,
}

impl Run {
    fn new(options: SessionOptions, seed: u64) -> Self {
        let cap = options.max_retry_ms;
        let mut shell = Shell::with_config(config(options), seed);
        shell.input(Input::Start);
        Self {
            shell,
            ended_at_opens: None,
            paused: false,
            started: true,
            answered: Vec::new(),
            cap,
            checked_log: 0,
            checked_shown: 0,
            server_seq: 0,
        }
    }

    fn frame(&mut self, message: &ServerMessage) {
        if self
            .shell
            .socket()
            .is_some_and(|a| self.shell.sockets[&a] == Sock::Open)
        {
            self.shell.frame(serde_json::to_string(message).unwrap());
        }
    }

    fn seq(&mut self, step: i64) -> u64 {
        let seq = self.server_seq.saturating_add_signed(step);
        self.server_seq = self.server_seq.max(seq);
        seq
    }

    fn step(&mut self, op: Op) {
        let shell = &mut self.shell;
        match op {
            Op::Advance(ms) => shell.advance(ms),
            Op::Jump(ms) => {
                let t = shell.now + ms;
                shell.jump_to(t);
                if let Some(next) = shell.session.poll_timeout() {
                    assert!(next > t, "a due timer survived handle_timeout");
                }
            }
            Op::Sleep(ms) => shell.now += ms,
            Op::Binary => {
                if let Some(attempt) = shell.socket().filter(|a| shell.sockets[a] == Sock::Open) {
                    shell.input(Input::SocketBinary { attempt });
                }
            }
            Op::OpenFailed => {
                if shell
                    .socket()
                    .is_some_and(|a| shell.sockets[&a] == Sock::Opening)
                {
                    shell.open_failed("blocked");
                }
            }
            Op::Open => {
                if shell
                    .socket()
                    .is_some_and(|a| shell.sockets[&a] == Sock::Opening)
                {
                    shell.open();
                }
            }
            Op::Frame {
                step,
                percent,
                state,
                snapshot,
            } => {
                let seq = self.seq(step);
                let shell = &mut self.shell;
                // The server accepts the socket (if it was opening) and sends.
                if shell
                    .socket()
                    .is_some_and(|a| shell.sockets[&a] == Sock::Opening)
                {
                    shell.open();
                }
                let progress = progress(seq, percent, state);
                let message = if snapshot {
                    ServerMessage::Snapshot { progress }
                } else {
                    ServerMessage::Progress { progress }
                };
                self.frame(&message);
            }
            Op::Pong => {
                let id = shell.sent.len() as u64;
                self.frame(&ServerMessage::Pong {
                    id,
                    server_ts_ms: 0,
                });
            }
            Op::Shutdown(retry_after_ms) => {
                self.frame(&ServerMessage::ServerShutdown { retry_after_ms });
            }
            Op::ErrorFrame => self.frame(&ServerMessage::Error {
                code: "rate_limited".into(),
                message: "slow down".into(),
            }),
            Op::Garbage => {
                if shell
                    .socket()
                    .is_some_and(|a| shell.sockets[&a] == Sock::Open)
                {
                    shell.frame("{not json".into());
                }
            }
            Op::Close(code) => {
                if shell.socket().is_some() {
                    shell.server_close(code);
                }
            }
            Op::Error => {
                if shell.socket().is_some() {
                    shell.fail();
                }
            }
            Op::Stale(pick) => {
                if !shell.dead.is_empty() {
                    let attempt: AttemptId = shell.dead[pick % shell.dead.len()];
                    // Inputs settle overdue deadlines first; settle them
                    // here so only the stale input itself is judged.
                    let now = shell.now;
                    shell.session.handle_timeout(now);
                    shell.drain();
                    let before = shell.log.len();
                    shell.input(Input::SocketClosed {
                        attempt,
                        code: 1006,
                        reason: String::new(),
                        was_clean: false,
                    });
                    shell.input(Input::SocketMessage {
                        attempt,
                        text: snapshot_frame(progress(99, 100.0, JobState::Completed)),
                    });
                    shell.input(Input::SocketError { attempt });
                    shell.input(Input::SocketOpened { attempt });
                    assert_eq!(shell.log.len(), before, "a stale attempt caused actions");
                }
            }
            Op::Reply(reply) => {
                if !shell.fetches.is_empty() {
                    let request = shell.request();
                    self.answered.push(request);
                    shell.reply(match reply {
                        Reply::Progress {
                            step,
                            percent,
                            state,
                        } => {
                            let seq = self.server_seq.saturating_add_signed(step);
                            self.server_seq = self.server_seq.max(seq);
                            PollOutcome::Progress(progress(seq, percent, state))
                        }
                        Reply::NotModified => PollOutcome::NotModified,
                        Reply::Http(status, code) => PollOutcome::Http {
                            status,
                            code: code.map(str::to_owned),
                        },
                        Reply::Network => PollOutcome::Network,
                    });
                }
            }
            Op::StaleReply(pick) => {
                let mut dead: Vec<RequestId> = shell.cancelled.clone();
                dead.extend(self.answered.iter().copied());
                if !dead.is_empty() {
                    let request = dead[pick as usize % dead.len()];
                    let now = shell.now;
                    shell.session.handle_timeout(now);
                    shell.drain();
                    let before = shell.log.len();
                    shell.input(Input::PollFinished {
                        request,
                        outcome: PollOutcome::Progress(progress(99, 100.0, JobState::Completed)),
                    });
                    assert_eq!(shell.log.len(), before, "a stale poll caused actions");
                }
            }
            Op::Token(some) => shell.input(Input::TokenReady {
                token: some.then(|| "fresh".to_owned()),
            }),
            Op::Life(input) => {
                let finished = matches!(shell.connection(), Connection::Finished(_));
                match &input {
                    Input::Stop if !finished => {
                        self.ended_at_opens.get_or_insert(shell.opens());
                    }
                    Input::PageHide => self.paused = true,
                    Input::PageShow { .. } | Input::Visible | Input::Reconnect => {
                        self.paused = false
                    }
                    _ => {}
                }
                shell.input(input);
            }
        }
        self.check();
    }

    /// Liveness: once the page is visible and online, a session that has
    /// not ended always makes progress on its own: within a bounded time
    /// (heartbeat and its timeout, the longest backoff, a poll interval and
    /// a connect timeout) it opens a socket or polls, even when nothing
    /// ever answers again.
    fn check_liveness(&mut self) {
        let shell = &mut self.shell;
        shell.input(Input::Online);
        shell.input(Input::PageShow { persisted: true });
        let ended =
            |c: &Connection| matches!(c, Connection::Finished(_) | Connection::Stopped { .. });
        if ended(&shell.connection()) {
            return;
        }
        let o = SessionOptions::default();
        let bound = o.heartbeat_interval_ms
            + o.pong_timeout_ms
            + o.server_full_retry_ms
            + o.initial_retry_ms
            + o.poll_interval_ms
            + o.connect_timeout_ms;
        let before = shell.log.len();
        let start = shell.now;
        shell.advance(bound);
        let moved = shell.log[before..]
            .iter()
            .any(|(_, a)| matches!(a, Action::OpenSocket { .. } | Action::FetchProgress { .. }));
        assert!(
            moved || ended(&shell.connection()),
            "stuck from {start} to {}: {:?}",
            shell.now,
            shell.connection()
        );
    }

    fn check(&mut self) {
        let shell = &self.shell;
        assert!(shell.sockets.len() <= 1);
        assert!(shell.fetches.len() <= 1);
        if matches!(shell.connection(), Connection::Finished(_)) {
            self.ended_at_opens.get_or_insert(shell.opens());
            assert!(shell.sockets.is_empty() && shell.fetches.is_empty());
            assert_eq!(shell.session.poll_timeout(), None);
        }
        if let Some(opens) = self.ended_at_opens {
            assert_eq!(shell.opens(), opens, "a socket opened after the end");
            assert!(shell.sockets.is_empty());
        }
        for pair in shell.shown[self.checked_shown.saturating_sub(1)..].windows(2) {
            assert!(pair[0].seq < pair[1].seq, "seq repeated or regressed");
            assert!(pair[0].percent <= pair[1].percent, "percent regressed");
        }
        self.checked_shown = shell.shown.len();
        for (at, action) in &shell.log[self.checked_log..] {
            if let Action::StatusChanged(status) = action {
                if let Connection::Reconnecting { retry_at, .. } = status.connection {
                    assert!(
                        retry_at.saturating_sub(*at) <= self.cap,
                        "delay over the cap"
                    );
                }
            }
        }
        self.checked_log = shell.log.len();
        if self.started && !self.paused {
            assert_ne!(shell.connection(), Connection::Idle, "idle after start");
        }
        // Never stuck: whatever is under way has a deadline that moves it on.
        if matches!(
            shell.connection(),
            Connection::Connecting { .. }
                | Connection::Connected
                | Connection::Reconnecting { .. }
                | Connection::Polling { .. }
        ) {
            assert!(
                shell.session.poll_timeout().is_some(),
                "no deadline while active"
            );
        }
        if shell.mode() == Mode::None {
            assert!(!matches!(
                shell.connection(),
                Connection::Connected | Connection::Connecting { .. } | Connection::Polling { .. }
            ));
        }
    }
}

/// How a socket attempt can fail.
#[derive(Debug, Clone, Copy)]
enum Failure {
    ErrorThenClose,
    Abnormal,
    Internal,
    ConnectTimeout,
    /// Up less than the stable period, then an abnormal close.
    DropSoonAfterSnapshot,
    /// Opens and never sends its snapshot.
    OpenButSilent,
    /// Delivers, then goes silent: the heartbeat ping is never answered.
    HeartbeatTimeout,
}

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![
        Just(Failure::ErrorThenClose),
        Just(Failure::Abnormal),
        Just(Failure::Internal),
        Just(Failure::ConnectTimeout),
        Just(Failure::DropSoonAfterSnapshot),
        Just(Failure::OpenButSilent),
        Just(Failure::HeartbeatTimeout),
    ]
}

/// Cases per property: 2 000 in the test command; `UPR_PROPTEST_CASES` sets
/// more for a long search outside it.
fn cases() -> u32 {
    std::env::var("UPR_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_event_sequences_keep_every_invariant(
        options in options(),
        seed in any::<u64>(),
        ops in ops(),
    ) {
        let mut run = Run::new(options, seed);
        for op in ops {
            run.step(op);
        }
        run.check_liveness();
    }

    #[test]
    fn more_failures_than_retries_always_end_in_polling(
        jitter in any::<bool>(),
        max_retries in 0u32..6,
        seed in any::<u64>(),
        failures in prop::collection::vec(failure(), 1..12),
    ) {
        // A socket up longer than `stable_after_ms` resets the count; the
        // heartbeat case needs 40 s to die, so stability takes longer here.
        let options = SessionOptions {
            jitter,
            max_retries,
            stable_after_ms: 60_000,
            ..SessionOptions::default()
        };
        let cap = options.max_retry_ms;
        let mut shell = Shell::with_config(config(options), seed);
        shell.input(Input::Start);
        for (n, failure) in failures.iter().enumerate() {
            let n = n as u32 + 1;
            if shell.mode() == Mode::HttpPolling {
                break;
            }
            match failure {
                Failure::ErrorThenClose => shell.fail(),
                Failure::Abnormal => shell.server_close(1006),
                Failure::Internal => shell.server_close(1011),
                Failure::ConnectTimeout => shell.advance(10_000),
                Failure::OpenButSilent => {
                    shell.open();
                    shell.advance(10_000);
                }
                Failure::HeartbeatTimeout => {
                    shell.open();
                    shell.frame(snapshot_frame(running(0, 0.0)));
                    // Pending, so no stall check: only the heartbeat can tell.
                    let before = shell.closed.len();
                    while shell.closed.len() == before {
                        let next = shell.session.poll_timeout().expect("a deadline");
                        shell.advance_to(next);
                    }
                    prop_assert_eq!(shell.closed.last().map(|c| c.2.as_str()), Some("heartbeat timeout"));
                }
                Failure::DropSoonAfterSnapshot => {
                    shell.open();
                    shell.frame(snapshot_frame(running(0, 0.0)));
                    // Open shorter than the stable period, then silent.
                    shell.advance(4_000);
                    let attempt = shell.attempt();
                    shell.sockets.remove(&attempt);
                    shell.dead.push(attempt);
                    shell.input(Input::SocketClosed {
                        attempt, code: 1006, reason: String::new(), was_clean: false,
                    });
                }
            }
            if n > max_retries {
                prop_assert_eq!(shell.mode(), Mode::HttpPolling);
                break;
            }
            match shell.connection() {
                Connection::Reconnecting { retry_at, attempt, .. } => {
                    prop_assert_eq!(attempt, n);
                    prop_assert!(retry_at - shell.now <= cap);
                    shell.advance_to(retry_at);
                }
                // A jittered delay of 0 inside a timer call retries at once.
                Connection::Connecting { attempt } => prop_assert_eq!(attempt, n),
                other => panic!("failure {n}: {other:?}"),
            }
        }
    }
}
