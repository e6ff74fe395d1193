//! The demo page of UploadProgressRobust, a user of the component crate's
//! public API like any app.
//!
//! The pure parts (the timeline that explains each session and upload
//! decision, the number formats) build everywhere and are tested natively;
//! the page itself (Leptos, the browser) builds for wasm32 only, where
//! `main.rs` mounts it.

pub mod format;
pub mod timeline;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod drop_zone;
#[cfg(target_arch = "wasm32")]
mod fault_panel;
#[cfg(target_arch = "wasm32")]
mod faults;
#[cfg(target_arch = "wasm32")]
mod job_card;
#[cfg(target_arch = "wasm32")]
mod page;
#[cfg(target_arch = "wasm32")]
mod stats;

#[cfg(target_arch = "wasm32")]
pub use page::mount_demo;
