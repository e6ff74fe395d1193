//! The page socket of protocol v1.1 (PROTOCOL.md 11): many jobs over one
//! socket, per-job snapshots, `seq` and errors, the subscription cap.

use std::collections::HashMap;

use serde_json::json;
use tokio::time::Instant;

use super::Ctx;
use crate::options::Pace;
use crate::rules;
use crate::socket::{Event, Socket};
use crate::wire::{Progress, ServerMessage};

/// The cap every server MUST allow at least (PROTOCOL.md 11.2).
pub const MIN_CAP: usize = 100;

impl Ctx {
    /// URL of the page socket.
    pub fn page_url(&self) -> String {
        format!("{}/ws/page", self.opts.ws_base())
    }

    /// `{"process_id", "token"?}` for a subscription to `id`.
    pub fn job_ref(&self, id: &str) -> serde_json::Value {
        match self.token(id) {
            Some(token) => json!({ "process_id": id, "token": token }),
            None => json!({ "process_id": id }),
        }
    }

    /// Opens the page socket.
    pub async fn open_page(&self) -> Result<Socket, String> {
        Socket::connect(&self.page_url(), self.opts.timeout)
            .await
            .map_err(|why| format!("PROTOCOL.md 11.1: the page socket: {why}"))
    }
}

/// Sends one `subscribe` frame for `ids`.
pub async fn subscribe(ctx: &Ctx, socket: &mut Socket, ids: &[&str]) -> Result<(), String> {
    let jobs: Vec<_> = ids.iter().map(|id| ctx.job_ref(id)).collect();
    socket
        .send_text(json!({ "type": "subscribe", "jobs": jobs }).to_string())
        .await
}

