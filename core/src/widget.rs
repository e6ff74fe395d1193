//! What a widget follows, and when that changes: the decisions both
//! widgets (the Leptos component and the embed widget) make about their
//! job, as one sans-IO value the browser's widget controller carries out.
//!
//! - A widget follows a job once it knows one: given (a prop, an
//!   attribute) or named by its upload's answers (core's upload
//!   [`Handoff`]: once, when the upload has finished).
//! - A new job or a new base restarts the session, the old one first; the
//!   same target again changes nothing.
//! - A new token goes to the running session, which keeps it for its next
//!   connection, with nothing torn down; a session started later starts
//!   with the newest token. A token taken away is not sent (the session
//!   keeps the one it has until it fails), but no later start uses it.

use crate::session::StatusError;
use crate::upload::{Handoff, UploadState};

/// The session to start: the old one, if any, goes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FollowStart {
    /// The job (checked by the shell when it parses it).
    pub process_id: String,
    /// The socket base given, `None` for the page's.
    pub ws_base: Option<String>,
    /// The HTTP base given, `None` for the page's.
    pub http_base: Option<String>,
    /// The token to start with: the newest given, else the upload's.
    pub token: Option<String>,
}

/// One widget's job: what it was given and what it follows.
#[derive(Debug, Clone, Default)]
pub struct WidgetJob {
    process_id: Option<String>,
    ws_base: Option<String>,
    http_base: Option<String>,
    token: Option<String>,
    handoff: Handoff,
    /// The job and bases of the session running now.
    followed: Option<(String, Option<String>, Option<String>)>,
}

impl WidgetJob {
    /// Nothing followed yet; `token` is the one the widget was given.
    pub fn new(token: Option<String>) -> Self {
        Self {
            token,
            ..Self::default()
        }
    }

    /// The job (when the widget was given one; `None` keeps the one known,
    /// e.g. from an upload) and the bases. The session to start, when they
    /// differ from the ones followed.
    pub fn target(
        &mut self,
        process_id: Option<String>,
        ws_base: Option<String>,
        http_base: Option<String>,
    ) -> Option<FollowStart> {
        if process_id.is_some() {
            self.process_id = process_id;
        }
        self.ws_base = ws_base;
        self.http_base = http_base;
        self.start()
    }

    /// A new token: the token to hand to the running session (`None`: the
    /// same as before, taken away, or no session yet).
    pub fn token(&mut self, token: Option<String>) -> Option<String> {
        if self.token == token {
            return None;
        }
        self.token = token.clone();
        token.filter(|_| self.followed.is_some())
    }

    /// The upload's state: the error to report when it has just failed.
    pub fn upload_state(&mut self, state: &UploadState) -> Option<StatusError> {
        self.handoff.state(state)
    }

    /// An answer of the upload (`finished`: its last byte is on the
    /// server). The session to start, once, by the handoff rule: with the
    /// widget's token, else the upload's.
    pub fn upload_answered(
        &mut self,
        process_id: Option<String>,
        token: Option<String>,
        finished: bool,
    ) -> Option<FollowStart> {
        let job = self
            .handoff
            .answered(process_id, token, finished, self.token.as_deref())?;
        self.process_id = Some(job.process_id);
        self.token = job.token;
        self.start()
    }

    /// The HTTP base given, for an upload's default endpoint.
    pub fn http_base(&self) -> Option<&str> {
        self.http_base.as_deref()
    }

