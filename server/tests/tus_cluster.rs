//! tus uploads across instances: two instances on one real Redis and one
//! shared upload directory, as behind a load balancer.
//!
//! Ignored without Redis; the test command runs them with
//! `UPR_TEST_REDIS_URL=redis://127.0.0.1:PORT cargo test -p upload-progress-server --test tus_cluster -- --ignored`.
//! Each instance runs on its own Tokio runtime and thread, like a separate
//! process: killing one drops its connections (a `PATCH` in flight among
//! them) and its Redis connections at once.

#![cfg(feature = "redis")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio_tungstenite::tungstenite::Message;
use upload_progress_core::{JobState, Progress, ServerMessage};
use upload_progress_server::tus::TusConfig;
use upload_progress_server::{serve_with, FinishedUpload, JobHandle, ProgressServer};

const WAIT: Duration = Duration::from_secs(20);
const ADMIN: &str = "cluster-admin";
const OCTETS: &str = "application/offset+octet-stream";

fn redis_url() -> String {
    match std::env::var("UPR_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "UPR_TEST_REDIS_URL is not set: these tests need a running redis-server \
             (scripts/test.sh starts one)"
        ),
    }
}

fn unique(test: &str) -> String {
    use std::hash::{BuildHasher, RandomState};
    format!(
        "{test}-{}-{:x}",
        std::process::id(),
        RandomState::new().hash_one(Instant::now())
    )
}

