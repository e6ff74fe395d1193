//! The hidden-tab policy, on a fake clock with throttled timers.
//!
//! In a hidden tab the browser runs timers late (aligned to whole seconds,
//! or once a minute under intensive throttling) while socket events still
//! arrive on time. The simulation below runs the session that way against
//! a server that answers pings after 50 ms (or has gone silent), and the
//! tables check the policy written in ARCHITECTURE.md ("Frozen and hidden
//! pages"): no false stall because timers were late, no retry storm, a
//! dead socket still found, and retries that do not wait for `visible`.

mod common;

use common::*;
use upload_progress_core::session::{Action, Connection, Input, Millis, Mode, SessionEvent};

/// How the simulated server behaves.
#[derive(Debug, Clone, Copy)]
struct World {
    /// Timers run only at multiples of this (1 000: a hidden tab; 60 000:
    /// intensive throttling).
    timer_period: Millis,
    /// A progress frame this often while alive; `None`: the job is quiet.
    frame_gap: Option<Millis>,
    /// From this time on the server reads and sends nothing (sockets open
    /// but silent, new sockets never open, polls never answered).
    silent_from: Option<Millis>,
}

struct Run {
    shell: Shell,
    /// Times at which sockets were asked for.
    opens: Vec<Millis>,
}

/// Runs a hidden live session for `duration` ms in `world`.
fn run_hidden(world: World, duration: Millis) -> Run {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    shell.input(Input::Hidden);
    let start = shell.now;
    let end = start + duration;
    let mut seq = 1;
    let mut next_frame = world.frame_gap.map(|g| start + g);
    // Pongs the server will send: (time, id).
    let mut pongs: Vec<(Millis, u64)> = Vec::new();
    let mut answered_sends = shell.sent.len();
    let alive = |t: Millis| world.silent_from.is_none_or(|s| t < s);
    loop {
        let next_tick = (shell.now / world.timer_period + 1) * world.timer_period;
        let next_pong = pongs.iter().map(|(t, _)| *t).min();
        let t = [Some(next_tick), next_frame, next_pong]
            .into_iter()
            .flatten()
            .min()
            .unwrap();
        if t > end {
            break;
        }
        shell.now = t;
        // Socket events first (never throttled), then the timer if one
        // runs at this moment.
        while let Some(i) = pongs.iter().position(|(pt, _)| *pt == t) {
            let (_, id) = pongs.remove(i);
            if shell.socket().is_some() {
                shell.frame(format!(r#"{{"type":"pong","id":{id},"server_ts_ms":1}}"#));
            }
        }
        if next_frame == Some(t) {
            next_frame = world.frame_gap.map(|g| t + g);
            if alive(t) && shell.sockets.values().any(|s| *s == Sock::Open) {
                seq += 1;
                shell.frame(progress_frame(running(seq, 1.0 + seq as f64 / 100.0)));
            }
        }
        if next_tick == t && shell.session.poll_timeout().is_some_and(|at| at <= t) {
            shell.session.handle_timeout(t);
            shell.drain();
        }
        // New sockets open and deliver at once while the server is alive.
        if let Some(attempt) = shell.socket() {
            if shell.sockets[&attempt] == Sock::Opening && alive(shell.now) {
                shell.open();
                shell.frame(snapshot_frame(running(seq, 1.0 + seq as f64 / 100.0)));
            }
        }
        // The server answers every ping 50 ms later while alive.
        for (at, _, text) in &shell.sent[answered_sends..] {
            if alive(*at) {
                let value: serde_json::Value = serde_json::from_str(text).unwrap();
                pongs.push((at + 50, value["id"].as_u64().unwrap()));
            }
        }
        answered_sends = shell.sent.len();
    }
    let opens = shell.open_times();
    Run { shell, opens }
}

fn worlds_alive() -> Vec<World> {
    let mut rows = Vec::new();
    for timer_period in [1_000, 60_000] {
        for frame_gap in [Some(500), Some(5_000), Some(40_000), None] {
            rows.push(World {
                timer_period,
                frame_gap,
                silent_from: None,
            });
        }
    }
    rows
}

#[test]
fn a_hidden_tab_never_drops_a_live_socket_because_its_timers_were_late() {
    for world in worlds_alive() {
        let run = run_hidden(world, 10 * 60_000);
        let label = format!("{world:?}");
        assert!(
            run.shell.closed.is_empty(),
            "{label}: {:?}",
            run.shell.closed
        );
        assert_eq!(run.opens.len(), 1, "{label}");
        assert!(
            !run.shell
                .events
                .iter()
                .any(|(_, e)| *e == SessionEvent::HeartbeatTimeout),
            "{label}"
        );
        // The heartbeat runs on while hidden.
        assert!(
            run.shell.sent.len() >= 9,
            "{label}: {} pings",
            run.shell.sent.len()
        );
    }
}

#[test]
fn a_hidden_tab_finds_a_dead_socket_and_makes_no_retry_storm() {
    for timer_period in [1_000, 60_000] {
        for frame_gap in [Some(500), None] {
            let world = World {
                timer_period,
                frame_gap,
                silent_from: Some(60_000),
            };
            let label = format!("{world:?}");
            let run = run_hidden(world, 10 * 60_000);
            // Found: given up within two timer runs plus the timeouts.
            let given_up = run
                .shell
                .log
                .iter()
                .find(|(_, a)| matches!(a, Action::CloseSocket { code: 4000, .. }))
                .map(|(t, _)| *t)
                .unwrap_or_else(|| {
                    panic!(
                        "{label}: never given up: {:?}",
                        &run.shell.events[..run.shell.events.len().min(12)]
                    )
                });
            let bound = 60_000 + 30_000 + 2 * timer_period + 10_000;
            assert!(given_up <= bound, "{label}: given up at {given_up}");
            // No storm: attempts at least a second apart, and no more than
            // the three retries plus one probe per 30 s.
            for pair in run.opens.windows(2) {
                assert!(pair[1] - pair[0] >= 1_000, "{label}: {:?}", run.opens);
            }
            let most = 1 + 3 + (10 * 60_000 / 30_000) as usize;
            assert!(run.opens.len() <= most, "{label}: {:?}", run.opens);
            // Polls: at most one per poll interval (3 s) after the loss.
            let polls = run.shell.fetched.len() as u64;
            assert!(polls <= 10 * 60_000 / 3_000, "{label}: {polls} polls");
        }
    }
}

#[test]
fn a_hidden_tab_retries_without_waiting_to_be_visible() {
    let mut shell = Shell::live(exact(), running(1, 1.0));
    shell.input(Input::Hidden);
    shell.fail();
    // The backoff's 2 s, reached a second late (hidden-tab alignment).
    shell.jump_to(shell.now + 3_000);
    assert_eq!(shell.opens(), 2);
}

#[test]
fn a_page_that_slept_through_many_deadlines_makes_one_attempt() {
    // Polling, with a poll, a probe and the poll interval all overdue
    // after ten minutes asleep: one poll and one probe, not one per missed
    // deadline.
    let mut shell = Shell::started(exact());
    fail_until_polling(&mut shell);
    shell.reply(upload_progress_core::session::PollOutcome::NotModified);
    let (opens, fetches) = (shell.opens(), shell.fetched.len());
    shell.jump_to(shell.now + 10 * 60_000);
    assert_eq!(shell.mode(), Mode::HttpPolling);
    assert_eq!(shell.opens(), opens + 1, "one probe");
    assert_eq!(shell.fetched.len(), fetches + 1, "one poll");
}

#[test]
fn visible_after_hidden_skips_a_pending_wait_once() {
    let mut shell = Shell::started(exact());
    shell.input(Input::Hidden);
    shell.fail();
    shell.advance(1_500);
    shell.input(Input::Visible);
    shell.input(Input::Visible);
    assert_eq!(shell.open_times(), [0, 1_500]);
    assert!(matches!(shell.connection(), Connection::Connecting { .. }));
}
