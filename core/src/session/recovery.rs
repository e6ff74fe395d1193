//! Recovery: where the session goes after losing a socket, and how it
//! (re)enters WebSocket or polling mode.

use super::backoff;
use super::errors;
use super::state::{Failure, Phase, Polls, Probe, Resume};
use super::time::At;
use super::{Action, Session, SessionEvent};

impl Session {
    /// WebSocket mode: open a socket now (or first refresh a token that is
    /// about to expire).
    pub(super) fn enter_live(&mut self, now: At) {
        if self.token_expiring(now) {
            self.request_token(Resume::Socket, now, true);
            return;
        }
        // A bridge goes on until the new socket delivers; polling mode's
        // polls end here.
        let bridge = self.clear_phase(false);
        let socket = self.new_socket(now, false);
        self.phase = Phase::Live { socket, bridge };
    }

    /// Polling mode: poll now, probe the socket at `next_probe_at`.
    pub(super) fn enter_polling(&mut self, now: At, next_probe_at: Option<At>) {
        // A bridge poll in flight simply becomes the first poll.
        let polls = match self.clear_phase(true) {
            Some(in_flight @ Polls::InFlight(_)) => in_flight,
            _ => Polls::InFlight(self.send_fetch(now)),
        };
        self.phase = Phase::Polling {
            polls,
            probe: Probe::Next(next_probe_at),
        };
    }

    /// While polling: try the socket; polling goes on until it proves itself.
    pub(super) fn start_probe(&mut self, now: At) {
        if !matches!(self.phase, Phase::Polling { .. }) {
            return;
        }
        if self.token_expiring(now) {
            let resume = Resume::Polling {
                probe_now: true,
                next_probe_at: None,
            };
            self.request_token(resume, now, true);
            return;
        }
        let socket = self.new_socket(now, true);
        if let Phase::Polling { probe, .. } = &mut self.phase {
            if let Probe::Out(old) = std::mem::replace(probe, Probe::Out(socket)) {
                self.close_slot(&old, super::session::CLOSE_NORMAL, "replaced");
            }
        }
    }

    /// When the next probe happens: never when automatic reconnection is off.
    pub(super) fn probe_after(&self, now: At, wait: u64) -> Option<At> {
        self.config.options.auto_retry.then(|| now.after(wait))
    }

    /// The token is known to expire within the margin and can be replaced.
    fn token_expiring(&self, now: At) -> bool {
        let margin = self.config.options.token_refresh_margin_ms;
        self.config.token_provider
            && self
                .credentials
                .expires_at
                .is_some_and(|at| now.after(margin) >= at)
    }

    /// Starts polls that keep the data fresh while the socket is replaced,
    /// unless polling already runs or nothing was shown yet.
    fn start_bridge(&mut self, now: At) {
        if self.phase.has_bridge() || self.progress.is_none() {
            return;
        }
        let Some(bridge) = self.phase.bridge_mut() else {
            return;
        };
        *bridge = Some(Polls::Due(now));
        self.event(SessionEvent::BridgePolling);
        if !self.conditions.offline() {
            self.start_poll(now);
        }
    }

