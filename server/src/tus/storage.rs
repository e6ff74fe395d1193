//! Upload bytes on disk: one file per upload in a directory, a cap on the
//! bytes all unfinished uploads may claim, and expiry of abandoned ones.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use upload_progress_core::ProcessId;

use super::TusConfig;

/// How many expired ids are remembered (to answer 410 instead of 404).
const REMEMBER_EXPIRED: usize = 10_000;

/// Why an upload cannot be created.
#[derive(Debug, PartialEq, Eq)]
pub enum CreateError {
    /// Longer than `max_size`.
    TooLarge,
    /// The unfinished uploads already claim the whole cap.
    Full,
    /// The file could not be created.
    Io,
}

/// Why an upload cannot be found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// Never existed, or was deleted.
    Unknown,
    /// Abandoned and removed.
    Expired,
    /// The shared upload info (Redis) did not answer.
    Unavailable,
}

/// Why a `PATCH` cannot start.
#[derive(Debug, PartialEq, Eq)]
pub enum PatchError {
    /// See [`Missing`].
    Missing(Missing),
    /// The client's offset is not the server's (which is given).
    Conflict(u64),
    /// Another `PATCH` of the same upload is still running.
    Busy,
}

/// What the server knows of one upload.
#[derive(Debug, Clone)]
pub struct Info {
    /// Declared length.
    pub len: u64,
    /// Bytes stored.
    pub offset: u64,
    /// `Upload-Metadata` as sent.
    pub raw_metadata: Option<String>,
    /// The job started for it.
    pub process_id: ProcessId,
}

#[derive(Debug)]
struct Entry {
    info: Info,
    touched: Instant,
    busy: bool,
}

#[derive(Debug, Default)]
struct Inner {
    uploads: HashMap<String, Entry>,
    /// When the shared directory was last swept.
    last_file_sweep: Option<Instant>,
    expired: HashSet<String>,
    expired_order: VecDeque<String>,
}

/// The uploads of one server: their bytes in a directory, their info and
/// locks in this process, or in Redis to share them with other instances
/// (see `shared`).
#[derive(Debug)]
pub struct Storage {
    #[cfg(feature = "redis")]
    shared: Option<super::shared::SharedUploads>,
    /// The bytes in an S3-compatible store instead of `dir`.
    #[cfg(feature = "s3")]
    s3: Option<super::s3::S3Data>,
    dir: PathBuf,
    max_size: u64,
    max_total: u64,
    expiry: Duration,
    body_idle_timeout: Duration,
    inner: Mutex<Inner>,
}

impl Storage {
    /// Storage in `config.dir`, created if missing; info and locks in
    /// this process.
    pub fn open(config: &TusConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(&config.dir)?;
        Ok(Self {
            #[cfg(feature = "redis")]
            shared: None,
            #[cfg(feature = "s3")]
            s3: config
                .s3
                .as_ref()
                .map(super::s3::S3Data::open)
                .transpose()?,
            dir: config.dir.clone(),
            max_size: config.max_size,
            max_total: config.max_total_bytes,
            expiry: config.expiry,
            body_idle_timeout: config.body_idle_timeout,
            inner: Mutex::default(),
        })
    }

    /// Storage in `config.dir` (a directory every instance shares), info
    /// and locks in the Redis at `url` under `prefix`.
    #[cfg(feature = "redis")]
    pub fn open_shared(config: &TusConfig, url: &str, prefix: &str) -> std::io::Result<Self> {
        // The lock outlives the longest silence a live `PATCH` may keep
        // (its body idle timeout) with some slack; a killed instance's
        // lock lapses that long after its last stored chunk.
        let lease = config.body_idle_timeout + config.body_idle_timeout.min(Duration::from_secs(5));
        let shared = super::shared::SharedUploads::new(url, prefix, config.expiry, lease)
            .map_err(std::io::Error::other)?;
        let mut storage = Self::open(config)?;
        storage.shared = Some(shared);
        Ok(storage)
    }

    /// The S3-compatible store holding the bytes, if they are not in the
    /// directory.
    #[cfg(feature = "s3")]
    pub fn s3(&self) -> Option<&super::s3::S3Data> {
        self.s3.as_ref()
    }

    fn bytes_in_dir(&self) -> bool {
        #[cfg(feature = "s3")]
        return self.s3.is_none();
        #[cfg(not(feature = "s3"))]
        true
    }

