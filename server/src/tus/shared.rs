//! Upload info and a lock per upload in Redis, so that every instance on
//! it serves every upload (cargo feature `redis`): a `PATCH` cut on one
//! instance resumes on another from the offset Redis holds, and two
//! instances never write one upload at once (the second gets 423).
//!
//! Keys, under the server's Redis prefix:
//! - `tus:{id}`: hash `len`, `offset`, `pid`, `meta` (when sent); it lives
//!   `expiry` after its last touch;
//! - `tus:{id}:lock`: the token of the instance writing it; a lease of
//!   `body_idle_timeout` plus slack, renewed with every stored chunk, so a
//!   killed instance's lock lapses by itself;
//! - `tus:{id}:known`: that the upload existed; it outlives `tus:{id}` by
//!   [`REMEMBER_EXPIRED`], so a client coming back after its upload lapsed
//!   learns that it expired (410) rather than that it never was (404).
//!   Removed with the upload when a client terminates it.
//!
//! The bytes live in the upload directory, which the instances share (a
//! shared volume): an offset in Redis is only advanced after its bytes are
//! flushed there, so whatever an instance acknowledged survives it.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};
use upload_progress_core::ProcessId;

use super::storage::{Info, Missing, PatchError};

/// Longest wait for one Redis operation.
const OP_TIMEOUT: Duration = Duration::from_secs(2);

/// How long an upload is remembered after its info lapsed.
pub const REMEMBER_EXPIRED: Duration = Duration::from_secs(24 * 60 * 60);

/// Takes the lock and checks the offset in one step. Answers
/// `{0, offset, len}` taken, `{1, offset, len}` wrong offset (lock not
/// taken), `{2, 0, 0}` held by another writer, `{3, 0, 0}` no such upload,
/// `{4, 0, 0}` an upload that lapsed.
const BEGIN: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then return {4, 0, 0} end
  return {3, 0, 0}
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {2, 0, 0} end
local offset = tonumber(redis.call('HGET', KEYS[1], 'offset'))
local len = tonumber(redis.call('HGET', KEYS[1], 'len'))
if offset ~= tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[2])
  return {1, offset, len}
end
return {0, offset, len}
";

/// Records an offset while the lock is ours, renewing both leases and
/// the memory of the upload; 0 when the lock is gone (it lapsed, or
/// another writer has it now).
const ADVANCE: &str = r"
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('HSET', KEYS[1], 'offset', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[3], ARGV[5])
return 1
";

/// Lets go of the lock if it is still ours.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// Redis said nothing usable in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unreachable;

/// The uploads' info and locks in Redis.
pub struct SharedUploads {
    client: Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    prefix: String,
    expiry: Duration,
    lease: Duration,
    begin: Script,
    advance: Script,
    release: Script,
}

