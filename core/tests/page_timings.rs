//! The page connection on a fake clock: the ladder's timings, per-job
//! state, liveness and lifecycle.

mod page_common;

use page_common::*;
use upload_progress_core::page::{
    shown, JobPoll, JobRefusal, PageAction, PageInput, PageStatus, Rung, SetPollOutcome,
    SSE_KEEPALIVE_MS, SSE_RESYNC_DELAY_MS,
};
use upload_progress_core::session::{ErrorKind, SessionOptions};
use upload_progress_core::JobState;

/// A page following jobs 1..=n over a page socket that delivered.
fn live_socket(n: u32) -> (Page, upload_progress_core::page::ConnId) {
    let mut page = Page::started(exact());
    for i in 1..=n {
        page.subscribe(i);
    }
    let (conn, _) = page.last_open();
    page.opened(conn);
    for i in 1..=n {
        page.frame(conn, running(i, 1, 0.0));
    }
    (page, conn)
}

#[test]
fn jobs_subscribed_before_the_socket_opens_are_sent_together_once_it_does() {
    let mut page = Page::started(exact());
    assert!(page.opens().is_empty(), "nothing opens without a job");
    for i in 1..=3 {
        page.subscribe(i);
    }
    assert_eq!(page.opens().len(), 1, "one transport for every job");
    let (conn, rung) = page.last_open();
    assert_eq!(rung, Rung::WebSocket);
    assert!(page.subscribed_on(conn).is_empty(), "queued until open");
    page.opened(conn);
    assert_eq!(page.subscribed_on(conn), [job(1), job(2), job(3)]);
    page.subscribe(4);
    assert_eq!(page.subscribed_on(conn).last(), Some(&job(4)));
    assert_eq!(page.opens().len(), 1, "a later job joins the same socket");
    page.subscribe(4);
    assert_eq!(
        page.subscribed_on(conn).len(),
        4,
        "a duplicate is not sent again"
    );
}

#[test]
fn each_rung_backs_off_two_four_eight_seconds_then_steps_down() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    page.subscribe(2);
    // Table: (failed opens, wanted times of the next opens, rung after).
    let ws = page.fail_opens(4);
    assert_eq!(ws, [2_000, 6_000, 14_000, 14_000]);
    let (sse, rung) = page.last_open();
    assert_eq!(rung, Rung::Sse, "WebSocket kept failing: SSE next");
    assert_eq!(
        page.sse_set(sse),
        [job(1), job(2)],
        "the stream names its set"
    );
    let sse_times = page.fail_opens(3);
    assert_eq!(sse_times, [16_000, 20_000, 28_000]);
    let (last, _) = page.last_open();
    page.close(last, 1006);
    assert_eq!(page.rung(), Some(Rung::Polling));
    let polls = page.polls();
    assert_eq!(polls.len(), 1, "polls at once on the last rung");
    assert_eq!(polls[0].0, 28_000);
    assert_eq!(polls[0].2, [job(1), job(2)], "one poll for the whole set");
    assert_eq!(
        page.status(),
        PageStatus::Live {
            rung: Rung::Polling
        }
    );
}

trait RungOf {
    fn rung(&self) -> Option<Rung>;
}
impl RungOf for Page {
    fn rung(&self) -> Option<Rung> {
        self.conn.rung()
    }
}

/// Fails the socket and SSE until the page polls; returns the time.
fn down_to_polling(page: &mut Page) -> u64 {
    page.fail_opens(7);
    let (last, _) = page.last_open();
    page.close(last, 1006);
    assert_eq!(page.rung(), Some(Rung::Polling));
    page.now
}

#[test]
fn polling_probes_sse_every_thirty_seconds_and_climbs_when_it_delivers() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    let t = down_to_polling(&mut page);
    let opens = page.opens().len();
    page.advance_to(t + 29_999);
    assert_eq!(page.opens().len(), opens, "no probe before its time");
    page.advance_to(t + 30_000);
    let (probe, rung) = page.last_open();
    assert_eq!(rung, Rung::Sse, "polling probes the rung above it");
    assert_eq!(page.conn.streams().len(), 1, "the probe is the only stream");
    page.opened(probe);
    assert_eq!(page.rung(), Some(Rung::Polling), "open is not delivering");
    page.frame(probe, running(1, 5, 50.0));
    assert_eq!(page.rung(), Some(Rung::Sse), "climbed back");
    assert!(!page.conn.poll_in_flight(), "polling ended");
    assert_eq!(page.conn.shown(&job(1)).unwrap().seq, 5);
}

