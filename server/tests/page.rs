//! Protocol v1.1 over real connections: the page socket, the set poll and
//! the event stream, and their limits.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{fast_config, start, TestServer, Ws, WAIT};
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;
use upload_progress_core::page::{PageServerMessage, SetPollResponse};
use upload_progress_core::{JobState, Progress};
use upload_progress_server::Config;

/// What arrived next on a page socket.
#[derive(Debug)]
enum PageEvent {
    Frame(PageServerMessage),
    Close(u16),
}

async fn next_page_event(ws: &mut Ws) -> PageEvent {
    tokio::time::timeout(WAIT, async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    return PageEvent::Frame(
                        serde_json::from_str(text.as_str()).expect("page frame parses"),
                    )
                }
                Some(Ok(Message::Close(frame))) => {
                    return PageEvent::Close(frame.map_or(1005, |f| u16::from(f.code)))
                }
                Some(Ok(_)) => continue,
                other => panic!("socket ended without a close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("a page event in time")
}

async fn next_page_frame(ws: &mut Ws) -> PageServerMessage {
    match next_page_event(ws).await {
        PageEvent::Frame(frame) => frame,
        PageEvent::Close(code) => panic!("expected a frame, got close {code}"),
    }
}

async fn send(ws: &mut Ws, value: serde_json::Value) {
    ws.send(Message::text(value.to_string()))
        .await
        .expect("send");
}

async fn subscribe(ws: &mut Ws, ids: &[&str]) {
    let jobs: Vec<_> = ids.iter().map(|id| json!({ "process_id": id })).collect();
    send(ws, json!({ "type": "subscribe", "jobs": jobs })).await;
}

/// Every state of every job until each has ended (terminal state or its
/// own error); asserts per-job snapshot-first and per-job increasing `seq`.
async fn follow_to_the_end(
    ws: &mut Ws,
    ids: &[&str],
) -> (HashMap<String, Vec<Progress>>, HashMap<String, String>) {
    let mut states: HashMap<String, Vec<Progress>> = HashMap::new();
    let mut errors = HashMap::new();
    let ended = |states: &HashMap<String, Vec<Progress>>, errors: &HashMap<String, String>| {
        ids.iter().all(|id| {
            errors.contains_key(*id)
                || states
                    .get(*id)
                    .and_then(|s| s.last())
                    .is_some_and(Progress::is_terminal)
        })
    };
    while !ended(&states, &errors) {
        match next_page_frame(ws).await {
            PageServerMessage::Snapshot { progress } => {
                let seen = states
                    .entry(progress.process_id.as_str().to_owned())
                    .or_default();
                assert!(
                    seen.is_empty(),
                    "a snapshot opens each subscription: {progress:?}"
                );
                seen.push(progress);
            }
            PageServerMessage::Progress { progress } => {
                let seen = states
                    .entry(progress.process_id.as_str().to_owned())
                    .or_default();
                let last = seen
                    .last()
                    .expect("a progress frame only after the job's snapshot");
                assert!(progress.seq > last.seq, "seq increases per job");
                assert!(progress.percent >= last.percent, "percent never decreases");
                assert!(!last.is_terminal(), "nothing after a terminal state");
                seen.push(progress);
            }
            PageServerMessage::Error {
                process_id: Some(id),
                code,
                ..
            } => {
                errors.insert(id, code);
            }
            other => panic!("unexpected frame {other:?}"),
        }
    }
    (states, errors)
}

async fn assert_alive(ws: &mut Ws, id: u64) {
    send(ws, json!({ "type": "ping", "id": id })).await;
    loop {
        match next_page_frame(ws).await {
            PageServerMessage::Pong { id: got, .. } if got == id => return,
            PageServerMessage::Pong { id: got, .. } => panic!("pong {got} for ping {id}"),
            _ => continue,
        }
    }
}

#[tokio::test]
async fn two_jobs_on_one_socket_each_get_their_snapshot_and_their_own_seq_to_the_end() {
    let server = start(fast_config()).await;
    server.test_job("pa", "step_ms=20&steps_per_stage=2").await;
    server.test_job("pb", "step_ms=35&steps_per_stage=3").await;
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &["pa", "pb"]).await;
    let (states, errors) = follow_to_the_end(&mut ws, &["pa", "pb"]).await;
    assert!(errors.is_empty(), "{errors:?}");
    for id in ["pa", "pb"] {
        let seen = &states[id];
        assert_eq!(
            seen.last().unwrap().state,
            JobState::Completed,
            "{id} completed"
        );
        assert!(seen.len() >= 2, "{id} was followed, not only snapshotted");
    }
    // The socket outlives its jobs: it serves the page, not one job.
    assert_alive(&mut ws, 1).await;
    assert_eq!(server.handle.active_connections(), 1);
}

