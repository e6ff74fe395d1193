//! The view as values: what the widget shows, written as HTML and kept up
//! to date, with no Leptos and no session in it.
//!
//! `shown.rs` computes every text and attribute at once from progress,
//! status, clock, labels and lead (with the wording in `describe.rs` and
//! the replaceable strings in `labels.rs`); `markup.rs` writes that as one
//! escaped HTML string, the same on the server, in the browser and in the
//! embed; `patch.rs` writes only what changed between two values;
//! `painter.rs` is the render step (inputs, then `Shown`, then patch) the
//! Leptos adapter (`component/`) and the embed (`embed/`) both run.

pub(crate) mod classes;
pub(crate) mod describe;
pub(crate) mod labels;
pub(crate) mod lead;
pub(crate) mod markup;
pub(crate) mod painter;
pub(crate) mod patch;
pub(crate) mod shown;
