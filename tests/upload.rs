//! The upload shell in the browser: `use_upload` sends a file over tus to
//! the dev server (started with `--tus`) with XMLHttpRequest chunks, pauses
//! and resumes, cancels, and continues an upload after a "reload" (a new
//! owner choosing the same file) from the server's offset. Then the widget
//! given a file: one progress bar from the first byte to the job's last
//! stage, its buttons and announcements, and the custom element's `file`.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use support::*;
use upload_progress_robust::upload::{UploadOptions, UploadState};
use upload_progress_robust::{
    mount_upload_progress, register_upload_progress_element, use_upload, ErrorKind, StatusError,
    UploadProgressRobust, UseUploadOptions, UseUploadReturn,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

fn file_bytes(len: usize) -> Vec<u8> {
    (0..len).map(|i| b"upload test\n"[i % 12]).collect()
}

fn file(name: &str, len: usize) -> web_sys::File {
    let bytes = file_bytes(len);
    let part = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&part);
    web_sys::File::new_with_u8_array_sequence(&parts, name).expect("a file")
}

fn options(chunk_size: u64) -> UseUploadOptions {
    UseUploadOptions {
        upload: UploadOptions {
            chunk_size,
            initial_retry_ms: 200,
            ..UploadOptions::default()
        },
        ..UseUploadOptions::new(format!("{}/api/uploads/tus", server()))
    }
}

async fn wait_state(up: &UseUploadReturn, what: &str, ok: impl Fn(&UploadState) -> bool) {
    wait_for(what, 20_000.0, || {
        let state = up.state.get_untracked();
        if ok(&state) {
            Ok(())
        } else {
            Err(format!("{state:?}"))
        }
    })
    .await;
}

