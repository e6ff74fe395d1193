//! UploadProgressRobust: a Leptos component that follows one server-side job.
