//! The browser's side of the network: offline and back, a hidden tab shown
//! again, and HTTP polling answered with 503 for a while.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

/// How long the set polls answer 503 in `polling_503`.
const POLL_ERRORS: Duration = Duration::from_secs(4);
const WAIT: Duration = Duration::from_secs(20);

/// Dispatches a synthetic `offline` or `online` event on the window.
const DISPATCH_JS: &str = "window.dispatchEvent(new Event(arguments[0])); return true;";

/// Waits until the server's job moved `steps` sequence numbers past what
/// the widget shows: the outage lasted while the job went on.
async fn wait_server_ahead(
    h: &Harness,
    rec: &mut upload_progress_e2e::recorder::Recorder,
    id: &str,
    steps: u64,
) -> Result<()> {
    rec.drain(&h.browser).await?;
    let shown = rec.latest(id).map(|r| r.seq).unwrap_or(0);
    upload_progress_e2e::wait::until("the job to move on during the outage", WAIT, || async {
        let server = h.api.progress(id).await?;
        Ok((server.seq >= shown + steps).then_some(()))
    })
    .await?;
    h.say(format!("server moved {steps} steps past seq {shown}"));
    Ok(())
}

async fn offline_and_back(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("offline_{kind}");
    // 4 stages x 5 steps x 1.5 s: about 30 s, 7.5 s per stage.
    h.api.start_scripted(&id, 1500, 5).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    let method = h.browser.set_offline(true).await;
    let emulated = match &method {
        Ok(m) => {
            h.say(format!("browser offline via {m:?}"));
            let online = h.browser.page_online().await?;
            if online {
                return Err(fail("navigator.onLine still true while offline"));
            }
            true
        }
        Err(e) => {
            // Substitute: the page hears `offline`, and the server cuts
            // every socket and refuses new ones until the page is back.
            h.say(format!(
                "NOTE {kind}: no offline emulation through WebDriver ({e}); substitute: \
                 synthetic offline/online events plus server-side drop_sockets \
                 and refuse_upgrades"
            ));
            h.api.refuse_upgrades(60_000).await?;
            h.browser.exec(DISPATCH_JS, vec![json!("offline")]).await?;
            false
        }
    };
    // An open socket survives the switch in both browsers (and the widget
    // rightly keeps using it); the outage shows once that socket breaks.
    h.api.drop_sockets().await?;
    h.say("fault: drop_sockets while offline");
    h.watch_until(&mut rec, "the widget to show offline", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.connection == "offline")
    })
    .await?;
    let at_offline = stats::read(&h.api).await?;
    wait_server_ahead(&h, &mut rec, &id, 2).await?;
    // While offline the widget must not hammer the network.
    let still = stats::read(&h.api).await?;
    // The page's only widget: the server's connections and set polls are
    // its own.
    let (a, b) = (
        (at_offline.opened, at_offline.page_polls),
        (still.opened, still.page_polls),
    );
    h.say(format!(
        "while offline (connections opened, set polls): {a:?} -> {b:?}"
    ));
    if a != b {
        return Err(fail(format!(
            "requests reached the server while offline: {a:?} -> {b:?}"
        )));
    }
    let since = rec.widget(&id).len();
    if emulated {
        h.browser.set_offline(false).await?;
    } else {
        h.api.clear_faults().await?;
        h.browser.exec(DISPATCH_JS, vec![json!("online")]).await?;
    }
    h.say("browser back online");
    h.watch_until(
        &mut rec,
        "the widget to catch up after coming online",
        WAIT,
        |r| {
            r.widget(&id)
                .get(since..)
                .is_some_and(|rows| rows.iter().any(|row| row.connection != "offline"))
                && r.latest(&id)
                    .is_some_and(upload_progress_e2e::scenario::is_live)
        },
    )
    .await?;

    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, &id, &id, Expect { every_stage: true })
        .await?;
    pages::unmount_all(&h.browser).await?;
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

async fn hidden_tab(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("hidden_{kind}");
    // About 24 s, 6 s per stage.
    h.api.start_scripted(&id, 1200, 5).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    h.browser.set_hidden(true).await?;
    h.say("tab hidden");
    // While hidden, the socket breaks: the widget must still recover and
    // keep following (hidden tabs throttle timers).
    let since = rec.widget(&id).len();
    h.api.drop_sockets().await?;
    h.wait_relive(&mut rec, &id, since, WAIT).await?;
    let hidden_seq = rec.latest(&id).map(|r| r.seq).unwrap_or(0);
    h.watch_until(&mut rec, "updates while hidden", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.seq >= hidden_seq + 2)
    })
    .await?;

    // Break it again and refuse upgrades, then show the tab: it must come
    // back to a live socket.
    let since = rec.widget(&id).len();
    h.api.refuse_upgrades(2000).await?;
    h.api.drop_sockets().await?;
    h.watch_until(
        &mut rec,
        "the hidden widget to lose the socket",
        WAIT,
        |r| {
            r.widget(&id)
                .get(since..)
                .is_some_and(|rows| rows.iter().any(|row| row.connection != "connected"))
        },
    )
    .await?;
    h.browser.set_hidden(false).await?;
    h.say("tab visible");
    h.wait_relive(&mut rec, &id, since, Duration::from_secs(30))
        .await?;

    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, &id, &id, Expect { every_stage: true })
        .await?;
    pages::unmount_all(&h.browser).await?;
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

