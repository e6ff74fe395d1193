//! The page socket (`/ws/page`, protocol v1.1): one socket, many jobs.
//!
//! The client subscribes to and unsubscribes from jobs; each subscription is
//! a [`Follow`], exactly what a per-job socket runs, and its ends (terminal
//! state, job gone, grace over, token expired) end that subscription only.
//! Refusals about one job are `error` frames naming it; the socket stays.
//! The socket-wide rules (size and rate limits, heartbeats, restarts, the
//! stall fault) are the per-job socket's own, from [`Conn`].

use upload_progress_core::page::{JobRef, PageClientMessage, PageServerMessage};
use upload_progress_core::protocol::WireErrorCode;
use upload_progress_core::ServerMessage;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::conn::{text_frame, Conn, Flow, Gone};
use super::follow::{check_access, Follow, Followers, Step};
use super::{admit, upgrade, Target};
use crate::error::ApiError;
use crate::state::{ClientIp, Shared};

/// `GET /ws/page`: the page socket. It counts as one connection against
/// the caps, however many jobs it follows.
pub async fn page_socket(
    State(state): State<Shared>,
    ip: ClientIp,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let Ok(ws) = ws else {
        return ApiError::new(
            StatusCode::UPGRADE_REQUIRED,
            WireErrorCode::Other("upgrade_required".to_owned()),
            "the page socket is a WebSocket; poll /ws/page/poll or stream /ws/page/events instead",
        )
        .into_response();
    };
    match admit(&state, ip).await {
        Ok(guard) => upgrade(ws, state, guard, Target::Page),
        Err(resp) => resp,
    }
}

impl Conn {
    pub(super) async fn run_page(&mut self) {
        let mut subs = Followers::default();
        let mut ticker = self.ping_ticker();
        loop {
            if let Flow::Stop = self.stall_if_needed().await {
                return;
            }
            let following = !subs.is_empty();
            let flow = tokio::select! {
                // Control and stall first, as on every socket.
                biased;
                ctl = self.control.recv() => Box::pin(self.on_control(ctl)).await,
                _ = self.stall.changed() => Flow::Continue,
                incoming = self.socket.recv() => match self.read_text(incoming).await {
                    Ok(text) => Box::pin(self.on_page_text(&text, &mut subs)).await,
                    Err(flow) => flow,
                },
                (follow, step) = subs.next(), if following => self.on_step(follow, step, &mut subs).await,
                _ = ticker.tick() => Box::pin(self.heartbeat()).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    async fn on_page_text(&mut self, text: &str, subs: &mut Followers) -> Flow {
        match serde_json::from_str::<PageClientMessage>(text) {
            Ok(PageClientMessage::Ping { id }) => self.pong(id).await,
            Ok(PageClientMessage::Subscribe { jobs }) => self.subscribe(jobs, subs).await,
            Ok(PageClientMessage::Unsubscribe { process_ids }) => {
                for id in &process_ids {
                    subs.remove(id);
                }
                Flow::Continue
            }
            Err(err) => self.bad_message(&err).await,
        }
    }

    async fn subscribe(&mut self, jobs: Vec<JobRef>, subs: &mut Followers) -> Flow {
        let cap = self.state.config.max_subscriptions;
        if jobs.len() > cap {
            // One frame asking for more than a connection may ever follow is
            // refused whole: answering each job would multiply the frame.
            let message = format!("one connection follows at most {cap} jobs");
            return self
                .reply_error(WireErrorCode::TooManySubscriptions, &message)
                .await;
        }
        for job in jobs {
            let flow = self.subscribe_one(job, subs).await;
            if let Flow::Stop = flow {
                return flow;
            }
        }
        Flow::Continue
    }

    async fn subscribe_one(&mut self, job: JobRef, subs: &mut Followers) -> Flow {
        let (id, token_expiry) =
            match check_access(&self.state, &job.process_id, job.token.as_deref()) {
                Ok(access) => access,
                Err(denied) => {
                    return self
                        .job_error(&job.process_id, denied.code, &denied.message)
                        .await
                }
            };
        let cap = self.state.config.max_subscriptions;
        // A job already followed is followed afresh; it takes no new slot.
        if !subs.contains(&id) && subs.len() >= cap {
            let message = format!("this connection already follows {cap} jobs, the most it may");
            return self
                .job_error(
                    &job.process_id,
                    WireErrorCode::TooManySubscriptions,
                    &message,
                )
                .await;
        }
        subs.remove(id.as_str());
        let (follow, first) = Follow::start(&self.state, &id, token_expiry).await;
        let finished = first.is_terminal();
        if let Err(Gone) = self
            .send_page(ServerMessage::Snapshot { progress: first })
            .await
        {
            return Flow::Stop;
        }
        // A finished job's snapshot is all there is to say about it.
        if !finished {
            subs.watch(follow);
        }
        Flow::Continue
    }

    async fn on_step(&mut self, follow: Follow, step: Step, subs: &mut Followers) -> Flow {
        let id = follow.id().as_str().to_owned();
        match step.into_state() {
            Ok(published) => {
                if !published.progress.is_terminal() {
                    subs.watch(follow);
                }
                match self
                    .send(axum::extract::ws::Message::Text(published.frame))
                    .await
                {
                    Ok(()) => Flow::Continue,
                    Err(Gone) => Flow::Stop,
                }
            }
            Err((code, message)) => self.job_error(&id, code, &message).await,
        }
    }

    /// An `error` frame about one job; that job is not followed (any more),
    /// the socket and its other jobs go on.
    async fn job_error(&mut self, id: &str, code: WireErrorCode, message: &str) -> Flow {
        let frame = PageServerMessage::Error {
            process_id: Some(id.to_owned()),
            code: code.to_string(),
            message: message.to_owned(),
        };
        let sent = match serde_json::to_string(&frame) {
            Ok(text) => {
                self.send(axum::extract::ws::Message::Text(text.into()))
                    .await
            }
            Err(_) => Err(Gone),
        };
        match sent {
            Ok(()) => Flow::Continue,
            Err(Gone) => Flow::Stop,
        }
    }

    async fn send_page(&mut self, msg: ServerMessage) -> Result<(), Gone> {
        let frame = text_frame(&msg)?;
        self.send(frame).await
    }
}
