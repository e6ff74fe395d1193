//! The widget's class names, written once: the markup writes them, the
//! patcher finds its elements by them, the click listener maps a button's
//! class back to its action, and the stylesheet (style/upload-progress.css)
//! styles them. A class spelled twice could drift; a constant cannot.

/// The root `<section>`; `upr--{connection}` is added beside it.
pub(crate) const ROOT: &str = "upr";
pub(crate) const HEADER: &str = "upr__header";
pub(crate) const FILENAME: &str = "upr__filename";
pub(crate) const PERCENT: &str = "upr__percent";
pub(crate) const BAR: &str = "upr__bar";
/// The bar's class list while the percent is unknown.
pub(crate) const BAR_INDETERMINATE: &str = "upr__bar upr__bar--indeterminate";
pub(crate) const BAR_FILL: &str = "upr__bar-fill";
pub(crate) const UPLOAD: &str = "upr__upload";
pub(crate) const UPLOAD_AMOUNT: &str = "upr__upload-amount";
pub(crate) const UPLOAD_SPEED: &str = "upr__upload-speed";
pub(crate) const UPLOAD_LEFT: &str = "upr__upload-left";
pub(crate) const UPLOAD_ACTIONS: &str = "upr__upload-actions";
pub(crate) const STAGES: &str = "upr__stages";
/// A stage row; `upr__stage--{status}` is added beside it.
pub(crate) const STAGE: &str = "upr__stage";
pub(crate) const STAGE_MARKER: &str = "upr__stage-marker";
pub(crate) const STAGE_LABEL: &str = "upr__stage-label";
pub(crate) const MESSAGE: &str = "upr__message";
pub(crate) const STATUS: &str = "upr__status";
pub(crate) const CONNECTION: &str = "upr__connection";
pub(crate) const DOT: &str = "upr__dot";
pub(crate) const CONNECTION_TEXT: &str = "upr__connection-text";
/// Hidden from sight, read by screen readers.
pub(crate) const SR_ONLY: &str = "upr__sr-only";
/// The live region (also `upr__sr-only`).
pub(crate) const ANNOUNCE: &str = "upr__announce";
/// The round-trip time, visible where the status line has room.
pub(crate) const LATENCY: &str = "upr__latency";
pub(crate) const AGE: &str = "upr__age";
pub(crate) const ALERT: &str = "upr__alert";
pub(crate) const ERROR: &str = "upr__error";
/// The buttons; the root's one click listener maps these back to actions.
pub(crate) const RECONNECT: &str = "upr__reconnect";
pub(crate) const PAUSE: &str = "upr__pause";
pub(crate) const RESUME: &str = "upr__resume";
pub(crate) const CANCEL: &str = "upr__cancel";
