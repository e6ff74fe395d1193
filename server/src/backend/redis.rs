//! The Redis backend: every instance serves every job.
//!
//! Layout, under a key prefix (default `upr:`):
//!
//! - `{prefix}job:{id}`: a hash `{seq, json}` with the job's latest state,
//!   expiring [`RedisSettings::running_ttl`] after its last write while it
//!   runs and [`RedisSettings::finished_ttl`] after it ends;
//! - `{prefix}progress`: the channel every new state is published on (the
//!   state's JSON, as in a `progress` frame).
//!
//! A write is one Lua script: it stores and publishes the state only when
//! its `seq` is higher than the stored one. Writes never block the job's
//! writer: each job has one slot holding its newest unwritten state (a newer
//! state replaces an older one), drained by a background task; when Redis is
//! unreachable the slots keep the newest states until it is back, and every
//! job created here is written again then (Redis may have restarted empty).
//!
//! Each instance subscribes to the channel first and only then reads what it
//! may have missed (the jobs its sockets follow), and keeps a state only if
//! it is newer than the one it holds: the snapshot-then-live order of one
//! instance, on every instance. Lost connections are retried with jittered
//! exponential backoff (100 ms doubling up to 5 s); `/ws/status` shows the
//! connection state under `store`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};
use tokio::sync::Notify;
use upload_progress_core::{ProcessId, Progress};

use super::{Backend, BoxFuture, Unavailable};
use crate::store::JobStore;

/// Stores `ARGV[2]` (seq `ARGV[1]`) at `KEYS[1]` for `ARGV[3]` seconds and
/// publishes it on `KEYS[2]`, unless the key holds an equal or higher seq.
const WRITE_SCRIPT: &str = r"
local held = redis.call('HGET', KEYS[1], 'seq')
if held and tonumber(held) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'json', ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('PUBLISH', KEYS[2], ARGV[2])
return 1
";

/// Connecting and each command give up after this.
const OP_TIMEOUT: Duration = Duration::from_secs(2);
/// A client's lookup of an unknown job waits at most this for Redis.
const FETCH_TIMEOUT: Duration = Duration::from_millis(500);
/// What a client that asked while Redis was away is told to wait: about
/// the reconnect backoff's middle, so most come back after a reconnect.
const RETRY_AFTER_MS: u64 = 1_000;
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How often idle background tasks check that their server still exists.
const ALIVE_CHECK: Duration = Duration::from_secs(5);
/// An idle writer pings Redis this often, to reconnect (and write its jobs
/// again) soon after Redis comes back.
const IDLE_PING: Duration = Duration::from_secs(1);

/// Settings of [`RedisBackend`].
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host[:port][/db]` (or `rediss://` when the
    /// crate is built with TLS support).
    pub url: String,
    /// Prefix of every key and channel; instances that share jobs share it.
    pub prefix: String,
    /// Lifetime of a running job's state after its last write.
    pub running_ttl: Duration,
    /// Lifetime of a finished job's state.
    pub finished_ttl: Duration,
}

/// Shares jobs through Redis. See the module documentation.
pub struct RedisBackend {
    inner: Arc<Inner>,
}

struct Inner {
    client: Result<Client, String>,
    job_prefix: String,
    channel: String,
    prefix: String,
    running_ttl_s: u64,
    finished_ttl_s: u64,
    script: Script,
    /// Newest unwritten state per job.
    pending: Mutex<HashMap<ProcessId, Progress>>,
    wake: Notify,
    /// The writer's connection, for lookups; `None` while disconnected.
    reader: Mutex<Option<MultiplexedConnection>>,
    writer_up: AtomicBool,
    /// Set when a lookup on the writer's connection failed: reconnect.
    reader_broken: AtomicBool,
    subscribed: AtomicBool,
    connects: AtomicU64,
    written: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<String>>,
    attached: AtomicBool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every critical section is a single insert/take; poisoning is harmless.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl RedisBackend {
    /// A backend for `settings`; nothing connects before [`Backend::attach`].
    /// An unparsable URL is reported in the status and logged, and the
    /// instance then works alone.
    pub fn new(settings: RedisSettings) -> Self {
        let client = Client::open(settings.url.as_str()).map_err(|e| e.to_string());
        if let Err(err) = &client {
            tracing::error!(%err, "invalid Redis URL; jobs stay on this instance");
        }
        let prefix = settings.prefix;
        Self {
            inner: Arc::new(Inner {
                client,
                job_prefix: format!("{prefix}job:"),
                channel: format!("{prefix}progress"),
                prefix,
                running_ttl_s: settings.running_ttl.as_secs().max(1),
                finished_ttl_s: settings.finished_ttl.as_secs().max(1),
                script: Script::new(WRITE_SCRIPT),
                pending: Mutex::new(HashMap::new()),
                wake: Notify::new(),
                reader: Mutex::new(None),
                writer_up: AtomicBool::new(false),
                reader_broken: AtomicBool::new(false),
                subscribed: AtomicBool::new(false),
                connects: AtomicU64::new(0),
                written: AtomicU64::new(0),
                failures: AtomicU64::new(0),
                last_error: Mutex::new(None),
                attached: AtomicBool::new(false),
            }),
        }
    }
}

impl Backend for RedisBackend {
    fn attach(&self, store: &Arc<JobStore>) {
        if self.inner.attached.swap(true, Ordering::SeqCst) {
            return;
        }
        let inner = Arc::clone(&self.inner);
        store.set_sink(Arc::new(move |p: &Progress| inner.queue(p.clone())));
        let Ok(client) = self.inner.client.clone() else {
            return;
        };
        tokio::spawn(write_loop(
            Arc::clone(&self.inner),
            client.clone(),
            Arc::downgrade(store),
        ));
        tokio::spawn(follow_loop(
            Arc::clone(&self.inner),
            client,
            Arc::downgrade(store),
        ));
    }

