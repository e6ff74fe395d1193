//! Command-line interface of `upload-progress-bench`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Benchmarks of UploadProgressRobust; each subcommand writes JSON, `report` writes markdown.
#[derive(Debug, Parser)]
#[command(version, about)]
pub struct Cli {
    /// What to measure.
    #[command(subcommand)]
    pub command: Cmd,
}

/// The measurements.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Server fan-out: memory, CPU, latency and delivery at N subscribers.
    Fanout(FanoutArgs),
    /// Reconnect storm: kill and restart the server under N live subscribers.
    Storm(StormArgs),
    /// Raw, gzip and brotli sizes of a bundle, plus twiggy's largest items.
    Sizes(SizesArgs),
    /// Writes BENCHMARKS.md and the storm plot from a folder of results.
    Report(ReportCli),
}

/// How to start the server under test.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// The `upload-progress-server` binary.
    #[arg(long)]
    pub server_bin: PathBuf,
    /// Extra server flag (repeatable), e.g. `--server-arg=--max-connections=20000`.
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
}

/// `fanout` options.
#[derive(Debug, Args)]
pub struct FanoutArgs {
    /// Server to start for each run.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Subscribers.
    #[arg(long, default_value_t = 1000)]
    pub clients: u64,
    /// Subscribers per job.
    #[arg(long, default_value_t = 100)]
    pub per_job: u64,
    /// Interval between progress steps, ms.
    #[arg(long, default_value_t = 250)]
    pub step_ms: u64,
    /// Progress steps per stage (4 stages).
    #[arg(long, default_value_t = 5)]
    pub steps_per_stage: u64,
    /// Subscribers connected together.
    #[arg(long, default_value_t = 500)]
    pub ramp_batch: u64,
    /// Run two server instances sharing jobs through this Redis: jobs start
    /// on the first, subscribers alternate between both.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Repetitions, each on a fresh server.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// JSON output.
    #[arg(long)]
    pub out: PathBuf,
}

/// `storm` options.
#[derive(Debug, Args)]
pub struct StormArgs {
    /// Server to start (and restart) for each run.
    #[command(flatten)]
    pub server: ServerArgs,
    /// Subscribers.
    #[arg(long, default_value_t = 5000)]
    pub clients: u64,
    /// Subscribers per job.
    #[arg(long, default_value_t = 100)]
    pub per_job: u64,
    /// `SessionOptions.jitter` of every subscriber.
    #[arg(long, action = clap::ArgAction::Set, default_value_t = true)]
    pub jitter: bool,
    /// Stop the server with SIGTERM (graceful drain: `server_shutdown` with
    /// its `retry_after_ms`, close 1012) instead of SIGKILL.
    #[arg(long)]
    pub graceful: bool,
    /// Keep jobs in this Redis, so the restarted server still serves them.
    #[arg(long)]
    pub redis_url: Option<String>,
    /// Pause between the kill and the restart, ms.
    #[arg(long, default_value_t = 0)]
    pub down_ms: u64,
    /// Longest wait for everyone to be live again, ms.
    #[arg(long, default_value_t = 40_000)]
    pub window_ms: u64,
    /// Subscribers connected together.
    #[arg(long, default_value_t = 500)]
    pub ramp_batch: u64,
    /// Repetitions.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// JSON output.
    #[arg(long)]
    pub out: PathBuf,
}

/// `sizes` options.
#[derive(Debug, Args)]
pub struct SizesArgs {
    /// Label: `component` or `counter`.
    #[arg(long)]
    pub name: String,
    /// The optimised wasm (trunk output).
    #[arg(long)]
    pub wasm: PathBuf,
    /// Its JS glue (trunk output).
    #[arg(long)]
    pub js: PathBuf,
    /// The same module with its name section (wasm-bindgen output before wasm-opt), for twiggy.
    #[arg(long)]
    pub named_wasm: PathBuf,
    /// JSON output.
    #[arg(long)]
    pub out: PathBuf,
}

/// `report` options.
#[derive(Debug, Args)]
pub struct ReportCli {
    /// Folder of JSON results.
    #[arg(long)]
    pub results: PathBuf,
    /// Markdown output.
    #[arg(long, default_value = "BENCHMARKS.md")]
    pub out: PathBuf,
    /// SVG output for the storm plot.
    #[arg(long, default_value = "bench/storm.svg")]
    pub svg: PathBuf,
    /// File holding the gzip budget in bytes.
    #[arg(long)]
    pub budget_file: Option<PathBuf>,
    /// Seconds the whole run took.
    #[arg(long)]
    pub runtime_s: Option<u64>,
    /// The command line to credit in the report.
    #[arg(long, default_value = "bash scripts/bench.sh")]
    pub command: String,
    /// Markdown file copied verbatim after the generated sections when it
    /// exists (repeatable), e.g. a section another script measures.
    #[arg(long)]
    pub append: Vec<PathBuf>,
}
