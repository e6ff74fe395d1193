//! The v1.1 checks and the settled points against servers that get them
//! wrong: each check fails, naming its rule.

mod common;

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{header, StatusCode};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use upload_progress_conformance::{run, Options, Report, CHECKS};
use upload_progress_server::Config;

/// Options that run only `names` (every other check is skipped).
fn only(base: String, names: &[&str]) -> Options {
    let mut opts = Options::new(base);
    opts.timeout = Duration::from_secs(2);
    opts.grace_wait = Duration::from_secs(3);
    opts.job_timeout = Duration::from_secs(20);
    opts.skip = CHECKS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != "http.reachable" && !names.contains(name))
        .map(str::to_owned)
        .collect();
    opts
}

fn failure<'r>(report: &'r Report, name: &str) -> &'r str {
    report
        .failure(name)
        .unwrap_or_else(|| panic!("{name} must fail: {}", report.summary()))
}

#[tokio::test]
async fn a_server_whose_jobs_ignore_their_pace_fails_keeps_pace() {
    let server = common::dev_server().await;
    let mut opts = only(server.url(), &["job.keeps_pace", "job.seq_increases"]);
    // A server that runs every job as fast as it can: steps 1 ms apart
    // whatever the kit asks for.
    opts.start_job = "{base}/ws/test/{id}?step_ms=1&steps_per_stage={steps}".to_owned();
    let report = run(opts).await;
    let why = failure(&report, "job.keeps_pace");
    assert!(why.starts_with("PROTOCOL.md 8.1:"), "{why}");
}

#[tokio::test]
async fn a_server_with_a_subscription_cap_below_100_fails_the_cap_check() {
    let server = common::dev_server_with(Config {
        max_subscriptions: 40,
        ..Config::default()
    })
    .await;
    let report = run(only(server.url(), &["page.subscription_cap"])).await;
    let why = failure(&report, "page.subscription_cap");
    assert!(
        why.contains("PROTOCOL.md 11.2") && why.contains("subscription 41"),
        "{why}"
    );
}

#[tokio::test]
async fn the_real_server_passes_what_the_fakes_below_fail() {
    let server = common::dev_server().await;
    let names = [
        "page.bad_job_error_frame",
        "set.poll_304",
        "set.events_name_jobs",
        "ws.ping_float_id_bad_message",
        "http.method_not_allowed_405",
    ];
    let report = run(only(server.url(), &names)).await;
    assert!(report.success(), "{:?}", report.results);
    assert_eq!(report.passed(), names.len() + 1);
}

/// A page server that gets v1.1 wrong: it closes the whole socket for one
/// bad job, its set poll never answers 304, its event stream is plain text,
/// its pings take any number, and its 405s have no JSON body.
async fn wrong_page_server() -> common::Running {
    let router = Router::new()
        .route(
            "/ws/test/{id}",
            post(|axum::extract::Path(id): axum::extract::Path<String>| async move {
                (StatusCode::ACCEPTED, axum::Json(json!({ "process_id": id })))
            }),
        )
        .route(
            "/ws/progress/{id}",
            get(|axum::extract::Path(id): axum::extract::Path<String>, ws: WebSocketUpgrade| async move {
                ws.on_upgrade(move |socket| lenient_job_socket(socket, id))
            }),
        )
        .route(
            "/ws/page",
            get(|ws: WebSocketUpgrade| async move { ws.on_upgrade(page_closing_on_bad_job) }),
        )
        .route(
            "/ws/page/poll",
            get(|| async {
                ([(header::ETAG, "\"same\""), (header::CACHE_CONTROL, "no-store")], axum::Json(json!({ "jobs": [] })))
            }),
        )
        .route("/ws/page/events", get(|| async { "data: nothing\n\n" }));
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
    common::Running {
        addr,
        stop: Some(stop),
    }
}

fn running(id: &str) -> Value {
    json!({
        "process_id": id, "seq": 1, "state": "running", "stage": null,
        "stage_index": 0, "stage_count": 0, "stages": [], "percent": 0.0,
        "message": "", "error": null, "updated_at_ms": 1_796_000_000_000u64,
    })
}

/// Answers every ping, reading its id as any JSON number.
async fn lenient_job_socket(mut ws: WebSocket, id: String) {
    let snapshot = json!({ "type": "snapshot", "progress": running(&id) });
    if ws.send(Message::text(snapshot.to_string())).await.is_err() {
        return;
    }
    while let Some(Ok(Message::Text(text))) = ws.recv().await {
        let msg: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        let id = msg["id"].as_f64().unwrap_or(0.0) as u64;
        let pong = json!({ "type": "pong", "id": id, "server_ts_ms": 1 });
        if ws.send(Message::text(pong.to_string())).await.is_err() {
            return;
        }
    }
}

async fn page_closing_on_bad_job(mut ws: WebSocket) {
    while let Some(Ok(Message::Text(text))) = ws.recv().await {
        let msg: Value = serde_json::from_str(text.as_str()).unwrap_or_default();
        for job in msg["jobs"].as_array().cloned().unwrap_or_default() {
            let id = job["process_id"].as_str().unwrap_or_default().to_owned();
            if id.contains('.') {
                let _ = ws
                    .send(Message::Close(Some(axum::extract::ws::CloseFrame {
                        code: 4400,
                        reason: "bad id".into(),
                    })))
                    .await;
                return;
            }
            let snapshot = json!({ "type": "snapshot", "progress": running(&id) });
            let _ = ws.send(Message::text(snapshot.to_string())).await;
        }
    }
}

#[tokio::test]
async fn a_page_server_that_gets_v1_1_wrong_fails_each_check_naming_its_rule() {
    let server = wrong_page_server().await;
    let names = [
        "page.bad_job_error_frame",
        "set.poll_304",
        "set.events_name_jobs",
        "ws.ping_float_id_bad_message",
        "http.method_not_allowed_405",
    ];
    let mut opts = only(server.url(), &names);
    // Its jobs never end; the whole-job trace gives up soon.
    opts.job_timeout = Duration::from_secs(2);
    let report = run(opts).await;
    assert_eq!(report.failed(), names.len(), "{:?}", report.results);
    let why = failure(&report, "page.bad_job_error_frame");
    assert!(
        why.starts_with("PROTOCOL.md 11.3:") && why.contains("close 4400"),
        "{why}"
    );
    let why = failure(&report, "set.poll_304");
    assert!(
        why.starts_with("PROTOCOL.md 11.4:") && why.contains("304"),
        "{why}"
    );
    let why = failure(&report, "set.events_name_jobs");
    assert!(
        why.starts_with("PROTOCOL.md 11.5:") && why.contains("text/event-stream"),
        "{why}"
    );
    let why = failure(&report, "ws.ping_float_id_bad_message");
    assert!(
        why.starts_with("PROTOCOL.md 4.8:") && why.contains("17.0"),
        "{why}"
    );
    let why = failure(&report, "http.method_not_allowed_405");
    assert!(
        why.starts_with("PROTOCOL.md 6.3:") && why.contains("405"),
        "{why}"
    );
}
