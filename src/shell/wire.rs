//! Protocol v1 JSON read with the browser's own parser (`JSON.parse`) and
//! property reads, so the module carries no JSON deserializer. The result
//! is what serde gives for the same text in `upload-progress-core`: a frame
//! or body that serde would refuse (a missing or mistyped field, an unknown
//! `type` or enum name) is `None` here too.
//!
//! A socket frame is parsed as the JS string the browser delivered, so its
//! text never crosses into wasm memory and back.

use js_sys::{Array, Reflect, JSON};
// Job states and stage statuses read by core's name table (`FromStr`).
#[cfg(feature = "one-job-session")]
use upload_progress_core::ServerMessage;
use upload_progress_core::{ProcessId, Progress, Stage};
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};

#[wasm_bindgen]
extern "C" {
    /// `JSON.parse` of a value that is already a JS string.
    #[wasm_bindgen(js_namespace = JSON, js_name = parse, catch)]
    fn parse_js_string(text: &JsValue) -> Result<JsValue, JsValue>;
}

#[cfg(feature = "one-job-session")]
/// A server frame (`snapshot`, `progress`, `pong`, `server_shutdown`, `error`)
/// from a `MessageEvent`'s `data` (a string for a text frame).
pub(crate) fn server_message(data: &JsValue) -> Option<ServerMessage> {
    // `JSON.parse` turns anything but a string (binary data) into text first,
    // which is never a frame object, so the reads below refuse it.
    let v = Object::new(parse_js_string(data).ok()?)?;
    let message = match v.string(Key::Type)?.as_str() {
        "snapshot" => ServerMessage::Snapshot {
            progress: progress(&v.object(Key::Progress)?)?,
        },
        "progress" => ServerMessage::Progress {
            progress: progress(&v.object(Key::Progress)?)?,
        },
        "pong" => ServerMessage::Pong {
            id: v.uint(Key::Id)?,
            server_ts_ms: v.uint(Key::ServerTsMs)?,
        },
        "server_shutdown" => ServerMessage::ServerShutdown {
            retry_after_ms: v.uint(Key::RetryAfterMs)?,
        },
        "error" => ServerMessage::Error {
            code: v.string(Key::Code)?,
            message: v.string(Key::Message)?,
        },
        _ => return None,
    };
    Some(message)
}

/// A frame of the page socket or an event of the page's event stream
/// (protocol 11.1, 11.5), as far as the page connection tells them apart.
#[derive(Debug, PartialEq)]
pub(crate) enum PageFrame {
    /// A `snapshot` or `progress` frame; its progress names the job.
    Progress(Progress),
    /// An `error` frame naming a job, with its code.
    JobError {
        /// The job, as the server spelled it.
        job: String,
        /// The error code.
        code: String,
    },
    /// `server_shutdown`: the connection ends next; come back after this.
    Shutdown {
        /// The server's wait.
        retry_after_ms: u64,
    },
    /// Anything else (a pong, a connection error, an unreadable frame):
    /// only a sign of life.
    Other,
}

/// A page frame from a `MessageEvent`'s `data`.
pub(crate) fn page_frame(data: &JsValue) -> PageFrame {
    let Some(v) = parse_js_string(data).ok().and_then(Object::new) else {
        return PageFrame::Other;
    };
    let read = || -> Option<PageFrame> {
        Some(match v.string(Key::Type)?.as_str() {
            "snapshot" | "progress" => PageFrame::Progress(progress(&v.object(Key::Progress)?)?),
            "error" => PageFrame::JobError {
                job: v.string(Key::ProcessId)?,
                code: v.string(Key::Code)?,
            },
            "server_shutdown" => PageFrame::Shutdown {
                retry_after_ms: v.uint(Key::RetryAfterMs)?,
            },
            _ => return None,
        })
    };
    read().unwrap_or(PageFrame::Other)
}

/// One entry of a set-poll answer (11.4): the job as the server spelled
/// it, and its progress or its error code.
pub(crate) type SetEntry = (String, Result<Progress, String>);

