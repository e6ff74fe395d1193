//! When the view shows what the session announced.
//!
//! A job can report far faster than a screen refreshes; drawing every
//! update would spend the page's main thread on frames nobody sees. The
//! shell therefore holds the newest `Progress` and `Status` here and shows
//! them at most once per animation frame. Two exceptions keep the view
//! honest: a final state (a terminal job, a finished or stopped session) is
//! shown at once, and an update whose frame does not come (hidden tabs run
//! no animation frames) is shown after [`FRAME_FALLBACK_MS`] anyway.

use super::{Connection, Status};
use crate::Progress;

/// How long a pending update waits for an animation frame before it is
/// shown without one. Far longer than a frame (16 ms at 60 Hz), so a
/// visible page always draws on a frame; short enough that a page whose
/// frames are paused (a hidden tab, an off-screen frame) is never behind
/// by more than this plus its timer throttling.
pub const FRAME_FALLBACK_MS: u32 = 200;

/// What the shell must do after offering an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// A flush is already scheduled; it will show this update too.
    Scheduled,
    /// Ask for an animation frame (with the fallback timer) and flush then.
    NextFrame,
    /// Flush now: this is a final state.
    Now,
}

/// The newest progress and status not shown yet. Older ones are replaced,
/// never queued: every message carries the whole state.
#[derive(Debug, Default)]
pub struct PendingView {
    progress: Option<Progress>,
    status: Option<Status>,
    scheduled: bool,
}

impl PendingView {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `progress` until the next flush.
    pub fn offer_progress(&mut self, progress: Progress) -> Flush {
        let last = progress.state.is_terminal();
        self.progress = Some(progress);
        self.flush_for(last)
    }

    /// Holds `status` until the next flush.
    pub fn offer_status(&mut self, status: Status) -> Flush {
        let last = matches!(
            status.connection,
            Connection::Finished(_) | Connection::Stopped { .. }
        );
        self.status = Some(status);
        self.flush_for(last)
    }

    /// What to show now; the next offer schedules a new flush.
    pub fn take(&mut self) -> (Option<Progress>, Option<Status>) {
        self.scheduled = false;
        (self.progress.take(), self.status.take())
    }

    fn flush_for(&mut self, last: bool) -> Flush {
        if last {
            Flush::Now
        } else if self.scheduled {
            Flush::Scheduled
        } else {
            self.scheduled = true;
            Flush::NextFrame
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Mode;
    use crate::{JobState, ProcessId};

    fn progress(seq: u64, state: JobState) -> Progress {
        Progress {
            seq,
            state,
            ..Progress::unknown(ProcessId::parse("job_1").unwrap(), 0)
        }
    }

    fn status(connection: Connection) -> Status {
        Status {
            mode: Mode::None,
            connection,
            last_update_at: None,
            last_heard_at: None,
            latency_ms: None,
            last_error: None,
        }
    }

    #[test]
    fn a_burst_asks_for_one_frame_and_shows_only_the_newest() {
        let mut view = PendingView::new();
        assert_eq!(
            view.offer_progress(progress(1, JobState::Running)),
            Flush::NextFrame
        );
        assert_eq!(
            view.offer_status(status(Connection::Connected)),
            Flush::Scheduled
        );
        assert_eq!(
            view.offer_progress(progress(2, JobState::Running)),
            Flush::Scheduled
        );
        let (p, s) = view.take();
        assert_eq!(p.map(|p| p.seq), Some(2));
        assert_eq!(s.map(|s| s.connection), Some(Connection::Connected));
        assert_eq!(view.take(), (None, None), "nothing is shown twice");
    }

    #[test]
    fn after_a_flush_the_next_update_asks_for_a_new_frame() {
        let mut view = PendingView::new();
        view.offer_progress(progress(1, JobState::Running));
        view.take();
        assert_eq!(
            view.offer_progress(progress(2, JobState::Running)),
            Flush::NextFrame
        );
    }

    #[test]
    fn final_states_are_shown_at_once() {
        let mut view = PendingView::new();
        for state in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
            assert_eq!(view.offer_progress(progress(9, state)), Flush::Now);
        }
        assert_eq!(
            view.offer_status(status(Connection::Finished(JobState::Completed))),
            Flush::Now
        );
        assert_eq!(
            view.offer_status(status(Connection::Stopped { error: None })),
            Flush::Now
        );
    }

    #[test]
    fn a_final_state_takes_the_pending_update_with_it() {
        let mut view = PendingView::new();
        view.offer_status(status(Connection::Connected));
        assert_eq!(
            view.offer_progress(progress(5, JobState::Completed)),
            Flush::Now
        );
        let (p, s) = view.take();
        assert_eq!(p.map(|p| p.state), Some(JobState::Completed));
        assert_eq!(s.map(|s| s.connection), Some(Connection::Connected));
    }
}
