//! Recovery: where the session goes after losing a socket, and how it
//! (re)enters WebSocket or polling mode.

use super::backoff;
use super::errors;
use super::session::CLOSE_NORMAL;
use super::state::{Failure, Phase, Resume};
use super::{Action, Millis, Session};

impl Session {
    /// WebSocket mode: open a socket now.
    pub(super) fn enter_live(&mut self, now: Millis) {
        self.cancel_fetch();
        self.phase = Phase::Live;
        self.open_socket(now);
    }

    /// Polling mode: poll now, probe the socket at `next_probe_at`.
    pub(super) fn enter_polling(&mut self, now: Millis, next_probe_at: Option<Millis>) {
        self.phase = Phase::Polling {
            next_poll_at: None,
            next_probe_at,
        };
        self.start_poll(now);
    }

    /// While polling: try the socket; polling goes on until it proves itself.
    pub(super) fn start_probe(&mut self, now: Millis) {
        if let Phase::Polling { next_probe_at, .. } = &mut self.phase {
            *next_probe_at = None;
            self.open_socket(now);
        }
    }

    /// When the next probe happens: never when automatic reconnection is off.
    pub(super) fn probe_after(&self, now: Millis, wait: u64) -> Option<Millis> {
        self.config
            .options
            .auto_retry
            .then(|| now.saturating_add(wait))
    }

    /// Decides what follows a socket that failed (its slot is already gone).
    pub(super) fn after_socket_failure(&mut self, failure: Failure, now: Millis) {
        let o = self.config.options.clone();
        let error = match &failure {
            Failure::Transient(error) => error.clone(),
            Failure::Restart(_) => errors::server_restarting(),
            Failure::Full => errors::server_full(),
        };
        self.last_error = Some(error.clone());
        if !o.auto_retry {
            self.stop_with(errors::auto_retry_off(&error));
            return;
        }
        if let Phase::Polling { .. } = self.phase {
            // A failed probe: polling carries on, the socket waits for the next probe.
            let wait = match failure {
                Failure::Transient(_) => {
                    self.failures = self.failures.saturating_add(1);
                    o.probe_interval_ms
                }
                Failure::Restart(hint) => backoff::restart_delay(&o, hint, &mut self.rng),
                Failure::Full => o.server_full_retry_ms,
            };
            if let Phase::Polling { next_probe_at, .. } = &mut self.phase {
                *next_probe_at = Some(now.saturating_add(wait));
            }
            return;
        }
        if self.offline {
            // Failures while the browser is offline say nothing about the
            // server; wait (uncounted) until it is back online.
            self.phase = Phase::Backoff { retry_at: now };
            return;
        }
        match failure {
            Failure::Transient(_) => {
                self.failures = self.failures.saturating_add(1);
                if self.failures > o.max_retries {
                    self.enter_polling(now, Some(now.saturating_add(o.probe_interval_ms)));
                } else {
                    let delay = backoff::retry_delay(&o, self.failures, &mut self.rng);
                    self.phase = Phase::Backoff {
                        retry_at: now.saturating_add(delay),
                    };
                }
            }
            Failure::Restart(hint) => {
                let delay = backoff::restart_delay(&o, hint, &mut self.rng);
                self.phase = Phase::Backoff {
                    retry_at: now.saturating_add(delay),
                };
            }
            Failure::Full => {
                self.enter_polling(now, Some(now.saturating_add(o.server_full_retry_ms)));
            }
        }
    }

    /// 4401 or HTTP 401: ask for a fresh token once; a second refusal stops.
    pub(super) fn auth_failed(&mut self, resume: Resume, now: Millis) {
        if self.auth_retry_used {
            self.stop_with(errors::auth_failed());
            return;
        }
        self.auth_retry_used = true;
        self.close_socket(CLOSE_NORMAL, "refreshing token");
        self.cancel_fetch();
        self.last_error = Some(errors::auth_failed());
        self.phase = Phase::AwaitingToken {
            resume,
            // Reuse the connect timeout: a provider that never answers must
            // not leave the session hanging without a word.
            deadline: now.saturating_add(self.config.options.connect_timeout_ms),
        };
        self.push(Action::RefreshToken);
    }

    /// Picks up after a pause or a token refresh.
    pub(super) fn resume(&mut self, resume: Resume, now: Millis) {
        match resume {
            Resume::Socket => self.enter_live(now),
            Resume::Polling {
                probe_now,
                next_probe_at,
            } => {
                self.enter_polling(now, next_probe_at);
                if probe_now {
                    self.start_probe(now);
                }
            }
        }
    }
}
