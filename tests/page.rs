//! Browser tests of the page-wide connection: many widgets on one page
//! follow their jobs over one connection (the page socket, else the event
//! stream, else the set poll).
//!
//! Like `web.rs` they run against a real dev server (`UPR_TEST_SERVER`,
//! `UPR_TEST_ADMIN_TOKEN`) and check the server's own count of open
//! connections (`GET /ws/stats`), not only what the page believes.
#![cfg(target_arch = "wasm32")]

mod support;

use gloo_net::http::Request;
use leptos::prelude::*;
use serde_json::json;
use support::*;
use upload_progress_robust::{
    progress_connections, provide_progress_client, ProgressClient, SessionOptions,
    UploadProgressRobust,
};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::Element;

wasm_bindgen_test_configure!(run_in_browser);

/// Connections (sockets and event streams) the server has open now.
async fn server_connections() -> u64 {
    let doc: serde_json::Value = Request::get(&format!("{}/ws/stats", server()))
        .send()
        .await
        .expect("GET /ws/stats")
        .json()
        .await
        .expect("stats are JSON");
    doc["connections"]["active"]
        .as_u64()
        .expect("connections.active")
}

async fn wait_connections(what: &str, timeout_ms: f64, ok: impl Fn(u64) -> bool) -> u64 {
    let start = js_sys::Date::now();
    loop {
        let n = server_connections().await;
        if ok(n) {
            return n;
        }
        if js_sys::Date::now() - start > timeout_ms {
            panic!("timed out after {timeout_ms} ms waiting for {what}; server connections: {n}");
        }
        sleep(50).await;
    }
}

async fn start_jobs(prefix: &str, n: usize, step_ms: u64, steps: u32) -> Vec<(String, String)> {
    let mut jobs = Vec::new();
    for i in 0..n {
        let id = unique_id(&format!("{prefix}{i}"));
        let token = start_job(&id, step_ms, steps).await;
        jobs.push((id, token));
    }
    jobs
}

/// Waits until every widget shows `name=want`.
async fn wait_all(widgets: &[(Element, Handle)], name: &str, want: &str, timeout_ms: f64) {
    for (host, _) in widgets {
        wait_attr(host, name, want, timeout_ms).await;
    }
}

#[wasm_bindgen_test]
async fn thirty_widgets_use_one_socket_and_the_last_one_keeps_it_to_its_end() {
    clear_faults().await;
    wait_connections("earlier connections to close", 10_000.0, |n| n == 0).await;
    let jobs = start_jobs("thirty", 30, 300, 10).await;
    let mut widgets = mount_all(&jobs, &fast_options(), true);

    wait_all(&widgets, "data-connection", "connected", 15_000.0).await;
    for (host, _) in &widgets {
        assert_eq!(attr(host, "data-mode").as_deref(), Ok("websocket"));
    }
    assert_eq!(
        server_connections().await,
        1,
        "the server sees one connection for thirty widgets"
    );
    let census = progress_connections();
    assert_eq!((census.connections, census.widgets), (1, 30));

    // Unmount all but the last; it keeps following over the same socket.
    let (last_host, last_handle) = widgets.pop().unwrap();
    let seqs = AttrHistory::watch(&widget(&last_host).unwrap(), "data-seq");
    let percents = AttrHistory::watch(&widget(&last_host).unwrap(), "data-percent");
    drop(widgets);
    let census = progress_connections();
    assert_eq!((census.connections, census.widgets), (1, 1));
    sleep(500).await;
    assert_eq!(
        server_connections().await,
        1,
        "the socket stays for the last widget"
    );
    assert_eq!(
        attr(&last_host, "data-connection").as_deref(),
        Ok("connected")
    );

    wait_attr(&last_host, "data-state", "completed", 30_000.0).await;
    wait_attr(&last_host, "data-connection", "finished", 5_000.0).await;
    let seqs: Vec<u64> = seqs
        .values()
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(
        seqs.len() >= 2,
        "progress arrived after the others left: {seqs:?}"
    );
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "seq rises: {seqs:?}");
    let percents: Vec<f64> = percents
        .values()
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(
        percents.windows(2).all(|w| w[1] >= w[0]),
        "percent never goes back: {percents:?}"
    );
    wait_connections("the socket to close after the last job", 5_000.0, |n| {
        n == 0
    })
    .await;
    drop(last_handle);
    assert_eq!(progress_connections().connections, 0);
}

