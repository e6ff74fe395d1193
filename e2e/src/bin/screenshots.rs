//! Takes the README screenshots of the widget in headless Chromium, from the
//! trunk-built pages served by the dev server:
//!
//! - `connected.png`: the demo page following an upload over the WebSocket,
//!   mid-job;
//! - `reconnecting.png`: the same job after the server dropped every socket
//!   while refusing upgrades, counting down to the next attempt;
//! - `polling.png`: the same job once the refused upgrades forced the
//!   fallback to HTTP polling, with progress still arriving;
//! - `error.png`: a widget mounted through the embed page's JavaScript API
//!   for a well-formed id the server never heard of, stopped with "not
//!   found" and its recovery hint.
//!
//! Usage: `screenshots [OUT_DIR]` (default `docs/screenshots`). Paths of the
//! server binary, `dist/`, Chromium and ChromeDriver come from the same
//! `UPR_*` variables as the end-to-end suite; `scripts/screenshots.sh` sets
//! them. Every state is waited for by reading the widget's `data-*`
//! attributes against a deadline, and each picture is checked to still show
//! that state after it was taken.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use fantoccini::Locator;
use serde::Deserialize;
use serde_json::json;
use upload_progress_e2e::browser::{Browser, BrowserKind};
use upload_progress_e2e::env::Paths;
use upload_progress_e2e::process::DevServer;
use upload_progress_e2e::server_api::ServerApi;
use upload_progress_e2e::{fail, pages, wait, Result};

/// Browser viewport, close to a laptop window.
const WINDOW: (u32, u32) = (900, 700);

/// Time per progress step of uploaded jobs: 20 steps make a 50 s job, long
/// enough to be mid-way through every shot of the demo page.
const STEP_MS: &str = "2500";

/// How long a socket for an unknown id waits before the server closes it
/// with 4404 (the default 10 s would only slow the error shot down).
const GRACE_MS: &str = "1500";

/// The connected shot waits for at least this much progress.
const MID_JOB_PERCENT: u32 = 35;

/// Upgrades stay refused for this long, longer than the fallback takes.
const REFUSE_MS: u64 = 120_000;

/// Deadline of each wait.
const WAIT: Duration = Duration::from_secs(60);

/// Attempts at the demo-page shots. A full-jitter backoff may draw only
/// short waits; then a fresh job gives the countdown another chance.
const ROUNDS: u32 = 3;

/// The widget on the demo page (the page shows one job at a time here).
const DEMO_WIDGET: &str = "#demo-root section.upr";

/// The widget mounted on the embed page.
const EMBED_WIDGET: &str = "#target section.upr";

/// Mounts a widget into the embed page's `#target` through
/// `mount_upload_progress`, keeping the handle on `window` so it lives on.
const MOUNT_JS: &str = r#"
const [id, filename] = [arguments[0], arguments[1]];
window.__shotHandle = window.__uprModule.mount_upload_progress(
  document.getElementById("target"), { processId: id, filename });
return true;
"#;

/// Reads what the widget at `arguments[0]` shows, or `null` without one.
const READ_JS: &str = r#"
const el = document.querySelector(arguments[0]);
if (!el) return null;
const text = el.querySelector(".upr__connection-text");
const alert = el.querySelector(".upr__alert");
return {
  state: el.dataset.state, mode: el.dataset.mode, connection: el.dataset.connection,
  seq: Number(el.dataset.seq), percent: Number(el.dataset.percent),
  attempt: el.dataset.attempt || null,
  text: text ? text.textContent : "", alert: alert ? alert.textContent : "",
};
"#;

/// What a widget shows, as far as the shots care.
#[derive(Debug, Clone, Deserialize)]
struct Widget {
    state: String,
    mode: String,
    connection: String,
    seq: u64,
    percent: u32,
    attempt: Option<String>,
    text: String,
    alert: String,
}

impl Widget {
    fn connected_mid_job(&self) -> bool {
        self.connection == "connected" && self.mode == "websocket" && self.state == "running"
    }

    fn polling_mid_job(&self) -> bool {
        self.connection == "polling" && self.mode == "http_polling" && self.state == "running"
    }

    /// Stopped by the server's "no such job" (the default English label:
    /// the page names no error kind in its attributes).
    fn not_found(&self) -> bool {
        self.connection == "error" && self.alert.contains("could not be found")
    }

