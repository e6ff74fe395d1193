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

use super::follow::{check_access, Follow, Step};
use super::Target;
use crate::clock::now_ms;
use crate::limits::RateWindow;
use crate::state::{Control, Shared};
use crate::stats::Counters;
use crate::store::Published;

/// How long to wait for the peer's close reply after we close.
const CLOSE_LINGER: Duration = Duration::from_secs(1);

/// Whether the socket loop goes on.
pub(super) enum Flow {
    Continue,
    Stop,
}

/// The peer can no longer be written to (closed, failed, or too slow to take a frame).
pub(super) struct Gone;

pub(super) struct Conn {
    pub(super) socket: WebSocket,
    pub(super) state: Shared,
    pub(super) rate: RateWindow,
    pub(super) last_heard: Instant,
    pub(super) control: broadcast::Receiver<Control>,
    pub(super) stall: watch::Receiver<Option<Instant>>,
}

impl Conn {
    pub(super) fn new(socket: WebSocket, state: Shared) -> Self {
        let rate = RateWindow::new(state.config.rate_limit, state.config.rate_window);
        let control = state.control.subscribe();
        let stall = state.stall.subscribe();
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
            Target::Page => Box::pin(self.run_page()).await,
        }
    }

    // Handlers that run rarely (a client frame, a control message, a ping,
    // an error, the first frame) are awaited boxed: a future's size is the
    // largest state it can be in, and this task's future is held by every
    // idle socket, so inline they would cost each socket their size all the
    // time instead of one allocation when they run.

    pub(super) async fn run_job(&mut self, raw_id: &str, token: Option<&str>) {
        let (id, token_expiry) = match check_access(&self.state, raw_id, token) {
            Ok(access) => access,
            Err(denied) => {
                let close_code = match denied.code {
                    WireErrorCode::InvalidProcessId => code::INVALID_PROCESS_ID,
                    _ => code::UNAUTHORIZED,
                };
                self.fail(close_code, denied.code, &denied.message).await;
                return;
            }
        };
        let state = self.state.clone();
        let _active = state.stats.ws_opened(&id);
        self.stream_job(&id, token_expiry).await;
    }

    pub(super) async fn stream_job(&mut self, id: &ProcessId, token_expiry: Option<u64>) {
        let (mut follow, first) = Follow::start(&self.state, id, token_expiry).await;
        if let Flow::Stop = Box::pin(self.open_with(first)).await {
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
                step = follow.next() => match step {
                    Step::State(published) => self.send_progress(published).await,
                    Step::Vanished => {
                        // The job left the store (evicted) before finishing.
                        Box::pin(self.fail(code::UNKNOWN_PROCESS, WireErrorCode::UnknownProcess, "the job is no longer available")).await;
                        Flow::Stop
                    }
                    Step::NeverAppeared => {
                        Box::pin(self.fail(code::UNKNOWN_PROCESS, WireErrorCode::UnknownProcess, "no job with this process_id appeared in time")).await;
                        Flow::Stop
                    }
                    Step::Unavailable(unavailable) => {
                        let message = format!("the job store is not reachable yet; reconnect in {} ms", unavailable.retry_after_ms);
                        Box::pin(self.fail(code::TEMPORARILY_UNAVAILABLE, WireErrorCode::Unavailable, &message)).await;
                        Flow::Stop
                    }
                    Step::TokenExpired => {
                        Counters::bump(&self.state.stats.counters.unauthorized);
                        Box::pin(self.fail(code::UNAUTHORIZED, WireErrorCode::TokenExpired, "the token has expired")).await;
                        Flow::Stop
                    }
                },
                _ = ticker.tick() => Box::pin(self.heartbeat()).await,
            };
            if let Flow::Stop = flow {
                return;
            }
        }
    }

    /// Sends the first frame; closes 1000 at once for a finished job.
    pub(super) async fn open_with(&mut self, progress: Progress) -> Flow {
        let last = progress.is_terminal();
        match text_frame(&ServerMessage::Snapshot { progress }) {
            Ok(frame) => self.deliver(frame, last).await,
            Err(Gone) => Flow::Stop,
        }
    }

    pub(super) async fn send_progress(&mut self, published: Published) -> Flow {
        let last = published.progress.is_terminal();
        self.deliver(Message::Text(published.frame), last).await
    }

    /// Sends a job's state. The `last` one is queued without a flush so the
    /// close 1000 that follows leaves in the same write: one system call per
    /// socket less when a job ends for all its subscribers at once.
    pub(super) async fn deliver(&mut self, frame: Message, last: bool) -> Flow {
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

    pub(super) async fn run_all(&mut self) {
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

    pub(super) async fn send_all_snapshots(&mut self) -> Result<(), Gone> {
        for progress in self.state.store.active() {
            self.send_json(&ServerMessage::Snapshot { progress })
                .await?;
        }
        Ok(())
    }

    pub(super) async fn run_health(&mut self) {
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

    pub(super) fn ping_ticker(&self) -> tokio::time::Interval {
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
    pub(super) async fn stall_if_needed(&mut self) -> Flow {
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

    pub(super) async fn on_control(
        &mut self,
        ctl: Result<Control, broadcast::error::RecvError>,
    ) -> Flow {
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
    pub(super) async fn heartbeat(&mut self) -> Flow {
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

    pub(super) async fn on_incoming(
        &mut self,
        incoming: Option<Result<Message, axum::Error>>,
    ) -> Flow {
        match self.read_text(incoming).await {
            Ok(text) => self.on_ping_text(&text).await,
            Err(flow) => flow,
        }
    }

    /// Takes one client frame through the rules every socket shares (size
    /// limit, rate limit, no binary frames); `Ok` with a text frame for the
    /// endpoint to interpret, `Err` with what to do instead.
    pub(super) async fn read_text(
        &mut self,
        incoming: Option<Result<Message, axum::Error>>,
    ) -> Result<Utf8Bytes, Flow> {
        let msg = match incoming {
            None => return Err(Flow::Stop),
            Some(Ok(msg)) => msg,
            Some(Err(err)) => return Err(self.on_read_error(err).await),
        };
        self.last_heard = Instant::now();
        let text = match msg {
            Message::Text(text) => Some(text),
            Message::Binary(data) if data.len() > self.state.config.max_message_bytes => {
                return Err(self.too_big().await);
            }
            Message::Binary(_) => None,
            Message::Ping(_) | Message::Pong(_) => return Err(Flow::Continue),
            // tungstenite has already answered the close.
            Message::Close(_) => return Err(Flow::Stop),
        };
        Counters::bump(&self.state.stats.counters.frames_received);
        let size = text.as_ref().map_or(0, |t| t.len());
        if size > self.state.config.max_message_bytes {
            return Err(self.too_big().await);
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
            return Err(Flow::Stop);
        }
        match text {
            Some(text) => Ok(text),
            None => Err(self
                .reply_error(
                    WireErrorCode::UnsupportedFrame,
                    "binary frames are not supported",
                )
                .await),
        }
    }

    /// A v1 socket's only client message: `ping`.
    async fn on_ping_text(&mut self, text: &str) -> Flow {
        match serde_json::from_str::<ClientMessage>(text) {
            Ok(ClientMessage::Ping { id }) => self.pong(id).await,
            Err(err) => self.bad_message(&err).await,
        }
    }

    pub(super) async fn pong(&mut self, id: u64) -> Flow {
        let pong = ServerMessage::Pong {
            id,
            server_ts_ms: now_ms(),
        };
        match self.send_json(&pong).await {
            Ok(()) => Flow::Continue,
            Err(Gone) => Flow::Stop,
        }
    }

    pub(super) async fn bad_message(&mut self, err: &serde_json::Error) -> Flow {
        Counters::bump(&self.state.stats.counters.malformed);
        self.reply_error(
            WireErrorCode::BadMessage,
            &format!("unreadable message: {err}"),
        )
        .await
    }

    pub(super) async fn on_read_error(&mut self, err: axum::Error) -> Flow {
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

    pub(super) async fn too_big(&mut self) -> Flow {
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

    pub(super) async fn reply_error(&mut self, code: WireErrorCode, message: &str) -> Flow {
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
    pub(super) async fn fail(&mut self, close_code: u16, error_code: WireErrorCode, message: &str) {
        if let Flow::Continue = self.reply_error(error_code.clone(), message).await {
            self.close(close_code, error_code.as_str()).await;
        }
    }

    pub(super) async fn send_json(&mut self, msg: &ServerMessage) -> Result<(), Gone> {
        let frame = text_frame(msg)?;
        self.send(frame).await
    }

    /// Sends one frame; a peer that does not take it within the send timeout is dead.
    pub(super) async fn send(&mut self, msg: Message) -> Result<(), Gone> {
        let limit = self.state.config.send_timeout;
        let outcome = bounded(limit, self.socket.send(msg)).await;
        self.sent(outcome)
    }

    /// Queues one frame without flushing it (same limit as [`Self::send`]).
    pub(super) async fn queue(&mut self, msg: Message) -> Result<(), Gone> {
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
    pub(super) async fn close(&mut self, close_code: u16, reason: &str) {
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
pub(super) fn text_frame(msg: &ServerMessage) -> Result<Message, Gone> {
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
