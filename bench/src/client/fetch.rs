//! The HTTP poll the session asks for, on a shared reqwest client.

use reqwest::header::{AUTHORIZATION, IF_NONE_MATCH};
use upload_progress_core::session::PollOutcome;
use upload_progress_core::{ErrorResponse, ProgressResponse};

/// Performs `GET url` and classifies the answer like the browser shell does.
pub async fn poll(
    http: reqwest::Client,
    url: String,
    etag: Option<String>,
    token: Option<String>,
) -> PollOutcome {
    let mut req = http.get(&url);
    if let Some(etag) = etag {
        req = req.header(IF_NONE_MATCH, etag);
    }
    if let Some(token) = token {
        req = req.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    let Ok(resp) = req.send().await else {
        return PollOutcome::Network;
    };
    let status = resp.status().as_u16();
    if status == 304 {
        return PollOutcome::NotModified;
    }
    let Ok(body) = resp.bytes().await else {
        return PollOutcome::Network;
    };
    if status == 200 {
        if let Ok(r) = serde_json::from_slice::<ProgressResponse>(&body) {
            return PollOutcome::Progress(r.progress);
        }
    }
    let code = serde_json::from_slice::<ErrorResponse>(&body)
        .ok()
        .map(|e| e.error.code);
    PollOutcome::Http { status, code }
}
