//! The per-subscriber task: feeds the session its inputs and carries out its actions.

use std::future::{pending, Future};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use upload_progress_core::session::{
    Action, AttemptId, Connection, Input, Millis, Mode, PollOutcome, RequestId, SessionConfig,
};
use upload_progress_core::Session;

use super::fetch::poll;
use super::metrics::{ClientReport, Counters};
use super::socket::{connect, Ws};

type BoxFut<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What every client task shares.
pub struct Shared {
    /// The shell's monotonic clock starts here (`now` = ms since `epoch`).
    pub epoch: Instant,
    /// HTTP client for polls (one connection pool for all subscribers).
    pub http: reqwest::Client,
    /// `Origin` header sent on upgrades.
    pub origin: String,
    /// Live counters.
    pub counters: Counters,
    /// Flips to true when every client must stop.
    pub stop: watch::Receiver<bool>,
    /// Fallbacks are counted only while this is true (e.g. after the storm's kill).
    pub count_fallback: watch::Receiver<bool>,
}

impl Shared {
    fn now(&self) -> Millis {
        self.epoch.elapsed().as_millis() as Millis
    }
}

/// One subscriber.
pub struct ClientSpec {
    /// Session configuration (job, URLs, policy).
    pub config: SessionConfig,
    /// Jitter seed; distinct per client so their delays differ as in real browsers.
    pub seed: u64,
}

fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The I/O a session currently owns.
#[derive(Default)]
struct Io {
    connecting: Option<(AttemptId, BoxFut<Option<Ws>>)>,
    socket: Option<(AttemptId, Ws)>,
    fetch: Option<(RequestId, BoxFut<PollOutcome>)>,
}

/// Bookkeeping of the status transitions the counters follow.
#[derive(Default)]
struct Seen {
    live: bool,
    polling: bool,
    finished: bool,
}

/// Runs one subscriber until its job finishes, its session stops, or `stop` flips.
pub async fn run_client(shared: Arc<Shared>, spec: ClientSpec) -> ClientReport {
    let mut session = Session::new(spec.config, spec.seed);
    let mut io = Io::default();
    let mut seen = Seen::default();
    let mut report = ClientReport::default();
    let mut stop = shared.stop.clone();
    // Set while handling a `progress` frame: its receipt time, for latency.
    let mut frame_received_at: Option<u64> = None;

    session.handle(Input::Start, shared.now());
    loop {
        while let Some(action) = session.poll_action() {
            carry_out(
                &shared,
                &mut io,
                &mut seen,
                &mut report,
                action,
                frame_received_at,
            )
            .await;
        }
        frame_received_at = None;
        if seen.finished || *stop.borrow() {
            break;
        }
        let deadline = session.poll_timeout();
        let input = tokio::select! {
            _ = stop.changed() => break,
            ws = opt_fut(io.connecting.as_mut().map(|(_, f)| f)) => {
                let (attempt, _) = io.connecting.take().expect("polled only when present");
                match ws {
                    Some(ws) => {
                        shared.counters.opened.fetch_add(1, Ordering::Relaxed);
                        io.socket = Some((attempt, ws));
                        Some(Input::SocketOpened { attempt })
                    }
                    None => {
                        shared.counters.failed.fetch_add(1, Ordering::Relaxed);
                        // A browser reports `error` then `close` 1006 for a failed handshake.
                        session.handle(Input::SocketError { attempt }, shared.now());
                        Some(closed(attempt, 1006, String::new(), false))
                    }
                }
            }
            msg = next_frame(io.socket.as_mut().map(|(_, ws)| ws)) => {
                let attempt = io.socket.as_ref().map(|(a, _)| *a).expect("polled only when present");
                match msg {
                    Some(Ok(Message::Text(text))) => {
                        if text.contains("\"type\":\"progress\"") {
                            frame_received_at = Some(wall_ms());
                        }
                        Some(Input::SocketMessage { attempt, text: text.to_string() })
                    }
                    Some(Ok(Message::Close(frame))) => {
                        io.socket = None;
                        let (code, reason) = frame
                            .map(|f| (u16::from(f.code), f.reason.to_string()))
                            .unwrap_or((1005, String::new()));
                        Some(closed(attempt, code, reason, true))
                    }
                    // Not part of v1, but proof that the connection is alive.
                    Some(Ok(Message::Binary(_))) => Some(Input::SocketBinary { attempt }),
                    // Protocol pings are answered inside tungstenite.
                    Some(Ok(_)) => None,
                    Some(Err(_)) | None => {
                        io.socket = None;
                        Some(closed(attempt, 1006, String::new(), false))
                    }
                }
            }
            outcome = opt_fut(io.fetch.as_mut().map(|(_, f)| f)) => {
                let (request, _) = io.fetch.take().expect("polled only when present");
                Some(Input::PollFinished { request, outcome })
            }
            _ = sleep_until(&shared, deadline) => {
                session.handle_timeout(shared.now());
                None
            }
        };
        if let Some(input) = input {
            session.handle(input, shared.now());
        }
    }
    if !seen.finished {
        session.handle(Input::Stop, shared.now());
    }
    if seen.live {
        shared.counters.live.fetch_sub(1, Ordering::Relaxed);
    }
    if seen.polling {
        shared.counters.polling.fetch_sub(1, Ordering::Relaxed);
    }
    report
}

