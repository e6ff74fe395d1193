//! Decisions the shells used to make themselves, and the newer policies:
//! stall checks, polls that bridge a socket outage, typed events and the
//! outcome actions.

mod common;

use common::*;
use upload_progress_core::session::{
    Connection, ErrorKind, Input, Mode, PollOutcome, SessionEvent, SessionOptions, Status,
};
use upload_progress_core::{InvalidProcessId, JobState, ProcessId};

/// A live shell whose job runs with an update every `gap` ms, `n` times.
fn flowing(gap: u64, n: u64) -> Shell {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    for seq in 2..2 + n {
        shell.advance(gap);
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    shell
}

#[test]
fn a_stall_during_a_running_job_is_checked_early_and_the_socket_replaced() {
    // Updates every second, then silence with the socket still open.
    let mut shell = flowing(1_000, 5);
    let last = shell.now;
    let pings_before = shell.sent.len();
    shell.advance(4_999);
    assert_eq!(shell.connection(), Connection::Connected);
    assert_eq!(shell.sent.len(), pings_before, "no extra traffic yet");
    shell.advance(1);
    // max(3 x 1 s, 5 s) of silence: an early ping and "checking".
    assert_eq!(shell.sent.len(), pings_before + 1);
    assert_eq!(shell.connection(), Connection::Checking);
    assert!(shell
        .events
        .iter()
        .any(|(_, e)| matches!(e, SessionEvent::StallSuspected { silent_ms: 5_000 })));
    shell.advance(5_000);
    assert_eq!(
        shell.closed.last().map(|c| c.2.as_str()),
        Some("heartbeat timeout")
    );
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting { .. }
    ));
    assert_eq!(
        shell.now - last,
        10_000,
        "replaced 10 s after the last update"
    );
}

#[test]
fn an_answered_stall_check_goes_back_to_connected_without_more_pings() {
    let mut shell = flowing(1_000, 5);
    shell.advance(5_000);
    assert_eq!(shell.connection(), Connection::Checking);
    let id = shell.sent.len();
    shell.advance(40);
    shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
    assert_eq!(shell.connection(), Connection::Connected);
    assert_eq!(shell.status().latency_ms, Some(40));
    // The next check waits a whole threshold again.
    let sent = shell.sent.len();
    shell.advance(4_999);
    assert_eq!(shell.sent.len(), sent);
}

#[test]
fn slow_updates_and_idle_jobs_cost_no_extra_pings() {
    // Updates every 4 s: checks wait 12 s of silence, so none while they flow.
    let mut shell = flowing(4_000, 10);
    assert_eq!(shell.sent.len(), 1, "only the 30 s heartbeat");
    // A pending job (no rhythm) gets only the heartbeat.
    let mut idle = Shell::live(exact(), progress(1, 0.0, JobState::Pending));
    idle.advance(29_999);
    assert!(idle.sent.is_empty());
    shell.input(Input::Stop);
}

#[test]
fn a_lost_live_socket_is_bridged_by_polls_at_the_poll_interval() {
    let mut shell = Shell::live(exact(), running(1, 25.0));
    shell.fail();
    assert_eq!(shell.fetches.len(), 1, "polls at once");
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting { .. }
    ));
    shell.reply(PollOutcome::Progress(running(2, 40.0)));
    assert_eq!(shell.shown.last().map(|p| p.percent), Some(40.0));
    shell.advance(1_999);
    assert!(shell.fetches.is_empty());
    // The retry at 2 s opens a socket; polls go on until it delivers.
    shell.advance(1);
    assert!(shell.socket().is_some());
    shell.advance(1_000);
    assert_eq!(shell.fetches.len(), 1, "next poll 3 s after the answer");
    shell.open();
    shell.frame(snapshot_frame(running(3, 50.0)));
    assert!(shell.fetches.is_empty(), "the socket delivers: polls stop");
    shell.advance(20_000);
    assert_eq!(shell.fetched.len(), 2);
    assert_eq!(shell.mode(), Mode::WebSocket);
}

#[test]
fn the_retry_count_and_fallback_are_unchanged_by_bridge_polls() {
    let mut shell = Shell::live(exact(), running(1, 25.0));
    let gaps = fail_until_polling(&mut shell);
    assert_eq!(gaps, [2_000, 4_000, 8_000]);
    assert_eq!(shell.mode(), Mode::HttpPolling);
}

#[test]
fn the_browser_refusing_to_create_a_socket_is_a_failed_attempt() {
    let mut shell = Shell::started(exact());
    shell.open_failed("SecurityError");
    assert_retrying(&shell, 1);
    let error = shell.status().last_error.clone().unwrap();
    assert!(error.message.contains("SecurityError"), "{}", error.message);
    assert_eq!(error.kind, ErrorKind::Network);
}

