//! Per-job state: each job's newest progress (its `seq`), token and token
//! refresh, and when it was subscribed (for the unknown-job grace). A job's
//! end, refusal or token refresh touches its own entry only.

use super::io::Subscription;
use crate::protocol::UNKNOWN_JOB_GRACE_MS;
use crate::session::time::At;
use crate::{ProcessId, Progress};

/// One followed job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Job {
    pub(crate) token: Option<String>,
    /// The newest progress shown; frames with a `seq` not above it are stale.
    pub(crate) shown: Option<Progress>,
    /// When the job was subscribed, for the unknown-job grace.
    pub(crate) since: At,
    /// The one token refresh of this job is spent (until a frame proves
    /// the new token works).
    pub(crate) refresh_spent: bool,
    /// A `RefreshToken` for this job is out, answered by this time.
    pub(crate) token_due: Option<At>,
    /// The current connection has not delivered this job's snapshot yet.
    pub(crate) awaiting_snapshot: bool,
    /// The server did not know the job yet: subscribe again at this time.
    pub(crate) resubscribe_at: Option<At>,
}

/// What a frame did to its job.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Applied {
    /// Stale or duplicate: nothing shown.
    Ignored,
    /// Newer progress to show.
    Shown(Progress),
    /// Newer progress in a final state: the job left the set.
    Final(Progress),
}

/// The set of followed jobs, in a stable order (sorted by id).
///
/// A vector kept sorted rather than a `BTreeMap`: a page follows a handful
/// of jobs, and the tree's balancing code would be the largest part of this
/// module in the browser's wasm, used nowhere else.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Jobs {
    sorted: Vec<(ProcessId, Job)>,
}

impl Jobs {
    /// Where `job` is, or where it would go to keep the order.
    fn position(&self, job: &ProcessId) -> Result<usize, usize> {
        self.sorted.binary_search_by(|(id, _)| id.cmp(job))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    pub(crate) fn get(&self, job: &ProcessId) -> Option<&Job> {
        let at = self.position(job).ok()?;
        Some(&self.sorted[at].1)
    }

    pub(crate) fn get_mut(&mut self, job: &ProcessId) -> Option<&mut Job> {
        let at = self.position(job).ok()?;
        Some(&mut self.sorted[at].1)
    }

    pub(crate) fn ids(&self) -> Vec<ProcessId> {
        self.sorted.iter().map(|(id, _)| id.clone()).collect()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (&ProcessId, &Job)> {
        self.sorted.iter().map(|(id, job)| (id, job))
    }

    /// Adds a job, or gives a followed one its newer token. True when added.
    pub(crate) fn subscribe(&mut self, sub: Subscription, now: At) -> bool {
        let at = match self.position(&sub.job) {
            Ok(at) => {
                if sub.token.is_some() {
                    self.sorted[at].1.token = sub.token;
                }
                return false;
            }
            Err(at) => at,
        };
        let job = Job {
            token: sub.token,
            shown: None,
            since: now,
            refresh_spent: false,
            token_due: None,
            awaiting_snapshot: true,
            resubscribe_at: None,
        };
        self.sorted.insert(at, (sub.job, job));
        true
    }

    pub(crate) fn remove(&mut self, job: &ProcessId) -> Option<Job> {
        let at = self.position(job).ok()?;
        Some(self.sorted.remove(at).1)
    }

    /// Every job's subscription, except those waiting for a token.
    pub(crate) fn subscriptions(&self) -> Vec<Subscription> {
        self.iter()
            .filter(|(_, j)| j.token_due.is_none())
            .map(|(id, j)| subscription(id, j))
            .collect()
    }

    /// A new connection: every job expects a fresh snapshot from it.
    pub(crate) fn expect_snapshots(&mut self) {
        for (_, job) in &mut self.sorted {
            job.awaiting_snapshot = true;
            job.resubscribe_at = None;
        }
    }

    /// Applies progress to its job when it is newer than what is shown.
    /// The percent never goes back, whatever the server says.
    pub(crate) fn apply(&mut self, id: &ProcessId, mut progress: Progress) -> Applied {
        let Ok(at) = self.position(id) else {
            return Applied::Ignored;
        };
        let job = &mut self.sorted[at].1;
        if progress.process_id != *id {
            return Applied::Ignored;
        }
        job.awaiting_snapshot = false;
        // The frame came with this job's token: it works.
        job.refresh_spent = false;
        job.resubscribe_at = None;
        let floor = match &job.shown {
            Some(held) if progress.seq <= held.seq => return Applied::Ignored,
            Some(held) => held.percent,
            None => 0.0,
        };
        if progress.percent.is_nan() || progress.percent < floor {
            progress.percent = floor;
        }
        if progress.state.is_terminal() {
            self.sorted.remove(at);
            return Applied::Final(progress);
        }
        job.shown = Some(progress.clone());
        Applied::Shown(progress)
    }

    /// An unknown job is tolerated for the grace after it was subscribed,
    /// unless it was already seen (then the server lost it).
    pub(crate) fn unknown_is_final(&self, id: &ProcessId, now: At) -> bool {
        self.get(id).is_none_or(|j| {
            j.shown.as_ref().is_some_and(|p| p.seq > 0)
                || now.since(j.since) >= UNKNOWN_JOB_GRACE_MS
        })
    }

    /// True while any job runs (for stall checks).
    pub(crate) fn any_running(&self) -> bool {
        self.sorted.iter().any(|(_, j)| {
            j.shown
                .as_ref()
                .is_some_and(|p| p.state == crate::JobState::Running)
        })
    }
}

pub(crate) fn subscription(id: &ProcessId, job: &Job) -> Subscription {
    Subscription {
        job: id.clone(),
        token: job.token.clone(),
    }
}