#[wasm_bindgen_test]
async fn refused_upgrades_go_live_over_the_event_stream_not_polling() {
    clear_faults().await;
    wait_connections("earlier connections to close", 10_000.0, |n| n == 0).await;
    fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60_000})).await;
    let jobs = start_jobs("sse", 5, 300, 6).await;
    let options = SessionOptions {
        max_retries: 1,
        ..fast_options()
    };
    let widgets = mount_all(&jobs, &options, true);
    let modes: Vec<AttrHistory> = {
        let mut all = Vec::new();
        for (host, _) in &widgets {
            let root = wait_for("widget", 5_000.0, || widget(host)).await;
            all.push(AttrHistory::watch(&root, "data-mode"));
        }
        all
    };

    wait_all(&widgets, "data-mode", "sse", 15_000.0).await;
    wait_all(&widgets, "data-connection", "connected", 5_000.0).await;
    assert_eq!(
        server_connections().await,
        1,
        "one event stream for every widget"
    );
    wait_all(&widgets, "data-state", "completed", 30_000.0).await;
    clear_faults().await;
    for history in &modes {
        let seen = history.values();
        assert!(
            !seen.iter().any(|m| m == "http_polling"),
            "the event stream came before polling: {seen:?}"
        );
        assert!(seen.iter().any(|m| m == "sse"), "{seen:?}");
    }
    drop(widgets);
}

#[wasm_bindgen_test]
async fn ten_widgets_reach_their_final_state_through_drops_refusals_stalls_and_offline() {
    clear_faults().await;
    let jobs = start_jobs("faults", 10, 250, 8).await;
    // A short heartbeat, so a stalled socket is found in about a second.
    let options = SessionOptions {
        heartbeat_interval_ms: 1_000,
        pong_timeout_ms: 800,
        ..fast_options()
    };
    let widgets = mount_all(&jobs, &options, true);
    let mut histories = Vec::new();
    for (host, _) in &widgets {
        let root = wait_for("widget", 5_000.0, || widget(host)).await;
        histories.push((
            AttrHistory::watch(&root, "data-seq"),
            AttrHistory::watch(&root, "data-percent"),
        ));
    }
    wait_all(&widgets, "data-connection", "connected", 15_000.0).await;

    fault(json!({"action": "drop_sockets"})).await;
    fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 1_500})).await;
    sleep(1_000).await;
    dispatch_window_event("offline");
    sleep(300).await;
    dispatch_window_event("online");
    wait_all(&widgets, "data-connection", "connected", 15_000.0).await;
    fault(json!({"action": "stall_sockets", "duration_ms": 3_000})).await;

    wait_all(&widgets, "data-state", "completed", 60_000.0).await;
    clear_faults().await;
    for ((id, _), (seqs, percents)) in jobs.iter().zip(&histories) {
        let seqs: Vec<u64> = seqs
            .values()
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect();
        assert!(seqs.windows(2).all(|w| w[1] > w[0]), "{id}: seq {seqs:?}");
        let percents: Vec<f64> = percents
            .values()
            .iter()
            .filter_map(|v| v.parse().ok())
            .collect();
        assert!(
            percents.windows(2).all(|w| w[1] >= w[0]),
            "{id}: percent {percents:?}"
        );
        assert_eq!(percents.last().copied(), Some(100.0), "{id}");
    }
    drop(widgets);
}

fn dispatch_window_event(kind: &str) {
    let window = web_sys::window().unwrap();
    let event = web_sys::Event::new(kind).unwrap();
    window.dispatch_event(&event).unwrap();
}

