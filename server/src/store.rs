//! In-memory job store: the single place where the `seq` / `percent` rules hold.
//!
//! Every job owns a `watch` channel holding its latest [`Progress`] (with the
//! `progress` frame rendered once for all its sockets, see [`Published`]). A watch
//! channel keeps only the newest value, so a slow subscriber never builds a
//! backlog and never slows the pipeline: it simply reads the newest snapshot
//! when it gets round to it.
//!
//! Jobs are *owned* (created here: this instance's [`JobStore::create`] and
//! [`JobStore::update`] assign their `seq`) or *replicas* (copied from a
//! shared backend with [`JobStore::apply_remote`], which only ever moves a
//! replica to a higher `seq`). Owned jobs' states go to the
//! [`JobStore::set_sink`] callback, which a shared backend uses to publish
//! them; see [`crate::backend`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, watch};
use upload_progress_core::{ProcessId, Progress, ServerMessage};

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
    /// The job is a copy of one owned by another instance.
    #[error("the job is written by another instance")]
    Replica,
}

/// One published state of a job, with its `progress` frame.
///
/// The frame is rendered once per update, when the state is published, and
/// shared by every socket of the job: fanning an update out to N sockets
/// costs N writes, not N serialisations and N deep copies of the state.
#[derive(Debug, Clone)]
pub struct Published {
    /// The state.
    pub progress: Arc<Progress>,
    /// `{"type":"progress","progress":...}`, ready to send.
    pub frame: Utf8Bytes,
}

impl Published {
    fn new(progress: Progress) -> Self {
        let msg = ServerMessage::Progress {
            progress: progress.clone(),
        };
        // Serialising these plain types cannot fail; should it ever, the
        // empty frame is refused by clients rather than crashing the server.
        let frame = serde_json::to_string(&msg).unwrap_or_default();
        Self {
            progress: Arc::new(progress),
            frame: Utf8Bytes::from(frame),
        }
    }
}

struct Entry {
    tx: watch::Sender<Published>,
    finished_at: Option<Instant>,
    created_at: Instant,
    /// Created here (its `seq` is assigned here), not a replica.
    owned: bool,
    /// Last change, to drop replicas whose owner went quiet.
    touched: Instant,
}

/// Receives every state of every owned job, right after it is published.
pub type Sink = Arc<dyn Fn(&Progress) + Send + Sync>;

/// What a subscriber gets for an id.
pub enum Subscription {
    /// The job exists: its latest state and every later one.
    Job(watch::Receiver<Published>),
    /// No such job yet. `changed()` on this receiver fails once a job with
    /// the id is created (its sender is dropped); subscribe again then.
    Pending(watch::Receiver<()>),
}

/// All jobs, bounded in number and in how long finished ones stay.
pub struct JobStore {
    jobs: Mutex<HashMap<ProcessId, Entry>>,
    /// Per-id signals for subscribers of jobs that do not exist yet. Keyed
    /// by id so a new job wakes only its own early subscribers, not every
    /// socket that is waiting for some other id. Only touched while `jobs`
    /// is locked, so a creation and a subscription never miss each other.
    waiting: Mutex<HashMap<ProcessId, watch::Sender<()>>>,
    /// Every update of every job, for the all-jobs stream.
    updates: broadcast::Sender<Progress>,
    max_jobs: usize,
    ttl: Duration,
    sink: OnceLock<Sink>,
}

impl JobStore {
    /// An empty store.
    pub fn new(max_jobs: usize, ttl: Duration) -> Self {
        let (updates, _) = broadcast::channel(256);
        Self {
            jobs: Mutex::new(HashMap::new()),
            waiting: Mutex::new(HashMap::new()),
            updates,
            max_jobs: max_jobs.max(1),
            ttl,
            sink: OnceLock::new(),
        }
    }

    /// Sets the callback that gets every state of every owned job (once;
    /// later calls are ignored). It runs on the writer's thread, so it must
    /// not block.
    pub fn set_sink(&self, sink: Sink) {
        let _ = self.sink.set(sink);
    }

