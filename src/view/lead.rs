//! `Lead`: the part of a widget's story told before its job has progress
//! of its own, e.g. the upload of the file the job will process.

#[cfg(feature = "upload")]
use leptos::prelude::*;
#[cfg(feature = "upload")]
use upload_progress_core::upload::UploadControls;

/// What the progress bar and the status line say while a lead is shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadText {
    /// Whole percent on the bar; `None` shows an indeterminate bar.
    pub percent: Option<u32>,
    /// The bar's `aria-valuetext`, e.g. "Uploading 3.2 of 10 MB".
    pub value_text: String,
    /// The visible status line, e.g. "Upload paused".
    pub status_text: String,
    /// The polite live region's sentence: a screen reader hears it when it
    /// changes, so it changes only for news (paused, resumed, retrying…).
    pub announcement: String,
}

/// The panel under the bar that a lead fills (the upload's byte counts and
/// its buttons), as plain values: the view writes them into its own
/// elements (`.upr__upload`, `.upr__upload-amount`, `.upr__upload-speed`,
/// `.upr__upload-left`, and the buttons `.upr__pause`, `.upr__resume`,
/// `.upr__cancel`).
#[cfg(feature = "upload")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadPanel {
    /// `data-upload` on the panel: one word for its phase, for styling.
    pub phase: &'static str,
    /// Hide the panel (nothing left to show).
    pub hidden: bool,
    /// The amount sent, e.g. "3.2 of 10 MB".
    pub amount: String,
    /// The speed, e.g. "1.2 MB/s"; empty when not moving.
    pub speed: String,
    /// The time left, e.g. "About 5 s left"; empty when not moving.
    pub left: String,
    /// Which of Pause, Resume and Cancel are offered.
    pub controls: UploadControls,
}

/// The panel of a lead (feature `upload`). This build has no `upload`
/// feature, so there is no such value.
#[cfg(not(feature = "upload"))]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeadPanel {}

/// A button of the lead's panel, pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadAction {
    /// Pause.
    Pause,
    /// Resume.
    Resume,
    /// Cancel.
    Cancel,
}

/// Handed to [`crate::UploadProgressView`] to tell a story before the job's:
/// while `text` is `Some`, the bar, its `aria-valuetext`, the status line
/// and the live region show it; once it is `None` they show the job. The
/// same elements carry both, so assistive technology follows one progress
/// bar from start to end.
///
/// [`crate::UploadProgressRobust`] builds one when given a `file`; a custom
/// view can build its own. Feature `upload`: without it `Lead` has no
/// values, so a view that can never show one links none of this.
///
/// # Usage
/// With the `upload` feature:
/// ```ignore
/// use leptos::prelude::*;
/// use upload_progress_robust::{Lead, LeadText, Progress, Status, UploadProgressView};
///
/// #[component]
/// fn Converting(progress: Signal<Option<Progress>>, status: Signal<Status>) -> impl IntoView {
///     let text = Signal::derive(move || {
///         progress.with(Option::is_none).then(|| LeadText {
///             percent: None,
///             value_text: "Preparing the file".into(),
///             status_text: "Preparing the file…".into(),
///             announcement: "Preparing the file".into(),
///         })
///     });
///     let lead = Lead { text, panel: None, on_action: None };
///     view! { <UploadProgressView progress=progress status=status lead=Some(lead) /> }
/// }
/// ```
#[cfg(feature = "upload")]
#[derive(Clone)]
pub struct Lead {
    /// The lead's text while it is told; `None` once the job's story takes over.
    pub text: Signal<Option<LeadText>>,
    /// The panel under the bar, for the widget's whole life; `None`: no panel.
    pub panel: Option<Signal<LeadPanel>>,
    /// Called when a button of the panel is pressed.
    pub on_action: Option<Callback<LeadAction>>,
}

#[cfg(feature = "upload")]
impl Lead {
    /// The text and the panel now, tracked.
    pub(crate) fn read(&self) -> (Option<LeadText>, Option<LeadPanel>) {
        (self.text.get(), self.panel.map(|p| p.get()))
    }

    /// Carries out a pressed button.
    pub(crate) fn act(&self, action: LeadAction) {
        if let Some(cb) = self.on_action {
            cb.run(action);
        }
    }
}

/// A story told before the job's (feature `upload`). This build has no
/// `upload` feature, so there is no such value.
#[cfg(not(feature = "upload"))]
#[derive(Clone)]
pub enum Lead {}

#[cfg(not(feature = "upload"))]
impl Lead {
    pub(crate) fn read(&self) -> (Option<LeadText>, Option<LeadPanel>) {
        match *self {}
    }

    pub(crate) fn act(&self, _: LeadAction) {
        match *self {}
    }
}
