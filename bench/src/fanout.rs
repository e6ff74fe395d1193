//! Server fan-out: many subscribers follow jobs that emit progress at a set
//! rate; measures server memory per connection, server CPU, update latency
//! and delivery.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tokio::sync::watch;
use tokio::task::JoinSet;
use upload_progress_core::session::{SessionConfig, SessionOptions};
use upload_progress_core::ProcessId;

use crate::client::{run_client, ClientReport, ClientSpec, Counters, Shared};
use crate::proc_stats::{cpu_ticks, rss_kib, ticks_per_second};
use crate::results::{FanoutResult, FanoutRun};
use crate::server::{job_seq, start_job, ServerCmd};
use crate::stats::percentile;

/// The workload of one fan-out measurement.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Subscribers.
    pub clients: u64,
    /// Subscribers per job.
    pub per_job: u64,
    /// Interval between progress steps, ms.
    pub step_ms: u64,
    /// Steps per stage (4 stages).
    pub steps_per_stage: u64,
    /// Subscribers started together while connecting.
    pub ramp_batch: u64,
    /// Two instances sharing jobs through this Redis instead of one alone:
    /// jobs start on the first, subscribers alternate between both.
    pub redis_url: Option<String>,
}

/// Runs the workload `runs` times, each on a fresh server.
pub async fn run(cmd: &ServerCmd, w: &Workload, runs: u32) -> Result<FanoutResult> {
    let mut out = Vec::new();
    for run in 0..runs {
        let r = one_run(cmd, w, run)
            .await
            .with_context(|| format!("fan-out run {run}"))?;
        eprintln!(
            "fanout {} clients run {run}: {} KiB -> {} KiB, cpu {:.2} s / {:.2} s, p50 {:?} p99 {:?} ms, finals {}/{}",
            w.clients, r.rss_before_kib, r.rss_after_kib, r.cpu_s, r.window_s,
            r.latency_p50_ms, r.latency_p99_ms, r.finals_received, r.finals_expected
        );
        out.push(r);
    }
    let implementation = if w.redis_url.is_some() {
        "upload-progress-server, 2 instances on Redis"
    } else {
        "upload-progress-server"
    };
    Ok(FanoutResult {
        implementation: implementation.into(),
        generator: Some(
            "upload-progress-bench: the core Session per subscriber, one tokio process".into(),
        ),
        per_job: w.per_job,
        step_ms: w.step_ms,
        steps_per_stage: w.steps_per_stage,
        runs: out,
    })
}

