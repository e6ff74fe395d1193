//! The page's upload queue in the browser, against the dev server (`--tus`):
//! many widgets given files send at most `upload_limit()` uploads at once,
//! the others say "Waiting to upload" until their turn; cancel and unmount
//! of a waiting file send nothing for it; pause of a running one lets the
//! next start. Requests are counted as the browser sends them (a spy on
//! `XMLHttpRequest`), not by the shell's own bookkeeping.
#![cfg(target_arch = "wasm32")]

mod support;

use leptos::prelude::*;
use support::*;
use upload_progress_robust::upload::UploadOptions;
use upload_progress_robust::{
    mount_upload_progress, set_upload_limit, upload_limit, UploadProgressRobust,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// Counts the page's tus requests as the browser sends them: in flight now,
/// the most at once, and each request's method and `Upload-Metadata`.
/// A request is in flight from `send()` until its `readyState` is 4.
/// `DELETE`s (a cancel) are logged but not counted in flight: a cancelled
/// upload no longer sends, and the queue has freed its slot.
const SPY_JS: &str = r#"
if (!window.__tusSpy) {
  const spy = { inFlight: 0, peak: 0, log: [] };
  const proto = XMLHttpRequest.prototype;
  const open = proto.open, setHeader = proto.setRequestHeader, send = proto.send;
  proto.open = function (method, url, ...rest) {
    this.__spied = { method: String(method).toUpperCase(), url: String(url), meta: "" };
    return open.call(this, method, url, ...rest);
  };
  proto.setRequestHeader = function (name, value) {
    if (this.__spied && name.toLowerCase() === "upload-metadata") this.__spied.meta = value;
    return setHeader.call(this, name, value);
  };
  proto.send = function (body) {
    const s = this.__spied;
    if (s && s.url.includes("/api/uploads/tus")) {
      spy.log.push(s);
      if (s.method !== "DELETE") {
        spy.inFlight += 1;
        spy.peak = Math.max(spy.peak, spy.inFlight);
        // Done at readyState 4, which comes before `load` (where the shell
        // learns the answer and may start the next upload) and also on
        // abort and network errors; `loadend` would come after `load`.
        let open = true;
        const done = () => { if (open && this.readyState === 4) { open = false; spy.inFlight -= 1; } };
        this.addEventListener("readystatechange", done);
        this.addEventListener("loadend", done);
      }
    }
    return send.call(this, body);
  };
  window.__tusSpy = spy;
}
window.__tusSpy.peak = window.__tusSpy.inFlight;
window.__tusSpy.log = [];
"#;

/// Installs the spy (once per page) and resets its peak and log.
fn spy_reset() {
    js_sys::Function::new_no_args(SPY_JS)
        .call0(&JsValue::NULL)
        .expect("the spy installs");
}

fn spy() -> JsValue {
    js_sys::Reflect::get(&web_sys::window().unwrap(), &"__tusSpy".into()).expect("the spy")
}

fn spy_number(key: &str) -> u32 {
    js_sys::Reflect::get(&spy(), &key.into())
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(-1.0) as u32
}

/// Requests sent for the file named `name` (by its creation's metadata) and
/// `POST`s in all, since the last reset.
fn spy_creations_of(name: &str) -> u32 {
    let encoded = web_sys::window().unwrap().btoa(name).unwrap();
    let log: js_sys::Array = js_sys::Reflect::get(&spy(), &"log".into())
        .unwrap()
        .unchecked_into();
    log.iter()
        .filter(|entry| {
            let field = |k: &str| {
                js_sys::Reflect::get(entry, &k.into())
                    .ok()
                    .and_then(|v| v.as_string())
                    .unwrap_or_default()
            };
            field("method") == "POST" && field("meta").contains(&format!("filename {encoded}"))
        })
        .count() as u32
}

fn file(name: &str, len: usize) -> web_sys::File {
    let bytes: Vec<u8> = (0..len).map(|i| b"queued upload\n"[i % 14]).collect();
    let part = js_sys::Uint8Array::from(bytes.as_slice());
    web_sys::File::new_with_u8_array_sequence(&js_sys::Array::of1(&part), name).expect("a file")
}

/// The component given `file`, in a fresh container.
fn mount_widget(
    file: web_sys::File,
    chunk_size: u64,
) -> (
    Element,
    leptos::mount::UnmountHandle<impl leptos::tachys::view::Mountable>,
) {
    let host = container();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                file=file
                upload_url=format!("{}/api/uploads/tus", server())
                upload_options=UploadOptions {
                    chunk_size,
                    initial_retry_ms: 200,
                    ..UploadOptions::default()
                }
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
            />
        }
    });
    (host.into(), handle)
}

