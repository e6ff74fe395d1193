//! In-memory job store: the single place where the `seq` / `percent` rules hold.
//!
//! Every job owns a `watch` channel holding its latest [`Progress`]. A watch
//! channel keeps only the newest value, so a slow subscriber never builds a
//! backlog and never slows the pipeline: it simply reads the newest snapshot
//! when it gets round to it.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, watch};
use upload_progress_core::{ProcessId, Progress};

use crate::clock::now_ms;

/// Why a store operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store holds `max_jobs` unfinished jobs.
    #[error("the job store is full")]
    Full,
    /// A job with this id already exists.
    #[error("a job with this id already exists")]
    Exists,
    /// No job with this id.
    #[error("no such job")]
    Unknown,
    /// The job is in a terminal state and never changes again.
    #[error("the job has finished")]
    Finished,
}

struct Entry {
    tx: watch::Sender<Progress>,
    finished_at: Option<Instant>,
    created_at: Instant,
}

/// All jobs, bounded in number and in how long finished ones stay.
pub struct JobStore {
    jobs: Mutex<HashMap<ProcessId, Entry>>,
    /// Bumped on every new job so sockets waiting for an id can re-check.
    created: watch::Sender<u64>,
    /// Every update of every job, for the all-jobs stream.
    updates: broadcast::Sender<Progress>,
    max_jobs: usize,
    ttl: Duration,
}

impl JobStore {
    /// An empty store.
    pub fn new(max_jobs: usize, ttl: Duration) -> Self {
        let (created, _) = watch::channel(0);
        let (updates, _) = broadcast::channel(256);
        Self {
            jobs: Mutex::new(HashMap::new()),
            created,
            updates,
            max_jobs: max_jobs.max(1),
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ProcessId, Entry>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every mutation is a single insert/remove), so poisoning is ignored.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a job. Its first published state gets `seq` 1.
    pub fn create(&self, mut initial: Progress) -> Result<Progress, StoreError> {
        let mut jobs = self.lock();
        if jobs.contains_key(&initial.process_id) {
            return Err(StoreError::Exists);
        }
        if jobs.len() >= self.max_jobs {
            Self::evict_finished(&mut jobs, Duration::ZERO, 1);
            if jobs.len() >= self.max_jobs {
                return Err(StoreError::Full);
            }
        }
        initial.seq = 1;
        initial.percent = sanitize_percent(initial.percent, 0.0);
        initial.updated_at_ms = now_ms();
        let (tx, _) = watch::channel(initial.clone());
        let now = Instant::now();
        let finished_at = initial.is_terminal().then_some(now);
        jobs.insert(
            initial.process_id.clone(),
            Entry {
                tx,
                finished_at,
                created_at: now,
            },
        );
        drop(jobs);
        self.created.send_modify(|n| *n = n.wrapping_add(1));
        let _ = self.updates.send(initial.clone());
        Ok(initial)
    }

    /// Applies `change` to a copy of the job's state and publishes it.
    ///
    /// Whatever `change` does, the published state has `seq` one above the
    /// previous one, a `percent` no lower than before (and within 0..=100),
    /// the same `process_id`, and a fresh `updated_at_ms`. A terminal job is
    /// never changed again.
    pub fn update(
        &self,
        id: &ProcessId,
        change: impl FnOnce(&mut Progress),
    ) -> Result<Progress, StoreError> {
        let mut jobs = self.lock();
        let entry = jobs.get_mut(id).ok_or(StoreError::Unknown)?;
        let current = entry.tx.borrow().clone();
        if current.is_terminal() {
            return Err(StoreError::Finished);
        }
        let mut next = current.clone();
        change(&mut next);
        next.process_id = current.process_id.clone();
        next.seq = current.seq.saturating_add(1);
        next.percent = sanitize_percent(next.percent, current.percent);
        next.updated_at_ms = now_ms().max(current.updated_at_ms);
        if next.is_terminal() {
            entry.finished_at = Some(Instant::now());
        }
        entry.tx.send_replace(next.clone());
        drop(jobs);
        let _ = self.updates.send(next.clone());
        Ok(next)
    }

    /// The job's latest state.
    pub fn get(&self, id: &ProcessId) -> Option<Progress> {
        self.lock().get(id).map(|e| e.tx.borrow().clone())
    }

    /// A receiver of the job's latest state; `None` for an unknown id.
    pub fn subscribe(&self, id: &ProcessId) -> Option<watch::Receiver<Progress>> {
        self.lock().get(id).map(|e| e.tx.subscribe())
    }

    /// Changes whenever a job is created.
    pub fn watch_created(&self) -> watch::Receiver<u64> {
        self.created.subscribe()
    }

    /// Every update of every job (lagging receivers must resync with [`Self::active`]).
    pub fn subscribe_all(&self) -> broadcast::Receiver<Progress> {
        self.updates.subscribe()
    }

    /// Latest states of unfinished jobs, oldest first.
    pub fn active(&self) -> Vec<Progress> {
        let jobs = self.lock();
        let mut list: Vec<(Instant, Progress)> = jobs
            .values()
            .filter(|e| e.finished_at.is_none())
            .map(|e| (e.created_at, e.tx.borrow().clone()))
            .collect();
        list.sort_by_key(|(t, _)| *t);
        list.into_iter().map(|(_, p)| p).collect()
    }

    /// Number of jobs held (finished or not).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no job is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of unfinished jobs.
    pub fn active_len(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| e.finished_at.is_none())
            .count()
    }

