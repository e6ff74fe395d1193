//! `GET /ws/page/events?ids=a,b&tokens=ta,tb`: the event stream of a set
//! of jobs (protocol v1.1), for networks whose proxies break WebSocket
//! upgrades.
//!
//! Each event's `data` is one page-socket frame (`snapshot`, `progress`,
//! `error` naming its job, `server_shutdown`), so a client reads both the
//! same way. Every connection starts with each job's snapshot, which is all
//! a reconnect needs: there is no replay and no `Last-Event-ID`. The stream
//! ends once every job has ended (terminal state or its own error).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::{broadcast, mpsc};
use upload_progress_core::page::{JobRef, PageServerMessage};
use upload_progress_core::protocol::WireErrorCode;

use super::job_set::JobSetQuery;
use crate::error::ApiError;
use crate::limits::ConnGuard;
use crate::state::{ClientIp, Control, Shared};
use crate::ws::follow::{check_access, Follow, Followers, Step};

/// Events queued for a slow reader before the stream counts it as gone.
const QUEUE: usize = 64;
/// A quiet stream gets a keep-alive event this often (PROTOCOL.md 11.5):
/// proxies keep the stream open, and the client, which never sees comment
/// lines through `EventSource`, can tell a quiet stream from a dead one.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The keep-alive event's data: a frame clients ignore but hear.
const KEEP_ALIVE_FRAME: &str = r#"{"type":"keepalive"}"#;
/// Asks an `EventSource` to wait this long before reconnecting on its own.
const RETRY: Duration = Duration::from_millis(1000);

/// Opens the stream; counts as one connection against the caps.
pub async fn job_events(
    State(state): State<Shared>,
    ip: ClientIp,
    query: Result<Query<JobSetQuery>, QueryRejection>,
) -> Response {
    let jobs = match query {
        Ok(Query(query)) => match query.jobs(state.config.max_subscriptions) {
            Ok(jobs) => jobs,
            Err(err) => return err.into_response(),
        },
        Err(rej) => {
            return ApiError::new(
                StatusCode::BAD_REQUEST,
                WireErrorCode::BadQuery,
                rej.body_text(),
            )
            .into_response()
        }
    };
    // Not the upgrade faults: this is the rung for when upgrades fail.
    let guard = match crate::ws::admit_connection(&state, ip) {
        Ok(guard) => guard,
        Err(resp) => return *resp,
    };
    let (tx, rx) = mpsc::channel(QUEUE);
    tokio::spawn(stream_jobs(state, jobs, tx, guard));
    let events = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|event| (Ok::<_, Infallible>(event), rx))
    });
    Sse::new(events)
        .keep_alive(
            KeepAlive::new()
                .interval(KEEP_ALIVE)
                .event(Event::default().data(KEEP_ALIVE_FRAME)),
        )
        .into_response()
}

/// The reader went away (or is too slow to take events).
struct Gone;

async fn stream_jobs(state: Shared, jobs: Vec<JobRef>, tx: mpsc::Sender<Event>, guard: ConnGuard) {
    let mut control = state.control.subscribe();
    let mut followers = Followers::default();
    if send(&tx, Event::default().retry(RETRY).comment("jobs"))
        .await
        .is_err()
    {
        return;
    }
    for job in jobs {
        if start(&state, job, &tx, &mut followers).await.is_err() {
            return;
        }
    }
    while !followers.is_empty() {
        let sent = tokio::select! {
            biased;
            ctl = control.recv() => match ctl {
                Ok(Control::Restart { retry_after_ms, spread_ms }) => {
                    let retry_after_ms = retry_after_ms.saturating_add(rand::random_range(0..=spread_ms));
                    let _ = send_frame(&tx, &PageServerMessage::ServerShutdown { retry_after_ms }).await;
                    break;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => Ok(()),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = tx.closed() => break,
            (follow, step) = followers.next() => on_step(follow, step, &tx, &mut followers).await,
        };
        if sent.is_err() {
            break;
        }
    }
    // The connection slot is free once the stream's task is done.
    drop(guard);
}

async fn start(
    state: &Shared,
    job: JobRef,
    tx: &mpsc::Sender<Event>,
    followers: &mut Followers,
) -> Result<(), Gone> {
    let (id, token_expiry) = match check_access(state, &job.process_id, job.token.as_deref()) {
        Ok(access) => access,
        Err(denied) => return job_error(tx, &job.process_id, &denied.code, &denied.message).await,
    };
    let (follow, first) = Follow::start(state, &id, token_expiry).await;
    let finished = first.is_terminal();
    send_frame(tx, &PageServerMessage::Snapshot { progress: first }).await?;
    if !finished {
        followers.watch(follow);
    }
    Ok(())
}

async fn on_step(
    follow: Follow,
    step: Step,
    tx: &mpsc::Sender<Event>,
    followers: &mut Followers,
) -> Result<(), Gone> {
    let id = follow.id().as_str().to_owned();
    match step.into_state() {
        Ok(published) => {
            if !published.progress.is_terminal() {
                followers.watch(follow);
            }
            // The frame every socket of the job shares, rendered once.
            send(tx, Event::default().data(published.frame.as_str())).await
        }
        Err((code, message)) => job_error(tx, &id, &code, &message).await,
    }
}

async fn job_error(
    tx: &mpsc::Sender<Event>,
    id: &str,
    code: &WireErrorCode,
    message: &str,
) -> Result<(), Gone> {
    let frame = PageServerMessage::Error {
        process_id: Some(id.to_owned()),
        code: code.to_string(),
        message: message.to_owned(),
    };
    send_frame(tx, &frame).await
}

async fn send_frame(tx: &mpsc::Sender<Event>, frame: &PageServerMessage) -> Result<(), Gone> {
    let text = serde_json::to_string(frame).map_err(|_| Gone)?;
    send(tx, Event::default().data(text)).await
}

async fn send(tx: &mpsc::Sender<Event>, event: Event) -> Result<(), Gone> {
    tx.send(event).await.map_err(|_| Gone)
}
