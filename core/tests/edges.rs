//! Boundaries and small rules: exact limits of the lifecycle shortcuts, the
//! wording of outcomes, and what happens while paused or offline.

mod common;

use common::*;
use upload_progress_core::session::{
    Connection, ErrorKind, Input, Mode, PollOutcome, SessionEvent, SessionOptions,
};
use upload_progress_core::JobState;

#[test]
fn a_cancelled_job_without_words_says_it_was_cancelled() {
    let mut shell = Shell::live(exact(), running(1, 50.0));
    let mut p = progress(2, 50.0, JobState::Cancelled);
    p.message = String::new();
    p.error = Some(String::new());
    shell.frame(progress_frame(p));
    assert_eq!(shell.failed.len(), 1);
    assert_eq!(shell.failed[0].message, "The job was cancelled.");
    assert_eq!(shell.failed[0].kind, ErrorKind::Job);
}

#[test]
fn a_failed_job_with_an_empty_error_uses_its_message() {
    let mut shell = Shell::live(exact(), running(1, 50.0));
    let mut p = progress(2, 50.0, JobState::Failed);
    p.message = "Disk full".into();
    p.error = Some(String::new());
    shell.frame(progress_frame(p));
    assert_eq!(shell.failed[0].message, "Disk full");
    let mut bare = Shell::live(exact(), running(1, 50.0));
    let mut p = progress(2, 50.0, JobState::Failed);
    p.message = String::new();
    p.error = None;
    bare.frame(progress_frame(p));
    assert_eq!(bare.failed[0].message, "The job failed.");
}

#[test]
fn waiting_for_a_job_that_is_not_registered_yet_has_its_own_hint() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.now = 5_000.max(shell.now);
    let mut cfg_shell = Shell::started(exact());
    cfg_shell.server_close(1000); // polls at once, 0 s into following
    cfg_shell.reply(PollOutcome::Http {
        status: 404,
        code: Some("unknown_process".into()),
    });
    let error = cfg_shell.status().last_error.clone().unwrap();
    assert_eq!(error.kind, ErrorKind::NotFound);
    assert_ne!(error.hint, ErrorKind::NotFound.hint(), "{error:?}");
    assert!(matches!(cfg_shell.connection(), Connection::Polling { .. }));
}

#[test]
fn a_pending_snapshot_does_not_count_as_having_seen_the_job() {
    // seq 0 is the placeholder for an id whose job is not registered yet.
    let mut shell = Shell::live(exact(), progress(0, 0.0, JobState::Pending));
    shell.server_close(1000);
    shell.reply(PollOutcome::Http {
        status: 404,
        code: Some("unknown_process".into()),
    });
    assert!(
        matches!(shell.connection(), Connection::Polling { .. }),
        "{:?}",
        shell.connection()
    );
}

#[test]
fn page_hide_while_waiting_for_a_token_pauses_and_page_show_asks_again_later() {
    let mut shell = Shell::started(exact());
    shell.open();
    shell.server_close(4401);
    assert_eq!(shell.refreshes, 1);
    shell.input(Input::PageHide);
    assert_eq!(shell.connection(), Connection::Idle);
    assert_eq!(
        shell.session.poll_timeout(),
        None,
        "nothing runs while hidden"
    );
    shell.advance(60_000);
    shell.input(Input::PageShow { persisted: true });
    assert!(shell.socket().is_some(), "resumes where it was");
}

#[test]
fn a_lifecycle_burst_costs_one_retry_and_the_gap_is_exact() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance(999);
    shell.input(Input::Online);
    assert_eq!(shell.opens(), 1, "within a second of the last attempt");
    shell.advance(1);
    shell.input(Input::Visible);
    assert_eq!(shell.opens(), 2, "a second later it skips the backoff");
    shell.input(Input::Online);
    assert_eq!(shell.opens(), 2, "the rest of the burst costs nothing");
}

#[test]
fn visible_while_polling_polls_once_per_second_at_most() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    let polls = shell.fetched.len();
    shell.advance(999);
    shell.input(Input::Visible);
    assert_eq!(
        shell.fetched.len(),
        polls,
        "the last poll was under a second ago"
    );
    shell.advance(1);
    shell.input(Input::Visible);
    assert_eq!(shell.fetched.len(), polls + 1);
    // A poll in flight is never doubled.
    shell.advance(1_500);
    shell.input(Input::Visible);
    assert_eq!(shell.fetched.len(), polls + 1);
}

#[test]
fn the_restart_hint_ends_exactly_at_its_time() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":3000}"#.into());
    shell.server_close(1012);
    shell.input(Input::PageHide);
    shell.now = 2_999;
    shell.input(Input::PageShow { persisted: true });
    assert_eq!(shell.opens(), 1, "one millisecond early");
    let mut on_time = Shell::live(exact(), running(1, 10.0));
    on_time.frame(r#"{"type":"server_shutdown","retry_after_ms":3000}"#.into());
    on_time.server_close(1012);
    on_time.input(Input::PageHide);
    on_time.now = 3_000;
    on_time.input(Input::PageShow { persisted: true });
    assert_eq!(on_time.opens(), 2, "at the hint, at once");
}

