//! Fault injection: each mode, its admin gate, and that jobs are never touched.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use upload_progress_core::{code, ServerMessage};
use upload_progress_server::Config;

#[tokio::test]
async fn fault_endpoint_needs_the_flag_and_the_admin_token() {
    let off = start(Config {
        faults: false,
        ..fast_config()
    })
    .await;
    let resp = off
        .http
        .post(off.url("/ws/admin/faults"))
        .bearer_auth("admin-secret")
        .json(&json!({"action": "drop_sockets"}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 403);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "faults_disabled");

    let on = start(fast_config()).await;
    let resp = on
        .http
        .post(on.url("/ws/admin/faults"))
        .bearer_auth("wrong")
        .json(&json!({"action": "drop_sockets"}))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 401);
    for bad in [
        json!({"action": "explode"}),
        json!({"action": "refuse_upgrades", "fraction": 1.5}),
        json!({"action": "stall_sockets", "duration_ms": 0}),
    ] {
        let resp = on
            .http
            .post(on.url("/ws/admin/faults"))
            .bearer_auth("admin-secret")
            .json(&bad)
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn drop_sockets_ends_streams_without_a_close_frame_and_keeps_the_job() {
    let server = start(fast_config()).await;
    server
        .test_job("drop_job", "step_ms=50&steps_per_stage=4")
        .await;
    let mut a = server.ws("/ws/progress/drop_job").await;
    let mut b = server.ws("/ws/health").await;
    let before = next_progress(&mut a).await;
    send_text(&mut b, r#"{"type":"ping","id":1}"#).await;
    assert!(matches!(
        next_frame(&mut b).await,
        ServerMessage::Pong { .. }
    ));
    let answer = server.fault(json!({"action": "drop_sockets"})).await;
    assert_eq!(answer["affected"], 2);
    assert!(ends_abnormally(&mut a).await);
    assert!(ends_abnormally(&mut b).await);
    server.wait_active(0).await;
    // The per-job count is released too, although the aborted task never
    // reached the code after its stream loop.
    server.wait_job_sockets("drop_job", 0).await;
    // The job kept running: a new socket picks up at a newer state and finishes.
    let mut again = server.ws("/ws/progress/drop_job").await;
    let (states, close) = drain(&mut again).await;
    assert_eq!(close, code::NORMAL);
    assert!(states[0].seq >= before.seq);
    assert_monotonic(&states);
}

#[tokio::test]
async fn refuse_upgrades_answers_503_until_cleared() {
    let server = start(fast_config()).await;
    let answer = server
        .fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60000}))
        .await;
    assert_eq!(answer["faults"]["refuse_upgrades"]["fraction"], 1.0);
    assert_eq!(server.try_ws("/ws/health", None).await.err(), Some(503));
    let status = server.get_json("/ws/status").await;
    assert!(status["faults"]["refuse_upgrades"].is_object());
    assert_eq!(
        status["store"]["backend"], "memory",
        "one instance, jobs in memory"
    );
    server.fault(json!({"action": "clear"})).await;
    assert!(server.try_ws("/ws/health", None).await.is_ok());
    let stats = server.get_json("/ws/stats").await;
    assert_eq!(stats["refused"]["fault"], 1);
}

#[tokio::test]
async fn refuse_streams_answers_503_to_event_streams_and_leaves_the_set_poll() {
    let server = start(fast_config()).await;
    server.test_job("rs_job", "step_ms=60000").await;
    let events = server.url("/ws/page/events?ids=rs_job");
    let answer = server
        .fault(json!({"action": "refuse_streams", "duration_ms": 60000}))
        .await;
    assert!(answer["faults"]["refuse_streams"]["remaining_ms"].as_u64() > Some(0));
    let status = server.get_json("/ws/status").await;
    assert!(status["faults"]["refuse_streams"].is_object());
    let refused = server.http.get(&events).send().await.expect("events");
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unavailable");
    // Only streams: upgrades and the set poll, the rung below, still work,
    // and each set poll is counted.
    assert!(server.try_ws("/ws/health", None).await.is_ok());
    let before = server.get_json("/ws/stats").await["page_polls"]
        .as_u64()
        .expect("page_polls");
    for _ in 0..3 {
        let poll = server
            .http
            .get(server.url("/ws/page/poll?ids=rs_job"))
            .send()
            .await
            .expect("poll");
        assert_eq!(poll.status(), 200);
    }
    let stats = server.get_json("/ws/stats").await;
    assert_eq!(stats["page_polls"], before + 3);
    assert_eq!(stats["refused"]["fault"], 1);
    server.fault(json!({"action": "clear"})).await;
    let stream = server.http.get(&events).send().await.expect("events");
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("text/event-stream"));
}

