//! The dev server's endpoints the demo page calls besides the widget's
//! own: scripted jobs, fresh tokens, fault injection, statistics.
//! (Uploads go through `use_upload`, over tus.)

use gloo_net::http::{Request, Response};
use serde::Deserialize;
use upload_progress_core::UploadAccepted;

use crate::faults::Fault;
use crate::stats::ServerStats;

/// A fresh token for a job.
#[derive(Debug, Deserialize)]
struct FreshToken {
    token: String,
}

/// A job started by the demo page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedJob {
    /// The job id.
    pub process_id: String,
    /// Token for its progress endpoints.
    pub token: String,
}

async fn error_text(response: Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match serde_json::from_str::<upload_progress_core::ErrorResponse>(&body) {
        Ok(e) => format!("{status}: {}", e.error.message),
        Err(_) => format!("HTTP {status}"),
    }
}

/// Reads the `202 {"process_id","token","expires_in_s"}` answer of a
/// started job, or the server's error.
async fn started_job(response: Response) -> Result<StartedJob, String> {
    if !response.ok() {
        return Err(error_text(response).await);
    }
    let accepted: UploadAccepted = response.json().await.map_err(|e| e.to_string())?;
    Ok(StartedJob {
        process_id: accepted.process_id.to_string(),
        token: accepted.token,
    })
}

/// Starts a scripted job (`POST /ws/test/{id}`).
pub async fn scripted_job(
    http_base: &str,
    process_id: &str,
    step_ms: u64,
    steps_per_stage: u32,
) -> Result<StartedJob, String> {
    let url = format!(
        "{http_base}/ws/test/{process_id}?step_ms={step_ms}&steps_per_stage={steps_per_stage}"
    );
    let response = Request::post(&url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    started_job(response).await
}

/// Asks for a fresh token (`POST /api/uploads/{id}/token`), presenting the
/// job's current token (the server renews one that expired a short while
/// ago; the refresh cookie set with the job is sent along by the browser
/// when the page and the server share an origin).
pub async fn fresh_token(http_base: &str, process_id: &str, current: &str) -> Option<String> {
    let url = format!("{http_base}/api/uploads/{process_id}/token");
    let response = Request::post(&url)
        .header("Authorization", &format!("Bearer {current}"))
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    response.json::<FreshToken>().await.ok().map(|t| t.token)
}

/// Injects a fault (`POST /ws/admin/faults`).
pub async fn inject(http_base: &str, admin_token: &str, fault: Fault) -> Result<String, String> {
    let response = Request::post(&format!("{http_base}/ws/admin/faults"))
        .header("Authorization", &format!("Bearer {admin_token}"))
        .json(&fault.body())
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(error_text(response).await);
    }
    Ok(format!("{}: done", fault.label()))
}

/// Reads the server's connection statistics (`GET /ws/stats`).
pub async fn stats(http_base: &str) -> Result<ServerStats, String> {
    let response = Request::get(&format!("{http_base}/ws/stats"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.ok() {
        return Err(error_text(response).await);
    }
    response.json().await.map_err(|e| e.to_string())
}
