//! What a UI shows that is a decision rather than wording: the whole
//! percent of a job and how old its last update reads. Every view (the
//! component, the embed widget, a native UI) takes these from here, so they
//! cannot disagree; the words around them are the UI's.

use crate::session::Millis;

/// A job's percent as a whole number for display: rounded down (so 100
/// appears only when the job really is complete, as with an upload's
/// bytes), clamped to 0..=100, and 0 for a value that is not a number.
pub fn whole_percent(percent: f64) -> u32 {
    if percent.is_finite() {
        percent.clamp(0.0, 100.0).floor() as u32
    } else {
        0
    }
}

/// How old the last update is, in the unit worth showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Age {
    /// Nothing arrived yet.
    Waiting,
    /// Under a second.
    Now,
    /// Whole seconds, under two minutes.
    Seconds(u64),
    /// Whole minutes, from two minutes on.
    Minutes(u64),
}

/// Seconds shown as seconds up to this many; minutes from there on.
const SECONDS_UP_TO: u64 = 120;

/// The age of an update applied at `updated_at`, seen at `now` (both on the
/// shell's clock).
pub fn age(updated_at: Option<Millis>, now: Millis) -> Age {
    let Some(at) = updated_at else {
        return Age::Waiting;
    };
    let seconds = now.saturating_sub(at) / 1000;
    if seconds < 1 {
        Age::Now
    } else if seconds < SECONDS_UP_TO {
        Age::Seconds(seconds)
    } else {
        Age::Minutes(seconds / 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_down_and_stays_in_range() {
        assert_eq!(whole_percent(0.0), 0);
        assert_eq!(whole_percent(40.0), 40);
        assert_eq!(whole_percent(62.5), 62);
        assert_eq!(whole_percent(99.99), 99, "100 only when complete");
        assert_eq!(whole_percent(100.0), 100);
        assert_eq!(whole_percent(140.0), 100);
        assert_eq!(whole_percent(-3.0), 0);
        assert_eq!(whole_percent(f64::NAN), 0);
        assert_eq!(whole_percent(f64::INFINITY), 0);
    }

    #[test]
    fn age_is_in_seconds_then_minutes() {
        assert_eq!(age(None, 5), Age::Waiting);
        assert_eq!(age(Some(1_000), 1_999), Age::Now);
        assert_eq!(age(Some(1_000), 2_000), Age::Seconds(1));
        assert_eq!(age(Some(0), 119_999), Age::Seconds(119));
        assert_eq!(age(Some(0), 120_000), Age::Minutes(2));
        assert_eq!(age(Some(0), 180_000), Age::Minutes(3));
        assert_eq!(age(Some(5_000), 1_000), Age::Now, "a clock step back");
    }
}
