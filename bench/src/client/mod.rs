//! A native shell around the core `Session`: one tokio task per simulated
//! subscriber carries out the session's actions (sockets, HTTP polls, timers)
//! the way the browser shell does, so the load behaves like real components.

mod driver;
mod fetch;
mod metrics;
mod socket;

pub use driver::{run_client, ClientSpec, Shared};
pub use metrics::{ClientReport, Counters};
