//! Points a backend written from the text alone used to have to guess
//! (PROTOCOL.md 12): ping ids, percent-encoded ids, 405 and unknown paths,
//! and the scripted start-job endpoint.

use crate::wire::{ErrorResponse, JobState, ServerMessage};

use super::input::{expect_bad_message, ping_on, SlowJob};
use super::Ctx;
use crate::options::DEFAULT_START_JOB;
use crate::rules;
use crate::socket::Event;

/// 2^53 + 1: the first integer a JavaScript number cannot hold.
pub const ABOVE_2_53: u64 = 9_007_199_254_740_993;

/// A ping id above 2^53 comes back exactly (4.6: ids are unsigned 64-bit integers).
pub async fn ping_above_2_53(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    ping_on(ctx, job, ABOVE_2_53).await
}

/// `17.0` is not an integer: `bad_message`, no pong (4.6).
pub async fn ping_float_id(ctx: &Ctx, job: &SlowJob) -> Result<(), String> {
    expect_bad_message(
        ctx,
        job,
        r#"{"type":"ping","id":17.0}"#,
        "a ping with id 17.0 (not an integer)",
    )
    .await
}

/// Percent-encoded id characters are decoded before section 2 applies.
pub async fn percent_encoded_id(ctx: &Ctx, id: &Result<String, String>) -> Result<(), String> {
    let id = id.as_deref().map_err(Clone::clone)?;
    let encoded = id.replace('_', "%5F").replace('-', "%2D");
    if encoded == id {
        return Err("the kit's id has no character to encode".to_owned());
    }
    let url = format!("{}/ws/progress/{encoded}", ctx.opts.base());
    let bearer = ctx.bearer(id);
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    let a = ctx.http.get(&url, &headers).await?;
    if a.status != 200 {
        return Err(format!(
            "PROTOCOL.md 2: GET {url} is the job {id} once percent-decoded and must answer 200; got HTTP {}: {}",
            a.status,
            rules::excerpt(&a.body)
        ));
    }
    let body: crate::wire::ProgressResponse = serde_json::from_str(&a.body)
        .map_err(|err| format!("PROTOCOL.md 6.1: the body of GET {url}: {err}"))?;
    if body.progress.process_id != id {
        return Err(format!(
            "PROTOCOL.md 2: the decoded id is {id:?}, but the answer names {:?}",
            body.progress.process_id
        ));
    }
    Ok(())
}

/// A method a protocol path does not take: 405 with `Allow` and a JSON error (6.3).
pub async fn method_not_allowed(ctx: &Ctx) -> Result<(), String> {
    let url = ctx.progress_url(&ctx.ids.fresh("method"));
    for method in ["POST", "DELETE"] {
        let a = ctx.http.request(method, &url).await?;
        if a.status != 405 {
            return Err(format!(
                "PROTOCOL.md 6.3: {method} {url} must answer 405; got HTTP {}",
                a.status
            ));
        }
        if !a.header("allow").is_some_and(|allow| allow.contains("GET")) {
            return Err(format!(
                "PROTOCOL.md 6.3: a 405 names the allowed methods in `Allow` (GET); got {:?}",
                a.header("allow")
            ));
        }
        serde_json::from_str::<ErrorResponse>(&a.body).map_err(|err| {
            format!("PROTOCOL.md 6.3: the 405 of {method} {url} must have the JSON error body ({err}): {}", rules::excerpt(&a.body))
        })?;
    }
    Ok(())
}

/// A path below the protocol's that it does not define: 404 (6.3).
pub async fn unknown_route(ctx: &Ctx) -> Result<(), String> {
    let url = format!("{}/extra", ctx.progress_url(&ctx.ids.fresh("route")));
    let a = ctx.http.get(&url, &[]).await?;
    if a.status != 404 {
        return Err(format!("PROTOCOL.md 6.3: GET {url}, a path the protocol does not define, must answer 404; got HTTP {}", a.status));
    }
    Ok(())
}

/// The scripted checks need the scripted endpoint itself.
pub fn scripted_skip(ctx: &Ctx) -> Option<&'static str> {
    (ctx.opts.start_job != DEFAULT_START_JOB)
        .then_some("jobs start through a custom --start-job-url, not the scripted endpoint")
}

fn scripted_url(ctx: &Ctx, id: &str, query: &str) -> String {
    format!("{}/ws/test/{id}?{query}", ctx.opts.base())
}

async fn post(ctx: &Ctx, url: &str) -> Result<crate::http::Answer, String> {
    match &ctx.opts.start_bearer {
        Some(token) => ctx.http.post_bearer(url, token).await,
        None => ctx.http.request("POST", url).await,
    }
}

