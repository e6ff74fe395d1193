//! The `<upload-progress-robust>` custom element.
//!
//! A tiny JS class forwards the element's lifecycle to the embed API:
//! `connectedCallback` mounts, `disconnectedCallback` unmounts, a new
//! `process-id`, `ws-base` or `http-base` remounts, a new `filename` only
//! relabels and a new `token` is used from the next connection on. A
//! `File` assigned to the `file` property (a file cannot be an attribute)
//! is uploaded first, to `upload-url`, and its job followed; assigning
//! another file remounts.

use std::cell::RefCell;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use crate::embed::mount::mount_upload_progress;

/// The tag name the element is registered under.
pub const ELEMENT_TAG: &str = "upload-progress-robust";

#[wasm_bindgen(inline_js = r#"
function numberAttr(el, name) {
  const raw = el.getAttribute(name);
  if (raw === null || raw.trim() === "") return undefined;
  const n = Number(raw);
  return Number.isFinite(n) ? n : undefined;
}

export function define_upload_progress_element(tag, mount) {
  if (customElements.get(tag)) return false;
  class UploadProgressRobustElement extends HTMLElement {
    static get observedAttributes() {
      return ["process-id", "filename", "token", "ws-base", "http-base", "upload-url"];
    }
    get file() { return this._file ?? null; }
    set file(value) {
      this._file = value ?? undefined;
      this._unmount();
      this._mount();
    }
    connectedCallback() {
      // A `file` set before the element was defined is an own property
      // hiding the accessor: take it over.
      if (Object.prototype.hasOwnProperty.call(this, "file")) {
        const value = this.file;
        delete this.file;
        this._file = value ?? undefined;
      }
      this._mount();
    }
    disconnectedCallback() { this._unmount(); }
    attributeChangedCallback(name, before, after) {
      if (!this._handle || before === after) return;
      if (name === "filename") { this._handle.setFilename(after || ""); return; }
      if (name === "token") { this._handle.setToken(after || undefined); return; }
      this._unmount();
      this._mount();
    }
    _mount() {
      if (this._handle || !this.isConnected) return;
      const attr = (name) => this.getAttribute(name) ?? undefined;
      const options = {
        processId: attr("process-id") ?? (this._file ? undefined : ""),
        file: this._file,
        uploadUrl: attr("upload-url"),
        filename: attr("filename"),
        wsBase: attr("ws-base"),
        httpBase: attr("http-base"),
        token: attr("token"),
        shared: this.getAttribute("shared") !== "false",
        autoRetry: this.getAttribute("auto-retry") !== "false",
        maxRetries: numberAttr(this, "max-retries"),
        pollIntervalMs: numberAttr(this, "poll-interval-ms"),
        onComplete: (progress) =>
          this.dispatchEvent(new CustomEvent("upload-complete", { detail: progress, bubbles: true })),
        onError: (error) =>
          this.dispatchEvent(new CustomEvent("upload-error", { detail: error, bubbles: true })),
      };
      this._handle = mount(this, options);
    }
    _unmount() {
      if (!this._handle) return;
      this._handle.unmount();
      this._handle.free();
      this._handle = null;
    }
  }
  customElements.define(tag, UploadProgressRobustElement);
  return true;
}
"#)]
extern "C" {
    fn define_upload_progress_element(tag: &str, mount: &js_sys::Function) -> bool;
}

type MountFn = dyn Fn(web_sys::HtmlElement, JsValue) -> Result<JsValue, JsValue>;

thread_local! {
    /// The mount callback the element class calls. It must live as long as
    /// the element definition, which is the page's lifetime, so it is held
    /// here rather than leaked.
    static MOUNT: RefCell<Option<Closure<MountFn>>> = const { RefCell::new(None) };
}

/// Registers `<upload-progress-robust>`; attributes: `process-id`
/// (required unless a file is given), `filename`, `ws-base`, `http-base`,
/// `token`, `auto-retry` (`"false"` turns it off), `max-retries`,
/// `poll-interval-ms`, `upload-url` (the tus endpoint, default
/// `{http-base}/api/uploads/tus`). The `file` property takes a `File` to
/// upload first: `el.file = input.files[0]`. The element
/// fires `upload-complete` and `upload-error` DOM events (`event.detail`
/// holds the progress or the error).
///
/// Returns `false` when the tag was already registered. Safe to call twice.
#[wasm_bindgen]
pub fn register_upload_progress_element() -> bool {
    MOUNT.with(|slot| {
        let mut slot = slot.borrow_mut();
        let mount = slot.get_or_insert_with(|| {
            Closure::<MountFn>::new(|element: web_sys::HtmlElement, options: JsValue| {
                mount_upload_progress(element, options).map(JsValue::from)
            })
        });
        define_upload_progress_element(ELEMENT_TAG, mount.as_ref().unchecked_ref())
    })
}
