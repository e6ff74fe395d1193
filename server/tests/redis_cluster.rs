//! Several instances sharing jobs through a real Redis.
//!
//! These need a running `redis-server`: the test command starts one on a free
//! loopback port and runs them with
//! `UPR_TEST_REDIS_URL=redis://127.0.0.1:PORT cargo test -p upload-progress-server --test redis_cluster -- --ignored`.
//! They are ignored otherwise, so `cargo test` stays green without Redis.
//! Each test uses its own key prefix, so they share one server. The restart
//! test starts its own `redis-server` (from `PATH`) to kill it.
//!
//! Every instance runs on its own Tokio runtime and thread, like a separate
//! process: killing one drops its sockets and its Redis connections at once.

#![cfg(feature = "redis")]

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use upload_progress_core::{JobState, ProcessId, Progress, ServerMessage};
use upload_progress_server::{serve_with, JobHandle, ProgressServer, Reporter, ServerHandle};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "cluster-test-secret";
const STAGES: [(&str, &str); 3] = [
    ("fetch", "Fetching"),
    ("work", "Working"),
    ("save", "Saving"),
];

fn redis_url() -> String {
    match std::env::var("UPR_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => panic!(
            "UPR_TEST_REDIS_URL is not set: these tests need a running redis-server \
             (scripts/test.sh starts one; or run `redis-server --port 6390 --save '' \
             --appendonly no` and set UPR_TEST_REDIS_URL=redis://127.0.0.1:6390)"
        ),
    }
}

/// A key prefix no other test (or earlier run) uses.
fn prefix(test: &str) -> String {
    format!("upr-test:{test}:{:x}:", rand_u64())
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish()
}

/// One server instance on its own runtime, like a separate process.
struct Instance {
    addr: SocketAddr,
    reporter: Reporter,
    handle: ServerHandle,
    kill: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Instance {
    fn start(redis: &str, prefix: &str) -> Self {
        Self::start_with_grace(redis, prefix, Duration::from_secs(10))
    }

    fn start_with_grace(redis: &str, prefix: &str, grace: Duration) -> Self {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (kill, killed) = tokio::sync::oneshot::channel::<()>();
        let (redis, prefix) = (redis.to_owned(), prefix.to_owned());
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
                    .require_token(true)
                    .token_secret(SECRET)
                    .max_connections(5000)
                    .max_per_ip(5000)
                    .grace(grace)
                    .build();
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                ready_tx
                    .send((addr, progress.reporter(), progress.handle()))
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
            // Every task (sockets, Redis connections) goes at once.
            rt.shutdown_background();
        });
        let (addr, reporter, handle) = ready_rx.recv().expect("instance starts");
        Self {
            addr,
            reporter,
            handle,
            kill: Some(kill),
            thread: Some(thread),
        }
    }

    /// Stops the instance abruptly: no close frames, no shutdown notice.
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

    async fn ws(&self, id: &str, token: &str) -> Ws {
        let url = format!("ws://{}/ws/progress/{id}?token={token}", self.addr);
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url))
            .await
            .expect("connects in time")
            .expect("upgrade accepted");
        ws
    }

    async fn status(&self) -> serde_json::Value {
        reqwest::get(self.url("/ws/status"))
            .await
            .expect("status answers")
            .json()
            .await
            .expect("json")
    }

    async fn wait_connected(&self, connected: bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let status = self.status().await;
            if status["store"]["connected"] == connected {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "store never became connected={connected}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

fn id(s: &str) -> ProcessId {
    ProcessId::parse(s).expect("valid id")
}

/// What arrived next on a socket: a state, or the end (close code, or
/// `None` when it ended without a close frame).
enum Next {
    State(Progress),
    End(Option<u16>),
}

async fn next(ws: &mut Ws) -> Next {
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => match serde_json::from_str(text.as_str()) {
                    Ok(
                        ServerMessage::Snapshot { progress } | ServerMessage::Progress { progress },
                    ) => return Next::State(progress),
                    Ok(_) => {}
                    Err(err) => panic!("unreadable frame {text}: {err}"),
                },
                Some(Ok(Message::Close(frame))) => {
                    return Next::End(frame.map(|f| u16::from(f.code)))
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return Next::End(None),
            }
        }
    })
    .await
    .expect("a frame in time")
}

