//! What a job card's session and upload decided, and why, as lines of text.
//!
//! The session reports its decisions as [`SessionEvent`]s and the upload
//! its state as [`UploadState`]; this module turns them into the sentences
//! the demo page lists under each widget ("closed 1006 (no close frame) →
//! retry 2 of 3 in 3.2 s"). Pure, so the wording is tested natively
//! (`tests/demo_page.rs`); the page only renders the entries.

use std::collections::VecDeque;

use upload_progress_core::session::SessionEvent;
use upload_progress_core::upload::UploadState;
use upload_progress_core::{code, CloseClass};

use crate::format;

/// How a line reads at a glance (the page colours it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Ordinary progress of the connection or the upload.
    Info,
    /// Something failed or is being worked around.
    Trouble,
    /// Back to normal after trouble.
    Recovered,
}

impl Tone {
    /// The `data-tone` attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            Tone::Info => "info",
            Tone::Trouble => "trouble",
            Tone::Recovered => "recovered",
        }
    }
}

/// One line of the timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Unique within its timeline, in order of creation.
    pub id: u64,
    /// Milliseconds since the card appeared.
    pub at_ms: u64,
    /// What happened and what follows.
    pub text: String,
    /// How it reads.
    pub tone: Tone,
}

/// The newest lines of one card, oldest first.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    entries: VecDeque<Entry>,
    next_id: u64,
    /// The close line still waiting to learn what follows it (a retry or
    /// the fallback), so the two read as one decision.
    open_close: Option<u64>,
    /// The last upload line, so a repeated state is not listed again.
    last_upload: Option<String>,
    /// True while chunks follow each other: only the first of a run (or
    /// the one that resumes after trouble) is listed.
    sending: bool,
}

impl Timeline {
    /// Lines kept per card; older ones are dropped, so a long outage never
    /// grows the page without bound.
    pub const MAX_ENTRIES: usize = 40;

    /// The lines, oldest first.
    pub fn entries(&self) -> impl DoubleEndedIterator<Item = &Entry> + ExactSizeIterator {
        self.entries.iter()
    }

    /// Records one decision of the session, `at_ms` after the card appeared.
    pub fn session(&mut self, at_ms: u64, event: &SessionEvent) {
        match event {
            SessionEvent::SocketClosed { code, .. } => {
                let Some((text, tone)) = describe_session(event) else {
                    return;
                };
                let id = self.push(at_ms, text, tone);
                // A finished job's close is followed by no retry.
                self.open_close = (*code != code::NORMAL).then_some(id);
            }
            SessionEvent::BackoffChosen { .. } | SessionEvent::FellBackToPolling => {
                let Some((text, tone)) = describe_session(event) else {
                    return;
                };
                match self.open_close.take().and_then(|id| self.find(id)) {
                    Some(close) => {
                        close.text = format!("{} → {text}", close.text);
                        close.tone = tone;
                    }
                    None => {
                        self.push(at_ms, text, tone);
                    }
                }
            }
            // Events that do not end a failure leave the close open: the
            // retry decision may still come after them.
            SessionEvent::BridgePolling | SessionEvent::DrainHint { .. } => {
                if let Some((text, tone)) = describe_session(event) {
                    self.push(at_ms, text, tone);
                }
            }
            _ => {
                self.open_close = None;
                if let Some((text, tone)) = describe_session(event) {
                    self.push(at_ms, text, tone);
                }
            }
        }
    }

    /// Records the upload's state, `at_ms` after the card appeared; `now`
    /// is the clock the upload's deadlines use. Repeats, and chunks after
    /// the first of a run, are skipped.
    pub fn upload(&mut self, at_ms: u64, now: u64, state: &UploadState) {
        let was_sending = std::mem::replace(
            &mut self.sending,
            matches!(state, UploadState::Sending { .. }),
        );
        if was_sending && self.sending {
            return;
        }
        let Some((text, tone)) = describe_upload(state, now) else {
            return;
        };
        if self.last_upload.as_deref() == Some(text.as_str()) {
            return;
        }
        self.last_upload = Some(text.clone());
        self.push(at_ms, text, tone);
    }

