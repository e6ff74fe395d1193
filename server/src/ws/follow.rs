//! Following one job: its first state, every newer one, the wait for a job
//! that does not exist yet, and the ends a follower must be told about.
//!
//! The per-job socket, the page socket and the event stream all follow jobs
//! through this one type, so the subscribe-before-the-job-exists race, the
//! shared-backend lookup, the grace and token expiry are written once, and
//! so is the answer for a job the shared backend cannot look up now
//! ([`Step::Unavailable`], never "no such job").

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::watch;
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::{ProcessId, Progress};

use crate::backend::Unavailable;
use crate::clock::{now_ms, now_s};
use crate::state::Shared;
use crate::stats::Counters;
use crate::store::{Published, Subscription};

/// What happened next to a followed job.
pub(crate) enum Step {
    /// A newer state (the terminal one included).
    State(Published),
    /// The job left the store before it finished.
    Vanished,
    /// No job appeared within the grace period.
    NeverAppeared,
    /// The grace ran out while the shared backend could not say whether the
    /// job exists (not reachable yet, or reconnecting): not "no such job",
    /// so followers are told to come back instead.
    Unavailable(Unavailable),
    /// The follower's token expired.
    TokenExpired,
}

impl Step {
    /// The new state, or else how a connection that follows many jobs
    /// tells one of them that it stops following it: the per-job error's
    /// code and message (the page socket and the event stream alike).
    pub(crate) fn into_state(self) -> Result<Published, (WireErrorCode, String)> {
        Err(match self {
            Step::State(published) => return Ok(published),
            Step::Vanished => (
                WireErrorCode::UnknownProcess,
                "the job is no longer available".to_owned(),
            ),
            Step::NeverAppeared => (
                WireErrorCode::UnknownProcess,
                "no job with this process_id appeared in time".to_owned(),
            ),
            // The job may exist: the shared job store cannot be asked now. A
            // per-job answer, so the connection and its other jobs go on.
            Step::Unavailable(unavailable) => (
                WireErrorCode::Unavailable,
                format!(
                    "the job store is not reachable yet; subscribe to this job again in {} ms",
                    unavailable.retry_after_ms
                ),
            ),
            Step::TokenExpired => (
                WireErrorCode::TokenExpired,
                "the token has expired".to_owned(),
            ),
        })
    }
}

/// One follower of one job.
pub(crate) struct Follow {
    state: Shared,
    id: ProcessId,
    job: Option<watch::Receiver<Published>>,
    early: Option<watch::Receiver<()>>,
    grace_end: tokio::time::Instant,
    token_expiry: Option<tokio::time::Instant>,
}

impl Follow {
    /// Starts following `id`; returns the follower and the state to show
    /// first (the placeholder of PROTOCOL.md 4.5 for a job not known yet).
    /// The grace starts now. `token_expiry_s` is the token's expiry in Unix
    /// seconds, when tokens are required.
    pub(crate) async fn start(
        state: &Shared,
        id: &ProcessId,
        token_expiry_s: Option<u64>,
    ) -> (Self, Progress) {
        let token_expiry = token_expiry_s.map(|s| {
            let left = s.saturating_mul(1000).saturating_sub(now_ms());
            tokio::time::Instant::now() + Duration::from_millis(left)
        });
        // For an id that does not exist yet (the subscribe-before-upload
        // race) the store hands out a signal for that id alone, registered
        // under the same lock as the lookup, so its creation is never missed.
        let mut subscription = state.store.subscribe_or_wait(id);
        if let Subscription::Pending(_) = subscription {
            // Not held here: another instance may own it (shared backend).
            // Asked while already waiting, so a job published meanwhile is
            // not missed either; and asked before the snapshot, so a client
            // moving here from another instance never gets an older one.
            if let Ok(Some(_)) = state.lookup(id).await {
                subscription = state.store.subscribe_or_wait(id);
            }
        }
        let (mut job, early) = match subscription {
            Subscription::Job(rx) => (Some(rx), None),
            Subscription::Pending(rx) => (None, Some(rx)),
        };
        let first = match job.as_mut() {
            Some(rx) => Progress::clone(&rx.borrow_and_update().progress),
            None => Progress::unknown(id.clone(), now_ms()),
        };
        let follow = Self {
            state: state.clone(),
            id: id.clone(),
            job,
            early,
            grace_end: tokio::time::Instant::now() + state.config.grace,
            token_expiry,
        };
        (follow, first)
    }

    /// The followed id.
    pub(crate) fn id(&self) -> &ProcessId {
        &self.id
    }