/// The `data-upload` phase of the widget's upload panel.
fn phase(host: &Element) -> String {
    host.query_selector(".upr__upload")
        .ok()
        .flatten()
        .and_then(|e| e.get_attribute("data-upload"))
        .unwrap_or_default()
}

async fn wait_phase(host: &Element, want: &str) {
    wait_for(&format!("upload phase {want}"), 30_000.0, || {
        let got = phase(host);
        if got == want {
            Ok(())
        } else {
            Err(format!("{got}: {}", text(host, ".upr__connection-text")))
        }
    })
    .await;
}

fn click(host: &Element, class: &str) {
    host.query_selector(&format!(".{class}"))
        .ok()
        .flatten()
        .unwrap_or_else(|| panic!("no {class} button"))
        .unchecked_into::<web_sys::HtmlElement>()
        .click();
}

/// A waiting widget says so on its status line, its bar and its live region.
fn assert_waiting(host: &Element) {
    assert_eq!(text(host, ".upr__connection-text"), "Waiting to upload");
    assert_eq!(text(host, ".upr__announce"), "Waiting to upload");
    let bar = host
        .query_selector("[role=progressbar]")
        .unwrap()
        .expect("a bar");
    assert_eq!(
        bar.get_attribute("aria-valuetext").as_deref(),
        Some("Waiting to upload")
    );
}

#[wasm_bindgen_test]
async fn eight_files_upload_three_at_a_time_and_all_complete() {
    // The default, set again in case a test before failed with another.
    set_upload_limit(3);
    spy_reset();
    let widgets: Vec<_> = (0..8)
        .map(|i| {
            let name = format!("{}-{i}.txt", unique_id("eight"));
            // 200 kB in 8 KiB chunks: 26 requests each, so the first three
            // are still sending while the others are checked.
            mount_widget(file(&name, 200_000), 8 * 1024)
        })
        .collect();
    let waiting = wait_for("five widgets waiting", 10_000.0, || {
        let waiting: Vec<&Element> = widgets
            .iter()
            .map(|(host, _)| host)
            .filter(|host| phase(host) == "queued")
            .collect();
        if waiting.len() == 5 {
            Ok(waiting)
        } else {
            Err(format!("{} waiting", waiting.len()))
        }
    })
    .await;
    for host in waiting {
        assert_waiting(host);
    }
    for (host, _) in &widgets {
        wait_attr(host, "data-state", "completed", 60_000.0).await;
    }
    assert_eq!(spy_number("inFlight"), 0);
    assert_eq!(
        spy_number("peak"),
        3,
        "three uploads sent together, never more"
    );
    let log_len = js_sys::Reflect::get(&spy(), &"log".into())
        .unwrap()
        .unchecked_into::<js_sys::Array>()
        .length();
    assert!(
        log_len >= 8 * 26,
        "each file went in 26 requests: {log_len}"
    );
}

