//! Reconnect storm: every subscriber is live, the server process is killed
//! and restarted on the same port, and the subscribers' sessions find their
//! way back. Measures time to all-live, the peak rate of new connections and
//! fallbacks to polling.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use tokio::sync::watch;
use tokio::task::JoinSet;
use upload_progress_core::session::{SessionConfig, SessionOptions};
use upload_progress_core::ProcessId;

use crate::client::{run_client, ClientSpec, Counters, Shared};
use crate::fanout::wait_live;
use crate::results::{StormResult, StormRun};
use crate::server::{start_job, Server, ServerCmd};

/// Parameters of the storm.
#[derive(Debug, Clone)]
pub struct Storm {
    /// Subscribers.
    pub clients: u64,
    /// Subscribers per job.
    pub per_job: u64,
    /// Time the server stays down before the restart, ms.
    pub down_ms: u64,
    /// How long to wait for everyone to be live again, ms.
    pub window_ms: u64,
    /// Subscribers started together while connecting.
    pub ramp_batch: u64,
    /// Stop with SIGTERM (graceful drain) instead of SIGKILL.
    pub graceful: bool,
    /// Keep jobs in this Redis (a key prefix per run), so the restarted
    /// server still serves them, as in a rolling deploy.
    pub redis_url: Option<String>,
}

const SAMPLE_MS: u64 = 50;

/// Runs the storm `runs` times with jitter on or off.
pub async fn run(cmd: &ServerCmd, s: &Storm, jitter: bool, runs: u32) -> Result<StormResult> {
    let mut out = Vec::new();
    for run in 0..runs {
        let r = one_run(cmd, s, jitter, run)
            .await
            .with_context(|| format!("storm run {run} (jitter {jitter})"))?;
        eprintln!(
            "storm jitter={jitter} run {run}: all live after {:?} ms, peak {} opens/s, {} fell back",
            r.all_live_ms, r.peak_opens_per_s, r.fell_back
        );
        out.push(r);
    }
    Ok(StormResult {
        jitter,
        graceful: s.graceful,
        runs: out,
    })
}