    /// Seconds left on the reconnect countdown ("Reconnecting in N s").
    fn countdown(&self) -> Option<u64> {
        if self.connection != "reconnecting" {
            return None;
        }
        let rest = self.text.split_once(" in ")?.1;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    }
}

/// Reads the widget at `selector`, `None` while the page has none.
async fn read(browser: &Browser, selector: &str) -> Result<Option<Widget>> {
    let value = browser.exec(READ_JS, vec![json!(selector)]).await?;
    if value.is_null() {
        return Ok(None);
    }
    Ok(Some(serde_json::from_value(value)?))
}

/// Waits until the widget at `selector` satisfies `ok`; returns what it showed.
async fn wait_for(
    browser: &Browser,
    selector: &str,
    what: &str,
    ok: impl Fn(&Widget) -> bool,
) -> Result<Widget> {
    let ok = &ok;
    wait::until(what, WAIT, || async move {
        Ok(read(browser, selector).await?.filter(|w| ok(w)))
    })
    .await
}

/// An element screenshot of the widget, kept only if the widget satisfies
/// `still` both before and after it was taken (so the picture shows it).
async fn shot(
    browser: &Browser,
    selector: &str,
    still: impl Fn(&Widget) -> bool,
) -> Result<Option<Vec<u8>>> {
    let before = read(browser, selector).await?;
    if !before.as_ref().is_some_and(&still) {
        return Ok(None);
    }
    let element = browser.client.find(Locator::Css(selector)).await?;
    let png = element.screenshot().await?;
    let after = read(browser, selector).await?;
    Ok(after.as_ref().is_some_and(&still).then_some(png))
}

/// Like [`shot`], but a changed state is an error.
async fn shot_now(
    browser: &Browser,
    selector: &str,
    what: &str,
    still: impl Fn(&Widget) -> bool,
) -> Result<Vec<u8>> {
    shot(browser, selector, still).await?.ok_or_else(|| {
        fail(format!(
            "the widget left the {what} state during its screenshot"
        ))
    })
}

/// Waits for a reconnect countdown with at least two seconds left and
/// takes it. `None` when the session fell back to polling first (every
/// jittered wait was too short to catch).
async fn catch_countdown(browser: &Browser) -> Result<Option<Vec<u8>>> {
    wait::until("a reconnect countdown", WAIT, || async move {
        let Some(w) = read(browser, DEMO_WIDGET).await? else {
            return Ok(None);
        };
        if w.mode == "http_polling" {
            return Ok(Some(None));
        }
        if w.countdown().is_none_or(|s| s < 2) {
            return Ok(None);
        }
        // The same attempt still counting down afterwards means the
        // picture shows this countdown, not the socket attempt after it.
        let attempt = w.attempt.clone();
        let png = shot(browser, DEMO_WIDGET, |now| {
            now.countdown().is_some() && now.attempt == attempt
        })
        .await?;
        Ok(png.map(Some))
    })
    .await
}

/// The three demo-page shots, in the order one job goes through them.
#[derive(Default)]
struct DemoShots {
    connected: Option<Vec<u8>>,
    reconnecting: Option<Vec<u8>>,
    polling: Option<Vec<u8>>,
}

/// One round: a fresh demo page uploads `file`; the job is shot connected,
/// then the server drops every socket while refusing upgrades, and the job
/// is shot counting down to a reconnect and, once it fell back, polling.
async fn demo_round(
    browser: &Browser,
    api: &ServerApi,
    file: &Path,
    shots: &mut DemoShots,
) -> Result<()> {
    api.clear_faults().await?;
    pages::open_demo(browser, api.base()).await?;
    pages::upload_through_demo(browser, file).await?;
    wait_for(browser, DEMO_WIDGET, "the upload to be live mid-job", |w| {
        w.connected_mid_job() && w.percent >= MID_JOB_PERCENT
    })
    .await?;
    if shots.connected.is_none() {
        println!("connected: taking the shot");
        shots.connected =
            Some(shot_now(browser, DEMO_WIDGET, "connected", Widget::connected_mid_job).await?);
    }

    api.refuse_upgrades(REFUSE_MS).await?;
    api.drop_sockets().await?;
    if shots.reconnecting.is_none() {
        shots.reconnecting = catch_countdown(browser).await?;
        match shots.reconnecting {
            Some(_) => println!("reconnecting: took the countdown"),
            None => println!("reconnecting: every wait was too short, trying again later"),
        }
    }

    // Fresh data while polling shows the fallback carries the job on.
    let first = wait_for(
        browser,
        DEMO_WIDGET,
        "the fallback to HTTP polling",
        Widget::polling_mid_job,
    )
    .await?;
    wait_for(browser, DEMO_WIDGET, "progress over HTTP polling", |w| {
        w.polling_mid_job() && w.seq > first.seq
    })
    .await?;
    if shots.polling.is_none() {
        println!("polling: taking the shot");
        shots.polling =
            Some(shot_now(browser, DEMO_WIDGET, "polling", Widget::polling_mid_job).await?);
    }
    api.clear_faults().await?;
    Ok(())
}

