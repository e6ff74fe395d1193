//! HTTP poll answers while in the polling fallback.

mod common;

use common::*;
use upload_progress_core::session::{
    Connection, ErrorKind, Input, Mode, PollOutcome, SessionConfig,
};
use upload_progress_core::JobState;

fn polling_shell() -> Shell {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell
}

fn http(status: u16, code: Option<&str>) -> PollOutcome {
    PollOutcome::Http {
        status,
        code: code.map(str::to_owned),
    }
}

fn stopped_kind(shell: &Shell) -> Option<ErrorKind> {
    match shell.connection() {
        Connection::Stopped { error } => error.map(|e| e.kind),
        _ => None,
    }
}

#[test]
fn a_poll_answer_with_newer_progress_is_shown() {
    let mut shell = polling_shell();
    shell.reply(PollOutcome::Progress(running(4, 40.0)));
    assert_eq!(shell.shown.last().unwrap().seq, 4);
    assert_eq!(shell.status().last_update_at, Some(shell.now));
    assert_eq!(shell.status().last_error, None);
}

#[test]
fn a_terminal_poll_answer_finishes_and_stops_probing() {
    let mut shell = polling_shell();
    shell.reply(PollOutcome::Progress(progress(
        9,
        100.0,
        JobState::Cancelled,
    )));
    assert!(shell.is_finished(JobState::Cancelled));
    assert_eq!(shell.session.poll_timeout(), None);
}

#[test]
fn not_modified_keeps_polling_and_counts_as_heard() {
    let mut shell = polling_shell();
    shell.advance(50);
    shell.reply(PollOutcome::NotModified);
    assert_eq!(shell.status().last_heard_at, Some(shell.now));
    assert_eq!(shell.status().latency_ms, Some(50));
    assert_eq!(shell.session.poll_timeout(), Some(shell.now + 3_000));
}

#[test]
fn server_errors_keep_polling_with_last_error_set() {
    let mut shell = polling_shell();
    for status in [500, 502, 503, 429] {
        shell.reply(http(status, None));
        assert_eq!(shell.mode(), Mode::HttpPolling);
        assert_eq!(
            shell.status().last_error.as_ref().unwrap().kind,
            ErrorKind::Server
        );
        shell.advance(3_000);
        assert_eq!(shell.fetches.len(), 1, "polls again after {status}");
    }
}

#[test]
fn network_errors_keep_polling_with_last_error_set() {
    let mut shell = polling_shell();
    for _ in 0..20 {
        shell.reply(PollOutcome::Network);
        assert_eq!(
            shell.status().last_error.as_ref().unwrap().kind,
            ErrorKind::Network
        );
        shell.advance(3_000);
        if shell.fetches.is_empty() {
            // A probe socket is out; let it fail and keep going.
            shell.fail();
            shell.advance(3_000);
        }
    }
    assert_eq!(shell.mode(), Mode::HttpPolling);
}

#[test]
fn poll_401_refreshes_the_token_and_polls_again_with_it() {
    let mut shell = polling_shell();
    shell.reply(http(401, Some("unauthorized")));
    assert_eq!(shell.refreshes, 1);
    shell.input(Input::TokenReady {
        token: Some("t2".into()),
    });
    assert_eq!(shell.fetched.last().unwrap().3.as_deref(), Some("t2"));
    shell.reply(http(401, None));
    assert_eq!(stopped_kind(&shell), Some(ErrorKind::Auth));
}

#[test]
fn poll_404_unknown_process_early_on_is_treated_as_not_there_yet() {
    let mut shell = Shell::started(exact());
    shell.server_close(1013);
    shell.reply(http(404, Some("unknown_process")));
    assert_eq!(shell.mode(), Mode::HttpPolling);
    assert_eq!(
        shell.status().last_error.as_ref().unwrap().kind,
        ErrorKind::NotFound
    );
    shell.advance(3_000);
    shell.reply(PollOutcome::Progress(running(1, 5.0)));
    assert_eq!(shell.status().last_error, None);
}

#[test]
fn poll_404_unknown_process_after_the_grace_stops_with_not_found() {
    let mut shell = polling_shell();
    shell.reply(http(404, Some("unknown_process")));
    assert_eq!(stopped_kind(&shell), Some(ErrorKind::NotFound));
}