async fn one_run(cmd: &ServerCmd, w: &Workload, run: u32) -> Result<FanoutRun> {
    let load_at_start = load_1m();
    // One instance, or two sharing jobs through Redis (a key prefix of
    // their own per run, so runs never see each other's jobs).
    let servers = match &w.redis_url {
        None => vec![cmd.start("127.0.0.1:0").await?],
        Some(url) => {
            let prefix = format!(
                "bench:{}:{run}:",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_millis())
                    .unwrap_or_default()
            );
            let shared = cmd.with_args(&[
                format!("--redis-url={url}"),
                format!("--redis-prefix={prefix}"),
            ]);
            vec![
                shared.start("127.0.0.1:0").await?,
                shared.start("127.0.0.1:0").await?,
            ]
        }
    };
    let server = &servers[0];
    let pids: Vec<u32> = servers.iter().map(|s| s.pid).collect();
    let rss_all = || -> Result<u64> { pids.iter().map(|p| rss_kib(*p)).sum() };
    let cpu_all = || -> Result<u64> { pids.iter().map(|p| cpu_ticks(*p)).sum() };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    // Let the server finish start-up allocations before the baseline.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = rss_all()?;

    let (stop_tx, stop) = watch::channel(false);
    let (_fallback_tx, count_fallback) = watch::channel(true);
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        http: http.clone(),
        origin: server.http_base.clone(),
        counters: Counters::default(),
        stop,
        count_fallback,
    });
    let jobs = w.clients.div_ceil(w.per_job);
    let job_id = |j: u64| format!("fan_r{run}_j{j}");
    let mut tasks = JoinSet::new();
    let connect_start = Instant::now();
    for i in 0..w.clients {
        let to = &servers[(i as usize) % servers.len()];
        let config = SessionConfig {
            process_id: ProcessId::parse(&job_id(i / w.per_job))?,
            ws_base: to.ws_base.clone(),
            http_base: to.http_base.clone(),
            token: None,
            token_expires_at: None,
            token_provider: false,
            options: SessionOptions::default(),
        };
        let spec = ClientSpec {
            config,
            seed: (u64::from(run) << 32) | i,
        };
        tasks.spawn(run_client(shared.clone(), spec));
        // Connect in batches, as real traffic arrives, rather than flooding the accept queue.
        if (i + 1) % w.ramp_batch == 0 || i + 1 == w.clients {
            wait_live(&shared.counters, i + 1, Duration::from_secs(30)).await?;
        }
    }
    let connect_ms = connect_start.elapsed().as_millis() as u64;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after_kib = rss_all()?;

    let cpu0 = cpu_all()?;
    let own0 = cpu_ticks(std::process::id())?;
    let window = Instant::now();
    let mut starts = JoinSet::new();
    for j in 0..jobs {
        let (http, base, id) = (http.clone(), server.http_base.clone(), job_id(j));
        let (step, steps) = (w.step_ms, w.steps_per_stage);
        starts.spawn(async move { start_job(&http, &base, &id, step, steps).await });
    }
    while let Some(r) = starts.join_next().await {
        r??;
    }
    let job_ms = 4 * w.steps_per_stage * w.step_ms;
    let limit = Duration::from_millis(job_ms + 20_000);
    let mut reports: Vec<ClientReport> = Vec::with_capacity(w.clients as usize);
    let collect = async {
        while let Some(r) = tasks.join_next().await {
            reports.push(r?);
        }
        anyhow::Ok(())
    };
    if tokio::time::timeout(limit, collect).await.is_err() {
        // Some subscribers never saw the end: stop them and keep what they saw.
        let _ = stop_tx.send(true);
        while let Some(r) = tasks.join_next().await {
            reports.push(r?);
        }
    }
    let window_s = window.elapsed().as_secs_f64();
    let cpu_s = (cpu_all()? - cpu0) as f64 / ticks_per_second() as f64;
    let client_cpu_s = (cpu_ticks(std::process::id())? - own0) as f64 / ticks_per_second() as f64;

    let mut seqs_sent = 0;
    for j in 0..jobs {
        let (seq, _) = job_seq(&http, &server.http_base, &job_id(j)).await?;
        let subscribers = w.per_job.min(w.clients - j * w.per_job);
        seqs_sent += seq * subscribers;
    }
    for server in servers {
        server.kill().await?;
    }

    let mut lat: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.latencies_ms.iter().copied())
        .collect();
    lat.sort_unstable();
    Ok(FanoutRun {
        clients: w.clients,
        jobs,
        connect_ms,
        rss_before_kib,
        rss_after_kib,
        cpu_s,
        window_s,
        client_cpu_s: Some(client_cpu_s),
        latency_p50_ms: percentile(&lat, 0.50),
        latency_p99_ms: percentile(&lat, 0.99),
        latency_max_ms: lat.last().copied(),
        latency_samples: lat.len() as u64,
        final_latency_p99_ms: None,
        finals_received: reports.iter().filter(|r| r.final_seq.is_some()).count() as u64,
        finals_expected: w.clients,
        seqs_delivered: reports.iter().map(|r| r.seqs).sum(),
        seqs_sent,
        fell_back: reports.iter().filter(|r| r.fell_back).count() as u64,
        // Jobs start together here, not spread; their run time is not compared.
        job_ms_median: None,
        job_ms_max: None,
        load_1m: load_at_start,
    })
}

/// Waits until `want` subscribers are live on the socket.
pub async fn wait_live(c: &Counters, want: u64, limit: Duration) -> Result<()> {
    let start = Instant::now();
    while c.live.load(Ordering::Relaxed) < want {
        if start.elapsed() > limit {
            bail!(
                "only {} of {want} subscribers connected after {limit:?}",
                c.live.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

/// The one-minute load average from `/proc/loadavg`, if readable.
fn load_1m() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
