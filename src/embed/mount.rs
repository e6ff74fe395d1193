//! The JavaScript embed API: mount the component into any element.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Function, Promise, Reflect};
use upload_progress_core::session::{SessionEvent, SessionOptions, StatusError};
use upload_progress_core::Progress;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::embed::js_object;
use crate::embed::widget::{EmbedWidget, WidgetConfig, WidgetControls};
use crate::shell::follow::{JobOptions, Target};
use crate::shell::token::TokenProvider;
use crate::view::labels::Labels;

/// A mounted widget, returned by [`mount_upload_progress`].
///
/// Call `unmount()` when the widget goes away: it closes the socket, stops
/// polling and removes the markup. The widget does not depend on the handle
/// staying alive: a page that drops it (or whose handle is garbage
/// collected, or `free()`d) keeps a working widget, and mounting again into
/// the same element replaces the widget there, so one element never holds
/// two sockets.
#[wasm_bindgen]
pub struct UploadProgressHandle {
    id: u32,
    controls: WidgetControls,
}

/// A widget on the page, owned here rather than by its JS handle.
struct Mounted {
    id: u32,
    element: web_sys::HtmlElement,
    _widget: EmbedWidget,
}

thread_local! {
    static MOUNTED: RefCell<Vec<Mounted>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// Takes the widget matching `pick` off the page's list; the caller drops it
/// outside the borrow, since unmounting runs the widget's cleanups.
fn take_mounted(pick: impl Fn(&Mounted) -> bool) -> Option<Mounted> {
    MOUNTED.with(|list| {
        let mut list = list.borrow_mut();
        let at = list.iter().position(pick)?;
        Some(list.swap_remove(at))
    })
}

#[wasm_bindgen]
impl UploadProgressHandle {
    /// Removes the widget and releases its socket, timers and listeners.
    /// Calling it twice is harmless.
    pub fn unmount(&mut self) {
        let id = self.id;
        drop(take_mounted(|m| m.id == id));
    }

    /// Reconnects now, resetting the backoff.
    pub fn reconnect(&self) {
        self.controls.reconnect();
    }

    /// Changes the file name shown; never reconnects.
    #[wasm_bindgen(js_name = setFilename)]
    pub fn set_filename(&self, filename: String) {
        self.controls.set_filename(filename);
    }

    /// Changes the token used from the next connection on; never reconnects.
    #[wasm_bindgen(js_name = setToken)]
    pub fn set_token(&self, token: Option<String>) {
        self.controls.set_token(token.filter(|t| !t.is_empty()));
    }

    /// True until `unmount()` is called.
    #[wasm_bindgen(getter)]
    pub fn mounted(&self) -> bool {
        MOUNTED.with(|list| list.borrow().iter().any(|m| m.id == self.id))
    }
}

/// Options read from the plain JS object given to [`mount_upload_progress`].
struct EmbedOptions {
    process_id: String,
    /// `file` and `uploadUrl`: upload first, then follow the job it starts.
    upload: Option<crate::upload::FileUpload>,
    filename: String,
    token: Option<String>,
    ws_base: Option<String>,
    http_base: Option<String>,
    job: JobOptions,
    labels: Labels,
}

/// Mounts the progress widget into `element`.
///
/// `options` is a plain object: `processId` (required unless `file` is
/// given), `file` (a `File` to upload over tus first; the widget then
/// follows the job the server starts for it), `uploadUrl` (the tus creation
/// endpoint, default `{httpBase}/api/uploads/tus`), `filename` (default:
/// the file's name),
/// `wsBase`, `httpBase` (default: derived from the page location), `token`,
/// `tokenProvider` (a function returning a token or a promise of one),
/// `shared` (default true: follow through the page's one connection;
/// `false` gives the widget a connection of its own),
/// `autoRetry` (default true), `maxRetries` (3), `pollIntervalMs` (3000),
/// `initialRetryMs` (2000), `maxRetryMs` (16000), `heartbeatIntervalMs`
/// (30000), `pongTimeoutMs` (10000), `connectTimeoutMs` (10000),
/// `probeIntervalMs` (30000), `labels` (an object of [`Labels`] fields),
/// `tokenExpiresInS` (seconds the token has left, for a one-job session to
/// refresh it ahead: with the `one-job-session` feature),
/// `onComplete(progress)`, `onError({kind, message, hint})` and
/// `onEvent({type, ...})` (every decision of the session, for logs).
///
/// Throws a `TypeError`-like error when the options are unusable.
#[wasm_bindgen]
pub fn mount_upload_progress(
    element: web_sys::HtmlElement,
    #[wasm_bindgen(unchecked_param_type = "UploadProgressOptions")] options: JsValue,
) -> Result<UploadProgressHandle, JsValue> {
    let EmbedOptions {
        process_id,
        upload,
        filename,
        token,
        ws_base,
        http_base,
        job,
        labels,
    } = parse_options(&options).map_err(|e| JsValue::from(js_sys::Error::new(&e)))?;
    // One widget per element: a second mount replaces the first.
    drop(take_mounted(|m| m.element == element));
    let config = WidgetConfig {
        target: Target {
            process_id,
            ws_base,
            http_base,
        },
        upload,
        filename,
        token,
        job,
        labels,
    };
    let widget = EmbedWidget::mount(&element, config)
        .ok_or_else(|| JsValue::from(js_sys::Error::new("the widget could not be rendered")))?;
    let controls = widget.controls();
    let id = NEXT_ID.with(|next| {
        let id = next.get();
        next.set(id.wrapping_add(1));
        id
    });
    MOUNTED.with(|list| {
        list.borrow_mut().push(Mounted {
            id,
            element,
            _widget: widget,
        })
    });
    Ok(UploadProgressHandle { id, controls })
}

fn get(options: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn get_string(options: &JsValue, key: &str) -> Result<Option<String>, String> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => v
            .as_string()
            .map(Some)
            .ok_or_else(|| format!("option `{key}` must be a string")),
    }
}

