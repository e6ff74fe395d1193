//! Every string the component shows, replaceable for translation.
//!
//! Templates hold `{name}` placeholders that are filled in at render time;
//! a translation may reorder or drop them.

use serde::Deserialize;
// The recovery hints are core's, so the widget and `onError` say the same.
use upload_progress_core::session::ErrorKind;

/// The visible strings of the component. `Labels::default()` is English.
///
/// Placeholders: `{seconds}`, `{minutes}`, `{attempt}`, `{max}`, `{index}`,
/// `{count}`, `{stage}`, `{percent}`, `{error}`, and for uploads `{sent}`,
/// `{total}`, `{unit}`, `{speed}`, `{n}` (each only where listed).
///
/// # Usage
/// ```
/// use upload_progress_robust::Labels;
/// let labels = Labels {
///     reconnect: "Neu verbinden".to_owned(),
///     ..Labels::default()
/// };
/// assert_eq!(labels.reconnect, "Neu verbinden");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Labels {
    /// Accessible name of the progress bar.
    pub progress_label: String,
    /// Accessible name of the stage list.
    pub stages_label: String,
    /// Shown instead of a file name when none is given.
    pub untitled: String,
    /// `aria-valuetext` with a current stage: `{index}`, `{count}`, `{stage}`, `{percent}`.
    pub value_text_stage: String,
    /// `aria-valuetext` without a stage: `{percent}`.
    pub value_text: String,
    /// `aria-valuetext` before any progress is known.
    pub value_text_unknown: String,
    /// Stage status word for screen readers: finished.
    pub stage_done: String,
    /// Stage status word: in progress.
    pub stage_current: String,
    /// Stage status word: not reached yet.
    pub stage_pending: String,
    /// Stage status word: failed.
    pub stage_failed: String,
    /// Stage status word: not run.
    pub stage_skipped: String,
    /// Connection: not started.
    pub idle: String,
    /// Connection: first attempt under way.
    pub connecting: String,
    /// Connection: a later attempt under way: `{attempt}`.
    pub connecting_attempt: String,
    /// Connection: live over the WebSocket.
    pub connected: String,
    /// Connection: polling over HTTP.
    pub polling: String,
    /// Connection: polling, socket tried again soon: `{seconds}`.
    pub polling_probe: String,
    /// Connection: waiting to reconnect: `{seconds}`, `{attempt}`, `{max}`.
    pub reconnecting: String,
    /// Connection: the browser is offline.
    pub offline: String,
    /// Job finished successfully.
    pub finished_completed: String,
    /// Job failed.
    pub finished_failed: String,
    /// Job cancelled.
    pub finished_cancelled: String,
    /// Following stopped on request.
    pub stopped: String,
    /// Error text for a failed job: `{error}`.
    pub job_failed: String,
    /// Error: credentials missing or expired.
    pub error_auth: String,
    /// Hint for an authentication error.
    pub hint_auth: String,
    /// Error: network or server unreachable.
    pub error_network: String,
    /// Hint for a network error.
    pub hint_network: String,
    /// Error: the server answered with an error.
    pub error_server: String,
    /// Hint for a server error.
    pub hint_server: String,
    /// Error: a server rule was broken (bad id, message too big, policy).
    pub error_policy: String,
    /// Hint for a policy error.
    pub hint_policy: String,
    /// Error: the job does not exist.
    pub error_not_found: String,
    /// Hint for a missing job.
    pub hint_not_found: String,
    /// Data age: fresh.
    pub updated_now: String,
    /// Data age in seconds: `{seconds}`.
    pub updated_seconds: String,
    /// Data age in minutes: `{minutes}`.
    pub updated_minutes: String,
    /// Data age before the first update.
    pub waiting_for_data: String,
    /// The Reconnect button.
    pub reconnect: String,
    /// Updates stopped at their usual rhythm and the connection is being checked.
    pub checking: String,
    /// The measured round trip; `{ms}`.
    pub latency: String,
    /// The job itself failed or was cancelled.
    pub error_job: String,
    /// What to do about a failed job.
    pub hint_job: String,
    /// `aria-valuetext` while uploading: `{sent}`, `{total}`, `{unit}`.
    pub upload_value_text: String,
    /// `aria-valuetext` of a paused upload: `{sent}`, `{total}`, `{unit}`.
    pub upload_value_text_paused: String,
    /// Bytes sent, under the bar: `{sent}`, `{total}`, `{unit}`.
    pub upload_amount: String,
    /// Upload speed: `{speed}`, `{unit}`.
    pub upload_speed: String,
    /// Time left under a minute: `{n}`.
    pub upload_left_seconds: String,
    /// Time left in minutes: `{n}`.
    pub upload_left_minutes: String,
    /// Time left in hours: `{n}`.
    pub upload_left_hours: String,
    /// Upload status: waiting for a turn in the page's upload queue (at
    /// most a few uploads send at once).
    pub upload_queued: String,
    /// Upload status: being created on the server.
    pub upload_starting: String,
    /// Upload status: bytes are leaving.
    pub upload_uploading: String,
    /// Upload status: a request failed and is retried: `{error}`, `{attempt}`.
    pub upload_retrying: String,
    /// Upload status: the browser is offline.
    pub upload_offline: String,
    /// Upload status: paused.
    pub upload_paused: String,
    /// Upload status: being cancelled.
    pub upload_cancelling: String,
    /// Upload status: cancelled.
    pub upload_cancelled: String,
    /// Upload status: every byte arrived.
    pub upload_done: String,
    /// Upload status: gave up: `{error}`.
    pub upload_failed: String,
    /// Upload status: gave up, Resume may help: `{error}`.
    pub upload_failed_resumable: String,
    /// Announced when the upload begins.
    pub upload_started: String,
    /// Announced when bytes leave again after a pause, a failure or the network.
    pub upload_resumed: String,
    /// The upload's Pause button.
    pub upload_pause: String,
    /// The upload's Resume button.
    pub upload_resume: String,
    /// The upload's Cancel button.
    pub upload_cancel: String,
}

