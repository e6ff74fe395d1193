//! TypeScript declarations (`types.d.ts`) for the embed API's plain-object
//! options, the objects its callbacks receive and the custom element:
//! wasm-bindgen types them as `any`, so these go into the emitted `.d.ts`
//! beside the generated ones. The unions are core's names
//! (`upload_progress_core::names`); a browser test checks they list exactly
//! those.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const EMBED_TYPES: &str = include_str!("types.d.ts");

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use upload_progress_core::session::ErrorKind;
    use upload_progress_core::{JobState, StageStatus};
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const TYPES: &str = include_str!("types.d.ts");

    /// The quoted names of `export type {name} = "a" | "b";`.
    fn union(name: &str) -> Vec<String> {
        let start = format!("export type {name} = ");
        let line = TYPES
            .lines()
            .find_map(|l| l.strip_prefix(start.as_str()))
            .unwrap_or_else(|| panic!("no type {name}"));
        line.trim_end_matches(';')
            .split(" | ")
            .map(|n| n.trim_matches('"').to_owned())
            .collect()
    }

    fn names<T: Copy>(all: &[T], as_str: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|v| as_str(*v).to_owned()).collect()
    }

    #[wasm_bindgen_test]
    fn the_declared_unions_are_cores_names() {
        assert_eq!(union("JobState"), names(JobState::ALL, JobState::as_str));
        assert_eq!(
            union("StageStatus"),
            names(StageStatus::ALL, StageStatus::as_str)
        );
        assert_eq!(union("ErrorKind"), names(ErrorKind::ALL, ErrorKind::as_str));
    }

    #[wasm_bindgen_test]
    fn every_session_event_is_declared() {
        use upload_progress_core::session::{AttemptId, SessionEvent};
        let events = [
            SessionEvent::AttemptOpened {
                attempt: AttemptId(1),
                number: 1,
                probe: false,
            },
            SessionEvent::SocketLive {
                attempt: AttemptId(1),
            },
            SessionEvent::SocketClosed {
                attempt: AttemptId(1),
                code: 1006,
                reason: String::new(),
            },
            SessionEvent::BackoffChosen {
                delay_ms: 1,
                attempt: 1,
                max_attempts: 3,
            },
            SessionEvent::FellBackToPolling,
            SessionEvent::BackOnSocket,
            SessionEvent::BridgePolling,
            SessionEvent::TokenRefresh {
                ahead_of_expiry: true,
            },
            SessionEvent::StallSuspected { silent_ms: 1 },
            SessionEvent::OfflineCheck,
            SessionEvent::HeartbeatTimeout,
            SessionEvent::ConnectTimeout,
            SessionEvent::DrainHint { retry_after_ms: 1 },
        ];
        for event in &events {
            // Every field the JS object carries is declared on its member.
            let value = serde_json::to_value(event).unwrap();
            let kind = value["type"].as_str().unwrap();
            let member = TYPES
                .lines()
                .find(|l| l.contains(&format!(r#"type: "{kind}""#)))
                .unwrap_or_else(|| panic!("no SessionEvent member {kind}"));
            for field in value.as_object().unwrap().keys() {
                assert!(member.contains(&format!("{field}:")), "{kind}.{field}");
            }
        }
    }
}
