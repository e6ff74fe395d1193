//! The widget of the embed API, without Leptos: the same markup, `Shown`
//! and patcher as the component, driven straight from the session's driver
//! and the upload shell. Pages without Leptos load no reactive graph.
//!
//! Every callback holds the widget weakly and never runs inside a borrow
//! of it: drivers and shells may report synchronously while they are fed,
//! so they are always called with the widget released.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Interval;
use upload_progress_core::session::{Input, Status};
use upload_progress_core::upload::{Handoff, Input as UploadInput, UploadPhase};
use upload_progress_core::upload::{UploadProgress, UploadState};
use upload_progress_core::Progress;
use web_sys::Element;

use crate::shell::clock::{self, TICK_MS};
use crate::shell::follow::{follow, Following, JobOptions, Target};
use crate::shell::listener::Listener;
use crate::upload::{
    default_endpoint, lead_panel, lead_text, news, upload_config, FileUpload, Output, UploadShell,
};
use crate::view::describe::idle_status;
use crate::view::labels::Labels;
use crate::view::lead::{LeadAction, LeadText};
use crate::view::markup::{self, Press};
use crate::view::patch::{pressed_class, Patcher};
use crate::view::shown::{Announce, Scene, Shown};

/// What the embed API mounts: a job to follow, or a file to upload first.
pub(crate) struct WidgetConfig {
    pub(crate) target: Target,
    pub(crate) upload: Option<FileUpload>,
    pub(crate) filename: String,
    pub(crate) token: Option<String>,
    pub(crate) job: JobOptions,
    pub(crate) labels: Labels,
}

/// A mounted widget. Dropping it stops its session, its upload and its
/// timers and removes its element.
pub(crate) struct EmbedWidget {
    inner: Rc<RefCell<Inner>>,
}

struct Inner {
    root: Element,
    patcher: Patcher,
    labels: Labels,
    filename: String,
    progress: Option<Progress>,
    status: Status,
    announce: Announce,
    target: Target,
    token: Option<String>,
    job: JobOptions,
    upload: Option<UploadStory>,
    driver: Option<Following>,
    shell: Option<UploadShell>,
    _ticker: Option<Interval>,
    _click: Option<Listener>,
}

/// The upload told before the job, while the job has no progress.
struct UploadStory {
    name: String,
    total: u64,
    progress: Option<UploadProgress>,
    /// The phase now and the live region's sentence, which changes only
    /// with news (see `upload::news`).
    news: (UploadPhase, String),
    /// The rule for starting the job from the upload's answers (core's).
    handoff: Handoff,
    job_started: bool,
}

impl EmbedWidget {
    /// Renders the widget at the end of `host` and starts following (or
    /// uploading).
    pub(crate) fn mount(host: &Element, config: WidgetConfig) -> Option<Self> {
        let WidgetConfig {
            target,
            upload,
            filename,
            token,
            job,
            labels,
        } = config;
        let story = upload.as_ref().map(|u| UploadStory {
            name: u.file.name(),
            total: u.file.size().max(0.0) as u64,
            news: news(&labels, None, UploadPhase::of(&UploadState::Queued)),
            progress: None,
            handoff: Handoff::new(),
            job_started: false,
        });
        let status = idle_status();
        let mut announce = Announce::default();
        let first = shown(
            &labels,
            None,
            &status,
            &filename,
            story.as_ref(),
            &mut announce,
        );
        host.insert_adjacent_html("beforeend", markup::html(&first, &labels).as_str())
            .ok()?;
        let root = host.last_element_child()?;
        let patcher = Patcher::adopt(root.clone(), first)?;
        let inner = Rc::new(RefCell::new(Inner {
            root: root.clone(),
            patcher,
            labels,
            filename,
            progress: None,
            status,
            announce,
            target,
            token,
            job,
            upload: story,
            driver: None,
            shell: None,
            _ticker: None,
            _click: None,
        }));
        let weak = Rc::downgrade(&inner);
        let click = Listener::new(&root, "click", {
            let weak = weak.clone();
            move |event| {
                if let Some(press) = pressed_class(&event).as_deref().and_then(markup::pressed) {
                    press_button(&weak, press);
                }
            }
        });
        let ticker = Interval::new(TICK_MS, {
            let weak = weak.clone();
            move || render(&weak)
        });
        {
            let mut i = inner.borrow_mut();
            i._click = Some(click);
            i._ticker = Some(ticker);
        }
        match upload {
            Some(upload) => start_upload(&weak, upload),
            None => start_job(&weak),
        }
        Some(Self { inner })
    }

    /// Weakly, for the handle's methods.
    pub(crate) fn controls(&self) -> WidgetControls {
        WidgetControls(Rc::downgrade(&self.inner))
    }
}

impl Drop for EmbedWidget {
    fn drop(&mut self) {
        // Taken out first and dropped with the widget released: a session
        // or an upload may report while it shuts down.
        let (driver, shell, root) = {
            let mut i = self.inner.borrow_mut();
            (i.driver.take(), i.shell.take(), i.root.clone())
        };
        drop(driver);
        drop(shell);
        root.remove();
    }
}

/// What the handle can ask of a mounted widget; nothing once it is gone.
#[derive(Clone)]
pub(crate) struct WidgetControls(Weak<RefCell<Inner>>);

impl WidgetControls {
    /// Reconnects at once (the Reconnect button).
    pub(crate) fn reconnect(&self) {
        press_button(&self.0, Press::Reconnect);
    }

    /// Shows another file name.
    pub(crate) fn set_filename(&self, filename: String) {
        if let Some(inner) = self.0.upgrade() {
            inner.borrow_mut().filename = filename;
        }
        render(&self.0);
    }

