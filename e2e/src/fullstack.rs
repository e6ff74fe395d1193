//! The full-stack example (examples/fullstack/): its server binary, run
//! on a free loopback port with its browser build.

use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::env::Paths;
use crate::process::{free_port, listening_url};
use crate::Result;

/// A running `upload-progress-fullstack`, killed when dropped, its upload
/// directory removed.
pub struct FullstackServer {
    _child: Child,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    /// `127.0.0.1:<port>`, for a proxy in front.
    pub addr: String,
    /// Its stderr.
    pub log: std::path::PathBuf,
    uploads: std::path::PathBuf,
}

impl FullstackServer {
    /// Starts the example with `extra` flags (e.g. `--pace-ms`).
    pub async fn start(paths: &Paths, extra: &[&str]) -> Result<Self> {
        Paths::require(
            &paths.fullstack_bin,
            "full-stack example binary",
            "UPR_FULLSTACK_BIN",
        )?;
        Paths::require(
            &paths.fullstack_pkg.join("upload_progress_fullstack.js"),
            "full-stack example browser build (examples/fullstack/build.sh)",
            "UPR_FULLSTACK_PKG",
        )?;
        let tag = format!("{}-{}", std::process::id(), free_port()?);
        let log = std::env::temp_dir().join(format!("upr-e2e-fullstack-{tag}.log"));
        let uploads = std::env::temp_dir().join(format!("upr-e2e-fullstack-uploads-{tag}"));
        let mut child = Command::new(&paths.fullstack_bin)
            .args(["--addr", "127.0.0.1:0", "--pkg"])
            .arg(&paths.fullstack_pkg)
            .arg("--upload-dir")
            .arg(&uploads)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()?;
        let url = listening_url(&mut child, &log, "full-stack example").await?;
        let addr = url.trim_start_matches("http://").to_owned();
        Ok(Self {
            _child: child,
            url,
            addr,
            log,
            uploads,
        })
    }
}

impl Drop for FullstackServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.uploads);
    }
}
