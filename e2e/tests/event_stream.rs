//! Where a proxy refuses WebSocket upgrades, the page's shared connection
//! goes live over its event stream (SSE), not over polling, in every
//! engine: the second rung of the ladder, between the page socket and the
//! set poll.

use std::time::Duration;

use serde_json::json;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

const WAIT: Duration = Duration::from_secs(30);

async fn upgrades_refused(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    // Every upgrade refused for longer than the job runs.
    h.api.refuse_upgrades(120_000).await?;
    let mut rec = pages::open_embed(&h.browser, h.api.base()).await?;
    let id = format!("sse_{kind}");
    // 4 stages x 5 steps x 1 s: 20 s.
    h.api.start_scripted(&id, 1000, 5).await?;
    pages::mount(
        &h.browser,
        &id,
        pages::fast_options_with(json!({ "shared": true })),
    )
    .await?;
    h.watch_until(&mut rec, "live over the event stream", WAIT, |r| {
        r.latest(&id)
            .is_some_and(|row| row.mode == "sse" && row.connection == "connected")
    })
    .await?;
    let reading = stats::read(&h.api).await?;
    h.say(format!(
        "connections open on the server while live over SSE: {}",
        reading.active
    ));
    if reading.active != 1 {
        return Err(fail(format!(
            "{} connections open for one widget on the event stream",
            reading.active
        )));
    }
    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    let polled: Vec<_> = rec
        .widget(&id)
        .iter()
        .filter(|row| row.mode == "http_polling")
        .map(upload_progress_e2e::scenario::describe)
        .collect();
    if !polled.is_empty() {
        return Err(fail(format!(
            "fell to polling although the event stream works: {polled:?}"
        )));
    }
    h.api.clear_faults().await?;
    h.end_with_final_state(&mut rec, &id, Expect { every_stage: true })
        .await
}

browser_tests!(upgrades_refused => upgrades_refused_chromium, upgrades_refused_firefox, upgrades_refused_webkit);
