//! The client session: one state machine that owns every reconnect,
//! fallback and liveness decision for following one job.
//!
//! API (sans-IO, in the style of quinn-proto and str0m):
//! - `Session::new(config, seed)`: `seed` feeds the jitter generator;
//! - `handle(input, now)`: feed an event;
//! - `handle_timeout(now)`: call when `poll_timeout()`'s deadline passes
//!   (a call before it is harmless: nothing runs before its deadline);
//! - `poll_timeout()`: the next deadline, if any;
//! - `poll_action()`: drain the actions the shell must carry out;
//! - `status()` / `progress()`: what the UI shows.
//!
//! # Policy
//!
//! - **Backoff.** A failed socket waits `initial_retry_ms` (2 s), then ×2 up
//!   to `max_retry_ms` (16 s), each wait drawn uniformly from `[0, delay]`
//!   when `jitter` is on. After `max_retries` (3) retries have failed too,
//!   the session polls over HTTP every `poll_interval_ms` and probes the
//!   socket every `probe_interval_ms`; a probe that opens *and* delivers its
//!   snapshot switches back to the socket and stops polling.
//! - **Liveness.** A socket that has not opened and sent its snapshot within
//!   `connect_timeout_ms` is closed and counts as a failure. An open socket
//!   sends a `ping` every `heartbeat_interval_ms`; if nothing at all arrives
//!   within `pong_timeout_ms`, it is closed (4000, "heartbeat timeout") and
//!   counts as a failure. A socket up `stable_after_ms` resets the count.
//! - **Close codes** follow [`crate::CloseClass`]: 1000 finishes (or polls
//!   once for the final state it missed); 1001/1012 reconnect after the
//!   `server_shutdown` hint without counting; 1013 polls and probes after
//!   `server_full_retry_ms`; 1008/1009/4400 and 4404 stop with an error;
//!   4401 asks for a fresh token once, then stops with an auth error.
//! - **HTTP answers.** 401 takes the token path; 404 `unknown_process` is
//!   tolerated for 10 s after following began (the job may still be being
//!   registered) unless the job was already seen; 400/403 stop; everything
//!   else keeps polling with `last_error` set.
//! - **Lifecycle.** Offline pauses retries, polls and probes (an open socket
//!   stays, but is checked at once with an early ping, and failures while
//!   offline are not counted); online, visible, pageshow and a network
//!   change retry at once, at most once per second so a burst of them
//!   costs one attempt, and online or a network change also check a
//!   delivering socket at once. Pagehide closes everything and shows
//!   `Idle` until pageshow (or visible) resumes the same mode at once.
//!   `Reconnect` resets the retry budget and the token retry and opens a
//!   fresh socket now (keeping one that is still connecting), even after
//!   an error stop, and even offline (the page then still says offline
//!   and a failure is not counted).
//! - **Frozen and hidden pages** (`wake.rs`). A hidden tab keeps its socket,
//!   its heartbeat and its retries (at the backoff's pace). A deadline
//!   reached more than [`LATE_TIMER_TOLERANCE_MS`] late means the page did
//!   not run (frozen, asleep, throttled): the socket is re-checked with an
//!   early ping whose pong alone proves it alive, instead of being judged
//!   by a deadline that passed while nothing could be read.
//! - **Automatic retry off.** With `auto_retry: false` every transient
//!   failure stops with an error; only `Reconnect` opens a socket again.
//!   Polling for the final state after a 1000 close still happens (it is
//!   not a reconnect), but without socket probes.
//! - **Finality.** A terminal job state closes everything for good. `Stop`
//!   is final too: a stopped session never opens anything again, not even
//!   on `Reconnect`; follow the job again with a new `Session`.
//! - **Deliberate closes** use code 1000 (browsers refuse 1001 from scripts)
//!   with a reason saying why; liveness failures use 4000.

pub(crate) mod backoff;
pub(crate) mod conditions;
pub(crate) mod errors;
mod events;
mod frame;
mod io;
pub(crate) mod lifecycle;
mod options;
mod polling;
mod recovery;
#[allow(clippy::module_inception)]
mod session;
mod socket;
pub(crate) mod state;
mod status;
pub(crate) mod time;
mod timers;
pub(crate) mod urls;
mod view;
mod wake;

pub use crate::names::ConnectionKind;
pub use events::SessionEvent;
pub use frame::{
    bar_animates, Flush, PendingView, BAR_ANIMATION_MIN_GAP_MS, FRAME_FALLBACK_MS,
    FRAME_MIN_INTERVAL_MS,
};
pub use io::{Action, AttemptId, Input, Millis, PollOutcome, RequestId};
pub use options::{SessionConfig, SessionOptions};
pub use session::Session;
pub use status::{Connection, ErrorKind, Mode, Status, StatusError};
pub use wake::LATE_TIMER_TOLERANCE_MS;