#[test]
fn a_failed_probe_waits_for_the_next_one_and_polling_goes_on() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    let t = down_to_polling(&mut page);
    page.advance_to(t + 30_000);
    let (probe, _) = page.last_open();
    page.close(probe, 1006);
    assert_eq!(page.rung(), Some(Rung::Polling));
    page.advance_to(t + 59_999);
    assert_eq!(page.last_open().0, probe);
    page.advance_to(t + 60_000);
    assert_ne!(
        page.last_open().0,
        probe,
        "probed again a full interval later"
    );
}

#[test]
fn sse_probes_the_socket_and_hands_over_when_the_socket_delivers() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    page.subscribe(2);
    page.fail_opens(4);
    let (sse, _) = page.last_open();
    let t = page.now;
    page.opened(sse);
    page.frame(sse, running(1, 3, 30.0));
    assert_eq!(page.status(), PageStatus::Live { rung: Rung::Sse });
    page.advance_to(t + 30_000);
    let (probe, rung) = page.last_open();
    assert_eq!(rung, Rung::WebSocket);
    page.opened(probe);
    assert_eq!(page.subscribed_on(probe), [job(1), job(2)]);
    page.frame(probe, running(2, 1, 5.0));
    assert_eq!(
        page.status(),
        PageStatus::Live {
            rung: Rung::WebSocket
        }
    );
    assert!(page.closes().contains(&sse), "the SSE stream closes");
    assert_eq!(page.conn.streams(), [(probe, Rung::WebSocket)]);
    // Back on the top rung: a later loss retries the socket first.
    page.close(probe, 1006);
    page.advance(2_000);
    assert_eq!(page.last_open().1, Rung::WebSocket);
}

#[test]
fn stale_frames_are_ignored_per_job() {
    let (mut page, conn) = live_socket(2);
    page.frame(conn, running(1, 5, 50.0));
    page.frame(conn, running(1, 4, 40.0));
    page.frame(conn, running(2, 2, 10.0));
    assert_eq!(page.conn.shown(&job(1)).unwrap().seq, 5);
    assert_eq!(page.conn.shown(&job(2)).unwrap().seq, 2, "seq is per job");
    let shown_1 =
        page.count(|a| matches!(a, PageAction::JobProgress { job: j, .. } if *j == job(1)));
    assert_eq!(shown_1, 2, "seq 1 and 5; the stale 4 is not shown");
}

#[test]
fn a_final_state_ends_only_its_job_and_the_last_job_closes_the_socket() {
    let (mut page, conn) = live_socket(2);
    page.frame(conn, progress(1, 9, 100.0, JobState::Completed));
    assert_eq!(ended(&page), [(job(1), JobState::Completed)]);
    assert_eq!(page.conn.followed(), [job(2)]);
    assert!(page.closes().is_empty(), "job 2 keeps the socket");
    page.frame(conn, progress(1, 10, 100.0, JobState::Completed));
    assert_eq!(ended(&page).len(), 1, "an ended job is not ended twice");
    page.frame(conn, progress(2, 4, 20.0, JobState::Failed));
    assert_eq!(page.closes(), [conn], "the last job leaving closes it");
    assert_eq!(page.status(), PageStatus::Idle);
    assert_eq!(page.conn.poll_timeout(), None, "nothing left to wait for");
}

