//! Checks of the HTTP polling endpoint (PROTOCOL.md 6).

use crate::wire::ProgressResponse;

use super::job::Trace;
use super::Ctx;
use crate::rules;

/// An id of 129 characters: one over the limit of PROTOCOL.md 2.
pub fn too_long_id() -> String {
    "a".repeat(129)
}

/// The server answers HTTP at all (any status will do here).
pub async fn reachable(ctx: &Ctx) -> Result<(), String> {
    let url = ctx.progress_url(&ctx.ids.fresh("reachable"));
    ctx.http.get(&url, &[]).await.map(|_| ())
}

/// A valid id without a job: 404 `unknown_process` as a JSON error.
pub async fn unknown_id_404(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("unknown_http");
    let url = ctx.progress_url(&id);
    let a = ctx.http.get(&url, &[]).await?;
    rules::check_error_answer(
        &format!("GET {url}"),
        a.status,
        a.header("content-type"),
        &a.body,
        404,
        "unknown_process",
    )
}

/// Ids outside `[A-Za-z0-9_-]{1,128}`: 400 `invalid_process_id` as a JSON error.
pub async fn invalid_id_400(ctx: &Ctx) -> Result<(), String> {
    for bad in ["not.valid".to_owned(), "bad%20id".to_owned(), too_long_id()] {
        let url = ctx.progress_url(&bad);
        let a = ctx.http.get(&url, &[]).await?;
        rules::check_error_answer(
            &format!("GET {}", shorten(&url)),
            a.status,
            a.header("content-type"),
            &a.body,
            400,
            "invalid_process_id",
        )
        .map_err(|why| why.replacen("6.3", "2 and 6.3", 1))?;
    }
    Ok(())
}

/// A poll of the finished job: body, ETag and Cache-Control.
pub async fn progress_etag(ctx: &Ctx, trace: &Trace) -> Result<(), String> {
    let last = trace.final_state()?;
    let url = ctx.progress_url(&trace.id);
    let auth = ctx.bearer(&trace.id);
    let a = ctx.http.get(&url, &with_auth(&auth, None)).await?;
    if a.status != 200 {
        return Err(format!(
            "PROTOCOL.md 6.1: GET {url} of a finished job answered HTTP {}, expected 200{}",
            a.status,
            rules::html_hint(a.header("content-type"), &a.body)
        ));
    }
    let body: ProgressResponse = serde_json::from_str(&a.body).map_err(|err| {
        format!(
            "PROTOCOL.md 6.1: the body is not {{\"progress\":{{...}}}} ({err}): {}{}",
            rules::excerpt(&a.body),
            rules::html_hint(a.header("content-type"), &a.body)
        )
    })?;
    let p = body.progress;
    rules::check_shape(&p, &trace.id)?;
    if p.seq != last.seq || p.state != last.state {
        return Err(format!(
            "PROTOCOL.md 6.1: the poll shows seq {} ({}) but the socket ended on seq {} ({})",
            p.seq,
            rules::state_name(p.state),
            last.seq,
            rules::state_name(last.state)
        ));
    }
    let want = format!("\"{}\"", p.seq);
    match a.header("etag") {
        Some(tag) if tag == want => {}
        Some(tag) => {
            return Err(format!(
                "PROTOCOL.md 6.1: ETag is {tag}, expected {want} (the seq in quotes)"
            ))
        }
        None => return Err("PROTOCOL.md 6.1: the answer has no ETag header".to_owned()),
    }
    let cache = a.header("cache-control").unwrap_or("");
    if !cache.to_ascii_lowercase().contains("no-store") {
        return Err(format!(
            "PROTOCOL.md 6.1: Cache-Control is {cache:?}, expected no-store"
        ));
    }
    Ok(())
}

/// `If-None-Match` with the current ETag: 304 and no body; another tag: 200.
pub async fn if_none_match_304(ctx: &Ctx, trace: &Trace) -> Result<(), String> {
    let last = trace.final_state()?;
    let url = ctx.progress_url(&trace.id);
    let tag = format!("\"{}\"", last.seq);
    let auth = ctx.bearer(&trace.id);
    let a = ctx.http.get(&url, &with_auth(&auth, Some(&tag))).await?;
    if a.status != 304 {
        return Err(format!(
            "PROTOCOL.md 6.2: GET with If-None-Match: {tag} (the current seq) answered HTTP {}, expected 304",
            a.status
        ));
    }
    if !a.body.is_empty() {
        return Err(format!(
            "PROTOCOL.md 6.2: the 304 answer has a body of {} bytes",
            a.body.len()
        ));
    }
    let stale = format!("\"{}\"", last.seq.saturating_add(1000));
    let b = ctx.http.get(&url, &with_auth(&auth, Some(&stale))).await?;
    if b.status != 200 {
        return Err(format!(
            "PROTOCOL.md 6.2: GET with If-None-Match: {stale} (not the current seq) answered HTTP {}, expected 200",
            b.status
        ));
    }
    Ok(())
}

/// Request headers: the job's bearer token and an `If-None-Match`, when given.
fn with_auth<'a>(auth: &'a Option<String>, tag: Option<&'a str>) -> Vec<(&'static str, &'a str)> {
    let mut headers = Vec::new();
    if let Some(auth) = auth {
        headers.push(("authorization", auth.as_str()));
    }
    if let Some(tag) = tag {
        headers.push(("if-none-match", tag));
    }
    headers
}

fn shorten(url: &str) -> String {
    rules::excerpt(url).chars().take(80).collect::<String>()
        + if url.len() > 80 { "..." } else { "" }
}
