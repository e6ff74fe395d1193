//! A client WebSocket with a deadline on every wait.

use std::time::Duration;

use crate::wire::{Progress, ServerMessage};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::rules;

/// What came next on a socket.
#[derive(Debug)]
pub enum Event {
    /// A text frame of protocol v1.
    Frame(ServerMessage),
    /// A text or binary frame that is not one (the text says why).
    Unreadable(String),
    /// A close frame, with its code when it had one.
    Close(Option<u16>, String),
    /// The connection ended without a close frame (a browser reports 1006).
    Ended(String),
    /// Nothing arrived in time.
    Silent(Duration),
}

impl Event {
    /// A short description for failure messages.
    pub fn describe(&self) -> String {
        match self {
            Event::Frame(msg) => match msg {
                ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => {
                    format!(
                        "a `{}` frame (seq {}, {})",
                        rules::kind(msg),
                        progress.seq,
                        rules::state_name(progress.state)
                    )
                }
                ServerMessage::Error { code, .. } => format!("an `error` frame `{code}`"),
                other => format!("a `{}` frame", rules::kind(other)),
            },
            Event::Unreadable(why) => why.clone(),
            Event::Close(Some(code), _) => format!("close {code}"),
            Event::Close(None, _) => "a close frame without a code".to_owned(),
            Event::Ended(why) => format!("the connection ended without a close frame ({why})"),
            Event::Silent(d) => format!("nothing within {} ms", d.as_millis()),
        }
    }

    /// The progress a `snapshot` or `progress` frame carries.
    pub fn progress(&self) -> Option<&Progress> {
        match self {
            Event::Frame(ServerMessage::Snapshot { progress })
            | Event::Frame(ServerMessage::Progress { progress }) => Some(progress),
            _ => None,
        }
    }
}

/// One open client socket.
pub struct Socket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    timeout: Duration,
    closed: bool,
}

impl Socket {
    /// Opens `url`; every later wait on the socket is bounded by `timeout`.
    pub async fn connect(url: &str, timeout: Duration) -> Result<Socket, String> {
        let attempt = tokio_tungstenite::connect_async(url);
        match tokio::time::timeout(timeout, attempt).await {
            Err(_) => Err(format!(
                "no WebSocket handshake from {url} within {} ms",
                timeout.as_millis()
            )),
            Ok(Ok((ws, _))) => Ok(Socket {
                ws,
                timeout,
                closed: false,
            }),
            Ok(Err(WsError::Http(resp))) => {
                let ct = resp
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .unwrap_or_default();
                Err(format!(
                    "PROTOCOL.md 4.1: the upgrade at {url} was answered with HTTP {} instead of 101 Switching Protocols{}",
                    resp.status().as_u16(),
                    rules::html_hint(ct.as_deref(), &body)
                ))
            }
            Ok(Err(WsError::Io(err))) => Err(format!("cannot connect to {url}: {err}")),
            Ok(Err(err)) => Err(format!("WebSocket handshake with {url} failed: {err}")),
        }
    }

    /// The bound of every wait on this socket.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The next event, waiting at most the socket's timeout.
    pub async fn next(&mut self) -> Event {
        self.next_within(self.timeout).await
    }

    /// The next event, waiting at most `wait`. Protocol pings and pongs are skipped.
    pub async fn next_within(&mut self, wait: Duration) -> Event {
        if self.closed {
            return Event::Ended("the socket is already closed".to_owned());
        }
        let deadline = Instant::now() + wait;
        loop {
            let read = tokio::time::timeout_at(deadline, self.ws.next()).await;
            let event = match read {
                Err(_) => Event::Silent(wait),
                Ok(None) => Event::Ended("the stream ended".to_owned()),
                Ok(Some(Err(err))) => Event::Ended(err.to_string()),
                Ok(Some(Ok(Message::Text(text)))) => match rules::parse_frame(text.as_str()) {
                    Ok(msg) => Event::Frame(msg),
                    Err(why) => Event::Unreadable(why),
                },
                Ok(Some(Ok(Message::Binary(data)))) => Event::Unreadable(format!(
                    "PROTOCOL.md 4.1: the server sent a binary frame of {} bytes; frames are JSON text",
                    data.len()
                )),
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let code = frame.as_ref().map(|f| u16::from(f.code));
                    let reason = frame.map(|f| f.reason.to_string()).unwrap_or_default();
                    Event::Close(code, reason)
                }
                Ok(Some(Ok(_))) => continue,
            };
            if matches!(event, Event::Close(..) | Event::Ended(_)) {
                self.closed = true;
            }
            return event;
        }
    }

    /// The next event that is not a `pong` or an interim state frame of a running job.
    ///
    /// Used while waiting for an answer to something the kit sent.
    pub async fn next_answer(&mut self) -> Event {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = self.next_within(left).await;
            match &event {
                Event::Frame(ServerMessage::Progress { .. })
                | Event::Frame(ServerMessage::Pong { .. }) => continue,
                Event::Silent(_) => return Event::Silent(self.timeout),
                _ => return event,
            }
        }
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: String) -> Result<(), String> {
        match tokio::time::timeout(self.timeout, self.ws.send(Message::text(text))).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(err)) => Err(format!("sending a frame failed: {err}")),
            Err(_) => Err(format!(
                "sending a frame took longer than {} ms",
                self.timeout.as_millis()
            )),
        }
    }

    /// Closes from the client side (1000) and waits briefly for the server's answer.
    pub async fn close(mut self) {
        if self.closed {
            return;
        }
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: "conformance check done".into(),
        };
        let wait = self.timeout.min(Duration::from_secs(2));
        let _ = tokio::time::timeout(wait, async {
            if self.ws.close(Some(frame)).await.is_err() {
                return;
            }
            while let Some(Ok(_)) = self.ws.next().await {}
        })
        .await;
    }
}
