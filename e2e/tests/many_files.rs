//! Fifty files dropped on the demo page at once: the page's upload queue
//! sends three at a time (its default limit), the others wait their turn,
//! and every card follows its job to the end over the page's one progress
//! connection.

use std::time::Duration;

use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, Result};

/// Files dropped at once.
const FILES: u64 = 50;
/// Bytes per file: three of the demo's 256 KiB chunks, so each upload's
/// requests last long enough on the server for the uploads running
/// together to overlap there (with a few kB each they come and go one by
/// one, and the server's count could not tell 3 at once from 50).
const FILE_BYTES: u64 = 600_000;
/// The page's default upload limit.
const LIMIT: u64 = 3;

async fn fifty_files_at_once(kind: BrowserKind) -> Result<()> {
    // The fast pace: a job's four stages take 4 x 20 ms.
    let h = Harness::start(kind, &["--stage-ms", "20", "--steps-per-stage", "1"]).await?;
    pages::open_demo(&h.browser, h.api.base()).await?;
    // Every card follows its job over the page's one connection.
    let sockets = stats::Monitor::start(&h.api);
    pages::drop_files_on_demo(&h.browser, FILES, FILE_BYTES).await?;
    h.say(format!("dropped {FILES} files"));
    let waiting = pages::demo_uploads_saying(&h.browser, "Waiting to upload").await?;
    h.say(format!("{waiting} cards say \"Waiting to upload\""));
    // Some may be done already; without the queue none would ever wait.
    if waiting < FILES / 2 {
        return Err(fail(format!(
            "right after the drop only {waiting} of {FILES} cards wait their turn"
        )));
    }

    let done = upload_progress_e2e::wait::until(
        "every card to show its job completed",
        Duration::from_secs(120),
        || async {
            let completed = pages::widgets_in_state(&h.browser, "completed").await?;
            Ok((completed == FILES).then_some(completed))
        },
    )
    .await;
    let sockets = sockets.stop();
    h.say(format!(
        "progress connections open on the server: at most {} ({} samples)",
        sockets.max_active, sockets.samples
    ));
    let (now, peak) = h.api.uploads_in_flight().await?;
    h.say(format!("uploads in flight: {now} now, {peak} at most"));
    done?;
    if pages::widget_count(&h.browser).await? != FILES {
        return Err(fail("the page does not show one widget per file"));
    }
    if sockets.samples == 0 || sockets.max_active > 1 {
        return Err(fail(format!(
            "{} progress connections were open at once for {FILES} cards (one page connection expected; {} samples)",
            sockets.max_active, sockets.samples
        )));
    }
    if peak > LIMIT {
        return Err(fail(format!(
            "{peak} uploads were in flight at once; the page's limit is {LIMIT}"
        )));
    }
    if peak < 2 {
        return Err(fail(format!(
            "at most {peak} upload in flight: the files went one by one, not {LIMIT} at a time"
        )));
    }
    if pages::demo_uploads_saying(&h.browser, "Uploaded").await? != FILES {
        return Err(fail("not every card's upload says Uploaded"));
    }
    h.finish().await;
    Ok(())
}

browser_tests!(fifty_files_at_once => fifty_files_at_once_chromium, fifty_files_at_once_firefox);
