//! Helpers for the browser tests: the dev server's HTTP API, waiting with a
//! deadline, DOM queries and an attribute history recorder.

#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use gloo_net::http::Request;
use gloo_timers::future::TimeoutFuture;
use serde::Deserialize;
use upload_progress_robust::SessionOptions;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, MutationObserver, MutationObserverInit, MutationRecord};

/// The dev server under test, e.g. `http://127.0.0.1:8080`.
///
/// Fails the test (instead of skipping it) when the URL was not given at
/// build time, so a misconfigured run cannot pass silently.
pub fn server() -> String {
    match option_env!("UPR_TEST_SERVER") {
        Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => panic!(
            "UPR_TEST_SERVER is not set: build the tests with UPR_TEST_SERVER=http://127.0.0.1:PORT \
             pointing at a dev server started with --allow-loopback-origins --faults --admin-token <t>"
        ),
    }
}

/// The socket base of the server under test.
pub fn ws_base() -> String {
    ws_base_of(&server())
}

/// The socket base (`ws://` or `wss://`) of an `http://` or `https://` base URL.
pub fn ws_base_of(http: &str) -> String {
    match http.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", http.trim_start_matches("http://")),
    }
}

/// The admin token of the server under test.
pub fn admin_token() -> String {
    match option_env!("UPR_TEST_ADMIN_TOKEN") {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => panic!(
            "UPR_TEST_ADMIN_TOKEN is not set: fault injection needs the server's admin token"
        ),
    }
}

/// A fresh job id.
pub fn unique_id(prefix: &str) -> String {
    let r = (js_sys::Math::random() * 1.0e15) as u64;
    format!("{prefix}_{r:x}")
}

#[derive(Debug, Deserialize)]
struct Started {
    token: String,
}

/// Starts a scripted 4-stage job and returns its token.
pub async fn start_job(id: &str, step_ms: u64, steps_per_stage: u32) -> String {
    let url = format!(
        "{}/ws/test/{id}?step_ms={step_ms}&steps_per_stage={steps_per_stage}",
        server()
    );
    let response = Request::post(&url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("cannot reach the dev server at {}: {e}", server()));
    assert_eq!(
        response.status(),
        202,
        "POST /ws/test/{id} answered {}: {}",
        response.status(),
        response.text().await.unwrap_or_default()
    );
    response
        .json::<Started>()
        .await
        .expect("POST /ws/test answer has a token")
        .token
}

#[derive(Debug, Deserialize)]
struct Fresh {
    token: String,
}

/// A token for `id` living `ttl_s` seconds, or `None` when refused.
pub async fn fresh_token(id: &str, ttl_s: u64) -> Option<String> {
    let url = format!("{}/api/uploads/{id}/token?ttl_s={ttl_s}", server());
    // The tests stand in for the application, which vouches for its users
    // with the admin token; a browser would present the job's own token.
    let response = Request::post(&url)
        .header("Authorization", &format!("Bearer {}", admin_token()))
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    response.json::<Fresh>().await.ok().map(|f| f.token)
}

/// Injects a fault (`POST /ws/admin/faults`); fails the test if refused.
pub async fn fault(body: serde_json::Value) {
    let response = Request::post(&format!("{}/ws/admin/faults", server()))
        .header("Authorization", &format!("Bearer {}", admin_token()))
        .json(&body)
        .expect("fault body serializes")
        .send()
        .await
        .expect("dev server reachable for fault injection");
    assert!(
        response.ok(),
        "fault {body} refused with {}: {} (is the server running with --faults and this admin token?)",
        response.status(),
        response.text().await.unwrap_or_default()
    );
}

/// Clears every fault; every test starts with it, since faults are server-wide.
pub async fn clear_faults() {
    fault(serde_json::json!({"action": "clear"})).await;
}

/// Per-job counters from `GET /ws/stats/detailed` (admin only).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct JobStats {
    /// Sockets open now.
    #[serde(default)]
    pub ws_active: u64,
    /// Sockets ever opened.
    #[serde(default)]
    pub ws_opened: u64,
    /// HTTP polls answered.
    #[serde(default)]
    pub http_requests: u64,
}

