//! The demo page's wording, tested natively: the timeline of session and
//! upload decisions and the number formats live in the demo binary
//! (src/bin/demo/), which only builds for the browser, so its pure modules
//! are compiled here on their own and their unit tests run with the
//! workspace's native tests.
#![cfg(not(target_arch = "wasm32"))]
// The page uses every item; this crate only runs their unit tests.
#![allow(dead_code)]

#[path = "../src/bin/demo/format.rs"]
mod format;
#[path = "../src/bin/demo/timeline.rs"]
mod timeline;