    /// Creates the empty file of a new upload (nothing to do in S3).
    fn create_file(&self, id: &str) -> Result<(), CreateError> {
        if self.bytes_in_dir() {
            std::fs::File::create(Self::path(&self.dir, id)).map_err(|_| CreateError::Io)?;
        }
        Ok(())
    }

    /// Removes the bytes of upload `id`.
    async fn remove_bytes(&self, id: &str) {
        #[cfg(feature = "s3")]
        if let Some(s3) = &self.s3 {
            if let Err(err) = s3.remove_from(id, 0).await {
                tracing::warn!(%err, "cannot remove an upload's parts");
            }
            return;
        }
        let _ = std::fs::remove_file(Self::path(&self.dir, id));
    }

    /// True when uploads are shared with other instances.
    pub fn is_shared(&self) -> bool {
        #[cfg(feature = "redis")]
        return self.shared.is_some();
        #[cfg(not(feature = "redis"))]
        false
    }

    /// How long a `PATCH` body may send nothing.
    pub fn body_idle_timeout(&self) -> Duration {
        self.body_idle_timeout
    }

    /// Largest upload accepted (`Tus-Max-Size`).
    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn path(dir: &Path, id: &str) -> PathBuf {
        dir.join(format!("{id}.part"))
    }

    /// Removes uploads untouched for longer than the expiry, and returns
    /// the jobs of those that never completed.
    pub fn sweep(&self) -> Vec<ProcessId> {
        if self.is_shared() {
            // Redis lets abandoned uploads' info lapse by itself; their
            // bytes go here.
            self.sweep_shared_files();
            return Vec::new();
        }
        let now = Instant::now();
        let mut inner = self.lock();
        let old: Vec<String> = inner
            .uploads
            .iter()
            .filter(|(_, e)| !e.busy && now.duration_since(e.touched) > self.expiry)
            .map(|(id, _)| id.clone())
            .collect();
        let mut abandoned = Vec::new();
        for id in old {
            if let Some(entry) = inner.uploads.remove(&id) {
                if entry.info.offset < entry.info.len {
                    abandoned.push(entry.info.process_id);
                }
                let _ = std::fs::remove_file(Self::path(&self.dir, &id));
                inner.expired.insert(id.clone());
                inner.expired_order.push_back(id);
            }
        }
        while inner.expired_order.len() > REMEMBER_EXPIRED {
            if let Some(id) = inner.expired_order.pop_front() {
                inner.expired.remove(&id);
            }
        }
        abandoned
    }

    /// Removes upload files untouched for longer than the expiry (shared
    /// mode: their info has lapsed in Redis by then). The directory is
    /// read at most once a minute, however many requests ask.
    fn sweep_shared_files(&self) {
        {
            let mut inner = self.lock();
            let now = Instant::now();
            if inner
                .last_file_sweep
                .is_some_and(|at| now.duration_since(at) < Duration::from_secs(60))
            {
                return;
            }
            inner.last_file_sweep = Some(now);
        }
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > self.expiry + Duration::from_secs(60));
            let ours = entry.path().extension().is_some_and(|e| e == "part");
            if old && ours {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Creates an empty upload of `len` bytes for the job `process_id`.
    pub async fn create(
        &self,
        len: u64,
        raw_metadata: Option<String>,
        process_id: ProcessId,
    ) -> Result<String, CreateError> {
        if len > self.max_size {
            return Err(CreateError::TooLarge);
        }
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let id = format!("{:032x}", rand::random::<u128>());
            self.create_file(&id)?;
            let info = Info {
                len,
                offset: 0,
                raw_metadata,
                process_id,
            };
            if shared.create(&id, &info).await.is_err() {
                self.remove_bytes(&id).await;
                return Err(CreateError::Io);
            }
            return Ok(id);
        }
        let mut inner = self.lock();
        let claimed: u64 = inner
            .uploads
            .values()
            .filter(|e| e.info.offset < e.info.len)
            .map(|e| e.info.len)
            .sum();
        if claimed.saturating_add(len) > self.max_total {
            return Err(CreateError::Full);
        }
        let id = format!("{:032x}", rand::random::<u128>());
        self.create_file(&id)?;
        inner.uploads.insert(
            id.clone(),
            Entry {
                info: Info {
                    len,
                    offset: 0,
                    raw_metadata,
                    process_id,
                },
                touched: Instant::now(),
                busy: false,
            },
        );
        Ok(id)
    }

