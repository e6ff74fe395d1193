//! The ladder: WebSocket, then SSE, then polling. Failures are counted per
//! rung; after `max_retries` failed retries on a rung the connection steps
//! down one rung and starts a fresh count there. Climbing back (a probe of
//! the rung above that delivered) also starts a fresh count.

use super::io::Rung;
use crate::session::backoff::{retry_delay, Rng};
use crate::session::SessionOptions;

/// Where the connection stands on the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ladder {
    /// The rung the connection uses (and reconnects on).
    pub(crate) rung: Rung,
    /// Consecutive failed attempts on this rung since the last stable one.
    pub(crate) failures: u32,
}

/// What follows a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Retry the same rung after this wait.
    Retry { delay_ms: u64 },
    /// Step down to this rung now.
    Down(Rung),
}

impl Default for Ladder {
    fn default() -> Self {
        Self {
            rung: Rung::WebSocket,
            failures: 0,
        }
    }
}

impl Ladder {
    /// Counts a failed attempt on the current rung and decides what follows,
    /// with the one-job session's backoff and jitter.
    pub(crate) fn failed(&mut self, options: &SessionOptions, rng: &mut Rng) -> Step {
        self.failures = self.failures.saturating_add(1);
        if self.failures > options.max_retries {
            if let Some(below) = self.rung.below() {
                *self = Self {
                    rung: below,
                    failures: 0,
                };
                return Step::Down(below);
            }
        }
        Step::Retry {
            delay_ms: retry_delay(options, self.failures, rng),
        }
    }

    /// A probe of `rung` delivered: use it, with a fresh count.
    pub(crate) fn climbed(&mut self, rung: Rung) {
        *self = Self { rung, failures: 0 };
    }

    /// Back to the top (a manual reconnect).
    pub(crate) fn reset(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_rung_gets_its_retries_then_steps_down_until_polling() {
        let options = SessionOptions {
            jitter: false,
            ..SessionOptions::default()
        };
        let mut rng = Rng::new(1);
        let mut ladder = Ladder::default();
        let steps: Vec<Step> = (0..9).map(|_| ladder.failed(&options, &mut rng)).collect();
        let retry = |delay_ms| Step::Retry { delay_ms };
        assert_eq!(
            steps,
            [
                retry(2_000),
                retry(4_000),
                retry(8_000),
                Step::Down(Rung::Sse),
                retry(2_000),
                retry(4_000),
                retry(8_000),
                Step::Down(Rung::Polling),
                retry(2_000),
            ]
        );
        ladder.climbed(Rung::Sse);
        assert_eq!(
            ladder,
            Ladder {
                rung: Rung::Sse,
                failures: 0
            }
        );
    }
}