fn closed(attempt: AttemptId, code: u16, reason: String, was_clean: bool) -> Input {
    Input::SocketClosed {
        attempt,
        code,
        reason,
        was_clean,
    }
}

async fn carry_out(
    shared: &Shared,
    io: &mut Io,
    seen: &mut Seen,
    report: &mut ClientReport,
    action: Action,
    frame_received_at: Option<u64>,
) {
    match action {
        Action::OpenSocket { attempt, url } => {
            io.connecting = Some((attempt, Box::pin(connect(url, shared.origin.clone()))));
        }
        Action::CloseSocket {
            attempt,
            code,
            reason,
        } => {
            if io.connecting.as_ref().is_some_and(|(a, _)| *a == attempt) {
                io.connecting = None;
            }
            if io.socket.as_ref().is_some_and(|(a, _)| *a == attempt) {
                let (_, mut ws) = io.socket.take().expect("checked above");
                // Closing must not hold up this subscriber: a stalled peer may never answer.
                tokio::spawn(async move {
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ =
                        tokio::time::timeout(Duration::from_secs(2), ws.close(Some(frame))).await;
                });
            }
        }
        Action::Send { attempt, text } => {
            if let Some((a, ws)) = io.socket.as_mut() {
                if *a == attempt {
                    // A failed send surfaces as an error on the next read, as in browsers.
                    let _ = ws.send(Message::text(text)).await;
                }
            }
        }
        Action::FetchProgress {
            request,
            url,
            etag,
            token,
        } => {
            io.fetch = Some((
                request,
                Box::pin(poll(shared.http.clone(), url, etag, token)),
            ));
        }
        Action::CancelFetch { request } => {
            if io.fetch.as_ref().is_some_and(|(r, _)| *r == request) {
                io.fetch = None;
            }
        }
        // The bench server runs without --require-token and the session is
        // told there is no provider, so no refresh is ever asked for.
        Action::RefreshToken => {}
        // Outcomes and decisions are read off the progress and status above.
        Action::JobCompleted(_) | Action::Failed(_) | Action::Event(_) => {}
        Action::ProgressChanged(progress) => {
            if progress.seq > 0 {
                report.seqs += 1;
                if let Some(at) = frame_received_at {
                    report
                        .latencies_ms
                        .push(at.saturating_sub(progress.updated_at_ms));
                }
            }
            if progress.is_terminal() {
                report.final_seq = Some(progress.seq);
            }
        }
        Action::StatusChanged(status) => {
            let live = matches!(status.connection, Connection::Connected);
            let polling = status.mode == Mode::HttpPolling;
            flip(&shared.counters.live, &mut seen.live, live);
            flip(&shared.counters.polling, &mut seen.polling, polling);
            if polling && *shared.count_fallback.borrow() {
                report.fell_back = true;
            }
            if matches!(
                status.connection,
                Connection::Finished(_) | Connection::Stopped { .. }
            ) {
                seen.finished = true;
            }
        }
    }
}

/// Keeps a shared gauge in step with one client's boolean.
fn flip(gauge: &std::sync::atomic::AtomicU64, was: &mut bool, now: bool) {
    if now != *was {
        if now {
            gauge.fetch_add(1, Ordering::Relaxed);
        } else {
            gauge.fetch_sub(1, Ordering::Relaxed);
        }
        *was = now;
    }
}

async fn opt_fut<T>(f: Option<&mut BoxFut<T>>) -> T {
    match f {
        Some(f) => f.await,
        None => pending().await,
    }
}

async fn next_frame(
    ws: Option<&mut Ws>,
) -> Option<Result<Message, tokio_tungstenite::tungstenite::Error>> {
    match ws {
        Some(ws) => ws.next().await,
        None => pending().await,
    }
}

async fn sleep_until(shared: &Shared, deadline: Option<Millis>) {
    match deadline {
        Some(at) => {
            tokio::time::sleep_until((shared.epoch + Duration::from_millis(at)).into()).await
        }
        None => pending().await,
    }
}