#[test]
fn binary_frames_prove_the_socket_alive() {
    let mut shell = Shell::live(exact(), progress(1, 0.0, JobState::Pending));
    shell.advance(30_000);
    assert_eq!(shell.sent.len(), 1, "heartbeat ping");
    shell.advance(9_000);
    let attempt = shell.attempt();
    shell.input(Input::SocketBinary { attempt });
    shell.advance(5_000);
    assert_eq!(
        shell.connection(),
        Connection::Connected,
        "not a heartbeat timeout"
    );
}

#[test]
fn an_unreadable_poll_answer_says_so() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::InvalidBody { status: 200 });
    let error = shell.status().last_error.clone().unwrap();
    assert!(error.message.contains("unreadable"), "{}", error.message);
    assert!(!error.message.contains("HTTP 200 ") && error.kind == ErrorKind::Server);
    shell.advance(3_000);
    assert_eq!(shell.fetches.len(), 1, "polling goes on");
}

#[test]
fn without_a_token_provider_a_refused_token_stops_at_once() {
    let mut cfg = config(exact());
    cfg.token_provider = false;
    let mut shell = Shell::with_config(cfg, 1);
    shell.input(Input::Start);
    shell.open();
    shell.server_close(4401);
    assert_eq!(shell.refreshes, 0);
    let Connection::Stopped { error: Some(error) } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert_eq!(error.kind, ErrorKind::Auth);
    assert_eq!(shell.failed, [error]);
}

#[test]
fn a_token_about_to_expire_is_refreshed_before_the_next_connection() {
    let mut cfg = config(exact());
    cfg.token = Some("old".into());
    cfg.token_expires_at = Some(40_000);
    let mut shell = Shell::with_config(cfg, 1);
    shell.input(Input::Start);
    assert_eq!(shell.refreshes, 0, "still valid for 40 s");
    shell.open();
    shell.frame(snapshot_frame(running(1, 1.0)));
    shell.advance(20_000);
    shell.fail();
    // The retry at 22 s is within the 30 s margin of the expiry.
    shell.advance(2_000);
    assert_eq!(shell.refreshes, 1, "asked before the connection");
    assert!(shell.events.iter().any(|(_, e)| matches!(
        e,
        SessionEvent::TokenRefresh {
            ahead_of_expiry: true
        }
    )));
    shell.input(Input::TokenReady {
        token: Some("new".into()),
    });
    assert!(shell.opened.last().unwrap().2.ends_with("?token=new"));
}

#[test]
fn completion_and_failure_are_announced_as_actions() {
    let mut shell = Shell::live(exact(), running(1, 50.0));
    shell.frame(progress_frame(progress(2, 100.0, JobState::Completed)));
    assert_eq!(shell.completed.len(), 1);
    assert!(shell.failed.is_empty());

    let mut failed = Shell::live(exact(), running(1, 50.0));
    let mut p = progress(2, 50.0, JobState::Failed);
    p.error = Some("OCR engine crashed".into());
    failed.frame(progress_frame(p));
    assert!(failed.completed.is_empty());
    assert_eq!(failed.failed.len(), 1);
    assert_eq!(failed.failed[0].kind, ErrorKind::Job);
    assert_eq!(failed.failed[0].message, "OCR engine crashed");
}

#[test]
fn the_same_error_after_a_reconnect_is_announced_again() {
    let mut shell = Shell::started(exact());
    shell.open();
    shell.server_close(4404);
    shell.input(Input::Reconnect);
    shell.open();
    shell.server_close(4404);
    assert_eq!(shell.failed.len(), 2);
    assert_eq!(shell.failed[0], shell.failed[1]);
}

#[test]
fn reconnect_is_offered_whenever_not_delivering() {
    let error = upload_progress_core::session::StatusError::new(ErrorKind::Network, "x");
    let offered = |connection: Connection| {
        Status {
            connection,
            ..Status::stopped(error.clone())
        }
        .offers_reconnect()
    };
    assert!(!offered(Connection::Connected));
    assert!(!offered(Connection::Finished(JobState::Completed)));
    assert!(!offered(Connection::Stopped { error: None }));
    assert!(offered(Connection::Offline));
    assert!(offered(Connection::Checking));
    assert!(offered(Connection::Connecting { attempt: 1 }));
    assert!(offered(Connection::Polling {
        next_probe_at: None
    }));
    assert!(offered(Connection::Stopped {
        error: Some(error.clone())
    }));
}

#[test]
fn reconnect_while_offline_tries_at_once() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Offline);
    shell.fail();
    assert_eq!(shell.connection(), Connection::Offline);
    shell.input(Input::Reconnect);
    assert!(shell.socket().is_some());
    // Tried at once, but the page does not pretend the network is back.
    assert_eq!(shell.connection(), Connection::Offline);
}

#[test]
fn an_invalid_job_id_has_a_status_of_its_own() {
    let err: InvalidProcessId = ProcessId::parse("bad id!").unwrap_err();
    let status =
        Status::stopped(upload_progress_core::session::StatusError::invalid_process_id(&err));
    assert_eq!(status.mode, Mode::None);
    let Connection::Stopped { error: Some(e) } = &status.connection else {
        panic!();
    };
    assert_eq!(e.kind, ErrorKind::Policy);
    assert_eq!(e.hint, "Check the job id.");
    assert!(status.offers_reconnect());
}

