//! Whole stories against a misbehaving server, end to end on the fake clock.

mod common;

use common::*;
use upload_progress_core::session::{Connection, Input, Mode, PollOutcome};
use upload_progress_core::JobState;

#[test]
fn refused_upgrades_fall_back_to_polling_and_return_once_sockets_work_again() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    // Up long enough to count as stable.
    shell.advance(6_000);
    // The socket drops and the server starts refusing upgrades.
    let gaps = fail_until_polling(&mut shell);
    assert_eq!(gaps, [2_000, 4_000, 8_000]);
    // Polling keeps progress moving meanwhile.
    shell.reply(PollOutcome::Progress(running(2, 30.0)));
    shell.advance(3_000);
    shell.reply(PollOutcome::Progress(running(3, 40.0)));
    // The refusals end; the next probe succeeds.
    let Connection::Polling {
        next_probe_at: Some(probe_at),
    } = shell.connection()
    else {
        panic!("{:?}", shell.connection());
    };
    shell.advance_to(probe_at);
    if !shell.fetches.is_empty() {
        shell.reply(PollOutcome::NotModified);
    }
    shell.open();
    shell.frame(snapshot_frame(running(4, 50.0)));
    assert_eq!(shell.mode(), Mode::WebSocket);
    assert_eq!(shell.connection(), Connection::Connected);
    let seqs: Vec<u64> = shell.shown.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);
}

#[test]
fn a_stalled_server_is_detected_by_the_heartbeat_and_replaced() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    // The server stops sending anything, pongs included, without closing.
    shell.advance(40_000);
    assert_eq!(shell.closed.len(), 1);
    assert_eq!(shell.closed[0].2, "heartbeat timeout");
    shell.advance(2_000);
    assert_eq!(shell.opens(), 2);
    shell.open();
    shell.frame(snapshot_frame(running(7, 70.0)));
    assert_eq!(shell.connection(), Connection::Connected);
}

#[test]
fn a_server_restart_brings_everyone_back_after_the_announced_delay() {
    for seed in 0..50 {
        let mut shell = Shell::with_config(config(Default::default()), seed);
        shell.input(Input::Start);
        shell.open();
        shell.frame(snapshot_frame(running(1, 10.0)));
        shell.advance(10_000);
        shell.frame(r#"{"type":"server_shutdown","retry_after_ms":1000}"#.into());
        shell.server_close(1012);
        let closed_at = shell.now;
        let Connection::Reconnecting { retry_at, .. } = shell.connection() else {
            panic!("{:?}", shell.connection());
        };
        assert!((closed_at + 1_000..=closed_at + 2_000).contains(&retry_at));
    }
}

#[test]
fn an_upload_followed_before_the_job_exists_shows_pending_then_progress() {
    let mut shell = Shell::started(exact());
    shell.open();
    shell.frame(snapshot_frame(progress(0, 0.0, JobState::Pending)));
    assert_eq!(shell.session.progress().unwrap().state, JobState::Pending);
    shell.advance(1_500);
    shell.frame(progress_frame(running(1, 5.0)));
    shell.frame(progress_frame(progress(2, 100.0, JobState::Completed)));
    assert!(shell.is_finished(JobState::Completed));
    let seqs: Vec<u64> = shell.shown.iter().map(|p| p.seq).collect();
    assert_eq!(seqs, [0, 1, 2]);
}

#[test]
fn a_network_outage_pauses_everything_and_recovery_is_immediate() {
    let mut shell = Shell::live(exact(), running(1, 10.0));
    shell.advance(6_000);
    shell.input(Input::Offline);
    shell.fail();
    shell.advance(300_000);
    assert_eq!(shell.opens(), 1, "nothing tried while offline");
    shell.input(Input::Online);
    assert_eq!(shell.opens(), 2);
    shell.open();
    shell.frame(snapshot_frame(running(9, 90.0)));
    assert_eq!(shell.connection(), Connection::Connected);
}