/// The whole detailed stats document.
pub async fn stats_document() -> serde_json::Value {
    Request::get(&format!("{}/ws/stats/detailed", server()))
        .header("Authorization", &format!("Bearer {}", admin_token()))
        .send()
        .await
        .expect("GET /ws/stats/detailed")
        .json::<serde_json::Value>()
        .await
        .expect("stats are JSON")
}

/// The counters of one job (zeros when the server has none yet).
pub async fn stats(id: &str) -> JobStats {
    let doc = stats_document().await;
    doc.get("processes")
        .and_then(|p| p.get(id))
        .and_then(|s| serde_json::from_value(s.clone()).ok())
        .unwrap_or_default()
}

/// How many token rejections the server counted, wherever it reports them.
pub async fn unauthorized_count() -> Option<u64> {
    let doc = stats_document().await;
    find_number(&doc, "unauthorized")
}

fn find_number(v: &serde_json::Value, key: &str) -> Option<u64> {
    match v {
        serde_json::Value::Object(map) => map
            .get(key)
            .and_then(|x| x.as_u64())
            .or_else(|| map.values().find_map(|x| find_number(x, key))),
        _ => None,
    }
}

/// Sleeps `ms` milliseconds (for observing that nothing happens, and pacing loops).
pub async fn sleep(ms: u32) {
    TimeoutFuture::new(ms).await;
}

/// Polls `check` until it returns `Ok`, failing with its last `Err` text
/// when `timeout_ms` passes.
pub async fn wait_for<T>(
    what: &str,
    timeout_ms: f64,
    mut check: impl FnMut() -> Result<T, String>,
) -> T {
    let start = js_sys::Date::now();
    loop {
        match check() {
            Ok(v) => return v,
            Err(last) => {
                if js_sys::Date::now() - start > timeout_ms {
                    panic!("timed out after {timeout_ms} ms waiting for {what}; last seen: {last}");
                }
            }
        }
        sleep(25).await;
    }
}

/// Polls the server's counters of `id` until `ok` holds.
pub async fn wait_for_stats(
    what: &str,
    id: &str,
    timeout_ms: f64,
    ok: impl Fn(&JobStats) -> bool,
) -> JobStats {
    let start = js_sys::Date::now();
    loop {
        let s = stats(id).await;
        if ok(&s) {
            return s;
        }
        if js_sys::Date::now() - start > timeout_ms {
            panic!(
                "timed out after {timeout_ms} ms waiting for {what}; server stats of {id}: {s:?}"
            );
        }
        sleep(50).await;
    }
}

/// A fresh `<div>` in the document body.
pub fn container() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    let div = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&div).unwrap();
    div.unchecked_into()
}

/// The widget root inside `within`.
pub fn widget(within: &Element) -> Result<Element, String> {
    within
        .query_selector(".upr")
        .ok()
        .flatten()
        .ok_or_else(|| "no .upr element rendered".to_owned())
}

/// An attribute of the widget root inside `within`.
pub fn attr(within: &Element, name: &str) -> Result<String, String> {
    widget(within)?
        .get_attribute(name)
        .ok_or_else(|| format!("no {name} attribute"))
}

/// Text of the first element matching `selector` inside `within`.
pub fn text(within: &Element, selector: &str) -> String {
    within
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.text_content())
        .unwrap_or_default()
}

/// Waits until the widget's `name` attribute equals `want`.
pub async fn wait_attr(within: &Element, name: &str, want: &str, timeout_ms: f64) {
    wait_for(&format!("{name}={want}"), timeout_ms, || {
        let got = attr(within, name)?;
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "{name}={got}; connection: {}",
                text(within, ".upr__connection-text")
            ))
        }
    })
    .await
}

/// Options that keep recovery fast in tests.
pub fn fast_options() -> SessionOptions {
    SessionOptions {
        initial_retry_ms: 100,
        max_retry_ms: 400,
        jitter: false,
        max_retries: 3,
        poll_interval_ms: 200,
        probe_interval_ms: 60_000,
        connect_timeout_ms: 3_000,
        stable_after_ms: 1_000,
        poll_timeout_ms: 3_000,
        ..SessionOptions::default()
    }
}

/// Records every value an attribute of an element takes, using a
/// `MutationObserver` with old values: nothing between two polls is missed.
pub struct AttrHistory {
    element: Element,
    name: String,
    old_values: Rc<RefCell<Vec<String>>>,
    observer: MutationObserver,
    _callback: Closure<dyn FnMut(js_sys::Array, MutationObserver)>,
}

