//! HTTP poll answers.

use super::errors;
use super::state::Polls;
use super::time::At;
use super::{PollOutcome, RequestId, Session, StatusError};
use crate::protocol::{WireErrorCode, UNKNOWN_JOB_GRACE_MS};

impl Session {
    pub(super) fn on_poll_finished(&mut self, request: RequestId, outcome: PollOutcome, now: At) {
        let Some(fetch) = self.phase.fetch().filter(|f| f.request == request) else {
            return;
        };
        // Answered: what comes next is decided below (normally the next poll).
        if let Some(polls) = self.phase.polls_mut() {
            *polls = Polls::Due(now);
        }
        match outcome {
            PollOutcome::Progress(progress) => {
                self.heard_from_poll(fetch.sent_at, now);
                self.apply_progress(progress, now);
                self.schedule_next_poll(now);
            }
            PollOutcome::NotModified => {
                self.heard_from_poll(fetch.sent_at, now);
                self.schedule_next_poll(now);
            }
            PollOutcome::Http { status: 401, .. } => self.poll_token_refused(now),
            PollOutcome::Http { status: 404, code }
                if code.as_deref().map(WireErrorCode::parse)
                    == Some(WireErrorCode::UnknownProcess) =>
            {
                self.note_heard(now);
                if self.job_should_exist(now) {
                    self.stop_with(errors::not_found());
                } else {
                    self.note_error(errors::not_found_yet());
                    self.schedule_next_poll(now);
                }
            }
            // 400: the id or request is malformed; 403: the origin is not
            // allowed. Asking again cannot change either answer.
            PollOutcome::Http {
                status: 400 | 403, ..
            } => self.stop_with(errors::bad_request()),
            PollOutcome::Http { status, .. } => {
                self.note_heard(now);
                self.after_poll_failure(errors::http_status(status), now);
            }
            PollOutcome::InvalidBody { status } => {
                self.note_heard(now);
                self.after_poll_failure(errors::invalid_body(status), now);
            }
            PollOutcome::Network => self.after_poll_failure(errors::network(), now),
        }
    }

    fn heard_from_poll(&mut self, sent_at: At, now: At) {
        self.note_heard(now);
        self.note_latency(now.since(sent_at));
        self.clear_error();
        self.conditions.poll_answered();
    }

    /// A 404 is final once the job was seen (the server lost it) or the grace is over.
    fn job_should_exist(&self, now: At) -> bool {
        let seen = self.progress.as_ref().is_some_and(|p| p.seq > 0);
        let waited = self
            .marks
            .following_since
            .is_none_or(|since| now.since(since) >= UNKNOWN_JOB_GRACE_MS);
        seen || waited
    }

    /// Polling never gives up on server or network trouble: it is the last resort.
    pub(super) fn after_poll_failure(&mut self, error: StatusError, now: At) {
        // While a socket is being replaced, its own error says more.
        if !self.phase.has_bridge() {
            self.note_error(error);
        }
        self.schedule_next_poll(now);
    }

    fn schedule_next_poll(&mut self, now: At) {
        let next = now.after(self.config.options.poll_interval_ms.max(1));
        if let Some(polls) = self.phase.polls_mut() {
            *polls = Polls::Due(next);
        }
    }
}
