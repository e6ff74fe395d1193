//! The queue's policy as sequences: each step names what happens to one
//! upload and the uploads the queue starts because of it.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::*;
use crate::upload::{RequestId, UploadError};

/// Uploads `a`, `b`, `c`... driven the way a shell drives them: every state
/// change is reported, and every ticket `poll_start` gives is started.
struct Page {
    queue: UploadQueue,
    states: BTreeMap<char, (Ticket, UploadState)>,
    /// Each upload's starts, in order.
    started: Vec<char>,
}

impl Page {
    fn new(limit: usize) -> Self {
        Self {
            queue: UploadQueue::new(limit),
            states: BTreeMap::new(),
            started: Vec::new(),
        }
    }

    fn set(&mut self, name: char, state: UploadState) {
        let ticket = match self.states.get(&name) {
            Some((t, _)) => *t,
            None => self.queue.ticket(),
        };
        self.queue.follow(ticket, &state);
        self.states.insert(name, (ticket, state));
        self.start_due();
    }

    fn state(&self, name: char) -> Option<&UploadState> {
        self.states.get(&name).map(|(_, s)| s)
    }

    /// Starts what the queue hands out, as the shell does with `Input::Start`.
    fn start_due(&mut self) {
        while let Some(ticket) = self.queue.poll_start() {
            let name = *self
                .states
                .iter()
                .find(|(_, (t, _))| *t == ticket)
                .expect("the queue starts only tickets it was given")
                .0;
            assert_eq!(
                self.state(name),
                Some(&UploadState::Queued),
                "{name} started without being queued"
            );
            self.started.push(name);
            self.set(
                name,
                UploadState::Creating {
                    request: RequestId(1),
                },
            );
            assert!(
                self.running().len() <= self.queue.limit(),
                "{name} started beyond the limit: {:?} run",
                self.running()
            );
        }
    }

    fn running(&self) -> Vec<char> {
        self.states
            .iter()
            .filter(|(_, (_, s))| holds_slot(s))
            .map(|(n, _)| *n)
            .collect()
    }

    /// One step: `add x`, `finish x`, `fail x`, `pause x`, `resume x`,
    /// `cancel x`, `drop x`, `retry x` (a failure the upload retries by
    /// itself), `limit n`.
    fn step(&mut self, step: &str) {
        let (verb, arg) = step.split_once(' ').expect("`verb name`");
        let name = arg.chars().next().unwrap();
        let working = UploadState::Sending {
            request: RequestId(2),
            offset: 0,
            len: 1,
        };
        match verb {
            "add" => self.set(name, UploadState::Queued),
            "finish" => self.set(
                name,
                UploadState::Finished {
                    process_id: None,
                    token: None,
                },
            ),
            "fail" => self.set(name, UploadState::Failed(UploadError::TooManyFailures(5))),
            "retry" => self.set(
                name,
                UploadState::Waiting {
                    retry_at: 2_000,
                    failures: 1,
                    error: UploadError::Network,
                },
            ),
            "send" => self.set(name, working),
            "pause" => self.set(name, UploadState::Paused { offset: 0 }),
            // Resume of a paused upload: it joins the line.
            "resume" => self.set(name, UploadState::Queued),
            "cancel" => {
                let state = match self.state(name) {
                    Some(UploadState::Queued) => UploadState::Cancelled,
                    _ => UploadState::Cancelling {
                        request: RequestId(3),
                    },
                };
                self.set(name, state);
            }
            "drop" => {
                let (ticket, _) = self.states.remove(&name).expect("dropping a known upload");
                self.queue.forget(ticket);
                self.start_due();
            }
            "limit" => {
                self.queue.set_limit(arg.parse().expect("a number"));
                self.start_due();
            }
            other => panic!("unknown step {other}"),
        }
    }
}

fn holds_slot(state: &UploadState) -> bool {
    matches!(
        state,
        UploadState::Creating { .. }
            | UploadState::Sending { .. }
            | UploadState::Checking { .. }
            | UploadState::Waiting { .. }
            | UploadState::Offline { .. }
    )
}