    /// A new token, used from the session's next connection on.
    pub(crate) fn set_token(&self, token: Option<String>) {
        let handle = self.0.upgrade().and_then(|inner| {
            let mut i = inner.borrow_mut();
            let changed = i.token != token;
            i.token = token.clone();
            let handle = i.driver.as_ref().map(Following::handle);
            changed.then_some(handle).flatten()
        });
        if let (Some(handle), Some(fresh)) = (handle, token) {
            handle.send(Input::TokenReady { token: Some(fresh) });
        }
    }
}

/// What the widget shows for its inputs now.
fn shown(
    labels: &Labels,
    progress: Option<&Progress>,
    status: &Status,
    filename: &str,
    story: Option<&UploadStory>,
    announce: &mut Announce,
) -> Shown {
    let now = clock::now();
    let told: Option<LeadText> = story.filter(|s| !s.job_started).map(|s| {
        let sent = s.progress.map_or(0, |p| p.sent);
        lead_text(labels, &s.news.0, sent, s.total, s.news.1.clone())
    });
    let panel = story.map(|s| lead_panel(labels, &s.news.0, s.progress.as_ref(), s.total));
    let title = match story {
        Some(s) if filename.trim().is_empty() => s.name.as_str(),
        _ => filename,
    };
    Shown::of(&Scene {
        labels,
        progress,
        status,
        filename: title,
        class: "",
        lead: told.as_ref(),
        panel: panel.as_ref(),
        now,
        announce_at: announce.at(status, now),
    })
}

/// Brings the element up to date with the widget's inputs.
fn render(weak: &Weak<RefCell<Inner>>) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let mut guard = inner.borrow_mut();
    let i = &mut *guard;
    let next = shown(
        &i.labels,
        i.progress.as_ref(),
        &i.status,
        &i.filename,
        i.upload.as_ref(),
        &mut i.announce,
    );
    i.patcher.apply(next, &i.labels);
}

fn press_button(weak: &Weak<RefCell<Inner>>, press: Press) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    match press {
        Press::Reconnect => {
            let handle = inner.borrow().driver.as_ref().map(Following::handle);
            drop(inner);
            if let Some(handle) = handle {
                handle.send(Input::Reconnect);
            }
        }
        Press::Lead(action) => {
            let input = match action {
                LeadAction::Pause => UploadInput::Pause,
                LeadAction::Resume => UploadInput::Resume,
                LeadAction::Cancel => UploadInput::Cancel,
            };
            let shell = inner.borrow().shell.as_ref().map(UploadShell::handle);
            drop(inner);
            if let Some(shell) = shell {
                shell.input(input);
            }
        }
    }
}

/// Starts following the job of the widget's target.
fn start_job(weak: &Weak<RefCell<Inner>>) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let (target, token, job) = {
        let i = inner.borrow();
        (i.target.clone(), i.token.clone(), i.job.clone())
    };
    drop(inner);
    let sink = weak.clone();
    let show = move |p: Option<Progress>, s: Option<Status>| {
        if let Some(inner) = sink.upgrade() {
            let mut i = inner.borrow_mut();
            if let Some(p) = p {
                if let Some(story) = &mut i.upload {
                    story.job_started = true;
                }
                i.progress = Some(p);
            }
            if let Some(s) = s {
                i.status = s;
            }
        }
        render(&sink);
    };
    let started = follow(&target, token, &job, show);
    if let Some(inner) = weak.upgrade() {
        match started {
            Ok(driver) => inner.borrow_mut().driver = Some(driver),
            Err(error) => inner.borrow_mut().status = Status::stopped(error),
        }
    }
    render(weak);
}

/// Uploads the file, then follows the job the server started for it.
fn start_upload(weak: &Weak<RefCell<Inner>>, upload: FileUpload) {
    let FileUpload {
        file,
        endpoint,
        options,
    } = upload;
    let endpoint = endpoint.unwrap_or_else(|| {
        let base = weak
            .upgrade()
            .and_then(|inner| inner.borrow().target.http_base.clone());
        default_endpoint(base)
    });
    let config = upload_config(&file, endpoint, Vec::new(), options);
    let sink = weak.clone();
    let on_output = Rc::new(move |output: Output| {
        let Some(inner) = sink.upgrade() else {
            return;
        };
        let mut failed = None;
        let mut job_ready = false;
        let finished = matches!(output, Output::Finished { .. });
        {
            let mut guard = inner.borrow_mut();
            let i = &mut *guard;
            let Some(story) = &mut i.upload else {
                return;
            };
            match output {
                Output::State(state) => {
                    failed = story.handoff.state(&state);
                    story.news = news(&i.labels, Some(&story.news), UploadPhase::of(&state));
                }
                Output::Progress(p) => story.progress = Some(p),
                Output::Created { process_id, token } | Output::Finished { process_id, token } => {
                    // The job runs once the last byte is on the server.
                    let given = i.token.as_deref();
                    if let Some(job) = story.handoff.answered(process_id, token, finished, given) {
                        i.target.process_id = job.process_id;
                        i.token = job.token;
                        job_ready = true;
                    }
                }
            }
        }
        let on_error = inner.borrow().job.on_error.clone();
        drop(inner);
        // A failed upload is reported like a failed job: once per failure.
        if let (Some(error), Some(cb)) = (failed, on_error) {
            cb(error);
        }
        if job_ready {
            start_job(&sink);
        } else {
            render(&sink);
        }
    });
    let shell = UploadShell::start(file, config, true, on_output);
    if let Some(inner) = weak.upgrade() {
        inner.borrow_mut().shell = Some(shell);
    }
}
