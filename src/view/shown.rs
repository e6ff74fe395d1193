//! Everything the widget shows, as plain values: [`Shown::of`] turns the
//! inputs (progress, status, clock, labels, lead) into the texts and
//! attributes of every element. The markup (`markup.rs`) writes a `Shown`
//! as HTML; the patcher (`patch.rs`) writes the difference between two.
//!
//! Pure, so it runs in native tests, and computed once per update instead of
//! once per bound value.

use upload_progress_core::session::{Millis, Status};
use upload_progress_core::Progress;

use crate::view::classes::ROOT;
use crate::view::describe;
use crate::view::labels::Labels;
use crate::view::lead::{LeadPanel, LeadText};

/// The inputs of one render.
pub(crate) struct Scene<'a> {
    pub labels: &'a Labels,
    pub progress: Option<&'a Progress>,
    pub status: &'a Status,
    pub filename: &'a str,
    /// Classes added to the root's own (the component's `class` prop).
    pub class: &'a str,
    /// The lead's text while it is told (the upload before the job).
    pub lead: Option<&'a LeadText>,
    /// The lead's panel, when the widget has a lead.
    pub panel: Option<&'a LeadPanel>,
    /// The clock for data age and countdowns.
    pub now: Millis,
    /// The clock when the status last changed: the live region's sentence is
    /// computed at that time, so a countdown is announced once per change and
    /// not on every tick.
    pub announce_at: Millis,
}

/// The status last seen and the clock when it changed: the live region's
/// sentence is computed at that time, so a countdown is announced once per
/// change instead of on every tick.
#[derive(Clone, Default)]
pub(crate) struct Announce {
    status: Option<Status>,
    at: Millis,
}

impl Announce {
    /// The time to announce `status` at, `now` if it is new.
    pub(crate) fn at(&mut self, status: &Status, now: Millis) -> Millis {
        if self.status.as_ref() != Some(status) {
            self.status = Some(status.clone());
            self.at = now;
        }
        self.at
    }
}

/// The root element's attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RootAttrs {
    pub class: String,
    pub process_id: String,
    pub state: &'static str,
    pub stage: String,
    pub mode: &'static str,
    pub connection: &'static str,
    pub seq: String,
    pub percent: String,
    pub attempt: Option<String>,
}

impl RootAttrs {
    /// Every attribute by name, `None` when absent: the one list the markup
    /// writes and the patcher compares.
    pub(crate) fn named(&self) -> [(&'static str, Option<&str>); 9] {
        [
            ("class", Some(&self.class)),
            ("data-process-id", Some(&self.process_id)),
            ("data-state", Some(self.state)),
            ("data-stage", Some(&self.stage)),
            ("data-mode", Some(self.mode)),
            ("data-connection", Some(self.connection)),
            ("data-seq", Some(&self.seq)),
            ("data-percent", Some(&self.percent)),
            ("data-attempt", self.attempt.as_deref()),
        ]
    }
}

/// One row of the stage list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StageRow {
    pub name: String,
    /// BEM modifier and `data-status`: done, current, pending, failed, skipped.
    pub modifier: &'static str,
    pub label: String,
    /// The status in words, for screen readers.
    pub word: String,
}

/// The texts and attributes of the whole widget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Shown {
    pub root: RootAttrs,
    pub title: String,
    /// Whole percent, `None` while unknown (indeterminate bar).
    pub percent: Option<u32>,
    pub value_text: String,
    pub panel: Option<LeadPanel>,
    pub stages: Vec<StageRow>,
    pub message: String,
    pub connection_text: String,
    pub announced: String,
    pub latency: Option<String>,
    pub age: String,
    pub offers_reconnect: bool,
    pub alert: Option<String>,
}

impl Shown {
    /// What the widget shows for `scene`. Not inlined: the view calls it
    /// from two places and one copy of it is enough.
    #[inline(never)]
    pub(crate) fn of(scene: &Scene<'_>) -> Self {
        let Scene {
            labels,
            progress,
            status,
            lead,
            ..
        } = *scene;
        let percent = match lead {
            Some(lead) => lead.percent,
            None => progress.map(describe::percent_whole),
        };
        let connection = describe::connection_attr(status);
        let title = if scene.filename.trim().is_empty() {
            labels.untitled.clone()
        } else {
            scene.filename.to_owned()
        };
        let stages = progress.map_or_else(Vec::new, |p| {
            p.stages
                .iter()
                .map(|stage| {
                    let (modifier, word) = describe::stage_status(labels, stage.status);
                    StageRow {
                        name: stage.name.clone(),
                        modifier,
                        label: stage.label.clone(),
                        word,
                    }
                })
                .collect()
        });
        Shown {
            root: RootAttrs {
                class: root_class(connection, scene.class),
                process_id: progress.map_or_else(String::new, |p| p.process_id.to_string()),
                state: describe::job_state_attr(progress),
                stage: progress.and_then(|p| p.stage.clone()).unwrap_or_default(),
                mode: status.mode.as_str(),
                connection,
                seq: progress.map_or(0, |p| p.seq).to_string(),
                percent: percent.unwrap_or(0).to_string(),
                attempt: describe::attempt_attr(status),
            },
            title,
            percent,
            value_text: match lead {
                Some(lead) => lead.value_text.clone(),
                None => describe::value_text(labels, progress),
            },
            panel: scene.panel.cloned(),
            stages,
            message: progress.map_or_else(String::new, |p| p.message.clone()),
            connection_text: match lead {
                Some(lead) => lead.status_text.clone(),
                None => describe::connection_text(labels, status, scene.now),
            },
            announced: match lead {
                Some(lead) => lead.announcement.clone(),
                None => describe::connection_text(labels, status, scene.announce_at),
            },
            latency: describe::latency_text(labels, status),
            age: describe::age_text(labels, status.last_update_at, scene.now),
            offers_reconnect: status.offers_reconnect(),
            alert: describe::alert_text(labels, progress, status),
        }
    }

