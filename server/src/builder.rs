//! Building the protocol's endpoints into an application.
//!
//! ```no_run
//! use upload_progress_server::ProgressServer;
//!
//! # async fn run() -> std::io::Result<()> {
//! let progress = ProgressServer::builder()
//!     .allow_origin("https://app.example.com")
//!     .require_token(true)
//!     .admin_token("change-me")
//!     .build();
//! let reporter = progress.reporter(); // hand this to the pipeline
//! let app = axum::Router::new()
//!     .route("/", axum::routing::get(|| async { "my app" }))
//!     .merge(progress.router());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//! upload_progress_server::serve_with(listener, app, progress.serve_options(), async {
//!     let _ = tokio::signal::ctrl_c().await;
//! })
//! .await
//! # }
//! ```

use std::time::Duration;

use axum::Router;

use crate::config::Config;
use crate::reporter::Reporter;
use crate::state::ServerHandle;
use crate::upload_hook::UploadHook;
use crate::ServeOptions;

/// Settings of the progress endpoints, each with its default.
///
/// The defaults are the CLI's (see the README's flag table) except that
/// uploads (and, with feature `demo`, scripted jobs) are off.
#[derive(Debug, Clone)]
pub struct ProgressServerBuilder {
    config: Config,
    upload_hook: Option<UploadHook>,
}

impl Default for ProgressServerBuilder {
    fn default() -> Self {
        Self {
            config: Config {
                uploads: false,
                #[cfg(feature = "demo")]
                test_jobs: false,
                ..Config::default()
            },
            upload_hook: None,
        }
    }
}

impl ProgressServerBuilder {
    /// Allows a browser origin, e.g. `https://app.example.com`. Default: none
    /// (only clients that send no `Origin`, i.e. not browsers). Its host is
    /// also accepted in `Host`.
    pub fn allow_origin(mut self, origin: impl Into<String>) -> Self {
        self.config.allowed_origins.push(origin.into());
        self
    }

    /// Allows any `http://127.0.0.1:*`, `http://localhost:*`, `http://[::1]:*`
    /// origin (development). Default: off.
    pub fn allow_loopback_origins(mut self, on: bool) -> Self {
        self.config.allow_loopback_origins = on;
        self
    }