/// Every state until the socket ends, and how it ended.
async fn drain(ws: &mut Ws) -> (Vec<Progress>, Option<u16>) {
    let mut seen = Vec::new();
    loop {
        match next(ws).await {
            Next::State(p) => seen.push(p),
            Next::End(code) => return (seen, code),
        }
    }
}

fn assert_increasing(states: &[Progress]) {
    for pair in states.windows(2) {
        assert!(
            pair[1].seq > pair[0].seq,
            "seq went {} -> {}",
            pair[0].seq,
            pair[1].seq
        );
        assert!(pair[1].percent >= pair[0].percent, "percent went down");
    }
}

/// Runs `job` through `steps` updates `pause` apart, then completes it;
/// returns the final state.
async fn run_job(mut job: JobHandle, steps: u32, pause: Duration) -> Progress {
    for i in 1..=steps {
        tokio::time::sleep(pause).await;
        if i == steps / 2 {
            job.next_stage("half way").expect("running");
        } else {
            job.progress(f64::from(i) * 90.0 / f64::from(steps), &format!("step {i}"))
                .expect("running");
        }
    }
    tokio::time::sleep(pause).await;
    job.complete("done").expect("running")
}

async fn poll(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    etag: Option<&str>,
) -> reqwest::Response {
    let mut req = http.get(url).bearer_auth(token);
    if let Some(etag) = etag {
        req = req.header("If-None-Match", etag);
    }
    req.send().await.expect("poll answers")
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn a_job_reported_on_a_is_followed_on_b_and_polled_on_c() {
    let (redis, prefix) = (redis_url(), prefix("abc"));
    let a = Instance::start(&redis, &prefix);
    let b = Instance::start(&redis, &prefix);
    let c = Instance::start(&redis, &prefix);
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    let job = a.reporter.start(id("abc_job"), &STAGES).expect("started");
    // Signed on A, accepted on B and C.
    let token = job.token().to_owned();
    let mut follower = b.ws("abc_job", &token).await;
    let http = reqwest::Client::new();
    let poll_url = c.url("/ws/progress/abc_job");
    let first = poll(&http, &poll_url, &token, None).await;
    assert_eq!(first.status(), 200);
    let pipeline = tokio::spawn(run_job(job, 20, Duration::from_millis(15)));
    let mut polled = Vec::new();
    while !pipeline.is_finished() {
        let resp = poll(&http, &poll_url, &token, None).await;
        assert_eq!(resp.status(), 200);
        let body: serde_json::Value = resp.json().await.expect("json");
        polled
            .push(serde_json::from_value::<Progress>(body["progress"].clone()).expect("progress"));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let last = pipeline.await.expect("pipeline ran");
    let (seen, code) = drain(&mut follower).await;
    assert_eq!(code, Some(1000), "a finished job closes 1000");
    assert_increasing(&seen);
    let end = seen.last().expect("states");
    assert_eq!((end.seq, end.state), (last.seq, JobState::Completed));
    // Polls on C never go backwards and end at the same final state.
    for pair in polled.windows(2) {
        assert!(pair[1].seq >= pair[0].seq);
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    let final_etag = format!("\"{}\"", last.seq);
    loop {
        let resp = poll(&http, &poll_url, &token, None).await;
        let etag = resp.headers()["etag"].to_str().expect("ascii").to_owned();
        if etag == final_etag {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "C never reached {final_etag}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let not_modified = poll(&http, &poll_url, &token, Some(&final_etag)).await;
    assert_eq!(not_modified.status(), 304);
    // A token of another job is refused on every instance.
    let other = c.reporter.start(id("abc_other"), &STAGES).expect("started");
    let refused = poll(&http, &b.url("/ws/progress/abc_job"), other.token(), None).await;
    assert_eq!(refused.status(), 401);
    other.complete("ok").expect("ok");
    assert_eq!(a.status().await["store"]["backend"], "redis");
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn a_client_resumes_on_c_after_b_dies() {
    let (redis, prefix) = (redis_url(), prefix("resume"));
    let a = Instance::start(&redis, &prefix);
    let mut b = Instance::start(&redis, &prefix);
    let c = Instance::start(&redis, &prefix);
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    let job = a
        .reporter
        .start(id("resume_job"), &STAGES)
        .expect("started");
    let token = job.token().to_owned();
    let mut ws = b.ws("resume_job", &token).await;
    let pipeline = tokio::spawn(run_job(job, 40, Duration::from_millis(20)));
    // What the client accepted: strictly newer states only, as a client does.
    let mut accepted: Vec<Progress> = Vec::new();
    while accepted.len() < 6 {
        match next(&mut ws).await {
            Next::State(p) => accepted.push(p),
            Next::End(code) => panic!("B ended early: {code:?}"),
        }
    }
    b.kill();
    assert!(
        drain(&mut ws).await.1.is_none(),
        "a killed instance sends no close frame"
    );
    let before = accepted.last().expect("states").seq;
    let mut ws = c.ws("resume_job", &token).await;
    let (resumed, code) = drain(&mut ws).await;
    assert_eq!(code, Some(1000));
    let snapshot = resumed.first().expect("a snapshot on C");
    assert!(
        snapshot.seq >= before,
        "C's snapshot (seq {}) is older than what B delivered (seq {before})",
        snapshot.seq
    );
    accepted.extend(resumed.into_iter().filter(|p| p.seq > before));
    assert_increasing(&accepted);
    let last = pipeline.await.expect("pipeline ran");
    let end = accepted.last().expect("states");
    assert_eq!((end.seq, end.state), (last.seq, JobState::Completed));
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn a_socket_on_a_waits_for_a_job_that_starts_on_c() {
    let (redis, prefix) = (redis_url(), prefix("early"));
    let a = Instance::start(&redis, &prefix);
    let c = Instance::start(&redis, &prefix);
    a.wait_connected(true).await;
    c.wait_connected(true).await;
    // The client knows the id (and a token for it) before the job exists.
    let signer = ProgressServer::builder().token_secret(SECRET).build();
    let early_id = id("early_job");
    let token = {
        // A throwaway job on an unshared server, only to sign a token for the id.
        let handle = signer
            .reporter()
            .start(early_id.clone(), &STAGES)
            .expect("started");
        let token = handle.token().to_owned();
        handle.cancel("only signing").expect("ok");
        token
    };
    let mut ws = a.ws("early_job", &token).await;
    match next(&mut ws).await {
        Next::State(p) => assert_eq!((p.seq, p.state), (0, JobState::Pending)),
        Next::End(code) => panic!("closed before the job started: {code:?}"),
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let job = c.reporter.start(early_id, &STAGES).expect("started");
    let last = run_job(job, 10, Duration::from_millis(10)).await;
    let (seen, code) = drain(&mut ws).await;
    assert_eq!(code, Some(1000));
    assert_increasing(&seen);
    assert_eq!(
        seen.last().map(|p| (p.seq, p.state)),
        Some((last.seq, JobState::Completed))
    );
}

/// A `redis-server` of this test's own, on a fixed free port, to kill and restart.
struct OwnRedis {
    port: u16,
    dir: std::path::PathBuf,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let mut redis = Self::reserve();
        redis.restart();
        redis
    }

    /// A free port for a redis-server that is not started yet.
    fn reserve() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = std::env::temp_dir().join(format!("upr-redis-{port}"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self {
            port,
            dir,
            child: None,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/setup.sh installs it)");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A poll answer's status, error code and `retry_after_ms`.
async fn poll_error(instance: &Instance, job: &str, token: &str) -> (u16, String, Option<u64>) {
    let answer = poll(
        &reqwest::Client::new(),
        &instance.url(&format!("/ws/progress/{job}")),
        token,
        None,
    )
    .await;
    let status = answer.status().as_u16();
    if status == 503 {
        let retry_after = answer.headers().get("retry-after").cloned();
        assert!(retry_after.is_some(), "503 without Retry-After");
    }
    let body: serde_json::Value = answer.json().await.expect("json");
    let code = body["error"]["code"].as_str().unwrap_or("").to_owned();
    (status, code, body["error"]["retry_after_ms"].as_u64())
}

/// The next text frame of a page socket.
async fn page_frame(ws: &mut Ws) -> upload_progress_core::page::PageServerMessage {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).expect("page frame")
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            other => panic!("page socket ended: {other:?}"),
        }
    }
}

/// On `instance` whose Redis is away: the code of the page socket's
/// per-job error for `job` after the grace (the socket must then still
/// answer a ping), and the set poll's entry for `job` (the poll itself 200).
async fn page_and_set_poll_while_unavailable(
    instance: &Instance,
    job: &str,
    token: &str,
) -> (String, serde_json::Value) {
    use futures_util::SinkExt;
    use upload_progress_core::page::PageServerMessage;
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://{}/ws/page", instance.addr)),
    )
    .await
    .expect("connects in time")
    .expect("upgrade accepted");
    let subscribe = serde_json::json!({ "type": "subscribe", "jobs": [
        { "process_id": job, "token": token },
    ]});
    ws.send(Message::text(subscribe.to_string()))
        .await
        .expect("send");
    let first = page_frame(&mut ws).await;
    assert!(
        matches!(&first, PageServerMessage::Snapshot { progress } if progress.seq == 0),
        "the placeholder first: {first:?}"
    );
    let code = match page_frame(&mut ws).await {
        PageServerMessage::Error {
            process_id: Some(id),
            code,
            ..
        } if id == job => code,
        other => panic!("expected a per-job error, got {other:?}"),
    };
    ws.send(Message::text(r#"{"type":"ping","id":7}"#))
        .await
        .expect("the socket is still open");
    match page_frame(&mut ws).await {
        PageServerMessage::Pong { id, .. } => assert_eq!(id, 7),
        other => panic!("expected the pong, got {other:?}"),
    }
    let answer = reqwest::get(instance.url(&format!("/ws/page/poll?ids={job}&tokens={token}")))
        .await
        .expect("set poll");
    assert_eq!(answer.status(), 200, "the set is usable");
    let body: serde_json::Value = answer.json().await.expect("json");
    (code, body["jobs"][0].clone())
}

/// The frames of the event stream for `job` on `instance`, read until the
/// server ends it (every job of the set ended).
async fn event_stream_frames(
    instance: &Instance,
    job: &str,
    token: &str,
) -> Vec<serde_json::Value> {
    let url = instance.url(&format!("/ws/page/events?ids={job}&tokens={token}"));
    let text = tokio::time::timeout(WAIT, async {
        reqwest::get(url)
            .await
            .expect("event stream")
            .text()
            .await
            .expect("stream text")
    })
    .await
    .expect("the stream ends once its one job ended");
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| serde_json::from_str(data.trim()).expect("frame json"))
        .collect()
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn instances_whose_redis_is_not_up_yet_answer_503_not_404() {
    let _ = redis_url(); // run only by the test command, which has redis-server
    let mut redis = OwnRedis::reserve();
    let prefix = prefix("late-redis");
    let grace = Duration::from_millis(1_500);
    let a = Instance::start_with_grace(&redis.url(), &prefix, grace);
    let b = Instance::start_with_grace(&redis.url(), &prefix, grace);
    let c = Instance::start_with_grace(&redis.url(), &prefix, grace);
    let job = a
        .reporter
        .start(id("late_redis_job"), &STAGES)
        .expect("started");
    let token = job.token().to_owned();
    // B and C cannot see A's job and cannot say it does not exist.
    let (status, code, retry) = poll_error(&b, "late_redis_job", &token).await;
    assert_eq!((status, code.as_str()), (503, "unavailable"));
    assert!(retry.is_some_and(|ms| ms > 0), "retry_after_ms: {retry:?}");
    let mut on_c = c.ws("late_redis_job", &token).await;
    let (seen, code) = drain(&mut on_c).await;
    assert_eq!(seen.len(), 1, "the placeholder snapshot only");
    assert_eq!(code, Some(4013), "transient close, not 4404");
    assert!(upload_progress_core::CloseClass::of(4013).is_transient());
    // The v1.1 endpoints say the same per job, and keep the connection.
    let (on_page, entry) = page_and_set_poll_while_unavailable(&c, "late_redis_job", &token).await;
    assert_eq!(
        on_page, "unavailable",
        "page socket: a per-job error, not a close"
    );
    assert_eq!(
        entry["error"]["code"], "unavailable",
        "set poll entry: {entry}"
    );
    assert!(entry.get("progress").is_none(), "no state for it: {entry}");
    let frames = event_stream_frames(&c, "late_redis_job", &token).await;
    let kinds: Vec<_> = frames
        .iter()
        .map(|f| {
            (
                f["type"].as_str().unwrap_or(""),
                f["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("snapshot", ""), ("error", "unavailable")],
        "event stream: {frames:?}"
    );
    // Redis comes up: A writes its job, and every instance serves it.
    redis.restart();
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let answer = poll(
            &reqwest::Client::new(),
            &b.url("/ws/progress/late_redis_job"),
            &token,
            None,
        )
        .await;
        if answer.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            answer.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut on_c = c.ws("late_redis_job", &token).await;
    match next(&mut on_c).await {
        Next::State(p) => assert!(p.seq >= 1, "the job itself, not a placeholder"),
        Next::End(code) => panic!("closed {code:?}"),
    }
    // While Redis is away again (reconnecting), the same for a new job,
    // and it is served once Redis is back.
    redis.kill();
    b.wait_connected(false).await;
    let other = a
        .reporter
        .start(id("late_redis_other"), &STAGES)
        .expect("started");
    let (status, _, _) = poll_error(&b, "late_redis_other", other.token()).await;
    assert_eq!(status, 503);
    redis.restart();
    b.wait_connected(true).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    while poll_error(&b, "late_redis_other", other.token()).await.0 != 200 {
        assert!(tokio::time::Instant::now() < deadline, "never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(job);
    drop(other);
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn followers_reach_the_final_state_across_a_redis_restart() {
    let _ = redis_url(); // run only by the test command, which has redis-server
    let mut redis = OwnRedis::start();
    let prefix = prefix("restart");
    let a = Instance::start(&redis.url(), &prefix);
    let b = Instance::start(&redis.url(), &prefix);
    let c = Instance::start(&redis.url(), &prefix);
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    let mut job = a
        .reporter
        .start(id("restart_job"), &STAGES)
        .expect("started");
    let token = job.token().to_owned();
    let mut on_a = a.ws("restart_job", &token).await;
    let mut on_b = b.ws("restart_job", &token).await;
    let mut on_c = c.ws("restart_job", &token).await;
    job.progress(10.0, "before").expect("running");
    redis.kill();
    b.wait_connected(false).await;
    // The pipeline never notices: its writes neither fail nor block.
    for i in 2..=5 {
        job.progress(f64::from(i) * 10.0, "while Redis is down")
            .expect("writes never fail because of Redis");
    }
    assert_eq!(a.status().await["store"]["connected"], false);
    redis.restart();
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    job.next_stage("after").expect("running");
    let last = job.complete("done").expect("running");
    for ws in [&mut on_a, &mut on_b, &mut on_c] {
        let (seen, code) = drain(ws).await;
        assert_eq!(code, Some(1000));
        assert_increasing(&seen);
        let end = seen.last().expect("states");
        assert_eq!((end.seq, end.state), (last.seq, JobState::Completed));
    }
    // The restarted Redis holds the final state again (written by A).
    let polled: serde_json::Value = reqwest::Client::new()
        .get(c.url("/ws/progress/restart_job"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("poll")
        .json()
        .await
        .expect("json");
    assert_eq!(polled["progress"]["seq"], last.seq);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn a_thousand_churned_sockets_end_at_zero() {
    let (redis, prefix) = (redis_url(), prefix("churn"));
    let instances = [
        Instance::start(&redis, &prefix),
        Instance::start(&redis, &prefix),
        Instance::start(&redis, &prefix),
    ];
    for i in &instances {
        i.wait_connected(true).await;
    }
    let mut job = instances[0]
        .reporter
        .start(id("churn_job"), &STAGES)
        .expect("started");
    let token = job.token().to_owned();
    let addrs: Vec<SocketAddr> = instances.iter().map(|i| i.addr).collect();
    let mut opened = 0u32;
    for wave in 0..20u32 {
        let sockets = (0..50u32).map(|k| {
            let addr = addrs[((wave * 50 + k) % 3) as usize];
            let token = token.clone();
            async move {
                let url = format!("ws://{addr}/ws/progress/churn_job?token={token}");
                let (mut ws, _) = tokio_tungstenite::connect_async(url)
                    .await
                    .expect("upgrade");
                match next(&mut ws).await {
                    Next::State(p) => assert!(p.seq >= 1),
                    Next::End(code) => panic!("closed at once: {code:?}"),
                }
                if k % 2 == 0 {
                    let _ = ws.close(None).await;
                    while let Some(Ok(_)) = ws.next().await {}
                } else {
                    // Gone without a close frame.
                    drop(ws);
                }
            }
        });
        futures_util::future::join_all(sockets).await;
        opened += 50;
        job.progress(f64::from(wave) * 4.0, "churning")
            .expect("running");
    }
    assert_eq!(opened, 1000);
    job.complete("done").expect("running");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let active: Vec<usize> = instances
            .iter()
            .map(|i| i.handle.active_connections())
            .collect();
        if active.iter().all(|n| *n == 0) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "sockets still open: {active:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total: u64 = {
        let mut sum = 0;
        for i in &instances {
            sum += i.status().await["statistics"]["total_connections"]
                .as_u64()
                .unwrap_or(0);
        }
        sum
    };
    assert_eq!(total, 1000, "every socket was served");
}

/// Every state the page socket `ws` shows until the jobs `ids` all ended.
async fn page_until_ended(
    ws: &mut Ws,
    ids: &[&str],
) -> std::collections::HashMap<String, Vec<Progress>> {
    use upload_progress_core::page::PageServerMessage;
    let mut seen: std::collections::HashMap<String, Vec<Progress>> =
        std::collections::HashMap::new();
    let ended = |seen: &std::collections::HashMap<String, Vec<Progress>>| {
        ids.iter().all(|id| {
            seen.get(*id)
                .and_then(|s| s.last())
                .is_some_and(Progress::is_terminal)
        })
    };
    while !ended(&seen) {
        let text = match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("page socket ended: {other:?}"),
        };
        match serde_json::from_str::<PageServerMessage>(text.as_str()).expect("page frame") {
            PageServerMessage::Snapshot { progress } | PageServerMessage::Progress { progress } => {
                seen.entry(progress.process_id.as_str().to_owned())
                    .or_default()
                    .push(progress)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    seen
}

#[tokio::test]
#[ignore = "needs redis-server: set UPR_TEST_REDIS_URL and pass --ignored"]
async fn a_page_socket_on_b_follows_jobs_of_a_and_c_and_c_polls_the_set() {
    use futures_util::SinkExt;
    let (redis, prefix) = (redis_url(), prefix("page"));
    let a = Instance::start(&redis, &prefix);
    let b = Instance::start(&redis, &prefix);
    let c = Instance::start(&redis, &prefix);
    for i in [&a, &b, &c] {
        i.wait_connected(true).await;
    }
    let on_a = a.reporter.start(id("page_on_a"), &STAGES).expect("started");
    let on_c = c.reporter.start(id("page_on_c"), &STAGES).expect("started");
    let tokens = [on_a.token().to_owned(), on_c.token().to_owned()];
    let (mut ws, _) = tokio::time::timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://{}/ws/page", b.addr)),
    )
    .await
    .expect("connects in time")
    .expect("upgrade accepted");
    let subscribe = serde_json::json!({ "type": "subscribe", "jobs": [
        { "process_id": "page_on_a", "token": tokens[0] },
        { "process_id": "page_on_c", "token": tokens[1] },
    ]});
    ws.send(Message::text(subscribe.to_string()))
        .await
        .expect("send");
    let runs = [
        tokio::spawn(run_job(on_a, 10, Duration::from_millis(15))),
        tokio::spawn(run_job(on_c, 14, Duration::from_millis(10))),
    ];
    let seen = page_until_ended(&mut ws, &["page_on_a", "page_on_c"]).await;
    for (run, id) in runs.into_iter().zip(["page_on_a", "page_on_c"]) {
        let last = run.await.expect("ran");
        let states = &seen[id];
        assert_increasing(states);
        let end = states.last().expect("states");
        assert_eq!(
            (end.seq, end.state),
            (last.seq, JobState::Completed),
            "{id} on B"
        );
    }
    // The set poll on C serves both jobs, whichever instance owns them.
    let url = c.url(&format!(
        "/ws/page/poll?ids=page_on_a,page_on_c&tokens={},{}",
        tokens[0], tokens[1]
    ));
    let http = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    let etag = loop {
        let resp = http.get(&url).send().await.expect("poll");
        assert_eq!(resp.status(), 200);
        let etag = resp.headers()["etag"].to_str().expect("ascii").to_owned();
        let body: serde_json::Value = resp.json().await.expect("json");
        let done = body["jobs"]
            .as_array()
            .expect("jobs")
            .iter()
            .all(|e| e["progress"]["state"] == "completed");
        if done {
            break etag;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "C never saw both ends: {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let again = http
        .get(&url)
        .header("If-None-Match", &etag)
        .send()
        .await
        .expect("poll");
    assert_eq!(again.status(), 304);
}
