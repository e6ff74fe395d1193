//! End-to-end tests of UploadProgressRobust: headless Chromium and Firefox,
//! driven over WebDriver, load the trunk-built pages from the dev server,
//! which injects faults while jobs run. Each scenario compares what the page
//! showed over time, and at the end, with the server's own state.
//!
//! Paths come from the environment (see [`env::Paths`]); `scripts/e2e.sh`
//! sets them all.

pub mod browser;
pub mod checks;
pub mod env;
pub mod fullstack;
pub mod pages;
pub mod process;
pub mod proxy;
pub mod recorder;
pub mod scenario;
pub mod server_api;
pub mod stats;
pub mod wait;

/// The error type of every helper: tests print it and fail.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Result of every helper.
pub type Result<T> = std::result::Result<T, BoxError>;

/// Builds an error from a message.
pub fn fail(message: impl Into<String>) -> BoxError {
    message.into().into()
}

/// Declares one `#[tokio::test]` per browser for a scenario function
/// `async fn(BrowserKind) -> Result<()>`.
#[macro_export]
macro_rules! browser_tests {
    ($scenario:path => $chromium:ident, $firefox:ident, $webkit:ident) => {
        $crate::browser_tests!($scenario => $chromium, $firefox);

        #[doc = "The scenario in WebKitGTK's MiniBrowser (under Xvfb)."]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $webkit() -> $crate::Result<()> {
            $crate::scenario::run(
                stringify!($scenario),
                $crate::browser::BrowserKind::WebKit,
                $scenario,
            )
            .await
        }
    };
    ($scenario:path => $chromium:ident, $firefox:ident) => {
        #[doc = "The scenario in headless Chromium."]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $chromium() -> $crate::Result<()> {
            $crate::scenario::run(
                stringify!($scenario),
                $crate::browser::BrowserKind::Chromium,
                $scenario,
            )
            .await
        }

        #[doc = "The scenario in headless Firefox."]
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $firefox() -> $crate::Result<()> {
            $crate::scenario::run(
                stringify!($scenario),
                $crate::browser::BrowserKind::Firefox,
                $scenario,
            )
            .await
        }
    };
}
