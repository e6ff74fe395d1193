//! The task behind one socket: its event loop, heartbeats, limits and closes.

use std::future::Future;
use std::task::Poll;
use std::time::{Duration, Instant};
use upload_progress_core::protocol::WireErrorCode;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use tokio::sync::{broadcast, watch};
use tokio::time::error::Elapsed;
use tokio::time::MissedTickBehavior;
use upload_progress_core::{code, ClientMessage, ProcessId, Progress, ServerMessage};

use super::Target;
use crate::clock::{now_ms, now_s};
use crate::limits::RateWindow;
use crate::state::{Control, Shared};
use crate::stats::Counters;
use crate::store::{Published, Subscription};

/// How long to wait for the peer's close reply after we close.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Whether the socket loop goes on.
enum Flow {
    Continue,
    Stop,
}

/// The peer can no longer be written to (closed, failed, or too slow to take a frame).
struct Gone;

pub(super) struct Conn {
    socket: WebSocket,
    state: Shared,
    rate: RateWindow,
    last_heard: Instant,
    control: broadcast::Receiver<Control>,
    stall: watch::Receiver<Option<Instant>>,
}

impl Conn {
    pub(super) fn new(socket: WebSocket, state: Shared) -> Self {
        let rate = RateWindow::new(state.config.rate_limit, state.config.rate_window);
        let control = state.control.subscribe();
        let stall = state.faults.stall_rx();
        Self {
            socket,
            state,
            rate,
            last_heard: Instant::now(),
            control,
            stall,
        }
    }

    pub(super) async fn run(mut self, target: Target) {
        match target {
            Target::Job { raw_id, token } => self.run_job(&raw_id, token.as_deref()).await,
            // Admin and health sockets are few: boxed, their states do not
            // widen every job socket's future (see below).
            Target::All => Box::pin(self.run_all()).await,
            Target::Health => Box::pin(self.run_health()).await,
        }
    }

    // Handlers that run rarely (a client frame, a control message, a ping,
    // an error, the first frame) are awaited boxed: a future's size is the
    // largest state it can be in, and this task's future is held by every
    // idle socket, so inline they would cost each socket their size all the
    // time instead of one allocation when they run.

    async fn run_job(&mut self, raw_id: &str, token: Option<&str>) {
        let id = match ProcessId::parse(raw_id) {
            Ok(id) => id,
            Err(err) => {
                self.fail(
                    code::INVALID_PROCESS_ID,
                    WireErrorCode::InvalidProcessId,
                    &err.to_string(),
                )
                .await;
                return;
            }
        };
        let mut token_expiry = None;
        if self.state.config.require_token {
            match self.state.tokens.verify(token, &id, now_s()) {
                Ok(expiry) => token_expiry = Some(expiry),
                Err(err) => {
                    Counters::bump(&self.state.stats.counters.unauthorized);
                    self.fail(code::UNAUTHORIZED, err.code(), &err.to_string())
                        .await;
                    return;
                }
            }
        }
        let state = self.state.clone();
        let _active = state.stats.ws_opened(&id);
        self.stream_job(&id, token_expiry).await;
    }

