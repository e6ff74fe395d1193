//! Runtime settings of the server, independent of how they were parsed.

use std::time::Duration;

/// Every setting of the endpoints. `Default` gives the documented CLI
/// defaults (the demo binary's settings); [`crate::ProgressServer::builder`]
/// starts from the same values but with uploads and scripted jobs off.
#[derive(Debug, Clone)]
pub struct Config {
    /// Serve `POST /api/uploads`, whose files go to the upload handler.
    pub uploads: bool,
    /// Serve `POST /ws/test/{id}`, the scripted demo job.
    #[cfg(feature = "demo")]
    pub test_jobs: bool,
    /// Exact origins (e.g. `https://app.example.com`) allowed to call the API and open sockets.
    pub allowed_origins: Vec<String>,
    /// Also allow any `http://127.0.0.1:*`, `http://localhost:*` and `http://[::1]:*` origin.
    pub allow_loopback_origins: bool,
    /// Host names (optionally `name:port`) requests may address besides IP
    /// literals, `localhost` and the hosts of `allowed_origins`.
    pub allowed_hosts: Vec<String>,
    /// Enable the fault-injection admin endpoint.
    #[cfg(feature = "demo")]
    pub faults: bool,
    /// Bearer token for admin endpoints; `None` makes them answer 403.
    pub admin_token: Option<String>,
    /// Require a valid job token on progress endpoints.
    pub require_token: bool,
    /// Key for job tokens; `None` picks a random one at start-up.
    pub token_secret: Option<String>,
    /// Lifetime of issued job tokens.
    pub token_ttl: Duration,
    /// How long after its expiry a job token still buys a fresh one.
    pub token_refresh_grace: Duration,
    /// Lifetime of the refresh cookie set with every started job.
    pub refresh_ttl: Duration,
    /// Time per progress step of the demo pipeline.
    #[cfg(feature = "demo")]
    pub stage_ms: u64,
    /// Progress steps per demo pipeline stage.
    #[cfg(feature = "demo")]
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
    /// Most jobs one page connection (socket, set poll or event stream)
    /// follows at once (protocol v1.1).
    pub max_subscriptions: usize,
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
    /// Lowest `retry_after_ms` announced in `server_shutdown` frames on shutdown.
    pub shutdown_retry_after_ms: u64,
    /// Width of the window `retry_after_ms` is spread over on shutdown: each
    /// socket gets its own value, uniform in `[base, base + spread]`, so the
    /// clients of a drained server do not all come back at the same instant.
    pub shutdown_retry_spread_ms: u64,
    /// An HTTP connection must deliver a complete request head within this
    /// time, counted from when the server starts waiting for it (so it also
    /// bounds how long an idle keep-alive connection is held).
    pub header_read_timeout: Duration,
    /// Redis URL of the shared job store (feature `redis`); `None`: jobs
    /// stay in this process.
    pub redis_url: Option<String>,
    /// Prefix of the Redis keys and channel; instances sharing jobs share it.
    pub redis_prefix: String,
    /// Resumable uploads over tus 1.0.0 at `/api/uploads/tus`; `None`: off.
    pub tus: Option<crate::tus::TusConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            uploads: true,
            #[cfg(feature = "demo")]
            test_jobs: true,
            allowed_origins: Vec::new(),
            allow_loopback_origins: false,
            allowed_hosts: Vec::new(),
            #[cfg(feature = "demo")]
            faults: false,
            admin_token: None,
            require_token: false,
            token_secret: None,
            token_ttl: Duration::from_secs(900),
            token_refresh_grace: Duration::from_secs(600),
            refresh_ttl: Duration::from_secs(24 * 3600),
            #[cfg(feature = "demo")]
            stage_ms: 400,
            #[cfg(feature = "demo")]
            steps_per_stage: 5,
            max_connections: 100,
            max_per_ip: 10,
            max_message_bytes: 64 * 1024,
            rate_limit: 120,
            rate_window: Duration::from_secs(60),
            max_subscriptions: upload_progress_core::page::MAX_SUBSCRIPTIONS,
            grace: Duration::from_millis(upload_progress_core::protocol::UNKNOWN_JOB_GRACE_MS),
            max_upload_bytes: 10 * 1024 * 1024,
            max_jobs: 1000,
            job_ttl: Duration::from_secs(600),
            // Below the 60 s idle cut of common proxies (nginx, Cloudflare).
            ping_interval: Duration::from_secs(25),
            // Two missed pings plus slack.
            idle_timeout: Duration::from_secs(60),
            send_timeout: Duration::from_secs(5),
            shutdown_retry_after_ms: 1000,
            shutdown_retry_spread_ms: 4000,
            header_read_timeout: Duration::from_secs(10),
            redis_url: None,
            redis_prefix: "upr:".to_owned(),
            tus: None,
        }
    }
}

/// The origins of pages this server serves itself when listening on `addr`:
/// `http://<addr>`, plus the `localhost` and other loopback spellings for a
/// loopback or unspecified address. The binary adds these to the allowlist,
/// so the demo page it serves may call it; nothing is same-origin implicitly.
pub fn own_origins(addr: std::net::SocketAddr) -> Vec<String> {
    let port = addr.port();
    let mut origins = Vec::new();
    if !addr.ip().is_unspecified() {
        origins.push(format!("http://{addr}"));
    }
    if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        for host in ["127.0.0.1", "localhost", "[::1]"] {
            let origin = format!("http://{host}:{port}");
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
    }
    origins
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_origins_of_listen_addresses() {
        let loopback = own_origins("127.0.0.1:8080".parse().expect("addr"));
        assert_eq!(
            loopback,
            [
                "http://127.0.0.1:8080",
                "http://localhost:8080",
                "http://[::1]:8080"
            ]
        );
        let public = own_origins("192.0.2.7:80".parse().expect("addr"));
        assert_eq!(public, ["http://192.0.2.7:80"]);
        let any = own_origins("0.0.0.0:9000".parse().expect("addr"));
        assert_eq!(any.len(), 3);
        assert!(any.contains(&"http://localhost:9000".to_owned()));
    }
}
