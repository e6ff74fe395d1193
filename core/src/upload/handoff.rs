//! The handoff from an upload to the job the server starts for it, as one
//! rule both widgets (the Leptos component and the embed) follow:
//!
//! - the job is started once, when the upload has **finished** (the job
//!   only runs once the last byte is on the server), with the process id
//!   the upload's answers named (the newest one that named one);
//! - its token is the one the page gave, else the newest one the upload's
//!   answers carried;
//! - a failed upload is reported once per failure: on entering `Failed`,
//!   not again while it stays there.
//!
//! Sans-IO like the rest of core: the shell feeds what the upload said and
//! carries out what comes back.

use crate::session::StatusError;

use super::describe::upload_status_error;
use super::state::UploadState;

/// What the handoff has learnt from the upload so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handoff {
    process_id: Option<String>,
    token: Option<String>,
    started: bool,
    failed: bool,
}

/// The job to follow, once the upload is done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStart {
    /// The job's process id, from the upload's answers.
    pub process_id: String,
    /// The token to follow it with: the page's, else the upload's.
    pub token: Option<String>,
}

impl Handoff {
    /// A handoff that has heard nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The upload answered (creation, or the last chunk when `finished`),
    /// naming a process id and a token or not. `given_token` is the page's
    /// own token, which wins. The job to start, exactly once, when the
    /// upload has finished and a process id is known.
    pub fn answered(
        &mut self,
        process_id: Option<String>,
        token: Option<String>,
        finished: bool,
        given_token: Option<&str>,
    ) -> Option<JobStart> {
        if process_id.is_some() {
            self.process_id = process_id;
        }
        if token.is_some() {
            self.token = token;
        }
        if !finished || self.started {
            return None;
        }
        let process_id = self.process_id.clone()?;
        self.started = true;
        Some(JobStart {
            process_id,
            token: given_token
                .map(str::to_owned)
                .or_else(|| self.token.clone()),
        })
    }

    /// The upload's state changed: the error to report when it has just
    /// failed, `None` otherwise (also while it stays failed).
    pub fn state(&mut self, state: &UploadState) -> Option<StatusError> {
        let UploadState::Failed(error) = state else {
            self.failed = false;
            return None;
        };
        if std::mem::replace(&mut self.failed, true) {
            return None;
        }
        Some(upload_status_error(error))
    }

    /// The token the upload's answers carried last, for a page that gave
    /// none.
    pub fn upload_token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether the job has been started.
    pub fn started(&self) -> bool {
        self.started
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::ErrorKind;
    use crate::upload::UploadError;

    /// What the upload says, in order.
    enum Said {
        Created(Option<&'static str>, Option<&'static str>),
        Finished(Option<&'static str>, Option<&'static str>),
    }
    use Said::*;

    fn run(said: &[Said], given: Option<&str>) -> Vec<JobStart> {
        let mut handoff = Handoff::new();
        let own = |s: Option<&str>| s.map(str::to_owned);
        said.iter()
            .filter_map(|s| match *s {
                Created(id, token) => handoff.answered(own(id), own(token), false, given),
                Finished(id, token) => handoff.answered(own(id), own(token), true, given),
            })
            .collect()
    }

    /// One row: the case, what the upload said, the page's token, the
    /// starts expected.
    type Case<'a> = (&'a str, &'a [Said], Option<&'a str>, &'a [JobStart]);

    fn start(id: &str, token: Option<&str>) -> JobStart {
        JobStart {
            process_id: id.into(),
            token: token.map(str::to_owned),
        }
    }

    #[test]
    fn the_job_starts_once_on_the_finished_upload_with_the_right_token() {
        let table: &[Case] = &[
            (
                "created only: the job does not run yet",
                &[Created(Some("p1"), Some("t1"))],
                None,
                &[],
            ),
            (
                "created then finished: the creation's id and token",
                &[Created(Some("p1"), Some("t1")), Finished(None, None)],
                None,
                &[start("p1", Some("t1"))],
            ),
            (
                "the finishing answer's id and token are newer",
                &[
                    Created(Some("p1"), Some("t1")),
                    Finished(Some("p2"), Some("t2")),
                ],
                None,
                &[start("p2", Some("t2"))],
            ),
            (
                "the page's token wins over the upload's",
                &[Created(Some("p1"), Some("t1")), Finished(None, None)],
                Some("page"),
                &[start("p1", Some("page"))],
            ),
            (
                "no token anywhere: the job is followed without one",
                &[Created(Some("p1"), None), Finished(None, None)],
                None,
                &[start("p1", None)],
            ),
            (
                "no process id named: nothing to follow",
                &[Created(None, Some("t1")), Finished(None, None)],
                None,
                &[],
            ),
            (
                "the id arrives with the last answer",
                &[Created(None, Some("t1")), Finished(Some("p1"), None)],
                None,
                &[start("p1", Some("t1"))],
            ),
            (
                "a repeated finish starts nothing more",
                &[
                    Created(Some("p1"), None),
                    Finished(None, None),
                    Finished(Some("p2"), None),
                ],
                None,
                &[start("p1", None)],
            ),
        ];
        for (case, said, given, want) in table {
            assert_eq!(run(said, *given), *want, "{case}");
        }
    }

    #[test]
    fn a_failed_upload_is_reported_once_per_failure() {
        let failed = UploadState::Failed(UploadError::Refused(403));
        let paused = UploadState::Paused { offset: 0 };
        let table: &[(&str, &[&UploadState], usize)] = &[
            ("never failed", &[&UploadState::Idle, &paused], 0),
            ("failed once", &[&UploadState::Idle, &failed], 1),
            (
                "staying failed reports nothing more",
                &[&failed, &failed, &failed],
                1,
            ),
            (
                "failed, resumed, failed again: twice",
                &[&failed, &paused, &failed],
                2,
            ),
        ];
        for (case, states, want) in table {
            let mut handoff = Handoff::new();
            let reports: Vec<StatusError> =
                states.iter().filter_map(|s| handoff.state(s)).collect();
            assert_eq!(reports.len(), *want, "{case}");
            for report in reports {
                assert_eq!(report.kind, ErrorKind::Auth, "{case}");
            }
        }
    }
}
