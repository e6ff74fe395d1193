//! Upload decisions and retry timings on a fake clock.

mod upload_common;

use upload_common::*;
use upload_progress_core::upload::{
    encode_metadata, Action, Answer, Input, ResumeFrom, UploadError, UploadOptions, UploadState,
};

#[test]
fn creates_then_sends_every_chunk_then_finishes_with_the_job() {
    let mut shell = Shell::started(25, exact(10));
    shell.serve_all();
    let kinds: Vec<Req> = shell.requests.iter().map(|(_, r)| r.clone()).collect();
    assert_eq!(
        kinds,
        [
            Req::Create { len: 25 },
            Req::Send { offset: 0, len: 10 },
            Req::Send {
                offset: 10,
                len: 10
            },
            Req::Send { offset: 20, len: 5 },
        ]
    );
    assert_eq!(shell.server.bytes, shell.file);
    assert_eq!(
        shell.finished,
        [(Some(JOB.to_owned()), Some("tok".to_owned()))]
    );
    assert_eq!(
        *shell.state(),
        UploadState::Finished {
            process_id: Some(JOB.into()),
            token: Some("tok".into())
        }
    );
    assert_eq!(shell.upload.poll_timeout(), None);
    let sent: Vec<u64> = shell.shown.iter().map(|p| p.sent).collect();
    assert_eq!(sent, [0, 10, 20, 25]);
}

#[test]
fn the_creation_is_announced_with_the_job_before_any_byte() {
    let mut shell = Shell::started(5, exact(10));
    shell.serve();
    assert!(shell.log.iter().any(|(_, a)| *a
        == Action::Created {
            url: URL.into(),
            process_id: Some(JOB.into()),
            token: Some("tok".into())
        }));
    assert!(shell.server.bytes.is_empty());
}

#[test]
fn an_empty_file_finishes_at_creation() {
    let mut shell = Shell::started(0, exact(10));
    shell.serve();
    assert_eq!(shell.finished.len(), 1);
    assert_eq!(shell.requests.len(), 1);
}

#[test]
fn failed_chunks_wait_two_four_eight_sixteen_sixteen_seconds_then_ask_the_offset() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve(); // created
    let mut gaps = Vec::new();
    for _ in 0..5 {
        assert!(matches!(shell.pending(), Some((_, Req::Send { .. }))));
        shell.serve_with(Fault::Lost, 0);
        let failed_at = shell.now;
        assert!(matches!(shell.state(), UploadState::Waiting { .. }));
        shell.next_timeout();
        gaps.push(shell.now - failed_at);
        assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
        shell.serve_with(Fault::None, 0);
    }
    assert_eq!(gaps, [2_000, 4_000, 8_000, 16_000, 16_000]);
}

#[test]
fn accepted_bytes_end_a_failure_streak() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.serve_with(Fault::Lost, 0);
    shell.next_timeout();
    shell.serve(); // HEAD
    shell.serve(); // a chunk lands
    shell.serve_with(Fault::Status(503), 0);
    assert!(matches!(
        shell.state(),
        UploadState::Waiting {
            failures: 1,
            error: UploadError::Server(503),
            ..
        }
    ));
    let at = shell.now;
    shell.next_timeout();
    assert_eq!(shell.now - at, 2_000);
}

#[test]
fn a_cut_chunk_resumes_from_the_servers_offset_not_from_zero() {
    let mut shell = Shell::started(100, exact(40));
    shell.serve();
    shell.serve(); // 0..40
    shell.serve_with(Fault::Cut(500), 0); // server keeps 40..60
    shell.next_timeout();
    shell.serve(); // HEAD → 60
    assert_eq!(
        shell.pending().map(|p| p.1),
        Some(Req::Send {
            offset: 60,
            len: 40
        })
    );
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
    // The cut chunk cost 20 bytes sent twice, no more.
    assert_eq!(shell.bytes_requested(), 120);
}

#[test]
fn a_failed_creation_is_created_again() {
    let mut shell = Shell::started(10, exact(10));
    shell.serve_with(Fault::Status(502), 0);
    shell.next_timeout();
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Create { len: 10 }));
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
}

