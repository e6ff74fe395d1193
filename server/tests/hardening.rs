//! Hardening of a server started with tokens required: earning fresh tokens,
//! admin-only details, slow and idle HTTP connections, host names, and the
//! spread of reconnect delays on shutdown.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use upload_progress_core::{ProcessId, ServerMessage};
use upload_progress_server::auth::TokenSigner;
use upload_progress_server::Config;

const SECRET: &str = "hardening-secret";

fn token_config() -> Config {
    Config {
        require_token: true,
        token_secret: Some(SECRET.to_owned()),
        ..fast_config()
    }
}

fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// A token for `id` signed with the test secret, issued at `issued_s` for `ttl_s`.
fn signed(id: &str, issued_s: u64, ttl_s: u64) -> String {
    let id = ProcessId::parse(id).expect("id");
    TokenSigner::new(Some(SECRET)).issue(&id, issued_s, ttl_s)
}

async fn refresh(server: &TestServer, id: &str, bearer: Option<&str>) -> reqwest::Response {
    let mut request = server
        .http
        .post(server.url(&format!("/api/uploads/{id}/token")));
    if let Some(token) = bearer {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("post")
}

async fn error_code(resp: reqwest::Response) -> String {
    let body: serde_json::Value = resp.json().await.expect("json error body");
    body["error"]["code"]
        .as_str()
        .expect("error code")
        .to_owned()
}

#[tokio::test]
async fn a_fresh_token_needs_a_credential_for_that_job() {
    let server = start(token_config()).await;
    let own = server.test_job("earn_a", "step_ms=10000").await;
    let other = server.test_job("earn_b", "step_ms=10000").await;

    let anonymous = refresh(&server, "earn_a", None).await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(anonymous).await, "token_missing");
    // Anonymous callers learn nothing about which jobs exist either.
    let probe = refresh(&server, "no_such_job", None).await;
    assert_eq!(probe.status(), StatusCode::UNAUTHORIZED);

    let foreign = refresh(&server, "earn_a", Some(&other)).await;
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(foreign).await, "token_forbidden");

    let garbage = refresh(&server, "earn_a", Some("not-a-token")).await;
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(garbage).await, "token_invalid");

    let wrong_admin = refresh(&server, "earn_a", Some("admin-secreT")).await;
    assert_eq!(wrong_admin.status(), StatusCode::UNAUTHORIZED);

    // The job's own token buys a fresh one, which opens the job.
    let ok = refresh(&server, "earn_a", Some(&own)).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let body: serde_json::Value = ok.json().await.expect("json");
    let fresh = body["token"].as_str().expect("token");
    let poll = server
        .http
        .get(server.url("/ws/progress/earn_a"))
        .bearer_auth(fresh)
        .send()
        .await
        .expect("get");
    assert_eq!(poll.status(), StatusCode::OK);
    let mut ws = server
        .ws(&format!("/ws/progress/earn_a?token={fresh}"))
        .await;
    assert_eq!(next_progress(&mut ws).await.process_id.as_str(), "earn_a");

    // A job holder gets at most the configured lifetime; the admin more.
    let long = server
        .http
        .post(server.url("/api/uploads/earn_a/token?ttl_s=86400"))
        .bearer_auth(&own)
        .send()
        .await
        .expect("post");
    let body: serde_json::Value = long.json().await.expect("json");
    assert_eq!(body["expires_in_s"], 900);
    let admin = server
        .http
        .post(server.url("/api/uploads/earn_a/token?ttl_s=86400"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("post");
    let body: serde_json::Value = admin.json().await.expect("json");
    assert_eq!(body["expires_in_s"], 86400);

    let stats = server.get_json("/ws/stats").await;
    assert!(stats["closed"]["unauthorized"].as_u64().expect("count") >= 4);
}

#[tokio::test]
async fn an_expired_token_renews_within_the_grace_only() {
    let server = start(token_config()).await;
    server.test_job("grace_job", "step_ms=10000").await;
    let now = now_s();
    // Expired five minutes ago: inside the default ten-minute grace.
    let recent = signed("grace_job", now - 360, 60);
    let renewed = refresh(&server, "grace_job", Some(&recent)).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    // The same token cannot open the job itself.
    let poll = server
        .http
        .get(server.url("/ws/progress/grace_job"))
        .bearer_auth(&recent)
        .send()
        .await
        .expect("get");
    assert_eq!(poll.status(), StatusCode::UNAUTHORIZED);
    // Expired an hour ago: beyond the grace.
    let stale = signed("grace_job", now - 3660, 60);
    let refused = refresh(&server, "grace_job", Some(&stale)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(refused).await, "token_expired");

    let strict = start(Config {
        token_refresh_grace: Duration::ZERO,
        ..token_config()
    })
    .await;
    strict.test_job("grace_job", "step_ms=10000").await;
    let refused = refresh(&strict, "grace_job", Some(&recent)).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_refresh_cookie_set_with_a_job_buys_fresh_tokens() {
    let server = start(token_config()).await;
    let resp = server
        .http
        .post(server.url("/ws/test/cookie_job?step_ms=10000"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 202);
    let set_cookie = resp
        .headers()
        .get("set-cookie")
        .expect("a refresh cookie")
        .to_str()
        .expect("ascii")
        .to_owned();
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/api/uploads/cookie_job/token",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let pair = set_cookie.split(';').next().expect("name=value").to_owned();
    let (name, value) = pair.split_once('=').expect("pair");
    assert_eq!(name, "upr_refresh_cookie_job");

    let ok = server
        .http
        .post(server.url("/api/uploads/cookie_job/token"))
        .header("cookie", format!("theme=dark; {pair}"))
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), StatusCode::OK);

    // The refresh credential is not a job token...
    let poll = server
        .http
        .get(server.url("/ws/progress/cookie_job"))
        .bearer_auth(value)
        .send()
        .await
        .expect("get");
    assert_eq!(poll.status(), StatusCode::UNAUTHORIZED);
    // ...and another job's cookie value is refused.
    server.test_job("cookie_other", "step_ms=10000").await;
    let foreign = server
        .http
        .post(server.url("/api/uploads/cookie_other/token"))
        .header("cookie", format!("upr_refresh_cookie_other={value}"))
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn detailed_stats_are_for_the_admin_only() {
    let server = start(fast_config()).await;
    server.test_job("hidden_job", "step_ms=10000").await;
    server.get_json("/ws/progress/hidden_job").await;
    let anonymous = server
        .http
        .get(server.url("/ws/stats/detailed"))
        .send()
        .await
        .expect("get");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let text = anonymous.text().await.expect("body");
    assert!(!text.contains("hidden_job"), "{text}");
    assert!(text.contains("\"error\""), "{text}");
    let wrong = server
        .http
        .get(server.url("/ws/stats/detailed"))
        .bearer_auth("guess")
        .send()
        .await
        .expect("get");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let admin = server.get_admin_json("/ws/stats/detailed").await;
    assert!(admin["processes"]["hidden_job"].is_object(), "{admin}");

    let no_admin = start(Config {
        admin_token: None,
        ..fast_config()
    })
    .await;
    let off = no_admin
        .http
        .get(no_admin.url("/ws/stats/detailed"))
        .send()
        .await
        .expect("get");
    assert_eq!(off.status(), StatusCode::FORBIDDEN);
}

/// Reads until the server closes the connection; true when it did within `within`.
async fn closed_by_server(tcp: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read_to_end = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(within, read_to_end).await.is_ok()
}

#[tokio::test]
async fn half_sent_and_idle_http_connections_are_closed() {
    let server = start(Config {
        header_read_timeout: Duration::from_millis(300),
        ..fast_config()
    })
    .await;
    let mut slow = Vec::new();
    for i in 0..40 {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        // A request head that never ends (slowloris), or nothing at all.
        if i % 2 == 0 {
            let partial = format!(
                "GET /ws/status HTTP/1.1\r\nHost: {}\r\nX-Slow: ",
                server.addr
            );
            tcp.write_all(partial.as_bytes()).await.expect("write");
        }
        slow.push(tcp);
    }
    // An idle keep-alive connection after one full request.
    let mut idle = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!("GET /ws/health HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr);
    idle.write_all(request.as_bytes()).await.expect("write");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.expect("response");
    assert_eq!(&head, b"HTTP/1.1 200");

    let started = std::time::Instant::now();
    for (i, tcp) in slow.iter_mut().enumerate() {
        assert!(
            closed_by_server(tcp, Duration::from_secs(5)).await,
            "slow connection {i} still open"
        );
    }
    assert!(
        closed_by_server(&mut idle, Duration::from_secs(5)).await,
        "idle keep-alive connection still open"
    );
    assert!(started.elapsed() < Duration::from_secs(5));

    // Normal traffic, sockets included, still works.
    assert_eq!(server.get_json("/ws/health").await["status"], "healthy");
    let mut ws = server.ws("/ws/health").await;
    send_text(&mut ws, r#"{"type":"ping","id":7}"#).await;
    match next_frame(&mut ws).await {
        ServerMessage::Pong { id, .. } => assert_eq!(id, 7),
        other => panic!("expected pong, got {other:?}"),
    }
}

#[tokio::test]
async fn an_open_socket_outlives_the_header_timeout() {
    let server = start(Config {
        header_read_timeout: Duration::from_millis(200),
        ..fast_config()
    })
    .await;
    let mut ws = server.ws("/ws/health").await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    send_text(&mut ws, r#"{"type":"ping","id":1}"#).await;
    match next_frame(&mut ws).await {
        ServerMessage::Pong { id, .. } => assert_eq!(id, 1),
        other => panic!("expected pong, got {other:?}"),
    }
}

async fn status_with(server: &TestServer, host: &str, origin: Option<&str>) -> StatusCode {
    // reqwest sets Host from the URL; a raw request lets the test choose it.
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let request =
        format!("GET /ws/status HTTP/1.1\r\nHost: {host}\r\n{origin}Connection: close\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .expect("answer in time")
        .expect("read");
    let line = String::from_utf8_lossy(&answer);
    let code = line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .expect("status line");
    StatusCode::from_u16(code).expect("status")
}

#[tokio::test]
async fn rebound_host_names_are_refused() {
    let server = start(Config {
        allowed_origins: vec!["https://app.example.com".to_owned()],
        allowed_hosts: vec!["progress.internal".to_owned()],
        ..fast_config()
    })
    .await;
    let port = server.addr.port();
    let evil = format!("evil.example:{port}");
    let evil_origin = format!("http://{evil}");
    // After DNS rebinding, Origin and Host name the attacker's site and match.
    assert_eq!(
        status_with(&server, &evil, Some(&evil_origin)).await,
        StatusCode::FORBIDDEN
    );
    // A same-origin GET carries no Origin; the Host still gives it away.
    assert_eq!(
        status_with(&server, &evil, None).await,
        StatusCode::FORBIDDEN
    );
    let own = format!("127.0.0.1:{port}");
    assert_eq!(status_with(&server, &own, None).await, StatusCode::OK);
    assert_eq!(
        status_with(&server, &format!("localhost:{port}"), None).await,
        StatusCode::OK
    );
    assert_eq!(
        status_with(&server, "app.example.com", Some("https://app.example.com")).await,
        StatusCode::OK
    );
    assert_eq!(
        status_with(&server, "progress.internal:8080", None).await,
        StatusCode::OK
    );
    // Matching Origin and Host is not enough for an address either.
    assert_eq!(
        status_with(&server, &own, Some(&format!("http://{own}"))).await,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn send_timeout_defaults_to_five_seconds() {
    assert_eq!(Config::default().send_timeout, Duration::from_secs(5));
}

#[tokio::test]
async fn shutdown_spreads_retry_after_over_the_window() {
    const SOCKETS: usize = 24;
    let server = start(Config {
        shutdown_retry_after_ms: 500,
        shutdown_retry_spread_ms: 3000,
        ..fast_config()
    })
    .await;
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        sockets.push(server.ws("/ws/health").await);
    }
    server.wait_active(SOCKETS).await;
    let handle = server.handle.clone();
    let shutdown = tokio::spawn(async move { handle.shutdown(Duration::from_secs(5)).await });
    let mut delays = Vec::new();
    for ws in &mut sockets {
        match next_frame(ws).await {
            ServerMessage::ServerShutdown { retry_after_ms } => delays.push(retry_after_ms),
            other => panic!("expected server_shutdown, got {other:?}"),
        }
    }
    shutdown.await.expect("shutdown finished");
    for d in &delays {
        assert!((500..=3500).contains(d), "{d} outside [500, 3500]");
    }
    let distinct: BTreeSet<u64> = delays.iter().copied().collect();
    assert!(
        distinct.len() >= SOCKETS / 2,
        "delays are not spread: {delays:?}"
    );
    let (min, max) = (
        distinct.first().copied().unwrap_or(0),
        distinct.last().copied().unwrap_or(0),
    );
    assert!(
        max - min >= 1000,
        "delays cover too little of the window: {delays:?}"
    );
}
