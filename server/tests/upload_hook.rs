//! The upload-complete hook, from an application's side: its own handler
//! gets every finished upload (tus and multipart) with the job's writer,
//! reports its own stages, and a handler that fails or panics fails only
//! its own job. Also: the library's router merged into a plain axum app
//! leaves the app's own routes and 404 alone.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use base64::Engine;
use common::{assert_monotonic, drain, WAIT};
use upload_progress_core::{code, JobState, StageStatus};
use upload_progress_server::tus::TusConfig;
use upload_progress_server::{serve_with, FinishedUpload, JobHandle, ProgressServer};

const STAGES: [(&str, &str); 2] = [("count", "Counting lines"), ("seal", "Sealing")];

/// What the handler saw of each upload, for the test to check.
#[derive(Debug, Clone)]
struct Seen {
    path: Option<PathBuf>,
    existed: bool,
}

/// The app's handler. Metadata `mode` picks its behaviour: `error`
/// returns an error, `panic` panics, `quiet` returns without ending the
/// job, anything else counts lines in two stages and completes with what
/// it saw.
async fn handle(
    upload: FinishedUpload,
    mut job: JobHandle,
    seen: Arc<Mutex<Vec<Seen>>>,
) -> Result<(), String> {
    let existed = upload.path().is_some_and(|p| p.exists());
    seen.lock().expect("lock").push(Seen {
        path: upload.path().map(PathBuf::from),
        existed,
    });
    match upload.meta("mode") {
        Some("error") => return Err("the scanner is offline".to_owned()),
        Some("panic") => panic!("boom in the handler"),
        // Returns without ending the job: the library completes it.
        Some("quiet") => {
            job.message("Looked at it").map_err(|e| e.to_string())?;
            return Ok(());
        }
        _ => {}
    }
    let bytes = upload.bytes().await.map_err(|e| e.to_string())?;
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    job.stage_progress(1.0, &format!("{lines} lines"))
        .map_err(|e| e.to_string())?;
    job.next_stage("Sealing...").map_err(|e| e.to_string())?;
    let checksum = upload
        .checksum()
        .map(|c| format!("{}:{}", c.algorithm, c.value))
        .unwrap_or_default();
    job.complete(&format!(
        "lines={lines} size={} name={} checksum={checksum} file={existed}",
        upload.size(),
        upload.file_name().unwrap_or("-"),
    ))
    .map_err(|e| e.to_string())?;
    Ok(())
}

struct App {
    addr: SocketAddr,
    http: reqwest::Client,
    seen: Arc<Mutex<Vec<Seen>>>,
    dir: PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A plain axum app of its own (`/api/other`, its own 404) with the
/// progress endpoints merged in, tus and multipart uploads on.
async fn start_app() -> App {
    let dir = std::env::temp_dir().join(format!(
        "upr-hook-{}-{:x}",
        std::process::id(),
        rand_suffix()
    ));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&seen);
    let progress = ProgressServer::builder()
        .uploads(true)
        .tus(TusConfig::new(&dir))
        .on_upload(&STAGES, move |upload, job| {
            handle(upload, job, Arc::clone(&recorded))
        })
        .build();
    let router = Router::new()
        .route("/api/other", get(|| async { "the app's own route" }))
        .merge(progress.router())
        .fallback(|| async { (StatusCode::NOT_FOUND, "the app's own 404") });
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
    App {
        addr,
        http: reqwest::Client::new(),
        seen,
        dir,
    }
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Uploads `bytes` over tus in two PATCHes; returns the job id.
    async fn tus_upload(&self, bytes: &[u8], metadata: &[(&str, &str)]) -> String {
        let encoded: Vec<String> = metadata
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} {}",
                    base64::engine::general_purpose::STANDARD.encode(v)
                )
            })
            .collect();
        let created = self
            .http
            .post(self.url("/api/uploads/tus"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", bytes.len().to_string())
            .header("Upload-Metadata", encoded.join(","))
            .send()
            .await
            .expect("create");
        assert_eq!(created.status(), 201);
        let location = created.headers()["location"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let id = created.headers()["upload-process-id"]
            .to_str()
            .expect("ascii")
            .to_owned();
        let pending = self.job(&id).await;
        assert_eq!(pending["state"], "pending");
        let names: Vec<&str> = pending["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .map(|s| s["name"].as_str().expect("name"))
            .collect();
        assert_eq!(names, ["count", "seal"], "the app's stages from the start");
        let half = bytes.len() / 2;
        for (offset, part) in [(0, &bytes[..half]), (half, &bytes[half..])] {
            let resp = self
                .http
                .patch(self.url(&location))
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", offset.to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .body(part.to_vec())
                .send()
                .await
                .expect("patch");
            assert_eq!(resp.status(), 204);
        }
        id
    }

    async fn job(&self, id: &str) -> serde_json::Value {
        let resp = self
            .http
            .get(self.url(&format!("/ws/progress/{id}")))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200);
        resp.json::<serde_json::Value>().await.expect("json")["progress"].clone()
    }

    async fn wait_until_ended(&self, id: &str) -> serde_json::Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let p = self.job(id).await;
            if ["completed", "failed", "cancelled"].contains(&p["state"].as_str().unwrap_or("")) {
                return p;
            }
            assert!(Instant::now() < deadline, "job never ended: {p}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn a_tus_upload_goes_to_the_apps_handler_and_its_stages_follow_on_one_job() {
    let app = start_app().await;
    let text = b"one\ntwo\nthree\n";
    let id = app
        .tus_upload(
            text,
            &[("filename", "notes.txt"), ("checksum", "sha256 abc=")],
        )
        .await;
    let (mut ws, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/ws/progress/{id}", app.addr))
            .await
            .expect("socket");
    let (states, close) = drain(&mut ws).await;
    assert_eq!(close, code::NORMAL);
    assert_monotonic(&states);
    let last = states.last().expect("states");
    assert_eq!(last.state, JobState::Completed);
    assert_eq!(
        last.message,
        "lines=3 size=14 name=notes.txt checksum=sha256:abc= file=true"
    );
    assert!(last.stages.iter().all(|s| s.status == StageStatus::Done));
    let seen = app.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].existed, "the handler got a file on disk");
    let path = seen[0].path.clone().expect("a path");
    // The library removes the stored file once the handler is done.
    let deadline = Instant::now() + WAIT;
    while path.exists() {
        assert!(Instant::now() < deadline, "{} left behind", path.display());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_multipart_upload_goes_to_the_same_handler() {
    let app = start_app().await;
    let form = reqwest::multipart::Form::new()
        .text("checksum", "md5 xyz")
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"a\nb\n".to_vec()).file_name("two.txt"),
        );
    let resp = app
        .http
        .post(app.url("/api/uploads"))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 202);
    let body: serde_json::Value = resp.json().await.expect("json");
    let id = body["process_id"].as_str().expect("id");
    let done = app.wait_until_ended(id).await;
    assert_eq!(done["state"], "completed");
    assert_eq!(
        done["message"],
        "lines=2 size=4 name=two.txt checksum=md5:xyz file=false"
    );
    assert_eq!(app.seen.lock().expect("lock")[0].path, None);
}

