//! Every row of the close-code table: its class, and what the session does.

mod common;

use common::*;
use upload_progress_core::session::{Connection, ErrorKind, Input, Mode, PollOutcome};
use upload_progress_core::{CloseClass, JobState};

#[test]
fn close_codes_classify_as_the_design_table_says() {
    let table: &[(u16, CloseClass)] = &[
        (1000, CloseClass::JobFinished),
        (1001, CloseClass::ServerRestart),
        (1012, CloseClass::ServerRestart),
        (1006, CloseClass::Transient),
        (1011, CloseClass::Transient),
        (1014, CloseClass::Transient),
        (4000, CloseClass::Transient),
        (4001, CloseClass::Transient),
        (4429, CloseClass::Transient),
        (4499, CloseClass::Transient),
        (1013, CloseClass::ServerFull),
        (1008, CloseClass::Policy),
        (1009, CloseClass::Policy),
        (4400, CloseClass::Policy),
        (4401, CloseClass::Unauthorized),
        (4404, CloseClass::UnknownProcess),
    ];
    for (code, class) in table {
        assert_eq!(CloseClass::of(*code), *class, "code {code}");
    }
}

#[test]
fn close_classes_agree_with_their_predicates() {
    for code in 0..=u16::MAX {
        let class = CloseClass::of(code);
        let kinds = [class.is_terminal(), class.is_transient(), class.is_auth()];
        assert_eq!(kinds.iter().filter(|k| **k).count(), 1, "code {code}");
    }
}

#[test]
fn close_1000_after_a_terminal_frame_finishes_without_reconnecting() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(progress_frame(progress(2, 100.0, JobState::Completed)));
    assert!(shell.is_finished(JobState::Completed));
    assert_eq!(shell.closed.last().unwrap().1, 1000);
    assert_eq!(shell.session.poll_timeout(), None);
    assert_eq!(shell.mode(), Mode::None);
}

#[test]
fn close_1000_without_a_terminal_state_polls_once_for_the_final_state() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.server_close(1000);
    assert_eq!(shell.fetches.len(), 1);
    shell.reply(PollOutcome::Progress(progress(9, 100.0, JobState::Failed)));
    assert!(shell.is_finished(JobState::Failed));
    assert_eq!(shell.opens(), 1, "no new socket");
    assert_eq!(shell.session.poll_timeout(), None);
}

#[test]
fn close_1001_reconnects_soon_without_counting_a_failure() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.server_close(1001);
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            max_attempts: 3,
            retry_at: 2_000
        }
    );
    assert_eq!(
        shell.status().last_error.as_ref().unwrap().kind,
        ErrorKind::Server
    );
}

#[test]
fn close_1012_honours_the_retry_after_of_a_server_shutdown_frame() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":1000}"#.into());
    shell.server_close(1012);
    shell.advance(999);
    assert_eq!(shell.opens(), 1);
    shell.advance(1);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn repeated_restarts_never_fall_back_to_polling() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    for _ in 0..10 {
        shell.server_close(1012);
        shell.advance(2_000);
    }
    assert_eq!(shell.mode(), Mode::WebSocket);
    assert!(
        shell.statuses.iter().all(|s| s.mode != Mode::HttpPolling),
        "restarts are not failures: no fallback to polling"
    );
}

#[test]
fn close_1006_backs_off_and_counts() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.server_close(1006);
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            retry_at: 2_000,
            ..
        }
    ));
    assert_eq!(
        shell.status().last_error.as_ref().unwrap().kind,
        ErrorKind::Network
    );
}

#[test]
fn close_1011_1014_and_4000_range_back_off_like_1006() {
    for code in [1011, 1014, 4000, 4429] {
        let mut shell = Shell::live(exact(), running(1, 10.0));
        shell.server_close(code);
        assert!(
            matches!(
                shell.connection(),
                Connection::Reconnecting { attempt: 1, .. }
            ),
            "code {code}"
        );
    }
}

