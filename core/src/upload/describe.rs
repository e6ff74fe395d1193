//! What an upload means to the person watching it: its phase, the buttons
//! that make sense, what is worth announcing, and its numbers in readable
//! units.
//!
//! Pure functions of [`UploadState`] and [`UploadProgress`], so every UI
//! (the Leptos view, the embed API) says the same thing; a UI only fills the
//! pieces into its own (translatable) sentences.

use super::{scaled, Millis, UploadError, UploadState};
use crate::session::{ErrorKind, StatusError};

/// The upload as a person sees it: fewer cases than [`UploadState`], which
/// also tells requests apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadPhase {
    /// Waiting for a turn in the page's upload queue.
    Queued,
    /// Not started, or the upload is being created on the server.
    Starting,
    /// Bytes are leaving (or the server's offset is being checked between
    /// chunks).
    Uploading,
    /// A request failed; the next one leaves at `retry_at`.
    Retrying {
        /// When the next request leaves.
        retry_at: Millis,
        /// Consecutive failures so far.
        failures: u32,
        /// The last failure.
        error: UploadError,
    },
    /// The browser is offline; the upload waits for the network.
    Offline,
    /// Paused by the user.
    Paused,
    /// Cancel was pressed; the upload is being deleted on the server.
    Cancelling,
    /// Cancelled. Final.
    Cancelled,
    /// Every byte is on the server. Final.
    Uploaded,
    /// Gave up.
    Failed {
        /// Why.
        error: UploadError,
        /// Whether Resume may try again.
        can_resume: bool,
    },
}

impl UploadPhase {
    /// The phase of `state`.
    pub fn of(state: &UploadState) -> Self {
        match state {
            UploadState::Queued => Self::Queued,
            UploadState::Idle | UploadState::Creating { .. } => Self::Starting,
            UploadState::Sending { .. } | UploadState::Checking { .. } => Self::Uploading,
            UploadState::Waiting {
                retry_at,
                failures,
                error,
            } => Self::Retrying {
                retry_at: *retry_at,
                failures: *failures,
                error: error.clone(),
            },
            UploadState::Offline { .. } => Self::Offline,
            UploadState::Paused { .. } => Self::Paused,
            UploadState::Cancelling { .. } => Self::Cancelling,
            UploadState::Cancelled => Self::Cancelled,
            UploadState::Finished { .. } => Self::Uploaded,
            UploadState::Failed(error) => Self::Failed {
                error: error.clone(),
                can_resume: error.allows_resume(),
            },
        }
    }

    /// One lowercase word per phase, for `data-` attributes and styling.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Starting => "starting",
            Self::Uploading => "uploading",
            Self::Retrying { .. } => "retrying",
            Self::Offline => "offline",
            Self::Paused => "paused",
            Self::Cancelling => "cancelling",
            Self::Cancelled => "cancelled",
            Self::Uploaded => "uploaded",
            Self::Failed { .. } => "failed",
        }
    }

    /// The buttons to offer. Pause while bytes are (or will soon be)
    /// leaving, and while queued (a paused upload gives up its place in
    /// line), Resume when paused or after a failure that allows it,
    /// Cancel until the upload is over.
    pub fn controls(&self) -> UploadControls {
        let moving = matches!(
            self,
            Self::Queued | Self::Starting | Self::Uploading | Self::Retrying { .. } | Self::Offline
        );
        let resumable = matches!(
            self,
            Self::Paused
                | Self::Failed {
                    can_resume: true,
                    ..
                }
        );
        UploadControls {
            pause: moving,
            resume: resumable,
            cancel: moving || matches!(self, Self::Paused | Self::Failed { .. }),
        }
    }
}

/// Which upload buttons to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadControls {
    /// Offer Pause.
    pub pause: bool,
    /// Offer Resume.
    pub resume: bool,
    /// Offer Cancel.
    pub cancel: bool,
}

/// A change worth telling a screen reader about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadNotice {
    /// The upload waits for a turn in the page's upload queue.
    Queued,
    /// The upload began.
    Started,
    /// Paused by the user.
    Paused,
    /// Bytes leave again after a pause, a wait, the network or a failure.
    Resumed,
    /// A request failed and will be retried at `retry_at`.
    Retrying {
        /// When.
        retry_at: Millis,
        /// Consecutive failures so far.
        failures: u32,
        /// The failure.
        error: UploadError,
    },
    /// The browser went offline.
    Offline,
    /// The upload is being cancelled.
    Cancelling,
    /// The upload was cancelled.
    Cancelled,
    /// The upload gave up.
    Failed {
        /// Why.
        error: UploadError,
        /// Whether Resume may try again.
        can_resume: bool,
    },
    /// Every byte arrived.
    Uploaded,
}

