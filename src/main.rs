//! Demo page. Build and serve with `trunk serve` (or `bash scripts/demo.sh`).

fn main() {
    console_error_panic_hook::set_once();
    upload_progress_robust::demo::mount_demo();
}
