//! tus 1.0.0 at /api/uploads/tus: every status, the job that follows an
//! upload, CORS, and the core `Upload` state machine driving a real server.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upload_progress_core::upload::{
    encode_metadata, Action, Answer, Input, Upload, UploadConfig, UploadOptions, UploadState,
};
use upload_progress_server::tus::TusConfig;
use upload_progress_server::Config;

const BASE: &str = "/api/uploads/tus";
const OCTETS: &str = "application/offset+octet-stream";

fn temp_dir() -> PathBuf {
    std::env::temp_dir().join(format!("upr-tus-test-{:016x}", rand::random::<u64>()))
}

fn tus_config() -> TusConfig {
    TusConfig {
        max_size: 1_000_000,
        ..TusConfig::new(temp_dir())
    }
}

async fn start_tus(tus: TusConfig, change: impl FnOnce(&mut Config)) -> TestServer {
    let mut config = Config {
        tus: Some(tus),
        ..fast_config()
    };
    change(&mut config);
    start(config).await
}

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Creates an upload of `len` bytes; returns its absolute URL and job id.
async fn create(server: &TestServer, len: u64) -> (String, String) {
    let resp = server
        .http
        .post(server.url(BASE))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", len.to_string())
        .header(
            "Upload-Metadata",
            encode_metadata(&[("filename".into(), "notes.txt".into())]),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 201);
    assert_eq!(header(&resp, "tus-resumable").as_deref(), Some("1.0.0"));
    let location = header(&resp, "location").expect("Location");
    assert!(location.starts_with(&format!("{BASE}/")), "{location}");
    let job = header(&resp, "upload-process-id").expect("Upload-Process-Id");
    (server.url(&location), job)
}

async fn patch(server: &TestServer, url: &str, offset: u64, bytes: &[u8]) -> reqwest::Response {
    server
        .http
        .patch(url)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", offset.to_string())
        .header("Content-Type", OCTETS)
        .body(bytes.to_vec())
        .send()
        .await
        .expect("patch")
}

/// Opens a PATCH of 1 000 bytes at offset 0 on a raw connection and sends
/// only `first` of its body: the server is left serving a request whose
/// body stops there until the connection is dropped.
async fn start_patch(server: &TestServer, url: &str, first: &[u8]) -> tokio::net::TcpStream {
    let path = url.strip_prefix(&server.url("")).unwrap().to_owned();
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head_text = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: {OCTETS}\r\nContent-Length: 1000\r\n\r\n",
        server.addr
    );
    tcp.write_all(head_text.as_bytes()).await.unwrap();
    tcp.write_all(first).await.unwrap();
    tcp
}

async fn head(server: &TestServer, url: &str) -> reqwest::Response {
    server
        .http
        .head(url)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("head")
}

async fn offset_of(server: &TestServer, url: &str) -> u64 {
    let resp = head(server, url).await;
    assert_eq!(resp.status(), 200);
    header(&resp, "upload-offset").unwrap().parse().unwrap()
}

