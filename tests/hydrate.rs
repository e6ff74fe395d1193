//! Hydration in the browser: the markup the server rendered
//! (tests/fixtures/ssr.html, produced natively by tests/ssr-app) is taken
//! over in place, and only then does the widget connect, with one socket
//! for the whole job. Built with the `hydrate` feature and without the
//! one-job session, as a full-stack app builds it, so a widget that does
//! not share gets a page connection of its own. Needs the dev server
//! (`UPR_TEST_SERVER`, `UPR_TEST_ADMIN_TOKEN`) like tests/web.rs.
#![cfg(target_arch = "wasm32")]

mod support;

use leptos::prelude::*;
use support::*;
use upload_progress_robust::{progress_connections, UploadProgressRobust};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What `render_job_page` in tests/ssr-app renders on the server.
const SERVER_HTML: &str = include_str!("fixtures/ssr.html");

#[wasm_bindgen_test]
async fn hydrates_server_markup_then_follows_the_job_with_one_socket() {
    let id = unique_id("hydrate");
    let token = start_job(&id, 100, 3).await;
    let host = container();
    host.set_inner_html(SERVER_HTML);
    let server_root = widget(&host).expect("the server markup has a widget");
    let server_bar = host
        .query_selector("[role=progressbar]")
        .unwrap()
        .expect("the server markup has a progress bar");
    sleep(300).await;
    let before = stats(&id).await;
    assert_eq!(
        before.ws_opened, 0,
        "nothing connects before hydration: {before:?}"
    );
    let opened_before = connections_opened().await;

    let handle = {
        let id = id.clone();
        leptos::mount::hydrate_from(host.clone(), move || {
            view! {
                <UploadProgressRobust
                    process_id=id
                    filename="report.pdf"
                    token=token
                    ws_base=ws_base()
                    http_base=server()
                    session_options=fast_options()
                />
            }
        })
    };

    wait_attr(&host, "data-state", "completed", 20_000.0).await;
    wait_attr(&host, "data-connection", "finished", 5_000.0).await;

    // Hydration took over the server's nodes instead of rendering new ones.
    let roots = host.query_selector_all(".upr").unwrap();
    assert_eq!(
        roots.length(),
        1,
        "one widget, not a second render beside the first"
    );
    let root = widget(&host).unwrap();
    assert!(
        root.is_same_node(Some(&server_root)),
        "the widget root is the server's element"
    );
    let bar = host.query_selector("[role=progressbar]").unwrap().unwrap();
    assert!(
        bar.is_same_node(Some(&server_bar)),
        "the bar is the server's element"
    );
    assert_eq!(bar.get_attribute("aria-valuenow").as_deref(), Some("100"));
    assert_eq!(
        root.get_attribute("data-process-id").as_deref(),
        Some(id.as_str())
    );
    assert_eq!(text(&host, ".upr__filename"), "report.pdf");

    // The widget follows through the page connection: one page socket for
    // the whole job, and no socket of the job's own.
    let s = stats(&id).await;
    assert_eq!(s.ws_opened, 0, "no socket of its own: {s:?}");
    assert_eq!(
        connections_opened().await - opened_before,
        1,
        "one connection for the whole job"
    );
    drop(handle);
}

/// Connections the server opened since it started (`GET /ws/stats`).
async fn connections_opened() -> u64 {
    stats_document().await["connections"]["total"]
        .as_u64()
        .expect("connections.total")
}

#[wasm_bindgen_test]
async fn a_server_client_difference_is_corrected_right_after_hydration() {
    let host = container();
    // The server's markup, as if rendered with other values than the
    // browser computes: another file name and connection, a stray message.
    let stale = SERVER_HTML
        .replace(">report.pdf<", ">stale.pdf<")
        .replace("upr upr--idle", "upr upr--connected")
        .replace(
            "<p class=\"upr__message\"></p>",
            "<p class=\"upr__message\">from the server</p>",
        );
    assert_ne!(stale, SERVER_HTML, "the fixture has the values replaced");
    host.set_inner_html(&stale);
    let server_root = widget(&host).unwrap();

    let handle = leptos::mount::hydrate_from(host.clone(), move || {
        view! {
            <UploadProgressRobust
                filename="report.pdf"
                class="card"
                http_base=server()
                ws_base=ws_base()
            />
        }
    });
    // No job (an empty id stops at once with an error), so no job update
    // follows hydration: only the full patch after it can correct the
    // server's file name, connection class and message.
    wait_for("the browser's values", 2_000.0, || {
        let title = text(&host, ".upr__filename");
        let class = widget(&host)?.class_name();
        let classes: Vec<&str> = class.split_ascii_whitespace().collect();
        let fixed = title == "report.pdf"
            && classes.contains(&"upr")
            && classes.contains(&"card")
            && !classes.contains(&"upr--connected");
        match fixed {
            true => Ok(()),
            false => Err(format!("title {title:?}, class {class:?}")),
        }
    })
    .await;
    assert_eq!(text(&host, ".upr__message"), "");
    assert!(
        widget(&host).unwrap().is_same_node(Some(&server_root)),
        "corrected in place, on the server's element"
    );
    drop(handle);
}

#[wasm_bindgen_test]
async fn a_widget_that_does_not_share_has_a_page_connection_of_its_own() {
    let mut jobs = Vec::new();
    for name in ["own_a", "own_b"] {
        let id = unique_id(name);
        let token = start_job(&id, 300, 3).await;
        jobs.push((id, token));
    }
    let opened_before = connections_opened().await;
    let widgets = mount_all(&jobs, &fast_options(), false);
    for (host, _) in &widgets {
        wait_attr(host, "data-connection", "connected", 10_000.0).await;
    }
    // Neither joined the page-wide connection (which would be one for both).
    assert_eq!(progress_connections().connections, 0);
    for (host, _) in &widgets {
        wait_attr(host, "data-state", "completed", 20_000.0).await;
    }
    assert_eq!(
        connections_opened().await - opened_before,
        2,
        "a connection each"
    );
    for (id, _) in &jobs {
        let s = stats(id).await;
        assert_eq!(
            s.ws_opened, 0,
            "over page connections, not v1 sockets: {s:?}"
        );
    }
    drop(widgets);
}
