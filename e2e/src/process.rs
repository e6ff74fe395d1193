//! Child processes the tests own: the dev server and a WebDriver server.
//!
//! Both listen on loopback ports chosen at run time and are killed when
//! dropped, so a failing test leaves nothing behind.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::env::Paths;
use crate::{fail, Result};

/// Admin token every test server is started with.
pub const ADMIN_TOKEN: &str = "e2e-admin-token";

/// A free loopback port, picked by the OS.
pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// A running `upload-progress-server`.
pub struct DevServer {
    child: Child,
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    /// Where the server's log (stderr) goes.
    pub log: PathBuf,
}

impl DevServer {
    /// Starts the server with fault injection, the admin token and tus
    /// uploads, serving `dist`, plus `extra` flags. Waits for its `listening on` line.
    pub async fn start(paths: &Paths, dist: &Path, extra: &[&str]) -> Result<Self> {
        Paths::require(&paths.server_bin, "dev server binary", "UPR_SERVER_BIN")?;
        let log = std::env::temp_dir().join(format!(
            "upr-e2e-server-{}-{}.log",
            std::process::id(),
            free_port()?
        ));
        let mut child = Command::new(&paths.server_bin)
            .arg("--addr")
            .arg("127.0.0.1:0")
            .arg("--dist")
            .arg(dist)
            .args([
                "--allow-loopback-origins",
                "--faults",
                "--admin-token",
                ADMIN_TOKEN,
                // The demo page uploads over tus.
                "--tus",
            ])
            .args(extra)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .kill_on_drop(true)
            .spawn()?;
        let url = listening_url(&mut child, &log, "dev server").await?;
        Ok(Self { child, url, log })
    }

    /// Stops the server now.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// Waits for `child`'s first line, `listening on <url>`, and returns the
/// url; keeps draining its stdout afterwards so it never blocks on a full
/// pipe. `log` is where its stderr goes, named in errors.
pub async fn listening_url(child: &mut Child, log: &Path, what: &str) -> Result<String> {
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| fail(format!("{what} stdout is not captured")))?;
    let mut lines = BufReader::new(stdout).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .map_err(|_| fail(format!("{what} printed nothing within 30 s")))??
        .ok_or_else(|| fail(format!("{what} exited; log: {}", log.display())))?;
    let url = first
        .strip_prefix("listening on ")
        .map(|rest| rest.split_whitespace().next().unwrap_or(rest).to_owned())
        .ok_or_else(|| fail(format!("unexpected first line from the {what}: {first:?}")))?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(url)
}

/// Which WebDriver implementation to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DriverKind {
    /// ChromeDriver.
    Chrome,
    /// geckodriver.
    Gecko,
    /// WebKitWebDriver (WebKitGTK).
    WebKit,
}

/// A running WebDriver server, in a process group of its own so
/// the browsers it starts go with it.
pub struct WebDriverProcess {
    child: Child,
    pgid: Option<u32>,
    /// Base URL of its WebDriver endpoint.
    pub url: String,
}

impl WebDriverProcess {
    /// Starts the driver on a free loopback port and waits until it is ready.
    pub async fn start(kind: DriverKind, binary: &Path) -> Result<Self> {
        let (what, env_name) = match kind {
            DriverKind::Chrome => ("chromedriver", "UPR_CHROMEDRIVER"),
            DriverKind::Gecko => ("geckodriver", "UPR_GECKODRIVER"),
            DriverKind::WebKit => ("WebKitWebDriver", "UPR_WEBKITDRIVER"),
        };
        Paths::require(binary, what, env_name)?;
        let port = free_port()?;
        let mut cmd = std::process::Command::new(binary);
        match kind {
            DriverKind::Chrome => {
                cmd.arg(format!("--port={port}"));
                cmd.arg("--allowed-ips=127.0.0.1");
            }
            DriverKind::Gecko => {
                // System access lets the suite flip Firefox's offline switch.
                cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
                cmd.arg("--allow-system-access");
            }
            DriverKind::WebKit => {
                cmd.arg(format!("--port={port}"));
                cmd.arg("--host=127.0.0.1");
            }
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        let mut cmd = Command::from(cmd);
        cmd.kill_on_drop(true);
        let child = cmd.spawn()?;
        let pgid = child.id();
        let url = format!("http://127.0.0.1:{port}");
        let me = Self { child, pgid, url };
        me.wait_ready().await?;
        Ok(me)
    }

    async fn wait_ready(&self) -> Result<()> {
        let http = reqwest::Client::new();
        let status = format!("{}/status", self.url);
        crate::wait::until(
            "the WebDriver server to answer /status",
            Duration::from_secs(30),
            || {
                let http = http.clone();
                let status = status.clone();
                async move {
                    let ready = match http.get(&status).send().await {
                        Ok(r) => r
                            .json::<serde_json::Value>()
                            .await
                            .ok()
                            .and_then(|v| v["value"]["ready"].as_bool())
                            .unwrap_or(false),
                        Err(_) => false,
                    };
                    Ok(ready.then_some(()))
                }
            },
        )
        .await
    }
}

impl Drop for WebDriverProcess {
    fn drop(&mut self) {
        // The browser runs in the driver's process group; end that group.
        if let Some(pgid) = self.pgid {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pgid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.start_kill();
    }
}
