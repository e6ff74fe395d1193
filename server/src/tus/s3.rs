//! Upload bytes in an S3-compatible object store (cargo feature `s3`,
//! through the `object_store` crate), for instances that share no disk.
//!
//! S3 cannot append, so an upload is a chain of part objects
//! `{prefix}{id}/{offset:020}`: a `PATCH` buffers what arrives and stores
//! it as one part (or several, `PART_BYTES` each) before the offset moves.
//! Only stored parts are acknowledged, so an instance killed mid-`PATCH`
//! loses nothing it acknowledged. Reading follows the chain from offset 0
//! (each part's offset plus its size names the next), which skips a part an
//! instance stored but never acknowledged before another overwrote that
//! stretch.

use std::sync::Arc;

use axum::body::Bytes;
use futures_util::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload};

/// Bytes buffered before a part is stored mid-`PATCH`.
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// Where the bytes go, in an S3-compatible store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// E.g. `http://127.0.0.1:9000` (any S3-compatible server) or
    /// `https://s3.eu-west-1.amazonaws.com`.
    pub endpoint: String,
    /// The bucket (it must exist).
    pub bucket: String,
    /// Key prefix of the uploads, e.g. `uploads/`.
    pub prefix: String,
    /// Region (`us-east-1` for most S3-compatible servers).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

/// The uploads' parts in one bucket.
#[derive(Debug, Clone)]
pub struct S3Data {
    store: Arc<dyn ObjectStore>,
    prefix: String,
}

impl S3Data {
    /// A client for `settings` (plain `http://` endpoints allowed).
    pub fn open(settings: &S3Settings) -> std::io::Result<Self> {
        let store = AmazonS3Builder::new()
            .with_endpoint(&settings.endpoint)
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(&settings.secret_access_key)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(std::io::Error::other)?;
        Ok(Self {
            store: Arc::new(store),
            prefix: settings.prefix.clone(),
        })
    }

    fn folder(&self, id: &str) -> Path {
        Path::from(format!("{}{id}", self.prefix))
    }

    fn part(&self, id: &str, offset: u64) -> Path {
        Path::from(format!("{}{id}/{offset:020}", self.prefix))
    }

    /// Stores `bytes` as the part at `offset`.
    pub async fn put(&self, id: &str, offset: u64, bytes: Vec<u8>) -> std::io::Result<()> {
        self.store
            .put(&self.part(id, offset), PutPayload::from(bytes))
            .await
            .map(|_| ())
            .map_err(std::io::Error::other)
    }

    /// The parts of upload `id`: `(offset, size, location)`, by offset.
    async fn parts(&self, id: &str) -> std::io::Result<Vec<(u64, u64, Path)>> {
        let mut listed = self.store.list(Some(&self.folder(id)));
        let mut parts = Vec::new();
        while let Some(meta) = listed.next().await {
            let meta = meta.map_err(std::io::Error::other)?;
            let offset = meta
                .location
                .filename()
                .and_then(|name| name.parse::<u64>().ok());
            if let Some(offset) = offset {
                parts.push((offset, meta.size, meta.location));
            }
        }
        parts.sort_by_key(|(offset, _, _)| *offset);
        Ok(parts)
    }

    /// The first `len` bytes of upload `id`, following its chain of parts.
    pub async fn read(&self, id: &str, len: u64) -> std::io::Result<Bytes> {
        let parts = self.parts(id).await?;
        let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        let mut at = 0u64;
        while at < len {
            let Some((_, size, location)) = parts.iter().find(|(o, s, _)| *o == at && *s > 0)
            else {
                return Err(std::io::Error::other(format!(
                    "upload {id} has no stored part at offset {at}"
                )));
            };
            let bytes = self
                .store
                .get(location)
                .await
                .map_err(std::io::Error::other)?
                .bytes()
                .await
                .map_err(std::io::Error::other)?;
            out.extend_from_slice(&bytes);
            at += size;
        }
        out.truncate(usize::try_from(len).unwrap_or(usize::MAX));
        Ok(Bytes::from(out))
    }

    /// Removes every part of upload `id` at or after `from`.
    pub async fn remove_from(&self, id: &str, from: u64) -> std::io::Result<()> {
        for (offset, _, location) in self.parts(id).await? {
            if offset >= from {
                self.store
                    .delete(&location)
                    .await
                    .map_err(std::io::Error::other)?;
            }
        }
        Ok(())
    }
}
