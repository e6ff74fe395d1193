//! Properties of the page connection over random runs: N jobs, random
//! subscribe and unsubscribe, and a hostile network (dropped streams,
//! refused socket or SSE opens, stalled streams, failing polls, offline,
//! pagehide), played by a simulated shell and server.
//!
//! Checked after every step: the shell holds exactly the streams the
//! connection holds (nothing leaks, nothing is used after its close), at
//! most two (the transport and a probe of the rung directly above it),
//! nothing open while no job is followed, something always scheduled
//! while jobs are followed online and visible, and no job's shown
//! progress ever goes back. Checked at the end, once the faults stop: every job
//! still followed ended in its true final state, and no job failed.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use proptest::prelude::*;
use upload_progress_core::page::{
    ConnId, JobPoll, JobRefusal, PageAction, PageConnection, PageInput, Rung, SetPollOutcome,
    Subscription,
};
use upload_progress_core::session::{RequestId, SessionOptions};
use upload_progress_core::{JobState, ProcessId, Progress};

const JOBS: u8 = 6;

fn job(n: u8) -> ProcessId {
    ProcessId::parse(&format!("job-{n}")).unwrap()
}

#[derive(Debug, Clone)]
enum Op {
    Subscribe(u8),
    Unsubscribe(u8),
    /// Time passes; every deadline fires on time.
    Advance(u64),
    /// The server moves job `n` one step.
    Work(u8),
    /// The network carries what is pending.
    Deliver,
    /// Every stream drops (close 1006).
    Drop,
    RefuseSockets(bool),
    RefuseSse(bool),
    FailPolls(bool),
    /// The transport's stream goes silent without closing.
    Stall,
    /// The server refuses job `n`'s token on the stream carrying it (a
    /// per-job error frame); the provider has a fresh one.
    RefuseToken(u8),
    Offline,
    Online,
    Hide,
    Show,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..JOBS).prop_map(Op::Subscribe),
        1 => (0..JOBS).prop_map(Op::Unsubscribe),
        4 => (0u64..20_000).prop_map(Op::Advance),
        3 => (0..JOBS).prop_map(Op::Work),
        4 => Just(Op::Deliver),
        1 => Just(Op::Drop),
        1 => any::<bool>().prop_map(Op::RefuseSockets),
        1 => any::<bool>().prop_map(Op::RefuseSse),
        1 => any::<bool>().prop_map(Op::FailPolls),
        1 => Just(Op::Stall),
        1 => (0..JOBS).prop_map(Op::RefuseToken),
        1 => Just(Op::Offline),
        1 => Just(Op::Online),
        1 => Just(Op::Hide),
        1 => Just(Op::Show),
    ]
}

struct SimStream {
    rung: Rung,
    open: bool,
    stalled: bool,
    /// Subscribed jobs and the newest seq sent for each.
    subs: BTreeMap<ProcessId, u64>,
}

/// The server's truth for one job.
struct Truth {
    progress: Progress,
    steps: u64,
    last: JobState,
}

struct Sim {
    page: PageConnection,
    now: u64,
    truth: BTreeMap<ProcessId, Truth>,
    streams: BTreeMap<ConnId, SimStream>,
    polls: BTreeMap<RequestId, Vec<ProcessId>>,
    pending: VecDeque<PageInput>,
    refuse_sockets: bool,
    refuse_sse: bool,
    fail_polls: bool,
    offline: bool,
    hidden: bool,
    /// What the widgets follow.
    followed: BTreeSet<ProcessId>,
    /// Progress shown per job since it was last subscribed.
    shown: BTreeMap<ProcessId, Progress>,
    ended: Vec<(ProcessId, JobState)>,
    /// Jobs a frame reached since their token was last refused: the
    /// connection has proof their token worked, so one more refusal is
    /// answered by a refresh, not a failure.
    token_proven: BTreeSet<ProcessId>,
    refreshes: usize,
}

