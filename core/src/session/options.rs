//! Every policy knob of the session, with the defaults of the design.

use crate::ProcessId;

/// Where the job lives and how the session behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// The job to follow.
    pub process_id: ProcessId,
    /// Base of socket URLs, e.g. `ws://127.0.0.1:8080` (no trailing slash).
    pub ws_base: String,
    /// Base of HTTP URLs, e.g. `http://127.0.0.1:8080` (no trailing slash).
    pub http_base: String,
    /// Token to present first, if any (`?token=` on the socket, `Bearer` on HTTP).
    pub token: Option<String>,
    /// Shell time at which `token` expires, when known (e.g. from an upload
    /// answer's `expires_in_s`). With a provider, a token about to expire is
    /// refreshed before the next connection instead of after a refusal.
    pub token_expires_at: Option<super::Millis>,
    /// Whether the shell has a token provider to answer `RefreshToken`.
    /// Without one, a refused token stops the session with an auth error.
    pub token_provider: bool,
    /// Policy knobs.
    pub options: SessionOptions,
}

/// Reconnect, fallback and liveness policy. Times are in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionOptions {
    /// Reconnect automatically after a transient failure. Default `true`;
    /// when `false`, only `Input::Reconnect` opens a new socket.
    pub auto_retry: bool,
    /// Delay before the first retry. Default 2 000.
    pub initial_retry_ms: u64,
    /// Largest retry delay. Default 16 000.
    pub max_retry_ms: u64,
    /// Growth factor between retries. Default 2.0.
    pub backoff_factor: f64,
    /// Full jitter (uniform in `[0, delay]`). Default `true`.
    pub jitter: bool,
    /// Failed socket attempts before falling back to HTTP polling. Default 3.
    pub max_retries: u32,
    /// HTTP polling interval. Default 3 000.
    pub poll_interval_ms: u64,
    /// How often polling probes the socket again. Default 30 000.
    pub probe_interval_ms: u64,
    /// A socket not open after this long is abandoned. Default 10 000.
    pub connect_timeout_ms: u64,
    /// Heartbeat ping interval on an open socket. Default 30 000.
    pub heartbeat_interval_ms: u64,
    /// A ping unanswered for this long means the socket is dead. Default 10 000.
    pub pong_timeout_ms: u64,
    /// A socket up this long resets the retry count. Default 5 000.
    pub stable_after_ms: u64,
    /// Backoff after the server said it is full (1013). Default 30 000.
    pub server_full_retry_ms: u64,
    /// An HTTP poll unanswered for this long is abandoned. Default 10 000.
    pub poll_timeout_ms: u64,
    /// While a job runs and updates arrive at a rhythm, silence longer than
    /// `stall_factor` times the usual gap (and at least this long) sends an
    /// early ping and shows "checking connection". Default 5 000; 0 turns
    /// stall checks off (the heartbeat still runs).
    pub stall_check_min_ms: u64,
    /// How many usual gaps of silence make a stall. Default 3.
    pub stall_factor: u32,
    /// An early ping unanswered for this long means the socket is dead. Default 5 000.
    pub stall_pong_timeout_ms: u64,
    /// A token expiring within this long is refreshed before a connection
    /// (needs a provider and a known expiry). Default 30 000.
    pub token_refresh_margin_ms: u64,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self {
            auto_retry: true,
            initial_retry_ms: 2_000,
            max_retry_ms: 16_000,
            backoff_factor: 2.0,
            jitter: true,
            max_retries: 3,
            poll_interval_ms: 3_000,
            probe_interval_ms: 30_000,
            connect_timeout_ms: 10_000,
            heartbeat_interval_ms: 30_000,
            pong_timeout_ms: 10_000,
            stable_after_ms: 5_000,
            server_full_retry_ms: 30_000,
            poll_timeout_ms: 10_000,
            stall_check_min_ms: 5_000,
            stall_factor: 3,
            stall_pong_timeout_ms: 5_000,
            token_refresh_margin_ms: 30_000,
        }
    }
}
