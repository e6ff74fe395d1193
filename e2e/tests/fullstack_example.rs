//! The full-stack example (examples/fullstack/) in Chromium: the page the
//! server rendered is hydrated in place, a file chosen in it is uploaded
//! over tus and the widget follows the app's own stages (checksum, gzip,
//! line count) to the result, although every connection is dropped while
//! the job runs; a link to the job renders its widget on the server,
//! which the browser then takes over.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use upload_progress_e2e::browser::{Browser, BrowserKind};
use upload_progress_e2e::env::Paths;
use upload_progress_e2e::fullstack::FullstackServer;
use upload_progress_e2e::proxy::CuttingProxy;
use upload_progress_e2e::scenario::temp_upload;
use upload_progress_e2e::{fail, wait, Result};

/// Every stage of the example, in order.
const STAGES: [&str; 3] = ["checksum", "gzip", "lines"];

/// Tags every element of `#app` as the server's before any of the page's
/// scripts can run: `readystatechange` to `interactive` fires once the
/// markup is parsed and before module scripts execute, so the hydration
/// (after the WebAssembly loaded) has not happened yet. A node that is
/// still tagged later is the very node the server sent.
const TAG_SERVER_NODES: &str = r#"
document.addEventListener('readystatechange', () => {
  if (document.readyState !== 'interactive') return;
  const app = document.getElementById('app');
  if (!app) return;
  window.__serverNodes = 0;
  for (const el of app.querySelectorAll('*')) { el.__fromServer = true; window.__serverNodes++; }
});
"#;

/// What the test reads from the page: the server's tag on the nodes that
/// matter, the widget's state and stages, and the result.
const READ_PAGE: &str = r#"
const q = (s) => document.querySelector(s);
const widget = q('#app .upr');
return {
  serverNodes: window.__serverNodes ?? null,
  mains: document.querySelectorAll('main.fullstack').length,
  widgets: document.querySelectorAll('#app .upr').length,
  mainFromServer: q('#app main')?.__fromServer === true,
  inputFromServer: q('#app input[type=file]')?.__fromServer === true,
  inputEnabled: q('#app input[type=file]')?.disabled === false,
  widgetFromServer: widget?.__fromServer === true,
  barFromServer: widget?.querySelector('[role=progressbar]')?.__fromServer === true,
  state: widget?.dataset.state ?? null,
  stage: widget?.dataset.stage ?? null,
  stages: widget ? [...widget.querySelectorAll('[data-stage]')]
    .filter((li) => li.tagName === 'LI')
    .map((li) => [li.dataset.stage, li.dataset.status]) : [],
  result: q('#app .fullstack__result output')?.textContent ?? null,
  message: widget?.querySelector('.upr__message')?.textContent ?? null,
  search: location.search,
};
"#;

async fn read(browser: &Browser) -> Result<Value> {
    browser.exec(READ_PAGE, vec![]).await
}

/// Waits until `ready` holds for the page, returning the page read then.
async fn page_until(
    browser: &Browser,
    what: &str,
    timeout: Duration,
    ready: impl Fn(&Value) -> bool,
) -> Result<Value> {
    wait::until(what, timeout, || async {
        let page = read(browser).await?;
        Ok(ready(&page).then_some(page))
    })
    .await
}

