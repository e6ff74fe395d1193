//! WebSocket close codes of protocol v1 and what a client does about each.

/// Close codes used by protocol v1 (RFC 6455 section 7.4 and the 4000-4999 application range).
pub mod code {
    /// The job reached a terminal state.
    pub const NORMAL: u16 = 1000;
    /// The server is going away.
    pub const GOING_AWAY: u16 = 1001;
    /// Never sent on the wire: the browser reports it when no close frame arrived.
    pub const ABNORMAL: u16 = 1006;
    /// Policy violation (bad origin, rate limit).
    pub const POLICY: u16 = 1008;
    /// A frame was over the size limit.
    pub const TOO_BIG: u16 = 1009;
    /// Unexpected server error.
    pub const INTERNAL_ERROR: u16 = 1011;
    /// The server is restarting.
    pub const RESTARTING: u16 = 1012;
    /// The server is full; try later.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// A gateway got a bad answer upstream.
    pub const BAD_GATEWAY: u16 = 1014;
    /// The server cannot tell now whether the job exists (its shared job
    /// store is not reachable yet): reconnect with backoff. In the
    /// transient 4000-4499 range, so older clients retry it too.
    pub const TEMPORARILY_UNAVAILABLE: u16 = 4013;
    /// Token missing, bad or expired.
    pub const UNAUTHORIZED: u16 = 4401;
    /// The `process_id` is not valid.
    pub const INVALID_PROCESS_ID: u16 = 4400;
    /// No such job after the grace period.
    pub const UNKNOWN_PROCESS: u16 = 4404;

    /// Whether a browser lets a page close a socket with `code`: only 1000
    /// and the 3000-4999 range (the WebSocket API throws on any other), so
    /// a shell closes with no code rather than keep the socket.
    pub const fn browser_may_send(code: u16) -> bool {
        code == NORMAL || matches!(code, 3000..=4999)
    }
}

/// What a client should do after a socket closed with a given code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseClass {
    /// The job is finished (1000): stop and show the final state.
    JobFinished,
    /// The server is restarting or going away (1001, 1012): reconnect soon.
    ServerRestart,
    /// Transient failure (1006, 1011, 1014, 4013, other 4000-4499, anything unknown): back off and retry.
    Transient,
    /// The server is full (1013): long backoff, poll meanwhile.
    ServerFull,
    /// The client broke a rule (1008, 1009, 4400): stop and show the error.
    Policy,
    /// Credentials missing or expired (4401): fetch a fresh token and retry once.
    Unauthorized,
    /// The job does not exist (4404): stop and show the error.
    UnknownProcess,
}

impl CloseClass {
    /// Classifies a close code.
    pub fn of(code: u16) -> Self {
        use code::*;
        match code {
            NORMAL => Self::JobFinished,
            GOING_AWAY | RESTARTING => Self::ServerRestart,
            TRY_AGAIN_LATER => Self::ServerFull,
            POLICY | TOO_BIG | INVALID_PROCESS_ID => Self::Policy,
            // Protocol-level faults a retry cannot fix.
            1002 | 1003 | 1007 | 1010 => Self::Policy,
            UNAUTHORIZED => Self::Unauthorized,
            UNKNOWN_PROCESS => Self::UnknownProcess,
            // 4500-4999 are terminal application codes.
            4500..=4999 => Self::Policy,
            _ => Self::Transient,
        }
    }

    /// True when the client must not reconnect on its own.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::JobFinished | Self::Policy | Self::UnknownProcess
        )
    }

    /// True when the client should reconnect automatically.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            Self::ServerRestart | Self::Transient | Self::ServerFull
        )
    }

    /// True when the close means the credentials need renewing.
    pub fn is_auth(self) -> bool {
        self == Self::Unauthorized
    }
}

#[cfg(test)]
mod tests {
    use super::code;

    #[test]
    fn browsers_take_only_1000_and_the_3000_to_4999_range() {
        for sendable in [1000, 3000, 4000, 4401, 4999] {
            assert!(code::browser_may_send(sendable), "{sendable}");
        }
        for refused in [0, 999, 1001, 1006, 1011, 2999, 5000, u16::MAX] {
            assert!(!code::browser_may_send(refused), "{refused}");
        }
    }
}
