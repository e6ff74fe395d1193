//! Human wording for every error the status can carry.
//!
//! The message says what happened; the hint says what the user can do. A UI
//! may show its own text per [`ErrorKind`], so both are plain English only.

use super::{ErrorKind, StatusError};

impl ErrorKind {
    /// What a user can do about an error of this kind: the one English
    /// text, used by the status, the embed's `onError` and the widget's
    /// default labels alike.
    pub fn hint(self) -> &'static str {
        match self {
            Self::Auth => "Sign in again or reload the page, then press Reconnect.",
            Self::Network => {
                "Check your internet connection; progress resumes when it is back, or press Reconnect."
            }
            Self::Server => "The server is having trouble; press Reconnect to try again in a moment.",
            Self::Policy => "Reload the page; if this keeps happening, contact support.",
            Self::NotFound => "Check the link, or start the upload again.",
            Self::Job => "Start the job again, or contact support if it keeps failing.",
        }
    }
}

impl StatusError {
    /// An error of `kind` with `message` and the kind's recovery hint.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            hint: kind.hint().to_owned(),
        }
    }
}

impl StatusError {
    /// The error for a job id that is not valid protocol v1 syntax.
    pub fn invalid_process_id(error: &crate::InvalidProcessId) -> Self {
        Self {
            hint: "Check the job id.".to_owned(),
            ..Self::new(ErrorKind::Policy, error.to_string())
        }
    }
}

pub(crate) fn open_failed(reason: &str) -> StatusError {
    let detail = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    StatusError::new(
        ErrorKind::Network,
        format!("The live connection could not be opened{detail}."),
    )
}

pub(crate) fn invalid_body(status: u16) -> StatusError {
    StatusError::new(
        ErrorKind::Server,
        format!("The server sent an unreadable progress answer (HTTP {status})."),
    )
}

/// A job that ended failed or cancelled, in the job's own words when it has them.
pub(crate) fn job_ended(progress: &crate::Progress) -> StatusError {
    let own = progress
        .error
        .clone()
        .filter(|e| !e.is_empty())
        .or_else(|| Some(progress.message.clone()).filter(|m| !m.is_empty()));
    let message = match (progress.state, own) {
        (_, Some(text)) => text,
        (crate::JobState::Cancelled, None) => "The job was cancelled.".to_owned(),
        _ => "The job failed.".to_owned(),
    };
    StatusError::new(ErrorKind::Job, message)
}

pub(crate) fn connection_lost(code: u16) -> StatusError {
    StatusError::new(
        ErrorKind::Network,
        format!("The live connection to the server was lost (code {code})."),
    )
}

pub(crate) fn socket_error() -> StatusError {
    StatusError::new(
        ErrorKind::Network,
        "The live connection to the server failed.",
    )
}

pub(crate) fn connect_timeout() -> StatusError {
    StatusError::new(
        ErrorKind::Network,
        "The server did not answer the live connection in time.",
    )
}

pub(crate) fn heartbeat_timeout() -> StatusError {
    StatusError::new(
        ErrorKind::Network,
        "The live connection stopped responding.",
    )
}

pub(crate) fn server_restarting() -> StatusError {
    StatusError::new(ErrorKind::Server, "The server is restarting.")
}

pub(crate) fn server_full() -> StatusError {
    StatusError::new(
        ErrorKind::Server,
        "The server is busy; progress is checked periodically instead.",
    )
}

pub(crate) fn policy(code: u16, reason: &str) -> StatusError {
    let detail = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    StatusError::new(
        ErrorKind::Policy,
        format!("The server refused the connection (code {code}){detail}."),
    )
}

pub(crate) fn not_found() -> StatusError {
    StatusError::new(ErrorKind::NotFound, "This job could not be found.")
}

pub(crate) fn not_found_yet() -> StatusError {
    StatusError {
        // Still waiting, so the usual "check the link" advice would mislead.
        hint: "Progress appears as soon as the server has registered the job.".to_owned(),
        ..StatusError::new(
            ErrorKind::NotFound,
            "The server does not know this job yet; still waiting for it to appear.",
        )
    }
}

pub(crate) fn auth_failed() -> StatusError {
    StatusError::new(
        ErrorKind::Auth,
        "Access to this job's progress was refused: the token is missing, invalid or expired.",
    )
}

pub(crate) fn token_unavailable() -> StatusError {
    StatusError::new(
        ErrorKind::Auth,
        "No fresh access token could be obtained for this job.",
    )
}

pub(crate) fn bad_request() -> StatusError {
    StatusError::new(
        ErrorKind::Policy,
        "The server rejected the progress request.",
    )
}

pub(crate) fn http_status(status: u16) -> StatusError {
    StatusError::new(
        ErrorKind::Server,
        format!("The server answered the progress request with HTTP {status}."),
    )
}

pub(crate) fn network() -> StatusError {
    StatusError::new(ErrorKind::Network, "The server could not be reached.")
}

pub(crate) fn auto_retry_off(cause: &StatusError) -> StatusError {
    StatusError {
        kind: cause.kind,
        message: format!("{} Automatic reconnection is off.", cause.message),
        // Nothing resumes on its own here, whatever the kind usually promises.
        hint: "Press Reconnect to try again.".to_owned(),
    }
}

/// An `error {code, message}` frame, classified by its machine code.
pub(crate) fn from_server_frame(code: &str, message: &str) -> StatusError {
    let wire = crate::protocol::WireErrorCode::parse(code);
    let kind = if wire.is_auth() {
        ErrorKind::Auth
    } else if wire == crate::protocol::WireErrorCode::UnknownProcess {
        ErrorKind::NotFound
    } else if wire.is_policy() {
        ErrorKind::Policy
    } else {
        ErrorKind::Server
    };
    let text = if message.is_empty() { code } else { message };
    StatusError::new(kind, format!("The server reported: {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_kind_has_a_hint_that_is_a_sentence() {
        for kind in [
            ErrorKind::Auth,
            ErrorKind::Network,
            ErrorKind::Server,
            ErrorKind::Policy,
            ErrorKind::NotFound,
            ErrorKind::Job,
        ] {
            let hint = kind.hint();
            assert!(hint.ends_with('.'), "{kind:?}: {hint}");
            assert!(hint.chars().next().unwrap().is_uppercase());
        }
    }

    #[test]
    fn server_error_frames_are_classified_by_their_code() {
        assert_eq!(
            from_server_frame("rate_limited", "x").kind,
            ErrorKind::Policy
        );
        assert_eq!(
            from_server_frame("unknown_process", "x").kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            from_server_frame("token_expired", "x").kind,
            ErrorKind::Auth
        );
        assert_eq!(from_server_frame("whatever", "").kind, ErrorKind::Server);
        assert!(from_server_frame("whatever", "")
            .message
            .contains("whatever"));
    }

    #[test]
    fn policy_errors_quote_the_close_reason_when_there_is_one() {
        assert!(policy(1008, "origin not allowed")
            .message
            .contains("origin not allowed"));
        assert!(policy(1008, "").message.ends_with("(code 1008)."));
    }
}
