//! Test harness: a server on port 0 plus socket and HTTP helpers.
//!
//! Waiting is event-driven: helpers await the next frame (or close) with a
//! generous timeout instead of sleeping and hoping.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use upload_progress_core::{Progress, ServerMessage};
use upload_progress_server::{app_with_handle, serve_with, Config, ServeOptions, ServerHandle};

/// Upper bound for any single wait; only hit when something is broken.
pub const WAIT: Duration = Duration::from_secs(15);

/// A client socket.
pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handle: ServerHandle,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A fast configuration for tests: quick pipeline, short grace.
pub fn fast_config() -> Config {
    Config {
        stage_ms: 20,
        steps_per_stage: 2,
        grace: Duration::from_millis(500),
        admin_token: Some("admin-secret".to_owned()),
        faults: true,
        max_per_ip: 50,
        ..Config::default()
    }
}

/// Starts a server for `config` on a free port.
pub async fn start(config: Config) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let options = ServeOptions::from(&config);
    let (router, handle) = app_with_handle(config);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve_with(listener, router, options, async move {
        let _ = stopped.await;
    }));
    TestServer {
        addr,
        handle,
        http: reqwest::Client::new(),
        stop: Some(stop),
    }
}

impl TestServer {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Opens a socket; panics (test failure) if the handshake is refused.
    pub async fn ws(&self, path: &str) -> Ws {
        self.try_ws(path, None).await.expect("handshake")
    }

    /// Opens a socket, optionally with an `Origin`; `Err(status)` when refused over HTTP.
    pub async fn try_ws(&self, path: &str, origin: Option<&str>) -> Result<Ws, u16> {
        let mut request = self.ws_url(path).into_client_request().expect("request");
        if let Some(origin) = origin {
            request
                .headers_mut()
                .insert("origin", HeaderValue::from_str(origin).expect("origin"));
        }
        let connect = tokio_tungstenite::connect_async(request);
        match tokio::time::timeout(WAIT, connect)
            .await
            .expect("connect in time")
        {
            Ok((ws, _)) => Ok(ws),
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
            Err(err) => panic!("unexpected handshake error: {err}"),
        }
    }

    /// Starts a scripted job; returns its token.
    pub async fn test_job(&self, id: &str, query: &str) -> String {
        let resp = self
            .http
            .post(self.url(&format!("/ws/test/{id}?{query}")))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 202, "test job accepted");
        let body: serde_json::Value = resp.json().await.expect("json");
        body["token"].as_str().expect("token").to_owned()
    }

    /// POSTs a fault request with the admin token.
    pub async fn fault(&self, body: serde_json::Value) -> serde_json::Value {
        let resp = self
            .http
            .post(self.url("/ws/admin/faults"))
            .bearer_auth("admin-secret")
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 200, "fault accepted");
        resp.json().await.expect("json")
    }

    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    /// GET with the admin token (e.g. `/ws/stats/detailed`).
    pub async fn get_admin_json(&self, path: &str) -> serde_json::Value {
        self.http
            .get(self.url(path))
            .bearer_auth("admin-secret")
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json")
    }

    /// Waits until the server reports `n` open sockets.
    pub async fn wait_active(&self, n: usize) {
        tokio::time::timeout(WAIT, async {
            while self.handle.active_connections() != n {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .unwrap_or_else(|_| {
            panic!(
                "expected {n} active connections, have {}",
                self.handle.active_connections()
            )
        });
    }

    /// Waits until `/ws/stats/detailed` reports `n` open sockets for job `id`.
    pub async fn wait_job_sockets(&self, id: &str, n: u64) {
        let result = tokio::time::timeout(WAIT, async {
            loop {
                let stats = self.get_admin_json("/ws/stats/detailed").await;
                if stats["processes"][id]["ws_active"].as_u64() == Some(n) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await;
        if result.is_err() {
            let stats = self.get_admin_json("/ws/stats/detailed").await;
            panic!("expected {n} open sockets for {id}; stats: {stats}");
        }
    }
}

/// What arrived next on a socket.
#[derive(Debug)]
pub enum Event {
    Frame(ServerMessage),
    Close(Option<u16>, String),
    /// The stream ended without a close frame (what a browser reports as 1006).
    Abnormal,
}

/// The next application-level event, skipping protocol pings and pongs.
pub async fn next_event(ws: &mut Ws) -> Event {
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    let msg: ServerMessage =
                        serde_json::from_str(text.as_str()).expect("server frame parses");
                    return Event::Frame(msg);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Event::Close(
                        frame.as_ref().map(|f| u16::from(f.code)),
                        frame.map(|f| f.reason.to_string()).unwrap_or_default(),
                    )
                }
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Event::Abnormal,
            }
        }
    })
    .await
    .expect("an event in time")
}

/// The next frame; fails the test on a close.
pub async fn next_frame(ws: &mut Ws) -> ServerMessage {
    match next_event(ws).await {
        Event::Frame(msg) => msg,
        other => panic!("expected a frame, got {other:?}"),
    }
}

/// The progress carried by the next frame (snapshot or progress).
pub async fn next_progress(ws: &mut Ws) -> Progress {
    match next_frame(ws).await {
        ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress } => progress,
        other => panic!("expected progress, got {other:?}"),
    }
}

/// Reads frames until a close; returns the close code.
pub async fn expect_close(ws: &mut Ws) -> u16 {
    loop {
        match next_event(ws).await {
            Event::Frame(_) => continue,
            Event::Close(code, _) => return code.expect("close code"),
            Event::Abnormal => panic!("stream ended without a close frame"),
        }
    }
}

/// Reads frames until the stream ends; true when it ended without a close frame.
pub async fn ends_abnormally(ws: &mut Ws) -> bool {
    loop {
        match next_event(ws).await {
            Event::Frame(_) => continue,
            Event::Close(..) => return false,
            Event::Abnormal => return true,
        }
    }
}

pub async fn send_text(ws: &mut Ws, text: &str) {
    ws.send(Message::text(text.to_owned())).await.expect("send");
}

/// Collects progress until the socket closes; returns the states and the close code.
pub async fn drain(ws: &mut Ws) -> (Vec<Progress>, u16) {
    let mut seen = Vec::new();
    loop {
        match next_event(ws).await {
            Event::Frame(ServerMessage::Snapshot { progress })
            | Event::Frame(ServerMessage::Progress { progress }) => seen.push(progress),
            Event::Frame(_) => {}
            Event::Close(code, _) => return (seen, code.expect("close code")),
            Event::Abnormal => panic!("stream ended without a close frame"),
        }
    }
}

/// Asserts the two protocol invariants over a sequence of states.
pub fn assert_monotonic(states: &[Progress]) {
    for pair in states.windows(2) {
        assert!(
            pair[1].seq > pair[0].seq,
            "seq strictly increases: {pair:?}"
        );
        assert!(
            pair[1].percent >= pair[0].percent,
            "percent never decreases"
        );
    }
}
