//! Paths on which a session used to stop trying, flap forever or ignore the
//! server. Each test replays the exact input sequence that exposed one.

mod common;

use common::*;
use upload_progress_core::session::{Connection, Input, Mode, PollOutcome, SessionOptions};
use upload_progress_core::JobState;

/// A: a 401 on a poll while a probe socket was out must not end probing.
#[test]
fn a_poll_401_during_a_probe_keeps_probing() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    shell.advance(30_000);
    assert!(shell.socket().is_some(), "the probe is out");
    let opens_before = shell.opens();
    shell.reply(PollOutcome::Http {
        status: 401,
        code: Some("token_expired".into()),
    });
    shell.input(Input::TokenReady {
        token: Some("fresh".into()),
    });
    // Every probe fails from here on; the session must keep trying.
    for _ in 0..20 {
        shell.advance(30_000);
        if shell.socket().is_some() {
            shell.fail();
        }
        if !shell.fetches.is_empty() {
            shell.reply(PollOutcome::NotModified);
        }
    }
    assert!(
        shell.opens() >= opens_before + 10,
        "probing stopped after the 401: {} opens",
        shell.opens()
    );
}

/// B: a socket that opens and never sends its snapshot is a failed attempt,
/// and a streak of them falls back to polling instead of flapping.
#[test]
fn sockets_that_open_but_never_deliver_fall_back_to_polling() {
    let mut shell = Shell::started(exact());
    for _ in 0..10 {
        if shell.mode() == Mode::HttpPolling {
            break;
        }
        if shell.socket().is_none() {
            let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
                panic!("neither a socket nor a backoff: {:?}", shell.connection());
            };
            shell.advance_to(retry_at);
        }
        shell.open();
        // Silent until the connect timeout gives up on it.
        shell.advance(10_000);
    }
    assert_eq!(shell.mode(), Mode::HttpPolling, "{:?}", shell.connection());
    assert_eq!(shell.opens(), 4, "the first attempt and three retries");
}

/// B: a silent socket that stays open past `stable_after_ms` does not reset the count.
#[test]
fn uptime_without_a_snapshot_does_not_reset_the_retry_count() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance_to(2_000);
    shell.open();
    shell.advance(6_000); // up 6 s, still no snapshot
    shell.fail();
    assert_retrying(&shell, 2);
}

/// C: overdue timers run before an input, against the clock passed in.
#[test]
fn a_late_input_first_settles_the_deadlines_that_passed() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    // Back on the socket through a probe...
    shell.advance(30_000);
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    assert_eq!(shell.mode(), Mode::WebSocket);
    // ...then a throttled tab: no timer call for 50 s, and the socket drops.
    shell.now += 50_000;
    shell.fail();
    // A socket up 50 s is not a fresh failure.
    assert_retrying(&shell, 1);
}

/// C, the original sequence: three failures, then a socket up 50 s.
#[test]
fn a_socket_up_for_a_long_throttled_time_resets_the_count() {
    let mut shell = Shell::started(SessionOptions {
        max_retries: 4,
        ..exact()
    });
    for _ in 0..3 {
        shell.fail();
        let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
            panic!("expected a backoff");
        };
        shell.advance_to(retry_at);
    }
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    shell.now = 64_000;
    shell.fail();
    assert_retrying(&shell, 1);
}

/// D: a progress frame between a ping and its pong does not lose the latency.
#[test]
fn latency_is_measured_by_the_pong_even_with_frames_in_between() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(30_000);
    assert_eq!(shell.sent.len(), 1, "the heartbeat ping");
    shell.advance(20);
    shell.frame(progress_frame(running(2, 20.0)));
    shell.advance(30);
    shell.frame(r#"{"type":"pong","id":1,"server_ts_ms":1}"#.into());
    assert_eq!(shell.status().latency_ms, Some(50));
}

/// E: the server's `retry_after_ms` wins over visible / online / pageshow.
#[test]
fn lifecycle_shortcuts_wait_for_the_servers_restart_hint() {
    for input in [
        Input::Visible,
        Input::Online,
        Input::PageShow { persisted: false },
    ] {
        let mut shell = Shell::live(exact(), running(1, 10.0));
        shell.frame(r#"{"type":"server_shutdown","retry_after_ms":5000}"#.into());
        shell.server_close(1012);
        shell.advance(1_500);
        shell.input(input.clone());
        assert_eq!(shell.opens(), 1, "{input:?} reconnected before the hint");
        shell.advance_to(5_000);
        assert_eq!(
            shell.opens(),
            2,
            "{input:?}: reconnects once the hint has passed"
        );
    }
}

/// E: a pagehide / pageshow pair during a restart wait also honours the hint.
#[test]
fn page_show_after_page_hide_waits_for_the_restart_hint() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.frame(r#"{"type":"server_shutdown","retry_after_ms":5000}"#.into());
    shell.server_close(1012);
    shell.advance(1_000);
    shell.input(Input::PageHide);
    shell.advance(500);
    shell.input(Input::PageShow { persisted: true });
    assert_eq!(shell.opens(), 1);
    shell.advance_to(5_000);
    assert_eq!(shell.opens(), 2);
}

/// F: without automatic retry, the final state after a 1000 close is still fetched.
#[test]
fn without_auto_retry_a_page_show_after_a_normal_close_still_fetches_the_final_state() {
    let mut shell = Shell::live(
        SessionOptions {
            auto_retry: false,
            ..exact()
        },
        running(1, 90.0),
    );
    shell.server_close(1000);
    shell.input(Input::PageHide);
    shell.input(Input::PageShow { persisted: true });
    if shell.socket().is_some() {
        shell.fail();
    }
    assert!(
        !matches!(shell.connection(), Connection::Stopped { .. }),
        "stopped before fetching the final state: {:?}",
        shell.connection()
    );
    shell.reply(PollOutcome::Progress(progress(
        2,
        100.0,
        JobState::Completed,
    )));
    assert!(shell.is_finished(JobState::Completed));
}

/// G: a token accepted over HTTP but refused on the socket does not loop without delay.
#[test]
fn a_socket_that_keeps_refusing_the_token_is_retried_through_backoff() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(PollOutcome::NotModified);
    let mut refusals = 0;
    let start = shell.now;
    while shell.now < start + 120_000 {
        shell.advance(1_000);
        if shell.socket().is_some() {
            shell.open();
            shell.server_close(4401);
            refusals += 1;
        }
        if shell.refreshes > 0 && shell.connection() != Connection::Idle {
            shell.input(Input::TokenReady {
                token: Some(format!("t{refusals}")),
            });
        }
        if !shell.fetches.is_empty() {
            shell.reply(PollOutcome::NotModified);
        }
    }
    // One probe per probe interval at most: about four in two minutes.
    assert!(
        refusals <= 5,
        "{refusals} refused sockets in 120 s: the refresh loop has no delay"
    );
}
