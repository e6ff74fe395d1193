//! Shared server state and the handle used to shut the server down.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use tokio::sync::{broadcast, watch};

use crate::auth::TokenSigner;
use crate::backend::Backend;
use crate::config::Config;
use crate::limits::Connections;
use crate::origin::OriginPolicy;
use crate::stats::Stats;
use crate::store::JobStore;
use crate::upload_hook::UploadHook;

/// A command to every open socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Send `server_shutdown {retry_after_ms}`, then close 1012.
    Restart {
        /// Lowest announced reconnect delay.
        retry_after_ms: u64,
        /// Each socket adds its own uniform random share of this to
        /// `retry_after_ms`, so reconnects spread over the window.
        spread_ms: u64,
    },
}

/// Everything handlers share. Its parts are the library's own; an
/// application reaches them through [`crate::ProgressServer`],
/// [`crate::Reporter`] and [`ServerHandle`].
pub struct AppState {
    /// Settings.
    pub(crate) config: Config,
    /// Jobs.
    pub(crate) store: Arc<JobStore>,
    /// Open sockets and their caps.
    pub(crate) conns: Arc<Connections>,
    /// Injected faults.
    #[cfg(feature = "demo")]
    pub(crate) faults: crate::demo::faults::Faults,
    /// `Some(until)` while sockets must neither read nor write (the demo's
    /// stall fault); sockets watch it to resume.
    pub(crate) stall: Arc<watch::Sender<Option<Instant>>>,
    /// Counters.
    pub(crate) stats: Stats,
    /// Where jobs are shared with other instances (or not).
    pub(crate) backend: Arc<dyn Backend>,
    /// Job tokens.
    pub(crate) tokens: TokenSigner,
    /// Allowed origins.
    pub(crate) origins: Arc<OriginPolicy>,
    /// Commands to every socket.
    pub(crate) control: broadcast::Sender<Control>,
    /// Set once shutdown starts; new sockets are refused from then on.
    pub(crate) shutting_down: AtomicBool,
    /// Start time, for uptime.
    pub(crate) started: Instant,
    /// The application's processing of finished uploads.
    pub(crate) upload_hook: Option<UploadHook>,
    /// The tus uploads, once their routes are built.
    pub(crate) tus_storage: OnceLock<Arc<crate::tus::storage::Storage>>,
}

/// Handlers' view of the state.
pub type Shared = Arc<AppState>;

impl AppState {
    /// State for `config`, with `upload_hook` run on finished uploads.
    pub(crate) fn new(config: Config, upload_hook: Option<UploadHook>) -> Self {
        let (control, _) = broadcast::channel(16);
        let stall = Arc::new(watch::channel(None).0);
        Self {
            store: Arc::new(JobStore::new(config.max_jobs, config.job_ttl)),
            conns: Arc::new(Connections::new(config.max_connections, config.max_per_ip)),
            #[cfg(feature = "demo")]
            faults: crate::demo::faults::Faults::new(config.faults, Arc::clone(&stall)),
            stall,
            upload_hook,
            tus_storage: OnceLock::new(),
            stats: Stats::default(),
            backend: backend_for(&config),
            tokens: TokenSigner::new(config.token_secret.as_deref()),
            origins: Arc::new(OriginPolicy::with_hosts(
                &config.allowed_origins,
                config.allow_loopback_origins,
                &config.allowed_hosts,
            )),
            control,
            shutting_down: AtomicBool::new(false),
            started: Instant::now(),
            config,
        }
    }

    /// Tells every socket to announce a restart and close with 1012; each
    /// announces a delay uniform in `[retry_after_ms, retry_after_ms + spread_ms]`.
    pub(crate) fn restart_sockets(&self, retry_after_ms: u64, spread_ms: u64) -> usize {
        self.control
            .send(Control::Restart {
                retry_after_ms,
                spread_ms,
            })
            .unwrap_or(0)
    }

    /// The job's latest state, from this instance or the shared backend;
    /// `Err` when the backend cannot say whether it exists.
    pub(crate) async fn lookup(
        &self,
        id: &upload_progress_core::ProcessId,
    ) -> Result<Option<upload_progress_core::Progress>, crate::backend::Unavailable> {
        crate::backend::lookup(&self.store, self.backend.as_ref(), id).await
    }

    /// Makes this instance the writer of job `id` when another one created
    /// it (a shared upload that continues here): its newest state is read
    /// from the shared backend first, so `seq` goes on from there. True
    /// when this instance writes the job now.
    pub(crate) async fn take_over(&self, id: &upload_progress_core::ProcessId) -> bool {
        if self.store.owns(id) {
            return true;
        }
        if let Ok(Some(newest)) = self.backend.fetch(id).await {
            self.store.apply_remote(newest, true);
        }
        self.store.adopt(id).is_ok()
    }

    /// True once shutdown started.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::Relaxed)
    }

    /// Drops finished jobs past their TTL and stats of vanished jobs.
    pub(crate) fn cleanup(&self) -> (usize, usize) {
        let jobs = self.store.sweep();
        let stats = self.stats.forget_idle(|id| self.store.contains(id));
        (jobs, stats)
    }
}

/// The backend `config` asks for.
fn backend_for(config: &Config) -> Arc<dyn Backend> {
    #[cfg(feature = "redis")]
    if let Some(url) = &config.redis_url {
        return Arc::new(crate::backend::redis::RedisBackend::new(
            crate::backend::redis::RedisSettings {
                url: url.clone(),
                prefix: config.redis_prefix.clone(),
                // A quiet stage must not lose a running job's state.
                running_ttl: config.job_ttl.max(Duration::from_secs(3600)),
                finished_ttl: config.job_ttl,
            },
        ));
    }
    #[cfg(not(feature = "redis"))]
    if config.redis_url.is_some() {
        tracing::error!("built without the `redis` feature: jobs stay on this instance");
    }
    Arc::new(crate::backend::Memory)
}

/// Lets the embedding program stop the server gracefully.
#[derive(Clone)]
pub struct ServerHandle {
    pub(crate) state: Shared,
}

impl ServerHandle {
    /// Announces shutdown on every socket (`server_shutdown`, then close 1012),
    /// refuses new sockets, and waits up to `wait` for sockets to finish.
    ///
    /// Each socket announces its own `retry_after_ms`, uniform in
    /// `[shutdown_retry_after_ms, shutdown_retry_after_ms + shutdown_retry_spread_ms]`
    /// (see [`Config`]): a drained server's clients come back spread over
    /// that window instead of all at once.
    pub async fn shutdown(&self, wait: Duration) {
        self.state.shutting_down.store(true, Ordering::Relaxed);
        self.state.restart_sockets(
            self.state.config.shutdown_retry_after_ms,
            self.state.config.shutdown_retry_spread_ms,
        );
        let deadline = tokio::time::Instant::now() + wait;
        while self.state.conns.active() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Whatever is still open (a stalled client) goes without ceremony.
        self.state.conns.abort_all();
    }

    /// Sockets open now.
    pub fn active_connections(&self) -> usize {
        self.state.conns.active()
    }

    /// Starts jobs on this server and hands out their writers.
    pub fn reporter(&self) -> crate::reporter::Reporter {
        crate::reporter::Reporter::new(Arc::clone(&self.state))
    }
}

/// The peer address, or 0.0.0.0 when the server was not started with connect info.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Self(ip))
    }
}