#[test]
fn jittered_waits_stay_within_zero_and_the_base_delay_and_differ_by_seed() {
    let mut waits = Vec::new();
    for seed in 0..200 {
        let options = UploadOptions {
            chunk_size: 10,
            ..UploadOptions::default()
        };
        let mut shell = Shell::with_config(config(100, options), seed);
        shell.input(Input::Start);
        shell.serve();
        let mut gaps = Vec::new();
        for base in [2_000, 4_000, 8_000] {
            shell.serve_with(Fault::Lost, 0);
            let at = shell.now;
            shell.next_timeout();
            let gap = shell.now - at;
            assert!(gap <= base, "seed {seed}: {gap} > {base}");
            gaps.push(gap);
            shell.serve(); // HEAD; the next chunk fails again
        }
        waits.push(gaps);
    }
    waits.sort();
    waits.dedup();
    assert!(waits.len() > 190, "jitter spreads the retries");
}

#[test]
fn offline_pauses_retries_and_online_asks_the_offset_at_once() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.input(Input::Offline);
    // The chunk in flight stays; the browser fails it.
    assert!(shell.pending().is_some());
    shell.serve_with(Fault::Lost, 5);
    assert_eq!(*shell.state(), UploadState::Offline { offset: 0 });
    assert_eq!(shell.upload.poll_timeout(), None);
    shell.advance(60_000);
    assert!(shell.pending().is_none());
    shell.input(Input::Online);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve();
    // The failure while offline was not counted.
    shell.serve_with(Fault::Lost, 0);
    let at = shell.now;
    shell.next_timeout();
    assert_eq!(shell.now - at, 2_000);
}

#[test]
fn going_offline_while_waiting_stops_the_timer() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.serve_with(Fault::Lost, 0);
    shell.input(Input::Offline);
    assert!(matches!(shell.state(), UploadState::Offline { .. }));
    assert_eq!(shell.upload.poll_timeout(), None);
}

#[test]
fn visible_retries_a_waiting_upload_at_once_but_once_a_second() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.serve_with(Fault::Lost, 0);
    shell.advance(100);
    shell.input(Input::Visible);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve_with(Fault::Lost, 0); // the HEAD fails: waiting again
    shell.advance(300);
    shell.input(Input::Online);
    shell.input(Input::Visible);
    assert!(shell.pending().is_none(), "a burst costs one request");
    shell.advance(800);
    shell.input(Input::Visible);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.input(Input::Hidden);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
}

#[test]
fn a_conflict_asks_the_offset_once_then_gives_up() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.answer(Answer::Status(409));
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.answer(Answer::Offset(0));
    shell.answer(Answer::Status(409));
    assert_eq!(shell.failed, [UploadError::Conflict]);
    assert_eq!(*shell.state(), UploadState::Failed(UploadError::Conflict));
    assert!(shell.pending().is_none());
}

#[test]
fn refusals_that_retrying_cannot_fix_give_up_with_a_clear_error() {
    let table = [
        (404, UploadError::Gone(404)),
        (410, UploadError::Gone(410)),
        (413, UploadError::TooLarge),
        (403, UploadError::Refused(403)),
        (412, UploadError::Refused(412)),
        (415, UploadError::Refused(415)),
    ];
    for (status, error) in table {
        let mut shell = Shell::started(100, exact(10));
        shell.serve();
        shell.answer(Answer::Status(status));
        assert_eq!(shell.failed, std::slice::from_ref(&error), "{status}");
        assert_eq!(shell.upload.poll_timeout(), None, "{status}");
        shell.input(Input::Resume);
        assert!(shell.pending().is_none(), "{status}: resume cannot fix it");
        assert!(!error.is_transient());
    }
    // At creation too.
    let mut shell = Shell::started(100, exact(10));
    shell.answer(Answer::Status(413));
    assert_eq!(shell.failed, [UploadError::TooLarge]);
}

#[test]
fn retryable_statuses_wait_and_retry() {
    for status in [500, 502, 503, 504, 408, 423, 429] {
        let mut shell = Shell::started(100, exact(10));
        shell.serve();
        shell.answer(Answer::Status(status));
        assert!(
            matches!(shell.state(), UploadState::Waiting { error: UploadError::Server(s), .. } if *s == status),
            "{status}"
        );
    }
}

#[test]
fn broken_answers_are_protocol_errors() {
    let mut shell = Shell::started(100, exact(10));
    shell.answer(Answer::Status(201));
    assert!(matches!(shell.failed[..], [UploadError::Protocol(_)]));
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.answer(Answer::Offset(101));
    assert!(matches!(shell.failed[..], [UploadError::Protocol(_)]));
}

