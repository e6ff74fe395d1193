//! Numbers as the demo page writes them: sizes, speeds, durations.
//!
//! Pure functions, so the wording is tested natively
//! (`tests/demo_page.rs`).

/// Milliseconds as seconds with one decimal: `3200` -> `"3.2 s"`.
pub fn seconds(ms: u64) -> String {
    // Rounded to the nearest tenth without going through floats, so the
    // text never shows `2.9999`.
    let tenths = (ms + 50) / 100;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

/// A byte count in the largest unit that keeps it at or above 1:
/// `512` -> `"512 B"`, `1536` -> `"1.5 KB"`, `3_000_000` -> `"2.9 MB"`.
///
/// Units are powers of 1024, as file managers show sizes.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A transfer rate: `"240.0 KB/s"`.
pub fn rate(bytes_per_s: u64) -> String {
    format!("{}/s", bytes(bytes_per_s))
}

/// How long ago something happened, from the card's start: `"+12.3 s"`.
pub fn offset(ms_since_start: u64) -> String {
    format!("+{}", seconds(ms_since_start))
}

/// Whole percent of `part` in `total`, 100 for an empty total.
pub fn percent(part: u64, total: u64) -> u64 {
    if total == 0 {
        return 100;
    }
    (part.min(total) as u128 * 100 / total as u128) as u64
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
    fn bytes_pick_the_largest_unit_at_or_above_one() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.0 KB");
        assert_eq!(bytes(1536), "1.5 KB");
        assert_eq!(bytes(3_000_000), "2.9 MB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024), "5.0 GB");
        assert_eq!(bytes(u64::MAX), "16777216.0 TB");
    }

    #[test]
    fn rate_and_offset_wrap_the_plain_forms() {
        assert_eq!(rate(245_760), "240.0 KB/s");
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
