//! Properties of the upload under random faults, pauses and network changes:
//! the server ends with exactly the file, and a failure costs at most one chunk.

mod upload_common;

use proptest::prelude::*;
use upload_common::*;
use upload_progress_core::upload::{Input, UploadOptions, UploadState};

#[derive(Debug, Clone)]
enum Op {
    Serve(Fault, u64),
    Progress(u16),
    Pause,
    Resume,
    Offline,
    Online,
    Visible,
    Wait(u64),
}

fn fault() -> impl Strategy<Value = Fault> {
    prop_oneof![
        6 => Just(Fault::None),
        2 => Just(Fault::Lost),
        2 => (0u16..=1_000).prop_map(Fault::Cut),
        1 => Just(Fault::AnswerLost),
        1 => prop::sample::select(vec![500u16, 502, 503, 504, 408, 423, 429]).prop_map(Fault::Status),
        1 => Just(Fault::Silent),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        12 => (fault(), 0u64..3_000).prop_map(|(f, l)| Op::Serve(f, l)),
        2 => (0u16..=1_000).prop_map(Op::Progress),
        1 => Just(Op::Pause),
        1 => Just(Op::Resume),
        1 => Just(Op::Offline),
        1 => Just(Op::Online),
        1 => Just(Op::Visible),
        1 => (0u64..40_000).prop_map(Op::Wait),
    ]
}

/// File length and a chunk size that keeps the number of chunks small.
fn sizes() -> impl Strategy<Value = (u64, u64)> {
    (0u64..60_000).prop_flat_map(|len| (Just(len), (len / 40).max(1)..=len + 10))
}

/// What must hold between any two steps.
fn check_invariants(shell: &Shell) {
    match shell.state() {
        UploadState::Paused { .. } | UploadState::Offline { .. } | UploadState::Failed(_) => {
            assert!(
                shell.pending().is_none(),
                "{:?} with a request",
                shell.state()
            );
            assert_eq!(shell.upload.poll_timeout(), None);
        }
        UploadState::Waiting { retry_at, .. } => {
            assert!(shell.pending().is_none());
            assert!(*retry_at >= shell.now || shell.upload.poll_timeout() == Some(*retry_at));
        }
        UploadState::Finished { .. } | UploadState::Cancelled => {
            assert!(shell.pending().is_none());
            assert_eq!(shell.upload.poll_timeout(), None);
        }
        _ => assert!(
            shell.pending().is_some(),
            "{:?} without a request",
            shell.state()
        ),
    }
    assert!(shell.upload.offset() <= shell.server.bytes.len() as u64 || !shell.server.created);
}

fn apply(shell: &mut Shell, op: &Op) {
    match *op {
        Op::Serve(fault, latency) => {
            if shell.pending().is_some() {
                shell.serve_with(fault, latency);
            } else {
                shell.next_timeout();
            }
        }
        Op::Progress(per_mille) => {
            if let Some((request, Req::Send { len, .. })) = shell.pending() {
                shell.now += 5;
                shell.input(Input::SendProgress {
                    request,
                    bytes: len * u64::from(per_mille) / 1_000,
                });
            }
        }
        Op::Pause => shell.input(Input::Pause),
        Op::Resume => shell.input(Input::Resume),
        Op::Offline => shell.input(Input::Offline),
        Op::Online => shell.input(Input::Online),
        Op::Visible => shell.input(Input::Visible),
        Op::Wait(ms) => shell.advance(ms),
    }
}

/// Runs `ops`, then lets everything through until the upload is done.
fn run(len: u64, chunk: u64, seed: u64, ops: &[Op]) -> Shell {
    let options = UploadOptions {
        chunk_size: chunk,
        ..UploadOptions::default()
    };
    let mut shell = Shell::with_config(config(len, options), seed);
    shell.input(Input::Start);
    check_invariants(&shell);
    for op in ops {
        if shell.state().is_final() {
            break;
        }
        apply(&mut shell, op);
        check_invariants(&shell);
    }
    for _ in 0..10_000 {
        match shell.state() {
            UploadState::Finished { .. } => break,
            UploadState::Paused { .. } => shell.input(Input::Resume),
            UploadState::Offline { .. } => shell.input(Input::Online),
            UploadState::Waiting { .. } => {
                shell.next_timeout();
            }
            UploadState::Failed(e) => panic!("gave up: {e:?}"),
            _ => shell.serve(),
        }
        check_invariants(&shell);
    }
    shell
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_server_ends_with_exactly_the_file(
        (len, chunk) in sizes(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let shell = run(len, chunk, seed, &ops);
        let finished = matches!(shell.state(), UploadState::Finished { .. });
        prop_assert!(finished, "ended {:?}", shell.state());
        prop_assert_eq!(shell.finished.len(), 1);
        prop_assert!(shell.server.bytes == shell.file, "server has other bytes");
        if len > 0 {
            let last = shell.shown.last().copied().expect("progress shown");
            prop_assert_eq!(last.sent, len);
        }
    }

    #[test]
    fn bytes_sent_never_exceed_the_file_plus_one_chunk_per_failure(
        (len, chunk) in sizes(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 0..60),
    ) {
        let shell = run(len, chunk, seed, &ops);
        let sent = shell.bytes_requested();
        prop_assert_eq!(sent, shell.upload.bytes_sent());
        prop_assert!(
            sent <= len + chunk * shell.interruptions,
            "sent {} for {} bytes, chunk {}, {} interruptions",
            sent, len, chunk, shell.interruptions
        );
    }

    #[test]
    fn cancel_at_any_point_ends_cancelled_and_deletes_what_was_created(
        (len, chunk) in sizes(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 0..30),
    ) {
        let options = UploadOptions { chunk_size: chunk, ..UploadOptions::default() };
        let mut shell = Shell::with_config(config(len, options), seed);
        shell.input(Input::Start);
        for op in &ops {
            if shell.state().is_final() {
                break;
            }
            apply(&mut shell, op);
        }
        let finished = matches!(shell.state(), UploadState::Finished { .. });
        shell.input(Input::Cancel);
        shell.serve_all();
        if finished {
            prop_assert_eq!(shell.cancelled, 0);
        } else {
            prop_assert_eq!(shell.state(), &UploadState::Cancelled);
            prop_assert_eq!(shell.cancelled, 1);
            prop_assert_eq!(shell.server.deleted, shell.upload.url().is_some());
        }
        prop_assert_eq!(shell.upload.poll_timeout(), None);
    }
}
