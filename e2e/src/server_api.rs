//! The dev server's HTTP API as the tests use it: job state, statistics,
//! scripted jobs, tokens and fault injection.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::process::ADMIN_TOKEN;
use crate::{fail, Result};

/// One stage of a job as the server reports it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ServerStage {
    /// Machine name, e.g. `text_extraction`.
    pub name: String,
    /// `pending | active | done | failed | skipped`.
    pub status: String,
}

/// The server's view of a job (the fields the page shows).
#[derive(Debug, Clone, Deserialize)]
pub struct ServerProgress {
    /// Sequence number of this snapshot.
    pub seq: u64,
    /// `pending | running | completed | failed | cancelled`.
    pub state: String,
    /// Current stage name.
    pub stage: Option<String>,
    /// 0..=100.
    pub percent: f64,
    /// Human message.
    pub message: String,
    /// Every stage with its status.
    pub stages: Vec<ServerStage>,
}

impl ServerProgress {
    /// True for `completed | failed | cancelled`.
    pub fn is_terminal(&self) -> bool {
        matches!(self.state.as_str(), "completed" | "failed" | "cancelled")
    }
}

/// A job the server started: its id and token.
#[derive(Debug, Clone, Deserialize)]
pub struct StartedJob {
    /// The job id.
    pub process_id: String,
    /// Token for its progress endpoints.
    pub token: String,
}

/// Client of one dev server.
#[derive(Debug, Clone)]
pub struct ServerApi {
    http: reqwest::Client,
    base: String,
    own_reads: Arc<Mutex<HashMap<String, u64>>>,
}

impl ServerApi {
    /// A client for the server at `base` (e.g. `http://127.0.0.1:4000`).
    pub fn new(base: &str) -> Self {
        Self {
            // No idle connections kept: the restart fault closes the
            // server's connections, and a pooled one reused after it would
            // fail the test's own request instead of the widget's.
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(0)
                .build()
                .unwrap_or_default(),
            base: base.trim_end_matches('/').to_owned(),
            own_reads: Arc::default(),
        }
    }