#[test]
fn an_unknown_job_is_asked_again_during_the_grace_then_fails_alone() {
    let (mut page, conn) = live_socket(1);
    page.subscribe(2);
    page.refuse(conn, 2, JobRefusal::UnknownJob);
    page.advance(3_000);
    assert_eq!(
        page.subscribed_on(conn)
            .iter()
            .filter(|j| **j == job(2))
            .count(),
        2,
        "subscribed again after a poll interval"
    );
    page.advance_to(10_000);
    page.refuse(conn, 2, JobRefusal::UnknownJob);
    let failed: Vec<_> = page
        .log
        .iter()
        .filter_map(|(_, a)| match a {
            PageAction::JobFailed { job, .. } => Some(job.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(failed, [job(2)]);
    assert_eq!(page.conn.followed(), [job(1)], "job 1 goes on");
    assert_eq!(
        page.status(),
        PageStatus::Live {
            rung: Rung::WebSocket
        }
    );
}

#[test]
fn an_unavailable_job_is_asked_again_past_the_grace_and_never_fails() {
    let (mut page, conn) = live_socket(1);
    page.subscribe(2);
    // Past the unknown-job grace: an unknown job would fail now.
    page.advance_to(12_000);
    for _ in 0..3 {
        page.refuse(conn, 2, JobRefusal::Unavailable);
        page.input(PageInput::Heard { conn });
        page.advance(3_000);
    }
    let again = page
        .subscribed_on(conn)
        .iter()
        .filter(|j| **j == job(2))
        .count();
    assert_eq!(again, 4, "subscribed first, then again after each refusal");
    assert_eq!(
        page.count(|a| matches!(a, PageAction::JobFailed { .. })),
        0,
        "the job may exist: it is never failed"
    );
    assert_eq!(page.conn.followed(), [job(1), job(2)]);
}

#[test]
fn a_refused_token_is_refreshed_for_that_job_only_and_a_second_refusal_fails_it() {
    let (mut page, conn) = live_socket(3);
    page.refuse(conn, 2, JobRefusal::BadToken);
    assert_eq!(
        page.count(|a| matches!(a, PageAction::RefreshToken { job: j } if *j == job(2))),
        1
    );
    let subs_before = page.subscribed_on(conn).len();
    page.input(PageInput::TokenReady {
        job: job(2),
        token: Some("fresh".into()),
    });
    let resent = page.log.iter().rev().find_map(|(_, a)| match a {
        PageAction::Subscribe { subscription, .. } => Some(subscription.clone()),
        _ => None,
    });
    assert_eq!(resent.unwrap().token.as_deref(), Some("fresh"));
    assert_eq!(page.subscribed_on(conn).len(), subs_before + 1);
    page.refuse(conn, 2, JobRefusal::BadToken);
    assert_eq!(page.conn.followed(), [job(1), job(3)], "only job 2 failed");
    assert_eq!(
        page.count(|a| matches!(a, PageAction::RefreshToken { .. })),
        1
    );
}

#[test]
fn a_refused_token_nobody_can_refresh_fails_that_job_as_refused_not_as_unavailable() {
    // (what answers the refresh, the job's error)
    let table = [
        (
            PageInput::NoTokenSource { job: job(2) },
            "Access to this job's progress was refused: the token is missing, invalid or expired.",
        ),
        (
            PageInput::TokenReady {
                job: job(2),
                token: None,
            },
            "No fresh access token could be obtained for this job.",
        ),
    ];
    for (answer, message) in table {
        let (mut page, conn) = live_socket(3);
        page.refuse(conn, 2, JobRefusal::BadToken);
        page.input(answer);
        let error = page.log.iter().find_map(|(_, a)| match a {
            PageAction::JobFailed { job: j, error } if *j == job(2) => Some(error.clone()),
            _ => None,
        });
        let error = error.expect("job 2 failed");
        assert_eq!(error.kind, ErrorKind::Auth);
        assert_eq!(error.message, message);
        assert_eq!(page.conn.followed(), [job(1), job(3)], "only job 2 failed");
    }
}

#[test]
fn without_automatic_retry_a_lost_transport_halts_until_reconnect_and_keeps_the_jobs() {
    // (how the socket goes: close code, the server's restart hint)
    let table = [(1006, None), (1012, Some(500)), (1013, None)];
    for (code, retry_after_ms) in table {
        let options = SessionOptions {
            auto_retry: false,
            ..exact()
        };
        let mut page = Page::started(options);
        page.subscribe(1);
        page.subscribe(2);
        let (conn, _) = page.last_open();
        page.opened(conn);
        page.frame(conn, running(1, 1, 10.0));
        page.input(PageInput::Closed {
            conn,
            code,
            retry_after_ms,
        });
        assert_eq!(page.status(), PageStatus::Halted, "close {code}");
        let opens = page.opens().len();
        page.advance(120_000);
        assert_eq!(page.opens().len(), opens, "close {code}: nothing reopens");
        assert_eq!(page.polls().len(), 0, "close {code}: nothing polls");
        assert_eq!(page.conn.followed(), [job(1), job(2)], "jobs kept");
        let shown = shown::job_status(page.status(), 1, 3);
        assert!(shown.offers_reconnect(), "close {code}: {shown:?}");
        assert_eq!(
            shown.last_error.as_ref().map(|e| e.hint.as_str()),
            Some("Press Reconnect to try again.")
        );
        page.input(PageInput::Reconnect);
        assert_eq!(
            page.opens().len(),
            opens + 1,
            "close {code}: Reconnect opens"
        );
        assert_eq!(page.last_open().1, Rung::WebSocket);
    }
    // With it on (the default), the same loss backs off and retries.
    let (mut page, conn) = live_socket(1);
    page.close(conn, 1006);
    assert!(matches!(page.status(), PageStatus::Reconnecting { .. }));
}

#[test]
fn a_provider_that_never_answers_fails_that_job_after_the_connect_timeout() {
    let (mut page, conn) = live_socket(2);
    page.refuse(conn, 1, JobRefusal::BadToken);
    page.advance(9_999);
    assert_eq!(page.conn.followed().len(), 2);
    page.advance(1);
    assert_eq!(page.conn.followed(), [job(2)]);
}

#[test]
fn a_silent_socket_is_pinged_after_thirty_seconds_and_dropped_ten_later() {
    let options = SessionOptions {
        stall_check_min_ms: 0,
        ..exact()
    };
    let mut page = Page::started(options);
    page.subscribe(1);
    let (conn, _) = page.last_open();
    page.opened(conn);
    page.frame(conn, running(1, 1, 1.0));
    page.advance_to(29_999);
    assert_eq!(page.count(|a| matches!(a, PageAction::Ping { .. })), 0);
    page.advance_to(30_000);
    assert_eq!(page.count(|a| matches!(a, PageAction::Ping { .. })), 1);
    page.advance_to(39_999);
    assert!(page.closes().is_empty());
    page.advance_to(40_000);
    assert_eq!(page.closes(), [conn]);
    assert!(matches!(
        page.status(),
        PageStatus::Reconnecting {
            retry_at: 42_000,
            ..
        }
    ));
    assert_eq!(page.polls().len(), 1, "a bridge poll keeps the jobs fresh");
}

/// A page on an SSE stream that delivered a frame at the returned time.
fn live_sse(options: SessionOptions) -> (Page, upload_progress_core::page::ConnId, u64) {
    let mut page = Page::started(options);
    page.subscribe(1);
    page.fail_opens(4);
    let (sse, rung) = page.last_open();
    assert_eq!(rung, Rung::Sse);
    let t = page.now;
    page.opened(sse);
    page.frame(sse, running(1, 1, 1.0));
    (page, sse, t)
}

#[test]
fn an_sse_stream_lives_on_keep_alives_and_is_dropped_forty_seconds_after_the_last() {
    // No stall checks: only the keep-alive rule is at work.
    let options = SessionOptions {
        stall_check_min_ms: 0,
        ..exact()
    };
    let (mut page, sse, t) = live_sse(options);
    // The server's keep-alive every 15 s (PROTOCOL.md 11.5), for five
    // minutes of a job that says nothing.
    let mut last = t;
    for k in 1..=20 {
        last = t + k * SSE_KEEPALIVE_MS;
        page.advance_to(last);
        page.input(PageInput::Heard { conn: sse });
    }
    assert!(
        !page.closes().contains(&sse),
        "a quiet stream that keeps its promise stays"
    );
    assert_eq!(
        page.count(|a| matches!(a, PageAction::Ping { .. })),
        0,
        "no pings on SSE"
    );
    // Table: silence since the last keep-alive, and whether it is dropped.
    for (silence, dropped) in [(30_000, false), (39_999, false), (40_000, true)] {
        page.advance_to(last + silence);
        assert_eq!(
            page.closes().contains(&sse),
            dropped,
            "after {silence} ms of silence"
        );
    }
}

#[test]
fn a_suspected_stall_on_sse_waits_one_keep_alive_period_before_dropping() {
    let (mut page, sse, _) = live_sse(exact());
    for s in 2..=6 {
        page.advance(1_000);
        page.frame(sse, running(1, s, s as f64));
    }
    let t = page.now;
    // The frames' rhythm stops: checking starts 5 s later, with no ping to
    // send; the next keep-alive (at most 15 s away) proves the stream.
    page.advance_to(t + 5_000);
    assert_eq!(page.status(), PageStatus::Checking { rung: Rung::Sse });
    page.advance_to(t + 5_000 + SSE_KEEPALIVE_MS);
    page.input(PageInput::Heard { conn: sse });
    page.advance_to(t + 30_000);
    assert!(
        !page.closes().contains(&sse),
        "the keep-alive answered the check"
    );
    assert_eq!(page.status(), PageStatus::Live { rung: Rung::Sse });
    // A second stall with no keep-alive: dropped 15 s + 5 s after the check.
    for s in 7..=11 {
        page.advance(1_000);
        page.frame(sse, running(1, s, s as f64));
    }
    let t = page.now;
    page.advance_to(t + 5_000 + SSE_KEEPALIVE_MS + 4_999);
    assert!(!page.closes().contains(&sse));
    page.advance_to(t + 5_000 + SSE_KEEPALIVE_MS + 5_000);
    assert!(page.closes().contains(&sse));
}

#[test]
fn frames_that_stop_at_their_rhythm_trigger_an_early_ping_and_checking() {
    let (mut page, conn) = live_socket(2);
    for s in 2..=6 {
        page.advance(1_000);
        page.frame(conn, running(1, s, s as f64));
    }
    let t = page.now;
    page.advance_to(t + 4_999);
    assert_eq!(page.count(|a| matches!(a, PageAction::Ping { .. })), 0);
    page.advance_to(t + 5_000);
    assert_eq!(page.count(|a| matches!(a, PageAction::Ping { .. })), 1);
    assert_eq!(
        page.status(),
        PageStatus::Checking {
            rung: Rung::WebSocket
        }
    );
    page.advance_to(t + 10_000);
    assert_eq!(page.closes(), [conn], "the early ping went unanswered");
}

#[test]
fn offline_pauses_the_retry_and_online_retries_at_once() {
    let (mut page, conn) = live_socket(1);
    page.input(PageInput::Offline);
    page.close(conn, 1006);
    assert_eq!(page.status(), PageStatus::Offline);
    page.advance(60_000);
    assert_eq!(page.opens().len(), 1, "no retry while offline");
    page.input(PageInput::Online);
    page.advance(0);
    assert_eq!(page.opens().len(), 2, "online retries at once");
    assert_eq!(
        page.last_open().1,
        Rung::WebSocket,
        "offline failures were not counted"
    );
}

#[test]
fn pagehide_closes_everything_and_pageshow_resubscribes_every_job() {
    let (mut page, conn) = live_socket(3);
    page.input(PageInput::PageHide);
    assert_eq!(page.closes(), [conn]);
    assert_eq!(page.status(), PageStatus::Paused);
    assert_eq!(page.conn.poll_timeout(), None);
    page.advance(5_000);
    page.input(PageInput::PageShow);
    let (fresh, _) = page.last_open();
    assert!(
        page.conn.awaiting_snapshot(&job(2)),
        "each job expects a fresh snapshot"
    );
    page.opened(fresh);
    assert_eq!(page.subscribed_on(fresh), [job(1), job(2), job(3)]);
    page.frame(fresh, running(2, 1, 0.0));
    assert!(!page.conn.awaiting_snapshot(&job(2)));
    assert!(page.conn.awaiting_snapshot(&job(3)));
}

#[test]
fn a_server_restart_waits_for_its_hint_without_counting_a_failure() {
    let (mut page, conn) = live_socket(1);
    page.input(PageInput::Closed {
        conn,
        code: 1012,
        retry_after_ms: Some(7_000),
    });
    page.advance(6_999);
    assert_eq!(page.opens().len(), 1);
    page.advance(1);
    assert_eq!(page.opens().len(), 2);
    let times = page.fail_opens(3);
    assert_eq!(
        times,
        [9_000, 13_000, 21_000],
        "the count started from zero"
    );
}

#[test]
fn a_changed_set_reopens_the_sse_stream_once_per_burst() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    page.fail_opens(4);
    let (sse, _) = page.last_open();
    page.opened(sse);
    page.frame(sse, running(1, 1, 0.0));
    let opens = page.opens().len();
    for i in 2..=6 {
        page.subscribe(i);
    }
    page.unsubscribe(3);
    page.advance(SSE_RESYNC_DELAY_MS);
    assert_eq!(page.opens().len(), opens + 1, "one reopen for the burst");
    let (fresh, rung) = page.last_open();
    assert_eq!(rung, Rung::Sse);
    assert_eq!(
        page.sse_set(fresh),
        [job(1), job(2), job(4), job(5), job(6)]
    );
    assert!(page.closes().contains(&sse));
}

#[test]
fn set_polls_send_the_sets_etag_until_the_set_changes() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    page.subscribe(2);
    down_to_polling(&mut page);
    let answer = |page: &mut Page, jobs, etag: &str| {
        let (_, request, _, _) = page.polls().last().cloned().unwrap();
        page.input(PageInput::PollFinished {
            request,
            outcome: Some(SetPollOutcome::Jobs {
                jobs,
                etag: Some(etag.into()),
            }),
        });
        page.advance(3_000);
        page.polls().last().cloned().unwrap()
    };
    assert_eq!(page.polls().last().unwrap().3, None);
    let both = vec![
        (job(1), JobPoll::Progress(running(1, 3, 30.0))),
        (job(2), JobPoll::Progress(running(2, 1, 1.0))),
    ];
    let (_, request, jobs, etag) = answer(&mut page, both, "\"s1\"");
    assert_eq!(jobs, [job(1), job(2)]);
    assert_eq!(
        etag.as_deref(),
        Some("\"s1\""),
        "the set's ETag is sent back"
    );
    page.input(PageInput::PollFinished {
        request,
        outcome: Some(SetPollOutcome::NotModified),
    });
    page.advance(3_000);
    assert_eq!(page.polls().last().unwrap().3.as_deref(), Some("\"s1\""));
    let done = vec![
        (job(1), JobPoll::Progress(running(1, 4, 40.0))),
        (
            job(2),
            JobPoll::Progress(progress(2, 7, 100.0, JobState::Completed)),
        ),
    ];
    let (_, _, jobs, etag) = answer(&mut page, done, "\"s2\"");
    assert_eq!(ended(&page), [(job(2), JobState::Completed)]);
    assert_eq!(jobs, [job(1)], "an ended job is not polled");
    assert_eq!(etag, None, "the ETag named a set that changed");
    page.subscribe(3);
    let (_, _, jobs, _) = page.polls().last().cloned().unwrap();
    assert_eq!(
        jobs,
        [job(1)],
        "a poll is in flight: the new job waits for the next"
    );
    let (_, _, jobs, etag) = answer(&mut page, vec![], "\"s3\"");
    assert_eq!(jobs, [job(1), job(3)]);
    assert_eq!(
        etag, None,
        "that answer's ETag was for the set without job 3"
    );
    let (_, _, _, etag) = answer(&mut page, vec![], "\"s4\"");
    assert_eq!(etag.as_deref(), Some("\"s4\""));
}

#[test]
fn the_bridge_poll_ends_when_the_new_socket_delivers() {
    let (mut page, conn) = live_socket(2);
    page.close(conn, 1006);
    assert!(page.conn.poll_in_flight(), "bridge poll at once");
    page.advance(2_000);
    let (fresh, _) = page.last_open();
    page.opened(fresh);
    page.frame(fresh, running(1, 2, 1.0));
    assert!(!page.conn.poll_in_flight());
    assert!(page.count(|a| matches!(a, PageAction::CancelPoll { .. })) >= 1);
}

#[test]
fn reconnect_starts_again_at_the_top_rung() {
    let mut page = Page::started(exact());
    page.subscribe(1);
    down_to_polling(&mut page);
    page.input(PageInput::Reconnect);
    assert_eq!(page.last_open().1, Rung::WebSocket);
    assert!(!page.conn.poll_in_flight());
}

#[test]
fn stop_is_final() {
    let (mut page, conn) = live_socket(1);
    page.input(PageInput::Stop);
    assert_eq!(page.closes(), [conn]);
    page.subscribe(9);
    page.input(PageInput::Reconnect);
    assert_eq!(page.opens().len(), 1);
    assert_eq!(page.status(), PageStatus::Stopped);
}

#[test]
fn showing_the_page_retries_at_once_but_a_burst_costs_one_attempt() {
    let (mut page, conn) = live_socket(1);
    page.close(conn, 1006);
    page.advance(500);
    page.input(PageInput::PageShow);
    assert_eq!(
        page.opens().len(),
        1,
        "a stream started 500 ms ago: no new attempt"
    );
    page.advance(500);
    page.input(PageInput::PageShow);
    assert_eq!(page.opens().len(), 2, "the wait is skipped");
    let (fresh, _) = page.last_open();
    page.close(fresh, 1006);
    page.input(PageInput::Online);
    page.input(PageInput::PageShow);
    assert_eq!(
        page.opens().len(),
        2,
        "the burst right after cost nothing more"
    );
}

/// The page socket's decisions reach every widget in the one-job session's
/// terms: the attempt, its snapshot, the close, the backoff (2 s, then
/// 4 s), the next attempts, the step down (to the event stream: no socket
/// event), and the probe that brings the page back on the socket.
#[test]
fn the_page_sockets_decisions_are_told_as_session_events() {
    use upload_progress_core::session::{AttemptId, SessionEvent as E};
    let (mut page, conn) = live_socket(1);
    page.close(conn, 1006);
    page.fail_opens(4);
    // On the event stream now; its probe of the socket delivers.
    let (sse, rung) = page.last_open();
    assert_eq!(rung, Rung::Sse);
    page.opened(sse);
    page.frame(sse, running(1, 2, 10.0));
    page.advance(exact().probe_interval_ms);
    let (probe, rung) = page.last_open();
    assert_eq!(rung, Rung::WebSocket);
    page.opened(probe);
    page.frame(probe, running(1, 3, 20.0));

    let a = |n: u64| AttemptId(n);
    let closed = |n: u64| E::SocketClosed {
        attempt: a(n),
        code: 1006,
        reason: String::new(),
    };
    let backoff = |delay_ms: u64, attempt: u32| E::BackoffChosen {
        delay_ms,
        attempt,
        max_attempts: 3,
    };
    let opened = |n: u64, number: u32, probe: bool| E::AttemptOpened {
        attempt: a(n),
        number,
        probe,
    };
    let sockets: Vec<u64> = page
        .opens()
        .iter()
        .filter(|(_, _, rung)| *rung == Rung::WebSocket)
        .map(|(_, c, _)| c.0)
        .collect();
    let [first, r1, r2, r3, probe_id] = sockets[..] else {
        panic!("five sockets expected: {sockets:?}");
    };
    let probed_at = 14_000 + exact().probe_interval_ms;
    assert_eq!(
        page.events(),
        vec![
            (0, opened(first, 1, false)),
            (0, E::SocketLive { attempt: a(first) }),
            (0, closed(first)),
            (0, backoff(2_000, 1)),
            (2_000, opened(r1, 2, false)),
            (2_000, closed(r1)),
            (2_000, backoff(4_000, 2)),
            (6_000, opened(r2, 3, false)),
            (6_000, closed(r2)),
            (6_000, backoff(8_000, 3)),
            (14_000, opened(r3, 4, false)),
            (14_000, closed(r3)),
            (probed_at, opened(probe_id, 1, true)),
            (probed_at, E::BackOnSocket),
            (
                probed_at,
                E::SocketLive {
                    attempt: a(probe_id)
                }
            ),
        ]
    );
}