#[test]
fn pause_aborts_the_chunk_and_resume_continues_from_the_servers_offset() {
    let mut shell = Shell::started(100, exact(40));
    shell.serve();
    let (request, _) = shell.pending().unwrap();
    shell.input(Input::SendProgress { request, bytes: 25 });
    shell.input(Input::Pause);
    assert_eq!(shell.aborted, [request]);
    assert_eq!(*shell.state(), UploadState::Paused { offset: 0 });
    assert_eq!(shell.upload.poll_timeout(), None);
    // A late answer of the aborted chunk changes nothing.
    shell.input(Input::Answered {
        request,
        answer: Answer::Offset(40),
    });
    assert_eq!(*shell.state(), UploadState::Paused { offset: 0 });
    shell.server.bytes = shell.file[..25].to_vec(); // the server kept what arrived
    shell.advance(10_000);
    shell.input(Input::Resume);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve();
    assert_eq!(
        shell.pending().map(|p| p.1),
        Some(Req::Send {
            offset: 25,
            len: 40
        })
    );
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
}

#[test]
fn pause_while_waiting_cancels_the_retry() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.serve_with(Fault::Lost, 0);
    shell.input(Input::Pause);
    assert!(shell.aborted.is_empty());
    assert_eq!(shell.upload.poll_timeout(), None);
    shell.input(Input::Resume);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
}

#[test]
fn cancel_aborts_and_deletes_the_upload() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    let (request, _) = shell.pending().unwrap();
    shell.input(Input::Cancel);
    assert_eq!(shell.aborted, [request]);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Delete));
    shell.serve();
    assert!(shell.server.deleted);
    assert_eq!(*shell.state(), UploadState::Cancelled);
    assert_eq!(shell.cancelled, 1);
    for input in [Input::Resume, Input::Cancel, Input::Online, Input::Start] {
        shell.input(input);
    }
    assert!(shell.pending().is_none());
    assert_eq!(shell.cancelled, 1);
}

#[test]
fn cancel_before_creation_needs_no_delete_and_a_failed_delete_still_cancels() {
    let mut shell = Shell::started(100, exact(10));
    shell.input(Input::Cancel);
    assert_eq!(*shell.state(), UploadState::Cancelled);
    assert!(shell.pending().is_none());

    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.input(Input::Cancel);
    shell.serve_with(Fault::Lost, 0);
    assert_eq!(*shell.state(), UploadState::Cancelled);
}

#[test]
fn a_silent_request_is_aborted_after_the_stall_timeout_and_progress_keeps_it_alive() {
    let mut shell = Shell::started(100, exact(50));
    shell.serve();
    let (request, _) = shell.pending().unwrap();
    let sent_at = shell.now;
    assert_eq!(shell.upload.poll_timeout(), Some(sent_at + 30_000));
    shell.advance(20_000);
    shell.input(Input::SendProgress { request, bytes: 10 });
    assert_eq!(shell.upload.poll_timeout(), Some(sent_at + 50_000));
    shell.advance(30_000);
    assert_eq!(shell.aborted, [request]);
    assert!(matches!(
        shell.state(),
        UploadState::Waiting {
            error: UploadError::Stalled,
            ..
        }
    ));
}

#[test]
fn max_failures_gives_up_and_resume_starts_a_new_streak() {
    let mut shell = Shell::started(
        100,
        UploadOptions {
            max_failures: Some(3),
            ..exact(10)
        },
    );
    shell.serve();
    for _ in 0..3 {
        shell.serve_with(Fault::Lost, 0);
        shell.next_timeout();
    }
    assert_eq!(shell.failed, [UploadError::TooManyFailures(3)]);
    assert!(shell.pending().is_none());
    shell.input(Input::Resume);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
}

#[test]
fn a_resumed_upload_asks_the_offset_first_and_keeps_its_job() {
    let mut config = config(100, exact(30));
    config.resume = Some(ResumeFrom {
        url: URL.into(),
        process_id: Some("auto_proc_old".into()),
        token: None,
    });
    let mut shell = Shell::with_config(config, 1);
    shell.server = Server {
        created: true,
        deleted: false,
        len: 100,
        bytes: file(100)[..70].to_vec(),
    };
    shell.input(Input::Start);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
    assert_eq!(shell.bytes_requested(), 30);
    assert_eq!(shell.finished, [(Some("auto_proc_old".into()), None)]);
}

