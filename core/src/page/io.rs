//! What the page connection is told (`PageInput`) and what it asks for
//! (`PageAction`). Transport-neutral: the shell maps whatever the wire
//! says (a page-socket frame, an SSE event, a set-poll body) onto these.

use crate::session::{Millis, RequestId, SessionEvent, StatusError};
use crate::{JobState, ProcessId, Progress};

/// The transports, best first. The connection uses one rung at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rung {
    /// One page socket carrying every subscription.
    WebSocket,
    /// One `text/event-stream` for the set of jobs.
    Sse,
    /// One HTTP poll for the set of jobs.
    Polling,
}

impl Rung {
    /// The better rung, probed from this one.
    pub const fn above(self) -> Option<Self> {
        match self {
            Self::WebSocket => None,
            Self::Sse => Some(Self::WebSocket),
            Self::Polling => Some(Self::Sse),
        }
    }

    /// The rung fallen back to when this one keeps failing.
    pub const fn below(self) -> Option<Self> {
        match self {
            Self::WebSocket => Some(Self::Sse),
            Self::Sse => Some(Self::Polling),
            Self::Polling => None,
        }
    }
}

/// Identifies one streaming connection (a page socket or an SSE stream).
/// Every event of it carries this id, so events of a replaced one are dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u64);

/// Why the server refused one job (a per-job error frame or a per-job
/// entry of a set poll). It ends that job only, never the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobRefusal {
    /// The server does not know the job (yet: it may still be registering).
    UnknownJob,
    /// The id is malformed.
    BadId,
    /// The job's token is missing, invalid or expired.
    BadToken,
    /// The server cannot say now whether the job exists (its shared job
    /// store is not reachable), or has no slot for it: follow it again
    /// later, never as gone, and without spending the unknown-job grace.
    Unavailable,
}

/// One job and the token it is followed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The job.
    pub job: ProcessId,
    /// Its token, when tokens are required.
    pub token: Option<String>,
}

/// One job's entry in a set-poll answer.
#[derive(Debug, Clone, PartialEq)]
pub enum JobPoll {
    /// Its progress.
    Progress(Progress),
    /// The server refused it.
    Refused(JobRefusal),
}

/// How one set poll ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SetPollOutcome {
    /// 200: one entry per job the server answered for, and the set's ETag.
    Jobs {
        /// The entries.
        jobs: Vec<(ProcessId, JobPoll)>,
        /// The ETag of the whole set, for the next `If-None-Match`.
        etag: Option<String>,
    },
    /// 304: nothing changed for the set.
    NotModified,
    /// Any other answer (an HTTP error, a body that is not a set answer).
    Failed {
        /// The HTTP status, when there was one.
        status: Option<u16>,
    },
}

/// Everything that can happen to the page connection.
#[derive(Debug, Clone, PartialEq)]
pub enum PageInput {
    /// Begin (nothing opens until a job is subscribed).
    Start,
    /// A widget follows a job. A job already followed keeps its state and
    /// takes the newer token.
    Subscribe(Subscription),
    /// A widget no longer follows a job.
    Unsubscribe {
        /// The job.
        job: ProcessId,
    },
    /// The connection `conn` is open (the socket's open event, or the SSE
    /// stream's first byte).
    Opened {
        /// The connection.
        conn: ConnId,
    },
    /// A progress frame for `job` arrived on `conn` (a socket frame or an
    /// SSE event naming the job).
    Frame {
        /// The connection it came on.
        conn: ConnId,
        /// The job it names.
        job: ProcessId,
        /// Its progress.
        progress: Progress,
    },
    /// A per-job error frame on `conn`.
    JobError {
        /// The connection it came on.
        conn: ConnId,
        /// The job it names.
        job: ProcessId,
        /// Why the job was refused.
        refusal: JobRefusal,
    },
    /// Anything else arrived on `conn` (a pong, an SSE keep-alive comment):
    /// it proves the connection alive.
    Heard {
        /// The connection.
        conn: ConnId,
    },
    /// The connection `conn` is gone. `code` is the WebSocket close code
    /// (1006 for an SSE stream that errored or ended); `retry_after_ms` the
    /// server's restart hint, when it sent one.
    Closed {
        /// The connection.
        conn: ConnId,
        /// The close code.
        code: u16,
        /// The server's wait hint.
        retry_after_ms: Option<u64>,
    },
    /// A set poll finished.
    PollFinished {
        /// The request.
        request: RequestId,
        /// How it ended (`None`: no HTTP answer at all).
        outcome: Option<SetPollOutcome>,
    },
    /// The token provider answered a `RefreshToken` for `job`.
    TokenReady {
        /// The job.
        job: ProcessId,
        /// The fresh token; `None` when the provider has none.
        token: Option<String>,
    },
    /// Nothing can answer a `RefreshToken` for `job` (see
    /// [`Tabs::token_source`](super::Tabs::token_source)): its refused
    /// token ends it as refused, as a session without a provider ends.
    NoTokenSource {
        /// The job.
        job: ProcessId,
    },
    /// The browser went online.
    Online,
    /// The browser went offline.
    Offline,
    /// `pagehide`: close everything until the page comes back.
    PageHide,
    /// `pageshow` or `visibilitychange` to visible.
    PageShow,
    /// The user asked to reconnect: the ladder starts again at the top.
    Reconnect,
    /// The page-wide client is torn down. Final.
    Stop,
}