    /// Accepts requests addressed to this host name (`name` or `name:port`)
    /// besides IP literals, `localhost` and the hosts of allowed origins.
    /// Default: none.
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.config.allowed_hosts.push(host.into());
        self
    }

    /// Requires a job token on the progress endpoints (`?token=` on sockets,
    /// `Authorization: Bearer` on HTTP). Default: off.
    pub fn require_token(mut self, on: bool) -> Self {
        self.config.require_token = on;
        self
    }

    /// Key of job tokens; share it between instances. Default: random per start.
    pub fn token_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.token_secret = Some(secret.into());
        self
    }

    /// Lifetime of issued job tokens. Default: 900 s.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.config.token_ttl = ttl;
        self
    }

    /// How long after its expiry a job token still buys a fresh one. Default: 600 s.
    pub fn token_refresh_grace(mut self, grace: Duration) -> Self {
        self.config.token_refresh_grace = grace;
        self
    }

    /// Bearer token of the admin endpoints (the all-jobs view with tokens
    /// on, any job's token refresh; with feature `demo` also
    /// `/ws/stats/detailed`, `/ws/cleanup`, fault injection). Default: none, and
    /// those endpoints answer 403.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.config.admin_token = Some(token.into());
        self
    }

    /// Most WebSocket connections at once. Default: 100.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n;
        self
    }

    /// Most WebSocket connections at once from one IP address. Default: 10.
    pub fn max_per_ip(mut self, n: usize) -> Self {
        self.config.max_per_ip = n;
        self
    }

    /// Largest client message, in bytes (close 1009 above). Default: 65 536.
    pub fn max_message_bytes(mut self, n: usize) -> Self {
        self.config.max_message_bytes = n;
        self
    }

    /// Client messages per window (close 1008 above). Default: 120 per 60 s.
    pub fn rate_limit(mut self, messages: u32, window: Duration) -> Self {
        self.config.rate_limit = messages;
        self.config.rate_window = window;
        self
    }

    /// How long a socket for an unknown job waits for it (then 4404). Default: 10 s.
    pub fn grace(mut self, grace: Duration) -> Self {
        self.config.grace = grace;
        self
    }

    /// Most jobs one page connection (page socket, set poll, event stream)
    /// follows at once; the next gets `too_many_subscriptions`. Default: 100.
    pub fn max_subscriptions(mut self, n: usize) -> Self {
        self.config.max_subscriptions = n.max(1);
        self
    }

    /// Most jobs held; finished ones are evicted first. Default: 1000.
    pub fn max_jobs(mut self, n: usize) -> Self {
        self.config.max_jobs = n;
        self
    }

    /// How long a finished job stays readable. Default: 600 s.
    pub fn job_ttl(mut self, ttl: Duration) -> Self {
        self.config.job_ttl = ttl;
        self
    }

    /// Server-side ping interval and the silence after which a socket is
    /// dropped. Default: 25 s and 60 s.
    pub fn heartbeat(mut self, ping_interval: Duration, idle_timeout: Duration) -> Self {
        self.config.ping_interval = ping_interval;
        self.config.idle_timeout = idle_timeout;
        self
    }

    /// Longest time one outgoing frame may take. Default: 5 s.
    pub fn send_timeout(mut self, timeout: Duration) -> Self {
        self.config.send_timeout = timeout;
        self
    }

    /// Time an HTTP connection has to send a complete request head (also
    /// bounds idle keep-alive connections). Default: 10 s. Applies when
    /// served with [`crate::serve_with`] and [`ProgressServer::serve_options`].
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// `retry_after_ms` announced on shutdown: uniform in `[base, base + spread]`
    /// per socket. Default: 1000 ms and 4000 ms.
    pub fn shutdown_retry(mut self, base_ms: u64, spread_ms: u64) -> Self {
        self.config.shutdown_retry_after_ms = base_ms;
        self.config.shutdown_retry_spread_ms = spread_ms;
        self
    }

    /// Runs `handler` on every finished upload (tus and `POST /api/uploads`),
    /// as a job with `stages` (`(name, label)` pairs, in order): the handler
    /// gets the upload and the job's [`crate::JobHandle`], already `running`
    /// in the first stage, and reports the rest. `Ok(())` completes the job
    /// (unless the handler ended it), an error or a panic fails it with a
    /// clear message; the server and other jobs carry on. See
    /// [`crate::upload_hook`]. Default: none, and an upload's job completes
    /// as soon as its last byte is stored.
    ///
    /// ```no_run
    /// # fn demo() -> upload_progress_server::ProgressServer {
    /// upload_progress_server::ProgressServer::builder()
    ///     .tus(upload_progress_server::tus::TusConfig::in_temp_dir())
    ///     .on_upload(&[("scan", "Scanning"), ("store", "Storing")], |upload, mut job| async move {
    ///         let bytes = upload.bytes().await?;
    ///         job.stage_progress(1.0, &format!("{} bytes scanned", bytes.len()))?;
    ///         job.next_stage("Storing...")?;
    ///         job.complete("Stored")?;
    ///         Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    ///     })
    ///     .build()
    /// # }
    /// ```
    pub fn on_upload<F, Fut, E>(self, stages: &[(&str, &str)], handler: F) -> Self
    where
        F: Fn(crate::FinishedUpload, crate::JobHandle) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<(), E>> + Send + 'static,
        E: std::fmt::Display + 'static,
    {
        self.on_upload_hook(UploadHook::new(stages, handler))
    }

    /// [`Self::on_upload`] with a hook built beforehand.
    pub fn on_upload_hook(mut self, hook: UploadHook) -> Self {
        self.upload_hook = Some(hook);
        self
    }

    /// Serves `POST /api/uploads` (multipart field `file`), whose files go
    /// to the upload handler. Default: off.
    pub fn uploads(mut self, on: bool) -> Self {
        self.config.uploads = on;
        self
    }

    /// Serves resumable uploads over tus 1.0.0 at `/api/uploads/tus`, each
    /// with a job (`pending` while bytes arrive) that the upload handler
    /// runs once its last byte is stored. Default: off.
    pub fn tus(mut self, tus: crate::tus::TusConfig) -> Self {
        self.config.tus = Some(tus);
        self
    }

    /// Serves `POST /ws/test/{id}`, the scripted demo job. Default: off.
    #[cfg(feature = "demo")]
    pub fn test_jobs(mut self, on: bool) -> Self {
        self.config.test_jobs = on;
        self
    }

    /// Largest upload accepted by `POST /api/uploads`, in bytes. Default: 10 MiB.
    pub fn max_upload_bytes(mut self, n: usize) -> Self {
        self.config.max_upload_bytes = n;
        self
    }

    /// Pace of the demo pipeline (scripted jobs and the demo upload
    /// handler): time per step and steps per stage. Default: 400 ms and 5.
    #[cfg(feature = "demo")]
    pub fn test_job_timing(mut self, stage_ms: u64, steps_per_stage: u32) -> Self {
        self.config.stage_ms = stage_ms;
        self.config.steps_per_stage = steps_per_stage.max(1);
        self
    }

    /// Serves `POST /ws/admin/faults` (admin token needed) to inject
    /// failures for tests. Default: off.
    #[cfg(feature = "demo")]
    pub fn faults(mut self, on: bool) -> Self {
        self.config.faults = on;
        self
    }

    /// Shares jobs with every instance on the same Redis (e.g.
    /// `redis://127.0.0.1:6379/0`): any instance then serves any job. Give
    /// every instance the same [`Self::token_secret`] when tokens are
    /// required. Default: none, jobs stay in this process.
    #[cfg(feature = "redis")]
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.config.redis_url = Some(url.into());
        self
    }

    /// Prefix of the Redis keys and channel (instances that share jobs
    /// share it; different prefixes keep apps apart on one Redis).
    /// Default: `upr:`.
    #[cfg(feature = "redis")]
    pub fn redis_key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.redis_prefix = prefix.into();
        self
    }

    /// Any other setting, on the underlying [`Config`].
    pub fn configure(mut self, change: impl FnOnce(&mut Config)) -> Self {
        change(&mut self.config);
        self
    }

    /// The settings as they stand.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Builds the endpoints. Call inside a Tokio runtime (finished jobs are
    /// swept by a background task).
    pub fn build(self) -> ProgressServer {
        let options = ServeOptions::from(&self.config);
        let (router, handle) = crate::router(self.config, self.upload_hook);
        ProgressServer {
            router,
            handle,
            options,
        }
    }
}

