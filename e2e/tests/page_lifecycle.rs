//! The browser's own page lifecycle: a tab frozen by Chromium (DevTools
//! `Page.setWebLifecycleState`) while its socket went silent.

use std::time::Duration;

use serde_json::json;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::recorder::Recorder;
use upload_progress_e2e::scenario::{self, Harness};
use upload_progress_e2e::{fail, pages, stats, Result};

const WAIT: Duration = Duration::from_secs(20);
/// Long enough that a stall threshold stretched by the freeze (about three
/// quarters of it, plus the 5 s check) would exceed the 10 s allowed.
const FREEZE: Duration = Duration::from_secs(20);
/// What the page may take after waking to show the job's true state.
const TRUTH_AFTER_WAKE: Duration = Duration::from_secs(10);

/// Frozen, and meanwhile the server stops answering on the socket (the
/// stall fault) after one more frame, which the browser queues. On wake
/// the page must not trust the queued frame: within 10 s it shows the
/// server's state, without a burst of new sockets, and it never says
/// "connected" for the silent socket after waking.
async fn frozen_tab_with_a_silent_socket(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("frozen_{kind}");
    // 4 stages x 10 steps x 1 s: 40 s.
    h.api.start_scripted(&id, 1000, 10).await?;
    // The heartbeat of the defaults (30 s, 10 s to answer): a fast one
    // would find the silent socket on its own and prove nothing here.
    let options = pages::fast_options_with(json!({
        "heartbeatIntervalMs": 30000,
        "pongTimeoutMs": 10000,
    }));
    pages::mount(&h.browser, &id, options).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;
    rec.drain(&h.browser).await?;
    let since = rec.widget(&id).len();

    h.browser.set_frozen(true).await?;
    h.say("page frozen");
    // One frame more reaches the browser and waits in its queue.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.api.stall_sockets(60_000).await?;
    h.say("fault: stall_sockets 60 s");
    tokio::time::sleep(FREEZE).await;
    let before = stats::read(&h.api).await?;
    // The page's only widget: the server's connections are its connections.
    let opened_before = before.opened;
    let server_seq = h.api.progress(&id).await?.seq;
    h.browser.set_frozen(false).await?;
    h.say(format!(
        "page active again; the server is at seq {server_seq}"
    ));
    h.watch_until(
        &mut rec,
        "the true state within 10 s of waking",
        TRUTH_AFTER_WAKE,
        |r| r.latest(&id).is_some_and(|row| row.seq >= server_seq),
    )
    .await?;
    let after = stats::read(&h.api).await?;
    let opened_after = after.opened;
    h.say(format!(
        "connections opened across the wake: {opened_before} -> {opened_after}"
    ));
    if opened_after > opened_before + 2 {
        return Err(fail(format!(
            "a burst of sockets after the wake: {opened_before} -> {opened_after}"
        )));
    }
    let stale_connected: Vec<String> = rec.widget(&id)[since..]
        .iter()
        .filter(|row| row.connection == "connected" && row.seq < server_seq)
        .map(scenario::describe)
        .collect();
    if !stale_connected.is_empty() {
        return Err(fail(format!(
            "showed connected with old data after the wake: {stale_connected:?}"
        )));
    }

    h.api.clear_faults().await?;
    h.end_with_final_state(&mut rec, &id, Expect { every_stage: false })
        .await
}

/// A laptop closed and opened again: the page is frozen, and meanwhile
/// the server restarts (every socket gets `server_shutdown` and close
/// 1012), so the socket's peer is gone when the page wakes. Within 10 s of
/// waking the page shows the server's state on exactly one socket.
async fn frozen_tab_across_a_server_restart(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("wake_{kind}");
    // 4 stages x 8 steps x 1 s: 32 s.
    h.api.start_scripted(&id, 1000, 8).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    h.browser.set_frozen(true).await?;
    h.say("page frozen");
    h.api.restart().await?;
    h.say("fault: restart (server_shutdown, close 1012)");
    tokio::time::sleep(Duration::from_secs(10)).await;
    let server_seq = h.api.progress(&id).await?.seq;
    h.browser.set_frozen(false).await?;
    h.say(format!(
        "page active again; the server is at seq {server_seq}"
    ));
    h.watch_until(
        &mut rec,
        "the true state on a live socket within 10 s of waking",
        TRUTH_AFTER_WAKE,
        |r| {
            r.latest(&id)
                .is_some_and(|row| row.seq >= server_seq && scenario::is_live(row))
        },
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reading = stats::read(&h.api).await?;
    let active = reading.active;
    h.say(format!("connections open after the wake: {active}"));
    if active != 1 {
        return Err(fail(format!("{active} connections open after the wake")));
    }

    h.end_with_final_state(&mut rec, &id, Expect { every_stage: false })
        .await
}

/// Only Chromium can freeze a page through its driver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_tab_across_a_server_restart_chromium() -> Result<()> {
    scenario::run(
        "frozen_tab_across_a_server_restart",
        BrowserKind::Chromium,
        frozen_tab_across_a_server_restart,
    )
    .await
}