/// Something the page connection asks its shell to do, or to tell.
#[derive(Debug, Clone, PartialEq)]
pub enum PageAction {
    /// Open a connection on `rung` (WebSocket or SSE) for `jobs`. An SSE
    /// stream names its jobs in its URL; a socket gets them as `Subscribe`
    /// actions once it is open.
    Open {
        /// Tag for every event of this connection.
        conn: ConnId,
        /// WebSocket or SSE.
        rung: Rung,
        /// The set, for an SSE stream's URL.
        jobs: Vec<Subscription>,
    },
    /// Close the connection `conn` and stop listening to it.
    Close {
        /// The connection.
        conn: ConnId,
        /// Why, for the close reason.
        reason: &'static str,
    },
    /// Send a subscribe frame on the socket `conn`.
    Subscribe {
        /// The socket.
        conn: ConnId,
        /// The job and its token.
        subscription: Subscription,
    },
    /// Send an unsubscribe frame on the socket `conn`.
    Unsubscribe {
        /// The socket.
        conn: ConnId,
        /// The job.
        job: ProcessId,
    },
    /// Send a ping on the socket `conn`.
    Ping {
        /// The socket.
        conn: ConnId,
        /// The ping id.
        id: u64,
    },
    /// Poll the set over HTTP.
    Poll {
        /// Tag for the answer.
        request: RequestId,
        /// The set, each job with its token.
        jobs: Vec<Subscription>,
        /// The set's ETag for `If-None-Match`.
        etag: Option<String>,
    },
    /// Abort the poll `request`; its answer will be ignored anyway.
    CancelPoll {
        /// The poll.
        request: RequestId,
    },
    /// Ask the token provider for a fresh token for `job`.
    RefreshToken {
        /// The job.
        job: ProcessId,
    },
    /// Newer progress for `job`.
    JobProgress {
        /// The job.
        job: ProcessId,
        /// Its progress.
        progress: Progress,
    },
    /// `job` reached its final state and left the set: drop its subscription.
    JobEnded {
        /// The job.
        job: ProcessId,
        /// Its final state.
        state: JobState,
    },
    /// Following `job` ended in an error; it left the set. Only that job.
    JobFailed {
        /// The job.
        job: ProcessId,
        /// Why.
        error: StatusError,
    },
    /// The connection's status changed.
    Status(PageStatus),
    /// A decision about the page socket, in the one-job session's terms
    /// (attempts, closes, backoff, fallback, climbing back), for every
    /// widget's log or timeline: each widget on the connection lives
    /// through it.
    Event(SessionEvent),
}

/// The connection's state, as a UI should describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageStatus {
    /// Not started, or no job followed: nothing open.
    Idle,
    /// Opening `rung`.
    Connecting {
        /// The rung being opened.
        rung: Rung,
    },
    /// `rung` delivers.
    Live {
        /// The delivering rung.
        rung: Rung,
    },
    /// Updates stopped at their usual rhythm; checking the connection.
    Checking {
        /// The rung being checked.
        rung: Rung,
    },
    /// Waiting before the next attempt on `rung`.
    Reconnecting {
        /// The rung to retry.
        rung: Rung,
        /// When.
        retry_at: Millis,
    },
    /// The browser is offline.
    Offline,
    /// The page is hidden; everything is closed until it comes back.
    Paused,
    /// The transport was lost with automatic reconnection off
    /// (`SessionOptions::auto_retry`): nothing is open until Reconnect.
    Halted,
    /// Torn down.
    Stopped,
}
