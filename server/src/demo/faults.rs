//! Fault injection: make the transport misbehave on purpose, never the jobs.
//!
//! Every fault acts on sockets or HTTP answers only; job state in the store is
//! untouched, so a client that recovers must see exactly the progress it
//! would have seen without the fault.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;

/// Longest duration a timed fault may be set for.
pub const MAX_FAULT_MS: u64 = 600_000;
/// Longest handshake delay.
pub const MAX_DELAY_MS: u64 = 60_000;
/// Most `PATCH`es one `cut_uploads` may cut.
pub const MAX_CUTS: u32 = 1_000;
/// Most uploads whose counters are kept (later ones are not counted).
const MAX_COUNTED_UPLOADS: usize = 10_000;

/// Body of `POST /ws/admin/faults`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum FaultRequest {
    /// Abort every socket's task: TCP goes away without a close frame (client sees 1006).
    DropSockets,
    /// Answer a `fraction` of upgrades with 503 for `duration_ms`.
    RefuseUpgrades {
        /// Share of upgrades refused, 0.0..=1.0.
        #[serde(default = "one")]
        fraction: f64,
        /// How long the fault lasts.
        #[serde(default = "ten_s")]
        duration_ms: u64,
    },
    /// Answer every event stream (`GET /ws/page/events`) with 503 for
    /// `duration_ms`; with `refuse_upgrades` it leaves a page connection
    /// only its last rung, the set poll.
    RefuseStreams {
        /// How long the fault lasts.
        #[serde(default = "ten_s")]
        duration_ms: u64,
    },
    /// Stop reading and writing on every socket (no frames, no pongs) without closing.
    StallSockets {
        /// How long the fault lasts.
        #[serde(default = "twenty_s")]
        duration_ms: u64,
    },
    /// Hold each upgrade for `delay_ms` before answering it.
    DelayHandshake {
        /// Delay per handshake.
        #[serde(default = "three_s")]
        delay_ms: u64,
        /// How long the fault lasts.
        #[serde(default = "ten_s")]
        duration_ms: u64,
    },
    /// Answer `GET /ws/progress/{id}` with 503.
    PollErrors {
        /// How long the fault lasts.
        #[serde(default = "ten_s")]
        duration_ms: u64,
    },
    /// Send `server_shutdown` then close every socket with 1012, as a restart would.
    Restart {
        /// `retry_after_ms` announced to clients (default 1000).
        #[serde(default = "one_s")]
        retry_after_ms: u64,
    },
    /// Cut the body of the next `count` tus `PATCH`es longer than
    /// `after_bytes`: that many bytes are stored, then the connection closes
    /// without an answer.
    CutUploads {
        /// Bytes of each cut body that still arrive (and are kept).
        #[serde(default = "sixty_four_kib")]
        after_bytes: u64,
        /// How many `PATCH`es are cut.
        #[serde(default = "one_patch")]
        count: u32,
    },
    /// Answer every tus `PATCH` with 503 (and `Retry-After`) for `duration_ms`.
    RefuseUploads {
        /// How long the fault lasts.
        #[serde(default = "ten_s")]
        duration_ms: u64,
    },
    /// End every timed fault now.
    Clear,
}

fn one() -> f64 {
    1.0
}
fn sixty_four_kib() -> u64 {
    64 * 1024
}
fn one_patch() -> u32 {
    1
}
fn one_s() -> u64 {
    1_000
}
fn three_s() -> u64 {
    3_000
}
fn ten_s() -> u64 {
    10_000
}
fn twenty_s() -> u64 {
    20_000
}

impl FaultRequest {
    /// Rejects out-of-range parameters with a message for the caller.
    pub fn validate(&self) -> Result<(), String> {
        let check_ms = |name: &str, ms: u64, max: u64| {
            if ms == 0 || ms > max {
                Err(format!("{name} must be within 1..={max}"))
            } else {
                Ok(())
            }
        };
        match self {
            Self::RefuseUpgrades {
                fraction,
                duration_ms,
            } => {
                if !(0.0..=1.0).contains(fraction) {
                    return Err("fraction must be within 0.0..=1.0".to_owned());
                }
                check_ms("duration_ms", *duration_ms, MAX_FAULT_MS)
            }
            Self::CutUploads { count, .. } if !(1..=MAX_CUTS).contains(count) => {
                Err(format!("count must be within 1..={MAX_CUTS}"))
            }
            Self::StallSockets { duration_ms }
            | Self::RefuseStreams { duration_ms }
            | Self::PollErrors { duration_ms }
            | Self::RefuseUploads { duration_ms } => {
                check_ms("duration_ms", *duration_ms, MAX_FAULT_MS)
            }
            Self::DelayHandshake {
                delay_ms,
                duration_ms,
            } => {
                check_ms("delay_ms", *delay_ms, MAX_DELAY_MS)?;
                check_ms("duration_ms", *duration_ms, MAX_FAULT_MS)
            }
            Self::Restart { retry_after_ms } if *retry_after_ms > MAX_FAULT_MS => {
                Err(format!("retry_after_ms must be at most {MAX_FAULT_MS}"))
            }
            _ => Ok(()),
        }
    }
}

