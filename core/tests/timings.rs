//! Retry, fallback and liveness timings on a fake clock.

mod common;

use common::*;
use upload_progress_core::session::{Connection, Input, Mode, SessionOptions};
use upload_progress_core::ClientMessage;

#[test]
fn first_connect_opens_a_socket_at_once_with_the_protocol_url() {
    let shell = Shell::started(exact());
    assert_eq!(shell.open_times(), [0]);
    assert_eq!(shell.opened[0].2, format!("ws://server/ws/progress/{JOB}"));
    assert_eq!(shell.connection(), Connection::Connecting { attempt: 1 });
    assert_eq!(shell.mode(), Mode::WebSocket);
}

#[test]
fn retries_wait_two_four_then_eight_seconds_before_polling() {
    let mut shell = Shell::started(exact());
    let gaps = fail_until_polling(&mut shell);
    assert_eq!(gaps, [2_000, 4_000, 8_000]);
    assert_eq!(shell.fetches.len(), 1, "polls at once when falling back");
}

#[test]
fn third_failed_retry_switches_to_polling() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    assert_eq!(shell.opens(), 4, "the first attempt and three retries");
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: Some(shell.now + 30_000)
        }
    );
}

#[test]
fn delays_are_capped_at_sixteen_seconds_when_more_retries_are_allowed() {
    let mut shell = Shell::started(SessionOptions {
        max_retries: 6,
        ..exact()
    });
    let gaps = fail_until_polling(&mut shell);
    assert_eq!(gaps, [2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
}

#[test]
fn reconnecting_status_counts_the_retry_and_shows_when_it_happens() {
    let mut shell = Shell::started(exact());
    shell.fail();
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            max_attempts: 3,
            retry_at: 2_000
        }
    );
    shell.advance_to(2_000);
    shell.fail();
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 2,
            max_attempts: 3,
            retry_at: 6_000
        }
    );
}

#[test]
fn jittered_delays_stay_within_zero_and_the_cap() {
    for seed in 0..200 {
        let mut shell = Shell::with_config(
            config(SessionOptions {
                max_retries: 6,
                ..SessionOptions::default()
            }),
            seed,
        );
        shell.input(Input::Start);
        let gaps = fail_until_polling(&mut shell);
        let caps = [2_000, 4_000, 8_000, 16_000, 16_000, 16_000];
        for (gap, cap) in gaps.iter().zip(caps) {
            assert!(*gap <= cap, "seed {seed}: {gap} > {cap}");
        }
    }
}

#[test]
fn different_seeds_give_different_delays() {
    let delays = |seed| {
        let mut shell = Shell::with_config(config(SessionOptions::default()), seed);
        shell.input(Input::Start);
        fail_until_polling(&mut shell)
    };
    assert_ne!(delays(1), delays(2));
    assert_eq!(
        delays(3),
        delays(3),
        "the same seed replays the same delays"
    );
}

#[test]
fn five_seconds_of_stable_uptime_resets_the_retry_count() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance_to(2_000);
    shell.fail();
    shell.advance_to(6_000);
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    shell.advance(5_000);
    shell.fail();
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            max_attempts: 3,
            retry_at: shell.now + 2_000
        }
    );
}

#[test]
fn a_socket_dropping_before_five_seconds_keeps_counting() {
    let mut shell = Shell::started(exact());
    shell.fail();
    shell.advance_to(2_000);
    shell.open();
    shell.frame(snapshot_frame(running(1, 10.0)));
    shell.advance(4_999);
    shell.fail();
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting { attempt: 2, .. }
    ));
}

#[test]
fn a_socket_not_open_after_ten_seconds_is_closed_and_counted() {
    let mut shell = Shell::started(exact());
    shell.advance(9_999);
    assert_eq!(shell.sockets.len(), 1);
    shell.advance(1);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].1, 4000);
    assert_eq!(shell.closed[0].2, "connect timeout");
    assert_eq!(
        shell.connection(),
        Connection::Reconnecting {
            attempt: 1,
            max_attempts: 3,
            retry_at: 12_000
        }
    );
}

#[test]
fn an_open_socket_without_a_snapshot_also_times_out() {
    let mut shell = Shell::started(exact());
    shell.advance(3_000);
    shell.open();
    shell.advance(7_000);
    assert_eq!(shell.closed.len(), 1);
}

