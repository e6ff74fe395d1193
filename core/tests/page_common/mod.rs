//! A fake shell for the page connection: a fake clock, and every action
//! recorded with the time it was asked for.
#![allow(dead_code)]

use upload_progress_core::page::{
    ConnId, JobRefusal, PageAction, PageConnection, PageInput, PageStatus, Rung, Subscription,
};
use upload_progress_core::session::{RequestId, SessionEvent, SessionOptions};
use upload_progress_core::{JobState, ProcessId, Progress};

pub fn job(n: u32) -> ProcessId {
    ProcessId::parse(&format!("job-{n}")).unwrap()
}

pub fn progress(n: u32, seq: u64, percent: f64, state: JobState) -> Progress {
    Progress {
        seq,
        percent,
        state,
        ..Progress::unknown(job(n), 0)
    }
}

pub fn running(n: u32, seq: u64, percent: f64) -> Progress {
    progress(n, seq, percent, JobState::Running)
}

/// No jitter, so every wait is exact.
pub fn exact() -> SessionOptions {
    SessionOptions {
        jitter: false,
        ..SessionOptions::default()
    }
}

pub struct Page {
    pub conn: PageConnection,
    pub now: u64,
    pub log: Vec<(u64, PageAction)>,
}

impl Page {
    /// Started, with a token provider, nothing followed yet.
    pub fn started(options: SessionOptions) -> Self {
        let mut page = Self {
            conn: PageConnection::new(options, true, 1),
            now: 0,
            log: Vec::new(),
        };
        page.input(PageInput::Start);
        page
    }

    pub fn input(&mut self, input: PageInput) {
        self.conn.handle(input, self.now);
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(a) = self.conn.poll_action() {
            self.log.push((self.now, a));
        }
    }

    /// Moves the clock to `t`, firing every deadline on the way at its time.
    pub fn advance_to(&mut self, t: u64) {
        while let Some(d) = self.conn.poll_timeout().filter(|d| *d <= t) {
            self.now = d.max(self.now);
            self.conn.handle_timeout(self.now);
            self.drain();
        }
        self.now = t.max(self.now);
    }

    pub fn advance(&mut self, ms: u64) {
        self.advance_to(self.now + ms);
    }

    pub fn subscribe(&mut self, n: u32) {
        self.input(PageInput::Subscribe(Subscription {
            job: job(n),
            token: Some(format!("t{n}")),
        }));
    }

    pub fn unsubscribe(&mut self, n: u32) {
        self.input(PageInput::Unsubscribe { job: job(n) });
    }

    /// Every `Open` so far: when, which connection, which rung.
    pub fn opens(&self) -> Vec<(u64, ConnId, Rung)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                PageAction::Open { conn, rung, .. } => Some((*t, *conn, *rung)),
                _ => None,
            })
            .collect()
    }

    pub fn last_open(&self) -> (ConnId, Rung) {
        let (_, c, r) = *self.opens().last().expect("an open");
        (c, r)
    }

    /// The jobs an SSE `Open` named.
    pub fn sse_set(&self, conn: ConnId) -> Vec<ProcessId> {
        self.log
            .iter()
            .find_map(|(_, a)| match a {
                PageAction::Open { conn: c, jobs, .. } if *c == conn => {
                    Some(jobs.iter().map(|s| s.job.clone()).collect())
                }
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The jobs subscribed on the socket `conn`, in order.
    pub fn subscribed_on(&self, conn: ConnId) -> Vec<ProcessId> {
        self.log
            .iter()
            .filter_map(|(_, a)| match a {
                PageAction::Subscribe {
                    conn: c,
                    subscription,
                } if *c == conn => Some(subscription.job.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn closes(&self) -> Vec<ConnId> {
        self.log
            .iter()
            .filter_map(|(_, a)| match a {
                PageAction::Close { conn, .. } => Some(*conn),
                _ => None,
            })
            .collect()
    }

    /// Every set poll: when, its id, the jobs it asked for, its ETag.
    pub fn polls(&self) -> Vec<(u64, RequestId, Vec<ProcessId>, Option<String>)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                PageAction::Poll {
                    request,
                    jobs,
                    etag,
                } => Some((
                    *t,
                    *request,
                    jobs.iter().map(|s| s.job.clone()).collect(),
                    etag.clone(),
                )),
                _ => None,
            })
            .collect()
    }

    /// The connection's decisions so far, in the session's terms, with when.
    pub fn events(&self) -> Vec<(u64, SessionEvent)> {
        self.log
            .iter()
            .filter_map(|(t, a)| match a {
                PageAction::Event(e) => Some((*t, e.clone())),
                _ => None,
            })
            .collect()
    }

    pub fn count(&self, pred: impl Fn(&PageAction) -> bool) -> usize {
        self.log.iter().filter(|(_, a)| pred(a)).count()
    }

    pub fn status(&self) -> PageStatus {
        self.conn.status()
    }

    pub fn opened(&mut self, conn: ConnId) {
        self.input(PageInput::Opened { conn });
    }

    pub fn frame(&mut self, conn: ConnId, p: Progress) {
        let job = p.process_id.clone();
        self.input(PageInput::Frame {
            conn,
            job,
            progress: p,
        });
    }

    pub fn refuse(&mut self, conn: ConnId, n: u32, refusal: JobRefusal) {
        self.input(PageInput::JobError {
            conn,
            job: job(n),
            refusal,
        });
    }

    pub fn close(&mut self, conn: ConnId, code: u16) {
        self.input(PageInput::Closed {
            conn,
            code,
            retry_after_ms: None,
        });
    }

    /// The newest stream fails to open, `n` times, each after its wait.
    /// Returns the times of the opens that followed.
    pub fn fail_opens(&mut self, n: usize) -> Vec<u64> {
        let mut times = Vec::new();
        for _ in 0..n {
            let (conn, _) = self.last_open();
            let before = self.opens().len();
            self.close(conn, 1006);
            while self.opens().len() == before {
                let next = self.conn.poll_timeout().expect("a deadline");
                self.advance_to(next);
            }
            times.push(self.opens().last().unwrap().0);
        }
        times
    }
}

pub fn ended(page: &Page) -> Vec<(ProcessId, JobState)> {
    page.log
        .iter()
        .filter_map(|(_, a)| match a {
            PageAction::JobEnded { job, state } => Some((job.clone(), *state)),
            _ => None,
        })
        .collect()
}
