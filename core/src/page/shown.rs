//! How a widget following one job over the page connection shows itself:
//! the connection's [`PageStatus`] and that job's fate mapped onto the
//! [`Status`] every widget already renders, and the page's lifecycle
//! events (reported in the one-job session's terms) mapped onto
//! [`PageInput`]s. Pure functions, so the browser shell decides nothing.

use super::io::{PageInput, PageStatus, Rung};
use crate::session::{errors, Connection, Input, Millis, Mode, Status, StatusError};
use crate::{JobState, Progress};

/// The mode a rung delivers in.
pub const fn mode(rung: Rung) -> Mode {
    match rung {
        Rung::WebSocket => Mode::WebSocket,
        Rung::Sse => Mode::EventStream,
        Rung::Polling => Mode::HttpPolling,
    }
}

/// The status of a widget whose job is still followed, while the page
/// connection is in `page`. `attempt` is the connection's attempt on its
/// rung (1-based), `max_attempts` its retries before stepping down.
pub fn job_status(page: PageStatus, attempt: u32, max_attempts: u32) -> Status {
    let (mode, connection) = match page {
        // Subscribed, the connection not opened yet: it is about to be.
        PageStatus::Idle => (Mode::None, Connection::Connecting { attempt }),
        PageStatus::Connecting { rung } => (mode(rung), Connection::Connecting { attempt }),
        PageStatus::Live {
            rung: Rung::Polling,
        } => (
            Mode::HttpPolling,
            Connection::Polling {
                next_probe_at: None,
            },
        ),
        PageStatus::Live { rung } => (mode(rung), Connection::Connected),
        PageStatus::Checking { rung } => (mode(rung), Connection::Checking),
        PageStatus::Reconnecting { rung, retry_at } => (
            mode(rung),
            Connection::Reconnecting {
                attempt: attempt.saturating_add(1),
                max_attempts,
                retry_at,
            },
        ),
        PageStatus::Offline => (Mode::None, Connection::Offline),
        // Hidden: nothing is open, and nothing may read as delivering.
        PageStatus::Paused => (Mode::None, Connection::Idle),
        PageStatus::Stopped => (Mode::None, Connection::Stopped { error: None }),
        // What a one-job session without automatic retry shows once stopped.
        PageStatus::Halted => {
            return Status::stopped(errors::auto_retry_off(&errors::socket_error()))
        }
    };
    plain(mode, connection, None)
}

/// The status of a widget whose job reached its final state: finished,
/// with the job's own error when it failed or was cancelled.
pub fn ended_status(progress: &Progress) -> Status {
    plain(
        Mode::None,
        Connection::Finished(progress.state),
        ended_error(progress),
    )
}

/// The error a failed or cancelled job ends with (none for a completed one).
pub fn ended_error(progress: &Progress) -> Option<StatusError> {
    (progress.state != JobState::Completed && progress.state.is_terminal())
        .then(|| errors::job_ended(progress))
}

/// The status of a widget whose job the connection stopped following
/// (refused for good: unknown, bad id, token refused again).
pub fn failed_status(error: StatusError) -> Status {
    Status::stopped(error)
}

/// Stamps the times a widget shows (its job's last update, the page's
/// last sign of life) on a status.
pub fn with_times(mut status: Status, update: Option<Millis>, heard: Option<Millis>) -> Status {
    status.last_update_at = update;
    status.last_heard_at = heard;
    status
}

fn plain(mode: Mode, connection: Connection, error: Option<StatusError>) -> Status {
    Status {
        mode,
        connection,
        last_update_at: None,
        last_heard_at: None,
        latency_ms: None,
        last_error: error,
    }
}

