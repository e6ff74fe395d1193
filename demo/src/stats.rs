//! The server's connection statistics (`GET /ws/stats`), refreshed while
//! the page is open, so a fault's effect on the server side is visible too,
//! beside this page's own count of progress connections: every job card
//! follows its job through the page's one connection, however many files
//! were dropped.
//! Not while the browser is offline: a request then can only fail (and
//! logs an error each time); the panel asks again as soon as it is online.

use std::time::Duration;

use leptos::prelude::*;
use serde::Deserialize;
use upload_progress_robust::{progress_connections, ProgressConnections};

use crate::api;

/// How often the panel asks again.
const REFRESH: Duration = Duration::from_secs(2);

/// The part of `/ws/stats` the page shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ServerStats {
    uptime_s: u64,
    connections: Connections,
    jobs: Jobs,
    frames: Frames,
    refused: Refused,
    /// Missing from servers older than the counter.
    #[serde(default)]
    uploads: Uploads,
}

/// Tus requests in flight: one per upload that is sending.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Uploads {
    in_flight: u64,
    peak_in_flight: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Connections {
    active: u64,
    total: u64,
    limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Jobs {
    cached: u64,
    active: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Frames {
    sent: u64,
    received: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
struct Refused {
    server_full: u64,
    per_ip: u64,
    origin: u64,
    fault: u64,
}

impl ServerStats {
    /// Label and value of each line, in display order; `page` is this
    /// page's own progress connections.
    fn rows(&self, page: ProgressConnections) -> Vec<(&'static str, String)> {
        let c = &self.connections;
        let r = &self.refused;
        vec![
            (
                "Progress connections (this page)",
                format!("{} for {} widgets", page.connections, page.widgets),
            ),
            ("Open connections", format!("{} of {}", c.active, c.limit)),
            ("Connections opened", c.total.to_string()),
            (
                "Upgrades refused",
                format!(
                    "{} ({} by a fault)",
                    r.server_full + r.per_ip + r.origin + r.fault,
                    r.fault
                ),
            ),
            (
                "Frames sent / received",
                format!("{} / {}", self.frames.sent, self.frames.received),
            ),
            (
                "Uploads sending (most at once)",
                format!(
                    "{} ({})",
                    self.uploads.in_flight, self.uploads.peak_in_flight
                ),
            ),
            (
                "Jobs running / held",
                format!("{} / {}", self.jobs.active, self.jobs.cached),
            ),
            ("Server up for", format!("{} s", self.uptime_s)),
        ]
    }
}

/// True when the browser says it is offline (`navigator.onLine` is only
/// trustworthy when it says so).
fn browser_offline() -> bool {
    web_sys::window().is_some_and(|w| !w.navigator().on_line())
}

/// The statistics panel; `http_base` is the server's origin.
#[component]
pub fn StatsPanel(#[prop(into)] http_base: Signal<String>) -> impl IntoView {
    let (stats, set_stats) = signal(None::<Result<ServerStats, String>>);
    let (offline, set_offline) = signal(browser_offline());
    let refresh = move || {
        if browser_offline() {
            set_offline.try_set(true);
            return;
        }
        set_offline.try_set(false);
        let base = http_base.get_untracked();
        leptos::task::spawn_local(async move {
            set_stats.try_set(Some(api::stats(&base).await));
        });
    };
    refresh();
    if let Ok(handle) = set_interval_with_handle(refresh, REFRESH) {
        on_cleanup(move || handle.clear());
    }
    let online = window_event_listener(leptos::ev::online, move |_| refresh());
    let offline_now = window_event_listener(leptos::ev::offline, move |_| {
        set_offline.try_set(true);
    });
    on_cleanup(move || {
        online.remove();
        offline_now.remove();
    });

    let rows = move || match stats.get() {
        _ if offline.get() => view! {
            <p class="demo__muted" data-stats-paused="offline">
                "The browser is offline: not asking the server until it is back."
            </p>
        }
        .into_any(),
        None => view! { <p class="demo__muted">"Asking the server…"</p> }.into_any(),
        Some(Err(e)) => view! {
            <p class="demo__muted">"The server did not answer: " {e}</p>
        }
        .into_any(),
        Some(Ok(s)) => view! {
            <dl class="demo__stats">
                {s
                    .rows(progress_connections())
                    .into_iter()
                    .map(|(label, value)| view! {
                        <div class="demo__stat">
                            <dt>{label}</dt>
                            <dd>{value}</dd>
                        </div>
                    })
                    .collect_view()}
            </dl>
        }
        .into_any(),
    };

    view! {
        <section class="demo__panel" aria-labelledby="demo-stats-title">
            <h2 id="demo-stats-title">"Server"</h2>
            <p class="demo__muted">"Connection statistics of the dev server, every 2 s."</p>
            {rows}
        </section>
    }
}
