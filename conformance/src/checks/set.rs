//! The set poll and the event stream of protocol v1.1 (PROTOCOL.md 11.4, 11.5).

use serde::Deserialize;
use std::time::Duration;

use tokio::time::Instant;

use super::Ctx;
use crate::rules;
use crate::wire::{ErrorBody, Progress, ServerMessage};

/// One entry of a set-poll answer.
#[derive(Debug, Deserialize)]
struct Entry {
    process_id: String,
    #[serde(default)]
    progress: Option<Progress>,
    #[serde(default)]
    error: Option<ErrorBody>,
}

/// A set-poll answer.
#[derive(Debug, Deserialize)]
struct SetAnswer {
    jobs: Vec<Entry>,
}

impl Ctx {
    /// `?ids=...` (and `&tokens=...` when the kit has tokens) for `ids`.
    fn set_query(&self, ids: &[&str]) -> String {
        let mut query = format!("ids={}", ids.join(","));
        if self.opts.tokens {
            let tokens: Vec<String> = ids
                .iter()
                .map(|id| self.token(id).unwrap_or_default())
                .collect();
            query.push_str(&format!("&tokens={}", tokens.join(",")));
        }
        query
    }

    fn set_poll_url(&self, ids: &[&str]) -> String {
        format!("{}/ws/page/poll?{}", self.opts.base(), self.set_query(ids))
    }

    fn events_url(&self, ids: &[&str]) -> String {
        format!(
            "{}/ws/page/events?{}",
            self.opts.base(),
            self.set_query(ids)
        )
    }
}

/// The jobs the set checks ask for: a finished one, a running one, an
/// unknown one and an invalid one.
pub struct SetJobs {
    finished: Result<String, String>,
    running: Result<String, String>,
    unknown: String,
}

impl SetJobs {
    /// `finished` is a job the kit followed to its end.
    pub async fn start(ctx: &Ctx, finished: Result<String, String>) -> SetJobs {
        SetJobs {
            finished,
            running: super::page::slow_job(ctx, "set_running").await,
            unknown: ctx.ids.fresh("set_unknown"),
        }
    }

    /// The jobs the event stream checks follow: the running one, and the
    /// finished one when there is one.
    fn followed(&self) -> Result<Vec<&str>, String> {
        let running = self.running.as_deref().map_err(Clone::clone)?;
        Ok(match self.finished.as_deref() {
            Ok(finished) => vec![finished, running],
            Err(_) => vec![running],
        })
    }

    fn ids(&self) -> Result<[&str; 4], String> {
        let finished = self.finished.as_deref().map_err(Clone::clone)?;
        let running = self.running.as_deref().map_err(Clone::clone)?;
        Ok([finished, running, self.unknown.as_str(), "not.valid"])
    }
}

/// One answer for the set: one entry per id in order, each a state of its
/// job or its own error, an `ETag` and `Cache-Control: no-store`.
pub async fn set_poll(ctx: &Ctx, jobs: &SetJobs) -> Result<(), String> {
    let ids = jobs.ids()?;
    let url = ctx.set_poll_url(&ids);
    let a = ctx.http.get(&url, &[]).await?;
    if a.status != 200 {
        return Err(format!(
            "PROTOCOL.md 11.4: GET {url} answered HTTP {}, expected 200: {}",
            a.status,
            rules::excerpt(&a.body)
        ));
    }
    if a.header("etag").is_none_or(str::is_empty) {
        return Err("PROTOCOL.md 11.4: a set poll carries an ETag".to_owned());
    }
    if a.header("cache-control") != Some("no-store") {
        return Err(format!(
            "PROTOCOL.md 11.4: a set poll carries Cache-Control: no-store, not {:?}",
            a.header("cache-control")
        ));
    }
    let body: SetAnswer = serde_json::from_str(&a.body).map_err(|err| {
        format!(
            "PROTOCOL.md 11.4: the body must be {{\"jobs\": [...]}} ({err}): {}",
            rules::excerpt(&a.body)
        )
    })?;
    let got: Vec<&str> = body.jobs.iter().map(|e| e.process_id.as_str()).collect();
    if got != ids {
        return Err(format!("PROTOCOL.md 11.4: one entry per asked id, in the asked order: asked {ids:?}, got {got:?}"));
    }
    for entry in &body.jobs[..2] {
        let Some(p) = &entry.progress else {
            return Err(format!(
                "PROTOCOL.md 11.4: job {} exists and must come with its `progress`; got {:?}",
                entry.process_id, entry.error
            ));
        };
        rules::check_shape(p, &entry.process_id)?;
    }
    if !body.jobs[0]
        .progress
        .as_ref()
        .is_some_and(|p| p.state.is_terminal())
    {
        return Err(
            "PROTOCOL.md 11.4: the finished job's entry must show its terminal state".to_owned(),
        );
    }
    let unknown_ok =
        |code: &str| code == "unknown_process" || (ctx.opts.tokens && code.starts_with("token_"));
    match (&body.jobs[2].progress, &body.jobs[2].error) {
        (None, Some(e)) if unknown_ok(&e.code) => {}
        other => return Err(format!("PROTOCOL.md 11.4: an id without a job gets an entry with `error` `unknown_process` and no `progress`; got {other:?}")),
    }
    match (&body.jobs[3].progress, &body.jobs[3].error) {
        (None, Some(e)) if e.code == "invalid_process_id" => Ok(()),
        other => Err(format!("PROTOCOL.md 11.4: an invalid id gets an entry with `error` `invalid_process_id`; got {other:?}")),
    }
}