#[tokio::test]
async fn a_bad_job_gets_its_own_error_frame_while_the_other_goes_on() {
    let server = start(fast_config()).await; // grace 500 ms
    server
        .test_job("good", "step_ms=30&steps_per_stage=3")
        .await;
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &["bad.id", "good", "never_created"]).await;
    let (states, errors) = follow_to_the_end(&mut ws, &["bad.id", "good", "never_created"]).await;
    assert_eq!(
        errors.get("bad.id").map(String::as_str),
        Some("invalid_process_id")
    );
    assert_eq!(
        errors.get("never_created").map(String::as_str),
        Some("unknown_process")
    );
    assert!(
        !states.contains_key("bad.id"),
        "an invalid id gets no snapshot"
    );
    assert_eq!(
        states["never_created"][0].seq, 0,
        "placeholder snapshot first"
    );
    assert_eq!(states["good"].last().unwrap().state, JobState::Completed);
    assert_alive(&mut ws, 2).await;
}

#[tokio::test]
async fn a_job_subscribed_before_it_exists_is_followed_once_it_starts() {
    let server = start(Config {
        grace: Duration::from_secs(5),
        ..fast_config()
    })
    .await;
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &["early"]).await;
    match next_page_frame(&mut ws).await {
        PageServerMessage::Snapshot { progress } => {
            assert_eq!((progress.seq, progress.state), (0, JobState::Pending))
        }
        other => panic!("{other:?}"),
    }
    server
        .test_job("early", "step_ms=20&steps_per_stage=1")
        .await;
    let mut last = None;
    while !last.as_ref().is_some_and(Progress::is_terminal) {
        match next_page_frame(&mut ws).await {
            PageServerMessage::Progress { progress } => last = Some(progress),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(last.unwrap().state, JobState::Completed);
}

#[tokio::test]
async fn with_tokens_a_wrong_token_is_one_jobs_error_and_the_right_one_follows() {
    let server = start(Config {
        require_token: true,
        ..fast_config()
    })
    .await;
    let ta = server.test_job("ta", "step_ms=30&steps_per_stage=2").await;
    let _tb = server.test_job("tb", "step_ms=30&steps_per_stage=2").await;
    let mut ws = server.ws("/ws/page").await;
    send(
        &mut ws,
        json!({ "type": "subscribe", "jobs": [
            { "process_id": "ta", "token": ta },
            { "process_id": "tb", "token": ta },
            { "process_id": "tc" },
        ]}),
    )
    .await;
    let (states, errors) = follow_to_the_end(&mut ws, &["ta", "tb", "tc"]).await;
    assert_eq!(errors.get("tb").map(String::as_str), Some("token_invalid"));
    assert_eq!(errors.get("tc").map(String::as_str), Some("token_missing"));
    assert_eq!(states["ta"].last().unwrap().state, JobState::Completed);
}

#[tokio::test]
async fn the_subscription_cap_refuses_the_job_over_it_and_a_frame_over_it_whole() {
    let server = start(Config {
        max_subscriptions: 3,
        ..fast_config()
    })
    .await;
    for id in ["c1", "c2", "c3", "c4"] {
        server.test_job(id, "step_ms=2000&steps_per_stage=5").await;
    }
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &["c1", "c2", "c3", "c4", "c5"]).await;
    match next_page_frame(&mut ws).await {
        PageServerMessage::Error {
            process_id: None,
            code,
            ..
        } => assert_eq!(code, "too_many_subscriptions"),
        other => panic!("a frame over the cap is refused whole: {other:?}"),
    }
    subscribe(&mut ws, &["c1", "c2", "c3"]).await;
    for _ in 0..3 {
        assert!(matches!(
            next_page_frame(&mut ws).await,
            PageServerMessage::Snapshot { .. }
        ));
    }
    // Following a followed job again takes no new slot.
    subscribe(&mut ws, &["c2", "c4"]).await;
    match next_page_frame(&mut ws).await {
        PageServerMessage::Snapshot { progress } => assert_eq!(progress.process_id.as_str(), "c2"),
        other => panic!("{other:?}"),
    }
    match next_page_frame(&mut ws).await {
        PageServerMessage::Error {
            process_id,
            code,
            message,
        } => {
            assert_eq!(
                (process_id.as_deref(), code.as_str()),
                (Some("c4"), "too_many_subscriptions")
            );
            assert!(
                message.contains('3'),
                "the message names the cap: {message}"
            );
        }
        other => panic!("{other:?}"),
    }
    // A slot freed by unsubscribing can be used.
    send(
        &mut ws,
        json!({ "type": "unsubscribe", "process_ids": ["c1"] }),
    )
    .await;
    subscribe(&mut ws, &["c4"]).await;
    loop {
        match next_page_frame(&mut ws).await {
            PageServerMessage::Snapshot { progress } => {
                assert_eq!(progress.process_id.as_str(), "c4");
                break;
            }
            PageServerMessage::Progress { .. } => continue,
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_unsubscribed_job_sends_nothing_more() {
    let server = start(fast_config()).await;
    server.test_job("u1", "step_ms=15&steps_per_stage=10").await;
    server.test_job("u2", "step_ms=20&steps_per_stage=10").await;
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &["u1", "u2"]).await;
    send(
        &mut ws,
        json!({ "type": "unsubscribe", "process_ids": ["u1", "not_followed"] }),
    )
    .await;
    // The pong is a barrier: frames of u1 sent before the unsubscribe was
    // read may come before it, none after.
    send(&mut ws, json!({ "type": "ping", "id": 9 })).await;
    loop {
        if let PageServerMessage::Pong { id: 9, .. } = next_page_frame(&mut ws).await {
            break;
        }
    }
    loop {
        match next_page_frame(&mut ws).await {
            PageServerMessage::Progress { progress } => {
                assert_eq!(progress.process_id.as_str(), "u2", "u1 was unsubscribed");
                if progress.is_terminal() {
                    break;
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn an_oversized_subscribe_frame_closes_1009_after_an_error() {
    let server = start(fast_config()).await;
    let mut ws = server.ws("/ws/page").await;
    let jobs: Vec<_> = (0..3000)
        .map(|i| json!({ "process_id": format!("job_{i:020}") }))
        .collect();
    let frame = json!({ "type": "subscribe", "jobs": jobs }).to_string();
    assert!(frame.len() > 64 * 1024);
    ws.send(Message::text(frame)).await.expect("send");
    match next_page_event(&mut ws).await {
        PageEvent::Frame(PageServerMessage::Error {
            process_id: None,
            code,
            ..
        }) => assert_eq!(code, "message_too_big"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        next_page_event(&mut ws).await,
        PageEvent::Close(1009)
    ));
    // Nothing of it was followed, and the server still serves.
    let mut fresh = server.ws("/ws/page").await;
    assert_alive(&mut fresh, 3).await;
}

#[tokio::test]
async fn a_flood_of_subscribe_and_unsubscribe_is_closed_1008_and_holds_nothing() {
    let server = start(Config {
        rate_limit: 40,
        ..fast_config()
    })
    .await;
    server
        .test_job("f1", "step_ms=2000&steps_per_stage=5")
        .await;
    let mut ws = server.ws("/ws/page").await;
    for _ in 0..30 {
        subscribe(&mut ws, &["f1"]).await;
        send(
            &mut ws,
            json!({ "type": "unsubscribe", "process_ids": ["f1"] }),
        )
        .await;
    }
    let mut snapshots = 0;
    let code = loop {
        match next_page_event(&mut ws).await {
            PageEvent::Frame(PageServerMessage::Snapshot { .. }) => snapshots += 1,
            PageEvent::Frame(PageServerMessage::Error {
                process_id: None,
                code,
                ..
            }) => {
                assert_eq!(code, "rate_limited")
            }
            PageEvent::Frame(other) => panic!("{other:?}"),
            PageEvent::Close(code) => break code,
        }
    };
    assert_eq!(code, 1008);
    assert_eq!(
        snapshots, 20,
        "frames up to the limit were served, then none"
    );
    server.wait_active(0).await;
}

#[tokio::test]
async fn connection_caps_count_connections_not_jobs() {
    let server = start(Config {
        max_per_ip: 2,
        ..fast_config()
    })
    .await;
    let ids: Vec<String> = (0..8).map(|i| format!("cap_{i}")).collect();
    for id in &ids {
        server.test_job(id, "step_ms=2000&steps_per_stage=5").await;
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut ws = server.ws("/ws/page").await;
    subscribe(&mut ws, &refs).await;
    for _ in 0..8 {
        assert!(matches!(
            next_page_frame(&mut ws).await,
            PageServerMessage::Snapshot { .. }
        ));
    }
    let stream = server
        .http
        .get(server.url(&format!("/ws/page/events?ids={}", ids.join(","))))
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200, "the second connection fits");
    server.wait_active(2).await;
    assert_eq!(
        server.try_ws("/ws/page", None).await.err(),
        Some(503),
        "a third does not"
    );
    let refused = server
        .http
        .get(server.url("/ws/page/events?ids=cap_0"))
        .send()
        .await
        .expect("get");
    assert_eq!(refused.status(), 503);
    let body: serde_json::Value = refused.json().await.expect("json");
    assert_eq!(body["error"]["code"], "too_many_connections");
}

async fn set_poll(server: &TestServer, query: &str, etag: Option<&str>) -> reqwest::Response {
    let mut req = server
        .http
        .get(server.url(&format!("/ws/page/poll?{query}")));
    if let Some(tag) = etag {
        req = req.header("if-none-match", tag);
    }
    req.send().await.expect("poll")
}

#[tokio::test]
async fn the_set_poll_answers_every_job_with_one_etag_and_304_until_one_changes() {
    let server = start(fast_config()).await;
    server
        .test_job("sp_done", "step_ms=1&steps_per_stage=1")
        .await;
    server
        .test_job("sp_slow", "step_ms=300&steps_per_stage=2")
        .await;
    let mut done = server.ws("/ws/progress/sp_done").await;
    common::drain(&mut done).await;
    let query = "ids=sp_done,sp_slow,sp_none,bad.id";
    let first = set_poll(&server, query, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "no-store");
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let body: SetPollResponse = first.json().await.expect("body");
    let ids: Vec<_> = body.jobs.iter().map(|e| e.process_id.as_str()).collect();
    assert_eq!(
        ids,
        ["sp_done", "sp_slow", "sp_none", "bad.id"],
        "one entry per id, in order"
    );
    assert_eq!(
        body.jobs[0].progress.as_ref().unwrap().state,
        JobState::Completed
    );
    let slow_seq = body.jobs[1].progress.as_ref().unwrap().seq;
    assert_eq!(body.jobs[2].error.as_ref().unwrap().code, "unknown_process");
    assert_eq!(
        body.jobs[3].error.as_ref().unwrap().code,
        "invalid_process_id"
    );

    let same = set_poll(&server, query, Some(&tag)).await;
    assert_eq!(same.status(), 304);
    assert_eq!(same.headers()["etag"].to_str().unwrap(), tag);
    assert!(same.bytes().await.unwrap().is_empty());
    let weak = set_poll(&server, query, Some(&format!("W/{tag}"))).await;
    assert_eq!(weak.status(), 304);
    assert_eq!(
        set_poll(&server, "ids=sp_done,sp_slow", Some(&tag))
            .await
            .status(),
        200,
        "another set, another tag"
    );

    // Once the slow job moves on, the set's tag changes.
    let changed = tokio::time::timeout(WAIT, async {
        loop {
            let resp = set_poll(&server, query, Some(&tag)).await;
            if resp.status() == 200 {
                return resp.json::<SetPollResponse>().await.expect("body");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the set changes");
    assert!(changed.jobs[1].progress.as_ref().unwrap().seq > slow_seq);
}

#[tokio::test]
async fn the_set_poll_refuses_unusable_sets_with_json_errors() {
    let server = start(Config {
        max_subscriptions: 2,
        ..fast_config()
    })
    .await;
    for (query, code) in [
        ("", "bad_query"),
        ("ids=", "bad_query"),
        ("ids=a,b,c", "too_many_subscriptions"),
        ("ids=a,b&tokens=x", "bad_query"),
    ] {
        let resp = set_poll(&server, query, None).await;
        assert_eq!(resp.status(), 400, "{query}");
        let body: serde_json::Value = resp.json().await.expect("json");
        assert_eq!(body["error"]["code"], code, "{query}");
    }
}

/// Reads an event stream until `done` says so; returns the events' data.
async fn read_events(
    resp: &mut reqwest::Response,
    mut done: impl FnMut(&[PageServerMessage]) -> bool,
) -> Vec<PageServerMessage> {
    let mut buffer = String::new();
    let mut events = Vec::new();
    tokio::time::timeout(WAIT, async {
        while !done(&events) {
            let Some(chunk) = resp.chunk().await.expect("read") else {
                break;
            };
            buffer.push_str(std::str::from_utf8(&chunk).expect("utf-8"));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(data) = line.strip_prefix("data: ") {
                        events
                            .push(serde_json::from_str(data).expect("event data is a page frame"));
                    }
                }
            }
        }
    })
    .await
    .expect("events in time");
    events
}

fn job_of(frame: &PageServerMessage) -> Option<&str> {
    match frame {
        PageServerMessage::Snapshot { progress } | PageServerMessage::Progress { progress } => {
            Some(progress.process_id.as_str())
        }
        PageServerMessage::Error { process_id, .. } => process_id.as_deref(),
        _ => None,
    }
}

#[tokio::test]
async fn the_event_stream_names_each_jobs_events_and_a_reconnect_sends_every_snapshot_again() {
    let server = start(fast_config()).await;
    server.test_job("e1", "step_ms=40&steps_per_stage=3").await;
    server.test_job("e2", "step_ms=60&steps_per_stage=3").await;
    let url = server.url("/ws/page/events?ids=e1,e2,e.bad");
    let mut first = server.http.get(&url).send().await.expect("events");
    assert_eq!(first.status(), 200);
    assert!(first.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let events = read_events(&mut first, |events| events.len() >= 5).await;
    drop(first);
    let mut snapshots: Vec<&str> = events
        .iter()
        .filter(|e| matches!(e, PageServerMessage::Snapshot { .. }))
        .filter_map(job_of)
        .collect();
    snapshots.sort_unstable();
    assert_eq!(snapshots, ["e1", "e2"], "each job's snapshot first");
    assert!(
        events.iter().all(|e| job_of(e).is_some()),
        "every event names its job: {events:?}"
    );
    assert!(events.iter().any(|e| matches!(e, PageServerMessage::Error { process_id: Some(id), code, .. } if id == "e.bad" && code == "invalid_process_id")));

    // A reconnect starts over with every job's snapshot, then follows each to its end.
    let mut again = server.http.get(&url).send().await.expect("events again");
    let events = read_events(&mut again, |_| false).await;
    let mut per_job: HashMap<&str, Vec<&PageServerMessage>> = HashMap::new();
    for event in &events {
        per_job
            .entry(job_of(event).expect("named"))
            .or_default()
            .push(event);
    }
    for id in ["e1", "e2"] {
        let seen = &per_job[id];
        assert!(
            matches!(seen[0], PageServerMessage::Snapshot { .. }),
            "{id}: snapshot first"
        );
        match seen.last().unwrap() {
            PageServerMessage::Snapshot { progress } | PageServerMessage::Progress { progress } => {
                assert_eq!(
                    progress.state,
                    JobState::Completed,
                    "{id} followed to its end"
                )
            }
            other => panic!("{other:?}"),
        }
    }
    // The stream ended by itself once every job had ended (read_events saw its end).
    server.wait_active(0).await;
}

#[tokio::test]
async fn the_event_stream_is_not_refused_by_the_upgrade_fault() {
    let server = start(fast_config()).await;
    server.test_job("rf", "step_ms=20&steps_per_stage=1").await;
    server
        .fault(json!({"action": "refuse_upgrades", "fraction": 1.0, "duration_ms": 60000}))
        .await;
    assert_eq!(server.try_ws("/ws/page", None).await.err(), Some(503));
    let mut stream = server
        .http
        .get(server.url("/ws/page/events?ids=rf"))
        .send()
        .await
        .expect("events");
    assert_eq!(stream.status(), 200);
    let events = read_events(&mut stream, |_| false).await;
    assert!(events.iter().any(|e| matches!(e, PageServerMessage::Progress { progress } | PageServerMessage::Snapshot { progress } if progress.state == JobState::Completed)));
}
