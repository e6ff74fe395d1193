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

    /// Looks up a job this instance does not hold; `None` when nobody has
    /// it or the backend cannot answer now. Never waits long.
    fn fetch(&self, id: &ProcessId) -> BoxFuture<'_, Option<Progress>>;

    /// The backend's state for `/ws/status`.
    fn status(&self) -> serde_json::Value;
}

/// Jobs stay in this process.
#[derive(Debug, Default, Clone, Copy)]
pub struct Memory;

impl Backend for Memory {
    fn attach(&self, _store: &Arc<JobStore>) {}

    fn fetch(&self, _id: &ProcessId) -> BoxFuture<'_, Option<Progress>> {
        Box::pin(std::future::ready(None))
    }

    fn status(&self) -> serde_json::Value {
        serde_json::json!({ "backend": "memory" })
    }
}

/// Looks `id` up here, then in the backend; a job found there is copied
/// into `store` (and wakes the sockets waiting for it).
pub async fn lookup(store: &JobStore, backend: &dyn Backend, id: &ProcessId) -> Option<Progress> {
    if let Some(progress) = store.get(id) {
        return Some(progress);
    }
    let found = backend.fetch(id).await?;
    store.apply_remote(found, true);
    store.get(id)
}