/// The set's ETag in `If-None-Match` gives 304 (while nothing changed);
/// another tag gives 200.
pub async fn set_poll_304(ctx: &Ctx) -> Result<(), String> {
    // Entries that cannot change between the polls: an id without a job
    // (or, with tokens, without a token) and an invalid one.
    let unknown = ctx.ids.fresh("set_304");
    let id = unknown.as_str();
    let url = ctx.set_poll_url(&[id, "not.valid"]);
    let first = ctx.http.get(&url, &[]).await?;
    let tag = first
        .header("etag")
        .ok_or("PROTOCOL.md 11.4: a set poll carries an ETag")?
        .to_owned();
    let again = ctx.http.get(&url, &[("if-none-match", &tag)]).await?;
    if again.status != 304 || !again.body.is_empty() {
        return Err(format!(
            "PROTOCOL.md 11.4: If-None-Match with the set's ETag {tag} must get 304 with no body while nothing changed; got HTTP {}",
            again.status
        ));
    }
    if again.header("etag") != Some(tag.as_str()) {
        return Err(format!(
            "PROTOCOL.md 11.4: a 304 carries the same ETag {tag}, not {:?}",
            again.header("etag")
        ));
    }
    let other = ctx
        .http
        .get(&url, &[("if-none-match", "\"not-this-one\"")])
        .await?;
    if other.status != 200 {
        return Err(format!(
            "PROTOCOL.md 11.4: another ETag must get the full 200 answer; got HTTP {}",
            other.status
        ));
    }
    let smaller = ctx.set_poll_url(&[id]);
    let subset = ctx.http.get(&smaller, &[("if-none-match", &tag)]).await?;
    if subset.status != 200 {
        return Err(format!(
            "PROTOCOL.md 11.4: the ETag stands for the whole set; another set with the same tag must get 200, got HTTP {}",
            subset.status
        ));
    }
    Ok(())
}

/// What one connection of the event stream showed before it was dropped.
struct StreamRun {
    frames: Vec<ServerMessage>,
}

/// Reads the event stream at `url` until `enough` says so (or its end);
/// `quiet` is the longest wait for the next bytes.
async fn read_stream(
    ctx: &Ctx,
    url: &str,
    quiet: Duration,
    mut enough: impl FnMut(&[ServerMessage]) -> bool,
) -> Result<StreamRun, String> {
    let limit = ctx.opts.job_timeout;
    let mut resp = ctx.http.open_stream(url, limit).await?;
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    if status != 200 || !content_type.starts_with("text/event-stream") {
        return Err(format!(
            "PROTOCOL.md 11.5: GET {url} must answer 200 text/event-stream; got HTTP {status} {content_type:?}"
        ));
    }
    let deadline = Instant::now() + limit;
    let mut buffer = String::new();
    let mut frames = Vec::new();
    while !enough(&frames) {
        let left = deadline.saturating_duration_since(Instant::now());
        let chunk = match tokio::time::timeout(left.min(quiet), resp.chunk()).await {
            Err(_) => {
                return Err(format!(
                    "PROTOCOL.md 11.5: the event stream went quiet after {} event(s)",
                    frames.len()
                ))
            }
            Ok(Err(err)) => {
                return Err(format!(
                    "PROTOCOL.md 11.5: reading the event stream failed: {err}"
                ))
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        // Events end with a blank line; CRLF and CR line ends are allowed too.
        let normalised = buffer.replace("\r\n", "\n").replace('\r', "\n");
        buffer = normalised;
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            if data.is_empty() {
                continue;
            }
            frames.push(
                rules::parse_frame(&data.join("\n"))
                    .map_err(|why| format!("PROTOCOL.md 11.5: an event's data: {why}"))?,
            );
        }
    }
    Ok(StreamRun { frames })
}

fn job_of(frame: &ServerMessage) -> Option<&str> {
    match frame {
        ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => {
            Some(&progress.process_id)
        }
        ServerMessage::Error { process_id, .. } => process_id.as_deref(),
        _ => None,
    }
}

fn snapshot_of<'a>(frames: &'a [ServerMessage], id: &str) -> Option<&'a Progress> {
    frames.iter().find_map(|f| match f {
        ServerMessage::Snapshot { progress } if progress.process_id == id => Some(progress),
        _ => None,
    })
}

