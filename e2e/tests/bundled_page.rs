//! The embed package as an app ships it: packed with `npm pack`, installed
//! from the tarball and bundled by esbuild into `/bundled/index.html`
//! (scripts/package-check.sh). Its widget follows a scripted job through a
//! dropped socket to the end; `onComplete` fires once with the job's
//! progress; Unmount leaves no socket and no traffic behind.

use std::time::Duration;

use fantoccini::Locator;
use upload_progress_e2e::browser::BrowserKind;
use upload_progress_e2e::checks::Expect;
use upload_progress_e2e::scenario::Harness;
use upload_progress_e2e::{browser_tests, fail, pages, stats, wait, Result};

const WAIT: Duration = Duration::from_secs(20);

async fn bundled_page(kind: BrowserKind) -> Result<()> {
    let h = Harness::start(kind, &[]).await?;
    let mut rec = pages::open_bundled(&h.browser, h.api.base()).await?;
    h.browser
        .client
        .find(Locator::Css("#start"))
        .await?
        .click()
        .await?;
    // The page names the widget's host by its job (`data-e2e-job`).
    let id = wait::until("the bundled page's widget", WAIT, || async {
        let id = h
            .browser
            .exec(
                "const host = document.querySelector('[data-e2e-job]'); \
                 return host && host.querySelector('section.upr') ? host.getAttribute('data-e2e-job') : null;",
                vec![],
            )
            .await?;
        Ok(id.as_str().map(str::to_owned))
    })
    .await?;
    h.say(format!("bundled page job {id}"));

    h.wait_live(&mut rec, &id, WAIT).await?;
    let since = rec.widget(&id).len();
    h.api.drop_sockets().await?;
    h.say("fault: drop_sockets");
    h.wait_relive(&mut rec, &id, since, WAIT).await?;
    h.wait_final(&mut rec, &id, &id, Duration::from_secs(60))
        .await?;
    h.verify(&mut rec, &id, &id, Expect { every_stage: false })
        .await?;

    // onComplete, typed `Progress` in the page's TypeScript, got the job.
    let completed = wait::until("onComplete", WAIT, || async {
        let ids = h
            .browser
            .exec("return window.__uprBundledCompleted;", vec![])
            .await?;
        Ok((ids.as_array().is_some_and(|a| !a.is_empty())).then_some(ids))
    })
    .await?;
    if completed != serde_json::json!([id]) {
        return Err(fail(format!(
            "onComplete got {completed}, want exactly [{id:?}]"
        )));
    }
    let log = h
        .browser
        .client
        .find(Locator::Css("#log"))
        .await?
        .text()
        .await?;
    if !log.starts_with(&format!("completed {id} at 100.0%")) {
        return Err(fail(format!("the page's log says {log:?}")));
    }

    h.browser
        .client
        .find(Locator::Css("#unmount"))
        .await?
        .click()
        .await?;
    if pages::widget_count(&h.browser).await? != 0 {
        return Err(fail("widgets left in the page after Unmount"));
    }
    stats::assert_quiet(&h.api, Duration::from_secs(3)).await?;
    h.finish().await;
    Ok(())
}

browser_tests!(bundled_page => bundled_page_chromium, bundled_page_firefox);
