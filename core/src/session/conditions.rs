//! What the session knows about the world around its transport: the
//! browser's network flag, the current failure streak and the server's
//! wait hint. One value, so a manual reconnect resets it in one step.

use super::time::At;

/// The browser's word on the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Network {
    /// Online, or never said otherwise.
    #[default]
    Online,
    /// Offline: retry, poll and probe timers are paused.
    Offline,
}

/// Conditions that shape the next decision, whatever the phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Conditions {
    pub(crate) network: Network,
    pub(crate) streak: Streak,
    /// No socket before this time: the server asked for it (`retry_after_ms`).
    pub(crate) not_before: Option<At>,
}

impl Conditions {
    pub(crate) fn offline(&self) -> bool {
        self.network == Network::Offline
    }

    /// A socket delivered its snapshot: its token works and the server's
    /// wait is over.
    pub(crate) fn socket_delivered(&mut self) {
        self.streak.auth.socket = false;
        self.not_before = None;
    }

    /// A poll was answered: the HTTP token works.
    pub(crate) fn poll_answered(&mut self) {
        self.streak.auth.http = false;
    }

    /// True while the server's wait hint still holds at `now`.
    pub(crate) fn server_wait_holds(&self, now: At) -> bool {
        self.not_before.is_some_and(|at| now < at)
    }
}

/// The failures since the last stable socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Streak {
    /// Consecutive failed socket attempts.
    pub(crate) failures: u32,
    /// The token refreshes used in this streak.
    pub(crate) auth: AuthRetries,
}

impl Streak {
    pub(crate) fn count_failure(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    /// The 1-based number of the attempt in progress or next.
    pub(crate) fn attempt_number(&self) -> u32 {
        self.failures.max(1)
    }
}

/// The one token refresh allowed per failure streak, per transport: a
/// token the HTTP endpoint accepts says nothing about the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct AuthRetries {
    pub(crate) socket: bool,
    pub(crate) http: bool,
}

impl AuthRetries {
    /// Uses the socket's refresh; false when it was used already.
    pub(crate) fn use_socket_refresh(&mut self) -> bool {
        !std::mem::replace(&mut self.socket, true)
    }

    /// Uses the HTTP refresh; false when it was used already.
    pub(crate) fn use_http_refresh(&mut self) -> bool {
        !std::mem::replace(&mut self.http, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_transport_gets_one_token_refresh_per_streak() {
        let mut auth = AuthRetries::default();
        assert!(auth.use_socket_refresh());
        assert!(!auth.use_socket_refresh(), "the socket's refresh is spent");
        assert!(auth.use_http_refresh(), "HTTP keeps its own");
        assert!(!auth.use_http_refresh());
    }

    #[test]
    fn a_delivering_socket_ends_its_refresh_and_the_server_wait_but_not_the_http_one() {
        let mut c = Conditions {
            not_before: Some(At::from_millis(5_000)),
            ..Conditions::default()
        };
        c.streak.auth.use_socket_refresh();
        c.streak.auth.use_http_refresh();
        assert!(c.server_wait_holds(At::from_millis(4_999)));
        assert!(!c.server_wait_holds(At::from_millis(5_000)));
        c.socket_delivered();
        assert!(!c.server_wait_holds(At::from_millis(0)));
        assert!(c.streak.auth.use_socket_refresh());
        assert!(!c.streak.auth.use_http_refresh());
    }
}