    /// Decides what follows a socket that failed (its slot is already gone).
    pub(super) fn after_socket_failure(&mut self, failure: Failure, now: At) {
        let o = self.config.options.clone();
        let error = match &failure {
            Failure::Transient(error) => error.clone(),
            Failure::Restart(_) => errors::server_restarting(),
            Failure::Full => errors::server_full(),
        };
        self.note_error(error.clone());
        if let Failure::Restart(Some(hint)) = failure {
            self.conditions.not_before = Some(now.after(hint));
        }
        if let Phase::Polling { .. } = self.phase {
            // A failed probe: polling carries on, the socket waits for the
            // next probe. Without automatic retry there is none, but the
            // polls go on until the job's final state is known.
            let wait = match failure {
                Failure::Transient(_) => {
                    self.conditions.streak.count_failure();
                    o.probe_interval_ms
                }
                Failure::Restart(hint) => backoff::restart_delay(&o, hint, &mut self.rng),
                Failure::Full => o.server_full_retry_ms,
            };
            let next = self.probe_after(now, wait);
            self.schedule_probe(next);
            return;
        }
        if !o.auto_retry {
            self.stop_with(errors::auto_retry_off(&error));
            return;
        }
        self.start_bridge(now);
        if self.conditions.offline() {
            // Failures while the browser is offline say nothing about the
            // server; wait (uncounted) until it is back online.
            self.back_off_until(now);
            return;
        }
        let delay = match failure {
            Failure::Transient(_) => {
                self.conditions.streak.count_failure();
                if self.conditions.streak.failures > o.max_retries {
                    self.fall_back_to_polling(now, o.probe_interval_ms);
                    return;
                }
                backoff::retry_delay(&o, self.conditions.streak.failures, &mut self.rng)
            }
            Failure::Restart(hint) => backoff::restart_delay(&o, hint, &mut self.rng),
            Failure::Full => {
                self.fall_back_to_polling(now, o.server_full_retry_ms);
                return;
            }
        };
        self.back_off_until(now.after(delay));
        self.event(SessionEvent::BackoffChosen {
            delay_ms: delay,
            attempt: self.conditions.streak.attempt_number(),
            max_attempts: o.max_retries,
        });
    }

    fn fall_back_to_polling(&mut self, now: At, probe_in: u64) {
        self.enter_polling(now, Some(now.after(probe_in)));
        self.event(SessionEvent::FellBackToPolling);
    }

    /// Asks the shell's provider for a token, then resumes with `resume`.
    /// Without a provider a refused token ends the session with an auth error.
    pub(super) fn request_token(&mut self, resume: Resume, now: At, ahead_of_expiry: bool) {
        if !self.config.token_provider {
            self.stop_with(errors::auth_failed());
            return;
        }
        // An expiry is only known for the first token; the next is asked
        // for after a refusal, not ahead of time.
        self.credentials.expires_at = None;
        let awaiting = Phase::AwaitingToken {
            resume,
            // Reuse the connect timeout: a provider that never answers must
            // not leave the session hanging without a word.
            deadline: now.after(self.config.options.connect_timeout_ms),
        };
        self.replace_phase(awaiting, "refreshing token");
        if !ahead_of_expiry {
            self.note_error(errors::auth_failed());
        }
        self.push(Action::RefreshToken);
        self.event(SessionEvent::TokenRefresh { ahead_of_expiry });
    }

    /// HTTP 401 on a poll. While polling, one refresh per streak; a bridge
    /// poll refused just ends the bridge (the socket path handles auth).
    pub(super) fn poll_token_refused(&mut self, now: At) {
        match self.phase {
            Phase::Polling { .. } => {
                if !self.conditions.streak.auth.use_http_refresh() {
                    self.stop_with(errors::auth_failed());
                    return;
                }
                let resume = Resume::Polling {
                    probe_now: false,
                    next_probe_at: self.phase.next_probe_at(),
                };
                self.request_token(resume, now, false);
            }
            _ => {
                if let Some(bridge) = self.phase.bridge_mut() {
                    *bridge = None;
                }
                self.note_error(errors::auth_failed());
            }
        }
    }

    /// Picks up after a pause or a token refresh.
    pub(super) fn resume(&mut self, resume: Resume, now: At) {
        match resume {
            Resume::Socket => match self.conditions.not_before.filter(|at| *at > now) {
                // The server asked for a wait; a page coming back does not cut it short.
                Some(at) => self.back_off_until(at),
                None => self.enter_live(now),
            },
            Resume::Polling {
                probe_now,
                next_probe_at,
            } => {
                // A probe that was out when polling paused is due again:
                // polling must never end up with no probe scheduled.
                let probe_interval = self.config.options.probe_interval_ms;
                let next = next_probe_at.or_else(|| self.probe_after(now, probe_interval));
                self.enter_polling(now, next);
                if probe_now && self.config.options.auto_retry {
                    self.start_probe(now);
                }
            }
        }
    }

    /// WebSocket mode, waiting until `retry_at`; a bridge running goes on.
    fn back_off_until(&mut self, retry_at: At) {
        let bridge = self.phase.bridge_mut().and_then(Option::take);
        self.replace_phase(Phase::Backoff { retry_at, bridge }, "replaced");
    }
}
