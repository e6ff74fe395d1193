//! Resumable uploads over tus 1.0.0: the core protocol plus the creation
//! and termination extensions, at `/api/uploads/tus`.
//!
//! Each upload gets a job at creation (`Upload-Process-Id` in the 201, and
//! `Upload-Token` when tokens are required). The job is `pending`, with the
//! upload handler's stages, while bytes arrive; once the last byte is
//! stored the application's handler gets the upload and the job's writer
//! (see [`crate::upload_hook`]), so a client can follow it from the start.
//!
//! - `headers`: version check, numbers and `Upload-Metadata`;
//! - `storage`: the bytes on disk, the size cap and expiry;
//! - `handlers`: the endpoints.

pub mod handlers;
pub mod headers;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(feature = "redis")]
pub mod shared;
pub mod storage;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::{from_fn_with_state, map_response, Next};
use axum::response::Response;
use axum::routing::{head, post};
use axum::{Extension, Router};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::origin::OriginPolicy;
use crate::state::Shared;

/// Settings of the tus endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TusConfig {
    /// Where unfinished uploads are stored (created if missing).
    pub dir: PathBuf,
    /// Largest upload (`Tus-Max-Size`); larger ones get 413. Default 1 GiB.
    pub max_size: u64,
    /// Most bytes all unfinished uploads may claim together; a creation
    /// beyond it gets 507. Default 4 GiB.
    pub max_total_bytes: u64,
    /// An upload untouched this long is removed (then 410) and its job
    /// fails. Default 1 hour.
    pub expiry: Duration,
    /// A `PATCH` body that sends nothing for this long is treated as cut:
    /// what arrived stays and the upload is free for the next `PATCH`.
    /// Default 30 s.
    pub body_idle_timeout: Duration,
    /// Keep the bytes in an S3-compatible store instead of `dir` (cargo
    /// feature `s3`). Default: none, the bytes live in `dir`.
    #[cfg(feature = "s3")]
    pub s3: Option<s3::S3Settings>,
}

impl TusConfig {
    /// Defaults, storing in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            max_size: 1024 * 1024 * 1024,
            max_total_bytes: 4 * 1024 * 1024 * 1024,
            expiry: Duration::from_secs(3600),
            body_idle_timeout: Duration::from_secs(30),
            #[cfg(feature = "s3")]
            s3: None,
        }
    }

    /// Defaults, storing in `upload-progress-tus` under the system's temp directory.
    pub fn in_temp_dir() -> Self {
        Self::new(std::env::temp_dir().join("upload-progress-tus"))
    }
}

/// The tus routes, to merge into the API router. Abandoned uploads are
/// swept in the background too (inside a Tokio runtime), not only when
/// requests come.
pub fn routes(state: &Shared, config: &TusConfig) -> std::io::Result<Router<Shared>> {
    let storage = Arc::new(open_storage(state, config)?);
    let _ = state.tus_storage.set(Arc::clone(&storage));
    spawn_sweeper(state, &storage, config.expiry);
    let item = format!("{}/{{id}}", handlers::BASE);
    Ok(Router::new()
        .route(handlers::BASE, post(handlers::create))
        .route(
            &item,
            head(handlers::head)
                .patch(handlers::patch)
                .delete(handlers::delete),
        )
        .layer(map_response(resumable))
        .layer(from_fn_with_state(Arc::clone(state), count_in_flight))
        .layer(Extension(storage)))
}

/// Counts the request as in flight while it is served (`/ws/stats`'s
/// `uploads`), so a test can check how many uploads a page sends at once.
async fn count_in_flight(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let _counted = state.stats.tus.begin();
    next.run(request).await
}

/// The uploads' storage: shared through Redis when the jobs are.
fn open_storage(state: &Shared, config: &TusConfig) -> std::io::Result<storage::Storage> {
    #[cfg(feature = "redis")]
    if let Some(url) = &state.config.redis_url {
        return storage::Storage::open_shared(config, url, &state.config.redis_prefix);
    }
    let _ = state;
    storage::Storage::open(config)
}

fn spawn_sweeper(state: &Shared, storage: &Arc<storage::Storage>, expiry: Duration) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let every = (expiry / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    let (state, storage) = (Arc::downgrade(state), Arc::downgrade(storage));
    runtime.spawn(async move {
        let mut ticker = tokio::time::interval(every);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            // Stop once the server is gone.
            let (Some(state), Some(storage)) = (state.upgrade(), storage.upgrade()) else {
                return;
            };
            handlers::sweep(&state, &storage).await;
        }
    });
}

/// Answers a plain `OPTIONS` (not a CORS preflight) on the tus paths with
/// what the server speaks; everything else passes through.
pub async fn discovery(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let tus_path = request.uri().path() == handlers::BASE
        || request
            .uri()
            .path()
            .strip_prefix(handlers::BASE)
            .is_some_and(|rest| rest.starts_with('/'));
    let preflight = request
        .headers()
        .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    match &state.config.tus {
        Some(tus) if tus_path && request.method() == Method::OPTIONS && !preflight => {
            let mut response = handlers::options_for(tus.max_size);
            response.headers_mut().insert(
                headers::TUS_RESUMABLE,
                HeaderValue::from_static(headers::VERSION),
            );
            response
        }
        _ => next.run(request).await,
    }
}

/// Every tus answer says which version it speaks.
async fn resumable(mut response: Response) -> Response {
    response.headers_mut().insert(
        headers::TUS_RESUMABLE,
        HeaderValue::from_static(headers::VERSION),
    );
    response
}

/// CORS for allowed origins with the tus methods and headers added to the
/// progress endpoints' (the tus answers' headers readable by scripts).
pub fn cors_layer(origins: &Arc<OriginPolicy>) -> CorsLayer {
    let policy = Arc::clone(origins);
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| policy.allows(o))
        }))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::HEAD,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            headers::TUS_RESUMABLE,
            headers::UPLOAD_LENGTH,
            headers::UPLOAD_OFFSET,
            headers::UPLOAD_METADATA,
            headers::UPLOAD_DEFER_LENGTH,
        ])
        .expose_headers([
            header::ETAG,
            header::LOCATION,
            headers::UPLOAD_OFFSET,
            headers::UPLOAD_LENGTH,
            headers::UPLOAD_METADATA,
            headers::TUS_RESUMABLE,
            headers::TUS_VERSION,
            headers::TUS_EXTENSION,
            headers::TUS_MAX_SIZE,
            headers::UPLOAD_PROCESS_ID,
            headers::UPLOAD_TOKEN,
        ])
}