/// What to announce when the phase goes from `previous` (`None` before the
/// first) to `current`; `None` when nothing a person cares about changed
/// (e.g. the next chunk of the same upload, or creation turning into
/// sending). Each retry is announced, with its own failure count.
pub fn notice(previous: Option<&UploadPhase>, current: &UploadPhase) -> Option<UploadNotice> {
    use UploadPhase as P;
    match (previous, current) {
        (Some(before), now) if before == now => None,
        (None | Some(P::Queued), P::Starting | P::Uploading) => Some(UploadNotice::Started),
        (_, P::Queued) => Some(UploadNotice::Queued),
        (Some(P::Starting), P::Uploading) => None,
        (Some(_), P::Starting | P::Uploading) => Some(UploadNotice::Resumed),
        (
            _,
            P::Retrying {
                retry_at,
                failures,
                error,
            },
        ) => Some(UploadNotice::Retrying {
            retry_at: *retry_at,
            failures: *failures,
            error: error.clone(),
        }),
        (_, P::Offline) => Some(UploadNotice::Offline),
        (_, P::Paused) => Some(UploadNotice::Paused),
        (_, P::Cancelling) => Some(UploadNotice::Cancelling),
        (_, P::Cancelled) => Some(UploadNotice::Cancelled),
        (_, P::Uploaded) => Some(UploadNotice::Uploaded),
        (_, P::Failed { error, can_resume }) => Some(UploadNotice::Failed {
            error: error.clone(),
            can_resume: *can_resume,
        }),
    }
}

/// Whole percent of an upload, rounded down so 100 means every byte is on
/// the server; an empty file is complete.
pub fn upload_percent(sent: u64, total: u64) -> u32 {
    if total == 0 {
        return 100;
    }
    scaled::mul_div(sent.min(total), 100, total) as u32
}

/// Decimal units (as browsers and operating systems show file sizes).
const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];

/// Index into [`UNITS`] for an amount of bytes.
fn unit_of(bytes: u64) -> usize {
    let mut unit = 0;
    let mut scale = 1u64;
    while unit + 1 < UNITS.len() && bytes >= scale.saturating_mul(1_000) {
        scale *= 1_000;
        unit += 1;
    }
    unit
}

/// `bytes` in `unit`: whole bytes, else one decimal below 100 and whole
/// numbers above, a trailing `.0` dropped. `round_down` keeps a count from
/// reaching the total it is shown against before it really does.
fn amount_in(bytes: u64, unit: usize, round_down: bool) -> String {
    if unit == 0 {
        return bytes.to_string();
    }
    // `bytes * 10` may overflow a u64, the result may not (unit 1 and up
    // divides by 1 000 at least): exact without a 128-bit division.
    let scale = 1_000u64.pow(unit as u32);
    let tenths = if round_down {
        scaled::mul_div(bytes, 10, scale)
    } else {
        scaled::mul_add_div(bytes, 10, scale / 2, scale)
    };
    if tenths >= 1_000 || tenths % 10 == 0 {
        let whole = if round_down {
            tenths / 10
        } else {
            tenths.saturating_add(5) / 10
        };
        whole.to_string()
    } else {
        format!("{}.{}", tenths / 10, tenths % 10)
    }
}

/// Bytes sent and total in the total's unit, e.g. `3.2` and `10` `MB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteAmounts {
    /// Bytes sent, rounded down.
    pub sent: String,
    /// The file's size.
    pub total: String,
    /// The unit both are in: `B`, `kB`, `MB`, `GB` or `TB`.
    pub unit: &'static str,
}

/// `sent` of `total` in one unit, for "Uploading 3.2 of 10 MB".
pub fn byte_amounts(sent: u64, total: u64) -> ByteAmounts {
    let unit = unit_of(total);
    ByteAmounts {
        sent: amount_in(sent.min(total), unit, true),
        total: amount_in(total, unit, false),
        unit: UNITS[unit],
    }
}

/// A size in its own unit, e.g. `("3.2", "MB")` for 3 200 000 B: the one
/// byte formatter (powers of 1 000) for every size a UI shows.
pub fn bytes(n: u64) -> (String, &'static str) {
    let unit = unit_of(n);
    (amount_in(n, unit, false), UNITS[unit])
}

/// A speed in its own unit, e.g. `("1.2", "MB")` for 1 234 567 B/s; the
/// UI appends its "/s".
pub fn rate(bytes_per_s: u64) -> (String, &'static str) {
    bytes(bytes_per_s)
}

/// Time left, in the one unit worth showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLeft {
    /// Under a minute: whole seconds, rounded up (never "0 s" while bytes
    /// remain).
    Seconds(u64),
    /// Under an hour: minutes, to the nearest (at least 1).
    Minutes(u64),
    /// Hours, to the nearest (at least 1).
    Hours(u64),
}

