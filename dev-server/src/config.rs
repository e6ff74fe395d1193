//! Runtime settings of the server, independent of how they were parsed.

use std::path::PathBuf;
use std::time::Duration;

/// Everything [`crate::app`] needs to know. `Default` gives the documented CLI defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// Directory served at `/` (trunk output), with `index.html` as the fallback page.
    pub dist: PathBuf,
    /// Exact origins (e.g. `https://app.example.com`) allowed to call the API and open sockets.
    pub allowed_origins: Vec<String>,
    /// Also allow any `http://127.0.0.1:*`, `http://localhost:*` and `http://[::1]:*` origin.
    pub allow_loopback_origins: bool,
    /// Enable the fault-injection admin endpoint.
    pub faults: bool,
    /// Bearer token for admin endpoints; `None` makes them answer 403.
    pub admin_token: Option<String>,
    /// Require a valid job token on progress endpoints.
    pub require_token: bool,
    /// Key for job tokens; `None` picks a random one at start-up.
    pub token_secret: Option<String>,
    /// Lifetime of issued job tokens.
    pub token_ttl: Duration,
    /// Time per progress step of the upload pipeline.
    pub stage_ms: u64,
    /// Progress steps per pipeline stage.
    pub steps_per_stage: u32,
    /// Most WebSocket connections at once.
    pub max_connections: usize,
    /// Most WebSocket connections at once from one IP address.
    pub max_per_ip: usize,
    /// Largest accepted WebSocket message (and frame), in bytes.
    pub max_message_bytes: usize,
    /// Messages a client may send per rate window.
    pub rate_limit: u32,
    /// Length of the rate-limit window.
    pub rate_window: Duration,
    /// How long a socket for a valid but unknown id waits for the job to appear.
    pub grace: Duration,
    /// Largest accepted upload body, in bytes.
    pub max_upload_bytes: usize,
    /// Most jobs kept in memory.
    pub max_jobs: usize,
    /// How long a finished job stays readable.
    pub job_ttl: Duration,
    /// Interval of server-side protocol pings.
    pub ping_interval: Duration,
    /// A socket that sends nothing (not even a pong) for this long is dropped.
    pub idle_timeout: Duration,
    /// Longest time one outgoing frame may take before the client counts as dead.
    pub send_timeout: Duration,
    /// `retry_after_ms` announced in `server_shutdown` frames.
    pub shutdown_retry_after_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dist: PathBuf::from("dist"),
            allowed_origins: Vec::new(),
            allow_loopback_origins: false,
            faults: false,
            admin_token: None,
            require_token: false,
            token_secret: None,
            token_ttl: Duration::from_secs(900),
            stage_ms: 400,
            steps_per_stage: 5,
            max_connections: 100,
            max_per_ip: 10,
            max_message_bytes: 64 * 1024,
            rate_limit: 120,
            rate_window: Duration::from_secs(60),
            grace: Duration::from_millis(10_000),
            max_upload_bytes: 10 * 1024 * 1024,
            max_jobs: 1000,
            job_ttl: Duration::from_secs(600),
            // Below the 60 s idle cut of common proxies (nginx, Cloudflare).
            ping_interval: Duration::from_secs(25),
            // Two missed pings plus slack.
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(10),
            shutdown_retry_after_ms: 1000,
        }
    }
}