fn stage_list(page: &Value) -> Vec<(String, String)> {
    page["stages"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|pair| {
                    let s = |i: usize| pair[i].as_str().unwrap_or_default().to_owned();
                    (s(0), s(1))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn all_done(page: &Value) -> bool {
    let stages = stage_list(page);
    page["state"] == "completed"
        && stages.len() == STAGES.len()
        && stages
            .iter()
            .zip(STAGES)
            .all(|((name, status), want)| name == want && status == "done")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fullstack_example_chromium() -> Result<()> {
    let paths = Paths::from_env();
    // 3 stages x 10 reports x 120 ms: the job runs about 4 s.
    let server = FullstackServer::start(&paths, &["--pace-ms", "120"]).await?;
    let proxy = CuttingProxy::start(&server.addr).await?;
    println!(
        "example at {} (log {}), behind {}",
        server.url,
        server.log.display(),
        proxy.url
    );
    let browser = Browser::launch(BrowserKind::Chromium, &paths).await?;
    let outcome = scenario(&browser, &proxy).await;
    browser.quit().await;
    outcome
}

async fn scenario(browser: &Browser, proxy: &CuttingProxy) -> Result<()> {
    browser.before_page_scripts(TAG_SERVER_NODES).await?;
    browser.client.goto(&format!("{}/", proxy.url)).await?;
    // The server's markup has the input switched off; the app switches it
    // on once it runs.
    let page = page_until(
        browser,
        "the page to hydrate",
        Duration::from_secs(30),
        |p| p["inputEnabled"] == true,
    )
    .await?;
    if page["serverNodes"].as_u64().unwrap_or(0) == 0 {
        return Err(fail(format!(
            "the server's markup was not seen before hydration: {page}"
        )));
    }

    let file = temp_upload("fullstack-example.txt", 3000)?;
    let bytes = std::fs::read(&file)?;
    let path = file
        .to_str()
        .ok_or_else(|| fail("temp path is not UTF-8"))?;
    browser
        .client
        .find(Locator::Css("#app input[type=file]"))
        .await?
        .send_keys(path)
        .await?;

    // Drop every connection while the job is in its first stage.
    let page = page_until(
        browser,
        "the checksum stage to run",
        Duration::from_secs(30),
        |p| p["state"] == "running" && p["stage"] == "checksum",
    )
    .await?;
    let sockets_before = proxy.websockets();
    let (cut, cut_sockets) = proxy.cut_all();
    println!(
        "cut {cut} connections ({cut_sockets} WebSockets) during {}",
        page["stage"]
    );
    if cut_sockets == 0 {
        return Err(fail(format!(
            "no WebSocket was open while the job ran ({cut} connections cut)"
        )));
    }

    let done = page_until(
        browser,
        "every stage to complete",
        Duration::from_secs(60),
        all_done,
    )
    .await?;
    if proxy.websockets() <= sockets_before {
        return Err(fail(
            "the widget completed without opening a new socket after the cut",
        ));
    }
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let want = format!(" of {} bytes, 3000 lines", bytes.len());
    let result = done["result"].as_str().unwrap_or_default();
    if !result.starts_with(&format!("sha256 {sha}, gzip ")) || !result.ends_with(&want) {
        return Err(fail(format!("the page's result is not the file's: {done}")));
    }
    // Hydrated, not drawn again: the nodes the server sent are still the
    // page, and the input the file went through is the server's.
    let same = done["mains"] == 1
        && done["widgets"] == 1
        && done["mainFromServer"] == true
        && done["inputFromServer"] == true;
    if !same {
        return Err(fail(format!(
            "the page was re-rendered instead of hydrated: {done}"
        )));
    }
    let search = done["search"].as_str().unwrap_or_default().to_owned();
    if !search.starts_with("?job=") {
        return Err(fail(format!("the page did not link to its job: {done}")));
    }

    // The link renders the job's widget on the server; the browser takes
    // that widget over and shows the finished job.
    browser
        .client
        .goto(&format!("{}/{search}", proxy.url))
        .await?;
    let linked = page_until(
        browser,
        "the linked job to show",
        Duration::from_secs(30),
        all_done,
    )
    .await?;
    let taken_over = linked["widgets"] == 1
        && linked["widgetFromServer"] == true
        && linked["barFromServer"] == true;
    if !taken_over {
        return Err(fail(format!(
            "the server's widget was not hydrated: {linked}"
        )));
    }
    if !linked["message"]
        .as_str()
        .unwrap_or_default()
        .contains(&sha)
    {
        return Err(fail(format!(
            "the linked widget does not show the result: {linked}"
        )));
    }
    println!(
        "passed: {}",
        json!({ "cut": cut, "websockets": proxy.websockets() })
    );
    Ok(())
}
