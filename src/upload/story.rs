//! One widget, one story: upload a file, then follow the job the server
//! started for it, on the same bar.
//!
//! The job is followed from the moment the last byte is on the server (the
//! job only runs then), with the process id and token from the upload's
//! creation answer. Until the job's first progress arrives the upload's
//! [`Lead`] is shown.

use std::sync::Arc;

use leptos::prelude::*;
use upload_progress_core::session::{Input, Status};
use upload_progress_core::upload::{UploadOptions, UploadState, DEFAULT_TUS_PATH};
use upload_progress_core::Progress;

use super::hook::{use_upload, UseUploadOptions};
use super::view::upload_lead;
use crate::component::hook::{use_controller, UseUploadProgressOptions};
use crate::shell::urls;
use crate::view::labels::Labels;
use crate::view::lead::Lead;

/// What to upload and where.
pub(crate) struct FileUpload {
    pub(crate) file: web_sys::File,
    /// The tus creation endpoint; `None`: `{http_base}/api/uploads/tus`.
    pub(crate) endpoint: Option<String>,
    pub(crate) options: UploadOptions,
}

/// The signals a view needs to tell the story.
pub(crate) struct FileStory {
    pub(crate) progress: Signal<Option<Progress>>,
    pub(crate) status: Signal<Status>,
    pub(crate) lead: Lead,
    /// The header: the name given, else the file's.
    pub(crate) title: Signal<String>,
    /// Reconnects the job's session once there is one.
    pub(crate) reconnect: Callback<()>,
}

/// The tus endpoint under `http_base`, or under the page's origin.
pub(crate) fn default_endpoint(http_base: Option<String>) -> String {
    let base = http_base
        .or_else(|| urls::page_bases().map(|(_, http)| http))
        .unwrap_or_default();
    format!("{}{DEFAULT_TUS_PATH}", urls::trim_base(&base))
}

/// Starts uploading `upload.file` and follows its job afterwards with
/// `job` (its token, when not given, is the one the upload's creation
/// answer carried). `filename`, when not empty, is shown instead of the
/// file's name. Everything belongs to the calling owner.
pub(crate) fn follow_file(
    upload: FileUpload,
    job: UseUploadProgressOptions,
    labels: Arc<Labels>,
    filename: Signal<String>,
) -> FileStory {
    let FileUpload {
        file,
        endpoint,
        options,
    } = upload;
    let name = file.name();
    let total = file.size().max(0.0) as u64;
    let endpoint = endpoint.unwrap_or_else(|| default_endpoint(job.http_base.get_untracked()));
    let up = use_upload(
        file,
        UseUploadOptions {
            upload: options,
            ..UseUploadOptions::new(endpoint)
        },
    );

    // The widget controller starts the job by core's handoff rule (once,
    // on the finished upload's answer, with the page's token else the
    // upload's) and reports a failed upload once per failure, like a job's.
    let job = use_controller(None, job);
    let controller = job.controller;
    Effect::new(move |_| {
        up.state.with(|state| {
            controller.try_with_value(|c| {
                c.upload_state(state);
                if let UploadState::Finished { process_id, token } = state {
                    let id = process_id.clone().or_else(|| up.process_id.get_untracked());
                    let token = token.clone().or_else(|| up.token.get_untracked());
                    c.upload_answered(id, token, true);
                }
            })
        })
    });
    let (progress, status) = (job.progress, job.status);
    let job_started = Signal::derive(move || progress.with(Option::is_some));
    FileStory {
        progress,
        status,
        lead: upload_lead(up, total, job_started, labels),
        title: Signal::derive(move || {
            let given = filename.get();
            if given.trim().is_empty() {
                name.clone()
            } else {
                given
            }
        }),
        reconnect: Callback::new(move |()| {
            controller.try_with_value(|c| c.send(Input::Reconnect));
        }),
    }
}
