//! Watches the server's connection counts while a scenario runs, and checks
//! that nothing is left behind when the widgets go away.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::server_api::ServerApi;
use crate::{fail, Result};

/// How often the monitor samples `/ws/stats/detailed`.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(200);

/// Per-job counters from `/ws/stats/detailed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobActivity {
    /// Sockets open now.
    pub ws_active: u64,
    /// Sockets opened so far.
    pub ws_opened: u64,
    /// HTTP progress requests so far.
    pub http_requests: u64,
}

/// One reading of the server's statistics.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Sockets open now, all jobs.
    pub active: u64,
    /// Connections (sockets and event streams) opened since the server started.
    pub opened: u64,
    /// Set polls (`GET /ws/page/poll`) the server saw since it started.
    pub page_polls: u64,
    /// Per job.
    pub jobs: BTreeMap<String, JobActivity>,
}

/// Reads `/ws/stats/detailed`.
/// `http_requests` leaves out the test's own reads of the job.
pub async fn read(api: &ServerApi) -> Result<Reading> {
    let body = api.detailed_stats().await?;
    let mut reading = parse(&body)?;
    for (id, job) in reading.jobs.iter_mut() {
        job.http_requests = job.http_requests.saturating_sub(api.own_reads(id));
    }
    Ok(reading)
}

fn parse(body: &Value) -> Result<Reading> {
    let active = body["connections"]["active"]
        .as_u64()
        .ok_or_else(|| fail(format!("no connections.active in {body}")))?;
    let opened = body["connections"]["total"].as_u64().unwrap_or(0);
    let page_polls = body["page_polls"].as_u64().unwrap_or(0);
    let mut jobs = BTreeMap::new();
    if let Some(map) = body["processes"].as_object() {
        for (id, s) in map {
            let n = |k: &str| s[k].as_u64().unwrap_or(0);
            jobs.insert(
                id.clone(),
                JobActivity {
                    ws_active: n("ws_active"),
                    ws_opened: n("ws_opened"),
                    http_requests: n("http_requests"),
                },
            );
        }
    }
    Ok(Reading {
        active,
        opened,
        page_polls,
        jobs,
    })
}

/// The largest values seen while monitoring.
#[derive(Debug, Clone, Default)]
pub struct Peaks {
    /// Samples taken.
    pub samples: u64,
    /// Most sockets open at once, all jobs.
    pub max_active: u64,
    /// Most sockets open at once for any single job, as the server's per-job
    /// counter says (informational: that counter can lag behind the global one).
    pub max_per_job: u64,
    /// Sample errors (the server did not answer).
    pub errors: u64,
    /// Samples with more sockets open than the monitor's limit: when, and how many.
    pub over_limit: Vec<(Instant, u64)>,
}

/// Samples the server in the background until stopped.
pub struct Monitor {
    peaks: Arc<Mutex<Peaks>>,
    task: JoinHandle<()>,
}

impl Monitor {
    /// Starts sampling every [`SAMPLE_EVERY`], noting every sample with
    /// more than `limit` sockets open.
    pub fn start_with_limit(api: &ServerApi, limit: u64) -> Self {
        Self::spawn(api, limit)
    }

    /// Starts sampling every [`SAMPLE_EVERY`].
    pub fn start(api: &ServerApi) -> Self {
        Self::spawn(api, u64::MAX)
    }

    fn spawn(api: &ServerApi, limit: u64) -> Self {
        let peaks = Arc::new(Mutex::new(Peaks::default()));
        let api = api.clone();
        let shared = peaks.clone();
        let task = tokio::spawn(async move {
            loop {
                let reading = read(&api).await;
                if let Ok(mut p) = shared.lock() {
                    p.samples += 1;
                    match reading {
                        Ok(r) => {
                            p.max_active = p.max_active.max(r.active);
                            if r.active > limit {
                                p.over_limit.push((Instant::now(), r.active));
                            }
                            let per_job = r.jobs.values().map(|j| j.ws_active).max().unwrap_or(0);
                            p.max_per_job = p.max_per_job.max(per_job);
                        }
                        Err(_) => p.errors += 1,
                    }
                }
                tokio::time::sleep(SAMPLE_EVERY).await;
            }
        });
        Self { peaks, task }
    }

    /// The peaks so far.
    pub fn peaks(&self) -> Peaks {
        self.peaks.lock().map(|p| p.clone()).unwrap_or_default()
    }

    /// Stops sampling and returns the peaks.
    pub fn stop(self) -> Peaks {
        self.task.abort();
        self.peaks()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Waits until the server holds no socket, then checks over `quiet` that
/// no job's counters move any more: no socket opened, no HTTP request.
pub async fn assert_quiet(api: &ServerApi, quiet: Duration) -> Result<Reading> {
    crate::wait::until(
        "every socket to close on the server",
        Duration::from_secs(20),
        || async {
            let r = read(api).await?;
            Ok((r.active == 0).then_some(()))
        },
    )
    .await?;
    let before = read(api).await?;
    // Samples spread over the quiet period: any request in it shows up.
    let deadline = tokio::time::Instant::now() + quiet;
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(SAMPLE_EVERY).await;
        let now = read(api).await?;
        if now.active != 0 || now.opened != before.opened {
            return Err(fail(format!(
                "a connection opened after unmount: {} active, {} -> {} opened",
                now.active, before.opened, now.opened
            )));
        }
        if now.page_polls != before.page_polls {
            return Err(fail(format!(
                "set polls after unmount: {} -> {}",
                before.page_polls, now.page_polls
            )));
        }
        for (id, after) in &now.jobs {
            let was = before.jobs.get(id).copied().unwrap_or_default();
            if after.ws_opened != was.ws_opened || after.http_requests != was.http_requests {
                return Err(fail(format!(
                    "job {id} still gets traffic after unmount: {was:?} -> {after:?}"
                )));
            }
        }
    }
    Ok(before)
}