/// Defines the per-field tables of [`Labels`]: each field's name, its
/// English default and the fields in order, so that defaults, names and
/// fingerprints are one loop each rather than one copy of the code per
/// field in the browser's wasm.
macro_rules! labels_table {
    ($($field:ident: $english:expr),* $(,)?) => {
        const COUNT: usize = [$(stringify!($field)),*].len();

        impl Labels {
            /// Every field's name, in field order.
            const NAMES: [&'static str; COUNT] = [$(stringify!($field)),*];
            /// Every field's English text, in field order.
            const ENGLISH: [&'static str; COUNT] = [$($english),*];

            /// Every field, in field order.
            fn texts(&self) -> [&String; COUNT] {
                [$(&self.$field),*]
            }

            /// Every field, in field order, to write.
            fn texts_mut(&mut self) -> [&mut String; COUNT] {
                [$(&mut self.$field),*]
            }

            /// Every text empty.
            fn empty() -> Self {
                Self { $($field: String::new()),* }
            }
        }
    };
}

impl Labels {
    /// Every field with its name, to set labels by name.
    #[cfg_attr(not(feature = "embed"), allow(dead_code))]
    pub(crate) fn named_mut(&mut self) -> Vec<(&'static str, &mut String)> {
        Self::NAMES.into_iter().zip(self.texts_mut()).collect()
    }

    /// All texts in one string, equal exactly when the labels are: what a
    /// view keeps to notice new labels. One loop instead of a field-by-field
    /// `clone` and `==` keeps the browser's wasm small.
    pub(crate) fn fingerprint(&self) -> String {
        let mut key = String::new();
        for text in self.texts() {
            // Each text's length ahead of it, so no two label sets share a key.
            for byte in (text.len() as u32).to_le_bytes() {
                key.push(char::from(byte));
            }
            key.push_str(text);
        }
        key
    }
}

labels_table!(
    progress_label: "Processing progress",
    stages_label: "Processing stages",
    untitled: "Untitled file",
    value_text_stage: "Stage {index} of {count}: {stage}, {percent}%",
    value_text: "{percent}%",
    value_text_unknown: "Waiting for progress",
    stage_done: "done",
    stage_current: "in progress",
    stage_pending: "pending",
    stage_failed: "failed",
    stage_skipped: "skipped",
    idle: "Not started",
    connecting: "Connecting…",
    connecting_attempt: "Connecting (attempt {attempt})…",
    connected: "Live updates",
    polling: "Updating every few seconds (HTTP polling)",
    polling_probe: "Updating every few seconds (HTTP polling); trying live updates again in {seconds} s",
    reconnecting: "Connection lost. Reconnecting in {seconds} s (attempt {attempt} of {max})",
    offline: "Offline. Waiting for the network to come back…",
    finished_completed: "Finished",
    finished_failed: "Processing failed",
    finished_cancelled: "Cancelled",
    stopped: "Stopped",
    job_failed: "Processing failed: {error}",
    error_auth: "Your access to this job has expired.",
    // Core's recovery hint, filled in by `default`.
    hint_auth: "",
    error_network: "The server cannot be reached.",
    // Core's recovery hint, filled in by `default`.
    hint_network: "",
    error_server: "The server reported an error.",
    // Core's recovery hint, filled in by `default`.
    hint_server: "",
    error_policy: "The server refused this request.",
    // Core's recovery hint, filled in by `default`.
    hint_policy: "",
    error_not_found: "This job could not be found.",
    // Core's recovery hint, filled in by `default`.
    hint_not_found: "",
    updated_now: "Updated just now",
    updated_seconds: "Updated {seconds} s ago",
    updated_minutes: "Updated {minutes} min ago",
    waiting_for_data: "Waiting for the first update…",
    reconnect: "Reconnect",
    checking: "No updates for a while; checking the connection…",
    latency: "Round trip {ms} ms",
    error_job: "The job did not finish.",
    // Core's recovery hint, filled in by `default`.
    hint_job: "",
    upload_value_text: "Uploading {sent} of {total} {unit}",
    upload_value_text_paused: "Upload paused at {sent} of {total} {unit}",
    upload_amount: "{sent} of {total} {unit}",
    upload_speed: "{speed} {unit}/s",
    upload_left_seconds: "about {n} s left",
    upload_left_minutes: "about {n} min left",
    upload_left_hours: "about {n} h left",
    upload_queued: "Waiting to upload",
    upload_starting: "Starting the upload…",
    upload_uploading: "Uploading…",
    upload_retrying: "Upload interrupted ({error}); retrying (attempt {attempt})…",
    upload_offline: "Offline. The upload continues when the network is back.",
    upload_paused: "Upload paused",
    upload_cancelling: "Cancelling the upload…",
    upload_cancelled: "Upload cancelled",
    upload_done: "Upload complete",
    upload_failed: "Upload failed: {error}",
    upload_failed_resumable: "Upload failed: {error}. Press Resume to try again.",
    upload_started: "Upload started",
    upload_resumed: "Upload resumed",
    upload_pause: "Pause",
    upload_resume: "Resume",
    upload_cancel: "Cancel",
);

impl Default for Labels {
    fn default() -> Self {
        let mut labels = Self::empty();
        for (text, english) in labels.texts_mut().into_iter().zip(Self::ENGLISH) {
            text.push_str(english);
        }
        // The recovery hints are core's, so the widget and `onError` say the same.
        labels.hint_auth.push_str(ErrorKind::Auth.hint());
        labels.hint_network.push_str(ErrorKind::Network.hint());
        labels.hint_server.push_str(ErrorKind::Server.hint());
        labels.hint_policy.push_str(ErrorKind::Policy.hint());
        labels.hint_not_found.push_str(ErrorKind::NotFound.hint());
        labels.hint_job.push_str(ErrorKind::Job.hint());
        labels
    }
}

/// Fills `{name}` placeholders of `template` from `values`; a placeholder
/// without a value stays as written. One pass, without `str::replace`,
/// whose substring searcher was most of this function's size in the wasm.
pub(crate) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        match placeholder(after, values) {
            Some((value, tail)) => {
                out.push_str(value);
                rest = tail;
            }
            // Not a known placeholder: the brace is text.
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of the placeholder that `after` (the text after a `{`) starts
/// with, and the text after its `}`.
fn placeholder<'t, 'v>(after: &'t str, values: &[(&str, &'v str)]) -> Option<(&'v str, &'t str)> {
    let (name, tail) = after.split_once('}')?;
    let (_, value) = values.iter().find(|(n, _)| *n == name)?;
    Some((value, tail))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {

    #[test]
    fn every_label_is_named() {
        let mut labels = Labels::default();
        let count = format!("{labels:?}").matches(": \"").count();
        let named = labels.named_mut();
        assert_eq!(named.len(), count, "a field is missing from labels_table!");
        let json = format!(
            "{{{}}}",
            named
                .iter()
                .map(|(name, _)| format!(r#""{name}":"x {name}""#))
                .collect::<Vec<_>>()
                .join(",")
        );
        let mut by_name = Labels::default();
        for (name, slot) in by_name.named_mut() {
            *slot = format!("x {name}");
        }
        let by_serde: Labels = serde_json::from_str(&json).unwrap();
        assert_eq!(by_name, by_serde);
    }

    use super::*;

    #[test]
    fn placeholders_are_filled_and_unknown_ones_kept() {
        assert_eq!(
            fill("{a} and {b} and {c}", &[("a", "1"), ("b", "2")]),
            "1 and 2 and {c}"
        );
    }

    #[test]
    fn fingerprints_are_equal_exactly_when_the_labels_are() {
        let english = Labels::default().fingerprint();
        assert_eq!(Labels::default().fingerprint(), english);
        let count = Labels::default().named_mut().len();
        for field in 0..count {
            let mut changed = Labels::default();
            *changed.named_mut()[field].1 = "x".to_owned();
            assert_ne!(changed.fingerprint(), english, "field {field}");
        }
        // Text moved from one label to the next is a change too.
        let split = |first: &str, second: &str| Labels {
            progress_label: first.to_owned(),
            stages_label: second.to_owned(),
            ..Labels::default()
        };
        assert_ne!(
            split("ab", "c").fingerprint(),
            split("a", "bc").fingerprint()
        );
    }

    #[test]
    fn english_defaults_fill_every_field_and_take_the_hints_from_core() {
        let mut labels = Labels::default();
        for (name, text) in labels.named_mut() {
            assert!(!text.is_empty(), "{name} has no English text");
        }
        assert_eq!(labels.untitled, "Untitled file");
        assert_eq!(labels.upload_cancel, "Cancel");
        for (hint, kind) in [
            (&labels.hint_auth, ErrorKind::Auth),
            (&labels.hint_network, ErrorKind::Network),
            (&labels.hint_server, ErrorKind::Server),
            (&labels.hint_policy, ErrorKind::Policy),
            (&labels.hint_not_found, ErrorKind::NotFound),
            (&labels.hint_job, ErrorKind::Job),
        ] {
            assert_eq!(hint, kind.hint());
        }
    }

    #[test]
    fn partial_json_keeps_english_for_the_rest() {
        let labels: Labels = serde_json::from_str(r#"{"reconnect":"Wiederverbinden"}"#).unwrap();
        assert_eq!(labels.reconnect, "Wiederverbinden");
        assert_eq!(labels.offline, Labels::default().offline);
    }
}
