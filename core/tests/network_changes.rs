//! Network changes and Reconnect while offline.

mod common;

use common::*;
use upload_progress_core::session::{Connection, Input, SessionEvent};

/// A running job delivering every second.
fn flowing() -> Shell {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    for seq in 2..5 {
        shell.advance(1_000);
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    shell
}

fn checks(shell: &Shell) -> usize {
    shell
        .events
        .iter()
        .filter(|(_, e)| *e == SessionEvent::NetworkCheck)
        .count()
}

#[test]
fn a_network_change_or_coming_online_checks_a_live_socket_at_once() {
    for input in [Input::NetworkChanged, Input::Online] {
        let mut shell = flowing();
        let pings = shell.sent.len();
        shell.input(input.clone());
        assert_eq!(shell.sent.len(), pings + 1, "{input:?}: an early ping");
        assert_eq!(checks(&shell), 1, "{input:?}");
        assert_eq!(shell.connection(), Connection::Checking, "{input:?}");
        // The socket was bound to the old network: nothing comes back.
        shell.advance(5_000);
        assert_eq!(
            shell.closed.last().map(|c| c.2.as_str()),
            Some("heartbeat timeout"),
            "{input:?}"
        );
        assert_eq!(shell.opens(), 1, "{input:?}: the retry waits its backoff");
    }
}

#[test]
fn a_socket_that_answers_the_network_check_stays() {
    let mut shell = flowing();
    shell.input(Input::NetworkChanged);
    let id = shell.sent.len();
    shell.advance(30);
    shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
    assert_eq!(shell.connection(), Connection::Connected);
    shell.advance(1_000);
    shell.frame(progress_frame(running(9, 9.0)));
    shell.advance(1_000);
    assert_eq!(shell.connection(), Connection::Connected);
    assert!(shell.closed.is_empty());
}

#[test]
fn a_burst_of_network_changes_sends_one_check() {
    let mut shell = flowing();
    let pings = shell.sent.len();
    shell.input(Input::NetworkChanged);
    shell.input(Input::Online);
    shell.input(Input::NetworkChanged);
    assert_eq!(shell.sent.len(), pings + 1);
}

#[test]
fn a_network_change_cuts_a_backoff_short() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance(1_500);
    shell.input(Input::NetworkChanged);
    assert_eq!(shell.open_times(), [0, 1_500]);
}

#[test]
fn a_network_change_while_offline_retries_nothing() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.input(Input::Offline);
    shell.advance(5_000);
    shell.input(Input::NetworkChanged);
    assert_eq!(shell.opens(), 1);
    assert_eq!(shell.connection(), Connection::Offline);
}

#[test]
fn reconnect_while_offline_tries_at_once_says_offline_and_does_not_count() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::Offline);
    shell.fail();
    assert_eq!(shell.connection(), Connection::Offline);
    // Pressed three times, each after the last attempt failed.
    for n in 1..=3 {
        shell.advance(2_000);
        shell.input(Input::Reconnect);
        assert_eq!(shell.opens(), 1 + n, "tried at once");
        assert_eq!(shell.connection(), Connection::Offline, "still offline");
        shell.fail();
        assert_eq!(shell.connection(), Connection::Offline);
        assert!(
            !shell
                .events
                .iter()
                .any(|(_, e)| matches!(e, SessionEvent::BackoffChosen { .. })),
            "no backoff step while offline"
        );
    }
    // Nothing on its own while offline, and back online the streak starts
    // at attempt 1: none of the offline attempts counted.
    shell.advance(60_000);
    assert_eq!(shell.opens(), 4);
    shell.input(Input::Online);
    assert_eq!(shell.opens(), 5);
    assert_eq!(shell.connection(), Connection::Connecting { attempt: 1 });
    shell.fail();
    assert_retrying(&shell, 1);
}

#[test]
fn reconnect_while_offline_that_gets_through_shows_connected() {
    // The browser's flag was wrong: the attempt delivers.
    let mut shell = Shell::started(exact());
    shell.input(Input::Offline);
    shell.input(Input::Reconnect);
    shell.open();
    shell.frame(snapshot_frame(running(2, 20.0)));
    assert_eq!(shell.connection(), Connection::Connected);
}
