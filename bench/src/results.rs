//! The JSON files each measurement writes and `report` reads.
//!
//! The neutral load generator (`bench/loadgen`) writes [`FanoutResult`]
//! with the same field names for both servers, so both sides of the
//! comparison go through one report path.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

/// One fan-out run: one fresh server, `clients` subscribers, one round of jobs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutRun {
    /// Subscribers connected.
    pub clients: u64,
    /// Jobs started (one per `per_job` subscribers).
    pub jobs: u64,
    /// Time to get every subscriber connected, ms.
    pub connect_ms: u64,
    /// Server VmRSS before any subscriber connected, KiB.
    pub rss_before_kib: u64,
    /// Server VmRSS with every subscriber connected, KiB.
    pub rss_after_kib: u64,
    /// Server CPU time (user + system) during the job window, seconds.
    pub cpu_s: f64,
    /// Length of the job window, seconds.
    pub window_s: f64,
    /// CPU time of the load generator (all its processes) over the same window, seconds.
    #[serde(default)]
    pub client_cpu_s: Option<f64>,
    /// Update latency samples (server `updated_at_ms` to client receipt), summarised.
    pub latency_p50_ms: Option<u64>,
    /// 99th percentile of the latency samples.
    pub latency_p99_ms: Option<u64>,
    /// Largest latency sample.
    pub latency_max_ms: Option<u64>,
    /// Number of latency samples.
    pub latency_samples: u64,
    /// 99th percentile of the final states' latency alone (they arrive in a
    /// burst as jobs end, together with the closes).
    #[serde(default)]
    pub final_latency_p99_ms: Option<u64>,
    /// Subscribers that received their job's final state.
    pub finals_received: u64,
    /// Subscribers that should have (all of them).
    pub finals_expected: u64,
    /// Distinct progress seqs received, summed over subscribers.
    pub seqs_delivered: u64,
    /// Distinct progress seqs the server emitted, times subscribers per job.
    pub seqs_sent: u64,
    /// Subscribers that fell back to HTTP polling at any point (`Session`
    /// client), or sockets lost before their final state (neutral generator).
    pub fell_back: u64,
    /// Median over jobs of due start to the final state's `updated_at_ms`, ms.
    #[serde(default)]
    pub job_ms_median: Option<u64>,
    /// Longest such job, ms.
    #[serde(default)]
    pub job_ms_max: Option<u64>,
    /// One-minute load average when the run started.
    #[serde(default)]
    pub load_1m: Option<f64>,
}

/// All runs of one implementation at one size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FanoutResult {
    /// `upload-progress-server` or `socket.io`.
    pub implementation: String,
    /// What read the servers: the neutral Node load generator or our `Session` client.
    #[serde(default)]
    pub generator: Option<String>,
    /// Subscribers per job.
    pub per_job: u64,
    /// Interval between progress steps of a job, ms.
    pub step_ms: u64,
    /// Progress steps per stage (4 stages per job).
    pub steps_per_stage: u64,
    /// One entry per run.
    pub runs: Vec<FanoutRun>,
}

/// One idle-scale run (`bench/loadgen/fanout.js --idle-s`): a fresh
/// server, `clients` subscribers to jobs that have not started, then a
/// silent window.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleRun {
    /// Subscribers connected.
    pub clients: u64,
    /// Time to get every subscriber connected, ms.
    pub connect_ms: u64,
    /// Server VmRSS before any subscriber connected, KiB.
    pub rss_before_kib: u64,
    /// Server VmRSS with every subscriber connected, KiB.
    pub rss_after_kib: u64,
    /// Server VmRSS at the end of the silent window, KiB.
    pub rss_end_kib: u64,
    /// Server CPU time (user + system) over the silent window, seconds.
    pub cpu_s: f64,
    /// Length of the silent window, seconds.
    pub window_s: f64,
    /// Load generator CPU over the window, seconds.
    #[serde(default)]
    pub client_cpu_s: Option<f64>,
    /// Sockets still open at the end (must be `clients`).
    pub open_at_end: u64,
    /// The kernel's TCP memory at the start of the window (every socket,
    /// both ends), KiB.
    #[serde(default)]
    pub kernel_tcp_kib: Option<f64>,
    /// One-minute load average when the run started.
    #[serde(default)]
    pub load_1m: Option<f64>,
    /// Server instances the subscribers were spread over (absent: one).
    #[serde(default)]
    pub instances: Option<u64>,
    /// The machine's kernel memory for sockets before anyone connected.
    #[serde(default)]
    pub kernel_before: Option<KernelMemory>,
    /// The same with everyone connected.
    #[serde(default)]
    pub kernel_after: Option<KernelMemory>,
    /// Redis's own figures, when the instances shared one.
    #[serde(default)]
    pub redis: Option<RedisFigures>,
}

