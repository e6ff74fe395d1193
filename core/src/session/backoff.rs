//! Retry delays: capped exponential backoff with optional full jitter.
//!
//! Randomness comes from a tiny seeded generator so that a given seed always
//! produces the same delays; tests can then assert exact timings, and the
//! shell seeds it from something that differs between page loads so that
//! clients which lost the same server spread their retries.

use super::SessionOptions;

/// SplitMix64: small, fast, and good enough to spread retries. Not for secrets.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, max]` (the modulo bias is far below anything a user could notice).
    pub(super) fn up_to(&mut self, max: u64) -> u64 {
        match max.checked_add(1) {
            Some(span) => self.next_u64() % span,
            None => self.next_u64(),
        }
    }
}

/// The un-jittered delay before retry number `failures` (1-based):
/// `initial * factor^(failures - 1)`, never above `max_retry_ms`.
pub(super) fn base_delay(options: &SessionOptions, failures: u32) -> u64 {
    let cap = options.max_retry_ms;
    // A factor below 1 (or NaN) would shrink delays; treat it as "no growth".
    let factor = if options.backoff_factor.is_finite() && options.backoff_factor >= 1.0 {
        options.backoff_factor
    } else {
        1.0
    };
    // Beyond 64 doublings every realistic cap has long been reached.
    let exponent = failures.saturating_sub(1).min(64) as i32;
    let grown = options.initial_retry_ms as f64 * factor.powi(exponent);
    if grown >= cap as f64 {
        cap
    } else {
        // `grown` is finite, non-negative and below `cap` here, so the cast is exact enough.
        (grown as u64).min(cap)
    }
}

/// The delay actually waited before retry number `failures`.
pub(crate) fn retry_delay(options: &SessionOptions, failures: u32, rng: &mut Rng) -> u64 {
    let base = base_delay(options, failures);
    if options.jitter {
        // Full jitter: spreads a crowd of clients over the whole window,
        // which is what keeps a recovering server from being stampeded.
        rng.up_to(base)
    } else {
        base
    }
}

/// The delay before reconnecting after the server announced a restart.
///
/// Restarts are not the client's fault and do not count as failures. With a
/// `retry_after_ms` hint the session waits at least that long; jitter only
/// adds to it, so nobody comes back before the server said it is ready.
/// Without a hint it waits about `initial_retry_ms`, never less than half of
/// it, because a zero delay would hit a server that is still going down.
pub(crate) fn restart_delay(options: &SessionOptions, hint: Option<u64>, rng: &mut Rng) -> u64 {
    let spread = options.initial_retry_ms / 2;
    match (hint, options.jitter) {
        (Some(after), false) => after,
        (Some(after), true) => after.saturating_add(rng.up_to(spread)),
        (None, false) => options.initial_retry_ms,
        (None, true) => (options.initial_retry_ms - spread).saturating_add(rng.up_to(spread)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_jitter() -> SessionOptions {
        SessionOptions {
            jitter: false,
            ..SessionOptions::default()
        }
    }

    #[test]
    fn base_delays_double_from_two_seconds_up_to_the_cap() {
        let options = no_jitter();
        let delays: Vec<u64> = (1..=6).map(|n| base_delay(&options, n)).collect();
        assert_eq!(delays, [2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
    }

    #[test]
    fn huge_failure_counts_stay_at_the_cap() {
        assert_eq!(base_delay(&no_jitter(), u32::MAX), 16_000);
    }

    #[test]
    fn a_shrinking_factor_is_treated_as_no_growth() {
        let options = SessionOptions {
            backoff_factor: 0.5,
            ..no_jitter()
        };
        assert_eq!(base_delay(&options, 3), 2_000);
    }

    #[test]
    fn jittered_delays_stay_within_zero_and_the_base_delay() {
        let options = SessionOptions::default();
        let mut rng = Rng::new(7);
        for n in 1..50 {
            let d = retry_delay(&options, n, &mut rng);
            assert!(d <= base_delay(&options, n));
        }
    }

    #[test]
    fn jitter_is_spread_uniformly_over_zero_to_the_base_delay() {
        // Uniform on [0, 2000]: mean 1000, standard deviation about 577,
        // and each quarter of the range holds about a quarter of the draws.
        let options = SessionOptions::default();
        let n = 20_000u64;
        let draws: Vec<u64> = (0..n)
            .map(|seed| retry_delay(&options, 1, &mut Rng::new(seed)))
            .collect();
        let mean = draws.iter().sum::<u64>() as f64 / n as f64;
        let var = draws
            .iter()
            .map(|d| (*d as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        assert!((970.0..1030.0).contains(&mean), "mean {mean}");
        assert!((550.0..605.0).contains(&var.sqrt()), "sd {}", var.sqrt());
        let mut quarters = [0u64; 4];
        for d in &draws {
            quarters[((*d * 4) / 2_001) as usize] += 1;
        }
        for q in quarters {
            assert!((4_600..5_400).contains(&q), "quarters {quarters:?}");
        }
        assert!(draws.iter().any(|d| *d < 20) && draws.iter().any(|d| *d > 1_980));
    }

    #[test]
    fn the_generator_is_splitmix64() {
        // The published first outputs of SplitMix64 seeded with 0.
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
        assert_eq!(rng.next_u64(), 0x06C4_5D18_8009_454F);
    }

    #[test]
    fn restart_delay_without_a_hint_spreads_over_the_upper_half_of_the_first_delay() {
        let options = SessionOptions::default();
        let draws: Vec<u64> = (0..2_000)
            .map(|seed| restart_delay(&options, None, &mut Rng::new(seed)))
            .collect();
        assert!(draws.iter().all(|d| (1_000..=2_000).contains(d)));
        assert!(draws.iter().any(|d| *d < 1_050) && draws.iter().any(|d| *d > 1_950));
        let exact = SessionOptions {
            jitter: false,
            ..options
        };
        assert_eq!(restart_delay(&exact, None, &mut Rng::new(1)), 2_000);
        assert_eq!(restart_delay(&exact, Some(700), &mut Rng::new(1)), 700);
    }

    #[test]
    fn restart_delay_never_undercuts_the_server_hint() {
        let options = SessionOptions::default();
        let mut rng = Rng::new(3);
        let draws: Vec<u64> = (0..500)
            .map(|_| restart_delay(&options, Some(1_000), &mut rng))
            .collect();
        assert!(draws.iter().all(|d| (1_000..=2_000).contains(d)));
        assert!(
            draws.iter().any(|d| *d > 1_900),
            "jitter adds up to half the first delay"
        );
    }
}
