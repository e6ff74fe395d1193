//! `upload-progress-bench`: one measurement per subcommand; see `scripts/bench.sh`.

use anyhow::{Context, Result};
use clap::Parser;
use upload_progress_bench::cli::{Cli, Cmd, ServerArgs};
use upload_progress_bench::report::{self, ReportArgs};
use upload_progress_bench::results::write_json;
use upload_progress_bench::server::ServerCmd;
use upload_progress_bench::{fanout, sizes, storm};

fn server_cmd(a: ServerArgs) -> ServerCmd {
    ServerCmd {
        bin: a.server_bin,
        args: a.server_args,
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Fanout(a) => {
            let w = fanout::Workload {
                clients: a.clients,
                per_job: a.per_job,
                step_ms: a.step_ms,
                steps_per_stage: a.steps_per_stage,
                ramp_batch: a.ramp_batch,
                redis_url: a.redis_url,
            };
            let r = fanout::run(&server_cmd(a.server), &w, a.runs).await?;
            write_json(&a.out, &r)
        }
        Cmd::Storm(a) => {
            let s = storm::Storm {
                clients: a.clients,
                per_job: a.per_job,
                down_ms: a.down_ms,
                window_ms: a.window_ms,
                ramp_batch: a.ramp_batch,
                graceful: a.graceful,
                redis_url: a.redis_url,
            };
            let r = storm::run(&server_cmd(a.server), &s, a.jitter, a.runs).await?;
            write_json(&a.out, &r)
        }
        Cmd::Sizes(a) => write_json(
            &a.out,
            &sizes::measure(&a.name, &a.wasm, &a.js, &a.named_wasm)?,
        ),
        Cmd::Report(a) => {
            let budget_gzip = match &a.budget_file {
                Some(p) => Some(
                    std::fs::read_to_string(p)
                        .with_context(|| format!("reading {p:?}"))?
                        .trim()
                        .parse()
                        .with_context(|| format!("{p:?} must hold a number of bytes"))?,
                ),
                None => None,
            };
            report::write(&ReportArgs {
                results: a.results,
                out: a.out,
                svg: a.svg,
                budget_gzip,
                runtime_s: a.runtime_s,
                command: a.command,
                append: a.append,
            })
        }
    }
}
