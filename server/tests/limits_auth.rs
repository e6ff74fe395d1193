//! Connection caps, job tokens, and connection accounting under churn.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use upload_progress_core::{code, ServerMessage};
use upload_progress_server::Config;

#[tokio::test]
async fn total_connection_cap_answers_503_before_upgrade() {
    let server = start(Config {
        max_connections: 2,
        ..fast_config()
    })
    .await;
    let _a = server.ws("/ws/health").await;
    let _b = server.ws("/ws/health").await;
    assert_eq!(server.try_ws("/ws/health", None).await.err(), Some(503));
    let resp = server
        .http
        .get(server.url("/ws/health"))
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 503);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "server_full");
    let stats = server.get_json("/ws/stats").await;
    assert_eq!(stats["refused"]["server_full"], 2);
}

#[tokio::test]
async fn per_ip_cap_answers_503_and_frees_on_close() {
    let server = start(Config {
        max_per_ip: 2,
        ..fast_config()
    })
    .await;
    let mut a = server.ws("/ws/health").await;
    let _b = server.ws("/ws/health").await;
    assert_eq!(server.try_ws("/ws/health", None).await.err(), Some(503));
    a.close(None).await.expect("close");
    server.wait_active(1).await;
    assert!(server.try_ws("/ws/health", None).await.is_ok());
    let stats = server.get_json("/ws/stats").await;
    assert_eq!(stats["refused"]["per_ip"], 1);
}

fn token_config() -> Config {
    Config {
        require_token: true,
        token_secret: Some("test-secret".to_owned()),
        ..fast_config()
    }
}

#[tokio::test]
async fn socket_without_or_with_bad_token_closes_4401() {
    let server = start(token_config()).await;
    let token = server.test_job("tok_job", "step_ms=10000").await;
    for path in [
        "/ws/progress/tok_job".to_owned(),
        "/ws/progress/tok_job?token=garbage".to_owned(),
        // A valid token for another job opens nothing else.
        format!("/ws/progress/other_job?token={token}"),
    ] {
        let mut ws = server.ws(&path).await;
        match next_frame(&mut ws).await {
            ServerMessage::Error { code, .. } => assert!(code.starts_with("token_"), "{code}"),
            other => panic!("expected error, got {other:?}"),
        }
        assert_eq!(expect_close(&mut ws).await, code::UNAUTHORIZED, "{path}");
    }
    let mut ok = server
        .ws(&format!("/ws/progress/tok_job?token={token}"))
        .await;
    assert_eq!(next_progress(&mut ok).await.process_id.as_str(), "tok_job");
}

