//! Frozen, asleep and throttled pages on a fake clock.
//!
//! A frozen page runs nothing; when it wakes, the timers that came due and
//! the frames the browser queued meanwhile arrive together, in an order the
//! engine picks. These tables drive every order and check that a socket
//! which went silent during the freeze is found out soon after the wake,
//! that one which is still fine is kept, and that late timers alone never
//! condemn a socket.

mod common;

use common::*;
use upload_progress_core::session::{
    Connection, Input, Millis, SessionEvent, LATE_TIMER_TOLERANCE_MS,
};

/// A running job whose updates arrive every `gap` ms, up to `until`.
fn flowing_until(gap: Millis, until: Millis) -> (Shell, u64) {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    let mut seq = 1;
    while shell.now + gap <= until {
        shell.advance(gap);
        seq += 1;
        shell.frame(progress_frame(running(seq, seq as f64)));
    }
    (shell, seq)
}

/// What reaches the page first when it wakes: the queued frames, the
/// overdue timer, or the `resume` event.
#[derive(Debug, Clone, Copy)]
enum Wake {
    /// The queued frames, then the overdue timer.
    Frames,
    /// The overdue timer, then the queued frames.
    Timer,
    /// The `resume` event, then the frames, then the timer.
    ResumeEvent,
}

struct Freeze {
    freeze_ms: Millis,
    /// Frames the server sent after the freeze began and before it went
    /// silent, which the browser queued.
    queued: u64,
    wake: Wake,
}

/// Freezes a flowing page at 10 s for `freeze_ms`, wakes it in the given
/// order, and returns the shell at the wake with the next seq.
fn freeze_and_wake(f: &Freeze) -> (Shell, u64) {
    let (mut shell, mut seq) = flowing_until(250, 10_000);
    // Nothing runs while frozen: no timer call, no input.
    let wake_at = shell.now + f.freeze_ms;
    shell.now = wake_at;
    let mut queued = Vec::new();
    for _ in 0..f.queued {
        seq += 1;
        queued.push(progress_frame(running(seq, seq as f64)));
    }
    let deliver = |shell: &mut Shell, frames: &mut Vec<String>| {
        for frame in frames.drain(..) {
            shell.frame(frame);
        }
    };
    match f.wake {
        Wake::Frames => {
            deliver(&mut shell, &mut queued);
            shell.jump_to(wake_at);
        }
        Wake::Timer => {
            shell.jump_to(wake_at);
            deliver(&mut shell, &mut queued);
        }
        Wake::ResumeEvent => {
            shell.input(Input::Resumed);
            deliver(&mut shell, &mut queued);
            shell.jump_to(wake_at);
        }
    }
    (shell, seq)
}

fn table() -> Vec<Freeze> {
    let mut rows = Vec::new();
    for freeze_ms in [25_000, 60_000] {
        for queued in [0, 1, 4] {
            for wake in [Wake::Frames, Wake::Timer, Wake::ResumeEvent] {
                rows.push(Freeze {
                    freeze_ms,
                    queued,
                    wake,
                });
            }
        }
    }
    rows
}

#[test]
fn a_socket_that_went_silent_during_a_freeze_is_found_out_soon_after_the_wake() {
    for row in table() {
        let label = format!(
            "freeze {} ms, {} queued, {:?}",
            row.freeze_ms, row.queued, row.wake
        );
        let (mut shell, _) = freeze_and_wake(&row);
        let wake_at = shell.now;
        let statuses_before = shell.statuses.len();
        let opens_before = shell.opens();
        // The server stays silent: no pong, no frame.
        shell.advance(10_000);
        assert!(
            shell.closed.iter().any(|c| c.1 == 4000),
            "{label}: the silent socket was not given up within 10 s of the wake: {:?}",
            shell.connection()
        );
        let given_up_at = shell
            .log
            .iter()
            .find(|(t, a)| {
                *t >= wake_at
                    && matches!(a, upload_progress_core::session::Action::CloseSocket { .. })
            })
            .map(|(t, _)| *t)
            .unwrap();
        assert!(
            given_up_at - wake_at <= 5_000,
            "{label}: given up {} ms after the wake",
            given_up_at - wake_at
        );
        // Never "connected" from the wake on: the queued frames are old news.
        assert!(
            shell.statuses[statuses_before..]
                .iter()
                .all(|s| s.connection != Connection::Connected),
            "{label}: showed connected after the wake: {:?}",
            &shell.statuses[statuses_before..]
        );
        // No burst: at most one new socket in those 10 s.
        assert!(
            shell.opens() - opens_before <= 1,
            "{label}: {} sockets opened",
            shell.opens() - opens_before
        );
    }
}