    /// Waits for what happens next. Cancel-safe: dropping the future loses
    /// nothing, the next call picks up the newest state.
    pub(crate) async fn next(&mut self) -> Step {
        loop {
            let waiting = self.job.is_none();
            tokio::select! {
                changed = wait_job(self.job.as_mut()) => return match changed {
                    Some(published) => Step::State(published),
                    None => Step::Vanished,
                },
                () = wait_created(self.early.as_mut()), if waiting => {
                    match self.state.store.subscribe_or_wait(&self.id) {
                        Subscription::Job(mut rx) => {
                            let published = rx.borrow_and_update().clone();
                            self.job = Some(rx);
                            self.early = None;
                            return Step::State(published);
                        }
                        Subscription::Pending(rx) => self.early = Some(rx),
                    }
                }
                () = tokio::time::sleep_until(self.grace_end), if waiting => {
                    // "No such job" only when the shared backend could say so.
                    match self.state.lookup(&self.id).await {
                        // Copied in just now: the creation signal fires next.
                        Ok(Some(_)) => {
                            self.grace_end = tokio::time::Instant::now() + self.state.config.grace;
                        }
                        Ok(None) => return Step::NeverAppeared,
                        Err(unavailable) => return Step::Unavailable(unavailable),
                    }
                }
                () = sleep_until_opt(self.token_expiry) => return Step::TokenExpired,
            }
        }
    }
}

/// Waits for the job's next state; `None` when the job left the store.
/// Without a job yet, never resolves.
async fn wait_job(job: Option<&mut watch::Receiver<Published>>) -> Option<Published> {
    match job {
        Some(rx) => {
            rx.changed().await.ok()?;
            Some(rx.borrow_and_update().clone())
        }
        None => std::future::pending().await,
    }
}

/// Resolves once the job a follower waits for has been created (the store
/// drops the signal's sender then). Without a signal, never resolves.
async fn wait_created(early: Option<&mut watch::Receiver<()>>) {
    match early {
        Some(rx) => {
            // Only an error (sender dropped) can end this: nobody sends on it.
            let _ = rx.changed().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Why a follower may not follow a job: its machine code and a human text.
#[derive(Debug, Clone)]
pub(crate) struct Denied {
    pub(crate) code: WireErrorCode,
    pub(crate) message: String,
}

/// Whether `raw_id` (a path segment or list item, already percent-decoded)
/// may be followed with `token`: the id's syntax, then the token when tokens
/// are required. Checks nothing about the job's existence, so the grace
/// applies with tokens as without. `Ok` holds the id and the token's expiry
/// (Unix seconds) when there is one.
pub(crate) fn check_access(
    state: &Shared,
    raw_id: &str,
    token: Option<&str>,
) -> Result<(ProcessId, Option<u64>), Denied> {
    let id = ProcessId::parse(raw_id).map_err(|err| Denied {
        code: WireErrorCode::InvalidProcessId,
        message: err.to_string(),
    })?;
    if !state.config.require_token {
        return Ok((id, None));
    }
    match state.tokens.verify(token, &id, now_s()) {
        Ok(expiry) => Ok((id, Some(expiry))),
        Err(err) => {
            Counters::bump(&state.stats.counters.unauthorized);
            Err(Denied {
                code: err.code(),
                message: err.to_string(),
            })
        }
    }
}

/// A follower waiting for its job's next step.
type Waiting = Pin<Box<dyn Future<Output = (Follow, Step)> + Send>>;

/// The jobs one connection follows (page socket, event stream), each by
/// its own [`Follow`].
#[derive(Default)]
pub(crate) struct Followers {
    by_id: HashMap<ProcessId, Waiting>,
}

impl Followers {
    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub(crate) fn contains(&self, id: &ProcessId) -> bool {
        self.by_id.contains_key(id)
    }

    /// Waits on `follow` (again), replacing any follower of the same id.
    pub(crate) fn watch(&mut self, mut follow: Follow) {
        let id = follow.id().clone();
        let next = Box::pin(async move {
            let step = follow.next().await;
            (follow, step)
        });
        self.by_id.insert(id, next);
    }

    /// Stops following `id` (any string: ids that were never followed are
    /// simply not there).
    pub(crate) fn remove(&mut self, id: &str) {
        self.by_id.retain(|key, _| key.as_str() != id);
    }

    /// The first follower with something to report; it is no longer
    /// followed until [`Self::watch`]ed again. Every waiting future stays
    /// stored between polls, so its wake-ups are kept; the cost is one poll
    /// per follower per wake, and followers are capped. Never resolves
    /// while there are none.
    pub(crate) async fn next(&mut self) -> (Follow, Step) {
        std::future::poll_fn(|cx| {
            let ready =
                self.by_id
                    .iter_mut()
                    .find_map(|(id, waiting)| match waiting.as_mut().poll(cx) {
                        Poll::Ready(done) => Some((id.clone(), done)),
                        Poll::Pending => None,
                    });
            match ready {
                Some((id, done)) => {
                    self.by_id.remove(&id);
                    Poll::Ready(done)
                }
                None => Poll::Pending,
            }
        })
        .await
    }
}