/// Only Chromium can freeze a page through its driver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_tab_with_a_silent_socket_chromium() -> Result<()> {
    scenario::run(
        "frozen_tab_with_a_silent_socket",
        BrowserKind::Chromium,
        frozen_tab_with_a_silent_socket,
    )
    .await
}

/// Records every `pageshow`'s `persisted` in the page itself: a page
/// restored from the back/forward cache keeps its script state, a reloaded
/// one starts without this array.
const WATCH_PAGESHOW_JS: &str = r#"
window.__uprShows = [];
window.addEventListener("pageshow", (e) => window.__uprShows.push(e.persisted));
return true;
"#;

/// Leaves the page mid-job for another one and comes back with the
/// browser's own history. The page must come from the back/forward cache
/// (`pageshow.persisted`), show the job's true state within 1 s, hold
/// exactly one socket, and never show "connected" with older data.
async fn back_forward_cache(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("bfcache_{kind}");
    // 4 stages x 8 steps x 1 s: 32 s.
    h.api.start_scripted(&id, 1000, 8).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;
    h.browser.exec(WATCH_PAGESHOW_JS, vec![]).await?;
    rec.drain(&h.browser).await?;
    let since = rec.widget(&id).len();

    h.browser
        .client
        .goto(&format!("{}/embed/index.html?away", h.api.base()))
        .await?;
    h.say("navigated away");
    // The job moves on while the page sits in the cache.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let server_seq = h.api.progress(&id).await?.seq;
    h.browser.client.back().await?;
    h.say(format!("back; the server is at seq {server_seq}"));
    let shows = h.browser.exec("return window.__uprShows;", vec![]).await?;
    if shows != json!([true]) {
        return Err(fail(format!(
            "the page did not come back from the back/forward cache (pageshow.persisted: {shows})"
        )));
    }
    h.watch_until(
        &mut rec,
        "the true state within 1 s of the restore",
        Duration::from_secs(1),
        |r| r.latest(&id).is_some_and(|row| row.seq >= server_seq),
    )
    .await?;
    check_the_return(&h, &mut rec, &id, since, server_seq).await?;

    h.end_with_final_state(&mut rec, &id, Expect { every_stage: false })
        .await
}

/// After the page came back (restored or loaded anew): the widget goes
/// live, exactly one socket is open on the server once the return settled
/// (the page's only widget: its own socket, or the page's shared one; the
/// page that left must not hold another), and no row from `since` on said
/// "connected" while it showed data older than the server's `server_seq`
/// at the return.
async fn check_the_return(
    h: &Harness,
    rec: &mut Recorder,
    id: &str,
    since: usize,
    server_seq: u64,
) -> Result<()> {
    h.wait_live(rec, id, WAIT).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let reading = stats::read(&h.api).await?;
    let active = reading.active;
    h.say(format!(
        "sockets open on the server after the return: {active}"
    ));
    if active != 1 {
        return Err(fail(format!("{active} sockets open after the return")));
    }
    let stale_connected: Vec<String> = rec.widget(id)[since..]
        .iter()
        .filter(|row| row.connection == "connected" && row.seq < server_seq)
        .map(scenario::describe)
        .collect();
    if !stale_connected.is_empty() {
        return Err(fail(format!(
            "showed connected with old data after the return: {stale_connected:?}"
        )));
    }
    Ok(())
}

/// Chromium and WebKit: Firefox keeps no page with an open WebSocket in
/// its cache (see `back_to_a_page_not_kept_firefox`, the cold return).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_forward_cache_chromium() -> Result<()> {
    scenario::run(
        "back_forward_cache",
        BrowserKind::Chromium,
        back_forward_cache,
    )
    .await
}

/// The same in WebKitGTK's MiniBrowser (its page cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_forward_cache_webkit() -> Result<()> {
    scenario::run(
        "back_forward_cache",
        BrowserKind::WebKit,
        back_forward_cache,
    )
    .await
}

/// Comes back to a page the browser did not keep: it loads again from
/// nothing. The job is named in the page's address, as an app that keeps
/// it there does, so the new page declares the widget again. Within 5 s of
/// the return (module and WebAssembly loaded anew) the widget shows the
/// server's state, exactly one socket is open for the job (the old page's
/// socket went with it), and nothing says "connected" with older data.
async fn back_to_a_page_not_kept(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let id = format!("cold_back_{kind}");
    // 4 stages x 8 steps x 1 s: 32 s.
    let job = h.api.start_scripted(&id, 1000, 8).await?;
    let query = format!("?job={}&token={}", job.process_id, job.token);
    let mut rec = pages::open_embed_at(&h.browser, h.api.base(), &query).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;
    h.browser.exec(WATCH_PAGESHOW_JS, vec![]).await?;

    h.browser
        .client
        .goto(&format!("{}/embed/index.html?away", h.api.base()))
        .await?;
    h.say("navigated away");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let server_seq = h.api.progress(&id).await?.seq;
    h.browser.client.back().await?;
    h.say(format!("back; the server is at seq {server_seq}"));
    // The marker set before leaving is gone only if the page loaded anew.
    let shows = h
        .browser
        .exec(
            "return window.__uprShows === undefined ? null : window.__uprShows;",
            vec![],
        )
        .await?;
    if !shows.is_null() {
        return Err(fail(format!(
            "the page came back from the cache (pageshow.persisted: {shows}); this test is about a page loaded anew"
        )));
    }
    let mut rec = pages::attach_embed(&h.browser).await?;
    h.watch_until(
        &mut rec,
        "the true state within 5 s of the return",
        Duration::from_secs(5),
        |r| r.latest(&id).is_some_and(|row| row.seq >= server_seq),
    )
    .await?;
    check_the_return(&h, &mut rec, &id, 0, server_seq).await?;
    h.end_with_final_state(&mut rec, &id, Expect { every_stage: false })
        .await
}