impl AttrHistory {
    /// Starts recording `name` on `element`.
    pub fn watch(element: &Element, name: &str) -> Self {
        let old_values = Rc::new(RefCell::new(Vec::new()));
        let sink = old_values.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array, MutationObserver)>::new(
            move |records: js_sys::Array, _: MutationObserver| {
                for record in records.iter() {
                    let record: MutationRecord = record.unchecked_into();
                    sink.borrow_mut()
                        .push(record.old_value().unwrap_or_default());
                }
            },
        );
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
        let init = MutationObserverInit::new();
        init.set_attributes(true);
        init.set_attribute_old_value(true);
        init.set_attribute_filter(&js_sys::Array::of1(&name.into()));
        observer.observe_with_options(element, &init).unwrap();
        Self {
            element: element.clone(),
            name: name.to_owned(),
            old_values,
            observer,
            _callback: callback,
        }
    }

    /// Every value so far, oldest first, ending with the current one.
    pub fn values(&self) -> Vec<String> {
        for record in self.observer.take_records().iter() {
            let record: MutationRecord = record.unchecked_into();
            self.old_values
                .borrow_mut()
                .push(record.old_value().unwrap_or_default());
        }
        let mut all = self.old_values.borrow().clone();
        all.push(self.element.get_attribute(&self.name).unwrap_or_default());
        all
    }
}

impl Drop for AttrHistory {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// The FastAPI example under test (`examples/fastapi/app.py` started with
/// `--allow-loopback-origins --test-endpoints`), e.g. `http://127.0.0.1:8000`.
///
/// Like [`server`], fails the test when the URL was not given at build time.
pub fn fastapi() -> String {
    match option_env!("UPR_TEST_FASTAPI") {
        Some(url) if !url.trim().is_empty() => url.trim().trim_end_matches('/').to_owned(),
        _ => panic!(
            "UPR_TEST_FASTAPI is not set: build the tests with UPR_TEST_FASTAPI=http://127.0.0.1:PORT \
             pointing at examples/fastapi/app.py started with --allow-loopback-origins --test-endpoints"
        ),
    }
}

/// Sends `request` to the FastAPI example and returns its JSON answer,
/// failing the test unless the status is `want`.
async fn fastapi_json(
    request: gloo_net::http::RequestBuilder,
    what: &str,
    want: u16,
) -> serde_json::Value {
    let response = request.send().await.unwrap_or_else(|e| {
        panic!(
            "cannot reach the FastAPI example at {} for {what}: {e}",
            fastapi()
        )
    });
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    assert_eq!(
        status, want,
        "{what} answered {status}: {body} (is the FastAPI example running with --test-endpoints?)"
    );
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what} answered no JSON ({e}): {body}"))
}

/// Starts a scripted 4-stage job on the FastAPI example (it needs no token).
pub async fn start_fastapi_job(id: &str, step_ms: u64, steps_per_stage: u32) {
    let url = format!(
        "{}/ws/test/{id}?step_ms={step_ms}&steps_per_stage={steps_per_stage}",
        fastapi()
    );
    fastapi_json(Request::post(&url), &format!("POST /ws/test/{id}"), 202).await;
}

/// Makes the FastAPI example drop every progress socket without a close
/// frame (`POST /test/drop-sockets`); returns how many it dropped.
pub async fn fastapi_drop_sockets() -> u64 {
    let url = format!("{}/test/drop-sockets", fastapi());
    let answer = fastapi_json(Request::post(&url), "POST /test/drop-sockets", 200).await;
    answer["dropped"]
        .as_u64()
        .unwrap_or_else(|| panic!("POST /test/drop-sockets answered {answer}"))
}

/// The FastAPI example's own counters of one job (`GET /test/stats/{id}`).
pub async fn fastapi_stats(id: &str) -> JobStats {
    let url = format!("{}/test/stats/{id}", fastapi());
    let answer = fastapi_json(Request::get(&url), &format!("GET /test/stats/{id}"), 200).await;
    serde_json::from_value(answer.clone())
        .unwrap_or_else(|e| panic!("GET /test/stats/{id} answered {answer}: {e}"))
}