/// The kernel memory that sockets take, whole machine.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KernelMemory {
    /// `Slab` of /proc/meminfo, KiB.
    pub slab_kib: Option<f64>,
    /// The socket slab caches in use (`TCP`, `sock_inode_cache`, `filp`,
    /// `eventpoll_epi` of /proc/slabinfo), KiB.
    #[serde(default)]
    pub socket_slab_kib: Option<f64>,
    /// Each of those caches, KiB.
    #[serde(default)]
    pub caches_kib: std::collections::BTreeMap<String, f64>,
    /// TCP buffer pages of /proc/net/sockstat, KiB.
    pub tcp_kib: Option<f64>,
}

/// Redis's INFO over an idle run.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct RedisFigures {
    /// CPU (user + system) over the silent window, seconds.
    pub cpu_s: f64,
    /// CPU while everyone connected, seconds.
    pub connect_cpu_s: f64,
    /// `used_memory` before anyone connected, KiB.
    pub used_memory_before_kib: f64,
    /// `used_memory` at the end of the window, KiB.
    pub used_memory_kib: f64,
    /// `used_memory_rss` at the end of the window, KiB.
    pub rss_kib: f64,
    /// `connected_clients` at the end of the window.
    pub clients: f64,
}

/// All idle runs of one implementation at one size.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdleResult {
    /// `upload-progress-server` or `socket.io`.
    pub implementation: String,
    /// Length of the silent window asked for, seconds.
    pub idle_s: f64,
    /// Subscribers per (not started) job.
    pub per_job: u64,
    /// One entry per run.
    pub runs: Vec<IdleRun>,
}

/// One reconnect-storm run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormRun {
    /// Subscribers.
    pub clients: u64,
    /// How long the server was down (kill to listening again), ms.
    pub down_ms: u64,
    /// Kill to every subscriber live on the socket again, ms; `None` if not within the window.
    pub all_live_ms: Option<u64>,
    /// Subscribers live at the end of the window.
    pub live_at_end: u64,
    /// Highest number of sockets opened in any one-second window after the kill.
    pub peak_opens_per_s: u64,
    /// Subscribers that fell back to HTTP polling after the kill.
    pub fell_back: u64,
    /// Socket attempts that failed after the kill.
    pub failed_attempts: u64,
    /// `(ms since kill, live subscribers)` samples, for the plot.
    pub samples: Vec<(i64, u64)>,
}

/// All runs of the storm with one jitter setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StormResult {
    /// `SessionOptions::jitter`.
    pub jitter: bool,
    /// Stopped with SIGTERM (graceful drain) rather than SIGKILL.
    #[serde(default)]
    pub graceful: bool,
    /// One entry per run.
    pub runs: Vec<StormRun>,
}

/// Sizes of one built bundle file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileSize {
    /// What it is (`wasm`, `js`).
    pub kind: String,
    /// File name.
    pub file: String,
    /// Bytes on disk.
    pub raw: u64,
    /// Bytes after gzip -9.
    pub gzip: u64,
    /// Bytes after brotli quality 11.
    pub brotli: u64,
}

/// Sizes of one bundle, plus its largest code items.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BundleSizes {
    /// `component` or `counter`.
    pub name: String,
    /// The wasm and its JS glue.
    pub files: Vec<FileSize>,
    /// `twiggy top` rows: (item, shallow bytes, percent), from a build with names.
    pub top: Vec<(String, u64, f64)>,
}

/// Writes `value` as pretty JSON to `path`.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {dir:?}"))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("writing {path:?}"))
}

/// Reads JSON from `path`.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {path:?}"))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {path:?}"))
}

/// One browser-side figure, measured several times.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Figure {
    /// What is measured.
    pub name: String,
    /// Unit of `values`.
    pub unit: String,
    /// How it was measured.
    pub method: String,
    /// One value per run.
    pub values: Vec<f64>,
}

/// The browser measurements (`bench/client/run.js` writes this file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientResult {
    /// Browser name and version.
    pub browser: String,
    /// The figures.
    pub figures: Vec<Figure>,
}
