//! The faults the demo page can ask the dev server for, each with the
//! real-world trouble it stands in for.

use serde_json::json;

/// One fault of the dev server's `/ws/admin/faults` (it needs `--faults`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    DropSockets,
    RefuseUpgrades,
    StallSockets,
    Restart,
    PollErrors,
    CutUploads,
    RefuseUploads,
    Clear,
}

impl Fault {
    /// Every fault, in button order; `Clear` last.
    pub const ALL: [Fault; 8] = [
        Fault::DropSockets,
        Fault::RefuseUpgrades,
        Fault::StallSockets,
        Fault::Restart,
        Fault::PollErrors,
        Fault::CutUploads,
        Fault::RefuseUploads,
        Fault::Clear,
    ];

    /// Button text.
    pub fn label(self) -> &'static str {
        match self {
            Fault::DropSockets => "Drop sockets",
            Fault::RefuseUpgrades => "Refuse upgrades (15 s)",
            Fault::StallSockets => "Stall sockets (20 s)",
            Fault::Restart => "Restart (drain)",
            Fault::PollErrors => "Polling 503 (10 s)",
            Fault::CutUploads => "Cut the next upload",
            Fault::RefuseUploads => "Refuse uploads (10 s)",
            Fault::Clear => "Clear faults",
        }
    }

    /// One line on what it simulates.
    pub fn simulates(self) -> &'static str {
        match self {
            Fault::DropSockets => {
                "A proxy or Wi-Fi hand-over kills every socket without a close frame (1006)."
            }
            Fault::RefuseUpgrades => {
                "A load balancer answers WebSocket upgrades with 503: retries fail until the page falls back to polling."
            }
            Fault::StallSockets => {
                "Half-open connections: sockets stay up but nothing moves, so only the heartbeat notices."
            }
            Fault::Restart => {
                "A rolling deploy: the server says it is restarting and closes with 1012."
            }
            Fault::PollErrors => "The HTTP fallback itself fails with 503 for a while.",
            Fault::CutUploads => {
                "The connection drops mid-upload after 64 KiB: the upload resumes from the server's offset."
            }
            Fault::RefuseUploads => {
                "The upload endpoint is overloaded (503 with Retry-After): chunks wait and retry."
            }
            Fault::Clear => "Ends every timed fault now.",
        }
    }

    /// The request body of `POST /ws/admin/faults`.
    pub fn body(self) -> serde_json::Value {
        match self {
            Fault::DropSockets => json!({"action": "drop_sockets"}),
            Fault::RefuseUpgrades => {
                json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 15_000})
            }
            Fault::StallSockets => json!({"action": "stall_sockets", "duration_ms": 20_000}),
            Fault::Restart => json!({"action": "restart", "retry_after_ms": 1_000}),
            Fault::PollErrors => json!({"action": "poll_errors", "duration_ms": 10_000}),
            Fault::CutUploads => {
                json!({"action": "cut_uploads", "after_bytes": 65_536, "count": 1})
            }
            Fault::RefuseUploads => json!({"action": "refuse_uploads", "duration_ms": 10_000}),
            Fault::Clear => json!({"action": "clear"}),
        }
    }
}
