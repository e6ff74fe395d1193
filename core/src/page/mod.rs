//! The page connection: one transport that follows N jobs for a whole page,
//! and (`wire`) the v1.1 messages it and the server exchange.
//!
//! Same sans-IO API as [`crate::session::Session`]: `handle(input, now)`,
//! `handle_timeout(now)`, `poll_timeout()`, `poll_action()`.
//!
//! # Policy
//!
//! - **One transport.** The connection delivers over one rung at a time:
//!   a page socket, an SSE stream for the set, or a set poll. A probe of
//!   the rung above may be out beside it; the first frame the probe
//!   delivers makes it the transport and closes the old one. A bridge poll
//!   may run while a lost stream is replaced, until the new one delivers.
//! - **The ladder.** WebSocket, then SSE, then polling. Each rung gets the
//!   one-job session's backoff (`initial_retry_ms` ×`backoff_factor` up to
//!   `max_retry_ms`, full jitter) for `max_retries` retries, then the
//!   connection steps down. SSE probes WebSocket and polling probes SSE
//!   every `probe_interval_ms`. Close 1001/1012 reconnects after the
//!   restart hint without counting; 1013 goes to polling and probes after
//!   `server_full_retry_ms`; any other loss counts as a failure (a page
//!   socket refused as a whole must not stop the page: the rungs below
//!   answer per job).
//! - **Liveness**, per connection, as in the session: connect timeout,
//!   heartbeat (a ping on a socket; on SSE the server's keep-alive is
//!   expected within `pong_timeout_ms` of each heartbeat point), stall
//!   checks on the rhythm of frames while a job runs, `stable_after_ms`
//!   resetting the count.
//! - **Per job.** Each job keeps its own `seq` (stale frames are ignored),
//!   token, token refresh (one per job until a frame proves the new token),
//!   and unknown-job grace. A final state, or a refusal that cannot change
//!   (unknown after the grace, bad id, a token refused again) ends that
//!   job only: it leaves the set and the shell is told.
//! - **Subscriptions.** A job subscribed while nothing is open waits and is
//!   sent with every other job's subscription when a socket opens; every
//!   new connection expects each job's snapshot again. An SSE stream names
//!   its set in its URL, so a changed set reopens it (once per burst,
//!   after [`SSE_RESYNC_DELAY_MS`]). The last job leaving closes everything.
//! - **Lifecycle.** Offline pauses retries, polls and probes; online
//!   resumes them at once. Pagehide closes everything until pageshow.
//!   Reconnect starts again at the top rung with fresh counts. Stop is final.
//! - **Knobs.** The connection reads the session's [`SessionOptions`]
//!   except `token_refresh_margin_ms`: tokens are refreshed after a
//!   refusal, per job, not ahead of an expiry. With `auto_retry` off a lost
//!   transport halts the connection (jobs kept) until Reconnect, as a
//!   one-job session stops; widgets share a connection only with widgets
//!   of the same options, so one widget's setting never stops another's.
//!
//! [`SessionOptions`]: crate::session::SessionOptions

pub mod client;
mod connection;
mod fnv;
mod io;
mod jobs;
mod ladder;
mod polls;
pub mod shown;
mod state;
mod streams;
pub mod tab_message;
pub mod tabs;
mod timers;
pub mod wire;

pub use connection::{PageConnection, SSE_KEEPALIVE_MS, SSE_RESYNC_DELAY_MS};
pub use io::{
    ConnId, JobPoll, JobRefusal, PageAction, PageInput, PageStatus, Rung, SetPollOutcome,
    Subscription,
};
pub use tab_message::{channel_name, TabId, TabMessage};
pub use tabs::{Lifecycle, Role, RoleKind, TabAction, Tabs, TokenSource};
pub use wire::{
    set_etag, split_list, JobRef, PageClientMessage, PageServerMessage, SetEntry, SetPollResponse,
    LIST_SEPARATOR, MAX_SUBSCRIPTIONS,
};