#[wasm_bindgen_test]
async fn a_cancelled_or_unmounted_waiting_file_never_sends_a_request() {
    spy_reset();
    set_upload_limit(1);
    let running_name = format!("{}.txt", unique_id("running"));
    // 3 MB in 16 KiB chunks: busy long enough to check the others waiting.
    let (running, running_handle) = mount_widget(file(&running_name, 3_000_000), 16 * 1024);
    wait_phase(&running, "uploading").await;

    // Waiting behind it: an embed widget (cancelled) and a component
    // (unmounted), then one that must still get its turn.
    let cancelled_name = format!("{}.txt", unique_id("cancelled"));
    let embed_host = container();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"file".into(), &file(&cancelled_name, 10_000)).unwrap();
    js_sys::Reflect::set(
        &options,
        &"uploadUrl".into(),
        &format!("{}/api/uploads/tus", server()).into(),
    )
    .unwrap();
    js_sys::Reflect::set(&options, &"httpBase".into(), &server().into()).unwrap();
    js_sys::Reflect::set(&options, &"wsBase".into(), &ws_base().into()).unwrap();
    let mut embed = mount_upload_progress(embed_host.clone(), options.into()).expect("mounted");
    let embed_host: Element = embed_host.into();
    let unmounted_name = format!("{}.txt", unique_id("unmounted"));
    let (unmounted, unmounted_handle) = mount_widget(file(&unmounted_name, 10_000), 16 * 1024);
    let last_name = format!("{}.txt", unique_id("last"));
    let (last, last_handle) = mount_widget(file(&last_name, 10_000), 16 * 1024);
    for host in [&embed_host, &unmounted, &last] {
        wait_phase(host, "queued").await;
        assert_waiting(host);
    }

    click(&embed_host, "upr__cancel");
    wait_phase(&embed_host, "cancelled").await;
    assert_eq!(text(&embed_host, ".upr__announce"), "Upload cancelled");
    drop(unmounted_handle);

    wait_attr(&running, "data-state", "completed", 60_000.0).await;
    wait_attr(&last, "data-state", "completed", 30_000.0).await;
    sleep(300).await;
    assert_eq!(spy_creations_of(&running_name), 1);
    assert_eq!(
        spy_creations_of(&last_name),
        1,
        "the last file got its turn"
    );
    assert_eq!(
        spy_creations_of(&cancelled_name),
        0,
        "cancelled while waiting"
    );
    assert_eq!(
        spy_creations_of(&unmounted_name),
        0,
        "unmounted while waiting"
    );
    assert_eq!(spy_number("peak"), 1, "one at a time with a limit of 1");

    embed.unmount();
    drop(running_handle);
    drop(last_handle);
    set_upload_limit(3);
}

#[wasm_bindgen_test]
async fn pausing_a_running_upload_lets_the_next_one_start_and_resume_waits_its_turn() {
    spy_reset();
    set_upload_limit(1);
    let first_name = format!("{}.txt", unique_id("paused"));
    // 2 MB in 16 KiB chunks: far too long to finish before the pause.
    let (first, first_handle) = mount_widget(file(&first_name, 2_000_000), 16 * 1024);
    let second_name = format!("{}.txt", unique_id("next"));
    let (second, second_handle) = mount_widget(file(&second_name, 400_000), 16 * 1024);
    wait_phase(&first, "uploading").await;
    wait_phase(&second, "queued").await;
    assert_eq!(
        spy_creations_of(&second_name),
        0,
        "nothing sent while waiting"
    );

    click(&first, "upr__pause");
    wait_phase(&first, "paused").await;
    wait_phase(&second, "uploading").await;
    assert_eq!(spy_creations_of(&second_name), 1);

    // The slot is taken now: Resume puts the paused upload back in line.
    click(&first, "upr__resume");
    wait_phase(&first, "queued").await;
    assert_waiting(&first);
    wait_attr(&second, "data-state", "completed", 30_000.0).await;
    wait_attr(&first, "data-state", "completed", 60_000.0).await;
    assert_eq!(
        spy_creations_of(&first_name),
        1,
        "the resumed upload continued, it was not created again"
    );
    assert_eq!(spy_number("peak"), 1, "one at a time with a limit of 1");
    drop(first_handle);
    drop(second_handle);
    set_upload_limit(3);
}

#[wasm_bindgen_test]
fn a_limit_of_zero_counts_as_one() {
    set_upload_limit(0);
    assert_eq!(upload_limit(), 1);
    set_upload_limit(3);
    assert_eq!(upload_limit(), 3);
}