/// The job's current state on the FastAPI example, as a poll sees it.
pub async fn fastapi_progress(id: &str) -> serde_json::Value {
    let url = format!("{}/ws/progress/{id}", fastapi());
    let answer = fastapi_json(Request::get(&url), &format!("GET /ws/progress/{id}"), 200).await;
    answer["progress"].clone()
}

/// What the tus endpoints saw of the upload feeding job `process_id`
/// (`GET /ws/admin/uploads/{id}`: `bytes_received`, `patches`, `offsets`,
/// `cut`, `refused`); needs `--faults` and the admin token.
pub async fn upload_counters(process_id: &str) -> serde_json::Value {
    let response = Request::get(&format!("{}/ws/admin/uploads/{process_id}", server()))
        .header("Authorization", &format!("Bearer {}", admin_token()))
        .send()
        .await
        .expect("GET /ws/admin/uploads/{id}");
    assert!(response.ok(), "no counters: {}", response.status());
    response.json().await.expect("counters are JSON")
}

/// SHA-256 of `data` as lowercase hex (FIPS 180-4), to check what a job
/// reports about the bytes it received.
pub fn sha256_hex(data: &[u8]) -> String {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let choose = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(choose)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let majority = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(majority);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *state = state.wrapping_add(add);
        }
    }
    h.iter().map(|word| format!("{word:08x}")).collect()
}

/// Records every change under an element (attributes, texts, children) as
/// `"<class of the changed element> <attribute name or kind>"`, e.g.
/// `"upr data-seq"` or `"upr__percent childList"`.
pub struct MutationLog {
    observer: MutationObserver,
    _callback: Closure<dyn FnMut(js_sys::Array, MutationObserver)>,
    seen: Rc<RefCell<Vec<String>>>,
}

fn describe_record(record: &MutationRecord) -> String {
    let target = record.target().unwrap();
    // A text node's change is named after the element that holds it.
    let element: Element = match target.dyn_ref::<Element>() {
        Some(e) => e.clone(),
        None => target.parent_element().unwrap(),
    };
    let what = record.attribute_name().unwrap_or_else(|| record.type_());
    format!("{} {what}", element.class_name())
}

impl MutationLog {
    /// Starts recording everything under `element`, itself included.
    pub fn watch(element: &Element) -> Self {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let sink = seen.clone();
        let callback = Closure::<dyn FnMut(js_sys::Array, MutationObserver)>::new(
            move |records: js_sys::Array, _: MutationObserver| {
                for record in records.iter() {
                    sink.borrow_mut()
                        .push(describe_record(&record.unchecked_into()));
                }
            },
        );
        let observer = MutationObserver::new(callback.as_ref().unchecked_ref()).unwrap();
        let init = MutationObserverInit::new();
        init.set_attributes(true);
        init.set_character_data(true);
        init.set_child_list(true);
        init.set_subtree(true);
        observer.observe_with_options(element, &init).unwrap();
        Self {
            observer,
            _callback: callback,
            seen,
        }
    }

    /// Every change since the last call, in order.
    pub fn take(&self) -> Vec<String> {
        for record in self.observer.take_records().iter() {
            self.seen
                .borrow_mut()
                .push(describe_record(&record.unchecked_into()));
        }
        std::mem::take(&mut *self.seen.borrow_mut())
    }
}

impl Drop for MutationLog {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// A mounted widget's unmount handle: dropping it unmounts the widget.
pub type Handle = Box<dyn std::any::Any>;

/// Mounts a widget for each `(id, token)` on the dev server, each in a
/// container of its own; `shared` as the component's prop.
pub fn mount_all(
    jobs: &[(String, String)],
    options: &SessionOptions,
    shared: bool,
) -> Vec<(Element, Handle)> {
    use leptos::prelude::*;
    use upload_progress_robust::UploadProgressRobust;
    jobs.iter()
        .map(|(id, token)| {
            let host = container();
            let (id, token, options) = (id.clone(), token.clone(), options.clone());
            let handle = leptos::mount::mount_to(host.clone(), move || {
                view! {
                    <UploadProgressRobust
                        process_id=id
                        token=token
                        ws_base=ws_base()
                        http_base=server()
                        session_options=options
                        shared=shared
                    />
                }
            });
            (host.into(), Box::new(handle) as Handle)
        })
        .collect()
}
