//! Runs `examples/axum_app.rs`: an axum app of its own that reports progress
//! through the library, followed over a socket to the end.

mod common;

#[path = "../examples/axum_app.rs"]
#[allow(dead_code)]
mod axum_app;

use common::{assert_monotonic, drain};
use upload_progress_core::JobState;
use upload_progress_server::serve_with;

#[tokio::test]
async fn the_example_app_reports_progress_to_the_end() {
    let (router, progress) = axum_app::app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(serve_with(
        listener,
        router,
        progress.serve_options(),
        std::future::pending(),
    ));
    let http = reqwest::Client::new();
    let started: serde_json::Value = http
        .post(format!("http://{addr}/convert"))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    let id = started["process_id"].as_str().expect("id");
    let token = started["token"].as_str().expect("token");

    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{addr}/ws/progress/{id}?token={token}"))
            .await
            .expect("socket");
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, upload_progress_core::code::NORMAL);
    assert_monotonic(&states);
    let last = states.last().expect("states");
    assert_eq!((last.state, last.percent), (JobState::Completed, 100.0));
    assert_eq!(last.stages.len(), 3);
    // Every stage was reported as current at some point, in order.
    let mut seen: Vec<u32> = states.iter().map(|p| p.stage_index).collect();
    seen.dedup();
    assert_eq!(seen, [0, 1, 2]);

    // Tokens are on, and the demo parts are off.
    let anonymous = http
        .get(format!("http://{addr}/ws/progress/{id}"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 401);
    let upload = http
        .post(format!("http://{addr}/api/uploads"))
        .send()
        .await
        .expect("post");
    assert_eq!(upload.status(), 404);
}
