//! The frame around every scenario: a fresh server and browser, a timeline
//! printed as it goes, waits on what the page shows, and the final checks.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use tokio::time::Instant;

use crate::browser::{Browser, BrowserKind};
use crate::checks::{self, Expect, Summary};
use crate::env::Paths;
use crate::process::DevServer;
use crate::recorder::{Recorder, Shown};
use crate::server_api::{ServerApi, ServerProgress};
use crate::{fail, Result};

/// Runs one scenario in one browser and prints its outcome and duration.
pub async fn run<F, Fut>(name: &str, kind: BrowserKind, scenario: F) -> Result<()>
where
    F: FnOnce(BrowserKind) -> Fut,
    Fut: Future<Output = Result<()>>,
{
    let started = Instant::now();
    println!("[{kind}] {name}: start");
    let result = scenario(kind).await;
    let secs = started.elapsed().as_secs_f32();
    match &result {
        Ok(()) => println!("[{kind}] {name}: PASS in {secs:.1} s"),
        Err(e) => println!("[{kind}] {name}: FAIL after {secs:.1} s: {e}"),
    }
    result
}

/// A dev server and a browser for one scenario.
pub struct Harness {
    /// Which browser.
    pub kind: BrowserKind,
    /// The server's API.
    pub api: ServerApi,
    /// The browser.
    pub browser: Browser,
    server: DevServer,
    started: Instant,
}

impl Harness {
    /// Starts a server (serving the trunk output) with `flags`, then the browser.
    pub async fn start(kind: BrowserKind, flags: &[&str]) -> Result<Self> {
        let paths = Paths::from_env();
        Self::start_with_dist(kind, &paths, &paths.dist.clone(), flags).await
    }

    /// Like [`Harness::start`], serving `dist`.
    pub async fn start_with_dist(
        kind: BrowserKind,
        paths: &Paths,
        dist: &Path,
        flags: &[&str],
    ) -> Result<Self> {
        Paths::require(
            &dist.join("index.html"),
            "trunk output (dist/index.html)",
            "UPR_DIST",
        )?;
        let server = DevServer::start(paths, dist, flags).await?;
        let api = ServerApi::new(&server.url);
        let browser = Browser::launch(kind, paths).await?;
        let me = Self {
            kind,
            api,
            browser,
            server,
            started: Instant::now(),
        };
        me.say(format!(
            "server {} (log {}), flags {flags:?}",
            me.server.url,
            me.server.log.display()
        ));
        Ok(me)
    }

    /// Prints a timeline line.
    pub fn say(&self, message: impl AsRef<str>) {
        println!(
            "[{} +{:5.1}s] {}",
            self.kind,
            self.started.elapsed().as_secs_f32(),
            message.as_ref()
        );
    }