    fn push(&mut self, at_ms: u64, text: String, tone: Tone) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push_back(Entry {
            id,
            at_ms,
            text,
            tone,
        });
        while self.entries.len() > Self::MAX_ENTRIES {
            self.entries.pop_front();
        }
        id
    }

    fn find(&mut self, id: u64) -> Option<&mut Entry> {
        self.entries.iter_mut().find(|e| e.id == id)
    }
}

/// What a close code means to the person watching.
fn close_meaning(close: u16, reason: &str) -> String {
    let known = match close {
        code::NORMAL => "job finished",
        code::GOING_AWAY => "server going away",
        code::ABNORMAL => "no close frame",
        code::POLICY => "policy violation",
        code::TOO_BIG => "message too big",
        code::INTERNAL_ERROR => "server error",
        code::RESTARTING => "server restarting",
        code::TRY_AGAIN_LATER => "server full",
        code::BAD_GATEWAY => "bad gateway",
        code::INVALID_PROCESS_ID => "invalid job id",
        code::UNAUTHORIZED => "token refused",
        code::UNKNOWN_PROCESS => "unknown job",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_owned();
    }
    // The session closes dead sockets itself with 4000 and a reason
    // ("heartbeat timeout"); other codes carry whatever the server said.
    let reason = reason.trim();
    if !reason.is_empty() {
        return reason.to_owned();
    }
    match CloseClass::of(close) {
        CloseClass::Policy => "refused".to_owned(),
        _ => "transient".to_owned(),
    }
}

/// One session decision in words, or `None` for one the page does not list.
pub fn describe_session(event: &SessionEvent) -> Option<(String, Tone)> {
    let line = match event {
        SessionEvent::AttemptOpened { probe: true, .. } => {
            ("probing the socket while polling".to_owned(), Tone::Info)
        }
        SessionEvent::AttemptOpened { number: 1, .. } => {
            ("opening the socket".to_owned(), Tone::Info)
        }
        SessionEvent::AttemptOpened { number, .. } => {
            (format!("opening the socket (attempt {number})"), Tone::Info)
        }
        SessionEvent::SocketLive { .. } => (
            "live on the socket: snapshot received".to_owned(),
            Tone::Recovered,
        ),
        SessionEvent::SocketClosed { code, reason, .. } => {
            let tone = if *code == code::NORMAL {
                Tone::Info
            } else {
                Tone::Trouble
            };
            (
                format!("closed {code} ({})", close_meaning(*code, reason)),
                tone,
            )
        }
        SessionEvent::BackoffChosen {
            delay_ms,
            attempt,
            max_attempts,
        } => (
            format!(
                "retry {attempt} of {max_attempts} in {}",
                format::seconds(*delay_ms)
            ),
            Tone::Trouble,
        ),
        SessionEvent::FellBackToPolling => ("fell back to HTTP polling".to_owned(), Tone::Trouble),
        SessionEvent::BackOnSocket => (
            "back on the socket, polling stopped".to_owned(),
            Tone::Recovered,
        ),
        SessionEvent::BridgePolling => (
            "polling over HTTP while the socket is replaced".to_owned(),
            Tone::Info,
        ),
        SessionEvent::TokenRefresh {
            ahead_of_expiry: true,
        } => (
            "token about to expire: asking for a fresh one".to_owned(),
            Tone::Info,
        ),
        SessionEvent::TokenRefresh {
            ahead_of_expiry: false,
        } => (
            "token refused: asking for a fresh one".to_owned(),
            Tone::Trouble,
        ),
        SessionEvent::StallSuspected { silent_ms } => (
            format!(
                "nothing for {}: sent an early ping",
                format::seconds(*silent_ms)
            ),
            Tone::Trouble,
        ),
        SessionEvent::OfflineCheck => (
            "browser offline: sent an early ping".to_owned(),
            Tone::Trouble,
        ),
        SessionEvent::WokeUp { late_ms } => (
            format!(
                "page woke ({} late): checking the socket",
                format::seconds(*late_ms)
            ),
            Tone::Trouble,
        ),
        SessionEvent::NetworkCheck => (
            "network changed: sent an early ping".to_owned(),
            Tone::Trouble,
        ),
        SessionEvent::HeartbeatTimeout => (
            "ping unanswered: socket treated as dead".to_owned(),
            Tone::Trouble,
        ),
        SessionEvent::ConnectTimeout => (
            "no snapshot in time: socket given up".to_owned(),
            Tone::Trouble,
        ),
        SessionEvent::DrainHint { retry_after_ms } => (
            format!(
                "server restarting: asked to wait {}",
                format::seconds(*retry_after_ms)
            ),
            Tone::Trouble,
        ),
    };
    Some(line)
}

