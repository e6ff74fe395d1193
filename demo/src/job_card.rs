//! One job on the demo page: the file's upload (bytes, speed, pause,
//! resume, cancel), the widget following the job from the moment the
//! upload is created, and the timeline of what both decided and why.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use upload_progress_core::session::SessionEvent;
use upload_progress_core::upload::UploadState;
use upload_progress_robust::{use_upload, TokenProvider, UploadProgressRobust, UseUploadOptions};

use crate::api::{self, StartedJob};
use crate::format;
use crate::timeline::{self, Timeline};

/// Bytes per tus `PATCH` on the demo page.
const DEMO_CHUNK_BYTES: u64 = 256 * 1024;

/// Milliseconds on the page's clock (`performance.now()`), the clock the
/// session and the upload use too.
fn now_ms() -> u64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now().max(0.0) as u64)
        .unwrap_or(0)
}

/// Socket and HTTP bases for a server given by its HTTP origin.
fn bases_for_server(http_base: &str) -> (String, String) {
    let (scheme, host) = http_base.split_once("://").unwrap_or(("http", http_base));
    if scheme.eq_ignore_ascii_case("https") {
        (format!("wss://{host}"), format!("https://{host}"))
    } else {
        (format!("ws://{host}"), format!("http://{host}"))
    }
}

/// A token provider that earns a fresh token by presenting the newest one
/// the card holds (the server renews one that expired a short while ago).
fn token_provider(
    http_base: String,
    process_id: String,
    token: Signal<Option<String>>,
) -> TokenProvider {
    let fetched = Rc::new(RefCell::new(None::<String>));
    TokenProvider::new(move || {
        let base = http_base.clone();
        let id = process_id.clone();
        let fetched = fetched.clone();
        async move {
            let held = fetched
                .borrow()
                .clone()
                .or_else(|| token.get_untracked())
                .unwrap_or_default();
            let fresh = api::fresh_token(&base, &id, &held).await?;
            *fetched.borrow_mut() = Some(fresh.clone());
            Some(fresh)
        }
    })
}

/// Where a card's job comes from.
pub enum JobSource {
    /// A file to upload over tus; the server starts the job at creation.
    File(web_sys::File),
    /// A scripted job the server already started.
    Scripted(StartedJob),
}

/// Bytes, speed and controls of a card's upload.
#[component]
fn UploadLine(upload: upload_progress_robust::UseUploadReturn) -> impl IntoView {
    let state = upload.state;
    let progress = upload.progress;
    let numbers = move || {
        let Some(p) = progress.get() else {
            return String::new();
        };
        let mut text = format!("{} of {}", format::bytes(p.sent), format::bytes(p.total));
        if let Some(speed) = p.bytes_per_s {
            text.push_str(&format!(" · {}", format::rate(speed)));
        }
        if let Some(eta) = p.eta_ms.filter(|_| !state.with(UploadState::is_final)) {
            text.push_str(&format!(" · {} left", format::seconds(eta)));
        }
        text
    };
    let percent = move || {
        progress
            .get()
            .map(|p| format::percent(p.sent, p.total))
            .unwrap_or(0)
    };
    let can_pause = move || {
        state.with(|s| {
            matches!(
                s,
                UploadState::Queued
                    | UploadState::Creating { .. }
                    | UploadState::Sending { .. }
                    | UploadState::Checking { .. }
                    | UploadState::Waiting { .. }
            )
        })
    };
    let can_resume =
        move || state.with(|s| matches!(s, UploadState::Paused { .. } | UploadState::Failed(_)));
    let can_cancel =
        move || state.with(|s| !s.is_final() && !matches!(s, UploadState::Cancelling { .. }));
    let (pause, resume, cancel) = (upload.pause, upload.resume, upload.cancel);

    view! {
        <div class="demo__upload">
            <div class="demo__upload-head">
                <span>{move || state.with(timeline::upload_headline)}</span>
                <span class="demo__muted">{numbers}</span>
            </div>
            <progress class="demo__upload-bar" max="100" value=percent aria-label="Bytes uploaded"></progress>
            <div class="demo__upload-actions">
                <Show when=can_pause>
                    <button type="button" class="demo__button demo__button--small" on:click=move |_| pause.run(())>
                        "Pause"
                    </button>
                </Show>
                <Show when=can_resume>
                    <button type="button" class="demo__button demo__button--small" on:click=move |_| resume.run(())>
                        "Resume"
                    </button>
                </Show>
                <Show when=can_cancel>
                    <button type="button" class="demo__button demo__button--small" on:click=move |_| cancel.run(())>
                        "Cancel upload"
                    </button>
                </Show>
            </div>
        </div>
    }
}

