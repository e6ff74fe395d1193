//! The shoot-out's leptos-use page: one job followed with `use_websocket`
//! and its default options (reconnect limit 3, fixed 3 s interval, no
//! heartbeat), shown the way the crate's docs show a socket: the ready state
//! as text and the latest message.
//!
//! The socket URL comes from the page's `?ws=` query parameter, so the same
//! build runs against any server or fault proxy.

use codee::string::JsonSerdeCodec;
use leptos::prelude::*;
use leptos_use_websocket::{use_websocket, UseWebSocketReturn};
use serde::{Deserialize, Serialize};

/// The part of the server's progress frame the view shows.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Progress {
    seq: u64,
    state: String,
    percent: f64,
    #[serde(default)]
    message: String,
}

/// One frame from the server; frames without progress (pong, error) decode
/// with `progress: None`.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Frame {
    #[serde(default)]
    progress: Option<Progress>,
}

/// The socket URL, from `?ws=` (the driver passes it unencoded: a query may
/// hold `:` and `/`).
fn socket_url() -> String {
    let search = window().location().search().unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("ws="))
        .unwrap_or_default()
        .to_owned()
}

#[component]
fn App() -> impl IntoView {
    let UseWebSocketReturn {
        ready_state,
        message,
        ..
    } = use_websocket::<Frame, Frame, JsonSerdeCodec>(&socket_url());

    // The last progress received stays on screen: `message` holds the latest
    // frame, and a frame without progress must not blank the view.
    let progress = RwSignal::new(None::<Progress>);
    Effect::new(move |_| {
        if let Some(p) = message.get().and_then(|frame| frame.progress) {
            progress.set(Some(p));
        }
    });

    let status = move || ready_state.get().to_string();
    let seq = move || {
        progress
            .get()
            .map(|p| p.seq.to_string())
            .unwrap_or_default()
    };
    let state = move || progress.get().map(|p| p.state).unwrap_or_default();
    let percent = move || progress.get().map(|p| p.percent).unwrap_or(0.0);

    view! {
        <section id="view" data-seq=seq data-state=state data-percent=move || percent().to_string()
            data-status=status>
            <p>"status: " {status}</p>
            <progress max="100" value=move || percent().to_string()></progress>
            <p>{move || format!("{:.0} % ({})", percent(), state())}</p>
            <p>{move || progress.get().map(|p| p.message).unwrap_or_default()}</p>
        </section>
    }
}

fn main() {
    mount_to_body(App);
}