#[tokio::test]
async fn refuse_upgrades_by_fraction_refuses_some() {
    let server = start(Config {
        max_per_ip: 1000,
        ..fast_config()
    })
    .await;
    server
        .fault(json!({"action": "refuse_upgrades", "fraction": 0.5, "duration_ms": 60000}))
        .await;
    let mut refused = 0;
    let mut accepted = 0;
    // With p = 0.5 the chance that 100 tries all land on one side is 2^-99.
    for _ in 0..100 {
        match server.try_ws("/ws/health", None).await {
            Ok(_) => accepted += 1,
            Err(503) => refused += 1,
            Err(other) => panic!("unexpected status {other}"),
        }
    }
    assert!(
        refused > 0 && accepted > 0,
        "{refused} refused, {accepted} accepted"
    );
}

#[tokio::test]
async fn stall_sockets_goes_silent_without_closing_then_resumes() {
    let server = start(fast_config()).await;
    server.test_job("stall_job", "step_ms=60000").await;
    let mut ws = server.ws("/ws/progress/stall_job").await;
    next_progress(&mut ws).await;
    let answer = server
        .fault(json!({"action": "stall_sockets", "duration_ms": 60000}))
        .await;
    assert!(
        answer["faults"]["stall_sockets"]["remaining_ms"]
            .as_u64()
            .expect("ms")
            > 0
    );
    send_text(&mut ws, r#"{"type":"ping","id":7}"#).await;
    // No pong and no close while stalled: the connection is half-open.
    let silent = tokio::time::timeout(Duration::from_millis(300), next_event(&mut ws)).await;
    assert!(
        silent.is_err(),
        "stalled socket must stay silent: {silent:?}"
    );
    assert_eq!(server.handle.active_connections(), 1);
    server.fault(json!({"action": "clear"})).await;
    match next_frame(&mut ws).await {
        ServerMessage::Pong { id, .. } => assert_eq!(id, 7),
        other => panic!("expected pong, got {other:?}"),
    }
}

#[tokio::test]
async fn delay_handshake_holds_upgrades() {
    let server = start(fast_config()).await;
    server
        .fault(json!({"action": "delay_handshake", "delay_ms": 300, "duration_ms": 60000}))
        .await;
    let status = server.get_json("/ws/status").await;
    assert_eq!(status["faults"]["delay_handshake"]["delay_ms"], 300);
    let started = Instant::now();
    let _ws = server.ws("/ws/health").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn poll_errors_answers_503_until_cleared() {
    let server = start(fast_config()).await;
    server.test_job("poll_fault", "step_ms=60000").await;
    server
        .fault(json!({"action": "poll_errors", "duration_ms": 60000}))
        .await;
    let resp = server
        .http
        .get(server.url("/ws/progress/poll_fault"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 503);
    server.fault(json!({"action": "clear"})).await;
    let resp = server
        .http
        .get(server.url("/ws/progress/poll_fault"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
}

#[tokio::test]
async fn restart_announces_then_closes_1012_and_keeps_jobs() {
    let server = start(fast_config()).await;
    server.test_job("restart_job", "step_ms=60000").await;
    let mut ws = server.ws("/ws/progress/restart_job").await;
    let before = next_progress(&mut ws).await;
    server
        .fault(json!({"action": "restart", "retry_after_ms": 250}))
        .await;
    match next_frame(&mut ws).await {
        ServerMessage::ServerShutdown { retry_after_ms } => assert_eq!(retry_after_ms, 250),
        other => panic!("expected server_shutdown, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::RESTARTING);
    // Unlike a real shutdown, the server keeps accepting and the job is intact.
    let mut again = server.ws("/ws/progress/restart_job").await;
    assert_eq!(next_progress(&mut again).await, before);
}

#[tokio::test]
async fn fault_list_endpoint_reports_active_faults() {
    let server = start(fast_config()).await;
    server
        .fault(json!({"action": "poll_errors", "duration_ms": 60000}))
        .await;
    let resp = server
        .http
        .get(server.url("/ws/admin/faults"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("get");
    let body: serde_json::Value = resp.json().await.expect("json");
    assert!(body["faults"]["poll_errors"].is_object());
}