#[derive(Debug, Default)]
struct Timed {
    refuse: Option<(f64, Instant)>,
    refuse_streams: Option<Instant>,
    delay: Option<(Duration, Instant)>,
    poll_errors: Option<Instant>,
    /// `(after_bytes, PATCHes left to cut)`.
    cut_uploads: Option<(u64, u32)>,
    refuse_uploads: Option<Instant>,
}

/// What the tus endpoints saw of one upload, for tests that check how a
/// client recovered (`GET /ws/admin/uploads/{process_id}`).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UploadCounters {
    /// Body bytes stored, over every `PATCH`.
    pub bytes_received: u64,
    /// `PATCH`es that reached the upload (valid offset).
    pub patches: u64,
    /// `Upload-Offset` of each such `PATCH`, oldest first (the first 1000).
    pub offsets: Vec<u64>,
    /// `PATCH`es cut by `cut_uploads`.
    pub cut: u64,
    /// `PATCH`es answered 503 by `refuse_uploads`.
    pub refused: u64,
}

/// One thing the tus endpoints report about an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadEvent {
    /// A `PATCH` at this offset was accepted.
    Patch(u64),
    /// This many body bytes were stored.
    Bytes(u64),
    /// A `PATCH` was cut by the fault.
    Cut,
    /// A `PATCH` was refused by the fault.
    Refused,
}

/// The active timed faults.
pub struct Faults {
    enabled: bool,
    timed: Mutex<Timed>,
    /// `Some(until)` while sockets are stalled (the server's own channel,
    /// which sockets watch to resume).
    stall: Arc<watch::Sender<Option<Instant>>>,
    /// Per-upload counters by process id (only with fault injection on).
    uploads: Mutex<HashMap<String, UploadCounters>>,
}