#[test]
fn close_1013_waits_the_server_full_delay_and_polls_meanwhile() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.server_close(1013);
    assert_eq!(shell.mode(), Mode::HttpPolling);
    assert_eq!(shell.fetches.len(), 1);
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: Some(30_000)
        }
    );
    shell.reply(PollOutcome::NotModified);
    shell.advance_to(30_000);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn close_1008_stops_with_a_policy_error() {
    for code in [1008, 1009, 4400] {
        let mut shell = Shell::live(exact(), running(1, 10.0));
        shell.server_close(code);
        let Connection::Stopped { error: Some(error) } = shell.connection() else {
            panic!("code {code}: {:?}", shell.connection());
        };
        assert_eq!(error.kind, ErrorKind::Policy);
        assert!(!error.hint.is_empty());
        assert_eq!(shell.session.poll_timeout(), None);
    }
}

#[test]
fn close_4404_stops_with_not_found() {
    let mut shell = Shell::live(exact(), progress(0, 0.0, JobState::Pending));
    shell.server_close(4404);
    let Connection::Stopped { error: Some(error) } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert_eq!(error.kind, ErrorKind::NotFound);
}

#[test]
fn close_4401_refreshes_the_token_once_and_retries_with_it() {
    let mut shell = Shell::started(exact());
    shell.server_close(4401);
    assert_eq!(shell.refreshes, 1);
    assert!(shell.sockets.is_empty());
    shell.input(Input::TokenReady {
        token: Some("fresh tok".into()),
    });
    assert_eq!(shell.opens(), 2);
    assert!(shell.opened[1].2.ends_with("?token=fresh%20tok"));
}

#[test]
fn a_second_4401_stops_with_an_auth_error() {
    let mut shell = Shell::started(exact());
    shell.server_close(4401);
    shell.input(Input::TokenReady {
        token: Some("t2".into()),
    });
    shell.server_close(4401);
    assert_eq!(shell.refreshes, 1);
    let Connection::Stopped { error: Some(error) } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert_eq!(error.kind, ErrorKind::Auth);
}

#[test]
fn a_token_provider_without_a_token_stops_with_an_auth_error() {
    let mut shell = Shell::started(exact());
    shell.server_close(4401);
    shell.input(Input::TokenReady { token: None });
    assert!(matches!(
        shell.connection(),
        Connection::Stopped { error: Some(e) } if e.kind == ErrorKind::Auth
    ));
}

#[test]
fn a_token_provider_that_never_answers_stops_after_the_connect_timeout() {
    let mut shell = Shell::started(exact());
    shell.server_close(4401);
    shell.advance(10_000);
    assert!(matches!(
        shell.connection(),
        Connection::Stopped { error: Some(e) } if e.kind == ErrorKind::Auth
    ));
}

#[test]
fn an_error_frame_is_recorded_as_the_last_error() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"error","code":"rate_limited","message":"Too many messages"}"#.into());
    let error = shell.status().last_error.clone().unwrap();
    assert_eq!(error.kind, ErrorKind::Policy);
    assert!(error.message.contains("Too many messages"));
}

#[test]
fn an_abrupt_close_after_a_shutdown_frame_counts_as_a_restart() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":700}"#.into());
    shell.server_close(1006);
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            max_attempts: 3,
            retry_at: 700
        }
    );
    // Not counted: three real failures are still allowed before polling.
    shell.advance_to(700);
    let gaps = fail_until_polling(&mut shell);
    assert_eq!(gaps, [2_000, 4_000, 8_000]);
}

#[test]
fn a_shutdown_hint_is_bounded() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":99999999999}"#.into());
    shell.server_close(1012);
    let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
        panic!("{:?}", shell.connection());
    };
    assert_eq!(retry_at, 30_000);
}

#[test]
fn a_token_handed_over_unasked_is_used_for_the_next_socket() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.input(Input::TokenReady {
        token: Some("newer".into()),
    });
    assert_eq!(shell.refreshes, 0);
    shell.server_close(1001);
    shell.advance(2_000);
    assert!(shell.opened.last().unwrap().2.ends_with("?token=newer"));
}

#[test]
fn unreadable_frames_are_ignored_but_prove_the_socket_alive() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(30_000);
    shell.advance(9_000);
    shell.frame("{garbage".into());
    shell.advance(5_000);
    assert!(shell.closed.is_empty());
    assert_eq!(shell.session.progress().unwrap().seq, 1);
}

#[test]
fn frames_about_another_job_are_ignored() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    let mut other = running(5, 50.0);
    other.process_id = upload_progress_core::ProcessId::parse("another_job").unwrap();
    shell.frame(progress_frame(other));
    assert_eq!(shell.session.progress().unwrap().seq, 1);
    assert_eq!(shell.shown.len(), 1);
}
