//! A clean run: a file uploaded through the demo page's file input is
//! followed to the end over one socket, every stage shown in order.

use std::time::Duration;

use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::{temp_upload, Harness};
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

async fn clean_run(kind: BrowserKind) -> Result<()> {
    // 4 stages x 5 steps x 300 ms: about 6 s.
    let h = Harness::start(kind, &["--stage-ms", "300"]).await?;
    let mut rec = pages::open_demo(&h.browser, h.api.base()).await?;
    let file = temp_upload(&format!("clean-{kind}.txt"), 200)?;
    pages::upload_through_demo(&h.browser, &file).await?;
    let id = h.only_job().await?;
    h.say(format!("uploaded {} as job {id}", file.display()));

    h.wait_final(&mut rec, "widget-0", &id, Duration::from_secs(60))
        .await?;
    let summary = h
        .verify(&mut rec, "widget-0", &id, Expect { every_stage: true })
        .await?;
    if summary.modes.iter().any(|m| m == "http_polling") {
        return Err(fail(format!("a clean run fell back to polling: {summary}")));
    }
    if pages::widget_count(&h.browser).await? != 1 {
        return Err(fail("the page shows more than one widget for one upload"));
    }
    if rec.rows().len() != 1 {
        return Err(fail(format!(
            "rows for several widgets: {:?}",
            rec.rows().keys()
        )));
    }
    // The demo's widgets share the page connection: one connection (the
    // page socket) for the whole run, no socket of the job's own, no polling.
    let reading = stats::read(&h.api).await?;
    let job = reading.jobs.get(&id).copied().unwrap_or_default();
    h.say(format!(
        "server: {job:?}, {} connections opened, {} open",
        reading.opened, reading.active
    ));
    if reading.opened != 1 || job.ws_opened != 0 || job.http_requests != 0 {
        return Err(fail(format!(
            "a clean run used more than the page socket: {} connections, {job:?}",
            reading.opened
        )));
    }
    stats::assert_quiet(&h.api, Duration::from_secs(2)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(clean_run => clean_run_chromium, clean_run_firefox, clean_run_webkit);