    fn start(&mut self) -> Option<FollowStart> {
        let process_id = self.process_id.clone()?;
        let target = (process_id, self.ws_base.clone(), self.http_base.clone());
        if self.followed.as_ref() == Some(&target) {
            return None;
        }
        self.followed = Some(target.clone());
        let (process_id, ws_base, http_base) = target;
        Some(FollowStart {
            process_id,
            ws_base,
            http_base,
            token: self.token.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::UploadError;

    /// What a front end tells the widget's job.
    enum Told {
        Target(Option<&'static str>, Option<&'static str>),
        Token(Option<&'static str>),
        Answered(Option<&'static str>, Option<&'static str>, bool),
    }
    use Told::*;

    /// What the controller is asked to do.
    #[derive(Debug, PartialEq)]
    enum Done {
        Start(String, Option<String>, Option<String>),
        Send(String),
    }

    fn run(given_token: Option<&str>, told: &[Told]) -> Vec<Done> {
        let own = |s: Option<&str>| s.map(str::to_owned);
        let mut job = WidgetJob::new(own(given_token));
        let mut done = Vec::new();
        for t in told {
            let start = match *t {
                Target(id, base) => job.target(own(id), own(base), None),
                Token(token) => {
                    done.extend(job.token(own(token)).map(Done::Send));
                    None
                }
                Answered(id, token, finished) => job.upload_answered(own(id), own(token), finished),
            };
            done.extend(start.map(|s| Done::Start(s.process_id, s.ws_base, s.token)));
        }
        done
    }

    fn start(id: &str, base: Option<&str>, token: Option<&str>) -> Done {
        Done::Start(id.into(), base.map(str::to_owned), token.map(str::to_owned))
    }

    fn send(token: &str) -> Done {
        Done::Send(token.into())
    }

    type Case<'a> = (&'a str, Option<&'a str>, &'a [Told], &'a [Done]);

    #[test]
    fn restarts_only_for_a_new_job_or_base_and_hands_new_tokens_over() {
        let table: &[Case] = &[
            (
                "a given job starts at once with the given token",
                Some("t"),
                &[Target(Some("a"), None)],
                &[start("a", None, Some("t"))],
            ),
            (
                "the same target again starts nothing",
                None,
                &[Target(Some("a"), None), Target(Some("a"), None)],
                &[start("a", None, None)],
            ),
            (
                "a new job restarts",
                None,
                &[Target(Some("a"), None), Target(Some("b"), None)],
                &[start("a", None, None), start("b", None, None)],
            ),
            (
                "a new base restarts the same job",
                None,
                &[Target(Some("a"), None), Target(Some("a"), Some("wss://x"))],
                &[start("a", None, None), start("a", Some("wss://x"), None)],
            ),
            (
                "a new token goes to the running session, no restart",
                Some("t1"),
                &[Target(Some("a"), None), Token(Some("t2"))],
                &[start("a", None, Some("t1")), send("t2")],
            ),
            (
                "the same token again is not sent",
                Some("t1"),
                &[Target(Some("a"), None), Token(Some("t1"))],
                &[start("a", None, Some("t1"))],
            ),
            (
                "a token before any session is kept for the start",
                None,
                &[Token(Some("t2")), Target(Some("a"), None)],
                &[start("a", None, Some("t2"))],
            ),
            (
                "a token taken away is not sent, and a restart goes without it",
                Some("t1"),
                &[
                    Target(Some("a"), None),
                    Token(None),
                    Target(Some("b"), None),
                ],
                &[start("a", None, Some("t1")), start("b", None, None)],
            ),
            (
                "no job yet: the bases are noted, nothing starts",
                None,
                &[Target(None, Some("wss://x"))],
                &[],
            ),
        ];
        for (case, token, told, want) in table {
            assert_eq!(run(*token, told), *want, "{case}");
        }
    }

    #[test]
    fn an_uploads_job_starts_once_on_its_finish_on_the_bases_given() {
        let table: &[Case] = &[
            (
                "created, then finished: the upload's job and token",
                None,
                &[
                    Target(None, Some("wss://x")),
                    Answered(Some("p"), Some("u"), false),
                    Answered(None, None, true),
                ],
                &[start("p", Some("wss://x"), Some("u"))],
            ),
            (
                "the widget's token wins over the upload's",
                Some("page"),
                &[
                    Target(None, None),
                    Answered(Some("p"), Some("u"), false),
                    Answered(None, None, true),
                ],
                &[start("p", None, Some("page"))],
            ),
            (
                "a base changed after the handoff restarts the upload's job",
                None,
                &[
                    Target(None, None),
                    Answered(Some("p"), None, true),
                    Target(None, Some("wss://y")),
                ],
                &[start("p", None, None), start("p", Some("wss://y"), None)],
            ),
            (
                "a second finish starts nothing more",
                None,
                &[
                    Answered(Some("p"), None, true),
                    Answered(Some("q"), None, true),
                ],
                &[start("p", None, None)],
            ),
            (
                "a new token after the handoff goes to its session",
                None,
                &[Answered(Some("p"), Some("u"), true), Token(Some("fresh"))],
                &[start("p", None, Some("u")), send("fresh")],
            ),
        ];
        for (case, token, told, want) in table {
            assert_eq!(run(*token, told), *want, "{case}");
        }
    }

    #[test]
    fn a_failed_upload_is_reported_once_per_failure() {
        let mut job = WidgetJob::new(None);
        let failed = UploadState::Failed(UploadError::Refused(403));
        let reports = [&failed, &failed, &UploadState::Idle, &failed]
            .into_iter()
            .filter_map(|s| job.upload_state(s))
            .count();
        assert_eq!(reports, 2);
    }
}
