//! The kit against the real dev server, in-process: every check passes.

mod common;

use std::process::Command;

use upload_progress_conformance::{run, Outcome, CHECKS};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_on_the_dev_server() {
    let server = common::dev_server().await;
    let report = run(common::quick_options(&server)).await;
    let failures: Vec<String> = report
        .results
        .iter()
        .filter(|r| !matches!(r.outcome, Outcome::Pass))
        .map(ToString::to_string)
        .collect();
    assert!(failures.is_empty(), "failures: {failures:#?}");
    assert_eq!(report.passed(), CHECKS.len());
    assert_eq!(
        report.summary(),
        format!("{} passed, 0 failed", CHECKS.len())
    );
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
        assert!(
            stdout.lines().any(|l| l == format!("PASS {name}")),
            "no PASS line for {name}:\n{stdout}"
        );
    }
    assert_eq!(
        stdout.lines().last(),
        Some(format!("{} passed, 0 failed", CHECKS.len()).as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipped_checks_are_reported_as_skipped() {
    let server = common::dev_server().await;
    let mut opts = common::quick_options(&server);
    opts.skip = vec!["ws.".to_owned()];
    let report = run(opts).await;
    assert_eq!(report.failed(), 0, "{:#?}", report.results);
    let ws_checks = CHECKS.iter().filter(|(n, _)| n.starts_with("ws.")).count();
    assert_eq!(report.skipped(), ws_checks);
    assert!(report
        .summary()
        .ends_with(&format!(", {ws_checks} skipped")));
}