impl Sim {
    fn new(seed: u64, steps: &[(u64, bool)]) -> Self {
        let truth = (0..JOBS)
            .map(|n| {
                let (len, ok) = steps[n as usize];
                let progress = Progress {
                    seq: 1,
                    state: JobState::Running,
                    ..Progress::unknown(job(n), 0)
                };
                let last = if ok {
                    JobState::Completed
                } else {
                    JobState::Failed
                };
                (
                    job(n),
                    Truth {
                        progress,
                        steps: len,
                        last,
                    },
                )
            })
            .collect();
        let mut sim = Self {
            page: PageConnection::new(SessionOptions::default(), true, seed),
            now: 0,
            truth,
            streams: BTreeMap::new(),
            polls: BTreeMap::new(),
            pending: VecDeque::new(),
            refuse_sockets: false,
            refuse_sse: false,
            fail_polls: false,
            offline: false,
            hidden: false,
            followed: BTreeSet::new(),
            shown: BTreeMap::new(),
            ended: Vec::new(),
            token_proven: BTreeSet::new(),
            refreshes: 0,
        };
        sim.input(PageInput::Start);
        sim
    }

    fn input(&mut self, input: PageInput) {
        if let PageInput::Closed { conn, .. } = &input {
            // The shell forgets a stream it reports closed.
            self.streams.remove(conn);
        }
        self.page.handle(input, self.now);
        self.carry_out();
    }

    fn carry_out(&mut self) {
        while let Some(action) = self.page.poll_action() {
            self.act(action);
        }
    }

    fn act(&mut self, action: PageAction) {
        match action {
            PageAction::Open { conn, rung, jobs } => {
                assert!(rung != Rung::Polling);
                assert!(!self.streams.contains_key(&conn), "id reused");
                let refused = self.offline
                    || (rung == Rung::WebSocket && self.refuse_sockets)
                    || (rung == Rung::Sse && self.refuse_sse);
                let subs = jobs.into_iter().map(|s| (s.job, 0)).collect();
                self.streams.insert(
                    conn,
                    SimStream {
                        rung,
                        open: false,
                        stalled: false,
                        subs,
                    },
                );
                self.pending.push_back(if refused {
                    PageInput::Closed {
                        conn,
                        code: 1006,
                        retry_after_ms: None,
                    }
                } else {
                    PageInput::Opened { conn }
                });
            }
            PageAction::Close { conn, .. } => {
                assert!(
                    self.streams.remove(&conn).is_some(),
                    "closing {conn:?} not held"
                );
            }
            PageAction::Subscribe { conn, subscription } => {
                let s = self
                    .streams
                    .get_mut(&conn)
                    .expect("subscribe on a held stream");
                assert!(s.open && s.rung == Rung::WebSocket);
                // Each subscription gets its snapshot first.
                s.subs.insert(subscription.job, 0);
            }
            PageAction::Unsubscribe { conn, job } => {
                let s = self
                    .streams
                    .get_mut(&conn)
                    .expect("unsubscribe on a held stream");
                s.subs.remove(&job);
            }
            PageAction::Ping { conn, .. } => {
                let s = self.streams.get(&conn).expect("ping on a held stream");
                if !s.stalled && !self.offline {
                    self.pending.push_back(PageInput::Heard { conn });
                }
            }
            PageAction::Poll { request, jobs, .. } => {
                assert!(self.polls.is_empty(), "one poll at a time");
                if self.offline || self.fail_polls {
                    self.pending.push_back(PageInput::PollFinished {
                        request,
                        outcome: None,
                    });
                } else {
                    self.polls
                        .insert(request, jobs.into_iter().map(|s| s.job).collect());
                }
            }
            PageAction::CancelPoll { request } => {
                self.polls.remove(&request);
            }
            PageAction::RefreshToken { job } => {
                // The provider answers at once.
                self.refreshes += 1;
                self.input(PageInput::TokenReady {
                    job,
                    token: Some("fresh".into()),
                });
            }
            PageAction::JobProgress { job, progress } => {
                assert!(
                    self.followed.contains(&job),
                    "progress for a job not followed"
                );
                if let Some(before) = self.shown.get(&job) {
                    assert!(progress.seq > before.seq, "seq went back for {job}");
                    assert!(progress.percent >= before.percent, "percent went back");
                }
                self.shown.insert(job, progress);
            }
            PageAction::JobEnded { job, state } => {
                let truth = &self.truth[&job].progress;
                assert!(truth.state.is_terminal(), "ended before the server said so");
                assert_eq!(state, truth.state, "{job} ended in a false state");
                assert!(self.followed.remove(&job));
                self.ended.push((job, state));
            }
            PageAction::JobFailed { job, error } => panic!("{job} failed: {error:?}"),
            PageAction::Status(_) | PageAction::Event(_) => {}
        }
    }