/// The upload's state in words, or `None` before it starts. `now` is the
/// clock of the state's deadlines.
pub fn describe_upload(state: &UploadState, now: u64) -> Option<(String, Tone)> {
    let line = match state {
        UploadState::Idle => return None,
        UploadState::Queued => (
            "upload: waiting for a free slot (the page's upload queue)".to_owned(),
            Tone::Info,
        ),
        UploadState::Creating { .. } => (
            "upload: creating it on the server (tus)".to_owned(),
            Tone::Info,
        ),
        UploadState::Sending { offset: 0, .. } => ("upload: sending".to_owned(), Tone::Info),
        UploadState::Sending { offset, .. } => (
            format!("upload: sending from {}", format::bytes(*offset)),
            Tone::Info,
        ),
        UploadState::Checking { .. } => (
            "upload: asking the server how much it has".to_owned(),
            Tone::Info,
        ),
        UploadState::Waiting {
            retry_at,
            failures,
            error,
        } => (
            format!(
                "upload: {error} → try {} in {}",
                failures.saturating_add(1),
                format::seconds(retry_at.saturating_sub(now))
            ),
            Tone::Trouble,
        ),
        UploadState::Offline { offset } => (
            format!(
                "upload: browser offline, holding at {}",
                format::bytes(*offset)
            ),
            Tone::Trouble,
        ),
        UploadState::Paused { offset } => (
            format!("upload paused at {}", format::bytes(*offset)),
            Tone::Info,
        ),
        UploadState::Cancelling { .. } => ("upload: cancelling".to_owned(), Tone::Info),
        UploadState::Cancelled => ("upload cancelled".to_owned(), Tone::Info),
        UploadState::Finished { .. } => (
            "upload complete: the job takes over".to_owned(),
            Tone::Recovered,
        ),
        UploadState::Failed(error) => (format!("upload gave up: {error}"), Tone::Trouble),
    };
    Some(line)
}

