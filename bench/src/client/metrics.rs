//! What one subscriber saw, and the live counters the storm sampler reads.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters shared by every client task; read while the clients run.
#[derive(Debug, Default)]
pub struct Counters {
    /// Subscribers whose session says `Connected` right now.
    pub live: AtomicU64,
    /// Subscribers whose session is in HTTP polling mode right now.
    pub polling: AtomicU64,
    /// Sockets opened so far (handshake completed).
    pub opened: AtomicU64,
    /// Socket attempts that failed before opening.
    pub failed: AtomicU64,
}

impl Counters {
    /// Reads a counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

/// Everything one client task recorded, returned when it ends.
#[derive(Debug, Default, Clone)]
pub struct ClientReport {
    /// Server emit to receipt, ms, one per `progress` frame that carried newer state.
    pub latencies_ms: Vec<u64>,
    /// Distinct seqs (>= 1) the session accepted.
    pub seqs: u64,
    /// Seq of the terminal state, when it arrived.
    pub final_seq: Option<u64>,
    /// Entered HTTP polling at some point while `Shared::count_fallback` was true.
    pub fell_back: bool,
}
