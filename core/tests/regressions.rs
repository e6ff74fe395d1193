//! Failure stories seen in the field, each pinned by a test.

mod common;

use common::*;
use upload_progress_core::session::{Action, Connection, Input};
use upload_progress_core::JobState;

fn scheduled_retries(shell: &Shell) -> usize {
    shell
        .statuses
        .iter()
        .filter(|s| matches!(s.connection, Connection::Reconnecting { .. }))
        .count()
}

#[test]
fn error_then_close_schedules_exactly_one_reconnect() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    let attempt = shell.attempt();
    shell.input(Input::SocketError { attempt });
    shell.input(Input::SocketClosed {
        attempt,
        code: 1006,
        reason: String::new(),
        was_clean: false,
    });
    assert_eq!(scheduled_retries(&shell), 1);
    shell.advance(9_999);
    assert_eq!(shell.opens(), 2, "one retry, not two");
    assert_eq!(shell.connection(), Connection::Connecting { attempt: 1 });
}

#[test]
fn close_while_connecting_backs_off_once() {
    let mut shell = Shell::started(exact());
    shell.server_close(1006);
    assert_eq!(shell.sockets.len(), 0);
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            retry_at: 2_000,
            ..
        }
    ));
    // The connect timeout of the dead attempt must not fire later.
    shell.advance(1_999);
    assert_eq!(shell.opens(), 1);
    assert!(shell.closed.is_empty());
}

#[test]
fn retry_after_stop_does_nothing() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.input(Input::Stop);
    assert_eq!(shell.session.poll_timeout(), None);
    shell.advance(100_000);
    shell.input(Input::Online);
    assert_eq!(shell.opens(), 1);
}

#[test]
fn reconnect_after_job_completed_does_nothing() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(progress_frame(progress(2, 100.0, JobState::Completed)));
    shell.input(Input::Reconnect);
    shell.input(Input::PageShow { persisted: true });
    assert_eq!(shell.opens(), 1);
    assert!(shell.is_finished(JobState::Completed));
}

#[test]
fn late_join_after_completion_shows_the_final_state_immediately() {
    let mut shell = Shell::started(exact());
    shell.open();
    shell.frame(snapshot_frame(progress(12, 100.0, JobState::Completed)));
    assert!(shell.is_finished(JobState::Completed));
    assert_eq!(shell.shown.len(), 1);
    assert_eq!(shell.session.progress().unwrap().state, JobState::Completed);
    // The client closes first; the server's own 1000 close is then stale.
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.session.poll_timeout(), None);
}

#[test]
fn events_of_a_replaced_socket_produce_no_action() {
    let mut shell = Shell::started(exact());
    let old = shell.attempt();
    shell.fail();
    shell.advance(2_000);
    let before = shell.log.len();
    for input in [
        Input::SocketOpened { attempt: old },
        Input::SocketMessage {
            attempt: old,
            text: snapshot_frame(running(9, 90.0)),
        },
        Input::SocketError { attempt: old },
        Input::SocketClosed {
            attempt: old,
            code: 4401,
            reason: String::new(),
            was_clean: true,
        },
    ] {
        shell.input(input);
    }
    assert_eq!(shell.log.len(), before);
}

#[test]
fn duplicate_reordered_and_replayed_frames_never_show() {
    let mut shell = Shell::live(exact(), running(3, 30.0));
    for seq in [3, 2, 1, 3] {
        shell.frame(progress_frame(running(seq, 10.0 * seq as f64)));
    }
    shell.frame(progress_frame(running(5, 50.0)));
    shell.frame(progress_frame(running(4, 40.0)));
    let seqs: Vec<u64> = shell.shown.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [3, 5]);
}

#[test]
fn a_newer_frame_with_a_lower_percent_does_not_move_the_bar_back() {
    let mut shell = Shell::live(exact(), running(3, 30.0));
    shell.frame(progress_frame(running(4, 12.0)));
    assert_eq!(shell.session.progress().unwrap().percent, 30.0);
    assert_eq!(shell.session.progress().unwrap().seq, 4);
}

#[test]
fn status_changes_are_announced_once_each() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    // The harness rejects duplicates; check the sequence too.
    let connections: Vec<Connection> = shell
        .statuses
        .iter()
        .map(|s| s.connection.clone())
        .collect();
    assert_eq!(connections[0], Connection::Connecting { attempt: 1 });
    assert_eq!(connections.last(), Some(&Connection::Connected));
    let n = shell.statuses.len();
    shell.input(Input::Visible);
    assert_eq!(shell.statuses.len(), n);
    assert!(!shell
        .log
        .iter()
        .skip(1)
        .any(|(_, a)| matches!(a, Action::OpenSocket { .. })));
}

#[test]
fn a_debug_printed_session_does_not_show_its_token() {
    let config = upload_progress_core::session::SessionConfig {
        token: Some("s3cret-token".into()),
        token_expires_at: None,
        token_provider: true,
        ..config(exact())
    };
    let session = upload_progress_core::Session::new(config, 1);
    let printed = format!("{session:?}");
    assert!(!printed.contains("s3cret-token"), "{printed}");
    assert!(printed.contains("has_token: true"));
}
