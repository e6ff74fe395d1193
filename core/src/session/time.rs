//! Time inside the session.
//!
//! The public API speaks [`Millis`] (plain milliseconds on the shell's
//! monotonic clock), so a shell or a test can pass `performance.now()` or a
//! literal. Inside, every point in time is an [`At`]: a deadline cannot be
//! passed where a wait is meant, nor two points added together. Waits stay
//! plain `u64` milliseconds, like every option in [`super::SessionOptions`].

use super::Millis;

/// A point on the shell's monotonic clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct At(Millis);

impl At {
    /// The point `ms` milliseconds after the shell's clock started.
    pub(crate) const fn from_millis(ms: Millis) -> Self {
        Self(ms)
    }

    /// This point as the public API spells it.
    pub(crate) const fn millis(self) -> Millis {
        self.0
    }

    /// The point `wait` milliseconds later. The clock saturates instead of
    /// wrapping, so a huge option means "never" rather than "long ago".
    pub(crate) const fn after(self, wait: u64) -> Self {
        Self(self.0.saturating_add(wait))
    }

    /// How long after `earlier` this is; zero when it is not later.
    pub(crate) const fn since(self, earlier: At) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Converts a public optional time into the session's.
pub(crate) fn at(ms: Option<Millis>) -> Option<At> {
    ms.map(At::from_millis)
}

/// Converts the session's optional time into the public one.
pub(crate) fn millis(at: Option<At>) -> Option<Millis> {
    at.map(At::millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_move_by_waits_and_saturate_at_the_ends_of_the_clock() {
        let t = At::from_millis(1_000);
        assert_eq!(t.after(500).millis(), 1_500);
        assert_eq!(At::from_millis(u64::MAX - 1).after(10).millis(), u64::MAX);
        assert_eq!(t.after(500).since(t), 500);
        assert_eq!(t.since(t.after(500)), 0, "never negative");
        assert!(t < t.after(1));
    }
}
