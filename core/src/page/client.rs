//! What a browser shell sends and where: the v1.1 URLs, the page socket's
//! client frames written without a serializer (a browser build carries
//! none), and the per-job error codes read as refusals.

use super::io::{JobRefusal, Subscription};
use super::wire::LIST_SEPARATOR;
use crate::message::ClientMessage;
use crate::session::urls::encode_query_value;
use crate::ProcessId;

/// `{ws_base}/ws/page`: the page socket (tokens travel in `subscribe`).
pub fn socket_url(ws_base: &str) -> String {
    let mut url = ws_base.trim_end_matches('/').to_owned();
    url.push_str("/ws/page");
    url
}

/// `{http_base}/ws/page/events?ids=..[&tokens=..]`: the event stream of a set.
pub fn events_url(http_base: &str, jobs: &[Subscription]) -> String {
    set_url(http_base, "/ws/page/events", jobs)
}

/// `{http_base}/ws/page/poll?ids=..[&tokens=..]`: the set poll.
pub fn poll_url(http_base: &str, jobs: &[Subscription]) -> String {
    set_url(http_base, "/ws/page/poll", jobs)
}

/// The query of 11.4: the ids in order, and the tokens in the same order
/// when any job has one (an empty item is no token).
fn set_url(base: &str, path: &str, jobs: &[Subscription]) -> String {
    let mut url = base.trim_end_matches('/').to_owned();
    url.push_str(path);
    url.push_str("?ids=");
    for (i, sub) in jobs.iter().enumerate() {
        if i > 0 {
            url.push(LIST_SEPARATOR);
        }
        // Ids are `[A-Za-z0-9_-]`: nothing to encode.
        url.push_str(sub.job.as_str());
    }
    if jobs.iter().any(|s| s.token.is_some()) {
        url.push_str("&tokens=");
        for (i, sub) in jobs.iter().enumerate() {
            if i > 0 {
                url.push(LIST_SEPARATOR);
            }
            if let Some(token) = &sub.token {
                url.push_str(&encode_query_value(token));
            }
        }
    }
    url
}

/// `{"type":"subscribe","jobs":[{"process_id":..,"token":..},..]}`, as
/// serde_json writes [`super::PageClientMessage::Subscribe`].
pub fn subscribe_text(jobs: &[Subscription]) -> String {
    let mut out = String::from(r#"{"type":"subscribe","jobs":["#);
    for (i, sub) in jobs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r#"{"process_id":"#);
        push_json_string(&mut out, sub.job.as_str());
        if let Some(token) = &sub.token {
            out.push_str(r#","token":"#);
            push_json_string(&mut out, token);
        }
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// `{"type":"unsubscribe","process_ids":[..]}`.
pub fn unsubscribe_text(jobs: &[ProcessId]) -> String {
    let mut out = String::from(r#"{"type":"unsubscribe","process_ids":["#);
    for (i, job) in jobs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_json_string(&mut out, job.as_str());
    }
    out.push_str("]}");
    out
}

/// `{"type":"ping","id":..}`, the same frame as on a job's own socket.
pub fn ping_text(id: u64) -> String {
    ClientMessage::Ping { id }.to_json()
}

/// What a per-job `error` code (11.3, or a set-poll entry's) means for the
/// job. `None`: not a refusal of that job (the shell treats the frame as a
/// sign of life only).
pub fn refusal(code: &str) -> Option<JobRefusal> {
    match code {
        "unknown_process" => Some(JobRefusal::UnknownJob),
        "invalid_process_id" => Some(JobRefusal::BadId),
        "token_missing" | "token_invalid" | "token_expired" => Some(JobRefusal::BadToken),
        // 11.3: the job may exist; follow it again later, never as gone.
        // Over the cap is the same for one job: a slot frees when others end.
        "unavailable" | "too_many_subscriptions" => Some(JobRefusal::Unavailable),
        _ => None,
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
fn push_json_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(c as usize) >> 4] as char);
                out.push(HEX[(c as usize) & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::super::wire::{JobRef, PageClientMessage};
    use super::*;

    fn sub(id: &str, token: Option<&str>) -> Subscription {
        Subscription {
            job: ProcessId::parse(id).unwrap(),
            token: token.map(str::to_owned),
        }
    }

    #[test]
    fn frames_are_what_serde_json_writes() {
        let subs = [
            sub("a", Some("t\"o\\k\u{1}\n")),
            sub("b", None),
            sub("c", Some("plain")),
        ];
        let serde = serde_json::to_string(&PageClientMessage::Subscribe {
            jobs: subs
                .iter()
                .map(|s| JobRef {
                    process_id: s.job.to_string(),
                    token: s.token.clone(),
                })
                .collect(),
        })
        .unwrap();
        assert_eq!(subscribe_text(&subs), serde);
        let ids = [
            ProcessId::parse("a").unwrap(),
            ProcessId::parse("b").unwrap(),
        ];
        let serde = serde_json::to_string(&PageClientMessage::Unsubscribe {
            process_ids: vec!["a".into(), "b".into()],
        })
        .unwrap();
        assert_eq!(unsubscribe_text(&ids), serde);
        let serde = serde_json::to_string(&PageClientMessage::Ping { id: 9 }).unwrap();
        assert_eq!(ping_text(9), serde);
        assert_eq!(subscribe_text(&[]), r#"{"type":"subscribe","jobs":[]}"#);
    }

    #[test]
    fn set_urls_list_ids_and_tokens_in_order() {
        let subs = [sub("a", Some("x+y")), sub("b", None)];
        assert_eq!(
            poll_url("http://h/", &subs),
            "http://h/ws/page/poll?ids=a,b&tokens=x%2By,"
        );
        assert_eq!(
            events_url("http://h", &[sub("a", None), sub("b", None)]),
            "http://h/ws/page/events?ids=a,b"
        );
        assert_eq!(socket_url("ws://h//"), "ws://h/ws/page");
    }

    #[test]
    fn error_codes_read_as_refusals() {
        assert_eq!(refusal("unknown_process"), Some(JobRefusal::UnknownJob));
        assert_eq!(refusal("invalid_process_id"), Some(JobRefusal::BadId));
        for code in ["token_missing", "token_invalid", "token_expired"] {
            assert_eq!(refusal(code), Some(JobRefusal::BadToken), "{code}");
        }
        assert_eq!(refusal("unavailable"), Some(JobRefusal::Unavailable));
        assert_eq!(refusal("rate_limited"), None);
    }
}
