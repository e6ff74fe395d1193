//! The demo page: upload files or start scripted jobs, watch them in
//! widgets side by side, and break the connection on purpose.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use upload_progress_robust::{TokenProvider, UploadProgressRobust};

use crate::api;
use crate::api::Fault;

/// One widget on the demo page.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Job {
    process_id: String,
    filename: String,
    token: String,
}

/// The demo application: controls on top, one widget per job below.
#[component]
pub fn DemoApp() -> impl IntoView {
    let page_http = page_origin();
    let (server, set_server) = signal(page_http);
    let (admin_token, set_admin_token) = signal("demo-admin".to_owned());
    let (jobs, set_jobs) = signal(Vec::<Job>::new());
    let (notice, set_notice) = signal(String::new());
    let file_input: NodeRef<leptos::html::Input> = NodeRef::new();

    let http_base = move || trim_base(&server.get_untracked());
    let add_job = move |job: Job| set_jobs.update(|jobs| jobs.push(job));

    let upload = move |_| {
        let Some(input) = file_input.get_untracked() else {
            return;
        };
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            set_notice.set("Choose a file first.".to_owned());
            return;
        };
        let base = http_base();
        set_notice.set(format!("Uploading {}…", file.name()));
        leptos::task::spawn_local(async move {
            match api::upload(&base, &file).await {
                Ok(started) => {
                    set_notice.set(String::new());
                    add_job(Job {
                        process_id: started.process_id,
                        filename: file.name(),
                        token: started.token,
                    });
                }
                Err(e) => set_notice.set(format!("Upload failed: {e}")),
            }
        });
    };

    let scripted = move |_| {
        let base = http_base();
        let id = format!("demo_{:x}", (js_sys::Math::random() * 1.0e12) as u64);
        leptos::task::spawn_local(async move {
            match api::scripted_job(&base, &id, 400, 5).await {
                Ok(started) => add_job(Job {
                    process_id: started.process_id,
                    filename: "Scripted demo job".to_owned(),
                    token: started.token,
                }),
                Err(e) => set_notice.set(format!("Could not start a demo job: {e}")),
            }
        });
    };

    let fault_buttons = Fault::ALL
        .iter()
        .map(|&fault| {
            let inject = move |_| {
                let base = http_base();
                let admin = admin_token.get_untracked();
                leptos::task::spawn_local(async move {
                    match api::inject(&base, &admin, fault).await {
                        Ok(text) => set_notice.set(text),
                        Err(e) => set_notice.set(format!("{}: {e}", fault.label())),
                    }
                });
            };
            view! {
                <button type="button" class="demo__fault" on:click=inject>
                    {fault.label()}
                </button>
            }
        })
        .collect_view();

    view! {
        <main class="demo">
            <h1>"UploadProgressRobust"</h1>
            <section class="demo__controls" aria-label="Start a job">
                <label class="demo__field">
                    "Server "
                    <input
                        type="url"
                        prop:value=server
                        on:change=move |ev| set_server.set(event_value(&ev))
                    />
                </label>
                <div class="demo__row">
                    <input type="file" node_ref=file_input aria-label="File to upload" />
                    <button type="button" on:click=upload>"Upload and process"</button>
                    <button type="button" on:click=scripted>"Scripted demo job"</button>
                </div>
            </section>
            <section class="demo__controls" aria-label="Break the connection">
                <label class="demo__field">
                    "Admin token "
                    <input
                        type="text"
                        prop:value=admin_token
                        on:change=move |ev| set_admin_token.set(event_value(&ev))
                    />
                </label>
                <div class="demo__row">{fault_buttons}</div>
            </section>
            <p class="demo__notice" aria-live="polite">{notice}</p>
            <section class="demo__jobs">
                <For
                    each=move || jobs.get()
                    key=|job| job.process_id.clone()
                    children=move |job: Job| {
                        let id = job.process_id.clone();
                        let remove_id = job.process_id.clone();
                        let base = http_base();
                        let provider_id = job.process_id.clone();
                        // The newest token this widget holds: a fresh one is
                        // earned by presenting it.
                        let current = std::rc::Rc::new(std::cell::RefCell::new(job.token.clone()));
                        let provider = TokenProvider::new(move || {
                            let base = base.clone();
                            let id = provider_id.clone();
                            let current = current.clone();
                            async move {
                                let held = current.borrow().clone();
                                let fresh = api::fresh_token(&base, &id, &held).await?;
                                *current.borrow_mut() = fresh.clone();
                                Some(fresh)
                            }
                        });
                        let (ws, http) = bases_for_server(&http_base());
                        view! {
                            <div class="demo__job">
                                <UploadProgressRobust
                                    process_id=id
                                    filename=job.filename.clone()
                                    token=job.token.clone()
                                    token_provider=provider
                                    ws_base=ws
                                    http_base=http
                                />
                                <button
                                    type="button"
                                    class="demo__remove"
                                    on:click=move |_| {
                                        let id = remove_id.clone();
                                        set_jobs.update(|jobs| jobs.retain(|j| j.process_id != id));
                                    }
                                >
                                    "Remove"
                                </button>
                            </div>
                        }
                    }
                />
            </section>
        </main>
    }
}

/// Socket and HTTP bases for a server given by its HTTP origin.
fn bases_for_server(http_base: &str) -> (String, String) {
    let (protocol, host) = match http_base.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}:"), rest.to_owned()),
        None => ("http:".to_owned(), http_base.to_owned()),
    };
    let secure = protocol.eq_ignore_ascii_case("https:");
    let (ws, http) = if secure {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    (format!("{ws}://{host}"), format!("{http}://{host}"))
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