    /// Ids of every held job.
    pub fn ids(&self) -> Vec<ProcessId> {
        self.lock().keys().cloned().collect()
    }

    /// True when the store holds `id`.
    pub fn contains(&self, id: &ProcessId) -> bool {
        self.lock().contains_key(id)
    }

    /// Drops finished jobs older than the TTL; returns how many went.
    pub fn sweep(&self) -> usize {
        let mut jobs = self.lock();
        Self::evict_finished(&mut jobs, self.ttl, usize::MAX)
    }

    /// Removes up to `limit` finished jobs that finished at least `age` ago, oldest first.
    fn evict_finished(jobs: &mut HashMap<ProcessId, Entry>, age: Duration, limit: usize) -> usize {
        let now = Instant::now();
        let mut old: Vec<(Instant, ProcessId)> = jobs
            .iter()
            .filter_map(|(id, e)| e.finished_at.map(|t| (t, id.clone())))
            .filter(|(t, _)| now.saturating_duration_since(*t) >= age)
            .collect();
        old.sort();
        let mut removed = 0;
        for (_, id) in old.into_iter().take(limit) {
            // Dropping the sender ends every subscriber's stream.
            jobs.remove(&id);
            removed += 1;
        }
        removed
    }
}

/// Keeps `percent` finite, within 0..=100 and not below `floor`.
fn sanitize_percent(value: f64, floor: f64) -> f64 {
    let value = if value.is_finite() { value } else { floor };
    value.clamp(0.0, 100.0).max(floor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use upload_progress_core::JobState;

    fn id(s: &str) -> ProcessId {
        ProcessId::parse(s).expect("valid id")
    }

    #[test]
    fn seq_increases_and_percent_never_drops() {
        let store = JobStore::new(10, Duration::from_secs(60));
        let first = store
            .create(Progress::unknown(id("a"), 0))
            .expect("created");
        assert_eq!(first.seq, 1);
        let p = store.update(&id("a"), |p| p.percent = 50.0).expect("ok");
        assert_eq!((p.seq, p.percent), (2, 50.0));
        let p = store.update(&id("a"), |p| p.percent = 10.0).expect("ok");
        assert_eq!((p.seq, p.percent), (3, 50.0));
        let p = store
            .update(&id("a"), |p| p.percent = f64::NAN)
            .expect("ok");
        assert_eq!(p.percent, 50.0);
        let p = store.update(&id("a"), |p| p.seq = 0).expect("ok");
        assert_eq!(p.seq, 5);
    }

    #[test]
    fn invariants_hold_under_arbitrary_changes() {
        let store = JobStore::new(10, Duration::from_secs(60));
        store
            .create(Progress::unknown(id("r"), 0))
            .expect("created");
        let mut rx = store.subscribe(&id("r")).expect("subscribed");
        let mut last = rx.borrow_and_update().clone();
        // A fixed xorshift sequence: reproducible, yet far from monotonic input.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let percent = (x % 25_000) as f64 / 100.0 - 50.0;
            let seq = x % 7;
            let next = store
                .update(&id("r"), |p| {
                    p.percent = percent;
                    p.seq = seq;
                })
                .expect("running job accepts updates");
            assert_eq!(next.seq, last.seq + 1);
            assert!(next.percent >= last.percent && (0.0..=100.0).contains(&next.percent));
            last = next;
        }
        assert_eq!(rx.borrow_and_update().seq, last.seq);
    }

    #[test]
    fn terminal_jobs_are_frozen_and_evicted_when_full() {
        let store = JobStore::new(1, Duration::from_secs(60));
        store
            .create(Progress::unknown(id("a"), 0))
            .expect("created");
        assert_eq!(
            store.create(Progress::unknown(id("b"), 0)),
            Err(StoreError::Full)
        );
        store
            .update(&id("a"), |p| p.state = JobState::Completed)
            .expect("ok");
        assert_eq!(
            store.update(&id("a"), |p| p.percent = 1.0),
            Err(StoreError::Finished)
        );
        store
            .create(Progress::unknown(id("b"), 0))
            .expect("evicts a");
        assert!(!store.contains(&id("a")));
    }
}
