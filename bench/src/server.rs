//! Starting, stopping and talking to the dev server under test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How to start `upload-progress-server` for a benchmark.
#[derive(Debug, Clone)]
pub struct ServerCmd {
    /// Path of the release binary.
    pub bin: PathBuf,
    /// Extra flags (limits, faults, dist).
    pub args: Vec<String>,
}

/// A running dev server.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub http_base: String,
    /// `ws://127.0.0.1:PORT`.
    pub ws_base: String,
    /// Process id, for `/proc` readings.
    pub pid: u32,
}

impl ServerCmd {
    /// The same command with more flags.
    pub fn with_args(&self, more: &[String]) -> Self {
        let mut cmd = self.clone();
        cmd.args.extend_from_slice(more);
        cmd
    }

    /// Starts the server on `addr` (`127.0.0.1:0` for any port) and waits for its
    /// `listening on http://ADDR` line.
    pub async fn start(&self, addr: &str) -> Result<Server> {
        let mut child = Command::new(&self.bin)
            .arg("--addr")
            .arg(addr)
            .args(&self.args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {:?}", self.bin))?;
        let pid = child.id().ok_or_else(|| anyhow!("server exited at once"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
            .await
            .context("server did not print its address within 20 s")??
            .ok_or_else(|| anyhow!("server exited before listening"))?;
        let Some(rest) = first.strip_prefix("listening on http://") else {
            bail!("unexpected first line from the server: {first:?}");
        };
        let hostport = rest.split_whitespace().next().unwrap_or(rest).to_owned();
        // Keep draining stdout so a chatty server never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(Server {
            child,
            http_base: format!("http://{hostport}"),
            ws_base: format!("ws://{hostport}"),
            pid,
        })
    }
}

impl Server {
    /// `host:port` the server listens on.
    pub fn addr(&self) -> &str {
        self.http_base.trim_start_matches("http://")
    }

    /// SIGTERM, as a rolling deploy stops an instance, and waits for the exit.
    pub async fn terminate(mut self) -> Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await
            .context("sending SIGTERM")?;
        if !status.success() {
            bail!("kill -TERM {} failed", self.pid);
        }
        self.child.wait().await.context("waiting for the server")?;
        Ok(())
    }

    /// SIGKILL, like a crash: sockets drop without close frames.
    pub async fn kill(mut self) -> Result<()> {
        self.child.kill().await.context("killing the server")
    }
}

/// Starts a scripted job `id` on the server.
pub async fn start_job(
    http: &reqwest::Client,
    http_base: &str,
    id: &str,
    step_ms: u64,
    steps_per_stage: u64,
) -> Result<()> {
    let url =
        format!("{http_base}/ws/test/{id}?step_ms={step_ms}&steps_per_stage={steps_per_stage}");
    let resp = http
        .post(&url)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    if !resp.status().is_success() {
        bail!("POST {url} answered {}", resp.status());
    }
    Ok(())
}

/// The seq of job `id`'s current state, from `GET /ws/progress/{id}`.
pub async fn job_seq(http: &reqwest::Client, http_base: &str, id: &str) -> Result<(u64, bool)> {
    let url = format!("{http_base}/ws/progress/{id}");
    let body = http.get(&url).send().await?.bytes().await?;
    let r: upload_progress_core::ProgressResponse =
        serde_json::from_slice(&body).with_context(|| format!("GET {url}"))?;
    Ok((r.progress.seq, r.progress.is_terminal()))
}
