//! One widget, one story: upload a file, then follow the job the server
//! started for it, on the same bar.
//!
//! The job is followed from the moment the last byte is on the server (the
//! job only runs then), with the process id and token from the upload's
//! creation answer. Until the job's first progress arrives the upload's
//! [`Lead`] is shown.

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;
use upload_progress_core::session::Status;
use upload_progress_core::upload::{Handoff, UploadOptions, UploadState, DEFAULT_TUS_PATH};
use upload_progress_core::Progress;

use super::hook::{use_upload, UseUploadOptions};
use super::view::upload_lead;
use crate::component::hook::{use_upload_progress_with_options, UseUploadProgressOptions};
use crate::shell::urls;
use crate::view::describe::idle_status;
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

    // Core's handoff rule decides when the job starts, with which token,
    // and which failures are reported (once per failure, like a job's).
    let handoff = StoredValue::new_local(Handoff::new());
    if let Some(on_error) = job.on_error.clone() {
        Effect::new(move |_| {
            let failed = up
                .state
                .with(|state| handoff.try_update_value(|h| h.state(state)).flatten());
            if let Some(error) = failed {
                on_error(error);
            }
        });
    }

    let given_token = job.token;
    let job = UseUploadProgressOptions {
        token: MaybeProp::from(Signal::derive(move || {
            given_token.get().or_else(|| up.token.get())
        })),
        ..job
    };
    let job_id = Memo::new(move |_| {
        up.state.with(|s| match s {
            UploadState::Finished {
                process_id: Some(id),
                ..
            } => Some(id.clone()),
            _ => None,
        })
    });

    // The job's session lives in a child owner created up front, so it
    // belongs to this widget even though it starts later, from an effect.
    let child = Owner::new();
    let followed = RwSignal::new(None::<(Signal<Option<Progress>>, Signal<Status>)>);
    let reconnect_job = StoredValue::new_local(None::<Rc<dyn Fn()>>);
    let pending = StoredValue::new_local(Some(job));
    let session_owner = child.clone();
    Effect::new(move |_| {
        let Some(id) = job_id.get() else {
            return;
        };
        // The token stays the reactive "page's, else the upload's" above.
        let start = handoff.try_update_value(|h| h.answered(Some(id), None, true, None));
        let Some(id) = start.flatten().map(|start| start.process_id) else {
            return;
        };
        let Some(options) = pending.try_update_value(Option::take).flatten() else {
            return;
        };
        let hook = session_owner.with(|| use_upload_progress_with_options(id, options));
        reconnect_job.set_value(Some(Rc::new(hook.reconnect)));
        followed.set(Some((hook.progress, hook.status)));
    });
    on_cleanup(move || child.cleanup());

    let progress = Signal::derive(move || followed.get().and_then(|(p, _)| p.get()));
    let status = Signal::derive(move || match followed.get() {
        Some((_, s)) => s.get(),
        None => idle_status(),
    });
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
            if let Some(reconnect) = reconnect_job.get_value() {
                reconnect();
            }
        }),
    }
}
