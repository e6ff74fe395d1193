//! Plain HTTP endpoints (and the handlers of paths that also upgrade to sockets).

mod admin;
mod job_set;
mod jobs;
mod progress;
mod set_poll;
mod sse;
mod status;

pub use admin::{cleanup, faults_get, faults_post};
pub use job_set::JobSetQuery;
pub(crate) use jobs::new_process_id;
pub use jobs::{body_limit, refresh_token, test_job, upload, TestJobQuery, TokenTtlQuery};
pub use progress::{health, progress_all, progress_by_id, TokenQuery};
pub use set_poll::set_poll;
pub use sse::job_events;
pub use status::{stats, stats_detailed, stats_rate_limit, status};
