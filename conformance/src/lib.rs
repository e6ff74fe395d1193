//! Conformance kit for the upload progress wire protocol v1 (`PROTOCOL.md`).
//!
//! [`run`] holds a live server to every MUST of the protocol over real
//! sockets and real HTTP and returns a [`Report`] with one result per check.
//! The binary `upload-progress-conformance` prints that report; tests call
//! [`run`] directly.
//!
//! ```no_run
//! # async fn demo() {
//! let mut opts = upload_progress_conformance::Options::new("http://127.0.0.1:8080");
//! opts.echo = true; // print `PASS name` / `FAIL name: why` as the checks run
//! let report = upload_progress_conformance::run(opts).await;
//! println!("{}", report.summary());
//! assert!(report.success());
//! # }
//! ```

pub mod checks;
pub mod http;
pub mod ids;
pub mod options;
pub mod report;
pub mod rules;
pub mod socket;
pub mod wire;

pub use checks::{run, CHECKS};
pub use options::{Options, Pace, DEFAULT_START_JOB};
pub use report::{CheckResult, Outcome, Report};
