//! Where jobs live beyond this process: the store backends.
//!
//! Every instance keeps its jobs in its own [`JobStore`] (the watch channels
//! its sockets read). A [`Backend`] decides what else happens:
//!
//! - [`Memory`] (the default): nothing. One instance, nothing to install.
//! - `RedisBackend` (cargo feature `redis`): every state of every job created
//!   on this instance is written to Redis (latest snapshot per job, with a
//!   TTL) and published; every instance subscribes and copies the states of
//!   the jobs its clients follow into its own store. Any instance then
//!   serves any job: sockets, polling, ETag/304 and the unknown-job grace.
//!
//! Who assigns `seq`: the instance that created the job, through its one
//! writer ([`crate::JobHandle`] or the demo pipeline), exactly as with one
//! instance. Redis only stores a state whose `seq` is higher than the one it
//! holds (a compare-and-set in a Lua script), and a replica only moves to a
//! higher `seq`, so no client sees `seq` go backwards, whichever instance it
//! lands on: not after an instance dies (the others keep the newest state
//! they saw), not after Redis restarts empty (the owner writes its jobs
//! again, with the `seq` it was at).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use upload_progress_core::{ProcessId, Progress};

use crate::store::JobStore;

#[cfg(feature = "redis")]
pub mod redis;

/// A boxed future, as returned by [`Backend::fetch`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Shares jobs between instances.
pub trait Backend: Send + Sync + 'static {
    /// Starts the background work for `store` (publishing its owned jobs,
    /// copying other instances' states in). Called once, inside a Tokio
    /// runtime.
    fn attach(&self, store: &Arc<JobStore>);

    /// Looks up a job this instance does not hold: `Ok(None)` when nobody
    /// has it, `Err` when the backend cannot answer now (not connected yet,
    /// reconnecting, too slow), so the job may well exist. Never waits long.
    fn fetch(&self, id: &ProcessId) -> BoxFuture<'_, Result<Option<Progress>, Unavailable>>;

    /// The backend's state for `/ws/status`.
    fn status(&self) -> serde_json::Value;
}

/// The shared backend cannot answer now, so "no such job" cannot be said:
/// clients get 503 (HTTP) or close 4013 (socket), both transient, instead
/// of 404 / 4404.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unavailable {
    /// When to ask again.
    pub retry_after_ms: u64,
}

/// Jobs stay in this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Memory;

impl Backend for Memory {
    fn attach(&self, _store: &Arc<JobStore>) {}

    fn fetch(&self, _id: &ProcessId) -> BoxFuture<'_, Result<Option<Progress>, Unavailable>> {
        Box::pin(std::future::ready(Ok(None)))
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!({ "backend": "memory" })
    }
}

/// Looks `id` up here, then in the backend; a job found there is copied
/// into `store` (and wakes the sockets waiting for it).
pub async fn lookup(
    store: &JobStore,
    backend: &dyn Backend,
    id: &ProcessId,
) -> Result<Option<Progress>, Unavailable> {
    if let Some(progress) = store.get(id) {
        return Ok(Some(progress));
    }
    let Some(found) = backend.fetch(id).await? else {
        return Ok(None);
    };
    store.apply_remote(found, true);
    Ok(store.get(id))
}
