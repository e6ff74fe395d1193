//! The full-stack example: one Leptos app rendered by an axum server and
//! hydrated in the browser, uploading a file over tus and following the
//! job the server runs on it, stage by stage.
//!
//! - [`app`]: the page, compiled for both sides.
//! - [`job_param`]: the `?job=` link to a job, read the same way on both sides.
//! - `server` (native): the axum app, the page's HTML shell, the stages.
//! - `hydrate` (wasm32): the entry point the page's module calls.

pub mod app;
pub mod job_param;

#[cfg(target_arch = "wasm32")]
mod hydrate;
#[cfg(not(target_arch = "wasm32"))]
pub mod server;
