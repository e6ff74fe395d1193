//! When the view shows what the session announced.
//!
//! A job can report far faster than a screen refreshes; drawing every
//! update would spend the page's main thread on frames nobody reads (each
//! costs a style, layout, paint and commit). The shell therefore holds the
//! newest `Progress` and `Status` here and shows them on an animation
//! frame, at most once per [`FRAME_MIN_INTERVAL_MS`]. Two exceptions keep
//! the view honest: a final state (a terminal job, a finished or stopped
//! session) is shown at once, and an update whose frame does not come
//! (hidden tabs run no animation frames) is shown after
//! [`FRAME_FALLBACK_MS`] anyway.

use super::{Connection, Millis, Status};
use crate::Progress;

/// The shortest time between two shown updates. Twelve a second reads as
/// live (the bar's transition smooths the steps between them) and bounds
/// the rendering cost of a job that reports a hundred times a second,
/// while a job that reports ten times a second (100 ms apart) never waits.
pub const FRAME_MIN_INTERVAL_MS: Millis = 80;

/// How long a pending update waits for an animation frame before it is
/// shown without one. Far longer than a frame (16 ms at 60 Hz), so a
/// visible page always draws on a frame; short enough that a page whose
/// frames are paused (a hidden tab, an off-screen frame) is never behind
/// by more than this plus its timer throttling.
pub const FRAME_FALLBACK_MS: u32 = 200;

/// The shortest time between two changes of the bar for the second to be
/// animated. The stylesheet's transition lasts 250 ms; changes further apart
/// than this let it finish and rest, while closer ones would keep it running
/// (a style, paint and commit on every frame, for steps too small to need
/// smoothing), so those are drawn as they are.
pub const BAR_ANIMATION_MIN_GAP_MS: Millis = 400;

/// Whether the bar animates to a value that changed `since_last_change` ms
/// after its previous change (`None`: the first value, drawn as it is).
pub fn bar_animates(since_last_change: Option<Millis>) -> bool {
    since_last_change.is_some_and(|gap| gap >= BAR_ANIMATION_MIN_GAP_MS)
}

/// What the shell must do after offering an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flush {
    /// A flush is already scheduled; it will show this update too.
    Scheduled,
    /// Ask for an animation frame (with the fallback timer) and flush then.
    NextFrame,
    /// Wait this many milliseconds, then ask for a frame as for `NextFrame`:
    /// the last update was shown less than [`FRAME_MIN_INTERVAL_MS`] ago.
    After(Millis),
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
    shown_at: Option<Millis>,
    /// The kind of connection last offered (`Connected`, `Reconnecting`...).
    connection_kind: Option<std::mem::Discriminant<Connection>>,
}

impl PendingView {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Holds `progress` (arrived at `now`) until the next flush.
    pub fn offer_progress(&mut self, progress: Progress, now: Millis) -> Flush {
        let last = progress.state.is_terminal();
        self.progress = Some(progress);
        self.flush_for(last, now)
    }

    /// Holds `status` (arrived at `now`) until the next flush. A change of
    /// connection kind (connected, reconnecting, polling...) is shown at
    /// once: such changes are rare, and a short outage must not vanish
    /// inside a coalescing window (a page whose animation frames are slow
    /// would otherwise show "connected" straight through a drop that was
    /// repaired within the fallback delay).
    pub fn offer_status(&mut self, status: Status, now: Millis) -> Flush {
        let kind = std::mem::discriminant(&status.connection);
        let changed_kind = self.connection_kind != Some(kind);
        self.connection_kind = Some(kind);
        let last = matches!(
            status.connection,
            Connection::Finished(_) | Connection::Stopped { .. }
        );
        self.status = Some(status);
        self.flush_for(last || changed_kind, now)
    }

    /// What to show at `now`; the next offer schedules a new flush.
    pub fn take(&mut self, now: Millis) -> (Option<Progress>, Option<Status>) {
        self.scheduled = false;
        self.shown_at = Some(now);
        (self.progress.take(), self.status.take())
    }

