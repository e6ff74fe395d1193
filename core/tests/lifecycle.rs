//! Lifecycle inputs: online, offline, visible, hidden, pagehide, pageshow, reconnect, stop.

mod common;

use common::*;
use upload_progress_core::session::{
    Connection, ErrorKind, Input, Mode, PollOutcome, SessionOptions,
};
use upload_progress_core::JobState;

fn polling_shell() -> Shell {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    shell
}

#[test]
fn offline_pauses_a_pending_retry_and_shows_offline() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.input(Input::Offline);
    assert_eq!(shell.connection(), Connection::Offline);
    assert_eq!(shell.mode(), Mode::None);
    assert_eq!(shell.session.poll_timeout(), None);
    shell.advance(60_000);
    assert_eq!(shell.opens(), 1);
}

#[test]
fn offline_checks_an_open_socket_without_closing_it() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Offline);
    assert!(shell.closed.is_empty());
    // Not trusted blindly either: an early ping is out and the UI says so.
    assert_eq!(shell.connection(), Connection::Checking);
    // When it does die, nothing is retried until the network is back.
    shell.fail();
    assert_eq!(shell.connection(), Connection::Offline);
    shell.advance(60_000);
    assert_eq!(shell.opens(), 1);
}

#[test]
fn offline_pauses_polling_and_probing() {
    let mut shell = polling_shell();
    let fetches = shell.fetched.len();
    let opens = shell.opens();
    shell.input(Input::Offline);
    shell.advance(120_000);
    assert_eq!(shell.fetched.len(), fetches);
    assert_eq!(shell.opens(), opens);
}

#[test]
fn online_retries_a_backoff_at_once() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.input(Input::Offline);
    shell.advance(5_000);
    shell.input(Input::Online);
    assert_eq!(shell.open_times(), [0, 5_000]);
    assert_eq!(shell.connection(), Connection::Connecting { attempt: 1 });
}

#[test]
fn online_polls_at_once_when_polling() {
    let mut shell = polling_shell();
    let fetches = shell.fetched.len();
    shell.advance(1_500);
    shell.input(Input::Online);
    assert_eq!(shell.fetched.len(), fetches + 1);
}

#[test]
fn a_burst_of_online_visible_and_pageshow_makes_one_attempt() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance(1_500);
    shell.input(Input::Online);
    shell.input(Input::Visible);
    shell.input(Input::PageShow { persisted: false });
    assert_eq!(shell.opens(), 2);
    shell.fail();
    shell.advance(10);
    shell.input(Input::Visible);
    assert_eq!(shell.opens(), 2, "an attempt 10 ms ago is recent enough");
}

#[test]
fn visible_retries_a_backoff_at_once() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance(1_500);
    shell.input(Input::Visible);
    assert_eq!(shell.open_times(), [0, 1_500]);
}

#[test]
fn visible_does_nothing_to_a_connected_socket() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    let before = shell.log.len();
    shell.input(Input::Visible);
    assert_eq!(shell.log.len(), before);
}

#[test]
fn hidden_keeps_the_socket_and_its_heartbeat() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Hidden);
    assert!(shell.closed.is_empty());
    assert_eq!(shell.connection(), Connection::Connected);
    shell.advance(30_000);
    assert_eq!(shell.sent.len(), 1, "heartbeat continues");
}

#[test]
fn pagehide_closes_the_socket_and_waits() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::PageHide);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].1, 1000);
    assert_eq!(shell.closed[0].2, "page hidden");
    assert_eq!(shell.session.poll_timeout(), None);
    assert_eq!(shell.mode(), Mode::None);
    shell.advance(120_000);
    assert_eq!(shell.opens(), 1);
}

#[test]
fn pagehide_while_polling_cancels_the_fetch() {
    let mut shell = polling_shell();
    shell.advance(3_000);
    assert_eq!(shell.fetches.len(), 1);
    shell.input(Input::PageHide);
    assert!(shell.fetches.is_empty());
    assert_eq!(shell.session.poll_timeout(), None);
}

#[test]
fn pageshow_from_the_back_forward_cache_reconnects_at_once() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::PageHide);
    shell.advance(60_000);
    shell.input(Input::PageShow { persisted: true });
    assert_eq!(shell.open_times(), [0, 60_000]);
    shell.open();
    shell.frame(snapshot_frame(running(5, 60.0)));
    assert_eq!(shell.connection(), Connection::Connected);
    assert_eq!(shell.session.progress().unwrap().seq, 5);
}