#[test]
fn events_tell_the_story_of_a_fallback_and_the_climb_back() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    shell.advance(30_000);
    shell.open();
    shell.frame(snapshot_frame(running(1, 5.0)));
    let kinds: Vec<&str> = shell
        .events
        .iter()
        .map(|(_, e)| match e {
            SessionEvent::AttemptOpened { probe: false, .. } => "attempt",
            SessionEvent::AttemptOpened { probe: true, .. } => "probe",
            SessionEvent::SocketClosed { .. } => "closed",
            SessionEvent::BackoffChosen { .. } => "backoff",
            SessionEvent::FellBackToPolling => "polling",
            SessionEvent::SocketLive { .. } => "live",
            SessionEvent::BackOnSocket => "back",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "attempt", "closed", "backoff", "attempt", "closed", "backoff", "attempt", "closed",
            "backoff", "attempt", "closed", "polling", "probe", "live", "back"
        ]
    );
    let delays: Vec<u64> = shell
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            SessionEvent::BackoffChosen { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .collect();
    assert_eq!(delays, [2_000, 4_000, 8_000]);
}

#[test]
fn a_drain_hint_is_reported() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":1500}"#.into());
    assert!(shell.events.iter().any(|(_, e)| *e
        == SessionEvent::DrainHint {
            retry_after_ms: 1_500
        }));
    let _ = SessionOptions::default();
}

#[test]
fn going_offline_checks_a_delivering_socket_at_once() {
    let mut shell = flowing(1_000, 3);
    let pings = shell.sent.len();
    shell.input(Input::Offline);
    assert_eq!(shell.sent.len(), pings + 1, "an early ping at once");
    assert_eq!(shell.connection(), Connection::Checking);
    assert!(shell
        .events
        .iter()
        .any(|(_, e)| *e == SessionEvent::OfflineCheck));
    // No answer within the stall pong timeout: the socket is given up and,
    // the browser being offline, the widget says so instead of retrying.
    shell.advance(4_999);
    assert_eq!(shell.connection(), Connection::Checking);
    shell.advance(1);
    assert_eq!(
        shell.closed.last().map(|c| c.2.as_str()),
        Some("heartbeat timeout")
    );
    assert_eq!(shell.connection(), Connection::Offline);
    let opens = shell.opens();
    shell.advance(60_000);
    assert_eq!(shell.opens(), opens, "nothing retried while offline");
    shell.input(Input::Online);
    assert_eq!(shell.opens(), opens + 1, "back online: a socket at once");
}

#[test]
fn a_socket_that_answers_the_offline_check_stays() {
    let mut shell = flowing(1_000, 3);
    shell.input(Input::Offline);
    let id = shell.sent.len();
    shell.advance(30);
    shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
    assert_eq!(shell.connection(), Connection::Connected);
    assert!(shell.closed.is_empty());
}

#[test]
fn going_offline_without_a_delivering_socket_sends_nothing() {
    // A socket still opening has nothing to ping; backoff is just paused.
    let mut shell = Shell::started(exact());
    shell.input(Input::Offline);
    assert!(shell.sent.is_empty());
    assert!(shell
        .events
        .iter()
        .all(|(_, e)| *e != SessionEvent::OfflineCheck));
}

#[test]
fn a_timer_that_fires_before_the_deadline_changes_nothing() {
    // The browser shell leaves an earlier timer armed when frames push the
    // deadline later; that timer's early `handle_timeout` must be a no-op.
    let mut shell = flowing(1_000, 3);
    let deadline = shell
        .session
        .poll_timeout()
        .expect("a live socket has a deadline");
    let (actions, statuses) = (shell.log.len(), shell.statuses.len());
    shell.jump_to(deadline - 1);
    assert_eq!(shell.log.len(), actions, "no action before the deadline");
    assert_eq!(
        shell.statuses.len(),
        statuses,
        "no status before the deadline"
    );
    assert_eq!(shell.session.poll_timeout(), Some(deadline));
}

#[test]
fn a_stopped_session_does_not_poll_when_the_browser_comes_back_online() {
    // A dropped socket is bridged by a poll; the user stops while it runs.
    // Found by the property test: the bridge outlived the stop, so going
    // online polled again, and that poll's answer could end the stop.
    let mut shell = flowing(1_000, 2);
    shell.server_close(1006);
    assert_eq!(shell.fetches.len(), 1, "the outage is bridged by a poll");
    shell.input(Input::Stop);
    let (fetched, opened) = (shell.fetched.len(), shell.opened.len());
    shell.input(Input::Offline);
    shell.input(Input::Online);
    shell.advance(120_000);
    assert_eq!(shell.fetched.len(), fetched, "no poll after the stop");
    assert_eq!(shell.opened.len(), opened, "no socket after the stop");
    assert!(shell.fetches.is_empty());
    assert_eq!(shell.connection(), Connection::Stopped { error: None });
}
