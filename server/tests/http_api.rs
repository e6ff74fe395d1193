//! HTTP endpoints: uploads, polling with ETag, status and stats, CORS, origins, static files, admin.

mod common;

use std::time::Duration;

use common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use upload_progress_core::{code, JobState, ProgressResponse, UploadAccepted};
use upload_progress_server::Config;

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn file_form(bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name("notes.txt"))
}

#[tokio::test]
async fn upload_runs_the_pipeline_on_the_bytes() {
    let server = start(fast_config()).await;
    let resp = server
        .http
        .post(server.url("/api/uploads"))
        .multipart(file_form(b"hello world\nsecond line here\n".to_vec()))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let accepted: UploadAccepted = resp.json().await.expect("json");
    let id = accepted.process_id.as_str().to_owned();
    let parts: Vec<&str> = id.split('_').collect();
    assert_eq!(&parts[..2], ["auto", "proc"]);
    assert!(parts[2].len() == 16 && parts[2].chars().all(|c| c.is_ascii_hexdigit()));
    assert!(parts[3].parse::<u64>().is_ok());
    assert!(!accepted.token.is_empty());
    assert_eq!(accepted.expires_in_s, 900);
    let mut ws = server.ws(&format!("/ws/progress/{id}")).await;
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    assert_monotonic(&states);
    let last = states.last().expect("states");
    assert_eq!(last.state, JobState::Completed);
    // Real work on the bytes: 2 lines, 5 words, and the sha256 of the content.
    assert!(last.message.contains("2 lines"), "{}", last.message);
    assert!(last.message.contains("5 words"), "{}", last.message);
    let expected = sha256_hex(b"hello world\nsecond line here\n");
    assert!(last.message.contains(&expected), "{}", last.message);
}

#[tokio::test]
async fn upload_errors_are_clear_json() {
    let config = Config {
        max_upload_bytes: 1000,
        ..fast_config()
    };
    let server = start(config).await;
    let too_big = server
        .http
        .post(server.url("/api/uploads"))
        .multipart(file_form(vec![b'a'; 200_000]))
        .send()
        .await
        .expect("post");
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: serde_json::Value = too_big.json().await.expect("json");
    assert_eq!(body["error"]["code"], "payload_too_large");

    // Over the file limit but under the body limit (multipart slack).
    let just_over = server
        .http
        .post(server.url("/api/uploads"))
        .multipart(file_form(vec![b'a'; 1001]))
        .send()
        .await
        .expect("post");
    assert_eq!(just_over.status(), StatusCode::PAYLOAD_TOO_LARGE);

    let missing = server
        .http
        .post(server.url("/api/uploads"))
        .multipart(Form::new().text("other", "x"))
        .send()
        .await
        .expect("post");
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = missing.json().await.expect("json");
    assert_eq!(body["error"]["code"], "missing_file");

    let not_multipart = server
        .http
        .post(server.url("/api/uploads"))
        .body("plain")
        .send()
        .await
        .expect("post");
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = not_multipart.json().await.expect("json");
    assert_eq!(body["error"]["code"], "bad_upload");
}

#[tokio::test]
async fn polling_uses_etag_and_304() {
    let server = start(fast_config()).await;
    server.test_job("poll_job", "step_ms=10000").await;
    let resp = server
        .http
        .get(server.url("/ws/progress/poll_job"))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let etag = resp.headers()["etag"].to_str().expect("etag").to_owned();
    let body: ProgressResponse = resp.json().await.expect("json");
    assert_eq!(etag, format!("\"{}\"", body.progress.seq));
    let again = server
        .http
        .get(server.url("/ws/progress/poll_job"))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("get");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], etag.as_str());
    let stale = server
        .http
        .get(server.url("/ws/progress/poll_job"))
        .header("if-none-match", "\"0\"")
        .send()
        .await
        .expect("get");
    assert_eq!(stale.status(), StatusCode::OK);
}