async fn job(server: &TestServer, id: &str) -> serde_json::Value {
    let resp = server
        .http
        .get(server.url(&format!("/ws/progress/{id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.expect("json")["progress"].clone()
}

async fn wait_for_state(server: &TestServer, id: &str, state: &str) -> serde_json::Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let p = job(server, id).await;
        if p["state"] == state {
            return p;
        }
        assert!(Instant::now() < deadline, "job never {state}: {p}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"lorem ipsum\n"[i % 12]).collect()
}

#[tokio::test]
async fn options_advertise_the_version_extensions_and_max_size() {
    let server = start_tus(tus_config(), |_| {}).await;
    let resp = server
        .http
        .request(reqwest::Method::OPTIONS, server.url(BASE))
        .send()
        .await
        .expect("options");
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "tus-version").as_deref(), Some("1.0.0"));
    assert_eq!(
        header(&resp, "tus-extension").as_deref(),
        Some("creation,termination")
    );
    assert_eq!(header(&resp, "tus-max-size").as_deref(), Some("1000000"));
    assert_eq!(header(&resp, "tus-resumable").as_deref(), Some("1.0.0"));
}

#[tokio::test]
async fn the_job_is_pending_from_creation_and_runs_once_the_last_byte_arrives() {
    let server = start_tus(tus_config(), |_| {}).await;
    let bytes = data(30_000);
    let (url, id) = create(&server, bytes.len() as u64).await;
    assert_eq!(job(&server, &id).await["state"], "pending");

    let resp = head(&server, &url).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("0"));
    assert_eq!(header(&resp, "upload-length").as_deref(), Some("30000"));
    assert_eq!(header(&resp, "cache-control").as_deref(), Some("no-store"));

    let resp = patch(&server, &url, 0, &bytes[..12_000]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("12000"));
    let pending = job(&server, &id).await;
    assert_eq!(pending["state"], "pending");
    assert!(pending["message"]
        .as_str()
        .unwrap()
        .contains("12000 of 30000"));

    let resp = patch(&server, &url, 12_000, &bytes[12_000..]).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("30000"));
    assert_eq!(offset_of(&server, &url).await, 30_000);

    let done = wait_for_state(&server, &id, "completed").await;
    let message = done["message"].as_str().unwrap();
    assert!(message.contains(&sha256_hex(&bytes)), "{message}");
    assert!(message.contains("notes.txt"), "{message}");
}

#[tokio::test]
async fn an_empty_upload_is_complete_at_creation_and_its_job_runs() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (url, id) = create(&server, 0).await;
    assert_eq!(offset_of(&server, &url).await, 0);
    let done = wait_for_state(&server, &id, "completed").await;
    assert!(done["message"].as_str().unwrap().contains(&sha256_hex(b"")));
}

#[tokio::test]
async fn a_wrong_offset_is_a_conflict_that_names_the_servers_offset() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (url, _) = create(&server, 100).await;
    assert_eq!(patch(&server, &url, 0, &[1; 10]).await.status(), 204);
    let resp = patch(&server, &url, 5, &[1; 10]).await;
    assert_eq!(resp.status(), 409);
    assert_eq!(header(&resp, "upload-offset").as_deref(), Some("10"));
    assert_eq!(offset_of(&server, &url).await, 10);
}

#[tokio::test]
async fn bytes_past_the_length_are_refused_with_nothing_written() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (url, id) = create(&server, 100).await;
    assert_eq!(patch(&server, &url, 0, &[1; 60]).await.status(), 204);
    let resp = patch(&server, &url, 60, &[2; 41]).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(offset_of(&server, &url).await, 60);
    assert_eq!(job(&server, &id).await["state"], "pending");
    // The rest still fits.
    assert_eq!(patch(&server, &url, 60, &[2; 40]).await.status(), 204);
    wait_for_state(&server, &id, "completed").await;
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused_at_creation() {
    let server = start_tus(tus_config(), |_| {}).await;
    let resp = server
        .http
        .post(server.url(BASE))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000001")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn the_storage_cap_refuses_new_uploads_with_507() {
    let tus = TusConfig {
        max_total_bytes: 1_500,
        ..tus_config()
    };
    let server = start_tus(tus, |_| {}).await;
    create(&server, 1_000).await;
    let resp = server
        .http
        .post(server.url(BASE))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "1000")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 507);
}