/// Firefox keeps no page with an open (or closing) WebSocket in its
/// back/forward cache: closing the socket in `pagehide` or `beforeunload`
/// is too late for its decision (checked by hand with a plain page and a
/// socket to this server). Coming back is therefore always a cold start
/// there, which is the case this test needs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_to_a_page_not_kept_firefox() -> Result<()> {
    scenario::run(
        "back_to_a_page_not_kept",
        BrowserKind::Firefox,
        back_to_a_page_not_kept,
    )
    .await
}

/// The page's own record of its visibility and of how late its timers ran
/// while hidden: a 100 ms interval whose longest gap shows the browser's
/// background throttling. Added as a script element, so the interval
/// belongs to the page and not to the driver's sandbox (Firefox stops
/// timers a WebDriver script set once the script has returned).
const WATCH_TIMERS_JS: &str = r#"
const s = document.createElement("script");
s.textContent = `
  window.__uprVis = [];
  document.addEventListener("visibilitychange", () => window.__uprVis.push(document.visibilityState));
  window.__uprHiddenGapMs = 0;
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (document.visibilityState === "hidden") window.__uprHiddenGapMs = Math.max(window.__uprHiddenGapMs, now - last);
    last = now;
  }, 100);
`;
document.head.append(s);
return true;
"#;

/// A tab really in the background: another tab is opened and shown, so
/// the browser itself hides the page and throttles its timers (Firefox
/// runs a hidden page's timers about once a second). With a heartbeat of
/// 2 s and 2 s to answer, late timers must not read as a dead socket: no
/// heartbeat timeout, no stall, no new socket while hidden, and the job
/// followed to its end once the tab is shown again.
async fn background_tab(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("background_{kind}");
    // 4 stages x 8 steps x 1 s: 32 s.
    h.api.start_scripted(&id, 1000, 8).await?;
    pages::mount(
        &h.browser,
        &id,
        pages::fast_options_with(json!({ "recordEvents": true })),
    )
    .await?;
    h.wait_live(&mut rec, &id, WAIT).await?;
    h.browser.exec(WATCH_TIMERS_JS, vec![]).await?;
    let events_before = pages::session_events(&h.browser, &id).await?.len();
    let opened_before = stats::read(&h.api).await?.opened;

    let page = h.browser.client.window().await?;
    let other = h.browser.client.new_window(true).await?;
    h.browser.client.switch_to_window(other.handle).await?;
    h.browser
        .client
        .goto(&format!("{}/embed/index.html?away", h.api.base()))
        .await?;
    h.say("another tab in front");
    tokio::time::sleep(Duration::from_secs(15)).await;
    let opened_hidden = stats::read(&h.api).await?.opened;
    h.browser.client.close_window().await?;
    h.browser.client.switch_to_window(page).await?;
    h.say("the page in front again");

    let seen = h
        .browser
        .exec("return [window.__uprVis, window.__uprHiddenGapMs];", vec![])
        .await?;
    h.say(format!(
        "visibility changes and longest hidden timer gap: {seen}"
    ));
    if seen[0].get(0) != Some(&json!("hidden")) {
        return Err(fail(format!("the page was never hidden: {seen}")));
    }
    let gap = seen[1].as_f64().unwrap_or(0.0);
    if gap < 800.0 {
        return Err(fail(format!(
            "the hidden page's timers were not throttled (longest gap {gap} ms): the test shows nothing"
        )));
    }
    if opened_hidden != opened_before {
        return Err(fail(format!(
            "{} sockets opened while the tab was in the background",
            opened_hidden - opened_before
        )));
    }
    let events = pages::session_events(&h.browser, &id).await?;
    let alarms: Vec<&serde_json::Value> = events[events_before..]
        .iter()
        .filter(|e| {
            matches!(
                e["type"].as_str(),
                Some("heartbeat_timeout" | "stall_suspected" | "socket_closed" | "attempt_opened")
            )
        })
        .collect();
    if !alarms.is_empty() {
        return Err(fail(format!(
            "late timers read as a dead socket while hidden: {alarms:?}"
        )));
    }
    h.end_with_final_state(&mut rec, &id, Expect { every_stage: false })
        .await
}

/// Firefox throttles a background tab's timers under WebDriver (Chromium
/// here runs with background timer throttling off for the other tests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_tab_firefox() -> Result<()> {
    scenario::run("background_tab", BrowserKind::Firefox, background_tab).await
}
