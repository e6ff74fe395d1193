//! The browser shell of [`upload_progress_core::upload::Upload`]: requests
//! with `XMLHttpRequest` (for upload progress events), one timer, and the
//! page's network and visibility events.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use gloo_timers::callback::Timeout;
use upload_progress_core::upload::{
    encode_metadata, Action, Answer, Input, RequestId, Ticket, Upload, UploadConfig, UploadError,
    UploadProgress, UploadState,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Event, EventTarget, ProgressEvent, XmlHttpRequest};

use super::{queue, resume};

/// What the shell reports to its owner.
pub(crate) enum Output {
    State(UploadState),
    Progress(UploadProgress),
    Created {
        process_id: Option<String>,
        token: Option<String>,
    },
    Finished {
        process_id: Option<String>,
        token: Option<String>,
    },
}

/// Receives the outputs, outside any borrow of the shell.
pub(crate) type Sink = Rc<dyn Fn(Output)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Create,
    Offset,
    Delete,
}

/// One request in flight and the callbacks that must live as long.
struct Xhr {
    xhr: XmlHttpRequest,
    _done: Closure<dyn FnMut(Event)>,
    _failed: Closure<dyn FnMut(Event)>,
    _progress: Option<Closure<dyn FnMut(ProgressEvent)>>,
}

impl Xhr {
    fn detach(&self) {
        self.xhr.set_onload(None);
        self.xhr.set_onerror(None);
        self.xhr.set_ontimeout(None);
        self.xhr.set_onabort(None);
        if let Ok(upload) = self.xhr.upload() {
            upload.set_onprogress(None);
        }
    }
}

struct Listener {
    target: EventTarget,
    name: &'static str,
    callback: Closure<dyn FnMut(Event)>,
}

struct Inner {
    upload: Upload,
    /// Its place in the page's upload queue.
    ticket: Ticket,
    file: web_sys::File,
    key: Option<String>,
    /// The requests in flight (one or two: a list, no hashing code).
    requests: Vec<(RequestId, Xhr)>,
    timer: Option<Timeout>,
    listeners: Vec<Listener>,
}

/// Owns the upload, its requests, its timer and its listeners; dropping it
/// aborts the request in flight and releases everything.
pub(crate) struct UploadShell {
    inner: Rc<RefCell<Inner>>,
    sink: Sink,
}

impl UploadShell {
    /// Queues `file` in the page's upload queue; it uploads when its turn
    /// comes (at once while fewer than the limit run). Resumes the upload
    /// created for it earlier when `remember` is on and one was saved.
    pub(crate) fn start(
        file: web_sys::File,
        mut config: UploadConfig,
        remember: bool,
        sink: Sink,
    ) -> Self {
        let key = remember.then(|| resume::fingerprint(&file, &config.endpoint));
        if config.resume.is_none() {
            config.resume = key.as_deref().and_then(resume::load);
        }
        let seed = (js_sys::Math::random() * 4_294_967_295.0) as u64 | 1;
        let inner = Rc::new_cyclic(|weak: &Weak<RefCell<Inner>>| {
            let (weak, sink) = (weak.clone(), Rc::clone(&sink));
            let start = move || {
                let alive = weak.strong_count() > 0;
                feed(&weak, &sink, Some(Input::Start));
                alive
            };
            RefCell::new(Inner {
                upload: Upload::new(config, seed),
                ticket: queue::join(Rc::new(start)),
                file,
                key,
                requests: Vec::new(),
                timer: None,
                listeners: Vec::new(),
            })
        });
        let shell = Self { inner, sink };
        shell.listen();
        shell.input(Input::Queue);
        shell
    }

    /// Feeds one input and carries out what follows.
    pub(crate) fn input(&self, input: Input) {
        feed(&Rc::downgrade(&self.inner), &self.sink, Some(input));
    }

    /// Feeds the shell without owning it (dropping the shell stops the
    /// upload; dropping a handle does nothing).
    #[cfg_attr(not(feature = "embed"), allow(dead_code))]
    pub(crate) fn handle(&self) -> ShellHandle {
        ShellHandle {
            inner: Rc::downgrade(&self.inner),
            sink: self.sink.clone(),
        }
    }

    fn listen(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let document = window.document();
        let events: [(EventTarget, &'static str); 3] = [
            (window.clone().into(), "online"),
            (window.into(), "offline"),
            match document {
                Some(d) => (d.into(), "visibilitychange"),
                None => return,
            },
        ];
        let mut listeners = Vec::new();
        for (target, name) in events {
            let weak = Rc::downgrade(&self.inner);
            let sink = Rc::clone(&self.sink);
            let callback = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let input = match name {
                    "online" => Input::Online,
                    "offline" => Input::Offline,
                    _ => match web_sys::window()
                        .and_then(|w| w.document())
                        .map(|d| d.visibility_state())
                    {
                        Some(web_sys::VisibilityState::Visible) => Input::Visible,
                        _ => Input::Hidden,
                    },
                };
                feed(&weak, &sink, Some(input));
            });
            let _ =
                target.add_event_listener_with_callback(name, callback.as_ref().unchecked_ref());
            listeners.push(Listener {
                target,
                name,
                callback,
            });
        }
        self.inner.borrow_mut().listeners = listeners;
    }
}

