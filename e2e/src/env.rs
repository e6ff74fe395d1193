//! Where the tools, the page and the server binary are, from the environment.

use std::path::{Path, PathBuf};

/// Every path the suite needs.
#[derive(Debug, Clone)]
pub struct Paths {
    /// `upload-progress-server` binary (`UPR_SERVER_BIN`).
    pub server_bin: PathBuf,
    /// trunk output with the demo page and `embed/` (`UPR_DIST`).
    pub dist: PathBuf,
    /// The full-stack example's server (`UPR_FULLSTACK_BIN`, default the
    /// debug build in the target directory).
    pub fullstack_bin: PathBuf,
    /// The full-stack example's browser build, wasm-bindgen's output
    /// (`UPR_FULLSTACK_PKG`, default `fullstack-pkg` in the target directory).
    pub fullstack_pkg: PathBuf,
    /// ChromeDriver (`UPR_CHROMEDRIVER`, default `/usr/bin/chromedriver`).
    pub chromedriver: PathBuf,
    /// Chromium (`UPR_CHROMIUM`, default `/usr/bin/chromium`).
    pub chromium: PathBuf,
    /// geckodriver (`UPR_GECKODRIVER`, default: found on `PATH` or in `~/.cargo/bin`).
    pub geckodriver: PathBuf,
    /// Firefox (`UPR_FIREFOX`, default: `firefox-esr` or `firefox` on `PATH`).
    pub firefox: PathBuf,
    /// WebKitGTK's WebDriver (`UPR_WEBKITDRIVER`, default `/usr/bin/WebKitWebDriver`).
    pub webkit_driver: PathBuf,
    /// WebKitGTK's MiniBrowser (`UPR_MINIBROWSER`, default: Debian's path).
    /// It has no headless mode: the suite runs under Xvfb (`DISPLAY`).
    pub minibrowser: PathBuf,
}

fn var(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

/// The first of `names` found on `PATH` or in `~/.cargo/bin`.
fn which(names: &[&str]) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = var("HOME") {
        dirs.push(home.join(".cargo/bin"));
    }
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

impl Paths {
    /// Reads the environment, filling in defaults.
    pub fn from_env() -> Self {
        let root = workspace_root();
        let target = var("CARGO_TARGET_DIR").unwrap_or_else(|| root.join("target"));
        Self {
            server_bin: var("UPR_SERVER_BIN")
                .unwrap_or_else(|| target.join("release/upload-progress-server")),
            fullstack_bin: var("UPR_FULLSTACK_BIN")
                .unwrap_or_else(|| target.join("debug/upload-progress-fullstack")),
            fullstack_pkg: var("UPR_FULLSTACK_PKG").unwrap_or_else(|| target.join("fullstack-pkg")),
            dist: var("UPR_DIST").unwrap_or_else(|| root.join("dist")),
            chromedriver: var("UPR_CHROMEDRIVER")
                .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver")),
            chromium: var("UPR_CHROMIUM").unwrap_or_else(|| PathBuf::from("/usr/bin/chromium")),
            geckodriver: var("UPR_GECKODRIVER")
                .or_else(|| which(&["geckodriver"]))
                .unwrap_or_else(|| PathBuf::from("geckodriver")),
            firefox: var("UPR_FIREFOX")
                .or_else(|| which(&["firefox-esr", "firefox"]))
                .unwrap_or_else(|| PathBuf::from("firefox")),
            webkit_driver: var("UPR_WEBKITDRIVER")
                .unwrap_or_else(|| PathBuf::from("/usr/bin/WebKitWebDriver")),
            minibrowser: var("UPR_MINIBROWSER").unwrap_or_else(|| {
                PathBuf::from("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
            }),
        }
    }

    /// Fails with a readable message when a needed file is missing.
    pub fn require(path: &Path, what: &str, env_name: &str) -> crate::Result<()> {
        if path.exists() {
            Ok(())
        } else {
            Err(crate::fail(format!(
                "{what} not found at {} (set {env_name})",
                path.display()
            )))
        }
    }
}
