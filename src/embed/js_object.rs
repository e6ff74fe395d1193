//! Plain JS objects for the embed API's callbacks (`onComplete`,
//! `onEvent`), set property by property. They have the shape serde gives
//! the same values (field names, snake_case tags, `null` for `None`), but
//! the module carries no JSON serializer for them.

use js_sys::{Array, Object, Reflect};
use upload_progress_core::session::{SessionEvent, StatusError};
use upload_progress_core::Progress;
use wasm_bindgen::JsValue;

/// An object built up one property at a time.
struct Props(Object);

impl Props {
    fn new() -> Self {
        Self(Object::new())
    }

    fn set(self, key: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value.into());
        self
    }

    /// A count or a time: exact in a JS number up to 2^53, like `JSON.parse`
    /// reads the serialized number.
    fn number(self, key: &str, value: u64) -> Self {
        self.set(key, value as f64)
    }

    fn text(self, key: &str, value: &str) -> Self {
        self.set(key, JsValue::from_str(value))
    }

    fn optional_text(self, key: &str, value: Option<&str>) -> Self {
        self.set(key, value.map_or(JsValue::NULL, JsValue::from_str))
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

/// The job's progress, as the wire protocol spells it.
pub(crate) fn progress(p: &Progress) -> JsValue {
    let stages: Array = p
        .stages
        .iter()
        .map(|s| {
            Props::new()
                .text("name", &s.name)
                .text("label", &s.label)
                .text("status", s.status.as_str())
                .done()
        })
        .collect();
    Props::new()
        .text("process_id", p.process_id.as_str())
        .number("seq", p.seq)
        .text("state", p.state.as_str())
        .optional_text("stage", p.stage.as_deref())
        .number("stage_index", p.stage_index.into())
        .number("stage_count", p.stage_count.into())
        .set("stages", stages)
        .set("percent", p.percent)
        .text("message", &p.message)
        .optional_text("error", p.error.as_deref())
        .number("updated_at_ms", p.updated_at_ms)
        .done()
}

/// An error for `onError`: `{kind, message, hint}`, `kind` by core's name
/// table (`auth`, `network`, ...).
pub(crate) fn error(e: &StatusError) -> JsValue {
    Props::new()
        .text("kind", e.kind.as_str())
        .text("message", &e.message)
        .text("hint", &e.hint)
        .done()
}

/// A decision of the session: `{type: "backoff_chosen", delay_ms, ...}`.
pub(crate) fn event(e: &SessionEvent) -> JsValue {
    let tagged = |name: &str| Props::new().text("type", name);
    match e {
        SessionEvent::AttemptOpened {
            attempt,
            number,
            probe,
        } => tagged("attempt_opened")
            .number("attempt", attempt.0)
            .number("number", (*number).into())
            .set("probe", *probe),
        SessionEvent::SocketLive { attempt } => tagged("socket_live").number("attempt", attempt.0),
        SessionEvent::SocketClosed {
            attempt,
            code,
            reason,
        } => tagged("socket_closed")
            .number("attempt", attempt.0)
            .number("code", (*code).into())
            .text("reason", reason),
        SessionEvent::BackoffChosen {
            delay_ms,
            attempt,
            max_attempts,
        } => tagged("backoff_chosen")
            .number("delay_ms", *delay_ms)
            .number("attempt", (*attempt).into())
            .number("max_attempts", (*max_attempts).into()),
        SessionEvent::FellBackToPolling => tagged("fell_back_to_polling"),
        SessionEvent::BackOnSocket => tagged("back_on_socket"),
        SessionEvent::BridgePolling => tagged("bridge_polling"),
        SessionEvent::TokenRefresh { ahead_of_expiry } => {
            tagged("token_refresh").set("ahead_of_expiry", *ahead_of_expiry)
        }
        SessionEvent::StallSuspected { silent_ms } => {
            tagged("stall_suspected").number("silent_ms", *silent_ms)
        }
        SessionEvent::OfflineCheck => tagged("offline_check"),
        SessionEvent::WokeUp { late_ms } => tagged("woke_up").number("late_ms", *late_ms),
        SessionEvent::NetworkCheck => tagged("network_check"),
        SessionEvent::HeartbeatTimeout => tagged("heartbeat_timeout"),
        SessionEvent::ConnectTimeout => tagged("connect_timeout"),
        SessionEvent::DrainHint { retry_after_ms } => {
            tagged("drain_hint").number("retry_after_ms", *retry_after_ms)
        }
    }
    .done()
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use upload_progress_core::session::{AttemptId, SessionEvent};
    use upload_progress_core::{JobState, ProcessId, Progress, Stage, StageStatus};
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    /// What the callback receives, as text, against serde's text for the
    /// same value (both list the fields in declaration order).
    fn same_as_serde(value: wasm_bindgen::JsValue, serde: String) {
        let ours = js_sys::JSON::stringify(&value)
            .unwrap()
            .as_string()
            .unwrap();
        assert_eq!(ours, serde);
    }

    #[wasm_bindgen_test]
    fn progress_objects_match_the_wire_form() {
        let statuses = [
            StageStatus::Done,
            StageStatus::Active,
            StageStatus::Pending,
            StageStatus::Failed,
            StageStatus::Skipped,
        ];
        for (i, state) in [
            JobState::Pending,
            JobState::Running,
            JobState::Completed,
            JobState::Failed,
            JobState::Cancelled,
        ]
        .into_iter()
        .enumerate()
        {
            let p = Progress {
                process_id: ProcessId::parse("job_1").unwrap(),
                seq: 7 + i as u64,
                state,
                stage: (i % 2 == 0).then(|| "indexing".to_owned()),
                stage_index: 1,
                stage_count: 5,
                stages: statuses
                    .iter()
                    .map(|s| Stage {
                        name: format!("s{i}"),
                        label: "Label \"quoted\"".to_owned(),
                        status: *s,
                    })
                    .collect(),
                // Not whole numbers: serde writes `100.0` where JSON.stringify writes `100`.
                percent: [0.5, 62.5, 99.75, 33.25, 1.125][i],
                message: "Indexing…".to_owned(),
                error: (state == JobState::Failed).then(|| "boom".to_owned()),
                updated_at_ms: 1_700_000_000_000,
            };
            same_as_serde(super::progress(&p), serde_json::to_string(&p).unwrap());
        }
    }

    #[wasm_bindgen_test]
    fn event_objects_match_the_serde_form() {
        let events = [
            SessionEvent::AttemptOpened {
                attempt: AttemptId(3),
                number: 2,
                probe: true,
            },
            SessionEvent::SocketLive {
                attempt: AttemptId(4),
            },
            SessionEvent::SocketClosed {
                attempt: AttemptId(4),
                code: 1006,
                reason: "gone".to_owned(),
            },
            SessionEvent::BackoffChosen {
                delay_ms: 3_200,
                attempt: 2,
                max_attempts: 3,
            },
            SessionEvent::FellBackToPolling,
            SessionEvent::BackOnSocket,
            SessionEvent::BridgePolling,
            SessionEvent::TokenRefresh {
                ahead_of_expiry: false,
            },
            SessionEvent::StallSuspected { silent_ms: 4_000 },
            SessionEvent::WokeUp { late_ms: 58_000 },
            SessionEvent::NetworkCheck,
            SessionEvent::HeartbeatTimeout,
            SessionEvent::ConnectTimeout,
            SessionEvent::DrainHint {
                retry_after_ms: 1_500,
            },
        ];
        for e in &events {
            same_as_serde(super::event(e), serde_json::to_string(e).unwrap());
        }
    }
}