/// The entries of a set-poll body (`{"jobs":[...]}`); `None` when the body
/// is not a set answer. An entry that cannot be read is left out (its job
/// is simply asked again by the next poll).
pub(crate) fn set_poll_body(text: &str) -> Option<Vec<SetEntry>> {
    let v = Object::new(JSON::parse(text).ok()?)?;
    let jobs = v.field(Key::Jobs)?.dyn_into::<Array>().ok()?;
    let entries = jobs
        .iter()
        .filter_map(|entry| {
            let entry = Object::new(entry)?;
            let job = entry.string(Key::ProcessId)?;
            if let Some(p) = entry.object(Key::Progress) {
                return Some((job, Ok(progress(&p)?)));
            }
            let code = entry.object(Key::Error)?.string(Key::Code)?;
            Some((job, Err(code)))
        })
        .collect();
    Some(entries)
}

#[cfg(feature = "one-job-session")]
/// The progress in a `GET /ws/progress/{id}` body (`{"progress":{...}}`).
pub(crate) fn progress_body(text: &str) -> Option<Progress> {
    let v = Object::new(JSON::parse(text).ok()?)?;
    progress(&v.object(Key::Progress)?)
}

#[cfg(feature = "one-job-session")]
/// The code of an HTTP error body (`{"error":{"code","message"}}`).
pub(crate) fn error_code(text: &str) -> Option<String> {
    let error = Object::new(JSON::parse(text).ok()?)?.object(Key::Error)?;
    error.string(Key::Message)?;
    error.string(Key::Code)
}