    /// The network carries what is pending, the server sends what is new.
    fn deliver(&mut self) {
        for _ in 0..64 {
            let Some(input) = self.pending.pop_front() else {
                break;
            };
            if let PageInput::Opened { conn } = &input {
                match self.streams.get_mut(conn) {
                    Some(s) => s.open = true,
                    None => continue,
                }
            }
            if let PageInput::Heard { conn } | PageInput::Closed { conn, .. } = &input {
                if !self.streams.contains_key(conn) {
                    continue;
                }
            }
            self.input(input);
        }
        if self.offline {
            return;
        }
        let mut frames = Vec::new();
        for (conn, s) in self.streams.iter_mut() {
            if !s.open || s.stalled {
                continue;
            }
            if s.rung == Rung::Sse {
                frames.push(PageInput::Heard { conn: *conn });
            }
            for (id, sent) in s.subs.iter_mut() {
                let p = &self.truth[id].progress;
                if p.seq > *sent {
                    *sent = p.seq;
                    frames.push(PageInput::Frame {
                        conn: *conn,
                        job: id.clone(),
                        progress: p.clone(),
                    });
                }
            }
        }
        for frame in frames {
            let held = match &frame {
                PageInput::Frame { conn, .. } | PageInput::Heard { conn } => {
                    self.streams.contains_key(conn)
                }
                _ => true,
            };
            if held {
                if let PageInput::Frame { job, .. } = &frame {
                    self.token_proven.insert(job.clone());
                }
                self.input(frame);
            }
        }
        let polls = std::mem::take(&mut self.polls);
        for (request, jobs) in polls {
            let jobs = jobs
                .into_iter()
                .map(|j| {
                    let p = self.truth[&j].progress.clone();
                    (j, JobPoll::Progress(p))
                })
                .collect();
            self.input(PageInput::PollFinished {
                request,
                outcome: Some(SetPollOutcome::Jobs { jobs, etag: None }),
            });
        }
    }

    fn work(&mut self, n: u8) {
        let t = self.truth.get_mut(&job(n)).unwrap();
        let p = &mut t.progress;
        if p.state.is_terminal() {
            return;
        }
        p.seq += 1;
        p.percent = (p.percent + 10.0).min(100.0);
        if p.seq > t.steps {
            p.state = t.last;
        }
    }

    fn advance(&mut self, ms: u64) {
        let until = self.now + ms;
        while let Some(d) = self.page.poll_timeout().filter(|d| *d <= until) {
            self.now = d.max(self.now);
            self.page.handle_timeout(self.now);
            self.carry_out();
        }
        self.now = until;
    }