#[tokio::test]
async fn polling_errors_404_and_400() {
    let server = start(fast_config()).await;
    let unknown = server
        .http
        .get(server.url("/ws/progress/nope"))
        .send()
        .await
        .expect("get");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = unknown.json().await.expect("json");
    assert_eq!(body["error"]["code"], "unknown_process");
    let invalid = server
        .http
        .get(server.url("/ws/progress/a.b"))
        .send()
        .await
        .expect("get");
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = invalid.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_process_id");
}

#[tokio::test]
async fn list_status_and_stats() {
    let server = start(fast_config()).await;
    server.test_job("listed", "step_ms=10000").await;
    let list = server.get_json("/ws/progress").await;
    assert_eq!(list["count"], 1);
    assert_eq!(list["processes"][0]["process_id"], "listed");

    let mut ws = server.ws("/ws/progress/listed").await;
    next_progress(&mut ws).await;
    let _ = server
        .http
        .get(server.url("/ws/progress/listed"))
        .send()
        .await
        .expect("get");

    let status = server.get_json("/ws/status").await;
    assert_eq!(status["status"], "healthy");
    assert_eq!(status["websocket_enabled"], true);
    let s = &status["statistics"];
    assert_eq!(s["active_connections"], 1);
    assert_eq!(s["total_connections"], 1);
    assert_eq!(s["connection_limit"], 100);
    assert_eq!(s["per_ip_limit"], 50);
    assert_eq!(s["cached_processes"], 1);
    assert!(status["faults"].is_object());

    let detailed = server.get_admin_json("/ws/stats/detailed").await;
    let p = &detailed["processes"]["listed"];
    assert_eq!(
        (p["ws_active"].as_u64(), p["ws_opened"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(p["http_requests"], 1);
    assert_eq!(detailed["connections"]["active"], 1);
    assert_eq!(detailed["connections"]["total"], 1);
    assert_eq!(detailed["connections"]["per_ip"]["127.0.0.1"], 1);

    let stats = server.get_json("/ws/stats").await;
    assert_eq!(stats["jobs"]["active"], 1);
    let rate = server.get_json("/ws/stats/rate-limit").await;
    assert_eq!(rate["limit"], 120);
    assert_eq!(rate["window_s"], 60.0);

    let health = server.get_json("/ws/health").await;
    assert_eq!(health["status"], "healthy");
}

#[tokio::test]
async fn foreign_origin_is_refused_before_upgrade() {
    let config = Config {
        allowed_origins: vec!["https://app.example.com".to_owned()],
        ..fast_config()
    };
    let server = start(config).await;
    server.test_job("origin_job", "step_ms=10000").await;
    assert_eq!(
        server
            .try_ws("/ws/progress/origin_job", Some("https://evil.example"))
            .await
            .err(),
        Some(403)
    );
    let resp = server
        .http
        .get(server.url("/ws/progress/origin_job"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "origin_not_allowed");
    // Allowed and origin-less clients pass.
    let mut ok = server
        .try_ws("/ws/progress/origin_job", Some("https://app.example.com"))
        .await
        .expect("allowed origin");
    next_progress(&mut ok).await;
    assert!(server.try_ws("/ws/health", None).await.is_ok());
    // Matching `Host` proves nothing (DNS rebinding): the server's own
    // origin is allowed only when configured (the binary configures it).
    let same = format!("http://{}", server.addr);
    assert_eq!(
        server.try_ws("/ws/health", Some(&same)).await.err(),
        Some(403)
    );
    assert_eq!(
        server
            .try_ws("/ws/health", Some("http://127.0.0.1:1"))
            .await
            .err(),
        Some(403),
        "loopback origins need --allow-loopback-origins"
    );
}

#[tokio::test]
async fn loopback_origins_and_cors() {
    let config = Config {
        allow_loopback_origins: true,
        ..fast_config()
    };
    let server = start(config).await;
    server.test_job("cors_job", "step_ms=10000").await;
    let origin = "http://127.0.0.1:5173";
    let resp = server
        .http
        .get(server.url("/ws/progress/cors_job"))
        .header("origin", origin)
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["access-control-allow-origin"], origin);
    let exposed = resp.headers()["access-control-expose-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(exposed.contains("etag"));
    let preflight = server
        .http
        .request(
            reqwest::Method::OPTIONS,
            server.url("/ws/progress/cors_job"),
        )
        .header("origin", origin)
        .header("access-control-request-method", "GET")
        .header(
            "access-control-request-headers",
            "authorization, if-none-match",
        )
        .send()
        .await
        .expect("options");
    assert!(preflight.status().is_success());
    let allowed = preflight.headers()["access-control-allow-headers"]
        .to_str()
        .expect("ascii")
        .to_ascii_lowercase();
    assert!(allowed.contains("authorization") && allowed.contains("if-none-match"));
    let foreign = server
        .http
        .get(server.url("/ws/status"))
        .header("origin", "http://example.com")
        .send()
        .await
        .expect("get");
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert!(foreign
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let mut ws = server
        .try_ws("/ws/progress/cors_job", Some("http://localhost:3000"))
        .await
        .expect("loopback origin allowed");
    next_progress(&mut ws).await;
}

#[tokio::test]
async fn test_job_validates_its_input() {
    let server = start(fast_config()).await;
    for (path, code) in [
        ("/ws/test/a.b", "invalid_process_id"),
        ("/ws/test/x?steps_per_stage=0", "bad_query"),
        ("/ws/test/x?fail_at_stage=4", "bad_query"),
        ("/ws/test/x?step_ms=abc", "bad_query"),
        ("/ws/test/x?start_in_ms=60001", "bad_query"),
    ] {
        let resp = server
            .http
            .post(server.url(path))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{path}");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], code, "{path}");
    }
    server.test_job("dup", "step_ms=10000").await;
    let resp = server
        .http
        .post(server.url("/ws/test/dup"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

/// `start_in_ms` (what the load generator uses to spread its job starts):
/// the job does not exist until then, a socket opened before waits for it,
/// and an id already taken is refused at once.
#[tokio::test]
async fn a_test_job_can_start_later() {
    let server = start(fast_config()).await;
    let asked = std::time::Instant::now();
    server.test_job("later", "step_ms=20&start_in_ms=400").await;
    let early = server
        .http
        .get(server.url("/ws/progress/later"))
        .send()
        .await
        .expect("get");
    assert_eq!(early.status(), StatusCode::NOT_FOUND, "not created yet");
    let mut ws = server.ws("/ws/progress/later").await;
    let waiting = next_progress(&mut ws).await;
    assert_eq!(waiting.seq, 0, "a socket opened before the start waits");
    let first = next_progress(&mut ws).await;
    assert!(first.seq >= 1);
    assert!(
        asked.elapsed() >= Duration::from_millis(400),
        "started after {:?}",
        asked.elapsed()
    );
    let (rest, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    assert_eq!(rest.last().expect("states").state, JobState::Completed);

    server.test_job("taken", "step_ms=10000").await;
    let resp = server
        .http
        .post(server.url("/ws/test/taken?start_in_ms=100"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn admin_cleanup_needs_the_admin_token() {
    let config = Config {
        job_ttl: Duration::ZERO,
        ..fast_config()
    };
    let server = start(config).await;
    server
        .test_job("swept", "step_ms=1&steps_per_stage=1")
        .await;
    let mut ws = server.ws("/ws/progress/swept").await;
    assert_eq!(drain(&mut ws).await.1, code::NORMAL);
    let anonymous = server
        .http
        .post(server.url("/ws/cleanup"))
        .send()
        .await
        .expect("post");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let wrong = server
        .http
        .post(server.url("/ws/cleanup"))
        .bearer_auth("guess")
        .send()
        .await
        .expect("post");
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let ok = server
        .http
        .post(server.url("/ws/cleanup"))
        .bearer_auth("admin-secret")
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), StatusCode::OK);
    let body: serde_json::Value = ok.json().await.expect("json");
    assert_eq!(body["removed_jobs"], 1);
    assert_eq!(body["cached_processes"], 0);

    let no_admin = start(Config {
        admin_token: None,
        ..fast_config()
    })
    .await;
    let resp = no_admin
        .http
        .post(no_admin.url("/ws/cleanup"))
        .bearer_auth("anything")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = resp.json().await.expect("json");
    assert_eq!(body["error"]["code"], "admin_disabled");
}