#[test]
fn pageshow_after_polling_polls_and_probes_at_once() {
    let mut shell = polling_shell();
    shell.input(Input::PageHide);
    let fetches = shell.fetched.len();
    let opens = shell.opens();
    shell.advance(5_000);
    shell.input(Input::PageShow { persisted: true });
    assert_eq!(shell.fetched.len(), fetches + 1);
    assert_eq!(shell.opens(), opens + 1);
    assert_eq!(shell.mode(), Mode::HttpPolling);
}

#[test]
fn reconnect_resets_the_backoff_and_connects_now() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance_to(2_000);
    shell.fail();
    shell.advance(100);
    shell.input(Input::Reconnect);
    assert_eq!(shell.open_times(), [0, 2_000, 2_100]);
    shell.fail();
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting { attempt: 1, .. }
    ));
}

#[test]
fn reconnect_from_polling_cancels_the_fetch_and_opens_a_socket() {
    let mut shell = polling_shell();
    shell.advance(3_000);
    assert_eq!(shell.fetches.len(), 1);
    shell.input(Input::Reconnect);
    assert!(shell.fetches.is_empty());
    assert_eq!(shell.mode(), Mode::WebSocket);
    assert_eq!(shell.connection(), Connection::Connecting { attempt: 1 });
}

#[test]
fn reconnect_revives_a_session_stopped_by_an_error() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.server_close(4400);
    assert!(matches!(
        shell.connection(),
        Connection::Stopped { error: Some(_) }
    ));
    shell.input(Input::Reconnect);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn reconnect_keeps_a_socket_that_is_already_connecting() {
    let mut shell = Shell::started(exact());
    shell.input(Input::Reconnect);
    assert_eq!(shell.opens(), 1);
    assert!(shell.closed.is_empty());
}

#[test]
fn stop_closes_everything_and_nothing_follows() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Stop);
    assert_eq!(shell.connection(), Connection::Stopped { error: None });
    assert!(shell.sockets.is_empty());
    assert_eq!(shell.session.poll_timeout(), None);
    for input in [
        Input::Reconnect,
        Input::Online,
        Input::Visible,
        Input::PageShow { persisted: true },
        Input::Start,
    ] {
        shell.input(input);
    }
    shell.advance(600_000);
    assert_eq!(shell.opens(), 1);
}

#[test]
fn stop_while_polling_cancels_the_fetch() {
    let mut shell = polling_shell();
    shell.advance(3_000);
    shell.input(Input::Stop);
    assert!(shell.fetches.is_empty());
    assert_eq!(shell.cancelled.len(), 1);
}

#[test]
fn auto_retry_off_stops_with_an_error_and_waits_for_reconnect() {
    let mut shell = Shell::live(
        SessionOptions {
            auto_retry: false,
            ..exact()
        },
        running(1, 10.0),
    );
    shell.fail();
    let Connection::Stopped { error: Some(error) } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert_eq!(error.kind, ErrorKind::Network);
    shell.advance(600_000);
    assert_eq!(shell.opens(), 1);
    shell.input(Input::Reconnect);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn lifecycle_inputs_after_the_job_finished_do_nothing() {
    let mut shell = Shell::live(exact(), progress(3, 100.0, JobState::Completed));
    let before = shell.log.len();
    for input in [
        Input::Offline,
        Input::Online,
        Input::Visible,
        Input::Hidden,
        Input::PageHide,
        Input::PageShow { persisted: true },
        Input::Reconnect,
        Input::Stop,
        Input::Start,
    ] {
        shell.input(input);
    }
    assert_eq!(shell.log.len(), before);
    assert!(shell.is_finished(JobState::Completed));
}

#[test]
fn reconnect_replaces_an_open_socket_with_a_fresh_one() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Reconnect);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].2, "reconnect");
    assert_eq!(shell.opens(), 2);
    shell.input(Input::Reconnect);
    assert_eq!(
        shell.opens(),
        2,
        "a second click while connecting changes nothing"
    );
}

#[test]
fn auto_retry_off_still_polls_for_a_missed_final_state_without_probing() {
    let mut shell = Shell::live(
        SessionOptions {
            auto_retry: false,
            ..exact()
        },
        running(1, 10.0),
    );
    shell.server_close(1000);
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: None
        }
    );
    shell.reply(PollOutcome::NotModified);
    shell.advance(120_000);
    assert_eq!(shell.opens(), 1);
    shell.reply(PollOutcome::Progress(progress(
        2,
        100.0,
        JobState::Completed,
    )));
    assert!(shell.is_finished(JobState::Completed));
}
