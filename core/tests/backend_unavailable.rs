//! A server whose shared job store is not reachable yet: 503 on polls and
//! close 4013 on sockets are transient, never "job not found".

mod common;

use common::*;
use upload_progress_core::session::{Connection, Mode, PollOutcome};
use upload_progress_core::{code, CloseClass};

#[test]
fn close_4013_is_a_transient_failure_retried_with_backoff() {
    assert_eq!(code::TEMPORARILY_UNAVAILABLE, 4013);
    assert_eq!(CloseClass::of(4013), CloseClass::Transient);
    let mut shell = Shell::started(exact());
    shell.open();
    shell.frame(snapshot_frame(progress(
        0,
        0.0,
        upload_progress_core::JobState::Pending,
    )));
    shell.frame(
        r#"{"type":"error","code":"unavailable","message":"the job store is not reachable yet"}"#
            .into(),
    );
    shell.server_close(4013);
    assert_retrying(&shell, 1);
    let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
        unreachable!()
    };
    shell.advance_to(retry_at);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn polls_answered_503_keep_polling_past_the_unknown_job_grace() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    // 40 s of 503 `unavailable`, far past the 10 s unknown-job grace.
    let until = shell.now + 40_000;
    while shell.now < until {
        shell.reply(PollOutcome::Http {
            status: 503,
            code: Some("unavailable".into()),
        });
        assert_eq!(shell.mode(), Mode::HttpPolling);
        shell.advance(3_000);
    }
    assert!(shell.failed.is_empty(), "{:?}", shell.failed);
    // The store is back: the job shows.
    shell.reply(PollOutcome::Progress(running(4, 40.0)));
    assert_eq!(shell.session.progress().map(|p| p.seq), Some(4));
}
