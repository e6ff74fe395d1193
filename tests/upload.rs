//! The upload shell in the browser: `use_upload` sends a file over tus to
//! the dev server (started with `--tus`) with XMLHttpRequest chunks, pauses
//! and resumes, cancels, and continues an upload after a "reload" (a new
//! owner choosing the same file) from the server's offset.
#![cfg(target_arch = "wasm32")]

mod support;

use leptos::prelude::*;
use support::*;
use upload_progress_robust::upload::{UploadOptions, UploadState};
use upload_progress_robust::{use_upload, UseUploadOptions, UseUploadReturn};
use wasm_bindgen_test::*;

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