/// The upload's state as a short headline next to its bar ("Uploading",
/// "Waiting to retry"), for a card that shows one line at a time.
pub fn upload_headline(state: &UploadState) -> String {
    match state {
        UploadState::Queued => "Waiting to upload".to_owned(),
        UploadState::Idle | UploadState::Creating { .. } => "Starting the upload".to_owned(),
        UploadState::Sending { .. } | UploadState::Checking { .. } => "Uploading".to_owned(),
        UploadState::Waiting { error, .. } => format!("Waiting to retry ({error})"),
        UploadState::Offline { .. } => "Offline: waiting for the network".to_owned(),
        UploadState::Paused { .. } => "Paused".to_owned(),
        UploadState::Cancelling { .. } => "Cancelling".to_owned(),
        UploadState::Cancelled => "Cancelled".to_owned(),
        UploadState::Finished { .. } => "Uploaded".to_owned(),
        UploadState::Failed(error) => format!("Upload failed: {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use upload_progress_core::session::AttemptId;
    use upload_progress_core::upload::{RequestId, UploadError};

    fn closed(code: u16, reason: &str) -> SessionEvent {
        SessionEvent::SocketClosed {
            attempt: AttemptId(1),
            code,
            reason: reason.to_owned(),
        }
    }

    fn backoff(delay_ms: u64, attempt: u32) -> SessionEvent {
        SessionEvent::BackoffChosen {
            delay_ms,
            attempt,
            max_attempts: 3,
        }
    }

    fn texts(t: &Timeline) -> Vec<&str> {
        t.entries().map(|e| e.text.as_str()).collect()
    }

    #[test]
    fn a_close_and_its_retry_read_as_one_decision() {
        let mut t = Timeline::default();
        t.session(100, &closed(1006, ""));
        t.session(101, &SessionEvent::BridgePolling);
        t.session(102, &backoff(3200, 2));
        assert_eq!(
            texts(&t),
            [
                "closed 1006 (no close frame) → retry 2 of 3 in 3.2 s",
                "polling over HTTP while the socket is replaced",
            ]
        );
        let first = t.entries().next().map(|e| (e.at_ms, e.tone));
        assert_eq!(first, Some((100, Tone::Trouble)));
    }

    #[test]
    fn the_last_failure_reads_as_the_fallback() {
        let mut t = Timeline::default();
        t.session(0, &closed(4000, "heartbeat timeout"));
        t.session(1, &SessionEvent::FellBackToPolling);
        assert_eq!(
            texts(&t),
            ["closed 4000 (heartbeat timeout) → fell back to HTTP polling"]
        );
    }

    #[test]
    fn a_retry_after_another_decision_stands_alone() {
        let mut t = Timeline::default();
        t.session(0, &closed(1006, ""));
        t.session(1, &SessionEvent::HeartbeatTimeout);
        t.session(2, &backoff(500, 1));
        assert_eq!(
            texts(&t),
            [
                "closed 1006 (no close frame)",
                "ping unanswered: socket treated as dead",
                "retry 1 of 3 in 0.5 s",
            ]
        );
    }

    #[test]
    fn a_normal_close_waits_for_nothing() {
        let mut t = Timeline::default();
        t.session(0, &closed(1000, ""));
        t.session(1, &backoff(1000, 1));
        assert_eq!(t.entries().len(), 2);
        assert_eq!(t.entries().next().map(|e| e.tone), Some(Tone::Info));
    }

    #[test]
    fn close_codes_are_named() {
        assert_eq!(close_meaning(1012, ""), "server restarting");
        assert_eq!(close_meaning(4401, "expired"), "token refused");
        assert_eq!(close_meaning(4404, ""), "unknown job");
        assert_eq!(close_meaning(4000, " stall "), "stall");
        assert_eq!(close_meaning(4000, ""), "transient");
        assert_eq!(close_meaning(4600, ""), "refused");
    }

    #[test]
    fn every_session_event_has_words() {
        let cases = [
            (
                SessionEvent::AttemptOpened {
                    attempt: AttemptId(1),
                    number: 1,
                    probe: false,
                },
                "opening the socket",
            ),
            (
                SessionEvent::AttemptOpened {
                    attempt: AttemptId(2),
                    number: 3,
                    probe: false,
                },
                "opening the socket (attempt 3)",
            ),
            (
                SessionEvent::AttemptOpened {
                    attempt: AttemptId(3),
                    number: 1,
                    probe: true,
                },
                "probing the socket while polling",
            ),
            (
                SessionEvent::SocketLive {
                    attempt: AttemptId(1),
                },
                "live on the socket: snapshot received",
            ),
            (
                SessionEvent::BackOnSocket,
                "back on the socket, polling stopped",
            ),
            (
                SessionEvent::TokenRefresh {
                    ahead_of_expiry: true,
                },
                "token about to expire: asking for a fresh one",
            ),
            (
                SessionEvent::TokenRefresh {
                    ahead_of_expiry: false,
                },
                "token refused: asking for a fresh one",
            ),
            (
                SessionEvent::StallSuspected { silent_ms: 4100 },
                "nothing for 4.1 s: sent an early ping",
            ),
            (
                SessionEvent::ConnectTimeout,
                "no snapshot in time: socket given up",
            ),
            (
                SessionEvent::DrainHint {
                    retry_after_ms: 1000,
                },
                "server restarting: asked to wait 1.0 s",
            ),
        ];
        for (event, want) in cases {
            assert_eq!(describe_session(&event).map(|l| l.0).as_deref(), Some(want));
        }
    }

    #[test]
    fn upload_states_are_listed_once_each() {
        let mut t = Timeline::default();
        t.upload(0, 0, &UploadState::Idle);
        t.upload(
            1,
            1,
            &UploadState::Creating {
                request: RequestId(1),
            },
        );
        let sending = UploadState::Sending {
            request: RequestId(2),
            offset: 0,
            len: 10,
        };
        t.upload(2, 2, &sending);
        t.upload(3, 3, &sending);
        // The next chunk of the same run.
        t.upload(
            3,
            3,
            &UploadState::Sending {
                request: RequestId(9),
                offset: 10,
                len: 10,
            },
        );
        t.upload(
            4,
            1_000,
            &UploadState::Waiting {
                retry_at: 3_000,
                failures: 1,
                error: UploadError::Server(503),
            },
        );
        t.upload(
            5,
            5,
            &UploadState::Sending {
                request: RequestId(3),
                offset: 65_536,
                len: 10,
            },
        );
        t.upload(
            6,
            6,
            &UploadState::Finished {
                process_id: None,
                token: None,
            },
        );
        assert_eq!(
            texts(&t),
            [
                "upload: creating it on the server (tus)",
                "upload: sending",
                "upload: server error 503 → try 2 in 2.0 s",
                "upload: sending from 65.5 kB",
                "upload complete: the job takes over",
            ]
        );
    }

    #[test]
    fn upload_headlines_name_the_state_and_its_error() {
        assert_eq!(
            upload_headline(&UploadState::Creating {
                request: RequestId(1)
            }),
            "Starting the upload"
        );
        assert_eq!(
            upload_headline(&UploadState::Checking {
                request: RequestId(2)
            }),
            "Uploading"
        );
        assert_eq!(
            upload_headline(&UploadState::Waiting {
                retry_at: 0,
                failures: 2,
                error: UploadError::Network,
            }),
            "Waiting to retry (network error)"
        );
        assert_eq!(
            upload_headline(&UploadState::Failed(UploadError::TooLarge)),
            "Upload failed: the file is too large for the server"
        );
        assert_eq!(upload_headline(&UploadState::Cancelled), "Cancelled");
    }

    #[test]
    fn old_lines_are_dropped_beyond_the_cap() {
        let mut t = Timeline::default();
        for i in 0..(Timeline::MAX_ENTRIES as u64 + 5) {
            t.session(i, &SessionEvent::HeartbeatTimeout);
        }
        assert_eq!(t.entries().len(), Timeline::MAX_ENTRIES);
        assert_eq!(t.entries().next().map(|e| e.at_ms), Some(5));
        // A close whose line was dropped still lets its retry be listed.
        let mut t = Timeline::default();
        t.session(0, &closed(1006, ""));
        for i in 1..=(Timeline::MAX_ENTRIES as u64) {
            t.session(i, &SessionEvent::BridgePolling);
        }
        t.session(99, &backoff(2000, 1));
        assert_eq!(
            t.entries().last().map(|e| e.text.as_str()),
            Some("retry 1 of 3 in 2.0 s")
        );
    }
}
