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
use upload_progress_core::upload::{Input as UploadInput, UploadPhase};
use upload_progress_core::upload::{UploadProgress, UploadState};
use upload_progress_core::Progress;
use web_sys::Element;

use crate::shell::clock::{self, TICK_MS};
use crate::shell::follow::{JobOptions, Target};
use crate::shell::listener::Listener;
use crate::shell::widget::Controller;
use crate::upload::{
    default_endpoint, lead_panel, lead_text, news, upload_config, FileUpload, Output, UploadShell,
};
use crate::view::describe::idle_status;
use crate::view::labels::Labels;
use crate::view::lead::{LeadAction, LeadText};
use crate::view::markup::{self, Press};
use crate::view::painter::{shown_now, Painter};
use crate::view::patch::pressed_class;
use crate::view::shown::{Announce, Scene};

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
    painter: Painter,
    labels: Labels,
    filename: String,
    /// The job: session, token, handoff, newest progress and status. Taken
    /// out before use, so it never runs inside a borrow of the widget.
    controller: Option<Rc<Controller>>,
    upload: Option<UploadStory>,
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
        });
        let mut announce = Announce::default();
        let mut first = None;
        with_scene(&labels, None, &filename, story.as_ref(), &mut |s| {
            first = Some(shown_now(&mut announce, s));
        });
        let first = first?;
        host.insert_adjacent_html("beforeend", markup::html(&first, &labels).as_str())
            .ok()?;
        let root = host.last_element_child()?;
        let painter = Painter::adopt(root.clone(), first, announce)?;
        let inner = Rc::new(RefCell::new(Inner {
            root: root.clone(),
            painter,
            labels,
            filename,
            controller: None,
            upload: story,
            shell: None,
            _ticker: None,
            _click: None,
        }));
        let weak = Rc::downgrade(&inner);
        let controller = Rc::new(Controller::new(job, token, {
            let weak = weak.clone();
            move |_, _| render(&weak)
        }));
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
            i.controller = Some(controller.clone());
        }
        let Target {
            process_id,
            ws_base,
            http_base,
        } = target;
        match upload {
            Some(upload) => {
                // The job comes from the upload's answers.
                controller.set_target(None, ws_base, http_base);
                start_upload(&weak, &controller, upload);
            }
            None => controller.set_target(Some(process_id), ws_base, http_base),
        }
        render(&weak);
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
        let (controller, shell, root) = {
            let mut i = self.inner.borrow_mut();
            (i.controller.take(), i.shell.take(), i.root.clone())
        };
        drop(controller);
        drop(shell);
        root.remove();
    }
}

/// The widget's controller, out of the borrow.
fn controller(weak: &Weak<RefCell<Inner>>) -> Option<Rc<Controller>> {
    weak.upgrade()?.borrow().controller.clone()
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
        if let Some(controller) = controller(&self.0) {
            controller.set_token(token);
        }
    }
}

/// Hands the scene of the widget's inputs now to `f` (one copy of this
/// for the first markup and every render: no generic result).
fn with_scene(
    labels: &Labels,
    controller: Option<&Controller>,
    filename: &str,
    story: Option<&UploadStory>,
    f: &mut dyn FnMut(Scene),
) {
    let now = clock::now();
    let mut view = |progress: Option<&Progress>, status: &Status| {
        // The upload is told until the job has progress of its own.
        let told: Option<LeadText> = story.filter(|_| progress.is_none()).map(|s| {
            let sent = s.progress.map_or(0, |p| p.sent);
            lead_text(labels, &s.news.0, sent, s.total, s.news.1.clone())
        });
        let panel = story.map(|s| lead_panel(labels, &s.news.0, s.progress.as_ref(), s.total));
        let title = match story {
            Some(s) if filename.trim().is_empty() => s.name.as_str(),
            _ => filename,
        };
        f(Scene {
            labels,
            progress,
            status,
            filename: title,
            class: "",
            lead: told.as_ref(),
            panel: panel.as_ref(),
            now,
            // The painter's, from its `Announce`.
            announce_at: 0,
        })
    };
    match controller {
        Some(c) => c.with_view(&mut view),
        None => view(None, &idle_status()),
    }
}

/// Brings the element up to date with the widget's inputs.
fn render(weak: &Weak<RefCell<Inner>>) {
    let Some(inner) = weak.upgrade() else {
        return;
    };
    let mut guard = inner.borrow_mut();
    let i = &mut *guard;
    let painter = &mut i.painter;
    with_scene(
        &i.labels,
        i.controller.as_deref(),
        &i.filename,
        i.upload.as_ref(),
        &mut |scene| painter.paint(scene),
    );
}

fn press_button(weak: &Weak<RefCell<Inner>>, press: Press) {
    match press {
        Press::Reconnect => {
            if let Some(controller) = controller(weak) {
                controller.send(Input::Reconnect);
            }
        }
        Press::Lead(action) => {
            let input = match action {
                LeadAction::Pause => UploadInput::Pause,
                LeadAction::Resume => UploadInput::Resume,
                LeadAction::Cancel => UploadInput::Cancel,
            };
            let shell = weak
                .upgrade()
                .and_then(|inner| inner.borrow().shell.as_ref().map(UploadShell::handle));
            if let Some(shell) = shell {
                shell.input(input);
            }
        }
    }
}

/// Uploads the file, then follows the job the server started for it.
fn start_upload(weak: &Weak<RefCell<Inner>>, controller: &Controller, upload: FileUpload) {
    let FileUpload {
        file,
        endpoint,
        options,
    } = upload;
    let endpoint = endpoint.unwrap_or_else(|| default_endpoint(controller.http_base()));
    let config = upload_config(&file, endpoint, Vec::new(), options);
    let sink = weak.clone();
    let on_output = Rc::new(move |output: Output| {
        let Some(inner) = sink.upgrade() else {
            return;
        };
        let controller = {
            let mut guard = inner.borrow_mut();
            let i = &mut *guard;
            if let (Some(story), Output::State(state)) = (&mut i.upload, &output) {
                story.news = news(&i.labels, Some(&story.news), UploadPhase::of(state));
            }
            if let (Some(story), Output::Progress(p)) = (&mut i.upload, &output) {
                story.progress = Some(*p);
            }
            i.controller.clone()
        };
        drop(inner);
        if let Some(controller) = controller {
            match output {
                Output::State(state) => controller.upload_state(&state),
                Output::Progress(_) => {}
                Output::Created { process_id, token } => {
                    controller.upload_answered(process_id, token, false)
                }
                // The job runs once the last byte is on the server.
                Output::Finished { process_id, token } => {
                    controller.upload_answered(process_id, token, true)
                }
            }
        }
        render(&sink);
    });
    let shell = UploadShell::start(file, config, true, on_output);
    if let Some(inner) = weak.upgrade() {
        inner.borrow_mut().shell = Some(shell);
    }
}
