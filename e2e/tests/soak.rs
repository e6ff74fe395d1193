//! Soak: one embed page with 20 widgets following 20 jobs through the
//! page's shared connection while a seeded random schedule injects a fault
//! every 2-5 s (dropped sockets, refused upgrades and event streams,
//! stalls, restarts, polling errors; every kind once per round of five)
//! for `UPR_SOAK_SECS` seconds (default 45). Every widget must end on its
//! job's final state with a history that never went back; the server must
//! never hold more sockets than there are widgets (except for half-open
//! sockets during a stall); after unmounting, nothing may stay connected
//! or keep asking. A second phase unmounts 20 widgets in the middle of
//! their jobs, while they poll and probe, and checks the same.
//!
//! Shared, as the embed's widgets are by default: 20 connections of their
//! own would hold 20 event streams to one host over HTTP/1.1, past the 6 a
//! browser opens per host (Firefox then cannot even start a WebSocket
//! handshake to climb back), which is what the shared connection avoids.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::json;
use tokio::time::Instant;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::{is_live, Harness};
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

const WIDGETS: usize = 20;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// Session options for the soak: quick to recover, still realistic.
fn soak_options() -> serde_json::Value {
    json!({
        "shared": true,
        "maxRetries": 3,
        "initialRetryMs": 500,
        "maxRetryMs": 4000,
        "pollIntervalMs": 1500,
        "probeIntervalMs": 5000,
        "heartbeatIntervalMs": 3000,
        "pongTimeoutMs": 3000,
        "connectTimeoutMs": 4000,
    })
}

/// After a stall ends the server needs a moment to read the close frames
/// the page sent meanwhile.
const STALL_GRACE: Duration = Duration::from_secs(2);

/// Injects the next fault: the kinds come in seeded random order, each
/// kind once per round of five, so every kind shows up in any soak; the
/// durations are random too. Returns the fault's name and, for a stall,
/// how long it lasts.
async fn random_fault(
    h: &Harness,
    rng: &mut StdRng,
    bag: &mut Vec<u32>,
) -> Result<(&'static str, Option<Duration>)> {
    let mut stall = None;
    if bag.is_empty() {
        bag.extend(0..5);
        bag.shuffle(rng);
    }
    let name = match bag.pop().unwrap_or(0) {
        0 => {
            h.api.drop_sockets().await?;
            "drop_sockets"
        }
        1 => {
            h.api.refuse_live(rng.random_range(1000..6000)).await?;
            "refuse_live"
        }
        2 => {
            let ms = rng.random_range(2000..5000);
            h.api.stall_sockets(ms).await?;
            stall = Some(Duration::from_millis(ms));
            "stall_sockets"
        }
        3 => {
            h.api.restart().await?;
            "restart"
        }
        _ => {
            h.api.poll_errors(rng.random_range(2000..5000)).await?;
            "poll_errors"
        }
    };
    Ok((name, stall))
}