/// Runs `steps` (each with the uploads it must start, e.g. `"bc"`),
/// checking the starts and the running count after every step.
fn run(limit: usize, steps: &[(&str, &str)]) -> Page {
    let mut page = Page::new(limit);
    for (step, expected) in steps {
        let before = page.started.len();
        page.step(step);
        let started: String = page.started[before..].iter().collect();
        assert_eq!(&started, expected, "after `{step}`");
        assert_eq!(
            page.queue.running(),
            page.running().len(),
            "after `{step}`: the queue's count matches the uploads"
        );
        // (A lowered limit stops nobody: `start_due` checks each start.)
        let highest = steps
            .iter()
            .filter_map(|(s, _)| s.strip_prefix("limit "))
            .filter_map(|n| n.parse().ok())
            .fold(limit.max(1), usize::max);
        assert!(
            page.running().len() <= highest,
            "after `{step}`: {:?} run with limit {highest}",
            page.running(),
        );
    }
    page
}

#[test]
fn limit_one_runs_the_uploads_one_after_the_other_in_order() {
    run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("finish a", "b"),
            ("fail b", "c"),
            ("finish c", ""),
        ],
    );
}

#[test]
fn limit_three_starts_three_then_one_per_freed_slot() {
    let page = run(
        3,
        &[
            ("add a", "a"),
            ("add b", "b"),
            ("add c", "c"),
            ("add d", ""),
            ("add e", ""),
            ("retry a", ""),
            ("finish b", "d"),
            ("finish a", "e"),
            ("finish c", ""),
        ],
    );
    assert_eq!(page.started, ['a', 'b', 'c', 'd', 'e']);
    assert_eq!(page.queue.waiting(), 0);
}

#[test]
fn a_wait_between_retries_keeps_the_slot() {
    run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("retry a", ""),
            ("send a", ""),
            ("finish a", "b"),
        ],
    );
}

#[test]
fn pause_frees_the_slot_and_resume_joins_the_back_of_the_line() {
    let page = run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("pause a", "b"),
            ("resume a", ""),
            ("finish b", "c"),
            ("finish c", "a"),
        ],
    );
    assert_eq!(page.started, ['a', 'b', 'c', 'a']);
}

#[test]
fn resume_starts_at_once_when_a_slot_is_free() {
    run(
        3,
        &[
            ("add a", "a"),
            ("add b", "b"),
            ("pause a", ""),
            ("resume a", "a"),
        ],
    );
}

#[test]
fn pausing_a_queued_upload_takes_it_out_of_line() {
    let page = run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("pause b", ""),
            ("finish a", "c"),
            ("resume b", ""),
            ("finish c", "b"),
        ],
    );
    assert_eq!(page.started, ['a', 'c', 'b']);
}

#[test]
fn a_cancelled_queued_upload_never_starts() {
    let page = run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("cancel b", ""),
            ("finish a", "c"),
            ("finish c", ""),
        ],
    );
    assert!(!page.started.contains(&'b'));
    assert_eq!(page.state('b'), Some(&UploadState::Cancelled));
}

#[test]
fn cancelling_a_running_upload_frees_its_slot_at_once() {
    run(
        3,
        &[
            ("add a", "a"),
            ("add b", "b"),
            ("add c", "c"),
            ("add d", ""),
            ("cancel b", "d"),
        ],
    );
}

#[test]
fn a_failed_upload_frees_its_slot_and_resume_requeues_it() {
    run(
        3,
        &[
            ("add a", "a"),
            ("add b", "b"),
            ("add c", "c"),
            ("add d", ""),
            ("fail a", "d"),
            ("resume a", ""),
            ("finish d", "a"),
        ],
    );
}

#[test]
fn a_forgotten_upload_leaves_the_line_and_its_slot() {
    run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("drop b", ""),
            ("drop a", "c"),
        ],
    );
}

#[test]
fn raising_the_limit_starts_waiting_uploads_and_lowering_stops_none() {
    let mut page = run(
        1,
        &[
            ("add a", "a"),
            ("add b", ""),
            ("add c", ""),
            ("add d", ""),
            ("limit 3", "bc"),
            ("limit 1", ""),
        ],
    );
    assert_eq!(page.queue.running(), 3, "lowering the limit stops none");
    for (step, expected) in [("finish a", ""), ("finish b", ""), ("finish c", "d")] {
        let before = page.started.len();
        page.step(step);
        assert_eq!(page.started[before..].iter().collect::<String>(), expected);
    }
}