#[test]
fn visible_before_the_restart_hint_waits_and_at_it_retries() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":3000}"#.into());
    shell.server_close(1012);
    shell.now = 2_999;
    shell.input(Input::Visible);
    assert_eq!(shell.opens(), 1);
    shell.session.handle(Input::Visible, 3_000);
    shell.drain();
    assert_eq!(shell.opens(), 2);
}

#[test]
fn without_auto_retry_a_page_show_while_polling_only_polls() {
    let mut shell = Shell::started(SessionOptions {
        auto_retry: false,
        ..exact()
    });
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    shell.server_close(1000);
    assert_eq!(shell.mode(), Mode::HttpPolling);
    shell.input(Input::PageHide);
    shell.input(Input::PageShow { persisted: true });
    assert!(shell.socket().is_none(), "no probe without automatic retry");
    assert_eq!(shell.fetches.len(), 1);
}

#[test]
fn offline_socket_loss_starts_no_poll_until_online() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Offline);
    shell.fail();
    assert!(shell.fetches.is_empty(), "no poll while offline");
    assert!(shell
        .events
        .iter()
        .any(|(_, e)| *e == SessionEvent::BridgePolling));
    shell.input(Input::Online);
    assert_eq!(
        shell.fetches.len(),
        1,
        "the bridge poll goes out once online"
    );
}

#[test]
fn a_refresh_ahead_of_expiry_is_not_reported_as_an_auth_error() {
    let mut cfg = config(exact());
    cfg.token = Some("old".into());
    cfg.token_expires_at = Some(10_000);
    let mut shell = Shell::with_config(cfg, 1);
    shell.input(Input::Start);
    assert_eq!(shell.refreshes, 1, "expires within the margin: asked first");
    assert_eq!(shell.status().last_error, None);
    shell.input(Input::TokenReady {
        token: Some("new".into()),
    });
    shell.open();
    shell.server_close(4401);
    assert_eq!(
        shell.status().last_error.as_ref().map(|e| e.kind),
        Some(ErrorKind::Auth),
        "a refusal is"
    );
}

#[test]
fn stability_is_counted_from_the_open_not_from_the_snapshot() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance_to(2_000);
    shell.open();
    assert_eq!(
        shell.status().last_heard_at,
        Some(2_000),
        "the open is news"
    );
    shell.advance(2_000);
    shell.frame(snapshot_frame(running(1, 1.0)));
    // Up 5 s at 7 000 (snapshot at 4 000): the count is reset by then.
    shell.advance_to(7_000);
    shell.fail();
    assert_retrying(&shell, 1);
}

#[test]
fn an_open_socket_without_its_snapshot_is_still_connecting_when_offline() {
    let mut shell = Shell::started(exact());
    shell.input(Input::Offline);
    assert_eq!(shell.connection(), Connection::Offline, "nothing open yet");
    shell.open();
    assert_eq!(
        shell.connection(),
        Connection::Connecting { attempt: 1 },
        "an open socket works whatever the browser believes"
    );
}

#[test]
fn the_rhythm_ignores_the_wait_before_the_job_ran() {
    // Pending for a while, then updates every second: a stall is judged
    // by the running rhythm, so the check comes 5 s after the last update.
    let mut shell = Shell::live(exact(), progress(1, 0.0, JobState::Pending));
    shell.advance(5_000);
    for seq in 2..6 {
        shell.advance(1_000);
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    let sent = shell.sent.len();
    shell.advance(5_000);
    assert_eq!(shell.sent.len(), sent + 1, "the early ping");
    assert_eq!(shell.connection(), Connection::Checking);
}

#[test]
fn the_stall_threshold_follows_the_smoothed_gap() {
    // Updates every 2 s: three gaps make 6 s, more than the 5 s minimum.
    let mut shell = Shell::live(exact(), running(1, 1.0));
    for seq in 2..12 {
        shell.advance(2_000);
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    let sent = shell.sent.len();
    shell.advance(5_999);
    assert_eq!(shell.sent.len(), sent, "not before 3 x 2 s");
    shell.advance(1);
    assert_eq!(shell.sent.len(), sent + 1);
}

#[test]
fn a_job_that_stops_running_gets_no_stall_checks() {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    for seq in 2..6 {
        shell.advance(1_000);
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    shell.frame(progress_frame(progress(6, 5.0, JobState::Pending)));
    let sent = shell.sent.len();
    shell.advance(20_000);
    assert_eq!(shell.sent.len(), sent, "waiting jobs are quiet by nature");
}

#[test]
fn bridge_polls_wait_for_the_network_while_offline() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Offline);
    shell.fail();
    shell.advance(10_000);
    assert!(shell.fetched.is_empty(), "no poll while offline");
}

#[test]
fn visible_exactly_at_the_restart_hint_cuts_the_jitter_short() {
    let mut shell = Shell::with_config(config(SessionOptions::default()), 7);
    shell.input(Input::Start);
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":3000}"#.into());
    shell.server_close(1012);
    let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert!(retry_at > 3_000, "jitter adds to the hint: {retry_at}");
    shell.session.handle(Input::Visible, 3_000);
    shell.drain();
    assert_eq!(
        shell.opens(),
        2,
        "the hint has passed: no need to wait for the jitter"
    );
}
