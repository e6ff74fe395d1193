//! The pages the suite drives: the two trunk-built ones, the demo page
//! (`/`) and the plain-HTML embed page (`/embed/index.html`), and the page
//! esbuild bundles from the packed embed package (`/bundled/index.html`,
//! scripts/package-check.sh); and what the tests do on them.

use std::path::Path;
use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};

use crate::browser::Browser;
use crate::recorder::Recorder;
use crate::{fail, Result};

/// How long a page may take to load its WebAssembly.
const LOAD: Duration = Duration::from_secs(30);

/// Opens the demo page, waits for the app, installs the recorder.
pub async fn open_demo(browser: &Browser, base: &str) -> Result<Recorder> {
    browser.client.goto(&format!("{base}/")).await?;
    crate::wait::until("the demo page's file input", LOAD, || async {
        let found = browser
            .exec(
                "return document.querySelector('#demo-root input[type=file]') !== null;",
                vec![],
            )
            .await?;
        Ok((found == Value::Bool(true)).then_some(()))
    })
    .await?;
    Recorder::install(browser).await
}

/// Puts `file` into the demo page's file input, as a user choosing it;
/// the page starts its upload (tus) at once.
pub async fn upload_through_demo(browser: &Browser, file: &Path) -> Result<()> {
    let input = browser
        .client
        .find(Locator::Css("#demo-root input[type=file]"))
        .await?;
    let path = file
        .to_str()
        .ok_or_else(|| fail("temp file path is not UTF-8"))?;
    input.send_keys(path).await?;
    Ok(())
}

/// Builds `count` text files of `bytes` bytes each in the page and drops
/// them together on the demo page's drop zone, as a user dragging a
/// selection from a file manager; returns how many the drop carried.
const DROP_FILES_JS: &str = r#"
const [count, bytes] = arguments;
const zone = document.querySelector('#demo-root .demo__drop');
if (!zone) return -1;
const dt = new DataTransfer();
for (let i = 0; i < count; i++) {
  const body = new Uint8Array(bytes).fill(97 + (i % 26));
  dt.items.add(new File([body], `dropped-${i}.txt`, { type: 'text/plain' }));
}
zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
return dt.files.length;
"#;

/// Drops `count` files of `bytes` bytes on the demo page at once.
pub async fn drop_files_on_demo(browser: &Browser, count: u64, bytes: u64) -> Result<()> {
    let dropped = browser
        .exec(DROP_FILES_JS, vec![json!(count), json!(bytes)])
        .await?;
    if dropped.as_u64() == Some(count) {
        Ok(())
    } else {
        Err(fail(format!(
            "the drop carried {dropped} files, not {count}"
        )))
    }
}

/// Demo cards whose upload headline says `headline` (e.g. "Waiting to upload").
pub async fn demo_uploads_saying(browser: &Browser, headline: &str) -> Result<u64> {
    let n = browser
        .exec(
            "return Array.from(document.querySelectorAll('#demo-root .demo__upload-head > span:first-child'))
               .filter((s) => s.textContent === arguments[0]).length;",
            vec![json!(headline)],
        )
        .await?;
    n.as_u64().ok_or_else(|| fail(format!("card count is {n}")))
}

/// Widgets whose job shows `state` (`data-state`, e.g. `completed`).
pub async fn widgets_in_state(browser: &Browser, state: &str) -> Result<u64> {
    let n = browser
        .exec(
            "return document.querySelectorAll(`section.upr[data-state='${arguments[0]}']`).length;",
            vec![json!(state)],
        )
        .await?;
    n.as_u64()
        .ok_or_else(|| fail(format!("widget count is {n}")))
}

/// Opens the bundled page and waits until its module initialised the
/// WebAssembly (it enables its Start button then); installs the recorder.
pub async fn open_bundled(browser: &Browser, base: &str) -> Result<Recorder> {
    browser
        .client
        .goto(&format!("{base}/bundled/index.html"))
        .await?;
    crate::wait::until("the bundled page's module", LOAD, || async {
        let ready = browser
            .exec(
                "const b = document.querySelector('#start'); return b !== null && !b.disabled;",
                vec![],
            )
            .await?;
        Ok((ready == Value::Bool(true)).then_some(()))
    })
    .await?;
    Recorder::install(browser).await
}

/// Opens the embed page, waits until its module registered the custom
/// element (the WebAssembly is ready then), installs the recorder.
pub async fn open_embed(browser: &Browser, base: &str) -> Result<Recorder> {
    open_embed_at(browser, base, "").await
}

/// [`open_embed`] with a query, e.g. `?job=ID&token=T`: the page then
/// declares an `<upload-progress-robust>` for that job in its markup, as an
/// app that keeps the job in its address does.
pub async fn open_embed_at(browser: &Browser, base: &str, query: &str) -> Result<Recorder> {
    browser
        .client
        .goto(&format!("{base}/embed/index.html{query}"))
        .await?;
    attach_embed(browser).await
}

/// Waits for the embed page's module on the page now loaded (after a
/// navigation or a reload the test did not start itself) and installs a
/// fresh recorder there.
pub async fn attach_embed(browser: &Browser) -> Result<Recorder> {
    crate::wait::until("the embed page's module", LOAD, || async {
        let ready = browser
            .exec(
                "return customElements.get('upload-progress-robust') !== undefined;",
                vec![],
            )
            .await?;
        Ok((ready == Value::Bool(true)).then_some(()))
    })
    .await?;
    browser.exec(EXPOSE_MODULE_JS, vec![]).await?;
    crate::wait::until("the embed module exposed to the test", LOAD, || async {
        let ready = browser
            .exec("return window.__uprModule !== undefined;", vec![])
            .await?;
        Ok((ready == Value::Bool(true)).then_some(()))
    })
    .await?;
    Recorder::install(browser).await
}

