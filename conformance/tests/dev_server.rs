//! The kit against the real dev server, in-process: every check passes.

mod common;

use std::process::Command;
use std::time::Duration;

use upload_progress_conformance::{run, Outcome, CHECKS};
use upload_progress_server::Config;

/// The checks that only run with `--tokens`.
const TOKEN_CHECKS: [&str; 2] = ["ws.token_missing_4401", "http.token_missing_401"];
/// The checks that need an id without a job, skipped with `--tokens`.
const JOBLESS_CHECKS: [&str; 5] = [
    "http.unknown_id_404",
    "ws.pending_then_running",
    "ws.unknown_id_4404_after_grace",
    "page.unknown_after_grace",
    "page.subscription_cap",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_on_the_dev_server() {
    let server = common::dev_server().await;
    let report = run(common::quick_options(&server)).await;
    for result in &report.results {
        if TOKEN_CHECKS.contains(&result.name) {
            assert!(matches!(result.outcome, Outcome::Skip(_)), "{result}");
        } else {
            assert_eq!(result.outcome, Outcome::Pass, "{result}");
        }
    }
    assert_eq!(report.results.len(), CHECKS.len());
    let want = CHECKS.len() - TOKEN_CHECKS.len();
    assert_eq!(
        report.summary(),
        format!("{want} passed, 0 failed, 2 skipped")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tokens_every_check_that_can_run_passes() {
    let server = common::dev_server_with(Config {
        require_token: true,
        ..Config::default()
    })
    .await;
    let mut opts = common::quick_options(&server);
    opts.tokens = true;
    let report = run(opts).await;
    for result in &report.results {
        if JOBLESS_CHECKS.contains(&result.name) {
            assert!(matches!(result.outcome, Outcome::Skip(_)), "{result}");
        } else {
            assert_eq!(result.outcome, Outcome::Pass, "{result}");
        }
    }
    assert_eq!(report.results.len(), CHECKS.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tokens_a_token_server_fails_with_a_hint() {
    let server = common::dev_server_with(Config {
        require_token: true,
        ..Config::default()
    })
    .await;
    let mut opts = common::quick_options(&server);
    opts.grace_wait = Duration::from_secs(1);
    let report = run(opts).await;
    assert!(!report.success());
    let why = report.failure("job.snapshot_first").expect("fails");
    assert!(why.contains("run the kit with --tokens"), "{why}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_prints_a_line_per_check_and_exits_zero() {
    let server = common::dev_server().await;
    let url = server.url();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_upload-progress-conformance"))
            .args([&url, "--grace-wait-ms", "3000", "--timeout-ms", "2000"])
            .output()
            .expect("run the kit")
    })
    .await
    .expect("join");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "stdout:\n{stdout}");
    for (name, _) in CHECKS {
        let want = if TOKEN_CHECKS.contains(name) {
            format!("SKIP {name}: ")
        } else {
            format!("PASS {name}")
        };
        assert!(
            stdout.lines().any(|l| l.starts_with(&want)),
            "no line {want:?}:\n{stdout}"
        );
    }
    let want = CHECKS.len() - TOKEN_CHECKS.len();
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{want} passed, 0 failed, 2 skipped").as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_checks_are_reported_as_skipped() {
    let server = common::dev_server().await;
    let mut opts = common::quick_options(&server);
    opts.skip = vec!["ws.".to_owned()];
    let report = run(opts).await;
    assert_eq!(report.failed(), 0, "{:#?}", report.results);
    // Every `ws.` check, plus the HTTP token check that needs --tokens.
    let skipped = CHECKS.iter().filter(|(n, _)| n.starts_with("ws.")).count() + 1;
    assert_eq!(report.skipped(), skipped);
    assert!(report.summary().ends_with(&format!(", {skipped} skipped")));
}
