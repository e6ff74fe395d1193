//! The per-job socket: snapshot first, progress frames, close codes, heartbeats, bad input.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use upload_progress_core::{code, JobState, ServerMessage, StageStatus};
use upload_progress_server::Config;

#[tokio::test]
async fn streams_snapshot_then_progress_then_closes_1000() {
    let server = start(fast_config()).await;
    server
        .test_job("job_a", "step_ms=20&steps_per_stage=3")
        .await;
    let mut ws = server.ws("/ws/progress/job_a").await;
    let first = next_frame(&mut ws).await;
    assert!(
        matches!(first, ServerMessage::Snapshot { .. }),
        "snapshot first"
    );
    let (rest, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    let last = rest.last().expect("progress frames").clone();
    assert_eq!(last.state, JobState::Completed);
    assert_eq!(last.percent, 100.0);
    assert!(last.stages.iter().all(|s| s.status == StageStatus::Done));
    let ServerMessage::Snapshot { progress } = first else {
        unreachable!()
    };
    let mut all = vec![progress];
    all.extend(rest);
    assert_monotonic(&all);
}

#[tokio::test]
async fn late_join_after_completion_gets_final_state_then_1000() {
    let server = start(fast_config()).await;
    server
        .test_job("job_late", "step_ms=1&steps_per_stage=1")
        .await;
    // Follow the job to its end first, so the late joiner is really late.
    let mut first = server.ws("/ws/progress/job_late").await;
    assert_eq!(drain(&mut first).await.1, code::NORMAL);
    let mut ws = server.ws("/ws/progress/job_late").await;
    match next_frame(&mut ws).await {
        ServerMessage::Snapshot { progress } => {
            assert_eq!(progress.state, JobState::Completed);
            assert_eq!(progress.percent, 100.0);
        }
        other => panic!("expected snapshot, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::NORMAL);
}

#[tokio::test]
async fn failed_job_reports_error_and_closes_1000() {
    let server = start(fast_config()).await;
    server
        .test_job("job_fail", "step_ms=5&steps_per_stage=2&fail_at_stage=1")
        .await;
    let mut ws = server.ws("/ws/progress/job_fail").await;
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    let last = states.last().expect("states");
    assert_eq!(last.state, JobState::Failed);
    assert!(last.error.is_some());
    assert_eq!(last.stages[1].status, StageStatus::Failed);
    assert_eq!(last.stages[3].status, StageStatus::Skipped);
}

#[tokio::test]
async fn subscribe_before_the_job_exists_gets_pending_then_the_job() {
    let config = Config {
        grace: Duration::from_secs(10),
        ..fast_config()
    };
    let server = start(config).await;
    let mut ws = server.ws("/ws/progress/job_race").await;
    let pending = next_progress(&mut ws).await;
    assert_eq!((pending.seq, pending.state), (0, JobState::Pending));
    server
        .test_job("job_race", "step_ms=5&steps_per_stage=2")
        .await;
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    assert!(states.first().expect("states").seq >= 1);
    assert_eq!(states.last().expect("states").state, JobState::Completed);
    assert_monotonic(&states);
}

#[tokio::test]
async fn unknown_id_closes_4404_after_grace() {
    let server = start(fast_config()).await;
    let mut ws = server.ws("/ws/progress/never_created").await;
    let pending = next_progress(&mut ws).await;
    assert_eq!(pending.seq, 0);
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "unknown_process"),
        other => panic!("expected error, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::UNKNOWN_PROCESS);
}

#[tokio::test]
async fn invalid_id_closes_4400() {
    let server = start(fast_config()).await;
    let mut ws = server.ws("/ws/progress/bad%20id").await;
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "invalid_process_id"),
        other => panic!("expected error, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::INVALID_PROCESS_ID);
    let long = "a".repeat(129);
    let mut ws = server.ws(&format!("/ws/progress/{long}")).await;
    assert_eq!(expect_close(&mut ws).await, code::INVALID_PROCESS_ID);
}

#[tokio::test]
async fn app_ping_gets_pong_and_protocol_pings_are_answered() {
    let server = start(fast_config()).await;
    server.test_job("job_ping", "step_ms=10000").await;
    let mut ws = server.ws("/ws/progress/job_ping").await;
    next_progress(&mut ws).await;
    send_text(&mut ws, r#"{"type":"ping","id":42}"#).await;
    match next_frame(&mut ws).await {
        ServerMessage::Pong { id, server_ts_ms } => {
            assert_eq!(id, 42);
            assert!(server_ts_ms > 0);
        }
        other => panic!("expected pong, got {other:?}"),
    }
    ws.send(Message::Ping(b"hi".to_vec().into()))
        .await
        .expect("ping");
    let pong = tokio::time::timeout(WAIT, async {
        use futures_util::StreamExt;
        loop {
            if let Some(Ok(Message::Pong(data))) = ws.next().await {
                return data;
            }
        }
    })
    .await
    .expect("protocol pong");
    assert_eq!(pong.as_ref(), b"hi");
}

#[tokio::test]
async fn server_sends_protocol_pings() {
    let config = Config {
        ping_interval: Duration::from_millis(50),
        ..fast_config()
    };
    let server = start(config).await;
    let mut ws = server.ws("/ws/health").await;
    let got_ping = tokio::time::timeout(WAIT, async {
        use futures_util::StreamExt;
        loop {
            if let Some(Ok(Message::Ping(_))) = ws.next().await {
                return true;
            }
        }
    })
    .await
    .expect("a ping in time");
    assert!(got_ping);
}

#[tokio::test]
async fn silent_client_is_dropped_as_stale() {
    let config = Config {
        ping_interval: Duration::from_millis(30),
        idle_timeout: Duration::from_millis(100),
        ..fast_config()
    };
    let server = start(config).await;
    // A raw TCP client that completes the handshake and then never reads or
    // answers anything: the server must notice and free the slot.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("tcp");
    let req = format!(
        "GET /ws/health HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut buf = [0u8; 12];
    tcp.read_exact(&mut buf).await.expect("read status");
    assert_eq!(&buf, b"HTTP/1.1 101");
    server.wait_active(1).await;
    server.wait_active(0).await;
    let stats = server.get_json("/ws/stats").await;
    assert!(stats["closed"]["stale"].as_u64().expect("stale") >= 1);
}

#[tokio::test]
async fn malformed_frames_get_error_and_socket_survives() {
    let server = start(fast_config()).await;
    server.test_job("job_bad", "step_ms=10000").await;
    let mut ws = server.ws("/ws/progress/job_bad").await;
    next_progress(&mut ws).await;
    for bad in ["not json", r#"{"type":"subscribe"}"#, r#"{"type":"ping"}"#] {
        send_text(&mut ws, bad).await;
        match next_frame(&mut ws).await {
            ServerMessage::Error { code, .. } => assert_eq!(code, "bad_message"),
            other => panic!("expected error, got {other:?}"),
        }
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .expect("send");
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "unsupported_frame"),
        other => panic!("expected error, got {other:?}"),
    }
    send_text(&mut ws, r#"{"type":"ping","id":1}"#).await;
    assert!(matches!(
        next_frame(&mut ws).await,
        ServerMessage::Pong { id: 1, .. }
    ));
}

#[tokio::test]
async fn oversized_message_closes_1009() {
    let config = Config {
        max_message_bytes: 1024,
        ..fast_config()
    };
    let server = start(config).await;
    let mut ws = server.ws("/ws/health").await;
    send_text(&mut ws, &"x".repeat(1025)).await;
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "message_too_big"),
        other => panic!("expected error, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::TOO_BIG);
    let stats = server.get_json("/ws/stats/rate-limit").await;
    assert_eq!(stats["oversized_closes"], 1);
}

#[tokio::test]
async fn rate_limit_sends_error_then_closes_1008() {
    let config = Config {
        rate_limit: 5,
        ..fast_config()
    };
    let server = start(config).await;
    let mut ws = server.ws("/ws/health").await;
    for i in 0..5 {
        send_text(&mut ws, &format!(r#"{{"type":"ping","id":{i}}}"#)).await;
        assert!(matches!(
            next_frame(&mut ws).await,
            ServerMessage::Pong { .. }
        ));
    }
    send_text(&mut ws, r#"{"type":"ping","id":99}"#).await;
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "rate_limited"),
        other => panic!("expected error, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::POLICY);
    let stats = server.get_json("/ws/stats/rate-limit").await;
    assert_eq!(stats["rate_limited_closes"], 1);
    assert_eq!(stats["limit"], 5);
}

#[tokio::test]
async fn all_jobs_socket_streams_every_active_job() {
    let server = start(fast_config()).await;
    server.test_job("all_one", "step_ms=10000").await;
    let mut ws = server.ws("/ws/progress").await;
    let snap = next_frame(&mut ws).await;
    match snap {
        ServerMessage::Snapshot { progress } => assert_eq!(progress.process_id.as_str(), "all_one"),
        other => panic!("expected snapshot, got {other:?}"),
    }
    server.test_job("all_two", "step_ms=10000").await;
    let update = next_progress(&mut ws).await;
    assert_eq!(update.process_id.as_str(), "all_two");
}

#[tokio::test]
async fn slow_reader_does_not_hold_up_the_pipeline_or_others() {
    let server = start(fast_config()).await;
    server
        .test_job("job_slow", "step_ms=2&steps_per_stage=50")
        .await;
    // This socket is never read until the job is over.
    let mut slow = server.ws("/ws/progress/job_slow").await;
    let mut fast = server.ws("/ws/progress/job_slow").await;
    let (states, close) = drain(&mut fast).await;
    assert_eq!(close, code::NORMAL);
    assert_eq!(states.last().expect("states").state, JobState::Completed);
    // The slow socket skips intermediate states: it sees the newest, not a backlog.
    let (slow_states, slow_close) = drain(&mut slow).await;
    assert_eq!(slow_close, code::NORMAL);
    assert_eq!(
        slow_states.last().expect("states").state,
        JobState::Completed
    );
    assert_monotonic(&slow_states);
}

#[tokio::test]
async fn many_subscribers_all_reach_the_final_state() {
    let server = start(Config {
        max_per_ip: 200,
        ..fast_config()
    })
    .await;
    server
        .test_job("crowd", "step_ms=5&steps_per_stage=5")
        .await;
    let mut sockets = Vec::new();
    for _ in 0..50 {
        sockets.push(server.ws("/ws/progress/crowd").await);
    }
    let results = futures_util::future::join_all(sockets.iter_mut().map(drain)).await;
    for (states, close) in results {
        assert_eq!(close, code::NORMAL);
        assert_monotonic(&states);
        assert_eq!(states.last().expect("states").state, JobState::Completed);
    }
    server.wait_active(0).await;
}
