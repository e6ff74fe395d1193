//! The binary: address announcement on stdout, `--help`, and SIGTERM handling.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use common::*;
use upload_progress_core::{code, ServerMessage};

const BIN: &str = env!("CARGO_BIN_EXE_upload-progress-server");

/// Kills the child if a test fails half-way, so no server outlives the run.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(args: &[&str]) -> (Running, String) {
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn server");
    let stdout = child.stdout.take().expect("stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let addr = first
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .to_owned();
    (Running(child), addr)
}

#[test]
fn help_documents_flags_close_codes_and_faults() {
    let out = Command::new(BIN).arg("--help").output().expect("run");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--allow-loopback-origins",
        "--require-token",
        "--stage-ms",
        "--grace-ms",
        "--max-message-bytes",
        "4404",
        "stall_sockets",
        "cut_uploads",
        "refuse_uploads",
        "/ws/stats/detailed",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}");
    }
}

#[test]
fn bad_flags_fail_with_a_message() {
    let out = Command::new(BIN)
        .args(["--addr", "not-an-address"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(!out.stderr.is_empty());
}

#[cfg(unix)]
#[tokio::test]
async fn sigterm_sends_server_shutdown_and_close_1012_then_exits() {
    let (mut running, addr) = spawn(&["--stage-ms", "60000"]);
    let http = reqwest::Client::new();
    let resp = http
        .post(format!("http://{addr}/ws/test/sig_job"))
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 202);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/progress/sig_job"))
        .await
        .expect("connect");
    next_progress(&mut ws).await;
    let status = Command::new("kill")
        .args(["-TERM", &running.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    match next_frame(&mut ws).await {
        ServerMessage::ServerShutdown { retry_after_ms } => assert!(retry_after_ms > 0),
        other => panic!("expected server_shutdown, got {other:?}"),
    }
    assert_eq!(expect_close(&mut ws).await, code::RESTARTING);
    let exit = tokio::task::spawn_blocking(move || running.0.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn fault_subcommand_reaches_the_admin_endpoint() {
    let (_running, addr) = spawn(&["--faults", "--admin-token", "cli-secret"]);
    let out = Command::new(BIN)
        .args([
            "fault",
            "poll_errors",
            "--duration-ms",
            "5000",
            "--server",
            &format!("http://{addr}"),
            "--admin-token",
            "cli-secret",
        ])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(body["faults"]["poll_errors"].is_object());
    let out = Command::new(BIN)
        .args([
            "fault",
            "cut_uploads",
            "--after-bytes",
            "1000",
            "--count",
            "3",
            "--server",
            &format!("http://{addr}"),
            "--admin-token",
            "cli-secret",
        ])
        .output()
        .expect("run");
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        body["faults"]["cut_uploads"],
        serde_json::json!({"after_bytes": 1000, "remaining": 3})
    );
    let denied = Command::new(BIN)
        .args([
            "fault",
            "clear",
            "--server",
            &format!("http://{addr}"),
            "--admin-token",
            "nope",
        ])
        .output()
        .expect("run");
    assert!(!denied.status.success());
}

#[tokio::test]
async fn the_binary_allows_its_own_origin_and_no_other() {
    let (_running, addr) = spawn(&[]);
    let http = reqwest::Client::new();
    let port = addr.rsplit(':').next().expect("port");
    for (origin, status) in [
        (format!("http://{addr}"), 200),
        (format!("http://localhost:{port}"), 200),
        ("http://127.0.0.1:1".to_owned(), 403),
        ("https://evil.example".to_owned(), 403),
    ] {
        let resp = http
            .get(format!("http://{addr}/ws/status"))
            .header("origin", &origin)
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status().as_u16(), status, "{origin}");
    }
}

#[tokio::test]
/// The page and the API's own 404s are the binary's, not the library's.
async fn serves_static_files_with_index_fallback_and_json_404s_for_the_api() {
    let dir = std::env::temp_dir().join(format!("upr-dist-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("index.html"), "<html>index</html>").expect("write");
    std::fs::write(dir.join("app.js"), "console.log(1)").expect("write");
    let (_running, addr) = spawn(&["--dist", dir.to_str().expect("utf-8 path")]);
    let http = reqwest::Client::new();
    let get = |path: &'static str| {
        let http = http.clone();
        let url = format!("http://{addr}{path}");
        async move { http.get(url).send().await.expect("get") }
    };
    assert_eq!(
        get("/").await.text().await.expect("body"),
        "<html>index</html>"
    );
    assert_eq!(
        get("/app.js").await.text().await.expect("body"),
        "console.log(1)"
    );
    let deep = get("/some/client/route").await;
    assert_eq!(deep.status(), 200);
    assert_eq!(deep.text().await.expect("body"), "<html>index</html>");
    for path in ["/ws/nope", "/api/nope/deeper"] {
        let resp = get(path).await;
        assert_eq!(resp.status(), 404, "{path}");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], "not_found");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