async fn soak(kind: BrowserKind) -> Result<()> {
    let secs = env_u64("UPR_SOAK_SECS", 45);
    let seed = env_u64("UPR_SOAK_SEED", 20_261_122);
    let h = Harness::start(kind, &["--max-per-ip", "200", "--max-connections", "400"]).await?;
    h.say(format!(
        "soak: {WIDGETS} widgets, {secs} s of faults, seed {seed}"
    ));
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let mut rng = StdRng::seed_from_u64(seed);

    let mut ids = Vec::new();
    for i in 0..WIDGETS {
        // Jobs end between 60 % and 100 % of the fault period (20 steps each).
        let length_ms = secs * 1000 * (60 + 40 * i as u64 / (WIDGETS as u64 - 1)) / 100;
        let id = format!("soak_{kind}_{i:02}");
        h.api
            .start_scripted(&id, (length_ms / 20).max(50), 5)
            .await?;
        pages::mount(&h.browser, &id, soak_options()).await?;
        ids.push(id);
    }
    let monitor = stats::Monitor::start_with_limit(&h.api, WIDGETS as u64);
    h.watch_until(
        &mut rec,
        "every widget live",
        Duration::from_secs(30),
        |r| ids.iter().all(|id| r.latest(id).is_some_and(is_live)),
    )
    .await?;

    let mut faults: BTreeMap<&str, u32> = BTreeMap::new();
    let mut bag = Vec::new();
    let mut stalls: Vec<(Instant, Instant)> = Vec::new();
    let start = Instant::now();
    let end = start + Duration::from_secs(secs);
    let mut next = start + Duration::from_millis(rng.random_range(2000..5000));
    while Instant::now() < end {
        if Instant::now() >= next {
            let at = Instant::now();
            let (name, stall) = random_fault(&h, &mut rng, &mut bag).await?;
            if let Some(length) = stall {
                stalls.push((at, at + length + STALL_GRACE));
            }
            *faults.entry(name).or_default() += 1;
            next = Instant::now() + Duration::from_millis(rng.random_range(2000..5000));
        }
        rec.drain(&h.browser).await?;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    h.api.clear_faults().await?;
    h.say(format!("faults injected: {faults:?}"));

    for id in &ids {
        h.wait_final(&mut rec, id, id, Duration::from_secs(120))
            .await?;
    }
    let mut fallbacks = 0;
    let mut climbs = 0;
    for id in &ids {
        let summary = h
            .verify(&mut rec, id, id, Expect { every_stage: false })
            .await?;
        fallbacks += summary.mode_changes("websocket", "http_polling")
            + summary.mode_changes("sse", "http_polling")
            + summary.mode_changes("none", "http_polling");
        climbs += summary.climbs_to_socket();
    }
    if pages::widget_count(&h.browser).await? != WIDGETS as u64 {
        return Err(fail("the page does not show exactly one widget per job"));
    }
    let peaks = monitor.stop();
    h.say(format!(
        "SOAK {kind}: {secs} s, seed {seed}, {} faults {faults:?}; all {WIDGETS} widgets final and \
         monotonic; fallbacks to polling {fallbacks}, climbs back {climbs}; server peaks: \
         {} sockets (limit {WIDGETS}), {} per job, {} samples",
        faults.values().sum::<u32>(),
        peaks.max_active,
        peaks.max_per_job,
        peaks.samples
    ));
    // A stalled socket is half-open: the page gives up on it and opens a
    // new one, but the server only lets go of the old one once the stall is
    // over. Outside stalls the server never holds more sockets than widgets.
    let in_stall = |at: Instant| stalls.iter().any(|(from, to)| *from <= at && at <= *to);
    let (during, outside): (Vec<_>, Vec<_>) =
        peaks.over_limit.iter().partition(|(at, _)| in_stall(*at));
    h.say(format!(
        "samples over {WIDGETS} sockets: {} during stalls (max {}), {} outside",
        during.len(),
        during.iter().map(|(_, n)| *n).max().unwrap_or(0),
        outside.len()
    ));
    if let Some((at, n)) = outside.first() {
        return Err(fail(format!(
            "the server held {n} sockets for {WIDGETS} widgets outside any stall, {:.1} s into the soak",
            at.duration_since(start).as_secs_f32()
        )));
    }
    let n = pages::unmount_all(&h.browser).await?;
    h.say(format!("unmounted {n} finished widgets"));
    stats::assert_quiet(&h.api, Duration::from_secs(5)).await?;

    teardown_mid_job(&h, &mut rec).await?;
    h.finish().await;
    Ok(())
}

/// Mounts 20 widgets on long jobs, pushes them all to polling, lets the
/// probes bring some back, and unmounts them all mid-job: every socket,
/// poll and probe must stop.
async fn teardown_mid_job(
    h: &Harness,
    rec: &mut upload_progress_e2e::recorder::Recorder,
) -> Result<()> {
    let mut ids = Vec::new();
    for i in 0..WIDGETS {
        let id = format!("teardown_{}_{i:02}", h.kind);
        h.api.start_scripted(&id, 10_000, 5).await?;
        pages::mount(&h.browser, &id, soak_options()).await?;
        ids.push(id);
    }
    h.watch_until(rec, "every new widget live", Duration::from_secs(30), |r| {
        ids.iter().all(|id| r.latest(id).is_some_and(is_live))
    })
    .await?;
    h.api.refuse_live(120_000).await?;
    h.api.drop_sockets().await?;
    h.watch_until(
        rec,
        "every new widget polling",
        Duration::from_secs(60),
        |r| {
            ids.iter()
                .all(|id| r.latest(id).is_some_and(|row| row.mode == "http_polling"))
        },
    )
    .await?;
    h.api.clear_faults().await?;
    h.watch_until(
        rec,
        "a probe back on the socket",
        Duration::from_secs(30),
        |r| ids.iter().any(|id| r.latest(id).is_some_and(is_live)),
    )
    .await?;
    let live = ids
        .iter()
        .filter(|id| rec.latest(id).is_some_and(is_live))
        .count();
    let n = pages::unmount_all(&h.browser).await?;
    h.say(format!(
        "unmounted {n} widgets mid-job ({live} on the socket, the rest polling)"
    ));
    // Longer than a poll interval and a probe interval together.
    stats::assert_quiet(&h.api, Duration::from_secs(7)).await?;
    for id in &ids {
        if h.api.progress(id).await?.is_terminal() {
            return Err(fail(
                "a teardown job ended early: the widgets were not mid-job",
            ));
        }
    }
    Ok(())
}

browser_tests!(soak => soak_chromium, soak_firefox, soak_webkit);