impl Faults {
    /// No active fault. `enabled` only records whether the admin endpoint
    /// works; `stall` is the channel the server's sockets watch.
    pub fn new(enabled: bool, stall: Arc<watch::Sender<Option<Instant>>>) -> Self {
        Self {
            enabled,
            timed: Mutex::new(Timed::default()),
            stall,
            uploads: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Timed> {
        self.timed.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True when fault injection was enabled at start-up.
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Starts a timed fault (instant ones are carried out by the caller).
    pub fn apply(&self, request: &FaultRequest) {
        let now = Instant::now();
        let until = |ms: u64| now + Duration::from_millis(ms);
        match *request {
            FaultRequest::RefuseUpgrades {
                fraction,
                duration_ms,
            } => self.lock().refuse = Some((fraction, until(duration_ms))),
            FaultRequest::RefuseStreams { duration_ms } => {
                self.lock().refuse_streams = Some(until(duration_ms));
            }
            FaultRequest::StallSockets { duration_ms } => {
                self.stall.send_replace(Some(until(duration_ms)));
            }
            FaultRequest::DelayHandshake {
                delay_ms,
                duration_ms,
            } => {
                self.lock().delay = Some((Duration::from_millis(delay_ms), until(duration_ms)));
            }
            FaultRequest::PollErrors { duration_ms } => {
                self.lock().poll_errors = Some(until(duration_ms));
            }
            FaultRequest::CutUploads { after_bytes, count } => {
                self.lock().cut_uploads = Some((after_bytes, count));
            }
            FaultRequest::RefuseUploads { duration_ms } => {
                self.lock().refuse_uploads = Some(until(duration_ms));
            }
            FaultRequest::Clear => {
                *self.lock() = Timed::default();
                self.stall.send_replace(None);
            }
            FaultRequest::DropSockets | FaultRequest::Restart { .. } => {}
        }
    }

    /// Whether this upgrade should be refused (draws a random number for fractions).
    pub fn refuse_upgrade(&self) -> bool {
        match self.lock().refuse {
            Some((fraction, until)) if Instant::now() < until => {
                fraction >= 1.0 || rand::random::<f64>() < fraction
            }
            _ => false,
        }
    }

    /// Whether event streams are refused now.
    pub fn refuse_stream(&self) -> bool {
        self.lock()
            .refuse_streams
            .is_some_and(|until| Instant::now() < until)
    }

    /// How long to hold this handshake, if at all.
    pub fn handshake_delay(&self) -> Option<Duration> {
        match self.lock().delay {
            Some((delay, until)) if Instant::now() < until => Some(delay),
            _ => None,
        }
    }

    /// Whether HTTP progress polling should fail now.
    pub fn poll_error(&self) -> bool {
        self.lock()
            .poll_errors
            .is_some_and(|until| Instant::now() < until)
    }

    /// Whether this tus `PATCH` must be cut, and after how many body bytes.
    /// `body_len` is its declared length: a body no longer than the cut
    /// point is left alone and does not use up the fault.
    pub fn take_upload_cut(&self, body_len: Option<u64>) -> Option<u64> {
        let mut timed = self.lock();
        let (after, left) = timed.cut_uploads?;
        if body_len.is_some_and(|len| len <= after) {
            return None;
        }
        timed.cut_uploads = (left > 1).then(|| (after, left - 1));
        Some(after)
    }

    /// Returns a cut taken by a `PATCH` that never reached its body.
    pub fn give_back_upload_cut(&self, after_bytes: u64) {
        let mut timed = self.lock();
        timed.cut_uploads = match timed.cut_uploads {
            Some((after, left)) => Some((after, left.saturating_add(1))),
            None => Some((after_bytes, 1)),
        };
    }

    /// How long tus `PATCH`es are still refused, if they are.
    pub fn refuse_upload(&self) -> Option<Duration> {
        let until = self.lock().refuse_uploads?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then_some(left)
    }

    /// Counts an event of the upload that feeds job `process_id`
    /// (nothing is kept when fault injection is off).
    pub fn count_upload(&self, process_id: &str, event: UploadEvent) {
        if !self.enabled {
            return;
        }
        let mut uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        if !uploads.contains_key(process_id) && uploads.len() >= MAX_COUNTED_UPLOADS {
            return;
        }
        let counters = uploads.entry(process_id.to_owned()).or_default();
        match event {
            UploadEvent::Patch(offset) => {
                counters.patches += 1;
                if counters.offsets.len() < 1_000 {
                    counters.offsets.push(offset);
                }
            }
            UploadEvent::Bytes(n) => counters.bytes_received += n,
            UploadEvent::Cut => counters.cut += 1,
            UploadEvent::Refused => counters.refused += 1,
        }
    }

    /// The counters of one upload, if it was seen.
    pub fn upload_counters(&self, process_id: &str) -> Option<UploadCounters> {
        let uploads = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        uploads.get(process_id).cloned()
    }

    /// The active faults as JSON, with the time each has left.
    pub fn snapshot(&self) -> Value {
        let now = Instant::now();
        let left = |until: Instant| {
            u64::try_from(until.saturating_duration_since(now).as_millis()).unwrap_or(u64::MAX)
        };
        let mut out = serde_json::Map::new();
        let timed = self.lock();
        if let Some((fraction, until)) = timed.refuse.filter(|(_, u)| *u > now) {
            out.insert(
                "refuse_upgrades".into(),
                json!({"fraction": fraction, "remaining_ms": left(until)}),
            );
        }
        if let Some(until) = timed.refuse_streams.filter(|u| *u > now) {
            out.insert(
                "refuse_streams".into(),
                json!({"remaining_ms": left(until)}),
            );
        }
        if let Some((delay, until)) = timed.delay.filter(|(_, u)| *u > now) {
            out.insert(
                "delay_handshake".into(),
                json!({"delay_ms": delay.as_millis() as u64, "remaining_ms": left(until)}),
            );
        }
        if let Some(until) = timed.poll_errors.filter(|u| *u > now) {
            out.insert("poll_errors".into(), json!({"remaining_ms": left(until)}));
        }
        if let Some((after_bytes, count)) = timed.cut_uploads {
            out.insert(
                "cut_uploads".into(),
                json!({"after_bytes": after_bytes, "remaining": count}),
            );
        }
        if let Some(until) = timed.refuse_uploads.filter(|u| *u > now) {
            out.insert(
                "refuse_uploads".into(),
                json!({"remaining_ms": left(until)}),
            );
        }
        drop(timed);
        if let Some(until) = (*self.stall.borrow()).filter(|u| *u > now) {
            out.insert("stall_sockets".into(), json!({"remaining_ms": left(until)}));
        }
        Value::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let r: FaultRequest =
            serde_json::from_str(r#"{"action":"refuse_upgrades","fraction":0.5}"#).expect("parse");
        assert_eq!(
            r,
            FaultRequest::RefuseUpgrades {
                fraction: 0.5,
                duration_ms: 10_000
            }
        );
        assert!(r.validate().is_ok());
        let bad = FaultRequest::RefuseUpgrades {
            fraction: 2.0,
            duration_ms: 1,
        };
        assert!(bad.validate().is_err());
        assert!(serde_json::from_str::<FaultRequest>(r#"{"action":"nope"}"#).is_err());
    }

    #[test]
    fn timed_faults_show_and_clear() {
        let f = Faults::new(true, Arc::new(watch::channel(None).0));
        f.apply(&FaultRequest::PollErrors {
            duration_ms: 60_000,
        });
        f.apply(&FaultRequest::StallSockets {
            duration_ms: 60_000,
        });
        assert!(f.poll_error());
        let snap = f.snapshot();
        assert!(snap.get("poll_errors").is_some() && snap.get("stall_sockets").is_some());
        f.apply(&FaultRequest::Clear);
        assert!(!f.poll_error());
        assert_eq!(f.snapshot(), json!({}));
    }

    #[test]
    fn refused_streams_show_until_cleared() {
        let r: FaultRequest =
            serde_json::from_str(r#"{"action":"refuse_streams"}"#).expect("parse");
        assert_eq!(
            r,
            FaultRequest::RefuseStreams {
                duration_ms: 10_000
            }
        );
        assert!(r.validate().is_ok());
        assert!(FaultRequest::RefuseStreams { duration_ms: 0 }
            .validate()
            .is_err());
        let f = Faults::new(true, Arc::new(watch::channel(None).0));
        assert!(!f.refuse_stream());
        f.apply(&r);
        assert!(f.refuse_stream());
        assert!(f.snapshot()["refuse_streams"]["remaining_ms"].as_u64() > Some(0));
        f.apply(&FaultRequest::Clear);
        assert!(!f.refuse_stream());
        assert_eq!(f.snapshot(), json!({}));
    }

    #[test]
    fn upload_cuts_count_down_and_clear_ends_both_upload_faults() {
        let r: FaultRequest =
            serde_json::from_str(r#"{"action":"cut_uploads","after_bytes":10,"count":2}"#)
                .expect("parse");
        assert!(r.validate().is_ok());
        let f = Faults::new(true, Arc::new(watch::channel(None).0));
        f.apply(&r);
        assert_eq!(f.take_upload_cut(Some(10)), None, "short bodies pass");
        assert_eq!(f.take_upload_cut(Some(11)), Some(10));
        assert_eq!(f.snapshot()["cut_uploads"]["remaining"], 1);
        assert_eq!(f.take_upload_cut(None), Some(10));
        assert_eq!(f.take_upload_cut(Some(100)), None, "used up");
        f.apply(&FaultRequest::CutUploads {
            after_bytes: 0,
            count: 5,
        });
        f.apply(&FaultRequest::RefuseUploads {
            duration_ms: 60_000,
        });
        assert!(f.refuse_upload().is_some());
        assert!(f.snapshot().get("refuse_uploads").is_some());
        f.apply(&FaultRequest::Clear);
        assert_eq!(f.refuse_upload(), None);
        assert_eq!(f.take_upload_cut(Some(100)), None);
        assert_eq!(f.snapshot(), json!({}));
        let zero: FaultRequest =
            serde_json::from_str(r#"{"action":"cut_uploads","count":0}"#).expect("parse");
        assert!(zero.validate().is_err());
    }

    #[test]
    fn upload_counters_add_up_only_with_faults_on() {
        let f = Faults::new(true, Arc::new(watch::channel(None).0));
        f.count_upload("p", UploadEvent::Patch(0));
        f.count_upload("p", UploadEvent::Bytes(5));
        f.count_upload("p", UploadEvent::Cut);
        f.count_upload("p", UploadEvent::Patch(5));
        f.count_upload("p", UploadEvent::Bytes(7));
        let c = f.upload_counters("p").expect("counted");
        assert_eq!((c.bytes_received, c.patches, c.cut), (12, 2, 1));
        assert_eq!(c.offsets, vec![0, 5]);
        let off = Faults::new(false, Arc::new(watch::channel(None).0));
        off.count_upload("p", UploadEvent::Refused);
        assert_eq!(off.upload_counters("p"), None);
    }
}
