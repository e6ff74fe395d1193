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
    expired: HashSet<String>,
    expired_order: VecDeque<String>,
}

/// The uploads of one server.
#[derive(Debug)]
pub struct Storage {
    dir: PathBuf,
    max_size: u64,
    max_total: u64,
    expiry: Duration,
    body_idle_timeout: Duration,
    inner: Mutex<Inner>,
}

impl Storage {
    /// Storage in `config.dir`, created if missing.
    pub fn open(config: &TusConfig) -> std::io::Result<Self> {
        std::fs::create_dir_all(&config.dir)?;
        Ok(Self {
            dir: config.dir.clone(),
            max_size: config.max_size,
            max_total: config.max_total_bytes,
            expiry: config.expiry,
            body_idle_timeout: config.body_idle_timeout,
            inner: Mutex::default(),
        })
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

    /// Creates an empty upload of `len` bytes for the job `process_id`.
    pub fn create(
        &self,
        len: u64,
        raw_metadata: Option<String>,
        process_id: ProcessId,
    ) -> Result<String, CreateError> {
        if len > self.max_size {
            return Err(CreateError::TooLarge);
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
        std::fs::File::create(Self::path(&self.dir, &id)).map_err(|_| CreateError::Io)?;
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
    pub fn info(&self, id: &str) -> Result<Info, Missing> {
        let inner = self.lock();
        match inner.uploads.get(id) {
            Some(entry) => Ok(entry.info.clone()),
            None if inner.expired.contains(id) => Err(Missing::Expired),
            None => Err(Missing::Unknown),
        }
    }

    /// Starts a `PATCH` at `offset`; only one runs per upload at a time.
    pub fn begin(self: &Arc<Self>, id: &str, offset: u64) -> Result<Writer, PatchError> {
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
        })
    }

    /// Forgets upload `id` and removes its bytes; its info when it existed.
    pub fn delete(&self, id: &str) -> Result<Info, Missing> {
        let mut inner = self.lock();
        match inner.uploads.remove(id) {
            Some(entry) => {
                let _ = std::fs::remove_file(Self::path(&self.dir, id));
                Ok(entry.info)
            }
            None if inner.expired.contains(id) => Err(Missing::Expired),
            None => Err(Missing::Unknown),
        }
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
}

impl Writer {
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
        if self.offset.saturating_add(bytes.len() as u64) > self.len {
            return Err(WriteError::PastLength);
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
        self.offset += bytes.len() as u64;
        self.storage.record(&self.id, self.offset, false);
        Ok(())
    }

    /// Undoes every byte of this `PATCH` (the body went past the length).
    pub async fn roll_back(&mut self) {
        self.file = None;
        if let Ok(file) = tokio::fs::OpenOptions::new()
            .write(true)
            .open(Storage::path(&self.storage.dir, &self.id))
            .await
        {
            let _ = file.set_len(self.start).await;
        }
        self.offset = self.start;
        self.storage.record(&self.id, self.start, false);
    }

    /// Bytes stored now.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
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
