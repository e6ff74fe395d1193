//! `Lead`: the part of a widget's story told before its job has progress
//! of its own, e.g. the upload of the file the job will process.

use leptos::prelude::*;

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
///     let lead = Lead { text, panel: ViewFn::from(|| view! { <span>"Step 1"</span> }) };
///     view! { <UploadProgressView progress=progress status=status lead=Some(lead) /> }
/// }
/// ```
#[cfg(feature = "upload")]
#[derive(Clone)]
pub struct Lead {
    /// The lead's text while it is told; `None` once the job's story takes over.
    pub text: Signal<Option<LeadText>>,
    /// Rendered under the bar for the widget's whole life (e.g. the upload's
    /// byte counts and its Pause / Resume / Cancel buttons); it hides itself
    /// when it has nothing to show.
    pub panel: ViewFn,
}

#[cfg(feature = "upload")]
impl Lead {
    /// The text signal, for the view.
    pub(crate) fn text(&self) -> Signal<Option<LeadText>> {
        self.text
    }

    /// The panel, rendered once.
    pub(crate) fn into_panel(self) -> AnyView {
        self.panel.run()
    }
}

/// A story told before the job's (feature `upload`). This build has no
/// `upload` feature, so there is no such value.
#[cfg(not(feature = "upload"))]
#[derive(Clone)]
pub enum Lead {}

#[cfg(not(feature = "upload"))]
impl Lead {
    pub(crate) fn text(&self) -> Signal<Option<LeadText>> {
        match *self {}
    }

    pub(crate) fn into_panel(self) {
        match self {}
    }
}

/// Reads the told lead's text through `read`, tracking it; `None` when there
/// is no lead or its story is over.
pub(crate) fn told<R>(
    text: Option<Signal<Option<LeadText>>>,
    read: impl FnOnce(&LeadText) -> R,
) -> Option<R> {
    text.and_then(|t| t.with(|t| t.as_ref().map(read)))
}