/// A module script in the page imports the page's own (initialised) module
/// instance and hands it to the test. A dynamic `import()` from a WebDriver
/// script may get a separate, uninitialised instance (Firefox does).
const EXPOSE_MODULE_JS: &str = r#"
const s = document.createElement("script");
s.type = "module";
s.textContent = 'import * as m from "/embed/pkg/upload_progress_embed.js"; window.__uprModule = m;';
document.head.append(s);
return true;
"#;

/// Mounts a widget for `process_id` with `mount_upload_progress` into a new
/// host element (`data-e2e-job` = the id). `options` are the embed API's
/// (`token`, `maxRetries`, ...); `"tokenFromServer": true` adds a token
/// provider that asks the dev server for a fresh token; `"recordEvents":
/// true` keeps the session's decisions (`onEvent`) for [`session_events`].
/// Widgets follow with a one-job session (`shared: false`) unless
/// `options` says `"shared": true`.
const MOUNT_JS: &str = r#"
const [id, options, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
Promise.resolve(window.__uprModule).then((m) => {
  const host = document.createElement("div");
  host.setAttribute("data-e2e-job", id);
  document.body.append(host);
  // One-job sessions unless a scenario asks otherwise: the scenarios read
  // each job's own socket and poll counters and its session events.
  const opts = Object.assign({ processId: id, filename: "e2e " + id, shared: false }, options);
  if (opts.tokenFromServer) {
    opts.tokenProvider = () => fetch(`/api/uploads/${id}/token`, { method: "POST" })
      .then((r) => (r.ok ? r.json() : null)).then((j) => (j ? j.token : null));
  }
  delete opts.tokenFromServer;
  if (opts.recordEvents) {
    window.__uprEvents = window.__uprEvents || {};
    const log = (window.__uprEvents[id] = []);
    opts.onEvent = (e) => log.push(e);
  }
  delete opts.recordEvents;
  window.__uprHandles = window.__uprHandles || {};
  window.__uprHandles[id] = m.mount_upload_progress(host, opts);
  done(null);
}).catch((e) => done(String(e)));
"#;

/// Unmounts (and frees) the widgets with the given ids, or all of them.
const UNMOUNT_JS: &str = r#"
const ids = arguments[0];
const handles = window.__uprHandles || {};
let n = 0;
for (const id of (ids === null ? Object.keys(handles) : ids)) {
  const h = handles[id];
  if (!h) continue;
  h.unmount(); h.free(); delete handles[id]; n++;
  const host = document.querySelector(`[data-e2e-job="${id}"]`);
  if (host) host.remove();
}
return n;
"#;

/// Mounts one widget through the embed API (see [`MOUNT_JS`]).
pub async fn mount(browser: &Browser, process_id: &str, options: Value) -> Result<()> {
    let result = browser
        .exec_async(MOUNT_JS, vec![json!(process_id), options])
        .await?;
    if result.is_null() {
        Ok(())
    } else {
        Err(fail(format!("mount_upload_progress failed: {result}")))
    }
}

/// Unmounts every widget mounted with [`mount`]; returns how many.
pub async fn unmount_all(browser: &Browser) -> Result<u64> {
    let n = browser.exec(UNMOUNT_JS, vec![Value::Null]).await?;
    n.as_u64()
        .ok_or_else(|| fail(format!("unmount returned {n}")))
}

/// The session decisions of widget `process_id` so far, oldest first (it
/// must have been mounted with `"recordEvents": true`).
pub async fn session_events(browser: &Browser, process_id: &str) -> Result<Vec<Value>> {
    let events = browser
        .exec(
            "return (window.__uprEvents || {})[arguments[0]] || null;",
            vec![json!(process_id)],
        )
        .await?;
    match events {
        Value::Array(events) => Ok(events),
        other => Err(fail(format!(
            "no recorded events for {process_id}: {other}"
        ))),
    }
}

/// Number of widgets in the page.
pub async fn widget_count(browser: &Browser) -> Result<u64> {
    let n = browser
        .exec(
            "return document.querySelectorAll('section.upr').length;",
            vec![],
        )
        .await?;
    n.as_u64()
        .ok_or_else(|| fail(format!("widget count is {n}")))
}

/// Session options that make outages short enough for a test: retries
/// after 0.5..2 s, polling after 2 failures, every 1 s, a socket probe
/// every 3 s, a heartbeat every 2 s and 2 s to answer it.
pub fn fast_options() -> Value {
    json!({
        "maxRetries": 2,
        "initialRetryMs": 500,
        "maxRetryMs": 2000,
        "pollIntervalMs": 1000,
        "probeIntervalMs": 3000,
        "heartbeatIntervalMs": 2000,
        "pongTimeoutMs": 2000,
        "connectTimeoutMs": 3000,
    })
}

/// `fast_options()` plus `extra` fields.
pub fn fast_options_with(extra: Value) -> Value {
    let mut options = fast_options();
    if let (Value::Object(base), Value::Object(more)) = (&mut options, extra) {
        base.extend(more);
    }
    options
}