#[test]
fn heartbeat_pings_every_thirty_seconds_and_measures_latency() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(30_000);
    assert_eq!(shell.sent.len(), 1);
    let ping: ClientMessage = serde_json::from_str(&shell.sent[0].2).unwrap();
    assert_eq!(ping, ClientMessage::Ping { id: 1 });
    shell.advance(120);
    shell.frame(r#"{"type":"pong","id":1,"server_ts_ms":5}"#.into());
    assert_eq!(shell.status().latency_ms, Some(120));
    shell.advance(29_880);
    assert_eq!(shell.sent.len(), 2);
    assert_eq!(shell.sent[1].0, 60_000);
}

#[test]
fn a_ping_unanswered_for_ten_seconds_closes_the_socket_as_a_transient_failure() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(30_000);
    shell.advance(9_999);
    assert!(shell.closed.is_empty());
    shell.advance(1);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].1, 4000);
    assert_eq!(shell.closed[0].2, "heartbeat timeout");
    // Up for 40 s, so the count had been reset: this is the first failure.
    assert!(matches!(
        shell.connection(),
        Connection::Reconnecting { attempt: 1, .. }
    ));
}

#[test]
fn any_frame_counts_as_an_answer_to_a_ping() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(30_000);
    shell.advance(5_000);
    shell.frame(progress_frame(running(2, 20.0)));
    shell.advance(9_000);
    assert!(shell.closed.is_empty());
    assert_eq!(shell.connection(), Connection::Connected);
    // The frame kept the socket alive but is not the pong: the ping stays
    // out, and its own pong still measures the round trip.
    assert_eq!(shell.status().latency_ms, None);
    shell.frame(r#"{"type":"pong","id":1,"server_ts_ms":0}"#.into());
    assert_eq!(shell.status().latency_ms, Some(14_000));
}

#[test]
fn a_late_timer_call_does_what_is_due_and_an_early_one_does_nothing() {
    let mut shell = Shell::started(exact());
    shell.fail();
    // Early: nothing.
    shell.jump_to(1_999);
    assert_eq!(shell.opens(), 1);
    // A throttled tab wakes up far too late: the retry happens now, once.
    shell.jump_to(50_000);
    assert_eq!(shell.open_times(), [0, 50_000]);
    assert_eq!(shell.session.poll_timeout(), Some(60_000));
}

#[test]
fn polling_repeats_every_three_seconds_after_each_answer() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    let start = shell.now;
    shell.advance(200);
    shell.reply(upload_progress_core::session::PollOutcome::Progress(
        running(3, 30.0),
    ));
    assert_eq!(shell.status().latency_ms, Some(200));
    shell.advance(3_000);
    assert_eq!(shell.fetched.len(), 2);
    assert_eq!(shell.fetched[1].0, start + 3_200);
    assert_eq!(
        shell.fetched[1].2.as_deref(),
        Some("\"3\""),
        "etag of the held seq"
    );
}

#[test]
fn a_poll_unanswered_for_ten_seconds_is_cancelled_and_retried() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.advance(10_000);
    assert_eq!(shell.cancelled.len(), 1);
    assert!(shell.status().last_error.is_some());
    shell.advance(3_000);
    assert_eq!(shell.fetched.len(), 2);
}

#[test]
fn polling_probes_the_socket_every_thirty_seconds() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    let fell_back = shell.now;
    let opens = shell.opens();
    shell.advance(29_999);
    assert_eq!(shell.opens(), opens);
    shell.advance(1);
    assert_eq!(shell.opens(), opens + 1);
    assert_eq!(
        shell.mode(),
        upload_progress_core::session::Mode::HttpPolling
    );
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: None
        }
    );
    shell.fail();
    assert_eq!(
        shell.connection(),
        Connection::Polling {
            next_probe_at: Some(fell_back + 60_000)
        }
    );
}

#[test]
fn a_probe_that_delivers_its_snapshot_returns_to_websocket_mode_and_stops_polling() {
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.advance(30_000);
    let fetches_before = shell.fetched.len();
    shell.open();
    assert_eq!(shell.mode(), Mode::HttpPolling, "open is not enough");
    shell.frame(snapshot_frame(running(5, 50.0)));
    assert_eq!(shell.mode(), Mode::WebSocket);
    assert_eq!(shell.connection(), Connection::Connected);
    assert!(shell.fetches.is_empty());
    // Up to just before the unanswered heartbeat would give up on it.
    shell.advance(39_000);
    assert_eq!(shell.fetched.len(), fetches_before, "no more polls");
}