/// The job's state; `token` is the upload's (the test server requires tokens).
async fn job_state(id: &str, token: Option<String>) -> serde_json::Value {
    let mut request = gloo_net::http::Request::get(&format!("{}/ws/progress/{id}", server()));
    if let Some(token) = token {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let resp = request.send().await.expect("progress answer");
    let body: serde_json::Value = resp.json().await.expect("json");
    body["progress"].clone()
}

async fn wait_job(id: &str, token: Option<String>, state: &str) -> serde_json::Value {
    let start = js_sys::Date::now();
    loop {
        let p = job_state(id, token.clone()).await;
        if p["state"] == state {
            return p;
        }
        assert!(
            js_sys::Date::now() - start < 20_000.0,
            "job never {state}: {p}"
        );
        sleep(50).await;
    }
}

fn saved_keys() -> usize {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let mut n = 0;
    for i in 0..storage.length().unwrap() {
        if storage
            .key(i)
            .unwrap()
            .is_some_and(|k| k.starts_with("upr-tus::"))
        {
            n += 1;
        }
    }
    n
}

#[wasm_bindgen_test]
async fn uploads_a_file_in_chunks_and_its_job_runs() {
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("whole"));
    let up = owner.with(|| use_upload(file(&name, 300_000), options(64 * 1024)));
    wait_state(&up, "finished", |s| {
        matches!(s, UploadState::Finished { .. })
    })
    .await;
    let progress = up.progress.get_untracked().expect("progress shown");
    assert_eq!((progress.sent, progress.total), (300_000, 300_000));
    let id = up.process_id.get_untracked().expect("a job");
    let done = wait_job(&id, up.token.get_untracked(), "completed").await;
    let message = done["message"].as_str().unwrap_or_default();
    assert!(message.contains("300000 bytes"), "{message}");
    assert_eq!(saved_keys(), 0, "nothing left to resume");
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn pause_stops_and_resume_continues_from_the_servers_offset() {
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("pause"));
    let up = owner.with(|| use_upload(file(&name, 2_000_000), options(128 * 1024)));
    wait_for("some bytes", 20_000.0, || {
        match up.progress.get_untracked() {
            Some(p) if p.sent > 0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    up.pause.run(());
    assert!(matches!(
        up.state.get_untracked(),
        UploadState::Paused { .. }
    ));
    let id = up.process_id.get_untracked().expect("a job from creation");
    assert_eq!(
        job_state(&id, up.token.get_untracked()).await["state"],
        "pending"
    );
    sleep(300).await;
    assert!(matches!(
        up.state.get_untracked(),
        UploadState::Paused { .. }
    ));
    up.resume.run(());
    wait_state(&up, "finished", |s| {
        matches!(s, UploadState::Finished { .. })
    })
    .await;
    wait_job(&id, up.token.get_untracked(), "completed").await;
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn a_reloaded_page_continues_the_same_upload() {
    let name = format!("{}.txt", unique_id("reload"));
    let the_file = file(&name, 1_000_000);
    let first = Owner::new();
    let up = first.with(|| use_upload(the_file.clone(), options(64 * 1024)));
    wait_for("a few chunks", 20_000.0, || {
        match up.progress.get_untracked() {
            Some(p) if p.sent >= 200_000 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let id = up.process_id.get_untracked().expect("a job");
    let token = up.token.get_untracked();
    first.cleanup(); // the page goes away mid-upload
    assert_eq!(saved_keys(), 1, "the upload is remembered");

    let second = Owner::new();
    let again = second.with(|| use_upload(the_file, options(64 * 1024)));
    wait_state(&again, "finished", |s| {
        matches!(s, UploadState::Finished { .. })
    })
    .await;
    assert_eq!(
        again.process_id.get_untracked().as_deref(),
        Some(id.as_str())
    );
    wait_job(&id, token, "completed").await;
    second.cleanup();
}

#[wasm_bindgen_test]
async fn cancel_deletes_the_upload_and_cancels_its_job() {
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("cancel"));
    let up = owner.with(|| use_upload(file(&name, 2_000_000), options(64 * 1024)));
    wait_for("the job", 20_000.0, || {
        up.process_id
            .get_untracked()
            .ok_or_else(|| "none".to_owned())
    })
    .await;
    up.cancel.run(());
    wait_state(&up, "cancelled", |s| *s == UploadState::Cancelled).await;
    let id = up.process_id.get_untracked().unwrap();
    assert_eq!(
        job_state(&id, up.token.get_untracked()).await["state"],
        "cancelled"
    );
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn offline_holds_the_retries_and_online_retries_at_once() {
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("offline"));
    // Nothing listens there: every request fails as a network error.
    let options = UseUploadOptions {
        endpoint: "http://127.0.0.1:1/api/uploads/tus".to_owned(),
        ..options(64 * 1024)
    };
    let up = owner.with(|| use_upload(file(&name, 1_000), options));
    wait_state(&up, "waiting after a network error", |s| {
        matches!(s, UploadState::Waiting { .. })
    })
    .await;
    let window = web_sys::window().unwrap();
    let event = |name: &str| web_sys::Event::new(name).unwrap();
    window.dispatch_event(&event("offline")).unwrap();
    assert!(matches!(
        up.state.get_untracked(),
        UploadState::Offline { .. }
    ));
    sleep(1_200).await;
    assert!(
        matches!(up.state.get_untracked(), UploadState::Offline { .. }),
        "no retry while offline"
    );
    window.dispatch_event(&event("online")).unwrap();
    assert!(
        matches!(up.state.get_untracked(), UploadState::Creating { .. }),
        "online retries at once: {:?}",
        up.state.get_untracked()
    );
    up.cancel.run(());
    assert_eq!(up.state.get_untracked(), UploadState::Cancelled);
    owner.cleanup();
}

#[wasm_bindgen_test]
fn the_test_sha256_matches_known_digests() {
    assert_eq!(
        sha256_hex(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        sha256_hex(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[wasm_bindgen_test]
async fn an_upload_cut_mid_patch_resumes_from_the_servers_offset() {
    const LEN: usize = 600_000;
    const CUT: u64 = 200_000;
    // Faults are server-wide and this file's tests may run side by side:
    // only PATCH bodies longer than 200 000 bytes are cut, and only this
    // test sends any (256 KiB chunks). Its first PATCH loses its connection
    // after 200 000 bytes.
    fault(serde_json::json!({"action": "cut_uploads", "after_bytes": CUT, "count": 1})).await;
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("cut"));
    let up = owner.with(|| use_upload(file(&name, LEN), options(256 * 1024)));
    wait_state(&up, "finished after the cut", |s| {
        matches!(s, UploadState::Finished { .. })
    })
    .await;
    let id = up.process_id.get_untracked().expect("a job");
    let seen = upload_counters(&id).await;
    assert_eq!(seen["cut"], 1, "{seen}");
    // Every byte arrived exactly once: the bytes before the cut were kept
    // and the upload went on from them, not from 0.
    assert_eq!(seen["bytes_received"], LEN as u64, "{seen}");
    let offsets: Vec<u64> = serde_json::from_value(seen["offsets"].clone()).expect("offsets");
    assert_eq!(offsets.first(), Some(&0), "{seen}");
    assert_eq!(
        offsets.get(1),
        Some(&CUT),
        "the next PATCH starts at the cut: {seen}"
    );
    assert_eq!(offsets.iter().filter(|&&o| o == 0).count(), 1, "{seen}");
    let done = wait_job(&id, up.token.get_untracked(), "completed").await;
    let message = done["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&sha256_hex(&file_bytes(LEN))),
        "the job got exactly the file: {message}"
    );
    owner.cleanup();
}

#[wasm_bindgen_test]
async fn refused_patches_are_retried_with_backoff_until_the_upload_completes() {
    const LEN: usize = 300_000;
    // Server-wide for 2 s and ending by itself (no `clear`, which would end
    // faults other tests of this file may be using).
    fault(serde_json::json!({"action": "refuse_uploads", "duration_ms": 2_000})).await;
    let started = js_sys::Date::now();
    let owner = Owner::new();
    let name = format!("{}.txt", unique_id("refused"));
    // Without jitter the retries come at 200, 600, 1 400 ms...: how many
    // fit in the 2 s is fixed, not a draw (full jitter can draw near-zero
    // waits and, rarely, more tries than the bound below).
    let mut opts = options(64 * 1024);
    opts.upload.jitter = false;
    let up = owner.with(|| use_upload(file(&name, LEN), opts));
    wait_state(&up, "waiting after a 503", |s| {
        matches!(s, UploadState::Waiting { .. })
    })
    .await;
    wait_state(&up, "finished once PATCHes are taken again", |s| {
        matches!(s, UploadState::Finished { .. })
    })
    .await;
    assert!(
        js_sys::Date::now() - started >= 1_900.0,
        "nothing was taken while refused"
    );
    let id = up.process_id.get_untracked().expect("a job");
    let seen = upload_counters(&id).await;
    let refused = seen["refused"].as_u64().unwrap_or_default();
    // Backoff from 200 ms, doubling: a handful of tries in 2 s, not a storm.
    assert!((1..=8).contains(&refused), "{seen}");
    assert_eq!(seen["bytes_received"], LEN as u64, "{seen}");
    assert_eq!(seen["cut"], 0, "{seen}");
    let done = wait_job(&id, up.token.get_untracked(), "completed").await;
    let message = done["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&sha256_hex(&file_bytes(LEN))),
        "the job got exactly the file: {message}"
    );
    owner.cleanup();
}

/// Chunking fast enough for tests: small chunks, quick retries.
fn widget_upload_options(chunk_size: u64) -> UploadOptions {
    UploadOptions {
        chunk_size,
        initial_retry_ms: 200,
        ..UploadOptions::default()
    }
}

/// Mounts the component for `file` (uploaded to `upload_url`) into a fresh
/// container; `errors` collects what `on_error` reports.
fn mount_file_widget(
    file: web_sys::File,
    upload_url: String,
    chunk_size: u64,
    errors: Arc<Mutex<Vec<StatusError>>>,
) -> (
    Element,
    leptos::mount::UnmountHandle<impl leptos::tachys::view::Mountable>,
) {
    let host = container();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                file=file
                upload_url=upload_url
                upload_options=widget_upload_options(chunk_size)
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
                on_error=move |e: StatusError| errors.lock().unwrap().push(e)
            />
        }
    });
    (host.into(), handle)
}

fn tus_endpoint() -> String {
    format!("{}/api/uploads/tus", server())
}

fn bar(host: &Element) -> Element {
    host.query_selector("[role=progressbar]")
        .unwrap()
        .expect("a progress bar")
}

/// The `data-upload` phase of the widget's upload panel.
fn upload_phase(host: &Element) -> Result<String, String> {
    host.query_selector(".upr__upload")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("data-upload"))
        .ok_or_else(|| "no upload panel".to_owned())
}

async fn wait_phase(host: &Element, want: &str) {
    wait_for(&format!("upload phase {want}"), 20_000.0, || {
        let got = upload_phase(host)?;
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "{got}; status: {}",
                text(host, ".upr__connection-text")
            ))
        }
    })
    .await;
}

async fn wait_announced(host: &Element, want: &str) {
    wait_for(&format!("the announcement {want:?}"), 20_000.0, || {
        let got = text(host, ".upr__announce");
        if got == want {
            Ok(())
        } else {
            Err(got)
        }
    })
    .await;
}

fn button(host: &Element, class: &str) -> Option<web_sys::HtmlElement> {
    host.query_selector(&format!(".{class}"))
        .ok()
        .flatten()
        .map(|e| e.unchecked_into())
}

fn click(host: &Element, class: &str) {
    button(host, class)
        .unwrap_or_else(|| panic!("no {class} button"))
        .click();
}

#[wasm_bindgen_test]
async fn the_component_uploads_a_file_and_follows_its_job_on_one_bar() {
    const LEN: usize = 300_000;
    let name = format!("{}.txt", unique_id("widget"));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let (host, handle) =
        mount_file_widget(file(&name, LEN), tus_endpoint(), 32 * 1024, errors.clone());
    let the_bar = bar(&host);
    let texts = AttrHistory::watch(&the_bar, "aria-valuetext");
    assert_eq!(
        text(&host, ".upr__filename"),
        name,
        "the file's name is shown"
    );

    wait_attr(&host, "data-state", "completed", 30_000.0).await;
    wait_attr(&host, "data-connection", "finished", 5_000.0).await;

    let seen = texts.values();
    let uploading: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].starts_with("Uploading "))
        .collect();
    let stages: Vec<usize> = (0..seen.len())
        .filter(|&i| seen[i].starts_with("Stage "))
        .collect();
    assert!(
        uploading.len() >= 2,
        "the bytes were told as they left: {seen:?}"
    );
    assert!(
        seen.iter().any(|t| t.ends_with(" of 300 kB")),
        "bytes in the file's unit: {seen:?}"
    );
    assert!(!stages.is_empty(), "then the job's stages: {seen:?}");
    assert!(
        uploading.last() < stages.first(),
        "upload first, stages after: {seen:?}"
    );
    assert_eq!(seen.last().map(String::as_str), Some("100%"), "{seen:?}");
    assert!(
        bar(&host).is_same_node(Some(&the_bar)),
        "one progress bar element for the whole story"
    );
    assert_eq!(
        upload_phase(&host).as_deref(),
        Ok("uploaded"),
        "the upload panel is done"
    );
    assert!(button(&host, "upr__pause").is_none() && button(&host, "upr__cancel").is_none());

    // The job processed exactly the file's bytes, which only the upload's
    // token could reach (the test server requires tokens).
    let message = text(&host, ".upr__message");
    assert!(
        message.contains(&format!("{LEN} bytes"))
            && message.contains(&sha256_hex(&file_bytes(LEN))),
        "the job got exactly the file: {message}"
    );
    let id = attr(&host, "data-process-id").unwrap();
    let counters = upload_counters(&id).await;
    assert_eq!(counters["bytes_received"], LEN as u64, "{counters}");
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn pause_resume_and_cancel_buttons_drive_the_upload_and_are_announced() {
    let name = format!("{}.txt", unique_id("buttons"));
    let errors = Arc::new(Mutex::new(Vec::new()));
    // 4 MB in 32 KiB chunks: well over a hundred requests, time to press.
    let (host, handle) = mount_file_widget(
        file(&name, 4_000_000),
        tus_endpoint(),
        32 * 1024,
        errors.clone(),
    );
    wait_for("the first bytes", 20_000.0, || {
        let amount = text(&host, ".upr__upload-amount");
        if amount.starts_with("0 of") || amount.is_empty() {
            Err(amount)
        } else {
            Ok(())
        }
    })
    .await;
    assert!(
        button(&host, "upr__resume").is_none(),
        "no Resume while uploading"
    );
    click(&host, "upr__pause");
    wait_phase(&host, "paused").await;
    wait_announced(&host, "Upload paused").await;
    let value = bar(&host)
        .get_attribute("aria-valuetext")
        .unwrap_or_default();
    assert!(value.starts_with("Upload paused at "), "{value}");
    assert!(
        button(&host, "upr__pause").is_none(),
        "no Pause while paused"
    );
    let held = text(&host, ".upr__upload-amount");
    sleep(400).await;
    assert_eq!(
        text(&host, ".upr__upload-amount"),
        held,
        "nothing leaves while paused"
    );

    click(&host, "upr__resume");
    wait_announced(&host, "Upload resumed").await;
    wait_for("more bytes after resuming", 20_000.0, || {
        let now = text(&host, ".upr__upload-amount");
        if now != held {
            Ok(())
        } else {
            Err(now)
        }
    })
    .await;

    click(&host, "upr__cancel");
    wait_phase(&host, "cancelled").await;
    wait_announced(&host, "Upload cancelled").await;
    assert_eq!(text(&host, ".upr__connection-text"), "Upload cancelled");
    for class in ["upr__pause", "upr__resume", "upr__cancel"] {
        assert!(button(&host, class).is_none(), "no {class} once cancelled");
    }
    assert_eq!(
        attr(&host, "data-connection").as_deref(),
        Ok("idle"),
        "a cancelled upload starts no job session"
    );
    assert!(
        errors.lock().unwrap().is_empty(),
        "{:?}",
        errors.lock().unwrap()
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn upload_retries_and_failures_are_announced_and_reported() {
    // Nothing listens there: every request is a network error, retried.
    let name = format!("{}.txt", unique_id("retry"));
    let errors = Arc::new(Mutex::new(Vec::new()));
    let (host, handle) = mount_file_widget(
        file(&name, 1_000),
        "http://127.0.0.1:1/api/uploads/tus".to_owned(),
        64 * 1024,
        errors.clone(),
    );
    wait_phase(&host, "retrying").await;
    let announced = text(&host, ".upr__announce");
    assert!(
        announced.starts_with("Upload interrupted (network error); retrying (attempt "),
        "{announced}"
    );
    assert!(
        button(&host, "upr__pause").is_some(),
        "a waiting upload can be paused"
    );
    click(&host, "upr__cancel");
    wait_announced(&host, "Upload cancelled").await;
    drop(handle);

    // The dev server has no tus endpoint here: the creation is refused for
    // good, which ends the upload and reaches on_error.
    let (host, handle) = mount_file_widget(
        file(&name, 1_000),
        format!("{}/api/uploads/not-tus", server()),
        64 * 1024,
        errors.clone(),
    );
    wait_phase(&host, "failed").await;
    let status = text(&host, ".upr__connection-text");
    assert!(status.starts_with("Upload failed: "), "{status}");
    assert_eq!(
        text(&host, ".upr__announce"),
        status,
        "the failure is announced"
    );
    assert!(
        button(&host, "upr__resume").is_none(),
        "a refusal is not resumable"
    );
    let reported = errors.lock().unwrap().clone();
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert!(reported[0].kind == ErrorKind::NotFound, "{reported:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_custom_element_uploads_a_file_set_as_its_property() {
    const LEN: usize = 200_000;
    register_upload_progress_element();
    let document = web_sys::window().unwrap().document().unwrap();
    let element = document.create_element("upload-progress-robust").unwrap();
    element.set_attribute("http-base", &server()).unwrap();
    element.set_attribute("ws-base", &ws_base()).unwrap();
    let completed = Rc::new(RefCell::new(None::<JsValue>));
    let sink = completed.clone();
    let on_complete = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
        *sink.borrow_mut() = js_sys::Reflect::get(&e, &"detail".into()).ok();
    });
    element
        .add_event_listener_with_callback("upload-complete", on_complete.as_ref().unchecked_ref())
        .unwrap();
    container().append_child(&element).unwrap();
    // A File cannot be an attribute: it is a property, set from JS.
    let name = format!("{}.txt", unique_id("element"));
    js_sys::Reflect::set(&element, &"file".into(), &file(&name, LEN)).unwrap();

    wait_attr(&element, "data-state", "completed", 30_000.0).await;
    assert_eq!(text(&element, ".upr__filename"), name);
    let message = text(&element, ".upr__message");
    assert!(
        message.contains(&sha256_hex(&file_bytes(LEN))),
        "the job got exactly the file: {message}"
    );
    let detail = wait_for("upload-complete", 5_000.0, || {
        completed
            .borrow()
            .clone()
            .ok_or_else(|| "not fired".to_owned())
    })
    .await;
    let state = js_sys::Reflect::get(&detail, &"state".into()).unwrap();
    assert_eq!(state.as_string().as_deref(), Some("completed"));
    let read_back = js_sys::Reflect::get(&element, &"file".into()).unwrap();
    assert!(
        read_back.is_instance_of::<web_sys::File>(),
        "the property reads back"
    );
    element.remove();
}

#[wasm_bindgen_test]
fn the_embed_api_refuses_a_file_that_is_not_a_file() {
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"file".into(), &"report.pdf".into()).unwrap();
    let error = mount_upload_progress(container(), options.into())
        .err()
        .expect("a string is not a File");
    let message = js_sys::Reflect::get(&error, &"message".into())
        .unwrap()
        .as_string()
        .unwrap_or_default();
    assert!(
        message.contains("option `file` must be a File"),
        "{message}"
    );

    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"file".into(), &file("a.txt", 3)).unwrap();
    js_sys::Reflect::set(&options, &"uploadUrl".into(), &"".into()).unwrap();
    let error = mount_upload_progress(container(), options.into())
        .err()
        .expect("an empty upload URL");
    let message = js_sys::Reflect::get(&error, &"message".into())
        .unwrap()
        .as_string()
        .unwrap_or_default();
    assert!(message.contains("uploadUrl"), "{message}");
}