    /// The bar fill's inline style: the bar's full width slid left by what
    /// is missing (a transform the compositor animates, where a width would
    /// need a layout), with the stylesheet's transition switched off unless
    /// the change may animate.
    pub(crate) fn fill_style(&self, animates: bool) -> String {
        let missing = 100 - self.percent.unwrap_or(0).min(100);
        let motion = if animates { "" } else { "; transition: none" };
        format!("transform: translateX(-{missing}%){motion}")
    }
}

/// The root's class list: the widget's own, then the caller's (trimmed).
fn root_class(connection: &str, extra: &str) -> String {
    let extra = extra.trim();
    let mut class = format!("{ROOT} {ROOT}--{connection}");
    if !extra.is_empty() {
        class.push(' ');
        class.push_str(extra);
    }
    class
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use upload_progress_core::session::{Connection, Mode};
    use upload_progress_core::{JobState, ProcessId, Stage, StageStatus};

    fn progress() -> Progress {
        Progress {
            process_id: ProcessId::parse("job_7").unwrap(),
            seq: 4,
            state: JobState::Running,
            stage: Some("ocr".into()),
            stage_index: 1,
            stage_count: 2,
            percent: 62.4,
            message: "Reading".into(),
            stages: vec![
                Stage {
                    name: "upload".into(),
                    label: "Upload".into(),
                    status: StageStatus::Done,
                },
                Stage {
                    name: "ocr".into(),
                    label: "OCR".into(),
                    status: StageStatus::Active,
                },
            ],
            ..Progress::unknown(ProcessId::parse("job_7").unwrap(), 0)
        }
    }

    fn reconnecting() -> Status {
        Status {
            connection: Connection::Reconnecting {
                attempt: 2,
                max_attempts: 5,
                retry_at: 10_000,
            },
            last_update_at: Some(1_000),
            ..describe::idle_status()
        }
    }

    fn scene<'a>(
        labels: &'a Labels,
        progress: Option<&'a Progress>,
        status: &'a Status,
    ) -> Scene<'a> {
        Scene {
            labels,
            progress,
            status,
            filename: "",
            class: "",
            lead: None,
            panel: None,
            now: 4_000,
            announce_at: 2_000,
        }
    }

    #[test]
    fn a_running_job_shows_its_values_in_every_place() {
        let labels = Labels::default();
        let p = progress();
        let status = reconnecting();
        let shown = Shown::of(&scene(&labels, Some(&p), &status));
        assert_eq!(shown.root.class, "upr upr--reconnecting");
        assert_eq!(shown.root.process_id, "job_7");
        assert_eq!(shown.root.state, "running");
        assert_eq!(shown.root.stage, "ocr");
        assert_eq!(shown.root.mode, "none");
        assert_eq!(shown.root.seq, "4");
        assert_eq!(shown.root.percent, "62");
        assert_eq!(shown.root.attempt.as_deref(), Some("2"));
        assert_eq!(shown.title, labels.untitled);
        assert_eq!(shown.percent, Some(62));
        assert_eq!(shown.message, "Reading");
        assert_eq!(
            shown.stages.iter().map(|s| s.modifier).collect::<Vec<_>>(),
            ["done", "current"]
        );
        assert_eq!(shown.age, "Updated 3 s ago");
        assert!(shown.offers_reconnect);
        assert_eq!(shown.alert, None);
    }

    #[test]
    fn the_countdown_ticks_but_the_announcement_keeps_its_time() {
        let labels = Labels::default();
        let status = reconnecting();
        let shown = Shown::of(&scene(&labels, None, &status));
        assert!(shown.connection_text.contains("in 6 s"), "{shown:?}");
        assert!(shown.announced.contains("in 8 s"), "{shown:?}");
    }

    #[test]
    fn a_lead_takes_the_bar_and_the_status_line() {
        let labels = Labels::default();
        let status = describe::idle_status();
        let lead = LeadText {
            percent: Some(30),
            value_text: "Uploading 3 of 10 MB".into(),
            status_text: "Uploading…".into(),
            announcement: "Upload started".into(),
        };
        let shown = Shown::of(&Scene {
            lead: Some(&lead),
            filename: "scan.pdf",
            ..scene(&labels, None, &status)
        });
        assert_eq!(shown.title, "scan.pdf");
        assert_eq!(shown.percent, Some(30));
        assert_eq!(shown.root.percent, "30");
        assert_eq!(shown.value_text, lead.value_text);
        assert_eq!(shown.connection_text, lead.status_text);
        assert_eq!(shown.announced, lead.announcement);
        assert_eq!(shown.root.state, "unknown");
    }

    #[test]
    fn the_fill_slides_by_what_is_missing() {
        let labels = Labels::default();
        let p = progress();
        let status = Status {
            mode: Mode::WebSocket,
            connection: Connection::Connected,
            ..describe::idle_status()
        };
        let shown = Shown::of(&scene(&labels, Some(&p), &status));
        assert_eq!(shown.fill_style(true), "transform: translateX(-38%)");
        assert_eq!(
            shown.fill_style(false),
            "transform: translateX(-38%); transition: none"
        );
        let unknown = Shown::of(&scene(&labels, None, &status));
        assert_eq!(
            unknown.fill_style(false),
            "transform: translateX(-100%); transition: none"
        );
    }
}