fn sha256_hex(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The app's handler: hashes the stored file, in one stage.
async fn hash_it(upload: FinishedUpload, job: JobHandle) -> Result<(), String> {
    let bytes = upload.bytes().await.map_err(|e| e.to_string())?;
    job.complete(&format!("sha256 {}", sha256_hex(&bytes)))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// One instance on its own runtime, like a separate process.
struct Instance {
    addr: SocketAddr,
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    fn start(redis: &str, prefix: &str, dir: &Path) -> Self {
        Self::start_with(redis, prefix, TusConfig::new(dir))
    }

    fn start_with(redis: &str, prefix: &str, mut tus: TusConfig) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let (redis, prefix) = (redis.to_owned(), prefix.to_owned());
        // A killed instance's lock lapses a second after its last chunk.
        tus.body_idle_timeout = Duration::from_millis(500);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let progress = ProgressServer::builder()
                    .redis_url(redis)
                    .redis_key_prefix(prefix)
                    .admin_token(ADMIN)
                    .faults(true)
                    .grace(Duration::from_secs(10))
                    .tus(tus)
                    .on_upload(&[("hash", "Hashing")], hash_it)
                    .build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                ready_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("test waits");
                let serve = serve_with(
                    listener,
                    progress.router(),
                    progress.serve_options(),
                    std::future::pending(),
                );
                tokio::select! {
                    _ = serve => {}
                    _ = killed => {}
                }
            });
            rt.shutdown_background();
        });
        let addr = ready_rx.recv().expect("instance starts");
        Self {
            addr,
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    fn kill(&mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn create(&self, len: usize) -> (String, String) {
        let resp = reqwest::Client::new()
            .post(self.url("/api/uploads/tus"))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Length", len.to_string())
            .send()
            .await
            .expect("create");
        assert_eq!(resp.status(), 201);
        let header = |name: &str| resp.headers()[name].to_str().expect("ascii").to_owned();
        (header("location"), header("upload-process-id"))
    }

    async fn offset(&self, location: &str) -> u64 {
        let resp = reqwest::Client::new()
            .head(self.url(location))
            .header("Tus-Resumable", "1.0.0")
            .send()
            .await
            .expect("head");
        assert_eq!(resp.status(), 200);
        resp.headers()["upload-offset"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("number")
    }

    async fn patch(
        &self,
        location: &str,
        offset: u64,
        body: reqwest::Body,
    ) -> reqwest::Result<reqwest::Response> {
        reqwest::Client::new()
            .patch(self.url(location))
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", OCTETS)
            .body(body)
            .send()
            .await
    }

    /// Waits until the upload's offset, as this instance reads it, is at
    /// least `at`.
    async fn offset_reaches(&self, location: &str, at: u64) -> u64 {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.offset(location).await;
            if now >= at {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "offset stuck at {now}, waiting for {at}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Follows job `id` on a socket to its end; its states.
    async fn follow(&self, id: &str) -> Vec<Progress> {
        let url = format!("ws://{}/ws/progress/{id}", self.addr);
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket");
        let mut states = Vec::new();
        loop {
            let msg = tokio::time::timeout(WAIT, ws.next())
                .await
                .expect("a frame in time");
            match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(&text) {
                    Ok(ServerMessage::Snapshot { progress })
                    | Ok(ServerMessage::Progress { progress }) => states.push(progress),
                    _ => {}
                },
                Some(Ok(Message::Close(_))) | None => return states,
                Some(Ok(_)) => {}
                Some(Err(err)) => panic!("socket error: {err}"),
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn shared_dir(test: &str) -> Dir {
    Dir(std::env::temp_dir().join(format!("upr-{}", unique(test))))
}

/// The last state of a followed job: completed with the hash of `bytes`.
fn assert_completed_with(states: &[Progress], bytes: &[u8]) -> u64 {
    let last = states.last().expect("states");
    assert_eq!(last.state, JobState::Completed, "{last:?}");
    assert_eq!(last.message, format!("sha256 {}", sha256_hex(bytes)));
    for pair in states.windows(2) {
        assert!(pair[1].seq > pair[0].seq, "seq goes up on one socket");
    }
    last.seq
}

#[tokio::test]
#[ignore = "needs a redis-server: UPR_TEST_REDIS_URL"]
async fn an_upload_cut_on_a_resumes_on_b_byte_identical_and_its_job_is_followed_on_both() {
    let (redis, prefix, dir) = (redis_url(), unique("resume"), shared_dir("resume"));
    let a = Instance::start(&redis, &prefix, &dir.0);
    let b = Instance::start(&redis, &prefix, &dir.0);
    let bytes = data(300_000);
    let (location, id) = a.create(bytes.len()).await;
    let on_a = tokio::spawn({
        let url = a.addr;
        let id = id.clone();
        async move {
            Instance {
                addr: url,
                kill: None,
                thread: None,
            }
            .follow(&id)
            .await
        }
    });
    let on_b = tokio::spawn({
        let url = b.addr;
        let id = id.clone();
        async move {
            Instance {
                addr: url,
                kill: None,
                thread: None,
            }
            .follow(&id)
            .await
        }
    });
    // A cuts the first PATCH after 100 000 bytes, as a dropped connection would.
    let fault = reqwest::Client::new()
        .post(a.url("/ws/admin/faults"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"action": "cut_uploads", "after_bytes": 100_000}))
        .send()
        .await
        .expect("fault");
    assert_eq!(fault.status(), 200);
    let cut = a.patch(&location, 0, bytes.clone().into()).await;
    assert!(cut.is_err(), "the connection was cut: {cut:?}");

    // B knows where A stopped, and takes the rest.
    let offset = b.offset(&location).await;
    assert_eq!(offset, 100_000);
    let rest = b
        .patch(&location, offset, bytes[offset as usize..].to_vec().into())
        .await
        .expect("patch on b");
    assert_eq!(rest.status(), 204);
    assert_eq!(rest.headers()["upload-offset"], "300000");

    let (on_a, on_b) = (on_a.await.expect("a"), on_b.await.expect("b"));
    let (end_a, end_b) = (
        assert_completed_with(&on_a, &bytes),
        assert_completed_with(&on_b, &bytes),
    );
    assert_eq!(end_a, end_b, "both instances end at the same state");
}

/// The S3-compatible server the test command started (`UPR_TEST_S3_URL`),
/// with a fresh bucket.
#[cfg(feature = "s3")]
async fn s3_bucket(test: &str) -> upload_progress_server::tus::s3::S3Settings {
    let endpoint = match std::env::var("UPR_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "UPR_TEST_S3_URL is not set: this test needs an S3-compatible server \
             (scripts/test.sh starts moto_server)"
        ),
    };
    let bucket = unique(test).to_lowercase();
    let made = reqwest::Client::new()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .expect("create bucket");
    assert!(made.status().is_success(), "bucket: {}", made.status());
    upload_progress_server::tus::s3::S3Settings {
        endpoint,
        bucket,
        prefix: "uploads/".to_owned(),
        region: "us-east-1".to_owned(),
        access_key_id: "test".to_owned(),
        secret_access_key: "test".to_owned(),
    }
}

#[cfg(feature = "s3")]
#[tokio::test]
#[ignore = "needs a redis-server and an S3-compatible server: UPR_TEST_REDIS_URL, UPR_TEST_S3_URL"]
async fn through_s3_an_upload_cut_on_a_resumes_on_b_byte_identical_and_a_killed_instance_loses_nothing(
) {
    let (redis, prefix, dir) = (redis_url(), unique("s3"), shared_dir("s3"));
    let mut tus = TusConfig::new(&dir.0);
    tus.s3 = Some(s3_bucket("s3").await);
    let mut a = Instance::start_with(&redis, &prefix, tus.clone());
    let b = Instance::start_with(&redis, &prefix, tus);
    let bytes = data(300_000);
    let (location, id) = a.create(bytes.len()).await;
    let fault = reqwest::Client::new()
        .post(a.url("/ws/admin/faults"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"action": "cut_uploads", "after_bytes": 100_000}))
        .send()
        .await
        .expect("fault");
    assert_eq!(fault.status(), 200);
    assert!(
        a.patch(&location, 0, bytes.clone().into()).await.is_err(),
        "cut"
    );
    // What arrived before the cut was stored as a part, and counts.
    assert_eq!(b.offset(&location).await, 100_000);

    // B takes the next stretch, holding its body open; A dies meanwhile,
    // which takes nothing B acknowledged.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = tokio_stream_from(rx);
    let on_b = tokio::spawn({
        let location = location.clone();
        let addr = b.addr;
        async move {
            Instance {
                addr,
                kill: None,
                thread: None,
            }
            .patch(&location, 100_000, reqwest::Body::wrap_stream(stream))
            .await
        }
    });
    tx.send(Ok(bytes[100_000..150_000].to_vec()))
        .await
        .expect("send");
    drop(tx);
    let answered = on_b.await.expect("task").expect("patch on b");
    assert_eq!(answered.status(), 204);
    assert_eq!(answered.headers()["upload-offset"], "150000");
    a.kill();
    assert_eq!(b.offset(&location).await, 150_000);
    let rest = b
        .patch(&location, 150_000, bytes[150_000..].to_vec().into())
        .await
        .expect("patch on b");
    assert_eq!(rest.status(), 204);
    let states = b.follow(&id).await;
    assert_completed_with(&states, &bytes);
}

#[tokio::test]
#[ignore = "needs a redis-server: UPR_TEST_REDIS_URL"]
async fn a_patch_racing_on_a_and_b_gets_423_on_one() {
    let (redis, prefix, dir) = (redis_url(), unique("race"), shared_dir("race"));
    let a = Instance::start(&redis, &prefix, &dir.0);
    let b = Instance::start(&redis, &prefix, &dir.0);
    let bytes = data(1_000);
    let (location, id) = a.create(bytes.len()).await;
    // A's PATCH sends 100 bytes, then holds its body open.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = tokio_stream_from(rx);
    let held = tokio::spawn({
        let location = location.clone();
        let addr = a.addr;
        async move {
            Instance {
                addr,
                kill: None,
                thread: None,
            }
            .patch(&location, 0, reqwest::Body::wrap_stream(stream))
            .await
        }
    });
    tx.send(Ok(bytes[..100].to_vec())).await.expect("send");
    let at = b.offset_reaches(&location, 100).await;
    // Meanwhile a PATCH on B is refused: A holds the upload.
    let racing = b
        .patch(&location, at, bytes[at as usize..].to_vec().into())
        .await
        .expect("patch on b");
    assert_eq!(racing.status(), 423);
    // A's PATCH finishes the upload.
    tx.send(Ok(bytes[100..].to_vec())).await.expect("send");
    drop(tx);
    let done = held.await.expect("task").expect("patch on a");
    assert_eq!(done.status(), 204);
    let states = b.follow(&id).await;
    assert_completed_with(&states, &bytes);
}

#[tokio::test]
#[ignore = "needs a redis-server: UPR_TEST_REDIS_URL"]
async fn an_instance_killed_mid_upload_loses_nothing_acknowledged() {
    let (redis, prefix, dir) = (redis_url(), unique("kill"), shared_dir("kill"));
    let mut a = Instance::start(&redis, &prefix, &dir.0);
    let b = Instance::start(&redis, &prefix, &dir.0);
    let bytes = data(200_000);
    let (location, id) = a.create(bytes.len()).await;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = tokio_stream_from(rx);
    let in_flight = tokio::spawn({
        let location = location.clone();
        let addr = a.addr;
        async move {
            Instance {
                addr,
                kill: None,
                thread: None,
            }
            .patch(&location, 0, reqwest::Body::wrap_stream(stream))
            .await
        }
    });
    for chunk in bytes[..60_000].chunks(20_000) {
        tx.send(Ok(chunk.to_vec())).await.expect("send");
    }
    // Acknowledged: what the upload's offset says is stored.
    let acknowledged = b.offset_reaches(&location, 60_000).await;
    a.kill();
    let _ = in_flight.await;
    assert_eq!(
        b.offset(&location).await,
        acknowledged,
        "nothing acknowledged is lost"
    );

    // A's lock lapses; B then takes the rest.
    let deadline = Instant::now() + WAIT;
    let resumed = loop {
        let offset = b.offset(&location).await;
        let resp = b
            .patch(&location, offset, bytes[offset as usize..].to_vec().into())
            .await
            .expect("patch on b");
        if resp.status() != 423 {
            break resp;
        }
        assert!(Instant::now() < deadline, "A's lock never lapsed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(resumed.status(), 204);
    let states = b.follow(&id).await;
    assert_completed_with(&states, &bytes);
}

/// A body stream from a channel.
fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

/// The status of a `HEAD` on `location` at `instance`.
async fn head_status(instance: &Instance, location: &str) -> u16 {
    reqwest::Client::new()
        .head(instance.url(location))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("head")
        .status()
        .as_u16()
}

#[tokio::test]
#[ignore = "needs a redis-server: UPR_TEST_REDIS_URL"]
async fn an_upload_whose_record_lapsed_is_gone_on_every_instance_and_a_terminated_one_unknown() {
    let (redis, prefix, dir) = (redis_url(), unique("gone"), shared_dir("gone"));
    let mut tus = TusConfig::new(&dir.0);
    tus.expiry = Duration::from_secs(1);
    let a = Instance::start_with(&redis, &prefix, tus.clone());
    let b = Instance::start_with(&redis, &prefix, tus);
    let bytes = data(1_000);
    let (location, _) = a.create(bytes.len()).await;
    let sent = a
        .patch(&location, 0, bytes[..100].to_vec().into())
        .await
        .expect("patch on a");
    assert_eq!(sent.status(), 204);
    assert_eq!(b.offset(&location).await, 100, "shared before it lapses");

    // Untouched for longer than the expiry, its record lapses in Redis.
    let deadline = Instant::now() + WAIT;
    while head_status(&b, &location).await == 200 {
        assert!(Instant::now() < deadline, "the upload never lapsed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for instance in [&a, &b] {
        assert_eq!(head_status(instance, &location).await, 410, "HEAD");
        let resumed = instance
            .patch(&location, 100, bytes[100..].to_vec().into())
            .await
            .expect("patch");
        assert_eq!(resumed.status(), 410, "PATCH");
        let body: serde_json::Value = resumed.json().await.expect("json error");
        assert_eq!(body["error"]["code"], "upload_expired", "{body}");
    }

    // One that never existed, and one its client terminated, stay unknown.
    let never = format!("{}/{}", "/api/uploads/tus", "f".repeat(32));
    assert_eq!(head_status(&b, &never).await, 404);
    let (terminated, _) = a.create(10).await;
    let deleted = reqwest::Client::new()
        .delete(a.url(&terminated))
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .expect("delete");
    assert_eq!(deleted.status(), 204);
    assert_eq!(head_status(&b, &terminated).await, 404);
}