/// 202 `{"process_id": <id>, ...}`; the same id again: 409 `process_exists`;
/// the first state: `running`, the four stages, at the first one, 0 %.
pub async fn scripted_answer(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("scripted");
    let url = scripted_url(ctx, &id, "step_ms=5000&steps_per_stage=1");
    let a = post(ctx, &url).await?;
    let body: serde_json::Value = serde_json::from_str(&a.body).unwrap_or_default();
    if a.status != 202 || body.get("process_id").and_then(|v| v.as_str()) != Some(id.as_str()) {
        return Err(format!(
            "PROTOCOL.md 8.1: POST {url} answers 202 with the job's `process_id`; got HTTP {}: {}",
            a.status,
            rules::excerpt(&a.body)
        ));
    }
    if ctx.opts.tokens && body.get("token").and_then(|v| v.as_str()).is_none() {
        return Err(
            "PROTOCOL.md 8.1: with tokens required the answer carries the job's `token`".to_owned(),
        );
    }
    let again = post(ctx, &url).await?;
    rules::check_error_answer(
        &format!("POST {url} again"),
        again.status,
        again.header("content-type"),
        &again.body,
        409,
        "process_exists",
    )
    .map_err(|why| why.replacen("6.3", "8.1", 1))?;
    if let Some(token) = body.get("token").and_then(|v| v.as_str()) {
        ctx.remember_token(&id, token);
    }
    let (socket, first) = ctx.open_with_snapshot(&id).await?;
    socket.close().await;
    let names: Vec<&str> = first.stages.iter().map(|s| s.name.as_str()).collect();
    let want = ["upload", "text_extraction", "indexing", "finalize"];
    if first.state != JobState::Running
        || names != want
        || first.stage.as_deref() != Some("upload")
        || first.stage_index != 0
        || first.percent != 0.0
        || first.seq != 1
    {
        return Err(format!(
            "PROTOCOL.md 8.1: a scripted job starts at seq 1, running, stage \"upload\" (index 0) of {want:?}, 0 %; got seq {}, {}, stage {:?} (index {}) of {names:?}, {} %",
            first.seq, rules::state_name(first.state), first.stage, first.stage_index, first.percent
        ));
    }
    Ok(())
}

/// Unusable parameters: 400 `bad_query`, and no job is started.
pub async fn scripted_bad_input(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("scripted_bad");
    for query in [
        "steps_per_stage=0",
        "steps_per_stage=1001",
        "step_ms=60001",
        "step_ms=fast",
        "fail_at_stage=4",
        "fail_at_stage=-1",
    ] {
        let url = scripted_url(ctx, &id, query);
        let a = post(ctx, &url).await?;
        rules::check_error_answer(
            &format!("POST {url}"),
            a.status,
            a.header("content-type"),
            &a.body,
            400,
            "bad_query",
        )
        .map_err(|why| why.replacen("6.3", "8.1", 1))?;
    }
    let url = scripted_url(ctx, &id, "step_ms=10&steps_per_stage=1");
    let a = post(ctx, &url).await?;
    if a.status != 202 {
        return Err(format!("PROTOCOL.md 8.1: refused starts must not take the id; a good POST {url} then got HTTP {}", a.status));
    }
    Ok(())
}

/// `fail_at_stage` counts from 0: the job fails when that stage starts.
pub async fn scripted_fail_at_stage(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("scripted_fail");
    let url = scripted_url(ctx, &id, "step_ms=100&steps_per_stage=1&fail_at_stage=1");
    let a = post(ctx, &url).await?;
    if a.status != 202 {
        return Err(format!(
            "PROTOCOL.md 8.1: POST {url} must answer 202; got HTTP {}",
            a.status
        ));
    }
    if let Some(token) = serde_json::from_str::<serde_json::Value>(&a.body)
        .ok()
        .and_then(|b| b.get("token").and_then(|t| t.as_str()).map(str::to_owned))
    {
        ctx.remember_token(&id, &token);
    }
    let (mut socket, mut last) = ctx.open_with_snapshot(&id).await?;
    while !last.state.is_terminal() {
        match socket.next().await {
            Event::Frame(ServerMessage::Progress { progress }) => last = progress,
            Event::Frame(ServerMessage::Pong { .. }) => {}
            other => {
                return Err(format!(
                    "PROTOCOL.md 8.1: following the failing job got {}",
                    other.describe()
                ))
            }
        }
    }
    socket.close().await;
    if last.state != JobState::Failed {
        return Err(format!(
            "PROTOCOL.md 8.1: fail_at_stage=1 must end the job failed; it ended {}",
            rules::state_name(last.state)
        ));
    }
    rules::check_failed_stages(&last, 1)
}
