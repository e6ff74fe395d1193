//! Three windows of the embed page follow jobs through one progress
//! connection in all: the first window to ask holds the Web Lock and the
//! page socket, the others get its frames over the broadcast channel.
//! Closing that window hands the connection over to another within 5 s,
//! and every widget left reaches its job's true final state with no step
//! back and no update gap over 5 s.

use std::time::Duration;

use fantoccini::wd::WindowHandle;
use serde_json::json;
use tokio::time::Instant;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::{check_history, Expect};
use upload_progress_e2e::recorder::{read_all, Recorder};
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

const WAIT: Duration = Duration::from_secs(20);
/// The longest a handover may take, and the longest gap between updates.
const HANDOVER: Duration = Duration::from_secs(5);
const TABS: usize = 3;

/// One window: its handle, its recorder and the jobs its widgets follow.
struct Tab {
    handle: WindowHandle,
    rec: Recorder,
    jobs: Vec<String>,
}

async fn three_tabs_share_one_connection(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    // Every window follows the shared job and one of its own: 4 stages x
    // 12 steps x 500 ms = 24 s, long enough to open the windows, close the
    // leader and watch the others go on.
    let shared = format!("shared_{kind}");
    let mut tokens = vec![(
        shared.clone(),
        h.api.start_scripted(&shared, 500, 12).await?.token,
    )];
    for i in 0..TABS {
        let id = format!("tab{i}_{kind}");
        let token = h.api.start_scripted(&id, 500, 12).await?.token;
        tokens.push((id, token));
    }
    let token_of = |id: &str| {
        tokens
            .iter()
            .find(|(j, _)| j == id)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };

    let mut tabs = Vec::new();
    for i in 0..TABS {
        if i > 0 {
            let window = h.browser.client.new_window(false).await?;
            h.browser.client.switch_to_window(window.handle).await?;
        }
        let handle = h.browser.client.window().await?;
        let rec = pages::open_embed(&h.browser, h.api.base()).await?;
        let jobs = vec![shared.clone(), format!("tab{i}_{kind}")];
        for id in &jobs {
            let options = json!({ "shared": true, "token": token_of(id) });
            pages::mount(&h.browser, id, options).await?;
        }
        tabs.push(Tab { handle, rec, jobs });
        h.say(format!("window {i} follows {:?}", tabs[i].jobs));
    }
    for (i, tab) in tabs.iter_mut().enumerate() {
        h.browser
            .client
            .switch_to_window(tab.handle.clone())
            .await?;
        for id in tab.jobs.clone() {
            h.wait_live(&mut tab.rec, &id, WAIT).await?;
        }
        h.say(format!("window {i}: every widget live"));
    }

    // Steady state: one progress connection for the three windows.
    let monitor = stats::Monitor::start(&h.api);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = monitor.peaks();
    let reading = stats::read(&h.api).await?;
    h.say(format!(
        "3 windows: {} connection(s) open, at most {} over {} samples",
        reading.active, before.max_active, before.samples
    ));
    if before.samples == 0 || before.max_active != 1 || reading.active != 1 {
        return Err(fail(format!(
            "three windows should share one progress connection: {} open, at most {}",
            reading.active, before.max_active
        )));
    }
    monitor.stop();

    // Close the first window: it asked for the lock first, so it leads.
    let opened = reading.opened;
    let seq_at_close = h.api.progress(&shared).await?.seq;
    h.browser
        .client
        .switch_to_window(tabs[0].handle.clone())
        .await?;
    h.browser.client.close_window().await?;
    let closed_at = Instant::now();
    tabs.remove(0);
    let connected = wait::until("a new progress connection", WAIT, || async {
        let r = stats::read(&h.api).await?;
        Ok((r.opened > opened && r.active >= 1).then_some(()))
    })
    .await;
    let to_connection = closed_at.elapsed();
    connected?;
    h.browser
        .client
        .switch_to_window(tabs[0].handle.clone())
        .await?;
    let frame = wait::until("the next frame of the shared job", WAIT, || async {
        let rows = read_all(&h.browser).await?;
        Ok(rows
            .iter()
            .any(|r| r.key == shared && r.seq > seq_at_close)
            .then_some(()))
    })
    .await;
    let to_frame = closed_at.elapsed();
    frame?;
    h.say(format!(
        "handover: new connection {} ms, next frame shown {} ms after the leader closed",
        to_connection.as_millis(),
        to_frame.as_millis()
    ));
    println!(
        "HANDOVER [{kind}] connection_ms={} frame_ms={}",
        to_connection.as_millis(),
        to_frame.as_millis()
    );
    if to_connection > HANDOVER || to_frame > HANDOVER {
        return Err(fail(format!(
            "handover took {} ms to a new connection, {} ms to the next frame (at most {} ms)",
            to_connection.as_millis(),
            to_frame.as_millis(),
            HANDOVER.as_millis()
        )));
    }

    // The two windows left go on over one connection to the end.
    let monitor = stats::Monitor::start(&h.api);
    for (i, tab) in tabs.iter_mut().enumerate() {
        h.browser
            .client
            .switch_to_window(tab.handle.clone())
            .await?;
        for id in tab.jobs.clone() {
            let deadline = Duration::from_secs(40);
            h.watch_until(
                &mut tab.rec,
                &format!("window {} {id} final", i + 1),
                deadline,
                |r| r.latest(&id).is_some_and(|row| row.state == "completed"),
            )
            .await?;
            let truth = h.api.progress(&id).await?;
            let rows = tab.rec.widget(&id);
            let summary = check_history(rows, &truth, Expect { every_stage: true })?;
            let longest = rows
                .windows(2)
                .filter(|w| w[0].state != "completed")
                .map(|w| w[1].at_ms.saturating_sub(w[0].at_ms))
                .max()
                .unwrap_or(0);
            h.say(format!(
                "window {} {id}: {summary}; longest gap {longest} ms",
                i + 1
            ));
            // The closing leader's paused connection is not theirs: the
            // widget says "reconnecting" until the next leader delivers.
            if summary.connections.iter().any(|c| c == "idle") {
                return Err(fail(format!(
                    "window {} {id} showed its connection idle: {summary}",
                    i + 1
                )));
            }
            if longest > HANDOVER.as_millis() as u64 {
                return Err(fail(format!(
                    "window {} {id}: {longest} ms without an update",
                    i + 1
                )));
            }
        }
    }
    let after = monitor.stop();
    if after.max_active > 1 {
        return Err(fail(format!(
            "{} progress connections open at once after the handover",
            after.max_active
        )));
    }
    h.finish().await;
    Ok(())
}

browser_tests!(three_tabs_share_one_connection => three_tabs_share_one_connection_chromium, three_tabs_share_one_connection_firefox);