    fn flush_for(&mut self, last: bool, now: Millis) -> Flush {
        if last {
            return Flush::Now;
        }
        if self.scheduled {
            return Flush::Scheduled;
        }
        self.scheduled = true;
        let ready_at = self
            .shown_at
            .map_or(now, |at| at.saturating_add(FRAME_MIN_INTERVAL_MS));
        if ready_at > now {
            Flush::After(ready_at - now)
        } else {
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
    fn the_bar_animates_only_changes_that_come_far_apart() {
        let table: [(Option<Millis>, bool); 6] = [
            (None, false),
            (Some(10), false),
            (Some(100), false),
            (Some(BAR_ANIMATION_MIN_GAP_MS - 1), false),
            (Some(BAR_ANIMATION_MIN_GAP_MS), true),
            (Some(5_000), true),
        ];
        for (gap, animates) in table {
            assert_eq!(bar_animates(gap), animates, "gap {gap:?}");
        }
    }

    #[test]
    fn a_change_of_connection_kind_is_shown_at_once() {
        let mut view = PendingView::new();
        assert_eq!(
            view.offer_status(status(Connection::Connected), 0),
            Flush::Now,
            "the first status"
        );
        view.take(0);
        // Same kind, new details (a fresher last_heard_at): coalesced.
        let mut fresher = status(Connection::Connected);
        fresher.last_heard_at = Some(5);
        assert_eq!(
            view.offer_status(fresher, 5),
            Flush::After(FRAME_MIN_INTERVAL_MS - 5)
        );
        // A drop inside that window is not hidden behind it.
        assert_eq!(
            view.offer_status(status(Connection::Connecting { attempt: 1 }), 6),
            Flush::Now
        );
        view.take(6);
        assert_eq!(
            view.offer_status(status(Connection::Connected), 7),
            Flush::Now,
            "and neither is the way back"
        );
    }

    #[test]
    fn a_burst_asks_for_one_frame_and_shows_only_the_newest() {
        let mut view = PendingView::new();
        view.offer_status(status(Connection::Connected), 0);
        view.take(0);
        assert_eq!(
            view.offer_progress(progress(1, JobState::Running), 100),
            Flush::NextFrame
        );
        assert_eq!(
            view.offer_status(status(Connection::Connected), 103),
            Flush::Scheduled
        );
        assert_eq!(
            view.offer_progress(progress(2, JobState::Running), 105),
            Flush::Scheduled
        );
        let (p, s) = view.take(116);
        assert_eq!(p.map(|p| p.seq), Some(2));
        assert_eq!(s.map(|s| s.connection), Some(Connection::Connected));
        assert_eq!(view.take(117), (None, None), "nothing is shown twice");
    }

    #[test]
    fn updates_are_shown_at_most_once_per_interval() {
        let mut view = PendingView::new();
        view.offer_progress(progress(1, JobState::Running), 0);
        view.take(10);
        assert_eq!(
            view.offer_progress(progress(2, JobState::Running), 40),
            Flush::After(FRAME_MIN_INTERVAL_MS - 30),
            "shown at 10, so not before 10 + the interval"
        );
        assert_eq!(
            view.offer_progress(progress(3, JobState::Running), 60),
            Flush::Scheduled
        );
        view.take(110);
        assert_eq!(
            view.offer_progress(progress(4, JobState::Running), 110 + FRAME_MIN_INTERVAL_MS),
            Flush::NextFrame,
            "a whole interval later it waits for a frame only"
        );
    }

    #[test]
    fn final_states_are_shown_at_once() {
        let mut view = PendingView::new();
        view.offer_progress(progress(1, JobState::Running), 0);
        view.take(0);
        for state in [JobState::Completed, JobState::Failed, JobState::Cancelled] {
            assert_eq!(view.offer_progress(progress(9, state), 1), Flush::Now);
        }
        assert_eq!(
            view.offer_status(status(Connection::Finished(JobState::Completed)), 1),
            Flush::Now
        );
        assert_eq!(
            view.offer_status(status(Connection::Stopped { error: None }), 1),
            Flush::Now
        );
    }

    #[test]
    fn a_final_state_takes_the_pending_update_with_it() {
        let mut view = PendingView::new();
        view.offer_status(status(Connection::Connected), 0);
        assert_eq!(
            view.offer_progress(progress(5, JobState::Completed), 1),
            Flush::Now
        );
        let (p, s) = view.take(1);
        assert_eq!(p.map(|p| p.state), Some(JobState::Completed));
        assert_eq!(s.map(|s| s.connection), Some(Connection::Connected));
    }
}