    fn apply(&mut self, op: &Op) {
        match *op {
            Op::Subscribe(n) => {
                if self.followed.insert(job(n)) {
                    self.shown.remove(&job(n));
                }
                self.input(PageInput::Subscribe(Subscription {
                    job: job(n),
                    token: Some("t".into()),
                }));
            }
            Op::Unsubscribe(n) => {
                self.followed.remove(&job(n));
                self.input(PageInput::Unsubscribe { job: job(n) });
            }
            Op::Advance(ms) => self.advance(ms),
            Op::Work(n) => self.work(n),
            Op::Deliver => self.deliver(),
            Op::Drop => {
                let conns: Vec<ConnId> = self.streams.keys().copied().collect();
                for conn in conns {
                    self.input(PageInput::Closed {
                        conn,
                        code: 1006,
                        retry_after_ms: None,
                    });
                }
            }
            Op::RefuseSockets(on) => self.refuse_sockets = on,
            Op::RefuseSse(on) => self.refuse_sse = on,
            Op::FailPolls(on) => self.fail_polls = on,
            Op::Stall => {
                if let Some(s) = self.streams.values_mut().next() {
                    s.stalled = true;
                }
            }
            Op::RefuseToken(n) => {
                let id = job(n);
                if !self.token_proven.remove(&id) {
                    return;
                }
                let carrier = self
                    .streams
                    .iter_mut()
                    .find(|(_, s)| s.open && !s.stalled && s.subs.contains_key(&id));
                if let Some((conn, s)) = carrier {
                    // The server drops the refused subscription.
                    s.subs.remove(&id);
                    let conn = *conn;
                    self.input(PageInput::JobError {
                        conn,
                        job: id,
                        refusal: JobRefusal::BadToken,
                    });
                }
            }
            Op::Offline => {
                self.offline = true;
                self.input(PageInput::Offline);
            }
            Op::Online => {
                self.offline = false;
                self.input(PageInput::Online);
            }
            Op::Hide => {
                self.hidden = true;
                self.input(PageInput::PageHide);
            }
            Op::Show => {
                self.hidden = false;
                self.input(PageInput::PageShow);
            }
        }
    }

    fn check(&self) {
        let held: Vec<(ConnId, Rung)> = self.streams.iter().map(|(c, s)| (*c, s.rung)).collect();
        let mut machine = self.page.streams();
        machine.sort();
        assert_eq!(
            held, machine,
            "the shell holds exactly the connection's streams"
        );
        assert!(
            held.len() <= 2,
            "at most the transport and a probe: {held:?}"
        );
        if let [(_, a), (_, b)] = held[..] {
            assert!(
                a.above() == Some(b) || b.above() == Some(a),
                "a probe is of the rung directly above: {held:?}"
            );
        }
        if self.page.rung() == Some(Rung::Polling) {
            assert!(
                held.iter().all(|(_, r)| *r == Rung::Sse),
                "polling probes SSE only"
            );
        }
        let followed: BTreeSet<ProcessId> = self.page.followed().into_iter().collect();
        assert_eq!(followed, self.followed, "the set is the widgets' set");
        if followed.is_empty() {
            assert!(
                held.is_empty() && !self.page.poll_in_flight(),
                "nothing open for no job"
            );
        }
        if !followed.is_empty() && !self.offline && !self.hidden {
            // Never stuck: something is always scheduled (a retry, a
            // poll, a probe, a heartbeat or a connect timeout).
            let next = self.page.poll_timeout();
            assert!(
                next.is_some(),
                "nothing scheduled: {:?}",
                self.page.status()
            );
        }
    }
}

fn cases() -> u32 {
    std::env::var("UPR_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn n_jobs_under_faults_end_in_their_true_state_over_one_transport(
        seed in any::<u64>(),
        steps in proptest::collection::vec((1u64..20, any::<bool>()), JOBS as usize),
        ops in proptest::collection::vec(op(), 1..120),
    ) {
        let mut sim = Sim::new(seed, &steps);
        for op in &ops {
            sim.apply(op);
            sim.check();
        }
        // The faults stop; the server finishes every job. A stalled stream
        // stays stalled: the connection must find out by itself.
        sim.refuse_sockets = false;
        sim.refuse_sse = false;
        sim.fail_polls = false;
        if sim.offline {
            sim.apply(&Op::Online);
        }
        if sim.hidden {
            sim.apply(&Op::Show);
        }
        // Jobs move every 4 s, so a connection that fell down the ladder
        // has time to probe and climb back while they still run.
        for tick in 0..900 {
            if tick % 4 == 0 {
                for n in 0..JOBS {
                    sim.work(n);
                }
            }
            sim.deliver();
            sim.advance(1_000);
            sim.check();
        }
        prop_assert!(sim.followed.is_empty(), "still waiting: {:?} ({:?})", sim.followed, sim.page.status());
    }
}