    /// The server's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    async fn json(response: reqwest::Response, what: &str) -> Result<Value> {
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            return Err(fail(format!("{what}: HTTP {status}: {body}")));
        }
        Ok(serde_json::from_str(&body)?)
    }

    /// The server's state of job `id`. Read from the all-jobs view while
    /// the job runs (it is neither counted as the job's polling traffic nor
    /// hit by the polling fault), else from `GET /ws/progress/{id}` with a
    /// fresh job token; those reads are counted in [`ServerApi::own_reads`].
    pub async fn progress(&self, id: &str) -> Result<ServerProgress> {
        let response = self
            .http
            .get(format!("{}/ws/progress", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let all = Self::json(response, "GET /ws/progress").await?;
        let running = all["processes"]
            .as_array()
            .and_then(|jobs| jobs.iter().find(|p| p["process_id"] == id));
        if let Some(job) = running {
            return Ok(serde_json::from_value(job.clone())?);
        }
        let mut request = self.http.get(format!("{}/ws/progress/{id}", self.base));
        if let Ok(token) = self.fresh_token(id).await {
            request = request.bearer_auth(token);
        }
        if let Ok(mut reads) = self.own_reads.lock() {
            *reads.entry(id.to_owned()).or_default() += 1;
        }
        let body = Self::json(request.send().await?, "GET /ws/progress/{id}").await?;
        Ok(serde_json::from_value(body["progress"].clone())?)
    }

    /// How many `GET /ws/progress/{id}` requests the test itself sent for `id`.
    pub fn own_reads(&self, id: &str) -> u64 {
        self.own_reads
            .lock()
            .map(|r| r.get(id).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    /// `POST /api/uploads/{id}/token`: a fresh job token (as the admin).
    pub async fn fresh_token(&self, id: &str) -> Result<String> {
        let response = self
            .http
            .post(format!("{}/api/uploads/{id}/token", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        let body = Self::json(response, "POST /api/uploads/{id}/token").await?;
        body["token"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| fail("token answer without a token"))
    }

    /// HTTP status of `GET /ws/progress/{id}` with `token` (counted in
    /// [`ServerApi::own_reads`]).
    pub async fn progress_status_with_token(&self, id: &str, token: &str) -> Result<u16> {
        if let Ok(mut reads) = self.own_reads.lock() {
            *reads.entry(id.to_owned()).or_default() += 1;
        }
        let response = self
            .http
            .get(format!("{}/ws/progress/{id}", self.base))
            .bearer_auth(token)
            .send()
            .await?;
        Ok(response.status().as_u16())
    }

    /// `uploads` of `GET /ws/stats`: tus requests in flight now, and the
    /// most at once since the server started.
    pub async fn uploads_in_flight(&self) -> Result<(u64, u64)> {
        let response = self
            .http
            .get(format!("{}/ws/stats", self.base))
            .send()
            .await?;
        let body = Self::json(response, "GET /ws/stats").await?;
        let n = |key: &str| {
            body["uploads"][key]
                .as_u64()
                .ok_or_else(|| fail(format!("no uploads.{key} in {body}")))
        };
        Ok((n("in_flight")?, n("peak_in_flight")?))
    }

    /// `GET /ws/stats/detailed` (admin only).
    pub async fn detailed_stats(&self) -> Result<Value> {
        let response = self
            .http
            .get(format!("{}/ws/stats/detailed", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await?;
        Self::json(response, "GET /ws/stats/detailed").await
    }

    /// `POST /ws/test/{id}`: a scripted four-stage job.
    pub async fn start_scripted(&self, id: &str, step_ms: u64, steps: u32) -> Result<StartedJob> {
        let response = self
            .http
            .post(format!(
                "{}/ws/test/{id}?step_ms={step_ms}&steps_per_stage={steps}",
                self.base
            ))
            .send()
            .await?;
        Ok(serde_json::from_value(
            Self::json(response, "POST /ws/test/{id}").await?,
        )?)
    }

    /// `POST /ws/admin/faults` with `body`.
    pub async fn fault(&self, body: Value) -> Result<Value> {
        let response = self
            .http
            .post(format!("{}/ws/admin/faults", self.base))
            .bearer_auth(ADMIN_TOKEN)
            .json(&body)
            .send()
            .await?;
        Self::json(response, &format!("fault {body}")).await
    }

    /// Closes every socket abnormally (no close frame).
    pub async fn drop_sockets(&self) -> Result<()> {
        self.fault(json!({"action": "drop_sockets"}))
            .await
            .map(drop)
    }

    /// Answers every upgrade with 503 for `ms`.
    pub async fn refuse_upgrades(&self, ms: u64) -> Result<()> {
        self.fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": ms}))
            .await
            .map(drop)
    }

    /// Answers every page event stream with 503 for `ms`.
    pub async fn refuse_streams(&self, ms: u64) -> Result<()> {
        self.fault(json!({"action": "refuse_streams", "duration_ms": ms}))
            .await
            .map(drop)
    }

    /// Refuses both live transports (WebSocket upgrades and event streams)
    /// for `ms`: a page connection that loses its stream meanwhile ends up
    /// on the set poll.
    pub async fn refuse_live(&self, ms: u64) -> Result<()> {
        self.refuse_upgrades(ms).await?;
        self.refuse_streams(ms).await
    }

    /// Stops sending on every socket (no pongs) for `ms`, without closing.
    pub async fn stall_sockets(&self, ms: u64) -> Result<()> {
        self.fault(json!({"action": "stall_sockets", "duration_ms": ms}))
            .await
            .map(drop)
    }

    /// Answers HTTP progress polls with 503 for `ms`.
    pub async fn poll_errors(&self, ms: u64) -> Result<()> {
        self.fault(json!({"action": "poll_errors", "duration_ms": ms}))
            .await
            .map(drop)
    }

    /// `server_shutdown` then close 1012 on every socket.
    pub async fn restart(&self) -> Result<()> {
        self.fault(json!({"action": "restart", "retry_after_ms": 1000}))
            .await
            .map(drop)
    }

    /// Ends every timed fault.
    pub async fn clear_faults(&self) -> Result<()> {
        self.fault(json!({"action": "clear"})).await.map(drop)
    }
}
