//! One job, many faults: sockets dropped three times, upgrades and event
//! streams refused until the widget falls back to polling and then
//! accepted again (it must climb back to the socket), a stalled half-open socket (only the
//! heartbeat can tell), and a restart-like close 1012. The widget must end
//! on the server's final state having shown every stage in order.

use std::time::Duration;

use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

const WAIT: Duration = Duration::from_secs(20);

async fn fault_schedule(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let monitor = stats::Monitor::start(&h.api);
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("faults_{kind}");
    // 4 stages x 5 steps x 1.6 s: about 32 s, 8 s per stage.
    h.api.start_scripted(&id, 1600, 5).await?;
    pages::mount(&h.browser, &id, pages::fast_options()).await?;
    h.wait_live(&mut rec, &id, WAIT).await?;

    for round in 1..=3 {
        let since = rec.widget(&id).len();
        h.api.drop_sockets().await?;
        h.say(format!("fault: drop_sockets #{round}"));
        h.wait_relive(&mut rec, &id, since, WAIT).await?;
    }

    // Refused upgrades and event streams: retries fail down the ladder
    // until the widget polls; once both are accepted again probes must
    // bring it back to the socket.
    h.api.refuse_live(7000).await?;
    h.api.drop_sockets().await?;
    h.say("fault: refuse_upgrades + refuse_streams 7 s, drop_sockets");
    h.watch_until(&mut rec, "fallback to HTTP polling", WAIT, |r| {
        r.latest(&id).is_some_and(|row| row.mode == "http_polling")
    })
    .await?;
    let polling_seq = rec.latest(&id).map(|r| r.seq).unwrap_or(0);
    h.watch_until(&mut rec, "progress arriving by polling", WAIT, |r| {
        r.latest(&id)
            .is_some_and(|row| row.mode == "http_polling" && row.seq > polling_seq)
    })
    .await?;
    h.wait_live(&mut rec, &id, Duration::from_secs(30)).await?;

    // A stalled socket stays open but says nothing, pongs included.
    let since = rec.widget(&id).len();
    h.api.stall_sockets(6000).await?;
    h.say("fault: stall_sockets 6 s");
    h.wait_relive(&mut rec, &id, since, Duration::from_secs(30))
        .await?;

    let since = rec.widget(&id).len();
    h.api.restart().await?;
    h.say("fault: restart (server_shutdown, close 1012)");
    h.wait_relive(&mut rec, &id, since, WAIT).await?;

    let before_end = h.api.progress(&id).await?;
    if before_end.is_terminal() {
        return Err(fail(
            "the job ended before the fault schedule did; the schedule proved less than it should",
        ));
    }
    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    let summary = h
        .verify(&mut rec, &id, &id, Expect { every_stage: true })
        .await?;
    if summary.climbs_to_socket() < 1 {
        return Err(fail(format!(
            "the widget never climbed back from polling to the socket: {summary}"
        )));
    }
    let peaks = monitor.stop();
    h.say(format!("server peaks: {peaks:?}"));
    // One widget: one socket at a time, except that the server may still
    // hold a stalled socket the page already gave up on.
    if peaks.max_active > 2 {
        return Err(fail(format!("sockets piled up for one widget: {peaks:?}")));
    }
    pages::unmount_all(&h.browser).await?;
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(fault_schedule => fault_schedule_chromium, fault_schedule_firefox, fault_schedule_webkit);
