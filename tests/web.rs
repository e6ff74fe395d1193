//! Browser tests of the component, the hook and the embed API.
//!
//! Most tests run against a real dev server whose URL is given at build time
//! (`UPR_TEST_SERVER`, and `UPR_TEST_ADMIN_TOKEN` for fault injection); they
//! fail with a clear message when it is missing. Each one checks the DOM and
//! the server's own per-job counters (`GET /ws/stats/detailed`). Those
//! counters count a job's own socket and polls, so the widgets here follow
//! with `shared = false` (a one-job session each); what many widgets over
//! the page-wide connection show is tested in `page.rs`. The render
//! tests need no server. The last test follows a job on the FastAPI example
//! (`examples/fastapi/`, started with `--allow-loopback-origins
//! --test-endpoints`, its URL in `UPR_TEST_FASTAPI`) and fails without it.
#![cfg(target_arch = "wasm32")]

mod support;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use leptos::prelude::*;
use serde_json::json;
use support::*;
use upload_progress_robust::{
    mount_upload_progress, register_upload_progress_element, Connection, ErrorKind, JobState,
    Labels, Mode, Progress, SessionOptions, Stage, StageStatus, Status, StatusError, TokenProvider,
    UploadProgressRobust, UploadProgressView,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the component for job `id` into a fresh container.
fn mount_widget(
    id: &str,
    token: &str,
    options: SessionOptions,
) -> (
    Element,
    leptos::mount::UnmountHandle<impl leptos::tachys::view::Mountable>,
) {
    let host = container();
    let id = id.to_owned();
    let token = token.to_owned();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=id
                filename="report.pdf"
                token=token
                ws_base=ws_base()
                http_base=server()
                session_options=options
            />
        }
    });
    (host.into(), handle)
}

fn parse_seqs(values: &[String]) -> Vec<u64> {
    values.iter().filter_map(|v| v.parse().ok()).collect()
}

fn assert_increasing(what: &str, values: &[u64], strict: bool) {
    for pair in values.windows(2) {
        let ok = if strict {
            pair[1] > pair[0]
        } else {
            pair[1] >= pair[0]
        };
        assert!(
            ok,
            "{what} went from {} to {}: {values:?}",
            pair[0], pair[1]
        );
    }
}