    /// Drains the recorder every 100 ms until `done` holds, failing after `timeout`.
    pub async fn watch_until(
        &self,
        rec: &mut Recorder,
        what: &str,
        timeout: Duration,
        mut done: impl FnMut(&Recorder) -> bool,
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            rec.drain(&self.browser).await?;
            if done(rec) {
                self.say(format!("ok: {what}"));
                return Ok(());
            }
            if Instant::now() >= deadline {
                let latest: Vec<String> = rec
                    .rows()
                    .values()
                    .filter_map(|rows| rows.last())
                    .map(describe)
                    .collect();
                return Err(fail(format!(
                    "timed out after {} s waiting for {what}; page shows: {}",
                    timeout.as_secs(),
                    latest.join(" | ")
                )));
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }

    /// Waits until widget `key` shows a live socket.
    pub async fn wait_live(&self, rec: &mut Recorder, key: &str, timeout: Duration) -> Result<()> {
        self.watch_until(rec, &format!("{key} live on the socket"), timeout, |r| {
            r.latest(key).is_some_and(is_live)
        })
        .await
    }

    /// Waits until widget `key` left the live socket at some row after
    /// `since` and is live again.
    pub async fn wait_relive(
        &self,
        rec: &mut Recorder,
        key: &str,
        since: usize,
        timeout: Duration,
    ) -> Result<()> {
        self.watch_until(
            rec,
            &format!("{key} to lose the socket and get it back"),
            timeout,
            |r| {
                let rows = r.widget(key);
                let after = rows.get(since..).unwrap_or_default();
                after.iter().any(|row| !is_live(row)) && rows.last().is_some_and(is_live)
            },
        )
        .await
    }

    /// Waits until the server's job `id` is over and widget `key` shows
    /// exactly the server's final state.
    pub async fn wait_final(
        &self,
        rec: &mut Recorder,
        key: &str,
        id: &str,
        timeout: Duration,
    ) -> Result<ServerProgress> {
        let deadline = Instant::now() + timeout;
        loop {
            rec.drain(&self.browser).await?;
            let server = self.api.progress(id).await?;
            if server.is_terminal() {
                if let Some(row) = rec.latest(key) {
                    if checks::matches_server(row, &server).is_ok() {
                        self.say(format!(
                            "ok: {key} shows the final state (seq {})",
                            server.seq
                        ));
                        return Ok(server);
                    }
                }
            }
            if Instant::now() >= deadline {
                let shown = rec.latest(key).map(describe).unwrap_or_default();
                return Err(fail(format!(
                    "{key} did not reach the server's final state in {} s: server {} seq {}, page {shown}",
                    timeout.as_secs(),
                    server.state,
                    server.seq
                )));
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }

    /// Checks widget `key`'s whole history against the server's job `id`.
    pub async fn verify(
        &self,
        rec: &mut Recorder,
        key: &str,
        id: &str,
        expect: Expect,
    ) -> Result<Summary> {
        rec.drain(&self.browser).await?;
        let server = self.api.progress(id).await?;
        let summary = checks::check_history(rec.widget(key), &server, expect)
            .map_err(|e| fail(format!("{key} (job {id}): {e}")))?;
        self.say(format!("{key}: {summary}"));
        Ok(summary)
    }

    /// The id of the page's only job, once a widget follows it: from the
    /// widgets' `data-process-id` (a job followed over the shared page
    /// connection has no per-job socket counters on the server), else the
    /// only job the server counts.
    pub async fn only_job(&self) -> Result<String> {
        crate::wait::until(
            "the page's job to reach the server",
            Duration::from_secs(30),
            || async {
                let shown = self.browser.exec(ONLY_JOB_JS, vec![]).await?;
                if let Some(id) = shown.as_str() {
                    return Ok(Some(id.to_owned()));
                }
                let reading = crate::stats::read(&self.api).await?;
                let mut ids = reading.jobs.keys();
                Ok(match (ids.next(), ids.next()) {
                    (Some(id), None) => Some(id.clone()),
                    _ => None,
                })
            },
        )
        .await
    }

    /// The usual end of a scenario on job `id`: its widget shows the final
    /// state within 60 s, the whole history checks out against the server's
    /// (`expect`), and once every widget is unmounted nothing stays
    /// connected or polling for 3 s. Then the session and server end.
    pub async fn end_with_final_state(
        self,
        rec: &mut Recorder,
        id: &str,
        expect: Expect,
    ) -> Result<()> {
        self.wait_final(rec, id, id, Duration::from_secs(60))
            .await?;
        self.verify(rec, id, id, expect).await?;
        crate::pages::unmount_all(&self.browser).await?;
        crate::stats::assert_quiet(&self.api, Duration::from_secs(3)).await?;
        self.finish().await;
        Ok(())
    }

    /// Ends the browser session and the server.
    pub async fn finish(self) {
        self.browser.quit().await;
        self.server.stop().await;
    }
}

/// The one job id the page's widgets show, or null.
const ONLY_JOB_JS: &str = r#"
const ids = new Set([...document.querySelectorAll("section.upr")]
  .map((s) => s.getAttribute("data-process-id")).filter((id) => id));
return ids.size === 1 ? [...ids][0] : null;
"#;

/// True when a row shows a connected socket.
pub fn is_live(row: &Shown) -> bool {
    row.mode == "websocket" && row.connection == "connected"
}

/// One row in a line.
pub fn describe(row: &Shown) -> String {
    format!(
        "{}: seq {} {} {}% stage {} mode {} connection {}",
        row.key,
        row.seq,
        row.state,
        row.percent,
        row.stage.as_deref().unwrap_or("-"),
        row.mode,
        row.connection
    )
}

/// Writes a small text file to upload and returns its path.
pub fn temp_upload(name: &str, lines: usize) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("upr-e2e-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    let text: String = (0..lines)
        .map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n"))
        .collect();
    std::fs::write(&path, text)?;
    Ok(path)
}
