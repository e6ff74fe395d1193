//! The UploadProgressRobust wire protocol v1 for an axum application, and
//! (cargo feature `cli`) the demo server built on it.
//!
//! In an application: [`ProgressServer::builder`] configures the endpoints
//! (every setting documented with its default), [`ProgressServer::router`]
//! is merged into the app's router (it has no catch-all routes and no
//! fallback, so the app's own routes and 404 stay its own), and either
//! - [`ProgressServerBuilder::on_upload`] registers the app's processing of
//!   finished uploads (tus and multipart): the handler gets the upload and
//!   its job's [`JobHandle`] (see [`upload_hook`]); or
//! - [`Reporter::start`] gives any other pipeline of the app a
//!   [`JobHandle`], the only writer of its job.
//!
//! Serve with [`serve_with`] for peer addresses and the header read
//! timeout. See `examples/axum_app.rs`.
//!
//! Several instances can share their jobs through Redis (cargo feature
//! `redis`, on by default; `ProgressServerBuilder::redis_url`): see
//! [`backend`].
//!
//! Cargo feature `demo` adds the demo's surfaces (scripted test jobs, fault
//! injection, the cleanup and detailed-stats admin routes, the demo upload
//! pipeline): see [`demo`]. Feature `cli` builds the demo binary, which only
//! parses flags, registers the demo pipeline through
//! [`ProgressServerBuilder::on_upload`], adds its static files and 404s, and
//! serves. See the README for every endpoint, flag, close code and fault
//! mode.

pub mod auth;
pub mod backend;
pub mod builder;
mod cache;
pub mod clock;
pub mod config;
#[cfg(feature = "demo")]
pub mod demo;
pub mod error;
pub mod http;
pub mod limits;
pub mod listen;
pub mod origin;
pub mod reporter;
pub mod state;
pub mod stats;
pub mod store;
pub mod tus;
pub mod upload_hook;
pub mod ws;

use std::sync::Arc;
use std::time::Duration;
use upload_progress_core::protocol::WireErrorCode;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::trace::TraceLayer;

pub use builder::{ProgressServer, ProgressServerBuilder};
pub use config::{own_origins, Config};
pub use reporter::{JobHandle, ReportError, Reporter};
pub use state::ServerHandle;
pub use upload_hook::{Checksum, FinishedUpload, UploadHook};

use crate::error::ApiError;
use crate::origin::Refused;
use crate::state::{AppState, Shared};
use crate::stats::Counters;

/// How often finished jobs past their TTL are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The demo service for `config`: the protocol's endpoints with the demo
/// pipeline as the upload handler (what the demo binary serves, without its
/// static files and catch-all 404s).
///
/// Serve it with [`serve`] or [`serve_with`] (or any server that inserts
/// `ConnectInfo<SocketAddr>`): without peer addresses every client shares
/// one per-IP connection budget.
#[cfg(feature = "demo")]
pub fn app(config: Config) -> Router {
    app_with_handle(config).0
}

/// [`app`] plus a handle for graceful shutdown.
#[cfg(feature = "demo")]
pub fn app_with_handle(config: Config) -> (Router, ServerHandle) {
    let progress = ProgressServer::builder()
        .configure(|c| *c = config)
        .on_upload_hook(demo::pipeline::upload_hook())
        .build();
    (progress.router(), progress.handle())
}

/// The endpoints for `config`, with `hook` run on every finished upload.
pub(crate) fn router(config: Config, hook: Option<UploadHook>) -> (Router, ServerHandle) {
    let state: Shared = Arc::new(AppState::new(config, hook));
    spawn_sweeper(&state);
    if tokio::runtime::Handle::try_current().is_ok() {
        state.backend.attach(&state.store);
    }
    let upload_limit = http::body_limit(state.config.max_upload_bytes);
    let mut api = Router::new()
        .route("/ws/progress/{id}", get(http::progress_by_id))
        .route("/ws/progress", get(http::progress_all))
        .route("/ws/health", get(http::health))
        .route("/ws/status", get(http::status))
        .route("/ws/stats", get(http::stats))
        .route("/ws/stats/rate-limit", get(http::stats_rate_limit))
        .route("/api/uploads/{id}/token", post(http::refresh_token))
        .merge(page_routes());
    if state.config.uploads {
        api = api.route(
            "/api/uploads",
            post(http::upload).layer(DefaultBodyLimit::max(upload_limit)),
        );
    }
    if let Some(tus_config) = &state.config.tus {
        match tus::routes(&state, tus_config) {
            Ok(routes) => api = api.merge(routes),
            Err(err) => tracing::error!(%err, dir = %tus_config.dir.display(), "tus uploads off"),
        }
    }
    #[cfg(feature = "demo")]
    let api = demo::routes(api, &state);
    let router = api
        // A known path asked with a method it does not take: 405, JSON like
        // every other error answer (axum keeps the `Allow` header). Only the
        // routes above get it; an application's own routes are left alone.
        .method_not_allowed_fallback(method_not_allowed)
        // route_layer: only the routes above are checked and marked; an
        // application's own routes merged beside them are left alone.
        .route_layer(cache::no_store())
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            check_origin,
        ))
        .layer(cors_layer(&state))
        // Outside CORS, which would take every OPTIONS for a preflight.
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            tus::discovery,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            // Tokens travel in the query of socket URLs; never log them.
            tracing::info_span!(
                "request",
                method = %req.method(),
                uri = %auth::redact_uri(req.uri()),
            )
        }))
        .with_state(Arc::clone(&state));
    (router, ServerHandle { state })
}