async fn polling_503(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("poll503_{kind}");
    // About 30 s, 7.5 s per stage.
    h.api.start_scripted(&id, 1500, 5).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    // Force polling: no socket and no event stream for a good while.
    h.api.refuse_live(60_000).await?;
    h.api.drop_sockets().await?;
    h.say("fault: refuse_upgrades + refuse_streams 60 s, drop_sockets");
    h.watch_until(&mut rec, "fallback to HTTP polling", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.mode == "http_polling")
    })
    .await?;
    // The page's only widget: the server's set polls are its polls.
    let polls_before = stats::read(&h.api).await?.page_polls;
    h.api.poll_errors(POLL_ERRORS.as_millis() as u64).await?;
    h.say("fault: poll_errors 4 s");
    // The polls keep coming (and failing) while the fault lasts: at the
    // 1 s interval, two more well inside its 4 s.
    upload_progress_e2e::wait::until(
        "two set polls while polls fail",
        POLL_ERRORS - Duration::from_millis(500),
        || async {
            let polls = stats::read(&h.api).await?.page_polls;
            Ok((polls >= polls_before + 2).then_some(()))
        },
    )
    .await
    .map_err(|e| {
        fail(format!(
            "the widget stopped polling while polls failed: {e}"
        ))
    })?;
    wait_server_ahead(&h, &mut rec, &id, 2).await?;
    let server_seq = h.api.progress(&id).await?.seq;
    h.watch_until(&mut rec, "polling to catch up after the 503s", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.seq >= server_seq)
    })
    .await?;
    h.api.clear_faults().await?;
    h.say("faults cleared");
    h.wait_live(&mut rec, &id, Duration::from_secs(30)).await?;

    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    let summary = h
        .verify(&mut rec, &id, &id, Expect { every_stage: true })
        .await?;
    if summary.climbs_to_socket() < 1 {
        return Err(fail(format!("never back on the socket: {summary}")));
    }
    pages::unmount_all(&h.browser).await?;
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(offline_and_back => offline_and_back_chromium, offline_and_back_firefox, offline_and_back_webkit);
browser_tests!(hidden_tab => hidden_tab_chromium, hidden_tab_firefox, hidden_tab_webkit);
browser_tests!(polling_503 => polling_503_chromium, polling_503_firefox, polling_503_webkit);

/// Offline, the Reconnect button is there, and pressing it tries at once:
/// a socket attempt starts right away, the widget still says "offline",
/// and the failed attempt is no backoff step. Back online, it goes live.
async fn reconnect_while_offline(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("offline_reconnect_{kind}");
    // 4 stages x 5 steps x 1.5 s: about 30 s.
    h.api.start_scripted(&id, 1500, 5).await?;
    let options = pages::fast_options_with(json!({ "recordEvents": true }));
    pages::mount(&h.browser, &id, options).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    let method = h.browser.set_offline(true).await?;
    h.say(format!("browser offline via {method:?}"));
    h.api.drop_sockets().await?;
    h.watch_until(&mut rec, "the widget to show offline", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.connection == "offline")
    })
    .await?;
    let button = h
        .browser
        .client
        .find(Locator::Css(&format!(
            "[data-e2e-job=\"{id}\"] button.upr__reconnect"
        )))
        .await
        .map_err(|e| fail(format!("no Reconnect button while offline: {e}")))?;
    if !button.is_displayed().await? {
        return Err(fail("the Reconnect button is not visible while offline"));
    }
    let before = pages::session_events(&h.browser, &id).await?.len();
    let since = rec.widget(&id).len();
    button.click().await?;
    h.say("pressed Reconnect");
    let attempted = upload_progress_e2e::wait::until(
        "a socket attempt right after the press",
        Duration::from_secs(1),
        || async {
            let events = pages::session_events(&h.browser, &id).await?;
            Ok(events[before..]
                .iter()
                .any(|e| e["type"] == "attempt_opened")
                .then_some(events))
        },
    )
    .await?;
    // Let the attempt fail, then look at what the page said meanwhile.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rec.drain(&h.browser).await?;
    let events = pages::session_events(&h.browser, &id).await?;
    if let Some(step) = events[before..]
        .iter()
        .find(|e| e["type"] == "backoff_chosen")
    {
        return Err(fail(format!(
            "the offline attempt counted as a backoff step: {step}"
        )));
    }
    let said: Vec<&str> = rec.widget(&id)[since..]
        .iter()
        .map(|row| row.connection.as_str())
        .collect();
    if rec.latest(&id).map(|row| row.connection.as_str()) != Some("offline")
        || said.contains(&"connected")
    {
        return Err(fail(format!("after the press the widget said {said:?}")));
    }
    h.say(format!(
        "attempt made ({} new events), widget still offline",
        attempted.len() - before
    ));

    h.browser.set_offline(false).await?;
    h.say("browser back online");
    h.wait_live(&mut rec, &id, WAIT).await?;
    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, &id, &id, Expect { every_stage: false })
        .await?;
    pages::unmount_all(&h.browser).await?;
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

// Not in WebKit: its driver cannot take the browser offline, and a
// synthetic `offline` event would not make the attempt fail.
browser_tests!(reconnect_while_offline => reconnect_while_offline_chromium, reconnect_while_offline_firefox);