    fn fetch(&self, id: &ProcessId) -> BoxFuture<'_, Result<Option<Progress>, Unavailable>> {
        let conn = lock(&self.inner.reader).clone();
        let key = self.inner.key(id);
        let inner = &self.inner;
        let unavailable = Unavailable {
            retry_after_ms: RETRY_AFTER_MS,
        };
        Box::pin(async move {
            // Not connected yet, or reconnecting: the job may exist there.
            let mut conn = conn.ok_or(unavailable)?;
            match tokio::time::timeout(FETCH_TIMEOUT, read_state(&mut conn, &key)).await {
                Ok(Ok(found)) => Ok(found),
                _ => {
                    inner.reader_broken.store(true, Ordering::Relaxed);
                    inner.wake.notify_one();
                    Err(unavailable)
                }
            }
        })
    }

    fn status(&self) -> serde_json::Value {
        let i = &self.inner;
        let writer = i.writer_up.load(Ordering::Relaxed);
        let subscribed = i.subscribed.load(Ordering::Relaxed);
        serde_json::json!({
            "backend": "redis",
            "connected": writer && subscribed,
            "writer_connected": writer,
            "subscribed": subscribed,
            "key_prefix": i.prefix,
            "pending_writes": lock(&i.pending).len(),
            "connects": i.connects.load(Ordering::Relaxed),
            "written": i.written.load(Ordering::Relaxed),
            "failures": i.failures.load(Ordering::Relaxed),
            "last_error": *lock(&i.last_error),
        })
    }
}

impl Inner {
    fn key(&self, id: &ProcessId) -> String {
        format!("{}{}", self.job_prefix, id.as_str())
    }

    /// Keeps `p` as its job's newest unwritten state (unless a newer one is
    /// already waiting) and wakes the writer. Never blocks on Redis.
    fn queue(&self, p: Progress) {
        let mut pending = lock(&self.pending);
        match pending.get(&p.process_id) {
            Some(held) if held.seq >= p.seq => return,
            _ => {}
        }
        pending.insert(p.process_id.clone(), p);
        drop(pending);
        self.wake.notify_one();
    }

    fn take_pending(&self) -> Vec<Progress> {
        lock(&self.pending).drain().map(|(_, p)| p).collect()
    }

    fn failed(&self, what: &str, err: impl std::fmt::Display) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let text = format!("{what}: {err}");
        tracing::warn!(error = %text, "Redis");
        *lock(&self.last_error) = Some(text);
    }

    async fn write(&self, conn: &mut MultiplexedConnection, p: &Progress) -> Result<(), String> {
        let json = serde_json::to_string(p).map_err(|e| e.to_string())?;
        let ttl = if p.is_terminal() {
            self.finished_ttl_s
        } else {
            self.running_ttl_s
        };
        let mut call = self.script.key(self.key(&p.process_id));
        call.key(&self.channel).arg(p.seq).arg(json).arg(ttl);
        match tokio::time::timeout(OP_TIMEOUT, call.invoke_async::<i64>(conn)).await {
            Ok(Ok(_)) => {
                self.written.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(err)) => Err(err.to_string()),
            Err(_) => Err("timed out".to_owned()),
        }
    }
}

async fn connect(client: &Client) -> Result<MultiplexedConnection, String> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(OP_TIMEOUT))
        .set_response_timeout(Some(OP_TIMEOUT));
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .map_err(|e| e.to_string())
}

/// The state stored at `key`: `Ok(None)` when there is none (or it is
/// unreadable), `Err` when Redis did not answer.
async fn read_state(
    conn: &mut MultiplexedConnection,
    key: &str,
) -> redis::RedisResult<Option<Progress>> {
    let json: Option<String> = redis::cmd("HGET")
        .arg(key)
        .arg("json")
        .query_async(conn)
        .await?;
    Ok(json.and_then(|j| serde_json::from_str(&j).ok()))
}

/// Jittered exponential backoff.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Self(BACKOFF_MIN)
    }

    async fn wait(&mut self) {
        let jitter = rand::random_range(0.5..1.0);
        tokio::time::sleep(self.0.mul_f64(jitter)).await;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
    }
}

