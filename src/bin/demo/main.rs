//! Demo page. Build and serve with `trunk serve` (or `bash scripts/demo.sh`);
//! it needs the `demo` feature, which index.html passes to trunk.

mod api;
mod drop_zone;
mod fault_panel;
mod faults;
mod format;
mod job_card;
mod page;
mod stats;
mod timeline;

fn main() {
    console_error_panic_hook::set_once();
    page::mount_demo();
}