/// See [`UploadShell::handle`]; inputs after the shell is gone are ignored.
#[cfg_attr(not(feature = "embed"), allow(dead_code))]
pub(crate) struct ShellHandle {
    inner: Weak<RefCell<Inner>>,
    sink: Sink,
}

#[cfg_attr(not(feature = "embed"), allow(dead_code))]
impl ShellHandle {
    /// Feeds one input, as [`UploadShell::input`].
    pub(crate) fn input(&self, input: Input) {
        feed(&self.inner, &self.sink, Some(input));
    }
}

impl Drop for UploadShell {
    fn drop(&mut self) {
        let mut inner = self.inner.borrow_mut();
        queue::leave(inner.ticket);
        inner.timer = None;
        for (_, xhr) in inner.requests.drain(..) {
            xhr.detach();
            let _ = xhr.xhr.abort();
        }
        for l in inner.listeners.drain(..) {
            let _ = l
                .target
                .remove_event_listener_with_callback(l.name, l.callback.as_ref().unchecked_ref());
        }
    }
}

fn now() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now().max(0.0) as u64)
        .unwrap_or(0)
}

/// Feeds `input` (or runs due timers when `None`), carries out the actions,
/// re-arms the timer, then reports outside the borrow: a sink that sets a
/// signal may run code that calls back into the shell. Last, the page's
/// queue learns the new state (which may start this or another upload).
///
/// Resume goes through the queue: it becomes `Queue`, and the upload goes
/// on when a slot is free (at once if one is).
fn feed(weak: &Weak<RefCell<Inner>>, sink: &Sink, input: Option<Input>) {
    let Some(rc) = weak.upgrade() else {
        return;
    };
    let input = match input {
        Some(Input::Resume) => Some(Input::Queue),
        other => other,
    };
    let (ticket, outputs) = {
        let mut inner = rc.borrow_mut();
        let at = now();
        match input {
            Some(input) => inner.upload.handle(input, at),
            None => inner.upload.handle_timeout(at),
        }
        let outputs = inner.carry_out(weak, sink);
        inner.arm_timer(weak, sink);
        (inner.ticket, outputs)
    };
    drop(rc);
    for output in outputs {
        sink(output);
    }
    // The state now, which a sink may have changed (feeding the shell
    // again) or ended (dropping it, which left the queue).
    if let Some(rc) = weak.upgrade() {
        queue::follow(ticket, rc.borrow().upload.state());
    }
    queue::start_due();
}

impl Inner {
    /// Removes the request from the ones in flight.
    fn take_request(&mut self, request: RequestId) -> Option<Xhr> {
        let at = self.requests.iter().position(|(r, _)| *r == request)?;
        Some(self.requests.swap_remove(at).1)
    }

    fn carry_out(&mut self, weak: &Weak<RefCell<Inner>>, sink: &Sink) -> Vec<Output> {
        let mut outputs = Vec::new();
        while let Some(action) = self.upload.poll_action() {
            match action {
                Action::Create {
                    request,
                    url,
                    len,
                    metadata,
                } => {
                    let headers = [
                        ("Upload-Length", len.to_string()),
                        ("Upload-Metadata", encode_metadata(&metadata)),
                    ];
                    self.request(
                        weak,
                        sink,
                        request,
                        Kind::Create,
                        "POST",
                        &url,
                        &headers,
                        None,
                    );
                }
                Action::Send {
                    request,
                    url,
                    offset,
                    len,
                } => {
                    let body = self
                        .file
                        .slice_with_f64_and_f64(offset as f64, (offset + len) as f64)
                        .ok();
                    let headers = [
                        ("Upload-Offset", offset.to_string()),
                        ("Content-Type", "application/offset+octet-stream".to_owned()),
                    ];
                    self.request(
                        weak,
                        sink,
                        request,
                        Kind::Offset,
                        "PATCH",
                        &url,
                        &headers,
                        body,
                    );
                }
                Action::Head { request, url } => {
                    self.request(weak, sink, request, Kind::Offset, "HEAD", &url, &[], None);
                }
                Action::Delete { request, url } => {
                    self.request(weak, sink, request, Kind::Delete, "DELETE", &url, &[], None);
                }
                Action::Abort { request } => {
                    if let Some(xhr) = self.take_request(request) {
                        xhr.detach();
                        let _ = xhr.xhr.abort();
                    }
                }
                Action::Created {
                    url,
                    process_id,
                    token,
                } => {
                    if let Some(key) = &self.key {
                        resume::save(key, &url, process_id.as_deref());
                    }
                    outputs.push(Output::Created { process_id, token });
                }
                Action::Progress(p) => outputs.push(Output::Progress(p)),
                Action::StateChanged(state) => outputs.push(Output::State(state)),
                Action::Finished { process_id, token } => {
                    self.forget();
                    outputs.push(Output::Finished { process_id, token });
                }
                Action::Failed(error) => {
                    if matches!(error, UploadError::Gone(_)) {
                        self.forget();
                    }
                }
                Action::Cancelled => self.forget(),
            }
        }
        outputs
    }

