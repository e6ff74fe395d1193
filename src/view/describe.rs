//! Pure functions from (progress, status, clock) to what the view shows.
//!
//! Kept apart from the view so they run in native tests and so the markup
//! holds no logic beyond wiring.

use upload_progress_core::display::{age, whole_percent, Age};
use upload_progress_core::session::{Connection, ErrorKind, Millis, Mode, Status, StatusError};
use upload_progress_core::{JobState, Progress, StageStatus};
// The countdown's rounding (up, so it never shows 0 early) is core's, shared
// with the upload's retry countdown.
use upload_progress_core::upload::seconds_until;

use crate::view::labels::{fill, Labels};

/// `data-state`: the job's lifecycle state, or `unknown` before any progress.
pub(crate) fn job_state_attr(progress: Option<&Progress>) -> &'static str {
    progress.map_or("unknown", |p| p.state.as_str())
}

/// `data-connection`: the connection state, one word.
pub(crate) fn connection_attr(status: &Status) -> &'static str {
    status.connection.kind().as_str()
}

/// `data-attempt`: the attempt number while connecting or waiting to reconnect.
pub(crate) fn attempt_attr(status: &Status) -> Option<String> {
    match &status.connection {
        Connection::Connecting { attempt } | Connection::Reconnecting { attempt, .. } => {
            Some(attempt.to_string())
        }
        _ => None,
    }
}

/// The connection indicator's sentence.
pub(crate) fn connection_text(labels: &Labels, status: &Status, now: Millis) -> String {
    match &status.connection {
        Connection::Idle => labels.idle.clone(),
        Connection::Connecting { attempt } if *attempt <= 1 => labels.connecting.clone(),
        Connection::Connecting { attempt } => fill(
            &labels.connecting_attempt,
            &[("attempt", &attempt.to_string())],
        ),
        Connection::Connected => labels.connected.clone(),
        Connection::Checking => labels.checking.clone(),
        Connection::Reconnecting {
            attempt,
            max_attempts,
            retry_at,
        } => fill(
            &labels.reconnecting,
            &[
                ("seconds", &seconds_until(*retry_at, now).to_string()),
                ("attempt", &attempt.to_string()),
                ("max", &max_attempts.to_string()),
            ],
        ),
        Connection::Polling {
            next_probe_at: Some(at),
        } => fill(
            &labels.polling_probe,
            &[("seconds", &seconds_until(*at, now).to_string())],
        ),
        Connection::Polling {
            next_probe_at: None,
        } => labels.polling.clone(),
        Connection::Offline => labels.offline.clone(),
        Connection::Finished(JobState::Failed) => labels.finished_failed.clone(),
        Connection::Finished(JobState::Cancelled) => labels.finished_cancelled.clone(),
        Connection::Finished(_) => labels.finished_completed.clone(),
        Connection::Stopped { error: None } => labels.stopped.clone(),
        Connection::Stopped { error: Some(e) } => error_message(labels, e),
    }
}

/// The localized message for an error.
pub(crate) fn error_message(labels: &Labels, error: &StatusError) -> String {
    match error.kind {
        ErrorKind::Auth => labels.error_auth.clone(),
        ErrorKind::Network => labels.error_network.clone(),
        ErrorKind::Server => labels.error_server.clone(),
        ErrorKind::Policy => labels.error_policy.clone(),
        ErrorKind::NotFound => labels.error_not_found.clone(),
        ErrorKind::Job => labels.error_job.clone(),
    }
}

/// The localized recovery hint for an error.
pub(crate) fn error_hint(labels: &Labels, error: &StatusError) -> String {
    match error.kind {
        ErrorKind::Auth => labels.hint_auth.clone(),
        ErrorKind::Network => labels.hint_network.clone(),
        ErrorKind::Server => labels.hint_server.clone(),
        ErrorKind::Policy => labels.hint_policy.clone(),
        ErrorKind::NotFound => labels.hint_not_found.clone(),
        ErrorKind::Job => labels.hint_job.clone(),
    }
}

/// The alert to show, if any: a stopped session's error or a failed job.
pub(crate) fn alert_text(
    labels: &Labels,
    progress: Option<&Progress>,
    status: &Status,
) -> Option<String> {
    if let Connection::Stopped { error: Some(e) } = &status.connection {
        return Some(format!(
            "{} {}",
            error_message(labels, e),
            error_hint(labels, e)
        ));
    }
    let failed = progress.filter(|p| p.state == JobState::Failed)?;
    let reason = failed
        .error
        .clone()
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| failed.message.clone());
    Some(fill(&labels.job_failed, &[("error", &reason)]))
}

/// The measured round trip, for the indicator's tooltip and screen readers.
pub(crate) fn latency_text(labels: &Labels, status: &Status) -> Option<String> {
    let ms = status.latency_ms?;
    Some(fill(&labels.latency, &[("ms", &ms.to_string())]))
}

/// Percent as shown: core's whole percent (rounded down, clamped).
pub(crate) fn percent_whole(progress: &Progress) -> u32 {
    whole_percent(progress.percent)
}

/// `aria-valuetext`: names the stage, e.g. "Stage 2 of 4: Text extraction, 40%".
pub(crate) fn value_text(labels: &Labels, progress: Option<&Progress>) -> String {
    let Some(p) = progress else {
        return labels.value_text_unknown.clone();
    };
    let percent = percent_whole(p).to_string();
    match p.current_stage_label() {
        Some(stage) if p.stage_count > 0 && !p.state.is_terminal() => fill(
            &labels.value_text_stage,
            &[
                ("index", &(p.stage_index + 1).to_string()),
                ("count", &p.stage_count.to_string()),
                ("stage", stage),
                ("percent", &percent),
            ],
        ),
        _ => fill(&labels.value_text, &[("percent", &percent)]),
    }
}

