//! The dev server's demo endpoints: uploads, scripted jobs, fault injection.

use gloo_net::http::{Request, Response};
use serde::Deserialize;
use serde_json::json;
use upload_progress_core::UploadAccepted;

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

/// One fault the dev server can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Drop every socket without a close frame.
    DropSockets,
    /// Answer socket upgrades with 503 for 15 s.
    RefuseUpgrades,
    /// Stop sending on every socket for 20 s, without closing.
    StallSockets,
    /// Announce a restart and close every socket with 1012.
    Restart,
    /// Answer HTTP polls with 503 for 10 s.
    PollErrors,
    /// Clear every fault.
    Clear,
}

impl Fault {
    /// Every fault, in button order.
    pub const ALL: [Fault; 6] = [
        Fault::DropSockets,
        Fault::RefuseUpgrades,
        Fault::StallSockets,
        Fault::Restart,
        Fault::PollErrors,
        Fault::Clear,
    ];

    /// Button text.
    pub fn label(self) -> &'static str {
        match self {
            Fault::DropSockets => "Drop sockets",
            Fault::RefuseUpgrades => "Refuse upgrades (15 s)",
            Fault::StallSockets => "Stall sockets (20 s)",
            Fault::Restart => "Restart server",
            Fault::PollErrors => "Polling 503 (10 s)",
            Fault::Clear => "Clear faults",
        }
    }

    /// The request body.
    fn body(self) -> serde_json::Value {
        match self {
            Fault::DropSockets => json!({"action": "drop_sockets"}),
            Fault::RefuseUpgrades => {
                json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 15_000})
            }
            Fault::StallSockets => json!({"action": "stall_sockets", "duration_ms": 20_000}),
            Fault::Restart => json!({"action": "restart"}),
            Fault::PollErrors => json!({"action": "poll_errors", "duration_ms": 10_000}),
            Fault::Clear => json!({"action": "clear"}),
        }
    }
}

async fn error_text(response: Response) -> String {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    match serde_json::from_str::<upload_progress_core::ErrorResponse>(&body) {
        Ok(e) => format!("{status}: {}", e.error.message),
        Err(_) => format!("HTTP {status}"),
    }
}

/// Uploads `file` (`POST /api/uploads`, multipart field `file`).
pub async fn upload(http_base: &str, file: &web_sys::File) -> Result<StartedJob, String> {
    let form = web_sys::FormData::new().map_err(|_| "cannot build the form".to_owned())?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| "cannot attach the file".to_owned())?;
    let response = Request::post(&format!("{http_base}/api/uploads"))
        .body(form)
        .map_err(|e| e.to_string())?
        .send()
        .await
        .map_err(|e| e.to_string())?;
    started_job(response).await
}

/// Reads the `202 {"process_id","token","expires_in_s"}` answer that both
/// ways of starting a job give, or the server's error.
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
