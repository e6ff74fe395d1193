//! Recent upload speed from timestamped byte counts.

use std::collections::VecDeque;

use super::Millis;

/// Speed is measured over this much recent time.
const WINDOW_MS: Millis = 5_000;
/// Less than this much time says nothing useful about speed.
const MIN_SPAN_MS: Millis = 250;

/// Samples of `(time, bytes sent)` over the last [`WINDOW_MS`].
#[derive(Debug, Clone, Default)]
pub(super) struct Speed {
    samples: VecDeque<(Millis, u64)>,
}

impl Speed {
    pub(super) fn record(&mut self, now: Millis, sent: u64) {
        // The count went back (the server lost bytes): start over.
        if self.samples.back().is_some_and(|&(_, s)| s > sent) {
            self.samples.clear();
        }
        self.samples.push_back((now, sent));
        while self
            .samples
            .get(1)
            .is_some_and(|&(t, _)| now.saturating_sub(t) >= WINDOW_MS)
        {
            self.samples.pop_front();
        }
    }

    /// Forgets the samples (after a pause or a wait, old speed says nothing).
    pub(super) fn reset(&mut self) {
        self.samples.clear();
    }

    /// Bytes per second, when enough time has been seen.
    pub(super) fn bytes_per_s(&self) -> Option<u64> {
        let (&(t0, s0), &(t1, s1)) = (self.samples.front()?, self.samples.back()?);
        let span = t1.checked_sub(t0)?;
        if span < MIN_SPAN_MS {
            return None;
        }
        Some(super::scaled::mul_div(s1 - s0, 1_000, span))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_megabyte_per_second() {
        let mut speed = Speed::default();
        for i in 0..=10u64 {
            speed.record(i * 500, i * 500_000);
        }
        assert_eq!(speed.bytes_per_s(), Some(1_000_000));
    }

    #[test]
    fn too_short_a_span_is_unknown_and_a_loss_restarts() {
        let mut speed = Speed::default();
        speed.record(0, 0);
        speed.record(100, 1_000);
        assert_eq!(speed.bytes_per_s(), None);
        speed.record(1_000, 500);
        assert_eq!(speed.bytes_per_s(), None);
    }
}
