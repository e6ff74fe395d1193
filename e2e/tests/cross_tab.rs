//! Windows of the embed page follow jobs through one progress connection
//! in all: the first window to ask holds the Web Lock and the page socket
//! (or, when the server refuses it, the event stream or the set poll), the
//! others get its frames over the broadcast channel. Closing that window,
//! freezing it (in Chromium) or keeping its page too busy to run anything
//! hands the connection over to another within 5 s, and every widget
//! reaches its job's true final state
//! with no step back and, in the windows that kept running, no update gap
//! over 5 s.

use std::time::Duration;

use fantoccini::wd::WindowHandle;
use serde_json::json;
use tokio::time::Instant;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::{check_history, Expect};
use upload_progress_e2e::recorder::{read_all, Recorder};
use upload_progress_e2e::scenario::{self, Harness};
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

const WAIT: Duration = Duration::from_secs(20);
/// The longest a handover may take, and the longest gap between updates.
const HANDOVER: Duration = Duration::from_secs(5);

/// One window: its handle, its recorder and the jobs its widgets follow.
struct Tab {
    handle: WindowHandle,
    rec: Recorder,
    jobs: Vec<String>,
}

/// Starts a job followed by every window and one job per window, 4 stages
/// x 12 steps x 500 ms = 24 s: long enough to open the windows, hand over
/// and watch the others go on. Opens `windows` windows of the embed page,
/// each with a shared widget for both its jobs, and waits until all are
/// connected in `mode` (`websocket`, `sse`, `http_polling`).
async fn open_windows(h: &Harness, windows: usize, shared: &str, mode: &str) -> Result<Vec<Tab>> {
    let mut tokens = vec![(
        shared.to_owned(),
        h.api.start_scripted(shared, 500, 12).await?.token,
    )];
    for i in 0..windows {
        let id = format!("{shared}_{i}");
        tokens.push((id.clone(), h.api.start_scripted(&id, 500, 12).await?.token));
    }
    let mut tabs = Vec::new();
    for i in 0..windows {
        if i > 0 {
            let window = h.browser.client.new_window(false).await?;
            h.browser.client.switch_to_window(window.handle).await?;
        }
        let handle = h.browser.client.window().await?;
        let rec = pages::open_embed(&h.browser, h.api.base()).await?;
        let jobs = vec![shared.to_owned(), format!("{shared}_{i}")];
        for id in &jobs {
            let token = tokens.iter().find(|(j, _)| j == id).map(|(_, t)| t.clone());
            let mut options = json!({ "shared": true, "token": token });
            if mode != "websocket" {
                // Two refused attempts per rung, not the default five,
                // before the next one down: live within the job's first
                // stage. Polling then asks once a second.
                options = pages::fast_options_with(options);
            }
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
        let jobs = tab.jobs.clone();
        // A live set poll says `polling`, a live stream `connected`.
        let live = if mode == "http_polling" {
            "polling"
        } else {
            "connected"
        };
        let what = format!("window {i}: every widget {live} ({mode})");
        h.watch_until(&mut tab.rec, &what, WAIT, |r| {
            jobs.iter().all(|id| {
                r.latest(id)
                    .is_some_and(|row| row.mode == mode && row.connection == live)
            })
        })
        .await?;
    }
    Ok(tabs)
}

/// Checks that the server holds one progress connection for every window
/// (sampled for 3 s); returns its count of connections opened so far.
async fn one_connection(h: &Harness, windows: usize) -> Result<u64> {
    let monitor = stats::Monitor::start(&h.api);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let peaks = monitor.stop();
    let reading = stats::read(&h.api).await?;
    h.say(format!(
        "{windows} windows: {} connection(s) open, at most {} over {} samples",
        reading.active, peaks.max_active, peaks.samples
    ));
    if peaks.samples == 0 || peaks.max_active != 1 || reading.active != 1 {
        return Err(fail(format!(
            "{windows} windows should share one progress connection: {} open, at most {}",
            reading.active, peaks.max_active
        )));
    }
    Ok(reading.opened)
}

/// After the leader went away at `gone_at`: how long until a new
/// connection reached the server, and until `follower` showed a frame of
/// the shared job newer than `seq`. Fails past 5 s.
async fn handover(
    h: &Harness,
    gone_at: Instant,
    opened: u64,
    follower: &Tab,
    shared: &str,
    seq: u64,
) -> Result<()> {
    let connected = wait::until("a new progress connection", WAIT, || async {
        let r = stats::read(&h.api).await?;
        Ok((r.opened > opened && r.active >= 1).then_some(()))
    })
    .await;
    let to_connection = gone_at.elapsed();
    connected?;
    h.browser
        .client
        .switch_to_window(follower.handle.clone())
        .await?;
    let frame = wait::until("the next frame of the shared job", WAIT, || async {
        let rows = read_all(&h.browser).await?;
        Ok(rows
            .iter()
            .any(|r| r.key == shared && r.seq > seq)
            .then_some(()))
    })
    .await;
    let to_frame = gone_at.elapsed();
    frame?;
    h.say(format!(
        "handover: new connection {} ms, next frame shown {} ms after the leader went",
        to_connection.as_millis(),
        to_frame.as_millis()
    ));
    println!(
        "HANDOVER [{}] connection_ms={} frame_ms={}",
        h.kind,
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
    Ok(())
}

/// Every widget of `tabs` ends on its job's final state, never goes back,
/// never shows its connection idle, and (unless its window was `paused`)
/// never waits more than 5 s for an update; the server meanwhile holds
/// one progress connection at most.
async fn to_the_end(h: &Harness, tabs: &mut [Tab], paused: Option<usize>) -> Result<()> {
    let monitor = stats::Monitor::start(&h.api);
    for (i, tab) in tabs.iter_mut().enumerate() {
        h.browser
            .client
            .switch_to_window(tab.handle.clone())
            .await?;
        for id in tab.jobs.clone() {
            let what = format!("window {i} {id} final");
            h.watch_until(&mut tab.rec, &what, Duration::from_secs(40), |r| {
                r.latest(&id).is_some_and(|row| row.state == "completed")
            })
            .await?;
            let truth = h.api.progress(&id).await?;
            let rows = tab.rec.widget(&id);
            let summary = check_history(
                rows,
                &truth,
                Expect {
                    every_stage: paused.is_none(),
                },
            )?;
            let longest = rows
                .windows(2)
                .filter(|w| w[0].state != "completed")
                .map(|w| w[1].at_ms.saturating_sub(w[0].at_ms))
                .max()
                .unwrap_or(0);
            h.say(format!(
                "window {i} {id}: {summary}; longest gap {longest} ms"
            ));
            // A leader's paused connection is not its followers': they say
            // "reconnecting" until the next leader delivers.
            // (A frozen window's own connection is paused: that one may.)
            if paused != Some(i) && summary.connections.iter().any(|c| c == "idle") {
                return Err(fail(format!(
                    "window {i} {id} showed its connection idle: {summary}"
                )));
            }
            if paused != Some(i) && longest > HANDOVER.as_millis() as u64 {
                return Err(fail(format!(
                    "window {i} {id}: {longest} ms without an update"
                )));
            }
        }
    }
    let peaks = monitor.stop();
    if peaks.max_active > 1 {
        return Err(fail(format!(
            "{} progress connections open at once after the handover",
            peaks.max_active
        )));
    }
    Ok(())
}

/// Windows sharing one connection over the page socket, for a scenario
/// about its leader.
struct Sharing {
    /// The job every window follows.
    shared: String,
    tabs: Vec<Tab>,
    /// Connections the server opened so far.
    opened: u64,
    /// The shared job's seq when the leader is acted on.
    seq: u64,
}

/// Opens `windows` windows sharing one connection (checked) and switches
/// the driver to the first, which leads: it asked for the lock first.
async fn at_the_leader(h: &Harness, windows: usize, name: &str) -> Result<Sharing> {
    let shared = format!("{name}_{}", h.kind);
    let tabs = open_windows(h, windows, &shared, "websocket").await?;
    let opened = one_connection(h, windows).await?;
    let seq = h.api.progress(&shared).await?.seq;
    h.browser
        .client
        .switch_to_window(tabs[0].handle.clone())
        .await?;
    Ok(Sharing {
        shared,
        tabs,
        opened,
        seq,
    })
}

/// Three windows; the first (the leader) is closed.
async fn three_tabs_share_one_connection(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut s = at_the_leader(&h, 3, "tabs").await?;
    h.browser.client.close_window().await?;
    let closed_at = Instant::now();
    s.tabs.remove(0);
    handover(&h, closed_at, s.opened, &s.tabs[0], &s.shared, s.seq).await?;
    to_the_end(&h, &mut s.tabs, None).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(three_tabs_share_one_connection => three_tabs_share_one_connection_chromium, three_tabs_share_one_connection_firefox, three_tabs_share_one_connection_webkit);

/// Two windows; the leader is frozen (Chromium's `freeze`): it lets the
/// lock go and closes its connection, the other window takes over, and
/// once thawed the first window follows the new leader to the end.
async fn frozen_leader_hands_over(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut s = at_the_leader(&h, 2, "frozen").await?;
    // The freeze event runs before DevTools answers: the clock starts first.
    let frozen_at = Instant::now();
    h.browser.set_frozen(true).await?;
    h.say("window 0 (the leader) frozen");
    handover(&h, frozen_at, s.opened, &s.tabs[1], &s.shared, s.seq).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let reading = stats::read(&h.api).await?;
    if reading.active != 1 {
        return Err(fail(format!(
            "{} progress connections open while the old leader is frozen (one expected)",
            reading.active
        )));
    }
    h.browser
        .client
        .switch_to_window(s.tabs[0].handle.clone())
        .await?;
    h.browser.set_frozen(false).await?;
    h.say("window 0 thawed: it follows the new leader");
    to_the_end(&h, &mut s.tabs, Some(0)).await?;
    h.finish().await;
    Ok(())
}

/// Only Chromium can freeze a page through its driver.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frozen_leader_hands_over_chromium() -> Result<()> {
    scenario::run(
        "frozen_leader_hands_over",
        BrowserKind::Chromium,
        frozen_leader_hands_over,
    )
    .await
}

/// Two windows with every WebSocket upgrade refused: the leader's
/// connection is an event stream, whose frames the other window gets,
/// and both windows say so (`data-mode="sse"`) over one connection.
async fn two_tabs_share_the_event_stream(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    h.api.refuse_upgrades(120_000).await?;
    let shared = format!("sse_tabs_{kind}");
    let mut tabs = open_windows(&h, 2, &shared, "sse").await?;
    one_connection(&h, 2).await?;
    to_the_end(&h, &mut tabs, None).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(two_tabs_share_the_event_stream => two_tabs_share_the_event_stream_chromium, two_tabs_share_the_event_stream_firefox);

/// How long the leader's page is kept busy: past the steal (3 to 3.5 s of
/// silence) and the handover (5 s), with room to watch the new leader.
const BUSY: Duration = Duration::from_secs(8);
/// When the busy loop starts after the script that schedules it returns.
const BUSY_AFTER: Duration = Duration::from_millis(300);

/// Two windows; the leader's page stops running without telling anyone
/// (its main thread busy, as a tab frozen hard or hung): no `freeze`, no
/// `pagehide`, the lock still held and the socket still open. The other
/// window hears no heartbeat, steals the lock and connects within 5 s;
/// once the busy window runs again it finds its lock gone and follows the
/// new leader, and every widget ends on its job's true final state.
async fn busy_leader_is_replaced(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut s = at_the_leader(&h, 2, "busy").await?;
    // Started a little later than this script, so the driver's answer
    // leaves the page before the page stops answering anything.
    h.browser
        .exec(
            "const [ms, after] = arguments; setTimeout(() => { const end = Date.now() + ms; \
             while (Date.now() < end) {} }, after); return true;",
            vec![
                json!(BUSY.as_millis() as u64),
                json!(BUSY_AFTER.as_millis() as u64),
            ],
        )
        .await?;
    tokio::time::sleep(BUSY_AFTER).await;
    let busy_at = Instant::now();
    h.say("window 0 (the leader) is busy");
    handover(&h, busy_at, s.opened, &s.tabs[1], &s.shared, s.seq).await?;
    tokio::time::sleep(BUSY.saturating_sub(busy_at.elapsed()) + Duration::from_secs(1)).await;
    // The old leader's socket goes once its page runs again and learns it
    // lost the lock.
    wait::until("the busy window's connection to close", WAIT, || async {
        Ok((stats::read(&h.api).await?.active == 1).then_some(()))
    })
    .await?;
    h.say("window 0 runs again: it follows the new leader");
    to_the_end(&h, &mut s.tabs, Some(0)).await?;
    h.finish().await;
    Ok(())
}

/// The set poll's interval in `pages::fast_options`.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// How long the set polls reaching the server are counted.
const POLL_WINDOW: Duration = Duration::from_secs(8);

/// Counts the set polls the server sees over [`POLL_WINDOW`] and checks
/// that one tab polls, not every tab.
///
/// A poller sends its next poll one interval after the last one was
/// answered, so over a window of `w` it sends at most `w / interval + 1`
/// polls (one at each edge); 8 s at 1 s gives at most 9. Two tabs each
/// polling would give about twice `w / interval`, some 16. One more than
/// the single poller's most is allowed for the stats reads' own latency:
/// 10 passes, the 16 of two pollers cannot. At least two polls must
/// arrive, so the count is not trivially low because nothing polls.
async fn one_poller(h: &Harness) -> Result<()> {
    let before = stats::read(&h.api).await?.page_polls;
    let started = Instant::now();
    tokio::time::sleep(POLL_WINDOW).await;
    let after = stats::read(&h.api).await?.page_polls;
    let window_ms = started.elapsed().as_millis() as u64;
    let polls = after.saturating_sub(before);
    let interval_ms = POLL_INTERVAL.as_millis() as u64;
    let one_poller = window_ms / interval_ms + 1;
    let most = one_poller + 1;
    h.say(format!(
        "{polls} set polls in {window_ms} ms (one poller: at most {one_poller}, two: about {})",
        2 * (window_ms / interval_ms)
    ));
    println!(
        "SET_POLLS [{}] polls={polls} window_ms={window_ms} one_poller_max={one_poller} allowed={most}",
        h.kind
    );
    if polls > most {
        return Err(fail(format!(
            "{polls} set polls in {window_ms} ms: more than one tab polls (one would send at most {one_poller})"
        )));
    }
    if polls < 2 {
        return Err(fail(format!(
            "{polls} set polls in {window_ms} ms: the tabs are not polling"
        )));
    }
    Ok(())
}

/// Two windows with every WebSocket upgrade and every event stream
/// refused: the leader's connection steps down to the set poll, whose
/// answers the other window gets whole. Both windows say `http_polling`,
/// the server sees one tab's polls, not two, and every widget goes through
/// every stage to its final state with no gap over 5 s.
async fn two_tabs_share_the_set_poll(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    h.api.refuse_upgrades(120_000).await?;
    h.api.refuse_streams(120_000).await?;
    let shared = format!("poll_tabs_{kind}");
    let mut tabs = open_windows(&h, 2, &shared, "http_polling").await?;
    one_poller(&h).await?;
    to_the_end(&h, &mut tabs, None).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(busy_leader_is_replaced => busy_leader_is_replaced_chromium, busy_leader_is_replaced_firefox);
browser_tests!(two_tabs_share_the_set_poll => two_tabs_share_the_set_poll_chromium, two_tabs_share_the_set_poll_firefox);
