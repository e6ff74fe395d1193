//! Inputs from the user and the page: start, stop, reconnect, network and visibility.

use super::conditions::{Conditions, Network};
use super::errors;
use super::session::CLOSE_NORMAL;
use super::state::{Link, Phase, Polls, Resume};
use super::time::At;
use super::{Session, SessionEvent};

/// Lifecycle events often arrive in bursts (`online`, `visibilitychange` and
/// `pageshow` together); a retry started less than this long ago is not
/// repeated, so a burst costs one attempt.
pub(crate) const RETRY_NOW_MIN_GAP_MS: u64 = 1_000;

impl Session {
    pub(super) fn on_start(&mut self, now: At) {
        if let Phase::Idle = self.phase {
            self.marks.following_since = Some(now);
            self.enter_live(now);
        }
    }

    pub(super) fn on_stop(&mut self) {
        // A finished job stays finished: its final state is the better answer.
        if matches!(self.phase, Phase::Finished(_)) {
            return;
        }
        let stopped = Phase::Stopped {
            error: None,
            requested: true,
        };
        self.replace_phase(stopped, "stopped");
    }

    /// Offline pauses retries, polls and probes. A delivering socket is not
    /// closed on the browser's word alone (the flag can be wrong while the
    /// socket works), but it is checked at once with an early ping instead
    /// of being trusted until the next heartbeat or stall check.
    pub(super) fn on_offline(&mut self, now: At) {
        self.conditions.network = Network::Offline;
        self.check_delivering_socket(SessionEvent::OfflineCheck, now);
    }

    /// Another network (`navigator.connection` changed): a socket bound to
    /// the old one may be dead without a close, so it is checked at once,
    /// as when going offline; a wait for a retry or a poll is cut short,
    /// as when coming back online.
    pub(super) fn on_network_changed(&mut self, now: At) {
        self.check_delivering_socket(SessionEvent::NetworkCheck, now);
        self.retry_now(now);
    }

    /// An early ping on a delivering socket, which shows "checking" until
    /// anything arrives (or the socket is given up after
    /// `stall_pong_timeout_ms`). Nothing when a check is already out.
    fn check_delivering_socket(&mut self, event: SessionEvent, now: At) {
        let Phase::Live { socket, .. } = &self.phase else {
            return;
        };
        let checking = socket.silence.is_some_and(|s| s.checking);
        if socket.link.is_proven() && !checking {
            self.event(event);
            self.send_ping(now, true);
        }
    }

    pub(super) fn on_reconnect(&mut self, now: At) {
        if self.is_final() {
            return;
        }
        // A manual reconnect starts a fresh streak: full retry budget and a
        // new chance for the credentials.
        // The person pressing it is the better judge: the browser's online
        // flag can be wrong, so the attempt is made at once. The flag
        // stays: if the attempt fails, the page still says "offline" and
        // the failure does not count toward the backoff (failures while
        // offline never do). A server's wait hint was advice.
        self.conditions = Conditions {
            network: self.conditions.network,
            ..Conditions::default()
        };
        if self.marks.following_since.is_none() {
            self.marks.following_since = Some(now);
        }
        let opening = self.phase.socket().is_some_and(|s| s.link == Link::Opening);
        if matches!(self.phase, Phase::Live { .. }) && opening {
            // A socket is already on its way: a second one would only race it
            // (this is also what makes a double click harmless).
            return;
        }
        // Anything else, an open socket included, is replaced: the user may
        // distrust a connection that looks fine, and a fresh snapshot is cheap.
        self.close_socket(CLOSE_NORMAL, "reconnect", now);
        self.enter_live(now);
    }

    pub(super) fn on_token_ready(&mut self, token: Option<String>, now: At) {
        if let Phase::AwaitingToken { resume, .. } = self.phase {
            match token {
                Some(token) => {
                    self.credentials.replace(token);
                    self.resume(resume, now);
                }
                None => self.stop_with(errors::token_unavailable()),
            }
        } else if let Some(token) = token {
            // Unasked-for tokens (the app changed its token) are kept for
            // the next connection; nothing open is torn down for them.
            if !self.is_final() {
                self.credentials.replace(token);
            }
        }
    }

    /// Back online: retry now, and check a socket that stayed open: the
    /// network it was opened on may be gone.
    pub(super) fn on_online(&mut self, now: At) {
        self.conditions.network = Network::Online;
        self.check_delivering_socket(SessionEvent::NetworkCheck, now);
        self.retry_now(now);
    }

    pub(super) fn on_visible(&mut self, now: At) {
        if let Phase::Paused { resume } = self.phase {
            self.resume(resume, now);
        } else {
            self.retry_now(now);
        }
    }

    pub(super) fn on_page_hide(&mut self) {
        let resume = match self.phase {
            Phase::Live { .. } | Phase::Backoff { .. } => Resume::Socket,
            Phase::Polling { .. } => Resume::Polling {
                // Without automatic retry a page coming back only polls:
                // a failing probe would otherwise end it with an error.
                probe_now: self.config.options.auto_retry,
                next_probe_at: None,
            },
            Phase::AwaitingToken { resume, .. } => resume,
            _ => return,
        };
        // An open socket keeps a page out of the back/forward cache, and a
        // cached page cannot react to it anyway.
        self.replace_phase(Phase::Paused { resume }, "page hidden");
    }

    pub(super) fn on_page_show(&mut self, _persisted: bool, now: At) {
        // A page restored from the cache (or shown without a pagehide
        // delivered) reconnects at once; otherwise it is like becoming visible.
        self.on_visible(now);
    }

    /// Skips the wait: a backoff retries now, polling polls now. Not while
    /// offline, not before the server's `retry_after_ms`, and not twice
    /// within `RETRY_NOW_MIN_GAP_MS`.
    fn retry_now(&mut self, now: At) {
        if self.conditions.offline() || self.conditions.server_wait_holds(now) {
            return;
        }
        if self.phase.has_bridge() {
            self.start_poll(now);
        }
        let recent = |at: Option<At>| at.is_some_and(|t| now.since(t) < RETRY_NOW_MIN_GAP_MS);
        match self.phase {
            Phase::Backoff { .. } if !recent(self.marks.last_socket_start) => self.enter_live(now),
            Phase::Polling {
                polls: Polls::Due(_),
                ..
            } if !recent(self.marks.last_poll_sent) => self.start_poll(now),
            _ => {}
        }
    }
}
