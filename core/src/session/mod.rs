//! The client session: one state machine that owns every reconnect,
//! fallback and liveness decision for following one job.
//!
//! API (sans-IO, in the style of quinn-proto and str0m):
//! - `Session::new(config, seed)`: `seed` feeds the jitter generator;
//! - `handle(input, now)`: feed an event;
//! - `handle_timeout(now)`: call when `poll_timeout()`'s deadline passes;
//! - `poll_timeout()`: the next deadline, if any;
//! - `poll_action()`: drain the actions the shell must carry out;
//! - `status()` / `progress()`: what the UI shows.

mod io;
mod options;
#[allow(clippy::module_inception)]
mod session;
mod status;

pub use io::{Action, AttemptId, Input, Millis, PollOutcome, RequestId};
pub use options::{SessionConfig, SessionOptions};
pub use session::Session;
pub use status::{Connection, ErrorKind, Mode, Status, StatusError};