    fn forget(&self) {
        if let Some(key) = &self.key {
            resume::forget(key);
        }
    }

    fn arm_timer(&mut self, weak: &Weak<RefCell<Inner>>, sink: &Sink) {
        self.timer = self.upload.poll_timeout().map(|at| {
            let delay = at.saturating_sub(now()).min(u64::from(u32::MAX)) as u32;
            let weak = weak.clone();
            let sink = Rc::clone(sink);
            Timeout::new(delay, move || feed(&weak, &sink, None))
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        &mut self,
        weak: &Weak<RefCell<Inner>>,
        sink: &Sink,
        request: RequestId,
        kind: Kind,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<web_sys::Blob>,
    ) {
        let Ok(xhr) = XmlHttpRequest::new() else {
            answer_later(weak, sink, request, Answer::Network);
            return;
        };
        let done = {
            let (weak, sink, xhr) = (weak.clone(), Rc::clone(sink), xhr.clone());
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                let answer = answer_of(&xhr, kind);
                finish(&weak, &sink, request, answer);
            })
        };
        let failed = {
            let (weak, sink) = (weak.clone(), Rc::clone(sink));
            Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                finish(&weak, &sink, request, Answer::Network);
            })
        };
        let progress = (method == "PATCH").then(|| {
            let (weak, sink) = (weak.clone(), Rc::clone(sink));
            Closure::<dyn FnMut(ProgressEvent)>::new(move |e: ProgressEvent| {
                let bytes = e.loaded().max(0.0) as u64;
                feed(&weak, &sink, Some(Input::SendProgress { request, bytes }));
            })
        });
        xhr.set_onload(Some(done.as_ref().unchecked_ref()));
        xhr.set_onerror(Some(failed.as_ref().unchecked_ref()));
        xhr.set_ontimeout(Some(failed.as_ref().unchecked_ref()));
        xhr.set_onabort(Some(failed.as_ref().unchecked_ref()));
        if let (Some(p), Ok(upload)) = (&progress, xhr.upload()) {
            upload.set_onprogress(Some(p.as_ref().unchecked_ref()));
        }
        let sent = xhr
            .open_with_async(method, url, true)
            .and_then(|()| xhr.set_request_header("Tus-Resumable", "1.0.0"))
            .and_then(|()| {
                headers
                    .iter()
                    .try_for_each(|(name, value)| xhr.set_request_header(name, value))
            })
            .and_then(|()| xhr.send_with_opt_blob(body.as_ref()));
        let entry = Xhr {
            xhr,
            _done: done,
            _failed: failed,
            _progress: progress,
        };
        if sent.is_err() {
            entry.detach();
            answer_later(weak, sink, request, Answer::Network);
            return;
        }
        self.requests.push((request, entry));
    }
}

/// A request ended: release it after this callback returns (a closure must
/// not be dropped while it runs), then feed its answer.
fn finish(weak: &Weak<RefCell<Inner>>, sink: &Sink, request: RequestId, answer: Answer) {
    if let Some(rc) = weak.upgrade() {
        let taken = rc.borrow_mut().take_request(request);
        if let Some(xhr) = taken {
            xhr.detach();
            wasm_bindgen_futures::spawn_local(async move { drop(xhr) });
        }
    }
    feed(weak, sink, Some(Input::Answered { request, answer }));
}

/// Reports `answer` from a fresh task (the shell is borrowed right now).
fn answer_later(weak: &Weak<RefCell<Inner>>, sink: &Sink, request: RequestId, answer: Answer) {
    let (weak, sink) = (weak.clone(), Rc::clone(sink));
    wasm_bindgen_futures::spawn_local(async move {
        feed(&weak, &sink, Some(Input::Answered { request, answer }));
    });
}

fn answer_of(xhr: &XmlHttpRequest, kind: Kind) -> Answer {
    let status = xhr.status().unwrap_or(0);
    if status == 0 {
        return Answer::Network;
    }
    let header = |name: &str| xhr.get_response_header(name).ok().flatten();
    match kind {
        Kind::Create if status == 201 => match header("Location") {
            Some(location) => Answer::Created {
                location,
                process_id: header("Upload-Process-Id"),
                token: header("Upload-Token"),
            },
            None => Answer::Status(status),
        },
        Kind::Offset if (200..300).contains(&status) => {
            match header("Upload-Offset").and_then(|v| v.trim().parse().ok()) {
                Some(offset) => Answer::Offset(offset),
                None => Answer::Status(status),
            }
        }
        _ => Answer::Status(status),
    }
}