/// What a page event, as the shell's listeners report it for a session,
/// means to the page connection. Coming back from a freeze, becoming
/// visible or changing networks are all "try now" (`PageShow`); hiding is
/// nothing until `pagehide`.
pub fn lifecycle_input(event: &Input) -> Option<PageInput> {
    match event {
        Input::Online => Some(PageInput::Online),
        Input::Offline => Some(PageInput::Offline),
        Input::PageHide => Some(PageInput::PageHide),
        Input::PageShow { .. } | Input::Visible | Input::Resumed | Input::NetworkChanged => {
            Some(PageInput::PageShow)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProcessId;

    #[test]
    fn each_page_status_reads_as_the_widget_status_of_its_rung() {
        let table = [
            (
                PageStatus::Idle,
                Mode::None,
                Connection::Connecting { attempt: 1 },
            ),
            (
                PageStatus::Connecting { rung: Rung::Sse },
                Mode::EventStream,
                Connection::Connecting { attempt: 1 },
            ),
            (
                PageStatus::Live {
                    rung: Rung::WebSocket,
                },
                Mode::WebSocket,
                Connection::Connected,
            ),
            (
                PageStatus::Live { rung: Rung::Sse },
                Mode::EventStream,
                Connection::Connected,
            ),
            (
                PageStatus::Live {
                    rung: Rung::Polling,
                },
                Mode::HttpPolling,
                Connection::Polling {
                    next_probe_at: None,
                },
            ),
            (
                PageStatus::Checking {
                    rung: Rung::WebSocket,
                },
                Mode::WebSocket,
                Connection::Checking,
            ),
            (
                PageStatus::Reconnecting {
                    rung: Rung::WebSocket,
                    retry_at: 900,
                },
                Mode::WebSocket,
                Connection::Reconnecting {
                    attempt: 2,
                    max_attempts: 3,
                    retry_at: 900,
                },
            ),
            (PageStatus::Offline, Mode::None, Connection::Offline),
            (PageStatus::Paused, Mode::None, Connection::Idle),
            (
                PageStatus::Stopped,
                Mode::None,
                Connection::Stopped { error: None },
            ),
        ];
        for (page, mode, connection) in table {
            let status = job_status(page, 1, 3);
            assert_eq!(
                (status.mode, status.connection),
                (mode, connection),
                "{page:?}"
            );
            assert_eq!(status.last_error, None);
        }
    }

    #[test]
    fn only_a_live_page_reads_as_connected() {
        for page in [
            PageStatus::Idle,
            PageStatus::Paused,
            PageStatus::Offline,
            PageStatus::Stopped,
            PageStatus::Checking { rung: Rung::Sse },
            PageStatus::Connecting {
                rung: Rung::WebSocket,
            },
        ] {
            assert_ne!(job_status(page, 1, 3).connection, Connection::Connected);
        }
    }

    #[test]
    fn an_ended_job_is_finished_with_its_own_error_unless_it_completed() {
        let mut p = Progress::unknown(ProcessId::parse("a").unwrap(), 0);
        p.state = JobState::Completed;
        let done = ended_status(&p);
        assert_eq!(done.connection, Connection::Finished(JobState::Completed));
        assert_eq!(done.last_error, None);
        p.state = JobState::Failed;
        p.error = Some("disk full".into());
        let failed = ended_status(&p);
        assert_eq!(failed.connection, Connection::Finished(JobState::Failed));
        assert_eq!(
            failed.last_error.map(|e| e.message),
            Some("disk full".into())
        );
        p.state = JobState::Running;
        assert_eq!(ended_error(&p), None, "a running job has no end error");
    }

    #[test]
    fn page_events_map_onto_page_inputs() {
        let table = [
            (Input::Online, Some(PageInput::Online)),
            (Input::Offline, Some(PageInput::Offline)),
            (Input::PageHide, Some(PageInput::PageHide)),
            (
                Input::PageShow { persisted: true },
                Some(PageInput::PageShow),
            ),
            (Input::Visible, Some(PageInput::PageShow)),
            (Input::Resumed, Some(PageInput::PageShow)),
            (Input::NetworkChanged, Some(PageInput::PageShow)),
            (Input::Hidden, None),
            (Input::Reconnect, None),
        ];
        for (event, expected) in table {
            assert_eq!(lifecycle_input(&event), expected, "{event:?}");
        }
    }
}
