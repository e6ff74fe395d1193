//! Benchmark suite of UploadProgressRobust.
//!
//! The binary `upload-progress-bench` measures one thing per subcommand and
//! writes the figures as JSON; `report` turns a folder of those files into
//! `BENCHMARKS.md` (and the reconnect-storm SVG). `scripts/bench.sh` runs the
//! whole suite.
//!
//! The load generator drives the real client `Session` of `upload-progress-core`
//! for every simulated subscriber, so reconnects, backoff and the fallback to
//! HTTP polling happen exactly as in the browser component.

pub mod cli;
pub mod client;
pub mod fanout;
pub mod floor;
pub mod proc_stats;
pub mod report;
pub mod results;
pub mod server;
pub mod sizes;
pub mod stats;
pub mod storm;