/// BEM modifier and screen-reader word for a stage.
pub(crate) fn stage_status(labels: &Labels, status: StageStatus) -> (&'static str, String) {
    match status {
        StageStatus::Done => ("done", labels.stage_done.clone()),
        StageStatus::Active => ("current", labels.stage_current.clone()),
        StageStatus::Pending => ("pending", labels.stage_pending.clone()),
        StageStatus::Failed => ("failed", labels.stage_failed.clone()),
        StageStatus::Skipped => ("skipped", labels.stage_skipped.clone()),
    }
}

/// "Updated 3 s ago", from the time the last newer progress was applied
/// (the buckets are core's).
pub(crate) fn age_text(labels: &Labels, last_update_at: Option<Millis>, now: Millis) -> String {
    match age(last_update_at, now) {
        Age::Waiting => labels.waiting_for_data.clone(),
        Age::Now => labels.updated_now.clone(),
        Age::Seconds(seconds) => fill(
            &labels.updated_seconds,
            &[("seconds", &seconds.to_string())],
        ),
        Age::Minutes(minutes) => fill(
            &labels.updated_minutes,
            &[("minutes", &minutes.to_string())],
        ),
    }
}

/// The status before anything happened.
pub(crate) fn idle_status() -> Status {
    Status {
        mode: Mode::None,
        connection: Connection::Idle,
        last_update_at: None,
        last_heard_at: None,
        latency_ms: None,
        last_error: None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use upload_progress_core::{ProcessId, Stage};

    fn progress(stage_index: u32, percent: f64, state: JobState) -> Progress {
        let names = ["Upload received", "Text extraction", "Analysis", "Report"];
        Progress {
            process_id: ProcessId::parse("job_1").unwrap(),
            seq: 3,
            state,
            stage: Some("text_extraction".into()),
            stage_index,
            stage_count: 4,
            stages: names
                .iter()
                .enumerate()
                .map(|(i, label)| Stage {
                    name: format!("s{i}"),
                    label: (*label).to_owned(),
                    status: StageStatus::Pending,
                })
                .collect(),
            percent,
            message: String::new(),
            error: None,
            updated_at_ms: 0,
        }
    }

    fn with(connection: Connection) -> Status {
        Status {
            connection,
            ..idle_status()
        }
    }

    #[test]
    fn value_text_names_the_stage() {
        let p = progress(1, 40.0, JobState::Running);
        assert_eq!(
            value_text(&Labels::default(), Some(&p)),
            "Stage 2 of 4: Text extraction, 40%"
        );
    }

    #[test]
    fn value_text_of_a_finished_job_is_just_the_percent() {
        let p = progress(3, 100.0, JobState::Completed);
        assert_eq!(value_text(&Labels::default(), Some(&p)), "100%");
    }

    #[test]
    fn reconnect_countdown_rounds_up() {
        let s = with(Connection::Reconnecting {
            attempt: 2,
            max_attempts: 3,
            retry_at: 10_500,
        });
        assert_eq!(
            connection_text(&Labels::default(), &s, 6_000),
            "Connection lost. Reconnecting in 5 s (attempt 2 of 3)"
        );
    }

    #[test]
    fn latency_is_described_when_measured() {
        let labels = Labels::default();
        assert_eq!(latency_text(&labels, &with(Connection::Connected)), None);
        let status = Status {
            latency_ms: Some(42),
            ..with(Connection::Connected)
        };
        assert_eq!(
            latency_text(&labels, &status).as_deref(),
            Some("Round trip 42 ms")
        );
    }

    #[test]
    fn age_is_in_seconds_then_minutes() {
        let l = Labels::default();
        assert_eq!(age_text(&l, None, 5), l.waiting_for_data);
        assert_eq!(age_text(&l, Some(1_000), 1_400), "Updated just now");
        assert_eq!(age_text(&l, Some(1_000), 4_100), "Updated 3 s ago");
        assert_eq!(age_text(&l, Some(0), 180_000), "Updated 3 min ago");
    }

    #[test]
    fn errors_use_the_labels_not_the_english_message() {
        let e = StatusError {
            kind: ErrorKind::Auth,
            message: "token expired".into(),
            hint: "get another".into(),
        };
        let s = with(Connection::Stopped { error: Some(e) });
        let text = alert_text(&Labels::default(), None, &s).unwrap();
        assert!(text.starts_with(&Labels::default().error_auth), "{text}");
        assert_eq!(connection_attr(&s), "error");
    }

    #[test]
    fn templates_are_filled_in_one_pass() {
        use crate::view::labels::fill;
        let values = [("a", "1"), ("b", "{a}")];
        assert_eq!(
            fill("{a} of {b}", &values),
            "1 of {a}",
            "values are not filled again"
        );
        assert_eq!(fill("{a}{a}", &values), "11");
        assert_eq!(
            fill("{c} {a", &values),
            "{c} {a",
            "unknown or open placeholders stay"
        );
        assert_eq!(fill("{x {a}}", &values), "{x 1}");
        assert_eq!(fill("", &values), "");
        assert_eq!(fill("Über {a} €", &values), "Über 1 €");
    }

    #[test]
    fn odd_percentages_are_clamped() {
        assert_eq!(percent_whole(&progress(0, f64::NAN, JobState::Running)), 0);
        assert_eq!(percent_whole(&progress(0, 140.0, JobState::Running)), 100);
        assert_eq!(
            percent_whole(&progress(0, 99.6, JobState::Running)),
            99,
            "rounded down as core does, so 100 means complete"
        );
    }
}