#[tokio::test]
async fn unknown_uploads_are_404() {
    let server = start_tus(tus_config(), |_| {}).await;
    let url = server.url(&format!("{BASE}/0123456789abcdef"));
    assert_eq!(head(&server, &url).await.status(), 404);
    assert_eq!(patch(&server, &url, 0, b"x").await.status(), 404);
    let resp = server
        .http
        .delete(&url)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn abandoned_uploads_expire_with_410_and_their_job_fails() {
    let tus = TusConfig {
        expiry: Duration::from_millis(150),
        ..tus_config()
    };
    let dir = tus.dir.clone();
    let server = start_tus(tus, |_| {}).await;
    let (url, id) = create(&server, 100).await;
    assert_eq!(patch(&server, &url, 0, &[1; 10]).await.status(), 204);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(head(&server, &url).await.status(), 410);
    assert_eq!(patch(&server, &url, 10, &[1; 10]).await.status(), 410);
    let failed = job(&server, &id).await;
    assert_eq!(failed["state"], "failed");
    let left = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(left, 0, "the bytes left the disk");
}

#[tokio::test]
async fn abandoned_uploads_are_swept_without_any_request() {
    let tus = TusConfig {
        expiry: Duration::from_millis(150),
        ..tus_config()
    };
    let dir = tus.dir.clone();
    let server = start_tus(tus, |_| {}).await;
    let (_, id) = create(&server, 100).await;
    let deadline = Instant::now() + WAIT;
    // Only progress reads from here on: no tus request triggers the sweep.
    while job(&server, &id).await["state"] != "failed" {
        assert!(Instant::now() < deadline, "never swept");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[tokio::test]
async fn a_silent_patch_body_frees_the_upload_after_the_idle_timeout() {
    let tus = TusConfig {
        body_idle_timeout: Duration::from_millis(300),
        ..tus_config()
    };
    let server = start_tus(tus, |_| {}).await;
    let (url, _) = create(&server, 1_000).await;
    let tcp = start_patch(&server, &url, &[7; 100]).await;
    let deadline = Instant::now() + WAIT;
    while offset_of(&server, &url).await < 100 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(patch(&server, &url, 100, &[7; 10]).await.status(), 423);
    // The client goes silent, its socket still open.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(patch(&server, &url, 100, &[7; 900]).await.status(), 204);
    drop(tcp);
}

#[tokio::test]
async fn a_wrong_or_missing_tus_version_is_412() {
    let server = start_tus(tus_config(), |_| {}).await;
    for version in [Some("0.2.2"), None] {
        let mut request = server
            .http
            .post(server.url(BASE))
            .header("Upload-Length", "10");
        if let Some(v) = version {
            request = request.header("Tus-Resumable", v);
        }
        let resp = request.send().await.expect("post");
        assert_eq!(resp.status(), 412);
        assert_eq!(header(&resp, "tus-version").as_deref(), Some("1.0.0"));
    }
}

#[tokio::test]
async fn malformed_requests_are_400_and_415() {
    let server = start_tus(tus_config(), |_| {}).await;
    let post = |len: Option<&str>, meta: Option<&str>| {
        let mut r = server
            .http
            .post(server.url(BASE))
            .header("Tus-Resumable", "1.0.0");
        if let Some(len) = len {
            r = r.header("Upload-Length", len);
        }
        if let Some(meta) = meta {
            r = r.header("Upload-Metadata", meta);
        }
        r.send()
    };
    assert_eq!(post(None, None).await.unwrap().status(), 400);
    assert_eq!(post(Some("-3"), None).await.unwrap().status(), 400);
    assert_eq!(post(Some("3"), Some("a !!!")).await.unwrap().status(), 400);
    let (url, _) = create(&server, 10).await;
    let resp = server
        .http
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 415);
    let resp = server
        .http
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Content-Type", OCTETS)
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn delete_removes_the_upload_and_cancels_its_job() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (url, id) = create(&server, 100).await;
    let resp = server
        .http
        .delete(&url)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("delete");
    assert_eq!(resp.status(), 204);
    assert_eq!(head(&server, &url).await.status(), 404);
    assert_eq!(job(&server, &id).await["state"], "cancelled");
}

#[tokio::test]
async fn a_cut_patch_keeps_what_arrived_and_the_upload_resumes_from_there() {
    let server = start_tus(tus_config(), |_| {}).await;
    let bytes = data(1_000);
    let (url, id) = create(&server, 1_000).await;
    let path = url.strip_prefix(&server.url("")).unwrap().to_owned();
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head_text = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: {OCTETS}\r\nContent-Length: 1000\r\n\r\n",
        server.addr
    );
    tcp.write_all(head_text.as_bytes()).await.unwrap();
    tcp.write_all(&bytes[..400]).await.unwrap();
    tcp.flush().await.unwrap();
    // Wait until the server has stored them, then cut.
    let deadline = Instant::now() + WAIT;
    while offset_of(&server, &url).await < 400 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(offset_of(&server, &url).await, 400);
    assert_eq!(patch(&server, &url, 400, &bytes[400..]).await.status(), 204);
    let done = wait_for_state(&server, &id, "completed").await;
    assert!(done["message"]
        .as_str()
        .unwrap()
        .contains(&sha256_hex(&bytes)));
}

#[tokio::test]
async fn a_second_patch_while_one_runs_is_locked() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (url, _) = create(&server, 1_000).await;
    let path = url.strip_prefix(&server.url("")).unwrap().to_owned();
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let head_text = format!(
        "PATCH {path} HTTP/1.1\r\nHost: {}\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
         Content-Type: {OCTETS}\r\nContent-Length: 1000\r\n\r\n",
        server.addr
    );
    tcp.write_all(head_text.as_bytes()).await.unwrap();
    tcp.write_all(&[0; 10]).await.unwrap();
    let deadline = Instant::now() + WAIT;
    while offset_of(&server, &url).await < 10 {
        assert!(Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(patch(&server, &url, 10, &[0; 10]).await.status(), 423);
    tcp.write_all(&[0; 990]).await.unwrap();
    let mut answer = [0u8; 12];
    tcp.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 204");
}

#[tokio::test]
async fn with_tokens_on_the_creation_hands_out_the_jobs_token() {
    let server = start_tus(tus_config(), |c| c.require_token = true).await;
    let resp = server
        .http
        .post(server.url(BASE))
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "5")
        .send()
        .await
        .expect("post");
    assert_eq!(resp.status(), 201);
    let id = header(&resp, "upload-process-id").unwrap();
    let token = header(&resp, "upload-token").expect("Upload-Token");
    let url = server.url(&format!("/ws/progress/{id}"));
    let refused = server.http.get(&url).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    let ok = server
        .http
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn cors_lets_allowed_origins_use_tus_and_read_its_headers() {
    let origin = "http://127.0.0.1:5173";
    let server = start_tus(tus_config(), |c| c.allow_loopback_origins = true).await;
    let preflight = server
        .http
        .request(reqwest::Method::OPTIONS, server.url(&format!("{BASE}/abc")))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "PATCH")
        .header(
            "Access-Control-Request-Headers",
            "tus-resumable,upload-offset,content-type",
        )
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    let methods = header(&preflight, "access-control-allow-methods").unwrap();
    assert!(methods.contains("PATCH") && methods.contains("HEAD") && methods.contains("DELETE"));
    let allowed = header(&preflight, "access-control-allow-headers").unwrap();
    assert!(allowed.contains("upload-offset") && allowed.contains("tus-resumable"));

    let resp = server
        .http
        .post(server.url(BASE))
        .header("Origin", origin)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(
        header(&resp, "access-control-allow-origin").as_deref(),
        Some(origin)
    );
    let exposed = header(&resp, "access-control-expose-headers").unwrap();
    for name in [
        "location",
        "upload-offset",
        "upload-length",
        "tus-resumable",
        "tus-version",
        "upload-process-id",
        "upload-token",
    ] {
        assert!(exposed.contains(name), "{name} not in {exposed}");
    }

    let foreign = server
        .http
        .post(server.url(BASE))
        .header("Origin", "https://evil.example")
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "5")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

#[tokio::test]
async fn the_multipart_upload_still_works_beside_tus() {
    let server = start_tus(tus_config(), |_| {}).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt"),
    );
    let resp = server
        .http
        .post(server.url("/api/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);
}

/// Carries out the core `Upload`'s actions with reqwest on real time.
///
/// The answer of the `PATCH` number `lose_answer_of` (0-based), if any, is
/// dropped after the server got it, as a cut connection would.
async fn drive(
    http: &reqwest::Client,
    upload: &mut Upload,
    file: &[u8],
    lose_answer_of: Option<usize>,
) -> UploadState {
    let start = Instant::now();
    let mut patches = 0;
    let now = |start: Instant| start.elapsed().as_millis() as u64;
    upload.handle(Input::Start, now(start));
    loop {
        while let Some(action) = upload.poll_action() {
            let (request, answer) = match action {
                Action::Create {
                    request,
                    url,
                    len,
                    metadata,
                } => {
                    let resp = http
                        .post(&url)
                        .header("Tus-Resumable", "1.0.0")
                        .header("Upload-Length", len.to_string())
                        .header("Upload-Metadata", encode_metadata(&metadata))
                        .send()
                        .await;
                    let answer = match resp {
                        Ok(r) if r.status() == 201 => match header(&r, "location") {
                            Some(location) => Answer::Created {
                                location,
                                process_id: header(&r, "upload-process-id"),
                                token: header(&r, "upload-token"),
                            },
                            None => Answer::Status(201),
                        },
                        Ok(r) => Answer::Status(r.status().as_u16()),
                        Err(_) => Answer::Network,
                    };
                    (request, answer)
                }
                Action::Send {
                    request,
                    url,
                    offset,
                    len,
                } => {
                    let body = file[offset as usize..(offset + len) as usize].to_vec();
                    let resp = http
                        .patch(&url)
                        .header("Tus-Resumable", "1.0.0")
                        .header("Upload-Offset", offset.to_string())
                        .header("Content-Type", OCTETS)
                        .body(body)
                        .send()
                        .await;
                    patches += 1;
                    if lose_answer_of == Some(patches - 1) {
                        (request, Answer::Network)
                    } else {
                        (request, offset_answer(resp))
                    }
                }
                Action::Head { request, url } => {
                    let resp = http
                        .head(&url)
                        .header("Tus-Resumable", "1.0.0")
                        .send()
                        .await;
                    (request, offset_answer(resp))
                }
                Action::Delete { request, url } => {
                    let resp = http
                        .delete(&url)
                        .header("Tus-Resumable", "1.0.0")
                        .send()
                        .await;
                    let answer = match resp {
                        Ok(r) => Answer::Status(r.status().as_u16()),
                        Err(_) => Answer::Network,
                    };
                    (request, answer)
                }
                _ => continue,
            };
            upload.handle(Input::Answered { request, answer }, now(start));
        }
        let state = upload.state().clone();
        if state.is_final() || matches!(state, UploadState::Failed(_)) {
            return state;
        }
        match upload.poll_timeout() {
            Some(at) => {
                let wait = at.saturating_sub(now(start));
                tokio::time::sleep(Duration::from_millis(wait)).await;
                upload.handle_timeout(now(start));
            }
            None => panic!("stuck in {state:?}"),
        }
    }
}

fn offset_answer(resp: reqwest::Result<reqwest::Response>) -> Answer {
    match resp {
        Ok(r) if r.status().is_success() => {
            match header(&r, "upload-offset").and_then(|v| v.parse().ok()) {
                Some(offset) => Answer::Offset(offset),
                None => Answer::Status(r.status().as_u16()),
            }
        }
        Ok(r) => Answer::Status(r.status().as_u16()),
        Err(_) => Answer::Network,
    }
}

#[tokio::test]
async fn the_core_upload_session_uploads_a_file_whose_job_reports_its_sha256() {
    let server = start_tus(tus_config(), |_| {}).await;
    let file = data(250_000);
    let config = UploadConfig {
        endpoint: server.url(BASE),
        len: file.len() as u64,
        metadata: vec![("filename".into(), "big.txt".into())],
        resume: None,
        options: UploadOptions {
            chunk_size: 64 * 1024,
            ..UploadOptions::default()
        },
    };
    let mut upload = Upload::new(config, 7);
    let state = drive(&server.http, &mut upload, &file, None).await;
    let UploadState::Finished {
        process_id: Some(id),
        ..
    } = state
    else {
        panic!("ended {state:?}");
    };
    assert_eq!(upload.bytes_sent(), file.len() as u64);
    let done = wait_for_state(&server, &id, "completed").await;
    assert!(done["message"]
        .as_str()
        .unwrap()
        .contains(&sha256_hex(&file)));
}

#[tokio::test]
async fn the_core_upload_session_gives_up_on_an_oversized_file_with_too_large() {
    let server = start_tus(tus_config(), |_| {}).await;
    let config = UploadConfig {
        endpoint: server.url(BASE),
        len: 2_000_000,
        metadata: Vec::new(),
        resume: None,
        options: UploadOptions::default(),
    };
    let mut upload = Upload::new(config, 7);
    let state = drive(&server.http, &mut upload, &[], None).await;
    assert_eq!(
        state,
        UploadState::Failed(upload_progress_core::upload::UploadError::TooLarge)
    );
}

/// Uploads with the core `Upload` to the reference tus server
/// (`@tus/server` + `@tus/file-store`), which scripts/tus-interop.sh starts:
/// `UPR_TUS_REFERENCE_URL` is its creation endpoint and
/// `UPR_TUS_REFERENCE_DIR` the directory its file store writes to.
#[tokio::test]
#[ignore = "needs the reference tus server; run by scripts/tus-interop.sh"]
async fn the_core_upload_session_uploads_byte_identical_files_to_the_reference_server() {
    let endpoint = std::env::var("UPR_TUS_REFERENCE_URL").expect("UPR_TUS_REFERENCE_URL");
    let dir = PathBuf::from(std::env::var("UPR_TUS_REFERENCE_DIR").expect("UPR_TUS_REFERENCE_DIR"));
    let http = reqwest::Client::new();
    // A file that is not a whole number of chunks, and one empty file.
    for (len, lose) in [(1_000_003usize, Some(3)), (0, None)] {
        let file: Vec<u8> = (0..len).map(|i| (i * 31 + i / 977) as u8).collect();
        let config = UploadConfig {
            endpoint: endpoint.clone(),
            len: len as u64,
            metadata: vec![("filename".into(), "interop.bin".into())],
            resume: None,
            options: UploadOptions {
                chunk_size: 128 * 1024,
                initial_retry_ms: 100,
                ..UploadOptions::default()
            },
        };
        let mut upload = Upload::new(config, 11);
        let state = drive(&http, &mut upload, &file, lose).await;
        assert!(matches!(state, UploadState::Finished { .. }), "{state:?}");
        let url = upload.url().expect("created").to_owned();
        let id = url.rsplit('/').next().unwrap();
        let stored = std::fs::read(dir.join(id)).expect("the stored file");
        assert!(stored == file, "{len} bytes: the stored file differs");
        if lose.is_some() {
            // One lost answer cost one chunk at most.
            assert!(upload.bytes_sent() <= len as u64 + 128 * 1024);
        }
        println!(
            "reference server: {len} bytes stored identically, {} bytes sent",
            upload.bytes_sent()
        );
    }

    // Through a proxy that cuts the connection once mid-chunk: the upload
    // goes on from the reference server's offset.
    let target: std::net::SocketAddr = endpoint
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
        .and_then(|host| host.parse().ok())
        .expect("the endpoint is http://IP:PORT/...");
    let proxy = cutting_proxy(target, 700_000).await;
    let path = endpoint.splitn(4, '/').nth(3).unwrap_or_default();
    let len = 2_000_000usize;
    let file: Vec<u8> = (0..len).map(|i| (i * 13 + i / 4099) as u8).collect();
    let config = UploadConfig {
        endpoint: format!("http://{proxy}/{path}"),
        len: len as u64,
        metadata: vec![("filename".into(), "cut.bin".into())],
        resume: None,
        options: UploadOptions {
            chunk_size: 256 * 1024,
            initial_retry_ms: 50,
            ..UploadOptions::default()
        },
    };
    let mut upload = Upload::new(config, 5);
    let state = drive(&http, &mut upload, &file, None).await;
    assert!(matches!(state, UploadState::Finished { .. }), "{state:?}");
    let url = upload.url().expect("created").to_owned();
    let stored = std::fs::read(dir.join(url.rsplit('/').next().unwrap())).expect("stored");
    assert!(stored == file, "cut upload: the stored file differs");
    assert!(upload.bytes_sent() <= len as u64 + 256 * 1024);
    println!(
        "reference server, cut once: {len} bytes stored identically, {} bytes sent",
        upload.bytes_sent()
    );
}

/// A loopback proxy to `target` that cuts every connection once, when the
/// bytes sent through it towards the server pass `cut_at`.
async fn cutting_proxy(target: std::net::SocketAddr, cut_at: u64) -> std::net::SocketAddr {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let total = Arc::new(AtomicU64::new(0));
    let cut = Arc::new(AtomicBool::new(false));
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(target).await else {
                continue;
            };
            let (total, cut) = (Arc::clone(&total), Arc::clone(&cut));
            tokio::spawn(async move {
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let upstream = async {
                    let mut buf = vec![0u8; 16 * 1024];
                    loop {
                        let n = match client_read.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => n,
                        };
                        let before = total.fetch_add(n as u64, Ordering::SeqCst);
                        if before + n as u64 > cut_at && !cut.swap(true, Ordering::SeqCst) {
                            return; // the cut: both directions close
                        }
                        if server_write.write_all(&buf[..n]).await.is_err() {
                            return;
                        }
                    }
                };
                let downstream = tokio::io::copy(&mut server_read, &mut client_write);
                tokio::select! {
                    () = upstream => {}
                    _ = downstream => {}
                }
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_ten_megabyte_upload_cut_once_mid_chunk_sends_less_than_one_point_two_times_the_file() {
    let tus = TusConfig {
        max_size: 20_000_000,
        ..tus_config()
    };
    let server = start_tus(tus, |_| {}).await;
    let proxy = cutting_proxy(server.addr, 5_500_000).await;
    let file: Vec<u8> = (0..10 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let config = UploadConfig {
        endpoint: format!("http://{proxy}{BASE}"),
        len: file.len() as u64,
        metadata: vec![("filename".into(), "ten.bin".into())],
        resume: None,
        options: UploadOptions {
            chunk_size: 1024 * 1024,
            initial_retry_ms: 50,
            ..UploadOptions::default()
        },
    };
    let mut upload = Upload::new(config, 3);
    let http = reqwest::Client::new();
    let state = drive(&http, &mut upload, &file, None).await;
    let UploadState::Finished {
        process_id: Some(id),
        ..
    } = state
    else {
        panic!("ended {state:?}");
    };
    let ratio = upload.bytes_sent() as f64 / file.len() as f64;
    println!(
        "10 MiB with one cut: {} bytes sent, {ratio:.3} times the file",
        upload.bytes_sent()
    );
    assert!(
        upload.bytes_sent() > file.len() as u64,
        "the cut cost something"
    );
    assert!(ratio < 1.2, "ratio {ratio}");
    let done = wait_for_state(&server, &id, "completed").await;
    assert!(done["message"]
        .as_str()
        .unwrap()
        .contains(&sha256_hex(&file)));
}

#[tokio::test]
async fn the_cut_uploads_fault_keeps_the_bytes_before_the_cut_and_closes_the_connection() {
    let server = start_tus(tus_config(), |c| c.faults = true).await;
    let bytes = data(5_000);
    let (url, id) = create(&server, 5_000).await;
    let answer = server
        .fault(serde_json::json!({"action": "cut_uploads", "after_bytes": 1_200}))
        .await;
    assert_eq!(answer["faults"]["cut_uploads"]["remaining"], 1);
    let sent = server
        .http
        .patch(&url)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", OCTETS)
        .body(bytes.clone())
        .send()
        .await;
    // No answer arrives: either sending or reading the answer fails.
    let failed = match sent {
        Err(_) => true,
        Ok(resp) => resp.bytes().await.is_err(),
    };
    assert!(
        failed,
        "the connection was closed without a complete answer"
    );
    assert_eq!(offset_of(&server, &url).await, 1_200);
    assert!(server.get_json("/ws/status").await["faults"]
        .get("cut_uploads")
        .is_none());
    // The fault is used up: the rest goes through.
    assert_eq!(
        patch(&server, &url, 1_200, &bytes[1_200..]).await.status(),
        204
    );
    let done = wait_for_state(&server, &id, "completed").await;
    assert!(done["message"]
        .as_str()
        .unwrap()
        .contains(&sha256_hex(&bytes)));
    let counters = server
        .get_admin_json(&format!("/ws/admin/uploads/{id}"))
        .await;
    assert_eq!(counters["bytes_received"], 5_000);
    assert_eq!(counters["offsets"], serde_json::json!([0, 1_200]));
    assert_eq!(counters["cut"], 1);
}

#[tokio::test]
async fn the_refuse_uploads_fault_answers_503_until_it_ends_or_is_cleared() {
    let server = start_tus(tus_config(), |c| c.faults = true).await;
    let bytes = data(100);
    let (url, id) = create(&server, 100).await;
    server
        .fault(serde_json::json!({"action": "refuse_uploads", "duration_ms": 60_000}))
        .await;
    let resp = patch(&server, &url, 0, &bytes).await;
    assert_eq!(resp.status(), 503);
    assert_eq!(header(&resp, "retry-after").as_deref(), Some("60"));
    assert_eq!(header(&resp, "tus-resumable").as_deref(), Some("1.0.0"));
    assert_eq!(offset_of(&server, &url).await, 0, "nothing written");
    // A short fault ends by itself.
    server
        .fault(serde_json::json!({"action": "refuse_uploads", "duration_ms": 100}))
        .await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(patch(&server, &url, 0, &bytes[..40]).await.status(), 204);
    server
        .fault(serde_json::json!({"action": "refuse_uploads", "duration_ms": 60_000}))
        .await;
    assert_eq!(patch(&server, &url, 40, &bytes[40..]).await.status(), 503);
    server.fault(serde_json::json!({"action": "clear"})).await;
    assert_eq!(patch(&server, &url, 40, &bytes[40..]).await.status(), 204);
    let counters = server
        .get_admin_json(&format!("/ws/admin/uploads/{id}"))
        .await;
    assert_eq!(counters["refused"], 2);
    assert_eq!(counters["bytes_received"], 100);
}

/// `uploads` of `GET /ws/stats`: tus requests served now, and the most at once.
async fn uploads_in_flight(server: &TestServer) -> (u64, u64) {
    let stats: serde_json::Value = server
        .http
        .get(server.url("/ws/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let n = |key: &str| stats["uploads"][key].as_u64().unwrap_or(u64::MAX);
    (n("in_flight"), n("peak_in_flight"))
}

/// Waits until `uploads.in_flight` is `want`.
async fn wait_in_flight(server: &TestServer, want: u64) -> (u64, u64) {
    let deadline = Instant::now() + WAIT;
    loop {
        let seen = uploads_in_flight(server).await;
        if seen.0 == want {
            return seen;
        }
        assert!(Instant::now() < deadline, "in flight {seen:?}, want {want}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn stats_count_the_tus_requests_in_flight_and_the_most_at_once() {
    let server = start_tus(tus_config(), |_| {}).await;
    let (first, _) = create(&server, 1_000).await;
    let (second, _) = create(&server, 1_000).await;
    assert_eq!(
        uploads_in_flight(&server).await,
        (0, 1),
        "one creation at a time"
    );

    // Two PATCHes whose bodies stop after 10 bytes: both are being served.
    let mut open = Vec::new();
    for url in [&first, &second] {
        open.push(start_patch(&server, url, &[0; 10]).await);
    }
    assert_eq!(wait_in_flight(&server, 2).await, (2, 2));

    // One finishes, the other's client goes away mid-body: neither counts.
    let mut done = open.remove(0);
    done.write_all(&[0; 990]).await.unwrap();
    let mut answer = [0u8; 12];
    done.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 204");
    assert_eq!(wait_in_flight(&server, 1).await, (1, 2));
    drop(open);
    assert_eq!(
        wait_in_flight(&server, 0).await,
        (0, 2),
        "a cut request stops counting"
    );
}
