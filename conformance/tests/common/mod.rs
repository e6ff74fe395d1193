//! Servers for the kit's tests: the real dev server in-process, and small
//! deliberately broken ones.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use upload_progress_conformance::Options;
use upload_progress_server::{app_with_handle, serve, Config};

/// A server running in this process; stops when dropped.
pub struct Running {
    pub addr: SocketAddr,
    pub stop: Option<oneshot::Sender<()>>,
}

impl Running {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// The real dev server on a free port, with a short grace period.
pub async fn dev_server() -> Running {
    dev_server_with(Config {
        grace: Duration::from_millis(500),
        ..Config::default()
    })
    .await
}

/// The real dev server on a free port with `config`.
pub async fn dev_server_with(config: Config) -> Running {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (router, _handle) = app_with_handle(config);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, router, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop: Some(stop),
    }
}

/// Options for a run against `server` with short waits.
pub fn quick_options(server: &Running) -> Options {
    let mut opts = Options::new(server.url());
    opts.timeout = Duration::from_secs(2);
    opts.grace_wait = Duration::from_secs(3);
    opts.job_timeout = Duration::from_secs(20);
    opts
}

/// How a broken server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Break {
    /// A job's seq goes from 2 back to 1.
    SeqRegress,
    /// The first frame on a socket is `progress`, the snapshot comes second.
    ProgressBeforeSnapshot,
    /// Sockets are accepted and then nothing is ever sent.
    Silent,
    /// Every request gets an HTML page.
    Html,
}

fn state(id: &str, seq: u64, state: &str, percent: f64) -> Value {
    json!({
        "process_id": id, "seq": seq, "state": state, "stage": null,
        "stage_index": 0, "stage_count": 0, "stages": [], "percent": percent,
        "message": "", "error": null, "updated_at_ms": 1_796_000_000_000u64 + seq,
    })
}

fn frame(kind: &str, progress: Value) -> Message {
    Message::text(json!({ "type": kind, "progress": progress }).to_string())
}

async fn socket(mut ws: WebSocket, mode: Break, id: String) {
    let frames = match mode {
        Break::SeqRegress => vec![
            frame("snapshot", state(&id, 1, "running", 10.0)),
            frame("progress", state(&id, 2, "running", 20.0)),
            frame("progress", state(&id, 1, "running", 30.0)),
            frame("progress", state(&id, 3, "completed", 100.0)),
        ],
        Break::ProgressBeforeSnapshot => vec![
            frame("progress", state(&id, 1, "running", 10.0)),
            frame("snapshot", state(&id, 2, "running", 20.0)),
            frame("progress", state(&id, 3, "completed", 100.0)),
        ],
        Break::Silent | Break::Html => Vec::new(),
    };
    if mode == Break::Silent {
        // Hold the socket open, reading (and so answering protocol pings), until the client leaves.
        while let Some(Ok(_)) = ws.recv().await {}
        return;
    }
    for f in frames {
        if ws.send(f).await.is_err() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = ws
        .send(Message::Close(Some(axum::extract::ws::CloseFrame {
            code: 1000,
            reason: "done".into(),
        })))
        .await;
}

async fn progress(
    mode: Break,
    id: String,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    match upgrade {
        Ok(ws) => ws.on_upgrade(move |ws| socket(ws, mode, id)),
        Err(_) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": {"code": "unknown_process", "message": "no job"}})),
        )
            .into_response(),
    }
}

/// A broken server on a free port.
pub async fn broken(mode: Break) -> Running {
    let router = if mode == Break::Html {
        Router::new()
            .fallback(|| async { Html("<!doctype html><html><body>Welcome</body></html>") })
    } else {
        Router::new()
            .route(
                "/ws/test/{id}",
                post(|| async { (StatusCode::ACCEPTED, axum::Json(json!({}))) }),
            )
            .route(
                "/ws/progress/{id}",
                get(move |Path(id): Path<String>, upgrade| progress(mode, id, upgrade)),
            )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await;
    });
    Running {
        addr,
        stop: Some(stop),
    }
}

/// An address where nothing listens.
pub async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    listener.local_addr().expect("addr")
}