#[tokio::test]
async fn polling_needs_a_bearer_token() {
    let server = start(token_config()).await;
    let token = server.test_job("tok_poll", "step_ms=10000").await;
    let anonymous = server
        .http
        .get(server.url("/ws/progress/tok_poll"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.expect("json");
    assert_eq!(body["error"]["code"], "token_missing");
    let ok = server
        .http
        .get(server.url("/ws/progress/tok_poll"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn token_expiry_closes_4401_and_polling_answers_401() {
    let server = start(token_config()).await;
    server.test_job("tok_exp", "step_ms=60000").await;
    let refreshed: serde_json::Value = server
        .http
        .post(server.url("/api/uploads/tok_exp/token?ttl_s=1"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(refreshed["expires_in_s"], 1);
    let token = refreshed["token"].as_str().expect("token").to_owned();
    let mut ws = server
        .ws(&format!("/ws/progress/tok_exp?token={token}"))
        .await;
    next_progress(&mut ws).await;
    // The socket stays open until the token's lifetime ends, then closes 4401.
    match next_frame(&mut ws).await {
        ServerMessage::Error { code, .. } => assert_eq!(code, "token_expired"),
        other => panic!("expected error, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::UNAUTHORIZED);
    let resp = server
        .http
        .get(server.url("/ws/progress/tok_exp"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 401);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "token_expired");
    let mut again = server
        .ws(&format!("/ws/progress/tok_exp?token={token}"))
        .await;
    assert_eq!(expect_close(&mut again).await, code::UNAUTHORIZED);
}

#[tokio::test]
async fn token_refresh_validates() {
    let server = start(token_config()).await;
    let unknown = server
        .http
        .post(server.url("/api/uploads/missing/token"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("post");
    assert_eq!(unknown.status(), 404);
    server.test_job("tok_ref", "step_ms=10000").await;
    let bad = server
        .http
        .post(server.url("/api/uploads/tok_ref/token?ttl_s=0"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), 400);
    let foreign = server
        .http
        .post(server.url("/api/uploads/tok_ref/token"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn all_jobs_view_needs_admin_token_when_tokens_are_required() {
    let server = start(token_config()).await;
    let resp = server
        .http
        .get(server.url("/ws/progress"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 401);
    let ok = server
        .http
        .get(server.url("/ws/progress"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn thousand_connect_disconnect_cycles_leave_no_connection_behind() {
    let server = start(Config {
        max_connections: 2000,
        max_per_ip: 2000,
        ..fast_config()
    })
    .await;
    server.test_job("churn", "step_ms=60000").await;
    for i in 0..1000 {
        let mut ws = server.ws("/ws/progress/churn").await;
        next_progress(&mut ws).await;
        if i % 2 == 0 {
            ws.close(None).await.expect("close");
        } else {
            // Half the clients vanish without a close handshake.
            drop(ws);
        }
    }
    server.wait_active(0).await;
    let detailed = server.get_admin_json("/ws/stats/detailed").await;
    assert_eq!(detailed["connections"]["total"], 1000);
    assert_eq!(detailed["processes"]["churn"]["ws_opened"], 1000);
    assert_eq!(detailed["processes"]["churn"]["ws_active"], 0);
}

#[tokio::test]
async fn graceful_shutdown_announces_and_closes_1012() {
    let server = start(fast_config()).await;
    server.test_job("bye", "step_ms=60000").await;
    let mut ws = server.ws("/ws/progress/bye").await;
    next_progress(&mut ws).await;
    let handle = server.handle.clone();
    let shutdown = tokio::spawn(async move { handle.shutdown(Duration::from_secs(5)).await });
    match next_frame(&mut ws).await {
        ServerMessage::ServerShutdown { retry_after_ms } => {
            assert!((1000..=5000).contains(&retry_after_ms), "{retry_after_ms}")
        }
        other => panic!("expected server_shutdown, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::RESTARTING);
    shutdown.await.expect("shutdown finished");
    assert_eq!(server.handle.active_connections(), 0);
    assert_eq!(server.try_ws("/ws/health", None).await.err(), Some(503));
    let _ = ws
        .send(tokio_tungstenite::tungstenite::Message::Close(None))
        .await;
}

#[tokio::test]
async fn a_client_that_stops_reading_is_dropped_by_the_send_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let server = start(Config {
        send_timeout: Duration::from_millis(200),
        // Keep the idle check out of the way: only the send timeout may act.
        ping_interval: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(3600),
        ..fast_config()
    })
    .await;
    // A tiny receive window that is never drained: the server's writes back up.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut tcp = socket.connect(server.addr).await.expect("connect");
    let req = format!(
        "GET /ws/progress HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(req.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.expect("read head");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"));
    server.wait_active(1).await;
    // Every update of every job goes to this socket. How much the kernel
    // buffers first depends on the machine (the send buffer may grow to a
    // few MiB), so the flood grows, 20 jobs a round, until the server gives
    // up on the reader; 15 rounds are far more than any buffer holds.
    let stale = || async {
        server.get_json("/ws/stats").await["closed"]["stale"]
            .as_u64()
            .expect("stale")
    };
    for round in 0..15 {
        for i in 0..20 {
            server
                .test_job(
                    &format!("flood_{round}_{i}"),
                    "step_ms=0&steps_per_stage=1000",
                )
                .await;
        }
        // The send timeout is 200 ms: a backed-up socket is gone within 2 s.
        let dropped = tokio::time::timeout(Duration::from_secs(2), async {
            while stale().await == 0 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        if dropped.is_ok() {
            break;
        }
    }
    // Meanwhile another job runs to its end for another client.
    server
        .test_job("bystander", "step_ms=1&steps_per_stage=2")
        .await;
    let mut ws = server.ws("/ws/progress/bystander").await;
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    assert_eq!(
        states.last().expect("states").state,
        upload_progress_core::JobState::Completed
    );
    server.wait_active(0).await;
    assert!(
        stale().await >= 1,
        "the reader that stopped was dropped as stale"
    );
    drop(tcp);
}