/// The protocol's endpoints plus the handles an application needs.
#[derive(Clone)]
pub struct ProgressServer {
    router: Router,
    handle: ServerHandle,
    options: ServeOptions,
}

impl std::fmt::Debug for ProgressServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProgressServer")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl ProgressServer {
    /// A builder with the documented defaults.
    pub fn builder() -> ProgressServerBuilder {
        ProgressServerBuilder::default()
    }

    /// The endpoints (`/ws/...`, `/api/uploads/{id}/token`, the uploads and
    /// demo parts turned on), to merge into the application's router. It
    /// has no fallback and no catch-all route: paths it does not serve stay
    /// the application's.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// Starts jobs and hands out their writers.
    pub fn reporter(&self) -> Reporter {
        self.handle.reporter()
    }

    /// The CORS rules the protocol's routes answer with (the allowed
    /// origins; the tus methods and headers when tus is on), for an
    /// application's own routes that the same pages call from another
    /// origin, such as its JSON 404 for unknown API paths.
    pub fn cors_layer(&self) -> tower_http::cors::CorsLayer {
        crate::cors_layer(&self.handle.state)
    }

    /// Graceful shutdown and connection counts.
    pub fn handle(&self) -> ServerHandle {
        self.handle.clone()
    }

    /// Connection settings for [`crate::serve_with`].
    pub fn serve_options(&self) -> ServeOptions {
        self.options
    }
}
