//! Set polls: one HTTP request for every followed job, with the set's ETag.

use super::io::{JobPoll, PageAction, SetPollOutcome};
use super::PageConnection;
use crate::session::state::{Fetch, Polls};
use crate::session::time::At;
use crate::session::RequestId;

impl PageConnection {
    /// Sends the set poll (polling mode's or the bridge's).
    pub(super) fn start_poll(&mut self, now: At) {
        let jobs = self.jobs.subscriptions();
        let interval = self.options.poll_interval_ms.max(1);
        if self.phase.polls().is_none() {
            return;
        }
        if jobs.is_empty() {
            // Every job waits for its token: ask again later.
            if let Some(polls) = self.phase.polls_mut() {
                *polls = Polls::Due(now.after(interval));
            }
            return;
        }
        let request = RequestId(self.next_id());
        let Some(polls) = self.phase.polls_mut() else {
            return;
        };
        *polls = Polls::InFlight(Fetch {
            request,
            sent_at: now,
        });
        self.polled_version = self.set_version;
        self.last_poll_sent = Some(now);
        let etag = self.etag.clone();
        self.push(PageAction::Poll {
            request,
            jobs,
            etag,
        });
    }

    /// The poll in flight took too long: abandon it and poll again later.
    pub(super) fn poll_timed_out(&mut self, now: At) {
        if let Some(Polls::InFlight(f)) = self.phase.polls() {
            let request = f.request;
            self.push(PageAction::CancelPoll { request });
        }
        self.schedule_next_poll(now);
    }

    pub(super) fn on_poll_finished(
        &mut self,
        request: RequestId,
        outcome: Option<SetPollOutcome>,
        now: At,
    ) {
        let current =
            matches!(self.phase.polls(), Some(Polls::InFlight(f)) if f.request == request);
        if !current {
            return;
        }
        self.schedule_next_poll(now);
        match outcome {
            Some(SetPollOutcome::Jobs { jobs, etag }) => {
                self.last_heard = Some(now);
                if self.polled_version == self.set_version {
                    self.etag = etag;
                }
                for (job, entry) in jobs {
                    match entry {
                        JobPoll::Progress(progress) => self.apply(&job, progress, now),
                        JobPoll::Refused(refusal) => self.refuse(&job, refusal, now),
                    }
                }
            }
            Some(SetPollOutcome::NotModified) => self.last_heard = Some(now),
            // Polling never gives up on server or network trouble: it is
            // the last rung.
            Some(SetPollOutcome::Failed { .. }) | None => {}
        }
    }

    fn schedule_next_poll(&mut self, now: At) {
        let next = now.after(self.options.poll_interval_ms.max(1));
        if let Some(polls) = self.phase.polls_mut() {
            *polls = Polls::Due(next);
        }
    }
}
