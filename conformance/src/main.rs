//! `upload-progress-conformance http://host:port [options]`: runs the
//! protocol v1 conformance checks against a live server and prints one line
//! per check, then `N passed, M failed`. Exits 0 only when nothing failed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use upload_progress_conformance::{run, Options, CHECKS, DEFAULT_START_JOB};

const AFTER_HELP: &str = "\
Jobs are started by POSTing to --start-job-url, where {base}, {id},
{step_ms} and {steps} are replaced; a server may ignore the pace, but its
jobs must still be running a second after they start. With --tokens the kit
presents each job's token from the start-job answer (for the dev server:
--require-token).

--list prints the checks; --skip takes their names or a prefix such as `ws.`.
Exit status: 0 when every check that ran passed, 1 when any failed, 2 for bad usage.";

/// Command line of the kit.
#[derive(Debug, Parser)]
#[command(
    name = "upload-progress-conformance",
    version,
    about = "Holds a live server to every MUST of the upload progress wire protocol v1 (PROTOCOL.md).",
    after_help = AFTER_HELP
)]
struct Cli {
    /// Base URL of the server under test, e.g. http://127.0.0.1:8080.
    server: Option<String>,
    /// URL template of the POST that starts a job.
    #[arg(long, default_value = DEFAULT_START_JOB)]
    start_job_url: String,
    /// Bearer token sent with the start-job POST (e.g. an admin token).
    #[arg(long, env = "UPR_CONFORMANCE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Upper bound of each wait (connect, answer, next frame), in ms.
    #[arg(long, default_value_t = 5_000)]
    timeout_ms: u64,
    /// How long to wait for close 4404 on an id that never gets a job, in ms
    /// (longer than the server's grace period).
    #[arg(long, default_value_t = 15_000)]
    grace_wait_ms: u64,
    /// Upper bound for following one whole job, in ms.
    #[arg(long, default_value_t = 60_000)]
    job_timeout_ms: u64,
    /// The server requires job tokens: take each job's token from the
    /// `token` field of the start-job answer and present it (?token= on
    /// sockets, Bearer on polls); checks that need an id without a job are skipped.
    #[arg(long)]
    tokens: bool,
    /// Checks to skip, by name or prefix; repeatable or comma-separated.
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
    /// Print the checks and exit.
    #[arg(long)]
    list: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.list {
        for (name, what) in CHECKS {
            println!("{name:32} {what}");
        }
        return ExitCode::SUCCESS;
    }
    let Some(server) = cli.server else {
        eprintln!("usage: upload-progress-conformance http://HOST:PORT [options] (see --help)");
        return ExitCode::from(2);
    };
    for skip in &cli.skip {
        if !CHECKS
            .iter()
            .any(|(name, _)| name.starts_with(skip.as_str()))
        {
            eprintln!("--skip {skip}: no check has that name or prefix (see --list)");
            return ExitCode::from(2);
        }
    }
    let mut opts = Options::new(server);
    opts.start_job = cli.start_job_url;
    opts.start_bearer = cli.admin_token;
    opts.timeout = Duration::from_millis(cli.timeout_ms.max(1));
    opts.grace_wait = Duration::from_millis(cli.grace_wait_ms);
    opts.job_timeout = Duration::from_millis(cli.job_timeout_ms.max(1));
    opts.skip = cli.skip;
    opts.tokens = cli.tokens;
    opts.echo = true;
    println!("protocol v1.1 conformance of {}", opts.base());
    let started = Instant::now();
    let report = run(opts).await;
    println!("{}", report.summary());
    eprintln!("(took {:.1} s)", started.elapsed().as_secs_f64());
    if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
