//! The upload's part of the widget: its [`Lead`] (bar, `aria-valuetext`,
//! status line, announcements) and a panel with bytes, speed, time left and
//! the Pause / Resume / Cancel buttons. What to say and which buttons to
//! offer come from the core (`upload::describe`); this only fills labels.

use std::sync::Arc;

use leptos::prelude::*;
use upload_progress_core::upload::{
    byte_amounts, notice, rate, time_left, upload_percent, TimeLeft, UploadNotice, UploadPhase,
    UploadProgress,
};

use super::hook::UseUploadReturn;
use crate::view::labels::{fill, Labels};
use crate::view::lead::{Lead, LeadAction, LeadPanel, LeadText};

/// The lead of an upload of `total` bytes, told until `job_started`.
pub(crate) fn upload_lead(
    up: UseUploadReturn,
    total: u64,
    job_started: Signal<bool>,
    labels: Arc<Labels>,
) -> Lead {
    let phase = Memo::new(move |_| up.state.with(UploadPhase::of));
    let sent = Memo::new(move |_| up.progress.with(|p| p.map_or(0, |p| p.sent)));
    // The announcement changes only with news, so the live region speaks
    // once per pause, resume, retry or failure, not once per chunk.
    let l = labels.clone();
    let news =
        Memo::new(move |previous: Option<&(UploadPhase, String)>| news(&l, previous, phase.get()));
    let l = labels.clone();
    let text = Memo::new(move |_| {
        if job_started.get() {
            return None;
        }
        let announcement = news.with(|(_, t)| t.clone());
        Some(lead_text(&l, &phase.get(), sent.get(), total, announcement))
    });
    let l = labels.clone();
    let panel = Memo::new(move |_| {
        let phase = phase.get();
        up.progress
            .with(|p| lead_panel(&l, &phase, p.as_ref(), total))
    });
    let on_action = Callback::new(move |action: LeadAction| match action {
        LeadAction::Pause => up.pause.run(()),
        LeadAction::Resume => up.resume.run(()),
        LeadAction::Cancel => up.cancel.run(()),
    });
    Lead {
        text: text.into(),
        panel: Some(panel.into()),
        on_action: Some(on_action),
    }
}

/// The news after `current`, given the news before it: the announcement
/// changes only with news (pause, resume, retry, failure), so the live
/// region speaks once per change, not once per chunk.
pub(crate) fn news(
    labels: &Labels,
    previous: Option<&(UploadPhase, String)>,
    current: UploadPhase,
) -> (UploadPhase, String) {
    let text = match notice(previous.map(|(p, _)| p), &current) {
        Some(n) => notice_text(labels, &n),
        None => previous.map(|(_, t)| t.clone()).unwrap_or_default(),
    };
    (current, text)
}

/// What the bar and the status line say while the upload is the story.
pub(crate) fn lead_text(
    labels: &Labels,
    phase: &UploadPhase,
    sent: u64,
    total: u64,
    announcement: String,
) -> LeadText {
    LeadText {
        percent: Some(upload_percent(sent, total)),
        value_text: value_text(labels, phase, sent, total),
        status_text: status_text(labels, phase),
        announcement,
    }
}

/// The panel's values: bytes sent, and speed and time left only while bytes
/// leave (a paused or waiting upload has neither).
pub(crate) fn lead_panel(
    labels: &Labels,
    phase: &UploadPhase,
    progress: Option<&UploadProgress>,
    total: u64,
) -> LeadPanel {
    let sent = progress.map_or(0, |p| p.sent);
    let a = byte_amounts(sent, total);
    let moving = *phase == UploadPhase::Uploading;
    let speed = progress
        .and_then(|p| p.bytes_per_s)
        .filter(|_| moving)
        .map(|b| {
            let (value, unit) = rate(b);
            fill(&labels.upload_speed, &[("speed", &value), ("unit", unit)])
        });
    let left = progress
        .and_then(|p| p.eta_ms)
        .filter(|_| moving)
        .map(|eta| left_text(labels, time_left(eta)));
    LeadPanel {
        phase: phase.word(),
        hidden: *phase == UploadPhase::Uploaded,
        amount: fill(
            &labels.upload_amount,
            &[("sent", &a.sent), ("total", &a.total), ("unit", a.unit)],
        ),
        speed: speed.unwrap_or_default(),
        left: left.unwrap_or_default(),
        controls: phase.controls(),
    }
}

fn left_text(labels: &Labels, left: TimeLeft) -> String {
    let (template, n) = match left {
        TimeLeft::Seconds(n) => (&labels.upload_left_seconds, n),
        TimeLeft::Minutes(n) => (&labels.upload_left_minutes, n),
        TimeLeft::Hours(n) => (&labels.upload_left_hours, n),
    };
    fill(template, &[("n", &n.to_string())])
}

/// `aria-valuetext`: the bytes while the upload goes on, else its outcome.
fn value_text(labels: &Labels, phase: &UploadPhase, sent: u64, total: u64) -> String {
    let template = match phase {
        UploadPhase::Paused => &labels.upload_value_text_paused,
        UploadPhase::Queued
        | UploadPhase::Uploaded
        | UploadPhase::Cancelled
        | UploadPhase::Failed { .. } => {
            return status_text(labels, phase);
        }
        _ => &labels.upload_value_text,
    };
    let a = byte_amounts(sent, total);
    fill(
        template,
        &[("sent", &a.sent), ("total", &a.total), ("unit", a.unit)],
    )
}

/// The status line for a phase.
fn status_text(labels: &Labels, phase: &UploadPhase) -> String {
    match phase {
        UploadPhase::Queued => labels.upload_queued.clone(),
        UploadPhase::Starting => labels.upload_starting.clone(),
        UploadPhase::Uploading => labels.upload_uploading.clone(),
        UploadPhase::Retrying {
            failures, error, ..
        } => fill(
            &labels.upload_retrying,
            &[
                ("error", &error.to_string()),
                ("attempt", &failures.saturating_add(1).to_string()),
            ],
        ),
        UploadPhase::Offline => labels.upload_offline.clone(),
        UploadPhase::Paused => labels.upload_paused.clone(),
        UploadPhase::Cancelling => labels.upload_cancelling.clone(),
        UploadPhase::Cancelled => labels.upload_cancelled.clone(),
        UploadPhase::Uploaded => labels.upload_done.clone(),
        UploadPhase::Failed { error, can_resume } => fill(
            if *can_resume {
                &labels.upload_failed_resumable
            } else {
                &labels.upload_failed
            },
            &[("error", &error.to_string())],
        ),
    }
}

/// The live region's sentence for a notice.
fn notice_text(labels: &Labels, news: &UploadNotice) -> String {
    let phase = match news {
        UploadNotice::Started => return labels.upload_started.clone(),
        UploadNotice::Resumed => return labels.upload_resumed.clone(),
        UploadNotice::Queued => UploadPhase::Queued,
        UploadNotice::Paused => UploadPhase::Paused,
        UploadNotice::Retrying {
            retry_at,
            failures,
            error,
        } => UploadPhase::Retrying {
            retry_at: *retry_at,
            failures: *failures,
            error: error.clone(),
        },
        UploadNotice::Offline => UploadPhase::Offline,
        UploadNotice::Cancelling => UploadPhase::Cancelling,
        UploadNotice::Cancelled => UploadPhase::Cancelled,
        UploadNotice::Uploaded => UploadPhase::Uploaded,
        UploadNotice::Failed { error, can_resume } => UploadPhase::Failed {
            error: error.clone(),
            can_resume: *can_resume,
        },
    };
    status_text(labels, &phase)
}
