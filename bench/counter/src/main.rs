//! The smallest useful Leptos app: a button that counts. Its bundle is the
//! baseline the component's size is compared against; with the `component`
//! feature the same app also shows one `UploadProgressRobust`.

use leptos::prelude::*;

fn main() {
    mount_to_body(|| {
        let (count, set_count) = signal(0);
        view! {
            <button on:click=move |_| set_count.update(|n| *n += 1)>
                "Clicked " {count} " times"
            </button>
            {widget()}
        }
    });
}

#[cfg(feature = "component")]
fn widget() -> impl IntoView {
    use upload_progress_robust::UploadProgressRobust;
    view! { <UploadProgressRobust process_id="job_1" filename="report.pdf" /> }
}

#[cfg(not(feature = "component"))]
fn widget() -> impl IntoView {}
