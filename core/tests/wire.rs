//! Golden JSON for every message of protocol v1, round trips, and id validation.

use serde::de::DeserializeOwned;
use serde::Serialize;
use upload_progress_core::{
    ClientMessage, ErrorResponse, InvalidProcessId, JobState, ProcessId, Progress,
    ProgressResponse, ServerMessage, Stage, StageStatus, UploadAccepted,
};

const PROGRESS_JSON: &str = concat!(
    r#"{"process_id":"auto_proc_ebdfe06c_1751921426","seq":7,"state":"running","#,
    r#""stage":"text_extraction","stage_index":1,"stage_count":2,"#,
    r#""stages":[{"name":"upload","label":"Upload received","status":"done"},"#,
    r#"{"name":"text_extraction","label":"Text extraction","status":"active"}],"#,
    r#""percent":42.5,"message":"Extracting text and images...","error":null,"#,
    r#""updated_at_ms":1751921430123}"#
);

fn sample() -> Progress {
    Progress {
        process_id: ProcessId::parse("auto_proc_ebdfe06c_1751921426").unwrap(),
        seq: 7,
        state: JobState::Running,
        stage: Some("text_extraction".into()),
        stage_index: 1,
        stage_count: 2,
        stages: vec![
            Stage {
                name: "upload".into(),
                label: "Upload received".into(),
                status: StageStatus::Done,
            },
            Stage {
                name: "text_extraction".into(),
                label: "Text extraction".into(),
                status: StageStatus::Active,
            },
        ],
        percent: 42.5,
        message: "Extracting text and images...".into(),
        error: None,
        updated_at_ms: 1_751_921_430_123,
    }
}

/// Serialises to exactly `golden` and parses back to the same value.
fn golden<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, golden: &str) {
    assert_eq!(serde_json::to_string(value).unwrap(), golden);
    assert_eq!(&serde_json::from_str::<T>(golden).unwrap(), value);
}

#[test]
fn progress_matches_its_golden_json() {
    golden(&sample(), PROGRESS_JSON);
}