#[tokio::test]
async fn a_failing_or_panicking_handler_fails_only_its_own_job() {
    let app = start_app().await;
    let errs = app.tus_upload(b"x\n", &[("mode", "error")]).await;
    let panics = app.tus_upload(b"y\n", &[("mode", "panic")]).await;
    let fine = app.tus_upload(b"z\n", &[]).await;

    let failed = app.wait_until_ended(&errs).await;
    assert_eq!(failed["state"], "failed");
    assert_eq!(failed["error"], "processing failed: the scanner is offline");
    assert_eq!(failed["stages"][0]["status"], "failed");
    assert_eq!(failed["stages"][1]["status"], "skipped");

    let panicked = app.wait_until_ended(&panics).await;
    assert_eq!(panicked["state"], "failed");
    assert_eq!(
        panicked["error"],
        "processing failed: the upload handler panicked: boom in the handler"
    );

    let ok = app.wait_until_ended(&fine).await;
    assert_eq!(ok["state"], "completed", "{ok}");

    let quiet = app.tus_upload(b"q\n", &[("mode", "quiet")]).await;
    let ended = app.wait_until_ended(&quiet).await;
    assert_eq!(ended["state"], "completed", "Ok(()) completes the job");
    assert_eq!(ended["percent"], 100.0);
    assert_eq!(ended["message"], "Looked at it");
    // The server carries on: new uploads are still processed.
    let after = app.tus_upload(b"again\n", &[]).await;
    assert_eq!(app.wait_until_ended(&after).await["state"], "completed");
}

#[tokio::test]
async fn a_plain_app_keeps_its_own_routes_and_its_own_404() {
    let app = start_app().await;
    let get = |path: &str| app.http.get(app.url(path)).send();
    let other = get("/api/other").await.expect("get");
    assert_eq!(other.status(), 200);
    assert_eq!(other.text().await.expect("body"), "the app's own route");
    for path in ["/api/unknown", "/ws/unknown/deeper", "/somewhere"] {
        let resp = get(path).await.expect("get");
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(
            resp.text().await.expect("body"),
            "the app's own 404",
            "{path}"
        );
    }
    // The protocol's routes answer beside them.
    let health = get("/ws/health").await.expect("get");
    assert_eq!(health.status(), 200);
    assert_eq!(health.headers()["cache-control"], "no-store");
    // The app's own answers get no protocol headers.
    let other = get("/api/other").await.expect("get");
    assert!(other.headers().get("cache-control").is_none());
}
