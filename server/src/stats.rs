//! Counters behind `/ws/stats*`: per-job socket and polling activity, refusals, closes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Serialize;
use upload_progress_core::ProcessId;

/// Most per-job entries kept; ids beyond it are still served, just not counted.
const MAX_TRACKED: usize = 10_000;

/// Activity of one job's endpoints.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ProcessStats {
    /// Sockets open now.
    pub ws_active: u64,
    /// Sockets opened since start.
    pub ws_opened: u64,
    /// HTTP progress requests answered.
    pub http_requests: u64,
}

/// Event counters, all monotonic.
#[derive(Debug, Default)]
pub struct Counters {
    /// Frames sent to clients.
    pub frames_sent: AtomicU64,
    /// Frames received from clients.
    pub frames_received: AtomicU64,
    /// Upgrades refused because the server was full.
    pub refused_server_full: AtomicU64,
    /// Upgrades refused because one IP held too many sockets.
    pub refused_per_ip: AtomicU64,
    /// Requests refused for a foreign `Origin`.
    pub refused_origin: AtomicU64,
    /// Upgrades and event streams refused by the refuse-upgrades and
    /// refuse-streams faults.
    pub refused_fault: AtomicU64,
    /// Set polls (`GET /ws/page/poll`) that reached the server, whatever
    /// their answer: how many pollers a set of jobs has shows in its rate.
    pub page_polls: AtomicU64,
    /// Sockets closed 1008 for sending too fast.
    pub rate_limited: AtomicU64,
    /// Sockets closed 1009 for an oversized message.
    pub oversized: AtomicU64,
    /// Malformed frames answered with an `error` frame.
    pub malformed: AtomicU64,
    /// Sockets dropped for silence or a stuck send.
    pub stale_dropped: AtomicU64,
    /// Sockets closed 4401 or requests answered 401 for a token problem.
    pub unauthorized: AtomicU64,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// Tus requests being served, and the most served at once. A tus client
/// keeps at most one request per upload in flight, so this is how many
/// uploads are sending at the same time (what a page's upload queue caps).
#[derive(Debug, Default)]
pub struct TusActivity {
    in_flight: AtomicU64,
    peak: AtomicU64,
}

impl TusActivity {
    /// A tus request arrived; it counts as in flight until the guard drops
    /// (also when the client aborts it and the handler is dropped).
    pub fn begin(self: &std::sync::Arc<Self>) -> TusRequest {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak.fetch_max(now, Ordering::Relaxed);
        TusRequest(std::sync::Arc::clone(self))
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The most in flight at once since the server started.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

/// Keeps one tus request counted while it lives.
pub struct TusRequest(std::sync::Arc<TusActivity>);

impl Drop for TusRequest {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Per-job activity plus the global counters.
#[derive(Default)]
pub struct Stats {
    per_process: Mutex<HashMap<ProcessId, ProcessStats>>,
    /// Global counters.
    pub counters: Counters,
    /// Tus requests in flight.
    pub tus: std::sync::Arc<TusActivity>,
}

impl Stats {
    fn lock(&self) -> MutexGuard<'_, HashMap<ProcessId, ProcessStats>> {
        self.per_process.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn with(&self, id: &ProcessId, f: impl FnOnce(&mut ProcessStats)) {
        let mut map = self.lock();
        if let Some(s) = map.get_mut(id) {
            f(s);
        } else if map.len() < MAX_TRACKED {
            f(map.entry(id.clone()).or_default());
        }
    }

    /// A socket for `id` opened; it counts as active until the guard drops.
    ///
    /// A guard rather than a paired call, because the drop-sockets fault
    /// aborts the connection task: code after an `await` never runs then,
    /// but destructors do.
    pub fn ws_opened<'a>(&'a self, id: &ProcessId) -> ActiveSocket<'a> {
        self.with(id, |s| {
            s.ws_opened += 1;
            s.ws_active += 1;
        });
        ActiveSocket {
            stats: self,
            id: id.clone(),
        }
    }

    /// An HTTP progress request for `id` arrived.
    pub fn http_request(&self, id: &ProcessId) {
        self.with(id, |s| s.http_requests += 1);
    }

    /// Every job's activity.
    pub fn per_process(&self) -> HashMap<String, ProcessStats> {
        self.lock()
            .iter()
            .map(|(id, s)| (id.to_string(), *s))
            .collect()
    }

    /// Forgets idle entries whose job is gone; returns how many went.
    pub fn forget_idle(&self, keep: impl Fn(&ProcessId) -> bool) -> usize {
        let mut map = self.lock();
        let before = map.len();
        map.retain(|id, s| s.ws_active > 0 || keep(id));
        before - map.len()
    }
}

/// Reads a counter.
pub fn read(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::Relaxed)
}

/// Keeps one socket of a job counted in `ws_active` while it lives.
pub struct ActiveSocket<'a> {
    stats: &'a Stats,
    id: ProcessId,
}

impl Drop for ActiveSocket<'_> {
    fn drop(&mut self) {
        self.stats
            .with(&self.id, |s| s.ws_active = s.ws_active.saturating_sub(1));
    }
}