#[test]
fn a_resumed_upload_that_expired_says_so() {
    let mut config = config(100, exact(30));
    config.resume = Some(ResumeFrom {
        url: URL.into(),
        process_id: None,
        token: None,
    });
    let mut shell = Shell::with_config(config, 1);
    shell.input(Input::Start);
    shell.answer(Answer::Status(410));
    assert_eq!(shell.failed, [UploadError::Gone(410)]);
}

#[test]
fn progress_shows_speed_and_time_left() {
    let mut shell = Shell::started(10_000_000, exact(5_000_000));
    shell.serve();
    let (request, _) = shell.pending().unwrap();
    for i in 1..=10u64 {
        shell.advance(500);
        shell.input(Input::SendProgress {
            request,
            bytes: i * 250_000,
        });
    }
    let last = *shell.shown.last().unwrap();
    assert_eq!(last.sent, 2_500_000);
    assert_eq!(last.bytes_per_s, Some(500_000));
    assert_eq!(last.eta_ms, Some(15_000));
}

#[test]
fn metadata_is_encoded_for_the_header() {
    let pairs = vec![
        ("filename".to_owned(), "report.pdf".to_owned()),
        ("filetype".to_owned(), "application/pdf".to_owned()),
    ];
    assert_eq!(
        encode_metadata(&pairs),
        "filename cmVwb3J0LnBkZg==,filetype YXBwbGljYXRpb24vcGRm"
    );
}

#[test]
fn a_ten_megabyte_upload_with_one_cut_sends_less_than_one_point_two_times_the_file() {
    let len = 10 * 1024 * 1024;
    let mut shell = Shell::started(len, exact(1024 * 1024));
    shell.serve();
    for _ in 0..5 {
        shell.serve();
    }
    shell.serve_with(Fault::Cut(600), 0);
    shell.next_timeout();
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
    let ratio = shell.bytes_requested() as f64 / len as f64;
    assert!(ratio < 1.2, "ratio {ratio}");
    assert_eq!(shell.upload.bytes_sent(), shell.bytes_requested());
}

#[test]
fn a_queued_upload_sends_nothing_until_its_turn() {
    let mut shell = Shell::new(25, exact(10));
    shell.input(Input::Queue);
    assert_eq!(*shell.state(), UploadState::Queued);
    assert!(shell.pending().is_none(), "nothing leaves while queued");
    assert_eq!(shell.upload.poll_timeout(), None);
    shell.input(Input::Start);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Create { len: 25 }));
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
}

#[test]
fn a_queued_upload_cancels_without_a_request_and_pauses_out_of_line() {
    let mut shell = Shell::new(25, exact(10));
    shell.input(Input::Queue);
    shell.input(Input::Cancel);
    assert_eq!(*shell.state(), UploadState::Cancelled);
    assert!(shell.requests.is_empty(), "{:?}", shell.requests);

    let mut shell = Shell::new(25, exact(10));
    shell.input(Input::Queue);
    shell.input(Input::Pause);
    assert_eq!(*shell.state(), UploadState::Paused { offset: 0 });
    shell.input(Input::Start);
    assert!(shell.requests.is_empty(), "a paused upload ignores Start");
}

#[test]
fn a_paused_upload_requeues_then_its_turn_asks_the_offset() {
    let mut shell = Shell::started(100, exact(10));
    shell.serve();
    shell.serve();
    shell.input(Input::Pause);
    assert_eq!(*shell.state(), UploadState::Paused { offset: 10 });
    shell.input(Input::Queue);
    assert_eq!(*shell.state(), UploadState::Queued);
    assert!(shell.pending().is_none());
    shell.input(Input::Start);
    assert_eq!(shell.pending().map(|p| p.1), Some(Req::Head));
    shell.serve_all();
    assert_eq!(shell.server.bytes, shell.file);
}

#[test]
fn only_idle_paused_or_resumable_uploads_queue() {
    let mut shell = Shell::started(100, exact(10));
    shell.input(Input::Queue);
    assert!(
        matches!(shell.state(), UploadState::Creating { .. }),
        "a running upload keeps running: {:?}",
        shell.state()
    );
    shell.answer(Answer::Status(413));
    assert_eq!(*shell.state(), UploadState::Failed(UploadError::TooLarge));
    shell.input(Input::Queue);
    assert_eq!(
        *shell.state(),
        UploadState::Failed(UploadError::TooLarge),
        "a refusal will not change by waiting in line"
    );
}
