//! WebSocket endpoints: `/ws/progress/{id}`, `/ws/progress` (all jobs) and `/ws/health`.
//!
//! One task per socket. It never blocks the pipeline: job updates arrive via
//! a `watch` channel that holds only the newest state, so a slow socket skips
//! intermediate states instead of queueing them. Every send has a timeout, a
//! silent peer is dropped after the idle timeout, and every refusal happens
//! either before the upgrade (HTTP status) or as a close code after it.

mod conn;
pub(crate) mod follow;
mod page;

use conn::Conn;
pub use page::page_socket;
use upload_progress_core::protocol::WireErrorCode;

use axum::extract::ws::WebSocketUpgrade;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::future::{AbortHandle, Abortable};

use crate::error::ApiError;
use crate::limits::{ConnGuard, Refusal};
use crate::state::{ClientIp, Shared};
use crate::stats::Counters;

/// Per-socket read buffer. tungstenite allocates its read buffer eagerly for
/// every connection (128 KiB by default) and zero-fills its free capacity
/// before every read attempt, which happens each time the socket's task
/// wakes, so once per progress update. Clients only send pings of a few dozen
/// bytes; a bigger frame is still read whole, 256 bytes per read. At 10 000
/// sockets the 4 KiB fill was the largest user-space item of a profile, and
/// the buffer 4 of the 9.4 KiB each socket held (5.6 KiB with this size).
const READ_BUFFER: usize = 256;
/// Per-socket write buffer before a flush.
const WRITE_BUFFER: usize = 4 * 1024;
/// Upper bound of queued outgoing bytes per socket.
const MAX_WRITE_BUFFER: usize = 256 * 1024;

/// What a socket serves.
#[derive(Debug, Clone)]
pub enum Target {
    /// One job; `token` is the raw `?token=` value.
    Job {
        /// The id as given in the path (validated after the upgrade).
        raw_id: String,
        /// The `?token=` query value.
        token: Option<String>,
    },
    /// Every active job.
    All,
    /// Heartbeats only.
    Health,
    /// The page socket of protocol v1.1: any number of jobs, subscribed by
    /// the client (see `page`).
    Page,
}

/// Checks that happen before an upgrade: shutdown, connection caps.
pub async fn admit(state: &Shared, ip: ClientIp) -> Result<ConnGuard, Response> {
    admit_connection(state, ip).map_err(|refused| *refused)
}

/// The checks every long-lived connection passes, sockets and event streams
/// alike: not shutting down, and within the connection caps (which count
/// connections, whatever each one follows). The refusal is boxed: it is
/// rare, and the guard is what callers keep. (Injected faults are a layer in
/// front of the routes, not a check here.)
pub fn admit_connection(state: &Shared, ip: ClientIp) -> Result<ConnGuard, Box<Response>> {
    if state.is_shutting_down() {
        return Err(Box::new(shutting_down()));
    }
    state
        .conns
        .try_acquire(ip.0)
        .map_err(|refusal| match refusal {
            Refusal::ServerFull => {
                Counters::bump(&state.stats.counters.refused_server_full);
                unavailable(
                    WireErrorCode::ServerFull,
                    "too many connections; try again later",
                )
            }
            Refusal::PerIpFull => {
                Counters::bump(&state.stats.counters.refused_per_ip);
                unavailable(
                    WireErrorCode::TooManyConnections,
                    "too many connections from this address; try again later",
                )
            }
        })
        .map_err(Box::new)
}

fn shutting_down() -> Response {
    unavailable(WireErrorCode::ShuttingDown, "the server is shutting down")
}

pub(crate) fn unavailable(code: WireErrorCode, message: &str) -> Response {
    let mut resp = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message).into_response();
    resp.headers_mut().insert(
        axum::http::header::RETRY_AFTER,
        axum::http::HeaderValue::from_static("5"),
    );
    resp
}

/// Upgrades with the server's buffer and size limits and runs the socket.
pub fn upgrade(ws: WebSocketUpgrade, state: Shared, guard: ConnGuard, target: Target) -> Response {
    let hard_max = transport_cap(state.config.max_message_bytes);
    ws.read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_write_buffer_size(MAX_WRITE_BUFFER.max(hard_max))
        .max_message_size(hard_max)
        .max_frame_size(hard_max)
        .on_failed_upgrade(|err| tracing::debug!(%err, "upgrade failed"))
        .on_upgrade(move |socket| async move {
            // The socket runs as an abortable future, so the drop-sockets
            // fault can end it: the future is dropped, and with it the TCP
            // stream, with no close frame. Registered before its first poll,
            // so a drop can never miss a socket that is already sending; and
            // one task per socket, not a second one to hold an abort handle.
            let (abort, registration) = AbortHandle::new_pair();
            guard.registrar().register(abort);
            let conn_id = guard.id();
            let run = Abortable::new(Conn::new(socket, state).run(target), registration);
            // An abort is the intended outcome of that fault, not an error.
            if run.await.is_ok() {
                tracing::debug!(conn_id, "socket finished");
            }
            // The slot is released only once the socket is gone.
            drop(guard);
        })
}

/// The transport's own cap, a few times the protocol limit.
///
/// A frame over the transport cap is refused from its header, before its
/// payload is read; the unread bytes then make the kernel reset the
/// connection and the client may never see our close frame. Reading frames
/// up to this cap and applying the protocol limit ourselves lets the usual
/// oversize case end with a clean `error` frame and close 1009, while memory
/// per socket stays bounded.
fn transport_cap(limit: usize) -> usize {
    limit.saturating_mul(4).clamp(limit, 64 * 1024 * 1024)
}
