//! Plain HTTP endpoints (and the handlers of paths that also upgrade to sockets).

mod job_set;
mod jobs;
mod progress;
mod set_poll;
mod sse;
mod status;

pub use job_set::JobSetQuery;
pub(crate) use jobs::new_process_id;
#[cfg(feature = "demo")]
pub(crate) use jobs::{accepted, process_exists};
pub use jobs::{body_limit, refresh_token, upload, TokenTtlQuery};
pub use progress::{health, progress_all, progress_by_id, TokenQuery};
pub use set_poll::set_poll;
pub use sse::job_events;
#[cfg(feature = "demo")]
pub(crate) use status::stats_body;
pub use status::{stats, stats_rate_limit, status};
