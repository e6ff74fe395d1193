//! The page: a file input, the progress widget and the job's result.
//!
//! Compiled for both sides. The server renders it (with the job of a
//! `?job=` link, if any) and the browser hydrates the same markup, so the
//! file input and the widget work without the page being drawn twice.

use leptos::either::Either;
use leptos::prelude::*;
use upload_progress_robust::{Progress, UploadFile, UploadProgressRobust};

/// The stages the server runs on every upload, `(name, label)`: the names
/// are the ones the widget marks (`data-stage`).
pub const STAGES: [(&str, &str); 3] = [
    ("checksum", "SHA-256 checksum"),
    ("gzip", "gzip compression"),
    ("lines", "Line count"),
];

/// The page: choose a file, watch its upload and the job's stages, read
/// the result.
#[component]
pub fn App(
    /// The job of a `?job=` link, followed from the start (the server
    /// renders its widget); choosing a file replaces it.
    job: Option<String>,
) -> impl IntoView {
    // A browser `File` is not `Send`: the signal stays on this thread.
    let picked = RwSignal::new_local(None::<UploadFile>);
    let result = RwSignal::new(None::<String>);
    // Off in the server's markup: a file chosen before the app runs in the
    // browser would go nowhere. Effects run only in the browser, once
    // hydrated.
    let live = RwSignal::new(false);
    Effect::new(move |_| live.set(true));
    let on_complete = Callback::new(move |done: Progress| {
        result.set(Some(done.message.clone()));
        link_to_job(done.process_id.as_str());
    });
    let on_pick = move |ev: leptos::ev::Event| {
        if let Some(file) = chosen_file(&ev) {
            result.set(None);
            picked.set(Some(file));
        }
    };
    let widget = move || match picked.get() {
        Some(file) => Either::Left(view! {
            <UploadProgressRobust file=file on_complete=on_complete />
        }),
        None => Either::Right(job.clone().map(|id| {
            view! { <UploadProgressRobust process_id=id on_complete=on_complete /> }
        })),
    };
    view! {
        <main class="fullstack">
            <h1>"Upload a file, watch the server work on it"</h1>
            <p class="fullstack__intro">
                "The server checksums the file, compresses it and counts its lines, "
                "one stage after the other; the widget follows every stage, "
                "even when the connection drops."
            </p>
            <label class="fullstack__pick">
                "Choose a file " <input
                    type="file"
                    name="file"
                    disabled=move || !live.get()
                    on:change=on_pick
                />
            </label>
            <section class="fullstack__job" aria-label="Progress">
                {widget}
            </section>
            <p class="fullstack__result">
                {move || result.get().map(|text| view! { <output>{text}</output> })}
            </p>
        </main>
    }
}

/// The file the input now holds (browser only: the server never runs
/// event handlers).
#[cfg(target_arch = "wasm32")]
fn chosen_file(ev: &leptos::ev::Event) -> Option<UploadFile> {
    let input: web_sys::HtmlInputElement = event_target(ev);
    input.files()?.get(0).map(UploadFile::from)
}

#[cfg(not(target_arch = "wasm32"))]
fn chosen_file(_: &leptos::ev::Event) -> Option<UploadFile> {
    None
}

/// Puts `?job=<id>` in the address bar, so a reload (or the link, shared)
/// shows this job again, rendered by the server.
#[cfg(target_arch = "wasm32")]
fn link_to_job(id: &str) {
    if let Ok(history) = window().history() {
        let url = format!("?job={id}");
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn link_to_job(_: &str) {}
