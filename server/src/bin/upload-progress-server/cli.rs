//! Command-line flags of the `upload-progress-server` binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

use upload_progress_server::demo::pipeline;
use upload_progress_server::tus::TusConfig;
use upload_progress_server::{ProgressServer, ProgressServerBuilder};

const ABOUT: &str = "Reference and demo server for the UploadProgressRobust wire protocol v1.";

const LONG_ABOUT: &str = "\
Reference and demo server for the UploadProgressRobust wire protocol v1.

Prints `listening on http://ADDR` as the first line on stdout; logs go to stderr
(filter with RUST_LOG). SIGINT/SIGTERM: every socket gets `server_shutdown`
(retry_after_ms spread over --shutdown-spread-ms) and close 1012, then the
process exits. The origins of the listen address are always allowed.";

const AFTER_HELP: &str = "\
ENDPOINTS
  WS   /ws/progress/{id}          snapshot first, then progress frames; pong to {\"type\":\"ping\",\"id\":n};
                                  close 1000 after a terminal state
  WS   /ws/progress               snapshots of every active job, then every update
  WS   /ws/health                 answers pings only
  GET  /ws/progress/{id}          {\"progress\":{..}}, ETag \"<seq>\", If-None-Match -> 304; 400/401/404/503
  GET  /ws/progress               every active job
  GET  /ws/health                 {\"status\":\"healthy\"}
  GET  /ws/status                 health, connection statistics, active faults
  GET  /ws/stats                  counters;  /ws/stats/detailed (admin) adds per-job and per-IP activity
  GET  /ws/stats/rate-limit       message limits and how often they were hit
  POST /ws/cleanup                (admin) sweep finished jobs past their TTL
  POST /ws/test/{id}?step_ms=&steps_per_stage=&fail_at_stage=   scripted 4-stage job -> 202
  POST /api/uploads               multipart field `file` -> 202 {process_id, token, expires_in_s}
  tus  /api/uploads/tus           (--tus) resumable uploads, tus 1.0.0 core + creation + termination;
                                  the 201 carries Upload-Process-Id (and Upload-Token with tokens)
  POST /api/uploads/{id}/token?ttl_s=   fresh token for a job; needs its current token (Bearer,
                                  or expired less than --token-refresh-grace-s ago), its
                                  refresh cookie, or the admin token
  POST /ws/admin/faults           (admin, --faults) JSON {\"action\": ...}; GET lists active faults
  GET  /*                         static files from --dist, index.html fallback

CLOSE CODES
  1000 job finished   1008 rate limit   1009 message too big   1011 internal error
  1012 restarting (after server_shutdown)   1013 server full   4400 invalid process id
  4401 token missing, invalid or expired   4404 no such job after the grace period

FAULTS (POST /ws/admin/faults, needs --faults and Authorization: Bearer <admin token>)
  {\"action\":\"drop_sockets\"}                                   TCP drop, no close frame (1006)
  {\"action\":\"refuse_upgrades\",\"fraction\":1.0,\"duration_ms\":10000}  upgrades answer 503
  {\"action\":\"refuse_streams\",\"duration_ms\":10000}           GET /ws/page/events answers 503
  {\"action\":\"stall_sockets\",\"duration_ms\":20000}            no frames, no pongs, no close
  {\"action\":\"delay_handshake\",\"delay_ms\":3000,\"duration_ms\":10000}
  {\"action\":\"poll_errors\",\"duration_ms\":10000}              GET /ws/progress/{id} answers 503
  {\"action\":\"restart\",\"retry_after_ms\":1000}                server_shutdown, then close 1012
  {\"action\":\"cut_uploads\",\"after_bytes\":65536,\"count\":1}    next tus PATCHes cut mid-body
  {\"action\":\"refuse_uploads\",\"duration_ms\":10000}           tus PATCHes answer 503
  {\"action\":\"clear\"}                                          end every fault

The README (section \"The dev server\") is the full reference.";

/// Parsed command line.
#[derive(Debug, Parser)]
#[command(name = "upload-progress-server", version, about = ABOUT, long_about = LONG_ABOUT, after_long_help = AFTER_HELP)]
pub struct Cli {
    /// Optional helper command; without one the server runs.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Flags of the server.
    #[command(flatten)]
    pub server: ServerArgs,
}

/// Helper commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a fault-injection request to a running server.
    Fault(FaultArgs),
}

/// Arguments of `upload-progress-server fault`.
#[derive(Debug, clap::Args)]
pub struct FaultArgs {
    /// drop_sockets | refuse_upgrades | refuse_streams | stall_sockets | delay_handshake |
    /// poll_errors | restart | cut_uploads | refuse_uploads | clear
    pub action: String,
    /// Base URL of the server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Admin token of the server.
    #[arg(long, env = "UPR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: String,
    /// How long a timed fault lasts.
    #[arg(long)]
    pub duration_ms: Option<u64>,
    /// Share of upgrades refused (refuse_upgrades).
    #[arg(long)]
    pub fraction: Option<f64>,
    /// Handshake delay (delay_handshake).
    #[arg(long)]
    pub delay_ms: Option<u64>,
    /// Announced reconnect delay (restart).
    #[arg(long)]
    pub retry_after_ms: Option<u64>,
    /// Body bytes kept before each cut (cut_uploads).
    #[arg(long)]
    pub after_bytes: Option<u64>,
    /// How many PATCHes are cut (cut_uploads).
    #[arg(long)]
    pub count: Option<u32>,
}

/// Flags of the server itself.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory served at / (trunk output); unknown paths get its index.html.
    #[arg(long, default_value = "dist")]
    pub dist: PathBuf,
    /// An origin allowed to call the API and open sockets, e.g. `https://app.example.com`.
    #[arg(
        long = "allow-origin",
        value_name = "ORIGIN",
        help = "An origin allowed to call the API and open sockets, e.g. https://app.example.com (repeatable)"
    )]
    pub allow_origin: Vec<String>,
    /// Also allow any `http://127.0.0.1:*`, `http://localhost:*` and `http://[::1]:*` origin.
    #[arg(
        long,
        help = "Also allow any http://127.0.0.1:*, http://localhost:* and http://[::1]:* origin"
    )]
    pub allow_loopback_origins: bool,
    /// A host name (or name:port) requests may address the server by, besides IP
    /// literals, localhost and the hosts of --allow-origin (repeatable).
    #[arg(long = "allow-host", value_name = "HOST")]
    pub allow_host: Vec<String>,
    /// Enable fault injection (POST /ws/admin/faults).
    #[arg(long)]
    pub faults: bool,
    /// Bearer token for admin endpoints; without it they answer 403.
    #[arg(long, env = "UPR_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Require a job token: ?token= on sockets (close 4401), Authorization: Bearer on HTTP (401).
    #[arg(long)]
    pub require_token: bool,
    /// Secret key of job tokens (default: random per start).
    #[arg(long, env = "UPR_TOKEN_SECRET", hide_env_values = true)]
    pub token_secret: Option<String>,
    /// Lifetime of issued job tokens, in seconds.
    #[arg(long, default_value_t = 900)]
    pub token_ttl_s: u64,
    /// How long after its expiry a job token still buys a fresh one, in seconds.
    #[arg(long, default_value_t = 600)]
    pub token_refresh_grace_s: u64,
    /// Pipeline speed: time per progress step, in milliseconds.
    #[arg(long, default_value_t = 400)]
    pub stage_ms: u64,
    /// Progress steps per pipeline stage.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub steps_per_stage: u32,
    /// Most WebSocket connections at once (503 before the upgrade when full).
    #[arg(long, default_value_t = 100)]
    pub max_connections: usize,
    /// Most WebSocket connections at once from one IP address.
    #[arg(long, default_value_t = 10)]
    pub max_per_ip: usize,
    /// Largest WebSocket message or frame, in bytes (bigger: close 1009).
    #[arg(long, default_value_t = 65536, value_parser = clap::value_parser!(u64).range(128..=16_777_216))]
    pub max_message_bytes: u64,
    /// Messages a client may send per 60 s window (more: error frame, close 1008).
    #[arg(long, default_value_t = 120)]
    pub rate_limit: u32,
    /// Length of the rate-limit window, in milliseconds.
    #[arg(long, default_value_t = 60_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub rate_window_ms: u64,
    /// Most jobs one page connection (/ws/page, /ws/page/poll, /ws/page/events) follows at once.
    #[arg(long, default_value_t = upload_progress_core::page::MAX_SUBSCRIPTIONS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub max_subscriptions: usize,
    /// How long a socket for an unknown (but valid) id waits for the job before close 4404.
    #[arg(long, default_value_t = upload_progress_core::protocol::UNKNOWN_JOB_GRACE_MS)]
    pub grace_ms: u64,
    /// Largest upload, in bytes (bigger: 413).
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_upload_bytes: usize,
    /// Serve resumable uploads over tus 1.0.0 at /api/uploads/tus
    #[arg(long)]
    pub tus: bool,
    /// Directory of unfinished tus uploads (implies --tus); default: upload-progress-tus in the temp dir
    #[arg(long)]
    pub tus_dir: Option<PathBuf>,
    /// Most bytes all unfinished tus uploads may claim together
    #[arg(long, default_value_t = 4 * 1024 * 1024 * 1024)]
    pub tus_max_total_bytes: u64,
    /// Seconds after which an untouched tus upload is removed
    #[arg(long, default_value_t = 3600)]
    pub tus_expiry_s: u64,
    /// Most jobs kept in memory (finished ones are evicted first).
    #[arg(long, default_value_t = 1000)]
    pub max_jobs: usize,
    /// How long a finished job stays readable, in seconds.
    #[arg(long, default_value_t = 600)]
    pub job_ttl_s: u64,
    /// Interval of server-side protocol pings, in milliseconds.
    #[arg(long, default_value_t = 25_000, value_parser = clap::value_parser!(u64).range(10..))]
    pub ping_interval_ms: u64,
    /// A socket silent (no frame, no pong) for this long is dropped, in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    pub idle_timeout_ms: u64,
    /// Longest time one outgoing frame may take, in milliseconds.
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub send_timeout_ms: u64,
    /// Time a connection has to send a complete request head (also bounds idle
    /// keep-alive connections), in milliseconds.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_ms: u64,
    /// Lowest retry_after_ms announced to sockets on shutdown.
    #[arg(long, default_value_t = 1_000)]
    pub shutdown_retry_after_ms: u64,
    /// On shutdown each socket announces retry_after_ms uniform in
    /// [--shutdown-retry-after-ms, that + this], in milliseconds.
    #[arg(long, default_value_t = 4_000)]
    pub shutdown_spread_ms: u64,
    /// Share jobs through this Redis (`redis://[user:password@]host[:port][/db]`) so that
    /// every instance on it serves every job; give them all the same --token-secret
    #[cfg(feature = "redis")]
    #[arg(long, env = "UPR_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// Prefix of the Redis keys and channel (instances sharing jobs share it)
    #[cfg(feature = "redis")]
    #[arg(long, default_value = "upr:")]
    pub redis_prefix: String,
}

impl ServerArgs {
    /// A builder with every flag applied: uploads (run by the demo
    /// pipeline, registered as any application registers its handler) and
    /// scripted jobs on. The static files of `--dist` are the binary's own.
    pub fn builder(&self) -> ProgressServerBuilder {
        let mut b = ProgressServer::builder()
            .uploads(true)
            .test_jobs(true)
            .on_upload_hook(pipeline::upload_hook_with(
                Duration::from_millis(self.stage_ms),
                self.steps_per_stage,
            ))
            .allow_loopback_origins(self.allow_loopback_origins)
            .faults(self.faults)
            .require_token(self.require_token)
            .token_ttl(Duration::from_secs(self.token_ttl_s))
            .token_refresh_grace(Duration::from_secs(self.token_refresh_grace_s))
            .test_job_timing(self.stage_ms, self.steps_per_stage)
            .max_connections(self.max_connections)
            .max_per_ip(self.max_per_ip)
            .max_message_bytes(usize::try_from(self.max_message_bytes).unwrap_or(65536))
            .rate_limit(self.rate_limit, Duration::from_millis(self.rate_window_ms))
            .grace(Duration::from_millis(self.grace_ms))
            .max_subscriptions(self.max_subscriptions)
            .max_upload_bytes(self.max_upload_bytes)
            .max_jobs(self.max_jobs)
            .job_ttl(Duration::from_secs(self.job_ttl_s))
            .heartbeat(
                Duration::from_millis(self.ping_interval_ms),
                Duration::from_millis(self.idle_timeout_ms),
            )
            .send_timeout(Duration::from_millis(self.send_timeout_ms))
            .header_read_timeout(Duration::from_millis(self.header_read_timeout_ms))
            .shutdown_retry(self.shutdown_retry_after_ms, self.shutdown_spread_ms);
        for origin in &self.allow_origin {
            b = b.allow_origin(origin.clone());
        }
        for host in &self.allow_host {
            b = b.allow_host(host.clone());
        }
        if self.tus || self.tus_dir.is_some() {
            let mut tus = match &self.tus_dir {
                Some(dir) => TusConfig::new(dir),
                None => TusConfig::in_temp_dir(),
            };
            tus.max_size = self.max_upload_bytes as u64;
            tus.max_total_bytes = self.tus_max_total_bytes;
            tus.expiry = Duration::from_secs(self.tus_expiry_s);
            b = b.tus(tus);
        }
        if let Some(token) = self.admin_token.as_ref().filter(|t| !t.is_empty()) {
            b = b.admin_token(token.clone());
        }
        if let Some(secret) = self.token_secret.as_ref().filter(|t| !t.is_empty()) {
            b = b.token_secret(secret.clone());
        }
        #[cfg(feature = "redis")]
        {
            if let Some(url) = self.redis_url.as_ref().filter(|u| !u.is_empty()) {
                b = b.redis_url(url.clone());
            }
            b = b.redis_key_prefix(self.redis_prefix.clone());
        }
        b
    }
}

impl FaultArgs {
    /// The JSON body for `POST /ws/admin/faults`.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({ "action": self.action });
        let fields = [
            ("duration_ms", self.duration_ms.map(serde_json::Value::from)),
            ("fraction", self.fraction.map(serde_json::Value::from)),
            ("delay_ms", self.delay_ms.map(serde_json::Value::from)),
            (
                "retry_after_ms",
                self.retry_after_ms.map(serde_json::Value::from),
            ),
            ("after_bytes", self.after_bytes.map(serde_json::Value::from)),
            ("count", self.count.map(serde_json::Value::from)),
        ];
        for (name, value) in fields {
            if let Some(value) = value {
                body[name] = value;
            }
        }
        body
    }
}