/// The timeline of one card, newest line first.
#[component]
fn TimelineList(timeline: RwSignal<Timeline>) -> impl IntoView {
    let count = move || timeline.with(|t| t.entries().len());
    let lines = move || {
        timeline.with(|t| {
            t.entries()
                .rev()
                .map(|e| {
                    view! {
                        <li class="demo__event" data-tone=e.tone.as_str()>
                            <span class="demo__event-time">{format::offset(e.at_ms)}</span>
                            <span>{e.text.clone()}</span>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <details class="demo__timeline" open>
            <summary>"What happened, and why (" {count} ")"</summary>
            // Focusable, so the list can be scrolled by keyboard once it overflows.
            <ol class="demo__events" tabindex="0" aria-label="Timeline">{lines}</ol>
        </details>
    }
}

/// One job: upload (for a file), widget, timeline, Remove.
#[component]
pub fn JobCard(
    /// The file name or a description of the job.
    title: String,
    /// Where the job comes from.
    source: JobSource,
    /// The server's HTTP origin.
    http_base: String,
    /// Removes the card (and with it every connection it holds).
    on_remove: Callback<()>,
) -> impl IntoView {
    let started = now_ms();
    let since_start = move || now_ms().saturating_sub(started);
    let timeline = RwSignal::new(Timeline::default());

    let (process_id, token, upload) = match source {
        JobSource::File(file) => {
            let mut options = UseUploadOptions::new(format!("{http_base}/api/uploads/tus"));
            // Small chunks, so the job's own "Uploading (X of N bytes)"
            // moves while the file goes up and a cut costs little.
            options.upload.chunk_size = DEMO_CHUNK_BYTES;
            let up = use_upload(file, options);
            Effect::new(move |_| {
                up.state
                    .with(|s| timeline.update(|t| t.upload(since_start(), now_ms(), s)));
            });
            // Memos notify only on a change, so the widget below is created
            // once, when the upload's creation names the job.
            let id = Memo::new(move |_| up.process_id.get());
            let token = Signal::derive(move || up.token.get());
            (Signal::from(id), token, Some(up))
        }
        JobSource::Scripted(job) => (
            Signal::stored(Some(job.process_id)),
            Signal::stored(Some(job.token)),
            None,
        ),
    };

    let on_event = Callback::new(move |event: SessionEvent| {
        timeline.update(|t| t.session(since_start(), &event));
    });
    let (ws, http) = bases_for_server(&http_base);
    let widget_title = title.clone();
    let widget = move || {
        process_id.get().map(|id| {
            let provider = token_provider(http.clone(), id.clone(), token);
            view! {
                <UploadProgressRobust
                    process_id=id
                    filename=widget_title.clone()
                    token=token
                    token_provider=provider
                    ws_base=ws.clone()
                    http_base=http.clone()
                    on_event=on_event
                />
            }
        })
    };

    view! {
        <article class="demo__job" aria-label=format!("Job: {title}")>
            {upload.map(|up| view! { <UploadLine upload=up /> })}
            {widget}
            <TimelineList timeline=timeline />
            <button type="button" class="demo__button demo__button--quiet" on:click=move |_| on_remove.run(())>
                "Remove"
            </button>
        </article>
    }
}