/// Sends a ping and waits for its pong, skipping every state and error
/// frame: the socket is still open and serving.
pub async fn still_open(socket: &mut Socket, id: u64, after: &str) -> Result<(), String> {
    socket
        .send_text(format!(r#"{{"type":"ping","id":{id}}}"#))
        .await?;
    let deadline = Instant::now() + socket.timeout();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.next_within(left).await {
            Event::Frame(ServerMessage::Pong { id: got, .. }) if got == id => return Ok(()),
            Event::Frame(_) => continue,
            other => {
                return Err(format!(
                    "PROTOCOL.md 11.1: the page socket stays open {after}; a ping got {}",
                    other.describe()
                ))
            }
        }
    }
}

/// What the page socket showed of two whole jobs.
#[derive(Debug, Default)]
pub struct PageTrace {
    per_job: HashMap<String, Vec<(&'static str, Progress)>>,
    errors: Vec<String>,
    setup: Option<String>,
    open_after: Option<Result<(), String>>,
}

/// Starts two jobs and follows both on one page socket until both ended.
pub async fn follow_two(ctx: &Ctx) -> PageTrace {
    let mut trace = PageTrace::default();
    let ids = [ctx.ids.fresh("page_a"), ctx.ids.fresh("page_b")];
    for id in &ids {
        if let Err(why) = ctx.start_job(id, Pace::FAST).await {
            trace.setup = Some(why);
            return trace;
        }
    }
    let mut socket = match ctx.open_page().await {
        Ok(socket) => socket,
        Err(why) => {
            trace.setup = Some(why);
            return trace;
        }
    };
    let names: Vec<&str> = ids.iter().map(String::as_str).collect();
    if let Err(why) = subscribe(ctx, &mut socket, &names).await {
        trace.setup = Some(why);
        return trace;
    }
    let deadline = Instant::now() + ctx.opts.job_timeout;
    let ended = |trace: &PageTrace| {
        ids.iter().all(|id| {
            trace
                .per_job
                .get(id)
                .and_then(|s| s.last())
                .is_some_and(|(_, p)| p.state.is_terminal())
        })
    };
    while !ended(&trace) {
        let left = deadline.saturating_duration_since(Instant::now());
        match socket.next_within(left.min(ctx.opts.timeout)).await {
            Event::Frame(ServerMessage::Snapshot { progress }) => trace
                .per_job
                .entry(progress.process_id.clone())
                .or_default()
                .push(("snapshot", progress)),
            Event::Frame(ServerMessage::Progress { progress }) => trace
                .per_job
                .entry(progress.process_id.clone())
                .or_default()
                .push(("progress", progress)),
            Event::Frame(ServerMessage::Error {
                code, process_id, ..
            }) => trace
                .errors
                .push(format!("an `error` frame `{code}` about {process_id:?}")),
            Event::Frame(_) => {}
            other => {
                trace.errors.push(other.describe());
                break;
            }
        }
    }
    if trace.errors.is_empty() {
        trace.open_after = Some(still_open(&mut socket, 11, "after its jobs ended").await);
    }
    socket.close().await;
    for id in ids {
        trace.per_job.entry(id).or_default();
    }
    trace
}

/// The results of the checks over [`follow_two`].
pub fn judge(trace: &PageTrace) -> Vec<(&'static str, Result<(), String>)> {
    let setup = |r: Result<(), String>| match (&trace.setup, trace.errors.first()) {
        (Some(why), _) => Err(why.clone()),
        (None, Some(what)) => Err(format!(
            "PROTOCOL.md 11.1: following two good jobs on the page socket got {what}"
        )),
        (None, None) => r,
    };
    let snapshots = trace.per_job.iter().try_for_each(|(id, seen)| {
        match seen.first() {
            Some(("snapshot", p)) => rules::check_shape(p, id),
            Some((kind, _)) => Err(format!(
                "PROTOCOL.md 11.1: job {id}'s first frame was `{kind}`; each subscription starts with its own snapshot"
            )),
            None => Err(format!("PROTOCOL.md 11.1: nothing arrived for job {id}")),
        }?;
        match seen.iter().skip(1).find(|(kind, _)| *kind == "snapshot") {
            Some((_, p)) => Err(format!(
                "PROTOCOL.md 11.1: job {id} got a second snapshot (seq {}); later states are `progress` frames",
                p.seq
            )),
            None => Ok(()),
        }
    });
    let seq = trace.per_job.iter().try_for_each(|(id, seen)| {
        let states: Vec<Progress> = seen.iter().map(|(_, p)| p.clone()).collect();
        if states.len() < 2 {
            return Err(format!(
                "job {id} showed {} state(s); it must still be running when subscribed (slow it down through --start-job-url)",
                states.len()
            ));
        }
        states.iter().try_for_each(|p| rules::check_shape(p, id))?;
        rules::over_pairs(&states, rules::check_seq)?;
        rules::over_pairs(&states, rules::check_percent)?;
        rules::over_pairs(&states, rules::check_after_terminal)
            .map_err(|why| format!("{why} (job {id})"))
    });
    let open = trace
        .open_after
        .clone()
        .unwrap_or_else(|| Err("the jobs never ended".to_owned()));
    vec![
        ("page.snapshot_per_job", setup(snapshots)),
        ("page.seq_per_job", setup(seq)),
        ("page.open_after_jobs_end", setup(open)),
    ]
}

/// A job that stays running for a while, for the checks below.
pub async fn slow_job(ctx: &Ctx, label: &str) -> Result<String, String> {
    let id = ctx.ids.fresh(label);
    ctx.start_job(&id, Pace::SLOW).await?;
    Ok(id)
}

/// An invalid id next to a good job: an `error` frame naming the bad one,
/// no snapshot for it, and the good one followed on the same open socket.
pub async fn bad_job_error_frame(ctx: &Ctx) -> Result<(), String> {
    let good = slow_job(ctx, "page_good").await?;
    let bad = "not.valid";
    let mut socket = ctx.open_page().await?;
    let result = async {
        subscribe(ctx, &mut socket, &[bad, &good]).await?;
        let (mut bad_seen, mut good_seen) = (false, false);
        while !(bad_seen && good_seen) {
            match socket.next().await {
                Event::Frame(ServerMessage::Error { process_id, code, .. })
                    if process_id.as_deref() == Some(bad) =>
                {
                    if code != "invalid_process_id" {
                        return Err(format!("PROTOCOL.md 11.3: the invalid id got `{code}`, expected `invalid_process_id`"));
                    }
                    bad_seen = true;
                }
                Event::Frame(ServerMessage::Snapshot { progress }) if progress.process_id == bad => {
                    return Err("PROTOCOL.md 11.3: an invalid id gets no snapshot, only its error frame".to_owned())
                }
                Event::Frame(ServerMessage::Snapshot { progress }) if progress.process_id == good => good_seen = true,
                Event::Frame(ServerMessage::Error { process_id: None, code, .. }) => {
                    return Err(format!("PROTOCOL.md 11.3: the error about one job must name it in `process_id`; got a connection error `{code}`"))
                }
                Event::Frame(_) => continue,
                other => {
                    return Err(format!(
                        "PROTOCOL.md 11.3: one bad job is its own error frame, the socket and the other jobs go on; got {}",
                        other.describe()
                    ))
                }
            }
        }
        still_open(&mut socket, 12, "after one job's error").await
    }
    .await;
    socket.close().await;
    result
}

/// A job that never appears: its placeholder snapshot, then after the
/// grace an `error` frame `unknown_process` naming it; the socket stays.
pub async fn unknown_after_grace(ctx: &Ctx) -> Result<(), String> {
    let id = ctx.ids.fresh("page_never");
    let mut socket = ctx.open_page().await?;
    let started = Instant::now();
    let result = async {
        subscribe(ctx, &mut socket, &[&id]).await?;
        match socket.next().await {
            Event::Frame(ServerMessage::Snapshot { progress }) if progress.seq == 0 => {}
            other => {
                return Err(format!(
                    "PROTOCOL.md 11.3, 4.5: an id without a job gets the pending seq 0 snapshot first; got {}",
                    other.describe()
                ))
            }
        }
        let left = (started + ctx.opts.grace_wait).saturating_duration_since(Instant::now());
        match socket.next_within(left).await {
            Event::Frame(ServerMessage::Error { process_id, code, .. })
                if process_id.as_deref() == Some(id.as_str()) && code == "unknown_process" => {}
            other => {
                return Err(format!(
                    "PROTOCOL.md 11.3: after the grace an id that never got a job gets an `error` frame `unknown_process` naming it, within --grace-wait-ms; got {}",
                    other.describe()
                ))
            }
        }
        still_open(&mut socket, 13, "after the grace of one job").await
    }
    .await;
    socket.close().await;
    result
}

/// A connection follows at least 100 jobs; the next one is refused with
/// `too_many_subscriptions` naming it; an unsubscribe frees a slot.
pub async fn subscription_cap(ctx: &Ctx) -> Result<(), String> {
    let ids: Vec<String> = (0..=MIN_CAP)
        .map(|i| ctx.ids.fresh(&format!("cap{i}")))
        .collect();
    let mut socket = ctx.open_page().await?;
    let result = async {
        for chunk in ids[..MIN_CAP].chunks(25) {
            let names: Vec<&str> = chunk.iter().map(String::as_str).collect();
            subscribe(ctx, &mut socket, &names).await?;
        }
        let mut snapshots = 0;
        while snapshots < MIN_CAP {
            match socket.next().await {
                Event::Frame(ServerMessage::Snapshot { .. }) => snapshots += 1,
                other => {
                    return Err(format!(
                        "PROTOCOL.md 11.2: a connection may follow at least {MIN_CAP} jobs; subscription {} got {}",
                        snapshots + 1,
                        other.describe()
                    ))
                }
            }
        }
        let extra = ids[MIN_CAP].as_str();
        subscribe(ctx, &mut socket, &[extra]).await?;
        match socket.next().await {
            Event::Frame(ServerMessage::Error { process_id, code, .. })
                if process_id.as_deref() == Some(extra) && code == "too_many_subscriptions" => {}
            other => {
                return Err(format!(
                    "PROTOCOL.md 11.2: subscription {} is over the cap of {MIN_CAP} and must get an `error` frame `too_many_subscriptions` naming it; got {}",
                    MIN_CAP + 1,
                    other.describe()
                ))
            }
        }
        socket
            .send_text(json!({ "type": "unsubscribe", "process_ids": [ids[0]] }).to_string())
            .await?;
        subscribe(ctx, &mut socket, &[extra]).await?;
        match socket.next().await {
            Event::Frame(ServerMessage::Snapshot { progress }) if progress.process_id == extra => Ok(()),
            other => Err(format!(
                "PROTOCOL.md 11.2: after an unsubscribe the freed slot takes a new job; got {}",
                other.describe()
            )),
        }
    }
    .await;
    socket.close().await;
    result
}

/// A subscribe frame over 64 KiB: an `error` `message_too_big`, then close 1009.
pub async fn oversized(ctx: &Ctx) -> Result<(), String> {
    let mut socket = ctx.open_page().await?;
    let jobs: Vec<_> = (0..2500)
        .map(|i| json!({ "process_id": format!("oversized_subscription_{i:08}") }))
        .collect();
    let text = json!({ "type": "subscribe", "jobs": jobs }).to_string();
    socket.send_text(text).await?;
    let mut told = false;
    loop {
        match socket.next_answer().await {
            Event::Frame(ServerMessage::Error { code, .. }) if code == "message_too_big" => {
                told = true
            }
            Event::Close(Some(1009), _) if told => return Ok(()),
            Event::Close(Some(1009), _) => {
                return Err(
                    "PROTOCOL.md 4.8: close 1009 must follow an `error` frame `message_too_big`"
                        .to_owned(),
                )
            }
            other => {
                socket.close().await;
                return Err(format!(
                    "PROTOCOL.md 11.2, 4.8: a subscribe frame over 64 KiB must get close 1009; got {}",
                    other.describe()
                ));
            }
        }
    }
}