    fn to_sink(&self, progress: &Progress) {
        if let Some(sink) = self.sink.get() {
            sink(progress);
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ProcessId, Entry>> {
        // A panic while holding the lock cannot leave the map half-updated
        // (every mutation is a single insert/remove), so poisoning is ignored.
        self.jobs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Only call with `jobs` locked (see the field).
    fn lock_waiting(&self) -> MutexGuard<'_, HashMap<ProcessId, watch::Sender<()>>> {
        // Single inserts/removes only, as for `jobs`.
        self.waiting.lock().unwrap_or_else(|e| e.into_inner())
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
        let (tx, _) = watch::channel(Published::new(initial.clone()));
        let now = Instant::now();
        let finished_at = initial.is_terminal().then_some(now);
        jobs.insert(
            initial.process_id.clone(),
            Entry {
                tx,
                finished_at,
                created_at: now,
                owned: true,
                touched: now,
            },
        );
        let early = self.lock_waiting().remove(&initial.process_id);
        drop(jobs);
        // Dropping the signal wakes the sockets that asked for this id early.
        drop(early);
        self.to_sink(&initial);
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
        if !entry.owned {
            return Err(StoreError::Replica);
        }
        let current = Arc::clone(&entry.tx.borrow().progress);
        if current.is_terminal() {
            return Err(StoreError::Finished);
        }
        let mut next = Progress::clone(&current);
        change(&mut next);
        next.process_id = current.process_id.clone();
        next.seq = current.seq.saturating_add(1);
        next.percent = sanitize_percent(next.percent, current.percent);
        next.updated_at_ms = now_ms().max(current.updated_at_ms);
        if next.is_terminal() {
            entry.finished_at = Some(Instant::now());
        }
        entry.tx.send_replace(Published::new(next.clone()));
        entry.touched = Instant::now();
        drop(jobs);
        self.to_sink(&next);
        let _ = self.updates.send(next.clone());
        Ok(next)
    }

    /// Takes a state of a job owned elsewhere (from a shared backend).
    ///
    /// A held replica moves only to a higher `seq`; an owned job ignores
    /// its own echo and stale copies, and becomes a replica when a higher
    /// `seq` arrives (another instance adopted it). An id not held is added
    /// when `force` (a client asked for it) or when a socket here waits for
    /// it, else ignored: an instance keeps copies only of jobs its clients
    /// follow. Returns true when the state was taken.
    pub fn apply_remote(&self, progress: Progress, force: bool) -> bool {
        let mut jobs = self.lock();
        let now = Instant::now();
        let terminal = progress.is_terminal();
        if let Some(entry) = jobs.get_mut(&progress.process_id) {
            if progress.seq <= entry.tx.borrow().progress.seq {
                return false;
            }
            // A newer state of a job owned here means another instance took
            // it over (see `adopt`): this copy follows it from now on.
            entry.owned = false;
            if terminal && entry.finished_at.is_none() {
                entry.finished_at = Some(now);
            }
            entry.touched = now;
            entry.tx.send_replace(Published::new(progress.clone()));
            drop(jobs);
            let _ = self.updates.send(progress);
            return true;
        }
        let waited = self
            .lock_waiting()
            .get(&progress.process_id)
            .is_some_and(|tx| tx.receiver_count() > 0);
        if !(force || waited) {
            return false;
        }
        if jobs.len() >= self.max_jobs {
            Self::evict_finished(&mut jobs, Duration::ZERO, 1);
            if jobs.len() >= self.max_jobs {
                return false;
            }
        }
        let (tx, _) = watch::channel(Published::new(progress.clone()));
        jobs.insert(
            progress.process_id.clone(),
            Entry {
                tx,
                finished_at: terminal.then_some(now),
                created_at: now,
                owned: false,
                touched: now,
            },
        );
        let early = self.lock_waiting().remove(&progress.process_id);
        drop(jobs);
        drop(early);
        let _ = self.updates.send(progress);
        true
    }

    /// True when this instance writes job `id`.
    pub fn owns(&self, id: &ProcessId) -> bool {
        self.lock().get(id).is_some_and(|e| e.owned)
    }

    /// Makes this instance the writer of job `id`, which it holds as a copy
    /// of another instance's job (a resumable upload that continues here):
    /// later updates go on from the copy's `seq`. The previous owner lets
    /// go when it sees the first of them (`apply_remote`).
    pub fn adopt(&self, id: &ProcessId) -> Result<(), StoreError> {
        let mut jobs = self.lock();
        let entry = jobs.get_mut(id).ok_or(StoreError::Unknown)?;
        if entry.tx.borrow().progress.is_terminal() {
            return Err(StoreError::Finished);
        }
        entry.owned = true;
        Ok(())
    }

    /// Latest states of every owned job (to publish again after a backend
    /// lost them, e.g. a restarted Redis).
    pub fn owned(&self) -> Vec<Progress> {
        self.lock()
            .values()
            .filter(|e| e.owned)
            .map(|e| Progress::clone(&e.tx.borrow().progress))
            .collect()
    }

    /// Ids whose newest state may be elsewhere: unfinished replicas and ids
    /// sockets here wait for (to read again after missing updates).
    pub fn followed_elsewhere(&self) -> Vec<ProcessId> {
        let jobs = self.lock();
        let mut ids: Vec<ProcessId> = jobs
            .iter()
            .filter(|(_, e)| !e.owned && e.finished_at.is_none())
            .map(|(id, _)| id.clone())
            .collect();
        ids.extend(
            self.lock_waiting()
                .iter()
                .filter(|(_, tx)| tx.receiver_count() > 0)
                .map(|(id, _)| id.clone()),
        );
        ids
    }

    /// The job's latest state.
    pub fn get(&self, id: &ProcessId) -> Option<Progress> {
        self.lock()
            .get(id)
            .map(|e| Progress::clone(&e.tx.borrow().progress))
    }

    /// A receiver of the job's latest state; `None` for an unknown id.
    pub fn subscribe(&self, id: &ProcessId) -> Option<watch::Receiver<Published>> {
        self.lock().get(id).map(|e| e.tx.subscribe())
    }

    /// The job's channel, or for an unknown id a signal that fires when a
    /// job with that id is created.
    pub fn subscribe_or_wait(&self, id: &ProcessId) -> Subscription {
        let jobs = self.lock();
        if let Some(entry) = jobs.get(id) {
            return Subscription::Job(entry.tx.subscribe());
        }
        let mut waiting = self.lock_waiting();
        if let Some(tx) = waiting.get(id) {
            return Subscription::Pending(tx.subscribe());
        }
        // Ids nobody waits for any more are dropped whenever the map doubles
        // (and by `sweep`): it stays bounded by the sockets actually waiting,
        // at an amortised constant cost per insert.
        if waiting.len() >= 64 && waiting.len().is_power_of_two() {
            waiting.retain(|_, tx| tx.receiver_count() > 0);
        }
        let (tx, rx) = watch::channel(());
        waiting.insert(id.clone(), tx);
        Subscription::Pending(rx)
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
            .map(|e| (e.created_at, Progress::clone(&e.tx.borrow().progress)))
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
    ///
    /// Also drops unfinished replicas nobody follows that have not changed
    /// for a TTL (their owner stopped; a client asking again reads the
    /// backend).
    pub fn sweep(&self) -> usize {
        let mut jobs = self.lock();
        self.lock_waiting().retain(|_, tx| tx.receiver_count() > 0);
        let now = Instant::now();
        let before = jobs.len();
        jobs.retain(|_, e| {
            e.owned
                || e.finished_at.is_some()
                || e.tx.receiver_count() > 0
                || now.saturating_duration_since(e.touched) < self.ttl
        });
        let quiet = before - jobs.len();
        quiet + Self::evict_finished(&mut jobs, self.ttl, usize::MAX)
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
        let mut last = Progress::clone(&rx.borrow_and_update().progress);
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
        let published = rx.borrow_and_update().clone();
        assert_eq!(published.progress.seq, last.seq);
        // The shared frame is exactly what a socket would have serialised.
        let expected = serde_json::to_string(&ServerMessage::Progress { progress: last })
            .expect("serialisable");
        assert_eq!(published.frame.as_str(), expected);
    }

    #[tokio::test]
    async fn early_subscribers_wake_only_for_their_own_id() {
        let store = JobStore::new(10, Duration::from_secs(60));
        let Subscription::Pending(mut early) = store.subscribe_or_wait(&id("a")) else {
            panic!("no job yet, so the subscriber must wait");
        };
        store
            .create(Progress::unknown(id("b"), 0))
            .expect("created");
        assert!(
            matches!(early.has_changed(), Ok(false)),
            "another id must not wake it"
        );
        store
            .create(Progress::unknown(id("a"), 0))
            .expect("created");
        assert!(early.changed().await.is_err(), "its own id must wake it");
        assert!(matches!(
            store.subscribe_or_wait(&id("a")),
            Subscription::Job(_)
        ));
        // Ids nobody waits for any more are swept.
        drop(store.subscribe_or_wait(&id("c")));
        store.sweep();
        assert!(store.lock_waiting().is_empty());
    }

    #[test]
    fn replicas_only_move_forward_and_owned_jobs_follow_only_a_takeover() {
        let store = JobStore::new(10, Duration::from_secs(60));
        let sent = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&sent);
        store.set_sink(Arc::new(move |p: &Progress| {
            log.lock()
                .expect("unpoisoned")
                .push((p.process_id.clone(), p.seq));
        }));
        let remote = |name: &str, seq: u64| {
            let mut p = Progress::unknown(id(name), 0);
            p.seq = seq;
            p
        };
        // Nobody here follows it: not kept.
        assert!(!store.apply_remote(remote("r", 3), false));
        assert!(!store.contains(&id("r")));
        // A client asked for it: kept, then only newer states.
        assert!(store.apply_remote(remote("r", 3), true));
        assert!(!store.apply_remote(remote("r", 2), false));
        assert!(!store.apply_remote(remote("r", 3), false));
        assert!(store.apply_remote(remote("r", 5), false));
        assert_eq!(store.get(&id("r")).map(|p| p.seq), Some(5));
        // Its writer is elsewhere.
        assert_eq!(
            store.update(&id("r"), |p| p.percent = 1.0),
            Err(StoreError::Replica)
        );
        assert_eq!(store.followed_elsewhere(), vec![id("r")]);
        // A job owned here takes no echo or stale state from elsewhere...
        store
            .create(Progress::unknown(id("o"), 0))
            .expect("created");
        assert!(!store.apply_remote(remote("o", 1), true));
        store.update(&id("o"), |p| p.percent = 5.0).expect("ok");
        assert_eq!(store.get(&id("o")).map(|p| p.seq), Some(2));
        assert_eq!(store.owned().len(), 1);
        // ...but a newer one means another instance took it over: this
        // copy follows it, and writes no more.
        assert!(store.apply_remote(remote("o", 9), false));
        assert_eq!(store.owned().len(), 0);
        assert_eq!(
            store.update(&id("o"), |p| p.percent = 6.0),
            Err(StoreError::Replica)
        );
        // Taking a copy over makes this instance its writer, from its seq.
        store.adopt(&id("o")).expect("adopted");
        assert_eq!(
            store.update(&id("o"), |p| p.percent = 7.0).map(|p| p.seq),
            Ok(10)
        );
        // A socket waiting for an id is woken by a state from elsewhere.
        let Subscription::Pending(early) = store.subscribe_or_wait(&id("w")) else {
            panic!("no job yet");
        };
        assert!(store.followed_elsewhere().contains(&id("w")));
        assert!(store.apply_remote(remote("w", 7), false));
        assert!(early.has_changed().is_err(), "its signal fired");
        // Only owned states go to the sink.
        assert_eq!(
            *sent.lock().expect("unpoisoned"),
            vec![(id("o"), 1), (id("o"), 2), (id("o"), 10)]
        );
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
