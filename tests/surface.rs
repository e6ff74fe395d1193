//! The component's Leptos surface in the browser: the reactive `class` prop,
//! spread attributes, labels switched at run time and the round-trip time as
//! visible text. A plain view with fixed inputs: no server needed.
#![cfg(target_arch = "wasm32")]

mod support;

use leptos::prelude::*;
use support::*;
use upload_progress_robust::{Connection, Labels, Mode, Status, UploadProgressView};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement};

wasm_bindgen_test_configure!(run_in_browser);

fn connected(latency_ms: Option<u64>) -> Status {
    Status {
        mode: Mode::WebSocket,
        connection: Connection::Connected,
        last_update_at: None,
        last_heard_at: None,
        latency_ms,
        last_error: None,
    }
}

/// The root's classes (the root is the host's one child: a spread `class`
/// replaces the list until the first patch, so `.upr` may not match yet).
fn classes(host: &Element) -> Vec<String> {
    host.first_element_child()
        .map(|root| root.class_name())
        .unwrap_or_default()
        .split_ascii_whitespace()
        .map(str::to_owned)
        .collect()
}

#[wasm_bindgen_test]
async fn the_class_prop_is_merged_into_the_root_and_follows_its_signal() {
    let host = container();
    let (class, set_class) = signal("card wide".to_owned());
    let (status, set_status) = signal(connected(None));
    let _handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressView
                progress=Signal::stored(None)
                status=status
                class=class
                attr:id="job-panel"
                attr:class="outer"
            />
        }
    });
    let host: Element = host.into();
    wait_for("the class prop on the root", 2_000.0, || {
        let c = classes(&host);
        let want = ["upr", "upr--connected", "card", "wide", "outer"];
        match want.iter().all(|w| c.iter().any(|x| x == w)) {
            true => Ok(()),
            false => Err(format!("{c:?}")),
        }
    })
    .await;
    assert_eq!(
        widget(&host).unwrap().id(),
        "job-panel",
        "a spread attribute"
    );

    set_class.set("slim".to_owned());
    // A status change rewrites the widget's own modifier meanwhile.
    set_status.set(Status {
        connection: Connection::Idle,
        mode: Mode::None,
        ..connected(None)
    });
    wait_for("the new class", 2_000.0, || {
        let c = classes(&host);
        let has = |w: &str| c.iter().any(|x| x == w);
        match has("slim") && !has("card") && !has("wide") && has("upr--idle") {
            true => Ok(()),
            false => Err(format!("{c:?}")),
        }
    })
    .await;
    let c = classes(&host);
    assert!(!c.iter().any(|x| x == "upr--connected"), "{c:?}");
    assert!(c.iter().any(|x| x == "upr"), "{c:?}");
    assert!(
        c.iter().any(|x| x == "outer"),
        "a spread class stays: {c:?}"
    );
}

#[wasm_bindgen_test]
async fn labels_switch_at_run_time() {
    let host = container();
    let (labels, set_labels) = signal(Labels::default());
    let _handle = leptos::mount::mount_to(host.clone(), move || {
        view! {
            <UploadProgressView
                progress=Signal::stored(None)
                status=Signal::stored(connected(None))
                labels=labels
            />
        }
    });
    let host: Element = host.into();
    wait_for("the English title", 2_000.0, || {
        let t = text(&host, ".upr__filename");
        (t == Labels::default().untitled).then_some(()).ok_or(t)
    })
    .await;

    let german = Labels {
        untitled: "Ohne Titel".into(),
        progress_label: "Verarbeitungsfortschritt".into(),
        stages_label: "Verarbeitungsschritte".into(),
        ..Labels::default()
    };
    set_labels.set(german);
    wait_for("the German title", 2_000.0, || {
        let t = text(&host, ".upr__filename");
        (t == "Ohne Titel").then_some(()).ok_or(t)
    })
    .await;
    // Texts written only by the markup follow too.
    let root = widget(&host).unwrap();
    let bar = root.query_selector("[role=progressbar]").unwrap().unwrap();
    assert_eq!(
        bar.get_attribute("aria-label").as_deref(),
        Some("Verarbeitungsfortschritt")
    );
    let stages = root.query_selector(".upr__stages").unwrap().unwrap();
    assert_eq!(
        stages.get_attribute("aria-label").as_deref(),
        Some("Verarbeitungsschritte")
    );
}

/// Loads the widget's stylesheet once.
fn with_stylesheet() {
    let document = web_sys::window().unwrap().document().unwrap();
    if document.get_element_by_id("upr-style").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("upr-style");
        style.set_text_content(Some(include_str!("../style/upload-progress.css")));
        document.head().unwrap().append_child(&style).unwrap();
    }
}

#[wasm_bindgen_test]
async fn latency_is_visible_text_where_the_status_line_has_room() {
    with_stylesheet();
    let mount = |width: &str| {
        let host = container();
        host.style().set_property("width", width).unwrap();
        let handle = leptos::mount::mount_to(host.clone(), move || {
            view! {
                <UploadProgressView
                    progress=Signal::stored(None)
                    status=Signal::stored(connected(Some(42)))
                />
            }
        });
        (Element::from(host), handle)
    };
    let (wide, _wide_handle) = mount("720px");
    let (narrow, _narrow_handle) = mount("240px");
    for host in [&wide, &narrow] {
        wait_for("the latency text", 2_000.0, || {
            let t = text(host, ".upr__latency");
            (t == "Round trip 42 ms").then_some(()).ok_or(t)
        })
        .await;
    }
    let width = |host: &Element| {
        host.query_selector(".upr__latency")
            .unwrap()
            .unwrap()
            .unchecked_into::<HtmlElement>()
            .offset_width()
    };
    assert!(
        width(&wide) > 40,
        "visible on a wide status line: {} px",
        width(&wide)
    );
    assert!(
        width(&narrow) <= 1,
        "screen readers only on a narrow one: {} px",
        width(&narrow)
    );
}
