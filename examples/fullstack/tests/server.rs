//! The example's binary end to end over HTTP, without a browser: the page
//! is rendered on the server, a tus upload runs the app's three stages in
//! order and completes with what they found, and a `?job=` link renders
//! that job's widget.
#![cfg(not(target_arch = "wasm32"))]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The binary, listening on a free port, removed with its upload
/// directory when dropped.
struct Server {
    child: Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start() -> Server {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("upr-fullstack-test-{}-{n}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_upload-progress-fullstack"))
        .args(["--addr", "127.0.0.1:0", "--pace-ms", "1", "--pkg"])
        .arg(dir.join("no-pkg"))
        .arg("--upload-dir")
        .arg(dir.join("uploads"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read its first line");
    let base = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, base, dir }
}

fn text_body() -> Vec<u8> {
    (0..2000)
        .map(|i| format!("line {i}: the quick brown fox\n"))
        .collect::<String>()
        .into_bytes()
}

async fn job(http: &reqwest::Client, base: &str, id: &str) -> serde_json::Value {
    let resp = http
        .get(format!("{base}/ws/progress/{id}"))
        .send()
        .await
        .expect("read the job");
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.expect("json")["progress"].clone()
}

#[tokio::test]
async fn renders_the_page_and_runs_the_stages_on_a_tus_upload() {
    let server = start();
    let http = reqwest::Client::new();
    let base = &server.base;

    let page = http.get(format!("{base}/")).send().await.expect("page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("<div id=\"app\"><main class=\"fullstack\""),
        "{html}"
    );
    assert!(
        html.contains("class=\"fullstack__missing\""),
        "no browser build here: {html}"
    );
    assert!(
        !html.contains("class=\"upr "),
        "no job linked, no widget: {html}"
    );

    let bytes = text_body();
    let created = http
        .post(format!("{base}/api/uploads/tus"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", bytes.len().to_string())
        .header("Upload-Metadata", "filename bm90ZXMudHh0") // notes.txt
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let location = created.headers()["location"].to_str().unwrap().to_owned();
    let id = created.headers()["upload-process-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let patched = http
        .patch(format!("{base}{location}"))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes.clone())
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 204);

    // Follow the job: stages only move forward, and it completes.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen_stages = Vec::<String>::new();
    let done = loop {
        let p = job(&http, base, &id).await;
        if let Some(stage) = p["stage"].as_str() {
            if seen_stages.last().map(String::as_str) != Some(stage) {
                seen_stages.push(stage.to_owned());
            }
        }
        if p["state"] == "completed" {
            break p;
        }
        assert_ne!(p["state"], "failed", "{p}");
        assert!(Instant::now() < deadline, "not completed in time: {p}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let names: Vec<&str> = done["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["checksum", "gzip", "lines"]);
    assert!(
        done["stages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "done"),
        "{done}"
    );
    for pair in seen_stages.windows(2) {
        let at = |s: &str| names.iter().position(|n| *n == s);
        assert!(
            at(&pair[0]) < at(&pair[1]),
            "stages went back: {seen_stages:?}"
        );
    }

    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let message = done["message"].as_str().expect("message");
    assert!(
        message.starts_with(&format!("sha256 {sha}, gzip ")),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(" of {} bytes, 2000 lines", bytes.len())),
        "{message}"
    );
    let gzip: u64 = message
        .split("gzip ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("gzip size");
    assert!(
        gzip > 0 && gzip < bytes.len() as u64 / 4,
        "repetitive text compresses: {message}"
    );

    // The link to the job renders its widget on the server (in its
    // initial state: it learns the job in the browser).
    let linked = http
        .get(format!("{base}/?job={id}"))
        .send()
        .await
        .expect("linked page")
        .text()
        .await
        .expect("html");
    assert!(
        linked.contains("<section class=\"upr upr--idle\""),
        "{linked}"
    );
}

#[tokio::test]
async fn the_widget_stylesheet_is_served_and_unknown_files_are_404() {
    let server = start();
    let http = reqwest::Client::new();
    let css = http
        .get(format!("{}/upload-progress.css", server.base))
        .send()
        .await
        .expect("css");
    assert_eq!(css.status(), 200);
    assert!(css.text().await.expect("text").contains(".upr"));
    let missing = http
        .get(format!("{}/pkg/nothing.js", server.base))
        .send()
        .await
        .expect("pkg");
    assert_eq!(missing.status(), 404);
}