    /// What is known of upload `id`.
    pub async fn info(&self, id: &str) -> Result<Info, Missing> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            return shared.info(id).await;
        }
        let inner = self.lock();
        match inner.uploads.get(id) {
            Some(entry) => Ok(entry.info.clone()),
            None if inner.expired.contains(id) => Err(Missing::Expired),
            None => Err(Missing::Unknown),
        }
    }

    /// Starts a `PATCH` at `offset`; only one runs per upload at a time
    /// (across instances, when shared).
    pub async fn begin(self: &Arc<Self>, id: &str, offset: u64) -> Result<Writer, PatchError> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let (token, len) = shared.begin(id, offset).await?;
            return Ok(Writer {
                storage: Arc::clone(self),
                id: id.to_owned(),
                start: offset,
                offset,
                len,
                file: None,
                lock: Some(token),
                #[cfg(feature = "s3")]
                buffer: Vec::new(),
            });
        }
        let mut inner = self.lock();
        let expired = inner.expired.contains(id);
        let Some(entry) = inner.uploads.get_mut(id) else {
            return Err(PatchError::Missing(if expired {
                Missing::Expired
            } else {
                Missing::Unknown
            }));
        };
        if entry.busy {
            return Err(PatchError::Busy);
        }
        if entry.info.offset != offset {
            return Err(PatchError::Conflict(entry.info.offset));
        }
        entry.busy = true;
        entry.touched = Instant::now();
        Ok(Writer {
            storage: Arc::clone(self),
            id: id.to_owned(),
            start: offset,
            offset,
            len: entry.info.len,
            file: None,
            #[cfg(feature = "redis")]
            lock: None,
            #[cfg(feature = "s3")]
            buffer: Vec::new(),
        })
    }

    /// Forgets upload `id` and removes its bytes; its info when it existed.
    pub async fn delete(&self, id: &str) -> Result<Info, Missing> {
        #[cfg(feature = "redis")]
        if let Some(shared) = &self.shared {
            let info = shared.delete(id).await?;
            self.remove_bytes(id).await;
            return Ok(info);
        }
        let removed = {
            let mut inner = self.lock();
            match inner.uploads.remove(id) {
                Some(entry) => Ok(entry.info),
                None if inner.expired.contains(id) => Err(Missing::Expired),
                None => Err(Missing::Unknown),
            }
        };
        if removed.is_ok() {
            self.remove_bytes(id).await;
        }
        removed
    }

    /// Where the bytes of upload `id` are. Once complete they belong to
    /// the upload handler, which removes them; the upload stays known,
    /// complete, until it expires.
    pub fn file_path(&self, id: &str) -> PathBuf {
        Self::path(&self.dir, id)
    }

    fn record(&self, id: &str, offset: u64, done: bool) {
        if let Some(entry) = self.lock().uploads.get_mut(id) {
            entry.info.offset = offset;
            entry.touched = Instant::now();
            if done {
                entry.busy = false;
            }
        }
    }
}

/// Writes one `PATCH` body. Each chunk is on disk before it counts, so a
/// cut connection keeps every byte that arrived.
#[derive(Debug)]
pub struct Writer {
    storage: Arc<Storage>,
    id: String,
    start: u64,
    offset: u64,
    len: u64,
    file: Option<tokio::fs::File>,
    /// The token of the upload's lock in Redis (shared uploads only).
    #[cfg(feature = "redis")]
    lock: Option<String>,
    /// Bytes past `offset` not stored yet (S3 only: stored as one part).
    #[cfg(feature = "s3")]
    buffer: Vec<u8>,
}

impl Writer {
    /// Records the offset now stored: in Redis while the lock is still
    /// ours (an error when it is not: the writer must stop), else here.
    async fn record(&self, offset: u64) -> Result<(), WriteError> {
        #[cfg(feature = "redis")]
        if let (Some(shared), Some(token)) = (&self.storage.shared, &self.lock) {
            return if shared.advance(&self.id, token, offset).await {
                Ok(())
            } else {
                Err(WriteError::Io(std::io::Error::other(
                    "the upload's lock lapsed or Redis did not answer",
                )))
            };
        }
        self.storage.record(&self.id, offset, false);
        Ok(())
    }