/// Every event names its job, each job's first event is its snapshot, and
/// a second connection (a reconnect) gets every job's snapshot again.
pub async fn events(ctx: &Ctx, jobs: &SetJobs, reconnect: bool) -> Result<(), String> {
    let followed = jobs.followed()?;
    let url = ctx.events_url(&followed);
    let connections = if reconnect { 2 } else { 1 };
    for n in 1..=connections {
        let run = read_stream(ctx, &url, ctx.opts.timeout * 4, |frames| {
            followed.iter().all(|id| snapshot_of(frames, id).is_some())
        })
        .await?;
        for frame in &run.frames {
            let Some(id) = job_of(frame) else {
                if matches!(
                    frame,
                    ServerMessage::Pong { .. }
                        | ServerMessage::Keepalive
                        | ServerMessage::ServerShutdown { .. }
                ) {
                    continue;
                }
                return Err(format!(
                    "PROTOCOL.md 11.5: every job event names its job; got {}",
                    rules::kind(frame)
                ));
            };
            if !followed.contains(&id) {
                return Err(format!(
                    "PROTOCOL.md 11.5: an event about {id}, which was not asked for"
                ));
            }
        }
        for id in followed.iter().copied() {
            let first = run.frames.iter().find(|f| job_of(f) == Some(id));
            match first {
                Some(ServerMessage::Snapshot { progress }) => rules::check_shape(progress, id)?,
                other => {
                    return Err(format!(
                        "PROTOCOL.md 11.5: connection {n}: job {id}'s first event must be its snapshot; got {:?}",
                        other.map(rules::kind)
                    ))
                }
            }
        }
    }
    Ok(())
}

/// The stream follows a running job to its end, `seq` increasing.
pub async fn events_follow(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("events_whole");
    ctx.start_job(&id, crate::options::Pace::FAST).await?;
    let url = ctx.events_url(&[&id]);
    let run = read_stream(ctx, &url, ctx.opts.timeout * 4, |frames| {
        frames.iter().any(|f| matches!(f, ServerMessage::Progress { progress } | ServerMessage::Snapshot { progress } if progress.state.is_terminal()))
    })
    .await?;
    let states: Vec<Progress> = run
        .frames
        .iter()
        .filter_map(|f| match f {
            ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => {
                Some(progress.clone())
            }
            _ => None,
        })
        .collect();
    if states.len() < 2 || !states.last().is_some_and(|p| p.state.is_terminal()) {
        return Err(format!("PROTOCOL.md 11.5: the stream must follow the job to its terminal state; saw {} state(s)", states.len()));
    }
    rules::over_pairs(&states, rules::check_seq)?;
    rules::over_pairs(&states, rules::check_percent)
}

/// How long a quiet stream may go without an event (PROTOCOL.md 11.5's
/// 15 s), plus room for a loaded machine.
const KEEPALIVE_LIMIT: Duration = Duration::from_secs(18);

/// A stream on a job that stays quiet gets a `keepalive` event within 15 s
/// of its last event: `EventSource` hides comment lines, so only an event
/// lets a client tell a quiet stream from a dead one.
pub async fn events_keepalive(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("events_quiet");
    // One step a minute: nothing happens for the length of the check.
    let quiet = crate::options::Pace {
        step_ms: 60_000,
        steps_per_stage: 1,
    };
    ctx.start_job(&id, quiet).await?;
    let url = ctx.events_url(&[&id]);
    let opened = Instant::now();
    let mut snapshot_at = None;
    let run = read_stream(ctx, &url, KEEPALIVE_LIMIT, |frames| {
        if snapshot_at.is_none() && !frames.is_empty() {
            snapshot_at = Some(Instant::now());
        }
        frames.iter().any(|f| matches!(f, ServerMessage::Keepalive))
            || opened.elapsed() > KEEPALIVE_LIMIT * 2
    })
    .await
    .map_err(|why| format!("{why}; a quiet stream must send a keepalive event within 15 s"))?;
    let waited = snapshot_at.map_or(opened.elapsed(), |at| at.elapsed());
    if !run
        .frames
        .iter()
        .any(|f| matches!(f, ServerMessage::Keepalive))
    {
        return Err(format!(
            "PROTOCOL.md 11.5: a quiet stream must send a keepalive event (data {{\"type\":\"keepalive\"}}) within 15 s; none came in {} s (comment lines do not count: EventSource hides them)",
            waited.as_secs()
        ));
    }
    if waited > KEEPALIVE_LIMIT {
        return Err(format!(
            "PROTOCOL.md 11.5: the keepalive event came {} ms after the last event; at most 15 s",
            waited.as_millis()
        ));
    }
    Ok(())
}
