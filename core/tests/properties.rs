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

fn state() -> impl Strategy<Value = JobState> {
    prop_oneof![
        40 => Just(JobState::Running),
        4 => Just(JobState::Pending),
        1 => Just(JobState::Completed),
        1 => Just(JobState::Failed),
        1 => Just(JobState::Cancelled),
    ]
}

fn close_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        24 => Just(1006),
        8 => Just(1000),
        8 => Just(1001),
        8 => Just(1012),
        8 => Just(1011),
        4 => Just(1014),
        6 => Just(1013),
        1 => Just(1008),
        1 => Just(1009),
        1 => Just(4400),
        6 => Just(4401),
        1 => Just(4404),
        4 => Just(4000),
        1 => Just(4999),
    ]
}

fn reply() -> impl Strategy<Value = Reply> {
    prop_oneof![
        16 => (-2i64..4, 0.0f64..=100.0, state())
            .prop_map(|(step, percent, state)| Reply::Progress { step, percent, state }),
        12 => Just(Reply::NotModified),
        12 => Just(Reply::Network),
        8 => Just(Reply::Http(503, None)),
        4 => Just(Reply::Http(500, None)),
        3 => Just(Reply::Http(401, Some("unauthorized"))),
        2 => Just(Reply::Http(404, Some("unknown_process"))),
        1 => Just(Reply::Http(400, Some("invalid_process_id"))),
    ]
}

fn life() -> impl Strategy<Value = Input> {
    prop_oneof![
        4 => Just(Input::Online),
        4 => Just(Input::Offline),
        4 => Just(Input::Visible),
        2 => Just(Input::Hidden),
        3 => Just(Input::PageHide),
        4 => any::<bool>().prop_map(|persisted| Input::PageShow { persisted }),
        4 => Just(Input::Reconnect),
        1 => Just(Input::Stop),
        1 => Just(Input::Start),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0u64..3_000).prop_map(Op::Advance),
        4 => (0u64..40_000).prop_map(Op::Advance),
        2 => (0u64..120_000).prop_map(Op::Jump),
        8 => Just(Op::Open),
        10 => (-2i64..4, 0.0f64..=100.0, state(), any::<bool>())
            .prop_map(|(step, percent, state, snapshot)| Op::Frame { step, percent, state, snapshot }),
        2 => Just(Op::Pong),
        1 => (0u64..10_000).prop_map(Op::Shutdown),
        1 => Just(Op::ErrorFrame),
        1 => Just(Op::Garbage),
        3 => close_code().prop_map(Op::Close),
        2 => Just(Op::Error),
        2 => any::<usize>().prop_map(Op::Stale),
        5 => reply().prop_map(Op::Reply),
        1 => (0u64..8).prop_map(Op::StaleReply),
        1 => any::<bool>().prop_map(Op::Token),
        3 => life().prop_map(Op::Life),
    ]
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
    HeartbeatTimeout,
}

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![
        Just(Failure::ErrorThenClose),
        Just(Failure::Abnormal),
        Just(Failure::Internal),
        Just(Failure::ConnectTimeout),
        Just(Failure::HeartbeatTimeout),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_event_sequences_keep_every_invariant(
        options in options(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..48),
    ) {
        let mut run = Run::new(options, seed);
        for op in ops {
            run.step(op);
        }
    }

    #[test]
    fn more_failures_than_retries_always_end_in_polling(
        jitter in any::<bool>(),
        max_retries in 0u32..6,
        seed in any::<u64>(),
        failures in prop::collection::vec(failure(), 1..12),
    ) {
        let options = SessionOptions { jitter, max_retries, ..SessionOptions::default() };
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
                Failure::HeartbeatTimeout => {
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
            let Connection::Reconnecting { retry_at, attempt, .. } = shell.connection() else {
                panic!("failure {n}: {:?}", shell.connection());
            };
            prop_assert_eq!(attempt, n);
            prop_assert!(retry_at - shell.now <= cap);
            shell.advance_to(retry_at);
        }
    }
}
