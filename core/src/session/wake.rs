//! Waking up: a page that was frozen, asleep or throttled, and what its
//! socket may and may not prove afterwards.
//!
//! While a page does not run (a tab frozen by the browser, a laptop lid
//! closed, a background tab whose timers are held back), nothing reaches
//! the session. When it runs again, two things arrive together, in an
//! order the engine chooses: the timers that came due, and the frames the
//! browser received meanwhile and queued. Neither says anything about the
//! socket *now*: the frames may all predate a connection that died during
//! the freeze, and an unanswered ping's deadline passed while the answer,
//! if any, could not be read. So a freeze is not a quiet socket:
//!
//! - a deadline reached more than [`LATE_TIMER_TOLERANCE_MS`] late is
//!   proof that the page slept, not that the socket is silent; the socket
//!   gets one fresh check instead of a verdict: an early ping, answered
//!   within `stall_pong_timeout_ms` or the socket is dead;
//! - until that ping's pong arrives, frames do not count as proof of life
//!   (they may have waited in the queue since before the freeze), and the
//!   UI shows "checking";
//! - the time asleep is not a gap between updates: the rhythm that stall
//!   checks are judged by restarts at the wake, instead of stretching to
//!   the freeze's length (which would widen the stall threshold to about
//!   as long as the page slept).
//!
//! A check that was itself started by a wake gets no second chance: if its
//! deadline also passes late, the page ran in between (it sent the ping)
//! and could read the answer, so the socket is given up.

use super::state::Phase;
use super::time::At;
use super::{Input, Millis, Session, SessionEvent};

/// How late a deadline may be reached before the session concludes that
/// the page was not running. Hidden tabs align timers to whole seconds in
/// every engine, and a long task can hold the main thread for a while, so
/// lateness up to this much is ordinary; more means frozen, asleep, or
/// intensively throttled (once a minute). Well below the early ping's
/// answer time (5 s), so a real sleep is never judged as silence.
pub const LATE_TIMER_TOLERANCE_MS: Millis = 2_000;

impl Session {
    /// Notices that the page slept before `input` (or a timer call, when
    /// `None`) at `now`, from a deadline that passed long ago, and starts
    /// the wake check before any overdue deadline is judged.
    pub(super) fn notice_sleep(&mut self, input: Option<&Input>, now: At) {
        match input {
            // The socket is gone or going: nothing may be sent on it.
            Some(
                Input::SocketOpenFailed { attempt, .. }
                | Input::SocketClosed { attempt, .. }
                | Input::SocketError { attempt },
            ) if self.is_current(*attempt) => return,
            Some(Input::Stop | Input::PageHide) => return,
            _ => {}
        }
        let Some((due, _)) = self.next_timer() else {
            return;
        };
        let late = now.since(due);
        if late > LATE_TIMER_TOLERANCE_MS {
            self.check_after_sleep(late, now);
        }
    }

    /// `resume`: the browser says the page was frozen. The socket is
    /// checked, and a wait for a retry or a poll is cut short as when the
    /// page becomes visible.
    pub(super) fn on_resumed(&mut self, now: At) {
        self.check_after_sleep(0, now);
        self.on_visible(now);
    }

    /// Starts the wake check on a delivering socket (see the module docs).
    fn check_after_sleep(&mut self, late_ms: Millis, now: At) {
        let interval = self.config.options.heartbeat_interval_ms.max(1);
        let Phase::Live { socket: slot, .. } = &mut self.phase else {
            return;
        };
        if !slot.link.is_proven() {
            return;
        }
        if slot.silence.is_some_and(|s| s.proof_ping.is_some()) {
            // A wake check is already out. Its deadline decides, even when
            // reached late: that is the one chance it had.
            return;
        }
        // The old deadline passed while the answer could not be read: it
        // is no verdict. The new ping's deadline replaces it.
        slot.silence = None;
        // The wake ping is this period's heartbeat.
        slot.next_ping_at = Some(now.after(interval));
        // Time asleep is not a gap between updates.
        if let Some(rhythm) = &mut slot.rhythm {
            rhythm.last_at = now;
        }
        self.event(SessionEvent::WokeUp { late_ms });
        self.send_ping(now, true);
        if let Some(slot) = self.phase.socket_mut() {
            let sent = slot.ping.map(|p| p.id);
            if let Some(silence) = &mut slot.silence {
                silence.proof_ping = sent;
            }
        }
    }

    /// True when `message` proves the socket alive now: any frame, except
    /// while a proof ping is out, when only its pong (or a later one) does.
    pub(super) fn proves_alive(&self, message: Option<&crate::ServerMessage>) -> bool {
        let proof = self
            .phase
            .socket()
            .and_then(|s| s.silence)
            .and_then(|s| s.proof_ping);
        match proof {
            None => true,
            Some(want) => {
                matches!(message, Some(crate::ServerMessage::Pong { id, .. }) if *id >= want)
            }
        }
    }
}
