//! Server-side rendering of `UploadProgressRobust` from an app crate.

use leptos::prelude::*;
use upload_progress_robust::UploadProgressRobust;

/// The file name the rendered widget shows.
pub const FILENAME: &str = "report.pdf";

/// The page fragment an app would render for one job.
#[component]
pub fn JobPage(
    /// The job to follow.
    process_id: String,
) -> impl IntoView {
    view! { <UploadProgressRobust process_id=process_id filename=FILENAME /> }
}

/// Renders [`JobPage`] to HTML, as a server does, under its own owner.
pub fn render_job_page(process_id: &str) -> String {
    let owner = Owner::new();
    let process_id = process_id.to_owned();
    owner.with(move || view! { <JobPage process_id=process_id /> }.to_html())
}
