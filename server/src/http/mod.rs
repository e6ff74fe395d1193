//! Plain HTTP endpoints (and the handlers of paths that also upgrade to sockets).

mod admin;
mod jobs;
mod progress;
mod status;

pub use admin::{cleanup, faults_get, faults_post};
pub(crate) use jobs::new_process_id;
pub use jobs::{body_limit, refresh_token, test_job, upload, TestJobQuery, TokenTtlQuery};
pub use progress::{health, progress_all, progress_by_id, TokenQuery};
pub use status::{stats, stats_detailed, stats_rate_limit, status};