    async fn stream_job(&mut self, id: &ProcessId, token_expiry: Option<u64>) {
        let expiry_at = token_expiry.map(|s| {
            let left = s.saturating_mul(1000).saturating_sub(now_ms());
            tokio::time::Instant::now() + Duration::from_millis(left)
        });
        // For an id that does not exist yet (the subscribe-before-upload
        // race) the store hands out a signal for that id alone, registered
        // under the same lock as the lookup, so its creation is never missed.
        let mut subscription = self.state.store.subscribe_or_wait(id);
        if let Subscription::Pending(_) = subscription {
            // Not held here: another instance may own it (shared backend).
            // Asked while already waiting, so a job published meanwhile is
            // not missed either; and asked before the snapshot, so a client
            // moving here from another instance never gets an older one.
            if let Ok(Some(_)) = self.state.lookup(id).await {
                subscription = self.state.store.subscribe_or_wait(id);
            }
        }
        let (mut job, mut early) = match subscription {
            Subscription::Job(rx) => (Some(rx), None),
            Subscription::Pending(rx) => (None, Some(rx)),
        };
        let first = match job.as_mut() {
            Some(rx) => Progress::clone(&rx.borrow_and_update().progress),
            None => Progress::unknown(id.clone(), now_ms()),
        };
        if let Flow::Stop = Box::pin(self.open_with(first)).await {
            return;
        }
        let mut grace_end = tokio::time::Instant::now() + self.state.config.grace;
        let mut ticker = self.ping_ticker();
        loop {
            if let Flow::Stop = self.stall_if_needed().await {
                return;
            }
            let waiting = job.is_none();
            let flow = tokio::select! {
                // Control and stall first: a fault or restart must win over
                // a frame that arrived at the same moment.
                biased;
                ctl = self.control.recv() => Box::pin(self.on_control(ctl)).await,
                _ = self.stall.changed() => Flow::Continue,
                incoming = self.socket.recv() => Box::pin(self.on_incoming(incoming)).await,
                changed = wait_job(job.as_mut()) => match changed {
                    Some(published) => self.send_progress(published).await,
                    None => {
                        // The job left the store (evicted) before finishing.
                        Box::pin(self.fail(code::UNKNOWN_PROCESS, WireErrorCode::UnknownProcess, "the job is no longer available")).await;
                        Flow::Stop
                    }
                },
                () = wait_created(early.as_mut()), if waiting => {
                    match self.state.store.subscribe_or_wait(id) {
                        Subscription::Job(mut rx) => {
                            let published = rx.borrow_and_update().clone();
                            job = Some(rx);
                            early = None;
                            self.send_progress(published).await
                        }
                        Subscription::Pending(rx) => {
                            early = Some(rx);
                            Flow::Continue
                        }
                    }
                }
                _ = tokio::time::sleep_until(grace_end), if waiting => {
                    // "No such job" only when the shared backend could say so.
                    match Box::pin(self.state.lookup(id)).await {
                        Ok(Some(_)) => {
                            // Copied in just now: the creation signal fires next.
                            grace_end = tokio::time::Instant::now() + self.state.config.grace;
                            Flow::Continue
                        }
                        Ok(None) => {
                            Box::pin(self.fail(code::UNKNOWN_PROCESS, WireErrorCode::UnknownProcess, "no job with this process_id appeared in time")).await;
                            Flow::Stop
                        }
                        Err(_) => {
                            Box::pin(self.fail(code::TEMPORARILY_UNAVAILABLE, WireErrorCode::Unavailable, "the job store is not reachable yet; reconnect shortly")).await;
                            Flow::Stop
                        }
                    }
                }
                _ = sleep_until_opt(expiry_at) => {
                    Counters::bump(&self.state.stats.counters.unauthorized);
                    Box::pin(self.fail(code::UNAUTHORIZED, WireErrorCode::TokenExpired, "the token has expired")).await;
                    Flow::Stop
                }
                _ = ticker.tick() => Box::pin(self.heartbeat()).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    /// Sends the first frame; closes 1000 at once for a finished job.
    async fn open_with(&mut self, progress: Progress) -> Flow {
        let last = progress.is_terminal();
        match text_frame(&ServerMessage::Snapshot { progress }) {
            Ok(frame) => self.deliver(frame, last).await,
            Err(Gone) => Flow::Stop,
        }
    }

    async fn send_progress(&mut self, published: Published) -> Flow {
        let last = published.progress.is_terminal();
        self.deliver(Message::Text(published.frame), last).await
    }

    /// Sends a job's state. The `last` one is queued without a flush so the
    /// close 1000 that follows leaves in the same write: one system call per
    /// socket less when a job ends for all its subscribers at once.
    async fn deliver(&mut self, frame: Message, last: bool) -> Flow {
        if !last {
            return match self.send(frame).await {
                Ok(()) => Flow::Continue,
                Err(Gone) => Flow::Stop,
            };
        }
        if self.queue(frame).await.is_ok() {
            Box::pin(self.close(code::NORMAL, "job finished")).await;
        }
        Flow::Stop
    }

    async fn run_all(&mut self) {
        let mut updates = self.state.store.subscribe_all();
        if self.send_all_snapshots().await.is_err() {
            return;
        }
        let mut ticker = self.ping_ticker();
        loop {
            if let Flow::Stop = self.stall_if_needed().await {
                return;
            }
            let flow = tokio::select! {
                // Control and stall first: a fault or restart must win over
                // a frame that arrived at the same moment.
                biased;
                ctl = self.control.recv() => Box::pin(self.on_control(ctl)).await,
                _ = self.stall.changed() => Flow::Continue,
                incoming = self.socket.recv() => Box::pin(self.on_incoming(incoming)).await,
                update = updates.recv() => match update {
                    Ok(progress) => match self.send_json(&ServerMessage::Progress { progress }).await {
                        Ok(()) => Flow::Continue,
                        Err(Gone) => Flow::Stop,
                    },
                    // Fell behind: states supersede each other, so a fresh
                    // snapshot of everything replaces the missed updates.
                    Err(broadcast::error::RecvError::Lagged(_)) => match self.send_all_snapshots().await {
                        Ok(()) => Flow::Continue,
                        Err(Gone) => Flow::Stop,
                    },
                    Err(broadcast::error::RecvError::Closed) => Flow::Stop,
                },
                _ = ticker.tick() => Box::pin(self.heartbeat()).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    async fn send_all_snapshots(&mut self) -> Result<(), Gone> {
        for progress in self.state.store.active() {
            self.send_json(&ServerMessage::Snapshot { progress })
                .await?;
        }
        Ok(())
    }

    async fn run_health(&mut self) {
        let mut ticker = self.ping_ticker();
        loop {
            if let Flow::Stop = self.stall_if_needed().await {
                return;
            }
            let flow = tokio::select! {
                // Control and stall first: a fault or restart must win over
                // a frame that arrived at the same moment.
                biased;
                ctl = self.control.recv() => Box::pin(self.on_control(ctl)).await,
                _ = self.stall.changed() => Flow::Continue,
                incoming = self.socket.recv() => Box::pin(self.on_incoming(incoming)).await,
                _ = ticker.tick() => Box::pin(self.heartbeat()).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    fn ping_ticker(&self) -> tokio::time::Interval {
        let period = self
            .state
            .config
            .ping_interval
            .max(Duration::from_millis(10));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        ticker
    }

    /// While the stall fault is on, touch nothing: no reads (so no automatic
    /// pongs), no writes, no close. Only an abort or the fault ending frees it.
    async fn stall_if_needed(&mut self) -> Flow {
        let mut stalled = false;
        loop {
            let until = *self.stall.borrow_and_update();
            match until {
                Some(until) if until > Instant::now() => {
                    stalled = true;
                    tokio::select! {
                        _ = tokio::time::sleep_until(until.into()) => {}
                        changed = self.stall.changed() => {
                            if changed.is_err() {
                                return Flow::Stop;
                            }
                        }
                    }
                }
                _ => break,
            }
        }
        if stalled {
            // Time spent stalled is not the peer's silence.
            self.last_heard = Instant::now();
        }
        Flow::Continue
    }

    async fn on_control(&mut self, ctl: Result<Control, broadcast::error::RecvError>) -> Flow {
        match ctl {
            Ok(Control::Restart {
                retry_after_ms,
                spread_ms,
            }) => {
                let retry_after_ms = jittered(retry_after_ms, spread_ms);
                let _ = self
                    .send_json(&ServerMessage::ServerShutdown { retry_after_ms })
                    .await;
                self.close(code::RESTARTING, "server restarting").await;
                Flow::Stop
            }
            Err(broadcast::error::RecvError::Lagged(_)) => Flow::Continue,
            // The state is going away with the server.
            Err(broadcast::error::RecvError::Closed) => Flow::Stop,
        }
    }

    /// Server-side protocol ping; drops a peer silent for longer than the idle timeout.
    async fn heartbeat(&mut self) -> Flow {
        if self.last_heard.elapsed() > self.state.config.idle_timeout {
            Counters::bump(&self.state.stats.counters.stale_dropped);
            tracing::debug!("dropping silent socket");
            return Flow::Stop;
        }
        match self.send(Message::Ping(axum::body::Bytes::new())).await {
            Ok(()) => Flow::Continue,
            Err(Gone) => Flow::Stop,
        }
    }

    async fn on_incoming(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Flow {
        let msg = match incoming {
            None => return Flow::Stop,
            Some(Ok(msg)) => msg,
            Some(Err(err)) => return self.on_read_error(err).await,
        };
        self.last_heard = Instant::now();
        let text = match msg {
            Message::Text(text) => Some(text),
            Message::Binary(data) if data.len() > self.state.config.max_message_bytes => {
                return self.too_big().await;
            }
            Message::Binary(_) => None,
            Message::Ping(_) | Message::Pong(_) => return Flow::Continue,
            // tungstenite has already answered the close.
            Message::Close(_) => return Flow::Stop,
        };
        Counters::bump(&self.state.stats.counters.frames_received);
        let size = text.as_ref().map_or(0, |t| t.len());
        if size > self.state.config.max_message_bytes {
            return self.too_big().await;
        }
        if !self.rate.allow(Instant::now()) {
            Counters::bump(&self.state.stats.counters.rate_limited);
            let message = format!(
                "more than {} messages in {} s",
                self.state.config.rate_limit,
                self.state.config.rate_window.as_secs_f64()
            );
            self.fail(code::POLICY, WireErrorCode::RateLimited, &message)
                .await;
            return Flow::Stop;
        }
        let Some(text) = text else {
            return self
                .reply_error(
                    WireErrorCode::UnsupportedFrame,
                    "binary frames are not supported",
                )
                .await;
        };
        match serde_json::from_str::<ClientMessage>(text.as_str()) {
            Ok(ClientMessage::Ping { id }) => {
                let pong = ServerMessage::Pong {
                    id,
                    server_ts_ms: now_ms(),
                };
                match self.send_json(&pong).await {
                    Ok(()) => Flow::Continue,
                    Err(Gone) => Flow::Stop,
                }
            }
            Err(err) => {
                Counters::bump(&self.state.stats.counters.malformed);
                self.reply_error(
                    WireErrorCode::BadMessage,
                    &format!("unreadable message: {err}"),
                )
                .await
            }
        }
    }

    async fn on_read_error(&mut self, err: axum::Error) -> Flow {
        let inner = err.into_inner();
        let too_big = matches!(
            inner.downcast_ref::<tungstenite::Error>(),
            Some(tungstenite::Error::Capacity(_))
        );
        if too_big {
            return self.too_big().await;
        }
        tracing::debug!(err = %inner, "socket read failed");
        Flow::Stop
    }

    async fn too_big(&mut self) -> Flow {
        Counters::bump(&self.state.stats.counters.oversized);
        let limit = self.state.config.max_message_bytes;
        self.fail(
            code::TOO_BIG,
            WireErrorCode::MessageTooBig,
            &format!("messages are limited to {limit} bytes"),
        )
        .await;
        Flow::Stop
    }

    async fn reply_error(&mut self, code: WireErrorCode, message: &str) -> Flow {
        let frame = ServerMessage::Error {
            code: code.to_string(),
            message: message.to_owned(),
        };
        match self.send_json(&frame).await {
            Ok(()) => Flow::Continue,
            Err(Gone) => Flow::Stop,
        }
    }

    /// `error` frame, then close with `close_code`.
    async fn fail(&mut self, close_code: u16, error_code: WireErrorCode, message: &str) {
        if let Flow::Continue = self.reply_error(error_code.clone(), message).await {
            self.close(close_code, error_code.as_str()).await;
        }
    }

    async fn send_json(&mut self, msg: &ServerMessage) -> Result<(), Gone> {
        let frame = text_frame(msg)?;
        self.send(frame).await
    }

    /// Sends one frame; a peer that does not take it within the send timeout is dead.
    async fn send(&mut self, msg: Message) -> Result<(), Gone> {
        let limit = self.state.config.send_timeout;
        let outcome = bounded(limit, self.socket.send(msg)).await;
        self.sent(outcome)
    }

    /// Queues one frame without flushing it (same limit as [`Self::send`]).
    async fn queue(&mut self, msg: Message) -> Result<(), Gone> {
        let limit = self.state.config.send_timeout;
        let outcome = bounded(limit, self.socket.feed(msg)).await;
        self.sent(outcome)
    }

    fn sent(&self, outcome: Result<Result<(), axum::Error>, Elapsed>) -> Result<(), Gone> {
        match outcome {
            Ok(Ok(())) => {
                Counters::bump(&self.state.stats.counters.frames_sent);
                Ok(())
            }
            Ok(Err(_)) => Err(Gone),
            Err(_) => {
                Counters::bump(&self.state.stats.counters.stale_dropped);
                Err(Gone)
            }
        }
    }

    /// Sends a close frame and waits briefly for the peer's answer.
    async fn close(&mut self, close_code: u16, reason: &str) {
        let frame = CloseFrame {
            code: close_code,
            reason: Utf8Bytes::from(reason.to_owned()),
        };
        if self.send(Message::Close(Some(frame))).await.is_err() {
            return;
        }
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            while let Some(Ok(msg)) = self.socket.recv().await {
                if matches!(msg, Message::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
}

/// `base` plus this socket's own uniform share of `spread`: the value lies
/// in `[base, base + spread]`.
fn jittered(base: u64, spread: u64) -> u64 {
    if spread == 0 {
        return base;
    }
    base.saturating_add(rand::random_range(0..=spread))
}

/// `msg` as a text frame.
fn text_frame(msg: &ServerMessage) -> Result<Message, Gone> {
    // Serialising these plain types cannot fail; treat it as fatal rather than panic.
    let text = serde_json::to_string(msg).map_err(|_| Gone)?;
    Ok(Message::Text(Utf8Bytes::from(text)))
}

/// Runs one write under `limit`; a peer that does not take it in time is dead.
///
/// Almost every write completes on its first poll (the kernel takes the
/// frame), so the timeout's timer is armed only for a write that has to wait:
/// one timer registration and removal less per frame and socket.
async fn bounded(
    limit: Duration,
    write: impl Future<Output = Result<(), axum::Error>>,
) -> Result<Result<(), axum::Error>, Elapsed> {
    let mut write = std::pin::pin!(write);
    let first = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(done) => Ok(done),
        // Boxed: the timer lives on the heap only while a write waits.
        Poll::Pending => Box::pin(tokio::time::timeout(limit, write)).await,
    }
}

/// Waits for the job's next state; `None` when the job left the store.
/// Without a job yet, never resolves.
async fn wait_job(job: Option<&mut watch::Receiver<Published>>) -> Option<Published> {
    match job {
        Some(rx) => {
            rx.changed().await.ok()?;
            Some(rx.borrow_and_update().clone())
        }
        None => std::future::pending().await,
    }
}

/// Resolves once the job a socket waits for has been created (the store
/// drops the signal's sender then). Without a signal, never resolves.
async fn wait_created(early: Option<&mut watch::Receiver<()>>) {
    match early {
        Some(rx) => {
            // Only an error (sender dropped) can end this: nobody sends on it.
            let _ = rx.changed().await;
        }
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
