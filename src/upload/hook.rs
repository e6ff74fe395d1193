//! The Leptos hook over the upload shell.

use std::rc::Rc;

use leptos::prelude::*;
use upload_progress_core::upload::{
    Input, UploadConfig, UploadOptions, UploadProgress, UploadState,
};

use super::shell::{Output, UploadShell};

/// Options of [`use_upload`].
#[derive(Debug, Clone, PartialEq)]
pub struct UseUploadOptions {
    /// The tus creation endpoint, e.g. `/api/uploads/tus` on the dev server.
    pub endpoint: String,
    /// `Upload-Metadata` pairs besides `filename` and `filetype`, which are
    /// taken from the file. Default: none.
    pub metadata: Vec<(String, String)>,
    /// Keep the upload's URL in `localStorage` to resume after a reload.
    /// Default: on.
    pub resume_after_reload: bool,
    /// Chunking and retry policy (5 MiB chunks, the job progress
    /// backoff). Default: [`UploadOptions::default()`].
    pub upload: UploadOptions,
}

impl UseUploadOptions {
    /// Defaults for `endpoint`.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            metadata: Vec::new(),
            resume_after_reload: true,
            upload: UploadOptions::default(),
        }
    }
}

/// What [`use_upload`] gives a component.
#[derive(Clone, Copy)]
pub struct UseUploadReturn {
    /// Where the upload stands.
    pub state: ReadSignal<UploadState>,
    /// Bytes sent, total, speed and time left; `None` before the first byte.
    pub progress: ReadSignal<Option<UploadProgress>>,
    /// The job the server started for the upload (known from its creation,
    /// before the last byte), to follow with `use_upload_progress`.
    pub process_id: ReadSignal<Option<String>>,
    /// The job's token, when the server requires tokens.
    pub token: ReadSignal<Option<String>>,
    /// Pauses (aborts the chunk in flight).
    pub pause: Callback<()>,
    /// Resumes from the server's offset (also retries after a transient give-up).
    pub resume: Callback<()>,
    /// Cancels and deletes the upload on the server.
    pub cancel: Callback<()>,
}

/// The upload of `file` to `endpoint`: its name and type as tus metadata,
/// then `extra`.
pub(crate) fn upload_config(
    file: &web_sys::File,
    endpoint: String,
    extra: Vec<(String, String)>,
    options: UploadOptions,
) -> UploadConfig {
    let mut metadata = vec![("filename".to_owned(), file.name())];
    if !file.type_().is_empty() {
        metadata.push(("filetype".to_owned(), file.type_()));
    }
    metadata.extend(extra);
    UploadConfig {
        endpoint,
        len: file.size().max(0.0) as u64,
        metadata,
        resume: None,
        options,
    }
}

/// Uploads `file` at once. Everything is released when the owning
/// component goes away (the chunk in flight is aborted; the upload stays on
/// the server, resumable, until it expires).
pub fn use_upload(file: web_sys::File, options: UseUploadOptions) -> UseUploadReturn {
    let (state, set_state) = signal(UploadState::Idle);
    let (progress, set_progress) = signal(None::<UploadProgress>);
    let (process_id, set_process_id) = signal(None::<String>);
    let (token, set_token) = signal(None::<String>);
    let config = upload_config(&file, options.endpoint, options.metadata, options.upload);
    let sink = Rc::new(move |output: Output| match output {
        Output::State(s) => set_state.set(s),
        Output::Progress(p) => set_progress.set(Some(p)),
        Output::Created { process_id, token } | Output::Finished { process_id, token } => {
            if process_id.is_some() {
                set_process_id.set(process_id);
            }
            if token.is_some() {
                set_token.set(token);
            }
        }
    });
    let shell = UploadShell::start(file, config, options.resume_after_reload, sink);
    let shell: StoredValue<Option<UploadShell>, LocalStorage> = StoredValue::new_local(Some(shell));
    on_cleanup(move || {
        let old = shell.try_update_value(|s| s.take()).flatten();
        drop(old);
    });
    let send = move |input: Input| {
        shell.with_value(|s| {
            if let Some(s) = s {
                s.input(input);
            }
        });
    };
    UseUploadReturn {
        state,
        progress,
        process_id,
        token,
        pause: Callback::new(move |()| send(Input::Pause)),
        resume: Callback::new(move |()| send(Input::Resume)),
        cancel: Callback::new(move |()| send(Input::Cancel)),
    }
}