fn get_u64(options: &JsValue, key: &str) -> Result<Option<u64>, String> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(n) if (0.0..=9.0e15).contains(&n) => Ok(Some(n as u64)),
            _ => Err(format!("option `{key}` must be a non-negative number")),
        },
    }
}

fn get_function(options: &JsValue, key: &str) -> Result<Option<Function>, String> {
    match get(options, key) {
        None => Ok(None),
        Some(v) => v
            .dyn_into::<Function>()
            .map(Some)
            .map_err(|_| format!("option `{key}` must be a function")),
    }
}

fn parse_options(options: &JsValue) -> Result<EmbedOptions, String> {
    if !options.is_object() {
        return Err("options must be an object with at least `processId`".to_owned());
    }
    let upload = crate::embed::upload::read_upload(options)?;
    let process_id = match get_string(options, "processId")? {
        Some(id) => id,
        // With a file the upload names the job.
        None if upload.is_some() => String::new(),
        None => return Err("option `processId` (or `file`) is required".to_owned()),
    };
    let shared = match get(options, "shared") {
        None => true,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| "option `shared` must be a boolean".to_owned())?,
    };
    let mut session = SessionOptions::default();
    if let Some(v) = get(options, "autoRetry") {
        session.auto_retry = v
            .as_bool()
            .ok_or_else(|| "option `autoRetry` must be a boolean".to_owned())?;
    }
    if let Some(v) = get_u64(options, "maxRetries")? {
        session.max_retries = u32::try_from(v).unwrap_or(u32::MAX);
    }
    let numbers: [(&str, &mut u64); 7] = [
        ("pollIntervalMs", &mut session.poll_interval_ms),
        ("initialRetryMs", &mut session.initial_retry_ms),
        ("maxRetryMs", &mut session.max_retry_ms),
        ("heartbeatIntervalMs", &mut session.heartbeat_interval_ms),
        ("pongTimeoutMs", &mut session.pong_timeout_ms),
        ("connectTimeoutMs", &mut session.connect_timeout_ms),
        ("probeIntervalMs", &mut session.probe_interval_ms),
    ];
    for (key, field) in numbers {
        if let Some(v) = get_u64(options, key)? {
            *field = v;
        }
    }
    let labels = match get(options, "labels") {
        None => Labels::default(),
        Some(v) if v.is_object() => {
            let mut labels = Labels::default();
            for (name, slot) in labels.named_mut() {
                if let Some(text) = get_string(&v, name)? {
                    *slot = text;
                }
            }
            labels
        }
        Some(_) => return Err("option `labels` must be an object of strings".to_owned()),
    };
    let on_complete = get_function(options, "onComplete")?.map(|f| {
        Rc::new(move |p: Progress| {
            let _ = f.call1(&JsValue::NULL, &js_object::progress(&p));
        }) as Rc<dyn Fn(Progress)>
    });
    let on_error = get_function(options, "onError")?.map(|f| {
        Rc::new(move |e: StatusError| {
            let _ = f.call1(&JsValue::NULL, &js_object::error(&e));
        }) as Rc<dyn Fn(StatusError)>
    });
    let on_event = get_function(options, "onEvent")?.map(|f| {
        Rc::new(move |e: SessionEvent| {
            let _ = f.call1(&JsValue::NULL, &js_object::event(&e));
        }) as Rc<dyn Fn(SessionEvent)>
    });
    let token_provider = get_function(options, "tokenProvider")?.map(js_token_provider);
    let token_expires_in_s = match get(options, "tokenExpiresInS") {
        None => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(|s| s as u64)
                .ok_or("option `tokenExpiresInS` must be a non-negative number")?,
        ),
    };
    Ok(EmbedOptions {
        process_id,
        upload,
        filename: get_string(options, "filename")?.unwrap_or_default(),
        token: get_string(options, "token")?,
        ws_base: get_string(options, "wsBase")?,
        http_base: get_string(options, "httpBase")?,
        job: JobOptions {
            shared,
            token_expires_in_s,
            token_provider,
            session,
            on_complete,
            on_error,
            on_event,
        },
        labels,
    })
}

/// Wraps a JS function returning a token, or a promise of one.
fn js_token_provider(f: Function) -> TokenProvider {
    TokenProvider::new(move || {
        let result = f.call0(&JsValue::NULL);
        async move {
            let value = result.ok()?;
            let value = match value.dyn_into::<Promise>() {
                Ok(promise) => JsFuture::from(promise).await.ok()?,
                Err(value) => value,
            };
            value.as_string().filter(|t| !t.is_empty())
        }
    })
}