impl std::fmt::Debug for SharedUploads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedUploads")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SharedUploads {
    /// Uploads on the Redis at `url`, keys under `prefix`.
    pub fn new(url: &str, prefix: &str, expiry: Duration, lease: Duration) -> Result<Self, String> {
        Ok(Self {
            client: Client::open(url).map_err(|e| e.to_string())?,
            conn: tokio::sync::Mutex::new(None),
            prefix: format!("{prefix}tus:"),
            expiry,
            lease,
            begin: Script::new(BEGIN),
            advance: Script::new(ADVANCE),
            release: Script::new(RELEASE),
        })
    }

    fn info_key(&self, id: &str) -> String {
        format!("{}{id}", self.prefix)
    }

    fn lock_key(&self, id: &str) -> String {
        format!("{}{id}:lock", self.prefix)
    }

    fn known_key(&self, id: &str) -> String {
        format!("{}{id}:known", self.prefix)
    }

    /// Lifetime of the `known` key: the upload's own, then some.
    fn known_ms(&self) -> u64 {
        ms(self.expiry.saturating_add(REMEMBER_EXPIRED))
    }

    /// A connection, opened again after a failure.
    async fn conn(&self) -> Result<MultiplexedConnection, Unreachable> {
        let mut held = self.conn.lock().await;
        if let Some(conn) = held.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(OP_TIMEOUT))
            .set_response_timeout(Some(OP_TIMEOUT));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await
            .map_err(|err| {
                tracing::warn!(%err, "cannot reach Redis for uploads");
                Unreachable
            })?;
        *held = Some(conn.clone());
        Ok(conn)
    }

    /// Forgets a broken connection.
    async fn broken(&self, err: &redis::RedisError) -> Unreachable {
        tracing::warn!(%err, "Redis failed an upload operation");
        *self.conn.lock().await = None;
        Unreachable
    }

    /// Records a new upload.
    pub async fn create(&self, id: &str, info: &Info) -> Result<(), Unreachable> {
        let mut conn = self.conn().await?;
        let key = self.info_key(id);
        let mut pipe = redis::pipe();
        pipe.atomic()
            .cmd("HSET")
            .arg(&key)
            .arg("len")
            .arg(info.len)
            .arg("offset")
            .arg(info.offset)
            .arg("pid")
            .arg(info.process_id.as_str())
            .ignore();
        if let Some(meta) = &info.raw_metadata {
            pipe.cmd("HSET").arg(&key).arg("meta").arg(meta).ignore();
        }
        pipe.cmd("PEXPIRE").arg(&key).arg(ms(self.expiry)).ignore();
        pipe.cmd("SET")
            .arg(self.known_key(id))
            .arg(1)
            .arg("PX")
            .arg(self.known_ms())
            .ignore();
        match pipe.query_async::<()>(&mut conn).await {
            Ok(()) => Ok(()),
            Err(err) => Err(self.broken(&err).await),
        }
    }

    /// What Redis holds of upload `id`.
    pub async fn info(&self, id: &str) -> Result<Info, Missing> {
        let mut conn = self.conn().await.map_err(|_| Missing::Unavailable)?;
        let answer: Result<(std::collections::HashMap<String, String>, bool), _> = redis::pipe()
            .cmd("HGETALL")
            .arg(self.info_key(id))
            .cmd("EXISTS")
            .arg(self.known_key(id))
            .query_async(&mut conn)
            .await;
        let (fields, known) = match answer {
            Ok(answer) => answer,
            Err(err) => {
                self.broken(&err).await;
                return Err(Missing::Unavailable);
            }
        };
        let number = |name: &str| fields.get(name).and_then(|v| v.parse::<u64>().ok());
        let pid = fields.get("pid").and_then(|p| ProcessId::parse(p).ok());
        match (number("len"), number("offset"), pid) {
            (Some(len), Some(offset), Some(process_id)) => Ok(Info {
                len,
                offset,
                raw_metadata: fields.get("meta").cloned(),
                process_id,
            }),
            // Lapsed after `expiry`, while still remembered.
            _ if known => Err(Missing::Expired),
            // Never created, terminated, or lapsed long ago.
            _ => Err(Missing::Unknown),
        }
    }

    /// Takes upload `id`'s lock for a `PATCH` at `offset`; the token to
    /// advance and release it with, and the upload's length.
    pub async fn begin(&self, id: &str, offset: u64) -> Result<(String, u64), PatchError> {
        let mut conn = self
            .conn()
            .await
            .map_err(|_| PatchError::Missing(Missing::Unavailable))?;
        let token = format!("{:032x}", rand::random::<u128>());
        let answer: Result<(u8, u64, u64), _> = self
            .begin
            .key(self.info_key(id))
            .key(self.lock_key(id))
            .key(self.known_key(id))
            .arg(offset)
            .arg(&token)
            .arg(ms(self.lease))
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok((0, _, len)) => Ok((token, len)),
            Ok((1, actual, _)) => Err(PatchError::Conflict(actual)),
            Ok((2, _, _)) => Err(PatchError::Busy),
            Ok((4, _, _)) => Err(PatchError::Missing(Missing::Expired)),
            Ok(_) => Err(PatchError::Missing(Missing::Unknown)),
            Err(err) => {
                self.broken(&err).await;
                Err(PatchError::Missing(Missing::Unavailable))
            }
        }
    }

    /// Records `offset` under the lock `token`; false when the lock is not
    /// ours any more (or Redis did not answer): the writer must stop.
    pub async fn advance(&self, id: &str, token: &str, offset: u64) -> bool {
        let Ok(mut conn) = self.conn().await else {
            return false;
        };
        let answer: Result<u8, _> = self
            .advance
            .key(self.info_key(id))
            .key(self.lock_key(id))
            .key(self.known_key(id))
            .arg(token)
            .arg(offset)
            .arg(ms(self.lease))
            .arg(ms(self.expiry))
            .arg(self.known_ms())
            .invoke_async(&mut conn)
            .await;
        match answer {
            Ok(held) => held == 1,
            Err(err) => {
                self.broken(&err).await;
                false
            }
        }
    }

    /// Lets go of the lock `token` (if it is still ours).
    pub async fn release(&self, id: &str, token: &str) {
        let Ok(mut conn) = self.conn().await else {
            return;
        };
        let answer: Result<u8, _> = self
            .release
            .key(self.lock_key(id))
            .arg(token)
            .invoke_async(&mut conn)
            .await;
        if let Err(err) = answer {
            self.broken(&err).await;
        }
    }

    /// Removes upload `id`; what it was.
    pub async fn delete(&self, id: &str) -> Result<Info, Missing> {
        let info = self.info(id).await?;
        let mut conn = self.conn().await.map_err(|_| Missing::Unavailable)?;
        let removed: Result<u64, _> = redis::cmd("DEL")
            .arg(self.info_key(id))
            .arg(self.lock_key(id))
            .arg(self.known_key(id))
            .query_async(&mut conn)
            .await;
        match removed {
            Ok(_) => Ok(info),
            Err(err) => {
                self.broken(&err).await;
                Err(Missing::Unavailable)
            }
        }
    }
}
