//! A shell that parses frames itself (`Input::SocketFrame`) gets exactly the
//! decisions of one that hands over the text (`Input::SocketMessage`).

mod common;

use common::*;
use upload_progress_core::session::Input;
use upload_progress_core::{JobState, ServerMessage};

/// Runs the same frames through both inputs and compares everything the
/// session did.
fn same_decisions(frames: &[String]) {
    let mut as_text = Shell::started(exact());
    let mut parsed = Shell::started(exact());
    for shell in [&mut as_text, &mut parsed] {
        shell.open();
    }
    for (i, text) in frames.iter().enumerate() {
        let attempt = as_text.attempt();
        as_text.input(Input::SocketMessage {
            attempt,
            text: text.clone(),
        });
        let attempt = parsed.attempt();
        parsed.input(Input::SocketFrame {
            attempt,
            message: serde_json::from_str::<ServerMessage>(text).ok(),
        });
        as_text.advance(500);
        parsed.advance(500);
        assert_eq!(as_text.log, parsed.log, "after frame {i}: {text}");
        assert_eq!(as_text.status(), parsed.status(), "after frame {i}: {text}");
    }
}

#[test]
fn a_job_to_completion_decides_the_same() {
    same_decisions(&[
        snapshot_frame(running(1, 0.0)),
        "not json".to_owned(),
        r#"{"type":"pong","id":1,"server_ts_ms":5}"#.to_owned(),
        progress_frame(running(2, 40.0)),
        r#"{"type":"error","code":"bad_message","message":"?"}"#.to_owned(),
        progress_frame(running(2, 40.0)),
        progress_frame(progress(3, 100.0, JobState::Completed)),
    ]);
}

#[test]
fn a_drain_hint_decides_the_same() {
    same_decisions(&[
        snapshot_frame(running(1, 10.0)),
        r#"{"type":"server_shutdown","retry_after_ms":1500}"#.to_owned(),
        r#"{"type":"hello"}"#.to_owned(),
    ]);
}