#[test]
fn snapshot_frame_matches_its_golden_json() {
    golden(
        &ServerMessage::Snapshot { progress: sample() },
        &format!(r#"{{"type":"snapshot","progress":{PROGRESS_JSON}}}"#),
    );
}

#[test]
fn progress_frame_matches_its_golden_json() {
    golden(
        &ServerMessage::Progress { progress: sample() },
        &format!(r#"{{"type":"progress","progress":{PROGRESS_JSON}}}"#),
    );
}

#[test]
fn pong_frame_matches_its_golden_json() {
    golden(
        &ServerMessage::Pong {
            id: 3,
            server_ts_ms: 1_751_921_430_123,
        },
        r#"{"type":"pong","id":3,"server_ts_ms":1751921430123}"#,
    );
}

#[test]
fn server_shutdown_frame_matches_its_golden_json() {
    golden(
        &ServerMessage::ServerShutdown {
            retry_after_ms: 1000,
        },
        r#"{"type":"server_shutdown","retry_after_ms":1000}"#,
    );
}

#[test]
fn error_frame_matches_its_golden_json() {
    golden(
        &ServerMessage::Error {
            code: "rate_limited".into(),
            message: "Too many messages".into(),
        },
        r#"{"type":"error","code":"rate_limited","message":"Too many messages"}"#,
    );
}

#[test]
fn ping_frame_matches_its_golden_json() {
    golden(&ClientMessage::Ping { id: 7 }, r#"{"type":"ping","id":7}"#);
}

#[test]
fn upload_accepted_matches_its_golden_json() {
    golden(
        &UploadAccepted {
            process_id: ProcessId::parse("auto_proc_1").unwrap(),
            token: "abc.def".into(),
            expires_in_s: 900,
        },
        r#"{"process_id":"auto_proc_1","token":"abc.def","expires_in_s":900}"#,
    );
}

#[test]
fn progress_response_matches_its_golden_json() {
    golden(
        &ProgressResponse { progress: sample() },
        &format!(r#"{{"progress":{PROGRESS_JSON}}}"#),
    );
}

#[test]
fn error_response_matches_its_golden_json() {
    golden(
        &ErrorResponse::new("unknown_process", "No such job"),
        r#"{"error":{"code":"unknown_process","message":"No such job"}}"#,
    );
}

#[test]
fn every_job_state_and_stage_status_uses_snake_case() {
    let states = [
        (JobState::Pending, "\"pending\""),
        (JobState::Running, "\"running\""),
        (JobState::Completed, "\"completed\""),
        (JobState::Failed, "\"failed\""),
        (JobState::Cancelled, "\"cancelled\""),
    ];
    for (state, json) in states {
        golden(&state, json);
    }
    let statuses = [
        (StageStatus::Pending, "\"pending\""),
        (StageStatus::Active, "\"active\""),
        (StageStatus::Done, "\"done\""),
        (StageStatus::Failed, "\"failed\""),
        (StageStatus::Skipped, "\"skipped\""),
    ];
    for (status, json) in statuses {
        golden(&status, json);
    }
}

#[test]
fn only_completed_failed_and_cancelled_are_terminal() {
    assert!(!JobState::Pending.is_terminal());
    assert!(!JobState::Running.is_terminal());
    assert!(JobState::Completed.is_terminal());
    assert!(JobState::Failed.is_terminal());
    assert!(JobState::Cancelled.is_terminal());
}

#[test]
fn unknown_frame_types_and_malformed_json_are_errors_not_panics() {
    for raw in [
        r#"{"type":"nope"}"#,
        r#"{"type":"pong"}"#,
        "not json",
        "",
        r#"{"type":"snapshot","progress":{"process_id":"../x"}}"#,
    ] {
        assert!(serde_json::from_str::<ServerMessage>(raw).is_err(), "{raw}");
    }
}

#[test]
fn a_frame_with_an_invalid_process_id_is_rejected_while_parsing() {
    let bad = PROGRESS_JSON.replace("auto_proc_ebdfe06c_1751921426", "a/b");
    assert!(serde_json::from_str::<Progress>(&bad).is_err());
}

#[test]
fn process_ids_of_the_allowed_alphabet_up_to_128_chars_are_accepted() {
    for raw in [
        "a",
        "auto_proc_ebdfe06c_1751921426",
        "A-Z_0-9",
        &"x".repeat(128),
    ] {
        assert_eq!(ProcessId::parse(raw).unwrap().as_str(), raw);
    }
}

#[test]
fn empty_process_id_is_rejected() {
    assert_eq!(ProcessId::parse(""), Err(InvalidProcessId::Empty));
}

#[test]
fn process_id_of_129_chars_is_rejected() {
    assert_eq!(
        ProcessId::parse(&"x".repeat(129)),
        Err(InvalidProcessId::TooLong { len: 129 })
    );
}

#[test]
fn process_ids_with_bad_characters_are_rejected_with_the_first_offender() {
    let cases = [
        ("../x", '.', 0),
        ("a/b", '/', 1),
        ("caf\u{e9}", '\u{e9}', 3),
        ("two words", ' ', 3),
        (" lead", ' ', 0),
        ("tab\t", '\t', 3),
        ("semi;colon", ';', 4),
        ("q?x=1", '?', 1),
        ("pct%2F", '%', 3),
    ];
    for (raw, found, position) in cases {
        assert_eq!(
            ProcessId::parse(raw),
            Err(InvalidProcessId::BadCharacter { found, position }),
            "{raw:?}"
        );
    }
}

#[test]
fn process_id_errors_explain_themselves() {
    let message = ProcessId::parse("a/b").unwrap_err().to_string();
    assert!(message.contains("'/'"), "{message}");
}

#[test]
fn process_id_deserialisation_validates() {
    assert!(serde_json::from_str::<ProcessId>("\"ok_id\"").is_ok());
    assert!(serde_json::from_str::<ProcessId>("\"../x\"").is_err());
    assert!(serde_json::from_str::<ProcessId>("\"\"").is_err());
}