#[wasm_bindgen_test]
async fn progress_reaches_the_final_state_with_every_stage() {
    clear_faults().await;
    let id = unique_id("complete");
    let token = start_job(&id, 100, 3).await;
    let (host, handle) = mount_widget(&id, &token, fast_options());
    let seqs = AttrHistory::watch(
        &wait_for("widget", 5_000.0, || widget(&host)).await,
        "data-seq",
    );

    wait_attr(&host, "data-state", "completed", 20_000.0).await;
    wait_attr(&host, "data-connection", "finished", 5_000.0).await;

    let root = widget(&host).unwrap();
    assert_eq!(
        root.get_attribute("data-process-id").as_deref(),
        Some(id.as_str()),
        "the widget names its job"
    );
    let stages = root.query_selector_all(".upr__stage").unwrap();
    assert_eq!(stages.length(), 4, "every stage is listed");
    for i in 0..stages.length() {
        let stage: Element = stages.item(i).unwrap().unchecked_into();
        assert_eq!(
            stage.get_attribute("data-status").as_deref(),
            Some("done"),
            "stage {i} is done"
        );
    }
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("100"));
    assert_eq!(bar.get_attribute("aria-valuetext").as_deref(), Some("100%"));
    assert_eq!(text(&host, ".upr__filename"), "report.pdf");
    assert!(
        root.query_selector(".upr__reconnect").unwrap().is_none(),
        "no Reconnect button once the job is over"
    );
    assert_increasing("rendered seq", &parse_seqs(&seqs.values()), true);

    let s = wait_for_stats("the socket to close after completion", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
    assert_eq!(s.ws_opened, 1, "one socket for the whole job: {s:?}");
    assert_eq!(
        s.http_requests, 0,
        "no polling while the socket worked: {s:?}"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn refused_upgrades_fall_back_to_polling_and_still_complete() {
    clear_faults().await;
    fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60_000})).await;
    let id = unique_id("refused");
    let token = start_job(&id, 150, 4).await;
    let options = SessionOptions {
        max_retries: 1,
        ..fast_options()
    };
    let (host, handle) = mount_widget(&id, &token, options);

    wait_attr(&host, "data-mode", "http_polling", 15_000.0).await;
    assert!(
        widget(&host)
            .unwrap()
            .query_selector(".upr__reconnect")
            .unwrap()
            .is_some(),
        "Reconnect is offered while polling"
    );
    wait_attr(&host, "data-state", "completed", 30_000.0).await;

    let s = stats(&id).await;
    clear_faults().await;
    assert_eq!(s.ws_opened, 0, "every upgrade was refused: {s:?}");
    assert!(s.http_requests >= 1, "progress came by polling: {s:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn dropped_sockets_reconnect_without_duplicate_or_regressed_progress() {
    clear_faults().await;
    let id = unique_id("dropped");
    let token = start_job(&id, 150, 6).await;
    let (host, handle) = mount_widget(&id, &token, fast_options());
    let root = wait_for("widget", 5_000.0, || widget(&host)).await;
    let seqs = AttrHistory::watch(&root, "data-seq");
    let percents = AttrHistory::watch(&root, "data-percent");

    wait_for("a few updates over the socket", 10_000.0, || {
        let seq: u64 = attr(&host, "data-seq")?
            .parse()
            .map_err(|_| "seq".to_owned())?;
        let conn = attr(&host, "data-connection")?;
        if seq >= 2 && conn == "connected" {
            Ok(())
        } else {
            Err(format!("seq {seq}, connection {conn}"))
        }
    })
    .await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host, "data-state", "completed", 30_000.0).await;

    let seq_values = parse_seqs(&seqs.values());
    assert_increasing("rendered seq", &seq_values, true);
    assert_increasing("rendered percent", &parse_seqs(&percents.values()), false);
    let s = stats(&id).await;
    assert!(
        s.ws_opened >= 2,
        "the socket was reopened after the drop: {s:?}"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_stalled_socket_is_detected_by_the_heartbeat_and_recovered() {
    clear_faults().await;
    let id = unique_id("stalled");
    let token = start_job(&id, 250, 6).await;
    let options = SessionOptions {
        heartbeat_interval_ms: 300,
        pong_timeout_ms: 400,
        ..fast_options()
    };
    let (host, handle) = mount_widget(&id, &token, options);
    let root = wait_for("widget", 5_000.0, || widget(&host)).await;
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    let connections = AttrHistory::watch(&root, "data-connection");

    fault(json!({"action": "stall_sockets", "duration_ms": 1_500})).await;
    wait_for_stats("a second socket after the stall", &id, 15_000.0, |s| {
        s.ws_opened >= 2
    })
    .await;
    wait_attr(&host, "data-state", "completed", 30_000.0).await;
    clear_faults().await;

    let seen = connections.values();
    assert!(
        seen.iter().any(|c| c != "connected" && c != "finished"),
        "the stall showed as a lost connection: {seen:?}"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn manual_reconnect_connects_at_once_and_resets_the_backoff() {
    clear_faults().await;
    let id = unique_id("manual");
    let token = start_job(&id, 400, 10).await;
    let options = SessionOptions {
        initial_retry_ms: 60_000,
        max_retry_ms: 60_000,
        max_retries: 5,
        stable_after_ms: 600_000,
        ..fast_options()
    };
    let (host, handle) = mount_widget(&id, &token, options);
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;

    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host, "data-connection", "reconnecting", 10_000.0).await;
    assert_eq!(attr(&host, "data-attempt").unwrap(), "1");
    let countdown = text(&host, ".upr__connection-text");
    assert!(
        countdown.contains("60 s") || countdown.contains("59 s"),
        "the long backoff is shown: {countdown}"
    );
    let button: web_sys::HtmlElement = widget(&host)
        .unwrap()
        .query_selector("button.upr__reconnect")
        .unwrap()
        .expect("a Reconnect button while reconnecting")
        .unchecked_into();
    button.click();
    wait_attr(&host, "data-connection", "connected", 5_000.0).await;
    let s = stats(&id).await;
    assert_eq!(
        s.ws_opened, 2,
        "Reconnect opened exactly one new socket: {s:?}"
    );

    // A reset backoff counts attempts from 1 again.
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host, "data-connection", "reconnecting", 10_000.0).await;
    assert_eq!(
        attr(&host, "data-attempt").unwrap(),
        "1",
        "the attempt count starts over after a manual Reconnect"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn rerendering_the_parent_and_changing_the_filename_open_no_new_socket() {
    clear_faults().await;
    let id = unique_id("rerender");
    let token = start_job(&id, 300, 10).await;
    let host = container();
    let (filename, set_filename) = signal("first.pdf".to_owned());
    // The parent's children: row 0 is the widget, the others plain rows.
    // Every change re-renders the keyed list around the widget, inserting
    // and removing its siblings and so moving its element.
    let (rows, set_rows) = signal(vec![0u32]);
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let widget_id = widget_id.clone();
        let token = token.clone();
        view! {
            <div class="parent">
                <For each=move || rows.get() key=|row| *row let:row>
                    {if row == 0 {
                        view! {
                            <UploadProgressRobust
                                // A one-job session: the test reads its per-job server counters.
                                shared=false
                                process_id=widget_id.clone()
                                filename=filename
                                token=token.clone()
                                ws_base=ws_base()
                                http_base=server()
                                session_options=fast_options()
                            />
                        }
                            .into_any()
                    } else {
                        view! { <p class="parent__row">{format!("row {row}")}</p> }.into_any()
                    }}
                </For>
            </div>
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    let root = widget(&host).unwrap();

    for i in 1..=5u32 {
        set_rows.set(if i % 2 == 1 {
            vec![i, 0, 100 + i]
        } else {
            vec![0, i]
        });
        set_filename.set(format!("renamed-{i}.pdf"));
        sleep(50).await;
    }
    let rows_shown = host.query_selector_all(".parent__row").unwrap().length();
    assert_eq!(rows_shown, 2, "the parent re-rendered its list");
    assert!(
        root.is_same_node(Some(&widget(&host).unwrap())),
        "the widget was moved, not rebuilt"
    );
    wait_for("the new file name", 5_000.0, || {
        let shown = text(&host, ".upr__filename");
        if shown == "renamed-5.pdf" {
            Ok(())
        } else {
            Err(shown)
        }
    })
    .await;
    // The moved widget still follows the job.
    let seq: u64 = attr(&host, "data-seq").unwrap().parse().unwrap_or(0);
    wait_for("a newer seq after the re-renders", 5_000.0, || {
        let now: u64 = attr(&host, "data-seq").unwrap().parse().unwrap_or(0);
        if now > seq {
            Ok(())
        } else {
            Err(format!("still {now}"))
        }
    })
    .await;
    let s = stats(&id).await;
    assert_eq!(s.ws_opened, 1, "no reconnect on re-render or rename: {s:?}");
    assert_eq!(s.ws_active, 1, "the one socket is still open: {s:?}");
    assert_eq!(attr(&host, "data-connection").unwrap(), "connected");
    drop(handle);
    wait_for_stats("no socket after unmount", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn changing_the_process_id_closes_the_old_session_and_follows_the_new_job() {
    clear_faults().await;
    let first = unique_id("first");
    let second = unique_id("second");
    let first_token = start_job(&first, 300, 10).await;
    let _ = start_job(&second, 100, 2).await;
    // Tokens belong to one job: when the server checks them, the second job
    // gets its own from the provider after the first job's token is refused.
    let host = container();
    let (process_id, set_process_id) = signal(first.clone());
    let provider = TokenProvider::new(move || {
        let id = process_id.get_untracked();
        async move { fresh_token(&id, 600).await }
    });
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=process_id
                token=first_token.clone()
                token_provider=provider.clone()
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    set_process_id.set(second.clone());
    wait_for_stats("the first job's socket to close", &first, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
    wait_attr(&host, "data-state", "completed", 20_000.0).await;
    let s2 = stats(&second).await;
    assert!(
        s2.ws_opened >= 1,
        "the second job was followed over a socket: {s2:?}"
    );
    let s1 = stats(&first).await;
    assert_eq!(s1.ws_opened, 1, "the first job had one socket: {s1:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn unmount_closes_the_socket() {
    clear_faults().await;
    let id = unique_id("unmount");
    let token = start_job(&id, 400, 10).await;
    let (host, handle) = mount_widget(&id, &token, fast_options());
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    wait_for_stats("the socket to be counted", &id, 5_000.0, |s| {
        s.ws_active == 1
    })
    .await;
    drop(handle);
    assert!(widget(&host).is_err(), "the markup is gone");
    let s = wait_for_stats("the socket to close", &id, 5_000.0, |s| s.ws_active == 0).await;
    assert_eq!(s.ws_opened, 1, "{s:?}");
}

#[wasm_bindgen_test]
async fn unmount_stops_polling() {
    clear_faults().await;
    fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60_000})).await;
    let id = unique_id("unpoll");
    let token = start_job(&id, 500, 10).await;
    let options = SessionOptions {
        max_retries: 1,
        poll_interval_ms: 150,
        ..fast_options()
    };
    let (host, handle) = mount_widget(&id, &token, options);
    wait_attr(&host, "data-mode", "http_polling", 15_000.0).await;
    wait_for_stats("a few polls", &id, 5_000.0, |s| s.http_requests >= 3).await;
    drop(handle);
    // Let a poll that was already on the wire land, then watch several intervals.
    sleep(300).await;
    let before = stats(&id).await;
    sleep(1_000).await;
    let after = stats(&id).await;
    clear_faults().await;
    assert_eq!(
        before.http_requests, after.http_requests,
        "no polls after unmount (interval 150 ms, watched 1 s)"
    );
    assert_eq!(after.ws_active, 0);
}

#[wasm_bindgen_test]
async fn a_parent_that_rebuilds_the_widget_leaves_exactly_one_socket() {
    clear_faults().await;
    let id = unique_id("rebuild");
    let token = start_job(&id, 300, 10).await;
    let host = container();
    let (renders, set_renders) = signal(0u32);
    let widget_id = id.clone();
    // The closure re-runs on every change of `renders` and builds a new
    // widget each time: the old one must let go of its socket.
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let widget_id = widget_id.clone();
        let token = token.clone();
        view! {
            {move || {
                let n = renders.get();
                view! {
                    <div class="parent" data-renders=n.to_string()>
                        <UploadProgressRobust
                            // A one-job session: the test reads its per-job server counters.
                            shared=false
                            process_id=widget_id.clone()
                            token=token.clone()
                            ws_base=ws_base()
                            http_base=server()
                            session_options=fast_options()
                        />
                    </div>
                }
            }}
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    for i in 1..=3 {
        set_renders.set(i);
        let want = i.to_string();
        wait_for("the parent to rebuild the widget", 5_000.0, || {
            let shown = host
                .query_selector(".parent")
                .ok()
                .flatten()
                .and_then(|p| p.get_attribute("data-renders"));
            if shown.as_deref() == Some(want.as_str()) {
                Ok(())
            } else {
                Err(format!("{shown:?}"))
            }
        })
        .await;
        wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    }
    let s = wait_for_stats("one socket after the rebuilds", &id, 5_000.0, |s| {
        s.ws_active == 1
    })
    .await;
    assert_eq!(s.ws_opened, 4, "one socket per widget built: {s:?}");
    drop(handle);
    wait_for_stats("no socket after unmount", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn mount_unmount_remount_leaves_exactly_one_socket() {
    clear_faults().await;
    let id = unique_id("remount");
    let token = start_job(&id, 400, 10).await;
    let (_, first) = mount_widget(&id, &token, fast_options());
    drop(first);
    let (_, second) = mount_widget(&id, &token, fast_options());
    sleep(10).await;
    drop(second);
    let (host, third) = mount_widget(&id, &token, fast_options());
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    wait_for_stats("exactly one open socket", &id, 5_000.0, |s| {
        s.ws_active == 1
    })
    .await;
    let settled = stats(&id).await;
    sleep(500).await;
    let s = stats(&id).await;
    assert_eq!(s.ws_active, 1, "still exactly one socket: {s:?}");
    // At most one socket per mount (the first two may be closed before
    // their upgrade reaches the server), and none opened afterwards.
    assert!(s.ws_opened <= 3, "one socket per mount at most: {s:?}");
    assert_eq!(
        s.ws_opened, settled.ws_opened,
        "no socket after settling: {s:?}"
    );
    drop(third);
    wait_for_stats("no socket after the last unmount", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_embed_api_mounts_and_unmounts_in_a_plain_element() {
    clear_faults().await;
    let id = unique_id("embed");
    let token = start_job(&id, 100, 3).await;
    let host = container();
    let completed = Rc::new(Cell::new(0u32));
    let seen = completed.clone();
    let on_complete = Closure::<dyn Fn(wasm_bindgen::JsValue)>::new(move |_| {
        seen.set(seen.get() + 1);
    });
    let options = js_sys::Object::new();
    let set = |k: &str, v: wasm_bindgen::JsValue| {
        js_sys::Reflect::set(&options, &k.into(), &v).unwrap();
    };
    set("processId", id.as_str().into());
    set("filename", "embedded.csv".into());
    set("wsBase", ws_base().into());
    set("httpBase", server().into());
    set("token", token.as_str().into());
    set("maxRetries", 2.into());
    // A one-job session: the test counts the job's own socket.
    set("shared", false.into());
    set("onComplete", on_complete.as_ref().clone());
    let mut handle = mount_upload_progress(host.clone(), options.into()).expect("mounts");
    let host_el: Element = host.clone().into();

    wait_attr(&host_el, "data-state", "completed", 20_000.0).await;
    assert_eq!(text(&host_el, ".upr__filename"), "embedded.csv");
    wait_for("onComplete", 2_000.0, || {
        if completed.get() == 1 {
            Ok(())
        } else {
            Err(format!("called {} times", completed.get()))
        }
    })
    .await;
    assert!(handle.mounted());
    handle.unmount();
    assert!(!handle.mounted());
    assert_eq!(host.child_element_count(), 0, "unmount removed the markup");
    let s = wait_for_stats("no socket after unmount", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
    assert_eq!(s.ws_opened, 1, "{s:?}");

    // Bad options are an error, not a panic.
    let bad = mount_upload_progress(container(), js_sys::Object::new().into());
    assert!(bad.is_err(), "processId is required");
}

/// Plain options for the embed API following `id` with `token`.
fn embed_options(id: &str, token: &str) -> wasm_bindgen::JsValue {
    let options = js_sys::Object::new();
    for (k, v) in [
        ("processId", id.to_owned()),
        ("wsBase", ws_base()),
        ("httpBase", server()),
        ("token", token.to_owned()),
    ] {
        js_sys::Reflect::set(&options, &k.into(), &v.into()).unwrap();
    }
    // A one-job session: these tests count the job's own socket.
    js_sys::Reflect::set(&options, &"shared".into(), &false.into()).unwrap();
    options.into()
}

#[wasm_bindgen_test]
async fn an_embedded_widget_outlives_its_handle_and_a_second_mount_replaces_it() {
    clear_faults().await;
    let first = unique_id("embed_keep");
    // Slow enough to be still running when the second mount comes.
    let first_token = start_job(&first, 400, 10).await;
    let host = container();
    let host_el: Element = host.clone().into();
    // A page that ignores the handle (or whose handle is collected) must
    // keep a working widget.
    drop(mount_upload_progress(host.clone(), embed_options(&first, &first_token)).expect("mounts"));
    wait_attr(&host_el, "data-connection", "connected", 10_000.0).await;
    assert_eq!(stats(&first).await.ws_active, 1, "still following");

    // Mounting into the same element again replaces the widget there:
    // the first job's socket closes, one socket follows the second job.
    let second = unique_id("embed_again");
    let second_token = start_job(&second, 150, 3).await;
    let mut handle =
        mount_upload_progress(host.clone(), embed_options(&second, &second_token)).expect("mounts");
    wait_for_stats(
        "the replaced widget's socket closed",
        &first,
        5_000.0,
        |s| s.ws_active == 0,
    )
    .await;
    wait_attr(&host_el, "data-state", "completed", 20_000.0).await;
    assert_eq!(host.child_element_count(), 1, "one widget in the element");
    assert_eq!(stats(&second).await.ws_opened, 1);
    handle.unmount();
    assert_eq!(host.child_element_count(), 0, "unmount removed the markup");
}

#[wasm_bindgen_test]
async fn the_custom_element_mounts_on_connect_and_unmounts_on_disconnect() {
    clear_faults().await;
    let id = unique_id("element");
    let token = start_job(&id, 400, 10).await;
    register_upload_progress_element();
    assert!(
        !register_upload_progress_element(),
        "a second registration is a no-op"
    );
    let document = web_sys::window().unwrap().document().unwrap();
    let element = document.create_element("upload-progress-robust").unwrap();
    element.set_attribute("process-id", &id).unwrap();
    element.set_attribute("filename", "element.bin").unwrap();
    // A one-job session: the test counts the job's own socket.
    element.set_attribute("shared", "false").unwrap();
    element.set_attribute("token", &token).unwrap();
    element.set_attribute("ws-base", &ws_base()).unwrap();
    element.set_attribute("http-base", &server()).unwrap();
    document.body().unwrap().append_child(&element).unwrap();

    wait_attr(&element, "data-connection", "connected", 10_000.0).await;
    element.set_attribute("filename", "renamed.bin").unwrap();
    wait_for("the new file name", 2_000.0, || {
        let t = text(&element, ".upr__filename");
        if t == "renamed.bin" {
            Ok(())
        } else {
            Err(t)
        }
    })
    .await;
    assert_eq!(stats(&id).await.ws_opened, 1, "a rename does not reconnect");
    element.remove();
    assert!(
        widget(&element).is_err(),
        "disconnecting removed the markup"
    );
    wait_for_stats("no socket after removal", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
}

#[wasm_bindgen_test]
async fn an_expired_token_is_refreshed_and_the_job_completes() {
    clear_faults().await;
    let id = unique_id("token");
    start_job(&id, 150, 4).await;
    let expired = fresh_token(&id, 1)
        .await
        .expect("POST /api/uploads/{id}/token?ttl_s=1 answers a token");
    // Token lifetimes are whole seconds; wait until this one is surely past.
    sleep(2_200).await;
    let rejected_before = unauthorized_count().await;

    let calls = Rc::new(Cell::new(0u32));
    let counted = calls.clone();
    let provider_id = id.clone();
    let provider = TokenProvider::new(move || {
        counted.set(counted.get() + 1);
        let id = provider_id.clone();
        async move { fresh_token(&id, 600).await }
    });
    let host = container();
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=expired.clone()
                token_provider=provider.clone()
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-state", "completed", 20_000.0).await;

    let rejected_after = unauthorized_count().await;
    assert!(
        rejected_after > rejected_before && rejected_before.is_some(),
        "the server must reject the expired token (run it with --require-token); \
         unauthorized before {rejected_before:?}, after {rejected_after:?}"
    );
    assert!(calls.get() >= 1, "the token provider was asked");
    let s = stats(&id).await;
    assert!(
        s.ws_opened >= 1,
        "a socket opened with the fresh token: {s:?}"
    );
    drop(handle);
}

// ---- Render tests: no server needed. ----

fn sample_progress(stage_index: u32, percent: f64, state: JobState) -> Progress {
    let names = [
        ("upload", "Upload received"),
        ("text_extraction", "Text extraction"),
        ("analysis", "Analysis"),
        ("report", "Report"),
    ];
    Progress {
        process_id: "render_job".parse().unwrap(),
        seq: 7,
        state,
        stage: Some(names[stage_index as usize].0.to_owned()),
        stage_index,
        stage_count: 4,
        stages: names
            .iter()
            .enumerate()
            .map(|(i, (name, label))| Stage {
                name: (*name).to_owned(),
                label: (*label).to_owned(),
                status: match (i as u32).cmp(&stage_index) {
                    std::cmp::Ordering::Less => StageStatus::Done,
                    std::cmp::Ordering::Equal => StageStatus::Active,
                    std::cmp::Ordering::Greater => StageStatus::Pending,
                },
            })
            .collect(),
        percent,
        message: "Extracting text and images...".to_owned(),
        error: None,
        updated_at_ms: 0,
    }
}

fn status(mode: Mode, connection: Connection, last_update_at: Option<u64>) -> Status {
    Status {
        mode,
        connection,
        last_update_at,
        last_heard_at: last_update_at,
        latency_ms: None,
        last_error: None,
    }
}

#[wasm_bindgen_test]
async fn a_reconnecting_status_renders_the_countdown_stage_and_aria_text() {
    let host = container();
    let (now, set_now) = signal(6_000u64);
    let progress = sample_progress(1, 40.0, JobState::Running);
    let st = status(
        Mode::None,
        Connection::Reconnecting {
            attempt: 2,
            max_attempts: 3,
            retry_at: 10_500,
        },
        Some(3_000),
    );
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressView
                progress=Signal::stored(Some(progress.clone()))
                status=Signal::stored(st.clone())
                filename="scan.pdf"
                clock=now
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "reconnecting", 2_000.0).await;
    let root = widget(&host).unwrap();
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(
        bar.get_attribute("aria-valuetext").as_deref(),
        Some("Stage 2 of 4: Text extraction, 40%")
    );
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("40"));
    assert_eq!(bar.get_attribute("aria-valuemin").as_deref(), Some("0"));
    assert_eq!(bar.get_attribute("aria-valuemax").as_deref(), Some("100"));
    assert_eq!(
        text(&host, ".upr__connection-text"),
        "Connection lost. Reconnecting in 5 s (attempt 2 of 3)"
    );
    let live = root.query_selector("[aria-live=polite]").unwrap().unwrap();
    assert!(live
        .text_content()
        .unwrap_or_default()
        .contains("Reconnecting"));
    assert_eq!(attr(&host, "data-attempt").unwrap(), "2");
    assert_eq!(attr(&host, "data-seq").unwrap(), "7");
    let statuses: Vec<String> = {
        let list = root.query_selector_all(".upr__stage").unwrap();
        (0..list.length())
            .map(|i| {
                list.item(i)
                    .unwrap()
                    .unchecked_into::<Element>()
                    .get_attribute("data-status")
                    .unwrap_or_default()
            })
            .collect()
    };
    assert_eq!(statuses, ["done", "current", "pending", "pending"]);
    assert_eq!(
        text(&host, ".upr__message"),
        "Extracting text and images..."
    );
    assert_eq!(text(&host, ".upr__age"), "Updated 3 s ago");
    assert!(root
        .query_selector("button.upr__reconnect")
        .unwrap()
        .is_some());

    // The clock ticks: data age and countdown follow.
    set_now.set(8_000);
    wait_for("the ticking age", 2_000.0, || {
        let age = text(&host, ".upr__age");
        if age == "Updated 5 s ago" {
            Ok(())
        } else {
            Err(age)
        }
    })
    .await;
    assert_eq!(
        text(&host, ".upr__connection-text"),
        "Connection lost. Reconnecting in 3 s (attempt 2 of 3)"
    );
    assert_eq!(
        live.text_content().unwrap_or_default().trim(),
        "Connection lost. Reconnecting in 5 s (attempt 2 of 3)",
        "the live region is not re-announced on every tick"
    );
    drop(handle);
}

/// An update writes only what changed: a new `seq` alone touches
/// `data-seq` and nothing else, a new percent only the places that show it,
/// and a status that does not change what is shown writes nothing.
#[wasm_bindgen_test]
async fn an_update_writes_only_the_values_that_changed() {
    let host = container();
    let first = sample_progress(1, 40.0, JobState::Running);
    let (progress, set_progress) = signal(Some(first.clone()));
    let (st, set_st) = signal(status(Mode::WebSocket, Connection::Connected, Some(1_000)));
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressView
                progress=progress
                status=st
                filename="scan.pdf"
                clock=Signal::stored(2_000u64)
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-seq", "7", 2_000.0).await;
    let root = widget(&host).unwrap();
    let log = MutationLog::watch(&root);

    set_progress.set(Some(Progress {
        seq: 8,
        ..first.clone()
    }));
    wait_attr(&host, "data-seq", "8", 2_000.0).await;
    assert_eq!(log.take(), ["upr upr--connected data-seq"]);

    set_progress.set(Some(Progress {
        seq: 9,
        percent: 41.0,
        ..first.clone()
    }));
    wait_attr(&host, "data-percent", "41", 2_000.0).await;
    let mut changed = log.take();
    changed.sort();
    assert_eq!(
        changed,
        [
            "upr upr--connected data-percent",
            "upr upr--connected data-seq",
            "upr__bar aria-valuenow",
            "upr__bar aria-valuetext",
            "upr__bar-fill style",
            "upr__percent childList",
        ]
    );

    // Heard again, nothing new to show: the status changes, the page not.
    set_st.set(Status {
        last_heard_at: Some(1_500),
        ..status(Mode::WebSocket, Connection::Connected, Some(1_000))
    });
    set_progress.set(Some(Progress {
        seq: 10,
        percent: 41.0,
        ..first
    }));
    wait_attr(&host, "data-seq", "10", 2_000.0).await;
    assert_eq!(log.take(), ["upr upr--connected data-seq"]);
    drop(handle);
}

/// A parent that re-renders builds a new view in place of the old one; the
/// new view follows its own inputs from then on, even when its first markup
/// is the same as the old view's.
#[wasm_bindgen_test]
async fn a_view_rebuilt_by_its_parent_follows_its_own_inputs() {
    let host = container();
    let first = sample_progress(1, 40.0, JobState::Running);
    let (progress, set_progress) = signal(Some(first.clone()));
    let (round, set_round) = signal(0u32);
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            {move || {
                let n = round.get();
                view! {
                    <div class="parent" data-round=n.to_string()>
                        <UploadProgressView
                            progress=progress
                            status=Signal::stored(status(Mode::WebSocket, Connection::Connected, Some(1_000)))
                            filename="same.pdf"
                            clock=Signal::stored(2_000u64)
                        />
                    </div>
                }
            }}
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-seq", "7", 2_000.0).await;
    set_round.set(1);
    wait_for("the parent to re-render", 2_000.0, || {
        let round = host
            .query_selector(".parent")
            .ok()
            .flatten()
            .and_then(|p| p.get_attribute("data-round"));
        if round.as_deref() == Some("1") {
            Ok(())
        } else {
            Err(format!("{round:?}"))
        }
    })
    .await;
    set_progress.set(Some(Progress { seq: 8, ..first }));
    wait_attr(&host, "data-seq", "8", 2_000.0).await;
    assert_eq!(host.query_selector_all(".upr").unwrap().length(), 1);
    drop(handle);
}

#[wasm_bindgen_test]
async fn an_error_renders_an_alert_with_translated_labels() {
    let host = container();
    let error = StatusError {
        kind: ErrorKind::Auth,
        message: "token expired".to_owned(),
        hint: "get a new one".to_owned(),
    };
    let labels = Labels {
        reconnect: "Neu verbinden".to_owned(),
        error_auth: "Zugang abgelaufen.".to_owned(),
        hint_auth: "Bitte neu anmelden.".to_owned(),
        ..Labels::default()
    };
    let (st, set_st) = signal(status(
        Mode::None,
        Connection::Stopped { error: Some(error) },
        None,
    ));
    let clicks = Arc::new(AtomicU32::new(0));
    let counted = clicks.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let counted = counted.clone();
        view! {
            <UploadProgressView
                progress=Signal::stored(None)
                status=st
                labels=labels.clone()
                on_reconnect=Callback::new(move |()| {
                    counted.fetch_add(1, Ordering::SeqCst);
                })
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "error", 2_000.0).await;
    let root = widget(&host).unwrap();
    let alert = root.query_selector("[role=alert]").unwrap().unwrap();
    assert_eq!(
        alert.text_content().unwrap_or_default(),
        "Zugang abgelaufen. Bitte neu anmelden."
    );
    let button = root
        .query_selector("button.upr__reconnect")
        .unwrap()
        .unwrap();
    assert_eq!(button.text_content().unwrap_or_default(), "Neu verbinden");
    button.unchecked_ref::<web_sys::HtmlElement>().click();
    assert_eq!(
        clicks.load(Ordering::SeqCst),
        1,
        "the button calls on_reconnect"
    );
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(
        bar.get_attribute("aria-valuenow"),
        None,
        "unknown progress has no value"
    );
    assert_eq!(attr(&host, "data-state").unwrap(), "unknown");

    // Live again: no button, no alert.
    set_st.set(status(Mode::WebSocket, Connection::Connected, None));
    wait_attr(&host, "data-connection", "connected", 2_000.0).await;
    assert!(root
        .query_selector("button.upr__reconnect")
        .unwrap()
        .is_none());
    assert_eq!(alert.text_content().unwrap_or_default(), "");
    assert_eq!(attr(&host, "data-mode").unwrap(), "websocket");
    drop(handle);
}

#[wasm_bindgen_test]
async fn an_invalid_process_id_is_an_error_without_any_request() {
    let host = container();
    let errors = Arc::new(Mutex::new(Vec::<ErrorKind>::new()));
    let seen = errors.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        let seen = seen.clone();
        view! {
            <UploadProgressRobust
                process_id="../not a valid id"
                ws_base="ws://127.0.0.1:9"
                http_base="http://127.0.0.1:9"
                on_error=move |e: StatusError| seen.lock().unwrap().push(e.kind)
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "error", 2_000.0).await;
    assert_eq!(attr(&host, "data-mode").unwrap(), "none");
    let alert = text(&host, "[role=alert]");
    assert!(alert.contains(&Labels::default().error_policy), "{alert}");
    assert_eq!(
        *errors.lock().unwrap(),
        [ErrorKind::Policy],
        "on_error was told once"
    );
    drop(handle);
}

fn dispatch_window_event(kind: &str) {
    let window = web_sys::window().unwrap();
    let event = web_sys::Event::new(kind).unwrap();
    window.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn page_lifecycle_events_pause_close_and_resume_the_session() {
    clear_faults().await;
    let id = unique_id("lifecycle");
    let token = start_job(&id, 400, 10).await;
    let (host, handle) = mount_widget(&id, &token, fast_options());
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;

    // Offline: an open socket is kept, but a lost one is not retried.
    dispatch_window_event("offline");
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host, "data-connection", "offline", 5_000.0).await;
    sleep(600).await;
    let s = stats(&id).await;
    assert_eq!(
        s.ws_opened, 1,
        "no retries while offline (retry delay is 100 ms): {s:?}"
    );
    dispatch_window_event("online");
    wait_attr(&host, "data-connection", "connected", 5_000.0).await;
    assert_eq!(stats(&id).await.ws_opened, 2, "online reconnected once");

    // pagehide closes the socket (back/forward cache); pageshow reopens it.
    // Counted relative to now: the server's count of dropped sockets lags.
    let open_before = stats(&id).await.ws_active;
    dispatch_window_event("pagehide");
    wait_for_stats("the socket to close on pagehide", &id, 5_000.0, |s| {
        s.ws_active + 1 == open_before
    })
    .await;
    dispatch_window_event("pageshow");
    wait_attr(&host, "data-connection", "connected", 5_000.0).await;
    let s = wait_for_stats("one socket again after pageshow", &id, 5_000.0, |s| {
        s.ws_active == open_before
    })
    .await;
    assert_eq!(s.ws_opened, 3, "pageshow opened one new socket: {s:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_new_token_is_used_from_the_next_connection_without_teardown() {
    clear_faults().await;
    let id = unique_id("newtoken");
    let token = start_job(&id, 400, 10).await;
    let host = container();
    let (current, set_current) = signal(token);
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=current
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    // A token the server refuses: nothing happens until the next connection.
    set_current.set("not-a-valid-token".to_owned());
    sleep(300).await;
    let s = stats(&id).await;
    assert_eq!((s.ws_opened, s.ws_active), (1, 1), "no teardown: {s:?}");
    assert_eq!(attr(&host, "data-connection").unwrap(), "connected");
    fault(json!({"action": "drop_sockets"})).await;
    // The reconnect presents the new token; without a provider that ends
    // in an auth error, which proves which token was used.
    wait_attr(&host, "data-connection", "error", 10_000.0).await;
    assert!(
        text(&host, ".upr__error").contains(&Labels::default().error_auth),
        "{}",
        text(&host, ".upr__error")
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_new_socket_base_restarts_the_session_once() {
    clear_faults().await;
    let id = unique_id("newbase");
    let token = start_job(&id, 400, 10).await;
    let host = container();
    let (base, set_base) = signal(ws_base());
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=token.clone()
                ws_base=base
                http_base=server()
                session_options=fast_options()
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    // The same server spelled differently is still a new base.
    set_base.set(format!("{}/", ws_base()));
    let s = wait_for_stats("a second socket after the change", &id, 10_000.0, |s| {
        s.ws_opened == 2 && s.ws_active == 1
    })
    .await;
    sleep(500).await;
    assert_eq!(stats(&id).await, s, "exactly one restart: {s:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_custom_element_follows_its_token_and_base_attributes() {
    clear_faults().await;
    let id = unique_id("elattrs");
    let token = start_job(&id, 400, 10).await;
    register_upload_progress_element();
    let document = web_sys::window().unwrap().document().unwrap();
    let element = document.create_element("upload-progress-robust").unwrap();
    element.set_attribute("process-id", &id).unwrap();
    // A one-job session: the test counts the job's own sockets.
    element.set_attribute("shared", "false").unwrap();
    element.set_attribute("token", &token).unwrap();
    element.set_attribute("ws-base", &ws_base()).unwrap();
    element.set_attribute("http-base", &server()).unwrap();
    document.body().unwrap().append_child(&element).unwrap();
    wait_attr(&element, "data-connection", "connected", 10_000.0).await;

    // A new base remounts: one more socket, still one open.
    element
        .set_attribute("ws-base", &format!("{}/", ws_base()))
        .unwrap();
    wait_for_stats("the remount after a new ws-base", &id, 10_000.0, |s| {
        s.ws_opened == 2 && s.ws_active == 1
    })
    .await;
    wait_attr(&element, "data-connection", "connected", 10_000.0).await;

    // A new token is kept for the next connection, without a reconnect.
    element.set_attribute("token", "not-a-valid-token").unwrap();
    sleep(300).await;
    assert_eq!(
        stats(&id).await.ws_opened,
        2,
        "a token change does not reconnect"
    );
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&element, "data-connection", "error", 10_000.0).await;

    element.remove();
    wait_for_stats("no socket after removal", &id, 5_000.0, |s| {
        s.ws_active == 0
    })
    .await;
}

// ---- The FastAPI example (examples/fastapi/) as the backend: `UPR_TEST_FASTAPI`. ----

#[wasm_bindgen_test]
async fn a_job_on_the_fastapi_backend_survives_a_dropped_socket() {
    let id = unique_id("fastapi");
    // 24 steps of 150 ms: the job is still running well after the drop.
    start_fastapi_job(&id, 150, 6).await;
    let host = container();
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                filename="report.pdf"
                ws_base=ws_base_of(&fastapi())
                http_base=fastapi()
                session_options=fast_options()
            />
        }
    });
    let host: Element = host.into();
    let root = wait_for("widget", 5_000.0, || widget(&host)).await;
    let seqs = AttrHistory::watch(&root, "data-seq");
    let percents = AttrHistory::watch(&root, "data-percent");
    let connections = AttrHistory::watch(&root, "data-connection");

    wait_for("a few updates over the FastAPI socket", 10_000.0, || {
        let seq: u64 = attr(&host, "data-seq")?
            .parse()
            .map_err(|_| "seq".to_owned())?;
        let conn = attr(&host, "data-connection")?;
        if seq >= 2 && conn == "connected" {
            Ok(())
        } else {
            Err(format!("seq {seq}, connection {conn}"))
        }
    })
    .await;
    let before = fastapi_stats(&id).await;
    assert_eq!(
        before.ws_opened, 1,
        "one socket before the drop: {before:?}"
    );
    let dropped = fastapi_drop_sockets().await;
    assert!(
        dropped >= 1,
        "the FastAPI example dropped {dropped} sockets"
    );

    wait_attr(&host, "data-state", "completed", 30_000.0).await;
    wait_attr(&host, "data-connection", "finished", 5_000.0).await;

    // The widget shows the server's own final state, not an earlier one.
    let truth = fastapi_progress(&id).await;
    assert_eq!(
        truth["state"], "completed",
        "the job ended on the server: {truth}"
    );
    assert_eq!(
        attr(&host, "data-seq").unwrap(),
        truth["seq"].to_string(),
        "the widget shows the final seq"
    );
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("100"));
    let stages = root.query_selector_all(".upr__stage").unwrap();
    assert_eq!(stages.length(), 4, "every stage is listed");
    for i in 0..stages.length() {
        let stage: Element = stages.item(i).unwrap().unchecked_into();
        assert_eq!(
            stage.get_attribute("data-status").as_deref(),
            Some("done"),
            "stage {i} is done"
        );
    }

    assert_increasing("rendered seq", &parse_seqs(&seqs.values()), true);
    assert_increasing("rendered percent", &parse_seqs(&percents.values()), false);
    let connection_values = connections.values();
    let after_first_connect: Vec<&String> = connection_values
        .iter()
        .skip_while(|c| *c != "connected")
        .collect();
    assert!(
        after_first_connect
            .iter()
            .any(|c| !["connected", "finished"].contains(&c.as_str())),
        "the widget noticed the dropped socket: {connection_values:?}"
    );
    assert!(
        !connection_values
            .iter()
            .any(|c| c == "error" || c == "stopped"),
        "no error on the way: {connection_values:?}"
    );
    let s = fastapi_stats(&id).await;
    assert!(
        s.ws_opened >= 2,
        "the FastAPI example saw the socket reopened after the drop: {s:?}"
    );
    drop(handle);
}

/// The embed API's `labels` option: known names replace the defaults, the
/// rest keep theirs, and a value that is not a string is refused.
#[wasm_bindgen_test]
fn the_embed_api_takes_labels_by_name() {
    let labels = js_sys::Object::new();
    js_sys::Reflect::set(&labels, &"untitled".into(), &"Ohne Namen".into()).unwrap();
    js_sys::Reflect::set(&labels, &"reconnect".into(), &"Erneut verbinden".into()).unwrap();
    js_sys::Reflect::set(&labels, &"not_a_label".into(), &"ignored".into()).unwrap();
    let options = js_sys::Object::new();
    js_sys::Reflect::set(&options, &"processId".into(), &"labels_job".into()).unwrap();
    js_sys::Reflect::set(&options, &"httpBase".into(), &"http://127.0.0.1:9".into()).unwrap();
    js_sys::Reflect::set(&options, &"wsBase".into(), &"ws://127.0.0.1:9".into()).unwrap();
    js_sys::Reflect::set(&options, &"autoRetry".into(), &false.into()).unwrap();
    js_sys::Reflect::set(&options, &"labels".into(), &labels).unwrap();
    let host = container();
    let mut handle = mount_upload_progress(host.clone(), options.clone().into()).expect("mounts");
    let host_el: Element = host.clone().into();
    assert_eq!(text(&host_el, ".upr__filename"), "Ohne Namen");
    assert_eq!(
        text(&host_el, "[role=progressbar]"),
        "",
        "the bar renders with its labels"
    );
    let bar = host_el
        .query_selector("[role=progressbar]")
        .unwrap()
        .unwrap();
    assert_eq!(
        bar.get_attribute("aria-label").as_deref(),
        Some(Labels::default().progress_label.as_str()),
        "labels not given keep their defaults"
    );
    handle.unmount();

    js_sys::Reflect::set(&labels, &"reconnect".into(), &3.into()).unwrap();
    assert!(
        mount_upload_progress(container(), options.clone().into()).is_err(),
        "a label that is not a string is refused"
    );
    js_sys::Reflect::set(&options, &"labels".into(), &"de".into()).unwrap();
    assert!(
        mount_upload_progress(container(), options.into()).is_err(),
        "labels that are not an object are refused"
    );
}

/// The page-level listeners (on `window` and `document`) of the kinds the
/// session follows, added and not yet removed since `watch()`: the test
/// wraps `addEventListener` / `removeEventListener` on both until dropped.
struct PageListeners(wasm_bindgen::JsValue);

impl PageListeners {
    const KINDS: [&'static str; 5] = [
        "visibilitychange",
        "online",
        "offline",
        "pagehide",
        "pageshow",
    ];

    fn watch() -> Self {
        let install = js_sys::Function::new_no_args(
            r#"
            const entries = [];
            const undo = [];
            for (const [where, target] of [["window", window], ["document", document]]) {
              const add = target.addEventListener;
              const remove = target.removeEventListener;
              target.addEventListener = function (type, f, options) {
                entries.push({ where, type, f });
                return add.call(this, type, f, options);
              };
              target.removeEventListener = function (type, f, options) {
                const i = entries.findIndex((e) => e.where === where && e.type === type && e.f === f);
                if (i >= 0) entries.splice(i, 1);
                return remove.call(this, type, f, options);
              };
              undo.push(() => { delete target.addEventListener; delete target.removeEventListener; });
            }
            return {
              live: () => entries.map((e) => e.where + ":" + e.type),
              restore: () => undo.forEach((u) => u()),
            };
            "#,
        );
        Self(install.call0(&wasm_bindgen::JsValue::NULL).unwrap())
    }

    /// `window:online`, `document:visibilitychange`, ... still registered.
    fn live(&self) -> Vec<String> {
        let live: js_sys::Function = js_sys::Reflect::get(&self.0, &"live".into())
            .unwrap()
            .unchecked_into();
        js_sys::Array::from(&live.call0(&self.0).unwrap())
            .iter()
            .filter_map(|v| v.as_string())
            .filter(|name| Self::KINDS.iter().any(|k| name.ends_with(&format!(":{k}"))))
            .collect()
    }
}

impl Drop for PageListeners {
    fn drop(&mut self) {
        let restore: js_sys::Function = js_sys::Reflect::get(&self.0, &"restore".into())
            .unwrap()
            .unchecked_into();
        restore.call0(&self.0).unwrap();
    }
}

#[wasm_bindgen_test]
async fn unmounting_removes_every_page_listener() {
    clear_faults().await;
    let id = unique_id("listeners");
    let token = start_job(&id, 400, 10).await;
    let watch = PageListeners::watch();

    // The component.
    let (host, handle) = mount_widget(&id, &token, fast_options());
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    let mut live = watch.live();
    live.sort();
    assert_eq!(
        live,
        [
            "document:visibilitychange",
            "window:offline",
            "window:online",
            "window:pagehide",
            "window:pageshow"
        ],
        "the session follows the page's lifecycle while mounted"
    );
    drop(handle);
    wait_for("no page listener after unmount", 2_000.0, || {
        let live = watch.live();
        if live.is_empty() {
            Ok(())
        } else {
            Err(format!("{live:?}"))
        }
    })
    .await;

    // The embed API.
    let host = container();
    let host_el: Element = host.clone().into();
    let mut embedded =
        mount_upload_progress(host.clone(), embed_options(&id, &token)).expect("mounts");
    wait_attr(&host_el, "data-connection", "connected", 10_000.0).await;
    assert_eq!(watch.live().len(), 5, "{:?}", watch.live());
    embedded.unmount();
    wait_for("no page listener after handle.unmount()", 2_000.0, || {
        let live = watch.live();
        if live.is_empty() {
            Ok(())
        } else {
            Err(format!("{live:?}"))
        }
    })
    .await;

    // A page event after unmount reaches nothing: no socket is opened.
    let before = stats(&id).await.ws_opened;
    dispatch_window_event("online");
    dispatch_window_event("pageshow");
    sleep(500).await;
    assert_eq!(stats(&id).await.ws_opened, before);
}

/// The `type` of every event a callback received, in order.
type EventLog = Arc<Mutex<Vec<String>>>;

fn events_of(log: &EventLog) -> Vec<String> {
    log.lock().unwrap().clone()
}

/// Waits until `log` holds `want` as a subsequence (other events may come between).
async fn wait_for_events(log: &EventLog, want: &[&str]) {
    wait_for("the events", 10_000.0, || {
        let seen = events_of(log);
        let mut rest = want.iter().peekable();
        for kind in &seen {
            if rest.peek().is_some_and(|w| *w == kind) {
                rest.next();
            }
        }
        if rest.peek().is_none() {
            Ok(())
        } else {
            Err(format!("want {want:?} in order, got {seen:?}"))
        }
    })
    .await;
}

#[wasm_bindgen_test]
async fn the_on_event_prop_tells_the_page_every_decision() {
    use upload_progress_core::session::SessionEvent;
    clear_faults().await;
    let id = unique_id("on_event");
    let token = start_job(&id, 300, 10).await;
    let log: EventLog = Arc::default();
    let sink = log.clone();
    let on_event = Callback::new(move |e: SessionEvent| {
        let value = serde_json::to_value(&e).unwrap();
        sink.lock()
            .unwrap()
            .push(value["type"].as_str().unwrap_or_default().to_owned());
    });
    let host = container();
    let widget_id = id.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=token.clone()
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
                on_event=on_event
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    wait_for_events(&log, &["attempt_opened", "socket_live"]).await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_for_events(
        &log,
        &[
            "attempt_opened",
            "socket_live",
            "socket_closed",
            "backoff_chosen",
            "attempt_opened",
            "socket_live",
        ],
    )
    .await;
    drop(handle);
}

#[wasm_bindgen_test]
async fn on_event_of_the_embed_api_tells_the_page_every_decision() {
    clear_faults().await;
    // The same decisions as plain objects with their `type`.
    let id = unique_id("on_event_js");
    let token = start_job(&id, 300, 10).await;
    let log: EventLog = Arc::default();
    let sink = log.clone();
    let on_event =
        Closure::<dyn Fn(wasm_bindgen::JsValue)>::new(move |e: wasm_bindgen::JsValue| {
            let kind = js_sys::Reflect::get(&e, &"type".into()).unwrap();
            sink.lock()
                .unwrap()
                .push(kind.as_string().unwrap_or_default());
        });
    let options = embed_options(&id, &token);
    js_sys::Reflect::set(&options, &"onEvent".into(), on_event.as_ref()).unwrap();
    js_sys::Reflect::set(&options, &"initialRetryMs".into(), &100.into()).unwrap();
    let host = container();
    let mut embedded = mount_upload_progress(host.clone(), options).expect("mounts");
    wait_for_events(&log, &["attempt_opened", "socket_live"]).await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_for_events(
        &log,
        &[
            "socket_live",
            "socket_closed",
            "backoff_chosen",
            "socket_live",
        ],
    )
    .await;
    embedded.unmount();
}

#[wasm_bindgen_test]
async fn the_auto_retry_prop_off_stops_at_the_first_failure() {
    clear_faults().await;
    let id = unique_id("no_retry");
    let token = start_job(&id, 300, 20).await;
    let host = container();
    let widget_id = id.clone();
    // The prop wins over the options, whose auto_retry is on.
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=token.clone()
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
                auto_retry=false
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-connection", "connected", 10_000.0).await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host, "data-connection", "error", 5_000.0).await;
    // The retry delay is 100 ms: watch many of them.
    sleep(1_000).await;
    assert_eq!(attr(&host, "data-connection").unwrap(), "error");
    let s = stats(&id).await;
    assert_eq!(s.ws_opened, 1, "no socket opened on its own: {s:?}");
    assert_eq!(s.http_requests, 0, "and no polling: {s:?}");
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_max_retries_prop_sets_the_attempts_before_polling() {
    use upload_progress_core::session::SessionEvent;
    clear_faults().await;
    fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60_000})).await;
    let id = unique_id("max_retries");
    let token = start_job(&id, 300, 20).await;
    let attempts = Arc::new(AtomicU32::new(0));
    let counted = attempts.clone();
    let on_event = Callback::new(move |e: SessionEvent| {
        if matches!(e, SessionEvent::AttemptOpened { probe: false, .. }) {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let host = container();
    let widget_id = id.clone();
    // The prop wins over the options' 3.
    let handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressRobust
                // A one-job session: the test reads its per-job server counters.
                shared=false
                process_id=widget_id.clone()
                token=token.clone()
                ws_base=ws_base()
                http_base=server()
                session_options=fast_options()
                max_retries=1u32
                on_event=on_event
            />
        }
    });
    let host: Element = host.into();
    wait_attr(&host, "data-mode", "http_polling", 15_000.0).await;
    clear_faults().await;
    assert_eq!(
        attempts.load(Ordering::SeqCst),
        2,
        "the first attempt and one retry, then polling"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn the_embed_handle_reconnects_at_once() {
    clear_faults().await;
    let id = unique_id("handle_reconnect");
    let token = start_job(&id, 400, 10).await;
    let options = embed_options(&id, &token);
    // A backoff far longer than the test: only reconnect() can connect.
    for (key, value) in [
        ("initialRetryMs", 60_000),
        ("maxRetryMs", 60_000),
        ("maxRetries", 5),
    ] {
        js_sys::Reflect::set(&options, &key.into(), &value.into()).unwrap();
    }
    let host = container();
    let host_el: Element = host.clone().into();
    let mut handle = mount_upload_progress(host.clone(), options).expect("mounts");
    wait_attr(&host_el, "data-connection", "connected", 10_000.0).await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_attr(&host_el, "data-connection", "reconnecting", 10_000.0).await;
    handle.reconnect();
    wait_attr(&host_el, "data-connection", "connected", 5_000.0).await;
    let s = stats(&id).await;
    assert_eq!(
        s.ws_opened, 2,
        "reconnect() opened exactly one socket: {s:?}"
    );
    handle.unmount();
}