#[test]
fn a_socket_that_is_fine_after_a_freeze_is_kept() {
    for row in table() {
        let label = format!(
            "freeze {} ms, {} queued, {:?}",
            row.freeze_ms, row.queued, row.wake
        );
        let (mut shell, seq) = freeze_and_wake(&row);
        // The check is out; the server answers it 40 ms later, then goes on.
        assert_eq!(shell.connection(), Connection::Checking, "{label}");
        let id = last_ping_id(&shell);
        shell.advance(40);
        shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
        assert_eq!(shell.connection(), Connection::Connected, "{label}");
        for n in 1..=20 {
            shell.advance(250);
            shell.frame(progress_frame(running(seq + n, (seq + n) as f64)));
        }
        assert!(shell.closed.is_empty(), "{label}: {:?}", shell.closed);
        assert_eq!(shell.opens(), 1, "{label}");
        assert_eq!(shell.connection(), Connection::Connected, "{label}");
    }
}

#[test]
fn the_time_asleep_does_not_widen_the_stall_threshold() {
    // The freeze is not a 25 s gap between updates. After the check is
    // answered and the server goes silent again, the stall is suspected
    // after the usual 5 s, not after three quarters of the freeze.
    let (mut shell, _) = freeze_and_wake(&Freeze {
        freeze_ms: 25_000,
        queued: 1,
        wake: Wake::Frames,
    });
    let id = last_ping_id(&shell);
    shell.advance(40);
    shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
    let answered_at = shell.now;
    shell.advance(20_000);
    let suspected = shell
        .events
        .iter()
        .find(|(t, e)| *t > answered_at && matches!(e, SessionEvent::StallSuspected { .. }))
        .map(|(t, _)| *t)
        .expect("a stall is suspected");
    assert!(
        suspected - answered_at <= 5_000,
        "suspected {} ms after the last frame",
        suspected - answered_at
    );
}

#[test]
fn an_answer_queued_during_the_freeze_does_not_count_as_a_timeout() {
    // A heartbeat ping went out just before the freeze; its pong arrived
    // while the page was frozen and waits in the queue. The overdue
    // deadline runs first: that is no verdict.
    let mut shell = Shell::live(exact(), running(1, 1.0));
    shell.advance(30_000);
    let id = last_ping_id(&shell);
    shell.now += 40_000;
    shell.jump_to(shell.now);
    assert!(shell.closed.is_empty(), "{:?}", shell.closed);
    shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
    // The old pong is not proof either: the wake check's own pong is.
    assert_eq!(shell.connection(), Connection::Checking);
    let wake_id = last_ping_id(&shell);
    shell.advance(30);
    shell.frame(format!(
        r#"{{"type":"pong","id":{wake_id},"server_ts_ms":1}}"#
    ));
    assert_eq!(shell.connection(), Connection::Connected);
    assert!(shell.closed.is_empty());
}

#[test]
fn a_wake_check_reached_late_again_is_a_verdict() {
    // The page woke, sent its check, and slept again past the check's
    // deadline: it ran in between, so no second chance.
    let mut shell = Shell::live(exact(), running(1, 1.0));
    shell.now += 60_000;
    shell.jump_to(shell.now);
    assert_eq!(shell.connection(), Connection::Checking);
    shell.now += 60_000;
    shell.jump_to(shell.now);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].2, "heartbeat timeout");
}

#[test]
fn lateness_within_the_tolerance_is_judged_as_usual() {
    // A hidden tab's timers run up to a second late: a ping unanswered
    // for its whole timeout is still a dead socket.
    let mut shell = Shell::live(exact(), running(1, 1.0));
    shell.advance(30_000);
    assert_eq!(shell.sent.len(), 1);
    shell.jump_to(40_000 + LATE_TIMER_TOLERANCE_MS);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].2, "heartbeat timeout");
    assert!(!shell
        .events
        .iter()
        .any(|(_, e)| matches!(e, SessionEvent::WokeUp { .. })));
}

/// The id of the newest ping sent.
fn last_ping_id(shell: &Shell) -> u64 {
    let (_, _, text) = shell.sent.last().expect("a ping was sent");
    let value: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(value["type"], "ping");
    value["id"].as_u64().unwrap()
}