/// Refuses requests from a foreign `Origin`, or addressed to an unknown host
/// name, with 403 before any handler (or upgrade) runs.
async fn check_origin(State(state): State<Shared>, req: Request, next: Next) -> Response {
    match state.origins.check(req.headers()) {
        Ok(()) => next.run(req).await,
        Err(Refused::Origin(origin)) => {
            Counters::bump(&state.stats.counters.refused_origin);
            tracing::info!(%origin, "refused foreign origin");
            ApiError::new(
                StatusCode::FORBIDDEN,
                WireErrorCode::OriginNotAllowed,
                format!("origin {origin} is not allowed"),
            )
            .into_response()
        }
        Err(Refused::Host(host)) => {
            Counters::bump(&state.stats.counters.refused_origin);
            tracing::info!(%host, "refused unknown host name");
            ApiError::new(
                StatusCode::FORBIDDEN,
                WireErrorCode::HostNotAllowed,
                format!("host {host} is not allowed"),
            )
            .into_response()
        }
    }
}

/// The CORS rules of the protocol's routes (the tus methods and headers
/// too when tus is on).
pub(crate) fn cors_layer(state: &Shared) -> tower_http::cors::CorsLayer {
    match state.config.tus {
        Some(_) => tus::cors_layer(&state.origins),
        None => state.origins.cors_layer(),
    }
}

/// Protocol v1.1: one connection for many jobs.
fn page_routes() -> Router<Shared> {
    Router::new()
        .route("/ws/page", get(ws::page_socket))
        .route("/ws/page/poll", get(http::set_poll))
        .route("/ws/page/events", get(http::job_events))
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        WireErrorCode::MethodNotAllowed,
        "this endpoint does not take this method",
    )
}

fn spawn_sweeper(state: &Shared) {
    // Without a runtime (e.g. building the router in a sync test) there is
    // nothing to sweep with; `POST /ws/cleanup` still works.
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak = Arc::downgrade(state);
    runtime.spawn(async move {
        let mut ticker = tokio::time::interval(SWEEP_EVERY);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            // Stop once the server (and its state) is gone.
            let Some(state) = weak.upgrade() else { return };
            state.cleanup();
        }
    });
}

/// How [`serve_with`] treats HTTP connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeOptions {
    /// A connection must deliver a complete request head within this time,
    /// counted from when the server starts waiting for one: right after
    /// accept, and again after each response on a keep-alive connection. A
    /// client that trickles its headers (slowloris) or idles between requests
    /// is closed after it. Default 10 s ([`Config::header_read_timeout`]).
    pub header_read_timeout: Duration,
    /// After the shutdown future resolves, how long in-flight HTTP requests
    /// may take to finish before the server stops anyway. Default 5 s.
    pub drain_timeout: Duration,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self::from(&Config::default())
    }
}

impl From<&Config> for ServeOptions {
    fn from(config: &Config) -> Self {
        Self {
            header_read_timeout: config.header_read_timeout,
            drain_timeout: Duration::from_secs(5),
        }
    }
}

/// Serves `router` on `listener` with peer addresses (needed for per-IP
/// limits) and the default [`ServeOptions`].
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, router, ServeOptions::default(), shutdown).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open
/// requests finish (up to [`ServeOptions::drain_timeout`]).
///
/// HTTP/1.1 only (browsers speak nothing else over plain TCP; put TLS and
/// HTTP/2 in a proxy in front), with WebSocket upgrades and a header read
/// timeout on every connection.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    options: ServeOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(options.header_read_timeout)
        .keep_alive(true);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    // Every connection task holds a clone; `recv` answers `None` once all are gone.
    let (alive, mut all_gone) = tokio::sync::mpsc::channel::<()>(1);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(err) => {
                    // Out of file descriptors or a connection reset before
                    // accept: neither is fatal; back off a little.
                    tracing::debug!(%err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Progress frames are small writes that must leave at once; with Nagle
        // on, a frame written while an earlier one is still unacknowledged
        // (back-to-back updates, a pong after a frame, a close after the final
        // state) waits for the peer's delayed ACK, up to 40 ms on Linux.
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(%err, "cannot set TCP_NODELAY");
        }
        let service = hyper_util::service::TowerToHyperService::new(
            tower_http::add_extension::AddExtension::new(
                router.clone(),
                axum::extract::ConnectInfo(peer),
            ),
        );
        let conn = http
            .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
            .with_upgrades();
        let mut stopping = stopping.clone();
        let alive = alive.clone();
        tokio::spawn(async move {
            let _alive = alive;
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%err, %peer, "connection ended");
                    }
                }
                _ = stopping.changed() => {
                    // Finish the request in flight, close an idle connection now.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    drop(alive);
    let _ = tokio::time::timeout(options.drain_timeout, all_gone.recv()).await;
    Ok(())
}