/// Drains the pending states into Redis, reconnecting as needed. Ends when
/// the store is gone.
async fn write_loop(inner: Arc<Inner>, client: Client, store: Weak<JobStore>) {
    let mut backoff = Backoff::new();
    loop {
        if store.strong_count() == 0 {
            return;
        }
        let conn = match connect(&client).await {
            Ok(conn) => conn,
            Err(err) => {
                inner.failed("connect", err);
                backoff.wait().await;
                continue;
            }
        };
        backoff = Backoff::new();
        inner.connects.fetch_add(1, Ordering::Relaxed);
        *lock(&inner.reader) = Some(conn.clone());
        inner.writer_up.store(true, Ordering::Relaxed);
        tracing::info!("Redis writer connected");
        // Redis may have restarted empty: write every job of ours again
        // (the script keeps whatever is newer).
        match store.upgrade() {
            Some(store) => store.owned().into_iter().for_each(|p| inner.queue(p)),
            None => return,
        }
        let err = loop {
            let batch = inner.take_pending();
            if inner.reader_broken.swap(false, Ordering::Relaxed) {
                break "a lookup failed".to_owned();
            }
            if batch.is_empty() {
                tokio::select! {
                    () = inner.wake.notified() => {}
                    () = tokio::time::sleep(IDLE_PING) => {
                        if store.strong_count() == 0 {
                            return;
                        }
                        // An idle connection learns that Redis went away
                        // only by using it.
                        let mut pinged = conn.clone();
                        let ping = redis::cmd("PING");
                        match tokio::time::timeout(OP_TIMEOUT, ping.query_async::<String>(&mut pinged)).await {
                            Ok(Ok(_)) => {}
                            Ok(Err(err)) => break err.to_string(),
                            Err(_) => break "ping timed out".to_owned(),
                        }
                    }
                }
                continue;
            }
            let writes = batch.iter().map(|p| {
                let mut conn = conn.clone();
                let inner = &inner;
                async move { inner.write(&mut conn, p).await }
            });
            let results = futures_util::future::join_all(writes).await;
            if let Some(Err(err)) = results.iter().find(|r| r.is_err()) {
                let err = err.clone();
                // Keep them for the next connection (newer states win).
                batch.into_iter().for_each(|p| inner.queue(p));
                break err;
            }
        };
        inner.writer_up.store(false, Ordering::Relaxed);
        *lock(&inner.reader) = None;
        inner.failed("write", err);
        backoff.wait().await;
    }
}

/// Copies other instances' states into the store, resubscribing as needed.
/// Ends when the store is gone.
async fn follow_loop(inner: Arc<Inner>, client: Client, store: Weak<JobStore>) {
    let mut backoff = Backoff::new();
    loop {
        if store.strong_count() == 0 {
            return;
        }
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await.map_err(|e| e.to_string())?;
            pubsub
                .subscribe(&inner.channel)
                .await
                .map_err(|e| e.to_string())?;
            let reads = connect(&client).await?;
            Ok::<_, String>((pubsub, reads))
        };
        let (pubsub, mut reads) = match tokio::time::timeout(OP_TIMEOUT, subscribed).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(err)) => {
                inner.failed("subscribe", err);
                backoff.wait().await;
                continue;
            }
            Err(_) => {
                inner.failed("subscribe", "timed out");
                backoff.wait().await;
                continue;
            }
        };
        backoff = Backoff::new();
        inner.subscribed.store(true, Ordering::Relaxed);
        tracing::info!(channel = %inner.channel, "Redis subscription up");
        // Subscribed first, then read what was missed meanwhile: a state
        // published in between arrives on the channel, and either copy is
        // kept only if newer than what the store holds.
        let Some(ids) = store.upgrade().map(|s| s.followed_elsewhere()) else {
            return;
        };
        for id in ids {
            let key = inner.key(&id);
            let found = tokio::time::timeout(OP_TIMEOUT, read_state(&mut reads, &key)).await;
            if let (Ok(Ok(Some(p))), Some(store)) = (found, store.upgrade()) {
                store.apply_remote(p, false);
            }
        }
        drop(reads);
        let mut messages = pubsub.into_on_message();
        loop {
            tokio::select! {
                msg = messages.next() => {
                    let Some(msg) = msg else { break };
                    let Some(store) = store.upgrade() else { return };
                    match serde_json::from_slice::<Progress>(msg.get_payload_bytes()) {
                        Ok(p) => {
                            store.apply_remote(p, false);
                        }
                        Err(err) => tracing::debug!(%err, "unreadable state on the Redis channel"),
                    }
                }
                () = tokio::time::sleep(ALIVE_CHECK) => {
                    if store.strong_count() == 0 {
                        return;
                    }
                }
            }
        }
        inner.subscribed.store(false, Ordering::Relaxed);
        inner.failed("subscription", "connection lost");
        backoff.wait().await;
    }
}
