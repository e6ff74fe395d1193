//! Demo page. Build and serve with `trunk serve` (or `bash scripts/demo.sh`);
//! it needs the `demo` feature, which index.html passes to trunk.

mod api;
mod page;

fn main() {
    console_error_panic_hook::set_once();
    page::mount_demo();
}
