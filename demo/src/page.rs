//! The demo page: what the product is, a drop zone that uploads files and
//! shows each job in its own card, buttons that break the connection on
//! purpose, and the server's statistics.

use std::collections::HashMap;

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use crate::api;
use crate::drop_zone::DropZone;
use crate::fault_panel::FaultPanel;
use crate::job_card::{JobCard, JobSource};
use crate::stats::StatsPanel;

/// One card on the page. The file itself waits in a local store until its
/// card takes it: a `File` cannot live in a (thread-safe) signal.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    key: u64,
    title: String,
    scripted: Option<api::StartedJob>,
}

/// The demo application.
#[component]
pub fn DemoApp() -> impl IntoView {
    let (server, set_server) = signal(page_origin());
    let (admin_token, set_admin_token) = signal("demo-admin".to_owned());
    let http_base = Signal::derive(move || trim_base(&server.get()));
    let jobs = RwSignal::new(Vec::<Job>::new());
    let files: StoredValue<HashMap<u64, web_sys::File>, LocalStorage> =
        StoredValue::new_local(HashMap::new());
    let next_key = StoredValue::new(0_u64);
    let (notice, set_notice) = signal(String::new());

    // A file is stored under its card's key before the card is listed, so
    // the card finds it when it renders.
    let add =
        move |title: String, scripted: Option<api::StartedJob>, file: Option<web_sys::File>| {
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            if let Some(file) = file {
                files.update_value(|m| {
                    m.insert(key, file);
                });
            }
            jobs.update(|jobs| {
                jobs.push(Job {
                    key,
                    title,
                    scripted,
                })
            });
        };
    let on_files = Callback::new(move |chosen: Vec<web_sys::File>| {
        for file in chosen {
            add(file.name(), None, Some(file));
        }
    });
    let scripted = move |_| {
        let base = http_base.get_untracked();
        let id = format!("demo_{:x}", (js_sys::Math::random() * 1.0e12) as u64);
        leptos::task::spawn_local(async move {
            match api::scripted_job(&base, &id, 400, 5).await {
                Ok(job) => {
                    set_notice.set(String::new());
                    add("Scripted demo job".to_owned(), Some(job), None);
                }
                Err(e) => set_notice.set(format!("Could not start a demo job: {e}")),
            }
        });
    };

    let card = move |job: Job| {
        let source = match job.scripted {
            Some(started) => Some(JobSource::Scripted(started)),
            None => files
                .try_update_value(|m| m.remove(&job.key))
                .flatten()
                .map(JobSource::File),
        };
        let key = job.key;
        let on_remove = Callback::new(move |()| jobs.update(|j| j.retain(|x| x.key != key)));
        source.map(|source| {
            view! {
                <JobCard
                    title=job.title
                    source=source
                    http_base=http_base.get_untracked()
                    on_remove=on_remove
                />
            }
        })
    };

    view! {
        <main class="demo">
            <header class="demo__intro">
                <h1>"UploadProgressRobust"</h1>
                <p>
                    "A Leptos component that shows the live progress of a server-side job, "
                    "from the file's upload through every processing stage. "
                    "It never gets stuck: when the WebSocket fails it retries with backoff, "
                    "falls back to HTTP polling and climbs back, and always says how fresh "
                    "its data is."
                </p>
                <p class="demo__muted">
                    "Drop a file, then break the connection with the buttons and watch "
                    "each widget's timeline explain what it decided."
                </p>
            </header>
            <div class="demo__layout">
                <div class="demo__side">
                    <section class="demo__panel" aria-labelledby="demo-upload-title">
                        <h2 id="demo-upload-title">"Upload"</h2>
                        <DropZone on_files=on_files />
                        <button type="button" class="demo__button demo__button--quiet" on:click=scripted>
                            "Start a demo job without a file"
                        </button>
                        <p class="demo__answer" role="status">{notice}</p>
                    </section>
                    <FaultPanel http_base=http_base admin_token=admin_token />
                    <StatsPanel http_base=http_base />
                    <details class="demo__panel demo__settings">
                        <summary>"Server settings"</summary>
                        <label class="demo__field">
                            "Server"
                            <input
                                type="url"
                                prop:value=server
                                on:change=move |ev| set_server.set(event_value(&ev))
                            />
                        </label>
                        <label class="demo__field">
                            "Admin token (for the fault buttons)"
                            <input
                                type="text"
                                prop:value=admin_token
                                on:change=move |ev| set_admin_token.set(event_value(&ev))
                            />
                        </label>
                    </details>
                </div>
                <section class="demo__jobs" aria-labelledby="demo-jobs-title">
                    <h2 id="demo-jobs-title">"Jobs"</h2>
                    <Show when=move || jobs.with(Vec::is_empty)>
                        <p class="demo__muted demo__empty">
                            "No jobs yet. Each file you drop appears here with its upload, "
                            "its widget and its timeline."
                        </p>
                    </Show>
                    <div class="demo__cards">
                        <For each=move || jobs.get() key=|job| job.key children=card />
                    </div>
                </section>
            </div>
        </main>
    }
}

/// The page's own origin (`http://host:port`), where the dev server that
/// served it answers.
fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Removes trailing slashes so `{base}/ws/...` never holds `//`.
fn trim_base(base: &str) -> String {
    base.trim().trim_end_matches('/').to_owned()
}

fn event_value(ev: &leptos::ev::Event) -> String {
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .map(|i| i.value())
        .unwrap_or_default()
}

/// Mounts the demo into the element with id `demo-root`, if the page has
/// one. Pages that only use the embed API have none, and stay untouched.
pub fn mount_demo() {
    let root = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id("demo-root"))
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
    if let Some(root) = root {
        leptos::mount::mount_to(root, DemoApp).forget();
    }
}