async fn one_run(cmd: &ServerCmd, s: &Storm, jitter: bool, run: u32) -> Result<StormRun> {
    let shared_cmd;
    let cmd = match &s.redis_url {
        None => cmd,
        Some(url) => {
            let millis = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis())
                .unwrap_or_default();
            shared_cmd = cmd.with_args(&[
                format!("--redis-url={url}"),
                format!("--redis-prefix=storm:{millis}:{run}:"),
            ]);
            &shared_cmd
        }
    };
    let server = cmd.start("127.0.0.1:0").await?;
    let addr = server.addr().to_owned();
    let http = reqwest::Client::new();
    let (stop_tx, stop) = watch::channel(false);
    let (fallback_tx, count_fallback) = watch::channel(false);
    let shared = Arc::new(Shared {
        epoch: Instant::now(),
        http: http.clone(),
        origin: server.http_base.clone(),
        counters: Counters::default(),
        stop,
        count_fallback,
    });
    let jobs = s.clients.div_ceil(s.per_job);
    let job_id = |j: u64| format!("storm_r{run}_j{j}");
    // Long, slow jobs: they are mid-way when the server dies, as in production.
    for j in 0..jobs {
        start_job(&http, &server.http_base, &job_id(j), 1_000, 1_000).await?;
    }
    let mut tasks = JoinSet::new();
    for i in 0..s.clients {
        let options = SessionOptions {
            jitter,
            ..SessionOptions::default()
        };
        let config = SessionConfig {
            process_id: ProcessId::parse(&job_id(i / s.per_job))?,
            ws_base: server.ws_base.clone(),
            http_base: server.http_base.clone(),
            token: None,
            token_expires_at: None,
            token_provider: false,
            options,
        };
        let seed = (u64::from(run) << 32) | i;
        tasks.spawn(run_client(shared.clone(), ClientSpec { config, seed }));
        if (i + 1) % s.ramp_batch == 0 || i + 1 == s.clients {
            wait_live(&shared.counters, i + 1, Duration::from_secs(30)).await?;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sampler = tokio::spawn(sample(shared.clone(), s.window_ms + 1_000, s.clients));
    // A second of "before" in the plot.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let opened_at_kill = Counters::get(&shared.counters.opened);
    let failed_at_kill = Counters::get(&shared.counters.failed);
    let _ = fallback_tx.send(true);
    let kill_at = Instant::now();
    if s.graceful {
        server.terminate().await?;
    } else {
        server.kill().await?;
    }
    tokio::time::sleep(Duration::from_millis(s.down_ms)).await;
    let server = restart(cmd, &addr).await?;
    let down_ms = kill_at.elapsed().as_millis() as u64;

    let (samples, opens) = sampler.await?;
    let _ = stop_tx.send(true);
    let mut fell_back = 0;
    while let Some(r) = tasks.join_next().await {
        fell_back += u64::from(r?.fell_back);
    }
    server.kill().await?;

    let kill_ms = (kill_at - shared.epoch).as_millis() as i64;
    let samples: Vec<(i64, u64)> = samples.into_iter().map(|(t, l)| (t - kill_ms, l)).collect();
    // Everyone is still counted live for the few ms before the drops are
    // noticed, so "live again" starts after the first dip.
    let dip = samples.iter().position(|(t, l)| *t >= 0 && *l < s.clients);
    let all_live_ms = dip.and_then(|d| {
        samples[d..]
            .iter()
            .find(|(_, l)| *l >= s.clients)
            .map(|(t, _)| *t as u64)
    });
    let per_window = (1_000 / SAMPLE_MS) as usize;
    let opens_after: Vec<u64> = opens
        .iter()
        .zip(&samples)
        .filter(|(_, (t, _))| *t >= 0)
        .map(|(o, _)| o.saturating_sub(opened_at_kill))
        .collect();
    let peak_opens_per_s = opens_after
        .windows(per_window.min(opens_after.len()).max(1))
        .map(|w| w[w.len() - 1] - w[0])
        .max()
        .unwrap_or(0);
    Ok(StormRun {
        clients: s.clients,
        down_ms,
        all_live_ms,
        live_at_end: samples.last().map(|(_, l)| *l).unwrap_or(0),
        peak_opens_per_s,
        fell_back,
        failed_attempts: Counters::get(&shared.counters.failed) - failed_at_kill,
        samples,
    })
}

/// Starts the server again on the port it had; the old socket may linger briefly.
async fn restart(cmd: &ServerCmd, addr: &str) -> Result<Server> {
    let mut last = None;
    for _ in 0..100 {
        match cmd.start(addr).await {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err(last.expect("at least one attempt")).context("restarting the server")
}

/// Samples `(ms on the shared clock, live subscribers)` and the opened-socket
/// counter, until everyone has been live again for a second after the dip
/// that follows the kill (flagged by `count_fallback`), or `for_ms` has passed.
async fn sample(shared: Arc<Shared>, for_ms: u64, clients: u64) -> (Vec<(i64, u64)>, Vec<u64>) {
    let mut samples = Vec::new();
    let mut opens = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(SAMPLE_MS));
    let end = Instant::now() + Duration::from_millis(for_ms);
    let mut settled_since: Option<Instant> = None;
    let mut dipped = false;
    while Instant::now() < end {
        tick.tick().await;
        let t = shared.epoch.elapsed().as_millis() as i64;
        let live = Counters::get(&shared.counters.live);
        samples.push((t, live));
        opens.push(Counters::get(&shared.counters.opened));
        let after_kill = *shared.count_fallback.borrow();
        dipped |= after_kill && live < clients;
        if dipped && live >= clients {
            let since = *settled_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= Duration::from_millis(1_000) {
                break;
            }
        } else {
            settled_since = None;
        }
    }
    (samples, opens)
}