#[test]
fn a_limit_of_zero_still_lets_one_upload_run() {
    run(0, &[("add a", "a"), ("add b", ""), ("finish a", "b")]);
}

#[test]
fn the_default_limit_is_three() {
    assert_eq!(UploadQueue::default().limit(), 3);
}

/// What may happen to upload `n` of a page.
#[derive(Debug, Clone)]
enum Op {
    Add,
    Finish(usize),
    Fail(usize),
    Retry(usize),
    Pause(usize),
    Resume(usize),
    Cancel(usize),
    Drop(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Add),
        3 => (0..12usize).prop_map(Op::Finish),
        1 => (0..12usize).prop_map(Op::Fail),
        1 => (0..12usize).prop_map(Op::Retry),
        2 => (0..12usize).prop_map(Op::Pause),
        2 => (0..12usize).prop_map(Op::Resume),
        1 => (0..12usize).prop_map(Op::Cancel),
        1 => (0..12usize).prop_map(Op::Drop),
    ]
}

const NAMES: &str = "abcdefghijkl";

/// Applies `op` if it makes sense for the upload's state (a finished upload
/// cannot be paused, only a running one finishes...).
fn apply(page: &mut Page, op: &Op) {
    let name = |i: usize| NAMES.chars().nth(i).unwrap();
    let step = match *op {
        Op::Add => {
            let Some(free) = NAMES.chars().find(|n| !page.states.contains_key(n)) else {
                return;
            };
            format!("add {free}")
        }
        Op::Finish(i) | Op::Fail(i) | Op::Retry(i) => {
            let n = name(i);
            if !page.state(n).is_some_and(holds_slot) {
                return;
            }
            let verb = match op {
                Op::Finish(_) => "finish",
                Op::Fail(_) => "fail",
                _ => "retry",
            };
            format!("{verb} {n}")
        }
        Op::Pause(i) => {
            let n = name(i);
            match page.state(n) {
                Some(s) if holds_slot(s) || *s == UploadState::Queued => format!("pause {n}"),
                _ => return,
            }
        }
        Op::Resume(i) => {
            let n = name(i);
            match page.state(n) {
                Some(UploadState::Paused { .. } | UploadState::Failed(_)) => format!("resume {n}"),
                _ => return,
            }
        }
        Op::Cancel(i) => {
            let n = name(i);
            match page.state(n) {
                Some(s) if !s.is_final() && !matches!(s, UploadState::Cancelling { .. }) => {
                    format!("cancel {n}")
                }
                _ => return,
            }
        }
        Op::Drop(i) => {
            let n = name(i);
            if !page.states.contains_key(&n) {
                return;
            }
            format!("drop {n}")
        }
    };
    page.step(&step);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn never_more_than_the_limit_run_and_every_upload_kept_gets_its_turn(
        limit in 1..5usize,
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        let mut page = Page::new(limit);
        for op in &ops {
            apply(&mut page, op);
            prop_assert!(page.running().len() <= limit, "{:?} run after {op:?}", page.running());
            prop_assert_eq!(page.queue.running(), page.running().len());
            let free = limit - page.running().len();
            prop_assert!(
                free == 0 || page.queue.waiting() == 0,
                "a slot is free while an upload waits, after {:?}", op
            );
        }
        // Then everything running finishes, and nothing else happens:
        // every upload still queued must get its turn.
        let queued: Vec<char> = page
            .states
            .iter()
            .filter(|(_, (_, s))| *s == UploadState::Queued)
            .map(|(n, _)| *n)
            .collect();
        let before = page.started.len();
        for _ in 0..NAMES.len() {
            for n in page.running() {
                page.step(&format!("finish {n}"));
            }
        }
        let later = &page.started[before..];
        for n in queued {
            prop_assert!(later.contains(&n), "{} waited forever", n);
        }
        prop_assert_eq!(page.queue.running(), 0);
        prop_assert_eq!(page.queue.waiting(), 0);
    }
}
