//! The kit against servers that break the protocol, and against no server:
//! it fails with a message naming the rule, in bounded time, without panicking.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::Break;
use upload_progress_conformance::{run, Options};

#[tokio::test]
async fn seq_going_back_fails_naming_the_rule() {
    let server = common::broken(Break::SeqRegress).await;
    let report = run(common::quick_options(&server)).await;
    assert!(!report.success());
    assert_eq!(
        report.failure("job.seq_increases"),
        Some("PROTOCOL.md 3.2: seq went back from 2 to 1")
    );
}

#[tokio::test]
async fn progress_before_snapshot_fails_naming_the_rule() {
    let server = common::broken(Break::ProgressBeforeSnapshot).await;
    let report = run(common::quick_options(&server)).await;
    assert!(!report.success());
    let why = report
        .failure("job.snapshot_first")
        .expect("snapshot_first fails");
    assert!(
        why.starts_with("PROTOCOL.md 4.2: the first frame was `progress`"),
        "{why}"
    );
}

#[tokio::test]
async fn a_server_that_never_sends_a_snapshot_fails_in_bounded_time() {
    let server = common::broken(Break::Silent).await;
    let mut opts = common::quick_options(&server);
    opts.timeout = Duration::from_millis(300);
    opts.grace_wait = Duration::from_millis(600);
    let started = Instant::now();
    let report = run(opts).await;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    assert!(!report.success());
    let why = report
        .failure("job.snapshot_first")
        .expect("snapshot_first fails");
    assert!(
        why.contains("PROTOCOL.md 4.2") && why.contains("nothing within 300 ms"),
        "{why}"
    );
}

#[tokio::test]
async fn an_html_server_is_named_as_such() {
    let server = common::broken(Break::Html).await;
    let started = Instant::now();
    let report = run(common::quick_options(&server)).await;
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!report.success());
    let why = report
        .failure("http.unknown_id_404")
        .expect("404 check fails");
    assert!(why.contains("HTML page"), "{why}");
    let why = report
        .failure("ws.invalid_id_4400")
        .expect("4400 check fails");
    assert!(why.contains("HTTP 200 instead of 101"), "{why}");
}

#[tokio::test]
async fn an_unreachable_server_stops_the_run_with_one_clear_failure() {
    let addr = common::closed_port().await;
    let report = run(Options::new(format!("http://{addr}"))).await;
    assert_eq!(report.results.len(), 1);
    let why = report.failure("http.reachable").expect("reachable fails");
    assert!(why.starts_with("cannot connect to"), "{why}");
    assert_eq!(report.summary(), "0 passed, 1 failed");
}

#[test]
fn the_binary_exits_non_zero_without_panicking() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let out = Command::new(env!("CARGO_BIN_EXE_upload-progress-conformance"))
        .arg(format!("http://{addr}"))
        .output()
        .expect("run the kit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.contains("FAIL http.reachable: cannot connect to"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    let usage = Command::new(env!("CARGO_BIN_EXE_upload-progress-conformance"))
        .args(["http://127.0.0.1:1", "--skip", "no.such.check"])
        .output()
        .expect("run the kit");
    assert_eq!(usage.status.code(), Some(2));
}