#[test]
fn poll_404_for_a_job_already_seen_stops_at_once() {
    let mut shell = Shell::live(exact(), running(2, 20.0));
    shell.server_close(1013);
    shell.reply(http(404, Some("unknown_process")));
    assert_eq!(stopped_kind(&shell), Some(ErrorKind::NotFound));
}

#[test]
fn poll_400_stops_with_a_policy_error() {
    let mut shell = polling_shell();
    shell.reply(http(400, Some("invalid_process_id")));
    assert_eq!(stopped_kind(&shell), Some(ErrorKind::Policy));
}

#[test]
fn a_stale_poll_answer_is_ignored() {
    let mut shell = polling_shell();
    let old = shell.request();
    shell.input(Input::Reconnect);
    let before = shell.log.len();
    shell.input(Input::PollFinished {
        request: old,
        outcome: PollOutcome::Progress(running(50, 99.0)),
    });
    assert_eq!(shell.log.len(), before);
    assert!(shell.session.progress().is_none());
}

#[test]
fn polls_carry_the_configured_token_as_bearer_and_the_etag() {
    let config = SessionConfig {
        token: Some("secret".into()),
        token_expires_at: None,
        token_provider: true,
        ..config(exact())
    };
    let mut shell = Shell::with_config(config, 1);
    shell.input(Input::Start);
    assert!(shell.opened[0].2.ends_with("?token=secret"));
    shell.open();
    shell.frame(snapshot_frame(running(6, 10.0)));
    shell.server_close(1013);
    let (_, _, etag, token) = shell.fetched[0].clone();
    assert_eq!(etag.as_deref(), Some("\"6\""));
    assert_eq!(token.as_deref(), Some("secret"));
}

fn probing_shell() -> Shell {
    let mut shell = polling_shell();
    shell.reply(PollOutcome::NotModified);
    shell.advance(30_000);
    assert!(shell.socket().is_some(), "probe out");
    shell
}

#[test]
fn a_probe_refused_with_4401_refreshes_the_token_then_polls_and_probes_again() {
    let mut shell = probing_shell();
    if !shell.fetches.is_empty() {
        shell.reply(PollOutcome::NotModified);
    }
    shell.server_close(4401);
    assert_eq!(shell.refreshes, 1);
    assert_eq!(shell.mode(), Mode::HttpPolling);
    let opens = shell.opens();
    shell.input(Input::TokenReady {
        token: Some("t2".into()),
    });
    assert_eq!(shell.opens(), opens + 1);
    assert!(shell.opened.last().unwrap().2.ends_with("?token=t2"));
    assert_eq!(shell.fetches.len(), 1);
}

#[test]
fn a_probe_refused_with_1013_waits_the_server_full_delay() {
    let mut shell = probing_shell();
    shell.server_close(1013);
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: Some(shell.now + 30_000)
        }
    );
}

#[test]
fn a_probe_closed_by_a_restart_tries_again_after_the_hint() {
    let mut shell = probing_shell();
    shell.open();
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":1500}"#.into());
    shell.server_close(1012);
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: Some(shell.now + 1_500)
        }
    );
}

#[test]
fn a_404_without_a_protocol_code_keeps_polling() {
    let mut shell = polling_shell();
    shell.reply(http(404, None));
    assert_eq!(shell.mode(), Mode::HttpPolling);
    assert_eq!(
        shell.status().last_error.as_ref().unwrap().kind,
        ErrorKind::Server
    );
}

#[test]
fn offline_while_a_poll_is_in_flight_still_applies_its_answer() {
    let mut shell = polling_shell();
    shell.input(Input::Offline);
    shell.reply(PollOutcome::Progress(running(2, 20.0)));
    assert_eq!(shell.session.progress().unwrap().seq, 2);
    assert_eq!(shell.connection(), Connection::Offline);
}

#[test]
fn stopped_sessions_ignore_poll_answers_and_finished_sessions_poll_no_more() {
    let mut shell = polling_shell();
    shell.reply(PollOutcome::Progress(progress(
        3,
        100.0,
        JobState::Completed,
    )));
    shell.advance(600_000);
    assert_eq!(shell.fetched.len(), 1);
}
