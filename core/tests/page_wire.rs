//! Golden JSON for the messages of protocol v1.1 (PROTOCOL.md 11), and
//! proof that its job frames are v1's.

use serde::de::DeserializeOwned;
use serde::Serialize;
use upload_progress_core::page::{
    set_etag, JobRef, PageClientMessage, PageServerMessage, SetEntry, SetPollResponse,
};
use upload_progress_core::{ErrorBody, ProcessId, Progress, ServerMessage};

fn golden<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T, golden: &str) {
    assert_eq!(serde_json::to_string(value).unwrap(), golden);
    assert_eq!(&serde_json::from_str::<T>(golden).unwrap(), value);
}

fn placeholder(id: &str) -> Progress {
    Progress::unknown(ProcessId::parse(id).unwrap(), 1_796_000_000_000)
}

const PLACEHOLDER_A: &str = concat!(
    r#"{"process_id":"a","seq":0,"state":"pending","stage":null,"stage_index":0,"#,
    r#""stage_count":0,"stages":[],"percent":0.0,"message":"","error":null,"#,
    r#""updated_at_ms":1796000000000}"#
);

#[test]
fn subscribe_matches_its_golden_json_with_and_without_tokens() {
    golden(
        &PageClientMessage::Subscribe {
            jobs: vec![
                JobRef {
                    process_id: "a".into(),
                    token: Some("t.a".into()),
                },
                JobRef {
                    process_id: "b".into(),
                    token: None,
                },
            ],
        },
        r#"{"type":"subscribe","jobs":[{"process_id":"a","token":"t.a"},{"process_id":"b"}]}"#,
    );
}

#[test]
fn unsubscribe_and_ping_match_their_golden_json() {
    golden(
        &PageClientMessage::Unsubscribe {
            process_ids: vec!["a".into(), "b".into()],
        },
        r#"{"type":"unsubscribe","process_ids":["a","b"]}"#,
    );
    golden(
        &PageClientMessage::Ping { id: u64::MAX },
        r#"{"type":"ping","id":18446744073709551615}"#,
    );
}

#[test]
fn a_ping_id_must_be_an_integer() {
    for text in [
        r#"{"type":"ping","id":17.0}"#,
        r#"{"type":"ping","id":-1}"#,
        r#"{"type":"ping","id":"17"}"#,
    ] {
        assert!(
            serde_json::from_str::<PageClientMessage>(text).is_err(),
            "{text}"
        );
    }
    let above = r#"{"type":"ping","id":9007199254740993}"#;
    assert_eq!(
        serde_json::from_str::<PageClientMessage>(above).unwrap(),
        PageClientMessage::Ping {
            id: 9_007_199_254_740_993
        }
    );
}

#[test]
fn job_errors_name_their_job_and_connection_errors_do_not() {
    golden(
        &PageServerMessage::Error {
            process_id: Some("a".into()),
            code: "unknown_process".into(),
            message: "m".into(),
        },
        r#"{"type":"error","process_id":"a","code":"unknown_process","message":"m"}"#,
    );
    golden(
        &PageServerMessage::Error {
            process_id: None,
            code: "rate_limited".into(),
            message: "m".into(),
        },
        r#"{"type":"error","code":"rate_limited","message":"m"}"#,
    );
}

#[test]
fn page_state_frames_are_the_v1_frames() {
    let progress = placeholder("a");
    let page = PageServerMessage::Snapshot {
        progress: progress.clone(),
    };
    let v1 = ServerMessage::Snapshot {
        progress: progress.clone(),
    };
    let text = format!(r#"{{"type":"snapshot","progress":{PLACEHOLDER_A}}}"#);
    golden(&page, &text);
    assert_eq!(serde_json::to_string(&v1).unwrap(), text);
    let page = PageServerMessage::Progress {
        progress: progress.clone(),
    };
    let v1 = ServerMessage::Progress { progress };
    assert_eq!(
        serde_json::to_string(&page).unwrap(),
        serde_json::to_string(&v1).unwrap()
    );
    // A v1 reader takes a job error frame too (it ignores `process_id`).
    let job_error = r#"{"type":"error","process_id":"a","code":"token_expired","message":"m"}"#;
    assert!(matches!(
        serde_json::from_str::<ServerMessage>(job_error).unwrap(),
        ServerMessage::Error { code, .. } if code == "token_expired"
    ));
}

#[test]
fn a_set_poll_answer_matches_its_golden_json() {
    let answer = SetPollResponse {
        jobs: vec![
            SetEntry {
                process_id: "a".into(),
                progress: Some(placeholder("a")),
                error: None,
            },
            SetEntry {
                process_id: "not.valid".into(),
                progress: None,
                error: Some(ErrorBody {
                    code: "invalid_process_id".into(),
                    message: "m".into(),
                }),
            },
        ],
    };
    let text = format!(
        r#"{{"jobs":[{{"process_id":"a","progress":{PLACEHOLDER_A}}},{{"process_id":"not.valid","error":{{"code":"invalid_process_id","message":"m"}}}}]}}"#
    );
    golden(&answer, &text);
    // The tag is fixed by the entries alone (pinned: a change of the hash
    // would turn every client's next poll into a full answer).
    assert_eq!(set_etag(&answer.jobs), "\"s2fbea3381b8257f2\"");
}