fn progress(v: &Object) -> Option<Progress> {
    let stages = v.field(Key::Stages)?.dyn_into::<Array>().ok()?;
    let stages = stages
        .iter()
        .map(|s| {
            let s = Object::new(s)?;
            Some(Stage {
                name: s.string(Key::Name)?,
                label: s.string(Key::Label)?,
                status: s.string(Key::Status)?.parse().ok()?,
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Progress {
        process_id: ProcessId::parse(&v.string(Key::ProcessId)?).ok()?,
        seq: v.uint(Key::Seq)?,
        state: v.string(Key::State)?.parse().ok()?,
        stage: v.optional_string(Key::Stage)?,
        stage_index: u32::try_from(v.uint(Key::StageIndex)?).ok()?,
        stage_count: u32::try_from(v.uint(Key::StageCount)?).ok()?,
        stages,
        percent: v.field(Key::Percent)?.as_f64()?,
        message: v.string(Key::Message)?,
        error: v.optional_string(Key::Error)?,
        updated_at_ms: v.uint(Key::UpdatedAtMs)?,
    })
}

/// Declares the property names the reader uses, as `Key` variants and the
/// names in the same order.
macro_rules! keys {
    ($($key:ident = $name:literal),* $(,)?) => {
        // The pong's keys are read by the one-job session only.
        #[cfg_attr(not(feature = "one-job-session"), allow(dead_code))]
        #[derive(Clone, Copy)]
        enum Key { $($key),* }
        const NAMES: &[&str] = &[$($name),*];
    };
}

keys! {
    Type = "type", Progress = "progress", Id = "id", ServerTsMs = "server_ts_ms",
    RetryAfterMs = "retry_after_ms", Code = "code", Message = "message", Error = "error",
    Stages = "stages", Name = "name", Label = "label", Status = "status",
    ProcessId = "process_id", Seq = "seq", State = "state", Stage = "stage",
    StageIndex = "stage_index", StageCount = "stage_count", Percent = "percent",
    UpdatedAtMs = "updated_at_ms", Jobs = "jobs",
}

thread_local! {
    /// The property names as JS strings, made once: a name passed as `&str`
    /// is copied out of wasm memory and decoded on every read, about 25
    /// times per progress frame.
    static KEYS: Vec<JsValue> = NAMES.iter().map(|name| JsValue::from_str(name)).collect();
}

/// A JSON object (not an array), checked once, read by property name.
struct Object(JsValue);

impl Object {
    fn new(v: JsValue) -> Option<Self> {
        (v.is_object() && !Array::is_array(&v)).then_some(Self(v))
    }

    /// A property that is present (JSON has no `undefined`).
    fn field(&self, key: Key) -> Option<JsValue> {
        KEYS.with(|keys| Reflect::get(&self.0, &keys[key as usize]))
            .ok()
            .filter(|f| !f.is_undefined())
    }

    fn object(&self, key: Key) -> Option<Object> {
        Object::new(self.field(key)?)
    }

    fn string(&self, key: Key) -> Option<String> {
        self.field(key)?.as_string()
    }

    /// `Some(None)` when missing or null, `None` when present but not a string.
    fn optional_string(&self, key: Key) -> Option<Option<String>> {
        match self.field(key) {
            None => Some(None),
            Some(f) if f.is_null() => Some(None),
            Some(f) => f.as_string().map(Some),
        }
    }

    /// A non-negative integer, as serde reads a `u64`.
    fn uint(&self, key: Key) -> Option<u64> {
        let n = self.field(key)?.as_f64()?;
        (n >= 0.0 && n.fract() == 0.0 && n < 18_446_744_073_709_551_616.0).then_some(n as u64)
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    #[cfg(feature = "one-job-session")]
    use upload_progress_core::{ErrorResponse, ProgressResponse, ServerMessage};
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    const PROGRESS: &str = r#"{"process_id":"job_1","seq":7,"state":"running","stage":"indexing","stage_index":2,"stage_count":4,"stages":[{"name":"upload","label":"Upload","status":"done"},{"name":"indexing","label":"Indexing","status":"active"}],"percent":62.5,"message":"Indexing","error":null,"updated_at_ms":1700000000000}"#;

    /// Frames and bodies, well-formed and not: the browser reader must agree
    /// with serde on every one.
    #[cfg(feature = "one-job-session")]
    fn frames() -> Vec<String> {
        let mut all: Vec<String> = [
            r#"{"type":"pong","id":3,"server_ts_ms":12}"#,
            r#"{"type":"pong","id":-3,"server_ts_ms":12}"#,
            r#"{"type":"pong","id":1.5,"server_ts_ms":12}"#,
            r#"{"type":"pong","id":3}"#,
            r#"{"type":"server_shutdown","retry_after_ms":1500}"#,
            r#"{"type":"server_shutdown","retry_after_ms":"soon"}"#,
            r#"{"type":"error","code":"rate_limited","message":"slow down"}"#,
            r#"{"type":"error","code":"rate_limited"}"#,
            r#"{"type":"hello"}"#,
            r#"{"type":"progress","progress":[]}"#,
            r#"{"type":"progress","progress":null}"#,
            r#"{"type":7}"#,
            r#"{"id":3}"#,
            r#"[1,2]"#,
            r#""text""#,
            "not json",
            "",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for kind in ["snapshot", "progress"] {
            all.push(format!(r#"{{"type":"{kind}","progress":{PROGRESS}}}"#));
            for (from, to) in [
                (r#""error":null"#, r#""error":"boom""#),
                (r#""error":null,"#, ""),
                (r#""stage":"indexing""#, r#""stage":null"#),
                (r#""state":"running""#, r#""state":"sleeping""#),
                (r#""status":"done""#, r#""status":"finished""#),
                (r#""seq":7"#, r#""seq":"7""#),
                (r#""percent":62.5"#, r#""percent":62"#),
                (r#""process_id":"job_1""#, r#""process_id":"bad id!""#),
                (r#""message":"Indexing","#, ""),
                (r#"{"name":"upload","label":"Upload","status":"done"}"#, "1"),
                (
                    r#"{"name":"upload","label":"Upload","status":"done"}"#,
                    "[]",
                ),
                (r#""stage_index":2"#, r#""stage_index":4294967296"#),
            ] {
                let changed = PROGRESS.replacen(from, to, 1);
                all.push(format!(r#"{{"type":"{kind}","progress":{changed}}}"#));
            }
        }
        all
    }

    #[cfg(feature = "one-job-session")]
    #[wasm_bindgen_test]
    fn frames_read_as_serde_reads_them() {
        for text in frames() {
            let serde = serde_json::from_str::<ServerMessage>(&text).ok();
            let data = wasm_bindgen::JsValue::from_str(&text);
            assert_eq!(super::server_message(&data), serde, "{text}");
        }
        // A binary frame's data is not a string.
        let bytes = js_sys::Uint8Array::new_with_length(2);
        assert_eq!(super::server_message(&bytes.into()), None);
    }

    #[wasm_bindgen_test]
    fn page_frames_name_their_job() {
        use super::PageFrame;
        let text = format!(r#"{{"type":"progress","progress":{PROGRESS}}}"#);
        let frame = super::page_frame(&wasm_bindgen::JsValue::from_str(&text));
        let PageFrame::Progress(p) = frame else {
            panic!("{frame:?}")
        };
        assert_eq!((p.process_id.as_str(), p.seq), ("job_1", 7));
        let error = r#"{"type":"error","process_id":"b","code":"unknown_process","message":"m"}"#;
        assert_eq!(
            super::page_frame(&error.into()),
            PageFrame::JobError {
                job: "b".into(),
                code: "unknown_process".into()
            }
        );
        let shutdown = r#"{"type":"server_shutdown","retry_after_ms":700}"#;
        assert_eq!(
            super::page_frame(&shutdown.into()),
            PageFrame::Shutdown {
                retry_after_ms: 700
            }
        );
        for other in [
            r#"{"type":"error","code":"bad_message","message":"m"}"#,
            r#"{"type":"pong","id":1,"server_ts_ms":2}"#,
            r#"{"type":"progress","progress":{"seq":1}}"#,
            "not json",
        ] {
            assert_eq!(
                super::page_frame(&other.into()),
                PageFrame::Other,
                "{other}"
            );
        }
    }

    #[wasm_bindgen_test]
    fn set_poll_bodies_give_each_entry_its_progress_or_code() {
        let body = format!(
            r#"{{"jobs":[{{"process_id":"job_1","progress":{PROGRESS}}},{{"process_id":"b","error":{{"code":"unknown_process","message":"m"}}}},{{"process_id":"c"}}]}}"#
        );
        let entries = super::set_poll_body(&body).expect("a set answer");
        assert_eq!(entries.len(), 2, "the unreadable entry is left out");
        assert_eq!(entries[0].0, "job_1");
        assert_eq!(entries[0].1.as_ref().map(|p| p.seq), Ok(7));
        assert_eq!(entries[1], ("b".into(), Err("unknown_process".into())));
        assert_eq!(super::set_poll_body("<html>"), None);
        assert_eq!(super::set_poll_body(r#"{"jobs":7}"#), None);
    }

    #[cfg(feature = "one-job-session")]
    #[wasm_bindgen_test]
    fn poll_bodies_read_as_serde_reads_them() {
        let bodies = [
            format!(r#"{{"progress":{PROGRESS}}}"#),
            r#"{"progress":{"seq":1}}"#.to_owned(),
            r#"{"error":{"code":"unknown_process","message":"no such job"}}"#.to_owned(),
            r#"{"error":{"code":"unknown_process"}}"#.to_owned(),
            "<html>".to_owned(),
        ];
        for text in bodies {
            let serde = serde_json::from_str::<ProgressResponse>(&text)
                .ok()
                .map(|r| r.progress);
            assert_eq!(super::progress_body(&text), serde, "{text}");
            let serde = serde_json::from_str::<ErrorResponse>(&text)
                .ok()
                .map(|e| e.error.code);
            assert_eq!(super::error_code(&text), serde, "{text}");
        }
    }
}