#[wasm_bindgen_test]
async fn a_shared_widget_shows_every_stage_to_the_final_state() {
    clear_faults().await;
    wait_connections("earlier connections to close", 10_000.0, |n| n == 0).await;
    let jobs = start_jobs("stages", 1, 100, 3).await;
    let widgets = mount_all(&jobs, &fast_options(), true);
    let (host, _) = &widgets[0];
    let seqs = AttrHistory::watch(
        &wait_for("widget", 5_000.0, || widget(host)).await,
        "data-seq",
    );
    wait_attr(host, "data-state", "completed", 20_000.0).await;
    wait_attr(host, "data-connection", "finished", 5_000.0).await;

    let root = widget(host).unwrap();
    assert_eq!(
        root.get_attribute("data-process-id").as_deref(),
        Some(jobs[0].0.as_str())
    );
    let stages = root.query_selector_all(".upr__stage").unwrap();
    assert_eq!(stages.length(), 4, "every stage is listed");
    for i in 0..stages.length() {
        let stage: Element = wasm_bindgen::JsCast::unchecked_into(stages.item(i).unwrap());
        assert_eq!(stage.get_attribute("data-status").as_deref(), Some("done"));
    }
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("100"));
    assert!(
        root.query_selector(".upr__reconnect").unwrap().is_none(),
        "no Reconnect button once the job is over"
    );
    let seqs: Vec<u64> = seqs
        .values()
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "seq rises: {seqs:?}");
    assert_eq!(
        stats(&jobs[0].0).await.ws_opened,
        0,
        "no socket of its own: the page connection carried it"
    );
    wait_connections("the page socket to close after the job", 5_000.0, |n| {
        n == 0
    })
    .await;
    drop(widgets);
}

/// A client provided once gives every widget below it its server and its
/// knobs: the widgets name no base of their own (the test page's origin
/// serves no progress), yet follow their jobs on the test server to the
/// end, over one connection.
#[wasm_bindgen_test]
async fn widgets_under_a_provided_client_follow_its_server_over_one_connection() {
    clear_faults().await;
    wait_connections("earlier connections to close", 10_000.0, |n| n == 0).await;
    let jobs = start_jobs("client", 3, 200, 3).await;
    let host = container();
    let client = ProgressClient {
        ws_base: Some(ws_base()),
        http_base: Some(server()),
        session: fast_options(),
    };
    let mounted = jobs.clone();
    let handle = leptos::mount::mount_to(host.clone(), move || {
        provide_progress_client(client.clone());
        mounted
            .iter()
            .map(|(id, token)| {
                view! {
                    <div class="slot">
                        <UploadProgressRobust process_id=id.clone() token=token.clone() />
                    </div>
                }
            })
            .collect_view()
    });
    let slots = host.query_selector_all(".slot").expect("slots");
    assert_eq!(slots.length(), 3);
    let slots: Vec<Element> = (0..slots.length())
        .map(|i| slots.item(i).expect("slot").unchecked_into())
        .collect();
    for slot in &slots {
        wait_attr(slot, "data-connection", "connected", 15_000.0).await;
    }
    assert_eq!(
        server_connections().await,
        1,
        "one connection for the three"
    );
    for slot in &slots {
        wait_attr(slot, "data-state", "completed", 30_000.0).await;
    }
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_shared_connection_without_automatic_retry_stops_at_a_loss_until_reconnect() {
    clear_faults().await;
    wait_connections("earlier connections to close", 10_000.0, |n| n == 0).await;
    let jobs = start_jobs("no_retry", 2, 300, 8).await;
    let options = SessionOptions {
        auto_retry: false,
        ..fast_options()
    };
    let widgets = mount_all(&jobs, &options, true);
    wait_all(&widgets, "data-connection", "connected", 10_000.0).await;
    fault(json!({"action": "drop_sockets"})).await;
    wait_all(&widgets, "data-connection", "error", 5_000.0).await;
    // The options' retry delay is 100 ms: many would have passed.
    sleep(1_000).await;
    for (host, _) in &widgets {
        assert_eq!(attr(host, "data-connection").unwrap(), "error");
        assert_eq!(attr(host, "data-state").unwrap(), "running");
    }
    assert_eq!(
        server_connections().await,
        0,
        "nothing reconnects on its own"
    );
    // One widget's Reconnect reconnects the page's connection for both.
    let button: web_sys::HtmlElement = widget(&widgets[0].0)
        .unwrap()
        .query_selector("button.upr__reconnect")
        .unwrap()
        .expect("a Reconnect button once stopped")
        .unchecked_into();
    button.click();
    wait_all(&widgets, "data-connection", "connected", 5_000.0).await;
    assert_eq!(server_connections().await, 1);
    wait_all(&widgets, "data-state", "completed", 30_000.0).await;
    drop(widgets);
}
