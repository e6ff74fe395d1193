//! Numbers as the demo page writes them: sizes, speeds, durations.
//!
//! Pure functions, so the wording is tested natively.

/// Milliseconds as seconds with one decimal: `3200` -> `"3.2 s"`.
pub fn seconds(ms: u64) -> String {
    // Rounded to the nearest tenth without going through floats, so the
    // text never shows `2.9999`.
    let tenths = (ms + 50) / 100;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// A byte count as the widget beside it writes one: core's formatter,
/// powers of 1 000 (`1536` -> `"1.5 kB"`), so one page never shows the same
/// size two ways.
pub fn bytes(n: u64) -> String {
    let (amount, unit) = upload_progress_core::upload::bytes(n);
    format!("{amount} {unit}")
}

/// A transfer rate: `"240 kB/s"`.
pub fn rate(bytes_per_s: u64) -> String {
    format!("{}/s", bytes(bytes_per_s))
}

/// How long ago something happened, from the card's start: `"+12.3 s"`.
pub fn offset(ms_since_start: u64) -> String {
    format!("+{}", seconds(ms_since_start))
}

/// Whole percent of `part` in `total`, 100 for an empty total (core's
/// rounding, down).
pub fn percent(part: u64, total: u64) -> u64 {
    upload_progress_core::upload::upload_percent(part, total).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_to_the_nearest_tenth() {
        assert_eq!(seconds(0), "0.0 s");
        assert_eq!(seconds(3200), "3.2 s");
        assert_eq!(seconds(3249), "3.2 s");
        assert_eq!(seconds(3250), "3.3 s");
        assert_eq!(seconds(59_990), "60.0 s");
    }

    #[test]
    fn bytes_are_in_powers_of_1000_as_the_widget_shows_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1_000), "1 kB");
        assert_eq!(bytes(1536), "1.5 kB");
        assert_eq!(bytes(3_000_000), "3 MB");
        assert_eq!(bytes(5_000_000_000), "5 GB");
    }

    #[test]
    fn rate_and_offset_wrap_the_plain_forms() {
        assert_eq!(rate(245_760), "246 kB/s");
        assert_eq!(offset(12_345), "+12.3 s");
    }

    #[test]
    fn percent_is_whole_and_bounded() {
        assert_eq!(percent(0, 10), 0);
        assert_eq!(percent(5, 10), 50);
        assert_eq!(percent(9, 10), 90);
        assert_eq!(percent(20, 10), 100);
        assert_eq!(percent(0, 0), 100);
        assert_eq!(percent(u64::MAX - 1, u64::MAX), 99);
    }
}
