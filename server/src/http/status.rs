//! Health, status and statistics.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::progress::health_word;
use crate::state::Shared;
use crate::stats::read;

/// `GET /ws/status`: health, connection statistics (and, with the `demo`
/// feature, active faults).
pub async fn status(State(state): State<Shared>) -> Response {
    #[cfg_attr(not(feature = "demo"), allow(unused_mut))]
    let mut body = json!({
        "status": health_word(&state),
        "websocket_enabled": true,
        "statistics": {
            "total_connections": state.conns.total(),
            "active_connections": state.conns.active(),
            "connection_limit": state.conns.max_total(),
            "per_ip_limit": state.conns.max_per_ip(),
            "cached_processes": state.store.len(),
        },
        "store": state.backend.status(),
    });
    #[cfg(feature = "demo")]
    {
        body["faults"] = state.faults.snapshot();
    }
    Json(body).into_response()
}

pub(crate) fn stats_body(state: &Shared) -> serde_json::Value {
    let c = &state.stats.counters;
    json!({
        "uptime_s": state.started.elapsed().as_secs(),
        "connections": {
            "active": state.conns.active(),
            "total": state.conns.total(),
            "limit": state.conns.max_total(),
            "per_ip_limit": state.conns.max_per_ip(),
        },
        "jobs": {
            "cached": state.store.len(),
            "active": state.store.active_len(),
        },
        "frames": {
            "sent": read(&c.frames_sent),
            "received": read(&c.frames_received),
        },
        "refused": {
            "server_full": read(&c.refused_server_full),
            "per_ip": read(&c.refused_per_ip),
            "origin": read(&c.refused_origin),
            "fault": read(&c.refused_fault),
        },
        "closed": {
            "rate_limited": read(&c.rate_limited),
            "oversized": read(&c.oversized),
            "stale": read(&c.stale_dropped),
            "unauthorized": read(&c.unauthorized),
        },
        "malformed_frames": read(&c.malformed),
        "page_polls": read(&c.page_polls),
        // Tus requests being served now and the most at once (one per
        // uploading client upload: what a page's upload queue caps).
        "uploads": {
            "in_flight": state.stats.tus.in_flight(),
            "peak_in_flight": state.stats.tus.peak(),
        },
    })
}

/// `GET /ws/stats`: counters.
pub async fn stats(State(state): State<Shared>) -> Response {
    Json(stats_body(&state)).into_response()
}

/// `GET /ws/stats/rate-limit`: the message rate limit and how often it bit.
pub async fn stats_rate_limit(State(state): State<Shared>) -> Response {
    let c = &state.stats.counters;
    Json(json!({
        "limit": state.config.rate_limit,
        "window_s": state.config.rate_window.as_secs_f64(),
        "max_message_bytes": state.config.max_message_bytes,
        "rate_limited_closes": read(&c.rate_limited),
        "oversized_closes": read(&c.oversized),
    }))
    .into_response()
}