/// The error shot: the embed page mounts a widget for an id no job has.
async fn error_shot(browser: &Browser, api: &ServerApi) -> Result<Vec<u8>> {
    api.clear_faults().await?;
    pages::open_embed(browser, api.base()).await?;
    browser
        .exec(
            MOUNT_JS,
            vec![json!("report_2026_0415"), json!("report-2026-04.pdf")],
        )
        .await?;
    let stopped = wait_for(
        browser,
        EMBED_WIDGET,
        "the not-found error",
        Widget::not_found,
    )
    .await?;
    println!("error: {}", stopped.alert.trim());
    shot_now(browser, EMBED_WIDGET, "error", Widget::not_found).await
}

/// A small text file for the demo's upload form. Each round writes its own
/// (same name, another folder and modification time): the page resumes an
/// upload of the very same file instead of starting a new job.
fn upload_file(dir: &Path) -> Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("survey-results.csv");
    let mut text = String::from("respondent,region,score,comment\n");
    for i in 1..=400 {
        text.push_str(&format!("{i},region-{},{},fine\n", i % 7, i % 10));
    }
    std::fs::write(&path, text)?;
    Ok(path)
}

fn save(out: &Path, name: &str, png: &[u8]) -> Result<()> {
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(fail(format!("{name}: the screenshot is not a PNG")));
    }
    let path = out.join(name);
    std::fs::write(&path, png)?;
    println!("wrote {} ({} bytes)", path.display(), png.len());
    Ok(())
}

async fn take_all(browser: &Browser, api: &ServerApi, out: &Path, scratch: &Path) -> Result<()> {
    let mut demo = DemoShots::default();
    for round in 1..=ROUNDS {
        println!("demo page, round {round}");
        let file = upload_file(&scratch.join(format!("round-{round}")))?;
        demo_round(browser, api, &file, &mut demo).await?;
        if demo.reconnecting.is_some() {
            break;
        }
    }
    let (Some(connected), Some(reconnecting), Some(polling)) =
        (demo.connected, demo.reconnecting, demo.polling)
    else {
        return Err(fail(format!(
            "no reconnect countdown of 2 s or more in {ROUNDS} rounds"
        )));
    };
    let error = error_shot(browser, api).await?;
    save(out, "connected.png", &connected)?;
    save(out, "polling.png", &polling)?;
    save(out, "reconnecting.png", &reconnecting)?;
    save(out, "error.png", &error)?;
    Ok(())
}

/// Launches Chromium at the window size, takes every shot, closes it.
async fn in_browser(paths: &Paths, api: &ServerApi, out: &Path, scratch: &Path) -> Result<()> {
    let browser = Browser::launch(BrowserKind::Chromium, paths).await?;
    let taken = match browser.client.set_window_size(WINDOW.0, WINDOW.1).await {
        Ok(()) => take_all(&browser, api, out, scratch).await,
        Err(e) => Err(e.into()),
    };
    browser.quit().await;
    taken
}

async fn run(out: PathBuf) -> Result<()> {
    std::fs::create_dir_all(&out)?;
    let paths = Paths::from_env();
    let server = DevServer::start(
        &paths,
        &paths.dist,
        &["--stage-ms", STEP_MS, "--grace-ms", GRACE_MS],
    )
    .await?;
    println!(
        "dev server at {} (log {})",
        server.url,
        server.log.display()
    );
    let api = ServerApi::new(&server.url);
    let scratch = std::env::temp_dir().join(format!("upr-screenshots-{}", std::process::id()));
    let result = in_browser(&paths, &api, &out, &scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
    server.stop().await;
    result
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let out = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("docs/screenshots"));
    match run(out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("screenshots: {e}");
            ExitCode::FAILURE
        }
    }
}