    /// Bytes stored before this `PATCH`.
    pub fn start(&self) -> u64 {
        self.start
    }

    /// The upload's declared length.
    pub fn upload_len(&self) -> u64 {
        self.len
    }

    /// Appends `bytes`; refuses (writing nothing of them) past the length.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        if bytes.is_empty() {
            return Ok(());
        }
        if self
            .offset
            .saturating_add(self.buffered() + bytes.len() as u64)
            > self.len
        {
            return Err(WriteError::PastLength);
        }
        #[cfg(feature = "s3")]
        if self.storage.s3.is_some() {
            self.buffer.extend_from_slice(bytes);
            if self.buffer.len() >= super::s3::PART_BYTES {
                self.flush().await?;
            }
            return Ok(());
        }
        if self.file.is_none() {
            let mut file = tokio::fs::OpenOptions::new()
                .write(true)
                .open(Storage::path(&self.storage.dir, &self.id))
                .await
                .map_err(WriteError::Io)?;
            file.seek(std::io::SeekFrom::Start(self.offset))
                .await
                .map_err(WriteError::Io)?;
            self.file = Some(file);
        }
        if let Some(file) = self.file.as_mut() {
            file.write_all(bytes).await.map_err(WriteError::Io)?;
            file.flush().await.map_err(WriteError::Io)?;
        }
        self.record(self.offset + bytes.len() as u64).await?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    /// Bytes received but not stored yet.
    fn buffered(&self) -> u64 {
        #[cfg(feature = "s3")]
        return self.buffer.len() as u64;
        #[cfg(not(feature = "s3"))]
        0
    }

    /// Stores what is buffered (S3: as one part) and records the offset;
    /// nothing to do for the directory, where every chunk is stored as it
    /// comes. Call it once the body ended, cut or not: what arrived counts.
    pub async fn flush(&mut self) -> Result<(), WriteError> {
        #[cfg(feature = "s3")]
        if let Some(s3) = &self.storage.s3 {
            if self.buffer.is_empty() {
                return Ok(());
            }
            let part = std::mem::take(&mut self.buffer);
            let stored = self.offset + part.len() as u64;
            s3.put(&self.id, self.offset, part)
                .await
                .map_err(WriteError::Io)?;
            self.record(stored).await?;
            self.offset = stored;
        }
        Ok(())
    }

    /// Undoes every byte of this `PATCH` (the body went past the length).
    pub async fn roll_back(&mut self) {
        #[cfg(feature = "s3")]
        if let Some(s3) = &self.storage.s3 {
            self.buffer.clear();
            if let Err(err) = s3.remove_from(&self.id, self.start).await {
                tracing::warn!(%err, "cannot remove the parts of a rolled back PATCH");
            }
            self.offset = self.start;
            let _ = self.record(self.start).await;
            return;
        }
        self.file = None;
        if let Ok(file) = tokio::fs::OpenOptions::new()
            .write(true)
            .open(Storage::path(&self.storage.dir, &self.id))
            .await
        {
            let _ = file.set_len(self.start).await;
        }
        self.offset = self.start;
        let _ = self.record(self.start).await;
    }

    /// Bytes stored now.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Ends the `PATCH`: the upload is free for the next one as soon as
    /// this returns (a shared upload's lock is released, not left to a
    /// background task the client's next request could overtake).
    #[cfg_attr(not(feature = "redis"), allow(unused_mut))]
    pub async fn finish(mut self) {
        #[cfg(feature = "redis")]
        if let (Some(shared), Some(token)) = (&self.storage.shared, self.lock.take()) {
            shared.release(&self.id, &token).await;
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        #[cfg(feature = "redis")]
        if let Some(token) = self.lock.take() {
            // Let go of the lock in Redis; it lapses by itself otherwise.
            let (storage, id) = (Arc::clone(&self.storage), self.id.clone());
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                runtime.spawn(async move {
                    if let Some(shared) = &storage.shared {
                        shared.release(&id, &token).await;
                    }
                });
            }
            return;
        }
        self.storage.record(&self.id, self.offset, true);
    }
}

/// Why a chunk was not written.
#[derive(Debug)]
pub enum WriteError {
    /// It would go past `Upload-Length`.
    PastLength,
    /// The disk said no.
    Io(std::io::Error),
}
