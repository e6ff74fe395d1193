//! The demo page's entry point. Build and serve it with `trunk serve` (or
//! `bash scripts/demo.sh`); natively there is nothing to run.

fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        console_error_panic_hook::set_once();
        upload_progress_demo::mount_demo();
    }
}