/// `eta_ms` (from [`super::UploadProgress`]) as a person reads it.
pub fn time_left(eta_ms: u64) -> TimeLeft {
    let seconds = eta_ms.div_ceil(1_000).max(1);
    if seconds < 60 {
        TimeLeft::Seconds(seconds)
    } else if seconds < 3_600 - 30 {
        TimeLeft::Minutes(((seconds + 30) / 60).max(1))
    } else {
        TimeLeft::Hours(((seconds + 1_800) / 3_600).max(1))
    }
}

/// Whole seconds from `now` until `at`, rounded up, for "retrying in 3 s".
pub fn seconds_until(at: Millis, now: Millis) -> u64 {
    at.saturating_sub(now).div_ceil(1_000)
}

/// The error a progress UI reports (e.g. to an `on_error` callback) when an
/// upload gives up, with a kind that says what the user can do.
pub fn upload_status_error(error: &UploadError) -> StatusError {
    let kind = match error {
        UploadError::Network | UploadError::Stalled | UploadError::TooManyFailures(_) => {
            ErrorKind::Network
        }
        UploadError::Server(_) | UploadError::Conflict | UploadError::Protocol(_) => {
            ErrorKind::Server
        }
        UploadError::Gone(_) => ErrorKind::NotFound,
        UploadError::Refused(401 | 403) => ErrorKind::Auth,
        UploadError::TooLarge | UploadError::Refused(_) => ErrorKind::Policy,
    };
    StatusError::new(kind, format!("The upload failed: {error}."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upload::RequestId;

    fn amounts(sent: u64, total: u64) -> (String, String, &'static str) {
        let a = byte_amounts(sent, total);
        (a.sent, a.total, a.unit)
    }

    #[test]
    fn amounts_share_the_totals_unit() {
        assert_eq!(
            amounts(3_200_000, 10_000_000),
            ("3.2".into(), "10".into(), "MB")
        );
        assert_eq!(amounts(0, 10_000_000), ("0".into(), "10".into(), "MB"));
        assert_eq!(amounts(512, 900), ("512".into(), "900".into(), "B"));
        assert_eq!(amounts(50_000, 1_500_000), ("0".into(), "1.5".into(), "MB"));
        assert_eq!(
            amounts(120_000_000, 250_000_000),
            ("120".into(), "250".into(), "MB")
        );
        assert_eq!(amounts(1, 4_000_000_000), ("0".into(), "4".into(), "GB"));
    }

    #[test]
    fn the_sent_amount_never_reaches_the_total_early() {
        // 9.99 MB of 10 MB would round to 10.
        assert_eq!(amounts(9_990_000, 10_000_000).0, "9.9");
        assert_eq!(amounts(249_999_999, 250_000_000).0, "249");
        assert_eq!(amounts(10_000_000, 10_000_000).0, "10");
        assert_eq!(upload_percent(9_999_999, 10_000_000), 99);
        assert_eq!(upload_percent(10_000_000, 10_000_000), 100);
        assert_eq!(upload_percent(0, 0), 100, "an empty file is complete");
        assert_eq!(upload_percent(20, 10), 100, "never above 100");
    }

    #[test]
    fn speed_is_in_its_own_unit() {
        assert_eq!(rate(1_234_567), ("1.2".into(), "MB"));
        assert_eq!(bytes(999), ("999".into(), "B"));
        assert_eq!(bytes(1_000), ("1".into(), "kB"));
        assert_eq!(
            bytes(1_536),
            ("1.5".into(), "kB"),
            "powers of 1 000, not 1 024"
        );
        assert_eq!(bytes(3_000_000), ("3".into(), "MB"));
        assert_eq!(bytes(u64::MAX), ("18446744".into(), "TB"));
        assert_eq!(rate(850), ("850".into(), "B"));
        assert_eq!(rate(99_960), ("100".into(), "kB"));
        assert_eq!(rate(0), ("0".into(), "B"));
    }

    #[test]
    fn time_left_picks_one_unit() {
        assert_eq!(time_left(0), TimeLeft::Seconds(1));
        assert_eq!(time_left(8_200), TimeLeft::Seconds(9));
        assert_eq!(time_left(59_000), TimeLeft::Seconds(59));
        assert_eq!(time_left(61_000), TimeLeft::Minutes(1));
        assert_eq!(time_left(150_000), TimeLeft::Minutes(3));
        assert_eq!(time_left(3_600_000), TimeLeft::Hours(1));
        assert_eq!(time_left(9_000_000), TimeLeft::Hours(3));
        assert_eq!(time_left(u64::MAX), TimeLeft::Hours(5_124_095_576_030));
    }

    #[test]
    fn phases_group_the_states() {
        let r = RequestId(1);
        let sending = UploadState::Sending {
            request: r,
            offset: 0,
            len: 10,
        };
        assert_eq!(UploadPhase::of(&sending), UploadPhase::Uploading);
        assert_eq!(
            UploadPhase::of(&UploadState::Checking { request: r }),
            UploadPhase::Uploading
        );
        assert_eq!(
            UploadPhase::of(&UploadState::Creating { request: r }),
            UploadPhase::Starting
        );
        let failed = UploadPhase::of(&UploadState::Failed(UploadError::TooLarge));
        assert_eq!(failed.word(), "failed");
        assert_eq!(
            failed,
            UploadPhase::Failed {
                error: UploadError::TooLarge,
                can_resume: false
            }
        );
    }

    #[test]
    fn buttons_follow_the_phase() {
        let c = |p: UploadPhase| {
            let c = p.controls();
            (c.pause, c.resume, c.cancel)
        };
        assert_eq!(c(UploadPhase::Uploading), (true, false, true));
        assert_eq!(c(UploadPhase::Offline), (true, false, true));
        assert_eq!(
            c(UploadPhase::Queued),
            (true, false, true),
            "a queued upload can be paused and cancelled before it starts"
        );
        assert_eq!(c(UploadPhase::Paused), (false, true, true));
        assert_eq!(
            c(UploadPhase::Failed {
                error: UploadError::TooManyFailures(5),
                can_resume: true
            }),
            (false, true, true)
        );
        assert_eq!(
            c(UploadPhase::Failed {
                error: UploadError::TooLarge,
                can_resume: false
            }),
            (false, false, true)
        );
        for over in [
            UploadPhase::Cancelling,
            UploadPhase::Cancelled,
            UploadPhase::Uploaded,
        ] {
            assert_eq!(c(over), (false, false, false));
        }
    }

    #[test]
    fn notices_tell_the_changes_a_person_cares_about() {
        use UploadPhase as P;
        assert_eq!(notice(None, &P::Starting), Some(UploadNotice::Started));
        assert_eq!(notice(None, &P::Queued), Some(UploadNotice::Queued));
        assert_eq!(
            notice(Some(&P::Queued), &P::Starting),
            Some(UploadNotice::Started),
            "a queued upload's turn starts it, it does not resume it"
        );
        assert_eq!(
            notice(Some(&P::Paused), &P::Queued),
            Some(UploadNotice::Queued)
        );
        assert_eq!(notice(Some(&P::Starting), &P::Uploading), None);
        assert_eq!(notice(Some(&P::Uploading), &P::Uploading), None);
        assert_eq!(
            notice(Some(&P::Uploading), &P::Paused),
            Some(UploadNotice::Paused)
        );
        assert_eq!(notice(Some(&P::Paused), &P::Paused), None);
        assert_eq!(
            notice(Some(&P::Paused), &P::Uploading),
            Some(UploadNotice::Resumed)
        );
        assert_eq!(
            notice(Some(&P::Offline), &P::Starting),
            Some(UploadNotice::Resumed)
        );
        assert_eq!(
            notice(Some(&P::Uploading), &P::Cancelled),
            Some(UploadNotice::Cancelled)
        );
        assert_eq!(
            notice(Some(&P::Uploading), &P::Uploaded),
            Some(UploadNotice::Uploaded)
        );
        let retry = |failures| P::Retrying {
            retry_at: 2_000,
            failures,
            error: UploadError::Server(503),
        };
        assert!(matches!(
            notice(Some(&P::Uploading), &retry(1)),
            Some(UploadNotice::Retrying { failures: 1, .. })
        ));
        assert_eq!(notice(Some(&retry(1)), &retry(1)), None);
        assert!(
            notice(Some(&retry(1)), &retry(2)).is_some(),
            "each retry is told"
        );
        assert_eq!(
            notice(Some(&retry(2)), &P::Uploading),
            Some(UploadNotice::Resumed)
        );
    }

    #[test]
    fn countdowns_round_up() {
        assert_eq!(seconds_until(10_500, 6_000), 5);
        assert_eq!(seconds_until(1_000, 6_000), 0);
    }

    #[test]
    fn upload_errors_say_what_to_do() {
        assert_eq!(
            upload_status_error(&UploadError::TooLarge).kind,
            ErrorKind::Policy
        );
        assert_eq!(
            upload_status_error(&UploadError::Gone(410)).kind,
            ErrorKind::NotFound
        );
        assert_eq!(
            upload_status_error(&UploadError::Refused(403)).kind,
            ErrorKind::Auth
        );
        let e = upload_status_error(&UploadError::Server(503));
        assert_eq!(e.kind, ErrorKind::Server);
        assert_eq!(e.message, "The upload failed: server error 503.");
    }
}
